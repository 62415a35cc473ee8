"""보도자료 Q&A: cited, extractive question answering over Korean press materials.

The one front door is ``Bot``::

    from bot import Bot
    bot = Bot.load("index")
    ans = bot.ask("헬스케어 분야 기업은 몇 개인가?")
"""
__version__ = "0.1.0"

from .records import Answer, Chunk, Citation, Document, Hit  # noqa: E402

__all__ = ["Bot", "Answer", "Chunk", "Citation", "Document", "Hit", "__version__"]


def __getattr__(name):
    # Imported on first use so that light modules (documents, chunking) load without torch.
    if name == "Bot":
        from .service import Bot

        return Bot
    raise AttributeError(name)
