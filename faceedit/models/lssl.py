"""LSSL: "Learn to Synthesize and Synthesize to Learn" (Bozorgtabar, Rad, Ekenel, Thiran; paper
text in ``shared/papers/lssl.txt``, sections 3.1 and 4.1): attribute-guided face synthesis by an
encoder-decoder generator that translates an image *and* a landmark side image together.

``G = G_dec(G_enc(x, s), y) -> (x', s')``:

* ``x`` the face crop, ``s`` its *side conditional image*, a landmark heatmap
  (:func:`faceedit.faces.landmarks.landmark_side_image`: one channel, the maximum of 2-D Gaussians
  at the inner iBUG-68 points), scaled to [-1, 1] like the image;
* ``G_enc``: ``n_down`` stride-2 convolutions (IN, ReLU) to the latent ``z`` (sec. 4.1: five);
* ``G_dec``: the target attributes ``y`` "spatially replicated and concatenated with the latent
  feature" (sec. 5.3), a fusing convolution, six residual blocks, sub-pixel (pixel-shuffle)
  upsampling with instance norm back to full size and a 7x7 convolution to image + side image.

This module also holds what SeCGAN (:mod:`faceedit.models.secgan`) shares with LSSL beyond
``layers.py``: the configurable StarGAN-family :class:`EncoderDecoder` and the attribute
vocabulary :class:`AttributeSpace` (groups of categorical / binary labels, their encoding and the
classification loss of a critic's class head).

Choices where the paper leaves room or contradicts itself (each also noted where it is made):

* **Depth.** Section 4.1 says five stride-2 convolutions and *four* upsampling layers, section 3.1
  a latent of ``h/16``; both cannot hold. ``n_down`` (default 5, the text) sets the number of
  stride-2 convolutions and the same number of pixel-shuffle upsamplings, so the output has the
  input's size. The small CPU model trained here at 64 px uses ``n_down = 4`` (a 4x4 latent =
  ``h/16``, as sec. 3.1 states): five would leave a 2x2 latent, where instance norm normalises
  four values per channel.
* **Attributes.** The paper's binary attribute vector becomes groups: one one-hot block per
  categorical label (expression; lighting where the data has it), one value per binary label. A
  block left all-zero means *unspecified / keep* (the StarGAN mask-vector idea for data sets that
  label different things): rows without a lighting label train with a zero lighting block, and at
  inference a lighting you do not ask for stays as it is. The target ``"keep"`` leaves the
  expression block zero too (use it with ``lighting=`` to relight only).
* **Residual output** (``residual``, not in the paper, default off): the decoder predicts a change
  added to the input image and side image, its last layer initialised to zero so G starts as the
  identity. The CPU-budget model trained here uses it (``faceedit.train.lssl``): a from-scratch
  encoder-decoder through a 4x4 bottleneck reconstructs faces blurrily within the minutes it gets,
  and the paste-back would carry that blur into the photo.
* **Landmarks at inference.** ``edit(x, target, landmarks=...)`` takes the crops' 68 landmarks
  (crop pixels at the model's size, as ``AlignedFace.landmarks``); without them (or with 5-point
  landmarks) it uses the model's *mean face*, the mean training landmarks stored in the checkpoint
  (buffer ``mean_landmarks``): crops are aligned to the template, so the mean face sits where the
  face is, though it cannot show the person's own expression.
* **Channels.** ``channels`` 1 (luma) or 3. The trainer here uses 1: three of the four data sets
  are greyscale and only London (neutral / happy) is colour, so an RGB model learns "sad = grey".
  The pipeline adds a 1-channel model's change to the photo's luminance and keeps its colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceedit.errors import UsageError
from faceedit.faces.types import CropTemplate
from faceedit.models.base import EditModel
from faceedit.models.layers import (
    ConvNormAct,
    NormKind,
    PixelShuffleUp,
    ResidualBlock,
    broadcast_condition,
    norm_layer,
)
from faceedit.models.registry import ModelSpec, WeightSource, register_arch, register_model

KEEP = "keep"
"""The target that leaves the expression as it is (edit only lighting / attributes)."""

BINARY_KEYS = ("glasses",)
"""Label keys that are yes/no attributes (data values ``"True"`` / ``"False"``)."""
BINARY_VALUES = ["False", "True"]


# ----------------------------------------------------------------------------------------------
# Attribute vocabulary (shared with SeCGAN)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeSpace:
    """The attribute vector of a StarGAN-family model: one block per label key, in order.

    A categorical key (``expression``, ``lighting``) takes ``len(values)`` entries (one-hot); a
    binary key (``glasses``, values ``["False", "True"]``) takes one entry (1 = True). Labels are
    class indices into ``values`` with -1 = unknown, as the training batches carry them; an
    unknown label encodes as an all-zero block.
    """

    keys: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    binary: frozenset[str] = frozenset()

    @classmethod
    def from_vocab(cls, vocab: dict[str, list[str]], keys: tuple[str, ...] | list[str]) -> AttributeSpace:
        """The keys of ``keys`` that ``vocab`` gives at least two values (a key with one value
        cannot be changed, one with none is absent from the data)."""
        kept = [k for k in keys if len(vocab.get(k, [])) >= 2]
        for k in kept:
            if k in BINARY_KEYS and sorted(vocab[k]) != BINARY_VALUES:
                raise ValueError(f"binary attribute {k!r} must take the values {BINARY_VALUES}, got {vocab[k]}")
        return cls(tuple(kept), tuple(tuple(BINARY_VALUES) if k in BINARY_KEYS else tuple(vocab[k])
                                      for k in kept), frozenset(k for k in kept if k in BINARY_KEYS))

    @classmethod
    def from_config(cls, attributes: dict[str, list[str]]) -> AttributeSpace:
        return cls(tuple(attributes), tuple(tuple(v) for v in attributes.values()),
                   frozenset(k for k in attributes if k in BINARY_KEYS))

    def to_config(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in zip(self.keys, self.values)}

    def subset(self, keys) -> AttributeSpace:
        """The space of the given keys only (those present), in this space's order."""
        idx = [i for i, k in enumerate(self.keys) if k in keys]
        return AttributeSpace(tuple(self.keys[i] for i in idx), tuple(self.values[i] for i in idx),
                              frozenset(k for k in self.binary if k in keys))

    def width(self, key: str) -> int:
        return 1 if key in self.binary else len(self.values[self.keys.index(key)])

    @property
    def dim(self) -> int:
        return sum(self.width(k) for k in self.keys)

    def slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for k in self.keys:
            out[k] = slice(start, start + self.width(k))
            start += self.width(k)
        return out

    def index(self, key: str, value: str) -> int:
        values = self.values[self.keys.index(key)]
        if value not in values:
            raise UsageError(f"unknown {key} {value!r}; valid: {', '.join(values)}")
        return values.index(value)

    def encode(self, labels: dict[str, torch.Tensor], batch: int | None = None,
               device: torch.device | str | None = None) -> torch.Tensor:
        """(B, dim) float vector of class-index labels (-1 or a missing key = all-zero block)."""
        if batch is None:
            batch = len(next(iter(labels.values())))
        if device is None and labels:
            device = next(iter(labels.values())).device
        out = torch.zeros(batch, self.dim, device=device)
        for k, sl in self.slices().items():
            lab = labels.get(k)
            if lab is None:
                continue
            known = lab >= 0
            if k in self.binary:
                out[:, sl] = (lab == 1).float().unsqueeze(1)
            else:
                out[:, sl] = F.one_hot(lab.clamp(min=0), self.width(k)).float() * known.unsqueeze(1)
        return out

    def sample_targets(self, labels: dict[str, torch.Tensor], keep_prob: float = 0.0,
                       generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Random target labels for a batch: per key and row a uniformly drawn class, or -1
        ("keep") with probability ``keep_prob`` and wherever the source label is unknown (an
        attribute that cannot be classified or reconstructed is left alone)."""
        out = {}
        for k in self.keys:
            src = labels[k]
            n = self.width(k) if k not in self.binary else 2
            t = torch.randint(0, n, src.shape, device=src.device, generator=generator)
            if keep_prob > 0:
                keep = torch.rand(src.shape, device=src.device, generator=generator) < keep_prob
                t = torch.where(keep, torch.full_like(t, -1), t)
            out[k] = torch.where(src >= 0, t, torch.full_like(t, -1))
        return out

    @staticmethod
    def effective(targets: dict[str, torch.Tensor], source: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The labels an edited image should show: the target where one is set, else the source."""
        return {k: torch.where(t >= 0, t, source[k]) for k, t in targets.items()}

    def cls_loss(self, logits: torch.Tensor, labels: dict[str, torch.Tensor]) -> torch.Tensor:
        """Classification loss of a critic's class head (B, dim): per categorical key the
        cross-entropy, per binary key the binary cross-entropy (LSSL eq. 2-3, SeCGAN eq. 3-4),
        over the rows whose label is known, summed over keys. Zero (with a graph) when no label
        is known."""
        total = logits.sum() * 0.0
        for k, sl in self.slices().items():
            lab = labels.get(k)
            if lab is None:
                continue
            known = lab >= 0
            if not bool(known.any()):
                continue
            if k in self.binary:
                total = total + F.binary_cross_entropy_with_logits(
                    logits[known, sl].squeeze(1).float(), lab[known].float())
            else:
                total = total + F.cross_entropy(logits[known, sl].float(), lab[known])
        return total

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Logits (B, dim) -> an attribute vector of probabilities: softmax per categorical
        block, sigmoid per binary entry."""
        out = torch.empty_like(logits)
        for k, sl in self.slices().items():
            out[:, sl] = torch.sigmoid(logits[:, sl]) if k in self.binary else logits[:, sl].softmax(1)
        return out


# ----------------------------------------------------------------------------------------------
# The StarGAN-family encoder-decoder (shared with SeCGAN)
# ----------------------------------------------------------------------------------------------


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
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def encode(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if self.cond_at == "input":
            x = broadcast_condition(x, c)
        return self.encoder(x)

    def decode(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if self.cond_at == "latent":
            z = self.fuse(broadcast_condition(z, c))
        return self.head(self.decoder(self.bottleneck(z)))

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x, c), c)


# ----------------------------------------------------------------------------------------------
# LSSL
# ----------------------------------------------------------------------------------------------


class LSSLGenerator(nn.Module):
    """``G(x, s, y) = G_dec(G_enc(x, s), y) -> (x', s', z)``; ``x`` (B, C, S, S) and ``s``
    (B, 1, S, S) in [-1, 1], ``z = G_enc(x, s)`` the latent representation (eq. 6 compares
    latents; returned by ``forward`` so that trainers call nothing but ``forward``, as
    DistributedDataParallel requires). Outputs are tanh-bounded, or ``clamp(input + change)`` when
    ``residual``."""

    def __init__(self, channels: int, cond_dim: int, *, base: int, max_channels: int, n_down: int,
                 n_res: int, norm: NormKind = "instance", residual: bool = False) -> None:
        super().__init__()
        self.channels, self.residual = channels, residual
        self.net = EncoderDecoder(channels + 1, channels + 1, cond_dim, base=base,
                                  max_channels=max_channels, n_down=n_down, n_res=n_res, stem_kernel=0,
                                  cond_at="latent", up="subpixel", norm=norm, zero_head=residual)

    def encode(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """The latent representation ``G_enc(x, s)`` (eq. 6 compares these)."""
        return self.net.encode(torch.cat([x, s], 1))

    def decode(self, z: torch.Tensor, y: torch.Tensor, x: torch.Tensor, s: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``G_dec(z, y)``; ``x, s`` (the encoded inputs) are used only when ``residual``."""
        out = self.net.decode(z, y)
        if self.residual:
            out = (torch.cat([x, s], 1) + out).clamp(-1, 1)
        else:
            out = torch.tanh(out)
        return out[:, : self.channels], out[:, self.channels :]

    def forward(self, x: torch.Tensor, s: torch.Tensor, y: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        z = self.encode(x, s)
        return (*self.decode(z, y, x, s), z)


DEFAULT_CONFIG: dict[str, Any] = {
    "image_size": 128,  # crop side (paper: 128)
    "channels": 3,  # 3 = RGB, 1 = luma
    "attributes": {},  # label key -> class names, in order (see AttributeSpace)
    "base_channels": 32,  # encoder width after the first stride-2 convolution
    "max_channels": 128,  # cap on widths
    "n_down": 5,  # stride-2 convolutions = pixel-shuffle upsamplings (paper text: 5; see notes)
    "n_res": 6,  # residual blocks after the attribute concatenation (paper: 6)
    "norm": "instance",
    "residual": False,  # predict a change added to the inputs (not in the paper; see notes)
    "sigma": None,  # side image Gaussian sigma in pixels (None: size / 64)
}


def side_image(landmarks, size: int, sigma: float | None = None) -> torch.Tensor:
    """LSSL's side conditional image of (B, 68, 2) crop-pixel landmarks at ``size``: (B, 1, S, S)
    in [-1, 1] (the landmark heatmap of :func:`faceedit.faces.landmarks.landmark_side_image`,
    mapped like an image)."""
    from faceedit.faces.landmarks import landmark_side_image

    return landmark_side_image(landmarks, size, sigma=sigma) * 2 - 1


class LSSL(EditModel):
    """The exported LSSL model: generator ``G`` + the mean training landmarks (``mean_landmarks``,
    (68, 2) crop pixels at ``image_size``) for crops that come without landmarks.

    ``edit(x, target, lighting=None, landmarks=None)``: ``target`` an expression of the model or
    ``"keep"``; ``lighting`` a lighting class (when the model learnt lighting) or None to leave the
    lighting as it is; ``landmarks`` (B, 68, 2) crop-pixel landmarks of ``x`` (numpy or tensor)."""

    wants_landmarks = True  # the pipeline passes each crop's 68 landmarks as ``landmarks=``

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.config = {**DEFAULT_CONFIG, **(config or {})}
        c = self.config
        self.space = AttributeSpace.from_config(c["attributes"])
        if "expression" not in self.space.keys:
            raise ValueError("LSSL needs an 'expression' attribute with at least two classes")
        self.size, self.channels = int(c["image_size"]), int(c["channels"])
        self.G = LSSLGenerator(self.channels, self.space.dim, base=int(c["base_channels"]),
                               max_channels=int(c["max_channels"]), n_down=int(c["n_down"]),
                               n_res=int(c["n_res"]), norm=c["norm"], residual=bool(c["residual"]))
        self.register_buffer("mean_landmarks", torch.zeros(68, 2))

    def targets(self) -> list[str]:
        return list(self.space.values[self.space.keys.index("expression")]) + [KEEP]

    @property
    def lightings(self) -> list[str]:
        return list(self.space.values[self.space.keys.index("lighting")]) if "lighting" in self.space.keys else []

    def eval_conditions(self) -> list[dict]:
        conds = [{"target": t, "options": {}, "expect": {"expression": t}} for t in self.targets() if t != KEEP]
        conds += [{"target": KEEP, "options": {"lighting": light}, "expect": {"lighting": light}}
                  for light in self.lightings]
        return conds

    def condition(self, target: str, lighting: str | None, batch: int, device) -> torch.Tensor:
        """The attribute vector of an edit: the target expression's one-hot block (zero for
        ``keep``), the lighting's block (zero = keep the lighting)."""
        self.check_target(target)
        labels = {"expression": torch.full((batch,), -1 if target == KEEP else
                                           self.space.index("expression", target), dtype=torch.long,
                                           device=device)}
        if lighting is not None:
            if "lighting" not in self.space.keys:
                raise UsageError("this LSSL model has not learnt lighting (no lighting option)")
            labels["lighting"] = torch.full((batch,), self.space.index("lighting", lighting),
                                            dtype=torch.long, device=device)
        return self.space.encode(labels, batch, device)

    def side_for(self, x: torch.Tensor, landmarks=None) -> torch.Tensor:
        """Side images for crops ``x``: from their 68 landmarks when given, else the mean face."""
        b = x.shape[0]
        lm = None
        if landmarks is not None:
            lm = torch.as_tensor(np.asarray(landmarks, dtype=np.float32) if not torch.is_tensor(landmarks)
                                 else landmarks, dtype=torch.float32)
            if lm.ndim == 2:
                lm = lm.unsqueeze(0)
            if lm.shape[1:] != (68, 2):
                lm = None  # e.g. 5-point landmarks of the OpenCV detector: use the mean face
            elif lm.shape[0] != b:
                raise UsageError(f"landmarks for {lm.shape[0]} crops given with {b} crops")
        if lm is None:
            lm = self.mean_landmarks.float().cpu().expand(b, -1, -1)
        return side_image(lm.to(x.device), x.shape[-1], self.config["sigma"]).to(x.dtype)

    @torch.no_grad()
    def edit(self, x: torch.Tensor, target: str, strength: float = 1.0, *, lighting: str | None = None,
             landmarks=None, **options) -> torch.Tensor:
        if options:
            raise UsageError(f"unknown LSSL option(s): {', '.join(options)}; valid: lighting, landmarks")
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise UsageError(f"LSSL expects (B, {self.channels}, S, S) crops, got {tuple(x.shape)}")
        y = self.condition(target, lighting, x.shape[0], x.device).to(x.dtype)
        return self.G(x, self.side_for(x, landmarks), y)[0]


@register_arch("lssl")
def build_lssl(config: dict[str, Any]) -> LSSL:
    return LSSL(config)


# The shipped checkpoint (weights/lssl.safetensors, model card weights/lssl.md); targets and conditions
# below are those of `faceedit train -m lssl -d data/london -d data/jaffe -d data/yale -d data/yaleb`
# (each vocabulary is the sorted set of labels found).
SHIPPED_SHA256: str | None = "e8581e1a071626439f65d29b67e71ba202b1df9352feb8ba40365ae11fbdc27f"
SHIPPED_EXPRESSIONS = ["angry", "disgusted", "fearful", "happy", "neutral", "sad", "sleepy", "surprised", "wink"]
SHIPPED_LIGHTING = ["ambient", "bottom", "front", "left", "right", "top"]

register_model(
    ModelSpec(
        name="lssl",
        method="LSSL",
        arch="lssl",
        description="Expression + lighting editing: encoder-decoder on image + landmark side image, "
        "WGAN-GP with attribute classification, bidirectional image/latent loss (small CPU model)",
        targets=SHIPPED_EXPRESSIONS + [KEEP],
        template=CropTemplate(size=64),
        channels=1,
        color_match=False,
        weights=WeightSource.shipped("lssl.safetensors", sha256=SHIPPED_SHA256),
        license="weights: non-commercial research (JAFFE/Yale terms) + CC BY 4.0 attribution (London)",
        conditions={"expression": SHIPPED_EXPRESSIONS, "lighting": SHIPPED_LIGHTING},
        paper="lssl.txt",
        prior="stage",
    )
)
