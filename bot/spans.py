"""Typed answer spans inside a sentence, from kiwipiepy morphemes (pure, no IO).

A span is a value of the type a question asks for — a number with its counter (``8``,
``32개사``, ``100여 명``, ``9억 9000만 원``), a date (``6일 오후``), a person (``전창호``), a place
(``김대중컨벤션센터``), an organisation (``㈜지아이랩``) — with the clause around it, which the
answerer compares with the question.
"""
from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass, replace

from .language import PERSON_MARKERS
from .lexical import kiwi
from .question import COUNT, DATE, NUMBER, ORG, PERSON, PLACE, ROLE  # noqa: F401
from .years import CALENDAR_YEAR

_PLACE_SUFFIX = re.compile(r"(센터|홀|회관|청사|시청|구청|공항|호텔|대학교|광장|공원|경기장|체육관|기지|공장|"
                           r"박물관|미술관|극장|성당|교회|사원|본부|빌딩|타워|거리|해변|반도|캠퍼스|스타디움|"
                           r"병원|항|역|섬|산|강|시|군|구|도|주|국|읍|면|동|리|도시|지역|현장|마을|해역|해안)$")
_ORG_SUFFIX = re.compile(r"(부|청|처|원|회|단|공사|공단|재단|협회|협의체|위원회|은행|대학교|대학|경제|신문|"
                         r"방송|일보|그룹|전자|기업|연구소|연구원|당|정부|사|랩|지주|통신|네트웍스|FIFA|UN)$")
# Endings of a body's name that no Korean personal name has (민주당 후보: the party, not the
# candidate); narrower than _ORG_SUFFIX, whose 원/부/회 end given names too.
_BODY_SUFFIX = re.compile(r"[가-힣](당|청|처|공사|공단|재단|협회|협의체|위원회|은행|대학교|대학|신문|방송|일보|"
                          r"그룹|연구소|연구원|정부|지주|통신)$")
# Particles that say where (김대중컨벤션센터에서, 광주로); case particles that say something else.
_LOCATIVE = {"에서", "에", "으로", "로", "에서는", "에는", "에서도", "에도", "에서의"}
_OTHER_CASES = {"을", "를", "의", "도", "만", "보다", "처럼", "로서", "으로서"}  # not 와/과: they list (A와 B)
# Question nouns that ask for a named place whatever its particle (처음 참가한 나라는 어디).
_PLACE_FRAMES = {"나라", "국가", "도시", "지역", "곳", "지방", "섬", "대륙", "국적", "출신", "고향"}
_CLAUSE_BREAK = {"SP", "SF", "SSO", "SSC", "SE"}
_NUMBER_TAIL = {"NR", "SN"}
_COUNTER_NOUNS = {"사", "명", "개소", "곳", "개", "원", "달러", "위안", "엔", "유로", "톤", "배",
                  "퍼센트", "가구", "건", "채", "대", "척", "편", "권", "마리", "그루", "표", "석"}
_UNIT = re.compile(r"(?i)k?m|cm|mm|kg|g|t|ha|ml|l|mw|kw|gw|gb|tb|km2|m2")
# Counters of measures, never written as a bare number (unlike 헬스케어 분야 8 for 몇 곳).
_MEASURES = {"원", "달러", "위안", "엔", "유로", "살", "세", "억", "만", "%"}
_DATE_UNITS = {"년", "월", "일", "시", "분", "년도", "분기"}
_ORDINAL = re.compile(r"(째|단계|차례|호)$")  # 50번째, 두 번째, 1단계, 1호 (number one)
_SCORE = re.compile(r"\d{1,3}\s*[-:]\s*\d{1,3}")  # 5-4, 2:1
# Words after a value that bound it: part of the fact (만 14세 미만 is not 14세).
_BOUNDS = {"미만", "이상", "이하", "초과", "이내", "이후", "이전", "남짓", "안팎", "간", "동안"}  # 간: 27년간
_TIME_WORDS = {"오전", "오후", "새벽", "저녁", "밤", "낮", "아침", "정오", "자정", "이날", "전날", "다음날",
               "올해", "지난해", "작년", "내년", "현지", "시간"}


