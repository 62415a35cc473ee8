"""The retrieval stage: the passages a question is answered from, best first.

A Korean question searches both indexes as written. An English question cannot match Korean
keywords as written, so the keyword side is asked for Korean terms: the lexicon's and the
glossary's translations of its words, transliterations and Korean names read from romanised ones
(Moon Jae-in -> 문재인); and its dense side leads the fusion.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..bilingual import LEXICON, lexicon_entry, lexicon_phrases, lexicon_predicates, lexicon_terms, transliterations
from ..language import EN_STOP, MONTHS_AND_DAYS
from ..lexical import BIGRAM_JOIN, tokens, with_bigrams
from ..records import Hit
from ..retrieval import Filters
from ..romanized import read_names
from .query import Query, language_of

# English words that are not romanised Korean names: the question words, the lexicon's words,
# months and weekdays (July is not 줄이).
_NOT_NAMES = frozenset(EN_STOP) | frozenset(LEXICON) | MONTHS_AND_DAYS
# An English question with at most this many words besides a Korean name is about the name.
NAME_QUESTION_WORDS = 2


@dataclass(frozen=True)
class Retrieved:
    """The passages retrieved, best first, the question's vector and, for an English question, the
    Korean terms its words were translated to."""

    hits: tuple[Hit, ...]
    vector: object  # numpy float32 vector of the question
    terms: tuple[str, ...] = ()

    def reader_question(self, question: str) -> str:
        """What the reader is asked: an English question over Korean passages with the Korean terms
        of its words after it, so that it can find them in the passage."""
        return f"{question} ({' '.join(self.terms)})" if self.terms else question


class Retrieval:
    """Hybrid search for questions in Korean or English over one loaded index."""

    def __init__(self, retriever, embedder, settings):
        self.retriever, self.embedder, self.settings = retriever, embedder, settings
        names = retriever.data.name_prefixes()
        self.read_names = lru_cache(maxsize=512)(lambda q: tuple(read_names(q, names, _NOT_NAMES)))

    def __call__(self, query: Query, k: int, filters: Filters | None = None,
                 mode: str = "hybrid", vector=None, dense_weight: float | None = None) -> Retrieved:
        text = query.text
        if vector is None:
            vector = self.embedder.encode_queries([text])[0]
        terms = self.korean_terms(text)
        lexical_text, extra = lexical_text_of(text), self.search_terms(text, terms)
        hits = self.retriever.search(vector, lexical_text, k=k, mode=mode, filters=filters,
                                     dense_weight=self.dense_weight(text) if dense_weight is None else dense_weight,
                                     extra_terms=extra)
        return Retrieved(tuple(hits), vector, terms)

    def dense_weight(self, question: str) -> float:
        """English questions lean on the dense side; one that is little more than a Korean name
        leans on the name in the keyword index."""
        if language_of(question) != "en":
            return self.settings.dense_weight
        of_names = name_words(self.read_names(question))
        if of_names:
            others = [w for w in english_words(question) if w not in of_names]
            if len(others) <= NAME_QUESTION_WORDS:
                return self.settings.english_name_dense_weight
        return self.settings.english_dense_weight

    def korean_terms(self, question: str) -> tuple[str, ...]:
        """For an English question, the Korean index terms nearest its content words."""
        if language_of(question) != "en":
            return ()
        words = english_words(question)[:12]
        if not words:
            return ()
        known = self.retriever.data.lexical.knows
        terms = lexicon_terms(words) + [t for t in transliterations(question) if known(t)]
        for phrase in lexicon_phrases(question):  # 산업안전, as the index tokenises it
            terms += [phrase] if known(phrase) else [t for t in tokens(phrase) if len(t) > 1 and known(t)]
        names = self.read_names(question)
        for name, _ in names:
            terms += [name] if known(name) else [t for t in tokens(name) if len(t) > 1 and known(t)]
        # The words of a name (Kim Jeong-tae) are not English words to translate (kim -> 기름).
        of_names = name_words(names)
        glossary = self.retriever.data.glossary
        if glossary is not None:
            unknown = [w for w in words if lexicon_entry(w) is None and w not in of_names]
            if unknown:
                vectors = self.embedder.encode_queries(unknown)
                terms += glossary.translate(vectors, self.settings.glossary_threshold)
        return tuple(dict.fromkeys(terms))

    def search_terms(self, question: str, terms: tuple[str, ...]) -> tuple[str, ...]:
        """An English question's Korean terms, with the pairs of neighbouring words (industrial
        safety -> 산업_안전) and the predicates of its verbs (signed -> 체결)."""
        if not terms:
            return terms
        known = self.retriever.data.lexical.knows
        written = [w.lower() for w in re.findall(r"[A-Za-z]+", question)]
        extra = [pair for first, second in zip(written, written[1:])
                 for a in lexicon_terms([first]) for b in lexicon_terms([second])
                 if a != b and known(pair := f"{a}{BIGRAM_JOIN}{b}")]
        extra += [pair for phrase in lexicon_phrases(question)
                  for pair in with_bigrams(tokens(phrase)) if BIGRAM_JOIN in pair and known(pair)]
        extra += [p for p in lexicon_predicates(written) if known(p)]
        return tuple(dict.fromkeys((*terms, *extra)))


def english_words(question: str) -> list[str]:
    """The content words of an English question, lower case, in order."""
    words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z\-']+|\d[\d,.]*|[가-힣]+", question)]
    return [w for w in words if w not in EN_STOP]


def lexical_text_of(question: str) -> str:
    """What the keyword index is asked: a Korean question whole; of an English question only the
    words it writes as names (Han, SRT, IPv4) and its numbers (its other words go through their
    Korean terms)."""
    if language_of(question) != "en":
        return question
    words = re.findall(r"[A-Za-z][A-Za-z0-9\-]*|\d[\d,.]*", question)
    return " ".join(w for i, w in enumerate(words)
                    if w[0].isdigit() or (w[0].isupper() and w.lower() not in EN_STOP and (i > 0 or w.isupper())))


def name_words(names) -> set[str]:
    """The lowercase English words of the names read from two words or more (kim, jeong-tae)."""
    return {w.lower() for _, read in names if len(read) > 1 for w in read}
