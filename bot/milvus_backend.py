"""The hybrid search on Milvus (``index_backend = milvus``): a server finds the candidate passages.

One collection per index version holds each passage's row, vector (HNSW, cosine), kiwi tokens
(the project's content morphemes and bigrams, as ``bot.lexical`` makes them, joined by spaces)
with Milvus' BM25 function over them, and the fields filters read (doc_id, date, source). A search
asks Milvus for the dense top-N and the BM25 top-N, then fuses them with the project's own
``weighted_fusion`` and ``dedupe`` on the same scores as the local backend: cosines from the index's
vectors, BM25 from Milvus (the same formula and parameters as bm25s). Documents, chunk records,
offsets, the keyword idf and the glossary stay in the local ``IndexData``, so citations are exact.

pymilvus is imported only here, and this module only when the setting asks for it.
"""
from __future__ import annotations

import hashlib
import json
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import IndexBackendUnavailable
from .index import IndexData, passage_text
from .lexical import BM25_B, BM25_K1, tokens_many, with_bigrams
from .records import Hit
from .retrieval import Filters, HybridRetriever, dedupe, ranks_of, rrf_fusion, weighted_fusion

DIMENSION_FIELD = "vector"
TOKENS_FIELD = "morphemes"
BM25_FIELD = "morphemes_bm25"
INSERT_BATCH = 256
# HNSW: Milvus' usual build values (not tuned here: this corpus is small enough for any); the
# search ef is never below the candidates asked for (HNSW needs ef >= limit).
HNSW_BUILD = {"M": 16, "efConstruction": 200}
HNSW_EF = 128
# A cluster's whitespace tokenizer (Milvus >= 2.5.11) splits on spaces only; Milvus Lite has only
# its \w+ "standard" tokenizer, which splits the same because every token is written as word
# characters (``milvus_token``).
ANALYZER = {"tokenizer": "whitespace"}
ANALYZER_LITE = {"tokenizer": "standard"}
# Index versions of one collection name kept on the server: the one this process synced and the
# one before, which replicas not yet reloaded still search.
KEEP_VERSIONS = 2
BUILT_AT = "bot.built_at"  # collection property: when the version was built (Unix seconds)
_WORD = re.compile(r"[^\W_]+")


def milvus_token(token: str) -> str:
    """A kiwi token as Milvus stores it: unchanged when it is lower-case word characters (almost
    all), else ``0x`` and its UTF-8 in hex (``3.5`` -> ``0x332e35``), so that no tokenizer splits or
    lower-cases it. Kiwi never gives ``0x…`` as one token (it splits digits from letters)."""
    if _WORD.fullmatch(token) and token.lower() == token:
        return token
    return "0x" + token.encode("utf-8").hex()


def milvus_text(sequence: list[str]) -> str:
    """Tokens (bigrams already added) as the text of the ``morphemes`` field."""
    return " ".join("_".join(milvus_token(part) for part in token.split("_")) for token in sequence)


