"""Language data the stages share, each list once, and the tests on text they share (language, final consonant)."""
from __future__ import annotations

import re

# English words that carry no content of a question (searched for through nothing).
EN_STOP = frozenset({
    "how", "many", "much", "what", "which", "who", "whom", "whose", "where", "when", "is", "are",
    "was", "were", "the", "a", "an", "of", "in", "on", "at", "to", "did", "does", "do", "and", "for",
    "by", "with", "that", "this", "it", "its", "there", "number", "signed", "has", "have", "be",
    "been", "from", "about", "tell", "me", "please"})

# Months and weekdays: English words that are never romanised Korean names (July is not 줄이).
MONTHS_AND_DAYS = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split())

# Korean question words (a follow-up with one but no topic of its own borrows the previous topic).
KO_QUESTION_WORDS = ("몇", "누구", "누가", "어디", "언제", "무엇", "뭐", "얼마", "며칠", "어느", "어떤", "무슨")

# English words that are not the topic of an elliptical follow-up (and what about …).
EN_FOLLOW_UP_SKIP = frozenset({"how", "many", "much", "what", "which", "who", "where", "when", "is",
                               "are", "was", "were", "the", "a", "an", "of", "did", "does", "do"})

# Words that open an English question of its own (Who is the CEO of GI Lab?): a turn that starts
# with one is no elliptical follow-up.
EN_QUESTION_OPENERS = frozenset({"who", "whom", "whose", "what", "which", "where", "when", "why", "how", "is",
                                 "are", "was", "were", "do", "does", "did", "can", "could", "will", "would",
                                 "has", "have", "had", "should", "tell", "name", "list", "give"})
# English pronouns and determiners that point back to the previous turn (How many people have these
# companies hired?): such a question carries the previous question's topic. "this" and "that" are
# left out: they open new topics too (this year, the company that signed).
EN_BACK_REFERENCES = frozenset({"they", "them", "their", "theirs", "these", "those", "it", "its",
                                "he", "him", "his", "she", "her"})
# An English turn of at most this many words that opens with none of them is a fragment (robotics?).
EN_FRAGMENT_WORDS = 3

# Brackets and quotes, opening to closing (a straight quote closes itself): a span does not begin
# or end on one whose partner it does not hold.
BRACKET_PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">", "“": "”", "‘": "’", "「": "」", "『": "』",
                 "《": "》", "〈": "〉", '"': '"', "'": "'"}

# Morphemes too common to search for.
KO_STOP_MORPHEMES = frozenset({"하", "되", "있", "없", "것", "수", "등", "및", "이", "그", "저", "때", "중", "더",
                               "또", "다시"})

# Words of a question that name what is asked (its frame: 장소, 이름, 직함) or ask it (누구, 몇):
# a passage that answers rarely repeats them, so they are not searched alone.
FRAME_WORDS = frozenset({"이름", "성함", "직함", "직책", "직위", "장소", "위치", "날짜", "일시", "시각", "인원",
                         "숫자", "금액", "액수", "명칭", "종류", "몇", "무엇", "누구", "누가", "어디", "언제",
                         "얼마", "얼마나", "뭐", "어느", "어떤", "무슨", "며칠", "씨", "님"})

# The words of an English question about a document that say nothing of its content.
EN_DOCUMENT_FIELD_WORDS = frozenset({
    "who", "which", "what", "is", "was", "the", "a", "an", "of", "this", "it", "name", "reporter",
    "journalist", "author", "newspaper", "outlet", "publication", "publisher", "media", "paper",
    "wrote", "reported", "published", "filed", "authored", "by", "written", "news", "agency", "did",
    "whose", "byline"})

# Words for an office or a role (대표, 사무국장, 광주시장's 시장): a question about one asks for the
# person who holds it.
ROLES = ("대표", "시장", "사무국장", "국장", "장관", "차관", "대통령", "위원장", "회장", "사장", "교수", "기자", "총리", "감독",
         "선수", "의원", "원장", "청장", "지사", "구청장", "군수", "이사장", "총장", "대변인", "부장", "팀장", "과장",
         "박사", "후보", "주석", "총재", "판사", "검사", "단장", "관장", "의장", "본부장", "소장", "처장", "실장", "센터장",
         "교육감", "작가", "배우", "가수", "코치", "대사", "변호사", "창업자", "설립자", "디자이너", "사무관", "주무관", "담당자",
         "책임자", "기관사", "사업가", "기업가", "창립자", "위원", "국왕", "여왕", "왕자", "공주", "교황", "총영사", "이사", "부사장",
         "기장", "선장", "조종사", "운전사")

# Words after a name that make it a person's: the roles and the honorific 씨 (김정태 씨).
PERSON_MARKERS = ROLES + ("씨",)

# English role words a person question names; a sentence states them in Korean (the press
# lexicon's terms: CTO -> 최고기술책임자) or as the English abbreviation itself (CTO).
EN_ROLES = ("ceo", "cto", "cfo", "coo", "mayor", "governor", "minister", "reporter", "spokesperson",
            "professor", "coach", "chairman")
EN_ROLE_PHRASES = {"chief executive officer": "ceo", "chief technology officer": "cto",
                   "chief financial officer": "cfo", "chief operating officer": "coo",
                   "chief executive": "ceo", "chairperson": "chairman"}


def has_final_consonant(word: str) -> bool:
    """Whether a word's last syllable, as read aloud, ends in a consonant (받침), which decides its
    particle (은/는, 이/가, 을/를, 으로/로). A final digit is read as Sino-Korean: 영, 일, 삼, 육, 칠, 팔 and
    십 (…0) end in one."""
    last = word[-1]
    if "가" <= last <= "힣":
        return (ord(last) - 0xAC00) % 28 != 0
    return last in "013678"


def language_of(text: str) -> str:
    """``en`` when Latin letters outnumber Hangul two to one, else ``ko``."""
    hangul = len(re.findall(r"[가-힣]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "en" if latin > hangul * 2 else "ko"
