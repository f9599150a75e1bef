"""Network building blocks shared by the methods.

Every block takes and returns ``(B, C, H, W)`` feature maps. Only generic pieces live here; a
block that exists for one paper only (e.g. RegGAN's attention blocks) stays in that paper's module.

* ``norm_layer``: the normalisation used inside a block, chosen by name.
* ``PreActConv``: pre-activation convolution block (norm -> PReLU -> conv).
* ``Hourglass``: Newell et al.'s symmetric bottom-up/top-down network with skip branches.
* ``PatchDiscriminator`` / ``MultiScaleDiscriminator``: PatchGAN critics, the multi-scale one on
  an image pyramid (pix2pixHD style), returning every layer's features for feature matching.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

NormKind = Literal["batch", "instance", "none"]
"""``batch``: BatchNorm2d; ``instance``: affine InstanceNorm2d (no running statistics, so train
and eval behave alike); ``none``: no normalisation."""


def norm_layer(kind: NormKind, channels: int) -> nn.Module:
    """A normalisation layer for ``channels`` feature maps, chosen by name (see ``NormKind``)."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown normalisation {kind!r}; use 'batch', 'instance' or 'none'")


class PreActConv(nn.Module):
    """Pre-activation convolution block: norm -> PReLU -> conv (He et al., "Identity Mappings in
    Deep Residual Networks", 2016, with a channel-wise PReLU).

    ``stride=2`` halves the spatial size (odd sizes round up); the padding keeps ``stride=1``
    size-preserving for odd kernel sizes.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        norm: NormKind = "instance",
    ) -> None:
        super().__init__()
        self.norm = norm_layer(norm, in_channels)
        self.act = nn.PReLU(in_channels)
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.act(self.norm(x)))


class Hourglass(nn.Module):
    """Hourglass network (Newell et al., "Stacked Hourglass Networks", ECCV 2016), width-preserving.

    At each of ``depth`` levels the input goes two ways: a skip branch at the current resolution,
    and a lower branch that max-pools by 2, processes, recurses one level deeper and is upsampled
    (nearest) back; the two are added. Input height and width should be divisible by
    ``2 ** depth``; other sizes work too (pooling rounds up, upsampling restores the exact size).
    With instance norm the deepest level must still be larger than 1x1.
    """

    def __init__(self, channels: int, depth: int, norm: NormKind = "instance") -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"hourglass depth must be >= 1, got {depth}")
        self.skip = PreActConv(channels, channels, norm=norm)
        self.down = PreActConv(channels, channels, norm=norm)
        self.inner: nn.Module = (
            Hourglass(channels, depth - 1, norm)
            if depth > 1
            else PreActConv(channels, channels, norm=norm)
        )
        self.up = PreActConv(channels, channels, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = F.max_pool2d(x, 2, ceil_mode=True)
        low = self.up(self.inner(self.down(low)))
        return self.skip(x) + F.interpolate(low, size=x.shape[-2:], mode="nearest")


class PatchDiscriminator(nn.Module):
    """PatchGAN critic: a map of real/fake scores, one per receptive-field patch.

    ``n_layers`` 4x4 stride-2 convolutions (the first without normalisation), widths
    ``channels * 2**i`` capped at ``max_channels``, LeakyReLU(0.2); then a 3x3 convolution and a
    3x3 convolution to one score channel. The score map is ``H / 2**n_layers`` on a side.
    ``forward`` returns the output of every layer, the score map last, so that a feature-matching
    loss can use the intermediate ones.
    """

    def __init__(
        self,
        in_channels: int,
        channels: int = 64,
        n_layers: int = 3,
        max_channels: int = 512,
        norm: NormKind = "instance",
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}")
        layers: list[nn.Module] = [
            nn.Sequential(
                nn.Conv2d(in_channels, channels, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)
            )
        ]
        width = channels
        for _ in range(n_layers - 1):
            wider = min(2 * width, max_channels)
            layers.append(
                nn.Sequential(
                    nn.Conv2d(width, wider, 4, 2, 1),
                    norm_layer(norm, wider),
                    nn.LeakyReLU(0.2, inplace=True),
                )
            )
            width = wider
        wider = min(2 * width, max_channels)
        layers.append(
            nn.Sequential(
                nn.Conv2d(width, wider, 3, 1, 1),
                norm_layer(norm, wider),
                nn.LeakyReLU(0.2, inplace=True),
            )
        )
        layers.append(nn.Conv2d(wider, 1, 3, 1, 1))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for layer in self.layers:
            x = layer(x)
            features.append(x)
        return features


class MultiScaleDiscriminator(nn.Module):
    """``n_scales`` identical, independent ``PatchDiscriminator``s on an image pyramid.

    Discriminator ``k`` (0-based) sees the image average-pooled by ``2**k`` (scale 1, 1/2, 1/4
    for three scales), as in pix2pixHD (Wang et al., CVPR 2018). Returns, per scale, the list of
    that discriminator's layer outputs (score map last). Keyword arguments go to every
    ``PatchDiscriminator``.
    """

    def __init__(self, in_channels: int, n_scales: int = 3, **patch_kwargs) -> None:
        super().__init__()
        if n_scales < 1:
            raise ValueError(f"n_scales must be >= 1, got {n_scales}")
        self.discriminators = nn.ModuleList(
            PatchDiscriminator(in_channels, **patch_kwargs) for _ in range(n_scales)
        )

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        outputs = []
        for k, discriminator in enumerate(self.discriminators):
            if k:
                x = F.avg_pool2d(x, 2)
            outputs.append(discriminator(x))
        return outputs
