"""Face quality estimator Q for LEGAN's quality loss, trained on real vs degraded crops.

LEGAN (legan.txt, Sec. 3 and supplement 7-9) trains Q on ~37 k synthetic faces that crowd workers
rated for naturalness on a 0-10 scale, then adds ``Lqual`` (eq. 6) to the generator loss. Those
ratings are not available here. This module trains a **synthetic proxy** instead: real aligned
crops are the "natural" end of the scale and degraded copies of them score lower by how severe the
degradation is. The score is a documented function of the degradation (``target_score``), not a
human judgement; it measures distance from real camera crops along the artefact types below,
which is what the quality loss needs (push generated faces away from GAN-like artefacts), but it
is not the paper's naturalness rating and its numbers are not on the paper's scale.

Degradations (each with a severity in [0, 1]; severity 0 returns the input exactly):

======== ======================================================== ========================
kind     what (at severity s, 128-px crop; lengths scale with H)  penalty at s = 1 (0..10)
======== ======================================================== ========================
blur     Gaussian blur, sigma = 3 s px                            6
jpeg     JPEG encode at quality 90 - 85 s (Pillow)                5
noise    additive Gaussian noise, sd = 0.3 s (luma/chroma mix)    6
colour   colour cast: per-channel gain and offset                 5
contrast contrast loss towards the image mean (x 1 - 0.75 s)      4
downup   down-sample by 1 + 5 s, back up (bilinear or nearest)    6
checker  transposed-conv checkerboard: period-2/4 pattern,        7
         content-modulated, amplitude 0.35 s
stains   blotchy low-frequency coloured stains ("blob artefacts") 6
ghost    blend with a shifted copy of another face (or itself),   7
         alpha = 0.5 s
warp     smooth local warp, displacement ~ 5 s px                 6
shuffle  swap 40 s % of the 16-px patches                         8
======== ======================================================== ========================

Target score: ``REAL_SCORE - sum_k PENALTY[k] * s_k`` clamped to [0, 10], with ``REAL_SCORE`` =
9.5 for an untouched crop. Combinations (2-3 kinds at once) add their penalties. Desaturation
and global brightness are deliberately *not* degradations: three of the four training sets are
greyscale photos and Extended Yale B is mostly dark, so both occur in real crops. Crops too dark
for most artefacts to be visible (mean of the central 80x80 px below -0.6 in [-1, 1], i.e. grey
level ~51; 31 % of Extended Yale B, almost nothing elsewhere) are left out of training and
evaluation: their labels would be wrong, so Q's score on such crops means little. Real crops are
augmented with flips, a mild similarity jitter and natural white-balance / saturation changes
(``faceedit.train.analysis.quality.natural_variation``) so that a photo's colour balance is not mistaken
for a colour cast.

The network (:class:`QualityNet`) is a :class:`~faceedit.analysis.nets.SmallResNet` body over
the 128-px crop with 3 input channels (colour casts count; greyscale input is replicated),
pixel-unshuffled to 32 px x 48 channels so it sees every pixel at a fraction of the cost, one
output squashed to 0..10 by ``10 * sigmoid``. It is trained with a Huber regression loss on the target score plus a logistic
pairwise ranking loss between two severities of the same face. The paper's margin loss (eq. 1)
needs the raters' standard deviation, which a synthetic target does not have.

Use::

    q = load_quality()              # frozen, eval mode; gradients still flow to the input
    s = q.score(fake)               # (B,) in 0..10, fake (B, 1|3, H, W) in [-1, 1]
    loss = quality_loss(s, q=8.0)   # LEGAN eq. 6, first term
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceedit.analysis.nets import SmallResNet, predict, prepare_input
from faceedit.analysis.store import load_analysis, register_analysis
from faceedit.pixels import levels_to_signed, signed_to_uint8

REAL_SCORE = 9.5
# Score lost at severity 1 for each degradation kind; the order is also the order in which a
# combination applies them (content/geometry, GAN texture, photometric, resolution, noise, codec).
PENALTY: dict[str, float] = {
    "shuffle": 8.0,
    "warp": 6.0,
    "ghost": 7.0,
    "stains": 6.0,
    "checker": 7.0,
    "colour": 5.0,
    "contrast": 4.0,
    "blur": 6.0,
    "downup": 6.0,
    "noise": 6.0,
    "jpeg": 5.0,
}
KINDS: tuple[str, ...] = tuple(PENALTY)

DEFAULT_CONFIG = {"size": 128, "widths": [24, 48, 96, 128], "unshuffle": 4}


# ---------------------------------------------------------------------------------------------
# Degradations. All take x (B, C, H, W) float in [-1, 1] (C = 1 or 3), a per-sample severity
# s (B,) in [0, 1] and a torch.Generator (CPU); they return the same shape, range and dtype.


def uniform(n: int, gen: torch.Generator, lo: float = 0.0, hi: float = 1.0) -> torch.Tensor:
    """``n`` draws uniform in [lo, hi) from ``gen``."""
    return torch.rand(n, generator=gen) * (hi - lo) + lo


def _bc(s: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return s.to(x).view(-1, 1, 1, 1)


def _blur(x: torch.Tensor, s: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    b, c, h, w = x.shape
    scale = h / 128
    sigma = (3.0 * scale * s).clamp_min(1e-3).to(x)
    radius = int(math.ceil(3 * 3.0 * scale))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t[None] / sigma[:, None]) ** 2)
    k = (k / k.sum(1, keepdim=True)).repeat_interleave(c, 0)  # (B*C, K)
    y = x.reshape(1, b * c, h, w)
    pad = min(radius, h - 1, w - 1)
    y = F.pad(y, (pad, pad, pad, pad), mode="reflect")
    if pad < radius:  # tiny images: replicate what reflection cannot reach
        y = F.pad(y, (radius - pad,) * 4, mode="replicate")
    y = F.conv2d(y, k.view(b * c, 1, 1, -1), groups=b * c)
    y = F.conv2d(y, k.view(b * c, 1, -1, 1), groups=b * c)
    return y.view(b, c, h, w)


def _jpeg(x: torch.Tensor, s: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    from PIL import Image

    out = x.clone()
    for i in range(x.shape[0]):
        if s[i] <= 0:
            continue
        a = signed_to_uint8(x[i].detach().cpu()).permute(1, 2, 0).numpy()
        im = Image.fromarray(a[..., 0] if a.shape[2] == 1 else a)
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=max(1, int(round(90 - 85 * float(s[i])))))
        buf.seek(0)
        with Image.open(buf) as dec:
            d = np.asarray(dec.convert(im.mode), dtype=np.float32)
        out[i] = levels_to_signed(d.reshape(a.shape)).permute(2, 0, 1).to(x)
    return out


def _noise(x: torch.Tensor, s: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    b, c, h, w = x.shape
    luma = torch.randn(b, 1, h, w, generator=gen).to(x)
    chroma = torch.randn(b, c, h, w, generator=gen).to(x)
    mix = _bc(uniform(b, gen), x)
    n = mix * luma + (1 - mix) * chroma
    return x + _bc(0.3 * s, x) * n / torch.sqrt(mix**2 + (1 - mix) ** 2)


def _colour(x: torch.Tensor, s: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    b, c = x.shape[:2]
    direction = torch.randn(b, c, generator=gen)
    direction = direction - direction.mean(1, keepdim=True) if c > 1 else direction
    direction = direction / direction.norm(dim=1, keepdim=True).clamp_min(1e-6)
    gain = torch.exp(0.5 * s[:, None] * direction * uniform(b, gen, 0.5, 1.0)[:, None])
    offset = 0.35 * s[:, None] * direction * uniform(b, gen, 0.0, 1.0)[:, None]
    return x * gain.to(x)[..., None, None] + offset.to(x)[..., None, None]


def _contrast(x: torch.Tensor, s: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    m = x.mean((1, 2, 3), keepdim=True)
    return m + (x - m) * (1 - 0.75 * _bc(s, x))


def _downup(x: torch.Tensor, s: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    h, w = x.shape[-2:]
    nearest = torch.rand(x.shape[0], generator=gen) < 0.3
    out = x.clone()
    for i in range(x.shape[0]):
        if s[i] <= 0:
            continue
        f = 1 + 5 * float(s[i])
        small = F.interpolate(x[i : i + 1], size=(max(1, round(h / f)), max(1, round(w / f))),
                              mode="bilinear", align_corners=False, antialias=True)
        mode = "nearest" if nearest[i] else "bilinear"
        out[i] = F.interpolate(small, size=(h, w), mode=mode,
                               **({} if mode == "nearest" else {"align_corners": False}))[0]
    return out


def _checker(x: torch.Tensor, s: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """The uneven overlap of a stride-2 transposed convolution (Odena et al. 2016): a fixed
    period-2 (or, two such layers deep, period-4) tile of offsets, stronger on brighter pixels."""
    b, c, h, w = x.shape
    tile = torch.randn(b, 1, 4, 4, generator=gen) + 0.5 * torch.randn(b, c, 4, 4, generator=gen)
    period2 = torch.rand(b, generator=gen) < 0.6
    tile = torch.where(period2.view(-1, 1, 1, 1), tile[..., :2, :2].repeat(1, 1, 2, 2), tile)
    tile = tile - tile.mean((2, 3), keepdim=True)
    tile = tile / tile.abs().amax((1, 2, 3), keepdim=True).clamp_min(1e-6)
    pattern = tile.repeat(1, 1, -(-h // 4), -(-w // 4))[..., :h, :w].to(x)
    weight = 0.6 + 0.4 * (x + 1) / 2
    return x + _bc(0.35 * s, x) * pattern * weight


def _lowfreq(b: int, ch: int, h: int, w: int, gen: torch.Generator, res: int = 6) -> torch.Tensor:
    f = torch.randn(b, ch, res, res, generator=gen)
    return F.interpolate(f, size=(h, w), mode="bicubic", align_corners=False)


def _stains(x: torch.Tensor, s: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    b, c, h, w = x.shape
    field = _lowfreq(b, 1, h, w, gen, res=7)
    blobs = (field - 0.8).clamp_min(0)  # a few soft blobs where the smooth field peaks
    blobs = blobs / blobs.amax((1, 2, 3), keepdim=True).clamp_min(1e-6)
    colour = torch.randn(b, c, 1, 1, generator=gen)
    colour = colour / colour.abs().amax(1, keepdim=True).clamp_min(1e-6)
    return x + _bc(0.9 * s, x) * (blobs * colour).to(x)


def _translate(x: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """Shift by (dx, dy) pixels per sample (border padding)."""
    b, _, h, w = x.shape
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, 0, 2] = -2 * dx / w
    theta[:, 1, 2] = -2 * dy / h
    grid = F.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _ghost(x: torch.Tensor, s: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    b, _, h, _ = x.shape
    other = x.roll(1, 0) if b > 1 else x
    self_ghost = (torch.rand(b, generator=gen) < 0.4) | torch.tensor(b == 1)
    src = torch.where(self_ghost.view(-1, 1, 1, 1).to(x.device), x, other)
    ang = uniform(b, gen, 0, 2 * math.pi)
    r = uniform(b, gen, 3, 10) * h / 128
    shifted = _translate(src, r * torch.cos(ang), r * torch.sin(ang))
    a = _bc(0.5 * s, x)
    return (1 - a) * x + a * shifted


def _warp(x: torch.Tensor, s: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    b, _, h, w = x.shape
    theta = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(b, 2, 3)
    grid = F.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    disp = _lowfreq(b, 2, h, w, gen, res=5).permute(0, 2, 3, 1)  # ~unit sd, smooth
    disp = disp * (2 * 5.0 / 128) * s.view(-1, 1, 1, 1)  # ~5 px at s = 1
    return F.grid_sample(x, grid + disp.to(x), mode="bilinear", padding_mode="border",
                         align_corners=False)


def _shuffle(x: torch.Tensor, s: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    b, c, h, w = x.shape
    p = max(2, h // 8)
    gh, gw = h // p, w // p
    out = x.clone()
    for i in range(b):
        k = int(round(0.4 * float(s[i]) * gh * gw))
        if k < 2:
            k = 2 if s[i] > 0 else 0
        if k == 0:
            continue
        cells = torch.randperm(gh * gw, generator=gen)[:k]
        dest = cells.roll(1)  # a cycle: every chosen patch moves
        for src_c, dst_c in zip(cells.tolist(), dest.tolist()):
            sy, sx = divmod(src_c, gw)
            dy, dx = divmod(dst_c, gw)
            out[i, :, dy * p : (dy + 1) * p, dx * p : (dx + 1) * p] = x[i, :, sy * p : (sy + 1) * p, sx * p : (sx + 1) * p]
    return out


_FUNCS = {
    "blur": _blur, "jpeg": _jpeg, "noise": _noise, "colour": _colour, "contrast": _contrast,
    "downup": _downup, "checker": _checker, "stains": _stains, "ghost": _ghost, "warp": _warp,
    "shuffle": _shuffle,
}
assert set(_FUNCS) == set(KINDS)


def _severity(severity, b: int) -> torch.Tensor:
    s = torch.as_tensor(severity, dtype=torch.float32).flatten()
    if s.numel() == 1:
        s = s.expand(b)
    if s.numel() != b:
        raise ValueError(f"severity has {s.numel()} values for a batch of {b}")
    if (s < 0).any() or (s > 1).any():
        raise ValueError("severity must lie in [0, 1]")
    return s.clone()


def degrade(x: torch.Tensor, kind: str, severity, gen: torch.Generator | None = None) -> torch.Tensor:
    """``x`` (B, 1|3, H, W) in [-1, 1] degraded by ``kind`` (one of :data:`KINDS`) at
    ``severity`` (a number or (B,) values in [0, 1]). Deterministic given ``gen``'s state
    (default: seeded 0); severity 0 leaves a sample unchanged; the result is clamped to [-1, 1]."""
    if kind not in _FUNCS:
        raise ValueError(f"unknown degradation {kind!r}; known: {', '.join(KINDS)}")
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected (B, 1|3, H, W) crops, got {tuple(x.shape)}")
    gen = gen if gen is not None else torch.Generator().manual_seed(0)
    s = _severity(severity, x.shape[0])
    on = s > 0
    if not on.any():
        return x.clone()
    y = _FUNCS[kind](x, s, gen).clamp(-1, 1)
    return torch.where(on.to(x.device).view(-1, 1, 1, 1), y, x)


def degrade_many(x: torch.Tensor, severities: Mapping[str, torch.Tensor],
                 gen: torch.Generator | None = None) -> torch.Tensor:
    """Apply several kinds in the fixed order of :data:`KINDS`, each with its own per-sample
    severity (kinds absent or at 0 are skipped for that sample). A combination of artefacts."""
    gen = gen if gen is not None else torch.Generator().manual_seed(0)
    for kind in KINDS:
        if kind in severities:
            s = _severity(severities[kind], x.shape[0])
            idx = torch.nonzero(s > 0).flatten()
            if idx.numel():
                x = x.clone()
                x[idx] = degrade(x[idx], kind, s[idx], gen)
    unknown = set(severities) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown degradation(s) {sorted(unknown)}; known: {', '.join(KINDS)}")
    return x


def target_score(severities: Mapping[str, torch.Tensor], batch: int | None = None) -> torch.Tensor:
    """The synthetic quality label: ``REAL_SCORE - sum_k PENALTY[k] * s_k``, clamped to [0, 10]."""
    if batch is None:
        batch = max((torch.as_tensor(v).numel() for v in severities.values()), default=1)
    t = torch.full((batch,), REAL_SCORE)
    for kind, s in severities.items():
        t = t - PENALTY[kind] * _severity(s, batch)
    return t.clamp(0, 10)


def sample_severities(b: int, gen: torch.Generator, *, combo: float = 0.3,
                      kinds: tuple[str, ...] = KINDS) -> dict[str, torch.Tensor]:
    """Random degradation recipes for ``b`` samples: one kind each, or 2-3 kinds (probability
    ``combo``), severities uniform in (0, 1] (combinations: each part scaled to keep the
    total penalty in range)."""
    sev = {k: torch.zeros(b) for k in kinds}
    is_combo = torch.rand(b, generator=gen) < combo
    for i in range(b):
        n = int(torch.randint(2, 4, (1,), generator=gen)) if is_combo[i] else 1
        chosen = torch.randperm(len(kinds), generator=gen)[:n].tolist()
        for j in chosen:
            sev[kinds[j]][i] = float(uniform(1, gen, 0.05, 1.0)) / (1.0 if n == 1 else n ** 0.5)
    return sev


# ---------------------------------------------------------------------------------------------
# The network and the loss


class QualityNet(nn.Module):
    """Q: aligned face crops (B, 1|3, H, W) in [-1, 1] -> quality score (B,) in 0..10.

    The crop is brought to ``size`` px and 3 channels (:func:`prepare_input`), then folded
    losslessly into unshuffle**2 x 3 channels at ``size / unshuffle`` px (pixel
    unshuffle) before a :class:`SmallResNet` body: the network still sees every pixel (a
    period-2 checkerboard or JPEG block edges survive) at a fraction of the full-resolution
    cost (about 40 M multiply-adds per crop instead of 250 M), which is what makes a 10-minute
    CPU training budget workable."""

    def __init__(self, size: int = 128, widths=(24, 48, 96, 128), unshuffle: int = 4) -> None:
        super().__init__()
        self.size, self.unshuffle = int(size), int(unshuffle)
        self.net = SmallResNet(1, size=size // unshuffle, channels=3 * unshuffle**2,
                               widths=tuple(widths))

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Differentiable quality score (B,) in 0..10 (10 * sigmoid of the network output)."""
        x = prepare_input(x, self.size, 3)
        if self.unshuffle > 1:
            x = F.pixel_unshuffle(x, self.unshuffle)
        h = self.net.blocks(self.net.stem(x)).mean((2, 3))
        return 10 * torch.sigmoid(self.net.head(h)[:, 0])

    forward = score


