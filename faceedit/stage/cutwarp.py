"""A dense, fold-free face warp with the inner-lip contour (and optionally the eyelids) as
cuts: lips part and close at a photo's full resolution.

(About 880 lines, one algorithm: the curves, the two side fields, the side and zone weights, the
fold guard and the compositing share the cut's geometry and are read together; the plain warp's
pieces it reuses are in :mod:`faceedit.stage.warp`.)

:func:`faceedit.stage.warp.backward_field` is one smooth map, so it cannot part two lips that
touch (the inner lips are left out of it). :func:`cut_warp` lets the map tear along a *cut*: a
curve from one corner (the inner mouth corners 60 and 64) to the other, with an upper and a
lower side that move independently.

How (the two-field construction; chosen over a triangulated piecewise-affine mesh because every
field stays a smooth thin-plate spline sampled bilinearly from a coarse grid, so the photo shows
no kinks along triangle edges at full resolution, and the fold test is the Jacobian of smooth
fields):

* Each cut has two destination curves, ``upper`` and ``lower`` (centripetal Catmull-Rom through
  60,61,62,63,64 and 60,67,66,65,64; :func:`lip_curves`), and the same curves in the source.
* Backward fields (output pixel -> source position) on the coarse face grid (a
  :class:`~faceedit.stage.warp.Grid`, as ``backward_field``), all thin-plate splines times
  :func:`~faceedit.stage.warp.region_weight`, so exactly zero beyond the face region: ``F0``
  through the plain warp's driving points (:data:`~faceedit.stage.warp.WARP_POINTS`, the
  fixed anchors around the face) plus the cut's corners; ``F_up`` the same without the lower
  outer lip (:attr:`Cut.lower_only`) plus the dense upper curve (destination upper curve ->
  source upper curve); ``F_low`` likewise with the lower curve, without the upper outer lip.
  (A spline through both a lip's outer points and the other lip's inner curve folds when the
  destination is closed: the two lie a lip's thickness apart there but map across the source
  opening.)
* Which field a pixel uses. The side label: a polygon of the region above the destination
  upper curve, closed by rays out of the two corners along the outward bisector of the two
  curves (:func:`upper_side_polygon`). The side weight ``g`` (:func:`side_weight`): the angle,
  seen from the nearer corner, between the pixel and that corner's ray, through a smoothstep
  from 30 to 75 degrees: 1 over the whole region above and below the mouth, 0 on the rays. On
  the upper side the field is ``F_low + (1+g)/2 (F_up - F_low)``, on the lower side
  ``F_low + (1-g)/2 (F_up - F_low)``: each side's own field alone above and below the lips,
  the same average of both on the rays, where the label changes, so the map is continuous
  everywhere but across the cut. A zone weight (:func:`zone_weight`, 1 up to 0.4 and 0 from
  0.8 corner-to-corner lengths away from the opening) fades both into ``F0``. The two fields
  are smooth grid fields sampled per pixel (bilinearly); only the label and the opening are
  decided per pixel, with exact anti-aliased polygon coverage where it matters (the opening's
  box), a plain label elsewhere (on the rays both fields agree).
* The destination opening (the polygon between the two destination curves) samples neither
  side: an interior field ``F_in`` (for the mouth: the rigid motion of the upper inner lip's
  chord, :func:`rigid_field`, so the teeth move with the upper lip and keep their size; for
  an eye: ``F0``, the eyeball stays) maps it into the source; where that lands inside the source
  opening (the source polygon between its curves) the photo's own interior is shown
  (``interior``), elsewhere nothing in the source can fill it (``opening``): those pixels are
  painted with a smooth membrane of the surrounding lip colours for the caller to paint over.
* Lips never show the source interior: before the two side fields sample the photo, the source
  opening is replaced by the same membrane fill of the lips around it, so even the bicubic
  kernel at the lip line reads lip colours, and closing a smiling mouth leaves no teeth.
* Fold-free: the Jacobian determinant of each field, on the grid nodes where it is used, is at
  least :data:`~faceedit.stage.warp.MIN_JACOBIAN`; otherwise the whole move is scaled down (a
  bisection, as ``backward_field``).

The photo is resampled once per pixel (bicubic) over the face region's ROI; only the lower
side's pixels near a cut and the opening's box are resampled again (with their own fields) and
composited. A zero move returns the input unchanged; a pixel where every field is zero (beyond
the face region) is the input's own, bit for bit.

Better curves (``lips=``): the 68-point inner lips of a smile often sit on the teeth rather
than at the lip's edge (on the London smiles, up to ~10 px at 1350 px), and what lies outside
the curves moves with the lips, teeth included. A caller with a face mesh can cut along its
inner-lip loop instead; those curves follow the 68-point curves' move (:func:`follow_curves`).

Eyelids (``eyelids=True``): the same cut between the upper lid (36,37,38,39) and the lower lid
(36,41,40,39), and likewise for the other eye; the eye interior stays with the face (``F0``).
A blink then closes the lids over the landmark eye polygon; the detector's eye contour often
lies inside the visible eye (on the London photos a few pixels of iris and white stay outside
it), and what lies outside the polygon moves with the lids.

Coordinates: x right, y down, pixel centres at integers (as :mod:`faceedit.stage.warp`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from faceedit.faces.landmarks import CHIN, eye_centres
from faceedit.stage.warp import (
    MIN_JACOBIAN,
    WARP_POINTS,
    Grid,
    face_grid,
    jacobian_det,
    polygon_distance,
    region_weight,
    warp_anchors,
)

#: Curve samples per Catmull-Rom segment (the mouth's curves: 4 segments, 33 points).
SAMPLES_PER_SEGMENT = 8
#: The side weight ``g`` of a point: 0 within SIDE_LO of the ray out of the nearer corner (the
#: outward bisector of the two curves there, where the side label flips), 1 from SIDE_HI off it
#: on (radians, seen from the corner). Each side's own field is alone (``g`` = 1) over the whole
#: region above and below the mouth; the two only mix in wedges beyond the corners.
SIDE_LO, SIDE_HI = np.radians(30.0), np.radians(75.0)
#: Distance from the opening (in chord lengths, corner to corner) over which the cut's fields
#: fade into ``F0`` (1 up to ZONE_LO, 0 from ZONE_HI).
ZONE_LO, ZONE_HI = 0.4, 0.8
#: Smoothing of the thin-plate splines (in the unit frame of their centres, as backward_field).
TPS_REG = 1e-3


@dataclass(frozen=True)
class Cut:
    """A cut: landmark chains of its upper and lower side, corner to corner (both chains start
    at the same corner and end at the same corner)."""

    name: str
    upper: tuple[int, ...]
    lower: tuple[int, ...]
    #: "upper": the interior moves with the upper side (teeth with the upper jaw); "face": it
    #: stays with the face (an eyeball behind the lids).
    interior: str = "upper"
    #: Driving points that belong to one side only (the outer lips): the other side's field
    #: leaves them out. In a closed destination they lie a lip's thickness from the cut but map
    #: across the source opening; a spline through both overshoots there and folds.
    upper_only: tuple[int, ...] = ()
    lower_only: tuple[int, ...] = ()


MOUTH = Cut("mouth", (60, 61, 62, 63, 64), (60, 67, 66, 65, 64), "upper",
            upper_only=(49, 50, 51, 52, 53), lower_only=(55, 56, 57, 58, 59))
#: Height over width of a new mouth opening from which its corners start to be rounded, and at
#: which they are fully (:func:`round_opening`).
ROUND_ASPECT = (0.25, 0.45)
#: Growth of the gap between the reference lips (moved over source) from which given curves
#: start to move with their own lip, and at which they do alone (:func:`follow_curves`).
OPENING_FOLLOWS = (1.0, 1.5)
LEFT_EYE = Cut("left_eye", (36, 37, 38, 39), (36, 41, 40, 39), "face")
RIGHT_EYE = Cut("right_eye", (42, 43, 44, 45), (42, 47, 46, 45), "face")


@dataclass
class CutWarpResult:
    """What :func:`cut_warp` made.

    ``pixels``: the warped photo (a new array, the input's dtype and shape). Inside ``opening``
    it holds a smooth fill of the surrounding lip colours: a placeholder for the caller to
    paint the mouth interior over (``pixels * (1 - opening) + filler * opening`` over ``roi``).
    ``roi``: (x0, y0, x1, y1), the area the warp may change (nothing outside it changed).
    ``opening``: float32 (y1-y0, x1-x0) in [0, 1]: the part of the destination mouth opening
    that nothing in the source fills (anti-aliased, ~1 px edge). ``interior``: same shape, the
    part of the destination opening that shows the source's own mouth interior (its teeth),
    carried with the upper lip; ``opening + interior`` is the coverage of the destination
    opening. ``eye_opening``: the same as ``opening`` for the eyes (all zero without
    ``eyelids``): eye area opened wider than the source shows. ``upper`` / ``lower``: (N, 2)
    destination inner-lip curves, corner 60 to corner 64. ``scale``: the fraction of the move
    applied (< 1 only where the full move would fold). ``landmarks``: (68, 2) the landmarks
    reached, ``src + scale * (dst - src)``."""

    pixels: np.ndarray
    roi: tuple[int, int, int, int]
    opening: np.ndarray
    interior: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    scale: float
    landmarks: np.ndarray
    eye_opening: np.ndarray
    #: the face's field (the cuts' upper sides) on its refined grid; None: nothing moved
    face_field: tuple[Grid, np.ndarray] | None = None

    def source_points(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """(y1-y0, x1-x0, 2) float32: where in the source photo each pixel of ``box`` (x0, y0, x1,
        y1) was sampled from by the face's field (the cuts' upper sides: everything but the
        lower lip, the jaw and, with eyelids cut, the lower lids, whose fields differ only near
        their cuts)."""
        x0, y0, x1, y1 = box
        base = np.stack(np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32)), -1)
        if self.face_field is None:
            return base
        return base + _sample(*self.face_field, box)


# --------------------------------------------------------------------------------------------
# curves and polygons


def catmull_rom(points: np.ndarray, per_segment: int = SAMPLES_PER_SEGMENT) -> np.ndarray:
    """Centripetal Catmull-Rom curve through ``points`` (K, 2): (K-1) * per_segment + 1 points,
    the first and last exactly the end points; the same parameters on every call, so curves
    through corresponding points correspond sample by sample. The end tangents come from
    mirrored phantom points."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    pad = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    k = len(p) - 1  # segments, all at once: (k, 1, 2) points, (k, 1, 1) knots
    p0, p1, p2, p3 = (pad[j:j + k, None, :] for j in range(4))
    s = np.arange(per_segment, dtype=np.float64)[None, :, None] / per_segment

    # knot intervals |dp|^0.5 (centripetal), kept positive for coincident points
    gaps = np.array([max(float(np.linalg.norm(pad[j + 1] - pad[j])) ** 0.5, 1e-6) for j in range(len(pad) - 1)])
    d01, d12, d23 = (gaps[j:j + k, None, None] for j in range(3))
    t0, t1 = 0.0, d01
    t2, t3 = t1 + d12, t1 + d12 + d23
    t = t1 + s * (t2 - t1)
    a1 = ((t1 - t) * p0 + (t - t0) * p1) / (t1 - t0)
    a2 = ((t2 - t) * p1 + (t - t1) * p2) / (t2 - t1)
    a3 = ((t3 - t) * p2 + (t - t2) * p3) / (t3 - t2)
    b1 = ((t2 - t) * a1 + (t - t0) * a2) / (t2 - t0)
    b2 = ((t3 - t) * a2 + (t - t1) * a3) / (t3 - t1)
    out = ((t2 - t) * b1 + (t - t1) * b2) / (t2 - t1)
    return np.vstack([out.reshape(-1, 2), p[-1:]])


