"""``Bot``: the one front door that the app, the CLI and the evaluation runner call.

Two answerers, chosen per language (``Settings.answerer`` for Korean questions, ``answerer_en``
for English ones): ``reader`` is the chain of stages in ``bot/qa`` with the trained reader: query
-> retrieve -> read -> decide -> compose; ``rules`` picks typed spans from the best sentences
(``question``, ``answering``, ``spans``). Both search through ``qa.retrieve.Retrieval`` and answer
questions about a document itself from ``about``. docs/decisions.md (session 21) has why Korean
questions go to the reader and English ones to the rules.
"""
from __future__ import annotations

import re
import threading
from dataclasses import replace
from pathlib import Path

from . import about, answering, llm, validation
from .embedding import Embedder
from .index import IndexData, load_index
from .bilingual import lexicon_phrases, lexicon_predicates, lexicon_terms
from .lexical import nouns, tokens
from .model_build import model_fingerprint
from .qa import compose
from .qa.decide import Decision, decide
from .qa.query import Query, understand
from .qa.reader import Reader
from .qa.retrieve import Retrieval, Retrieved, lexical_text_of as _lexical_text
from .question import OTHER, PERSON, ROLE, analyse, language_of
from .records import Answer, Citation, Hit
from .retrieval import Filters, HybridRetriever, dedupe
from .settings import Settings
from .years import years_asked, years_stated

# The answer is looked for in the sentences of the best passages (their sentences preranked by the
# question's keywords, the best of them embedded).
READ_PASSAGES = 5
# A short document among the first two retrieved is read whole: a release answers "where" or "when"
# in a sentence that shares no word with the question (협약식 … 열렸나 / 업무협약을 체결했다), and
# its best passage may rank second to another document's (협약한 기관은 몇 곳: 관련 기관이 7개소).
READ_WHOLE_DOCUMENT = 8  # passages at most
READ_WHOLE_DOCUMENTS = 2
READ_EXTRA_SENTENCES = 6  # of those passages, the sentences with most of the question's keywords
REFUSAL = compose.REFUSAL


