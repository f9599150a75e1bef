"""EGGAN: fine-grained expression manipulation via a structured latent space (Tang, Shao, Ma;
paper text in ``shared/papers/eggan.txt``).

An adversarial autoencoder maps a face ``I`` to a latent code ``l = E(I)`` kept close to a
Gaussian prior by a latent discriminator; a conditional generator draws the face back from ``l``
and a vector ``u`` of 17 action-unit (AU) intensities (0..5, in the order of
``faceedit.faces.au.AU_IDS``): ``G(l | u)``. Editing (eq. 8) interpolates the condition between
the face's own AUs ``u_s`` and the target's ``u_t``: ``G(E(I) | u_s + alpha (u_t - u_s))``,
``alpha`` being the ``strength``.

Networks (section 4.1), with these readings where the paper is silent:

* **Encoder E**: 5 stride-2 convolutions (4x4) with 16, 32, 64, 128, 256 channels, then one
  fully connected layer to the latent code (``latent_dim``, not given by the paper: 128).
  Instance norm + PReLU, except the last convolution, which has no norm (at 64 px its map is
  2x2, and instance norm would erase each channel's mean before the FC layer).
* **Generator G**: one FC layer from ``[l, u / 5]`` to a ``gen_channels`` x s0 x s0 map, then
  up-sampling residual blocks (pre-activation: IN -> PReLU -> nearest x2 -> conv3x3 -> IN ->
  PReLU -> conv3x3, plus a 1x1-conv + upsampling shortcut), widths halving down to
  ``gen_min_channels``, then IN -> PReLU -> conv3x3 -> tanh. The paper's 6 blocks take a 2x2
  map to 128 px; ``gen_blocks`` defaults to ``log2(image_size) - 1`` so that the start map is
  always 2x2: **6 blocks at 128 px, 5 at 64 px** (the size the CPU-trained model uses).
* **Sizes**: the encoder keeps its 5 convolutions at both sizes (a 2x2 map at 64 px, 4x4 at
  128 px); the generator's blocks and the critic's layers (``d_layers`` in the trainer) follow
  ``image_size``. ``{"image_size": 128}`` is the paper's network (prepare the data at 128 px).
* **AU conditioning of the blocks**: the paper only says G takes ``l`` and ``u``. Condition
  planes concatenated to feature maps do not survive instance norm (a constant plane is its own
  mean), so besides entering the first FC layer, ``u`` sets the scale and shift of every
  instance norm in the blocks (conditional instance norm, Dumoulin et al. 2017; initialised to
  the identity). ``au_modulation: false`` gives the plain IN version.
* **Source AUs at inference** (eq. 8 needs ``u_s``): the paper takes them from OpenFace, which
  is not available here, and the image discriminator (whose AU classifier could read them) is
  not exported. So the encoder carries a small **AU regression head** (FC 128 -> PReLU -> FC 17,
  ``5 * sigmoid``) on its detached convolution features, trained on the AU estimates of the
  training crops (``faceedit.faces.au.dataset_aus``) and shipped with the generator. It reads
  features only: it does not shape the latent code. ``edit(..., source_aus=...)`` overrides it.
* **Estimable AUs**: AUs that the landmark-based estimator never measured in the training data
  are left out of ``EGGANConfig.estimable_aus``; the condition of the others is 0, as in
  training (a NaN "not estimable" intensity is fed as 0). Asking for such an AU is a usage error.

Editing output (``edit_mode``):

* ``"direct"`` (the paper): the output is ``G(E(x) | u_alpha)``, a full redraw of the face by
  the autoencoder, so identity and detail are only as good as its reconstruction.
* ``"delta"``: ``x + G(E(x) | u_alpha) - G(E(x) | u_s)``, the generator's *change* between the
  source and the interpolated condition added to the input. Not in the paper: it keeps the
  photo's own detail where a small, briefly trained autoencoder reconstructs blurrily, and makes
  ``alpha = 0`` exactly the input. The shipped config says which one it uses.

Targets: the expressions that ``faceedit.faces.au.expression_prototype`` knows (``targets()``),
plus the special target ``"au"`` (alias ``"custom"``): start from the face's own AUs and set
only those given in ``aus`` (``{12: 3.5, 6: 2}`` or ``"12=3.5,6=2"``). With an expression
target, ``aus`` overrides or adds intensities of the prototype.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceedit.conditions import EXPRESSIONS, canonical_target
from faceedit.errors import UsageError
from faceedit.faces import au as au_mod
from faceedit.models.base import ConfigError, EditModel, ModelConfig, Range
from faceedit.models.catalogue.eggan import AU_TARGETS
from faceedit.models.layers import ConvNormAct

EDIT_MODES = ("direct", "delta")


@dataclasses.dataclass(frozen=True)
class EGGANConfig(ModelConfig):
    """EGGAN's architecture and condition vocabularies. The ``None`` defaults are filled in when
    the config is built: ``gen_blocks`` from the image size, ``au_ids`` from
    ``faceedit.faces.au.AU_IDS``, ``targets`` from the expressions that have an AU prototype."""

    arch = "eggan"
    method = "EGGAN"
    ranges = {"latent_dim": Range(ge=1), "enc_channels": Range(ge=1), "gen_blocks": Range(ge=1),
              "gen_channels": Range(ge=1), "gen_min_channels": Range(ge=1),
              "au_head_channels": Range(ge=1), "au_max": Range(gt=0)}

    image_size: int = 64  # crop side; 128 = the paper's
    channels: int = 3
    latent_dim: int = 128  # size of E's code l (paper: not given)
    enc_channels: list[int] = dataclasses.field(
        default_factory=lambda: [16, 32, 64, 128, 256])  # the paper's 5 stride-2 convolutions
    gen_blocks: int | None = None  # up-sampling residual blocks; None = log2(image_size) - 1
    gen_channels: int = 256  # width of the first generator map (halved per block)
    gen_min_channels: int = 16
    au_modulation: bool = True  # u also sets the affine of each IN in G (see module docstring)
    au_head_channels: int = 128  # hidden width of the AU regression head
    au_max: float = 5  # intensity levels 0..au_max
    au_ids: list[int] | None = None  # AU numbers in condition order; None = faceedit.faces.au.AU_IDS
    estimable_aus: list[int] | None = None  # AUs the training data could estimate; None = all
    targets: list[str] | None = None  # expression targets; None = those with a prototype
    edit_mode: Literal["direct", "delta"] = "delta"  # direct (paper) | delta (see module docstring)

    def validate(self) -> None:
        size = self.image_size
        if size < 8 or size & (size - 1):
            raise ConfigError(f"image_size must be a power of two >= 8, got {size}")
        if self.gen_blocks is None:
            self._set("gen_blocks", int(math.log2(size)) - 1)
        if self.au_ids is None:
            self._set("au_ids", default_au_ids())
        assert self.au_ids is not None
        if self.estimable_aus is not None and not set(self.estimable_aus) <= set(self.au_ids):
            raise ConfigError(f"estimable_aus {self.estimable_aus} not all in au_ids {self.au_ids}")
        if self.targets is None:
            self._set("targets", prototype_targets())
        if self.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 or 3, got {self.channels}")


def default_au_ids() -> list[int]:
    return [int(a) for a in au_mod.AU_IDS]


def prototype_targets() -> list[str]:
    """Expressions (in ``EXPRESSIONS`` order) for which ``expression_prototype`` has a vector."""
    out = []
    for name in EXPRESSIONS:
        try:
            au_mod.expression_prototype(name)
        except UsageError:  # e.g. "wink": a 17-AU vector has no left and right
            continue
        out.append(name)
    return out


def au_vector(values: Any, au_ids: Sequence[int], what: str = "AU intensities") -> np.ndarray:
    """A float vector in ``au_ids`` order from a mapping ``{au: value}`` (missing = NaN) or a
    sequence of ``len(au_ids)`` values."""
    if isinstance(values, Mapping):
        out = np.full(len(au_ids), np.nan, np.float32)
        for k, v in values.items():
            try:
                out[_au_index(k, au_ids, what)] = float(v)
            except (TypeError, ValueError):
                raise UsageError(f"{what}: intensity of AU {k} is {v!r}, not a number") from None
        return out
    arr = np.asarray(values.detach().cpu() if torch.is_tensor(values) else values, np.float32)
    if arr.shape[-1:] != (len(au_ids),):
        raise UsageError(f"{what}: expected {len(au_ids)} values (AUs {_au_list(au_ids)}), got shape "
                         f"{tuple(arr.shape)}")
    return arr


def _au_index(key: Any, au_ids: Sequence[int], what: str) -> int:
    try:
        au = int(str(key).strip().upper().removeprefix("AU"))
    except ValueError:
        raise UsageError(f"{what}: {key!r} is not an AU number; valid: {_au_list(au_ids)}") from None
    if au not in au_ids:
        raise UsageError(f"{what}: AU {au} is not one of this model's AUs ({_au_list(au_ids)})")
    return list(au_ids).index(au)


def _au_list(au_ids: Sequence[int]) -> str:
    return ", ".join(str(a) for a in au_ids)


# ----------------------------------------------------------------------------------------------
# Networks
# ----------------------------------------------------------------------------------------------


class Encoder(nn.Module):
    """E: 5 stride-2 4x4 convolutions (IN + PReLU; the last without norm) -> FC -> latent code,
    and the AU regression head on the (detached) convolution features."""

    def __init__(self, image_size: int, channels: int, widths: Sequence[int], latent_dim: int,
                 n_aus: int, au_max: float, head_channels: int) -> None:
        super().__init__()
        layers, cin = [], channels
        for i, w in enumerate(widths):
            layers.append(ConvNormAct(cin, w, 4, 2, "none" if i == len(widths) - 1 else "instance", "prelu"))
            cin = w
        self.convs = nn.Sequential(*layers)
        side = image_size // 2 ** len(widths)
        if side < 1 or image_size % 2 ** len(widths):
            raise ValueError(f"image_size {image_size} is not divisible by 2**{len(widths)} (encoder convs)")
        n_feat = cin * side * side
        self.fc = nn.Linear(n_feat, latent_dim)
        self.au_head = nn.Sequential(nn.Linear(n_feat, head_channels), nn.PReLU(head_channels),
                                     nn.Linear(head_channels, n_aus))
        self.au_max = float(au_max)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(latent code (B, latent_dim), flattened conv features (B, F))."""
        f = self.convs(x).flatten(1)
        return self.fc(f), f

    def predict_aus(self, features: torch.Tensor) -> torch.Tensor:
        """AU intensities (B, n_aus) in [0, au_max] from ``forward``'s features (not
        back-propagated into the encoder)."""
        return self.au_max * torch.sigmoid(self.au_head(features.detach()))


