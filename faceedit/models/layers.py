"""Network building blocks shared by the methods.

Every block takes and returns ``(B, C, H, W)`` feature maps. Only generic pieces live here; a
block that exists for one paper only (e.g. RegGAN's attention blocks) stays in that paper's module.

* ``norm_layer``: the normalisation used inside a block, chosen by name.
* ``PreActConv``: pre-activation convolution block (norm -> PReLU -> conv).
* ``Hourglass``: Newell et al.'s symmetric bottom-up/top-down network with skip branches.
* ``PatchDiscriminator`` / ``MultiScaleDiscriminator``: PatchGAN critics, the multi-scale one on
  an image pyramid (pix2pixHD style), returning every layer's features for feature matching.
* StarGAN-family blocks (EGGAN, LEGAN, LSSL, SeCGAN): ``ConvNormAct``, ``ResidualBlock``, the
  up-samplings ``PixelShuffleUp`` / ``InterpUp`` / ``TransposeUp``, ``broadcast_condition``, the
  configurable ``EncoderDecoder`` generator body (LSSL, SeCGAN) and ``ClassCritic``, the critic
  with a class head that every StarGAN-family trainer uses.
* ``SmallResNet`` (with ``prepare_input``): the small ResNet backbone (crops in, a vector per crop
  out) of the analysis networks and of SeCGAN's source-label network.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from faceedit.pixels import luma_tensor

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


# --------------------------------------------------------------------------------------------
# Blocks of the StarGAN family (EGGAN, LEGAN, LSSL, SeCGAN)
# --------------------------------------------------------------------------------------------


def activation(kind: str, channels: int) -> nn.Module:
    """``relu`` | ``prelu`` (channel-wise) | ``lrelu`` (slope 0.01, StarGAN's critic) | ``none``."""
    if kind == "relu":
        return nn.ReLU(inplace=True)
    if kind == "prelu":
        return nn.PReLU(channels)
    if kind == "lrelu":
        return nn.LeakyReLU(0.01, inplace=True)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown activation {kind!r}")


class ConvNormAct(nn.Sequential):
    """conv -> norm -> activation (post-activation, as the StarGAN-style papers draw it)."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1,
                 norm: NormKind = "instance", act: str = "relu") -> None:
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride, kernel // 2 if kernel % 2 else (kernel - stride) // 2,
                      bias=norm == "none"),
            norm_layer(norm, cout),
            activation(act, cout),
        )


class ResidualBlock(nn.Module):
    """x + (conv3x3 -> norm -> act -> conv3x3 -> norm)(x), width-preserving (StarGAN's bottleneck)."""

    def __init__(self, channels: int, norm: NormKind = "instance", act: str = "relu") -> None:
        super().__init__()
        self.body = nn.Sequential(
            ConvNormAct(channels, channels, 3, 1, norm, act),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=norm == "none"),
            norm_layer(norm, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class PixelShuffleUp(nn.Sequential):
    """Sub-pixel upsampling by 2 (Shi et al. 2016): conv to 4x channels -> PixelShuffle -> norm -> act."""

    def __init__(self, cin: int, cout: int, norm: NormKind = "instance", act: str = "relu") -> None:
        super().__init__(
            nn.Conv2d(cin, cout * 4, 3, 1, 1, bias=norm == "none"),
            nn.PixelShuffle(2),
            norm_layer(norm, cout),
            activation(act, cout),
        )


class InterpUp(nn.Sequential):
    """Interpolated upsampling by 2: conv -> bilinear x2 -> norm -> act. It equals
    :class:`PixelShuffleUp` with the four sub-pixel kernels tied and nearest replaced by bilinear
    interpolation, so it cannot make the sub-pixel checkerboard (Odena et al. 2016);
    :meth:`from_pixel_shuffle_weight` maps a trained ``PixelShuffleUp`` kernel onto it."""

    def __init__(self, cin: int, cout: int, norm: NormKind = "instance", act: str = "relu") -> None:
        super().__init__(
            nn.Conv2d(cin, cout, 3, 1, 1, bias=norm == "none"),
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            norm_layer(norm, cout),
            activation(act, cout),
        )

    @staticmethod
    def from_pixel_shuffle_weight(w: torch.Tensor) -> torch.Tensor:
        """A ``PixelShuffleUp`` conv weight or bias (4*cout, ...) -> this block's (cout, ...): the
        mean of each output channel's four sub-pixel kernels (PixelShuffle reads channel
        ``c * 4 + sub-pixel``)."""
        return w.reshape(w.shape[0] // 4, 4, *w.shape[1:]).mean(1)


def _needed(c: torch.Tensor | None) -> torch.Tensor:
    if c is None:
        raise ValueError("this network takes a condition vector (c) where it conditions")
    return c


def broadcast_condition(x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Concatenate a condition vector (B, K) to feature maps (B, C, H, W) as K constant planes."""
    return torch.cat([x, c.view(c.shape[0], c.shape[1], 1, 1).to(x.dtype).expand(-1, -1, *x.shape[-2:])], 1)


class TransposeUp(nn.Sequential):
    """StarGAN's upsampling: 4x4 stride-2 transposed convolution -> norm -> ReLU."""

    def __init__(self, cin: int, cout: int, norm: NormKind = "instance") -> None:
        super().__init__(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=norm == "none"),
                         norm_layer(norm, cout), nn.ReLU(inplace=True))


class EncoderDecoder(nn.Module):
    """Down-sampling encoder, residual bottleneck, up-sampling decoder, conditioned on a vector.

    * ``stem_kernel`` > 0: a stride-1 ``k x k`` convolution first (StarGAN: 7), of width ``base``;
    * ``n_down`` 4x4 stride-2 convolutions, widths ``base * 2**(i+1)`` (after a stem) or
      ``base * 2**i`` (without), capped at ``max_channels``; IN + ReLU after each;
    * ``cond_at="input"``: the condition's planes are concatenated to the input (StarGAN,
      SeCGAN); ``"latent"``: to the encoder's output, then fused by a 3x3 convolution (LSSL);
    * ``n_res`` residual blocks; ``n_down`` upsamplings (``"subpixel"``: pixel shuffle,
      ``"transpose"``: transposed convolutions) mirroring the encoder widths;
    * a 7x7 convolution to ``out_channels``. The output is raw (no activation): the caller
      applies tanh, softmax or a residual connection. ``zero_head`` starts it at zero.
    """

    def __init__(self, in_channels: int, out_channels: int, cond_dim: int, *, base: int = 64,
                 max_channels: int = 256, n_down: int = 2, n_res: int = 6, stem_kernel: int = 7,
                 cond_at: str = "input", up: str = "transpose", norm: NormKind = "instance",
                 zero_head: bool = False) -> None:
        super().__init__()
        if cond_at not in ("input", "latent"):
            raise ValueError(f"cond_at must be 'input' or 'latent', got {cond_at!r}")
        if up not in ("subpixel", "transpose"):
            raise ValueError(f"up must be 'subpixel' or 'transpose', got {up!r}")
        if n_down < 1:
            raise ValueError(f"n_down must be >= 1, got {n_down}")
        self.cond_at, self.cond_dim = cond_at, cond_dim
        cin = in_channels + (cond_dim if cond_at == "input" else 0)
        layers: list[nn.Module] = []
        widths: list[int] = []
        if stem_kernel:
            layers.append(ConvNormAct(cin, min(base, max_channels), stem_kernel, 1, norm, "relu"))
            cin = min(base, max_channels)
            widths.append(cin)
        for i in range(n_down):
            w = min(base * 2 ** (i + (1 if stem_kernel else 0)), max_channels)
            layers.append(ConvNormAct(cin, w, 4, 2, norm, "relu"))
            widths.append(w)
            cin = w
        self.encoder = nn.Sequential(*layers)
        self.fuse = (ConvNormAct(cin + cond_dim, cin, 3, 1, norm, "relu")
                     if cond_at == "latent" else nn.Identity())
        self.bottleneck = nn.Sequential(*[ResidualBlock(cin, norm) for _ in range(n_res)])
        ups: list[nn.Module] = []
        # mirror the encoder: each upsampling returns to the width of the level above it
        targets = widths[:-1][::-1] if stem_kernel else (widths[:-1][::-1] + [widths[0]])
        for w in targets[:n_down]:
            ups.append(PixelShuffleUp(cin, w, norm) if up == "subpixel" else TransposeUp(cin, w, norm))
            cin = w
        self.decoder = nn.Sequential(*ups)
        self.head = nn.Conv2d(cin, out_channels, 7, 1, 3)
        if zero_head:
            assert self.head.bias is not None  # nn.Conv2d's default: with a bias
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def encode(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """``c``: the condition, needed where it enters (``cond_at``) and ignored elsewhere."""
        if self.cond_at == "input":
            x = broadcast_condition(x, _needed(c))
        return self.encoder(x)

    def decode(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """``c``: as for :meth:`encode`."""
        if self.cond_at == "latent":
            z = self.fuse(broadcast_condition(z, _needed(c)))
        return self.head(self.decoder(self.bottleneck(z)))

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x, c), c)


class ClassCritic(nn.Module):
    """StarGAN's discriminator (Choi et al. 2018): ``n_layers`` 4x4 stride-2 convolutions with
    LeakyReLU(0.01) and no normalisation (WGAN-GP needs none), then two heads on the last
    features: a 3x3 convolution giving the PatchGAN realness map, and a convolution over the whole
    remaining map giving ``n_classes`` logits (or regression outputs). ``forward`` returns
    ``(scores (B, 1, h, w), logits (B, n_classes))``."""

    def __init__(self, image_size: int, in_channels: int = 3, channels: int = 64, n_layers: int = 6,
                 n_classes: int = 0, max_channels: int = 2048) -> None:
        super().__init__()
        layers, width = [nn.Conv2d(in_channels, channels, 4, 2, 1), nn.LeakyReLU(0.01, inplace=True)], channels
        for _ in range(n_layers - 1):
            wider = min(width * 2, max_channels)
            layers += [nn.Conv2d(width, wider, 4, 2, 1), nn.LeakyReLU(0.01, inplace=True)]
            width = wider
        self.trunk = nn.Sequential(*layers)
        self.width = width
        k = max(1, image_size // 2**n_layers)
        self.src = nn.Conv2d(width, 1, 3, 1, 1, bias=False)
        self.cls = nn.Conv2d(width, n_classes, k, bias=False) if n_classes else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = self.trunk(x)
        logits = self.cls(h).flatten(1) if self.cls is not None else None
        return self.src(h), logits


def zero_heads(generator: nn.Module) -> None:
    """Zero every output ``head`` convolution of a residual generator: it then starts as the
    identity (output = input)."""
    for name, m in generator.named_modules():
        if name.split(".")[-1] == "head" and isinstance(m, nn.Conv2d):
            nn.init.zeros_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def prepare_input(x: torch.Tensor, size: int, channels: int) -> torch.Tensor:
    """Resize ``x`` (B, C, H, W) in [-1, 1] to ``size`` and to ``channels`` (1: luma; 3: grey
    inputs replicated)."""
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected (B, 1|3, H, W) crops, got {tuple(x.shape)}")
    if channels == 1 and x.shape[1] == 3:
        x = luma_tensor(x)
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