class Bot:
    """A loaded model and index, shared by every caller (thread-safe)."""

    def __init__(self, embedder: Embedder, data: IndexData, settings: Settings, reader: Reader | None = None):
        self.settings = settings
        self.embedder = embedder
        self.reader = reader
        self._lock = threading.RLock()
        self._install(data)

    @classmethod
    def load(cls, index_dir: str | Path | None = None, settings: Settings | None = None,
             embedder: Embedder | None = None, reader: Reader | None = None) -> "Bot":
        """Load the embedding model (the reader too, when a language is answered by it) and the index once;
        refuses an incompatible index."""
        settings = settings or Settings.from_env()
        if index_dir is not None:
            settings = settings.with_(index_dir=Path(index_dir))
        embedder = embedder or Embedder(settings.model_dir, settings.embed_precision)
        data = load_index(settings.index_dir, model_fingerprint(embedder.model_dir))
        if reader is None and settings.uses_reader:
            reader = Reader.shared(settings.reader_dir, settings.reader_precision)
        return cls(embedder, data, settings, reader)

    def _install(self, data: IndexData) -> None:
        if self.settings.index_backend == "milvus":
            from .milvus_backend import MilvusRetriever  # pymilvus only when asked for

            previous = getattr(self, "retriever", None)
            retriever = MilvusRetriever(data, getattr(previous, "client", None) or self.settings.milvus_uri,
                                        candidates=self.settings.candidates, dense_weight=self.settings.dense_weight)
        else:
            retriever = HybridRetriever(data, self.settings.candidates, self.settings.dense_weight)
        retrieval = Retrieval(retriever, self.embedder, self.settings)
        by_document = _ChunksByDocument(data)
        with self._lock:
            self.data, self.retriever, self.retrieval = data, retriever, retrieval
            self._noun_cache: dict[str, tuple[frozenset[str], str]] = {}
            self._year_cache: dict[str, frozenset[str]] = {}
            self._chunks_of = by_document
            self._read_names = retrieval.read_names

    def reload(self) -> None:
        """Swap in the index on disk (after an update) without disturbing running questions."""
        self._install(load_index(self.settings.index_dir, model_fingerprint(self.embedder.model_dir)))

    def add_documents(self, documents) -> int:
        """Embed and index new press releases (a same-id one is replaced); returns passages added.

        Updates are serialised by the lock; questions asked meanwhile use the old index until
        ``reload`` swaps the new one in.
        """
        from . import updates

        with self._lock:
            added = updates.add_documents(
                self.settings.index_dir, list(documents),
                lambda texts: self.embedder.encode_passages(texts, batch_size=self.settings.embed_batch_size),
                model_fingerprint(self.embedder.model_dir))
            self.reload()
        return added

    def remove_document(self, doc_id: str) -> None:
        """Remove a document and its passages from the index (``BadDocument`` if unknown)."""
        from . import updates

        with self._lock:
            updates.remove_document(self.settings.index_dir, doc_id, model_fingerprint(self.embedder.model_dir))
            self.reload()

    @property
    def documents(self):
        """Documents of the loaded index by id."""
        return self.data.documents

    def search(self, question: str, k: int = 10, filters: Filters | None = None,
               mode: str = "hybrid") -> list[Hit]:
        """The best ``k`` passages for the question, best first (``mode``: hybrid, dense or
        lexical). Every argument is checked first (``bot.validation``)."""
        question = validation.question(question, self.settings.max_question_chars)
        k, mode, filters = validation.k(k), validation.mode(mode), validation.filters(filters)
        query = understand(question, (), None, self.settings.max_question_chars)
        return list(self.retrieval(query, k, filters, mode, dense_weight=self._dense_weight(query.text)).hits[:k])

    def _korean_terms(self, question: str) -> tuple[str, ...]:
        return self.retrieval.korean_terms(question)

    def _search_terms(self, question: str, terms: tuple[str, ...]) -> tuple[str, ...]:
        return self.retrieval.search_terms(question, terms)

    def _document_nouns(self, doc_id: str) -> tuple[frozenset[str], str]:
        """The nouns of a document and its title, and that text without spaces (cached:
        documents do not change in place)."""
        cache = self._noun_cache
        if doc_id not in cache:
            document = self.data.documents.get(doc_id)
            text = f"{document.title}\n{document.text}" if document else ""
            cache[doc_id] = (frozenset(nouns(text)), re.sub(r"\s+", "", text))
        return cache[doc_id]

    def _years_of(self, doc_id: str) -> frozenset[str]:
        """The years a document speaks of (cached: documents do not change in place)."""
        cache = self._year_cache
        if doc_id not in cache:
            document = self.data.documents.get(doc_id)
            cache[doc_id] = years_stated(f"{document.title}\n{document.text}", document.date) \
                if document else frozenset()
        return cache[doc_id]

    def _coverage(self, analysed, doc_id: str) -> float:
        words, text = self._document_nouns(doc_id)
        return answering.coverage(analysed, words, self.retriever.data.lexical.idf, text)

    def _similarity(self, word: str, candidates) -> list[float]:
        """Cosine of a word to candidate words (follow-ups: which noun a fragment stands for)."""
        vectors = self.embedder.encode_queries([word, *candidates])
        return (vectors[1:] @ vectors[0]).tolist()

    def _dense_weight(self, question: str, answer_type: str | None = None) -> float:
        """As ``Retrieval.dense_weight``; a Korean "who is" question about a name (전창호 씨는
        누구야?) leans on the name in the keyword index (``answer_type``: the question's, when the
        caller has analysed it already)."""
        if language_of(question) != "en":
            kind = answer_type or analyse(question).answer_type
            return self.settings.english_name_dense_weight if kind == ROLE else self.settings.dense_weight
        return self.retrieval.dense_weight(question)

    def ask(self, question: str, history=(), filters: Filters | None = None) -> Answer:
        """Answer with quotes from the corpus, or refuse. ``history``: earlier (question, Answer)
        pairs, of which the last few are read. Every argument is checked first (``bot.validation``).
        A citation of a document read by OCR says so (``Citation.ocr``)."""
        return _flag_ocr(self._ask(question, history, filters), self.data.documents)

    def _ask(self, question: str, history, filters: Filters | None) -> Answer:
        question = validation.question(question, self.settings.max_question_chars)
        history = validation.history(history, self.settings.max_question_chars)
        filters = validation.filters(filters)
        query = self.understand(question, history)
        if self.settings.answerer_for(query.language) == "reader":
            return self._read(query, history, filters)
        question, rewritten, effective = query.asked, query.rewritten, query.text
        analysed = analyse(effective, query.language)
        if rewritten and analyse(question).counter is None:
            # A follow-up borrows the kind of question, but the counter it borrows is only a
            # preference: after 선수는 몇 명, 세부 종목은? counts 종목 (109개), not people.
            analysed = replace(analysed, counter_strict=False)
        retriever = self.retriever
        query_vector = self.embedder.encode_queries([effective])[0]
        field = about.asked_field(effective, analysed.language)
        if field is not None:
            answer = self._about_document(question, rewritten, analysed, field, query_vector, history)
            if answer is not None:
                return answer
        korean_terms = self._korean_terms(effective)
        if korean_terms:
            # An English question is scored against Korean sentences by its Korean terms.
            focus = tuple(t for t in (*lexicon_terms(analysed.focus), *lexicon_phrases(" ".join(analysed.focus)))
                          if t in korean_terms)
            verbs = lexicon_predicates(re.findall(r"[A-Za-z]+", effective))
            person = _identified(effective, self._read_names(effective))
            if analysed.answer_type == PERSON and person:
                # Who is Kim Jeong-tae?: the role the passages give 김정태.
                analysed = replace(analysed, answer_type=ROLE)
                korean_terms = (person, *[t for t in korean_terms if t != person])
            analysed = replace(analysed, keywords=tuple(dict.fromkeys((*analysed.keywords, *korean_terms))),
                               nouns=korean_terms, focus=focus,
                               predicates=verbs)
        lexical_text, extra_terms = _lexical_text(effective), self._search_terms(effective, korean_terms)
        if analysed.language == "ko":
            # Words the analysis reads that the question's own tokens do not hold (광주광역시장 이름은?
            # -> 광주광역시, 시장) are searched too.
            written = set(tokens(effective))
            extra_terms = tuple(k for k in analysed.keywords
                                if k not in written and retriever.data.lexical.knows(k))
        if not korean_terms and analysed.answer_type == ROLE and all(map(retriever.data.lexical.knows,
                                                                         analysed.keywords)):
            # 박선강은 누구인가요?: kiwi reads 박 선 강 in the question; the name searches whole.
            lexical_text, extra_terms = "", analysed.keywords
        hits = retriever.search(query_vector, lexical_text, k=self.settings.top_k, filters=filters,
                                dense_weight=self._dense_weight(effective, analysed.answer_type),
                                extra_terms=extra_terms)
        if not hits:
            return self._refusal(question, rewritten, analysed, [], {})
        lead = self._keyword_lead(lexical_text, extra_terms, filters) if korean_terms else []
        rest = self._rest_of_document(hits, lead)
        read = hits[:READ_PASSAGES] + rest
        idf = retriever.data.lexical.idf
        spans = answering.prerank(analysed, answering.sentence_spans(hits[:READ_PASSAGES]), idf) + \
            answering.prerank(analysed, answering.sentence_spans(rest), idf, keep=READ_EXTRA_SENTENCES)
        sentence_vectors = self._embedded([_span_text(hit, s, e) for hit, s, e in spans])
        ranked = answering.candidates(analysed, read, sentence_vectors, query_vector, spans)
        years = years_asked(effective)
        if years:
            # Who won the 2030 World Cup?: a document that never speaks of 2030 does not answer it,
            # however close its sentences (a cup of 2006); the best that does, or a refusal.
            dated = [c for c in ranked if set(years) <= self._years_of(c.hit.doc_id)]
            if not dated:
                return self._refusal(question, rewritten, analysed, ranked, {"year_found": 0.0})
            ranked = dated
        pairs = answering.typed_candidates(analysed, ranked)[:40]
        clause_scores = self._clause_scores([c.text[s.clause_start:s.clause_end] for c, s in pairs], query_vector)
        idf = retriever.data.lexical.idf
        doc_coverage = {hit.doc_id: self._coverage(analysed, hit.doc_id)
                        for hit in hits[:READ_PASSAGES]} if analysed.nouns else {}
        choice = answering.choose(analysed, ranked, pairs, clause_scores, idf, doc_coverage)
        if choice is None and analysed.guessed:
            # The type was only guessed from the final noun (…한 사람은?): with no value of that
            # type in the best sentences, answer with the best sentence, as for any question.
            analysed = replace(analysed, answer_type=OTHER)
            choice = answering.choose(analysed, ranked, [], [], idf, doc_coverage)
        if choice is None:
            return self._refusal(question, rewritten, analysed, ranked, {})
        choice, missing = answering.with_required_word(analysed, choice)
        if choice.span is not None and choice.span.value.startswith(answering.RELATIVE_DAYS):
            # 이날: the day the document named before it, from its own earlier sentences.
            chunks = self._chunks_of.get(choice.candidate.hit.doc_id, [])
            document = answering.sentence_spans([Hit(c, 0.0, {"document": 1}) for c in chunks], per_hit=1000)
            choice = answering.resolve_relative_date(analysed, choice, document)
        best, span = choice.candidate, choice.span
        # Evidence that the answering document discusses the question: its best sentence (the
        # value may sit in a neighbouring sentence that shares fewer words with the question).
        support = max(c.score for c in ranked if c.hit.doc_id == best.hit.doc_id)
        confidence = {"sentence": round(support, 4), "chosen": round(best.score, 4),
                      "choice": round(choice.score, 4)}
        if span is not None:
            confidence["inside"] = round(choice.inside, 4)
        if missing:
            # 지아이랩 직원은 몇 명 / 기관사의 이름은: a sentence that never says 직원 (교수 7명) or
            # 기관사 states something about someone else.
            confidence["required_word_found"] = 0.0
            return self._refusal(question, rewritten, analysed, ranked, confidence)
        if analysed.language == "ko":
            confidence["coverage"] = round(self._coverage(analysed, best.hit.doc_id), 4)
        threshold = (self.settings.english_refusal_threshold if analysed.language == "en"
                     else self.settings.refusal_threshold)
        if support < threshold or \
                confidence.get("coverage", 1.0) < self.settings.refusal_coverage or \
                confidence.get("inside", 1.0) < self.settings.refusal_inside:
            return self._refusal(question, rewritten, analysed, ranked, confidence)
        same, different = answering.corroboration(analysed, choice)
        text = answering.short_answer(analysed, span, best)
        if different:
            # Releases disagree: the newest first, each figure with its document and date.
            stated = sorted([choice, *different], key=lambda x: _date_key(x.candidate.hit), reverse=True)
            newest = stated[0]
            best, span = newest.candidate, newest.span
            text = answering.short_answer(analysed, span, best) + " " + answering.disagreement(
                analysed.language, [(x.span.value, x.candidate.hit) for x in stated])
        citations = [answering.citation(best, span)]
        seen = {(best.hit.doc_id, best.start)}
        evidence = []
        for other in ([choice, *different] if different else []) + same:
            key = (other.candidate.hit.doc_id, other.candidate.start)
            if key not in seen:
                seen.add(key)
                evidence.append(answering.citation(other.candidate, other.span))
        for hit in hits:
            other = next((c for c in ranked if c.hit is hit and (hit.doc_id, c.start) not in seen), None)
            if other is None:
                citations.append(_passage_citation(hit))
            else:
                seen.add((hit.doc_id, other.start))
                citations.append(answering.citation(other))
        answer = Answer(question=question, text=text,
                        refused=False, citations=tuple(citations), rewritten_question=rewritten,
                        answer_type=analysed.answer_type, language=analysed.language,
                        evidence=tuple(evidence), conflict=bool(different), confidence=confidence)
        return self._with_llm(answer, effective) if self.settings.llm_url else answer

    def _embedded(self, texts: list[str]):
        """Passage vectors of ``texts``, row i = text i, each distinct text embedded once (a clause
        that holds several candidate values, a sentence in the overlap of two passages)."""
        unique = list(dict.fromkeys(texts))
        vectors = self.embedder.encode_passages(unique)
        row = {text: i for i, text in enumerate(unique)}
        return vectors[[row[text] for text in texts]]

    def _clause_scores(self, clause_texts: list[str], query_vector) -> list[float]:
        """Each clause's similarity to the question."""
        return (self._embedded(clause_texts) @ query_vector).tolist() if clause_texts else []

    def _keyword_lead(self, lexical_text: str, terms: tuple[str, ...], filters) -> list[Hit]:
        return self.retrieval.keyword_lead(lexical_text, terms, filters)

    def _rest_of_document(self, hits: list[Hit], lead: list[Hit] = ()) -> list[Hit]:
        """The passages not retrieved of the short documents among the first
        ``READ_WHOLE_DOCUMENTS`` retrieved and of the keyword index's ``lead`` (scored like that
        document's best hit): their other sentences are read too."""
        read = list(hits[:READ_PASSAGES])
        scores = {}
        for hit in read:
            scores.setdefault(hit.doc_id, hit.score)
        documents = list(scores)[:READ_WHOLE_DOCUMENTS]
        for hit in lead:
            if hit.doc_id not in documents:
                documents.append(hit.doc_id)
                scores.setdefault(hit.doc_id, read[-1].score)
        others = [Hit(hit.chunk, scores[hit.doc_id], {"lexical": 1}) for hit in lead]
        for doc_id in documents:
            chunks = self._chunks_of.get(doc_id, [])
            if len(chunks) <= READ_WHOLE_DOCUMENT:
                others += [Hit(chunk, scores[doc_id], {"document": 1}) for chunk in chunks]
        return dedupe(read + others, len(read) + len(others))[len(read):]

    def understand(self, question: str, history=()) -> Query:
        """The query stage: the question checked and resolved against ``history``."""
        return understand(question, history, self._similarity, self.settings.max_question_chars)

    def read_question(self, query: Query, threshold: float, filters: Filters | None = None,
                      vector=None) -> tuple[Retrieved, Decision]:
        """The retrieve, read and decide stages as the product runs them: ``read_passages`` of the
        ``top_k`` retrieved passages read, the best span or a refusal at ``threshold``."""
        retrieved = self.retrieval(query, self.settings.top_k, filters, vector=vector)
        return retrieved, self.read_and_decide(query, retrieved, retrieved.to_read(self.settings.read_passages),
                                               threshold)

    def read_and_decide(self, query: Query, retrieved: Retrieved, passages: list[Hit], threshold: float) -> Decision:
        """The read and decide stages: the reader over ``passages``, its best span or a refusal."""
        readings = self.reader.read(retrieved.reader_question(query.reading), [h.chunk.text for h in passages])
        return decide(query, passages, readings, threshold, self._years_of, self.settings.reader_rank_prior)

    def _read(self, query: Query, history, filters: Filters | None) -> Answer:
        """The reader's answer: query -> retrieve -> read -> decide -> compose (``bot/qa``)."""
        question = query.asked
        vector = None
        if query.field is not None:
            vector = self.embedder.encode_queries([query.text])[0]
            analysed = analyse(query.text)
            answer = self._about_document(question, query.rewritten, analysed, query.field, vector, history)
            if answer is not None:
                return answer
        threshold = (self.settings.reader_threshold_en if query.language == "en"
                     else self.settings.reader_threshold)
        retrieved, decision = self.read_question(query, threshold, filters, vector)
        answer = compose.answer(query, decision, self.data.documents, threshold, retrieved.hits)
        return self._with_llm(answer, query.text) if self.settings.llm_url and not answer.refused else answer

    def _about_document(self, question, rewritten, analysed, field, query_vector, history) -> Answer | None:
        """A question about a document itself (its reporter, outlet, date, e-mail), answered from
        the byline and metadata of the document the conversation is about, or the best retrieved
        press material; None when no document states the field."""
        previous = next((a.citations[0].doc_id for _, a in reversed(list(history))
                         if not a.refused and a.citations), None)
        hits = self.retriever.search(query_vector, _lexical_text(analysed.text), k=20, dense_weight=self._dense_weight(analysed.text))
        ranked_ids = list(dict.fromkeys(h.doc_id for h in hits))
        document = about.choose_document(self.data.documents, field, ranked_ids, previous)
        if document is None:
            return None
        found = about.field_of(document, field)
        start, end = about.quote_bounds(document.text, found.start, found.end)
        citation = Citation(doc_id=document.doc_id, title=document.title, date=document.date,
                            source=document.source, quote=document.text[start:end], start=start, end=end,
                            score=1.0, span_start=found.start, span_end=found.end, url=document.url)
        return Answer(question=question, text=about.answer_text(field, found, document, analysed.language),
                      refused=False, citations=(citation,), rewritten_question=rewritten,
                      answer_type=f"document {field}", language=analysed.language,
                      confidence={"document_field": 1.0})

    def _with_llm(self, answer: Answer, question: str) -> Answer:
        """The optional LLM's answer over the cited passages, kept only when every sentence cites
        a passage that states its numbers and names; otherwise the extractive answer, with why."""
        passages = [llm.Passage(n, c.doc_id, c.title, c.date, c.quote)
                    for n, c in enumerate(answer.citations[:5], start=1)]
        try:
            checked = llm.llm_answer(self.settings.llm_url, question, passages, answer.language,
                                     model=self.settings.llm_model, timeout=self.settings.llm_timeout)
        except llm.LLMUnavailable as error:
            return replace(answer, backend_note=f"LLM unavailable: {error}")
        if not checked.ok:
            return replace(answer, backend_note=f"LLM answer failed the check: {checked.reason}")
        if not checked.cited:  # the model refused where the extractive answerer found a quote
            return replace(answer, backend_note="LLM answer cited no passage")
        first = [answer.citations[n - 1] for n in checked.cited]
        rest = [c for c in answer.citations if c not in first]
        return replace(answer, text=checked.text, citations=tuple(first + rest), backend="llm")

    def _refusal(self, question, rewritten, analysed, ranked, confidence) -> Answer:
        related = tuple(answering.citation(c) for c in ranked[:3])
        return Answer(question=question, text=REFUSAL[analysed.language], refused=True,
                      citations=(), rewritten_question=rewritten,
                      answer_type=analysed.answer_type, language=analysed.language, related=related,
                      confidence=confidence)


