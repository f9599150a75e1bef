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

What SeCGAN (:mod:`faceedit.models.secgan`) shares with LSSL lives below both: the configurable
StarGAN-family :class:`~faceedit.models.layers.EncoderDecoder` in ``layers.py``, the attribute
vocabulary :class:`~faceedit.models.stargan.AttributeSpace` (groups of categorical / binary
labels, their encoding and the classification loss of a critic's class head) and ``KEEP`` in
``stargan.py``.

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

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from faceedit.errors import UsageError
from faceedit.models.base import ConfigError, EditModel, ModelConfig, Range
from faceedit.models.layers import EncoderDecoder, NormKind
from faceedit.models.stargan import KEEP, AttributeSpace
from faceedit.pixels import unit_to_signed


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


@dataclasses.dataclass(frozen=True)
class LSSLConfig(ModelConfig):
    """LSSL's architecture and attribute vocabulary."""

    arch = "lssl"
    method = "LSSL"
    ranges = {"sigma": Range(gt=0)}

    image_size: int = 128  # crop side (paper: 128)
    channels: int = 3  # 3 = RGB, 1 = luma
    # label key -> class names, in order (see AttributeSpace); needs "expression"
    attributes: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    base_channels: int = 32  # encoder width after the first stride-2 convolution
    max_channels: int = 128  # cap on widths
    n_down: int = 5  # stride-2 convolutions = pixel-shuffle upsamplings (paper text: 5; see notes)
    n_res: int = 6  # residual blocks after the attribute concatenation (paper: 6)
    norm: NormKind = "instance"
    residual: bool = False  # predict a change added to the inputs (not in the paper; see notes)
    sigma: float | None = None  # side image Gaussian sigma in pixels (None: size / 64)

    def validate(self) -> None:
        if "expression" not in self.attributes:
            raise ConfigError("LSSL needs an 'expression' attribute with at least two classes")
        if self.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 or 3, got {self.channels}")


def side_image(landmarks, size: int, sigma: float | None = None) -> torch.Tensor:
    """LSSL's side conditional image of (B, 68, 2) crop-pixel landmarks at ``size``: (B, 1, S, S)
    in [-1, 1] (the landmark heatmap of :func:`faceedit.faces.landmarks.landmark_side_image`,
    mapped like an image)."""
    from faceedit.faces.landmarks import landmark_side_image

    return unit_to_signed(landmark_side_image(landmarks, size, sigma=sigma))


class LSSL(EditModel):
    """The exported LSSL model: generator ``G`` + the mean training landmarks (``mean_landmarks``,
    (68, 2) crop pixels at ``image_size``) for crops that come without landmarks.

    ``edit(x, target, lighting=None, landmarks=None)``: ``target`` an expression of the model or
    ``"keep"``; ``lighting`` a lighting class (when the model learnt lighting) or None to leave the
    lighting as it is; ``landmarks`` (B, 68, 2) crop-pixel landmarks of ``x`` (numpy or tensor)."""

    wants_landmarks = True  # the pipeline passes each crop's 68 landmarks as ``landmarks=``
    cfg: LSSLConfig
    mean_landmarks: torch.Tensor  # (68, 2), a buffer

    def __init__(self, config: LSSLConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__()
        c = self.cfg = LSSLConfig.from_dict(config)
        self.space = AttributeSpace.from_config(c.attributes)
        self.size, self.channels = c.image_size, c.channels
        self.G = LSSLGenerator(self.channels, self.space.dim, base=c.base_channels,
                               max_channels=c.max_channels, n_down=c.n_down, n_res=c.n_res,
                               norm=c.norm, residual=c.residual)
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
        return side_image(lm.to(x.device), x.shape[-1], self.cfg.sigma).to(x.dtype)

    @torch.no_grad()
    def edit(self, x: torch.Tensor, target: str, strength: float = 1.0, *, lighting: str | None = None,
             landmarks=None, **options) -> torch.Tensor:
        if options:
            raise UsageError(f"unknown LSSL option(s): {', '.join(options)}; valid: lighting, landmarks")
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise UsageError(f"LSSL expects (B, {self.channels}, S, S) crops, got {tuple(x.shape)}")
        y = self.condition(target, lighting, x.shape[0], x.device).to(x.dtype)
        return self.G(x, self.side_for(x, landmarks), y)[0]


# Registered, with the options it takes, by faceedit.models.catalogue.lssl.
def build_lssl(config: LSSLConfig | Mapping[str, Any] | None = None) -> LSSL:
    return LSSL(config)

