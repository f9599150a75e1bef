"""A photo's mouth: the Face Mesh's lip curves, and what shows between the lips.

The inner-lip curves (:data:`MESH_INNER_UPPER`, :data:`MESH_INNER_LOWER`) and their helpers;
the interior a mouth shows (its teeth), found from colour around the mesh's inner-lip loop in
the mouth levelled to :data:`LEVEL_WIDTH` px between its corners (:func:`find_interior`,
:func:`refine_interior`); where its upper teeth end (:func:`faceedit.stage.side_teeth.upper_teeth_share`); what a closed
mouth's loop carries into a new opening that is lip or pieces of the crease between the lips
(:func:`lip_in_interior`, :func:`crease_fragments`); the interior a mouth that closes must lose
(:func:`widen_interior`); lips the mesh reads apart that meet in the photo (:func:`lips_sealed`). How far each looks and when a thing counts as found is
:class:`~faceedit.stage.tuning_lips.LipsTuning` (the stage's ``tuning.lips``; the defaults when
none is given). Read by the stage (:mod:`faceedit.stage.model`), the mouth bank's
filler (:mod:`faceedit.stage.mouth_bank`, which cuts and fills at the same levelled scale) and its
builder (:mod:`faceedit.train.mouths`).
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.faces.align import apply_affine
from faceedit.pixels import pixel_max
from faceedit.stage.cut_curves import opening_polygon, resample_by_length
from faceedit.stage.lip_line import dark_runs, past_dark_line
from faceedit.stage.paint import looks_grey
from faceedit.stage.tuning_lips import LipsTuning

#: The corner distance (px) a mouth is levelled to where its interior is found from colour; the
#: bank's exemplars are cut at this scale too.
LEVEL_WIDTH = 256
#: Samples per inner-lip curve (corner to corner, by arc length): the curves found here and the
#: bank's.
CURVE_POINTS = 33
#: MediaPipe Face Mesh inner-lip loop, left image corner first: upper and lower curves.
MESH_INNER_UPPER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
MESH_INNER_LOWER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]
#: Outer lip loop of the mesh, same order.
MESH_OUTER_UPPER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
MESH_OUTER_LOWER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]


def join_corners(upper: np.ndarray, lower: np.ndarray, n: int = CURVE_POINTS):
    """Both curves resampled to ``n`` points with shared corners (the mean of the two ends)."""
    up, lo = resample_by_length(upper, n), resample_by_length(lower, n)
    for i in (0, -1):
        c = (up[i] + lo[i]) / 2
        up[i] = lo[i] = c
    return up, lo


def opening_aspect(upper: np.ndarray, lower: np.ndarray) -> tuple[float, float]:
    """(aspect, width): the polygon's mean height over its corner distance, and that distance."""
    up, lo = join_corners(upper, lower)
    w = float(np.linalg.norm(up[-1] - up[0]))
    area = abs(float(cv2.contourArea(opening_polygon(up, lo).astype(np.float32))))
    return area / max(w * w, 1e-9), w


