"""Checkpoints: safetensors files with faceedit metadata, verified on load, never unpickled.

A model checkpoint is a plain ``.safetensors`` file. Its header metadata (a string -> string map)
carries everything needed to rebuild and use the model, under ``faceedit.*`` keys:

=========================  ==================================================================
``faceedit.format``        checkpoint format version (``"1"``)
``faceedit.arch``          architecture name, a key of ``registry.ARCHS`` (required)
``faceedit.config``        JSON: the model's typed config (``faceedit.models.base.ModelConfig``),
                           written by ``save_model``
``faceedit.conditions``    JSON: list of target names, or a dict with a ``"targets"`` list plus
                           further vocabularies (lighting classes, AU names, ...)
``faceedit.image_size``    crop size in pixels
``faceedit.channels``      input channels (3 = RGB, 1 = luminance)
``faceedit.template``      JSON: the ``CropTemplate`` fields
``faceedit.training_data`` free text: what it was trained on
``faceedit.license``       licence of the weights
``faceedit.metrics``       JSON: evaluation results
``faceedit.version``       faceedit version that wrote the file
``faceedit.created``       ISO 8601 UTC time of writing
``faceedit.tensors_sha256`` content hash of the tensors (see ``tensors_sha256``)
``faceedit.<other>``       free-form extras, JSON-encoded
=========================  ==================================================================

``tensors_sha256`` catches modified tensor bytes even when no file hash is known (e.g. a
checkpoint passed by path); a known file sha256 (registry, model card) is checked as well.

Resume states (:mod:`faceedit.models.resume_state`) use the same file layer, which this
module provides: a safetensors file written atomically (:func:`write_safetensors`) and read back
verified (:func:`read_verified`: pickle refused, file and tensor hashes checked).

Every loading failure raises ``CheckpointError(reason, path)`` with a one-line reason.
``torch.load`` and ``pickle`` are never called.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from faceedit import __version__
from faceedit.errors import CheckpointError, OutputError
from faceedit.files import atomic_path
from faceedit.models.header import (
    FORMAT_VERSION,
    PICKLE_SUFFIXES,
    PREFIX,
    RESUME_STATE_KEY,
    TENSORS_HASH_KEY,
    CheckpointMeta,
    check_file,
    corrupt_reason,
)

_HASH_CHUNK = 1 << 20


@dataclass
class Checkpoint:
    """A verified, loaded checkpoint. ``sha256`` is the file's hash."""

    tensors: dict[str, torch.Tensor]
    meta: CheckpointMeta
    sha256: str
    path: str


# --------------------------------------------------------------------------------------------
# Model checkpoints
# --------------------------------------------------------------------------------------------


def save_checkpoint(
    path: str | os.PathLike,
    tensors: Mapping[str, torch.Tensor],
    meta: CheckpointMeta | Mapping[str, Any],
    *,
    dtype: torch.dtype | None = torch.float16,
) -> str:
    """Write a model checkpoint atomically and return its sha256 (hex).

    Floating tensors are cast to ``dtype`` (None keeps their dtype); a cast that overflows (finite
    values becoming inf) raises ValueError. ``format``, ``tensors_sha256``, and when empty
    ``version`` and ``created``, are filled in. The file appears complete or not at all.
    """
    meta = meta if isinstance(meta, CheckpointMeta) else CheckpointMeta.from_dict(meta)
    stored = {name: _storable(name, t, dtype) for name, t in tensors.items()}
    meta = replace(
        meta,
        format=FORMAT_VERSION,
        version=meta.version or __version__,
        created=meta.created or utc_now(),
        tensors_sha256=tensors_sha256(stored),
    )
    return write_safetensors(path, stored, meta.to_header())


def save_model(
    path: str | os.PathLike,
    model: Any,
    meta: Mapping[str, Any],
    *,
    dtype: torch.dtype | None = torch.float16,
) -> str:
    """Write ``model`` (an ``EditModel``) as a checkpoint: its state dict, and ``meta`` with the
    model's own config as ``faceedit.config`` (``model.config``: its typed config,
    ``faceedit.models.base.ModelConfig``, in header form), so what is saved is what rebuilds the
    model. A ``meta["config"]`` that differs from it raises ValueError. A model without a typed
    config (a plugin's) is saved with ``meta["config"]`` as given. Returns the file's sha256."""
    given = meta.get("config")
    if getattr(model, "cfg", None) is None:
        config = dict(given or {})
    else:
        config = dict(model.config)
        if given is not None and dict(given) != config:
            raise ValueError(f"the config given for {path} differs from the model's own config "
                             f"({_config_diff(given, config)}); leave it out: the model's is written")
    return save_checkpoint(path, model.state_dict(), {**meta, "config": config}, dtype=dtype)


def _config_diff(given: Mapping[str, Any], own: Mapping[str, Any]) -> str:
    keys = [k for k in dict.fromkeys([*given, *own]) if given.get(k, ...) != own.get(k, ...)]
    return ", ".join(f"{k}: {given.get(k, '(absent)')!r} vs {own.get(k, '(absent)')!r}"
                     for k in keys[:3])