# Counters that count the same things: a question's 몇 곳 is answered by 4개사.
COUNTER_GROUPS = ({"곳", "개", "개사", "개소", "사", "군데", "개국", "국"}, {"명", "인", "사람"}, {"살", "세"},
                  {"번", "번째", "차", "회", "회째"}, {"%", "％", "퍼센트", "프로"},
                  {"원", "억", "만", "천", "조", "달러", "위안", "엔", "유로", "파운드"})  # money, any currency


def same_counter(asked: str, unit: str) -> bool:
    """Whether a value's unit (``개사``, ``여 명``) answers a question's counter (``곳``, ``명``)."""
    unit = re.sub(r"[\s여]", "", unit)
    unit = re.sub(r"(?<=[년월일주])간$|동안$", "", unit)  # 27년간 is counted in 년 (시간 stays 시간)
    if unit.endswith(asked):
        return True  # 9억 9000만 원 for 원; not 1호선 for 호, nor 3개월 for 개
    return any(asked in group and any(unit.endswith(u) for u in group) for group in COUNTER_GROUPS)


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
                counter: str | None, strict: bool = True, counted: str | None = None,
                where: bool = False) -> list[SpanCandidate]:
    """Every value of ``answer_type`` in ``sentence`` (empty for untyped questions)."""
    morphemes = list(_morphemes(sentence))
    if not morphemes:
        return []
    clauses = _clauses(sentence, morphemes)
    if answer_type in (COUNT, NUMBER):
        raw = _numbers(sentence, morphemes, counter, strict, counted, frozenset(keywords),
                       count=answer_type == COUNT)
    elif answer_type == DATE:
        raw = _dates(sentence, morphemes)
    elif answer_type == PERSON:
        raw = _persons(sentence, morphemes, set(keywords))
    elif answer_type in (PLACE, ORG):
        raw = _entities(sentence, morphemes, answer_type, set(keywords), where)
    elif answer_type == ROLE:
        raw = _roles_of(sentence, morphemes, keywords)
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


def _counts(morphemes, i: int, j: int) -> str | None:
    """The noun a number counts: the word right before it (승객 380명, 교수 7명) or after its 의
    (2,861명의 선수); None when neither is there."""
    before = morphemes[i - 1] if i else None
    if before is not None and before.tag in ("NNG", "NNP") and before.start + before.len < morphemes[i].start:
        return before.form
    if j + 2 < len(morphemes) and morphemes[j + 1].tag == "JKG" and morphemes[j + 2].tag in ("NNG", "NNP"):
        return morphemes[j + 2].form
    return None


