"""RegGAN: Regression GAN for facial expression synthesis (Akram, Khan, Mahmood; paper text in
``shared/papers/reggan.txt``).

The generator is ``G(x) = G_R(G_E(x))``:

* ``G_E``, the *expression layer* (section III-C), one per (neutral -> target) expression pair:
  every output pixel ``p`` of every channel is an affine function ``w_p . x_p + b_p`` of the
  ``r x r`` input patch ``x_p`` around it (eq. 5), fitted in closed form by ridge regression
  (eq. 6; see ``faceedit.train.reggan.fit_expression_layer``). Stored as tensors ``weight``
  ``(C, S, S, r*r)`` and ``bias`` ``(C, S, S)``; applied as a vectorised per-pixel dot product.
* ``G_R``, the *refinement network* (III-D): an encoder-decoder of 3 encoding (EAB), ``n_latent``
  (paper: 10) latent (LAB) and 3 decoding (DAB) attention blocks that turns the blurry
  intermediate image ``x_E = G_E(x)`` into a realistic one.

Choices, where the paper leaves room (each also noted where it is made):

* **Patch per channel.** ``x_p`` has ``r^2`` entries (eq. 4) and colour images get "separate
  regression mappings for each channel via repeated applications of (6)": the patch of output
  channel ``c`` spans input channel ``c`` only.
* **Image borders.** Patches at the border read replicate-padded pixels; fitting and inference
  pad the same way.
* **Range.** ``G_E``'s output is clamped to [-1, 1] before ``G_R``, in training and inference.
* **"neutral".** The paper learns one layer per pair neutral -> target and feeds neutral faces;
  there is no neutral -> neutral layer, and "editing" a neutral face to neutral would be a copy.
  So ``targets()`` lists only the expressions that have a layer and ``edit(x, "neutral")`` (the
  configured ``source_expression``) is a usage error that says so, rather than a silent copy.
* **One shared, unconditional refiner.** The paper trains ``G_R`` once for all expression layers
  ("the rest of the network does not need to be retrained each time"), so ``G_R`` takes no
  target label.
* **Attention blocks (eq. 7-9).** ``f = F(x)`` is the feature unit (two pre-activation conv
  blocks with PReLU), ``alpha = sigmoid(A(f))`` a one-channel spatial attention map from the
  attention unit (hourglass + conv), and the block returns ``Phi(x) + alpha * f``, ``Phi`` being
  the shortcut: the strided 3x3 convolution of eq. 9 in an EAB, identity in a LAB, and nearest
  upsampling + 3x3 convolution in a DAB (the paper defines ``Phi`` for the EAB only). The
  attention unit projects to ``attention_channels`` with a 1x1 conv before its hourglass.
* **Normalisation** inside the pre-activation blocks is not named by the paper; instance norm by
  default (train and eval behave alike, also at the paper's batch size 1).
* **Ends of G_R.** A 3x3 conv stem to ``base_channels``, widths doubling at each EAB up to
  ``max_channels``, and a pre-activation conv + tanh head back to image channels. No skip from
  input to output by default: the paper argues against such "ultimate skip connections"
  (section V), but it also pre-trains G_R on FFHQ for 4 epochs before fine-tuning, which this
  project cannot do. ``residual=True`` makes G_R predict a correction added to ``x_E`` (head
  initialised to zero, so it starts as the identity); the shipped CPU-budget model uses it,
  because a from-scratch G_R reconstructs faces blurrily within the minutes it gets here.

The paper fixes the block counts (3/10/3) and r = 5 but not the widths; ``RegGANConfig``'s
defaults are a small CPU-friendly model for 128-px crops. A larger model is the same code with
e.g. ``{"image_size": 256, "base_channels": 64, "max_channels": 256, "attention_channels": 64,
"hourglass_depth": 3}``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from faceedit.errors import UsageError
from faceedit.models.base import ConfigError, EditModel, ModelConfig, Range
from faceedit.models.layers import Hourglass, NormKind, PreActConv
from faceedit.pixels import luma_tensor


@dataclasses.dataclass(frozen=True)
class RegGANConfig(ModelConfig):
    """RegGAN's architecture."""

    arch = "reggan"
    method = "RegGAN"
    ranges = {"r": Range(ge=1), "n_latent": Range(ge=0), "attention_channels": Range(ge=1),
              "hourglass_depth": Range(ge=1)}

    image_size: int = 128  # crop side in pixels; the expression layers hold one regressor per pixel
    channels: int = 3  # 3 = RGB, 1 = luminance
    r: int = 5  # receptive field of the expression layer (paper: 5)
    source_expression: str = "neutral"  # expression of the inputs; editing to it is the identity
    targets: list[str] = dataclasses.field(default_factory=list)  # expressions with a layer, in order
    # of those, the ones whose layer works on luminance (greyscale-trained)
    luma_targets: list[str] = dataclasses.field(default_factory=list)
    base_channels: int = 32  # refiner width after the stem; doubles at each EAB
    max_channels: int = 64  # cap on refiner widths
    n_latent: int = 10  # latent attention blocks (paper: 10)
    attention_channels: int = 32  # width of the hourglass in each attention unit
    hourglass_depth: int = 2  # levels of each hourglass
    norm: NormKind = "instance"  # normalisation inside pre-activation blocks
    residual: bool = False  # refiner predicts a correction added to x_E (not in the paper)
    default_phase: Literal["refined", "expression"] = "refined"  # what edit() returns without a phase

    def validate(self) -> None:
        """The refiner halves the crop three times and each hourglass ``hourglass_depth`` more
        times, so ``image_size`` must be divisible by 8 and leave at least 2x2 pixels at the
        deepest hourglass level."""
        size, depth = self.image_size, self.hourglass_depth
        if size % 2**_N_SCALES or (size >> _N_SCALES) >> depth < 2:
            raise ConfigError(
                f"image_size {size} does not fit the refiner: it must be divisible by {2**_N_SCALES} "
                f"and leave at least 2x2 pixels after {_N_SCALES} halvings and {depth} hourglass levels"
            )
        if self.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 or 3, got {self.channels}")
        if self.r < 1 or self.r % 2 == 0:
            raise ConfigError(f"receptive field r must be odd and positive, got {self.r}")
        if not set(self.luma_targets) <= set(self.targets):
            raise ConfigError(f"luma_targets {self.luma_targets} are not all targets {self.targets}")


