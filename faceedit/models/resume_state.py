"""Resume state: what resuming a run needs (model and optimiser state, step, extras), in the
safetensors file layer of :mod:`faceedit.models.checkpoint`, never pickled.

Tensors become safetensors entries and everything else a JSON skeleton in the header key
``faceedit.training_state``, rebuilt exactly on load (tuples, dicts keyed by int, numbers, None).
Every loading failure raises ``CheckpointError(reason, path)`` with a one-line reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from faceedit import __version__
from faceedit.errors import CheckpointError
from faceedit.models.checkpoint import (
    read_verified,
    tensors_sha256,
    utc_now,
    write_safetensors,
)
from faceedit.models.header import (
    FORMAT_VERSION,
    PREFIX,
    RESUME_STATE_KEY,
    TENSORS_HASH_KEY,
    check_format,
    one_line,
)


@dataclass
class ResumeState:
    """What ``save_resume_state`` stored, rebuilt with the original Python types."""

    model_state: Any
    optimizer_state_dicts: dict[str, Any]
    step: int
    extra: dict[str, Any]
    sha256: str
    path: str


def save_resume_state(
    path: str | os.PathLike,
    model_state: Any,
    optimizer_state_dicts: Mapping[str, Any],
    step: int,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Save everything needed to resume training, without pickle; returns the file's sha256.

    ``model_state`` is a state dict, or a dict of state dicts (e.g. ``{"G": ..., "D": ...}``);
    ``optimizer_state_dicts`` maps names to ``optimizer.state_dict()`` (GradScaler and scheduler
    state dicts work too). ``extra`` may hold any nesting of dicts (str/int/float/bool/None
    keys), lists, tuples, tensors (e.g. ``torch.get_rng_state()``), numbers, strings and None.
    Tensors keep their dtype; everything is rebuilt with its original types on load.
    """
    tensors: dict[str, torch.Tensor] = {}
    skeleton = _encode(
        {
            "model": model_state,
            "optimizers": dict(optimizer_state_dicts),
            "step": int(step),
            "extra": dict(extra or {}),
        },
        "",
        tensors,
    )
    header = {
        PREFIX + "format": FORMAT_VERSION,
        PREFIX + "version": __version__,
        PREFIX + "created": utc_now(),
        RESUME_STATE_KEY: json.dumps(skeleton),
        TENSORS_HASH_KEY: tensors_sha256(tensors),
    }
    return write_safetensors(path, tensors, header)


def load_resume_state(
    path: str | os.PathLike,
    *,
    expected_sha256: str | None = None,
    device: str | torch.device = "cpu",
) -> ResumeState:
    """Load what ``save_resume_state`` wrote. Pass ``optimizer_state_dicts[name]`` to
    ``optimizer.load_state_dict`` (it moves state to the parameters' device)."""
    tensors, header, sha = read_verified(path, expected_sha256)
    if RESUME_STATE_KEY not in header:
        raise CheckpointError(
            "not a faceedit resume state (no faceedit.training_state metadata)", path
        )
    check_format(header, path)
    tensors = {k: v.to(device) for k, v in tensors.items()}
    try:
        state = _decode(json.loads(header[RESUME_STATE_KEY]), tensors)
        return ResumeState(
            model_state=state["model"],
            optimizer_state_dicts=state["optimizers"],
            step=int(state["step"]),
            extra=state["extra"],
            sha256=sha,
            path=os.fspath(path),
        )
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(
            f"bad faceedit.training_state metadata: {one_line(e)}", path
        ) from None


_TENSOR_TAG, _TUPLE_TAG, _DICT_TAG = "__tensor__", "__tuple__", "__dict__"
_TAGS = (_TENSOR_TAG, _TUPLE_TAG, _DICT_TAG)


def _encode(obj: Any, key: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Turn ``obj`` into a JSON-able skeleton, moving tensors into ``tensors`` under path keys.

    Tensors become ``{"__tensor__": key}``, tuples ``{"__tuple__": [...]}``, dicts with non-str
    keys (optimizer state is keyed by int) ``{"__dict__": [[k, v], ...]}``.
    """

    def child(k: Any) -> str:
        return f"{key}/{k}" if key else str(k)

    if isinstance(obj, torch.Tensor):
        if key in tensors:
            raise ValueError(f"two entries map to the tensor name {key!r}")
        tensors[key] = obj.detach().to("cpu").clone(memory_format=torch.contiguous_format)
        return {_TENSOR_TAG: key}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, tuple):
        return {_TUPLE_TAG: [_encode(v, child(i), tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, child(i), tensors) for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        plain = all(isinstance(k, str) for k in obj) and not (
            len(obj) == 1 and next(iter(obj)) in _TAGS
        )
        if plain:
            return {k: _encode(v, child(k), tensors) for k, v in obj.items()}
        items = []
        for k, v in obj.items():
            if not (k is None or isinstance(k, (bool, int, float, str))):
                raise TypeError(f"cannot store a dict key of type {type(k).__name__} at {key!r}")
            items.append([k, _encode(v, child(k), tensors)])
        return {_DICT_TAG: items}
    raise TypeError(
        f"cannot store a value of type {type(obj).__name__} at {key!r} in a resume state"
    )


def _decode(node: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    """Inverse of ``_encode``."""
    if isinstance(node, list):
        return [_decode(v, tensors) for v in node]
    if isinstance(node, dict):
        if len(node) == 1:
            ((tag, value),) = node.items()
            if tag == _TENSOR_TAG:
                if value not in tensors:
                    raise KeyError(f"missing tensor {value!r}")
                return tensors[value]
            if tag == _TUPLE_TAG:
                return tuple(_decode(v, tensors) for v in value)
            if tag == _DICT_TAG:
                return {k: _decode(v, tensors) for k, v in value}
        return {k: _decode(v, tensors) for k, v in node.items()}
    return node