def _numbers(sentence: str, morphemes, counter: str | None, strict: bool = True,
             counted: str | None = None, keywords: frozenset = frozenset(),
             count: bool = False) -> list[tuple[int, int, float]]:
    """The numbers of a sentence with the counter and bound they are written with, and how well
    each answers ``counter`` (``count``: a how-many question, which no date answers)."""
    out = []
    i = 0
    while i < len(morphemes):
        m = morphemes[i]
        if m.tag == "W_SERIAL" and counter is None and _SCORE.fullmatch(m.form):
            out.append((m.start, m.start + m.len, 0.05))  # a score: 5-4, 2:1
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
            glued_unit = (gap == 0 and (nxt.tag == "NNG" or (nxt.tag == "SL" and len(nxt.form) <= 3))) or \
                (gap == 1 and nxt.tag == "SL" and _UNIT.fullmatch(nxt.form) is not None)  # 30 kg, 1 m
            if glued_unit or nxt.tag in ("NNB", "NNG", "SW") and (
                    nxt.form in _COUNTER_NOUNS or nxt.tag == "NNB" or nxt.form in ("%", "％")):
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
        previous = morphemes[i - 1] if i else None
        if previous is not None and previous.start + previous.len == m.start \
                and previous.tag in ("SL", "SO", "SH"):
            i = j + 1
            continue  # part of a name or a model: U-17, Tu-154M, COP17
        if j + 1 < len(morphemes) and morphemes[j + 1].form in _DATE_UNITS - {"시", "분"} and j == i:
            i = j + 1
            continue  # a date (2008년), not a count
        unit = sentence[m.start + m.len:end]
        after = morphemes[j + 1] if j + 1 < len(morphemes) else None
        if (counter or count) and strict and unit.strip() and after is not None and after.start == end \
                and after.tag == "NNG" and after.form not in _BOUNDS and after.form not in keywords:
            # 2호차: the counter is part of a longer word (not 몇 대 강국: 4대강국).
            i = j + 1
            continue
        end = _bounded(morphemes, j, end)
        if previous is not None and previous.form == "만" and previous.tag in ("MM", "NNP", "NNG") \
                and unit.strip() in ("세", "살"):
            start = previous.start  # 만 14세: an age counted in full years
        bonus = 0.0
        # The counter asked for (몇 명 -> 291명) is strong evidence; another counter is against.
        if counter and same_counter(counter, unit):
            bonus += 0.2 if counter in unit else 0.1  # 몇 개국: 91개국 before 2개
            if counter == "년" and CALENDAR_YEAR.fullmatch(m.form):
                bonus -= 0.5  # how many years: 1918년 is a year of the calendar, not a length
        elif counter and unit.strip():
            if strict:
                i = j + 1
                continue  # 몇 명 is not answered by 53분, 피해액 not by 17 미터
            bonus -= 0.3
        elif counter in _MEASURES and strict:
            i = j + 1
            continue  # money and ages are never written bare: 예산은 몇 원 is not 빅데이터 분야 28
        elif count and not counter and any(same_counter(money, unit) for money in ("원", "%")):
            i = j + 1
            continue  # how many consoles sold: not 1만6천엔, their price (how much asks for money)
        elif not counter and (_ORDINAL.search(unit) or (previous is not None and previous.form == "제"
                                                         and previous.start + previous.len == m.start)):
            bonus -= 0.3  # how many: 50번째, 1단계, 제24회 say which one, not how many
        elif not counter and unit.strip() == "시":
            bonus -= 0.3  # 21시 is a time of day
        elif not counter and unit.strip():
            bonus += 0.05  # 얼마: 10만원, 1.5km rather than a bare number
        if unit and unit.strip() and unit.strip()[0] in "년월일" and counter not in ("년", "월", "일"):
            if count and counter is None and not re.search(r"(간|동안)$", sentence[start:end]):
                i = j + 1
                continue  # how many agreements: 6일 (오후) is the day they were signed
            bonus -= 0.3
        if counted:
            # 선수는 몇 명: 2,861명의 선수, not 총 7명이 (성화를) 이어받았고.
            noun = _counts(morphemes, i, j)
            if noun and (counted in noun or noun in counted) or counter_names(unit, counted):
                bonus += 0.3
        out.append((start, end, bonus))
        i = j + 1
    return out


# Counters that name what they count: 4개사 are companies, 91개국 countries.
_NAMING_COUNTERS = {"사": ("회사", "기업", "업체", "기관"), "국": ("나라", "국가")}


def counter_names(value: str, counted: str) -> bool:
    """Whether the value's counter itself says what is counted (본사를 옮긴 회사는 몇 곳: 4개사)."""
    unit = re.sub(r"[\d\s,.여]", "", value)
    return any(unit.endswith(c) and counted in nouns for c, nouns in _NAMING_COUNTERS.items())


def _bounded(morphemes, j: int, end: int) -> int:
    """The end of a value with the bound that qualifies it (만 14세 미만, 10만원 이하): a limit
    changes the fact, so the answer quotes it."""
    if j + 1 < len(morphemes):
        nxt = morphemes[j + 1]
        if nxt.form in _BOUNDS and nxt.start - end <= (0 if nxt.form == "간" else 1):
            return nxt.start + nxt.len
    return end


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
            # 이날, 전날, 당시 only point back to a date said elsewhere: a weak answer.
            out.append((start, end, 0.1 if re.search(r"\d", value) else -0.25))
        i = j + 1
    return out


# Nominal morphemes: what a name, a place or an organisation is made of.
_NOMINAL = {"NNG", "NNP", "NNB", "NR", "SN", "SL", "SH", "XPN", "XSN", "SW", "SO"}
_SURNAMES = set("김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나지"
                "엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉")
_NOT_NAMES = {"대한민국", "한국", "미국", "일본", "중국", "북한", "정부", "서울", "광주", "부산", "대구",
              "인천", "대전", "울산", "세종", "이날", "이번", "지난", "올해", "한편", "또한", "당시"}


