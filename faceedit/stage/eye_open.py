"""A small shut or downcast eye opened by the warp (surprise, fear): its lash line moved as a line.

A warp that opens an eye whose lids meet (eyes shut, or cast down under a lid made up) has
nothing between the lids to stretch but the lash line and the make-up along it: the dark line a
few pixels thick becomes a dark smear as tall as the opening (a group photo's faces at about
100 px: a brown oval round each eye). :func:`keep_irises <faceedit.stage.eyes.keep_irises>`
finds no iris there to keep. :func:`open_shut_eye` redraws such an eye on a small face:

1. the source's lash line (each column's dark band round the lids' meeting, at half its depth
   below the lid's skin above it, where it reaches ``shut_lash_dark`` of it) is carried with the upper lid at its own
   thickness: read from the source at the same offset from the upper lid's line;
2. below it, to the lower lid's line, the eyeball the lid uncovered: a white in the photo's
   light (``shut_white_over_skin`` of the lid skin's luma, its chroma part-way to grey), in the
   upper lid's shadow, with an iris of ``shut_iris_radius`` eye widths at the eye's middle under
   the lid in the lash line's colour (a made-up eye's lashes and iris read alike at this size),
   darker at the pupil; the lower lid's margin a shade darker;
3. the drawing softened by a Gaussian of ``shut_soften`` px (a small face's photo is no sharper)
   and given the grain of the warped eye's box (its luma's high-pass, a robust spread), blended over the warped
   eye inside the opened lids, the lash band's reach above them and below the lower lid's line.

Only small eyes (:func:`eye_weight`: whole up to ``shut_small_px``'s first width, none from its
second) change; eyes both shut and wider than ``shut_hold_px`` are not opened at all (:func:`held_shut`). The
``shut_*`` values are fields of :class:`~faceedit.stage.tuning.EyesTuning`.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import luma
from faceedit.stage.tuning import EyesTuning


def opening(eye: np.ndarray) -> float:
    """How open an eye is (its 6 68-point contour points): the lids' distance (the middle pairs' mean) over its
    corners' distance."""
    eye = np.asarray(eye, np.float64)
    gap = float(np.linalg.norm(eye[[1, 2]] - eye[[5, 4]], axis=1).mean())
    return gap / max(float(np.linalg.norm(eye[3] - eye[0])), 1e-9)


def shut(eye: np.ndarray, tuning: EyesTuning | None = None) -> bool:
    """Whether an eye (its 6 68-point contour points) is shut or cast down: its :func:`opening` under
    ``shut_aperture`` (``tuning``, :class:`faceedit.stage.tuning.EyesTuning`; default its defaults)."""
    tuning = tuning if tuning is not None else EyesTuning()
    return opening(eye) < tuning.shut_aperture


def held_shut(lm: np.ndarray, tuning: EyesTuning | None = None, photo_scale: float = 1.0) -> tuple[float, float]:
    """(1.0, 1.0) where the photo shows both eyes of the 68 points ``lm`` shut (:func:`shut`: asleep, a blink, a
    cry's squeezed lids) and wider than ``shut_hold_px`` of the photo's own pixels (``tuning``), else (0.0, 0.0): a
    target that opens eyes holds those lids as they are (:func:`faceedit.stage.moves.hold_lids`). What lies under
    them the photo never showed: redrawn, a larger shut eye's eyeball read as a ghost's pale ring (a sleeping
    newborn, Yale's sleepy faces made surprised), and the warp alone stretched its lashes. Both or neither: one
    eye read shut beside an open one is a squint or a wink, and holding it alone would leave the face lopsided."""
    tuning = tuning if tuning is not None else EyesTuning()
    lm = np.asarray(lm, np.float64)
    held = all(shut(lm[a:a + 6], tuning) and float(np.linalg.norm(lm[a + 3] - lm[a])) * photo_scale
               > tuning.shut_hold_px for a in (36, 42))
    return (1.0, 1.0) if held else (0.0, 0.0)


