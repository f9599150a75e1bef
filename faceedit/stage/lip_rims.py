"""The lips round an open mouth: their inner margins (the rims each lip rolls inward with),
their local colour, the dark crease a parted pair of lips leaves lifted, and a thin gap painted
as the lips meeting rather than as the cavity; a smile's own teeth carried into a mouth that
opens without one, its gums covered and what it carried under the opening in the lower lip's
shade. :class:`faceedit.stage.mouth_bank.MouthBank` draws an
opening's inside and calls these at its edges."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS, from_unit, pixel_max
from faceedit.stage.cut_curves import opening_polygon
from faceedit.stage.lips import box_around
from faceedit.stage.open_ends import taper_ends
from faceedit.stage.tooth_tips import side_soft, tip_cut, tip_lift
from faceedit.stage.tuning import MouthTuning

_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)


def smoothstep(a: float, b, x):
    """0 below ``a``, 1 above ``b``, a smooth cubic between."""
    t = np.clip((x - a) / np.maximum(b - a, 1e-6), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def lip_shade(below: np.ndarray, wd: float, strength: float, reach: float) -> np.ndarray:
    """The share of luma kept in the upper lip's shadow ``below`` px under it: ``1 - strength``
    at the lip, falling off exponentially over ``reach`` of the mouth's width ``wd``."""
    return 1.0 - strength * np.exp(-np.maximum(below, 0.0) / max(reach * wd, 1e-6))


