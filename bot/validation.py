"""Front-door checks: every argument of ``Bot.ask`` and ``Bot.search``, checked once, before any stage.

Strings are normalised here so that no later stage meets what it cannot handle: lone surrogates
(``"\\ud800"`` from broken UTF-8), control characters and invisible format characters (bidi
overrides and isolates, zero-width characters, the BOM) are removed, and the text is put in NFC (a
Hangul question typed as separate jamo becomes syllables). Wrong types and out-of-range values
raise ``BadQuestion`` or ``BadArgument`` (both ``ValueError``\\s) naming the argument and the fix.
docs/security.md lists the limits and why.
"""
from __future__ import annotations

import unicodedata
from dataclasses import replace

from .errors import BadArgument, BadQuestion
from .qa.query import check
from .records import Answer
from .retrieval import Filters

MODES = ("hybrid", "dense", "lexical")
MAX_K = 100
# Only the last turns are read: a follow-up is resolved from the turn before it, and the document
# a question about "its reporter" means is the last one answered.
HISTORY_TURNS = 4
# A raw string this many times over the question limit is refused before it is even cleaned.
RAW_SLACK = 4

_DROPPED = frozenset(("Cc", "Cf", "Cs", "Cn"))


def clean(text: str) -> str:
    """``text`` without surrogates, control or format characters (whitespace controls become
    spaces), in NFC. Offsets are not kept: this is for what users type, never for documents."""
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in _DROPPED:
            if ch in "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85":
                kept.append(" ")
            continue
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


def question(value, max_chars: int, name: str = "question") -> str:
    """The question cleaned and stripped; ``BadQuestion`` when it is not text, empty or too long."""
    if isinstance(value, (bytes, bytearray)):
        raise BadQuestion(f"{name} must be text (str), not bytes: decode it first (UTF-8)")
    if not isinstance(value, str):
        raise BadQuestion(f"{name} must be text (str), not {type(value).__name__}")
    if len(value) > max_chars * RAW_SLACK:
        raise BadQuestion(f"{name} is {len(value)} characters long; the limit is {max_chars}: "
                          "shorten it to one question")
    try:
        return check(clean(value), max_chars)
    except BadQuestion as error:
        if name == "question":
            raise
        raise BadQuestion(f"{name}: {error}") from None


def history(value, max_chars: int) -> tuple[tuple[str, Answer], ...]:
    """The last ``HISTORY_TURNS`` earlier turns as ``(question, Answer)`` pairs, each question
    checked like a question; ``BadArgument`` names the turn that is not such a pair."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise BadArgument(
            f"history must be a list of (question, answer) pairs from earlier Bot.ask calls, "
            f"not {type(value).__name__}")
    first = max(0, len(value) - HISTORY_TURNS)
    turns = []
    for number, turn in enumerate(value[first:], start=first):
        where = f"history[{number}]"
        if not isinstance(turn, (list, tuple)) or len(turn) != 2:
            raise BadArgument(f"{where} must be a (question, answer) pair, not {_shown(turn)}")
        asked, answer = turn
        if not isinstance(answer, Answer):
            raise BadArgument(f"{where}: the answer must be the Answer that Bot.ask returned, "
                              f"not {type(answer).__name__}")
        asked = question(asked, max_chars, name=f"{where} question")
        rewritten = answer.rewritten_question
        if rewritten is not None and (not isinstance(rewritten, str) or len(rewritten) > max_chars * RAW_SLACK):
            raise BadArgument(f"{where}: the answer's rewritten_question is not a question this bot wrote")
        if not isinstance(answer.text, str) or len(answer.text) > max_chars * RAW_SLACK * 10:
            raise BadArgument(f"{where}: the answer's text is not an answer this bot wrote")
        turns.append((asked, replace(answer, text=clean(answer.text),
                                     rewritten_question=clean(rewritten) if rewritten else None)))
    return tuple(turns)


def k(value) -> int:
    """How many passages: an int from 1 to ``MAX_K``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadArgument(f"k must be a whole number from 1 to {MAX_K}, not {_shown(value)}")
    if not 1 <= value <= MAX_K:
        raise BadArgument(f"k must be from 1 to {MAX_K}, not {value}")
    return value


def mode(value) -> str:
    """A retrieval mode: hybrid, dense or lexical."""
    if value not in MODES or not isinstance(value, str):
        raise BadArgument(f"mode must be one of {', '.join(MODES)}, not {_shown(value)}")
    return value


def filters(value) -> Filters | None:
    """``None`` or a ``Filters`` whose dates are text and whose sources are a tuple of text."""
    if value is None:
        return None
    if not isinstance(value, Filters):
        raise BadArgument(f"filters must be a bot.retrieval.Filters or None, not {type(value).__name__}")
    for field in ("date_from", "date_to"):
        date = getattr(value, field)
        if date is not None and (not isinstance(date, str) or len(date) > 10 or
                                 not all(c.isdigit() or c == "-" for c in date)):
            raise BadArgument(f"filters.{field} must be an ISO date like 2024-07 or 2024-07-05, not {_shown(date)}")
    if not isinstance(value.sources, (tuple, list, frozenset, set)) or \
            not all(isinstance(s, str) for s in value.sources):
        raise BadArgument(f"filters.sources must be a tuple of source names, not {_shown(value.sources)}")
    return value


def _shown(value) -> str:
    """A value named in an error message: its type, and its text cut short."""
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'…' if len(text) > 40 else ''}"