@register_analysis("quality")
def build_quality(config: dict) -> QualityNet:
    c = {**DEFAULT_CONFIG, **config}
    return QualityNet(size=int(c["size"]), widths=tuple(c["widths"]), unshuffle=int(c["unshuffle"]))


def load_quality(path: str | os.PathLike = "quality", *, device: str | torch.device = "cpu") -> QualityNet:
    """The shipped quality estimator (or one saved at ``path``), frozen and in eval mode. Its
    parameters need no gradient, but ``.score`` stays differentiable with respect to its input."""
    net, _ = load_analysis(path, device=device)
    return cast(QualityNet, net)


def quality_loss(scores: torch.Tensor, q: float = 8.0, *, real_scores: torch.Tensor | None = None,
                 recon_scores: torch.Tensor | None = None) -> torch.Tensor:
    """LEGAN eq. 6: ``mean |q - Q(G(I, f_b)')|`` plus, when both are given,
    ``mean |Q(I')| - Q(G(G(I, f_b), f_a)')|`` (the reconstruction should score like its input).

    The paper's images are masked to the landmarks' convex hull before Q; do the same to the
    inputs of ``score`` if wanted. Scale note: the paper's q = 8 lay *above* the mean score of its
    real images (5.9 and 6.8 in its Tables 1-2), so it always pulled towards more natural. On
    this proxy scale real crops score about ``REAL_SCORE`` (9.5; the measured held-out mean is in
    weights/quality.md), so q = 8 would pull a generated face that already scores like a real one
    *down*; q = ``REAL_SCORE`` (or above) keeps the paper's intent."""
    loss = (q - scores).abs().mean()
    if (real_scores is None) != (recon_scores is None):
        raise ValueError("give both real_scores and recon_scores, or neither")
    if real_scores is not None and recon_scores is not None:  # both or neither (checked above)
        loss = loss + (real_scores - recon_scores).abs().mean()
    return loss