def column_gaps(opening: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gap, above): float32 arrays of ``opening``'s shape, 0 outside ``opening > 0``. ``gap``
    is the height (px) of the run of the opening each pixel lies in, down its column, its
    anti-aliased ends counted by their coverage: how far apart the lips (or the teeth and the
    lower lip) are there; ``above`` is the part of that run above the pixel (how far below the
    opening's top edge it lies). A mouth near level opens down the image's columns."""
    op = np.clip(np.asarray(opening, np.float32), 0.0, 1.0)
    on = op > 0
    gap = np.zeros(op.shape, np.float32)
    above = np.zeros(op.shape, np.float32)
    rows, cols = np.flatnonzero(on.any(1)), np.flatnonzero(on.any(0))
    if rows.size == 0:
        return gap, above
    # the runs lie within the opening's bounding box (0 around it): summed down its rows there
    box = np.s_[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    op, on = op[box], on[box]
    down = np.zeros(op.shape, np.float32)
    up = np.zeros(op.shape, np.float32)
    for y in range(op.shape[0]):
        down[y] = on[y] * ((down[y - 1] if y > 0 else 0.0) + op[y])
    for y in range(op.shape[0] - 1, -1, -1):
        up[y] = on[y] * ((up[y + 1] if y < op.shape[0] - 1 else 0.0) + op[y])
    gap[box] = np.where(on, down + up - op, 0.0)
    above[box] = np.where(on, down - op, 0.0)
    return gap, above


def along_row(values: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """Float32 ``values`` (h, w) smoothed along each row by a Gaussian of ``sigma`` px over
    ``mask``'s pixels only (normalised: the mask's edge does not pull them to 0); 0 outside
    ``mask``; as they are for ``sigma`` <= 0."""
    v = np.asarray(values, np.float32)
    if sigma <= 0:
        return v
    m = np.asarray(mask, np.float32)
    num = cv2.GaussianBlur(v * m, (0, 0), sigmaX=sigma, sigmaY=1e-3)
    den = cv2.GaussianBlur(m, (0, 0), sigmaX=sigma, sigmaY=1e-3)
    return np.where(m > 0, num / np.maximum(den, 1e-6), 0.0).astype(np.float32)


def lip_field(pixels: np.ndarray, roi, up: np.ndarray, lo: np.ndarray, wd: float, lip: np.ndarray,
               tn: MouthTuning) -> tuple:
    """The lips' local colour round an opening: (box (x0, y0, x1, y1) within ``roi``, unit
    RGB (h, w, 3) over it, the lift's weight (h, w) and target (h, w, 3), the lower lip's
    gain: the median luma of those pixels under the opening over ``lip``'s, at least 1, which
    its lit margin takes, :func:`rims`). The colour is a
    normalised blur (``lip_field_spread``) of the pixels ``rim_outside`` to three times that outside the opening
    (the lips beside the crease's line; those that read as teeth, :func:`teeth_like`, left out), no lighter than the lips' ring colour ``lip`` (unit
    RGB; beyond a thin lip lies skin), and ``lip`` itself far from them; the weight is 1 up
    to half of ``rim_outside`` outside the opening, 0 from ``rim_outside`` and inside it;
    the target is the colour darkened towards the opening to ``rim_edge`` of it at the
    curve (below the opening, the lower lip's lit margin, :func:`lower_lit`), where the rims
    (:func:`rims`) begin."""
    reach = max(tn.rim_outside * wd, 0.5)
    poly = opening_polygon(up, lo)
    spread = max(tn.lip_field_spread * wd, reach, 1.0)
    bx0, by0, bx1, by1 = box_around(poly, 3 * reach + 3 * spread + 2, pixels.shape)
    bx0, by0 = max(bx0, int(roi[0])), max(by0, int(roi[1]))
    bx1, by1 = max(min(bx1, int(roi[2])), bx0 + 1), max(min(by1, int(roi[3])), by0 + 1)
    inside = np.zeros((by1 - by0, bx1 - bx0), np.uint8)
    cv2.fillPoly(inside, [np.round((poly - [bx0, by0]) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    dist = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
    crop = pixels[by0:by1, bx0:bx1].astype(np.float32) / pixel_max(pixels.dtype)
    rgb = crop[..., None].repeat(3, -1) if crop.ndim == 2 else crop[..., :3]
    # not what reads as teeth there (a smile's lower row carried with the lip: its local
    # colour grey and light, its rims a grey line)
    beyond = (((dist >= reach) & (dist < 3 * reach)) * (1.0 - teeth_like(rgb.astype(np.float64), lip))).astype(
        np.float32)
    num = cv2.GaussianBlur(rgb * beyond[..., None], (0, 0), spread)
    den = cv2.GaussianBlur(beyond, (0, 0), spread)[..., None]
    ring = np.asarray(lip, np.float32)
    share = np.clip(den / 0.05, 0.0, 1.0)  # far from the lips' pixels: their ring colour
    field = share * num / np.maximum(den, 1e-6) + (1.0 - share) * ring
    mid = (up + lo) / 2
    xs = np.arange(bx0, bx1, dtype=np.float64)
    below = (np.arange(by0, by1, dtype=np.float64)[:, None] > np.interp(xs, mid[:, 0], mid[:, 1])[None, :])
    # no lighter than the lips' ring colour; ``gain``: the lower lip's own pixels there over
    # it (a lower lip lighter than the ring's mean drew its lit margin darker than itself: two
    # steps, the cavity's and the margin's)
    lip_l = float(ring @ _LUMA)
    lows = (beyond > 0.5) & below
    gain = max(1.0, float(np.median(rgb[lows] @ _LUMA)) / max(lip_l, 1e-3)) if lows.any() else 1.0
    field *= np.minimum(1.0, lip_l / np.maximum(field @ _LUMA, 1e-3))[..., None]
    near = np.clip(2.0 * (1.0 - dist / reach), 0.0, 1.0) * (inside == 0)
    # the lift's target darkens towards the opening to the rims' shade at the curve: the upper
    # lip's to ``rim_edge``, the lower lip's lit margin only to :func:`lower_lit`
    u = (xs - up[0, 0]) / max(float(up[-1, 0] - up[0, 0]), 1e-6)
    edge = np.where(below, lower_lit(np.clip(u, 0.0, 1.0), tn)[None, :], tn.rim_edge)
    toward = (edge + (1.0 - edge) * np.clip(dist / reach, 0.0, 1.0))[..., None]
    box = (bx0, by0, bx1, by1)
    return box, field.astype(np.float32), near.astype(np.float32), (field * toward).astype(np.float32), gain

def lower_lit(u: np.ndarray, tn: MouthTuning) -> np.ndarray:
    """The lower lip's inner margin at the curve (share of the lips' luma) at ``u`` along the
    mouth (0 and 1 its corners): ``rim_lower_lit`` (lit) from ``rim_lower_lit_from`` of the
    width in from each corner, down to ``rim_edge`` (the rims' shade) at the corners, which
    lie in shadow (lit there, the margin ended in a light wedge)."""
    side = np.minimum(u, 1.0 - u)
    return tn.rim_edge + (tn.rim_lower_lit - tn.rim_edge) * smoothstep(0.0, tn.rim_lower_lit_from, side)


def lift_margin(pixels: np.ndarray, box, field: np.ndarray, near: np.ndarray, target: np.ndarray, *,
                in_place: bool = False) -> np.ndarray:
    """The lips' edge just outside an open mouth (``near``, over ``box``, from
    :func:`lip_field`) lifted where it is darker than ``target`` (the lips' local colour
    ``field``, darkened towards the opening to the rims' shade), to it: the dark crease
    between closed lips, parted by the warp, stays on each lip as a thin dark line drawn
    round the opening; the rims inside it (:func:`rims`) draw the lip's inner margin.
    Pixels as light as the target or lighter stay as they are. A new array (``pixels`` where
    nothing is lifted), or ``pixels`` written over with ``in_place``."""
    bx0, by0, bx1, by1 = box
    crop = pixels[by0:by1, bx0:bx1].astype(np.float32) / pixel_max(pixels.dtype)
    rgb = crop[..., None].repeat(3, -1) if crop.ndim == 2 else crop[..., :3]
    lum, t_lum = rgb @ _LUMA, target @ _LUMA
    w = near * np.clip(4.0 * (t_lum - lum) / np.maximum(t_lum, 1e-3), 0.0, 1.0)
    if float(w.max()) <= 0:
        return pixels
    return _put_box(pixels, box, rgb + w[..., None] * (target - rgb), in_place)


def _put_box(pixels: np.ndarray, box, rgb: np.ndarray, in_place: bool) -> np.ndarray:
    """``pixels`` with ``box`` (x0, y0, x1, y1) set to ``rgb`` (unit floats; its luma on a
    grey photo, the alpha kept): a copy, or ``pixels`` written over with ``in_place``."""
    bx0, by0, bx1, by1 = box
    out = pixels if in_place else pixels.copy()
    if pixels.ndim == 2:
        out[by0:by1, bx0:bx1] = from_unit(np.clip(rgb @ _LUMA, 0, 1), pixels.dtype)
    else:
        out[by0:by1, bx0:bx1, :3] = from_unit(np.clip(rgb, 0, 1), pixels.dtype)
    return out


def shade_teeth_beside(pixels: np.ndarray, box, target: np.ndarray, up: np.ndarray, lo: np.ndarray,
                       lip: np.ndarray, reach: float, *, in_place: bool = False) -> np.ndarray:
    """The lower lip's edge outside an open mouth into which a smile was carried (over ``box``,
    from :func:`lip_field`, below the line half-way between the inner-lip curves ``up`` and
    ``lo``; wholly within two thirds of ``reach`` px of the opening, none from ``reach``) taken
    to the luma of the lips' local colour ``target`` (:func:`lip_field`) in the lips' ring colour ``lip`` where it reads as teeth (lighter and greyer than the lips' ring colour ``lip``,
    :func:`teeth_like`): the smile's lower teeth carried down with the lower lip lie there as
    a light line, below the opening and along its steep sides, which :func:`shade_below` (down
    the columns) does not reach. A new array (``pixels`` where nothing reads as teeth), or
    ``pixels`` written over with ``in_place``."""
    bx0, by0, bx1, by1 = box
    crop = pixels[by0:by1, bx0:bx1].astype(np.float32) / pixel_max(pixels.dtype)
    rgb = crop[..., None].repeat(3, -1) if crop.ndim == 2 else crop[..., :3]
    up, lo = np.asarray(up, np.float64), np.asarray(lo, np.float64)
    inside = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round((opening_polygon(up, lo) - [bx0, by0]) * 16).astype(np.int32)], 1,
                 cv2.LINE_8, 4)
    dist = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
    mid = (up + lo) / 2
    order = np.argsort(mid[:, 0])
    line = np.interp(np.arange(bx0, bx1, dtype=np.float64), mid[order, 0], mid[order, 1])
    below = np.arange(by0, by1, dtype=np.float64)[:, None] > line[None, :]
    # between the corners, faded over half of ``reach`` about each (beyond them lies the skin,
    # which reads as light and grey beside lips)
    ys, xs = np.mgrid[by0:by1, bx0:bx1].astype(np.float64)
    chord = mid[-1] - mid[0]
    span = max(float(np.linalg.norm(chord)), 1e-6)
    t = ((xs - mid[0, 0]) * chord[0] + (ys - mid[0, 1]) * chord[1]) / span
    r = max(float(reach), 1.5)
    between = smoothstep(-r / 4.0, r / 4.0, np.minimum(t, span - t))
    w = ((1.0 - smoothstep(2.0 * r / 3.0, r, dist)) * (inside == 0) * below * between
         * teeth_like(rgb.astype(np.float64), lip))
    if float(w.max()) <= 0:
        return pixels
    # the target's luma in the lips' ring colour (the local colour's chroma holds the grey
    # teeth it averaged over)
    ring = np.asarray(lip, np.float32)
    tone = ring[None, None, :] * ((target @ _LUMA) / max(float(ring @ _LUMA), 1e-3))[..., None]
    return _put_box(pixels, box, rgb + w[..., None] * (tone - rgb), in_place)


def meet(fill: np.ndarray, gap: np.ndarray, wd: float, lip: np.ndarray, tn: MouthTuning,
         weight: float = 1.0) -> np.ndarray:
    """Unit RGB (n, 3) of an opening where it is a thin gap (``gap``: the height in px of
    the opening's column at each pixel, :func:`column_gaps`): at most ``gap_closed`` of the
    corner distance ``wd`` the lips (``lip``, their local colour) meet in the closed lips'
    shade (``seam_dark`` of them), from ``gap_open`` the interior shows whole. Below a
    smile's teeth carried into a relaxed mouth, and at an opening's corners, a sliver a few
    pixels high is the lower lip meeting the teeth in a soft shadow; painted as the cavity,
    it would stand as a crisp black line ending in a point. ``weight`` (0..1) scales the lips'
    share: a small face's smile read whole from the bank (:func:`~faceedit.stage.teeth_look.small_weight`
    1, weight 0) is a few px high all along; its columns are teeth, its corners shaded by
    :func:`~faceedit.stage.teeth_look.small_teeth_shade` (the lips' shade over them stood as dim grey teeth
    between red-brown blocks at the corners: London smiles at 96-128 px made happy)."""
    lo, hi = tn.gap_closed * wd, max(tn.gap_open * wd, tn.gap_closed * wd + 1.0)
    m = (1.0 - smoothstep(lo, hi, gap)) * float(np.clip(weight, 0.0, 1.0))
    if float(m.max()) <= 0:
        return fill
    meet = np.asarray(lip, np.float64) * tn.seam_dark
    return fill * (1.0 - m[:, None]) + meet * m[:, None]

def lip_at(rings: dict, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Unit RGB (n, 3) of the lips' local colour at photo pixels (px, py): the field of
    :func:`lip_field` where :meth:`faceedit.stage.mouth_bank.MouthBank.fill` made one, else the lips' ring colour."""
    if "lip_field" not in rings:
        return np.broadcast_to(np.asarray(rings["lip"], np.float64), (len(px), 3))
    (bx0, by0, bx1, by1), field = rings["lip_field"][:2]
    iy = np.clip(np.asarray(py, np.int64) - by0, 0, by1 - by0 - 1)
    ix = np.clip(np.asarray(px, np.int64) - bx0, 0, bx1 - bx0 - 1)
    return field[iy, ix].astype(np.float64)

def teeth_below(pixels: np.ndarray, roi, opening: np.ndarray, lip: np.ndarray, wd: float,
                smooth: float = 0.0) -> np.ndarray:
    """Float32 (h, w) over ``roi``: for each column of ``opening``, how surely what lies just below
    it (from 1 px to 2 % of the corner distance ``wd`` under its lowest pixel; a smile's lower
    teeth there can be a strip 2 px high) is teeth rather than the lower
    lip: lighter than the lips' ring colour ``lip`` (unit RGB; from 1.1 to 1.4 times its luma)
    and greyer (its chroma over luma from 0.8 down to 0.5 of the lips'). A smile's lower teeth
    carried down with the lower lip into a wide-open mouth lie there: a lip's rim drawn against
    them is a light line between the cavity and the teeth. ``smooth`` (px): the columns' values
    smoothed along the row by a Gaussian of that sigma (no steps from column to column where
    the row's tips come and go). 0 outside the opening's columns."""
    x0, y0, x1, y1 = (int(v) for v in roi)
    op = np.asarray(opening, np.float32) > 0.5
    out = np.zeros(op.shape, np.float32)
    unit = float(pixel_max(pixels.dtype))
    d0, d1 = 1, max(3, round(0.02 * wd))
    for c in np.flatnonzero(op.any(0)):
        b = y0 + int(np.flatnonzero(op[:, c])[-1])
        ys = slice(min(b + d0, pixels.shape[0] - 1), min(b + d1 + 1, pixels.shape[0]))
        px = pixels[ys, x0 + c].astype(np.float64) / unit
        if px.size == 0:
            continue
        px = np.repeat(px[:, None], 3, 1) if px.ndim == 1 else px[:, :3]
        out[:, c] = float(teeth_like(np.median(px, 0), lip))
    if smooth > 0:
        row = along_row(out.max(0)[None, :], np.asarray(op.any(0))[None, :], smooth)
        out = np.broadcast_to(row, op.shape)
    return out * op

def rims(col: np.ndarray, u: np.ndarray, t: np.ndarray, hd: np.ndarray, wd: float, lip: np.ndarray,
          tn: MouthTuning, teeth: np.ndarray | None = None, lower_gain: float = 1.0,
          bare: np.ndarray | float = 0.0) -> np.ndarray:
    """The lips' inner margins over an open mouth's interior (unit RGB ``col`` (n, 3) at
    ``t`` px below the upper curve, ``hd`` the column's height, ``u`` along the mouth): each
    lip rolls inward as a wetter, darker rim of its own colour (``lip`` (n, 3), the lips'
    local colour, :func:`lip_at`), from ``rim_edge`` of it at the curve (the lower lip's
    lit margin: :func:`lower_lit` where the column is ``rim_lower_lit_height`` tall, over the
    first ``rim_lower_flat`` of its width) to ``rim_deep`` at
    the rim's inner edge, where it fades into the interior, so the lips meet the opening
    without an edge or a ring of another colour; the lower rim never darker than the interior
    it fades into (over the tongue a rim darker than both drew an outline; the upper rim's
    shade over the teeth's top is the lip's). Widths: ``rim_upper`` / ``rim_lower`` of
    the corner distance, at most ``rim_share`` of the column each; at the corners the rims
    meet. ``teeth`` (n,): where teeth, not the lower lip, lie below the column
    (:func:`teeth_below`), that share of the lower rim is left out. ``lower_gain``: the lower
    lip's own luma over ``lip``'s (:func:`lip_field`), which its lit margin takes. ``bare`` (n,) or a float: the
    share of each column with no upper teeth at its top (:func:`bare_top`), whose upper rim is ``rim_upper_bare``
    wide, at most ``rim_upper_bare_share`` of the column, not ``rim_upper`` (over the teeth's top a wider rim is a
    dark red line)."""
    out = col
    # a thin opening's lower margin lies in the upper lip's shade: lit (and held over
    # ``rim_lower_flat``) only where the column is ``rim_lower_lit_height`` tall (thin fearful
    # openings filled with a lit margin read 0.19-0.44 of the cheek's luma inside by dlib)
    tall = smoothstep(tn.rim_lower_lit_height[0], tn.rim_lower_lit_height[1], hd / max(wd, 1e-6))
    lower_edge = tn.rim_edge + (lower_gain * lower_lit(u, tn) - tn.rim_edge) * tall
    bare = np.clip(bare, 0.0, 1.0)
    upper = np.minimum(tn.rim_upper * wd + (tn.rim_upper_bare * wd - tn.rim_upper * wd) * bare,
                       tn.rim_share * hd + (tn.rim_upper_bare_share - tn.rim_share) * hd * bare)
    for width, depth, lower, edge, flat in ((upper, t, False, tn.rim_edge, 0.0),
                                            (np.minimum(tn.rim_lower * wd, tn.rim_share * hd), hd - t, True,
                                             lower_edge, tn.rim_lower_flat * tall)):
        w = np.maximum(width, 0.75)
        x = np.clip((np.maximum(depth, 0.0) / w - flat) / (1.0 - flat), 0.0, 1.0)
        a = (1.0 - smoothstep(0.0, 1.0, x)) * (hd > 0)
        if lower and teeth is not None:
            a = a * (1.0 - np.asarray(teeth, np.float64))
        rim = lip * (edge + (tn.rim_deep - edge) * x)[:, None]
        if lower:
            rim = np.maximum(rim, out)
        out = out * (1.0 - a[:, None]) + rim * a[:, None]
    return np.clip(out, 0.0, 1.0)


def bare_top(edge_top: np.ndarray, incisal: np.ndarray, fade: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """The share of each column of a wide-open mouth's drawn fill with no upper teeth at its top (by the bank's
    teeth's opacity at the upper curve): ``edge_top`` the exemplar's depth read there, ``incisal`` its teeth's edge,
    ``fade`` the edge's fade width (exemplar px), ``shown`` the share of the teeth the lip's cover leaves there."""
    return 1.0 - (1.0 - smoothstep(0.0, 1.0, (edge_top - incisal + fade) / (2.0 * fade))) * shown


def shade_carried(pixels: np.ndarray, roi, interior: np.ndarray, opening: np.ndarray, amount: float,
                  tuning: MouthTuning, *, in_place: bool = False) -> np.ndarray:
    """The face's own teeth carried into an open mouth (``interior``, float 0..1 over ``roi`` =
    (x0, y0, x1, y1)) shaded by their depth below the upper lip: down each column of the whole
    opening (``interior`` and the painted ``opening``) they stay as they are over
    ``carried_teeth_band`` of its height, darken by up to ``carried_teeth_shade`` (each pixel
    scaled: the gaps between the teeth kept) down to the middle of ``carried_teeth_fade`` more,
    and there end over ``carried_teeth_edge`` px in the cavity's colour (the median of the darker
    third of the painted opening's inner pixels), ``amount`` (0..1) of the way: a relaxed upper
    lip shows a band of teeth, darker toward the inside, ending in an edge as a tooth does. Along the
    row the side teeth recede into the mouth's shadow, to the cavity's tone at the opening's
    corners (from ``side_teeth_from`` of its width), and so do the row's tapered ends (columns
    under ``carried_row_ends`` of its tallest); the gums the smile bared above the row
    are covered by the relaxed lip (:func:`_cover_gums`); toward the corners the warp has
    closed the lips (:func:`faceedit.stage.cut_curves.pointed_ends`), and a flat opening's ends are
    narrowed into its corners (:func:`faceedit.stage.open_ends.taper_ends`). Unchanged where the painted opening
    has under 8 whole pixels. A new array, or ``pixels`` written over with ``in_place``."""
    x0, y0, x1, y1 = (int(v) for v in roi)
    car = np.clip(np.asarray(interior, np.float32), 0.0, 1.0)
    op = np.clip(np.asarray(opening, np.float32), 0.0, 1.0)
    cavity = (op >= 0.99) & (car <= 0)
    if amount <= 0 or not car.any() or cavity.sum() < 8:
        return pixels
    out = pixels if in_place else pixels.copy()
    unit = pixel_max(pixels.dtype)
    crop = out[y0:y1, x0:x1].astype(np.float32) / unit
    if crop.ndim == 3:
        crop = crop[..., :3]
    whole = np.clip(op + car, 0.0, 1.0)
    gap, above = column_gaps(whole)
    band, fade = tuning.carried_teeth_band * gap, np.maximum(tuning.carried_teeth_fade * gap, 1.0)
    # a pixel the painted opening shares is the cavity's already: the whole of it goes (by the
    # carried share alone, a light line stayed where teeth met the painted cavity)
    # columns under carried_short_column px (the corners) shade less: over a pixel or two the
    # blend turned from lit to dark between neighbours and left specks at the corners
    short = np.clip(gap / tuning.carried_short_column, 0.0, 1.0)
    # lit down to the band, a little darker toward the fade's middle, where they end over an
    # edge of carried_teeth_edge px
    end = band + fade / 2.0
    # that edge rises into the row's gaps, each tooth's tip rounded (straight across the row,
    # a ruler's edge under the teeth where the smile's lower lip hid their tips)
    # (anti-aliased square to the edge, as soft as the photo's own teeth's sides)
    span = np.flatnonzero((whole > 0).any(0))
    luma = crop if crop.ndim == 2 else crop @ _LUMA
    lit_teeth = (car > 0.5) & (above < end)
    end = end - tip_lift(luma, lit_teeth, float(span[-1] - span[0] + 1), tuning)[None, :]
    soft = side_soft(luma, lit_teeth, tuning.carried_tip_soft)
    cut = tip_cut(above, end, whole > 0, 1.5 * soft, tuning.carried_teeth_edge, band)
    dim = float(amount) * tuning.carried_teeth_shade * np.clip((above - band) / (fade / 2.0), 0.0, 1.0) * short
    # the teeth's top in the upper lip's shadow, as the bank's teeth are (over the mouth's width)
    lit = lip_shade(above + 0.5, float(span[-1] - span[0] + 1), float(amount) * tuning.carried_lip_shadow,
                    tuning.carried_lip_shadow_reach)
    a = float(amount) * (car > 0) * whole * cut * short
    # the side teeth recede along the arch into the mouth's shadow, wholly at its corners
    # (lit there, a smile's row ended in a light wedge)
    u = (np.arange(whole.shape[1]) - span[0]) / max(float(span[-1] - span[0]), 1.0)
    side = smoothstep(0.0, tuning.side_teeth_from, np.minimum(u, 1.0 - u))
    a = np.maximum(a, float(amount) * (car > 0) * whole * (1.0 - side)[None, :])
    # and the row's tapered ends (a few rows of the teeth's tops, where it narrowed with the
    # mouth) into the shadow too: lit, they stood apart from the row as tooth fragments
    tall = car.sum(0)
    ends = 1.0 - smoothstep(*tuning.carried_row_ends, tall / max(float(np.percentile(tall[tall > 0], 90)), 1e-6))
    a = np.maximum(a, float(amount) * (car > 0) * whole * ends[None, :])
    # and the row's own ends, where the opening goes on past it, fall into that shadow (lit to
    # its last column, the row stood cut off square beside the cavity)
    row = np.flatnonzero(car.any(0))
    ur = (np.arange(car.shape[1]) - row[0]) / max(float(row[-1] - row[0]), 1.0)
    fall = 1.0 - smoothstep(0.0, tuning.carried_row_side, np.minimum(ur, 1.0 - ur))
    a = np.maximum(a, float(amount) * (car > 0) * whole * fall[None, :])
    # the row's lower edge rounded up into the gaps between its teeth (cut on the carried
    # interior's lower curve, it ran straight across them: a cut-out, not teeth)
    a = np.maximum(a, float(amount) * tooth_corners(luma, car,
                                                    float(span[-1] - span[0] + 1), tuning))
    # the cavity's own tone: its darker third (the rims, lifted margins and the light under
    # the teeth the fill also drew are not the inside's)
    px = crop[cavity] if crop.ndim == 2 else crop[cavity].reshape(-1, 3)
    y = px if px.ndim == 1 else px @ _LUMA
    tone = np.median(px[y <= np.percentile(y, 33)], 0)
    keep = (1.0 - dim) * lit
    ys, xs = np.nonzero((a > 0) | ((keep < 1) & (car > 0)))
    w = a[ys, xs] if crop.ndim == 2 else a[ys, xs][:, None]
    d = keep[ys, xs] if crop.ndim == 2 else keep[ys, xs][:, None]
    shaded = from_unit(np.clip(crop[ys, xs] * d * (1.0 - w) + tone * w, 0.0, 1.0), pixels.dtype)
    if out.ndim == 3:
        out[ys + y0, xs + x0, :3] = shaded
    else:
        out[ys + y0, xs + x0] = shaded
    _cover_gums(out, (x0, y0), car, whole, gap, float(amount), tuning)
    taper_ends(out, roi, whole, tuning)
    return out


def tooth_corners(luma: np.ndarray, car: np.ndarray, width: float, tn: MouthTuning) -> np.ndarray:
    """(h, w) 0..1: how much of each pixel of a carried row (``car`` over 0.5; ``luma`` the
    pixels' luma, the mouth ``width`` px wide) lies below its teeth's rounded corners at the gaps
    between them. A gap: a column whose median luma over the lowest ``carried_gap_band`` of the
    row's column is under ``carried_gap_dip`` of the brightest within ``carried_gap_reach`` of
    the width either side and the darkest within half that, not within that reach nor
    ``carried_row_side`` of the row's columns of its ends (where it falls into the shadow), nor
    where the row tapers (under ``carried_row_ends``' second share of its tallest). Beside
    each gap the row's lower edge rises, ``carried_corner`` of the width at the gap falling
    quadratically to none that far from it (at most half the column's height): a notch at each
    gap, as real teeth's incisal edges round off into their embrasures. Zero where no gap is
    found."""
    on = np.asarray(car) > 0.5
    out = np.zeros(on.shape, np.float32)
    cols = np.flatnonzero(on.any(0))
    reach = max(int(round(tn.carried_gap_reach * width)), 2)
    if cols.size < 4 * reach or tn.carried_corner <= 0:
        return out
    last = on.shape[0] - 1 - np.argmax(on[::-1, cols], 0)
    tall = on[:, cols].sum(0)
    band = np.maximum(np.round(tn.carried_gap_band * tall), 2).astype(int)
    prof = np.array([np.median(luma[max(b - k + 1, 0):b + 1, x]) for x, b, k in zip(cols, last, band)])
    pad = np.pad(prof, reach, mode="edge")
    near = np.lib.stride_tricks.sliding_window_view(pad, 2 * reach + 1)
    low = near[:, reach - reach // 2:reach + reach // 2 + 1].min(1)
    gap = (prof < tn.carried_gap_dip * near.max(1)) & (prof <= low) & (tall >= tn.carried_row_ends[1] * np.percentile(tall, 90))
    ends = max(reach, int(round(tn.carried_row_side * cols.size)))
    gap[:ends] = gap[-ends:] = False
    if not gap.any():
        return out
    r = tn.carried_corner * width
    d = np.abs(cols[:, None] - cols[gap][None, :]).min(1).astype(np.float64)
    lift = r * np.clip(1.0 - d / max(r, 1e-6), 0.0, 1.0) ** 2
    edge = last + 1.0 - np.minimum(lift, 0.5 * tall)  # the row's lower edge, px from the roi's top
    rows = np.arange(on.shape[0], dtype=np.float64)[:, None]
    out[:, cols] = (np.clip(rows + 1.0 - edge[None, :], 0.0, 1.0) * on[:, cols]).astype(np.float32)
    return out


def _cover_gums(out: np.ndarray, origin, car: np.ndarray, whole: np.ndarray, gap: np.ndarray, amount: float,
                tn: MouthTuning) -> None:
    """Over each column of the carried row (``car`` > 0; ``whole``: it and the painted opening,
    over a roi at ``origin`` = (x0, y0) of ``out``), the gums a smile bared above it covered by
    the relaxed upper lip, in place: within ``g`` = ``carried_gum_reach`` of the mouth's width
    (the opening's span of columns) above the opening's top (and the lip's share of its
    anti-aliased top row), a pixel lighter than the target
    (the lip's colour: the median of the column's pixels ``g`` to ``2 g`` above, smoothed over
    ``2 g`` columns, darkened toward the row as the lips' rims are, ``rim_edge`` of it there)
    is taken to it, ``amount`` of the way, less beyond 0.6 of ``g``, only where the carried row
    is the column's top, and less in columns under ``carried_short_column`` px (the corners)
    and within ``2 g`` columns of where that ends. Pixels as dark as the target stay: a lip
    already meeting the teeth is left as it is."""
    x0, y0 = origin
    on = whole > 0
    cols = np.flatnonzero((car > 0).any(0))
    span = np.flatnonzero(on.any(0))
    if amount <= 0 or cols.size == 0 or tn.carried_gum_reach <= 0:
        return
    g = max(tn.carried_gum_reach * float(span[-1] - span[0] + 1), 1.0)
    gi = int(np.ceil(g))
    top = np.argmax(on[:, cols], 0)
    # where the carried row is the column's top (not the painted cavity: no gums above it),
    # fading over 2 g columns toward the row's ends (no edge where it ends)
    at_top = np.clip(np.maximum(car[top, cols], car[np.minimum(top + 1, car.shape[0] - 1), cols]), 0.0, 1.0)
    each = np.zeros(car.shape[1])
    each[cols] = np.clip(gap[top, cols] / tn.carried_short_column, 0.0, 1.0) * at_top
    short = np.minimum(each, np.convolve(each, np.ones(2 * gi + 1) / (2 * gi + 1), "same"))[cols]
    ty, tx = y0 + top, x0 + cols
    unit = pixel_max(out.dtype)

    def read(rows):  # unit RGB (k, n, 3) of the rows (k, n) above the columns, clipped to the photo
        px = out[np.clip(rows, 0, out.shape[0] - 1), np.broadcast_to(tx, rows.shape)].astype(np.float64) / unit
        return np.repeat(px[..., None], 3, -1) if px.ndim == 2 else px[..., :3]

    lip = np.percentile(read(ty[None, :] - np.arange(gi, 2 * gi + 1)[:, None]), 33, axis=0)  # (n, 3)
    pad = np.pad(lip, ((gi, gi), (0, 0)), mode="edge")
    lip = np.median(np.lib.stride_tricks.sliding_window_view(pad, 2 * gi + 1, axis=0), -1)
    d = np.arange(0, gi + 1)[:, None].astype(np.float64)  # px above the opening's top row
    rows = ty[None, :] - d.astype(np.int64)
    rgb = read(rows)
    target = lip[None] * (tn.rim_edge + (1.0 - tn.rim_edge) * smoothstep(0.0, 1.0, d / g))[..., None]
    lum, t_lum = rgb @ _LUMA, target @ _LUMA
    # the top row's pixels are the opening's only in part (anti-aliased): their lip's share
    share = np.ones(rows.shape)
    share[0] = 1.0 - whole[top, cols]
    w = (amount * short[None, :] * share * (1.0 - smoothstep(0.6 * g, g, d)) * (rows >= 0)
         * np.clip(4.0 * (lum - t_lum) / np.maximum(t_lum, 1e-3), 0.0, 1.0))
    if float(w.max()) <= 0:
        return
    new = from_unit(np.clip(rgb + w[..., None] * (target - rgb), 0.0, 1.0), out.dtype)
    k = w > 0
    if out.ndim == 3:
        out[rows[k], np.broadcast_to(tx, rows.shape)[k], :3] = new[k]
    else:
        out[rows[k], np.broadcast_to(tx, rows.shape)[k]] = (new[k].astype(np.float64) @ _LUMA).round().astype(out.dtype)


def lip_over_teeth(pixels: np.ndarray, roi, interior: np.ndarray, lip: np.ndarray) -> np.ndarray:
    """The part (0..1 over ``roi``) of ``lip`` (the lip-coloured share of a carried ``interior``,
    :func:`~faceedit.stage.lips.lip_in_interior`) that hangs above the carried teeth: in each
    column, the lip down to the column's first tooth (a carried pixel that is not lip and reads
    as teeth against the carried lip's median colour, :func:`teeth_like`), beside the row's ends
    down to the nearest tooth's top. A smile's upper teeth are carried with the upper lip's inner
    margin above them; painted as the cavity, that margin stood as a dark band between the lip
    and the teeth, which floated in the opening (london-137 smiling made surprised). Zero where
    no tooth is carried."""
    x0, y0, x1, y1 = (int(v) for v in roi)
    car = np.asarray(interior, np.float32)
    lp = np.asarray(lip, np.float32)
    out = np.zeros(car.shape, np.float32)
    ys, xs = np.nonzero(car > 0)
    if len(ys) == 0:
        return out
    by0, by1, bx0, bx1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    patch = pixels[y0 + by0:y0 + by1, x0 + bx0:x0 + bx1].astype(np.float64) / pixel_max(pixels.dtype)
    rgb = np.repeat(patch[..., None], 3, -1) if patch.ndim == 2 else patch[..., :3]
    c, m = car[by0:by1, bx0:bx1], lp[by0:by1, bx0:bx1]
    lipped = (m > 0.5) & (c > 0.5)
    if not lipped.any():
        return out
    tooth = (c > 0.5) & (m < 0.5) & (teeth_like(rgb, np.median(rgb[lipped], 0)) > 0.5)
    has = np.flatnonzero(tooth.any(0))
    if has.size == 0:
        return out
    # beside the row's ends the lip hangs to the nearest tooth's top (painted, it cut a notch
    # into the lip over the row's end)
    first = np.interp(np.arange(c.shape[1]), has, np.argmax(tooth, 0)[has])
    out[by0:by1, bx0:bx1] = m * (np.arange(c.shape[0])[:, None] < first[None, :])
    return out


def teeth_like(rgb: np.ndarray, lip: np.ndarray) -> np.ndarray:
    """How surely each unit RGB pixel (..., 3) is teeth rather than lip (``lip``: the lips' ring
    colour): lighter (1.1 to 1.4 times its luma) and greyer (chroma over luma from 0.8 down to 0.5
    of the lips'), as :func:`teeth_below` reads a column."""
    ring = np.asarray(lip, np.float64)
    lip_l = max(float(ring @ _LUMA), 1e-3)
    lip_c = max(float(ring.max() - ring.min()) / lip_l, 1e-3)
    luma = np.maximum(rgb @ _LUMA, 1e-3)
    chroma = (rgb.max(-1) - rgb.min(-1)) / luma
    return smoothstep(1.1, 1.4, luma / lip_l) * (1.0 - smoothstep(0.5, 0.8, chroma / lip_c))


def shade_below(pixels: np.ndarray, roi, opening: np.ndarray, wd: float, tn: MouthTuning, *,
                in_place: bool = False) -> np.ndarray:
    """The lower lip's inner margin under an open mouth into which a smile was carried, in the
    lip's shade: under each column of ``opening`` (float over ``roi``), from 1 px to 2 % of
    the corner distance ``wd`` below its lowest pixel (where :func:`teeth_below` reads) and
    fading out over as much again, a pixel lighter than the target (the lip's colour, the
    median of the column's pixels from twice to four times that reach below, at
    ``carried_lower_teeth_luma`` of it 1 px below the opening rising to all of it at the
    reach's end) is taken to it, more the lighter it is. What the smile carried down with
    the lower lip lies there, its lower teeth's tips and a light line of lip: lit, a line
    hard against the cavity; in the shade, the lower lip's rim (:func:`rims`) is drawn over
    them (no longer read as teeth) and the edge falls off softly. A new array, or ``pixels``
    written over with ``in_place`` (``pixels`` itself when nothing is lighter)."""
    x0, y0, x1, y1 = (int(v) for v in roi)
    op = np.asarray(opening, np.float32) > 0.5
    cols = np.flatnonzero(op.any(0))
    if cols.size == 0:
        return pixels
    unit = float(pixel_max(pixels.dtype))
    d1 = max(3, round(0.02 * wd))
    bottom = y0 + (op.shape[0] - 1 - np.argmax(op[::-1, cols], 0))  # each column's lowest row
    rows = bottom[None, :] + np.arange(1, 2 * d1 + 1)[:, None]  # (2 d1, n)
    xs = np.broadcast_to(x0 + cols, rows.shape)
    keep = rows < pixels.shape[0]
    rows, xs = rows[keep], xs[keep]
    reach = np.broadcast_to(np.arange(1, 2 * d1 + 1)[:, None], keep.shape)[keep]
    below = np.clip(bottom[None, :] + np.arange(2 * d1 + 1, 4 * d1 + 1)[:, None], 0, pixels.shape[0] - 1)
    under = pixels[below, np.broadcast_to(x0 + cols, below.shape)].astype(np.float64) / unit
    under = np.median(np.repeat(under[..., None], 3, -1) if under.ndim == 2 else under[..., :3], 0)  # (n, 3)
    tone = tn.carried_lower_teeth_luma + (1.0 - tn.carried_lower_teeth_luma) * smoothstep(1, 2 * d1, reach)
    target = np.broadcast_to(under[None], keep.shape + (3,))[keep] * tone[:, None]
    px = pixels[rows, xs].astype(np.float64) / unit
    rgb = np.repeat(px[:, None], 3, 1) if px.ndim == 1 else px[:, :3]
    luma, t_lum = rgb @ _LUMA, target @ _LUMA
    w = np.clip(4.0 * (luma - t_lum) / np.maximum(t_lum, 1e-3), 0.0, 1.0) * (1.0 - smoothstep(d1, 2 * d1, reach))
    if float(w.max()) <= 0:
        return pixels
    new = np.clip(rgb + w[:, None] * (target - rgb), 0, 1)
    out = pixels if in_place else pixels.copy()
    if pixels.ndim == 2:
        out[rows, xs] = from_unit(new @ _LUMA, pixels.dtype)
    else:
        out[rows, xs, :3] = from_unit(new, pixels.dtype)
    return out
