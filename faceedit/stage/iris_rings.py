"""An iris's rings of colour read from what a photo shows of it (:mod:`faceedit.stage.eyes` keeps an
opened eye's iris, :mod:`faceedit.stage.gaze` moves it): the median colour at each fraction of its
radius (:func:`radial_profile`), the iris where a lid hides it read round its own ring
(:func:`iris_around`), the limbus kept dark (:func:`dark_limbus`), and its edge as the photo shows it
(:func:`iris_edge`, drawn with :func:`soft_disc`)."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import luma
from faceedit.stage.tuning import EyesTuning


def _sample(img: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``img`` ((H, W[, C]) float32) at photo points ``pts`` ((..., 2)); a map of
    32767 rows or more (OpenCV's remap takes fewer: SHRT_MAX) in slices of its rows."""
    m = pts.astype(np.float32)
    if m.ndim > 1 and m.shape[0] >= 32767:
        return np.concatenate([_sample(img, m[i:i + 32000]) for i in range(0, m.shape[0], 32000)])
    return cv2.remap(img, m[..., 0], m[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def radial_profile(pixels: np.ndarray, dist: np.ndarray, r: float, bins: int = 10) -> np.ndarray | None:
    """(bins + 1, 3) float32: the median colour of ``pixels`` (the source's visible eye) at each
    ``1 / bins`` of the iris radius ``r`` from its centre (``dist``), gaps filled from the nearest
    known ring; None when under half of the rings are seen. A small iris (``r`` under ``bins`` px)
    whose rings, under a pixel apart, hold too few pixels each is read again at rings a pixel apart
    (at least 2): a 3-px iris at a 128-px face's eye was otherwise never kept, and widened, its
    iris stretched into a tall dark oval with no white above it."""
    prof = _rings(pixels, dist, r, bins)
    if prof is None and r < bins:
        prof = _rings(pixels, dist, r, max(2, int(r)))
    return prof


def _rings(pixels: np.ndarray, dist: np.ndarray, r: float, bins: int) -> np.ndarray | None:
    """:func:`radial_profile` at ``bins`` rings."""
    k = np.round(dist / r * bins).astype(int)
    prof = np.full((bins + 1, 3), np.nan, np.float32)
    for b in range(bins + 1):
        sel = pixels[k == b]
        if len(sel) >= 3:
            prof[b] = np.median(sel, 0)
    known = np.nonzero(~np.isnan(prof[:, 0]))[0]
    if len(known) < (bins + 1) / 2:
        return None
    for b in range(bins + 1):
        if np.isnan(prof[b, 0]):
            prof[b] = prof[known[np.argmin(np.abs(known - b))]]
    return prof


def iris_around(src: np.ndarray, core: np.ndarray, c: np.ndarray, rel: np.ndarray, r: float, sure: float,
                angles: int = 90) -> tuple[np.ndarray, np.ndarray]:
    """The iris where the source hides it (under a squinting lid), read round its own ring: for each offset
    ``rel`` ((..., 2) px from the iris's centre) the source's colour (``src``, unit RGB of the eye's box; ``c``
    the centre there) at the same distance from the centre, at the nearest angles on either side at which the
    source shows that ring (``core``, the visible eye's soft coverage, over ``sure``), the two mixed by how
    near each lies: the iris's own radial streaks and flecks where a ring's median colour
    (:func:`radial_profile`) drew a smooth, pale annulus. Returns (colours (..., 3), weights (...): 1 where
    the ring is seen somewhere, 0 beyond ``r`` or where it is not)."""
    step = 2 * np.pi / angles
    theta = np.arange(angles) * step
    rings = np.arange(int(np.ceil(r)) + 1, dtype=np.float64)
    pts = c + rings[:, None, None] * np.stack([np.cos(theta), np.sin(theta)], -1)[None]
    seen = _sample(core.astype(np.float32), pts) >= sure  # (rings, angles)
    # per ring and angle: how many steps to the first seen angle turning each way
    k = np.arange(angles)
    fwd = (k[None, :] - k[:, None]) % angles  # (angle, candidate): steps turning up from angle
    big = 2 * angles
    up = np.where(seen[:, None, :], fwd[None], big).min(2)  # (rings, angle)
    down = np.where(seen[:, None, :], (angles - fwd[None]) % angles, big).min(2)
    found = up < big
    rho = np.linalg.norm(rel, axis=-1)
    ang = np.mod(np.arctan2(rel[..., 1], rel[..., 0]), 2 * np.pi)
    i = np.clip(np.round(rho).astype(int), 0, len(rings) - 1)
    j = np.floor(ang / step).astype(int) % angles
    frac = ang / step - np.floor(ang / step)
    a_up = (up[i, j] - frac) * step  # radians to turn up (and down) to a seen angle
    a_down = (down[i, j] + frac) * step
    w_up = (a_down / np.maximum(a_up + a_down, 1e-6))[..., None]
    col = np.zeros(rel.shape[:-1] + (src.shape[-1],), np.float32)
    for turn, w in ((ang + a_up, w_up), (ang - a_down, 1 - w_up)):
        at = c + rho[..., None] * np.stack([np.cos(turn), np.sin(turn)], -1)  # a grid as remap takes it
        col += w * _sample(src, at if at.ndim == 3 else at.reshape(-1, 1, 2)).reshape(col.shape)
    weight = (found[i, j] & (rho <= r)).astype(np.float32)
    return col, weight


def dark_limbus(profile: np.ndarray, share: float) -> np.ndarray:
    """An iris's ring colours (:func:`radial_profile`, centre to rim) with those beyond ``share``
    of its radius no lighter than the ring there (each darkened to its luma; the darker kept):
    the limbus is dark, and a radius found a little large, or a squinting eye's grey white mixed
    into the rings the source shows, drew a light ring round the iris."""
    out = np.array(profile, np.float32)
    m = int(round(share * (len(out) - 1)))
    lp = luma(out)
    out[m:] *= np.minimum(1.0, lp[m] / np.maximum(lp[m:], 1e-6))[:, None]
    return out


def iris_edge(lum: np.ndarray, c: np.ndarray, r: float, tuning: EyesTuning) -> tuple[float, float, float]:
    """(blur, reach, mid) of the iris of centre ``c`` and radius ``r`` (px) in the luma ``lum`` as
    the photo shows its edge on the left and right arcs (the lids lie over the top and bottom):
    ``blur``, the Gaussian's sigma (px) whose 10-90 % rise is the edge's, from the iris's dark
    to the white's light (at most ``iris_blur_max`` radii, at least half a pixel); ``reach``,
    where (radii) the edge has risen ``limbus_rise`` of the way: the dark limbal ring's outer
    edge (1.05 to ``limbus_reach_max``); ``mid``, half way between where it has risen half way
    and ``limbus_rise`` of the way (radii, 1 to ``reach``): the edge of an iris drawn where the photo
    does not show it (its rise from the dark limbal ring to the white as steep as the photo's)."""
    rs = np.linspace(0.6, 1.6, 41) * r
    ang = np.deg2rad(np.r_[np.linspace(-20, 20, 5), np.linspace(160, 200, 5)])
    prof = _sample(lum.astype(np.float32), c + rs[:, None, None] * np.stack([np.cos(ang), np.sin(ang)], 1)[None]
                   ).mean(1)
    lo = float(prof[rs <= r].min())
    hi = float(np.percentile(prof[rs >= 1.2 * r], 75))
    if hi - lo < 1e-3:
        return 0.5, 1.05, 1.0
    rise = (prof - lo) / (hi - lo)
    start = int(np.argmax(rs >= 0.8 * r))
    i10 = start + int(np.argmax(rise[start:] >= 0.1))
    i90 = i10 + int(np.argmax(rise[i10:] >= 0.9)) if (rise[i10:] >= 0.9).any() else len(rs) - 1
    ir = i10 + int(np.argmax(rise[i10:] >= tuning.limbus_rise)) if (rise[i10:] >= tuning.limbus_rise).any() \
        else len(rs) - 1
    blur = float(np.clip((rs[i90] - rs[i10]) / 2.56, 0.5, tuning.iris_blur_max * r))
    reach = float(np.clip(rs[ir] / r, 1.05, tuning.limbus_reach_max))

    def crossing(level: float) -> float:  # the radius (px) where the rise first reaches ``level``, between samples
        i = i10 + int(np.argmax(rise[i10:] >= level)) if (rise[i10:] >= level).any() else len(rs) - 1
        if i == 0 or rise[i] <= rise[i - 1]:
            return float(rs[i])
        return float(rs[i - 1] + (rs[i] - rs[i - 1]) * (level - rise[i - 1]) / (rise[i] - rise[i - 1]))

    return blur, reach, float(np.clip((crossing(0.5) + crossing(tuning.limbus_rise)) / 2 / r, 1.0, reach))


def soft_disc(dist: np.ndarray, r: float | np.ndarray, blur: float) -> np.ndarray:
    """The cover of a disc of radius ``r`` (px, or one per distance) at distances ``dist`` from its
    centre, its edge blurred by a Gaussian of sigma ``blur`` (px; the logistic of the same spread)."""
    return (1.0 / (1.0 + np.exp(np.clip((dist - r) / (0.55 * blur), -50, 50)))).astype(np.float32)
