"""The lower lip's inner margin under an open mouth into which a smile's teeth were carried
(fear or surprise from a smile): what the smile carried down with the lower lip (its lower
teeth's tips, the dark gaps between them) covered by the lip's own pixels, lit at the curve,
so the cavity above ends on a lip that follows the opening's lower curve.
:class:`faceedit.stage.mouth_bank.MouthBank` calls it before it paints the opening, whose
lower rim (:func:`faceedit.stage.lip_rims.rims`) then continues the margin into the interior."""

from __future__ import annotations

import numpy as np

from faceedit.pixels import LUMA_WEIGHTS, from_unit, pixel_max
from faceedit.stage.lip_rims import lower_lit, smoothstep, teeth_like
from faceedit.stage.tuning import MouthTuning

_LUMA = np.asarray(LUMA_WEIGHTS, np.float64)


def lower_falloff(col: np.ndarray, t: np.ndarray, hd: np.ndarray, wd: float, lip: np.ndarray,
                  tn: MouthTuning) -> np.ndarray:
    """Unit RGB ``col`` (n, 3) of an open mouth's interior under carried teeth (``t`` px below
    the upper curve, ``hd`` its column's height) lifted towards the lower lip's inner margin:
    light off the lip (``lip``, its local colour, at ``carried_falloff`` of it) falls on the
    cavity's floor just above it, fading over ``carried_falloff_reach`` of the corner distance
    ``wd`` (at most ``carried_falloff_share`` of the column) up from the lower lip; no pixel
    darkened. The cavity's lower part then falls off softly from the margin rather than
    meeting the lip as one flat dark."""
    reach = np.maximum(np.minimum(tn.carried_falloff_reach * wd, tn.carried_falloff_share * hd), 0.5)
    a = np.exp(-np.maximum(hd - t, 0.0) / reach) * (hd > 0)
    glow = np.asarray(lip, np.float64) * tn.carried_falloff
    return np.maximum(col, col + a[:, None] * (glow - col))


