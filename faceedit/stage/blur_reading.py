"""The photo's own blur, read at its edges: :func:`edge_blur` (a Gaussian's sigma from how much a
second blur lowers the strongest gradients) and :func:`photo_blur` (the blur round an opening beyond
what a filled interior reads, :data:`FILL_BLUR`). The mouth's fills (a smile's teeth, a small
face's cavity and lip rims) and the widened eyes take the photo's blur from here, so that what the
stage draws is no sharper than the photo round it."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS, pixel_max
from faceedit.stage.precision import is_exact

_LUMA = np.asarray(LUMA_WEIGHTS, np.float64)

#: What :func:`edge_blur` reads on the filled interior itself (a sharp
#: pixel step reads 0.83; an exemplar area-downsampled is no sharper): the photo's blur beyond
#: it is added to a smile's teeth.
FILL_BLUR = 0.9
#: The Gaussian a second blur adds in :func:`edge_blur` (px).
REBLUR_SIGMA = 1.0
#: :func:`edge_blur` reads the edges among the strongest gradients: those over this percentile of
#: the window's.
EDGE_PERCENTILE = 90.0


def luma_of(rgb: np.ndarray) -> np.ndarray:
    """(h, w) float64: ``rgb`` (h, w, 3)'s luma, as ``rgb.astype(np.float32) @ _LUMA`` (the same
    values: one ``cv2.transform`` in float64, as numpy's product sums them)."""
    return cv2.transform(np.asarray(rgb, np.float64), _LUMA[None])


def _hypot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``np.hypot`` of float32 ``x``, ``y`` (the same values: the squares summed and rooted in
    float64, rounded once to float32, as the C library's ``hypotf``), in a fraction of the time."""
    return cv2.magnitude(x.astype(np.float64), y.astype(np.float64)).reshape(x.shape).astype(np.float32)


def _percentile(v: np.ndarray, q: float):
    """``np.percentile(v, q)`` (linear) of a 1-D float32 ``v`` with a Python float ``q``: the same
    value (the two order statistics from one partition, numpy's own interpolation), as numpy's
    partitions at four places."""
    n = v.size
    vi = (n - 1) * (q / 100.0)
    k = int(np.floor(vi))
    if n < 2 or k + 1 >= n or v.dtype != np.float32 or np.isnan(v).any():
        return np.percentile(v, q)
    part = np.partition(v, k + 1)
    a, b = part[:k + 1].max(), part[k + 1]
    t = vi - k
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def edge_blur(grey: np.ndarray, where: np.ndarray, exact: bool = True) -> float:
    """The photo's own blur at its edges, a Gaussian's sigma in px: at a step blurred by sigma,
    blurring again by :data:`REBLUR_SIGMA` (s) lowers the gradient's peak by
    ``sigma / sqrt(sigma**2 + s**2)``, so ``sigma = s / sqrt(R**2 - 1)`` with ``R`` the
    gradient over the reblurred gradient; the median over the strongest edges of ``where``
    (:data:`EDGE_PERCENTILE`), within 0..4 px. A studio photo's lips read about 0.8 (London HD
    smiles' mouths at 1350 px), the same lips shrunk to eyes 30-50 px apart about 0.6, and
    blurred by 2.5 px about 2.6. 0 where the window has too few pixels or edges. ``exact``:
    the gradients' magnitudes as ``np.hypot``'s (rooted in float64); else rooted in float32
    (within a float32 rounding of them: the sigma moves by about 1e-6 px)."""
    g = np.asarray(grey, np.float32)
    if int(np.count_nonzero(where)) < 16:
        return 0.0

    def magnitude(gx, gy):
        return _hypot(gx, gy) if exact else cv2.magnitude(gx, gy).reshape(gx.shape)

    def grad(x, at):  # the gradient's magnitude at the flat pixel indices ``at``
        gx, gy = cv2.Sobel(x, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(x, cv2.CV_32F, 0, 1, ksize=3)
        return magnitude(gx.reshape(-1)[at], gy.reshape(-1)[at])

    at = np.flatnonzero(where)
    if at.size * 4 >= g.size:  # most of the window (a photo's round an opening): whole, then masked
        v0 = magnitude(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3),
                       cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3))[np.asarray(where, bool)]
    else:
        v0 = grad(g, at)
    strong = v0 >= max(float(_percentile(v0, EDGE_PERCENTILE)), 1e-4)
    if int(np.count_nonzero(strong)) < 4:  # a flat window: too few edges to read (as ``r`` below)
        return 0.0
    # the reblurred gradient at the strongest edges alone (the only ones read)
    r = v0[strong] / np.maximum(grad(cv2.GaussianBlur(g, (0, 0), REBLUR_SIGMA), at[strong]), 1e-6)
    r = r[r > 1.0 + 1e-3]
    if r.size < 4:
        return 0.0
    return float(np.clip(REBLUR_SIGMA / np.sqrt(np.median(r) ** 2 - 1.0), 0.0, 4.0))


def photo_blur(window: np.ndarray, poly: np.ndarray) -> float:
    """How much softer (a Gaussian's sigma, px) the photo round an opening is than a filled
    interior: :func:`edge_blur` of ``window``'s luma outside the opening's
    polygon ``poly`` (window px) beyond :data:`FILL_BLUR`, in quadrature. The fast render
    (:func:`~faceedit.stage.precision.is_exact` false) reads the luma and the gradients'
    magnitudes in float32 (the exact one: float64, and roots as ``np.hypot``'s): the sigma
    moves by about 1e-6 px, in a fraction of the time on a face box."""
    unit = float(pixel_max(window.dtype)) if np.issubdtype(window.dtype, np.integer) else 1.0
    exact = is_exact()
    if exact:
        g = luma_of(window)
        g = g / unit if unit != 1.0 else g
    else:
        g = cv2.transform(np.asarray(window, np.float32), (_LUMA / unit).astype(np.float32)[None])
    drawn = np.zeros(g.shape[:2], np.uint8)
    cv2.fillPoly(drawn, [np.round(poly * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    sigma = edge_blur(g, cv2.dilate(drawn, np.ones((3, 3), np.uint8)) == 0, exact)
    return float(np.sqrt(max(sigma**2 - FILL_BLUR**2, 0.0)))
