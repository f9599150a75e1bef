"""A dropped jaw's chin slides down over the neck, as a real jaw does: the neck below it is
overlapped and what lies beyond the head stays.

The warp's fields (:mod:`faceedit.stage.cut_fields`) are thin-plate splines through the moved
landmarks and a fixed ring round the face, times a region weight that is 1 inside the face
outline grown by ``region_inner`` and falls to 0 at ``region_outer`` (:mod:`faceedit.stage.warp`).
With that alone a chin dropped by a third of an eye distance lands short of its place and the
skin under it, its shadow included, is squeezed between it and the ring.

Here, below the jaw line (68-point 4-12, in the frame of the face: along the eye line and down
across it), each place takes the drop of the jaw above it (:func:`jaw_drop`: the drop of each jaw
point down the face, none at the angles 4 and 12, straight lines between):

* the ring's points below the jaw move down by it (:func:`slid_anchors`), so the splines carry
  the chin and the skin under it whole;
* the region weight (:func:`slid_region_weight`) stays 1 down to the chin's new place plus
  ``region_inner`` and falls to 0 from there to its end: ``region_outer`` pulled up by
  ``chin_slide[1]`` times the drop, but at least ``chin_slide[0]`` eye distances past the fade's
  start. That short, steep fade is where the neck is drawn together under the chin's new edge
  (overlapped); below it nothing moves. Its end lies lower than ``region_outer`` only where the
  drop leaves no room for the shortest fade; the face's grid (:func:`slid_grid`) reaches as
  much farther down as the jaw drops.

A jaw that does not drop (every drop 0) leaves the ring, the weight and the grid as
:mod:`faceedit.stage.warp` makes them.
The region weight is the plain one read at each node lifted up the face
(:func:`lifted_nodes`), so the region stays one smooth weight round the face.

The mouth is painted in the face's own grid's ROI (:func:`face_window`), not the reach below the
jaw: the bank's window round the opening (the photo's blur, its black) and its texture's seed
are the same whether the chin slides or not.
"""

from __future__ import annotations

import numpy as np

from faceedit.faces.landmarks import eye_centres, eye_distance
from faceedit.stage.precision import is_exact
from faceedit.stage.tuning_face import WarpTuning
from faceedit.stage.warp import Grid, face_grid, half_grid, region_outline, region_weight, upsample_nodes

#: The jaw line's points (68-point) whose drop the neck under them takes; the angles (4, 12)
#: take none, so the slide fades out toward the ears.
JAW_LINE = tuple(range(4, 13))
#: Height (eye distances) above the jaw line over which the lift of the region's lookup fades in
#: (inside the face: the weight there is 1 either way; it keeps the forehead's edge where it is).
LIFT_FADE = 0.3