def _identified(question: str, names) -> str | None:
    """The Korean name an English "Who is/was X?" asks about, when X is nothing but a name read
    from two or more words (Who is Lee Yong-seop? -> 이용섭)."""
    asked = re.fullmatch(r"\s*who\s+(is|was)\s+(.+?)\s*[?.]?\s*", question, re.I)
    if not asked:
        return None
    words = re.findall(r"[A-Za-z][A-Za-z\-']*", asked.group(2))
    for name, read in names:
        if len(read) > 1 and [w.lower() for w in words] == [w.lower() for w in read]:
            return name
    return None


def _date_key(hit: Hit) -> str:
    """Release date for ordering, newest last; undated documents sort before any date."""
    return str(hit.chunk.meta.get("date") or "")


def _span_text(hit: Hit, start: int, end: int) -> str:
    return hit.chunk.text[start - hit.chunk.start:end - hit.chunk.start]


def _flag_ocr(answer: Answer, documents: dict) -> Answer:
    """``answer`` with ``ocr`` set on each citation of a document whose text came from OCR."""
    def flagged(citations: tuple[Citation, ...]) -> tuple[Citation, ...]:
        return tuple(replace(c, ocr=True) if c.doc_id in documents
                     and documents[c.doc_id].meta.get("ocr_pages") else c for c in citations)
    return replace(answer, citations=flagged(answer.citations), evidence=flagged(answer.evidence),
                   related=flagged(answer.related))


def _passage_citation(hit: Hit) -> Citation:
    chunk = hit.chunk
    return Citation(doc_id=chunk.doc_id, title=chunk.meta.get("title", ""), date=chunk.meta.get("date"),
                    source=chunk.meta.get("source"), quote=chunk.text, start=chunk.start,
                    end=chunk.end, score=round(float(hit.score), 4), url=chunk.meta.get("url"))


class _ChunksByDocument:
    """doc_id -> its live chunks in row order, read once per document (``.get`` like a dict)."""

    def __init__(self, data: IndexData):
        self._data = data
        self._cache: dict[str, list] = {}

    def get(self, doc_id: str, default=None):
        found = self._cache.get(doc_id)
        if found is None:
            found = self._data.chunks_of(doc_id) if doc_id in self._data.documents else None
            if found is None:
                return default
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[doc_id] = found
        return found