def cut_curves(lm: np.ndarray, cut: Cut = MOUTH) -> tuple[np.ndarray, np.ndarray]:
    """The upper and lower curves of ``cut`` for landmarks ``lm`` (68, 2), corner to corner."""
    lm = np.asarray(lm, np.float64)
    return catmull_rom(lm[list(cut.upper)]), catmull_rom(lm[list(cut.lower)])


def lip_curves(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(33, 2) upper and lower inner-lip curves, corner 60 to corner 64 (Catmull-Rom through
    60,61,62,63,64 and 60,67,66,65,64)."""
    return cut_curves(lm, MOUTH)


def _arc_fractions(curve: np.ndarray) -> np.ndarray:
    """Arc length from the first point to each point of a polyline, over its whole length."""
    t = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))]
    return t / t[-1] if t[-1] > 0 else np.linspace(0.0, 1.0, len(curve))


def resample_by_length(curve: np.ndarray, n: int | np.ndarray) -> np.ndarray:
    """Points along the polyline ``curve`` (its ends kept): ``n`` evenly spaced, or at the arc
    length fractions ``n`` (an array in [0, 1])."""
    c = np.asarray(curve, np.float64).reshape(-1, 2)
    u = np.linspace(0.0, 1.0, n) if np.ndim(n) == 0 else np.asarray(n, np.float64)
    t = _arc_fractions(c)
    return np.stack([np.interp(u, t, c[:, 0]), np.interp(u, t, c[:, 1])], 1)


def given_curves(upper: np.ndarray, lower: np.ndarray, ref_upper: np.ndarray,
                 ref_lower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Caller-given source curves (e.g. a face mesh's inner-lip loop) made ready to stand in
    for the reference ones through the 68 points: oriented like the reference (first corner
    first), the shared corners joined (their mean), and sampled at the reference samples' arc
    length fractions (so the reference curves themselves come back unchanged)."""
    up = np.asarray(upper, np.float64).reshape(-1, 2)
    low = np.asarray(lower, np.float64).reshape(-1, 2)
    if np.linalg.norm(up[0] - ref_upper[0]) > np.linalg.norm(up[-1] - ref_upper[0]):
        up, low = up[::-1], low[::-1]
    a, b = (up[0] + low[0]) / 2, (up[-1] + low[-1]) / 2
    up = resample_by_length(np.vstack([a, up[1:-1], b]), _arc_fractions(np.asarray(ref_upper, np.float64)))
    low = resample_by_length(np.vstack([a, low[1:-1], b]), _arc_fractions(np.asarray(ref_lower, np.float64)))
    return up, low


def follow_curves(upper: np.ndarray, lower: np.ndarray, ref_upper: np.ndarray, ref_lower: np.ndarray,
                  moved_upper: np.ndarray, moved_lower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where curves ``upper``/``lower`` go when the reference curves (sample by sample the same
    parameters) move to ``moved_upper``/``moved_lower``.

    Where the reference gap closes (or stays), each sample keeps its place between the reference
    lips, so lips that meet in the move meet here too; a sample beyond a lip keeps its distance
    beyond it. Where the gap grows (by :data:`OPENING_FOLLOWS` and more), and across a closed
    gap (under 4 px), each sample moves with its own reference lip, keeping its offset from it
    in pixels. Keeping shares of a growing gap scaled the few pixels between a face mesh's loop
    and the 68 points with the opening: a closed smile opened in surprise grew fangs where
    the gap was thin, a dip of the found upper lip edge became a notch in the teeth, and a
    smile's curved lower lip edge a laugh's deep U."""
    out = []
    gap, moved_gap = ref_upper - ref_lower, moved_upper - moved_lower
    g2 = (gap * gap).sum(1, keepdims=True)
    ratio = np.sqrt((moved_gap * moved_gap).sum(1, keepdims=True) / np.maximum(g2, 1e-12))
    beta = _smoothstep(np.sqrt(g2), 1.0, 4.0) * (1.0 - _smoothstep(ratio, *OPENING_FOLLOWS))
    keep = np.minimum(1.0, 1.0 / np.maximum(ratio, 1e-12))
    for p, ref, moved in ((upper, ref_upper, moved_upper), (lower, ref_lower, moved_lower)):
        rel = p - ref_lower
        t = (rel * gap).sum(1, keepdims=True) / np.maximum(g2, 1e-12)
        inner = np.clip(t, 0.0, 1.0)
        across = moved_lower + (inner + (t - inner) * keep) * moved_gap + (rel - t * gap)
        out.append(beta * across + (1 - beta) * (p + moved - ref))
    return out[0], out[1]


def round_opening(upper: np.ndarray, lower: np.ndarray, src_upper: np.ndarray | None = None,
                  src_lower: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Destination mouth curves whose new opening, where it is tall, ends in rounded corners:
    the curves through a handful of landmarks meet at the corners in a straight-sided wedge (a
    surprised mouth drawn as a hexagon). The gap between them, measured across the mouth, is
    raised towards an ellipse's through the same corners and the same largest gap, by as much
    as the opening is tall for its width (:data:`ROUND_ASPECT`: a smile's crescent keeps its
    pointed corners, a surprised mouth is an oval), and by as much as the source curves
    (``src_upper``, ``src_lower``) were closed: a mouth the photo shows open keeps its own
    shape. The corners themselves stay where they are."""
    mid = (upper + lower) / 2
    half = (upper - lower) / 2
    h = np.linalg.norm(half, axis=1)
    width = float(np.linalg.norm(upper[-1] - upper[0]))
    if width < 1e-6 or h.max() <= 0:
        return upper, lower
    aspect = 2 * h.max() / width
    amount = float(np.clip((aspect - ROUND_ASPECT[0]) / (ROUND_ASPECT[1] - ROUND_ASPECT[0]), 0.0, 1.0))
    if src_upper is not None and src_lower is not None:
        src_w = float(np.linalg.norm(src_upper[-1] - src_upper[0]))
        src_aspect = float(np.linalg.norm(src_upper - src_lower, axis=1).max()) / max(src_w, 1e-6)
        amount *= float(np.clip(1.0 - src_aspect / ROUND_ASPECT[0], 0.0, 1.0))
    if amount <= 0:
        return upper, lower
    u = _arc_fractions(mid)
    ellipse = h.max() * np.sqrt(np.clip(1 - (2 * u - 1) ** 2, 0.0, 1.0))
    want = np.maximum(h, h + amount * (ellipse - h))
    d = (upper[-1] - upper[0]) / width
    n = np.array([d[1], -d[0]])  # across the mouth, towards the upper lip
    if float((half * n).sum()) < 0:
        n = -n
    extra = (want - h)[:, None] * n
    return upper + extra, lower - extra


def opening_polygon(upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """The closed polygon between two curves sharing their end points (upper there, lower back)."""
    return np.vstack([upper, lower[-2:0:-1]])


def polygon_coverage(poly: np.ndarray, box: tuple[int, int, int, int], sub: int = 4) -> np.ndarray:
    """float32 (y1-y0, x1-x0): the area of every pixel of ``box`` (x0, y0, x1, y1) inside the
    closed polygon ``poly`` (even-odd rule), exact along x and on ``sub`` sub-rows along y. A
    polygon of zero area (two coincident curves) covers nothing."""
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    if h <= 0 or w <= 0:
        return np.zeros((max(h, 0), max(w, 0)), np.float32)
    a = np.asarray(poly, np.float64).reshape(-1, 2) - (x0 - 0.5, 0.0)  # x from the box's left edge
    b = np.roll(a, -1, axis=0)
    ys = y0 - 0.5 + (np.arange(h * sub) + 0.5) / sub  # sub-row centres
    ay, by = a[:, 1][None, :], b[:, 1][None, :]
    rows, edges = np.nonzero((ay <= ys[:, None]) != (by <= ys[:, None]))
    if len(rows) == 0:
        return np.zeros((h, w), np.float32)
    xs = a[edges, 0] + (ys[rows] - a[edges, 1]) * (b[edges, 0] - a[edges, 0]) / (b[edges, 1] - a[edges, 1])
    # along each sub-row the coverage is the even-odd count of crossings to the left; a crossing
    # at x adds a unit step there, spread over the pixel it falls in: +(1 - frac) to that pixel
    # and +frac to the next in a difference array, whose running sum (mod 2 after crossings
    # sorted per row: alternate signs) gives the covered fraction of every pixel
    order = np.lexsort((xs, rows))
    rows, xs = rows[order], xs[order]
    first = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
    rank = np.arange(len(rows)) - np.repeat(first, np.diff(np.r_[first, len(rows)]))
    sign = np.where(rank % 2 == 0, 1.0, -1.0)
    xc = np.clip(xs, 0.0, float(w))
    cell = np.minimum(np.floor(xc).astype(np.int64), w)
    frac = xc - cell
    stride = w + 2
    diff = np.bincount(rows * stride + cell, sign * (1.0 - frac), minlength=h * sub * stride)
    diff += np.bincount(rows * stride + cell + 1, sign * frac, minlength=h * sub * stride)
    cov = np.cumsum(diff.reshape(h * sub, stride), axis=1)[:, :w]
    cov = cov.reshape(h, sub, w).mean(1)
    cov[np.abs(cov) < 1e-6] = 0.0  # rounding where an edge runs back along itself
    return np.clip(cov, 0.0, 1.0).astype(np.float32)


def corner_rays(upper: np.ndarray, lower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors out of the first and the last corner of a cut: the outward bisector of the
    two curves' directions there; the cut's own direction where they coincide, or where the
    bisector points back into the mouth (curves found from colour can leave a corner outwards,
    both bending away from the other corner: the bisector of those points inwards, and the
    upper side's polygon then covered the opening's top)."""
    a, b = upper[0], upper[-1]
    out_a = -_unit(_unit(upper[1] - a) + _unit(lower[1] - a))
    out_b = -_unit(_unit(upper[-2] - b) + _unit(lower[-2] - b))
    if not np.all(np.isfinite(out_a)) or np.linalg.norm(out_a) < 0.5 or out_a @ (a - b) < 0:
        out_a = _unit(a - b)
    if not np.all(np.isfinite(out_b)) or np.linalg.norm(out_b) < 0.5 or out_b @ (b - a) < 0:
        out_b = _unit(b - a)
    return out_a, out_b


def side_weight(upper: np.ndarray, lower: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """``g`` (..., ) at ``pts`` (..., 2): 0 near the rays out of the corners (:func:`corner_rays`),
    1 from :data:`SIDE_HI` off them, a smoothstep of the angle at the nearer-in-angle corner."""
    shape = np.shape(pts)[:-1]
    p = np.asarray(pts, np.float64).reshape(-1, 2)
    phi = np.full(len(p), np.pi)
    for corner, ray in zip((upper[0], upper[-1]), corner_rays(upper, lower)):
        v = p - corner
        n = np.maximum(np.linalg.norm(v, axis=1), 1e-9)
        phi = np.minimum(phi, np.arccos(np.clip(v @ ray / n, -1.0, 1.0)))
    return _smoothstep(phi, SIDE_LO, SIDE_HI).reshape(shape)


def zone_weight(upper: np.ndarray, lower: np.ndarray, pts: np.ndarray,
                signed_distance: np.ndarray | None = None) -> np.ndarray:
    """(..., ) weight of a cut's fields against ``F0`` at ``pts``: 1 near the opening, 0 from
    :data:`ZONE_HI` chord lengths away (``signed_distance``: the points' distances to the
    opening polygon as ``polygon_distance`` gives them, if already known)."""
    shape = np.shape(pts)[:-1]
    p = np.asarray(pts, np.float64).reshape(-1, 2)
    chord = max(float(np.linalg.norm(upper[-1] - upper[0])), 1e-6)
    if signed_distance is None:
        # (a zero-area opening's outline runs along the curve and back: the distance to it)
        signed_distance = polygon_distance(opening_polygon(upper, lower), p)
    d = np.maximum(-np.asarray(signed_distance).reshape(-1), 0.0) / chord
    return (1.0 - _smoothstep(d, ZONE_LO, ZONE_HI)).reshape(shape)


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def upper_side_polygon(upper: np.ndarray, lower: np.ndarray, up: np.ndarray) -> np.ndarray:
    """The region on the upper side of a cut: the upper curve, closed by rays out of the two
    corners along the outward bisector of the curves there, joined far along ``up``."""
    a, b = upper[0], upper[-1]
    reach = 3.0 * max(float(np.linalg.norm(b - a)), 1e-6)
    out_a, out_b = corner_rays(upper, lower)
    far_a, far_b = a + out_a * reach, b + out_b * reach
    return np.vstack([upper, far_b, far_b + up * reach, far_a + up * reach, far_a])


def _face_up(lm: np.ndarray) -> np.ndarray:
    """Unit vector from the chin towards the eyes (up in the face)."""
    return _unit(eye_centres(lm).mean(0) - lm[CHIN])


# --------------------------------------------------------------------------------------------
# fields


@dataclass
class _CutGeometry:
    cut: Cut
    dst_upper: np.ndarray
    dst_lower: np.ndarray
    src_upper: np.ndarray
    src_lower: np.ndarray
    side_poly: np.ndarray  # destination upper side
    g: np.ndarray  # (ny, nx) side weight on the grid nodes
    zone: np.ndarray  # (ny, nx) weight of the cut's fields against F0
    up_nodes: np.ndarray  # (ny, nx) bool: node on the upper side
    open_nodes: np.ndarray  # (ny, nx) bool: node inside the destination opening
    active: np.ndarray  # (ny, nx) bool: node where the two side fields differ


@dataclass
class CutFields:
    """The backward fields of a cut warp on ``grid`` (each (ny, nx, 2); output pixel p samples
    the source at p + field(p)): ``up`` for pixels on a cut's upper side (and everywhere away
    from the cuts), ``low`` for pixels on a lower side (equal to ``up`` away from the cuts),
    ``interior[name]`` for the cut's destination opening (None where no source interior can
    show: the source or the destination opening has no area). ``cuts``: per cut, its curves,
    side polygon and the node masks the fold test used."""

    grid: Grid
    up: np.ndarray
    low: np.ndarray
    interior: dict
    scale: float
    landmarks: np.ndarray
    cuts: list


def _nodes_inside(grid: Grid, poly: np.ndarray) -> np.ndarray:
    """(ny, nx) bool: the grid nodes inside ``poly`` (rasterised in node units; nodes within
    a small fraction of a cell of the outline may go either way)."""
    m = np.zeros((grid.ny, grid.nx), np.uint8)
    q = (np.asarray(poly, np.float64) - (grid.x0, grid.y0)) / grid.step
    cv2.fillPoly(m, [np.round(q * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    return m.astype(bool)


class _SplineBank:
    """Thin-plate splines sharing one set of centres and one evaluation grid: the kernel
    between the nodes and every centre is computed once, and each spline (a subset of the
    centres) is a small solve and a matrix product. As :class:`~faceedit.stage.warp.ThinPlateSpline`
    (``r^2 log r^2`` in a unit frame, smoothing ``reg``), with the frame of all the centres."""

    def __init__(self, centres: np.ndarray, nodes: np.ndarray, where: np.ndarray | None = None):
        c = np.asarray(centres, np.float64)
        self.c0 = c.mean(0)
        self.s = max(float(np.abs(c - self.c0).max()), 1e-6)
        self.p = (c - self.c0) / self.s
        dx = self.p[:, None, 0] - self.p[None, :, 0]
        dy = self.p[:, None, 1] - self.p[None, :, 1]
        d2 = dx * dx + dy * dy
        with np.errstate(divide="ignore", invalid="ignore"):
            self.kcc = np.where(d2 > 0, d2 * np.log(d2), 0.0)
        self.shape = nodes.shape
        # ``where`` (ny, nx) bool: the nodes whose values are wanted (the others come back 0):
        # the kernel, the bulk of the cost, is only evaluated there
        self.rows = None if where is None else np.flatnonzero(np.asarray(where).reshape(-1))
        q = np.asarray(nodes, np.float64).reshape(-1, 2)
        q = ((q if self.rows is None else q[self.rows]) - self.c0) / self.s
        self.q1 = np.hstack([np.ones((len(q), 1)), q])  # affine part
        qt = torch.from_numpy(q).float()
        pt = torch.from_numpy(self.p).float()
        r2 = torch.cdist(qt, pt).square_()
        # the kernel part in float32 as ThinPlateSpline's (< 1e-3 px from float64), the affine
        # part in float64
        self.knc = torch.log(r2 + 1e-30).mul_(r2).numpy()  # (N, M) float32, 0 at r = 0

    def field(self, idx, values: np.ndarray, reg: float = TPS_REG) -> np.ndarray:
        """(ny, nx, 2): the spline through centres ``idx`` taking them to ``values``, minus the
        node positions (a backward displacement field)."""
        idx = np.asarray(idx)
        n = len(idx)
        a = np.zeros((n + 3, n + 3))
        a[:n, :n] = self.kcc[np.ix_(idx, idx)] + reg * np.eye(n)
        a[:n, n] = 1.0
        a[:n, n + 1:] = self.p[idx]
        a[n, :n] = 1.0
        a[n + 1:, :n] = self.p[idx].T
        b = np.zeros((n + 3, 2))
        b[:n] = values
        try:
            coef = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:  # coincident centres without smoothing
            coef = np.linalg.lstsq(a, b, rcond=None)[0]
        w = np.zeros((self.knc.shape[1], 2), np.float32)
        w[idx] = coef[:n]
        out = (self.knc @ w).astype(np.float64) + self.q1 @ coef[n:]
        nodes = self.q1[:, 1:] * self.s + self.c0
        if self.rows is None:
            return (out - nodes).reshape(self.shape)
        full = np.zeros((self.shape[0] * self.shape[1], 2))
        full[self.rows] = out - nodes
        return full.reshape(self.shape)


def cut_fields(src_lm: np.ndarray, dst_lm: np.ndarray, grid: Grid, cuts: list[Cut] | None = None,
               min_jacobian: float = MIN_JACOBIAN,
               src_curves: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
               close_mouth: float = 0.0, mouth_interior: bool = True, teeth_rise: float = 0.0
               ) -> CutFields:
    """The cut warp's fields moving ``src_lm`` to ``dst_lm`` ((68, 2) photo coordinates) on
    ``grid`` (default cuts: the mouth). ``src_curves``: {cut name: (upper, lower)} source curves
    (corner to corner, the corner of the cut's first landmark first) in place of those through
    the 68 points; their destination follows the move of the 68-point curves (see
    :func:`given_curves`). ``close_mouth`` (0..1): the mouth's destination curves are then moved
    that much of the way to their midline, so lips the move closes meet along the given curves
    too (the 68 points' inner lips of a smile can lie on the teeth, nearer each other than the
    lips' edges are). ``mouth_interior`` False: the source mouth shows nothing to carry (closed
    lips, whose loop covers only the crease between them): all of the new opening is hole.
    ``teeth_rise``: the mouth's carried interior is sampled that fraction of the source
    opening's middle height lower, so the teeth rise under the upper lip (a smile's lifted lip
    relaxing over them as the mouth opens in surprise). When a field would fold where it is
    used, the whole move is scaled down (bisection) until none does."""
    src_lm = np.asarray(src_lm, np.float64)
    dst_lm = np.asarray(dst_lm, np.float64)
    cuts = [MOUTH] if cuts is None else list(cuts)
    nodes = grid.points()
    w = region_weight(src_lm, nodes)[..., None]
    anchors = warp_anchors(src_lm, dst_lm)
    cut_pts = {i for c in cuts for i in c.upper + c.lower}
    base = sorted(set(WARP_POINTS) - cut_pts)  # the corners come with the curves
    nbase = len(base)
    up_dir = _face_up(src_lm)
    given = {c.name: given_curves(*src_curves[c.name], *cut_curves(src_lm, c))
             for c in cuts if src_curves and c.name in src_curves}

    def build(scale: float) -> tuple[CutFields, bool]:
        moved = src_lm + scale * (dst_lm - src_lm)
        curves = []
        for c in cuts:
            (du, dl), (su, sl) = cut_curves(moved, c), cut_curves(src_lm, c)
            if c.name in given:  # the given source curves, moved as the 68-point ones
                gu, gl = given[c.name]
                (du, dl), (su, sl) = follow_curves(gu, gl, su, sl, du, dl), (gu, gl)
            if c.name == MOUTH.name and close_mouth > 0:
                mid = (du + dl) / 2
                du, dl = du + close_mouth * scale * (mid - du), dl + close_mouth * scale * (mid - dl)
            if c.name == MOUTH.name:
                du, dl = round_opening(du, dl, su, sl)
            curves.append(((du, dl), (su, sl)))
        corners_dst = [x for (du, _), _ in curves for x in (du[0], du[-1])]
        corners_src = [x for _, (su, _) in curves for x in (su[0], su[-1])]
        base_dst = np.vstack([moved[base], anchors, corners_dst])
        base_src = np.vstack([src_lm[base], anchors, corners_src])
        nb = len(base_dst)
        # every spline's centres: the base points (landmarks, anchors, the cuts' corners), then
        # each cut's curve points
        centre_parts, value_parts, first = [base_dst], [base_src], []
        for (du, dl), (su, sl) in curves:
            first.append(nb + sum(len(x) for x in centre_parts[1:]))
            centre_parts += [du[1:-1], dl[1:-1]]
            value_parts += [su[1:-1], sl[1:-1]]
        centres, values = np.vstack(centre_parts), np.vstack(value_parts)
        bank = _SplineBank(centres, nodes, w[..., 0] > 0)  # every field is used times w
        f0 = bank.field(np.arange(nb), base_src) * w
        up_total, low_total = f0.copy(), f0.copy()
        zone_sum = np.zeros(nodes.shape[:2])
        ok = True
        interior, geos, extras = {}, [], []
        for cut, ((du, dl), (su, sl)), i0 in zip(cuts, curves, first):
            m = len(du) - 2
            on_up, on_low = np.arange(i0, i0 + m), np.arange(i0 + m, i0 + 2 * m)
            keep_up = [k for k, i in enumerate(base) if i not in cut.lower_only]
            keep_up = np.r_[keep_up, np.arange(nbase, nb), on_up]  # + anchors, corners, the curve
            keep_low = [k for k, i in enumerate(base) if i not in cut.upper_only]
            keep_low = np.r_[keep_low, np.arange(nbase, nb), on_low]
            f_up = bank.field(keep_up, values[keep_up]) * w
            f_low = bank.field(keep_low, values[keep_low]) * w
            g = side_weight(du, dl, nodes)[..., None]
            hole = opening_polygon(du, dl)
            # signed distances to the opening where the zone is above 0 (within ZONE_HI chord
            # lengths of it, plus a pixel's margin); farther nodes are far outside
            reach = ZONE_HI * max(float(np.linalg.norm(du[-1] - du[0])), 1e-6) + 1.0
            near = ((nodes >= hole.min(0) - reach) & (nodes <= hole.max(0) + reach)).all(-1)
            inside = np.full(nodes.shape[:2], -np.inf)
            inside[near] = polygon_distance(hole, nodes[near])
            zone = zone_weight(du, dl, nodes, inside)
            open_nodes = inside > 0
            b_up = f_low + 0.5 * (1 + g) * (f_up - f_low)
            b_low = f_low + 0.5 * (1 - g) * (f_up - f_low)
            side = upper_side_polygon(du, dl, up_dir)
            up_nodes = _nodes_inside(grid, side)
            if polygon_area(opening_polygon(su, sl)) < 0.5 or polygon_area(hole) < 0.5 or \
                    (cut.name == MOUTH.name and not mouth_interior):
                f_in = None  # no source interior to show, or nowhere to show it
            elif cut.interior == "upper":
                f_in = rigid_field(du, su, nodes)
                if cut.name == MOUTH.name and teeth_rise > 0:  # sampled lower: the teeth rise
                    m_mid = len(su) // 2
                    f_in = f_in + teeth_rise * (sl[m_mid] - su[m_mid])
            else:
                f_in = f0
            interior[cut.name] = f_in
            # nodes where the side matters: the two side fields differ by more than 1/100 px
            # (remap resolves 1/32 px)
            active = (zone[..., None] * g * np.abs(f_up - f_low)).max(-1) > 0.01
            geos.append(_CutGeometry(cut, du, dl, su, sl, side, g[..., 0], zone, up_nodes,
                                     open_nodes, active))
            extras.append((zone, b_up, b_low))
            zone_sum += zone
        norm = np.maximum(zone_sum, 1.0)[..., None]  # overlapping zones share (never expected)
        for zone, b_up, b_low in extras:
            up_total += zone[..., None] / norm * (b_up - f0)
            low_total += zone[..., None] / norm * (b_low - f0)
        # where each field is used (its side of every cut, the area away from the cuts), with a
        # ring of nodes around that (pixels there interpolate from them)
        k = np.ones((3, 3), np.uint8)
        use_up = np.ones(nodes.shape[:2], bool)
        use_low = np.ones(nodes.shape[:2], bool)
        for geo in geos:
            use_up &= ~(geo.active & ~geo.up_nodes)
            use_low &= ~(geo.active & (geo.up_nodes | geo.open_nodes))
        use_up = cv2.dilate(use_up.astype(np.uint8), k).astype(bool)
        use_low = cv2.dilate(use_low.astype(np.uint8), k).astype(bool)
        step = grid.step
        ok &= bool(jacobian_det(up_total, step)[use_up].min(initial=np.inf) >= min_jacobian)
        ok &= bool(jacobian_det(low_total, step)[use_low].min(initial=np.inf) >= min_jacobian)
        for geo in geos:
            shown = interior[geo.cut.name]
            if shown is not None and geo.open_nodes.any():
                near = cv2.dilate(geo.open_nodes.astype(np.uint8), k).astype(bool)
                ok &= bool(jacobian_det(shown, step)[near].min() >= min_jacobian)
        return CutFields(grid, up_total, low_total, interior, scale, moved, geos), ok

    fields, ok = build(1.0)
    if ok:
        return fields
    lo, hi = 0.0, 1.0
    for _ in range(10):
        mid = (lo + hi) / 2
        if build(mid)[1]:
            lo = mid
        else:
            hi = mid
    return build(lo)[0]


# --------------------------------------------------------------------------------------------
# pixels


def membrane_fill(img: np.ndarray, known: np.ndarray) -> np.ndarray:
    """``img`` (h, w[, C]) float32 with the unknown part (``known`` (h, w) weights in [0, 1],
    1 = keep) filled smoothly from the known part (a push-pull pyramid)."""
    h, w = known.shape
    chans = 1 if img.ndim == 2 else img.shape[2]
    im = img.reshape(h, w, chans).astype(np.float32)
    kn = known.astype(np.float32)

    def resize(a, size, interp):
        r = cv2.resize(a, size, interpolation=interp)
        return r.reshape(size[1], size[0], -1) if a.ndim == 3 else r

    levels = [(im * kn[..., None], kn)]
    while max(levels[-1][1].shape) > 1:
        pi, pk = levels[-1]
        size = (max((pk.shape[1] + 1) // 2, 1), max((pk.shape[0] + 1) // 2, 1))
        levels.append((resize(pi, size, cv2.INTER_AREA), resize(pk, size, cv2.INTER_AREA)))
    pi, pk = levels[-1]
    fill = pi / np.maximum(pk, 1e-6)[..., None]
    for pi, pk in reversed(levels[:-1]):
        up = resize(fill, (pk.shape[1], pk.shape[0]), cv2.INTER_LINEAR)
        fill = pi + (1 - pk)[..., None] * up
    return fill.reshape(img.shape)


def rigid_field(dst_curve: np.ndarray, src_curve: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Backward field (nodes (..., 2) -> source offset) of the rigid motion (rotation and
    translation, no scaling) that takes the source curve's chord onto the destination's: what
    the upper teeth do when the upper lip moves. (A spline through the lip stretched them with
    the mouth: a smile narrowed into a surprised O showed tall, thin teeth.)"""
    def frame(c: np.ndarray) -> tuple[np.ndarray, float]:
        d = c[-1] - c[0]
        return c.mean(0), float(np.arctan2(d[1], d[0]))

    (cd, ad), (cs, as_) = frame(np.asarray(dst_curve, np.float64)), frame(np.asarray(src_curve, np.float64))
    t = as_ - ad
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    src = (nodes - cd) @ rot.T + cs
    return src - nodes


def polygon_area(poly: np.ndarray) -> float:
    """Absolute area of a closed polygon (shoelace)."""
    x, y = np.asarray(poly, np.float64).T
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _sample(grid: Grid, node_field: np.ndarray, box) -> np.ndarray:
    """A node field (ny, nx, C) bilinearly sampled at every pixel of ``box`` (as
    ``Grid.sample``, as one affine resampling: no per-pixel coordinate arrays). OpenCV places
    the sampling points to 1/32 of a cell; sample a :func:`_refined` field for finer."""
    x0, y0, x1, y1 = box
    m = np.array([[1.0 / grid.step, 0.0, (x0 - grid.x0) / grid.step],
                  [0.0, 1.0 / grid.step, (y0 - grid.y0) / grid.step]])
    out = cv2.warpAffine(np.ascontiguousarray(node_field, np.float32), m, (x1 - x0, y1 - y0),
                         flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(out.shape[:2] + node_field.shape[2:])


def _refined(grid: Grid, node_field: np.ndarray, k: int = 4) -> tuple[Grid, np.ndarray]:
    """The same bilinear field on a grid ``k`` times finer: its nodes at k-ths of a cell, where
    OpenCV's 1/32-cell sampling is exact (k divides 32), and bilinear interpolation between them
    reproduces the coarse bilinear field. Sampling that places points to 1/32 of a fine cell
    (~0.1 px on a 1350-px face) instead of a coarse one (~0.5 px)."""
    fine = Grid(grid.x0, grid.y0, grid.step / k, (grid.nx - 1) * k + 1, (grid.ny - 1) * k + 1)
    m = np.array([[1.0 / k, 0.0, 0.0], [0.0, 1.0 / k, 0.0]])
    out = cv2.warpAffine(np.ascontiguousarray(node_field, np.float32), m, (fine.nx, fine.ny),
                         flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return fine, out.reshape(out.shape[:2] + node_field.shape[2:])


def _moving_bands(grid: Grid, node_field: np.ndarray, roi) -> list[tuple[int, int, int, int]]:
    """Boxes covering every pixel of ``roi`` that ``node_field`` moves by 1/64 px or more: per
    row of grid cells, the columns of cells with such a corner node. Every other pixel moves by
    less, and remap's fixed-point coordinates (1/32 px) round that to the pixel itself."""
    moving = np.abs(node_field).max(-1) >= 1.0 / 64
    cells = moving[:-1, :-1] | moving[1:, :-1] | moving[:-1, 1:] | moving[1:, 1:]
    rows = np.flatnonzero(cells.any(1))
    if len(rows) == 0:
        return []
    first = cells[rows].argmax(1)  # first and last moving cell of each such row
    last = cells.shape[1] - 1 - cells[rows, ::-1].argmax(1)
    edge = lambda o, k: np.ceil(o + grid.step * k - 1e-9).astype(np.int64)  # noqa: E731 (first pixel at or past node line k)
    boxes = np.stack([np.maximum(edge(grid.x0, first), roi[0]), np.maximum(edge(grid.y0, rows), roi[1]),
                      np.minimum(edge(grid.x0, last + 1), roi[2]), np.minimum(edge(grid.y0, rows + 1), roi[3])], 1)
    boxes = boxes[(boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])]
    return [tuple(b) for b in boxes.tolist()]


def _clip_box(box, limit) -> tuple[int, int, int, int]:
    """``box`` (x0, y0, x1, y1) cut to ``limit`` (possibly empty: x1 <= x0 or y1 <= y0)."""
    return (max(box[0], limit[0]), max(box[1], limit[1]), min(box[2], limit[2]), min(box[3], limit[3]))


def _box_around(pts: np.ndarray, margin: float, shape) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    lo = np.floor(pts.min(0) - margin).astype(int)
    hi = np.ceil(pts.max(0) + margin).astype(int) + 1
    return (int(np.clip(lo[0], 0, w)), int(np.clip(lo[1], 0, h)),
            int(np.clip(hi[0], lo[0], w)), int(np.clip(hi[1], lo[1], h)))


def _remap(src: np.ndarray, field_px: np.ndarray, box, interp=cv2.INTER_CUBIC,
           border=cv2.BORDER_REFLECT, origin=(0, 0)) -> np.ndarray:
    """``src`` sampled at the pixels of ``box`` (photo coordinates) moved by ``field_px``
    ((h, w, 2) displacements); ``origin`` is ``src``'s top-left corner in the photo."""
    x0, y0, x1, y1 = box
    mx = np.arange(x0 - origin[0], x1 - origin[0], dtype=np.float32)[None, :] + field_px[..., 0]
    my = np.arange(y0 - origin[1], y1 - origin[1], dtype=np.float32)[:, None] + field_px[..., 1]
    if max(src.shape[:2]) < 32000 and interp != cv2.INTER_LINEAR:
        # fixed-point maps (1/32 px): the same pixels as float maps in about half the time
        mx, my = cv2.convertMaps(mx, my, cv2.CV_16SC2)
    out = cv2.remap(src, mx, my, interp, borderMode=border)
    return out.reshape(out.shape[:2] + src.shape[2:])


def _to_dtype(x: np.ndarray, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(np.rint(x), info.min, info.max).astype(dtype)


def cut_warp(pixels: np.ndarray, src_lm: np.ndarray, dst_lm: np.ndarray, *,
             eyelids: bool = False, lips: tuple[np.ndarray, np.ndarray] | None = None,
             close_mouth: float = 0.0, mouth_interior: bool = True, teeth_rise: float = 0.0,
             carry_lower: np.ndarray | None = None, min_jacobian: float = MIN_JACOBIAN) -> CutWarpResult:
    """Warp the face in ``pixels`` ((H, W, 3) or (H, W), uint8 or uint16, any size) from
    landmarks ``src_lm`` to ``dst_lm`` ((68, 2) photo coordinates) with the inner-lip contour
    (and with ``eyelids`` the eyelids) as cuts: see the module notes and :class:`CutWarpResult`.
    ``lips``: the source's inner-lip curves (upper, lower), corner to corner, to cut along in
    place of the curves through landmarks 60-67, e.g. a face mesh's inner-lip loop
    (``Face.dense[MESH_INNER_UPPER]`` / ``[MESH_INNER_LOWER]`` of :mod:`faceedit.stage.lips`),
    which on smiles follows the teeth's edge much more closely than the 68 points; they move
    with the 68-point curves' move. ``close_mouth`` (0..1): how far the lips are brought
    together along those curves (:func:`cut_fields`). ``mouth_interior`` False: the source
    mouth is closed (nothing between the lips to carry: a crease the loop happens to enclose
    would be stretched into a line of lip colour across the new opening); all of the opening is
    then hole. ``teeth_rise``: how far the teeth carried in the opening rise under the upper
    lip, in units of the source opening's middle height (:func:`cut_fields`). ``carry_lower``:
    (N, 2) a curve corner to corner inside the source opening (with ``lips``, between its upper
    and lower curves): only the interior above it is carried (the upper teeth, which move with
    the upper lip); below it the opening is hole (what goes with the jaw).
    ``min_jacobian``: the fold threshold (the move is scaled down below it).

    The hole is the caller's to paint, e.g. with the mouth filler of
    :mod:`faceedit.stage.mouth` (its inputs are this result's fields)::

        r = cut_warp(photo, lm, moved)
        photo, _ = MouthBank.load().fill(r.pixels, r.roi, r.opening, r.upper, r.lower,
                                         face_lm=r.landmarks)
    """
    if pixels.dtype not in (np.uint8, np.uint16) or pixels.ndim not in (2, 3):
        raise ValueError(f"expected (H,W[,C]) uint8/uint16 pixels, got {pixels.dtype} {pixels.shape}")
    src_lm = np.asarray(src_lm, np.float64)
    dst_lm = np.asarray(dst_lm, np.float64)
    cuts = [MOUTH] + ([LEFT_EYE, RIGHT_EYE] if eyelids else [])
    grid = face_grid(src_lm)
    roi = grid.roi(pixels.shape)
    x0, y0, x1, y1 = roi
    rh, rw = y1 - y0, x1 - x0
    zeros = lambda: np.zeros((rh, rw), np.float32)  # noqa: E731
    if np.array_equal(src_lm, dst_lm) or rh <= 0 or rw <= 0:
        up, low = lip_curves(dst_lm) if lips is None else given_curves(*lips, *lip_curves(dst_lm))
        return CutWarpResult(pixels.copy(), roi, zeros(), zeros(), up, low, 1.0, dst_lm.copy(), zeros())

    f = cut_fields(src_lm, dst_lm, grid, cuts, min_jacobian, None if lips is None else {"mouth": lips},
                   close_mouth, mouth_interior, teeth_rise)
    chans = pixels.shape[2:]
    ch = (1,) * len(chans)

    # The source the side fields sample: each cut's own source opening replaced by a membrane of
    # what surrounds it, so no lip shows any of the interior (not even within the bicubic
    # kernel's reach of the lip line).
    src = pixels
    src_cov, carry_cov = {}, {}
    for geo in f.cuts:
        poly = opening_polygon(geo.src_upper, geo.src_lower)
        box = _box_around(poly, 4.0, pixels.shape)
        cov = polygon_coverage(poly, box)
        src_cov[geo.cut.name] = (box, cov)
        carry_cov[geo.cut.name] = cov
        if geo.cut.name == MOUTH.name and carry_lower is not None and lips is not None:
            carried = opening_polygon(np.asarray(lips[0], np.float64), np.asarray(carry_lower, np.float64))
            carry_cov[geo.cut.name] = np.minimum(cov, polygon_coverage(carried, box))
        if cov.max() > 0:
            bx0, by0, bx1, by1 = box
            filled = membrane_fill(pixels[by0:by1, bx0:bx1].astype(np.float32), (cov == 0).astype(np.float32))
            inside = cov > 0
            if src is pixels:
                src = pixels.copy()
            src[by0:by1, bx0:bx1][inside] = _to_dtype(filled[inside], pixels.dtype)

    out = pixels.copy()
    fine, up_px = _refined(grid, f.up)
    low_px = _refined(grid, f.low)[1]
    for band in _moving_bands(grid, f.up, roi):
        bx0, by0, bx1, by1 = band
        out[by0:by1, bx0:bx1] = _remap(src, _sample(fine, up_px, band), band)
    opening, interior, eye_opening = zeros(), zeros(), zeros()
    for geo in f.cuts:
        hole_poly = opening_polygon(geo.dst_upper, geo.dst_lower)
        # the pixels where the side matters (the two side fields differ): those nodes, one grid
        # step around them, and the destination opening
        active = np.argwhere(geo.active)
        pts = [hole_poly]
        if len(active):
            pts.append(np.stack([grid.x0 + grid.step * active[:, 1], grid.y0 + grid.step * active[:, 0]], 1))
        box = _clip_box(_box_around(np.vstack(pts), 1.5 * grid.step, pixels.shape), roi)
        bx0, by0, bx1, by1 = box
        if bx1 <= bx0 or by1 <= by0:
            continue
        # Lower-side pixels: outside the opening's box a plain label from the upper-side polygon
        # (its edges there are the rays out of the corners, where both sides' fields agree);
        # inside it (the cut and the opening), exact coverage, composited in float.
        obox = _clip_box(_box_around(hole_poly, 2.0, pixels.shape), box)
        ox0, oy0, ox1, oy1 = obox
        lower = np.ones((by1 - by0, bx1 - bx0), np.uint8)
        cv2.fillPoly(lower, [np.round((geo.side_poly - (bx0, by0)) * 16).astype(np.int32)], 0,
                     cv2.LINE_8, shift=4)
        has_obox = ox1 > ox0 and oy1 > oy0
        if has_obox:
            lower[oy0 - by0:oy1 - by0, ox0 - bx0:ox1 - bx0] = 1  # sampled in full, blended below
        ys, xs = np.nonzero(lower)
        if len(ys) == 0:
            continue
        lx0, ly0, lx1, ly1 = lbox = (bx0 + xs.min(), by0 + ys.min(), bx0 + xs.max() + 1, by0 + ys.max() + 1)
        w_low = _remap(src, _sample(fine, low_px, lbox), lbox)
        where = lower[ly0 - by0:ly1 - by0, lx0 - bx0:lx1 - bx0].astype(bool)
        np.copyto(out[ly0:ly1, lx0:lx1], w_low, where=where.reshape(where.shape + ch))
        if not has_obox:
            continue
        # inside the opening's box: upper side, lower side, the source interior, the hole
        sl = np.s_[oy0 - y0:oy1 - y0, ox0 - x0:ox1 - x0]
        w_up = _remap(src, _sample(fine, up_px, obox), obox).astype(np.float32)
        w_low = w_low[oy0 - ly0:oy1 - ly0, ox0 - lx0:ox1 - lx0].astype(np.float32)
        c_open = polygon_coverage(hole_poly, obox)
        c_up = np.minimum(polygon_coverage(geo.side_poly, obox), 1.0 - c_open)  # shares sum to 1
        c_low = np.clip(1.0 - c_up - c_open, 0.0, 1.0)
        acc = w_up * c_up.reshape(c_up.shape + ch) + w_low * c_low.reshape(c_low.shape + ch)
        if c_open.max() > 0:
            hole = c_open
            if f.interior[geo.cut.name] is not None:
                d_in = _sample(*_refined(grid, f.interior[geo.cut.name]), obox)
                sbox = src_cov[geo.cut.name][0]
                in_src = _remap(carry_cov[geo.cut.name], d_in, obox, cv2.INTER_LINEAR, cv2.BORDER_CONSTANT,
                                origin=sbox[:2])
                shown = c_open * in_src
                hole = c_open - shown
                acc += _remap(pixels, d_in, obox).astype(np.float32) * shown.reshape(shown.shape + ch)
                if geo.cut.name == "mouth":
                    interior[sl] += shown
            if hole.max() > 0:
                known = 1.0 - hole
                fill = membrane_fill(acc / np.maximum(known, 1e-6).reshape(known.shape + ch),
                                     (known > 0.999).astype(np.float32))
                acc += fill * hole.reshape(hole.shape + ch)
            (opening if geo.cut.name == "mouth" else eye_opening)[sl] += hole
        out[oy0:oy1, ox0:ox1] = _to_dtype(acc, pixels.dtype)
    upper, lower = f.cuts[0].dst_upper, f.cuts[0].dst_lower
    return CutWarpResult(out, roi, opening, interior, upper, lower, f.scale, f.landmarks, eye_opening,
                         (fine, up_px))
