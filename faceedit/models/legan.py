"""LEGAN: joint lighting and expression editing (Banerjee et al.; paper text in
``shared/papers/legan.txt``).

The generator ``G(I_a, f_b)`` (section 4.1, supplement tables 7-9) is three hourglasses
(encoder-decoders):

* the **expression hourglass** takes the image concatenated with the target expression ``c_e``
  (one-hot, broadcast to constant planes) and outputs the *expression mask* ``M_e``;
* the **lighting hourglass** takes the image concatenated with the target lighting ``c_l`` and
  outputs the *lighting mask* ``M_l``;
* the **fusion hourglass** takes ``M_e`` and ``M_l`` concatenated and outputs ``G(I_a, f_b)``.

Each hourglass: a 7x7 convolution to ``base_channels``, ``n_down`` 4x4 stride-2 convolutions (widths
doubling, capped at ``max_channels``), ``n_res`` residual blocks, ``n_down`` pixel-shuffle x2 up-samplings (widths halving),
every layer followed by instance normalisation and ReLU, and a last 7x7 convolution with tanh. The
paper's tables draw each up-sampling as "PS" followed by a 4x4 stride-1 convolution that narrows
the width; :class:`~faceedit.models.layers.PixelShuffleUp` (3x3 conv to 4x the output width,
pixel shuffle, IN, ReLU) does the narrowing in one block.

Masks: ``M_e`` and ``M_l`` are images of the model's channel count, shape ``(B, C, S, S)``, in
[-1, 1] (tanh outputs, as the paper's last layer). ``edit_with_masks`` (or
``edit(..., return_masks=True)``) returns them with the output; to save them as pictures map
``(m + 1) * 127.5`` to 0..255.

Choices, where the paper leaves room or our data differs (each noted in the code too):

* **Luminance model (channels = 1).** Three of the four training sets (JAFFE, Yale, Extended
  Yale B) are greyscale, and every lighting label comes from them; a colour model would learn that
  a lighting or expression change also removes colour. So the shipped model works on luma: the
  pipeline feeds it the crop's BT.601 luma and carries the luma change into the photo
  (``ModelSpec.channels = 1`` -> ``paste_back(luminance_only=True)``), which keeps the photo's
  colour (its hue). Calling ``edit`` with a 3-channel crop on a 1-channel model does the same at crop
  level: the luma is edited and the change added to every channel.
* **Paste-back as a factor** (``paste_ratio``, luma models). The pipeline carries the change into
  the photo as a factor of the crop's luma at the crop's resolution (``paste_back(ratio=True)``),
  not as a difference added to every pixel. The change of a relighting is a change of light: a
  difference as deep as the skin's own luma, added at the photo's resolution, crushes the darker
  pores, hairs, brows and lashes to black (and the blue of brown skin with them), so the change
  takes the photo's texture; a factor scales the photo's texture as it is and keeps the change
  as smooth as the 64-px crop it comes from, as the stage's relighting does. Expression changes
  go the same way (a brightened nose stays skin, not a grey veil over dark skin).
* **Fusion input.** Table 9 feeds the fusion hourglass the two masks only (6 channels); the image
  reaches the output through the masks. ``fuse_image=True`` (not in the paper) also concatenates
  the input image, a skip that helps a small, briefly trained model keep the person's detail.
* **Residual output.** ``residual=True`` (not in the paper) adds the fusion hourglass's output
  (tanh, so at most a half-range change) to the input image, clamped to [-1, 1], and starts that
  hourglass's last convolution at zero, so an untrained generator returns its input. The paper's
  generator must re-synthesise every pixel through three 4x-down-sampling hourglasses, which a
  small model trained for an hour on a CPU does not learn (blurred, unrecognisable faces).
* **Up-sampling.** ``upsample="pixelshuffle"`` is the paper's final choice; ``"bilinear"``
  (:class:`~faceedit.models.layers.InterpUp`: conv, then bilinear x2) is the variant of its
  supplement Table 12 (same figures, FID 29.93 vs 29.96; smoother masks, Fig. 12). Sub-pixel
  layers of a small, briefly trained model leave a 2-4 px checkerboard on every output;
  interpolation cannot make one.
* **Lighting condition.** ``targets()`` are the expressions; the lighting is the option
  ``lighting=`` (one of ``lighting_classes()``, default ``default_lighting`` = ``front``, the
  evenly lit frontal lighting of ordinary photos). ``lighting="keep"`` estimates the input's own
  lighting with the project's lighting classifier (``weights/lighting.safetensors``, restricted to
  the model's lighting classes) and feeds that, so only the expression changes; a usage error
  names the missing file when the classifier is absent. The classifier is an analysis network, a
  layer above the models: the model calls the ``lighting_estimator`` it is given, which
  :class:`faceedit.api.Editor` sets to :func:`faceedit.analysis.classify.estimate_lighting`.
* **Strength** is left to the pipeline (it scales the pixel change), as the paper has none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Literal

import torch
from torch import nn

from faceedit.errors import UsageError
from faceedit.models.base import ConfigError, EditModel, ModelConfig
from faceedit.models.layers import (
    ConvNormAct,
    InterpUp,
    NormKind,
    PixelShuffleUp,
    ResidualBlock,
    broadcast_condition,
)
from faceedit.models.stargan import KEEP, one_hot
from faceedit.pixels import luma_tensor

#: ``estimator(x, classes) -> (B,) long``: the lighting class (an index into ``classes``) of each
#: crop of ``x`` (B, C, S, S) in [-1, 1]; what ``lighting="keep"`` (``KEEP``) feeds the generator.
LightingEstimator = Callable[[torch.Tensor, list[str]], torch.Tensor]


@dataclasses.dataclass(frozen=True)
class LEGANConfig(ModelConfig):
    """LEGAN's architecture and condition vocabularies."""

    arch = "legan"
    method = "LEGAN"

    image_size: int = 64  # crop side the model was trained at (any multiple of 2**n_down works)
    channels: int = 1  # 1 = luminance (see the module docstring), 3 = RGB (the paper)
    targets: list[str] = dataclasses.field(default_factory=list)  # expression classes, in condition order
    lighting: list[str] = dataclasses.field(default_factory=list)  # lighting classes, in condition order
    default_lighting: str = "front"  # lighting used when edit() gets none
    base_channels: int = 16  # width after each hourglass's first 7x7 conv (paper: 64)
    max_channels: int = 64  # cap on widths (paper: 256)
    n_down: int = 2  # stride-2 convs (and pixel-shuffle ups) per hourglass (paper: 2)
    n_res: int = 6  # residual blocks per hourglass (paper: 6)
    norm: NormKind = "instance"  # paper: instance normalisation
    fuse_image: bool = False  # fusion hourglass also sees the image (not in the paper)
    # paper's final choice; "bilinear" = its Table 12 variant
    upsample: Literal["pixelshuffle", "bilinear"] = "pixelshuffle"
    residual: bool = False  # output = input + fusion output (not in the paper)

    def validate(self) -> None:
        if not self.targets:
            raise ConfigError("LEGAN needs at least one expression class (targets)")
        if not self.lighting:
            raise ConfigError("LEGAN needs at least one lighting class")
        if self.default_lighting not in self.lighting:
            raise ConfigError(f"default_lighting {self.default_lighting!r} is not a lighting class "
                              f"{self.lighting}")
        if self.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 or 3, got {self.channels}")


