"""Choosing the torch device and the inference autocast dtype (a core helper: the API, the
training loop and the CLI all resolve ``--device`` / ``--precision`` through it)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from faceedit.errors import UsageError

if TYPE_CHECKING:  # torch is imported where a device is resolved: the CLI reads DEVICES at its start
    import torch

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
# Other words for the same choices: training's ``--amp off`` is inference's ``--precision fp32``.
PRECISION_ALIASES = {"off": "fp32"}
CUDA_INDEX = re.compile(r"cuda:\d+")
"""The form of a device that names one CUDA GPU (``cuda:0``), beside :data:`DEVICES`."""

_logger = logging.getLogger("faceedit")  # faceedit.log's logger, by name: the two are independent
_said_cpu_autocast: set[str] = set()  # the CPU autocast precisions already said in the log


def resolve_device(name: str = "auto") -> torch.device:
    """auto: CUDA, then Apple MPS, then CPU. An explicit device that is absent is a usage error."""
    import torch

    if name not in DEVICES and not CUDA_INDEX.fullmatch(name):
        raise UsageError(f"unknown `device` {name!r}; valid: {', '.join(DEVICES)}, cuda:N")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"`device` {name}: CUDA is not available on this machine")
    if name == "mps" and not (
        getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    ):
        raise UsageError("`device` mps: Apple MPS is not available on this machine")
    return torch.device(name)


def autocast_dtype(device: torch.device, precision: str = "auto", *, option: str = "`precision`"
                   ) -> torch.dtype | None:
    """The autocast dtype, or None for full fp32, for inference (``--precision``) and training
    (``--amp``) alike. auto = bf16 (fp16 where bf16 is unsupported) on CUDA, fp32 elsewhere (CPU
    autocast is slower than fp32 for these small convnets); ``off`` = ``fp32``. ``option`` names
    the setting in the usage error."""
    import torch

    precision = PRECISION_ALIASES.get(precision, precision)
    if precision not in PRECISIONS:
        raise UsageError(f"unknown {option} {precision!r}; valid: {', '.join(PRECISIONS)} (off = fp32)")
    if precision == "fp32" or device.type == "cpu" and precision == "auto":
        return None
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return None
    if device.type == "cpu" and precision not in _said_cpu_autocast:
        _said_cpu_autocast.add(precision)
        _logger.info("%s %s on the CPU: torch's CPU autocast covers only convolutions and matrix "
                     "products, and is no faster than fp32; a network without them gives fp32's "
                     "pixels (auto: fp32 on the CPU)", option, precision)
    return torch.float16 if precision == "fp16" else torch.bfloat16