@dataclass(frozen=True)
class _Word:
    """A space-separated word of a sentence: its nominal head (before particles and endings)."""

    start: int
    end: int  # end of the whole word
    head_end: int  # end of the nominal part (== start when the word is not a noun)
    particle: str  # the first morpheme after the nominal part (에서, 는, 이다 ...), "" if none
    proper: bool  # the nominal part has a proper noun or a foreign word
    common: bool = False  # the nominal part is one common noun of kiwi's dictionary (선거, 정권)


def _words(sentence: str, morphemes) -> list[_Word]:
    """Words: morphemes between spaces, brackets and punctuation (국립경주박물관(관장 이영훈)은 reads
    as 국립경주박물관 | 관장 | 이영훈); kiwi keeps a spaced name (지미 웨일스) as one morpheme."""
    words: list[_Word] = []
    current: list = []

    def close(particle: str) -> None:
        if not current:
            return
        a = current[0].start
        b = current[-1].start + current[-1].len
        head_end, found, proper, nominal = a, "", False, []
        for m in current:
            if not found and m.tag in _NOMINAL and (m.tag != "SW" or m.form in ("㈜", "&", "·")):
                head_end = m.start + m.len
                proper = proper or m.tag in ("NNP", "SL")
                nominal.append(m.tag)
            else:
                found = found or (m.form if m.tag.startswith("J") or m.tag == "VCP" else f"{m.form}/{m.tag}")
        if head_end == a and current[0].tag.startswith("J") and words and not words[-1].particle:
            # A particle typed apart from its noun (COEX 에서): it still belongs to that noun.
            words[-1] = replace(words[-1], particle=current[0].form)
        words.append(_Word(a, b, head_end, found or particle, proper, nominal == ["NNG"]))
        current.clear()

    previous_end = None
    for m in morphemes:
        punctuation = m.tag in ("SSO", "SSC", "SS", "SP", "SF", "SE", "SO") or \
            (m.tag == "SW" and m.form not in ("㈜", "&", "·", "%"))
        if previous_end is not None and m.start > previous_end:
            close("")
        if punctuation:
            close(m.form)
        else:
            current.append(m)
        previous_end = m.start + m.len
    close("")
    return words


def _phrases(words: list[_Word]) -> list[list[_Word]]:
    """Noun phrases: runs of nominal words, closed by a word with a particle or a non-noun."""
    phrases, current = [], []
    for word in words:
        if word.head_end <= word.start:
            if current:
                phrases.append(current)
            current = []
            continue
        current.append(word)
        if word.particle or word.head_end < word.end:
            phrases.append(current)
            current = []
    if current:
        phrases.append(current)
    return phrases


def _may_name(sentence: str, word: _Word) -> bool:
    """Whether a word after a role may be a person's name: a proper noun, or a word that starts
    with a surname and is not one common noun of the dictionary (대통령 선거, 민씨 정권: no)."""
    return word.proper or (sentence[word.start] in _SURNAMES and not word.common)


def _is_role(text: str) -> bool:
    return text in PERSON_MARKERS or text.endswith(PERSON_MARKERS)


def _name_like(sentence: str, words: list[_Word]) -> bool:
    text = " ".join(sentence[w.start:w.head_end] for w in words)
    if text in _NOT_NAMES or _PLACE_SUFFIX.search(text) and len(words) == 1 and not words[0].proper:
        return False
    if any(text.startswith(place) and len(text) > len(place) for place in _NOT_NAMES if len(place) >= 2) \
            and _PLACE_SUFFIX.search(text):
        return False  # 대전역, 서울시: a place named after a city
    parts = text.split()
    if len(parts) == 1:
        return bool(re.fullmatch(r"[가-힣]{2,4}", text))
    return len(parts) <= 3 and all(re.fullmatch(r"[가-힣]{1,6}", p) for p in parts)