UPSAMPLERS = {"pixelshuffle": PixelShuffleUp, "bilinear": InterpUp}


class LeganHourglass(nn.Module):
    """One of the generator's three hourglasses (supplement tables 7-9): 7x7 conv -> ``n_down``
    4x4 stride-2 convs -> ``n_res`` residual blocks -> ``n_down`` pixel-shuffle ups -> 7x7 conv ->
    tanh. Instance norm + ReLU after every conv and up-sampling but the last."""

    def __init__(self, cin: int, cout: int, dim: int, max_dim: int, n_down: int, n_res: int,
                 norm: NormKind = "instance", upsample: str = "pixelshuffle") -> None:
        super().__init__()
        if upsample not in UPSAMPLERS:
            raise ValueError(f"upsample must be one of {sorted(UPSAMPLERS)}, got {upsample!r}")
        up = UPSAMPLERS[upsample]
        widths = [min(dim * 2**i, max_dim) for i in range(n_down + 1)]
        layers: list[nn.Module] = [ConvNormAct(cin, widths[0], 7, 1, norm, "relu")]
        layers += [ConvNormAct(widths[i], widths[i + 1], 4, 2, norm, "relu") for i in range(n_down)]
        layers += [ResidualBlock(widths[-1], norm, "relu") for _ in range(n_res)]
        layers += [up(widths[i + 1], widths[i], norm, "relu") for i in reversed(range(n_down))]
        layers += [nn.Conv2d(widths[0], cout, 7, 1, 3), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class LeganGenerator(nn.Module):
    """``G(I_a, f_b)``: expression hourglass + lighting hourglass -> masks -> fusion hourglass.

    ``forward(x, c_expr, c_light)`` takes the image (B, C, S, S) in [-1, 1] and the condition
    vectors (B, n_expr) and (B, n_light) (one-hot; all-zero rows are allowed and mean "no
    condition") and returns ``(output, expression_mask, lighting_mask)``, all (B, C, S, S) in
    [-1, 1].
    """

    def __init__(self, channels: int, n_expr: int, n_light: int, dim: int, max_dim: int, n_down: int,
                 n_res: int, norm: NormKind = "instance", fuse_image: bool = False,
                 upsample: str = "pixelshuffle", residual: bool = False) -> None:
        super().__init__()
        self.channels, self.n_expr, self.n_light, self.n_down = channels, n_expr, n_light, n_down
        self.fuse_image, self.residual = fuse_image, residual
        args = (dim, max_dim, n_down, n_res, norm, upsample)
        self.expression = LeganHourglass(channels + n_expr, channels, *args)
        self.lighting = LeganHourglass(channels + n_light, channels, *args)
        self.fusion = LeganHourglass(channels * (3 if fuse_image else 2), channels, *args)
        if residual:
            self.zero_fusion_output()

    def zero_fusion_output(self) -> None:
        """Zero the fusion hourglass's last convolution: a residual generator then starts as the
        identity (output = input)."""
        last = self.fusion.body[-2]
        assert isinstance(last, nn.Conv2d)  # the 7x7 conv before the tanh
        nn.init.zeros_(last.weight)
        if last.bias is not None:
            nn.init.zeros_(last.bias)

    def forward(self, x: torch.Tensor, c_expr: torch.Tensor, c_light: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        m_e = self.expression(broadcast_condition(x, c_expr))
        m_l = self.lighting(broadcast_condition(x, c_light))
        fused = torch.cat([m_e, m_l, x] if self.fuse_image else [m_e, m_l], 1)
        out = self.fusion(fused)
        if self.residual:
            out = (x + out).clamp(-1, 1)
        return out, m_e, m_l


class LEGAN(EditModel):
    """The exported LEGAN generator (attribute ``G``) with its condition vocabularies.

    ``edit(x, target, lighting=...)``: ``target`` is an expression of ``targets()``; ``lighting``
    one of ``lighting_classes()``, ``"keep"``, or None for ``default_lighting``. ``"keep"`` needs
    ``lighting_estimator`` (a :data:`LightingEstimator`; :class:`faceedit.api.Editor` sets it).
    """

    handles_strength = False
    mask_names = ("expression_mask", "lighting_mask")  # faceedit apply --save-masks
    cfg: LEGANConfig

    def __init__(self, config: LEGANConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__()
        cfg = self.cfg = LEGANConfig.from_dict(config)
        self.channels = cfg.channels
        self.expressions, self.lighting = list(cfg.targets), list(cfg.lighting)
        self.default_lighting = cfg.default_lighting
        self.G = LeganGenerator(cfg.channels, len(cfg.targets), len(cfg.lighting), cfg.base_channels,
                                cfg.max_channels, cfg.n_down, cfg.n_res, cfg.norm, cfg.fuse_image,
                                cfg.upsample, cfg.residual)
        self.lighting_estimator: LightingEstimator | None = None

    @property
    def paste_ratio(self) -> bool:
        """The pipeline pastes a luma model's change as a factor of the crop's luma
        (``paste_back(ratio=True)``), not a difference: see the module's docstring."""
        return self.channels == 1

    def targets(self) -> list[str]:
        return list(self.expressions)

    def lighting_classes(self) -> list[str]:
        return list(self.lighting)

    def eval_conditions(self) -> list[dict]:
        """Every expression under the default lighting, then every other lighting class with the
        neutral expression (the first target when there is no neutral)."""
        base = "neutral" if "neutral" in self.expressions else self.expressions[0]
        d = self.default_lighting
        conds = [{"target": t, "options": {"lighting": d}, "expect": {"expression": t, "lighting": d}}
                 for t in self.expressions]
        conds += [{"target": base, "options": {"lighting": l}, "expect": {"expression": base, "lighting": l}}
                  for l in self.lighting if l != d]
        return conds

    # ---- conditions ---------------------------------------------------------------------------
    def lighting_index(self, x: torch.Tensor, lighting: str | None) -> torch.Tensor:
        """(B,) lighting class indices for ``lighting`` (a class name, ``keep`` or None)."""
        name = self.default_lighting if lighting is None else str(lighting).strip().lower()
        b = x.shape[0]
        if name == KEEP:
            return self.estimate_lighting(x)
        if name not in self.lighting:
            raise UsageError(f"unknown lighting {lighting!r}; valid: {', '.join(self.lighting + [KEEP])}")
        return torch.full((b,), self.lighting.index(name), dtype=torch.long, device=x.device)

    def estimate_lighting(self, x: torch.Tensor) -> torch.Tensor:
        """The input's own lighting class (for ``lighting="keep"``): ``lighting_estimator`` over
        this model's lighting classes (the project's lighting classifier, its logits restricted to
        those classes, when :class:`faceedit.api.Editor` loaded the model)."""
        if self.lighting_estimator is None:
            raise UsageError("lighting='keep' needs a lighting estimator: edit through faceedit.api.Editor "
                             "(it gives the model the project's lighting classifier) or set "
                             "model.lighting_estimator = faceedit.analysis.classify.estimate_lighting; "
                             f"or pass a lighting class: {', '.join(self.lighting)}")
        return self.lighting_estimator(x, list(self.lighting)).to(device=x.device, dtype=torch.long)

    # ---- forward --------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, expression: torch.Tensor, lighting: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``G`` on class indices (B,) (-1 = no condition): (output, expression mask, lighting mask)."""
        return self.G(x, one_hot(expression, len(self.expressions), x.dtype),
                      one_hot(lighting, len(self.lighting), x.dtype))

    @torch.no_grad()
    def edit_with_masks(self, x: torch.Tensor, target: str, lighting: str | None = None
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Edit crops ``x`` (B, C, S, S) in [-1, 1] to expression ``target`` under ``lighting``.

        Returns ``(output, expression_mask, lighting_mask)``: the output has ``x``'s shape; the
        masks are (B, model channels, S, S) in [-1, 1]. A 3-channel ``x`` on a 1-channel model is
        edited on its BT.601 luma and the luma change is added to R, G and B.
        """
        self.check_target(target)
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"expected crops (B, 1|3, S, S), got {tuple(x.shape)}")
        step = 2 ** self.cfg.n_down
        if x.shape[-1] % step or x.shape[-2] % step:
            raise ValueError(f"crop sides must be multiples of {step}, got {tuple(x.shape[-2:])}")
        luma_of_rgb = self.channels == 1 and x.shape[1] == 3
        if not luma_of_rgb and x.shape[1] != self.channels:
            raise ValueError(f"this model takes {self.channels}-channel crops, got {x.shape[1]}")
        inp = luma_tensor(x) if luma_of_rgb else x
        e = torch.full((x.shape[0],), self.expressions.index(target), dtype=torch.long, device=x.device)
        out, m_e, m_l = self(inp, e, self.lighting_index(inp, lighting))
        if luma_of_rgb:
            out = (x + (out - inp)).clamp(-1, 1)
        return out, m_e, m_l

    @torch.no_grad()
    def edit(self, x: torch.Tensor, target: str, strength: float = 1.0, *, lighting: str | None = None,
             return_masks: bool = False, **options: Any):
        """The edited crops; with ``return_masks=True`` the tuple of :meth:`edit_with_masks`."""
        if options:
            raise UsageError(f"unknown LEGAN option(s): {', '.join(sorted(options))}; "
                             "valid: lighting, return_masks")
        result = self.edit_with_masks(x, target, lighting)
        return result if return_masks else result[0]

    @torch.no_grad()
    def edit_and_masks(self, x: torch.Tensor, target: str, strength: float = 1.0, *,
                       lighting: str | None = None, **options: Any):
        out, m_e, m_l = self.edit(x, target, strength, lighting=lighting, return_masks=True, **options)
        return out, dict(zip(self.mask_names, (m_e, m_l)))


# Registered, with the options it takes, by faceedit.models.catalogue.legan.
def build_legan(config: LEGANConfig | Mapping[str, Any] | None = None) -> LEGAN:
    return LEGAN(config)

