"""One settings object: defaults in code, overridable from ``BOT_*`` environment variables.

Every field is documented in README.md (a test checks that), validated when constructed, and
recorded in the index manifest where it changes what the index holds.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .errors import BadSettings

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Every tunable of the product, with the default the project ships and measured."""

    model_dir: Path = ROOT / "models" / "multilingual-e5-small"
    index_dir: Path = ROOT / "index"
    corpus_dir: Path = ROOT / "corpus"
    # Chunks: characters, well under the model's 512 tokens (Korean runs ~1.3 chars a token).
    chunk_size: int = 400
    chunk_overlap: int = 80
    embed_batch_size: int = 16
    # auto: bfloat16 where the CPU computes it natively (AVX512-BF16/AMX: ~2x faster, cosine
    # >= 0.9999 to float32), else float32. docs/benchmarks.md has the measurements.
    embed_precision: str = "auto"
    # Retrieval: candidates taken from each retriever before fusion, and the dense weight of the
    # weighted sum of min-max normalised scores (chosen on data: docs/benchmarks.md).
    candidates: int = 50
    dense_weight: float = 0.6
    # English questions match Korean keywords only through the lexicon and glossary: the dense side
    # leads. 0.7 chosen on the 19 English eval questions (R@1 14 vs 13 at 0.8, 12 at 0.5).
    english_dense_weight: float = 0.7
    # ... except an English question that is little more than a Korean name of two or more words
    # (Who is Kim Jeong-tae?): its cross-lingual cosines are flat, the name in the keyword index is
    # the evidence. 0.4 chosen on the 31 English eval/dev questions with a name read (25 of 31 at
    # rank 1 at 0.4 and 0.5, 21 at 0.6 and 0.7; session 7).
    english_name_dense_weight: float = 0.4
    # Cosine at which an English word's nearest Korean index term is added to its keyword query.
    glossary_threshold: float = 0.90
    # The reader (bot/qa), which answers every question, Korean or English (docs/decisions.md,
    # sessions 21 and 23): its model folder, assembled by `make model` from weights/, and the
    # passages it reads per question (the best retrieved). It refuses when its best span's margin
    # (span score minus the passage's no-answer score) is below reader_threshold. Both were chosen
    # on the KorQuAD tune articles as the product reads, read_passages at a time
    # (`bot eval --korquad --articles tune --choose-threshold`; docs/decisions.md, sessions 20 and 22).
    reader_dir: Path = ROOT / "models" / "reader"
    # English questions are read by the English reader: the Korean one continued on English
    # questions over Korean passages, assembled over it by `make model` (docs/decisions.md,
    # session 28). Unset (BOT_READER_EN_DIR=none), English questions go to the Korean reader.
    reader_en_dir: Path | None = ROOT / "models" / "reader-en"
    # auto (as embed_precision), float32 or bfloat16 (int8 dynamic quantisation was measured and
    # rejected: docs/benchmarks.md)
    reader_precision: str = "auto"
    read_passages: int = 3
    reader_threshold: float = 7.0
    # The same for an English question (the English reader's margin): the value that answers most
    # English development questions right while refusing 90 % of the unanswerable ones
    # (`bot eval --choose-threshold`; docs/decisions.md, sessions 21, 22, 28 and 30).
    reader_threshold_en: float = 7.75
    # The span that answers: its margin less this for each place its passage stands below the
    # first retrieved, chosen on the KorQuAD tune articles (docs/benchmarks.md, session 18).
    reader_rank_prior: float = 1.5
    max_question_chars: int = 500
    top_k: int = 5
    llm_url: str | None = None  # an OpenAI-compatible chat endpoint; off by default
    llm_model: str = "default"  # the model name sent to that endpoint
    llm_timeout: float = 20.0  # seconds before the extractive answer is used instead
    # App guards, kept per server process and keyed by the client's address (bot/guards.py):
    # questions one client may ask per minute, and all clients together (about what two cores
    # answer: a question takes ~0.45 s, docs/benchmarks.md).
    rate_limit_per_minute: int = 10
    rate_limit_total_per_minute: int = 120
    # Reverse proxies in front of the app whose X-Forwarded-For is believed; 0: the TCP peer is
    # the client (a header a client sends itself is never believed).
    trusted_proxies: int = 0
    # Staff pages appear only with a password; a login lasts this long in the browser (a signed
    # cookie), across pages, tabs and reloads: a working day.
    staff_password: str | None = None
    staff_session_hours: float = 8.0
    # HTTP API (bot/api.py): staff operations (upload, remove) take this bearer token and are absent
    # when it is unset; browsers on these origins (comma-separated) may call it: CORS is off unless set.
    api_token: str | None = None
    cors_origins: str | None = None
    # Follow-up conversations the API keeps by id (the Kakao skill's by user): forgotten after this
    # many idle minutes, and past max_conversations the least recently used is dropped (~4 KB each).
    conversation_minutes: float = 30.0
    max_conversations: int = 10_000
    # Kakao i Open Builder gives a skill 5 s in all; an answer not ready after this many seconds is
    # replaced by "send it again", and the retry gets the answer computed meanwhile.
    kakao_answer_seconds: float = 3.5
    # Where the hybrid search runs: "local" (FAISS and bm25s in this process) or "milvus" (a Milvus
    # server at milvus_uri, e.g. http://127.0.0.1:19530, shared by replicas; docs/scale-out.md).
    index_backend: str = "local"
    milvus_uri: str | None = None

    def __post_init__(self) -> None:
        if self.chunk_size < 50:
            raise BadSettings(f"chunk_size ({self.chunk_size}) must be at least 50 characters")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise BadSettings(
                f"chunk_overlap ({self.chunk_overlap}) must be >= 0 and smaller than "
                f"chunk_size ({self.chunk_size})")
        for name in ("dense_weight", "english_dense_weight", "english_name_dense_weight", "glossary_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise BadSettings(f"{name} ({getattr(self, name)}) must be between 0 and 1")
        if self.candidates < 1 or self.top_k < 1 or self.embed_batch_size < 1 or self.read_passages < 1:
            raise BadSettings("candidates, top_k, read_passages and embed_batch_size must be positive")
        if self.reader_rank_prior < 0:
            raise BadSettings(f"reader_rank_prior ({self.reader_rank_prior}) must be at least 0")
        if self.embed_precision not in ("auto", "float32", "bfloat16"):
            raise BadSettings(f"embed_precision ({self.embed_precision!r}) must be auto, float32 or bfloat16")
        if self.reader_precision not in ("auto", "float32", "bfloat16"):
            raise BadSettings(f"reader_precision ({self.reader_precision!r}) must be auto, float32 or bfloat16")
        if self.rate_limit_per_minute < 1 or self.rate_limit_total_per_minute < 1:
            raise BadSettings("rate_limit_per_minute and rate_limit_total_per_minute must be at least 1")
        if not 0 <= self.trusted_proxies <= 10:
            raise BadSettings(f"trusted_proxies ({self.trusted_proxies}) must be between 0 and 10: "
                              "the number of reverse proxies in front of the app")
        if not 0 < self.staff_session_hours <= 24 * 30:
            raise BadSettings(f"staff_session_hours ({self.staff_session_hours}) must be above 0 and "
                              "at most 720 (30 days)")
        if self.api_token is not None and len(self.api_token) < 16:
            raise BadSettings("api_token must be at least 16 characters: generate one with "
                              "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
        for origin in (self.cors_origins or "").split(","):
            origin = origin.strip()
            if origin and origin != "*" and not origin.startswith(("http://", "https://")):
                raise BadSettings(f"cors_origins: {origin!r} is not an origin like https://www.example.go.kr")
        if not 0 < self.conversation_minutes <= 24 * 60:
            raise BadSettings(f"conversation_minutes ({self.conversation_minutes}) must be above 0 and at most 1440")
        if not 1 <= self.max_conversations <= 1_000_000:
            raise BadSettings(f"max_conversations ({self.max_conversations}) must be from 1 to 1,000,000")
        if not 0.5 <= self.kakao_answer_seconds <= 4.5:
            raise BadSettings(f"kakao_answer_seconds ({self.kakao_answer_seconds}) must be from 0.5 to 4.5: "
                              "Kakao waits 5 s for the whole reply")
        if self.index_backend not in ("local", "milvus"):
            raise BadSettings(f"index_backend ({self.index_backend!r}) must be local or milvus")
        if self.index_backend == "milvus" and not (self.milvus_uri or "").startswith(("http://", "https://", "tcp://")):
            raise BadSettings(f"index_backend=milvus needs milvus_uri, a server address like "
                              f"http://127.0.0.1:19530 (not {self.milvus_uri!r}); or set index_backend=local")
        if self.max_question_chars < 10:
            raise BadSettings(f"max_question_chars ({self.max_question_chars}) is too small")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        """Defaults, then ``BOT_<FIELD>`` variables, then explicit overrides (CLI flags)."""
        environ = dict(os.environ if environ is None else environ)
        values: dict = {}
        for f in fields(cls):
            raw = environ.get(f"BOT_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("model_dir", "index_dir", "corpus_dir", "reader_dir", "reader_en_dir"):
            if key in values:
                values[key] = None if str(values[key]).lower() == "none" else Path(values[key])
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


def _parse(name: str, type_name, raw: str):
    type_name = str(type_name)
    try:
        if type_name.startswith("int"):
            return int(raw)
        if type_name.startswith("float"):
            return float(raw)
    except ValueError:
        raise BadSettings(f"BOT_{name.upper()}={raw!r} is not a number") from None
    return raw


SETTING_NAMES = tuple(f.name for f in fields(Settings))
