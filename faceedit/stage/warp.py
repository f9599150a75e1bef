"""Dense, fold-free warps of a photo driven by sparse landmark moves, and maps drawn in a
canonical face frame laid onto a real face.

Everything smooth (the displacement field, the map from a face to the canonical frame) is
computed on a coarse :class:`Grid` laid over the face region in photo coordinates and then
sampled at every pixel of that region, so the photo itself is resampled once, at its full
resolution. The fast render (:mod:`faceedit.stage.precision`) measures the region weight on
every other node and fills the nodes between (:func:`grid_region_weight`).

Coordinates as in :mod:`faceedit.faces.align`: x right, y down, pixel centres at integers.

The region a warp moves (``region_inner``, ``region_outer``) and the forehead's fixed rows
(``forehead_pin``) are :class:`~faceedit.stage.tuning_face.WarpTuning`'s (the stage's
``tuning.warp``); a function given none takes its defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from faceedit.faces.landmarks import BROWS, CHIN, JAW, LIPS_INNER, eye_centres, eye_distance
from faceedit.stage.precision import is_exact
from faceedit.stage.tuning_face import WarpTuning

#: Grid cells per crop side for smooth fields (fields are bilinearly sampled between nodes).
FIELD_GRID = 64
#: Smallest Jacobian determinant of the backward map (1 = area kept; <= 0 = fold-over). An
#: opening mouth is a strong stretch (the gap samples a thin line of lip), so only near-folds stop it.
MIN_JACOBIAN = 0.02

INNER_LIPS = LIPS_INNER
#: The points that drive a warp. The inner lips are left out: on a closed mouth the upper and lower
#: ones coincide, and pulling them apart folds the spline around the mouth corners. The outer lips
#: and the jaw open the mouth; the stage paints the opening.
WARP_POINTS = [i for i in range(68) if i not in INNER_LIPS]


# --------------------------------------------------------------------------------------------
# thin-plate splines


def _tps_kernel(r2: np.ndarray) -> np.ndarray:
    """r^2 log r^2 (the 2-D thin-plate kernel up to a factor), 0 at r = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        k = r2 * np.log(r2)
    k[r2 <= 0] = 0.0
    return k


class ThinPlateSpline:
    """The 2-D thin-plate spline through ``(src[i] -> dst[i])`` (``reg`` > 0 smooths it)."""

    def __init__(self, src: np.ndarray, dst: np.ndarray, reg: float = 0.0):
        src = np.asarray(src, np.float64).reshape(-1, 2)
        dst = np.asarray(dst, np.float64).reshape(-1, 2)
        n = len(src)
        # Work in a unit frame so the kernel and the affine part are on comparable scales.
        self.c = src.mean(0)
        self.s = max(float(np.abs(src - self.c).max()), 1e-6)
        p = (src - self.c) / self.s
        d2 = ((p[:, None, :] - p[None, :, :]) ** 2).sum(-1)
        a = np.zeros((n + 3, n + 3))
        a[:n, :n] = _tps_kernel(d2) + reg * np.eye(n)
        a[:n, n] = 1.0
        a[:n, n + 1:] = p
        a[n, :n] = 1.0
        a[n + 1:, :n] = p.T
        b = np.zeros((n + 3, 2))
        b[:n] = dst
        self.p = p
        try:
            self.coef = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:  # coincident points without smoothing
            self.coef = np.linalg.lstsq(a, b, rcond=None)[0]

    def __call__(self, pts: np.ndarray) -> np.ndarray:
        flat = np.asarray(pts, np.float64).reshape(-1, 2)
        out = np.empty((len(flat), 2))
        for i in range(0, len(flat), 8192):  # bounded memory for large grids: a chunk's kernel at a time
            out[i:i + 8192] = self.at(self.kernel(flat[i:i + 8192]))
        return out.reshape(np.shape(pts))

    def kernel(self, pts: np.ndarray) -> tuple:
        """The spline's kernel at ``pts`` (..., 2): what :meth:`at` evaluates it, or any spline
        with the same source points (the kernel does not depend on where they go), from."""
        shape = np.shape(pts)
        q64 = torch.from_numpy((np.asarray(pts, np.float64).reshape(-1, 2) - self.c) / self.s)
        q = q64.float()
        p = torch.from_numpy(self.p).float()
        p2 = (p * p).sum(1)
        # The kernel part in float32 (torch's vectorised float32 log is about 4x numpy's float64
        # one on this kind of CPU), the affine part in float64: points move by < 1e-3 px from an
        # all-float64 evaluation, far below the 1/32-px steps of remap's coordinates.
        ks = []
        for i in range(0, len(q), 8192):  # bounded memory for large grids
            qq = q[i:i + 8192]
            # |q - p|^2 as |q|^2 + |p|^2 - 2 q.p: one matrix product instead of per-axis differences
            r2 = torch.addmm((qq * qq).sum(1, keepdim=True), qq, p.T, alpha=-2.0)
            r2 += p2
            r2.clamp_(min=0.0)
            ks.append(torch.log(r2 + 1e-30).mul_(r2))  # r^2 log r^2, 0 at r = 0 (0 * log(1e-30) = 0)
        return shape, q64, ks

    def at(self, kernel: tuple) -> np.ndarray:
        """The spline at the points whose :meth:`kernel` is given."""
        shape, q64, ks = kernel
        coef = torch.from_numpy(self.coef)
        n = len(self.p)
        kcoef = coef[:n].float()
        out = torch.empty((len(q64), 2), dtype=torch.float64)
        for j, k in enumerate(ks):
            i = j * 8192
            out[i:i + 8192] = coef[n] + q64[i:i + 8192] @ coef[n + 1:] + k @ kcoef
        return out.numpy().reshape(shape)


