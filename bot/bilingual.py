"""English questions against Korean passages: English words mapped to the Korean terms of the
keyword index that lie nearest in the multilingual embedding space (``healthcare`` -> ``헬스케어``,
``automotive`` -> ``자동차``), so the keyword side can help English questions too.

Built at ingestion from the keyword index's vocabulary and saved beside it (``glossary/``).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

_HANGUL_TERM = re.compile(r"^[가-힣]{2,}$")

# The vocabulary of Korean press releases that a small multilingual model maps poorly (``mayor``
# lands nearer 시의회 than 시장): roles, the words of agreements, counts and public bodies, and the
# romanised names of Korean cities and provinces. General words only: never a document's answer.
LEXICON: dict[str, tuple[str, ...]] = {
    "mayor": ("시장",), "governor": ("지사",), "minister": ("장관",), "president": ("대통령", "회장"),
    "ceo": ("대표",), "cto": ("최고기술책임자", "기술이사"), "cfo": ("최고재무책임자", "재무이사"),
    "coo": ("최고운영책임자",), "coach": ("감독", "코치"), "executive": ("대표",),
    "representative": ("대표",), "chairman": ("회장", "위원장"),
    "director": ("국장", "원장", "단장"), "head": ("대표", "국장"), "reporter": ("기자",),
    "journalist": ("기자",), "author": ("기자",), "wrote": ("기자",), "writer": ("기자",),
    "spokesperson": ("대변인",), "professor": ("교수",), "secretary": ("사무국장", "장관"),
    "agreement": ("협약", "업무협약"), "mou": ("업무협약", "협약"), "signed": ("체결", "협약"),
    "sign": ("체결", "협약"), "partner": ("협약",), "partners": ("협약",),
    "company": ("기업", "회사"), "companies": ("기업",), "firm": ("기업",), "firms": ("기업",),
    "business": ("기업", "비즈니스"), "businesses": ("기업",), "institution": ("기관",),
    "institutions": ("기관",), "organization": ("기관", "단체"), "organizations": ("기관", "단체"),
    "organisation": ("기관", "단체"), "organisations": ("기관", "단체"), "agency": ("청", "기관"),
    "shareholder": ("주주",), "shareholders": ("주주",), "office": ("사무실",), "offices": ("사무실",),
    "headquarters": ("본사",), "hired": ("채용", "인력"), "employees": ("인력", "직원"),
    "workers": ("인력", "노동자"), "jobs": ("일자리",), "field": ("분야",), "fields": ("분야",),
    "sector": ("분야",), "healthcare": ("헬스케어",), "automotive": ("자동차",), "car": ("자동차",), "cars": ("자동차",),
    "security": ("보안",), "robotics": ("로봇",), "robot": ("로봇",), "robots": ("로봇",),
    "speech": ("음성인식",), "investment": ("투자",), "investments": ("투자",), "safety": ("안전",),
    "data": ("데이터", "빅데이터"), "ai": ("인공지능", "ai"), "artificial": ("인공지능",),
    "intelligence": ("인공지능",), "stock": ("상장", "코스닥"), "listing": ("상장",), "list": ("상장",),
    "listed": ("상장",), "newspaper": ("신문", "경제"), "article": ("기사",), "email": ("이메일",),
    "ceremony": ("협약식", "행사"), "held": ("열리",), "venue": ("센터", "장소"),
    "population": ("인구",), "injured": ("부상", "다치"), "killed": ("사망", "숨지"), "dead": ("사망",),
    "died": ("사망", "숨지"), "passengers": ("승객",), "crew": ("승무원",), "athletes": ("선수",),
    "players": ("선수",), "countries": ("국가",), "nations": ("국가",),
    "fine": ("과태료", "벌금"), "budget": ("예산",), "cost": ("비용",), "won": ("원",),
    "olympics": ("올림픽",), "winter": ("동계",), "summer": ("하계",), "election": ("선거",),
    "police": ("경찰",), "fire": ("화재",), "accident": ("사고",), "explosion": ("폭발",),
    "train": ("열차",), "plane": ("여객기", "비행기"), "airport": ("공항",), "hospital": ("병원",),
    "university": ("대학", "대학교"), "school": ("학교",), "city": ("시",), "government": ("정부",),
    "ministry": ("부",), "korea": ("대한민국", "한국"), "korean": ("한국",), "japan": ("일본",),
    "china": ("중국",), "seoul": ("서울",), "busan": ("부산",), "gwangju": ("광주",),
    "daegu": ("대구",), "daejeon": ("대전",), "incheon": ("인천",), "ulsan": ("울산",),
    "sejong": ("세종",), "jeju": ("제주",), "gyeonggi": ("경기",), "gangwon": ("강원",),
    "jeonnam": ("전남",), "chonnam": ("전남",), "gist": ("gist",), "kosdaq": ("코스닥",),
    "kospi": ("코스피",), "first": ("첫",), "founded": ("설립",), "established": ("설립",),
    "opened": ("개소",), "moved": ("이전",), "relocated": ("이전",), "incorporated": ("법인",),
    "message": ("메시지",), "pledge": ("다짐",), "declaration": ("선언",), "declare": ("선언",),
    "congratulatory": ("축하",), "congratulations": ("축하",), "delivered": ("발표",),
    "announced": ("발표",), "member": ("회원",), "aim": ("목표",), "goal": ("목표",),
    "target": ("목표",), "plan": ("계획",),
    "stage": ("단계",), "step": ("단계",), "phase": ("단계",), "flowers": ("꽃다발",),
    "bouquet": ("꽃다발",), "joint": ("합작",), "venture": ("합작회사",),
    "participated": ("참가", "참여"), "participate": ("참가", "참여"), "participants": ("참가자",),
    "participating": ("참가", "참여"), "corporation": ("법인",), "corporations": ("법인",),
    "enter": ("진출", "입성"), "entry": ("진출", "입성"),
}

# Two English words that a release writes as one Korean term (industrial alone is 산업 as often
# in 산업 안전 as in 산업 행동 = 쟁의: only the pair is sure).
PHRASES: dict[str, str] = {
    "industrial safety": "산업안전", "big data": "빅데이터", "speech recognition": "음성인식",
    "natural language": "자연어처리", "artificial intelligence": "인공지능", "joint venture": "합작회사",
    "stock market": "주식시장", "press release": "보도자료", "took part": "참가", "take part": "참가",
    "taking part": "참가", "set up": "설립", "so far": "지금까지", "to date": "지금까지",
}


def lexicon_phrases(text: str) -> list[str]:
    """The Korean terms of the two-word phrases a question writes (industrial safety -> 산업안전)."""
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
    return [PHRASES[f"{a} {b}"] for a, b in zip(words, words[1:]) if f"{a} {b}" in PHRASES]


# How Korean writes Latin letters and the loanwords of company names (GI Lab -> 지아이랩).
_LETTERS = dict(zip("abcdefghijklmnopqrstuvwxyz",
                    ["에이", "비", "씨", "디", "이", "에프", "지", "에이치", "아이", "제이", "케이", "엘", "엠",
                     "엔", "오", "피", "큐", "알", "에스", "티", "유", "브이", "더블유", "엑스", "와이", "제트"]))
_LOANWORDS = {"lab": "랩", "labs": "랩스", "tech": "테크", "net": "넷", "soft": "소프트", "bank": "뱅크",
              "motors": "모터스", "networks": "네트웍스", "group": "그룹", "center": "센터",
              "communication": "커뮤니케이션", "communications": "커뮤니케이션", "system": "시스템",
              "systems": "시스템즈", "info": "인포", "data": "데이터", "link": "링크", "smart": "스마트",
              "energy": "에너지", "bio": "바이오", "mobility": "모빌리티", "robotics": "로보틱스"}


def transliterations(text: str) -> list[str]:
    """Hangul spellings of a question's Latin names: capitals read letter by letter (GI -> 지아이),
    known loanwords (Lab -> 랩), and adjacent words joined (지아이랩) as Korean writes them."""
    words = re.findall(r"[A-Za-z]+", text)
    spelled = []
    for word in words:
        lower = word.lower()
        if lower in _LOANWORDS:
            spelled.append(_LOANWORDS[lower])
        elif word.isupper() and len(word) <= 4:
            spelled.append("".join(_LETTERS[c] for c in lower))
        else:
            spelled.append("")
    out = []
    for i, piece in enumerate(spelled):
        if piece:
            out.append(piece)
            if i + 1 < len(spelled) and spelled[i + 1]:
                out.append(piece + spelled[i + 1])
    return list(dict.fromkeys(out))


def lexicon_entry(word: str) -> str | None:
    """The lexicon's form of an English word, or of its plain form (agreements -> agreement,
    professors -> professor, declared -> declare, signing -> sign); None when it has none."""
    word = word.lower()
    forms = [word]
    for suffix, plain in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("d", ""),
                          ("ing", ""), ("ing", "e")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[: len(word) - len(suffix)] + plain)
    return next((f for f in forms if f in LEXICON), None)


def lexicon_terms(words) -> list[str]:
    """Korean terms of the press lexicon for English words, in order."""
    out: list[str] = []
    for word in words:
        entry = lexicon_entry(word)
        out.extend(LEXICON[entry] if entry else ())
    return list(dict.fromkeys(out))


# English verbs of the lexicon, by the Korean predicate a press release writes for them: an
# English question's verb, matched like a Korean question's (see Question.predicates).
_VERBS = {"sign": "체결", "signed": "체결", "held": "열리", "hold": "열리", "hired": "채용",
          "hire": "채용", "founded": "설립", "established": "설립", "opened": "개소", "moved": "이전",
          "relocated": "이전", "declare": "선언", "declared": "선언", "injured": "부상", "killed": "사망",
          "died": "사망", "listed": "상장", "list": "상장", "delivered": "발표", "announced": "발표",
          "aim": "목표", "aims": "목표", "participated": "참가", "participate": "참가"}


def lexicon_predicates(words) -> tuple[str, ...]:
    """The Korean predicates of an English question's verbs (sign -> 체결)."""
    return tuple(dict.fromkeys(_VERBS[w.lower()] for w in words if w.lower() in _VERBS))


