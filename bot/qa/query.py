"""The query stage: a question checked, resolved against the conversation, and described.

Its output, ``Query``, is what every later stage reads: the text to answer (a follow-up rewritten
to stand alone), the language, the years it asks about and whether it asks about a document
itself (its reporter, outlet, date) rather than what the documents say.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .. import about, conversation
from ..errors import BadQuestion
from ..language import language_of  # noqa: F401  (re-exported: the stages read it here)
from ..years import years_asked


@dataclass(frozen=True)
class Query:
    """A question ready to answer."""

    asked: str  # as typed, whitespace collapsed
    text: str  # what is answered: the follow-up rewritten to stand alone, or ``asked``
    rewritten: str | None
    language: str  # "ko" or "en"
    years: tuple[str, ...]  # the calendar years the question gives
    field: str | None  # about.REPORTER/SOURCE/DATE/EMAIL for a question about a document itself
    # what the reader reads, and whose language answers: ``text``, but a question that points back
    # is read as asked (the previous topic it carries leads retrieval; read, it draws the reader to
    # the previous answer)
    reading: str


def check(question: str, max_chars: int) -> str:
    """The question stripped; ``BadQuestion`` when empty or longer than ``max_chars``."""
    if not isinstance(question, str):
        raise BadQuestion("the question must be text")
    cleaned = re.sub(r"\s+", " ", question).strip()
    if not cleaned:
        raise BadQuestion("the question is empty: type a question about the press materials")
    if len(cleaned) > max_chars:
        raise BadQuestion(
            f"the question is {len(cleaned)} characters long; the limit is {max_chars}: "
            "shorten it to one question")
    return cleaned


def understand(question: str, history, similarity, max_chars: int) -> Query:
    """Check the question and resolve it against ``history`` (earlier (question, Answer) pairs)."""
    asked = check(question, max_chars)
    rewritten = conversation.resolve(asked, list(history), similarity)
    text = rewritten or asked
    reading = asked if rewritten and conversation.points_back(asked) else text
    language = language_of(reading)  # a Korean topic carried does not make the question Korean
    return Query(asked=asked, text=text, rewritten=rewritten, language=language,
                 years=years_asked(text), field=about.asked_field(text, language), reading=reading)
