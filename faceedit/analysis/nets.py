"""The small backbone the analysis networks share, their input convention, and batched inference.

The backbone's code lives in :mod:`faceedit.models.layers` (SeCGAN's source network is one too,
and models sit below analysis); re-exported here. ``predict`` runs a network over many crops.

Inputs are face crops aligned to the default template, ``(B, C, H, W)`` in [-1, 1] at any size
(C = 1 or 3). ``prepare_input`` resizes them to the network's working size and, for
``channels=1`` networks, reduces colour to BT.601 luma, so the same network takes colour photos and
greyscale training sets alike. Everything is differentiable: the GAN losses back-propagate through
these networks.

:class:`NormalisedResNet` adds a fixed, parameter-free normalisation of each crop before the
backbone (:func:`normalise_input`): local contrast normalisation inside a soft face window. It
keeps what a face's features and folds draw (edges, dark openings, lines) and drops what tells
one photo set from another (overall brightness, contrast and tone curve, smooth shading, the
background and most of the hair), so an expression classifier learns from the face.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from faceedit.models.layers import BasicBlock, SmallResNet, prepare_input
from faceedit.pixels import levels_to_signed

__all__ = ["BasicBlock", "INPUT_NORMS", "NormalisedResNet", "SmallResNet", "face_window",
           "normalise_input", "predict", "prepare_input"]

INPUT_NORMS = ("none", "lcn")
"""``none``: the crop as it is; ``lcn``: :func:`normalise_input`."""

# The local contrast normalisation's Gaussian, as a fraction of the crop's side (about half an
# eye's width on the analysis template), and the soft face window: an ellipse centred between
# the eyes and the mouth that holds brows, eyes, nose, mouth and chin, fading out over its outer
# fifth (fractions of the crop's side).
LCN_SIGMA = 0.08
WINDOW_CENTRE = (0.5, 0.56)
WINDOW_AXES = (0.36, 0.46)
WINDOW_FADE = 0.2


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``x`` (B, C, H, W), ``sigma`` in pixels, edges reflected."""
    r = max(1, math.ceil(3 * sigma))
    t = torch.arange(-r, r + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    x = F.pad(x, (r, r, r, r), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def face_window(size: int, *, device: torch.device | str | None = None,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(size, size) weights in [0, 1]: 1 inside the face ellipse, falling smoothly (cosine) to 0
    over its outer :data:`WINDOW_FADE` and beyond."""
    u = (torch.arange(size, device=device, dtype=dtype) + 0.5) / size
    dy = (u[:, None] - WINDOW_CENTRE[1]) / WINDOW_AXES[1]
    dx = (u[None, :] - WINDOW_CENTRE[0]) / WINDOW_AXES[0]
    r = torch.sqrt(dx * dx + dy * dy)
    t = ((r - (1 - WINDOW_FADE)) / WINDOW_FADE).clamp(0, 1)
    return 0.5 * (1 + torch.cos(math.pi * t))


def normalise_input(x: torch.Tensor, kind: str = "lcn") -> torch.Tensor:
    """``x`` (B, C, S, S) in [-1, 1], normalised as ``kind`` (:data:`INPUT_NORMS`) and
    differentiable. ``lcn``: each pixel's difference from its Gaussian neighbourhood
    (:data:`LCN_SIGMA`) over the neighbourhood's contrast, floored by the crop's mean contrast
    inside the face window (so flat skin is not blown up into noise), then weighted by the
    window (:func:`face_window`). A change of brightness, contrast, or any smooth shading leaves
    the result (nearly) unchanged."""
    if kind == "none":
        return x
    if kind != "lcn":
        raise ValueError(f"unknown input normalisation {kind!r}; use one of {', '.join(INPUT_NORMS)}")
    size = x.shape[-1]
    sigma = LCN_SIGMA * size
    d = x - gaussian_blur(x, sigma)
    local = gaussian_blur(d * d, sigma)
    w = face_window(size, device=x.device, dtype=x.dtype)
    floor = (local * w).sum((-2, -1), keepdim=True) / w.sum()
    return d / torch.sqrt(local + floor + 1e-6) * w


class NormalisedResNet(SmallResNet):
    """:class:`SmallResNet` whose input goes through :func:`normalise_input` (``input_norm``)
    after the resize to its working size. Same parameters, same checkpoint keys."""

    def __init__(self, out_dim: int, *, input_norm: str = "lcn", **kwargs) -> None:
        if input_norm not in INPUT_NORMS:
            raise ValueError(f"unknown input normalisation {input_norm!r}; use one of {', '.join(INPUT_NORMS)}")
        super().__init__(out_dim, **kwargs)
        self.input_norm = input_norm

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = normalise_input(prepare_input(x, self.size, self.channels), self.input_norm)
        return self.blocks(self.stem(x)).mean((2, 3))


@torch.no_grad()
def predict(net: nn.Module, x: torch.Tensor, batch: int = 256, fn: Callable | None = None) -> torch.Tensor:
    """``net`` (or ``fn(net, xb)``) over crops ``x`` (uint8 levels, or float in [-1, 1]) in
    batches, eval mode, concatenated."""
    net.eval()
    outs = []
    for i in range(0, x.shape[0], batch):
        xb = x[i : i + batch]
        xb = levels_to_signed(xb) if xb.dtype == torch.uint8 else xb.float()
        outs.append(fn(net, xb) if fn else net(xb))
    return torch.cat(outs) if outs else torch.zeros(0)