def _persons(sentence: str, morphemes, keywords: set[str]) -> list[tuple[int, int, float]]:
    """Names next to a role in one noun phrase (전창호 ㈜지아이랩 대표, 장관 이주호, 파리 시장 안느
    이달고), else proper-noun words shaped like a name (지미 웨일스가)."""
    words = _words(sentence, morphemes)
    out: dict[tuple[int, int], float] = {}

    def add(ws: list[_Word], bonus: float) -> None:
        if not ws or not _name_like(sentence, ws):
            return
        name = sentence[ws[0].start:ws[-1].head_end]
        if name in keywords or any(name == k for k in keywords):
            return
        if len(ws) == 1 and name[0] in _SURNAMES and len(name) in (3, 4):
            bonus += 0.05
        key = (ws[0].start, ws[-1].head_end)
        out[key] = max(out.get(key, -9.0), bonus)

    for phrase in _phrases(words):
        heads = [sentence[w.start:w.head_end] for w in phrase]
        roles = [i for i, h in enumerate(heads) if _is_role(h)]
        if roles:
            # The role the question names (문화재청장 … 누구: 청장 이건무).
            asked = any(k in heads[i] or (len(heads[i]) > 1 and k.endswith(heads[i]))
                        for i in roles for k in keywords if len(k) > 1)
            bonus = 0.3 + (0.2 if asked else 0.0)
            first, last = roles[0], roles[-1]
            after = phrase[last + 1:last + 3]
            if after and _may_name(sentence, after[0]):
                add(after, bonus)  # 장관 이주호, 파리 시장 안느 이달고 (not 기자 개인, 대통령 선거)
            if not after and first > 0:
                # 전창호 ㈜지아이랩 대표; else the word before the role: 호남취재본부 박선강 기자
                lead = phrase[0].proper and _name_like(sentence, phrase[:1])
                if lead:
                    add(phrase[:1], bonus)
                if first > 1 and phrase[first - 1].proper and \
                        not _BODY_SUFFIX.search(sentence[phrase[first - 1].start:phrase[first - 1].head_end]):
                    add([phrase[first - 1]], bonus - (0.25 if lead else 0.0))
        for w in phrase:
            head = sentence[w.start:w.head_end]
            if w.proper and not _PLACE_SUFFIX.search(head) and not _ORG_SUFFIX.search(head):
                add([w], 0.0)
    # A name right before a role word with its particle (김정태 사무국장이) is covered above; a role
    # with its particle right before a name (대표로 김정태) is not: look one word back.
    for i in range(1, len(words)):
        previous = sentence[words[i - 1].start:words[i - 1].head_end]
        if words[i - 1].particle in ("로", "으로", "이", "인") and _is_role(previous) \
                and words[i].head_end > words[i].start and _may_name(sentence, words[i]):
            add([words[i]], 0.15)
    return [(a, b, bonus) for (a, b), bonus in out.items()]


def _roles_of(sentence: str, morphemes, names: tuple[str, ...]) -> list[tuple[int, int, float]]:
    """The role a sentence gives a named person: the words after the name in its noun phrase up
    to the last role word (김정태 사무국장 -> 사무국장, 전창호 ㈜지아이랩 대표 -> ㈜지아이랩 대표), or a
    role phrase right before it (AI유치기업협의체 대표로 김정태 -> AI유치기업협의체 대표)."""
    words = _words(sentence, morphemes)
    phrases = _phrases(words)
    out = []
    for n, phrase in enumerate(phrases):
        heads = [sentence[w.start:w.head_end] for w in phrase]
        at = next((i for i, h in enumerate(heads) if any(h == name or h.startswith(name) and len(h) - len(name) <= 1
                                                        for name in names)), None)
        if at is None:
            continue
        roles = [i for i in range(at + 1, len(phrase)) if _is_role(heads[i])]
        if roles:
            out.append((phrase[at + 1].start, phrase[roles[-1]].head_end, 0.3))
        before = phrases[n - 1] if n else None
        if before and phrase[0] is phrase[at] and before[-1].particle in ("로", "으로", "인", "이자") \
                and _is_role(sentence[before[-1].start:before[-1].head_end]) \
                and before[-1].end + 1 >= phrase[0].start:
            out.append((before[0].start, before[-1].head_end, 0.2))
    return out


