"""Korean names written in Latin letters, read back into Hangul: ``Moon Jae-in`` -> 문재인,
``Han Sang-dae`` -> 한상대, ``Yeonpyeong`` -> 연평, ``Itaewon`` -> 이태원 (pure, no IO).

An English question names Korean people and places the way English writes them. Each word is cut
into romanised syllables (Revised Romanization, with the older and the customary spellings names
keep: Park, Lee, Choi, ŏ as o/u), every Hangul reading of it is made, and only the readings that
begin a Hangul word of the corpus are kept (``NamePrefixes``): the corpus decides, not a guess.
"""
from __future__ import annotations

import re
from itertools import product
from math import prod

# Initials, medials and finals of a Hangul syllable, in Unicode order, with the Latin spellings
# each is written with (first: Revised Romanization).
_INITIALS = [("g", "k"), ("kk", "gg"), ("n",), ("d", "t"), ("tt",), ("r", "l"), ("m",), ("b", "p"),
             ("pp",), ("s", "sh"), ("ss",), ("",), ("j", "ch"), ("jj",), ("ch",), ("k",), ("t", "th"),
             ("p", "ph"), ("h",)]
_MEDIALS = [("a",), ("ae", "ai", "e"), ("ya",), ("yae",), ("eo", "o", "u"), ("e",), ("yeo", "yo", "yu"),
            ("ye",), ("o", "oh"), ("wa",), ("wae",), ("oe", "oi"), ("yo",), ("u", "oo"), ("wo",), ("we",),
            ("wi",), ("yu",), ("eu", "u"), ("ui", "i"), ("i", "ee", "y")]
# Finals names and places use (ㄱ ㄴ ㄹ ㅁ ㅂ ㅇ, and ㄷ/ㅅ read t), by their index in Unicode order.
_FINALS = [(0, ("",)), (1, ("k", "g")), (4, ("n",)), (8, ("l", "r")), (16, ("m",)), (17, ("p", "b")),
           (19, ("t",)), (21, ("ng",))]

# Surnames whose customary spelling no rule gives (Park 박, Lee 이, Choi 최, Rhee 이, Kwak 곽 ...).
_SURNAMES = {"park": "박", "pak": "박", "bak": "박", "lee": "이", "yi": "이", "rhee": "이", "choi": "최",
             "choe": "최", "chung": "정", "jung": "정", "kim": "김", "gim": "김", "roh": "노", "noh": "노",
             "shin": "신", "sin": "신", "yoon": "윤", "yun": "윤", "ahn": "안", "an": "안", "oh": "오",
             "woo": "우", "moon": "문", "mun": "문", "yoo": "유", "ryu": "류", "hur": "허", "heo": "허",
             "paik": "백", "baek": "백", "suh": "서", "seo": "서", "kwon": "권", "gwon": "권", "cho": "조",
             "jo": "조", "kang": "강", "gang": "강", "lim": "임", "im": "임", "han": "한", "song": "송",
             "hwang": "황", "hong": "홍", "jeon": "전", "jun": "전", "chun": "전", "ko": "고", "go": "고",
             "jang": "장", "chang": "장", "um": "엄", "eom": "엄", "bae": "배", "nam": "남", "byun": "변",
             "koo": "구", "ku": "구", "yang": "양", "son": "손", "sohn": "손", "cha": "차", "joo": "주",
             "ju": "주", "min": "민", "na": "나", "ha": "하", "kwak": "곽", "sung": "성", "seong": "성"}

_MAX_READINGS = 4096
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


def _syllable_table() -> dict[str, tuple[str, ...]]:
    """Each romanised syllable and the Hangul syllables it spells, the most regular first (t is
    ㅌ before it is ㄷ, yo is ㅛ before it is ㅕ)."""
    table: dict[str, dict[str, int]] = {}
    for i, initials in enumerate(_INITIALS):
        for m, medials in enumerate(_MEDIALS):
            for f, finals in _FINALS:
                hangul = chr(0xAC00 + (i * 21 + m) * 28 + f)
                for a, b, c in product(range(len(initials)), range(len(medials)), range(len(finals))):
                    spelled = initials[a] + medials[b] + finals[c]
                    ranks = table.setdefault(spelled, {})
                    ranks[hangul] = min(ranks.get(hangul, 99), a + b + c)
    return {k: tuple(sorted(v, key=lambda h: (v[h], h))) for k, v in table.items() if k}


_TABLE = _syllable_table()
_LONGEST = max(len(k) for k in _TABLE)


