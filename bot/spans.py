"""Typed answer spans inside a sentence, from kiwipiepy morphemes (pure, no IO).

A span is a value of the type a question asks for — a number with its counter (``8``,
``32개사``, ``100여 명``, ``9억 9000만 원``), a date (``6일 오후``), a person (``전창호``), a place
(``김대중컨벤션센터``), an organisation (``㈜지아이랩``) — with the clause around it, which the
answerer compares with the question.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .lexical import kiwi
from .question import COUNT, DATE, NUMBER, ORG, PERSON, PLACE  # noqa: F401

ROLES = ("대표", "시장", "사무국장", "국장", "장관", "차관", "대통령", "위원장", "회장", "사장", "교수",
         "기자", "총리", "감독", "선수", "의원", "원장", "청장", "지사", "구청장", "군수", "이사장",
         "총장", "대변인", "부장", "팀장", "과장", "씨", "박사", "후보", "주석", "총재", "판사", "검사")
_PLACE_SUFFIX = re.compile(r"(센터|홀|회관|청사|시청|구청|공항|호텔|대학교|광장|공원|경기장|체육관|"
                           r"병원|항|역|섬|산|강|시|군|구|도|주|국|읍|면|동|리|도시|지역|현장|마을|해역|해안)$")
_ORG_SUFFIX = re.compile(r"(부|청|처|원|회|단|공사|공단|재단|협회|협의체|위원회|은행|대학교|대학|경제|신문|"
                         r"방송|일보|그룹|전자|기업|연구소|연구원|당|정부|사|랩|지주|통신|네트웍스|FIFA|UN)$")
_CLAUSE_BREAK = {"SP", "SF", "SSO", "SSC", "SE"}
_NUMBER_TAIL = {"NR", "SN"}
_COUNTER_NOUNS = {"사", "명", "개소", "곳", "개", "원", "달러", "위안", "엔", "유로", "톤", "배",
                  "퍼센트", "가구", "건", "채", "대", "척", "편", "권", "마리", "그루", "표", "석"}
_DATE_UNITS = {"년", "월", "일", "시", "분", "년도", "분기"}
_TIME_WORDS = {"오전", "오후", "새벽", "저녁", "밤", "낮", "아침", "정오", "자정", "이날", "전날", "다음날",
               "올해", "지난해", "작년", "내년", "현지", "시간"}


# Counters that count the same things: a question's 몇 곳 is answered by 4개사.
COUNTER_GROUPS = ({"곳", "개", "개사", "개소", "사", "군데", "개국", "국"}, {"명", "인", "분", "사람"},
                  {"번", "번째", "차", "회", "회째"}, {"원", "억", "만", "천", "조"})


def same_counter(asked: str, unit: str) -> bool:
    """Whether a value's unit (``개사``, ``여 명``) answers a question's counter (``곳``, ``명``)."""
    unit = unit.replace("여", "").strip()
    if asked in unit:
        return True
    return any(asked in group and any(u in unit for u in group) for group in COUNTER_GROUPS)


@dataclass(frozen=True)
class SpanCandidate:
    """A typed value inside a sentence: offsets relative to the sentence, and its clause."""

    start: int
    end: int
    value: str
    clause_start: int
    clause_end: int
    bonus: float  # type-specific evidence: the counter asked for, a role next to a name, 에서


def typed_spans(sentence: str, answer_type: str, keywords: tuple[str, ...],
                counter: str | None) -> list[SpanCandidate]:
    """Every value of ``answer_type`` in ``sentence`` (empty for untyped questions)."""
    morphemes = list(kiwi().tokenize(sentence))
    if not morphemes:
        return []
    clauses = _clauses(sentence, morphemes)
    if answer_type in (COUNT, NUMBER):
        raw = _numbers(sentence, morphemes, counter)
    elif answer_type == DATE:
        raw = _dates(sentence, morphemes)
    elif answer_type == PERSON:
        raw = _persons(sentence, morphemes, set(keywords))
    elif answer_type in (PLACE, ORG):
        raw = _entities(sentence, morphemes, answer_type, set(keywords))
    else:
        return []
    out = []
    for start, end, bonus in raw:
        clause_start, clause_end = next(((a, b) for a, b in clauses if a <= start < b), (0, len(sentence)))
        out.append(SpanCandidate(start, end, sentence[start:end], clause_start, max(clause_end, end), bonus))
    return out


def _clauses(sentence: str, morphemes) -> list[tuple[int, int]]:
    """Clause boundaries: punctuation, quotes and ▲ list markers."""
    cuts = [0]
    for m in morphemes:
        if m.tag in _CLAUSE_BREAK or m.form in ("▲", "■", "□", "○"):
            cuts.append(m.start)
            cuts.append(m.start + m.len)
    cuts.append(len(sentence))
    spans = []
    for a, b in zip(cuts[::2], cuts[1::2]):
        if b > a and sentence[a:b].strip():
            spans.append((a, b))
    return spans or [(0, len(sentence))]


def _numbers(sentence: str, morphemes, counter: str | None) -> list[tuple[int, int, float]]:
    out = []
    i = 0
    while i < len(morphemes):
        m = morphemes[i]
        if m.tag != "SN":
            i += 1
            continue
        j = i
        # 9억 9000만 원, 100여 명, 32개사, 7개소, 1.5배, 3만5천여 명
        while j + 1 < len(morphemes):
            nxt, cur = morphemes[j + 1], morphemes[j]
            gap = nxt.start - (cur.start + cur.len)
            if gap > 1:
                break
            if nxt.tag in _NUMBER_TAIL or (nxt.tag == "XSN" and nxt.form in ("여", "가량", "째")):
                j += 1
                continue
            if nxt.tag in ("NNB", "NNG", "SW") and (nxt.form in _COUNTER_NOUNS or nxt.tag == "NNB"
                                                  or nxt.form in ("%", "％")):
                j += 1
                if j + 1 < len(morphemes) and morphemes[j + 1].form in ("사", "소", "째") \
                        and morphemes[j + 1].start == morphemes[j].start + morphemes[j].len:
                    j += 1
                if j + 1 < len(morphemes) and morphemes[j + 1].tag == "SN" \
                        and morphemes[j + 1].start - (morphemes[j].start + morphemes[j].len) <= 1 \
                        and morphemes[j].form in ("억", "만", "천", "조"):
                    continue
                break
            break
        start, end = m.start, morphemes[j].start + morphemes[j].len
        if j + 1 < len(morphemes) and morphemes[j + 1].form in _DATE_UNITS - {"시", "분"} and j == i:
            i = j + 1
            continue  # a date (2008년), not a count
        unit = sentence[m.start + m.len:end]
        bonus = 0.0
        # The counter asked for (몇 명 -> 291명) is strong evidence; another counter is against.
        if counter and same_counter(counter, unit):
            bonus += 0.1
        elif counter and unit.strip():
            bonus -= 0.1
        if unit and unit.strip() and unit.strip()[0] in "년월일" and counter not in ("년", "월", "일"):
            bonus -= 0.3
        out.append((start, end, bonus))
        i = j + 1
    return out


def _dates(sentence: str, morphemes) -> list[tuple[int, int, float]]:
    out = []
    i = 0
    while i < len(morphemes):
        m = morphemes[i]
        is_unit = (m.tag == "SN" and i + 1 < len(morphemes) and morphemes[i + 1].form in _DATE_UNITS)
        if not is_unit and m.form not in _TIME_WORDS:
            i += 1
            continue
        j = i
        while j + 1 < len(morphemes):
            nxt = morphemes[j + 1]
            if nxt.start - (morphemes[j].start + morphemes[j].len) > 1:
                break
            if nxt.tag == "SN" or nxt.form in _DATE_UNITS or nxt.form in _TIME_WORDS:
                j += 1
                continue
            break
        start, end = m.start, morphemes[j].start + morphemes[j].len
        value = sentence[start:end]
        if re.search(r"\d", value) or value not in ("시간", "현지"):
            out.append((start, end, 0.1 if re.search(r"\d", value) else -0.1))
        i = j + 1
    return out


def _persons(sentence: str, morphemes, keywords: set[str]) -> list[tuple[int, int, float]]:
    """Names: runs of proper nouns (전창호, 조셉 바이든), preferred next to a role (대표, 시장)."""
    out = []
    i = 0
    while i < len(morphemes):
        if morphemes[i].tag != "NNP":
            i += 1
            continue
        j = i
        while j + 1 < len(morphemes) and morphemes[j + 1].tag == "NNP" \
                and morphemes[j + 1].start - (morphemes[j].start + morphemes[j].len) <= 1:
            j += 1
        start, end = morphemes[i].start, morphemes[j].start + morphemes[j].len
        name = sentence[start:end]
        i = j + 1
        if name in keywords or not re.fullmatch(r"[가-힣]{2,4}( [가-힣]{1,5})?", name):
            continue
        bonus = 0.0
        # A role right after the name (전창호 ㈜지아이랩 대표, 김정태 사무국장), or right before it.
        following = [m for m in morphemes[j + 1:j + 5] if m.tag in ("NNG", "NNP", "SW")]
        near_role = next((m.form for m in following if m.form in ROLES or m.form.endswith(ROLES)), None)
        preceding = [m for m in morphemes if m.start + m.len <= start][-2:]
        if near_role is None:
            near_role = next((m.form for m in preceding if m.form in ROLES or m.form.endswith(ROLES)), None)
        if near_role:
            bonus += 0.1
            if near_role in keywords or any(k in near_role for k in keywords if len(k) > 1):
                bonus += 0.15
        out.append((start, end, bonus))
    return out


def _entities(sentence: str, morphemes, answer_type: str, keywords: set[str]) -> list[tuple[int, int, float]]:
    out = []
    i = 0
    while i < len(morphemes):
        m = morphemes[i]
        if m.tag not in ("NNP", "SL", "NNG", "SW") or (m.tag == "SW" and m.form != "㈜"):
            i += 1
            continue
        j = i
        while j + 1 < len(morphemes) and morphemes[j + 1].tag in ("NNP", "NNG", "SL", "SN", "SW") \
                and morphemes[j + 1].start == morphemes[j].start + morphemes[j].len \
                and (morphemes[j + 1].tag != "SW" or morphemes[j + 1].form == "㈜") \
                and morphemes[j + 1].form not in ROLES:
            j += 1
        run = morphemes[i:j + 1]
        start, end = m.start, run[-1].start + run[-1].len
        name = sentence[start:end]
        after = morphemes[j + 1] if j + 1 < len(morphemes) else None
        next_noun = after.form if after is not None else ""
        forms = {r.form for r in run}
        i = j + 1
        if forms <= keywords or not name.strip("㈜ "):
            continue
        bonus = 0.0
        if answer_type == PLACE:
            if after is not None and after.form in ("에서", "에", "으로", "로") and after.tag == "JKB":
                bonus += 0.1
            if _PLACE_SUFFIX.search(name):
                bonus += 0.1
            elif not any(r.tag == "NNP" for r in run):
                continue
            elif bonus == 0.0:
                bonus -= 0.1  # a bare proper noun, neither "...에서" nor a place word
        else:
            if _ORG_SUFFIX.search(name) or "㈜" in name:
                bonus += 0.1
            elif not any(r.tag in ("NNP", "SL") for r in run):
                continue
        out.append((start, end, bonus))
    return out