_N_SCALES = 3  # EABs (and DABs): the paper's three


# ----------------------------------------------------------------------------------------------
# Expression layer G_E
# ----------------------------------------------------------------------------------------------


def pad_for_patches(x: torch.Tensor, r: int) -> torch.Tensor:
    """Replicate-pad ``x`` (B, C, H, W) by ``r // 2`` so that every pixel has a full r x r patch."""
    p = r // 2
    return F.pad(x, (p, p, p, p), mode="replicate")


class ExpressionLayer(nn.Module):
    """``G_E`` for one expression pair: ``out[c, p] = weight[c, p] . patch(x[c], p) + bias[c, p]``.

    ``weight`` is (C, S, S, r*r) with patch entries in row-major order (``dy * r + dx``, offsets
    from the patch's top-left corner), ``bias`` (C, S, S). Both are buffers: they are solved for
    in closed form, not trained by gradient, yet saved in the state dict.
    """

    weight: torch.Tensor
    bias: torch.Tensor

    def __init__(self, channels: int, size: int, r: int = 5) -> None:
        super().__init__()
        if r < 1 or r % 2 == 0:
            raise ValueError(f"receptive field r must be odd and positive, got {r}")
        self.r = r
        self.register_buffer("weight", torch.zeros(channels, size, size, r * r))
        self.register_buffer("bias", torch.zeros(channels, size, size))

    @classmethod
    def from_tensors(cls, weight: torch.Tensor, bias: torch.Tensor) -> ExpressionLayer:
        """A layer holding the given (C, S, S, r*r) weights and (C, S, S) biases."""
        channels, height, width, k = weight.shape
        r = round(k**0.5)
        if height != width or r * r != k or bias.shape != weight.shape[:3]:
            raise ValueError(
                f"bad expression layer shapes: weight {tuple(weight.shape)}, "
                f"bias {tuple(bias.shape)}"
            )
        layer = cls(channels, height, r)
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
        return layer

    @property
    def channels(self) -> int:
        return self.weight.shape[0]

    @property
    def size(self) -> int:
        return self.weight.shape[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        if (c, h, w) != tuple(self.weight.shape[:3]):
            raise ValueError(
                f"expression layer expects (B, {self.channels}, {self.size}, {self.size}), "
                f"got {tuple(x.shape)}"
            )
        # Sum over patch entries of weight * shifted image: the per-pixel dot product of an
        # unfold, without materialising the (B, C, r*r, H, W) patch tensor.
        padded = pad_for_patches(x, self.r)
        out = self.bias.expand(b, c, h, w).clone()
        for k, weight in enumerate(self.weight.unbind(-1)):
            dy, dx = divmod(k, self.r)
            out.addcmul_(padded[:, :, dy : dy + h, dx : dx + w], weight)
        return out


# ----------------------------------------------------------------------------------------------
# Refinement network G_R
# ----------------------------------------------------------------------------------------------

Resample = Literal["down", "none", "up"]


class AttentionUnit(nn.Module):
    """``A`` of eq. 8 followed by the sigmoid: 1x1 projection -> hourglass -> conv -> sigmoid,
    giving a one-channel spatial attention map in (0, 1)."""

    def __init__(
        self, channels: int, attention_channels: int, hourglass_depth: int, norm: NormKind
    ) -> None:
        super().__init__()
        self.project = nn.Conv2d(channels, attention_channels, 1)
        self.hourglass = Hourglass(attention_channels, hourglass_depth, norm)
        self.to_map = PreActConv(attention_channels, 1, norm=norm)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.to_map(self.hourglass(self.project(f))))