def _frame(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(u along the eye line, n down the face across it), unit vectors."""
    left, right = eye_centres(lm)
    d = right - left
    u = d / max(float(np.linalg.norm(d)), 1e-9)
    return u, np.array([-u[1], u[0]])


def jaw_drop(src_lm: np.ndarray, dst_lm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The jaw line at ``src_lm`` in the face's frame and its drop to ``dst_lm``: (the points'
    places along the eye line, increasing; their depths down the face; each one's drop down the
    face (px, at least 0; none at the jaw's angles 4 and 12)). None when no point drops."""
    src_lm = np.asarray(src_lm, np.float64)
    dst_lm = np.asarray(dst_lm, np.float64)
    u, n = _frame(src_lm)
    idx = list(JAW_LINE)
    drops = np.maximum((dst_lm[idx] - src_lm[idx]) @ n, 0.0)
    drops[0] = drops[-1] = 0.0
    if not np.any(drops > 1e-6):
        return None
    along, depth = src_lm[idx] @ u, src_lm[idx] @ n
    order = np.argsort(along)
    return along[order], depth[order], drops[order]


def _below(src_lm: np.ndarray, jaw: tuple, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each point's depth below the jaw line (px, negative above it), the jaw's drop at its
    place along the eye line (0 beyond the jaw's angles))."""
    along, depth, drops = jaw
    u, n = _frame(np.asarray(src_lm, np.float64))
    pu, pn = pts @ u, pts @ n
    return pn - np.interp(pu, along, depth), np.interp(pu, along, drops, left=0.0, right=0.0)


def _fade_in(e: np.ndarray, height: float) -> np.ndarray:
    """0 at ``height`` px above the jaw line, 1 on it and below (a smoothstep)."""
    t = np.clip(1.0 + e / max(height, 1e-9), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def slid_anchors(src_lm: np.ndarray, dst_lm: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Where the warp's fixed points ``anchors`` (N, 2; :func:`~faceedit.stage.warp.warp_anchors`)
    go: those below the jaw line down by the jaw's drop above them (:func:`jaw_drop`), the others
    where they are."""
    anchors = np.asarray(anchors, np.float64)
    jaw = jaw_drop(src_lm, dst_lm)
    if jaw is None:
        return anchors
    _, n = _frame(np.asarray(src_lm, np.float64))
    e, d = _below(src_lm, jaw, anchors)
    iod = eye_distance(np.asarray(src_lm, np.float64))
    return anchors + (d * _fade_in(e, LIFT_FADE * iod))[:, None] * n


def lifted_nodes(src_lm: np.ndarray, dst_lm: np.ndarray, pts: np.ndarray, tuning: WarpTuning | None = None,
                 jaw: tuple | None = None) -> np.ndarray:
    """``pts`` (..., 2) moved up the face to where the plain region weight is read for them: below
    the jaw line, depth ``e`` (px) past ``start`` (the jaw's drop plus ``region_inner``) is read
    as ``region_inner`` plus ``e - start`` stretched so the fade to ``end`` (see the module
    notes) spans ``region_inner`` to ``region_outer``; above ``start`` lifted by ``start -
    region_inner`` (the weight there is 1)."""
    tn = tuning if tuning is not None else WarpTuning()
    src_lm = np.asarray(src_lm, np.float64)
    jaw = jaw if jaw is not None else jaw_drop(src_lm, dst_lm)
    pts = np.asarray(pts, np.float64)
    if jaw is None:
        return pts
    shape = pts.shape
    flat = pts.reshape(-1, 2)
    iod = eye_distance(src_lm)
    _, n = _frame(src_lm)
    a, b = tn.region_inner * iod, tn.region_outer * iod
    shortest, pull = tn.chin_slide[0] * iod, tn.chin_slide[1]
    e, d = _below(src_lm, jaw, flat)
    start = a + d  # (the fade: from the chin's new place plus region_inner to its end)
    end = np.where(d > 0, np.maximum(np.minimum(b, b - pull * d), start + shortest), b)
    read = np.where(e <= start, e - (start - a), a + (e - start) * (b - a) / np.maximum(end - start, 1e-9))
    lift = (e - read) * _fade_in(e, LIFT_FADE * iod)
    return (flat - lift[:, None] * n).reshape(shape)


def slid_grid(src_lm: np.ndarray, dst_lm: np.ndarray, tuning: WarpTuning | None = None) -> Grid:
    """The grid a warp from ``src_lm`` to ``dst_lm`` lives on: the face's
    (:func:`~faceedit.stage.warp.face_grid`), with as many more nodes at its step as reach as much
    farther down the face as the jaw drops (the ring under the chin moves down by that, and the
    fade under it ends at most that much past the plain region's end). The face's own nodes stay
    where they are, and so do the fast render's every other one."""
    tn = tuning if tuning is not None else WarpTuning()
    src_lm = np.asarray(src_lm, np.float64)
    grid = face_grid(src_lm, tn.region_outer)
    jaw = jaw_drop(src_lm, dst_lm)
    if jaw is None:
        return grid
    _, n = _frame(src_lm)
    reach = region_outline(src_lm, grow=tn.region_outer + 0.05) + float(jaw[2].max()) * n  # (face_grid's, moved)
    # (whole pairs of steps before the first node: the fast render's every other node stays)
    lo = 2 * np.floor((reach.min(0) - (grid.x0, grid.y0)) / (2 * grid.step)).clip(max=0).astype(int)
    hi = np.ceil((reach.max(0) - (grid.x0, grid.y0)) / grid.step).astype(int)
    nx, ny = max(grid.nx, int(hi[0]) + 1) - lo[0], max(grid.ny, int(hi[1]) + 1) - lo[1]
    return Grid(float(grid.x0 + lo[0] * grid.step), float(grid.y0 + lo[1] * grid.step), grid.step, int(nx), int(ny))


def slid_region_weight(src_lm: np.ndarray, dst_lm: np.ndarray, grid: Grid, tuning: WarpTuning | None = None) -> np.ndarray:
    """The region weight (ny, nx) at ``grid``'s nodes of a warp from ``src_lm`` to ``dst_lm``:
    :func:`~faceedit.stage.warp.grid_region_weight` read at :func:`lifted_nodes` (the same
    every-other-node measure for the fast render), so the chin's drop is carried and the neck
    below it overlapped."""
    tn = tuning if tuning is not None else WarpTuning()
    src_lm = np.asarray(src_lm, np.float64)
    jaw = jaw_drop(src_lm, dst_lm)
    g = grid if is_exact() else half_grid(grid)
    pts = lifted_nodes(src_lm, dst_lm, g.points(), tn, jaw) if jaw is not None else g.points()
    w = region_weight(src_lm, pts, tn.region_inner, tn.region_outer)
    if is_exact():
        return w
    return np.clip(upsample_nodes(w[..., None], grid.ny, grid.nx)[..., 0], 0.0, 1.0)


def face_window(roi: tuple[int, int, int, int], face_roi: tuple[int, int, int, int] | None,
                plane: np.ndarray) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """``plane`` (over ``roi``, a warp's: :class:`~faceedit.stage.cutwarp.CutWarpResult`) cut to
    ``face_roi`` (the face's own grid's, inside ``roi``; None: ``roi`` itself): (that ROI, the
    plane over it). The mouth bank's fill reads its window and seeds its texture by its ROI; the
    grid that reaches below a dropped jaw leaves both as they are without the slide."""
    if face_roi is None or tuple(face_roi) == tuple(roi):
        return tuple(roi), plane  # type: ignore[return-value]
    x0, y0 = roi[0], roi[1]
    fx0, fy0, fx1, fy1 = (int(v) for v in face_roi)
    return (fx0, fy0, fx1, fy1), plane[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0]
