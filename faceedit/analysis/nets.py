"""The small backbone the analysis networks share, their input convention, and batched inference.

The backbone's code lives in :mod:`faceedit.models.layers` (SeCGAN's source network is one too,
and models sit below analysis); re-exported here. ``predict`` runs a network over many crops.

Inputs are face crops aligned to the default template, ``(B, C, H, W)`` in [-1, 1] at any size
(C = 1 or 3). ``prepare_input`` resizes them to the network's working size and, for
``channels=1`` networks, reduces colour to BT.601 luma, so the same network takes colour photos and
greyscale training sets alike. Everything is differentiable: the GAN losses back-propagate through
these networks.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from faceedit.models.layers import BasicBlock, SmallResNet, prepare_input
from faceedit.pixels import levels_to_signed

__all__ = ["BasicBlock", "SmallResNet", "predict", "prepare_input"]


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