# ---------------------------------------------------------------------------------------------
# Evaluation (training: faceedit.train.analysis)


def _spearman(a: torch.Tensor, b: torch.Tensor) -> float:
    """Spearman's rank correlation (ties share their mean rank): torchmetrics', in float64."""
    from torchmetrics.functional.regression import spearman_corrcoef

    return float(spearman_corrcoef(a.double().flatten(), b.double().flatten()))


def well_exposed(crops: torch.Tensor, threshold: float = -0.6) -> torch.Tensor:
    """(N,) bool: uint8 crops whose central 80x80 px (at 128 px) are bright enough, mean above
    ``threshold`` in [-1, 1], for the degradations to be visible."""
    h, w = crops.shape[-2:]
    c = crops[..., h * 3 // 16 : h * 13 // 16, w * 3 // 16 : w * 13 // 16].float()
    return levels_to_signed(c.mean((1, 2, 3))) > threshold


@torch.no_grad()
def quality_metrics(net: QualityNet, crops: torch.Tensor, names: list[str], seed: int = 0) -> dict:
    """Held-out metrics on uint8 crops (N, 3, S, S) from datasets ``names`` (per crop):
    Spearman between score and target over every image scored; ranking accuracy for the same face
    at two severities of one recipe (|target gap| >= 1) and for real vs degraded (severity >=
    0.2); mean real score (overall and per dataset); mean score per kind at severity 0.5."""
    gen = torch.Generator().manual_seed(10_000 + seed)
    x = levels_to_signed(crops)
    n = x.shape[0]
    score = lambda imgs: predict(net, imgs, batch=128, fn=lambda m, xb: m.score(xb))  # noqa: E731
    all_s, all_t = [], []

    real = score(x)
    all_s.append(real)
    all_t.append(torch.full((n,), REAL_SCORE))
    per_kind = {}
    for kind in KINDS:
        sev = {kind: torch.full((n,), 0.5)}
        s = score(degrade_many(x, sev, gen))
        per_kind[kind] = round(float(s.mean()), 3)
        all_s.append(s)
        all_t.append(target_score(sev, n))

    # the same face at two severities of one recipe, and real vs degraded
    hi = sample_severities(n, gen)
    r = uniform(n, gen, 0.0, 0.7)
    lo = {k: v * r for k, v in hi.items()}
    s_lo, s_hi = score(degrade_many(x, lo, gen)), score(degrade_many(x, hi, gen))
    t_lo, t_hi = target_score(lo, n), target_score(hi, n)
    all_s += [s_lo, s_hi]
    all_t += [t_lo, t_hi]
    gap = (t_lo - t_hi) >= 1.0
    same_face = float((s_lo > s_hi)[gap].float().mean()) if gap.any() else None

    deg = sample_severities(n, gen)
    floor = {k: torch.where(v > 0, v.clamp_min(0.2), v) for k, v in deg.items()}
    s_deg = score(degrade_many(x, floor, gen))
    all_s.append(s_deg)
    all_t.append(target_score(floor, n))
    real_vs = float((real > s_deg).float().mean())

    by_set = {}
    for name in sorted(set(names)):
        m = torch.tensor([k == name for k in names])
        by_set[name] = round(float(real[m].mean()), 3)
    s_all, t_all = torch.cat(all_s), torch.cat(all_t)
    return {
        "heldout_crops": n,
        "spearman": round(_spearman(s_all, t_all), 4),
        "mae": round(float((s_all - t_all).abs().mean()), 3),
        "rank_acc_same_face": None if same_face is None else round(same_face, 4),
        "rank_pairs_same_face": int(gap.sum()),
        "rank_acc_real_vs_degraded": round(real_vs, 4),
        "real_mean": round(float(real.mean()), 3),
        "real_min": round(float(real.min()), 3),
        "real_mean_by_dataset": by_set,
        "target_real": REAL_SCORE,
        "mean_at_severity_0.5": per_kind,
        "target_at_severity_0.5": {k: REAL_SCORE - 0.5 * PENALTY[k] for k in KINDS},
    }
