"""The small backbone the analysis networks share, and their input convention.

Inputs are face crops aligned to the default template, ``(B, C, H, W)`` in [-1, 1] at any size
(C = 1 or 3). ``prepare_input`` resizes them to the network's working size and, for
``channels=1`` networks, reduces colour to BT.601 luma, so the same network takes colour photos and
greyscale training sets alike. Everything is differentiable: the GAN losses back-propagate through
these networks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from faceedit.faces.types import LUMA_WEIGHTS


def prepare_input(x: torch.Tensor, size: int, channels: int) -> torch.Tensor:
    """Resize ``x`` (B, C, H, W) in [-1, 1] to ``size`` and to ``channels`` (1: luma; 3: grey
    inputs replicated)."""
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected (B, 1|3, H, W) crops, got {tuple(x.shape)}")
    if channels == 1 and x.shape[1] == 3:
        w = torch.tensor(LUMA_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        x = (x * w).sum(1, keepdim=True)
    elif channels == 3 and x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                          antialias=x.shape[-1] > size)
    return x


class BasicBlock(nn.Module):
    """ResNet basic block (He et al. 2016) with batch norm."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = (
            nn.Identity() if stride == 1 and cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.skip(x))


class SmallResNet(nn.Module):
    """A small ResNet: 3x3 stem, one basic block per stage (the first stage at stride 1, the others
    halving the size), global average pooling, then a linear head of ``out_dim`` (class logits or an
    embedding). ``features`` returns the pooled vector before the head.

    At ``size`` 64 with the default widths it has about 0.3 M parameters.
    """

    def __init__(self, out_dim: int, *, size: int = 64, channels: int = 1,
                 widths: tuple[int, ...] = (16, 32, 64, 128), dropout: float = 0.0) -> None:
        super().__init__()
        self.size, self.channels = int(size), int(channels)
        self.stem = nn.Sequential(
            nn.Conv2d(channels, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()
        )
        blocks, cin = [], widths[0]
        for i, w in enumerate(widths):
            blocks.append(BasicBlock(cin, w, 1 if i == 0 else 2))
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.head = nn.Linear(cin, out_dim)
        self.feature_dim = cin

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = prepare_input(x, self.size, self.channels)
        return self.blocks(self.stem(x)).mean((2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))
