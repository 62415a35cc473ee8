"""Follow-up questions: rewrite an elliptical turn from the previous turn's question frame.

Deterministic given the history:
- a fragment replaces the matching part of the previous question: ``그럼 자동차 분야는?`` after
  ``헬스케어 분야 기업은 몇 개인가?`` -> ``자동차 분야 기업은 몇 개인가?``; which noun it replaces is the
  one most similar to it (``보안`` replaces ``자동차``, ``승무원`` replaces ``승객``);
- a demonstrative takes the previous turn's entity: ``그 회사 대표는?`` -> ``지아이랩 대표는?``;
- a question with a question word but no topic of its own inherits the previous topic:
  ``언제였어?`` -> ``지아이랩 협약식 언제였어?``;
- English likewise: ``and automotive?`` -> ``How many automotive companies signed?``; an English
  question that points back (``these companies``, ``they``, ``its``) carries the previous topic:
  ``How many people have these companies hired? (협약을 맺은 50개사 가운데 기업)``.
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

from .language import (EN_BACK_REFERENCES, EN_FOLLOW_UP_SKIP, EN_FRAGMENT_WORDS, EN_QUESTION_OPENERS, KO_QUESTION_WORDS,
                       has_final_consonant, language_of)
from .lexical import kiwi

Similarity = Callable[[str, Sequence[str]], Sequence[float]]

_KO_LEAD = re.compile(r"^(그럼|그러면|그렇다면|그리고|또|또한|혹시|그중에|그중|그 중에|그 중|이 중|이중)\s*")
_EN_LEAD = re.compile(r"^(and what about|and how about|what about|how about|and|then)\s+", re.I)
_KO_TAIL = re.compile(r"(은요|는요|이요|요|은|는|이|가|의|도)?\s*[?？.]*\s*$")
_DEMONSTRATIVE = re.compile(r"^(그|이|해당|저)\s*(회사|기업|사람|기관|곳|단체|분|행사|사고|대회|선수|나라)(의|은|는|이|가)?\s*")
_NOUN = ("NNG", "NNP", "SL", "SN", "XR", "SH", "NNB")


def resolve(question: str, history, similarity: Similarity | None = None) -> str | None:
    """The self-contained question a follow-up stands for, or None when it stands alone."""
    if not history:
        return None
    previous, prev_answer = history[-1][0], history[-1][1]
    previous = getattr(prev_answer, "rewritten_question", None) or previous
    if _EN_LEAD.match(question) and re.search(r"[A-Za-z]", question):
        return _english(question, previous)
    if language_of(question) == "en":
        # English: a question of its own, or a bare fragment that varies the previous question.
        words = re.findall(r"[A-Za-z]+", question)
        if points_back(question):
            return _with_topic(question, previous)
        if words[0].lower() in EN_QUESTION_OPENERS or len(words) > EN_FRAGMENT_WORDS:
            return None
        return _english(question, previous)
    lead = _KO_LEAD.match(question)
    body = question[lead.end():] if lead else question
    demonstrative = _DEMONSTRATIVE.match(body)
    if demonstrative:
        entity = _entity_of(previous, prev_answer)
        if entity:
            return f"{entity} {body[demonstrative.end():]}".strip()
    morphemes = list(kiwi().tokenize(_KO_TAIL.sub("", body) or body))
    has_wh = any(m.form in KO_QUESTION_WORDS or m.form.startswith(KO_QUESTION_WORDS) for m in morphemes)
    has_predicate = any(m.tag.startswith(("VV", "VA", "VCP", "EF")) for m in morphemes)
    if not has_wh and not has_predicate and len(body) <= 30:
        focus = _KO_TAIL.sub("", body).strip()
        return _replace_focus(previous, focus, similarity, _varied(history[-1][0], prev_answer)) \
            if focus else None
    if has_wh and (lead or not _has_topic(morphemes)):
        topic = _topic(previous)
        if topic and topic not in body:
            return f"{topic} {body}".strip()
    return None


def _has_topic(morphemes) -> bool:
    """A question names its own topic when it has a proper noun or two content nouns."""
    nouns = [m for m in morphemes if m.tag in ("NNG", "NNP", "SL") and m.form not in KO_QUESTION_WORDS]
    return any(m.tag in ("NNP", "SL") for m in nouns) or len(nouns) >= 2


def _topic(question: str) -> str:
    """The previous question's topic: its text before the question word, particles trimmed."""
    morphemes = list(kiwi().tokenize(question))
    cut = next((m.start for m in morphemes if m.form in KO_QUESTION_WORDS or m.form.startswith(KO_QUESTION_WORDS)), len(question))
    nouns = [m for m in morphemes if m.start < cut and m.tag in _NOUN]
    return question[:nouns[-1].start + nouns[-1].len].strip() if nouns else ""