class CondInstanceNorm(nn.Module):
    """Instance norm whose per-channel scale ``1 + gamma(u)`` and shift ``beta(u)`` come from the
    condition ``u`` (initialised to 0: plain IN at the start); ``n_cond = 0`` = affine IN."""

    def __init__(self, channels: int, n_cond: int) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels, affine=n_cond == 0)
        self.affine = nn.Linear(n_cond, 2 * channels) if n_cond else None
        if self.affine is not None:
            nn.init.zeros_(self.affine.weight)
            nn.init.zeros_(self.affine.bias)

    def forward(self, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        if self.affine is None:
            return h
        gamma, beta = self.affine(u).to(h.dtype)[:, :, None, None].chunk(2, 1)
        return h * (1 + gamma) + beta


class UpResBlock(nn.Module):
    """Up-sampling residual block: (IN -> PReLU -> up x2 -> conv3x3 -> IN -> PReLU -> conv3x3)
    + (conv1x1 -> up x2); the INs optionally conditioned on ``u``."""

    def __init__(self, cin: int, cout: int, n_cond: int) -> None:
        super().__init__()
        self.n1, self.a1 = CondInstanceNorm(cin, n_cond), nn.PReLU(cin)
        self.c1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.n2, self.a2 = CondInstanceNorm(cout, n_cond), nn.PReLU(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.skip = nn.Conv2d(cin, cout, 1)

    def forward(self, h: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        y = self.c1(F.interpolate(self.a1(self.n1(h, u)), scale_factor=2.0, mode="nearest"))
        y = self.c2(self.a2(self.n2(y, u)))
        return F.interpolate(self.skip(h), scale_factor=2.0, mode="nearest") + y


class Generator(nn.Module):
    """G(l | u): FC([l, u / au_max]) -> (C0, s0, s0) -> ``n_blocks`` UpResBlocks -> IN -> PReLU
    -> conv3x3 -> tanh."""

    def __init__(self, image_size: int, channels: int, latent_dim: int, n_aus: int, au_max: float,
                 n_blocks: int, width: int, min_width: int, modulation: bool) -> None:
        super().__init__()
        self.start = image_size // 2**n_blocks
        if self.start < 1 or image_size % 2**n_blocks:
            raise ValueError(f"image_size {image_size} is not divisible by 2**{n_blocks} (generator blocks)")
        self.width, self.au_max = width, float(au_max)
        self.fc = nn.Linear(latent_dim + n_aus, width * self.start**2)
        widths = [max(min_width, width // 2**i) for i in range(n_blocks + 1)]
        n_cond = n_aus if modulation else 0
        self.blocks = nn.ModuleList(UpResBlock(widths[i], widths[i + 1], n_cond) for i in range(n_blocks))
        self.out_norm, self.out_act = nn.InstanceNorm2d(widths[-1], affine=True), nn.PReLU(widths[-1])
        self.out = nn.Conv2d(widths[-1], channels, 3, 1, 1)

    def forward(self, latent: torch.Tensor, aus: torch.Tensor) -> torch.Tensor:
        u = aus.to(latent.dtype) / self.au_max
        h = self.fc(torch.cat([latent, u], 1)).view(-1, self.width, self.start, self.start)
        for block in self.blocks:
            h = block(h, u)
        return torch.tanh(self.out(self.out_act(self.out_norm(h))))


class EGGANNet(nn.Module):
    """What inference needs, in one module (exported under ``G.``): the encoder E with its AU
    regression head, and the generator G (``decoder``)."""

    def __init__(self, cfg: EGGANConfig) -> None:
        super().__init__()
        assert cfg.au_ids is not None and cfg.gen_blocks is not None  # filled by validate()
        size, n_aus = cfg.image_size, len(cfg.au_ids)
        self.encoder = Encoder(size, cfg.channels, list(cfg.enc_channels), cfg.latent_dim, n_aus,
                               cfg.au_max, cfg.au_head_channels)
        self.decoder = Generator(size, cfg.channels, cfg.latent_dim, n_aus, cfg.au_max, cfg.gen_blocks,
                                 cfg.gen_channels, cfg.gen_min_channels, cfg.au_modulation)

    def forward(self, x: torch.Tensor, *conditions: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """Encode ``x`` once and draw it under each condition (B, n_aus) in one decoder batch.
        Returns (latent code, AU-head estimate of the source AUs, [one image per condition]):
        one forward touching every parameter, as DistributedDataParallel wants."""
        latent, features = self.encoder(x)
        k = len(conditions)
        images = self.decoder(latent.repeat(k, 1), torch.cat(conditions)) if k else latent.new_zeros(0)
        return latent, self.encoder.predict_aus(features), list(images.chunk(k)) if k else []


# ----------------------------------------------------------------------------------------------
# The edit model
# ----------------------------------------------------------------------------------------------


class EGGAN(EditModel):
    """Expression editing by AU-conditioned redrawing (see the module docstring)."""

    handles_strength = True
    cfg: EGGANConfig
    au_mask: torch.Tensor  # (len(au_ids),) 1 where the AU is editable (a buffer)

    def __init__(self, config: EGGANConfig | Mapping[str, Any] | None = None,
                 net: EGGANNet | None = None) -> None:
        """``config``: an ``EGGANConfig`` or a dict (keys not given take the defaults); ``net``:
        an existing network to wrap (shared, e.g. the one being trained) instead of a new one."""
        super().__init__()
        cfg = self.cfg = EGGANConfig.from_dict(config)
        assert cfg.au_ids is not None and cfg.targets is not None  # filled by validate()
        self.au_ids = list(cfg.au_ids)
        self.au_max = float(cfg.au_max)
        self.size, self.channels = cfg.image_size, cfg.channels
        self.names = list(cfg.targets)
        estimable = cfg.estimable_aus
        mask = [1.0 if estimable is None or a in estimable else 0.0 for a in self.au_ids]
        self.register_buffer("au_mask", torch.tensor(mask), persistent=False)
        self.G = net if net is not None else EGGANNet(cfg)

    def targets(self) -> list[str]:
        return list(self.names)

    def check_target(self, target: str) -> str:
        if target in AU_TARGETS:
            return target
        return super().check_target(target)

    def eval_conditions(self) -> list[dict]:
        """Every expression target, expected to show that expression and its AU prototype
        (``faceedit.faces.au.expression_prototype``, all 17 AUs as the estimator would be asked)."""
        return [{"target": t, "options": {},
                 "expect": {"expression": t,
                            "aus": [float(v) for v in au_mod.expression_prototype(t)]}}
                for t in self.names]

    # ---- conditions ----------------------------------------------------------------------
    def prototype(self, name: str) -> np.ndarray:
        """The AU vector of expression ``name`` (this model's AU order; non-estimable AUs 0)."""
        values = dict(zip(au_mod.AU_IDS, au_mod.expression_prototype(name)))
        vec = np.array([values.get(a, 0.0) for a in self.au_ids], np.float32)
        return np.nan_to_num(vec, nan=0.0) * self.au_mask.cpu().numpy()

    def parse_aus(self, aus: Any) -> dict[int, float]:
        """``{au: intensity}`` from a mapping or an ``"12=3.5,6=2"`` string, checked: known,
        estimable AUs, finite intensities in [0, au_max]."""
        if isinstance(aus, str):
            aus = au_mod.parse_au_spec(aus)  # UsageError on a malformed spec
        if not isinstance(aus, Mapping) or not aus:
            raise UsageError(f"`aus` must be a non-empty mapping {{AU: intensity}} or 'AU=v,...' string, "
                             f"got {aus!r}")
        out = {}
        for k, v in aus.items():
            i = _au_index(k, self.au_ids, "`aus`")
            try:
                value = float(v)
            except (TypeError, ValueError):
                raise UsageError(f"`aus`: intensity of AU {self.au_ids[i]} is {v!r}, not a number") from None
            if not math.isfinite(value) or not 0.0 <= value <= self.au_max:
                raise UsageError(f"`aus`: intensity of AU {self.au_ids[i]} is {v!r}; use 0..{self.au_max:g}")
            if not self.au_mask[i]:
                raise UsageError(f"`aus`: AU {self.au_ids[i]} was not estimable in this model's training data, "
                                 f"so it cannot be edited; editable AUs: "
                                 f"{_au_list([a for a, m in zip(self.au_ids, self.au_mask) if m])}")
            out[self.au_ids[i]] = value
        return out

    def source_aus(self, x: torch.Tensor, features: torch.Tensor | None = None,
                   given: Any = None) -> torch.Tensor:
        """``u_s`` (B, n_aus): ``given`` (a vector, (B, n) array or ``{au: v}`` overriding the
        estimate) or the encoder's AU regression head's estimate; non-estimable AUs 0."""
        if features is None:
            features = self.G.encoder(x)[1]
        est = self.G.encoder.predict_aus(features).float()
        if given is not None:
            vec = torch.as_tensor(au_vector(given, self.au_ids, "source_aus"), device=x.device)
            if vec.dim() == 2 and vec.shape[0] != x.shape[0]:
                raise UsageError(f"source_aus: {vec.shape[0]} rows for {x.shape[0]} crops")
            if not bool(((vec >= 0) & (vec <= self.au_max) | vec.isnan()).all()):
                raise UsageError(f"source_aus: intensities must lie in 0..{self.au_max:g}")
            est = torch.where(vec.isnan(), est, vec.expand_as(est))
        return est * self.au_mask.to(est)

    @torch.no_grad()
    def conditions_for(self, x: torch.Tensor, target: str, strength: float = 1.0, aus: Any = None,
                       source_aus: Any = None, features: torch.Tensor | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """(u_s, u_alpha) for the crops ``x``: eq. 8's ``u_s + alpha (u_t - u_s)``, clamped to
        [0, au_max] (a strength outside [0, 1] extrapolates)."""
        target = canonical_target(target) if target not in AU_TARGETS else target
        self.check_target(target)
        if not math.isfinite(float(strength)):
            raise UsageError(f"`strength` must be a finite number, got {strength!r}")
        overrides = self.parse_aus(aus) if aus is not None else {}
        if target in AU_TARGETS and not overrides:
            raise UsageError(f"target {target!r} needs AU intensities: give `aus` (e.g. 12=3.5)")
        u_s = self.source_aus(x, features, source_aus)
        if target in AU_TARGETS:
            u_t = u_s.clone()
        else:
            u_t = torch.as_tensor(self.prototype(target), device=x.device).expand_as(u_s).clone()
        for au, v in overrides.items():
            u_t[:, self.au_ids.index(au)] = v
        u = (u_s + float(strength) * (u_t - u_s)).clamp(0.0, self.au_max)
        return u_s, u

    # ---- editing -------------------------------------------------------------------------
    @torch.no_grad()
    def edit(self, x: torch.Tensor, target: str, strength: float = 1.0, aus: Any = None,
             source_aus: Any = None, mode: str | None = None, **options: Any) -> torch.Tensor:
        """Edit crops ``x`` (B, C, S, S) in [-1, 1] towards ``target`` (an expression of
        ``targets()``, or ``"au"``/``"custom"`` with ``aus``), ``strength`` = eq. 8's alpha.

        ``aus``: ``{12: 3.5, 6: 2}`` or ``"12=3.5,6=2"``, intensities 0..5 that override or add to
        the target's AUs. ``source_aus``: the input's own AUs (vector in ``au_ids`` order, (B, n)
        array, or ``{au: v}`` overriding the estimate); default: the encoder's AU head.
        ``mode``: ``direct`` | ``delta`` (default: the model's ``edit_mode``).
        """
        if options:
            raise UsageError(f"unknown EGGAN option(s): {', '.join(options)}; EGGAN takes aus, "
                             "source_aus and mode")
        mode = mode or self.cfg.edit_mode
        if mode not in EDIT_MODES:
            raise UsageError(f"unknown EGGAN mode {mode!r}; use {' or '.join(EDIT_MODES)}")
        expected = (self.channels, self.size, self.size)
        if x.dim() != 4 or tuple(x.shape[1:]) != expected:
            raise UsageError(f"EGGAN expects crops of shape (B, {', '.join(map(str, expected))}), "
                             f"got {tuple(x.shape)}")
        latent, features = self.G.encoder(x)
        u_s, u = self.conditions_for(x, target, strength, aus, source_aus, features)
        if mode == "direct":
            return self.G.decoder(latent, u).to(x.dtype)
        both = self.G.decoder(torch.cat([latent, latent]), torch.cat([u, u_s]))
        y, rec = both.to(x.dtype).chunk(2)
        return (x + y - rec).clamp(-1, 1)


# Registered, with the options it takes, by faceedit.models.catalogue.eggan.
def build_eggan(config: EGGANConfig | Mapping[str, Any] | None = None) -> EGGAN:
    """An ``EGGAN`` from a (partial) config; see ``EGGANConfig``."""
    return EGGAN(config)