def load_checkpoint(
    path: str | os.PathLike,
    *,
    expected_sha256: str | None = None,
    device: str | torch.device = "cpu",
) -> Checkpoint:
    """Load and verify a model checkpoint (the file hash against ``expected_sha256`` where given,
    else the tensors' hash against the one its header stores: :func:`read_verified`)."""
    tensors, header, sha = read_verified(path, expected_sha256)
    try:
        meta = CheckpointMeta.from_header(header)
    except ValueError as e:
        raise CheckpointError(str(e), path) from None
    tensors = {k: v.to(device) for k, v in tensors.items()}
    return Checkpoint(tensors=tensors, meta=meta, sha256=sha, path=os.fspath(path))


def tensors_sha256(tensors: Mapping[str, torch.Tensor]) -> str:
    """Content hash of a tensor dict: for each name in sorted order, a JSON line
    ``[name, dtype, shape]`` followed by the tensor's raw (little-endian, C-order) bytes."""
    h = hashlib.sha256(b"faceedit-tensors-v1\n")
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        dtype = str(t.dtype).removeprefix("torch.")
        h.update(json.dumps([name, dtype, list(t.shape)]).encode() + b"\n")
        h.update(t.reshape(-1).view(torch.uint8).numpy().data)
    return h.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 (hex) of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# File level: atomic write, checks, verified read
# --------------------------------------------------------------------------------------------


def _storable(name: str, t: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    """A fresh contiguous CPU copy of ``t``, floating tensors cast to ``dtype``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"tensor names must be non-empty strings, got {name!r}")
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name!r} is a {type(t).__name__}, not a tensor")
    src = t.detach().to("cpu")
    out = src.to(dtype) if dtype is not None and src.is_floating_point() else src
    if out.dtype != src.dtype and torch.isfinite(src).all() and not torch.isfinite(out).all():
        raise ValueError(f"tensor {name!r} overflows {dtype}; save with a wider dtype")
    return out.clone(memory_format=torch.contiguous_format)


def write_safetensors(
    path: str | os.PathLike, tensors: dict[str, torch.Tensor], header: dict[str, str]
) -> str:
    """Write a safetensors file atomically (:func:`faceedit.files.atomic_path`: a temp file in
    the same folder, fsync, rename), then sync the folder so the rename persists; returns the
    file's sha256."""
    path = Path(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise ValueError(
            f"{path}: use a .safetensors name; {path.suffix} files are refused on load"
        )
    try:
        with atomic_path(path) as tmp:
            save_file(tensors, tmp, metadata=header)
            sha = file_sha256(tmp)
    except OutputError as e:
        # saving raises the OSError itself (as it always has; callers and tests expect it)
        if isinstance(e.__cause__, OSError):
            raise e.__cause__ from None
        raise
    _fsync_dir(path.parent)
    return sha


def _fsync_dir(folder: Path) -> None:
    """Persist a rename (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_verified(
    path: str | os.PathLike, expected_sha256: str | None
) -> tuple[dict[str, torch.Tensor], dict[str, str], str]:
    """Checks, file hash, parse, tensor hash. Returns CPU tensors, header metadata, file sha256.
    A file whose sha256 is ``expected_sha256`` (a manifest's: the very bytes shipped, whose
    stored tensor hash the tests check, ``tests/test_models_checkpoint.py``) is not hashed again
    tensor by tensor: its sha256 covers those bytes (15 of reggan's 43 ms here)."""
    check_file(path)
    sha = file_sha256(path)
    named = bool(expected_sha256 and sha == expected_sha256.strip().lower())
    if expected_sha256 and not named:
        raise CheckpointError(
            f"sha256 mismatch: expected {expected_sha256.strip().lower()}, got {sha} "
            "— file is corrupt or was modified",
            path,
        )
    try:
        with safe_open(os.fspath(path), framework="pt", device="cpu") as f:
            header = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    except Exception as e:  # safetensors raises SafetensorError (and OSError) on bad input
        raise CheckpointError(corrupt_reason(e), path) from None
    if PREFIX + "arch" not in header and RESUME_STATE_KEY not in header:
        raise CheckpointError("not a faceedit checkpoint (no faceedit.arch metadata)", path)
    stored = header.get(TENSORS_HASH_KEY, "")
    if not stored:
        raise CheckpointError(
            "no faceedit.tensors_sha256 metadata; cannot verify the tensors", path
        )
    actual = stored if named else tensors_sha256(tensors)
    if actual != stored:
        raise CheckpointError(
            f"tensors_sha256 mismatch: expected {stored}, got {actual} "
            "— tensor data is corrupt or was modified",
            path,
        )
    return tensors, header, sha


def utc_now() -> str:
    """The time of writing for a header: ISO 8601, UTC, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