def _noun_runs(text: str):
    runs, current = [], []
    for m in kiwi().tokenize(text):
        if m.tag in _NOUN and not (m.form in KO_QUESTION_WORDS):
            if current and m.start > current[-1].start + current[-1].len + 1:
                runs.append(current)
                current = []
            current.append(m)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _varied(question: str, answer) -> str | None:
    """The first noun of the previous turn's fragment when that turn was a follow-up itself
    (자동차 of 그럼 자동차 분야는?): what the user goes on varying."""
    if not getattr(answer, "rewritten_question", None):
        return None
    lead = _KO_LEAD.match(question)
    body = _KO_TAIL.sub("", question[lead.end():] if lead else question).strip()
    nouns = [m.form for m in kiwi().tokenize(body) if m.tag in _NOUN and m.tag != "NNB"] if body else []
    return nouns[0] if nouns else None


def _replace_focus(previous: str, focus: str, similarity: Similarity | None, varied: str | None = None) -> str:
    """Put the focus in the previous question where the noun it stands for was: one it shares a
    head noun with, else the noun the conversation has been varying (헬스케어 -> 자동차 -> 보안),
    else the most similar one."""
    runs = _noun_runs(previous)
    if not runs:
        return f"{focus} {previous}"
    focus_forms = {m.form for m in kiwi().tokenize(focus) if m.tag in _NOUN}
    # 1. A run sharing a head noun with the focus: 헬스케어 분야 -> 자동차 분야.
    for run in runs:
        shared = [m for m in run if m.form in focus_forms]
        if shared:
            start, end = run[0].start, shared[-1].start + shared[-1].len
            return _join(previous, start, end, focus)
    nouns = [m for run in runs for m in run if m.tag != "NNB"]
    if not nouns:
        return f"{focus} {previous}"
    # 2. The noun the previous follow-up put there (그럼 자동차 분야는? then 보안은?: 자동차).
    same = next((m for m in nouns if m.form == varied), None)
    if same is not None:
        return _join(previous, same.start, same.start + same.len, focus)
    # 3. Else the single noun most like the focus (보안 ~ 자동차, 승무원 ~ 승객).
    if similarity is not None:
        scores = list(similarity(focus, [m.form for m in nouns]))
        target = nouns[max(range(len(nouns)), key=lambda i: (scores[i], -i))]
    else:
        target = nouns[0]
    return _join(previous, target.start, target.start + target.len, focus)


def _join(text: str, start: int, end: int, replacement: str) -> str:
    """Replace ``text[start:end]``, fixing the particle after it to the new final syllable."""
    rest = text[end:]
    particle = {"은": "는", "는": "은", "이": "가", "가": "이", "을": "를", "를": "을"}
    if rest[:1] in particle and replacement and "가" <= replacement[-1] <= "힣":
        has_final = has_final_consonant(replacement)
        wants = {"은": has_final, "이": has_final, "을": has_final}
        first = rest[0]
        base = first if first in wants else particle[first]
        fixed = base if wants[base] else particle[base]
        rest = fixed + rest[1:]
    return text[:start] + replacement + rest


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
    topic = next((w for w in words if w.lower() not in EN_FOLLOW_UP_SKIP), None)
    if topic is None:
        return f"{previous} {focus}"
    return re.sub(rf"\b{re.escape(topic)}\b", focus, previous, count=1)


def points_back(question: str) -> bool:
    """An English question with a pronoun or determiner that points to the previous turn."""
    return language_of(question) == "en" and any(w.lower() in EN_BACK_REFERENCES
                                                 for w in re.findall(r"[A-Za-z]+", question))


def _with_topic(question: str, previous: str) -> str | None:
    """An English question that points back, followed by the previous question's topic in brackets
    (its text before the question word; of an English question, its content words)."""
    if language_of(previous) == "en":
        topic = " ".join(w for w in re.findall(r"[A-Za-z0-9]+", previous) if w.lower() not in EN_FOLLOW_UP_SKIP)
    else:
        topic = _topic(previous)
    return f"{question.strip()} ({topic})" if topic and topic not in question else None
