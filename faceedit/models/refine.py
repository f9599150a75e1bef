"""Refiners of what the stage invents: a method's generator, run on crops of the regions the stage
painted from nothing the photo showed (an open mouth's inside), that makes them look
photographed and changes nothing else.

The stage reports each such region as a coverage mask at the photo's resolution
(:attr:`faceedit.stage.records.StageEdit.invented`); the closed lids it draws are found the same
way from the landmarks before and after its edit (:func:`faceedit.models.refine_regions.lid_region`,
for a refiner whose :attr:`RefinerConfig.region` is ``lids``). For each one, :func:`refine_photo`

1. cuts a square box around the mouth of the face's moved landmarks (:func:`region_box`: its
   side :attr:`RefinerConfig.crop_scale` times the mouth's width, so every mouth fills the crop
   alike) and resizes it to :attr:`RefinerConfig.crop` px, with the region's feathered mask
   (:func:`feathered`) cut and resized the same way;
2. runs the refiner on (crop, mask): a light gain per pixel, ``2 ** (GAIN_STOPS * t)`` with
   ``t`` in [-1, 1], the same for R, G and B (light and shadow: the region's colours keep their
   hue, as under less or more light), and, where :attr:`RefinerConfig.residual` is set, an RGB
   residual of at most that many levels per channel (tanh-bounded: light, colour and texture a
   gain cannot make, such as a lit edge in a black cavity or a redder shadow), where
   :attr:`RefinerConfig.residual_below` is set only in the stage's shadow (:func:`shadow_weight`:
   the cavity, not the teeth and lips the stage painted lit);
3. resizes the outputs to the box's own size, multiplies them by the feathered mask at the
   photo's resolution and applies them there (``pixel * gain + residual``).

Outside the feathered mask the weight is exactly 0 and the pixels are not written: the network's
change is confined to what the stage invented, bit for bit, by construction. The same composite
in crop space (:meth:`RegionRefiner.composite`) is what training shows the discriminator
(:mod:`faceedit.train.refiner`, SimGAN: Shrivastava et al., CVPR 2017).

A *native* refiner (:attr:`RefinerConfig.native`) works at the photo's own pixels instead
(:func:`_refine_native`): the weight's roi and :data:`NATIVE_CONTEXT` px around it, not resized
(halved only where wider than :attr:`RefinerConfig.max_side`), run through the generator fully
convolutionally (EGGAN's, whose FC code fixes its size, on ``crop``-px tiles, each its own code);
its one output, less its Gaussian blur of :attr:`RefinerConfig.highpass` px twice (``(1 - G)^2``:
a texture, grain and focus at edges, not light), is a gain of at most :attr:`RefinerConfig.stops`
stops applied the same to R, G and B: a pixel of its output is a pixel of the photo, and no hue
changes (Cb/Y, Cr/Y stay; :mod:`faceedit.train.refiner_native` trains it).

The generator is the method's own (:data:`GENERATORS`), its paper's architecture at small widths,
taking 4 channels (RGB and the mask) and returning 1 (the gain's exponent) or 4 (and the RGB
residual): RegGAN's refinement
network ``G_R`` (:class:`faceedit.models.reggan.Refiner`: encoding, latent and decoding attention
blocks); EGGAN's encoder ``E`` and generator ``G`` (:mod:`faceedit.models.eggan`: an autoencoder
through an FC code); LEGAN's expression, lighting and fusion hourglasses
(:class:`faceedit.models.legan.LeganGenerator`); LSSL's ``G_dec(G_enc(x, s))``
(:class:`faceedit.models.lssl.LSSLGenerator`, the mask as its side image ``s``); SeCGAN's RGB
branch, StarGAN's generator (:class:`faceedit.models.secgan.StarGenerator`). The methods'
conditions (expressions, AUs, lighting, attributes) are empty: a refiner has one job. Each
generator's output convolution (:data:`HEADS`) starts at zero, so an untrained refiner changes
nothing. Checkpoints are safetensors (``faceedit.arch``
``region_refiner``, the :class:`RefinerConfig` as ``faceedit.config``), read by
:func:`faceedit.models.checkpoint.load_checkpoint`: verified, never unpickled.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from faceedit.errors import CheckpointError
from faceedit.pixels import luma, luma_tensor, pixel_max

#: ``faceedit.arch`` of a region refiner's checkpoint.
ARCH = "region_refiner"
#: The ``--set`` key that turns a method's refiner on or off.
SETTING = "refine"
#: The invented regions a refiner knows: the open mouth the stage reports, the closed lids it draws
#: (:func:`faceedit.models.refine_regions.lid_region`).
REGIONS = ("mouth", "lids")
#: The refiner's gain spans 2 ** -GAIN_STOPS .. 2 ** GAIN_STOPS (a quarter to four times the light).
GAIN_STOPS = 2.0

Box = tuple[int, int, int]  # (x0, y0, side): a square of the photo, possibly past its edges


@dataclasses.dataclass(frozen=True)
class RefinerConfig:
    """A region refiner: which method's generator, at what crop, and how its change is pasted."""

    method: str = "reggan"  # whose generator (a key of GENERATORS)
    region: str = "mouth"  # the invented region it refines (REGIONS)
    crop: int = 64  # the refiner's crop side (px)
    crop_scale: float = 1.4  # the box's side over the mouth's width (outer corners 48-54)
    feather: float = 0.015  # sigma of the mask's feather, a share of the box's side
    default_on: bool = False  # whether the method's runs use it without --set refine=on
    residual: float = 0.0  # bound of the RGB residual (levels of 255); 0: the gain alone (one output)
    residual_below: float = 0.0  # the residual only where the stage's light is under this (0: everywhere)
    generator: dict[str, Any] = dataclasses.field(default_factory=dict)  # the generator's widths
    # native: the box at the photo's own pixels (no resize; see "native" below); its output the
    # gain's exponent less its Gaussian blur of ``highpass`` px (a luma texture, not the light),
    # at most ``stops`` stops
    native: bool = False
    highpass: float = 0.0
    stops: float = GAIN_STOPS
    max_side: int = 768  # native: a box wider than this runs at half the photo's pixels

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> RefinerConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d or {}) - names)
        if unknown:
            raise ValueError(f"region refiner config: unknown keys {', '.join(unknown)}")
        cfg = cls(**dict(d or {}))
        if cfg.method not in GENERATORS:
            raise ValueError(f"region refiner config: no generator for method {cfg.method!r}; "
                             f"known: {', '.join(GENERATORS)}")
        if cfg.region not in REGIONS:
            raise ValueError(f"region refiner config: unknown region {cfg.region!r}; known: {', '.join(REGIONS)}")
        if cfg.crop % 8 or cfg.crop < 32:
            raise ValueError(f"region refiner config: crop {cfg.crop} must be a multiple of 8, at least 32")
        if cfg.native and cfg.residual > 0:
            raise ValueError("region refiner config: a native refiner has no RGB residual (its change is a luma gain)")
        return cfg

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# -- generators, one per method ----------------------------------------------------------------
# Each builder gives the method's own generator (its paper's architecture, at small widths) on
# (RGB, mask): 4 channels in, 1 out, through the generator's own output activation (tanh);
# :class:`RegionRefiner` zeroes the convolution named in :data:`HEADS` (an untrained refiner changes
# nothing) and bounds the result once more by tanh. A method's own condition (expression, AUs,
# attributes, lighting) has no counterpart here: the refiner has one job, so the conditions are
# empty vectors.
def _empty(x: torch.Tensor) -> torch.Tensor:
    """The empty condition (B, 0) of a conditional generator."""
    return x.new_zeros(x.shape[0], 0)