def eye_weight(width: float, tuning: EyesTuning | None = None, photo_scale: float = 1.0) -> float:
    """How much of :func:`open_shut_eye` an eye ``width`` px from corner to corner gets: 1 up to
    ``shut_small_px``'s first (``tuning``, :class:`faceedit.stage.tuning.EyesTuning`; default its
    defaults), 0 from its second, smooth between, read at the photo's own pixels (``width *
    photo_scale``: ``photo_scale`` the photo's own pixels per pixel edited, over 1 on a preview
    scaled down from it, :attr:`faceedit.stage.records.StageFace.photo_scale`)."""
    tuning = tuning if tuning is not None else EyesTuning()
    lo, hi = tuning.shut_small_px
    x = float(np.clip((hi - width * photo_scale) / (hi - lo), 0.0, 1.0))
    return x * x * (3.0 - 2.0 * x)


class _Frame:
    """An eye's frame from its 68-point contour (6 points: outer corner, upper two, inner corner,
    lower two): x along the corners' line (0 at the first corner), y perpendicular, down the face;
    the lids' lines as quadratics of x through the corners and their points."""

    def __init__(self, pts: np.ndarray) -> None:
        pts = np.asarray(pts, np.float64)
        if pts[3, 0] < pts[0, 0]:  # left to right on the photo
            pts = pts[[3, 2, 1, 0, 5, 4]]
        self.origin = pts[0]
        axis = pts[3] - pts[0]
        self.width = float(np.linalg.norm(axis))
        self.u = axis / max(self.width, 1e-9)
        self.n = np.array([-self.u[1], self.u[0]])
        f = self.to_frame(pts)
        self.upper = np.polyfit(f[[0, 1, 2, 3], 0], f[[0, 1, 2, 3], 1], 2)
        self.lower = np.polyfit(f[[0, 4, 5, 3], 0], f[[0, 4, 5, 3], 1], 2)

    def to_frame(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, np.float64) - self.origin
        return np.stack([p @ self.u, p @ self.n], -1)

    def to_photo(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.origin + np.asarray(x)[..., None] * self.u + np.asarray(y)[..., None] * self.n

    def up(self, x: np.ndarray) -> np.ndarray:
        return np.polyval(self.upper, x)

    def low(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(np.polyval(self.lower, x), np.polyval(self.upper, x))


def _sample(img: np.ndarray, pts: np.ndarray, unit: float | None = None) -> np.ndarray:
    """``img`` bilinearly sampled at ``pts`` (..., 2), the border reflected; with ``unit``,
    ``img`` is a photo's own pixels, read as float32 RGB over ``unit``. Only the points' box
    (a pixel round it) is read and converted where every point lies in the photo: its positions
    shifted by whole pixels in float32 (exact), the same samples as the whole photo's."""
    m = pts.astype(np.float32)
    h, w = img.shape[:2]
    flat = m.reshape(-1, 2)
    if flat.size and np.isfinite(flat).all():
        lo, hi = flat.min(0), flat.max(0)
        if lo[0] >= 0 and lo[1] >= 0 and hi[0] <= w - 1 and hi[1] <= h - 1:
            x0, y0 = max(int(lo[0]) - 1, 0), max(int(lo[1]) - 1, 0)
            x1, y1 = min(int(hi[0]) + 3, w), min(int(hi[1]) + 3, h)
            img = img[y0:y1, x0:x1]
            m = m - np.array([x0, y0], np.float32)
    if unit is not None:
        img = img[..., :3].astype(np.float32) / unit
    return cv2.remap(img, m[..., 0], m[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _lash_band(src: np.ndarray, fr: _Frame, tn: EyesTuning, unit: float | None = None
               ) -> tuple[float, float, np.ndarray, np.ndarray] | None:
    """(reach above the upper lid's line, reach below the lower's (px), the band's median colour,
    the lid skin's median colour) of the source's lash band, read on the middle half's columns;
    None where no band is darker than the skin."""
    xs = np.linspace(0.25, 0.75, 9) * fr.width
    reach = tn.shut_lash_reach * fr.width
    dy = np.arange(-reach, reach + 0.01, 0.5)
    top, bottom = fr.up(xs), fr.low(xs)
    skin_y = top[:, None] - np.linspace(0.3, 0.45, 4)[None, :] * fr.width
    skin = _sample(src, fr.to_photo(np.repeat(xs[:, None], 4, 1), skin_y).reshape(1, -1, 2), unit)
    skin = skin.reshape(-1, skin.shape[-1])
    skin_col = np.median(skin, 0)
    ref = float(luma(skin_col))
    above, below, cols = [], [], []
    for x, yt, yb in zip(xs, top, bottom):
        ys = np.concatenate([yt + dy[dy < 0], np.linspace(yt, yb, max(2, int(np.ceil(yb - yt)) * 2 + 1)), yb + dy[dy > 0]])
        c = _sample(src, fr.to_photo(np.full_like(ys, x), ys)[None], unit)
        c = c.reshape(-1, c.shape[-1])
        lc = luma(c)
        if lc.min() >= tn.shut_lash_dark * ref:
            continue
        dark = lc < 0.5 * (lc.min() + ref)  # the band at half its depth
        k = np.nonzero(dark)[0]
        above.append(max(0.0, yt - float(ys[k[0]])))
        below.append(max(0.0, float(ys[k[-1]]) - yb))
        cols.append(c[dark])
    if len(above) < 3:
        return None
    return float(np.median(above)), float(np.median(below)), np.median(np.concatenate(cols), 0), skin_col


def open_shut_eye(source: np.ndarray, warped: np.ndarray, eye_src: np.ndarray, eye_dst: np.ndarray,
                  seed: int = 0, tuning: EyesTuning | None = None, photo_scale: float = 1.0,
                  unit: float | None = None) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The redrawn eye (see the module's text) of a shut or downcast eye the warp opened:
    ``eye_src`` / ``eye_dst`` its 6 68-point contour points in ``source`` (before the warp) and in
    ``warped``; both unit float (H, W, 3), or with ``unit`` the photos' own pixels, read as
    float32 RGB over ``unit`` only where sampled (a 4K photo's small eye costs its box); its values the ``shut_*`` of ``tuning``
    (:class:`faceedit.stage.tuning.EyesTuning`; default its defaults). Returns (box (x0, y0, x1,
    y1), the box's new pixels) or None where the eye is not small (:func:`eye_weight` at
    ``photo_scale``), did not
    open or shows no lash band."""
    tn = tuning if tuning is not None else EyesTuning()
    fs, fd = _Frame(eye_src), _Frame(eye_dst)
    w = eye_weight(fs.width, tn, photo_scale)
    if w <= 0.0 or fd.width < 4:
        return None
    band = _lash_band(source, fs, tn, unit)
    if band is None:
        return None
    above, below, lash_col, skin_col = band
    pad = int(np.ceil(0.4 * fd.width)) + 2
    pts = np.asarray(eye_dst, np.float64)
    x0, y0 = np.floor(pts.min(0)).astype(int) - pad
    x1, y1 = np.ceil(pts.max(0)).astype(int) + pad
    x0, y0 = max(int(x0), 0), max(int(y0), 0)
    x1, y1 = min(int(x1), warped.shape[1]), min(int(y1), warped.shape[0])
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    yy, xx = np.mgrid[y0:y1, x0:x1]
    f = fd.to_frame(np.stack([xx, yy], -1).astype(np.float64))
    x, y = f[..., 0], f[..., 1]
    t = x / fd.width
    yu, yl = fd.up(x), fd.low(x)
    # the upper lid's lash band, translated with the lid: the source at the same offset from its line
    xs = t * fs.width
    ys_up = fs.up(xs) + (y - yu)
    lid = _sample(source, fs.to_photo(xs, ys_up), unit)
    thick = (fs.low(xs) - fs.up(xs)) + below  # the band below the upper line in the source
    # the eyeball below it: the white in the lid skin's light, part-way to grey, in the lid's shadow
    s_l = float(luma(skin_col))
    white = s_l + tn.shut_white_chroma * (skin_col - s_l)
    white = white * (tn.shut_white_over_skin * s_l / max(float(luma(white)), 1e-6))
    depth = np.maximum(y - yu, 0.0)
    shade = 1.0 - tn.shut_lid_shadow[0] * np.exp(-depth / (tn.shut_lid_shadow[1] * fd.width))
    ball = white[None, None, :] * shade[..., None]
    r = tn.shut_iris_radius * fd.width
    yc = float(fd.up(np.array(0.5 * fd.width))) + max(0.75 * r, thick.mean() if thick.size else 0.0)
    yc = min(yc, float(fd.low(np.array(0.5 * fd.width))) - 0.6 * r)
    rho = np.hypot(x - 0.5 * fd.width, y - yc)
    l_iris = float(np.clip(luma(lash_col), tn.shut_iris_luma[0] * s_l, tn.shut_iris_luma[1] * s_l))
    iris = lash_col * (l_iris / max(float(luma(lash_col)), 1e-6))
    iris_px = iris[None, None, :] * (1.0 - (1.0 - tn.shut_pupil[1]) * np.clip(tn.shut_pupil[0] * r + 0.5 - rho, 0.0, 1.0))[..., None]
    a_iris = np.clip(r + 0.5 - rho, 0.0, 1.0)[..., None]
    ball = ball * (1 - a_iris) + iris_px * shade[..., None] * a_iris
    # the lower lid's margin a shade darker
    ball = ball * (1.0 - tn.shut_lower_margin[1] * np.clip(1.0 - (yl - y) / tn.shut_lower_margin[0], 0.0, 1.0))[..., None]
    # under the lower lid's line its skin, the source's from under the band (the warp stretched
    # the band's lower part down there too)
    low = _sample(source, fs.to_photo(xs, fs.low(xs) + below + 0.5 + (y - yl)), unit)
    # lash band (from ``above`` over the line to ``thick`` under it), the eyeball, the lower lid
    in_lash = np.clip(thick + 0.5 - (y - yu), 0.0, 1.0)[..., None]
    in_low = np.clip(y - yl + 0.5, 0.0, 1.0)[..., None]
    new = (lid * in_lash + ball * (1 - in_lash)) * (1 - in_low) + low * in_low
    # between the band's reach above the lids and below them, the corners and a pixel beyond
    inside = (np.clip(y - (yu - above) + 0.5, 0, 1) * np.clip(yl + below + 1.0 - y, 0, 1)
              * np.clip(x + 1.5, 0, 1) * np.clip(fd.width - x + 1.5, 0, 1)).astype(np.float32)
    # a small photo's softness and the grain of the eye's box
    new = cv2.GaussianBlur(new.astype(np.float32), (0, 0), tn.shut_soften)
    cur = warped[y0:y1, x0:x1, :3].astype(np.float32)
    if unit is not None:
        cur = cur / unit
    hp = luma(cur) - luma(cv2.GaussianBlur(cur, (0, 0), 1.0))
    grain = 1.4826 * float(np.median(np.abs(hp)))  # robust: the lids' and lashes' edges are not grain
    rng = np.random.default_rng([abs(int(seed)), x0, y0])
    new = new + (grain * rng.standard_normal(new.shape[:2]))[..., None].astype(np.float32)
    a = (w * cv2.GaussianBlur(inside, (0, 0), 0.5))[..., None]
    return (x0, y0, x1, y1), np.clip(cur * (1 - a) + new * a, 0.0, 1.0)