def index_fingerprint(manifest: dict, chunks: int, live: int | None = None) -> str:
    """What decides whether a collection holds this index: corpus, chunking, model and row counts."""
    keys = ("corpus_fingerprint", "model_fingerprint", "chunk_size", "chunk_overlap", "format_version")
    text = json.dumps({**{k: manifest.get(k) for k in keys}, "chunks": chunks, "live": live}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def filter_expression(filters: Filters | None) -> str:
    """``Filters`` as a Milvus boolean expression admitting exactly the chunks ``Filters.admits``
    does (its dates compare by prefix: 2020-11 is within 2020-11-01..2020-11-30)."""
    if not filters:
        return ""
    parts = []
    if filters.date_from or filters.date_to:
        parts.append('date != ""')
    if filters.date_from:
        # admits(date) <=> date[:len] >= date_from[:len] <=> date >= date_from, or date is a prefix of it
        low = filters.date_from
        prefixes = [low[:i] for i in range(1, len(low))]
        parts.append(f"(date >= {_quoted(low)} or date in {_listed(prefixes)})")
    if filters.date_to:
        # admits(date) <=> date[:len(date_to)] <= date_to <=> date <= date_to, or it starts with it
        parts.append(f'(date <= {_quoted(filters.date_to)} or date like {_quoted(filters.date_to + "%")})')
    if filters.sources:
        parts.append(f"source in {_listed(filters.sources)}")
    return " and ".join(parts)


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _listed(texts) -> str:
    return "[" + ", ".join(_quoted(t) for t in texts) + "]"


class MilvusRetriever:
    """``HybridRetriever``'s search on a Milvus server; ``data`` is the local index it mirrors."""

    def __init__(self, data: IndexData, client_or_uri, collection: str = "press_passages",
                 candidates: int = 50, dense_weight: float = 0.5, fusion: str = "weighted"):
        self.client = _connect(client_or_uri) if isinstance(client_or_uri, str) else client_or_uri
        self.base_name = collection
        self.candidates = candidates
        self.dense_weight = dense_weight
        self.fusion = fusion
        self.sync(data)

    # -- the collection ----------------------------------------------------------------------------

    def sync(self, data: IndexData) -> bool:
        """Search ``data`` from now on; builds its collection unless the server already has it
        complete (same fingerprint, every row). Returns whether it was built."""
        self.data = data
        self._local = HybridRetriever(data, self.candidates, self.dense_weight)
        live = getattr(data, "live", None)
        self._live_only = live is not None and not bool(np.all(live))
        fingerprint = index_fingerprint(data.manifest, len(data.chunks), int(np.sum(live)) if live is not None else None)
        self.collection = f"{self.base_name}_{fingerprint}"
        built = False
        with _translated("sync"):
            if not self._complete(len(data.chunks)):
                self._build(data)
                built = True
            self.client.load_collection(self.collection)
            self._drop_old_versions()
        return built

    def _complete(self, rows: int) -> bool:
        if not self.client.has_collection(self.collection):
            return False
        stats = self.client.get_collection_stats(self.collection)
        return int(stats.get("row_count", -1)) == rows

    def _build(self, data: IndexData) -> None:
        from pymilvus import DataType, Function, FunctionType

        if self.client.has_collection(self.collection):  # an interrupted build
            self.client.drop_collection(self.collection)
        index_params = self.client.prepare_index_params()
        # Build parameters go nested under "params", the form both a cluster and Milvus Lite read
        # (pymilvus 3 otherwise sends them flat, which Milvus Lite 3.2 ignores: BM25 ran at 1.5/0.75).
        index_params.add_index(DIMENSION_FIELD, index_type="HNSW", metric_type="COSINE",
                               params={"params": HNSW_BUILD})
        index_params.add_index(BM25_FIELD, index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                               params={"params": {"bm25_k1": BM25_K1, "bm25_b": BM25_B}})
        matrix = _vectors(data)
        lite = str(self.client.get_server_version()).startswith("milvus_lite")
        schema = self.client.create_schema(auto_id=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field(DIMENSION_FIELD, DataType.FLOAT_VECTOR, dim=int(matrix.shape[1]))
        schema.add_field(TOKENS_FIELD, DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                         analyzer_params=ANALYZER_LITE if lite else ANALYZER)
        schema.add_field(BM25_FIELD, DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("live", DataType.BOOL)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
        schema.add_field("date", DataType.VARCHAR, max_length=64)
        schema.add_field("source", DataType.VARCHAR, max_length=512)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=[TOKENS_FIELD], output_field_names=[BM25_FIELD]))
        self.client.create_collection(self.collection, schema=schema, index_params=index_params,
                                      properties={BUILT_AT: f"{time.time():.6f}"})
        stored_tokens, flags = getattr(data.lexical, "tokens", None), getattr(data, "live", None)
        for start in range(0, len(data.chunks), INSERT_BATCH):
            rows = range(start, min(start + INSERT_BATCH, len(data.chunks)))
            chunks = [data.chunks[row] for row in rows]
            words = ([stored_tokens[row] for row in rows] if stored_tokens is not None
                     else tokens_many([passage_text(c) for c in chunks]))
            records = []
            for row, chunk, content in zip(rows, chunks, words):
                live = flags is None or bool(flags[row])
                # As the local keyword index: a removed row keeps its number and matches nothing, and
                # an empty passage has one placeholder token; both count in BM25's statistics.
                morphemes = (with_bigrams(content) if live else []) or ["\u2400"]
                records.append({"row": row, DIMENSION_FIELD: matrix[row].tolist(), TOKENS_FIELD: milvus_text(morphemes),
                                "live": live, "doc_id": chunk.doc_id, "date": str(chunk.meta.get("date") or ""),
                                "source": str(chunk.meta.get("source") or "")})
            self.client.insert(self.collection, records)
        self.client.flush(self.collection)

    def _drop_old_versions(self) -> None:
        """Drop this collection name's older index versions but the newest ``KEEP_VERSIONS``."""
        prefix = f"{self.base_name}_"
        versions = []
        for name in self.client.list_collections():
            if name.startswith(prefix) and re.fullmatch(r"[0-9a-f]{16}", name[len(prefix):]):
                properties = self.client.describe_collection(name).get("properties") or {}
                try:
                    built_at = float(properties.get(BUILT_AT, 0.0))
                except ValueError:
                    built_at = 0.0
                versions.append((name == self.collection, built_at, name))
        for _, _, name in sorted(versions, reverse=True)[KEEP_VERSIONS:]:
            self.client.drop_collection(name)

    # -- searching ---------------------------------------------------------------------------------

    def search(self, query_vector: np.ndarray | None, question: str, k: int = 10,
               mode: str = "hybrid", filters: Filters | None = None,
               dense_weight: float | None = None, extra_terms: tuple[str, ...] = ()) -> list[Hit]:
        """As ``HybridRetriever.search``: the best ``k`` passages, best first."""
        n = len(self.data.chunks)
        if n == 0:
            return []
        expression = filter_expression(filters)
        if self._live_only:
            expression = f"live == true and ({expression})" if expression else "live == true"
        take = min(n, max(self.candidates, k * 3))
        with _translated("search"):
            dense_rows, dense_found = (self._dense(query_vector, take, expression) if mode != "lexical"
                                       else (np.zeros(0, np.int64), np.zeros(0, np.float32)))
            words = self.data.lexical.query_tokens(question, extra_terms) if mode != "dense" else []
            lexical = self._bm25(words, take, expression) if words else {}
            lexical_rows = np.fromiter(lexical, dtype=np.int64, count=len(lexical))
            if mode == "hybrid" and self.fusion != "rrf" and words:
                # The dense candidates' BM25 scores too, which the local backend reads from its array.
                missing = [int(r) for r in dense_rows if int(r) not in lexical]
                scored = self._bm25(words, len(missing), f"row in {missing}") if missing else {}
            else:
                scored = {}
        dense_rank, lexical_rank = ranks_of(dense_rows), ranks_of(lexical_rows)
        if mode == "dense":
            ranked = list(zip(dense_rows.tolist(), dense_found.tolist()))
        elif mode == "lexical":
            ranked = list(lexical.items())
        elif self.fusion == "rrf":
            ranked = rrf_fusion([dense_rows.tolist(), lexical_rows.tolist()])
        else:
            rows = np.unique(np.concatenate([dense_rows, lexical_rows]))
            keyword = np.array([lexical.get(int(r), scored.get(int(r), 0.0)) for r in rows], np.float32)
            weight = self.dense_weight if dense_weight is None else dense_weight
            ranked = weighted_fusion(rows, self.dense_scores(query_vector, rows), keyword, weight)
        hits = [Hit(self.data.chunks[row], score,
                    {"dense": dense_rank.get(row, 0), "lexical": lexical_rank.get(row, 0)})
                for row, score in ranked]
        if filters:  # the expression admits what Filters does; kept as the definition
            hits = [h for h in hits if filters.admits(h.chunk)]
        return dedupe(hits, k)

    def dense_scores(self, query_vector: np.ndarray, rows) -> np.ndarray:
        """Cosine of the question to the given chunk rows (the index's own vectors)."""
        return self._local.dense_scores(query_vector, rows)

    def _dense(self, query_vector, take: int, expression: str) -> tuple[np.ndarray, np.ndarray]:
        found = self.client.search(
            self.collection, data=[np.asarray(query_vector, np.float32).reshape(-1).tolist()],
            anns_field=DIMENSION_FIELD, limit=take, filter=expression, output_fields=["row"],
            search_params={"metric_type": "COSINE", "params": {"ef": max(HNSW_EF, take)}})[0]
        return (np.array([hit["row"] for hit in found], dtype=np.int64),
                np.array([hit["distance"] for hit in found], dtype=np.float32))

    def _bm25(self, words: list[str], take: int, expression: str) -> dict[int, float]:
        """Row -> BM25 score of the ``take`` best rows with any of the words, best first (ties by
        row, as the local backend). Milvus' BM25 is bm25s' times (k1 + 1), which bm25s' Lucene
        variant leaves out; it is divided out so that scores match the local backend's."""
        found = self.client.search(
            self.collection, data=[milvus_text(words)], anns_field=BM25_FIELD, limit=take,
            filter=expression, output_fields=["row"], search_params={"metric_type": "BM25"})[0]
        # Milvus Lite 3.2 reports a BM25 score as a negative distance, a cluster as the score itself;
        # BM25 is never negative, so the magnitude is the score.
        scores = [(int(hit["row"]), abs(float(hit["distance"])) / (BM25_K1 + 1.0)) for hit in found]
        return dict(sorted(((r, s) for r, s in scores if s > 0), key=lambda item: (-item[1], item[0])))


@contextmanager
def lite_server(data_dir: str | Path, port: int | None = None, timeout: float = 60.0):
    """A Milvus Lite server (``milvus-lite server``) on 127.0.0.1 storing into ``data_dir``, for
    tests, benchmarks and one machine; yields its URI and stops it on leaving."""
    if port is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    log = open(Path(data_dir) / "server.log", "ab")
    server = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir),
                               "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise IndexBackendUnavailable(f"milvus-lite server exited ({server.returncode}): see {log.name}")
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise IndexBackendUnavailable(f"milvus-lite server not listening after {timeout:.0f} s") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _vectors(data: IndexData) -> np.ndarray:
    """Every row's passage vector (row i = chunk i)."""
    if hasattr(data, "vector_matrix"):
        return data.vector_matrix()
    total = int(data.vectors.ntotal)
    return (data.vectors.reconstruct_n(0, total) if total else np.zeros((0, int(data.vectors.d)), np.float32))


def _connect(uri: str):
    from pymilvus import MilvusClient, MilvusException

    try:
        return MilvusClient(uri=uri)
    except MilvusException as exc:
        raise IndexBackendUnavailable(f"cannot reach Milvus at {uri} ({exc}): start it, or set "
                                      "index_backend=local") from None


@contextmanager
def _translated(step: str):
    """Turns a pymilvus error into ``IndexBackendUnavailable`` naming the step."""
    from pymilvus import MilvusException

    try:
        yield
    except MilvusException as exc:
        raise IndexBackendUnavailable(f"Milvus {step} failed: {exc}") from exc
