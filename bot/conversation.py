"""Follow-up questions: rewrite an elliptical turn from the previous turn's question frame.

Deterministic: ``그럼 자동차 분야는?`` after ``헬스케어 분야 기업은 몇 개인가?`` becomes
``자동차 분야 기업은 몇 개인가?``; ``and automotive?`` after ``How many healthcare companies
signed?`` becomes ``How many automotive companies signed?``.
"""
from __future__ import annotations

import re

from .lexical import kiwi

_KO_LEAD = re.compile(r"^(그럼|그러면|그렇다면|그리고|또|또한|혹시|그럼요)\s*")
_EN_LEAD = re.compile(r"^(and|what about|how about|and what about|then)\s+", re.I)
_KO_TAIL = re.compile(r"(은요|는요|이요|요|은|는|이|가|의|도)?\s*[?？.]*\s*$")
_DEMONSTRATIVE = re.compile(r"^(그|이|해당|저)\s+(회사|기업|사람|기관|곳|단체|분)(의)?\s*")


def resolve(question: str, history) -> str | None:
    """The self-contained question a follow-up stands for, or None when it stands alone."""
    if not history:
        return None
    previous = history[-1]
    prev_question = getattr(previous[1], "rewritten_question", None) or previous[0]
    prev_answer = previous[1]
    if _EN_LEAD.match(question):
        return _english(question, prev_question)
    lead = _KO_LEAD.match(question)
    demonstrative = _DEMONSTRATIVE.match(question)
    if demonstrative:
        entity = _entity_of(prev_question, prev_answer)
        if entity:
            rest = question[demonstrative.end():]
            return f"{entity} {rest}".strip()
    if lead or _is_fragment(question):
        focus = _KO_TAIL.sub("", _KO_LEAD.sub("", question)).strip()
        if not focus:
            return None
        return _replace_focus(prev_question, focus)
    return None


def _is_fragment(question: str) -> bool:
    """A short turn with no predicate and no question word: ``자동차 분야는?``."""
    if len(question) > 25:
        return False
    tags = [m.tag for m in kiwi().tokenize(question)]
    has_predicate = any(t.startswith(("VV", "VA", "VCP", "EF")) for t in tags)
    has_wh = any(m.form in ("몇", "누구", "어디", "언제", "무엇", "뭐", "얼마") for m in kiwi().tokenize(question))
    return not has_predicate and not has_wh


def _replace_focus(previous: str, focus: str) -> str:
    """Swap the previous question's leading noun phrase for the new focus."""
    morphemes = kiwi().tokenize(previous)
    focus_morphemes = [m for m in kiwi().tokenize(focus) if m.tag.startswith(("NN", "SL", "SN", "XR"))]
    # The previous topic is the run of nouns that shares a head noun with the focus (분야), or
    # else the first noun run.
    runs, current = [], []
    for m in morphemes:
        if m.tag.startswith(("NN", "SL", "SN", "XR", "SH")):
            current.append(m)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    if not runs:
        return f"{focus} {previous}"
    heads = {m.form for m in focus_morphemes}
    target = next((r for r in runs if heads & {m.form for m in r}), runs[0])
    # Within the run, replace the part before the shared head (헬스케어 분야 기업 -> 자동차 분야 기업).
    shared = [m for m in target if m.form in heads]
    start = target[0].start
    end = (shared[-1].start + shared[-1].len) if shared else target[-1].start + target[-1].len
    if not shared:
        end = target[0].start + target[0].len
    return previous[:start] + focus + previous[end:]


def _entity_of(previous: str, answer) -> str | None:
    """The named entity the previous turn was about (a proper noun of its question or answer)."""
    for text in (previous, getattr(answer, "text", "") or ""):
        names = [m.form for m in kiwi().tokenize(text) if m.tag == "NNP"]
        if names:
            return names[0]
    return None


def _english(question: str, previous: str) -> str:
    focus = _EN_LEAD.sub("", question).strip(" ?.")
    words = re.findall(r"[A-Za-z]+", previous)
    # Replace the previous topic word (the first content word after the question words).
    skip = {"how", "many", "much", "what", "which", "who", "where", "when", "is", "are", "was",
            "were", "the", "a", "an", "of", "did", "does", "do"}
    topic = next((w for w in words if w.lower() not in skip), None)
    if topic is None:
        return f"{previous} {focus}"
    return re.sub(rf"\b{re.escape(topic)}\b", focus, previous, count=1)
