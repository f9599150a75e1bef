"""The hair's outline against a plain wall, strand by strand: how much of each pixel is hair.

The stage's hair matte (:func:`faceedit.stage.regions.hair_matte`) is found at work scale and
brought to the photo's pixels by a guided filter: it ends in a smooth outline, calls the wall
between the outer strands hair and misses the single strands beyond it. Within a band about
that outline (``HairTuning.band_in`` inside it, ``band_out`` beyond it, eye distances) where the
wall is a plain backdrop, a pixel's share of hair is read from its lightness instead: the wall's
lightness there (a quadratic surface fitted to the head box's side strips above the chin, as
:func:`faceedit.stage.regions.wall_like` fits it) against the hair's own nearby (its sure
part's, averaged), less ``HairTuning.wall_noise`` (the wall's own grain is no hair). A flyaway
then takes the new colour in proportion to its coverage, the wall between strands stays the
wall. Where the hair barely differs from the wall (``RegionsTuning.contrast_min``), or the wall
is no plain backdrop (the surface's 90th-percentile residual over the strips over
``HairTuning.wall_plain``: a scene, hair down to the box's sides), the matte is kept.

numpy and OpenCV only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from faceedit.stage.matting import Work
from faceedit.stage.regions import reaches_border, wall_strips, wall_surface
from faceedit.stage.tuning_face import HairTuning, RegionsTuning


@dataclass(frozen=True)
class Outline:
    """The hair's coverage read at its outline (all over the head box at the photo's pixels):
    ``alpha`` the share of hair (the matte elsewhere), ``band`` 0..1 how far a pixel is read by
    its lightness (0: the matte's), ``hair`` the hair's own Lab colour nearby (float32 (h, w, 3))."""

    alpha: np.ndarray
    band: np.ndarray
    hair: np.ndarray


def _gaussian(x: np.ndarray, sigma: float, h: int, w: int) -> np.ndarray:
    """``x[:h, :w]`` ((h', w', c) float32) blurred by a Gaussian of ``sigma`` px, its borders
    reflected; ``x`` padded to a multiple of :func:`_factor`'s ``f`` by the caller. A large one
    (``sigma`` of 10 px or more) is taken at a ``f`` times smaller scale: ``f`` x ``f`` blocks
    averaged, a Gaussian there whose spread with the blocks' and the linear upsampling's makes
    up ``sigma``, and brought back by linear interpolation."""
    f = _factor(sigma)
    if f < 2:
        return cv2.GaussianBlur(x[:h, :w], (0, 0), sigma).reshape((h, w) + x.shape[2:])
    hp, wp = x.shape[:2]
    # the padding past h, w: the rows and columns before them, mirrored (OpenCV's default border)
    for k in range(hp - h):
        x[h + k] = x[h - 2 - k]
    for k in range(wp - w):
        x[:, w + k] = x[:, w - 2 - k]
    small = cv2.resize(x, (wp // f, hp // f), interpolation=cv2.INTER_AREA)
    # the blocks' (f^2 / 12) and the upsampling's (f^2 / 6) variances taken out of sigma's
    rest = np.sqrt(max(sigma * sigma - f * f / 4.0, 0.25 * f * f)) / f
    small = cv2.GaussianBlur(small, (0, 0), rest)
    return cv2.resize(small, (wp, hp), interpolation=cv2.INTER_LINEAR)[:h, :w].reshape((h, w) + x.shape[2:])


def _factor(sigma: float) -> int:
    """The scale a Gaussian of ``sigma`` px is taken at (:func:`_gaussian`): a fifth of ``sigma``."""
    return max(1, int(sigma / 5.0))


def _normalised_blur(x: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """``x`` ((h, w, c) float32) averaged with ``weight`` ((h, w)) over a Gaussian of ``sigma`` px."""
    (h, w, c), f = x.shape, _factor(sigma)
    both = np.empty((h + (-h % f), w + (-w % f), c + 1), np.float32)
    np.multiply(x, weight[..., None], out=both[:h, :w, :c])
    both[:h, :w, c] = weight
    both = _gaussian(both, sigma, h, w)
    return both[..., :c] / np.maximum(both[..., c:], 1e-4)


def outline(work: Work, lab: np.ndarray, matte: np.ndarray, face: np.ndarray, lm: np.ndarray, d: float,
            tuning: HairTuning | None = None, mattes: RegionsTuning | None = None) -> Outline:
    """The hair's coverage about its outline (module doc): ``lab`` the head box at the photo's
    pixels (float32 Lab), ``matte`` the hair matte there, ``face`` the face's coverage there, the
    face at 68 landmarks ``lm`` with eye distance ``d`` (photo px)."""
    tn = tuning if tuning is not None else HairTuning()
    rt = mattes if mattes is not None else RegionsTuning()
    h, w = matte.shape
    none = Outline(matte, np.zeros_like(matte), lab)
    small = work.small(lab)
    sh, sw = small.shape[:2]
    strips = wall_strips(work, lm, small.shape, rt)
    if strips is None:
        return none
    coef, residual, fit = wall_surface(small, strips)
    if fit > tn.wall_plain:
        return none
    # the wall's colour at the photo's pixels (the same surface, its coordinates scaled)
    s = work.scale
    c = coef.astype(np.float32)
    xx = (((np.arange(w, dtype=np.float32) + 0.5) * s - 0.5) / max(sh, sw))[None, :, None]
    yy = (((np.arange(h, dtype=np.float32) + 0.5) * s - 0.5) / max(sh, sw))[:, None, None]
    wall_lab = (c[0] + yy * (c[2] + yy * c[5])) + xx * ((c[1] + xx * c[3]) + yy * c[4])
    wall_l = wall_lab[..., 0]
    # near the wall: within a few px (work scale) of a pixel the surface explains
    # (over the brows, only the wall that reaches the box's border: a crown's shine ringed by
    # hair is no wall; beside the face, the wall seen between a lock and the cheek is)
    plain = residual < max(rt.background_delta, 1.5 * fit)
    brows = float(work.to_work(lm[17:27])[:, 1].min())
    wall = (plain & (reaches_border(plain) | (np.arange(sh)[:, None] >= brows))).astype(np.uint8)
    k = 2 * max(1, int(round(tn.band_out * d * s))) + 1
    near_wall = cv2.resize(cv2.dilate(wall, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))).astype(np.float32),
                           (w, h), interpolation=cv2.INTER_LINEAR)
    # the hair's own colour nearby: its sure part's, averaged
    sure = (matte > 0.95).astype(np.float32)
    if float(sure.sum()) < 50:
        return none
    sigma = max(1.0, tn.hair_near * d)
    squares = np.empty((h, w, 4), np.float32)
    squares[..., :3] = lab
    np.square(lab[..., 0], out=squares[..., 3])
    near = _normalised_blur(squares, sure, sigma)
    hair = np.ascontiguousarray(near[..., :3], np.float32)
    # the hair's darker strands nearby (its mean less a deviation): as dark, a pixel is all hair
    deviation = np.sqrt(np.maximum(near[..., 3] - hair[..., 0] ** 2, 0.0))
    strands = hair[..., 0] - deviation
    # the band about the outline: the outside connected to the box's border, less the face
    n, labels = cv2.connectedComponents((matte < 0.5).astype(np.uint8), connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    outer = np.zeros(n, bool)
    outer[border] = True
    outer[0] = False
    outside = (outer[labels] & (face <= 0.5)).astype(np.uint8)
    beyond = cv2.distanceTransform((matte < 0.5).astype(np.uint8), cv2.DIST_L2, 5)  # px from the hair
    within = cv2.distanceTransform(1 - outside, cv2.DIST_L2, 5)  # px into the hair
    band = np.where(outside > 0, np.clip(1.0 - beyond / max(tn.band_out * d, 1.0), 0.0, 1.0) ** 0.5,
                    np.clip(1.0 - within / max(tn.band_in * d, 1.0), 0.0, 1.0))
    # ... and inside the hair, where the wall shows between its strands (a share of the pixels
    # nearby of the wall's own colour)
    seen = (np.linalg.norm(lab - wall_lab, axis=-1) < tn.wall_colour).astype(np.float32)
    r = max(1, int(round(tn.gaps_near * d)))
    gaps = np.clip(cv2.blur(seen, (2 * r + 1, 2 * r + 1)) / tn.gaps_share, 0.0, 1.0)
    band = np.maximum(band, gaps * (matte >= 0.5))
    gap = wall_l - strands
    trust = np.clip((np.abs(gap) - rt.contrast_min) / rt.contrast_min, 0.0, 1.0)
    band = (band * trust * near_wall * (face <= 0.5)).astype(np.float32)
    # the share of hair by lightness: as dark as the hair nearby, all hair; within the wall's
    # grain of the wall, none
    dark = (wall_l - lab[..., 0]) * np.sign(gap)
    share = np.clip((dark - tn.wall_noise) / np.maximum(np.abs(gap) - tn.wall_noise, 1.0), 0.0, 1.0)
    alpha = (matte + band * (share - matte)).astype(np.float32)
    return Outline(alpha, band, hair)
