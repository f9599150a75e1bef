"""The gaze controls (``gaze_x``, ``gaze_y``): the irises moved inside the eye opening.

Each eye's iris is the circle :func:`faceedit.stage.eyes.find_iris` finds inside the Face
Mesh's lid contour (:func:`faceedit.stage.eyes.eye_polygon`). The iris is drawn again, at its
own size, shifted along the eye's own axes (corner to corner, and across), over the eyeball the
lids show (:func:`visible_eye`): read from the photo's iris at the same offset where the photo
shows it, elsewhere (under a lid) from its own median colour at that distance from its centre.
Where it was and no longer is, the white of the eye is refilled along each row, a blend of the
eye's own white beside it (its shading kept, not its texture: the fill is smooth). Outside the
lid contour (lids, lashes) nothing changes; the lids follow the gaze a little
through the landmark move of ``gaze_y`` (:mod:`faceedit.stage.moves`). An eye without a
confident iris (closed, no contrast), a face without a mesh or a greyscale photo is left alone.

The repaint runs on the photo before the warp, so an expression's move carries the moved irises.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import from_unit, luma, pixel_max
from faceedit.stage.cut_curves import polygon_coverage
from faceedit.stage.eyes import eye_polygon, find_iris
from faceedit.stage.iris_rings import _sample, radial_profile
from faceedit.stage.tuning import EyesTuning

#: How far the iris centre travels at 1, in eye widths (corner to corner): along the eye (the
#: iris's edge then nears the corner) and across it.
GAZE_X_TRAVEL = 0.2
GAZE_Y_TRAVEL = 0.08


def move_irises(pixels: np.ndarray, mesh: np.ndarray, gaze: tuple[float, float],
                tuning: EyesTuning | None = None) -> np.ndarray:
    """``pixels`` ((H, W, 3) uint8/uint16) with both irises of the face whose Face Mesh points are
    ``mesh`` ((468, 2+)) moved by ``gaze`` = (x, y), each -1..1 (x + towards the image's right,
    y + up); ``pixels`` itself when nothing moves."""
    gx, gy = float(gaze[0]), float(gaze[1])
    if (gx == 0 and gy == 0) or pixels.ndim != 3:
        return pixels
    tuning = tuning if tuning is not None else EyesTuning()
    out = pixels
    for k in (0, 1):
        out = _move_iris(out, np.asarray(mesh, np.float64)[:, :2], k, gx, gy, tuning)
    return out


def visible_eye(mesh: np.ndarray, k: int, tuning: EyesTuning | None = None) -> np.ndarray:
    """(16, 2) the eyeball that eye ``k`` shows (the order of
    :func:`faceedit.stage.eyes.eye_polygon`): the mesh's lid margins moved by ``shown_upper``
    and ``shown_lower`` of :class:`~faceedit.stage.tuning.EyesTuning`."""
    tuning = tuning if tuning is not None else EyesTuning()
    poly = eye_polygon(mesh, k, 0.0)
    up, low = poly[1:8], poly[9:][::-1]  # the middle points, facing each other
    gap = low - up
    out = poly.copy()
    out[1:8] = up + tuning.shown_upper * gap
    out[9:] = (low + tuning.shown_lower * gap)[::-1]
    return out


def _move_iris(pixels: np.ndarray, mesh: np.ndarray, k: int, gx: float, gy: float,
               tuning: EyesTuning) -> np.ndarray:
    """``pixels`` with eye ``k``'s iris moved (see :func:`move_irises`)."""
    unit = pixel_max(pixels.dtype)
    poly = eye_polygon(mesh, k, tuning.lower_lid_raise)
    width = float(np.linalg.norm(poly[0] - poly[8]))
    pad = int(np.ceil(0.3 * width))
    h, w = pixels.shape[:2]
    x0, y0 = np.maximum(np.floor(poly.min(0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(poly.max(0)).astype(int) + pad + 1, (w, h))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return pixels
    box0 = np.array([x0, y0], np.float64)
    src = pixels[y0:y1, x0:x1, :3].astype(np.float32) / unit
    found = find_iris(src, poly - box0, tuning)
    if found is None:
        return pixels
    c_s, r = found[0], found[1]  # box coordinates
    u = poly[8] - poly[0]
    u = u / max(float(np.linalg.norm(u)), 1e-9)
    u = u if u[0] >= 0 else -u  # along the eye towards the image's right
    n = np.array([-u[1], u[0]])  # across it, down
    c_d = c_s + gx * GAZE_X_TRAVEL * width * u - gy * GAZE_Y_TRAVEL * width * n
    box = (int(x0), int(y0), int(x1), int(y1))
    core = polygon_coverage(eye_polygon(mesh, k, lower_raise=0.0), box)  # the mesh's lid margins
    margins = core.copy()
    opening = polygon_coverage(visible_eye(mesh, k, tuning), box)  # where the eyeball shows
    erode = int(round(width / 40))  # the iris and white read off the lashes (none on a small eye)
    if erode:
        core = cv2.GaussianBlur(cv2.erode(core, np.ones((2 * erode + 1, 2 * erode + 1), np.uint8)), (0, 0), erode)
    yy, xx = np.mgrid[0:y1 - y0, 0:x1 - x0]
    p = np.stack([xx, yy], -1).astype(np.float64)
    # the iris at its new place: the photo's own at the same offset where it shows, else its
    # median colour at that distance from its centre
    sy, sx = np.nonzero(core > 0.5)
    d_s = np.linalg.norm(np.stack([sx, sy], 1) - c_s, axis=1)
    profile = radial_profile(src[sy, sx], d_s, r)
    # the white: the brightest of what the eyeball shows beyond the iris (off the lids' skin)
    wy, wx = np.nonzero((opening > 0.5) & (np.linalg.norm(p - c_s, axis=-1) > 1.2 * r))
    if profile is None or len(wy) < 5:
        return pixels
    lum = luma(src)
    bright = lum[wy, wx] >= np.percentile(lum[wy, wx], 75)
    white_col = np.median(src[wy[bright], wx[bright]], 0).astype(np.float32)
    rel = p - c_d
    dist = np.linalg.norm(rel, axis=-1)
    direct = c_s + rel
    w_d = np.clip((_sample(core, direct) - 0.3) / 0.6, 0, 1)[..., None]
    rho = np.clip(dist / r, 0, 1) * (len(profile) - 1)
    i0 = np.floor(rho).astype(int)
    i1, f = np.minimum(i0 + 1, len(profile) - 1), (rho - i0)[..., None]
    iris = _sample(src, direct) * w_d + (profile[i0] * (1 - f) + profile[i1] * f) * (1 - w_d)
    disc_new = np.clip(r + 0.5 - dist, 0.0, 1.0)
    disc_old = np.clip(r * tuning.old_iris + 0.5 - np.linalg.norm(p - c_s, axis=-1), 0.0, 1.0)
    # refilled out to the mesh's margins (the old iris's top under the lid's rim goes too), in the
    # rim's shade between them and the eyeball shown
    white = _refill_white(src, (disc_old > 0.01) & (margins > 0.05), (opening > 0.5) & (disc_old == 0),
                          white_col, width, tuning)
    rim = np.clip(margins - opening, 0, 1)[..., None]
    white = white * (1 - rim * (1 - tuning.white_shade))
    a_iris = (disc_new * opening)[..., None]
    a_white = cv2.GaussianBlur((disc_old * np.maximum(opening, margins)).astype(np.float32), (0, 0), max(0.5, width / 100))
    a_white = np.minimum(a_white, 1 - disc_new)[..., None]
    new = src * (1 - a_iris - a_white) + iris * a_iris + white * a_white
    out = pixels.copy()
    out[y0:y1, x0:x1, :3] = from_unit(np.clip(new, 0, 1), pixels.dtype)
    return out


def _refill_white(src: np.ndarray, where: np.ndarray, white_ok: np.ndarray, white: np.ndarray,
                  width: float, tuning: EyesTuning) -> np.ndarray:
    """The white of the eye over ``src`` (unit RGB) where ``where``: per row, a blend between the
    white just left and just right of that row's run (``white_read``, ``white_gap``,
    ``white_rank``; of the pixels ``white_ok`` says are white and bright enough), or ``white`` times
    ``white_shade`` on a side that has none (a lash, the lid's skin), smoothed across rows."""
    lum = luma(src)
    bright = white_ok & (lum >= 0.6 * float(luma(white)))
    reach = max(2, int(round(tuning.white_read * width)))
    gap = int(round(tuning.white_gap * width))
    out = np.broadcast_to(white, src.shape).copy()
    for y in range(src.shape[0]):
        xs = np.nonzero(where[y])[0]
        if len(xs) == 0:
            continue
        ends = []
        for lo, hi in ((xs.min() - gap - reach, xs.min() - gap), (xs.max() + 1 + gap, xs.max() + 1 + gap + reach)):
            lo, hi = max(lo, 0), min(hi, src.shape[1])
            ok = np.nonzero(bright[y, lo:hi])[0] if hi > lo else np.zeros(0, int)
            if len(ok) >= 2:
                row = src[y, lo + ok]
                ends.append(row[np.argsort(luma(row))[int(tuning.white_rank * (len(row) - 1))]])
            else:
                ends.append(tuning.white_shade * white)
        t = np.clip((np.arange(src.shape[1]) - xs.min()) / max(xs.max() - xs.min(), 1), 0, 1)[:, None]
        out[y] = ends[0] * (1 - t) + ends[1] * t
    return cv2.GaussianBlur(out, (0, 0), max(0.7, width / 60))
