"""``Bot``: the one front door that the app, the CLI and the evaluation runner call.

``Bot.ask`` is a chain of stages with typed hand-offs, each in its own module of ``bot/qa``:
query (``Query``) -> retrieve (``Retrieved``) -> read (``Reading`` per passage) -> decide
(``Decision``) -> compose (``Answer``). A question about a document itself (its reporter,
outlet, date) is answered from the document's byline and metadata (``about``) instead.
"""
from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from . import about, llm
from .embedding import Embedder
from .index import IndexData, load_index
from .model_build import model_fingerprint
from .qa import compose
from .qa.decide import decide
from .qa.query import Query, understand
from .qa.reader import Reader
from .qa.retrieve import Retrieval
from .records import Answer, Citation, Hit
from .retrieval import Filters, HybridRetriever
from .settings import Settings
from .years import years_stated

REFUSAL = compose.REFUSAL


class Bot:
    """A loaded model and index, shared by every caller (thread-safe)."""

    def __init__(self, embedder: Embedder, data: IndexData, settings: Settings, reader: Reader):
        self.settings = settings
        self.embedder = embedder
        self.reader = reader
        self._lock = threading.RLock()
        self._install(data)

    @classmethod
    def load(cls, index_dir: str | Path | None = None, settings: Settings | None = None,
             embedder: Embedder | None = None, reader: Reader | None = None) -> "Bot":
        """Load the embedding model, the reader and the index once; refuses an incompatible index."""
        settings = settings or Settings.from_env()
        if index_dir is not None:
            settings = settings.with_(index_dir=Path(index_dir))
        embedder = embedder or Embedder(settings.model_dir, settings.embed_precision)
        data = load_index(settings.index_dir, model_fingerprint(embedder.model_dir))
        reader = reader or Reader.shared(settings.reader_dir, settings.reader_precision)
        return cls(embedder, data, settings, reader)

    def _install(self, data: IndexData) -> None:
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
        """The best ``k`` passages for the question, best first."""
        query = understand(question, (), None, self.settings.max_question_chars)
        return list(self.retrieval(query, k, filters, mode).hits[:k])

    def ask(self, question: str, history=(), filters: Filters | None = None) -> Answer:
        """Answer with quotes from the corpus, or refuse. ``history``: earlier (question, Answer)."""
        query = understand(question, history, self._similarity, self.settings.max_question_chars)
        vector = None
        if query.field is not None:
            vector = self.embedder.encode_queries([query.text])[0]
            answer = self._about_document(query, vector, history)
            if answer is not None:
                return answer
        retrieved = self.retrieval(query, self.settings.top_k, filters, vector=vector)
        passages = retrieved.to_read(self.settings.read_passages)
        readings = self.reader.read(query.text, [h.chunk.text for h in passages])
        decision = decide(query, passages, readings, self.settings.reader_threshold, self._years_of)
        answer = compose.answer(query, decision, self.data.documents, self.settings.reader_threshold)
        return self._with_llm(answer, query.text) if self.settings.llm_url and not answer.refused else answer

    def _similarity(self, word: str, candidates) -> list[float]:
        """Cosine of a word to candidate words (follow-ups: which noun a fragment stands for)."""
        vectors = self.embedder.encode_queries([word, *candidates])
        return (vectors[1:] @ vectors[0]).tolist()

    def _years_of(self, doc_id: str) -> frozenset[str]:
        """The years a document speaks of (cached: documents do not change in place)."""
        cache = self._year_cache
        if doc_id not in cache:
            document = self.data.documents.get(doc_id)
            cache[doc_id] = years_stated(f"{document.title}\n{document.text}", document.date) \
                if document else frozenset()
        return cache[doc_id]

    def _about_document(self, query: Query, query_vector, history) -> Answer | None:
        """A question about a document itself (its reporter, outlet, date, e-mail), answered from
        the byline and metadata of the document the conversation is about, or the best retrieved
        press material; None when no document states the field."""
        previous = next((a.citations[0].doc_id for _, a in reversed(list(history))
                         if not a.refused and a.citations), None)
        hits = self.retrieval(query, 20, vector=query_vector).hits
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