class Glossary:
    """Korean index terms with their (query-side) embeddings."""

    def __init__(self, terms: list[str], vectors: np.ndarray, embedded: int | None = None):
        self.terms = terms
        self.vectors = vectors.astype(np.float32)
        # How many of the terms the build that made this glossary embedded (the rest were reused).
        self.embedded = len(terms) if embedded is None else embedded

    @classmethod
    def build(cls, vocabulary, embedder, batch_size: int = 256,
              reuse: "Glossary | None" = None) -> "Glossary":
        """Embed every Hangul term (two syllables or more) of the keyword index.

        Terms that ``reuse`` holds keep its vectors, so a rebuild embeds only the terms that are
        new (a corpus rebuilt after a few documents changed has nearly the same vocabulary). The
        caller passes only a glossary built with the same model and precision.
        """
        terms = sorted(t for t in vocabulary if _HANGUL_TERM.match(t))
        known = reuse.vectors_by_term() if reuse is not None and reuse.terms else {}
        missing = [t for t in terms if t not in known]
        fresh = embedder.encode_queries(missing, batch_size=batch_size) if missing else None
        if not terms:
            return cls(terms, np.zeros((0, 1), np.float32), 0)
        dimension = fresh.shape[1] if fresh is not None else reuse.vectors.shape[1]
        vectors = np.empty((len(terms), dimension), dtype=np.float32)
        new_rows = iter(fresh if fresh is not None else ())
        for row, term in enumerate(terms):
            vectors[row] = known[term] if term in known else next(new_rows)
        return cls(terms, vectors, len(missing))

    def vectors_by_term(self) -> dict[str, np.ndarray]:
        """Each term's vector (the rows of ``vectors``)."""
        return dict(zip(self.terms, self.vectors))

    def translate(self, word_vectors: np.ndarray, threshold: float = 0.88, per_word: int = 2) -> list[str]:
        """Korean terms whose cosine to an English word is at least ``threshold`` (best first)."""
        if not self.terms or word_vectors.size == 0:
            return []
        similarity = word_vectors @ self.vectors.T
        out: list[str] = []
        for row in similarity:
            best = np.argsort(-row)[:per_word]
            out.extend(self.terms[i] for i in best if row[i] >= threshold)
        return list(dict.fromkeys(out))

    def save(self, folder: str | Path) -> None:
        """``terms.json`` and ``vectors.npy`` (float16; never pickle)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "terms.json").write_text(json.dumps(self.terms, ensure_ascii=False), encoding="utf-8")
        np.save(folder / "vectors.npy", self.vectors.astype(np.float16), allow_pickle=False)

    @classmethod
    def load(cls, folder: str | Path) -> "Glossary":
        """Load what ``save`` wrote."""
        folder = Path(folder)
        terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        vectors = np.load(folder / "vectors.npy", allow_pickle=False)
        return cls(terms, vectors)