def _entities(sentence: str, morphemes, answer_type: str, keywords: set[str],
              where: bool = False) -> list[tuple[int, int, float]]:
    """Places and organisations: whole noun phrases (서울 광진구 뚝섬한강공원 제2주차장), without a
    leading date or time (6일 오후 김대중컨벤션센터)."""
    words = _words(sentence, morphemes)
    out = []
    for phrase in _phrases(words):
        while phrase and (re.fullmatch(r"[\d.,]+(년|월|일|시|분)?|지난|이날|오전|오후|올해|지난해|현지|당시|이번|금번|해당|한편|또한|최근",
                                       sentence[phrase[0].start:phrase[0].head_end])):
            phrase = phrase[1:]
        # AI유치기업협의체 대표로, 전창호 ㈜지아이랩 대표는: the body is the phrase before its role
        # word (and after the person's name).
        while answer_type == ORG and len(phrase) > 1 and _is_role(sentence[phrase[-1].start:phrase[-1].head_end]):
            phrase = phrase[:-1]
            if len(phrase) > 1 and _name_like(sentence, phrase[:1]) and not _ORG_SUFFIX.search(
                    sentence[phrase[0].start:phrase[0].head_end]):
                phrase = phrase[1:]
        if not phrase:
            continue
        start, end = phrase[0].start, phrase[-1].head_end
        name = sentence[start:end].strip("㈜ ")
        if not name or name in keywords or all(sentence[w.start:w.head_end] in keywords for w in phrase):
            continue
        if re.fullmatch(r"[\d.,\s]+", name):
            continue
        if (phrase[-1].head_end - phrase[-1].start == 1 and sentence[end:end + 1] == "·") or \
                (phrase[0].head_end - phrase[0].start == 1 and sentence[start - 1:start] == "·"):
            continue  # 산·학·연 (industry, academia, research): abbreviations, not a mountain
        proper = any(w.proper for w in phrase)
        suffix = (_PLACE_SUFFIX if answer_type == PLACE else _ORG_SUFFIX).search(name)
        if suffix is not None and suffix.start() == 0 and not proper:
            continue  # 기관·기업과, 센터에서: the kind of body or place, not its name
        particle = phrase[-1].particle
        bonus = 0.0
        if "/" in particle:
            continue  # a noun made into a verb or adjective (유리하다, 조성하다) names no place or body
        if answer_type == PLACE:
            locative = particle in _LOCATIVE
            if locative:
                bonus += 0.25
            elif particle in ("은", "는", "이", "가"):
                bonus -= 0.1  # the subject (광주시는 … 체결했다) acts; it is not where
            elif particle in _OTHER_CASES:
                if where:
                    continue  # 어디에서 열렸나: 중심도시를 (an object) is not where
                bonus -= 0.25  # 기반 조성을, 광주의: an object or a modifier, not where it happened
            if _PLACE_SUFFIX.search(name):
                bonus += 0.1
            elif not proper or (particle in _OTHER_CASES and not locative):
                continue
            elif not locative and not keywords & _PLACE_FRAMES:
                continue  # a proper noun that is neither where (에서) nor asked as a country or city
        else:
            if _ORG_SUFFIX.search(name) or "㈜" in sentence[start:end]:
                bonus += 0.15
            elif not proper:
                continue
        if _is_role(name):
            continue
        out.append((start, end, bonus))
    return out


def predicate_end(sentence: str, position: int, limit: int = 30) -> int:
    """The end of the first predicate after ``position``: the verb a value before it is an argument
    of (인코어드P&P와 첫 협약을 체결한: 체결; 12월 22일 종료될: 종료되). ``position + 8`` when no
    verb follows within ``limit`` characters of the same clause."""
    morphemes = _morphemes(sentence)
    for i, m in enumerate(morphemes):
        if m.start < position:
            continue
        if m.start - position > limit or m.tag in _CLAUSE_BREAK:
            break
        if m.tag.startswith(("VV", "VA", "XSV", "XSA", "VCP")):
            return m.start + m.len
    return position + 8


def head_end_at(sentence: str, position: int) -> int:
    """The end of the nominal part of the word holding ``position`` (4대 -> 4대강국), so a quoted
    value reads as a whole word; ``position`` itself when it is not inside a noun."""
    for word in _words(sentence, list(_morphemes(sentence))):
        if word.start <= position < word.end:
            return max(position, word.head_end)
    return position


@lru_cache(maxsize=512)
def _morphemes(sentence: str) -> tuple:
    """kiwi's morphemes of a sentence, once: the same sentences are read for every candidate span
    and for the quote around the chosen one."""
    return tuple(kiwi().tokenize(sentence))