@dataclass(frozen=True)
class Grid:
    """A regular grid of ``ny`` x ``nx`` nodes in photo coordinates: node (i, j) lies at
    ``(x0 + j * step, y0 + i * step)``. Smooth fields live on it and are sampled per pixel."""

    x0: float
    y0: float
    step: float
    nx: int
    ny: int

    @classmethod
    def around(cls, pts: np.ndarray, cells: int = FIELD_GRID) -> Grid:
        """A grid of about ``cells`` cells along the longer side covering ``pts``' bounding box."""
        pts = np.asarray(pts, np.float64).reshape(-1, 2)
        lo, hi = pts.min(0), pts.max(0)
        step = max(float((hi - lo).max()) / cells, 1e-3)
        n = np.ceil((hi - lo) / step).astype(int) + 1
        return cls(float(lo[0]), float(lo[1]), step, int(n[0]), int(n[1]))

    def points(self) -> np.ndarray:
        xs = self.x0 + self.step * np.arange(self.nx)
        ys = self.y0 + self.step * np.arange(self.ny)
        return np.stack(np.meshgrid(xs, ys), -1)

    def roi(self, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        """Integer photo ROI (x0, y0, x1, y1) inside the grid, clipped to ``shape``."""
        h, w = shape[:2]
        x0 = int(np.clip(np.ceil(self.x0), 0, w))
        y0 = int(np.clip(np.ceil(self.y0), 0, h))
        x1 = int(np.clip(np.floor(self.x0 + self.step * (self.nx - 1)) + 1, x0, w))
        y1 = int(np.clip(np.floor(self.y0 + self.step * (self.ny - 1)) + 1, y0, h))
        return x0, y0, x1, y1

    def pixel_coords(self, roi) -> tuple[np.ndarray, np.ndarray]:
        """Every ROI pixel's position in node units (the maps cv2.remap needs)."""
        x0, y0, x1, y1 = roi
        # a row and a column in float64 made float32, then spread (the same values as the
        # whole grid's float64 positions made float32)
        gx = ((np.arange(x0, x1, dtype=np.float64) - self.x0) / self.step).astype(np.float32)
        gy = ((np.arange(y0, y1, dtype=np.float64) - self.y0) / self.step).astype(np.float32)
        shape = (len(gy), len(gx))
        return np.ascontiguousarray(np.broadcast_to(gx, shape)), np.ascontiguousarray(np.broadcast_to(gy[:, None], shape))

    def sample(self, field: np.ndarray, roi) -> np.ndarray:
        """A node field (ny, nx[, C]) bilinearly sampled at every pixel of ``roi``."""
        gx, gy = self.pixel_coords(roi)
        return cv2.remap(np.ascontiguousarray(field, np.float32), gx, gy, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)


# --------------------------------------------------------------------------------------------
# the face region a warp may move


def _face_up(lm: np.ndarray) -> tuple[np.ndarray, float]:
    """(unit vector from the chin towards the eyes, the eye distance)."""
    eyes = eye_centres(lm)
    up = eyes.mean(0) - lm[CHIN]
    return up / max(np.linalg.norm(up), 1e-9), float(np.linalg.norm(eyes[1] - eyes[0]))


def region_outline(lm: np.ndarray, grow: float = 0.0, forehead: float = 0.7) -> np.ndarray:
    """Convex outline of the face (jaw, brows, and the brows lifted by ``forehead`` eye
    distances), pushed outward from its centre by ``grow`` eye distances."""
    lm = np.asarray(lm, np.float64)
    up, iod = _face_up(lm)
    pts = np.vstack([lm[JAW], lm[BROWS], lm[BROWS] + up * forehead * iod])
    hull = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    if grow:
        c = hull.mean(0)
        v = hull - c
        hull = hull + v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9) * grow * iod
    return hull