def cover_lower_row(pixels: np.ndarray, roi, opening: np.ndarray, wd: float, lip: np.ndarray, tn: MouthTuning,
                    *, in_place: bool = False) -> np.ndarray:
    """Under each column of ``opening`` (float over ``roi`` = (x0, y0, x1, y1)) a band
    ``D`` deep below the opening's lower edge (its last pixel over half covered, and the
    coverage of the next) taken to the
    lower lip's own pixels mirrored up over the band's lower end (their grain and colour, from
    ``D`` to ``2 D`` below the edge), wholly over ``carried_margin_whole`` of the band and
    blending back to the photo's over the rest. They are shaded as a lip's inner margin
    rolling in towards the opening: :func:`~faceedit.stage.lip_rims.lower_lit` of their luma
    at the edge (lit in the middle, in the rims' shade at the corners), all of it at the
    band's end, and a soft light along the curve (``carried_margin_light`` at
    ``carried_margin_light_at`` of the band, a Gaussian ``carried_margin_light_width`` of it
    wide, none at the corners). ``D`` is ``carried_margin_reach`` of the corner distance ``wd``,
    deeper in a column where what reads as teeth (:func:`~faceedit.stage.lip_rims.teeth_like`
    against the lips' ring colour ``lip``, unit RGB) or darker than ``carried_margin_dark`` of
    the lip's luma lies further down, to 2 px past it, at most ``carried_margin_most`` of
    ``wd``; the columns' depths spread to their neighbours and smoothed along the row. The
    band follows the edge column by column, at its sub-pixel
    depth: no straight row, no specks left between a smile's lower teeth. A new array, or
    ``pixels`` written over with ``in_place``; ``pixels`` itself when the opening is empty
    or ``carried_margin_reach`` is 0."""
    x0, y0, x1, y1 = (int(v) for v in roi)
    op = np.clip(np.asarray(opening, np.float32), 0.0, 1.0)
    full = op > 0.5
    cols = np.flatnonzero(full.any(0))
    if cols.size < 2 or tn.carried_margin_reach <= 0:
        return pixels
    h = pixels.shape[0]
    unit = float(pixel_max(pixels.dtype))
    low = full.shape[0] - 1 - np.argmax(full[::-1, cols], 0)  # each column's last pixel over half covered
    nxt = np.minimum(low + 1, op.shape[0] - 1)
    edge = y0 + low + 0.5 + np.where(nxt > low, op[nxt, cols], 0.0)  # the edge's sub-pixel row
    d_px = _depths(pixels, x0 + cols, y0 + low, wd, lip, tn)
    n = int(np.ceil(d_px.max())) + 1
    rows = y0 + low[None, :] + np.arange(1, n + 1)[:, None]  # (n, k)
    d = rows + 0.5 - edge[None, :]  # px below the edge, at each pixel's centre
    d_px = d_px[None, :]
    src = np.clip(np.round(2.0 * edge[None, :] + 2.0 * d_px - rows - 1.0).astype(np.int64), 0, h - 1)
    u = (cols - cols[0]) / max(float(cols[-1] - cols[0]), 1.0)
    side = np.minimum(u, 1.0 - u)
    t = np.clip(d / d_px, 0.0, 1.0)
    lit = lower_lit(u, tn)[None, :]
    light = tn.carried_margin_light * smoothstep(0.0, tn.rim_lower_lit_from, side)[None, :] * np.exp(
        -(((t - tn.carried_margin_light_at) / tn.carried_margin_light_width) ** 2))
    shade = lit + (1.0 - lit) * smoothstep(0.0, 1.0, t) + light
    # the corners' few pixels stay the photo's (the lips meet there)
    w = ((1.0 - smoothstep(tn.carried_margin_whole, 1.0, t)) * (d > 0)
         * smoothstep(tn.carried_margin_corner, 2.0 * tn.carried_margin_corner, side)[None, :] * (rows < h))
    xs = np.broadcast_to(x0 + cols[None, :], rows.shape)
    k = w > 0
    if not k.any():
        return pixels
    rr, xx, ss, wk, sk = rows[k], xs[k], src[k], w[k], shade[k]
    cur = pixels[rr, xx].astype(np.float64) / unit
    lip = pixels[ss, xx].astype(np.float64) / unit
    if pixels.ndim == 3:
        cur, lip, wk, sk = cur[:, :3], lip[:, :3], wk[:, None], sk[:, None]
    new = np.clip(cur + wk * (sk * lip - cur), 0.0, 1.0)
    out = pixels if in_place else pixels.copy()
    if pixels.ndim == 3:
        out[rr, xx, :3] = from_unit(new, pixels.dtype)
    else:
        out[rr, xx] = from_unit(new, pixels.dtype)
    return out


def _depths(pixels: np.ndarray, xs: np.ndarray, low: np.ndarray, wd: float, lip: np.ndarray,
            tn: MouthTuning) -> np.ndarray:
    """The band's depth (px) under each column ``xs`` of the photo whose opening ends at row
    ``low``, as :func:`cover_lower_row` says."""
    base = max(2.0, tn.carried_margin_reach * wd)
    most = max(base, tn.carried_margin_most * wd)
    m = int(np.ceil(most))
    unit = float(pixel_max(pixels.dtype))
    rows = np.clip(low[None, :] + np.arange(1, m + 1)[:, None], 0, pixels.shape[0] - 1)
    px = pixels[rows, np.broadcast_to(xs[None, :], rows.shape)].astype(np.float64) / unit
    px = np.repeat(px[..., None], 3, -1) if px.ndim == 2 else px[..., :3]
    ring = np.asarray(lip, np.float64)
    odd = (teeth_like(px, ring) > 0.5) | (px @ _LUMA < tn.carried_margin_dark * float(ring @ _LUMA))
    last = np.where(odd.any(0), m - np.argmax(odd[::-1], 0), 0)  # depth of the last odd pixel (px)
    dep = np.clip(last + 2.0, base, most)
    # spread to the neighbours (a tooth's edge column) and smoothed along the row: no steps
    r = max(1, round(0.01 * wd))
    pad = np.pad(dep, r, mode="edge")
    dep = np.max(np.lib.stride_tricks.sliding_window_view(pad, 2 * r + 1), -1)
    k = np.exp(-0.5 * (np.arange(-3 * r, 3 * r + 1) / r) ** 2)
    pad = np.pad(dep, 3 * r, mode="edge")
    return np.convolve(pad, k / k.sum(), "valid")