def _segmentations(word: str, limit: int = 64) -> list[list[str]]:
    """Ways to cut a lowercase word into romanised syllables (at most ``limit``)."""
    out: list[list[str]] = []

    def walk(at: int, parts: list[str]) -> None:
        if len(out) >= limit:
            return
        if at == len(word):
            out.append(list(parts))
            return
        for end in range(min(len(word), at + _LONGEST), at, -1):
            piece = word[at:end]
            if piece in _TABLE:
                parts.append(piece)
                walk(end, parts)
                parts.pop()

    walk(0, [])
    return out


def readings(word: str) -> list[str]:
    """Every Hangul reading of one romanised word (hyphens cut syllables: Jae-in)."""
    lower = word.lower()
    if lower in _SURNAMES:
        return list(dict.fromkeys([_SURNAMES[lower], *_TABLE.get(lower, ())]))
    pieces = [p for p in lower.split("-") if p]
    per_piece: list[list[str]] = []
    for piece in pieces:
        spellings: list[str] = []
        for cut in _segmentations(piece):
            if prod(len(_TABLE[s]) for s in cut) > _MAX_READINGS:
                continue
            spellings.extend("".join(c) for c in product(*(_TABLE[s] for s in cut)))
        if not spellings:
            return []
        per_piece.append(list(dict.fromkeys(spellings)))
    if prod(map(len, per_piece)) > _MAX_READINGS * 4:
        return []
    return ["".join(p) for p in product(*per_piece)]


_HANGUL_WORD = re.compile(r"[가-힣]{2,}")
_PREFIX_SYLLABLES = (2, 6)


def hangul_words(text: str) -> set[str]:
    """The distinct Hangul runs of two syllables or more in ``text`` (the words prefixes come from)."""
    return set(_HANGUL_WORD.findall(text))


def word_prefixes(words) -> set[str]:
    """The beginnings (two to six syllables) of ``words``."""
    low, high = _PREFIX_SYLLABLES
    return {word[:n] for word in words for n in range(low, min(high, len(word)) + 1)}


class NamePrefixes:
    """The beginnings (two to six syllables) of every Hangul word of a corpus: 문재인 of 문재인은,
    연평 of 연평도. A reading is kept only when some word of the corpus begins with it.

    Built from the corpus's texts, or from ``prefixes`` an index stored when it was written."""

    def __init__(self, texts=(), prefixes=None):
        if prefixes is None:
            words: set[str] = set()
            for text in texts:
                words |= hangul_words(text)
            prefixes = word_prefixes(words)
        self._prefixes = prefixes if isinstance(prefixes, (set, frozenset)) else set(prefixes)

    def __contains__(self, hangul: str) -> bool:
        return hangul in self._prefixes

    def __len__(self) -> int:
        return len(self._prefixes)


def read_names(text: str, prefixes: NamePrefixes, skip=frozenset()) -> list[tuple[str, tuple[str, ...]]]:
    """Hangul forms of the romanised Korean names in an English text that the corpus holds, each
    with the English words it was read from: runs of capitalised words read together (Moon Jae-in
    -> 문재인, (Moon, Jae-in)), else one word (Itaewon -> 이태원). ``skip``: lowercase words that are
    English, not names (the lexicon's words)."""
    words = _LATIN_WORD.findall(text)

    def may_be_name(word: str) -> bool:
        # Capitalised, not an acronym (SRT), not an English word the caller names.
        return len(word) > 1 and word[0].isupper() and not word.isupper() and word.lower() not in skip

    out: list[tuple[str, tuple[str, ...]]] = []
    i = 0
    while i < len(words):
        if not may_be_name(words[i]):
            i += 1
            continue
        run = [words[i]]
        while i + len(run) < len(words) and len(run) < 3 and may_be_name(words[i + len(run)]):
            run.append(words[i + len(run)])
        found = _longest(run, prefixes)
        if found:
            out.append((found[0], tuple(run[:found[1]])))
            i += found[1]
        else:
            i += 1
    return out


def _longest(run: list[str], prefixes: NamePrefixes) -> tuple[str, int] | None:
    """The longest leading part of a run of words with a reading in the corpus (ties: the first
    reading in syllable order), and how many words it took."""
    for n in range(len(run), 0, -1):
        per_word = [readings(w) for w in run[:n]]
        if not all(per_word) or prod(map(len, per_word)) > _MAX_READINGS * 4:
            continue
        hits = [h for h in ("".join(p) for p in product(*per_word)) if len(h) >= 2 and h in prefixes]
        if hits:
            return max(hits, key=len), n  # the first (most regular) of the longest
    return None
