"""Pixel values and their conversions, written once (a core helper: io, faces, models, analysis,
evaluation and training all convert through it).

The project's three pixel ranges:

* **levels**: integer samples, ``uint8`` (0..255) or ``uint16`` (0..65535), as decoded photos
  and written outputs hold them; 16-bit goes to 8-bit as ``round(v / 257)``, 8-bit to 16-bit as
  ``v * 257``;
* **unit**: float32 in [0, 1], ``levels / 255`` (or ``/ 65535``), for the stage's pixel maps;
* **signed**: float32 tensors in [-1, 1], ``levels / 127.5 - 1``, what every network reads and
  writes; back to 8-bit levels as ``round((clamp(t, -1, 1) + 1) * 127.5)``.

Luma is ITU-R BT.601 (Pillow's "L" conversion): ``0.299 R + 0.587 G + 0.114 B``, the greyscale of
the one-channel models, of the luminance paste-back and of greyscale outputs; Y, Cb, Cr are its
chroma-centred companions (the stage's colour maps).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported where a tensor is converted: importing this module is light
    import torch

# ITU-R BT.601 luma weights (R, G, B): greyscale models, luminance paste-back, luma layers.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)
# BT.601 RGB -> Y, Cb, Cr (chroma centred on 0; same units as the input) and back.
RGB_TO_YCC = np.array([LUMA_WEIGHTS, [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
YCC_TO_RGB = np.linalg.inv(RGB_TO_YCC)

_LUMA32 = np.asarray(LUMA_WEIGHTS, np.float32)


# --------------------------------------------------------------------------------------------
# Integer levels


def pixel_max(dtype) -> float:
    """The largest level of ``dtype``: 255.0 for uint8, 65535.0 for uint16 (TypeError otherwise)."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return 255.0
    if dtype == np.uint16:
        return 65535.0
    raise TypeError(f"expected uint8 or uint16 pixels, got {dtype}")


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Return ``array`` as uint8: unchanged if it already is, round(v / 257) if uint16."""
    if array.dtype == np.uint8:
        return array
    if array.dtype != np.uint16:
        raise TypeError(f"expected uint8 or uint16 pixels, got {array.dtype}")
    wide = array.astype(np.uint32)
    wide += 128
    wide //= 257
    return wide.astype(np.uint8)


def to_uint16(array: np.ndarray) -> np.ndarray:
    """Return ``array`` as uint16: unchanged if it already is, v * 257 if uint8."""
    return array if array.dtype == np.uint16 else array.astype(np.uint16) * np.uint16(257)


def to_unit(pixels: np.ndarray) -> np.ndarray:
    """uint8 / uint16 levels -> float32 in [0, 1] (``levels / pixel_max``)."""
    return pixels.astype(np.float32) / pixel_max(pixels.dtype)


def from_unit(x: np.ndarray, dtype) -> np.ndarray:
    """Float in [0, 1] -> ``dtype`` (uint8 / uint16) levels, rounded to nearest and clipped."""
    unit = pixel_max(dtype)
    return np.clip(np.rint(x * unit), 0, unit).astype(dtype)


# --------------------------------------------------------------------------------------------
# Network tensors in [-1, 1]


def levels_to_signed(levels: torch.Tensor | np.ndarray) -> torch.Tensor:
    """8-bit levels (a uint8 or float tensor or array of 0..255, any shape and layout) -> a new
    float32 tensor in [-1, 1] (``levels / 127.5 - 1``) on the input's device."""
    import torch

    if torch.is_tensor(levels):
        x = levels.float()
        if x is levels:  # already float32: never change the caller's tensor
            x = x.clone()
    else:
        x = torch.from_numpy(np.array(levels, dtype=np.float32))  # a copy, writable
    return x.div_(127.5).sub_(1.0)


def signed_to_levels(t: torch.Tensor) -> torch.Tensor:
    """A tensor in [-1, 1] -> float32 0..255, clamped first, not rounded (``(t + 1) * 127.5``)."""
    return t.float().clamp(-1, 1).add(1.0).mul(127.5)


def signed_to_uint8(t: torch.Tensor) -> torch.Tensor:
    """A tensor in [-1, 1] -> uint8 levels, same shape and device: round((clamp(t) + 1) * 127.5)."""
    return signed_to_levels(t).round().byte()


def signed_to_unit(t: torch.Tensor) -> torch.Tensor:
    """A tensor in [-1, 1] -> [0, 1] (``(t + 1) / 2``), not clamped."""
    return (t + 1) / 2


def unit_to_signed(u: torch.Tensor) -> torch.Tensor:
    """A tensor in [0, 1] -> [-1, 1] (``u * 2 - 1``), not clamped."""
    return u * 2 - 1


# --------------------------------------------------------------------------------------------
# Luma and Y, Cb, Cr


def luma(x: np.ndarray) -> np.ndarray:
    """BT.601 luma of channels-last RGB ``x`` (..., 3) -> (...), in ``x``'s units (float32 for
    integer or float32 input)."""
    return x @ _LUMA32


def luma_of(pixels: np.ndarray) -> np.ndarray:
    """Float32 luma of ``pixels`` (H, W) grey or (H, W, C) with RGB first, in their units: a grey
    image as it is, else :func:`luma` of its first three channels (an alpha channel left out)."""
    x = pixels.astype(np.float32, copy=False)
    return x if x.ndim == 2 else luma(x[..., :3])


def luma_levels(pixels: np.ndarray) -> np.ndarray:
    """BT.601 luma of (..., 3) uint8 / uint16 RGB levels, rounded, same dtype (Pillow's L)."""
    return np.clip(np.rint(luma(pixels.astype(np.float32))), 0, pixel_max(pixels.dtype)).astype(pixels.dtype)


def luma_tensor(x: torch.Tensor) -> torch.Tensor:
    """BT.601 luma of a channels-first RGB tensor (B, 3, H, W) -> (B, 1, H, W), in ``x``'s dtype."""
    import torch

    w = torch.tensor(LUMA_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def rgb_to_ycc(x: np.ndarray) -> np.ndarray:
    """(..., 3) RGB -> (..., 3) Y, Cb, Cr (BT.601, chroma centred on 0), float32."""
    return (x @ RGB_TO_YCC.T.astype(np.float32)).astype(np.float32)


def ycc_to_rgb(x: np.ndarray) -> np.ndarray:
    """(..., 3) Y, Cb, Cr -> (..., 3) RGB, float32 (the inverse of :func:`rgb_to_ycc`)."""
    return (x @ YCC_TO_RGB.T.astype(np.float32)).astype(np.float32)