def hull_weight(hull: np.ndarray, pts: np.ndarray, falloff: float) -> np.ndarray:
    """Weight in [0,1] at ``pts`` (..., 2): 1 inside the convex polygon ``hull``, falling to 0
    over ``falloff`` px outside it (a smoothstep)."""
    shape = np.shape(pts)[:-1]
    pts = np.asarray(pts, np.float64).reshape(-1, 2)
    falloff = max(falloff, 1e-6)
    w = np.zeros(len(pts))
    # Only points near the polygon need a distance: inside it the weight is 1, and beyond
    # ``falloff`` of its bounding box 0 (the same weights as from every point's distance).
    lo = np.asarray(hull, np.float32).reshape(-1, 2).min(0) - falloff
    hi = np.asarray(hull, np.float32).reshape(-1, 2).max(0) + falloff
    near = np.flatnonzero(((pts >= lo) & (pts <= hi)).all(1))
    dist = polygon_distance(hull, pts[near])
    t = np.clip(1.0 + dist / falloff, 0.0, 1.0)
    w[near] = t * t * (3 - 2 * t)
    return w.reshape(shape)


def polygon_distance(poly: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Signed distance (N,) of points (N,2) to the closed polygon ``poly`` (K,2): positive
    inside, negative outside (``cv2.pointPolygonTest(..., measureDist=True)`` for many points at
    once; the polygon is taken in float32 as OpenCV takes it). Computed in float32 (torch's
    vectorised kernels are about twice numpy's float64 ones here): distances within ~2e-5 px."""
    a = torch.from_numpy(np.asarray(poly, np.float32).reshape(-1, 2))
    b = torch.roll(a, -1, 0)
    ex, ey = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]  # (K,) edges
    inv_len2 = 1.0 / (ex * ex + ey * ey).clamp(min=1e-30)
    slope = ex / ey  # x step per unit y along each edge (inf/nan on horizontal edges: unused)
    p = torch.from_numpy(np.asarray(pts, np.float32).reshape(-1, 2))
    out = torch.empty(len(p))
    for i in range(0, len(p), 16384):  # bounded memory for large point sets
        px, py = p[i:i + 16384, :1], p[i:i + 16384, 1:]  # (n,1)
        dx, dy = px - a[:, 0], py - a[:, 1]  # (n,K)
        # even-odd rule: crossings of a ray to +x with the edges
        straddle = (a[:, 1] <= py) != (b[:, 1] <= py)
        inside = (straddle & (px < a[:, 0] + dy * slope)).sum(1) % 2 == 1
        t = ((dx * ex + dy * ey) * inv_len2).clamp_(0.0, 1.0)
        rx, ry = dx.sub_(t * ex), dy.sub_(t * ey)
        d = rx.mul_(rx).add_(ry.mul_(ry)).amin(1).sqrt_()
        out[i:i + 16384] = torch.where(inside, d, -d)
    return out.double().numpy()


def region_weight(lm: np.ndarray, pts: np.ndarray, inner: float = WarpTuning.region_inner,
                  outer: float = WarpTuning.region_outer) -> np.ndarray:
    """Weight in [0,1] at ``pts`` (..., 2): 1 inside the face outline grown by ``inner`` eye
    distances, smoothly 0 from the outline grown by ``outer`` on. A warp multiplied by it is
    exactly zero beyond the outer outline."""
    iod = eye_distance(lm)
    return hull_weight(region_outline(lm, inner), pts, (outer - inner) * iod)


def grid_region_weight(lm: np.ndarray, grid: Grid, inner: float = WarpTuning.region_inner,
                       outer: float = WarpTuning.region_outer) -> np.ndarray:
    """:func:`region_weight` at ``grid``'s nodes (ny, nx). The fast render
    (:mod:`faceedit.stage.precision`) measures it on every other node and fills the nodes
    between cubically (:func:`upsample_nodes`, kept within [0, 1])."""
    if is_exact():
        return region_weight(lm, grid.points(), inner, outer)
    coarse = region_weight(lm, half_grid(grid).points(), inner, outer)
    return np.clip(upsample_nodes(coarse[..., None], grid.ny, grid.nx)[..., 0], 0.0, 1.0)


def upsample_nodes(coarse: np.ndarray, ny: int, nx: int) -> np.ndarray:
    """(ny, nx, C): a node field given on every other node ((ceil((ny-1)/2)+1, ceil((nx-1)/2)+1, C),
    node (i, j) of it at fine node (2i, 2j)) at every node: the given nodes kept, those between
    them the cubic midpoint (-1, 9, 9, -1)/16 of their four neighbours along each axis (the end
    ones extended linearly)."""
    def axis0(c: np.ndarray) -> np.ndarray:
        m = len(c)
        if m < 2:
            return c
        pad = np.concatenate([2 * c[:1] - c[1:2], c, 2 * c[-1:] - c[-2:-1]])
        mid = (9.0 * (pad[1:-2] + pad[2:-1]) - pad[:-3] - pad[3:]) / 16.0
        out = np.empty((2 * m - 1,) + c.shape[1:], c.dtype)
        out[0::2], out[1::2] = c, mid
        return out

    rows = axis0(np.asarray(coarse, np.float64))
    return axis0(rows.swapaxes(0, 1)).swapaxes(0, 1)[:ny, :nx]


def half_grid(grid: Grid) -> Grid:
    """Every other node of ``grid`` (node (i, j) at its node (2i, 2j)), reaching at least to its
    last row and column."""
    return Grid(grid.x0, grid.y0, 2 * grid.step, -(-(grid.nx - 1) // 2) + 1, -(-(grid.ny - 1) // 2) + 1)


def mouth_weight(lm: np.ndarray, pts: np.ndarray, inner: float = 0.2, outer: float = 0.5,
                 lips: slice = slice(48, 60)) -> np.ndarray:
    """Like :func:`region_weight` for the mouth: the outline of ``lips`` (the outer lips; the
    inner ones with ``slice(60, 68)``) grown by ``inner`` eye distances, falling to 0 at
    ``outer``."""
    lm = np.asarray(lm, np.float64)
    iod = eye_distance(lm)
    outline = lm[lips]
    c = outline.mean(0)
    v = outline - c
    hull = outline + v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9) * inner * iod
    return hull_weight(cv2.convexHull(hull.astype(np.float32)).reshape(-1, 2), pts, (outer - inner) * iod)


# --------------------------------------------------------------------------------------------
# displacement fields


def jacobian_det(field: np.ndarray, step: float) -> np.ndarray:
    """Determinant of the Jacobian of p -> p + field(p) on a regular grid of spacing ``step``."""
    dxx = np.gradient(field[..., 0], step, axis=1)
    dxy = np.gradient(field[..., 0], step, axis=0)
    dyx = np.gradient(field[..., 1], step, axis=1)
    dyy = np.gradient(field[..., 1], step, axis=0)
    return (1 + dxx) * (1 + dyy) - dxy * dyx


def warp_anchors(lm: np.ndarray, moved: np.ndarray | None = None, tuning: WarpTuning | None = None) -> np.ndarray:
    """The fixed points of a warp of a face at ``lm`` to ``moved``: a ring round the face region
    (``tuning``'s ``region_outer``: the field is zero beyond it) and rows across the forehead
    ``forehead_pin`` eye distances above the brows (higher by as much as the move lifts the
    brows), so an edit moves the brows but not the hairline."""
    tn = tuning if tuning is not None else WarpTuning()
    lm = np.asarray(lm, np.float64)
    ring = region_outline(lm, grow=tn.region_outer)
    up, iod = _face_up(lm)
    lift = 0.0 if moved is None else max(0.0, float(((np.asarray(moved)[BROWS] - lm[BROWS]) @ up).max()) / iod)
    rows = [lm[BROWS] + up * (h + lift) * iod for h in tn.forehead_pin]
    rows += [(r[1:] + r[:-1]) / 2 for r in rows]
    return np.vstack([ring, (ring + np.roll(ring, 1, axis=0)) / 2, *rows])


#: Each eye's upper lid (its corners and middle points of the 68) and its brow, that
#: :func:`carried_points` ride on.
UPPER_LIDS = (((36, 37, 38, 39), BROWS[:5]), ((42, 43, 44, 45), BROWS[5:]))


def carried_points(lm: np.ndarray, moved: np.ndarray, lashes: float, brow: float, apart: float, wholly: float,
                   closing: float, brows: tuple[np.ndarray, float] | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points that carry the lashes with each upper lid and the brow whole: above each upper lid's
    middle points (:data:`UPPER_LIDS`), ``lashes`` eye widths up the face, and under the brow's point
    nearest above each, ``brow`` eye widths down; where each lies after the move (``moved``, as the
    point it hangs from), where it comes from carried whole (``lm``) and how far it is carried:
    wholly where the lid and the brow move apart by ``wholly`` of their distance or more (a
    surprise's 0.3-0.7), not where by ``apart`` or less (a smile's brows, a few hundredths; a frown's
    lowered over the lids) or where the lid comes down by ``closing`` eye widths or more (a blink, a
    wink, sleepy lids: the lid :func:`faceedit.stage.lids.close_lids` draws); a share between. A warp driven by them as well
    (:func:`carried_values`) stretches the skin between the two bands, not the lashes or the brow (a
    surprise's brows rising more than its lids drew the lashes out into streaks twice their length, a
    made-up eye's a dark smear; the lashes' band held alone, the brow above it was drawn out downwards
    instead). ``brows``: (each brow's depth in eye widths, the image's left brow and the image's right,
    :func:`faceedit.stage.brow_band.brow_depths`; the skin kept between the bands): a brow's band reaches
    that deep where it ends that much above the lashes' band, else no deeper than that, and at least
    ``brow`` deep. Returns
    ((N, 2) after, (N, 2) before, (N,) how far); none where ``lashes`` is 0."""
    lm, moved = np.asarray(lm, np.float64), np.asarray(moved, np.float64)
    if lashes <= 0:
        return np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0)
    up, _ = _face_up(lm)
    across = np.array([up[1], -up[0]])
    after, before, share = [], [], []
    for side, ((a, b, c, d), points) in enumerate(UPPER_LIDS):
        width = float(np.linalg.norm(lm[d] - lm[a]))
        for i in (b, c):
            j = points[int(np.argmin(np.abs((lm[points] - lm[i]) @ across)))]
            gap, gap_now = float((lm[j] - lm[i]) @ up), float((moved[j] - moved[i]) @ up)
            grown = gap_now / max(gap, 1e-6) - 1.0
            carry = float(np.clip((grown - apart) / max(wholly - apart, 1e-6), 0.0, 1.0))
            carry *= 1.0 - float(np.clip(-((moved[i] - lm[i]) @ up) / (max(closing, 1e-6) * width), 0.0, 1.0))
            deep = brow
            if brows is not None:  # (no deeper than leaves the skin between the bands)
                deep = max(brow, min(float(brows[0][side]), gap / width - lashes - brows[1]))
            for k, h in ((i, lashes * width), (j, -deep * width)):
                after.append(moved[k] + h * up)
                before.append(lm[k] + h * up)
                share.append(carry)
    return np.array(after), np.array(before), np.array(share)


def carried_values(centres: np.ndarray, values: np.ndarray, carried: tuple[np.ndarray, np.ndarray, np.ndarray],
                   reg: float) -> tuple[np.ndarray, np.ndarray]:
    """A backward spline's ``centres`` and ``values`` (where moved points lie, where they came from) with
    the carried points (:func:`carried_points`) that are carried at all: each valued as far toward where
    it comes from carried whole as it is carried, from where the spline without them takes it (a point
    not carried at all leaves the warp as it is, so the warp does not jump as one starts to be)."""
    after, before, share = carried
    on = share > 0
    if not on.any():
        return centres, values
    own = ThinPlateSpline(centres, values, reg=reg)(after[on])
    return np.vstack([centres, after[on]]), np.vstack([values, own + share[on, None] * (before[on] - own)])


def face_grid(lm: np.ndarray, outer: float = WarpTuning.region_outer, cells: int = FIELD_GRID) -> Grid:
    """The grid a face's fields live on: the face outline grown by ``outer`` eye distances."""
    return Grid.around(region_outline(lm, grow=outer + 0.05), cells)


def backward_field(src_lm: np.ndarray, dst_lm: np.ndarray, grid: Grid, min_jacobian: float = MIN_JACOBIAN,
                   tuning: WarpTuning | None = None) -> tuple[np.ndarray, float]:
    """The warp that moves landmarks ``src_lm`` to ``dst_lm`` ((68,2) photo coordinates), as a
    backward displacement field on ``grid``'s nodes: output pixel p samples the input at
    ``p + field(p)``. A thin-plate spline through the moved :data:`WARP_POINTS` and the fixed
    :func:`warp_anchors`, times :func:`region_weight`, so it is exactly zero beyond the face region. When
    the field would fold (Jacobian determinant below ``min_jacobian`` anywhere), the whole move
    is scaled down until it does not (the region: ``tuning``, :class:`~faceedit.stage.tuning_face.WarpTuning`).
    Returns (field (ny, nx, 2), the scale used)."""
    tn = tuning if tuning is not None else WarpTuning()
    src_lm = np.asarray(src_lm, np.float64)
    dst_lm = np.asarray(dst_lm, np.float64)
    nodes = grid.points()
    w = region_weight(src_lm, nodes, tn.region_inner, tn.region_outer)[..., None]
    anchors = warp_anchors(src_lm, dst_lm, tn)

    def field_for(scale: float) -> np.ndarray:
        moved = src_lm + scale * (dst_lm - src_lm)
        reg = 1e-3  # the spline's smoothing, the carried points valued by the same one
        centres, values = carried_values(np.vstack([moved[WARP_POINTS], anchors]),
                                         np.vstack([src_lm[WARP_POINTS], anchors]),
                                         carried_points(src_lm, moved, *tn.carried_bands), reg)
        tps = ThinPlateSpline(centres, values, reg=reg)
        return (tps(nodes) - nodes) * w

    f = field_for(1.0)
    if jacobian_det(f, grid.step).min() >= min_jacobian:
        return f, 1.0
    lo, hi = 0.0, 1.0
    for _ in range(10):
        mid = (lo + hi) / 2
        if jacobian_det(field_for(mid), grid.step).min() >= min_jacobian:
            lo = mid
        else:
            hi = mid
    return field_for(lo), lo


def canonical_coords(face_lm: np.ndarray, canon_lm: np.ndarray, grid: Grid) -> np.ndarray:
    """(ny, nx, 2) canonical-frame coordinates of ``grid``'s nodes, for a face whose landmarks
    are ``face_lm``: the smoothed thin-plate spline taking ``face_lm`` onto ``canon_lm``."""
    return ThinPlateSpline(face_lm, canon_lm, reg=1e-2)(grid.points())


def warp_photo(pixels: np.ndarray, grid: Grid, field: np.ndarray) -> np.ndarray:
    """The photo warped by a backward ``field`` on ``grid`` (from :func:`backward_field`), at
    full resolution. Returns a new array; every pixel where the field is zero is the input's
    own, bit for bit. Only the grid's area is resampled (bicubic)."""
    out = pixels.copy()
    roi = grid.roi(pixels.shape)
    x0, y0, x1, y1 = roi
    if x1 <= x0 or y1 <= y0 or not np.any(field):
        return out
    d = grid.sample(field, roi)
    mx = np.arange(x0, x1, dtype=np.float32)[None, :] + d[..., 0]
    my = np.arange(y0, y1, dtype=np.float32)[:, None] + d[..., 1]
    if max(pixels.shape[:2]) < 32000:
        # remap turns float maps into these fixed-point ones itself; converting once up front
        # gives the same pixels in about half the time (coordinates must fit in int16)
        mx, my = cv2.convertMaps(mx, my, cv2.CV_16SC2)
    warped = cv2.remap(pixels, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    # Where the field is zero a pixel samples its own position: the bicubic weights there are
    # (0, 1, 0, 0), so the warped pixel is the input's own (tests/test_models_stage.py checks it), and
    # the whole ROI can be written back without masking.
    out[y0:y1, x0:x1] = warped.reshape(warped.shape[:2] + pixels.shape[2:])  # remap drops a 1-channel axis
    return out
