"""The upper lip's inner edge of an open mouth, read from the photo's colour.

A wide-open mouth whose interior colour did not find (a dark cavity, a posed surprise or a
laugh) is cut along the Face Mesh's inner-lip loop. That loop is not the lip's edge: on a posed
surprise the crease search (:func:`faceedit.stage.lips.on_crease`) took the cavity's own dark for
the crease and moved the cut half the upper lip up into it, which the closed mouth then showed
as a thin upper lip. Here the upper cut is the boundary between the upper lip and what the mouth
shows under it (the dark cavity, the upper teeth), found down each column from the outer upper
lip.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import pixel_max
from faceedit.stage.cut_curves import resample_by_length
from faceedit.stage.lips import MESH_INNER_LOWER, MESH_INNER_UPPER, MESH_OUTER_UPPER, box_around, sample_points
from faceedit.stage.tuning_mouth import LipsTuning

#: Samples down each column, from the outer upper lip to the search's lower end.
EDGE_SAMPLES = 48


def upper_lip_edge(rgb: np.ndarray, inner_up: np.ndarray, outer_up: np.ndarray, inner_lo: np.ndarray,
                   tuning: LipsTuning | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The upper inner-lip curve ``inner_up`` (the Face Mesh's, left corner first, photo
    coordinates) of an open mouth moved, per point, onto the upper lip's inner edge in the photo
    (``rgb``: RGB or grey, 8 or 16 bits): down the line from the outer upper lip ``outer_up``
    to ``edge_reach`` of the opening's height (to the lower inner lip ``inner_lo``) below the
    loop, the first sample whose CIE L*a* colour is as far from the lip's own (the median on the
    outer upper lip's ``edge_lip_from``..``edge_lip_to`` of the way, across the mouth's middle
    half) as half the column's farthest, where that is at least ``edge_contrast`` (a grey
    photo: L* alone). Points with no such edge keep the mesh's; the corners stay, the shifts a
    running median of 3, tapered to nothing at the corners. Returns the curve and, per point,
    whether an edge was found there."""
    tn = tuning or LipsTuning()
    up = np.asarray(inner_up, np.float64)
    n = len(up)
    outer = resample_by_length(np.asarray(outer_up, np.float64), n)
    lo = resample_by_length(np.asarray(inner_lo, np.float64), n)
    end = up + tn.edge_reach * (lo - up)
    t = np.linspace(0.0, 1.0, EDGE_SAMPLES)
    pts = outer[:, None, :] + t[None, :, None] * (end - outer)[:, None, :]  # (N, S, 2), down the column
    x0, y0, x1, y1 = box_around(np.concatenate([outer, end]), 2, rgb.shape)
    crop = np.asarray(rgb[y0:y1, x0:x1], np.float32) / float(pixel_max(rgb.dtype))
    if crop.ndim == 2 or crop.shape[2] < 3:
        grey = crop if crop.ndim == 2 else crop[..., 0]
        crop = np.repeat(grey[..., None], 3, axis=2)
    lab = cv2.cvtColor(np.ascontiguousarray(crop[..., :3]), cv2.COLOR_RGB2Lab)[..., :2]
    got = sample_points(lab, pts[..., 0].ravel() - x0, pts[..., 1].ravel() - y0).reshape(n, EDGE_SAMPLES, 2)
    # where the mesh's loop lies down each column
    at_loop = np.linalg.norm(up - outer, axis=1) / np.maximum(np.linalg.norm(end - outer, axis=1), 1e-6)
    lip_rows = got[n // 4: n - n // 4]
    lip = []
    for k, row in enumerate(lip_rows):
        a = at_loop[n // 4 + k]
        lip.append(row[(t >= tn.edge_lip_from * a) & (t <= tn.edge_lip_to * a)])
    lip_lab = np.median(np.concatenate(lip), axis=0) if lip else np.median(got.reshape(-1, 2), axis=0)
    dist = np.linalg.norm(got - lip_lab, axis=2)  # (N, S)
    shift, found = np.zeros(n), np.zeros(n, bool)
    for k in range(1, n - 1):
        start = int(np.searchsorted(t, tn.edge_lip_to * at_loop[k]))
        far = dist[k, start:]
        if len(far) < 2 or float(far.max()) < tn.edge_contrast:
            continue
        over = np.flatnonzero(far >= far.max() / 2)[0]
        j = start + over
        if j > 0:  # the crossing between samples j-1 and j
            lo_d, hi_d = dist[k, j - 1], dist[k, j]
            f = float(np.clip((far.max() / 2 - lo_d) / max(hi_d - lo_d, 1e-6), 0.0, 1.0))
            s = t[j - 1] + f * (t[j] - t[j - 1])
        else:
            s = t[j]
        shift[k], found[k] = s - at_loop[k], True  # + down the column, in shares of outer -> end
    shift = np.median(np.lib.stride_tricks.sliding_window_view(np.pad(shift, 1, mode="edge"), 3), axis=1)
    shift[[0, -1]] = 0.0
    taper = np.sqrt(np.sin(np.pi * np.linspace(0.0, 1.0, n)))
    return up + (shift * taper)[:, None] * (end - outer), found


def open_upper_edge(rgb: np.ndarray, mesh: np.ndarray, lips: tuple[np.ndarray, np.ndarray],
                    tuning: LipsTuning | None = None) -> tuple[np.ndarray, np.ndarray]:
    """An open mouth's cut ``lips`` (upper, lower) with its upper curve on the upper lip's inner
    edge (:func:`upper_lip_edge` from the Face Mesh's points ``mesh``)."""
    xy = np.asarray(mesh, np.float64)[:, :2]
    edge = upper_lip_edge(rgb, xy[MESH_INNER_UPPER], xy[MESH_OUTER_UPPER], xy[MESH_INNER_LOWER], tuning)[0]
    cut = np.asarray(lips[0], np.float64)
    taper = np.sqrt(np.sin(np.pi * np.linspace(0.0, 1.0, len(cut))))  # the cut's own corners stay
    return cut + taper[:, None] * (edge - cut), lips[1]


def grey_upper_cut(rgb: np.ndarray, mesh: np.ndarray, rim: np.ndarray, widened: np.ndarray,
                   tuning: LipsTuning | None = None) -> np.ndarray:
    """A closing open mouth's upper cut on a photo whose colour cannot tell the upper teeth
    (a grey one): per point ``rim`` (the upper lip's edge, :func:`open_upper_edge`, with a small
    margin) where :func:`upper_lip_edge` found the edge, ``widened`` (a fixed widening into the
    lip) where it did not, the two blended over three points."""
    xy = np.asarray(mesh, np.float64)[:, :2]
    found = upper_lip_edge(rgb, xy[MESH_INNER_UPPER], xy[MESH_OUTER_UPPER], xy[MESH_INNER_LOWER], tuning)[1]
    w = np.convolve(np.pad(found.astype(np.float64), 1, mode="edge"), np.ones(3) / 3, mode="valid")
    rim, widened = np.asarray(rim, np.float64), np.asarray(widened, np.float64)
    return widened + w[:, None] * (rim - widened)
