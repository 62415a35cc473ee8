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
