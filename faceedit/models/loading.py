"""Loading models: a registered name or a ``.safetensors`` path in, a model in eval mode out
(:func:`load_model`; :func:`load_as` gives the model alone, checked to be of the kind asked
for, and ``EditModel.save_pretrained`` writes one).

A model loaded by name and the same file loaded by path get the same spec: both read the
checkpoint header for everything used at inference (:meth:`ModelSpec.with_header`).

Importing this module imports no torch: :func:`list_models` reads the registry's declarations
and the checkpoint headers alone (``faceedit models``); torch and the method's network module
come with the first :func:`load_model`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from faceedit.errors import CheckpointError, UsageError
from faceedit.models import registry
from faceedit.models.header import CheckpointMeta
from faceedit.models.hub import resolve_weights
from faceedit.models.options import model_options
from faceedit.models.registry import (
    ModelSpec,
    get_spec,
    import_method_modules,
    looks_like_path,
    model_names,
    spec_from_meta,
)

if TYPE_CHECKING:
    import torch

    from faceedit.models.base import EditModel
    from faceedit.models.checkpoint import Checkpoint

M = TypeVar("M")


@dataclass
class LoadedModel:
    """A model ready for inference (eval mode) with its spec and checkpoint metadata."""

    model: EditModel
    spec: ModelSpec
    meta: CheckpointMeta
    path: str


def load_model(
    name_or_path: str | os.PathLike,
    *,
    device: str | torch.device = "cpu",
    allow_download: bool = True,
) -> LoadedModel:
    """Load a registered model by name, or any faceedit ``.safetensors`` checkpoint by path.

    The architecture is built from ``ARCHS[arch](default_config | checkpoint config)``; weights
    are verified (file sha256 when the spec knows it, else the tensor hash), loaded strictly in the
    model's dtype (float32), and the model is moved to ``device`` in eval mode.
    """
    name_or_path = os.fspath(name_or_path)
    if looks_like_path(name_or_path):
        ck = load_checkpoint(name_or_path)
        spec = spec_from_meta(ck.meta, name_or_path)
    else:
        registered = get_spec(name_or_path)
        path = resolve_weights(registered, allow_download=allow_download)
        ck = load_checkpoint(path, expected_sha256=registered.source.sha256)
        if ck.meta.arch != registered.arch:
            raise CheckpointError(f"checkpoint does not match model {registered.name!r}: architecture "
                                  f"{ck.meta.arch!r} (registry: {registered.arch!r})", ck.path)
        spec = registered.with_header(ck.meta)  # e.g. a Hub file fetched just now
    model = build(ck.meta.arch, {**spec.default_config, **ck.meta.config}, ck.path)
    _load_weights(model, ck.tensors, ck.path)
    model.to(device).eval()
    return LoadedModel(model=model, spec=spec, meta=ck.meta, path=ck.path)


def load_as(kind: type[M], name_or_path: str | os.PathLike, *, device: str | torch.device = "cpu",
            allow_download: bool = True) -> M:
    """The model alone of a registered name or a ``.safetensors`` path, in eval mode on ``device``
    (:func:`load_model`, which also gives its spec and header). UsageError when the checkpoint
    holds another kind of model than ``kind`` (an ``EditModel`` subclass, or the stage's
    ``Stage``: ``Stage.from_pretrained`` calls this)."""
    model = load_model(name_or_path, device=device, allow_download=allow_download).model
    if not isinstance(model, kind):
        raise UsageError(f"{os.fspath(name_or_path)} holds a {type(model).__name__}, not a {kind.__name__}")
    return model


def load_checkpoint(path: str | os.PathLike, *, expected_sha256: str | None = None) -> Checkpoint:
    """:func:`faceedit.models.checkpoint.load_checkpoint`, that module (and torch) imported by
    the first load rather than with this one."""
    from faceedit.models import checkpoint

    return checkpoint.load_checkpoint(path, expected_sha256=expected_sha256)


def build(arch: str, config: dict[str, Any], path: str | os.PathLike) -> EditModel:
    """``ARCHS[arch](config)``; CheckpointError naming ``path`` when it cannot be built."""
    if arch not in registry.ARCHS:
        import_method_modules()
    if arch not in registry.ARCHS:
        known = ", ".join(sorted(registry.ARCHS)) or "none"
        raise CheckpointError(f"unknown architecture {arch!r}; known: {known}", path)
    try:
        return registry.ARCHS[arch](config)
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(
            f"cannot build architecture {arch!r} from its config: {type(e).__name__}: {e}", path
        ) from None


def _load_weights(model: EditModel, tensors: dict[str, torch.Tensor], path: str | os.PathLike) -> None:
    """Strict load; key or shape mismatches are reported with the first few offending keys (those
    of a part built on first use when it is built: ``EditModel.hold_parts``)."""
    from faceedit.models.base import EditModel

    if isinstance(model, EditModel):
        model.hold_parts(tensors)
    expected = model.state_dict()
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    shapes = [f"{k} {tuple(tensors[k].shape)} vs model {tuple(v.shape)}"
              for k, v in expected.items() if k in tensors and tensors[k].shape != v.shape]
    problems = [f"{label}: {_first_few(items)}" for label, items in (
        ("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatch", shapes)) if items]
    if problems:
        raise CheckpointError("weights do not fit the architecture: " + "; ".join(problems), path)
    cast = {k: v.to(expected[k].dtype) if v.is_floating_point() else v for k, v in tensors.items()}
    try:
        model.load_state_dict(cast, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"weights do not fit the architecture: {str(e).splitlines()[0]}", path) from None


def _first_few(items: list[str], n: int = 3) -> str:
    more = f" (+{len(items) - n} more)" if len(items) > n else ""
    return ", ".join(items[:n]) + more


def _with_default(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """A refiner's manifest entry with ``default_on`` read from its installed checkpoint's header
    (None where it is not installed)."""
    if entry is None:
        return None
    from faceedit.models.header import read_meta
    from faceedit.weights import weights_dir

    on = bool(read_meta(weights_dir() / entry["file"]).config.get("default_on")) if entry["present"] else None
    return {**entry, "default_on": on}


def list_models() -> list[dict[str, Any]]:
    """One row per registered model for ``faceedit models`` (JSON-able). ``conditions`` in the
    words the command line takes: a binary attribute's data labels ``["False", "True"]`` are
    shown as ``["off", "on"]`` (``--attr glasses=on``)."""
    from faceedit.weights import refiner_entry

    binary = {"False": "off", "True": "on"}
    rows = []
    for name in model_names():
        spec = get_spec(name)
        local = spec.source.local_path()
        options = model_options(name)
        conditions = {
            key: [binary[v] for v in values]
            if isinstance(values, list) and values and set(values) <= set(binary) else values
            for key, values in (spec.conditions or {}).items()
        }
        targets = options.all_targets() if options is not None else list(spec.targets or [])
        network = options.network_targets(spec.stage_only) if options is not None else None
        rows.append({
            "name": spec.name,
            "method": spec.method,
            # every target -t takes: the network's, then those its stage applies alone
            # (neutral, keep...); [] until a Hub file is fetched
            "targets": targets,
            # of those, the targets the network is run for and those the stage draws alone
            # (an output of these is the stage's edit; None: not known until fetched)
            "network_targets": network,
            "stage_targets": None if network is None else [t for t in targets if t not in network],
            # the targets the header leaves to the stage: the network's change spoilt them (see the card)
            "stage_only": list(spec.stage_only),
            "conditions": conditions,
            "options": None if options is None else options.summary(),  # None until fetched
            "image_size": spec.image_size,
            "channels": spec.channels,
            "weights": spec.source.describe(),
            "present": local is not None,
            "file_size_bytes": local.stat().st_size if local is not None else None,
            "license": spec.license,
            "description": spec.description,
            # the method's refiner of what the stage invents (--set refine=on|off), or None; with
            # default_on (its checkpoint's config: on without --set refine=on) where installed
            "refiner": _with_default(refiner_entry(spec.name)),
        })
    return rows