def outputs(cfg: RefinerConfig) -> int:
    """The generator's output channels: the gain's exponent, and an RGB residual where
    ``cfg.residual`` bounds one."""
    return 4 if cfg.residual > 0 else 1


def _reggan_generator(cfg: RefinerConfig) -> nn.Module:
    """RegGAN's ``G_R`` (3 EABs, latent attention blocks, 3 DABs)."""
    from faceedit.models.reggan import Refiner

    g = {"base_channels": 16, "max_channels": 64, "n_latent": 10, "attention_channels": 16,
         "hourglass_depth": 2, "norm": "instance", **cfg.generator}
    return Refiner(4, g["base_channels"], g["max_channels"], g["n_latent"], g["attention_channels"],
                   g["hourglass_depth"], g["norm"], residual=False, out_channels=outputs(cfg))


class _EGGANRefiner(nn.Module):
    """EGGAN's encoder ``E`` (5 stride-2 4x4 convolutions -> FC code) and generator ``G``
    (FC -> up-sampling residual blocks -> conv -> tanh) as an autoencoder of the crop, with no AU
    condition."""

    def __init__(self, size: int, g: Mapping[str, Any], out: int) -> None:
        super().__init__()
        from faceedit.models.eggan import Encoder, Generator

        widths = list(g["enc_channels"])
        self.encoder = Encoder(size, 4, widths, g["latent_dim"], 1, 1.0, 1)
        self.encoder.au_head = nn.Sequential()  # no AUs to regress: the refiner has one job
        self.decoder = Generator(size, out, g["latent_dim"], 0, 1.0, g["gen_blocks"], g["gen_channels"],
                                 g["gen_min_channels"], False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        latent, _ = self.encoder(x)
        return self.decoder(latent, _empty(x))


def _eggan_generator(cfg: RefinerConfig) -> nn.Module:
    g = {"enc_channels": [16, 32, 64, 64, 64], "latent_dim": 128, "gen_blocks": 4, "gen_channels": 64,
         "gen_min_channels": 16, **cfg.generator}
    return _EGGANRefiner(cfg.crop, g, outputs(cfg))


class _LEGANRefiner(nn.Module):
    """LEGAN's three hourglasses: the expression and the lighting hourglass each read (RGB, mask)
    and give a mask; the fusion hourglass turns the two into the output."""

    def __init__(self, g: Mapping[str, Any], out: int) -> None:
        super().__init__()
        from faceedit.models.legan import LeganGenerator

        # one output: LeganGenerator(channels=1, n_expr=3, n_light=3), hourglasses of 1 + 3 = 4
        # channels in (RGB and the mask in place of the condition planes), 1 out, the fusion 2 -> 1;
        # four outputs: LeganGenerator(4, 0, 0), hourglasses 4 -> 4, the fusion 8 -> 4
        cond = 3 if out == 1 else 0
        self.g = LeganGenerator(out, cond, cond, g["dim"], g["max_dim"], g["n_down"], g["n_res"], g["norm"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.g.fusion(torch.cat([self.g.expression(x), self.g.lighting(x)], 1))


def _legan_generator(cfg: RefinerConfig) -> nn.Module:
    return _LEGANRefiner({"dim": 8, "max_dim": 32, "n_down": 2, "n_res": 2, "norm": "instance", **cfg.generator},
                         outputs(cfg))


class _LSSLRefiner(nn.Module):
    """LSSL's generator ``G_dec(G_enc(x, s))``: the crop as its image ``x`` and the mask as its
    side image ``s`` (a landmark heat map in the paper), stride-2 encoder, residual blocks,
    pixel-shuffle decoder; the decoder's head gives the refiner's outputs."""

    def __init__(self, g: Mapping[str, Any], out: int) -> None:
        super().__init__()
        from faceedit.models.lssl import LSSLGenerator

        self.g = LSSLGenerator(3, 0, base=g["base"], max_channels=g["max_channels"], n_down=g["n_down"],
                               n_res=g["n_res"], norm=g["norm"])
        self.g.net.head = nn.Conv2d(self.g.net.head.in_channels, out, 7, 1, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        image, mask = x[:, :3], x[:, 3:]
        return torch.cat(self.g.decode(self.g.encode(image, mask), _empty(x), image, mask), 1)  # (image, side) parts


def _lssl_generator(cfg: RefinerConfig) -> nn.Module:
    return _LSSLRefiner({"base": 16, "max_channels": 64, "n_down": 3, "n_res": 3, "norm": "instance",
                         **cfg.generator}, outputs(cfg))


class _SeCGANRefiner(nn.Module):
    """SeCGAN's RGB branch, StarGAN's generator (7x7 stem, stride-2 convolutions, residual
    blocks, transposed convolutions, 7x7 head, tanh), on (RGB, mask)."""

    def __init__(self, g: Mapping[str, Any], out: int) -> None:
        super().__init__()
        from faceedit.models.secgan import StarGenerator

        self.g = StarGenerator(4, out, 0, base=g["base"], max_channels=g["max_channels"], n_down=g["n_down"],
                               n_res=g["n_res"], norm=g["norm"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.g(x, _empty(x))


def _secgan_generator(cfg: RefinerConfig) -> nn.Module:
    return _SeCGANRefiner({"base": 16, "max_channels": 64, "n_down": 2, "n_res": 3, "norm": "instance",
                           **cfg.generator}, outputs(cfg))


#: method -> the builder of its generator as a region refiner.
GENERATORS: dict[str, Callable[[RefinerConfig], nn.Module]] = {
    "reggan": _reggan_generator, "eggan": _eggan_generator, "legan": _legan_generator,
    "lssl": _lssl_generator, "secgan": _secgan_generator}
#: method -> its generator's output convolution (a submodule's path; -2: a Sequential's last but
#: one), zeroed at the start.
HEADS = {"reggan": "head.conv", "eggan": "decoder.out", "legan": "g.fusion.body.-2",
         "lssl": "g.net.head", "secgan": "g.net.head"}


class RegionRefiner(nn.Module):
    """A method's generator as a refiner of one kind of invented region (see the module
    docstring). ``forward(crops, masks)``: crops (B, 3, S, S) in [-1, 1], masks (B, 1, S, S) in
    [0, 1] -> (B, C, S, S) in [-1, 1] before the mask: channel 0 the gain's exponent over
    :data:`GAIN_STOPS`; where ``cfg.residual`` > 0, channels 1-3 the RGB residual over
    ``cfg.residual`` levels."""

    def __init__(self, config: RefinerConfig | Mapping[str, Any] | None = None):
        super().__init__()
        self.cfg = config if isinstance(config, RefinerConfig) else RefinerConfig.from_dict(config)
        self.net = GENERATORS[self.cfg.method](self.cfg)
        head = self.head()
        nn.init.zeros_(head.weight)
        if head.bias is not None:
            nn.init.zeros_(head.bias)

    def head(self) -> nn.Conv2d:
        """The generator's output convolution (:data:`HEADS`): zero at the start."""
        head: Any = self.net
        for part in HEADS[self.cfg.method].split("."):
            head = head[int(part)] if part.lstrip("-").isdigit() else getattr(head, part)
        assert isinstance(head, nn.Conv2d), HEADS[self.cfg.method]
        return head

    def forward(self, crops: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        x = torch.cat([crops, 2.0 * masks - 1.0], 1)
        if not self.cfg.native:
            return torch.tanh(self.net(x))
        t = torch.tanh(self._any_size(x))
        for _ in range(2 if self.cfg.highpass > 0 else 0):  # (1 - G)^2: a Gaussian's blur of it is small
            t = t - blur_tensor(t, self.cfg.highpass)
        return t

    def _any_size(self, x: torch.Tensor) -> torch.Tensor:
        """The generator on (B, 4, H, W) of any size: padded (reflected) to a multiple of 16;
        EGGAN's (an FC code of a ``crop``-px square) on ``crop``-px tiles, each its own code."""
        h, w = x.shape[-2:]
        unit = self.cfg.crop if self.cfg.method == "eggan" else 16
        ph, pw = -h % unit, -w % unit
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect" if ph < h and pw < w else "replicate")
        if self.cfg.method != "eggan":
            return self.net(x)[..., :h, :w]
        b, c, hh, ww = x.shape
        s = self.cfg.crop
        tiles = x.unfold(2, s, s).unfold(3, s, s)  # (B, C, nh, nw, s, s)
        nh, nw = tiles.shape[2:4]
        tiles = tiles.permute(0, 2, 3, 1, 4, 5).reshape(b * nh * nw, c, s, s)
        out = self.net(tiles)
        out = out.reshape(b, nh, nw, -1, s, s).permute(0, 3, 1, 4, 2, 5).reshape(b, -1, hh, ww)
        return out[..., :h, :w]

    def composite(self, crops: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """The refined crops (what :func:`refine_photo` pastes, in crop space)."""
        return self.with_gain(crops, masks, self(crops, masks))

    def with_gain(self, crops: torch.Tensor, masks: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """:meth:`composite` for a given output ``t``: the crops' light (0..1) times
        ``2 ** (stops * masks * t[:, :1])``, plus ``masks * t[:, 1:4]`` times the residual's
        bound, back in [-1, 1] and clamped."""
        gain = torch.exp2(self.cfg.stops * masks * t[:, :1])
        out = (crops + 1.0) * gain
        if t.shape[1] > 1:
            shade = shadow_weight(luma_tensor(crops) * 0.5 + 0.5, self.cfg.residual_below)
            out = out + masks * shade * t[:, 1:4] * (2.0 * self.cfg.residual / 255.0)
        return (out - 1.0).clamp(-1.0, 1.0)


def blur_tensor(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """A separable Gaussian blur of (B, C, H, W) by ``sigma`` px (edges reflected where the
    image is wide enough, else repeated)."""
    r = max(int(np.ceil(3 * sigma)), 1)
    k = torch.exp(-torch.arange(-r, r + 1, dtype=x.dtype, device=x.device) ** 2 / (2 * sigma * sigma))
    k = k / k.sum()
    c, mode = x.shape[1], "reflect" if min(x.shape[-2:]) > r else "replicate"
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode=mode), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode=mode), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def shadow_weight(light: Any, below: float) -> Any:
    """Where a refiner's RGB residual applies, by the stage's own light (luma in 0..1, an array
    or a tensor): fully under half of ``below``, fading to nothing at ``below`` (the cavity's
    shadow, not the teeth or the lips the stage painted lit); 1 everywhere where ``below`` is 0."""
    if below <= 0:
        return 1.0
    ramp = (below - light) / (0.5 * below)
    return ramp.clamp(0.0, 1.0) if isinstance(ramp, torch.Tensor) else np.clip(ramp, 0.0, 1.0)


# -- geometry ------------------------------------------------------------------------------------
def region_box(landmarks: np.ndarray, crop_scale: float) -> Box:
    """The square around the mouth of 68 ``landmarks`` (image px): centred on the mean of the
    mouth's points (48-67), its side ``crop_scale`` times the distance between the outer
    corners (48, 54), at least 8 px."""
    lm = np.asarray(landmarks, np.float64)
    width = float(np.linalg.norm(lm[54] - lm[48]))
    side = max(int(round(crop_scale * width)), 8)
    cx, cy = lm[48:68].mean(0)
    return int(round(cx - side / 2)), int(round(cy - side / 2)), side


def cut_box(image: np.ndarray, box: Box, size: int) -> np.ndarray:
    """``box`` of ``image`` ((H, W) or (H, W, C), any dtype) as float32 resized to ``size`` x
    ``size`` (area-averaged when shrinking, cubic when enlarging); past the image's edges it
    repeats the edge pixels."""
    x0, y0, side = box
    h, w = image.shape[:2]
    pad = max(0, -x0, -y0, x0 + side - w, y0 + side - h)
    src: np.ndarray = image.astype(np.float32)
    if pad:
        src = np.asarray(cv2.copyMakeBorder(src, pad, pad, pad, pad, cv2.BORDER_REPLICATE))
    part = src[y0 + pad:y0 + pad + side, x0 + pad:x0 + pad + side]
    interp = cv2.INTER_AREA if side >= size else cv2.INTER_CUBIC
    out = cv2.resize(part, (size, size), interpolation=interp)
    return out.reshape(size, size, *image.shape[2:])


def feathered(coverage: np.ndarray, sigma: float) -> np.ndarray:
    """The weight a refiner's change is pasted with: the coverage (0..1) blurred by ``sigma`` px
    and doubled (full inside, a soft edge of about ``sigma`` past the region), exactly 0 where
    it falls under 1/1024 (nothing there is written)."""
    cov: np.ndarray = np.clip(np.asarray(coverage, np.float32), 0.0, 1.0)
    if sigma > 0.3:
        cov = np.asarray(cv2.GaussianBlur(cov, (0, 0), sigma))
    out = np.minimum(2.0 * cov, 1.0)
    out[out < 1.0 / 1024] = 0.0
    return out.astype(np.float32)


def paste_weight(shape: tuple[int, int], landmarks: np.ndarray, invented: tuple[tuple[int, int, int, int], np.ndarray],
                 cfg: RefinerConfig) -> tuple[Box, tuple[int, int, int, int], np.ndarray]:
    """Where a refiner's change of one face goes in a photo of ``shape`` (H, W): (the mouth's
    box, the roi (x0, y0, x1, y1) of the weight, the weight over it): the invented region's
    coverage (``invented``: roi, coverage) grown by room for its feather and
    :func:`feathered` by ``cfg.feather`` of the box's side. Zero everywhere else."""
    box = region_box(landmarks, cfg.crop_scale)
    sigma = cfg.feather * box[2]
    margin = int(np.ceil(4 * sigma)) + 2
    (x0, y0, x1, y1), cov = invented
    h, w = shape
    gx0, gy0, gx1, gy1 = max(x0 - margin, 0), max(y0 - margin, 0), min(x1 + margin, w), min(y1 + margin, h)
    grown = np.zeros((gy1 - gy0, gx1 - gx0), np.float32)
    grown[y0 - gy0:y1 - gy0, x0 - gx0:x1 - gx0] = cov
    return box, (gx0, gy0, gx1, gy1), feathered(grown, sigma)


def weight_image(shape: tuple[int, int], landmarks: np.ndarray,
                 invented: tuple[tuple[int, int, int, int], np.ndarray], cfg: RefinerConfig) -> np.ndarray:
    """:func:`paste_weight` as a whole (H, W) float32 image: 0 where a refiner writes nothing."""
    _, (x0, y0, x1, y1), weight = paste_weight(shape, landmarks, invented, cfg)
    full = np.zeros(shape, np.float32)
    full[y0:y1, x0:x1] = weight
    return full


# -- the photo -----------------------------------------------------------------------------------
def refine_photo(refiner: RegionRefiner, pixels: np.ndarray,
                 regions: Sequence[tuple[np.ndarray, tuple[tuple[int, int, int, int], np.ndarray] | None]],
                 *, device: torch.device | str = "cpu") -> np.ndarray:
    """``pixels`` ((H, W, 3) or (H, W) uint8/uint16, not changed) with each invented region
    refined; ``regions``: per face (its 68 landmarks after the stage, its
    :attr:`~faceedit.stage.records.StageEdit.invented` or None). Returns a new array, or
    ``pixels`` itself where no face has a region. Pixels outside every region's feathered mask
    are not written."""
    todo = [(np.asarray(lm, np.float64), inv) for lm, inv in regions
            if inv is not None and np.shape(lm) == (68, 2) and float(np.max(inv[1], initial=0.0)) > 0]
    if not todo:
        return pixels
    if refiner.cfg.native:
        return _refine_native(refiner, pixels, todo, device)
    cfg, unit = refiner.cfg, pixel_max(pixels.dtype)
    h, w = pixels.shape[:2]
    rgb = pixels[..., None].repeat(3, -1) if pixels.ndim == 2 else pixels[..., :3]
    crops, masks, placed = [], [], []
    for lm, invented in todo:
        box, groi, weight = paste_weight((h, w), lm, invented, cfg)
        full = np.zeros((h, w), np.float32)
        full[groi[1]:groi[3], groi[0]:groi[2]] = weight
        crops.append(cut_box(rgb, box, cfg.crop) / unit)
        masks.append(cut_box(full, box, cfg.crop))
        placed.append((box, groi, weight))
    x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).to(device) * 2.0 - 1.0
    m = torch.from_numpy(np.clip(np.stack(masks), 0.0, 1.0))[:, None].to(device)
    with torch.inference_mode():
        raw = refiner(x, m).float().cpu().numpy()  # (N, C, S, S)
    out = pixels.copy()
    for d, (box, (gx0, gy0, gx1, gy1), weight) in zip(raw, placed):
        x0, y0, side = box
        bx0, by0 = max(gx0, x0), max(gy0, y0)
        bx1, by1 = min(gx1, x0 + side), min(gy1, y0 + side)
        if bx1 <= bx0 or by1 <= by0:
            continue
        # the outputs over the weight's roi (the box may not cover all of it: 0 there)
        big = cv2.resize(d.transpose(1, 2, 0), (side, side), interpolation=cv2.INTER_LINEAR).reshape(side, side, -1)
        corr = np.zeros((gy1 - gy0, gx1 - gx0, big.shape[-1]), np.float32)
        corr[by0 - gy0:by1 - gy0, bx0 - gx0:bx1 - gx0] = big[by0 - y0:by1 - y0, bx0 - x0:bx1 - x0]
        inside = weight > 0
        w = weight[inside][:, None]
        gain = np.exp2(cfg.stops * corr[..., :1][inside] * w)  # (n, 1)
        region = out[gy0:gy1, gx0:gx1] if pixels.ndim == 2 else out[gy0:gy1, gx0:gx1, :3]
        if corr.shape[-1] > 1:
            here = region[inside].astype(np.float32) / unit
            shade = shadow_weight(here if here.ndim == 1 else luma(here), cfg.residual_below)
            add = corr[..., 1:4][inside] * (w * np.reshape(shade, (-1, 1)) * (cfg.residual / 255.0 * unit))
        else:
            add = np.zeros((len(w), 3), np.float32)  # (n, 3)
        if pixels.ndim == 2:  # a grey photo: the residual's mean of R, G and B
            gain, add = gain[:, 0], add.mean(1)
        region[inside] = np.clip(np.round(region[inside].astype(np.float32) * gain + add), 0, unit)
    return out


#: Native refiners: px of the photo around the weight's roi the generator sees as context.
NATIVE_CONTEXT = 16


def _refine_native(refiner: RegionRefiner, pixels: np.ndarray, todo: list, device: torch.device | str) -> np.ndarray:
    """:func:`refine_photo` for a native refiner: per face the weight's roi and
    :data:`NATIVE_CONTEXT` px around it, at the photo's own pixels (at half of them where the
    box is wider than ``max_side``: the exponent is then resized back), through the generator;
    each pixel inside the weight is multiplied by ``2 ** (stops * weight * t)``, the same for
    R, G and B (a luma change: Cb/Y and Cr/Y keep their values)."""
    cfg, unit = refiner.cfg, pixel_max(pixels.dtype)
    h, w = pixels.shape[:2]
    out = pixels.copy()
    for lm, invented in todo:
        _, (gx0, gy0, gx1, gy1), weight = paste_weight((h, w), lm, invented, cfg)
        cx0, cy0 = max(gx0 - NATIVE_CONTEXT, 0), max(gy0 - NATIVE_CONTEXT, 0)
        cx1, cy1 = min(gx1 + NATIVE_CONTEXT, w), min(gy1 + NATIVE_CONTEXT, h)
        part = out[cy0:cy1, cx0:cx1].astype(np.float32) / unit
        rgb = np.repeat(part[..., None], 3, -1) if part.ndim == 2 else part[..., :3]
        full = np.zeros(rgb.shape[:2], np.float32)
        full[gy0 - cy0:gy1 - cy0, gx0 - cx0:gx1 - cx0] = weight
        down = 2 if max(rgb.shape[:2]) > cfg.max_side else 1
        if down > 1:
            size = (max(rgb.shape[1] // down, 1), max(rgb.shape[0] // down, 1))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            full = cv2.resize(full, size, interpolation=cv2.INTER_AREA)
        x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].to(device) * 2.0 - 1.0
        m = torch.from_numpy(np.clip(full, 0.0, 1.0))[None, None].to(device)
        with torch.inference_mode():
            t = refiner(x, m)[0, 0].float().cpu().numpy()
        if down > 1:
            t = cv2.resize(t, (cx1 - cx0, cy1 - cy0), interpolation=cv2.INTER_LINEAR)
        t = t[gy0 - cy0:gy1 - cy0, gx0 - cx0:gx1 - cx0]
        inside = weight > 0
        gain = np.exp2(cfg.stops * t[inside] * weight[inside])
        region = out[gy0:gy1, gx0:gx1] if pixels.ndim == 2 else out[gy0:gy1, gx0:gx1, :3]
        if pixels.ndim == 3:
            gain = gain[:, None]
        region[inside] = np.clip(np.round(region[inside].astype(np.float32) * gain), 0, unit)
    return out


# -- checkpoints -----------------------------------------------------------------------------------
def save_refiner(path: str | os.PathLike, refiner: RegionRefiner, meta: Mapping[str, Any] | None = None) -> str:
    """Write ``refiner`` as a safetensors checkpoint (fp16) with its config and ``meta``
    (``training_data``, ``license``, ``metrics``...); returns the file's sha256."""
    from faceedit.models.checkpoint import save_checkpoint

    return save_checkpoint(path, refiner.state_dict(),
                           {**dict(meta or {}), "arch": ARCH, "config": refiner.cfg.to_dict(),
                            "image_size": refiner.cfg.crop, "channels": 3})


def load_refiner(path: str | os.PathLike, *, expected_sha256: str | None = None,
                 device: torch.device | str = "cpu") -> RegionRefiner:
    """A region refiner from its safetensors checkpoint (verified; never unpickled).
    CheckpointError naming the file for another kind of checkpoint or a bad config."""
    from faceedit.models.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path, expected_sha256=expected_sha256)
    if ckpt.meta.arch != ARCH:
        raise CheckpointError(f"not a region refiner (its arch is {ckpt.meta.arch!r})", path)
    try:
        refiner = RegionRefiner(ckpt.meta.config)
        refiner.load_state_dict({k: v.float() for k, v in ckpt.tensors.items()})
    except (ValueError, RuntimeError, TypeError) as e:
        raise CheckpointError(f"region refiner: {str(e).splitlines()[0]}", path) from None
    return refiner.to(device).eval()


@dataclasses.dataclass(frozen=True)
class ShippedRefiner:
    """A method's shipped refiner before its weights are read: its file, the sha256 its manifest
    gives, its config (read from the file's header: no tensor read, nothing hashed yet) and the
    device it goes to. :meth:`load` reads it verified (:func:`load_refiner`). Every method's
    refiner is off by default (``default_on``), so a run that does not turn it on never reads it
    (building and verifying RegGAN's took about 0.1 CPU-s of ``apply``'s start-up)."""

    path: str
    sha256: str | None
    cfg: RefinerConfig
    device: torch.device | str = "cpu"

    def load(self) -> RegionRefiner:
        return load_refiner(self.path, expected_sha256=self.sha256, device=self.device)


def shipped_refiner_source(method: str, *, device: torch.device | str = "cpu") -> ShippedRefiner | None:
    """The refiner shipped for ``method`` (the manifest's ``files`` entry ``METHOD_refiner``) as
    a :class:`ShippedRefiner`, or None where none is listed or its file is not installed.
    CheckpointError naming the file where its header is not a region refiner's."""
    from faceedit.models.header import read_meta
    from faceedit.weights import refiner_entry, weights_dir

    entry = refiner_entry(method)
    if entry is None or not entry["present"]:
        return None
    path = weights_dir() / entry["file"]
    meta = read_meta(path)
    if meta.arch != ARCH:
        raise CheckpointError(f"not a region refiner (its arch is {meta.arch!r})", path)
    try:
        cfg = RefinerConfig.from_dict(meta.config)
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"region refiner: {str(e).splitlines()[0]}", path) from None
    return ShippedRefiner(os.fspath(path), entry.get("sha256") or None, cfg, device)


def shipped_refiner(method: str, *, device: torch.device | str = "cpu") -> RegionRefiner | None:
    """The refiner shipped for ``method``, loaded (:func:`shipped_refiner_source`), or None."""
    source = shipped_refiner_source(method, device=device)
    return None if source is None else source.load()
