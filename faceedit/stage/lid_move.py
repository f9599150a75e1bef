"""An eye opened wide (surprise, fear): its upper lid's margin moved as a line, not stretched.

A narrow opening (a small face's eye, 13-20 px from corner to corner; a laughing or squinting
portrait's) is mostly the upper lid's margin: the lash line and its shadow, with the iris under
it. A warp that opens it about twice as wide stretches everything below the upper lid's line
with the opening: the dark margin comes out twice as thick, a dark band merged with the iris
under the lid's crease, the eye reading as two dark lines over a smear (at 1350 px, London 013
smiling made surprised: long lashes stretched down into a dark smudge round the iris). A real
widened eye shows one crisp lid margin at the lid's new place and the eyeball below it.
:func:`move_lid_margin` redraws, over the edited eye:

1. the source's upper margin (each column's dark run round the upper lid's line, at half its
   depth below the lid skin above it; at most ``moved_lid_band`` of the source's opening below the
   line) carried with the upper lid at its own thickness: read from the source at the same offset
   from the upper lid's line;
2. below it the eyeball, in the upper lid's shadow (``shut_lid_shadow``): where the iris was kept
   at its size (:func:`faceedit.stage.eyes.keep_irises`), only where the warp's map shows the
   source's margin stretched, in the white of the edited opening's lighter quarter beyond the
   margin and the iris, the iris's disc left as drawn; where the iris was found but too little of
   it shows to keep (most eyes 13-20 px wide), all of the opening below the margin: the iris at
   its size about its moved centre (the source's where the source shows it, else its rings'
   colours where they were read, its pupil and dark limbus with them, else its median) in the
   source's white (the lighter quarter of its opening beyond the margin and the iris);
3. the drawing blended in over soft edges (a small face's photo is no sharper).

Small eyes (:func:`faceedit.stage.eye_open.eye_weight`: whole up to ``shut_small_px``'s first
width, none from its second) and nearly shut ones of any size (:func:`narrow_weight`,
``moved_lid_narrow``) opened by more than ``moved_lid_opens``' first factor change (wholly from its
second); a portrait's eye whose white shows is left as drawn. The values are fields of
:class:`~faceedit.stage.tuning.EyesTuning`.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from faceedit.pixels import luma
from faceedit.stage.eye_open import _Frame, _sample, eye_weight
from faceedit.stage.lit_white import lit_white
from faceedit.stage.tuning import EyesTuning


def open_weight(grow: float, tuning: EyesTuning | None = None) -> float:
    """How much of :func:`move_lid_margin` an eye opened by ``grow`` (the lids' distance over the
    source's) gets: 0 up to ``moved_lid_opens``' first factor, 1 from its second, smooth between."""
    tuning = tuning if tuning is not None else EyesTuning()
    lo, hi = tuning.moved_lid_opens
    x = float(np.clip((grow - lo) / max(hi - lo, 1e-6), 0.0, 1.0))
    return x * x * (3.0 - 2.0 * x)


def narrow_weight(aperture: float, tuning: EyesTuning | None = None) -> float:
    """How much of :func:`move_lid_margin` an eye of any size gets for its narrowness: its lids'
    distance at the middle over its corners' (``aperture``) 1 up to ``moved_lid_narrow``'s first,
    0 from its second, smooth between. Under it the eye's white hardly shows (London's smiles at
    1350 px: the whites over the cheek under the eye a median 0.94 of open eyes', 0.3-0.8 on
    nearly shut ones), the opening is its lid margin and lashes; above it the iris kept in its
    white is left as drawn (the margin's moved band, painted in one colour, stood as a flat patch
    in a white that shows)."""
    tuning = tuning if tuning is not None else EyesTuning()
    lo, hi = tuning.moved_lid_narrow
    x = float(np.clip((hi - aperture) / max(hi - lo, 1e-6), 0.0, 1.0))
    return x * x * (3.0 - 2.0 * x)


def shut_in(eye: np.ndarray, tuning: EyesTuning | None = None) -> float:
    """:func:`narrow_weight` of an eye by its 6 68-point contour points (the lids' distance at the
    middle of its frame over its corners')."""
    fr = _Frame(eye)
    return narrow_weight(_opening(fr) / max(fr.width, 1e-6), tuning)


def _opening(fr: _Frame) -> float:
    """The lids' distance (px) at the middle of an eye's frame."""
    return float(fr.low(np.array(0.5 * fr.width)) - fr.up(np.array(0.5 * fr.width)))


def margin_band(src: np.ndarray, fr: _Frame, tn: EyesTuning, unit: float | None = None
                ) -> tuple[float, float] | None:
    """(reach above the upper lid's line, thickness below it (px)) of the source's upper margin,
    the medians over the middle half's columns: the dark run through the line where it is darker
    than half-way from its darkest to the lid skin's luma (read ``0.3``-``0.45`` eye widths above
    the line), below the line at most ``moved_lid_band`` of the opening there; None where no
    column's margin is darker than ``shut_lash_dark`` of the skin."""
    xs = np.linspace(0.25, 0.75, 9) * fr.width
    top, bottom = fr.up(xs), fr.low(xs)
    skin_y = top[:, None] - np.linspace(0.3, 0.45, 4)[None, :] * fr.width
    skin = _sample(src, fr.to_photo(np.repeat(xs[:, None], 4, 1), skin_y).reshape(1, -1, 2), unit)
    ref = float(np.median(luma(skin.reshape(-1, skin.shape[-1]))))
    reach = tn.shut_lash_reach * fr.width
    above, below = [], []
    for x, yt, yb in zip(xs, top, bottom):
        cap = tn.moved_lid_band * max(yb - yt, 0.0)
        dy = np.arange(-reach, cap + 0.01, 0.25)
        c = _sample(src, fr.to_photo(np.full_like(dy, x), yt + dy)[None], unit)
        lc = luma(c.reshape(-1, c.shape[-1]))
        if lc.min() >= tn.shut_lash_dark * ref:
            continue
        dark = lc < 0.5 * (lc.min() + ref)
        i0 = int(np.argmin(np.abs(dy)))  # the line; the run through it (or its nearest dark)
        k = np.nonzero(dark)[0]
        i = int(k[np.argmin(np.abs(k - i0))])
        a = i
        while a > 0 and dark[a - 1]:
            a -= 1
        b = max(i, i0)
        while b < len(dy) - 1 and dark[b + 1]:
            b += 1
        above.append(max(0.0, -float(dy[a])))
        below.append(max(0.0, float(dy[b])))
    if len(above) < 3:
        return None
    return float(np.median(above)), float(np.median(below))


def move_lid_margin(source: np.ndarray, edited: np.ndarray, eye_src: np.ndarray, eye_dst: np.ndarray,
                    source_points: Callable[[tuple[int, int, int, int]], np.ndarray],
                    iris: tuple[np.ndarray, np.ndarray, float, bool] | None = None, tuning: EyesTuning | None = None,
                    photo_scale: float = 1.0, unit: float | None = None, rings: np.ndarray | None = None
                    ) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The eye's box with its upper margin moved as a line (see the module's text): ``eye_src`` /
    ``eye_dst`` its 6 68-point contour points in ``source`` (before the warp) and in ``edited``
    (after the warp and the iris kept); ``source_points(box)``: the warp's map, (h, w, 2) source
    coordinates of a box's pixels; ``iris``: the kept iris's (centre, radius) in ``edited``, left
    as drawn, or None; ``rings``: that iris's colours centre to rim
    (:func:`~faceedit.stage.iris_rings.radial_profile`), where read. Both photos unit float (H, W,
    3), or with ``unit`` their own pixels read as float32 RGB over ``unit`` where sampled;
    ``photo_scale``: the photo's own pixels per pixel here (an eye's size,
    :func:`~faceedit.stage.eye_open.eye_weight`). Returns (box (x0, y0, x1, y1), its new pixels as
    unit floats) or None where the eye is neither small nor nearly shut
    (:func:`narrow_weight`), did not open by ``moved_lid_opens``' first factor (``tuning``,
    :class:`faceedit.stage.tuning.EyesTuning`; default its defaults) or shows no dark margin."""
    tn = tuning if tuning is not None else EyesTuning()
    fs, fd = _Frame(eye_src), _Frame(eye_dst)
    ap_s, ap_d = _opening(fs), _opening(fd)
    narrow = narrow_weight(ap_s / max(fs.width, 1e-6), tn)
    w = max(eye_weight(fs.width, tn, photo_scale), narrow) * open_weight(ap_d / max(ap_s, 1e-6), tn)
    if w <= 0.0 or fd.width < 4 or ap_s <= 0.0:
        return None
    band = margin_band(source, fs, tn, unit)
    if band is None:
        return None
    above, thick = band
    pad = int(np.ceil(0.4 * fd.width)) + 2
    pts = np.asarray(eye_dst, np.float64)
    x0, y0 = np.floor(pts.min(0)).astype(int) - pad
    x1, y1 = np.ceil(pts.max(0)).astype(int) + pad
    x0, y0 = max(int(x0), 0), max(int(y0), 0)
    x1, y1 = min(int(x1), edited.shape[1]), min(int(y1), edited.shape[0])
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    yy, xx = np.mgrid[y0:y1, x0:x1]
    f = fd.to_frame(np.stack([xx, yy], -1).astype(np.float64))
    x, y = f[..., 0], f[..., 1]
    yu, yl = fd.up(x), fd.low(x)
    depth = y - yu
    xs = x / fd.width * fs.width
    # the margin translated with the lid: the source at the same offset from its line
    at_lid = fs.to_photo(xs, fs.up(xs) + depth)
    lid = _sample(source, at_lid, unit)
    # where the warp shows the source's margin stretched below the moved one: the eyeball
    q = fs.to_frame(source_points((x0, y0, x1, y1)).astype(np.float64))
    s_q = q[..., 1] - fs.up(q[..., 0])
    cur = edited[y0:y1, x0:x1, :3].astype(np.float32)
    if unit is not None:
        cur = cur / unit
    inside = (depth > thick) & (y < yl) & (x > 0) & (x < fd.width)
    disc = np.zeros_like(depth)
    redraw = iris is not None and not iris[3]  # the iris found but left as warped: the eyeball redrawn
    if iris is not None:
        c_s, c_d, r, _ = iris
        disc = np.clip(r + 0.5 - np.hypot(xx - c_d[0], yy - c_d[1]), 0.0, 1.0)
    white = _white(source, fs, thick, iris, unit) if redraw and iris is not None else None
    if white is None:
        # the lighter part of the edited opening below the stretched margin, off the iris
        seen = inside & (s_q > thick + 0.5) & (disc < 0.5)
        if seen.sum() < 4:
            seen = inside & (disc < 0.5)
        if seen.sum() < 4:
            return None
        px = cur[seen]
        lp = luma(px)
        white = np.median(px[lp >= np.percentile(lp, 75)], 0).astype(np.float32)
    # a nearly shut eye whose iris was found: all of its opening below the margin one eyeball, in a
    # white the photo does not show (its own "white" is the lids' shadow)
    lit = narrow if iris is not None else 0.0
    shade = 1.0 - tn.shut_lid_shadow[0] * np.exp(-np.maximum(depth - thick, 0.0) / (tn.shut_lid_shadow[1] * fd.width))
    if lit > 0.0:
        white = white + lit * (lit_white(source, eye_src, fs.width, white, tn, unit) - white)
        shade = shade * (1.0 - lit * tn.narrow_white_corners * np.clip(np.abs(2.0 * x / fd.width - 1.0), 0.0, 1.0) ** 3)
    ball = white[None, None, :] * shade[..., None].astype(np.float32)
    if lit > 0.0:  # with a white's grain (drawn smooth it reads as paint)
        g = cv2.GaussianBlur(np.random.default_rng(7).standard_normal(ball.shape[:2]).astype(np.float32), (0, 0), 0.8)
        ball = ball * (1.0 + lit * tn.narrow_white_grain * g / max(float(g.std()), 1e-6))[..., None]
    # the stretched margin (its source within the margin below the line) under the moved one; where
    # the iris was left as warped, all of the opening below the margin
    below = np.clip(depth - thick + 0.5, 0.0, 1.0) * np.clip(yl - y + 0.5, 0.0, 1.0)
    stretched = below if redraw else np.clip(thick + 0.5 - s_q, 0.0, 1.0) * below
    stretched = stretched + lit * (below - stretched)
    in_lid = np.clip(depth + above + 1.0, 0.0, 1.0) * np.clip(thick + 0.5 - depth, 0.0, 1.0)
    if iris is not None and iris[3]:
        # not the source's iris where the margin read runs into it (a laughing eye's lid lies on its
        # iris: translated with the lid, the iris's top and its catchlights drew a dark arc with
        # doubled glints over the kept iris): there the margin is what lies above the iris
        c_s, _, r, _ = iris
        in_lid = in_lid * (1.0 - np.clip(r + 0.5 - np.hypot(at_lid[..., 0] - c_s[0], at_lid[..., 1] - c_s[1]),
                                         0.0, 1.0))
    across = np.clip(x + 1.0, 0.0, 1.0) * np.clip(fd.width - x + 1.0, 0.0, 1.0)
    a_lid = cv2.GaussianBlur((in_lid * across).astype(np.float32), (0, 0), 0.5)[..., None]
    a_ball = cv2.GaussianBlur((stretched * (1.0 - disc) * across).astype(np.float32), (0, 0), 0.5)[..., None]
    new = cur * (1 - a_ball) + ball * a_ball
    if redraw:
        assert iris is not None
        a_iris = cv2.GaussianBlur((stretched * disc * across).astype(np.float32), (0, 0), 0.5)[..., None]
        new = new * (1 - a_iris) + _iris(source, fs, thick, iris, xx, yy, unit, rings) * shade[..., None] * a_iris
    new = new * (1 - a_lid) + lid.astype(np.float32) * a_lid
    return (x0, y0, x1, y1), np.clip(cur * (1 - w) + new * w, 0.0, 1.0)


def _white(source: np.ndarray, fs: _Frame, thick: float, iris: tuple, unit: float | None) -> np.ndarray | None:
    """The source eye's white: the median of the lightest quarter of its opening below the margin
    (``thick`` px below the upper lid's line) and beyond 1.1 iris radii of the iris's centre; None
    under 4 such pixels."""
    c_s, _, r, _ = iris
    xs = np.arange(0.1, 0.9, 0.02) * fs.width
    fr = np.linspace(0.0, 1.0, 9)
    ys = fs.up(xs)[:, None] + thick + fr[None, :] * np.maximum(fs.low(xs) - fs.up(xs) - thick, 0.0)[:, None]
    pts = fs.to_photo(np.repeat(xs[:, None], len(fr), 1), ys)
    keep = (np.hypot(pts[..., 0] - c_s[0], pts[..., 1] - c_s[1]) > 1.1 * r) & (ys < fs.low(xs)[:, None])
    if keep.sum() < 4:
        return None
    px = _sample(source, pts[keep][None], unit).reshape(-1, 3)
    lp = luma(px)
    return np.median(px[lp >= np.percentile(lp, 75)], 0).astype(np.float32)


def _iris(source: np.ndarray, fs: _Frame, thick: float, iris: tuple, xx: np.ndarray, yy: np.ndarray,
          unit: float | None, rings: np.ndarray | None = None) -> np.ndarray:
    """The iris at its own size about its moved centre: the source's at the same offset from its
    centre where the source shows it there (in its opening, below the margin), elsewhere its ring's
    colour at that distance from the centre (``rings``, centre to rim) or, without them, the median
    of what the source shows of it. A squinting eye shows a strip of its iris: filled with that
    strip's median, a light iris opened wide was a pale disc crossed by the strip of its pupil
    (a web portrait's squint made surprised); its rings draw the pupil and the dark limbus round."""
    c_s, c_d, r, _ = iris
    at = np.stack([xx - c_d[0] + c_s[0], yy - c_d[1] + c_s[1]], -1).astype(np.float64)
    got = _sample(source, at, unit).astype(np.float32)
    f = fs.to_frame(at)
    shown = (f[..., 1] > fs.up(f[..., 0]) + thick) & (f[..., 1] < fs.low(f[..., 0])) \
        & (np.hypot(at[..., 0] - c_s[0], at[..., 1] - c_s[1]) <= r)
    if rings is not None:
        rho = np.clip(np.hypot(xx - c_d[0], yy - c_d[1]) / max(r, 1e-6), 0.0, 1.0) * (len(rings) - 1)
        fill = np.stack([np.interp(rho, np.arange(len(rings)), rings[:, i]) for i in range(rings.shape[1])], -1)
    elif shown.any():
        fill = np.broadcast_to(np.median(got[shown], 0), got.shape)
    else:
        return got
    return np.where(shown[..., None], got, fill).astype(np.float32)