def box_around(poly: np.ndarray, margin: float, shape) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the points' bounding box grown by ``margin`` px, within an image of
    ``shape``."""
    x0, y0 = np.floor(poly.min(0) - margin).astype(int)
    x1, y1 = np.ceil(poly.max(0) + margin).astype(int) + 1
    return max(x0, 0), max(y0, 0), min(x1, shape[1]), min(y1, shape[0])


def grey_round(pixels: np.ndarray, pts: np.ndarray) -> bool:
    """Whether ``pixels`` are grey (:func:`~faceedit.stage.paint.looks_grey`; one channel: yes) round the
    points ``pts`` ((N, 2), a mouth's), their box grown by its width: a grey photo read near the mouth, not
    swept whole, and not from a box that holds teeth alone (a colour photo's teeth have no colour)."""
    pts = np.asarray(pts, np.float64)
    x0, y0, x1, y1 = box_around(pts, float(np.ptp(pts[:, 0])), pixels.shape)
    return pixels.ndim == 2 or looks_grey(pixels[y0:y1, x0:x1, :3])


def sample_points(img: np.ndarray, x: np.ndarray, y: np.ndarray, interp: int = cv2.INTER_LINEAR,
                  border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """``img`` sampled at the points (x, y): (n,) or (n, C). The points are laid out as rows of
    1024 (OpenCV's remap takes maps below 32767 px a side)."""
    n = len(x)
    rows = max(1, -(-n // 1024))
    mx = np.zeros(rows * 1024, np.float32)
    my = np.zeros(rows * 1024, np.float32)
    mx[:n], my[:n] = x, y
    out = cv2.remap(img, mx.reshape(rows, 1024), my.reshape(rows, 1024), interp, borderMode=border)
    return out.reshape(rows * 1024, *img.shape[2:])[:n]


def mesh_lip_curves(dense: np.ndarray):
    """(inner upper, inner lower, outer upper, outer lower) lip curves of Face Mesh points
    ``dense`` ((468, 2|3)), left image corner first."""
    d = np.asarray(dense, np.float64)[:, :2]
    return d[MESH_INNER_UPPER], d[MESH_INNER_LOWER], d[MESH_OUTER_UPPER], d[MESH_OUTER_LOWER]


def level_transform(up: np.ndarray, lo: np.ndarray, x_off: float, y_off: float) -> np.ndarray:
    """(2,3) similarity putting the mouth's corners (the ends of the inner-lip curves ``up`` and
    ``lo``) at (x_off, y_off) and (x_off + LEVEL_WIDTH, y_off)."""
    c0, c1 = (up[0] + lo[0]) / 2, (up[-1] + lo[-1]) / 2
    d = c1 - c0
    s = LEVEL_WIDTH / np.linalg.norm(d)
    ang = np.arctan2(d[1], d[0])
    r = s * np.array([[np.cos(-ang), -np.sin(-ang)], [np.sin(-ang), np.cos(-ang)]])
    return np.hstack([r, (np.array([x_off, y_off]) - r @ c0)[:, None]])


def levelled(m: np.ndarray, *curves: np.ndarray) -> list[np.ndarray]:
    """Each curve resampled to :data:`CURVE_POINTS` by arc length and moved by the (2,3)
    transform ``m`` (e.g. :func:`level_transform`'s)."""
    return [apply_affine(m, resample_by_length(c, CURVE_POINTS)) for c in curves]


def fill_polygon(shape, poly: np.ndarray) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(poly * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    return m


def _running(x: np.ndarray, half: int, reduce) -> np.ndarray:
    """``reduce`` (np.min or np.max) over a window of ``2 * half + 1`` samples, ends repeated."""
    pad = np.pad(np.asarray(x, np.float64), half, mode="edge")
    return np.asarray(reduce(np.lib.stride_tricks.sliding_window_view(pad, 2 * half + 1), axis=1), np.float64)


def lab_near(crop: np.ndarray, *polys: np.ndarray, margin: int = 9, below: int = 0) -> np.ndarray:
    """CIE L*a*b* (OpenCV's 0..255 scaling, float32) of RGB uint8 ``crop`` over the rows and
    columns within ``margin`` px of the polygons ``polys`` (``below`` rows more underneath);
    zero elsewhere. The conversion is per pixel, so those pixels are what converting the whole
    crop gives, for a fraction of its cost."""
    h, w = crop.shape[:2]
    pts = np.vstack(polys)
    x0, y0 = (max(int(np.floor(v)) - margin, 0) for v in pts.min(0))
    x1, y1 = pts.max(0)
    x1, y1 = min(int(np.ceil(x1)) + margin + 1, w), min(int(np.ceil(y1)) + margin + below + 1, h)
    lab = np.zeros((h, w, 3), np.float32)
    if x1 > x0 and y1 > y0:
        lab[y0:y1, x0:x1] = cv2.cvtColor(np.ascontiguousarray(crop[y0:y1, x0:x1]), cv2.COLOR_RGB2LAB)
    return lab


#: How far (px) :func:`refine_interior`'s masks reach beyond the lips' curves: the inner polygon
#: grown by 8 px, closed by 3 more, with a margin.
REACH_X = 24


def refine_interior(crop: np.ndarray, up: np.ndarray, lo: np.ndarray, oup: np.ndarray, olo: np.ndarray,
                    lab: np.ndarray | None = None):
    """(upper, lower) curves of the interior found by colour in a levelled crop (``crop``: RGB uint8,
    the mouth at :data:`LEVEL_WIDTH` px between its corners; ``up``/``lo``/``oup``/``olo``: the mesh's
    inner and outer lip curves in it): inside the inner polygon grown by 8 px, the pixels less red
    than midway between the lips and the polygon's core or darker than 0.45 of the lips, connected to
    the core; per column their top and bottom, kept within a band of the mesh's curves, the top moved
    down onto bright teeth below a pale lip, the top taken as an envelope (the gum between the teeth's
    tips is interior) and smoothed. None when no interior distinct from the lips is found."""
    if lab is None:
        lab = interior_lab(crop, up, lo, oup, olo)
    # The columns the search can reach: the lips' span, with room for the masks' growing and
    # closing. Cut there, every mask is what it is in the whole crop (shifting x by whole
    # pixels is exact; rows are not cut, so no y value is rounded differently).
    span = np.vstack([up, lo, oup, olo])[:, 0]
    x_off = max(int(np.floor(span.min())) - REACH_X, 0)
    x_end = min(int(np.ceil(span.max())) + REACH_X + 1, crop.shape[1])
    shift = np.array([x_off, 0.0])
    up, lo, oup, olo = (np.asarray(c, np.float64) - shift for c in (up, lo, oup, olo))
    lab = lab[:, x_off:x_end]
    h, w = lab.shape[:2]
    poly = opening_polygon(up, lo)
    inner = fill_polygon((h, w), poly)
    lips = fill_polygon((h, w), opening_polygon(oup, olo)) & (1 - cv2.dilate(inner, np.ones((5, 5), np.uint8)))
    core = cv2.erode(inner, np.ones((5, 5), np.uint8))
    if core.sum() < 50 or lips.sum() < 50:
        return None
    lip_a, lip_l = np.median(lab[..., 1][lips > 0]), np.median(lab[..., 0][lips > 0])
    core_a = np.percentile(lab[..., 1][core > 0], 25)
    if lip_a - core_a < 4:
        return None
    grow = cv2.dilate(inner, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (17, 17)))
    cand = ((lab[..., 1] < (lip_a + core_a) / 2) | (lab[..., 0] < 0.45 * lip_l)) & (grow > 0)
    cand = cv2.morphologyEx(cand.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, lab_cc = cv2.connectedComponents(cand)
    # the components with more than 2 % of the core's pixels, all counted at once
    in_core = np.bincount(lab_cc[core > 0], minlength=n) > 0.02 * core.sum()
    in_core[0] = False  # the background
    keep: np.ndarray = in_core[lab_cc].astype(cand.dtype)
    keep = cv2.morphologyEx(keep, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    cols = np.flatnonzero(keep.sum(0) > 0)
    if len(cols) < 0.6 * LEVEL_WIDTH:
        return None
    xs = np.arange(cols[0], cols[-1] + 1)
    k = keep[:, xs].astype(bool)
    ok = k.any(0)
    top: np.ndarray = np.where(ok, k.argmax(0), np.nan).astype(np.float64)
    bot: np.ndarray = np.where(ok, h - k[::-1].argmax(0), np.nan).astype(np.float64)
    top = np.interp(xs, xs[ok], top[ok])
    bot = np.interp(xs, xs[ok], bot[ok])
    # within a band of the mesh's curves (a pale lip or a highlight must not pull an edge away)
    mesh_top = np.interp(xs + 0.5, up[:, 0], up[:, 1])
    mesh_bot = np.interp(xs + 0.5, lo[:, 0], lo[:, 1])
    top = np.clip(top, mesh_top - 0.015 * LEVEL_WIDTH, mesh_top + 0.06 * LEVEL_WIDTH)
    bot = np.clip(bot, mesh_bot - 0.04 * LEVEL_WIDTH, mesh_bot + 0.06 * LEVEL_WIDTH)
    # where bright teeth lie a few px below that edge, the rows between are lip (a pale, less red
    # lip passes the colour test): the edge moves down to the teeth
    bright = lip_l + 0.5 * (np.percentile(lab[..., 0][core > 0], 75) - lip_l)
    reach = int(0.04 * LEVEL_WIDTH)
    t0 = np.round(top).astype(int)
    rows = t0[None, :] + np.arange(reach)[:, None]  # (reach, columns) below each edge
    inside = rows < h
    win = lab[np.minimum(rows, h - 1), xs[None, :], 0]
    over = (win > bright) & inside
    first = over.argmax(0)
    lip_above = np.cumprod((win > 0.6 * lip_l) & inside, axis=0).astype(bool)  # lip, not a dark gap
    move = over.any(0) & (first > 0) & lip_above[np.maximum(first - 1, 0), np.arange(len(xs))]
    top = np.where(move, t0 + first, top).astype(np.float64)
    # the envelope: the pink gum between the tips of the upper teeth belongs to the interior
    top = _running(top, 9, np.min)
    bot = _running(bot, 5, np.max)
    top = cv2.GaussianBlur(top.reshape(1, -1), (0, 0), 4).ravel()
    bot = cv2.GaussianBlur(bot.reshape(1, -1), (0, 0), 3).ravel()
    mid0, mid1 = (top[0] + bot[0]) / 2, (top[-1] + bot[-1]) / 2
    top[0] = bot[0] = mid0
    top[-1] = bot[-1] = mid1
    x = (xs + x_off).astype(np.float64) + 0.5
    return resample_by_length(np.c_[x, top], CURVE_POINTS), resample_by_length(np.c_[x, bot], CURVE_POINTS)


def interior_lab(crop: np.ndarray, up: np.ndarray, lo: np.ndarray, oup: np.ndarray, olo: np.ndarray
                 ) -> np.ndarray:
    """The L*a*b* :func:`refine_interior` reads (:func:`lab_near`): every pixel it looks at, those
    within the 17-px ellipse around the inner polygon, in the outer one, and the teeth's rows
    below an edge found there."""
    return lab_near(crop, opening_polygon(up, lo), opening_polygon(oup, olo), margin=10,
                    below=int(0.04 * LEVEL_WIDTH) + 1)


def level_mouth(rgb: np.ndarray, up: np.ndarray, lo: np.ndarray, rows: int = 328) -> tuple[np.ndarray, np.ndarray]:
    """(the mouth levelled to :data:`LEVEL_WIDTH` px between its corners as uint8 RGB, the
    transform that did it); its first ``rows`` rows drawn (as drawing all), the others black."""
    m = level_transform(up, lo, LEVEL_WIDTH // 2, 128)
    level = np.zeros((128 + 200, 2 * LEVEL_WIDTH, 3), np.uint8)
    top = cv2.warpAffine(np.ascontiguousarray(rgb[..., :3] if rgb.ndim == 3 else np.dstack([rgb] * 3)), m,
                         (level.shape[1], min(max(rows, 1), len(level))), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    level[:len(top)] = top if top.dtype == np.uint8 else \
        (top.astype(np.float32) * (255.0 / pixel_max(top.dtype)) + 0.5).astype(np.uint8)
    return level, m


def redness(rgb: np.ndarray) -> np.ndarray:
    """CIE a* (0..255 as OpenCV scales it) of RGB pixels of any dtype."""
    if rgb.dtype != np.uint8:
        rgb = (rgb.astype(np.float32) * (255.0 / pixel_max(rgb.dtype)) + 0.5).astype(np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB)[..., 1].astype(np.float32)


def _lip_window(rgb: np.ndarray, dense: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """A window of the photo round the Face Mesh's lips (``dense``: (468, 2|3) mesh points) in
    OpenCV's 8-bit Lab (float32), with the pixels inside its inner-lip loop and the lips' own
    (between the loops, a pixel clear of the inside); None for a mouth too small to tell."""
    up, lo, oup, olo = mesh_lip_curves(dense)
    if float(np.linalg.norm(up[-1] - up[0])) < 8:
        return None
    up, lo, oup, olo = (resample_by_length(c, CURVE_POINTS) for c in (up, lo, oup, olo))
    outer = opening_polygon(oup, olo)
    x0, y0, x1, y1 = box_around(outer, 2, rgb.shape)
    if x1 <= x0 or y1 <= y0:
        return None
    off = np.array([x0, y0], np.float64)
    patch = rgb[y0:y1, x0:x1]
    patch = patch[..., None].repeat(3, -1) if patch.ndim == 2 else patch[..., :3]
    if patch.dtype != np.uint8:
        patch = (patch.astype(np.float32) * (255.0 / pixel_max(patch.dtype)) + 0.5).astype(np.uint8)
    lab = cv2.cvtColor(np.ascontiguousarray(patch), cv2.COLOR_RGB2LAB).astype(np.float32)
    inside = fill_polygon(lab.shape[:2], opening_polygon(up, lo) - off) > 0
    lips = fill_polygon(lab.shape[:2], outer - off) > 0
    lips &= ~(cv2.dilate(inside.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    return lab, inside, lips


def lip_redness(rgb: np.ndarray, dense: np.ndarray) -> float | None:
    """The median redness (CIE a*) of the lips between the Face Mesh's inner and outer lip loops
    (``dense``: (468, 2|3) mesh points), read in a window of the photo around them; None for a
    mouth too small to tell."""
    window = _lip_window(rgb, dense)
    if window is None:
        return None
    lab, _, lips = window
    return float(np.median(lab[..., 1][lips])) if lips.sum() >= 20 else None


def lip_in_interior(pixels: np.ndarray, roi, interior: np.ndarray, lip_a: float,
                    tuning: LipsTuning | None = None) -> np.ndarray:
    """The part (0..1 over ``roi``) of a carried ``interior`` that is lip coloured: within
    ``lip_redness`` of the lips' redness ``lip_a``. Closed lips' inner-lip loop encloses the
    crease between them and some lip; carried into a new opening that would draw a line of lip
    colour across it, so those pixels are left to the filler. A mouth the face opens itself (a
    person talking) carries its dark inside."""
    tuning = tuning or LipsTuning()
    x0, y0, x1, y1 = (int(v) for v in roi)
    out = np.zeros_like(interior, dtype=np.float32)
    ys, xs = np.nonzero(interior > 0)
    if len(ys) == 0:
        return out
    by0, by1, bx0, bx1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    patch = pixels[y0 + by0:y0 + by1, x0 + bx0:x0 + bx1]
    rgb = patch[..., None].repeat(3, -1) if patch.ndim == 2 else patch[..., :3]
    lipish = (redness(rgb) >= lip_a - tuning.lip_redness).astype(np.float32)
    out[by0:by1, bx0:bx1] = cv2.blur(lipish, (3, 3)) * interior[by0:by1, bx0:bx1]
    return out


def crease_fragments(kept: np.ndarray, mouth_width: float, tuning: LipsTuning | None = None) -> np.ndarray:
    """The part (0..1) of what a closed mouth's inner-lip loop carries into a new opening
    (``kept``: its carried interior less the lip colour :func:`lip_in_interior` found) that lies
    in pieces narrower than ``crease_piece`` x ``mouth_width`` (px). The crease of closed
    lips is broken where they touch: carried, each dark piece is a blot on the filler's teeth.
    A mouth the face opened itself carries its inside as a band across the mouth, which stays."""
    tuning = tuning or LipsTuning()
    m = (kept > 0.05).astype(np.uint8)
    if not m.any():
        return np.zeros_like(kept, dtype=np.float32)
    # pieces a pixel apart are one piece
    n, lab, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(m, np.ones((3, 3), np.uint8)), connectivity=8)
    small = np.flatnonzero(stats[1:, cv2.CC_STAT_WIDTH] < tuning.crease_piece * mouth_width) + 1
    return (np.asarray(kept, np.float32) * (np.isin(lab, small) & (m > 0))).astype(np.float32)


def on_crease(rgb: np.ndarray, up: np.ndarray, lo: np.ndarray,
              tuning: LipsTuning | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Closed lips' inner-lip curves in a photo (``rgb``: RGB or grey, 8 or 16 bits) (``up``, ``lo``: the mesh's loop, left corner first) moved
    up or down onto the crease between the lips: per inner point the darkest row within
    ``crease_reach`` of the loop, darker than its own line by ``crease_contrast`` (luma averaged over 5 columns, the shifts a running median
    of 3), the corners too. The mesh's loop can lie a few pixels inside the upper lip; a
    mouth cut open there shows its teeth over the lip with the crease left under them, and the
    opening's pointed ends are black over skin."""
    tuning = tuning or LipsTuning()
    up, lo = np.asarray(up, np.float64), np.asarray(lo, np.float64)
    reach = int(round(tuning.crease_reach * float(np.linalg.norm(up[-1] - up[0]))))
    if reach < 1:
        return up, lo
    x0, y0, x1, y1 = box_around(np.vstack([up, lo]), reach + 4, rgb.shape)
    crop = np.asarray(rgb[y0:y1, x0:x1], np.float32) / pixel_max(rgb.dtype)
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    mid = (up + lo) / 2 - (x0, y0)
    offs = np.arange(-reach, reach + 1)
    x = np.repeat(mid[:, 0], len(offs))[:, None] + np.arange(-2, 3)[None]
    y = (mid[:, 1][:, None] + offs[None]).ravel()[:, None] + np.zeros((1, 5))
    prof = sample_points(grey, x.ravel(), y.ravel()).reshape(len(mid), len(offs), 5).mean(axis=2)
    k = prof.argmin(axis=1)
    shift = offs[k].astype(np.float64)
    shift[prof[np.arange(len(k)), k] > prof[:, reach] - tuning.crease_contrast] = 0.0
    shift = np.median(np.lib.stride_tricks.sliding_window_view(np.pad(shift, 1, mode="edge"), 3), axis=1)
    move = np.stack([np.zeros_like(shift), shift], axis=1)
    return up + move, lo + move


def _shows_teeth(lab: np.ndarray, inside: np.ndarray, lips: np.ndarray, tuning: LipsTuning,
                 shadowed: bool = False) -> bool:
    """Whether the interior (``inside``, of ``lab``'s pixels) shows teeth against the ``lips``:
    brighter than their median by ``min_teeth_lightness`` at ``teeth_percentile``, or, with
    ``shadowed`` (teeth in shadow), by ``shadowed_teeth[1]`` at ``shadowed_teeth[0]`` with its
    pixels as light as the lips' median less red than the lips by ``shadowed_teeth[2]``."""
    light, red = lab[..., 0][inside], lab[..., 1][inside]
    lip_l, lip_a = float(np.median(lab[..., 0][lips])), float(np.median(lab[..., 1][lips]))
    if np.percentile(light, tuning.teeth_percentile) >= lip_l + tuning.min_teeth_lightness:
        return True
    if not shadowed:
        return False
    at, lighter, less_red = tuning.shadowed_teeth
    lit = light >= lip_l
    return bool(np.percentile(light, at) >= lip_l + lighter and lit.any()
                and float(np.median(red[lit])) <= lip_a - less_red)


def find_interior(rgb: np.ndarray, dense: np.ndarray, tuning: LipsTuning | None = None,
                  shadowed: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
    """The inner-lip curves (upper, lower: (CURVE_POINTS, 2) photo coordinates, left corner first) of
    the teeth a photo shows, found from colour (:func:`refine_interior`) around the Face Mesh's
    inner-lip loop (``dense``: (468, 2|3) mesh points); None when the mouth shows no teeth
    (:func:`_shows_teeth`: no interior brighter than its lips, closed, a dark slit, or too small
    to tell; with ``shadowed``, teeth in shadow are teeth too: an edit that closes the lips over
    them, where a happy or surprised edit's cut along them showed a black opening). On a smile both the mesh's and the 68 points' lower inner lip
    lie on the lower teeth, so a mouth closed along them kept a row of teeth as its lower lip."""
    tuning = tuning or LipsTuning()
    up, lo, oup, olo = mesh_lip_curves(dense)
    if float(np.linalg.norm(up[-1] - up[0])) < 8:
        return None

    inner_up, inner_lo, outer_up, outer_lo = lv = levelled(level_transform(up, lo, LEVEL_WIDTH // 2, 128),
                                                           up, lo, oup, olo)
    level, m = level_mouth(rgb, up, lo, int(np.ceil(np.vstack(lv)[:, 1].max())) + 28)  # past the rows interior_lab reads
    lab = interior_lab(level, inner_up, inner_lo, outer_up, outer_lo)
    curves = refine_interior(level, inner_up, inner_lo, outer_up, outer_lo, lab)
    if curves is None:
        return None
    light = lab[..., 0]
    inside = fill_polygon(light.shape, opening_polygon(*curves)) > 0
    lips = (fill_polygon(light.shape, opening_polygon(outer_up, outer_lo)) > 0) & ~inside
    if inside.sum() < 20 or lips.sum() < 20 or not _shows_teeth(lab, inside, lips, tuning, shadowed):
        return None  # no teeth: closed lips, or a dark slit the mesh's own loop follows well enough
    back = cv2.invertAffineTransform(m)
    return apply_affine(back, curves[0]), apply_affine(back, curves[1])


def _lips_read(rgb: np.ndarray, dense: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`_lip_window`, None where its inside or its lips hold under 20 pixels (too few to read)."""
    window = _lip_window(rgb, dense)
    if window is None or window[1].sum() < 20 or window[2].sum() < 20:
        return None
    return window


def lips_sealed(rgb: np.ndarray, dense: np.ndarray, tuning: LipsTuning | None = None) -> bool:
    """Whether the lips between the Face Mesh's inner-lip lines (``dense``: (468, 2|3) mesh
    points) meet in the photo although the mesh reads them apart: no interior is found there
    (:func:`find_interior`) and the pixels inside its inner-lip loop are lip, by the tuning's
    ``sealed_lip_share``, ``sealed_dark_share`` and ``sealed_dark`` (as red as the lips less
    ``lip_redness``, hardly any dark of an inside, their middle no lighter than the lips: no
    teeth). Full closed lips read as open by the mesh (London 099: 0.085 eye distances) were
    otherwise closed again by a neutral edit and cut open along the loop."""
    tuning = tuning or LipsTuning()
    window = _lips_read(rgb, dense)
    if window is None:
        return False
    lab, inside, lips = window
    lip_l, lip_a = float(np.median(lab[..., 0][lips])), float(np.median(lab[..., 1][lips]))
    light, red = lab[..., 0][inside], lab[..., 1][inside]
    dark = light < tuning.sealed_dark * lip_l
    lip = (red >= lip_a - tuning.lip_redness) & ~dark
    if float(np.mean(lip)) < tuning.sealed_lip_share or float(np.mean(dark)) > tuning.sealed_dark_share \
            or float(np.median(light)) > lip_l:
        return False
    return find_interior(rgb, dense, tuning) is None


def crease_only(rgb: np.ndarray, dense: np.ndarray, tuning: LipsTuning | None = None) -> bool:
    """Whether the pixels inside the Face Mesh's inner-lip loop (``dense``: (468, 2|3) mesh points) are lip and one
    thin dark line (``crease_line``): a closed smile's deep crease, which the mesh reads as lips apart with its loop's
    lower line inside the lower lip (web img20, London 042); cut as an open mouth's, widened into that lip and past its
    shine (read as teeth), its lower lip would close up over the upper one, squashed. Never on a grey photo."""
    tn = tuning or LipsTuning()
    window = _lips_read(rgb, dense)
    if window is None:
        return False
    lab, inside, lips = window
    if float(np.abs(lab[..., 1:] - 128.0).max()) < 2.0:
        return False  # (a grey photo: its teeth are not told from its lips by colour)
    dark, line, lighter, most, lip_share = tn.crease_line
    light, red = lab[..., 0], lab[..., 1]
    lip_l, lip_a = float(np.median(light[lips])), float(np.median(red[lips]))
    rest = inside & (light >= dark * lip_l)
    if not rest.any() or float(np.mean(red[rest] >= lip_a - tn.lip_redness)) < lip_share:
        return False
    columns = np.flatnonzero(inside.any(0))
    third = (columns[-1] - columns[0]) // 3
    middle = np.arange(columns[0] + third, columns[-1] - third + 1)
    core = float(np.median([(light[:, x][inside[:, x]] < dark * lip_l).sum() for x in middle]))
    up = mesh_lip_curves(dense)[0]
    width = float(np.linalg.norm(up[-1] - up[0]))
    return 1.0 <= core <= line * width and float(np.mean(light[inside] > lip_l + lighter)) <= most


def widen_interior(upper: np.ndarray, lower: np.ndarray, up: float, down: float,
                   tuning: LipsTuning | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Inner-lip curves (left corner first) moved apart across the mouth, ``up`` and ``down``
    corner distances at the middle, tapering to nothing at the corners: the interior a mouth
    that closes must lose, with a margin for what colour alone leaves on the lips' side (the
    tips of a lower row, the dark line between the rows); at least ``cut_min_px`` where widened."""
    tuning = tuning or LipsTuning()
    upper, lower = np.asarray(upper, np.float64), np.asarray(lower, np.float64)
    d = upper[-1] - upper[0]
    w = float(np.linalg.norm(d))
    if w < 1e-6:
        return upper, lower
    normal = np.array([-d[1], d[0]]) / w  # towards the lower lip in image coordinates
    if normal @ (lower.mean(0) - upper.mean(0)) < 0:
        normal = -normal

    def taper(c: np.ndarray) -> np.ndarray:
        t = np.clip(((c - c[0]) @ d) / (w * w), 0.0, 1.0)
        return np.sin(np.pi * t)[:, None]

    # at the photo's own pixels at least the row of pixels that mixes the lip with the teeth
    up_px = max(up * w, tuning.cut_min_px) if up > 0 else 0.0
    down_px = max(down * w, tuning.cut_min_px) if down > 0 else 0.0
    return upper - up_px * taper(upper) * normal, lower + down_px * taper(lower) * normal


#: A closing mouth's cut is taken past the teeth (:func:`below_lower_teeth`,
#: :func:`above_upper_teeth`): samples down each column from the cut to the outer lip.
LOWER_TEETH_SAMPLES = 24


def below_lower_teeth(rgb: np.ndarray, lower: np.ndarray, outer_lower: np.ndarray, *,
                      through_dark: bool = False, past_line: bool = False,
                      tuning: LipsTuning | None = None) -> np.ndarray:
    """The lower inner-lip curve ``lower`` ((N, 2) photo coordinates, left corner first) of a mouth
    about to close, each point moved down its column past the lower teeth the photo shows between it
    and the outer lower lip ``outer_lower`` (a tooth: lighter and whiter than the lower lip,
    ``lower_teeth_lighter`` and ``lower_teeth_whiter``), the moves smoothed along the curve; the teeth
    run on from the curve, through dark and whitish samples: a light, whitish blob past a lip-red
    sample is the lip's own highlight (london-099 smiling), no tooth; ``lower`` where no teeth show.
    On a grey photo a tooth is lighter than the lip alone, and the teeth run on through dark samples
    alone (a lip's highlight, as light as a tooth there, lies past a lip sample): left below the cut,
    a grey laugh's lower teeth stood between its closed lips (JAFFE MK.HA1, NA.HA1). On a mouth opened wide (a
    posed surprise) the Face Mesh's lower inner lip lies across the tongue, above the lower teeth,
    which the closed lips then kept between them. ``through_dark``: where no teeth show, past the dark
    the column starts in too (the cavity, a tongue in its shade, the lip's rolled-in rim: darker than
    the lip by half a tooth's lightness), at most ``lower_dark_most`` of the way to the outer lip:
    left outside the cut, a surprised edit's tongue and rim stood between the closed lips as a dark or
    red band (london-136, 096 made neutral). ``past_line``: through the dark line under the teeth too
    (:func:`~faceedit.stage.lip_line.past_dark_line`: a smile's hidden lower teeth)."""
    moved = _past_teeth(rgb, lower, outer_lower, through_dark=through_dark, past_line=past_line, tuning=tuning)
    return np.asarray(lower, np.float64) if moved is None else moved


def above_upper_teeth(rgb: np.ndarray, upper: np.ndarray, outer_upper: np.ndarray,
                      tuning: LipsTuning | None = None, through_dark: bool = False) -> np.ndarray | None:
    """The upper inner-lip curve ``upper`` of a mouth about to close, each point moved up its
    column past the upper teeth the photo shows between it and the outer upper lip
    ``outer_upper`` (as :func:`below_lower_teeth` does below); ``upper`` where none show, None on
    a grey photo (the caller widens the cut by a fixed margin). An open mouth whose upper teeth
    do not show (a posed surprise's upper lip over a dark cavity) keeps its upper lip whole: a
    fixed widening cut into it and the closed mouth's upper lip was a thin line. Here the lip's
    colour is read on the outer fifth of each column alone, and a tooth may also be one far
    lighter than the lip and no redder (``upper_teeth_brighter``), up to
    ``upper_teeth_most`` of the way: under a thin, dark upper lip (london-096 made surprised)
    the teeth filled the outer two fifths, read as the lip's colour, and none was found.
    ``through_dark``: past the cavity's dark the column starts in too (``upper_cavity_dark``) and
    the grey teeth in its shade (:func:`~faceedit.stage.lip_line.dark_runs`), up to the corners."""
    return _past_teeth(rgb, upper, outer_upper, upper=True, through_dark=through_dark, tuning=tuning)


def above_gums(rgb: np.ndarray, upper: np.ndarray, outer_upper: np.ndarray,
               tuning: LipsTuning | None = None) -> np.ndarray:
    """The upper curve ``upper`` of a mouth about to close (a found interior's top: the upper
    teeth's), each point moved up its column past the gum a smile bares above the teeth, to
    the dark line at the upper lip's inner edge: the column's darkest sample within
    ``upper_gum_most`` of the way to the outer upper lip ``outer_upper``, where it is darker
    than the lip by a tooth's lightness (``lower_teeth_lighter``, the lip's colour read as
    :func:`above_upper_teeth` reads it) and the column starts no darker than the lip by half
    that. ``upper`` where no such line is found, and on a grey photo. The gum reads as the
    lip's colour; left outside the cut it counted as the upper lip's thickness and stood as a
    light streak over the closed lips' line (london-094 smiling made neutral)."""
    moved = _past_teeth(rgb, upper, outer_upper, upper=True, gums=True, tuning=tuning)
    return np.asarray(upper, np.float64) if moved is None else moved


def _past_teeth(rgb: np.ndarray, lower: np.ndarray, outer_lower: np.ndarray, *, upper: bool = False,
                through_dark: bool = False, gums: bool = False, past_line: bool = False,
                tuning: LipsTuning | None = None) -> np.ndarray | None:
    """:func:`below_lower_teeth`'s and :func:`above_upper_teeth`'s (``upper``) curve ``lower``
    moved past the teeth towards ``outer_lower`` (named for the lower lip; the upper is the
    same, mirrored); None on a grey photo for the upper teeth and the gums."""
    tn = tuning or LipsTuning()
    lower = np.asarray(lower, np.float64)
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        return None
    outer = resample_by_length(np.asarray(outer_lower, np.float64), len(lower))
    t = np.linspace(0.0, 1.0, LOWER_TEETH_SAMPLES)
    pts = lower[:, None, :] + t[None, :, None] * (outer - lower)[:, None, :]  # (N, S, 2)
    x0, y0, x1, y1 = box_around(np.concatenate([lower, outer]), 2, rgb.shape)
    lab = cv2.cvtColor(rgb[y0:y1, x0:x1, :3].astype(np.float32) / float(pixel_max(rgb.dtype)), cv2.COLOR_RGB2Lab)
    no_colour = float(np.abs(lab[..., 1:]).max()) < 2.0
    grey_photo = no_colour and grey_round(rgb, np.concatenate([lower, outer]))
    if no_colour and (upper or gums or not grey_photo):
        return None  # (no colour in a colour photo's box: teeth alone)
    got = sample_points(lab, pts[..., 0].ravel() - x0, pts[..., 1].ravel() - y0).reshape(*pts.shape[:2], 3)
    light, red = got[..., 0], got[..., 1]
    # the lip's own colour: the samples on its outer two fifths (the upper's outer fifth),
    # across its middle half
    n = len(lower)
    lip = got[n // 4: n - n // 4, int((0.8 if upper else 0.6) * LOWER_TEETH_SAMPLES):].reshape(-1, 3)
    lip_l, lip_a = float(np.median(lip[:, 0])), float(np.median(lip[:, 1]))
    if grey_photo:  # lighter than the lip alone
        teeth = light > lip_l + tn.lower_teeth_lighter
    else:
        teeth = (((light > lip_l + tn.lower_teeth_lighter) & (red < lip_a - tn.lower_teeth_whiter))
                 | ((light > lip_l + tn.lower_teeth_shaded_lighter) & (red < lip_a - tn.lower_teeth_shaded_whiter)))
    most = tn.upper_teeth_most if upper else 0.8
    if upper:
        teeth |= (light > lip_l + tn.upper_teeth_brighter) & (red <= lip_a + 2.0)
    teeth[:, int(most * LOWER_TEETH_SAMPLES):] = False  # the lip's own highlight is no tooth
    dark = light < lip_l - tn.lower_teeth_lighter / 2  # the dark line where the teeth meet the lip
    if not upper:  # the lower teeth run on from the cut, through their dark gaps and whitish
        # shading; a light, whitish blob past a lip-red sample is the lip's highlight
        on = teeth | dark if grey_photo else teeth | dark | (red < lip_a - tn.lower_teeth_whiter)
        if not grey_photo:  # (and a lone sample between two, no redder than the lip: the blur from the dark
            # line up to the teeth, web img15's pale laugh: its lower teeth cut off there and carried on the lip)
            bridge = np.zeros_like(on)
            bridge[:, 1:-1] = on[:, :-2] & on[:, 2:] & (red[:, 1:-1] < lip_a)
            on |= bridge
        teeth &= np.cumprod(on, 1).astype(bool)
    last = np.where(teeth.any(1), LOWER_TEETH_SAMPLES - 1 - np.argmax(teeth[:, ::-1], 1), -1)
    for k in np.nonzero(last >= 0)[0]:
        while last[k] + 1 < LOWER_TEETH_SAMPLES and dark[k, last[k] + 1]:
            last[k] += 1
    if past_line:  # the dark line under the teeth
        last = past_dark_line(got, last, dark, int(most * LOWER_TEETH_SAMPLES), tn)
    if gums:  # no teeth sought: the gum the column starts in, up to the darkest of the line past it
        reach = int(tn.upper_gum_most * (LOWER_TEETH_SAMPLES - 1))
        last = 1 + np.argmin(light[:, 1: reach + 1], 1)
        line = np.take_along_axis(light, last[:, None], 1)[:, 0]
        last[dark[:, 0] | (line >= lip_l - tn.lower_teeth_lighter)] = -1
    cavity = np.full(n, -1)  # the upper cut: the cavity's dark run the column starts in, its own
    if through_dark:  # no teeth: the dark run the column starts in
        last, cavity = dark_runs(got, last, dark, lip_l, lip_a, upper, int(most * LOWER_TEETH_SAMPLES), tn)
    share = np.where(last >= 0, t[np.maximum(last, 0)] + (0.0 if gums else tn.lower_teeth_margin), 0.0)
    share[[0, -1]] = 0.0  # the corners stay
    share = np.convolve(np.pad(np.maximum.reduce([np.roll(share, 1), share, np.roll(share, -1)]), 1, mode="edge"),
                        np.ones(3) / 3, mode="valid")
    taper = np.sqrt(np.sin(np.pi * np.linspace(0.0, 1.0, n)))  # to nothing at the corners, full soon after
    dark_run = np.where((cavity >= 0) & (taper > 1e-3), t[np.maximum(cavity, 0)] + tn.lower_teeth_margin, 0.0)
    return lower + np.maximum(np.minimum(share, most) * taper, np.minimum(dark_run, most))[:, None] * (outer - lower)
