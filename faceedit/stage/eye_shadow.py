"""The upper lid's shadow over an opened eye (:func:`faceedit.stage.eyes.keep_irises`).

A widened eye's white and kept iris lie in the shadow of the lid where it now is: darkest at the
lid's margin and lit within about a tenth of the eye's width under it (London HD's open eyes at
1350 px read their white beside the iris at 0.42, 0.49, 0.64, 0.80, 0.88 of its lit part 0-0.02,
-0.04, -0.06, -0.08, -0.10 eye widths under the Face Mesh's margin: ``bench/measure_lid_shadow.py``).
:func:`lid_shade` casts it from the lid's margin moved with the eye's points, :func:`shade_under`
from where the edit's pixels show the lid (a made-up eye's lashes hang below the margin). Drawn from
where the source's pixels came from, the whole white the lid uncovered lay at the margin's shade and
met the lashes in a hard edge (0.67 of the lit white just under the lid, the same read).

The iris kept at its own size is read out of the source's shadow (:func:`read_iris`): under a
squinting or made-up lid its top is dark, and copied as it is, a dark crescent or a dark centre
stayed on the iris under the raised lid.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import luma
from faceedit.stage.iris_rings import _sample, dark_limbus, iris_around, radial_profile
from faceedit.stage.tuning import EyesTuning


def top_edge(poly: np.ndarray, upper: np.ndarray | None = None, moved: np.ndarray | None = None) -> np.ndarray:
    """The upper lid margin of an eye polygon (:func:`faceedit.stage.eyes.eye_polygon`) sorted by x;
    with the eye's 68-point upper contour (``upper``: its corners and upper lid points, (4, 2)) and
    where it moved (``moved``), the margin moved with it (each point by the move read along the eye)."""
    top = poly[:9]
    if upper is not None and moved is not None:
        order = np.argsort(upper[:, 0])
        xs, step = upper[order, 0], (moved - upper)[order]
        top = top + np.stack([np.interp(top[:, 0], xs, step[:, 0]), np.interp(top[:, 0], xs, step[:, 1])], 1)
    return top[np.argsort(top[:, 0])]


def _shadow(below: np.ndarray, width: float, tuning: EyesTuning) -> np.ndarray:
    """The share of the light left ``below`` px under the lid of an eye ``width`` px wide: ``1 - lid_shadow``
    at the lid, rising to 1 as a Gaussian of the distance, ``lid_shadow_reach`` eye widths its sigma; none
    where that sigma is under half a pixel, whole from two (a small eye's lid margin and its shadow share
    their pixels: a 128-px face's white over a widened iris, 2 px tall, went as dark as the margin)."""
    sigma = tuning.lid_shadow_reach * width
    depth = tuning.lid_shadow * float(np.clip((sigma - 0.5) / 1.5, 0.0, 1.0))
    return (1.0 - depth * np.exp(-0.5 * (below / max(sigma, 1e-6)) ** 2)).astype(np.float32)


def lid_shade(pts: np.ndarray, top: np.ndarray, width: float, tuning: EyesTuning) -> np.ndarray:
    """The upper lid's shadow (:func:`_shadow`) at points ``pts`` (..., 2) under the lid margin ``top``
    (:func:`top_edge`)."""
    return _shadow(np.maximum(pts[..., 1] - np.interp(pts[..., 0], top[:, 0], top[:, 1]), 0.0), width, tuning)


def lid_seen(cur: np.ndarray, open_d: np.ndarray, whiten: np.ndarray, rel: np.ndarray, disc: np.ndarray,
             white: float) -> np.ndarray:
    """(h, w) bool: the upper lid as an opened eye's box (``cur``, unit RGB) shows it above the iris's
    middle (``rel``: offsets from its centre): outside the opening (``open_d`` under 0.5), or darker than
    half the white's luma (``white``) where no white is drawn (``whiten``) off the iris (``disc``)."""
    dark = (luma(cur) < 0.5 * white) & (whiten < 0.5) & (disc < 0.5)
    return ((open_d < 0.5) | dark) & (rel[..., 1] < 0)


def shade_under(lid: np.ndarray, width: float, tuning: EyesTuning) -> np.ndarray:
    """The upper lid's shadow (:func:`_shadow`) on the pixels under ``lid`` ((h, w) bool, :func:`lid_seen`)
    by how far under its lowest pixel above them in their column they lie; 1 where none is above."""
    rows = np.arange(lid.shape[0])[:, None]
    last = np.maximum.accumulate(np.where(lid, rows, -1), axis=0)
    return _shadow(np.where(last >= 0, rows - last - 0.5, np.inf), width, tuning)


def _unshadow(src: np.ndarray, core: np.ndarray, gx: np.ndarray, gy: np.ndarray, c: np.ndarray, r: float,
              tuning: EyesTuning) -> tuple[np.ndarray, np.ndarray]:
    """An eye's source box (``src``, unit RGB; ``gx``, ``gy`` its photo coordinates) with its iris's top
    (centre ``c``, radius ``r``) lifted out of the upper lid's shadow, and (h, w) 0..1 how far each pixel
    is then read as lit. Each pixel's luma (blurred over an eighth of the radius) over the median of the
    iris's lower half (``core`` over 0.5 there) at its distance from the centre; each row above the centre
    lifted by its iris pixels' median of that (at most ``iris_lift_most``: a lid's shadow falls by
    rows; heavy lashes shade the iris's top well below the lid's margin); read as lit by ``iris_lit``.
    The source, all lit, where the lower half shows too little."""
    dist = np.hypot(gx - c[0], gy - c[1])
    seen = core > 0.5
    low = seen & (gy >= c[1]) & (dist <= r)
    prof = radial_profile(src[low], dist[low], r)
    if prof is None:
        return src, np.ones(core.shape, np.float32)
    pl = luma(prof)
    ring = np.interp(np.clip(dist / r, 0, 1) * (len(pl) - 1), np.arange(len(pl)), pl)
    ratio = cv2.GaussianBlur(luma(src), (0, 0), max(0.5, r / 8)) / np.maximum(ring, 1e-6)
    upper = seen & (gy < c[1]) & (dist <= r)
    gain = np.ones(src.shape[0], np.float32)
    for y in np.nonzero(upper.sum(1) >= 3)[0]:
        gain[y] = float(np.clip(1.0 / max(float(np.median(ratio[y][upper[y]])), 1e-6), 1.0, tuning.iris_lift_most))
    inside = np.clip(r + 1.0 - dist, 0.0, 1.0)  # the iris's own pixels, its rim soft
    g = 1.0 + (gain[:, None] - 1.0) * inside * (gy < c[1])
    lo, hi = tuning.iris_lit
    lit = np.where(gy < c[1], np.clip((ratio * g - lo) / (hi - lo), 0.0, 1.0), 1.0).astype(np.float32)
    return np.clip(src * g[..., None], 0.0, 1.0).astype(np.float32), lit


def read_iris(src: np.ndarray, core: np.ndarray, box: tuple[int, int, int, int], poly: np.ndarray, c: np.ndarray,
              r: float, rel: np.ndarray, blur: float, tuning: EyesTuning
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """An iris kept at its own size (centre ``c``, radius ``r``, photo px) read from the eye's source box
    ``src`` (unit RGB; ``box`` its (x0, y0, x1, y1) in the photo; ``core`` the visible opening's soft
    cover there, ``poly`` the opening): its ring colours (:func:`~faceedit.stage.iris_rings.radial_profile`,
    the limbus dark) and its colour at offsets ``rel`` ((..., 2) from its centre; its edge's ``blur``, px).
    Read out of the lid's shadow (:func:`_unshadow`; none within half a ``lid_shadow_reach`` of the
    source's lid margin, all from one): where the source shows it lit, or a glint, the same offset; under
    a top still in shadow its lower half mirrored (``iris_mirror_from``: its fibres run out from the centre);
    else round its own ring (:func:`~faceedit.stage.iris_rings.iris_around`, off the glints: a catchlight
    beside the unseen angles drew an arc round the pupil), else the ring's colour; either no darker than
    a pupil against the ring's colour at that radius (``iris_pupil_dark``), else that; and how much of each
    offset's colour is the source's own there (0-1). None where too few of its rings show."""
    # read within the iris's own square (its rings reach 1.25 radii at most, its edge a few blurs)
    reach = 1.3 * r + 2.0 * blur + 3.0
    x0, y0 = max(box[0], int(np.floor(c[0] - reach))), max(box[1], int(np.floor(c[1] - reach)))
    x1, y1 = min(box[2], int(np.ceil(c[0] + reach)) + 1), min(box[3], int(np.ceil(c[1] + reach)) + 1)
    src = src[y0 - box[1]:y1 - box[1], x0 - box[0]:x1 - box[0]]
    core = core[y0 - box[1]:y1 - box[1], x0 - box[0]:x1 - box[0]]
    sbox = np.array([x0, y0], np.float64)
    width = float(np.linalg.norm(poly[0] - poly[8]))
    gy, gx = np.mgrid[y0:y1, x0:x1]
    top = top_edge(poly)
    margin = np.clip(2.0 * (gy - np.interp(gx, top[:, 0], top[:, 1])) / (tuning.lid_shadow_reach * width) - 1.0,
                     0.0, 1.0)
    lit_src, lit = _unshadow(src, core, gx, gy, c, r, tuning)
    sure = (core * np.minimum(margin, lit)).astype(np.float32)
    iy, ix = np.nonzero(sure > 0.5)
    profile = radial_profile(lit_src[iy, ix], np.hypot(ix + x0 - c[0], iy + y0 - c[1]), r)
    if profile is None:  # too little of it out of the shadow: read as the source shows it
        lit_src, sure = src, core.astype(np.float32)
        iy, ix = np.nonzero(core > 0.5)
        profile = radial_profile(src[iy, ix], np.hypot(ix + x0 - c[0], iy + y0 - c[1]), r)
    if profile is None:
        return None
    profile = dark_limbus(profile, tuning.limbus_from)
    ring_l = luma(profile)
    ring_at = np.interp(np.clip(np.hypot(gx - c[0], gy - c[1]) / r, 0, 1) * (len(ring_l) - 1),
                        np.arange(len(ring_l)), ring_l)
    glint = luma(lit_src) / np.maximum(ring_at, 1e-6)
    off_glint = np.clip((tuning.iris_glint - glint) / 0.25, 0.0, 1.0).astype(np.float32)
    dist = np.linalg.norm(rel, axis=-1)
    rho = np.clip(dist / r, 0, 1) * (len(profile) - 1)
    i0 = np.floor(rho).astype(int)
    i1, f = np.minimum(i0 + 1, len(profile) - 1), (rho - i0)[..., None]
    ring_col = profile[i0] * (1 - f) + profile[i1] * f
    median_col = ring_col
    around, seen_at = iris_around(lit_src, sure * off_glint, c - sbox, rel, r, tuning.iris_around_sure)
    # within a pixel and the edge's blur of the rim the ring read round the iris holds the white beyond it
    # (a small iris's edge is a pixel wide): no lighter there than the dark limbus's ring (a 4-px iris's
    # rim drew 40-50 levels lighter than the photo's, a pale ring inside the white)
    by_rim = dist > r - 1.0 - blur
    lighter = np.maximum(luma(around), 1e-6)
    around = np.where(by_rim[..., None], around * np.minimum(1.0, luma(ring_col) / lighter)[..., None], around)
    ring_col = around * seen_at[..., None] + ring_col * (1 - seen_at[..., None])
    mirror = c + np.stack([rel[..., 0], np.abs(rel[..., 1])], -1) - sbox
    lo, hi = tuning.iris_mirror_from
    w_m = (np.clip((_sample(sure * off_glint, mirror) - 0.3) / 0.6, 0, 1)
           * np.clip((dist / r - lo) / (hi - lo), 0, 1))[..., None]
    ring_col = _sample(lit_src, mirror) * w_m + ring_col * (1 - w_m)
    # what it reads no darker than a pupil against the ring's median light at that radius, else that median: a
    # centre read off the pupil's mirrored it, or read it round the ring, above as a second pupil
    dark_lo, dark_hi = tuning.iris_pupil_dark
    there = luma(median_col)
    keep = np.clip((luma(ring_col) / np.maximum(there, 1e-6) - dark_lo) / max(dark_hi - dark_lo, 1e-6), 0, 1)[..., None]
    ring_col = ring_col * keep + median_col * (1 - keep)
    direct = c + rel - sbox
    w_d = np.clip((_sample(np.maximum(sure, core * (1 - off_glint)), direct) - 0.3) / 0.6, 0, 1)[..., None]
    return profile, _sample(lit_src, direct) * w_d + ring_col * (1 - w_d), w_d[..., 0]
