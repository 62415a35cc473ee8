"""``Bot``: the one front door that the app, the CLI and the evaluation runner call.

A question goes through the chain of stages in ``bot/qa``: query -> retrieve -> read -> decide ->
compose, with the trained reader (an English question: the English reader, laid over the Korean
one). A question about a
document itself (its reporter, outlet, date) is answered from that document's byline and metadata
(``about``). docs/decisions.md (sessions 21 and 23) has why the reader replaced the rules.
"""
from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from . import about, llm, validation
from .embedding import Embedder
from .index import IndexData, load_index
from .model_build import model_fingerprint
from .qa import compose
from .qa.decide import Decision, decide
from .qa.query import Query, understand
from .qa.reader import Reader
from .qa.retrieve import Retrieval, Retrieved, lexical_text_of as _lexical_text
from .records import Answer, Citation, Hit
from .retrieval import Filters, HybridRetriever
from .settings import Settings
from .years import years_stated

REFUSAL = compose.REFUSAL


class Bot:
    """A loaded model and index, shared by every caller (thread-safe)."""

    def __init__(self, embedder: Embedder, data: IndexData, settings: Settings, reader: Reader,
                 reader_en: Reader | None = None):
        self.settings = settings
        self.embedder = embedder
        self.reader = reader
        self.reader_en = reader_en or reader
        self._lock = threading.RLock()
        self._install(data)

    @classmethod
    def load(cls, index_dir: str | Path | None = None, settings: Settings | None = None,
             embedder: Embedder | None = None, reader: Reader | None = None,
             reader_en: Reader | None = None) -> "Bot":
        """Load the embedding model, the readers and the index once; refuses an incompatible index."""
        settings = settings or Settings.from_env()
        if index_dir is not None:
            settings = settings.with_(index_dir=Path(index_dir))
        embedder = embedder or Embedder(settings.model_dir, settings.embed_precision)
        data = load_index(settings.index_dir, model_fingerprint(embedder.model_dir))
        reader = reader or Reader.shared(settings.reader_dir, settings.reader_precision)
        if reader_en is None and settings.reader_en_dir is not None:
            reader_en = Reader.shared(settings.reader_en_dir, settings.reader_precision)
            reader_en.share_embeddings(reader)
        return cls(embedder, data, settings, reader, reader_en)

    def _install(self, data: IndexData) -> None:
        if self.settings.index_backend == "milvus":
            from .milvus_backend import MilvusRetriever  # pymilvus only when asked for

            previous = getattr(self, "retriever", None)
            retriever = MilvusRetriever(data, getattr(previous, "client", None) or self.settings.milvus_uri,
                                        candidates=self.settings.candidates, dense_weight=self.settings.dense_weight)
        else:
            retriever = HybridRetriever(data, self.settings.candidates, self.settings.dense_weight)
        retrieval = Retrieval(retriever, self.embedder, self.settings)
        with self._lock:
            self.data, self.retriever, self.retrieval = data, retriever, retrieval
            self._year_cache: dict[str, frozenset[str]] = {}

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
        return list(self.retrieval(query, k, filters, mode).hits[:k])

    def _years_of(self, doc_id: str) -> frozenset[str]:
        """The years a document speaks of (cached: documents do not change in place)."""
        cache = self._year_cache
        if doc_id not in cache:
            document = self.data.documents.get(doc_id)
            cache[doc_id] = years_stated(f"{document.title}\n{document.text}", document.date) \
                if document else frozenset()
        return cache[doc_id]

    def _similarity(self, word: str, candidates) -> list[float]:
        """Cosine of a word to candidate words (follow-ups: which noun a fragment stands for)."""
        vectors = self.embedder.encode_queries([word, *candidates])
        return (vectors[1:] @ vectors[0]).tolist()

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
        vector = None
        if query.field is not None:
            vector = self.embedder.encode_queries([query.text])[0]
            answer = self._about_document(query, vector, history)
            if answer is not None:
                return answer
        threshold = (self.settings.reader_threshold_en if query.language == "en"
                     else self.settings.reader_threshold)
        retrieved, decision = self.read_question(query, threshold, filters, vector)
        answer = compose.answer(query, decision, self.data.documents, threshold, retrieved.hits)
        return self._with_llm(answer, query.text) if self.settings.llm_url and not answer.refused else answer

    def understand(self, question: str, history=()) -> Query:
        """The query stage: the question checked and resolved against ``history``."""
        return understand(question, history, self._similarity, self.settings.max_question_chars)

    def read_question(self, query: Query, threshold: float, filters: Filters | None = None,
                      vector=None) -> tuple[Retrieved, Decision]:
        """The retrieve, read and decide stages as the product runs them: ``read_passages`` of the
        ``top_k`` retrieved passages read, the best span or a refusal at ``threshold``."""
        retrieved = self.retrieval(query, self.settings.top_k, filters, vector=vector)
        return retrieved, self.read_and_decide(query, retrieved, list(retrieved.hits[:self.settings.read_passages]),
                                               threshold)

    def read_and_decide(self, query: Query, retrieved: Retrieved, passages: list[Hit], threshold: float) -> Decision:
        """The read and decide stages: the reader over ``passages``, its best span or a refusal."""
        reader = self.reader_en if query.language == "en" else self.reader
        readings = reader.read(retrieved.reader_question(query.reading), [h.chunk.text for h in passages])
        return decide(query, passages, readings, threshold, self._years_of, self.settings.reader_rank_prior)

    def _about_document(self, query: Query, query_vector, history) -> Answer | None:
        """A question about a document itself (its reporter, outlet, date, e-mail), answered from
        the byline and metadata of the document the conversation is about, or the best retrieved
        press material; None when no document states the field."""
        previous = next((a.citations[0].doc_id for _, a in reversed(list(history))
                         if not a.refused and a.citations), None)
        hits = self.retriever.search(query_vector, _lexical_text(query.text), k=20,
                                     dense_weight=self.retrieval.dense_weight(query.text))
        ranked_ids = list(dict.fromkeys(h.doc_id for h in hits))
        document = about.choose_document(self.data.documents, query.field, ranked_ids, previous)
        if document is None:
            return None
        found = about.field_of(document, query.field)
        start, end = about.quote_bounds(document.text, found.start, found.end)
        citation = Citation(doc_id=document.doc_id, title=document.title, date=document.date,
                            source=document.source, quote=document.text[start:end], start=start, end=end,
                            score=1.0, span_start=found.start, span_end=found.end, url=document.url)
        return Answer(question=query.asked, text=about.answer_text(query.field, found, document, query.language),
                      refused=False, citations=(citation,), rewritten_question=query.rewritten,
                      answer_type=f"document {query.field}", language=query.language,
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


def _flag_ocr(answer: Answer, documents: dict) -> Answer:
    """``answer`` with ``ocr`` set on each citation of a document whose text came from OCR."""
    def flagged(citations: tuple[Citation, ...]) -> tuple[Citation, ...]:
        return tuple(replace(c, ocr=True) if c.doc_id in documents
                     and documents[c.doc_id].meta.get("ocr_pages") else c for c in citations)
    return replace(answer, citations=flagged(answer.citations), evidence=flagged(answer.evidence),
                   related=flagged(answer.related))
