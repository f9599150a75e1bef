"""Saving and loading the analysis networks: safetensors with ``faceedit.*`` metadata, the same
verified format as the edit models, looked up by *kind* in the shipped weights folder.

A kind names a network family (``expression``, ``lighting``, ``identity``, ``parser``,
``quality``); its module registers a builder ``config -> nn.Module`` with ``@register_analysis``.
``load_analysis(kind)`` finds ``weights/<kind>.safetensors`` (or takes a path), verifies the tensor
hash, builds the network from the stored config and returns it in eval mode with its metadata.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from faceedit.errors import CheckpointError
from faceedit.models.checkpoint import load_checkpoint, save_checkpoint
from faceedit.models.header import CheckpointMeta, read_meta

ANALYSIS_ARCH_PREFIX = "analysis/"
_BUILDERS: dict[str, Callable[[dict], nn.Module]] = {}
# Modules that register each kind (imported on first use).
KIND_MODULES = {
    "expression": "faceedit.analysis.classify",
    "lighting": "faceedit.analysis.classify",
    "identity": "faceedit.analysis.identity",
    "parser": "faceedit.analysis.parser",
    "quality": "faceedit.analysis.quality",
}
_cache: dict[tuple[str, str], tuple[nn.Module, CheckpointMeta]] = {}
_lock = threading.Lock()


def register_analysis(kind: str) -> Callable[[Callable[[dict], nn.Module]], Callable[[dict], nn.Module]]:
    def decorate(builder: Callable[[dict], nn.Module]) -> Callable[[dict], nn.Module]:
        _BUILDERS[kind] = builder
        return builder

    return decorate


def build_analysis(kind: str, config: dict) -> nn.Module:
    if kind not in _BUILDERS and kind in KIND_MODULES:
        importlib.import_module(KIND_MODULES[kind])
    if kind not in _BUILDERS:
        raise ValueError(f"unknown analysis network {kind!r}; known: {', '.join(sorted(KIND_MODULES))}")
    return _BUILDERS[kind](dict(config))


def analysis_path(kind: str) -> Path:
    from faceedit.weights import shipped_file

    return shipped_file(kind)


def analysis_available(kind: str) -> bool:
    return analysis_path(kind).is_file()


def save_analysis(
    path: str | os.PathLike,
    net: nn.Module,
    *,
    kind: str,
    config: dict,
    labels: list[str] | None = None,
    image_size: int,
    channels: int,
    training_data: str,
    license: str,
    metrics: dict,
    extra: dict[str, Any] | None = None,
    dtype: torch.dtype | None = torch.float16,
) -> str:
    """Write a trained analysis network; returns the file's sha256. Buffers (batch-norm
    statistics) are stored too; integer buffers keep their dtype."""
    meta = CheckpointMeta(
        arch=ANALYSIS_ARCH_PREFIX + kind,
        config=config,
        conditions=list(labels or []),
        image_size=image_size,
        channels=channels,
        training_data=training_data,
        license=license,
        metrics=metrics,
        extra=dict(extra or {}),
    )
    return save_checkpoint(path, net.state_dict(), meta, dtype=dtype)


def load_analysis(
    kind_or_path: str | os.PathLike, *, device: str | torch.device = "cpu"
) -> tuple[nn.Module, CheckpointMeta]:
    """A shipped (``kind``) or saved (path) analysis network, in eval mode, float32, with its
    metadata. Cached per (path, device): callers must not train the returned network in place
    (``copy.deepcopy`` it first)."""
    s = os.fspath(kind_or_path)
    path = Path(s) if (s.endswith(".safetensors") or os.sep in s) else analysis_path(s)
    key = (str(path.resolve()) if path.exists() else str(path), str(device))
    with _lock:
        if key in _cache:
            return _cache[key]
        if not path.is_file():
            raise CheckpointError(
                "analysis weights not found (train them with the command in weights/README.md)", path
            )
        ckpt = load_checkpoint(path, device="cpu")
        arch = ckpt.meta.arch
        if not arch.startswith(ANALYSIS_ARCH_PREFIX):
            raise CheckpointError(f"not an analysis network (arch {arch!r})", path)
        # the layers' random initialisation (overwritten by the weights) must not move the
        # caller's RNG: a seeded training run should not depend on whether an analysis network
        # was already cached in this process
        # the cache outlives the caller's mode: a network first loaded under inference_mode
        # (a measure's lazy load) would hold inference tensors that a later training step in the
        # same process cannot use (the identity loss)
        with torch.inference_mode(False):
            with torch.random.fork_rng(devices=[]):
                net = build_analysis(arch[len(ANALYSIS_ARCH_PREFIX):], ckpt.meta.config)
            tensors = {k: (v.float() if v.is_floating_point() else v) for k, v in ckpt.tensors.items()}
            try:
                net.load_state_dict(tensors)
            except RuntimeError as e:
                raise CheckpointError(f"weights do not fit the network: {str(e).splitlines()[0]}", path) from None
            net = net.to(device).eval()
        for p in net.parameters():
            p.requires_grad_(False)
        _cache[key] = (net, ckpt.meta)
        return _cache[key]


def analysis_meta(kind_or_path: str | os.PathLike) -> CheckpointMeta:
    s = os.fspath(kind_or_path)
    return read_meta(Path(s) if s.endswith(".safetensors") else analysis_path(s))


def write_card(
    weights_path: str | os.PathLike,
    *,
    title: str,
    what: str,
    command: str,
    data: list[str],
    budget: dict,
    metrics: dict,
    notes: str = "",
) -> Path:
    """Write the model card (``.md`` beside the weights) of a trained analysis network, atomically,
    through :class:`huggingface_hub.ModelCard` (licence "other": the weights carry the terms of
    their training data, spelled out in the card)."""
    import json

    from faceedit.data import DATA_LICENSES
    from faceedit.files import write_model_card
    from faceedit.models.checkpoint import file_sha256

    path = Path(weights_path)
    licence = "; ".join(DATA_LICENSES.get(n, f"{n}: see its licence") for n in sorted(set(data)))
    card = f"""# {path.stem}: {title}

{what}

- **File**: `{path.name}`, {path.stat().st_size / 1e6:.2f} MB, fp16 safetensors, sha256 `{file_sha256(path)}`
- **Training data**: {", ".join(sorted(set(data)))} (prepared with `faceedit prepare`; held-out subjects,
  20 % per set by the fixed seeded hash, never used for training)
- **Licence**: code MIT; weights carry the data terms: {licence}

## How it was trained

```
{command}
```

Budget: `{json.dumps(budget)}`

## Measured on held-out subjects

```json
{json.dumps(metrics, indent=1)}
```

{notes}
"""
    card_path = path.with_suffix(".md")
    write_model_card(card_path, card, license="other", library_name="faceedit",
                     tags=["faceedit", "face-analysis", path.stem])
    return card_path