class AttentionBlock(nn.Module):
    """EAB (``resample="down"``), LAB (``"none"``) or DAB (``"up"``): ``Phi(x) + alpha * F(x)``
    (eq. 7-9).

    The feature unit ``F`` is two pre-activation conv blocks; in an EAB the second one has stride
    2, in a DAB a nearest x2 upsampling comes first. ``Phi`` is the matching shortcut (strided
    conv, identity or 1x1 conv when widths differ, upsampling + conv).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        resample: Resample,
        attention_channels: int,
        hourglass_depth: int,
        norm: NormKind,
    ) -> None:
        super().__init__()
        second_stride = 2 if resample == "down" else 1
        upsample: list[nn.Module] = (
            [nn.Upsample(scale_factor=2, mode="nearest")] if resample == "up" else []
        )
        self.feature = nn.Sequential(
            *upsample,
            PreActConv(in_channels, out_channels, norm=norm),
            PreActConv(out_channels, out_channels, stride=second_stride, norm=norm),
        )
        self.attention = AttentionUnit(out_channels, attention_channels, hourglass_depth, norm)
        if resample == "down":
            self.shortcut: nn.Module = nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1)
        elif resample == "up":
            self.shortcut = nn.Sequential(
                *upsample, nn.Conv2d(in_channels, out_channels, 3, padding=1)
            )
        elif in_channels != out_channels:
            self.shortcut = nn.Conv2d(in_channels, out_channels, 1)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.feature(x)
        return self.shortcut(x) + self.attention(f) * f


class Refiner(nn.Module):
    """``G_R``: stem -> 3 EABs -> ``n_latent`` LABs -> 3 DABs -> head -> tanh.

    Widths: ``base_channels`` after the stem, doubled by each EAB up to ``max_channels``, mirrored
    by the DABs. Input and output are images in [-1, 1] with ``channels`` channels; the side must
    be divisible by 8 (three halvings). ``out_channels`` (default ``channels``) gives the head
    another width: the region refiner (:mod:`faceedit.models.refine`) takes an image and its
    mask (4 channels) and returns a 3-channel correction.
    """

    def __init__(
        self,
        channels: int,
        base_channels: int,
        max_channels: int,
        n_latent: int,
        attention_channels: int,
        hourglass_depth: int,
        norm: NormKind,
        residual: bool = False,
        out_channels: int | None = None,
    ) -> None:
        super().__init__()
        self.residual = residual
        widths = [min(base_channels * 2**i, max_channels) for i in range(_N_SCALES + 1)]

        def block(cin: int, cout: int, resample: Resample) -> AttentionBlock:
            return AttentionBlock(cin, cout, resample, attention_channels, hourglass_depth, norm)

        self.stem = nn.Conv2d(channels, widths[0], 3, padding=1)
        self.encoder = nn.Sequential(
            *(block(widths[i], widths[i + 1], "down") for i in range(_N_SCALES))
        )
        self.latent = nn.Sequential(
            *(block(widths[-1], widths[-1], "none") for _ in range(n_latent))
        )
        self.decoder = nn.Sequential(
            *(block(widths[i + 1], widths[i], "up") for i in reversed(range(_N_SCALES)))
        )
        self.head = PreActConv(widths[0], out_channels or channels, norm=norm)
        if residual:  # start as the identity: the correction head outputs zeros
            assert self.head.conv.bias is not None
            nn.init.zeros_(self.head.conv.weight)
            nn.init.zeros_(self.head.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(self.decoder(self.latent(self.encoder(self.stem(x)))))
        if self.residual:
            return (x + torch.tanh(h)).clamp(-1, 1)
        return torch.tanh(h)


# ----------------------------------------------------------------------------------------------
# The edit model
# ----------------------------------------------------------------------------------------------


class RegGAN(EditModel):
    """Expression layers keyed by target name plus one shared refiner (see the module docstring).

    Build it with ``build_reggan(config)``; fit layers with
    ``faceedit.train.reggan.fit_expression_layer`` and add them with ``set_expression_layer``;
    ``faceedit train -m reggan`` (``faceedit.train.reggan.RegGANTrainer``) fits the layers and
    trains the refiner.
    """

    handles_strength = False
    refiner: Refiner  # built on first use where the default phase does not run it (EditModel.defer_part)

    def __init__(self, config: RegGANConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__()
        cfg = RegGANConfig.from_dict(config)
        self._built_cfg = cfg
        self.default_phase = cfg.default_phase
        self.size = cfg.image_size
        self.channels = cfg.channels
        self.r = cfg.r
        self.source_expression = cfg.source_expression
        self.expression = nn.ModuleDict()
        luma = set(cfg.luma_targets)
        for target in cfg.targets:
            self.set_expression_layer(
                target, ExpressionLayer(1 if target in luma else cfg.channels, cfg.image_size, cfg.r))
        build = functools.partial(Refiner, cfg.channels, cfg.base_channels, cfg.max_channels, cfg.n_latent,
                                  cfg.attention_channels, cfg.hourglass_depth, cfg.norm, cfg.residual)
        if cfg.default_phase == "refined":
            self.refiner = build()
        else:  # the default phase never runs it: built on first use (a phase or training asking for it)
            self.defer_part("refiner", build)

    # read-only: derived from the layers as they are now, never assigned (EditModel declares a
    # plain attribute, which the other models assign once)
    @property
    def cfg(self) -> RegGANConfig:  # type: ignore[override]
        """The config that rebuilds this model, targets and default phase as they are now (layers
        may be added or replaced after construction with ``set_expression_layer``)."""
        luma = [t for t, layer in self.expression.items() if layer.channels != self.channels]
        return dataclasses.replace(self._built_cfg, targets=self.targets(), luma_targets=luma,
                                   default_phase=self.default_phase)

    def targets(self) -> list[str]:
        return list(self.expression.keys())

    def check_target(self, target: str) -> str:
        if target == self.source_expression:
            raise UsageError(
                f"{target!r} is RegGAN's input expression, not an edit: RegGAN maps "
                f"{target} faces to {', '.join(self.targets())}"
            )
        return super().check_target(target)

    def set_expression_layer(self, target: str, layer: ExpressionLayer) -> None:
        """Add or replace the expression layer for ``target`` (it must match size, channels, r)."""
        if not target or "." in target or target == self.source_expression:
            raise ValueError(
                f"bad target name {target!r}: non-empty, no '.', and not the source "
                f"expression {self.source_expression!r}"
            )
        if layer.channels not in (1, self.channels) or (layer.size, layer.r) != (self.size, self.r):
            raise ValueError(
                f"expression layer for {target!r} has channels/size/r "
                f"{(layer.channels, layer.size, layer.r)}, "
                f"model has {(self.channels, self.size, self.r)} (or 1 channel: luminance)"
            )
        self.expression[target] = layer

    def expression_output(self, x: torch.Tensor, target: str) -> torch.Tensor:
        """``x_E = G_E(x)`` for ``target``, clamped to [-1, 1]: the refiner's input.

        A one-channel (luminance) layer on colour crops: the layer maps the crop's luma Y to Y'
        and the change Y' - Y is added to R, G and B alike, which changes the luma by exactly
        that and leaves the chroma (Cb, Cr) of the photo as it was. This is how expressions
        learnt from greyscale data (JAFFE, Yale) edit colour photos.
        """
        layer = self.expression[target]
        if layer.channels == x.shape[1]:
            return layer(x).clamp(-1, 1)
        luma = luma_tensor(x)  # BT.601, as the paste-back uses
        return (x + (layer(luma) - luma)).clamp(-1, 1)

    def forward(self, x: torch.Tensor, target: str) -> torch.Tensor:
        """The full generator ``G_R(G_E(x))``."""
        return self.refiner(self.expression_output(x, target))

    @torch.no_grad()
    def edit(
        self,
        x: torch.Tensor,
        target: str,
        strength: float = 1.0,
        phase: Literal["refined", "expression"] | None = None,
        **options: Any,
    ) -> torch.Tensor:
        """Edit neutral crops ``x`` (B, C, S, S) in [-1, 1] towards ``target``.

        ``phase="expression"`` returns ``G_E``'s intermediate image instead of the refined one;
        no phase = the model's ``default_phase``. ``target == source_expression`` (default
        "neutral") is a usage error: it is the input expression, not an edit. ``strength``
        blends linearly between ``x`` (0) and the edit (1); the pipeline normally does this
        itself and passes 1.
        """
        if options:
            raise UsageError(f"unknown RegGAN options: {', '.join(options)}")
        phase = phase or self.default_phase
        if phase not in ("refined", "expression"):
            raise UsageError(f"unknown phase {phase!r}; use 'refined' or 'expression'")
        expected = (self.channels, self.size, self.size)
        if x.dim() != 4 or tuple(x.shape[1:]) != expected:
            raise UsageError(
                f"RegGAN expects crops of shape (B, {', '.join(map(str, expected))}), "
                f"got {tuple(x.shape)}"
            )
        self.check_target(target)
        y = self.expression_output(x, target)
        if phase == "refined":
            y = self.refiner(y)
        return torch.lerp(x, y.to(x.dtype), strength)  # under autocast y may be half precision


# Registered, with the options it takes, by faceedit.models.catalogue.reggan.
def build_reggan(config: RegGANConfig | Mapping[str, Any] | None = None) -> RegGAN:
    """A ``RegGAN`` from its config (a ``RegGANConfig`` or a dict: keys not given take the
    defaults; an unknown key or a bad value raises ConfigError)."""
    return RegGAN(config)
