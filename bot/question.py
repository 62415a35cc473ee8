"""Understand a question: its language, what it asks for, its keywords (pure, no IO)."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import NamedTuple

from .language import EN_STOP, PERSON_MARKERS, ROLES  # noqa: F401  (EN_STOP re-exported: the answerer reads it here)
from .qa.query import check, language_of  # noqa: F401  (re-exported)
from .lexical import FRAME_WORDS, kiwi, nouns, tokens, word_heads

# What a question asks for, recognised from Korean morphemes and English words.
COUNT, NUMBER, PERSON, PLACE, DATE, ORG, THING, YESNO, OTHER = (
    "count", "number", "person", "place", "date", "organization", "thing", "yesno", "other")
# "Who is X?" about a named person: the role the passages give beside the name (김정태 사무국장).
ROLE = "role"
# 이용섭은 누구인가요? / 김정태 씨는 누구야?: nothing but a name before 누구.
_KO_IDENTIFY = re.compile(r"^\s*([가-힣]{2,8}?)\s*(씨|님)?\s*(은|는|이|가)?\s*(누구|어떤\s*(사람|인물))(인가요|입니까|예요|이에요|야|이야|인가|죠|지)?\s*[?？.]?\s*$")
# 광주광역시장 이름은?: the name of whoever holds an office kiwi reads as one noun.
_KO_OFFICE_NAME = re.compile(r"^\s*([가-힣]{3,8}?)\s*(의)?\s*(이름|성함)\s*(은|는|이)?\s*(뭐야|뭐예요|무엇인가요|무엇입니까)?\s*[?？.]?\s*$")

_EN_TYPES = (
    (re.compile(r"\b(what|which) (percentage|percent|proportion|share)\b|\bby how much\b", re.I), NUMBER),
    (re.compile(r"\bhow (many|much)\b|\bnumber of\b|\bhow long\b", re.I), COUNT),
    (re.compile(r"\bwho\b|\bwhose\b|\bwhom\b", re.I), PERSON),
    (re.compile(r"\bwhere\b", re.I), PLACE),
    (re.compile(r"\bwhen\b|\bwhat (date|day|time|year|month)\b|\bwhich (date|day|year|month)\b", re.I), DATE),
    (re.compile(r"\b(which|what) (organi[sz]ation|company|firm|agency|institution|outlet|newspaper)\b", re.I), ORG),
    (re.compile(r"^\s*(is|are|was|were|did|does|do|has|have|can|will)\b", re.I), YESNO),
    (re.compile(r"\bwhat\b|\bwhich\b", re.I), THING),
)
# Counters that make "몇 X" a count; dates when X is a unit of time.
# Counters and units are how a question asks, not what it is about.
COUNTERS = {"곳", "개", "개사", "사", "개소", "명", "번", "번째", "회", "차", "원", "달러"}
_DATE_COUNTERS = {"년", "월", "일", "시", "년도", "분기", "요일"}
_ORG_HEADS = {"회사", "기업", "기관", "단체", "업체", "법인", "언론사", "신문사", "방송사", "학교", "대학",
              "팀", "구단", "정당", "부처", "협회", "합작회사", "은행"}
# Nouns that ask by themselves (세종시 인구는?): the type and counter of their answer.
_FRAME_TYPES = {"나이": (COUNT, "살"), "연령": (COUNT, "세"), "인구": (COUNT, "명"), "인원": (COUNT, "명"),
                "피해액": (NUMBER, "원"), "비용": (NUMBER, "원"), "금액": (NUMBER, "원"), "예산": (NUMBER, "원"),
                "가격": (NUMBER, "원"), "액수": (NUMBER, "원"), "과태료": (NUMBER, "원"), "벌금": (NUMBER, "원"),
                "높이": (NUMBER, None), "길이": (NUMBER, None), "거리": (NUMBER, None), "면적": (NUMBER, None),
                "무게": (NUMBER, None), "날짜": (DATE, None), "일시": (DATE, None), "장소": (PLACE, None),
                "위치": (PLACE, None), "스코어": (NUMBER, None), "점수": (NUMBER, None),
                "번호": (NUMBER, None)}
# Endings of nouns that name a sum of money (입장료, 상금, 사업비, 총액, 집값), asked with 얼마.
_MONEY_ENDINGS = ("료", "금", "비", "액", "값", "세")
# Words that ask (몇, 누구, 어디) rather than say what the question is about.
QUESTION_WORDS = {"몇", "무엇", "누구", "누가", "어디", "언제", "얼마", "얼마나", "어느", "어떤", "무슨", "이름",
                  "뭐", "며칠", "성함"}
# What "how many X" counts, as the Korean counter that answers it.
_EN_COUNTERS = {w: "명" for w in ("people", "persons", "passengers", "athletes", "players", "workers",
                                  "employees", "staff", "victims", "shareholders", "members",
                                  "students", "residents", "visitors", "crew", "soldiers", "patients",
                                  "children", "officials", "professors")}
_EN_COUNTERS.update({w: "개" for w in ("companies", "firms", "businesses", "institutions",
                                        "organizations", "organisations", "countries", "nations",
                                        "offices", "agencies", "partners", "places", "sites")})
# How many years (days, ...): the unit of a length of time.
_EN_DURATIONS = {"years": "년", "months": "개월", "weeks": "주", "days": "일", "hours": "시간", "minutes": "분"}
# What "how many X" counts, as the Korean noun beside the number (승객 291명, 2,861명의 선수).
_EN_COUNTED = {"people": (), "passengers": ("승객",), "athletes": ("선수",), "players": ("선수",),
               "companies": ("기업",), "firms": ("기업",), "countries": ("국가",), "nations": ("국가",),
               "students": ("학생",), "employees": ("직원",), "workers": ("근로자",), "victims": ("피해자",),
               "members": ("회원",), "shareholders": ("주주",), "professors": ("교수",), "residents": ("주민",),
               "visitors": ("관람객",), "soldiers": ("군인",), "patients": ("환자",), "children": ("어린이",),
               "institutions": ("기관",), "organizations": ("기관",), "organisations": ("기관",),
               "agencies": ("기관",)}


@dataclass(frozen=True)
class Question:
    """An analysed question: the text, its language, expected answer type and keywords."""

    text: str
    language: str  # "ko" or "en"
    answer_type: str
    keywords: tuple[str, ...]  # content morphemes (Korean) or content words (English)
    counter: str | None  # the counter asked for: 곳, 개, 명, 개사, ...
    subject: str  # the part of a Korean question before its question word ("헬스케어 분야 기업은")
    nouns: tuple[str, ...] = ()  # what a passage must mention to answer it (Korean questions)
    compounds: tuple[str, ...] = ()  # words whose nominal part is more than one keyword (순투자액)
    counter_strict: bool = True  # a value with another unit is no answer (몇 명: not 53분)
    counted: str | None = None  # what a count counts (선수는 몇 명 -> 선수; how many athletes -> 선수)
    where: bool = False  # asks where something happened (어디에서, 어디서, 어디에; where was … held)
    head: str = ""  # the kind of thing asked for (…한 도시는? 도시; 어느 나라? 나라; 소속팀은? 소속팀)
    predicates: tuple[str, ...] = ()  # the question's verbs (끝날 예정 -> 끝나; 협약했나 -> 협약)
    guessed: bool = False  # the type comes from the final noun (…한 선수는?), not a question word
    focus: tuple[str, ...] = ()  # what restricts the counted thing (how many *security* companies)


def content_keywords(question: "Question") -> list[str]:
    """The keywords that say what the question is about: not its question words, frame words
    (이름, 장소) or the counter it asks with (몇 개사: 개, 사)."""
    counter = question.counter or ""
    if question.language == "en":  # its Korean terms (from the lexicon and glossary) and numbers
        return [k for k in dict.fromkeys(question.keywords) if re.search(r"[가-힣0-9]", k)]
    return [k for k in dict.fromkeys(question.keywords)
            if k not in QUESTION_WORDS and k not in FRAME_WORDS and k not in COUNTERS
            and not (counter and k in counter)]


# The field a count is restricted to, written at the end (… work in security, … in the big data sector).
_EN_FIELD_AFTER = re.compile(r"\b(?:in|of)\s+(?:the\s+)?([a-z][a-z\-]*(?:\s+[a-z][a-z\-]*)?)"
                             r"(?:\s+(?:field|sector|industry|area))?\s*[?.!]?\s*$", re.I)


def _how_many_phrase(text: str) -> list[str]:
    """The words after "how many" before the first that cannot be part of its noun phrase."""
    asked = re.search(r"\bhow many ((?:[a-z][a-z\-]*\s*){1,5})", text.lower())
    if not asked:
        return []
    phrase = []
    for word in asked.group(1).split():
        if word in ("of", "the"):
            continue  # how many of the companies
        if word in EN_STOP:
            break
        phrase.append(word)
        if word in _EN_COUNTERS:
            break
    return phrase


def analyse(text: str, language: str | None = None) -> Question:
    """Language (unless given), answer type, keywords, counter and subject of one question."""
    language = language or language_of(text)
    if language == "en":
        answer_type = next((t for pattern, t in _EN_TYPES if pattern.search(text)), OTHER)
        words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z\-']+|\d[\d,.]*|[가-힣]+", text)]
        keywords = tuple(w for w in words if w not in EN_STOP)
        counter = None
        if answer_type == COUNT and re.search(r"\bhow much\b", text, re.I) and re.search(
                r"\b(money|budget|cost|costs|won|dollars?|spen[dt]|price|fund(s|ing)?|fine|paid|pay)\b", text, re.I):
            counter = "원"  # how much money: an amount of money, not a count
        if answer_type == NUMBER and re.search(r"\b(percentage|percent)\b", text, re.I):
            counter = "%"  # what percentage: 95.7%, not 2016년
        duration = re.search(r"\bhow many (years|months|weeks|days|hours|minutes)\b", text, re.I)
        if duration:
            counter = _EN_DURATIONS[duration.group(1).lower()]  # how many years: 27년간, not 1918년
        counted, focus = None, ()
        if answer_type == COUNT:
            # The noun phrase after "how many" up to its verb (how many big data companies are):
            # its counted noun gives the counter and the Korean noun beside the number, the words
            # before that noun restrict it (big data: 빅데이터 분야 28, not 50개사).
            phrase = _how_many_phrase(text)
            head = next((i for i, w in enumerate(phrase) if w in _EN_COUNTERS), None)
            if head is not None:
                # People are counted in 명; things in a counter English does not say (sites:
                # 23건, institutions: 7개소, companies: 43개 or 4개사), so none is required.
                counter = counter or (_EN_COUNTERS[phrase[head]] if _EN_COUNTERS[phrase[head]] == "명" else None)
                counted = next(iter(_EN_COUNTED.get(phrase[head], ())), None)
                focus = tuple(w for w in phrase[:head] if w not in EN_STOP)
                trailing = _EN_FIELD_AFTER.search(text)
                if not focus and trailing:  # how many firms work in security?
                    focus = tuple(w for w in trailing.group(1).lower().split() if w not in EN_STOP)
        return Question(text, language, answer_type, keywords, counter, "", counted=counted, focus=focus)
    morphemes = kiwi().tokenize(text)
    answer_type, counter, subject, head, guessed = _korean_type(text, morphemes)
    identify = _KO_IDENTIFY.match(text) or _KO_OFFICE_NAME.match(text)
    name = identify.group(1) if identify and answer_type in (PERSON, THING, ORG) else ""  # 누구, 어떤 사람, 이름
    role = next((r for r in sorted(ROLES, key=len, reverse=True)
                 if name.endswith(r) and len(name) > len(r)), None) if name else None
    if role:
        # 광주시장은 누구?, 광주광역시장 이름은?: kiwi keeps the place and its office as one noun;
        # it asks for the person holding the office (광주 시장, 광주광역시 시장), not for the role of
        # someone named 광주시장.
        place = name[:-len(role)]
        place += "시" if role == "시장" and place.endswith(("광역", "특별", "자치")) else ""
        split = f"{place} {role}은 누구인가요?" if identify.re is _KO_OFFICE_NAME else \
            text.replace(name, f"{place} {role}", 1)
        return replace(analyse(split), text=text)
    if name and identify.re is _KO_IDENTIFY and len(name) <= 4:
        return Question(text, language, ROLE, (name,), None, subject, (name,), ())
    asked = QUESTION_WORDS | FRAME_WORDS | {counter} | COUNTERS
    counted, focus = _counted(morphemes)
    keywords = tuple(tokens(text))
    # A ceremony is reported by what it was held for: 협약식 by the sentence that says 업무협약을
    # 체결했다, 개막식 by 개막 (the event's noun is a keyword too, not a noun a passage must say).
    keywords += tuple(dict.fromkeys(k[:-1] for k in keywords if len(k) >= 3 and k.endswith("식")
                                    and k[:-1] not in keywords))
    compounds = tuple(h for h in dict.fromkeys(word_heads(text))
                      if h not in keywords and h not in asked and not any(h.endswith(c) for c in COUNTERS if c))
    # The kind asked for is not what a passage must mention: 롯데 자이언츠의 내야수 이대호 answers
    # 이대호의 소속팀은? without the word 소속팀.
    return Question(text, language, answer_type, keywords, counter, subject,
                    tuple(n for n in dict.fromkeys(nouns(text)) if n not in asked
                          and not (counter and n in counter) and not (head and n in head)),
                    compounds, counted=counted if answer_type in (COUNT, NUMBER) else None,
                    focus=focus if answer_type in (COUNT, NUMBER) else (),
                    where=answer_type == PLACE and re.search(r"어디\s*(에서|서|에)(?!(이|인|였|입|요))", text) is not None,
                    head=head, predicates=_predicates(morphemes), guessed=guessed)


_LIGHT_VERBS = {"하", "되", "있", "없", "이", "않", "아니", "같", "보", "주", "받", "가", "오"}


def predicates(text: str) -> tuple[str, ...]:
    """The verbs of a Korean question, as stems: 끝나 (끝날 예정인가요), 열리 (열렸나요), and the noun
    of a 하다/되다 verb (협약했나요 -> 협약). Light verbs (하, 되, 있) say nothing by themselves."""
    return _predicates(kiwi().tokenize(text))


def _predicates(morphemes) -> tuple[str, ...]:
    out = []
    for i, m in enumerate(morphemes):
        if m.tag in ("VV", "VA") and m.form not in _LIGHT_VERBS:
            out.append(m.form)
        elif m.tag in ("NNG", "XR") and i + 1 < len(morphemes) and morphemes[i + 1].tag in ("XSV", "XSA"):
            out.append(m.form)
    return tuple(dict.fromkeys(out))


# Nouns that end a restricting phrase: 50개사 가운데 기업은 (the whole the part is taken from).
_AMONG = {"가운데", "중", "중에서", "사이", "이외", "외", "전체"}


def _counted(morphemes) -> tuple[str | None, tuple[str, ...]]:
    """The counted noun of a count question and the nouns compounded right before it."""
    for i, m in enumerate(morphemes):
        if m.form != "몇":
            continue
        k = i - 1
        while k >= 0 and morphemes[k].tag in ("JX", "JKS"):
            k -= 1
        if k < i - 1 and k >= 0 and morphemes[k].form in ("수", "개수", "숫자", "규모"):
            k -= 1  # 문서 수는 몇 개: the documents are counted
        if k < i - 1 and k >= 0 and morphemes[k].tag in ("NNG", "NNP") and morphemes[k].form not in FRAME_WORDS:
            # only a topic or subject (선수는 몇 명), not 대국 몇 수
            first = k
            while first > 0 and morphemes[first - 1].tag in ("NNG", "NNP", "SL") \
                    and morphemes[first - 1].form not in FRAME_WORDS | _AMONG:
                first -= 1
            return morphemes[k].form, tuple(dict.fromkeys(
                x.form.lower() for x in morphemes[first:k] if x.form != morphemes[k].form and len(x.form) > 1))
        for j in range(i + 1, min(i + 5, len(morphemes) - 1)):
            if morphemes[j].tag == "JKG" and morphemes[j + 1].tag in ("NNG", "NNP"):
                return morphemes[j + 1].form, ()
        return None, ()
    return None, ()


_PERSON_HEADS = ("사람", "인물", "선수", "주인공", "우승자", "수상자", "창업자", "설립자", "당선자", "당선인")
_PLACE_HEADS = ("곳", "지역", "나라", "국가", "도시", "개최지", "출신지", "장소")
_DATE_HEADS = ("연도", "시기", "날짜", "해")


def _head_type(noun: str) -> str | None:
    """What a question that ends on a noun with no question word asks for (…한 선수는? a person)."""
    if noun in _PERSON_HEADS or noun in PERSON_MARKERS or noun.endswith(PERSON_MARKERS):
        return PERSON
    if noun in _PLACE_HEADS:
        return PLACE
    if noun in _DATE_HEADS:
        return DATE
    if noun in _ORG_HEADS or noun.endswith(("팀", "구단", "회사")):
        return ORG
    return None


class _Kind(NamedTuple):
    """What a Korean question asks for, as ``_korean_type`` reads it."""

    answer_type: str
    counter: str | None  # the counter asked for (몇 곳 -> 곳)
    subject: str  # the text before the question word
    head: str = ""  # the noun that names the kind of answer ("" when none)
    guessed: bool = False  # typed from the final noun alone (…받은 선수는?), no question word


def _frame_of(noun: str, amount: bool = False) -> tuple[str, str | None] | None:
    """The type and counter a frame noun asks for (인구 -> count of 명; 피해액 -> money), or None.
    ``amount``: asked with 얼마, where any noun ending like a sum of money (입장료, 상금) asks for one."""
    frame = next((f for f in _FRAME_TYPES if noun.endswith(f)), None)
    if frame:
        return _FRAME_TYPES[frame]
    if amount and len(noun) > 1 and noun.endswith(_MONEY_ENDINGS):
        return NUMBER, "원"
    return None


# 지아이랩은 어떤 회사인가요?, 김정태는 어떤 사람이야?: asked to describe one, not to name one.
_DESCRIBED = {"회사", "기업", "기관", "단체", "업체", "조직", "사람", "인물"}


def _korean_type(text: str, morphemes) -> _Kind:
    for i, m in enumerate(morphemes):
        after = morphemes[i + 1] if i + 1 < len(morphemes) else None
        subject = text[: m.start].strip()
        if m.form == "몇" or m.form.startswith("며칠"):
            unit = after.form if after is not None else ""
            k = i + 2
            while after is not None and k < len(morphemes) and morphemes[k].tag in ("NNG", "NNB", "XSN") \
                    and morphemes[k].start == morphemes[k - 1].start + morphemes[k - 1].len \
                    and len(morphemes[k].form) == 1:
                unit += morphemes[k].form  # 몇 개소, 몇 개국, 몇 개사
                k += 1
            if m.form.startswith("며칠") or unit in _DATE_COUNTERS:
                return _Kind(DATE, None, subject)
            if unit in ("번째", "차", "번"):
                return _Kind(NUMBER, unit, subject)
            return _Kind(COUNT, unit or None, subject)
        if m.form in ("얼마", "얼마나"):
            before = [p.form for p in morphemes[:i] if p.tag.startswith("NN")]
            frame = next((f for noun in before[-2:] if (f := _frame_of(noun, amount=True))), None)
            return _Kind(NUMBER, frame[1] if frame else None, subject)  # 피해액은 얼마, 입장료는 얼마: 원
        if m.form in ("누구", "누가") or m.form.startswith("누구"):
            return _Kind(PERSON, None, subject)
        if m.form in ("어디", "어디서", "어느곳"):
            # 회사는 어디: an organisation; 열린 곳은 어디: a place.
            # Only when the body is what 어디 stands for (회사는 어디), not when 어디 says where
            # (회사를 키워 어디에 입성).
            previous = morphemes[i - 1] if i else None
            head = morphemes[i - 2] if i >= 2 and previous is not None and previous.tag in ("JX", "JKS") else previous
            locative = after is not None and after.tag == "JKB"
            named = head.form if head is not None and head.tag.startswith("NN") and not locative else ""
            if named in _ORG_HEADS:
                return _Kind(ORG, None, subject, named)
            return _Kind(PLACE, None, subject, named if named in _PLACE_HEADS else "")
        if m.form in ("언제",):
            return _Kind(DATE, None, subject)
        if m.form in ("어느", "어떤", "무슨") and after is not None:
            named = after.form if after.tag.startswith("NN") else ""
            then = morphemes[i + 2] if i + 2 < len(morphemes) else None
            if m.form == "어떤" and named in _DESCRIBED and (then is None or then.tag in ("VCP", "SF")):
                # 지아이랩은 어떤 회사인가요?: what kind of company, a description, not a name
                # (어떤 회사가 협약했나 asks for one).
                return _Kind(THING, None, subject)
            if after.form in ("기관", "기업", "회사", "단체", "언론", "언론사", "매체", "대학", "팀", "나라", "국가"):
                return _Kind(ORG, None, subject, named)
            if after.form in ("날", "날짜", "해", "연도", "달"):
                return _Kind(DATE, None, subject)
            if after.form in ("곳", "지역", "도시", "장소"):
                return _Kind(PLACE, None, subject, named)
            return _Kind(THING, None, subject)
        if m.form in ("무엇", "뭐", "무어", "뭘"):
            # 지역번호는 뭐야: the noun asked about says the type (a number), as with no question word.
            topic = next((p for p in reversed(morphemes[:i]) if p.tag not in ("JX", "JKS", "VCP", "SP")), None)
            frame = _frame_of(topic.form) if topic is not None and topic.tag.startswith("NN") else None
            return _Kind(*frame, subject) if frame else _Kind(THING, None, subject)
    forms = [m.form for m in morphemes]
    # No question word: the frame noun says what is asked (나이는? 인구는? 피해액은?).
    for m in reversed(morphemes):
        if m.tag.startswith("NN"):
            frame = _frame_of(m.form)
            if frame:
                return _Kind(*frame, text.rstrip("?？.! "))  # 세종시 출범 당시 인구는 …입니다
            kind = _head_type(m.form)
            if kind and re.search(r"(은|는)\s*[?？]?\s*$", text):
                # MVP를 받은 선수는? 이대호의 소속팀은? (the whole last word names the kind)
                words = word_heads(text)
                named = words[-1] if words and words[-1].endswith(m.form) else m.form
                return _Kind(kind, None, text.rstrip("?？.! "), named, guessed=True)
            break
    if "이름" in forms or "성함" in forms:
        if any(f in PERSON_MARKERS or f.endswith(PERSON_MARKERS) for f in forms):
            return _Kind(PERSON, None, text[: morphemes[forms.index("이름" if "이름" in forms else "성함")].start].strip())
        return _Kind(ORG, None, "")
    if re.search(r"(나요|습니까|니까|었나|했나|인가|는가|했어|했니|냐)\s*\??\s*$", text) and "?" in text:
        return _Kind(YESNO, None, text.rstrip("? "))
    return _Kind(OTHER, None, "")
