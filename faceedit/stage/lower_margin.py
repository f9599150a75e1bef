"""The lower lip's inner margin under an open mouth into which a smile's teeth were carried
(fear or surprise from a smile): what the smile carried down with the lower lip (its lower
teeth's tips, the dark gaps between them) covered by the lip's colour and grain, lit along
the curve (:func:`cover_lower_row`), so the cavity above ends on a lip that follows the
opening's lower curve; and the cavity's floor lit off that margin (:func:`lower_falloff`).
:class:`faceedit.stage.mouth_bank.MouthBank` covers the row before it paints the opening, whose
lower rim (:func:`faceedit.stage.lip_rims.rims`) then continues the margin into the interior.
Where colour found no interior, the smile's upper teeth in the Face Mesh's loop are found
here (:func:`loop_teeth_share`) and carried as found ones."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS, from_unit, pixel_max
from faceedit.stage.lip_rims import lower_lit, smoothstep, teeth_like
from faceedit.stage.lip_start import points_box
from faceedit.stage.lips import sample_points
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
    """Under each column of ``opening`` (float over ``roi`` = (x0, y0, x1, y1)) a band ``D``
    deep below the opening's lower edge (its last pixel over half covered, and the coverage of
    the next) taken to the lower lip's colour just past the band (each column's median over 5
    rows, smoothed along the row by a Gaussian of ``carried_margin_smooth`` of ``wd``, no
    lighter than ``carried_margin_cap`` of its median over the row) with the fine grain (less a
    Gaussian blur of ``carried_margin_grain`` px) of the lip's pixels mirrored up over the
    band's end (from ``D`` to ``2 D`` below the edge); wholly over ``carried_margin_whole`` of
    the band, blending back to the photo's over the rest. The band is shaded as a lip's inner
    margin rolling in towards the opening: :func:`~faceedit.stage.lip_rims.lower_lit` of its
    luma at the edge (lit in the middle, in the rims' shade at the corners) where the column
    is ``rim_lower_lit_height`` of ``wd`` tall (a thin opening's margin lies in the upper lip's
    shade, ``rim_edge``), all of it at the band's end, and there a soft light along the curve
    (``carried_margin_light`` at ``carried_margin_light_at`` of the band, a Gaussian
    ``carried_margin_light_width`` of it wide, none at the corners); within ``carried_margin_corner`` of the width of each corner it
    stays the photo's. ``D`` is ``carried_margin_reach`` of the corner distance ``wd``, deeper
    in a column where what reads as teeth (:func:`~faceedit.stage.lip_rims.teeth_like` against
    the lips' ring colour ``lip``, unit RGB; or greyer than ``carried_margin_grey`` of its
    chroma over luma and not darker than ``carried_margin_dark`` of its luma) lies further
    down (or, within twice that reach, a pixel darker than that) before 3 lip pixels in a row,
    to 2 px past it, at most ``carried_margin_most`` of ``wd``; the columns' depths spread to
    their neighbours and smoothed along the row. The band follows the edge column by column,
    at its sub-pixel depth: no straight row, no specks left between a smile's lower teeth. A
    new array, or ``pixels`` written over with ``in_place``; ``pixels`` itself when the
    opening is empty or ``carried_margin_reach`` is 0."""
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
    # a thin opening's lower margin lies in the upper lip's shade (as the rims' does): lit only
    # where the column is ``rim_lower_lit_height`` tall
    height = full[:, cols].sum(0) / max(wd, 1e-6)
    tall = smoothstep(tn.rim_lower_lit_height[0], tn.rim_lower_lit_height[1], height)
    lit = (tn.rim_edge + (lower_lit(u, tn) - tn.rim_edge) * tall)[None, :]
    light = tn.carried_margin_light * (tall * smoothstep(0.0, tn.rim_lower_lit_from, side))[None, :] * np.exp(
        -(((t - tn.carried_margin_light_at) / tn.carried_margin_light_width) ** 2))
    shade = lit + (1.0 - lit) * smoothstep(0.0, 1.0, t) + light
    # the corners' few pixels stay the photo's (the lips meet there)
    w = ((1.0 - smoothstep(tn.carried_margin_whole, 1.0, t)) * (d > 0)
         * smoothstep(tn.carried_margin_corner, 2.0 * tn.carried_margin_corner, side)[None, :] * (rows < h))
    xs = np.broadcast_to(x0 + cols[None, :], rows.shape)
    k = w > 0
    if not k.any():
        return pixels
    # the lip's colour: each column's pixels just past the band (their median over 5 rows,
    # smoothed along the row: mirrored whole, the lip's highlights drew V shapes where the
    # band's depth changed; carried up column by column, bars), with the mirrored pixels' grain
    by0, by1 = int(rows.min()) - 3, min(int(max(rows.max(), src.max())) + 7, h)
    bx0, bx1 = max(x0 + int(cols[0]) - 3, 0), min(x0 + int(cols[-1]) + 4, pixels.shape[1])
    by0 = max(by0, 0)
    box = pixels[by0:by1, bx0:bx1].astype(np.float64) / unit
    box = box[..., None] if box.ndim == 2 else box[..., :3]
    grain = box - cv2.GaussianBlur(box, (0, 0), tn.carried_margin_grain).reshape(box.shape)
    past = np.clip(np.round(edge[None, :] + d_px + np.arange(1, 6)[:, None]).astype(np.int64), by0, by1 - 1)
    base = np.median(box[past - by0, (x0 + cols - bx0)[None, :]], 0)  # (k, c)
    # no lighter than the row's median by more than a share (a tooth or a highlight there)
    bl = base @ _LUMA if base.shape[1] == 3 else base[:, 0]
    base = base * np.minimum(1.0, tn.carried_margin_cap * float(np.median(bl)) / np.maximum(bl, 1e-6))[:, None]
    sig = max(tn.carried_margin_smooth * wd, 0.5)
    ker = np.exp(-0.5 * (np.arange(-int(3 * sig), int(3 * sig) + 1) / sig) ** 2)
    pad = np.pad(base, ((len(ker) // 2, len(ker) // 2), (0, 0)), mode="edge")
    base = np.stack([np.convolve(pad[:, c], ker / ker.sum(), "valid") for c in range(base.shape[1])], 1)
    rr, xx, ss, wk, sk = rows[k], xs[k], src[k], w[k], shade[k]
    cur = pixels[rr, xx].astype(np.float64) / unit
    lip = np.broadcast_to(base[None], rows.shape + base.shape[-1:])[k] + grain[np.clip(ss, by0, by1 - 1) - by0, xx - bx0]
    if pixels.ndim == 3:
        cur, wk, sk = cur[:, :3], wk[:, None], sk[:, None]
    else:
        lip = lip[:, 0]
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
    # teeth anywhere to ``most`` (light, or grey at the lip's luma: a tooth in the lip's shade);
    # the dark gaps between them only within twice ``base`` (further down a thin lip's own
    # border or the skin's shadow under it is dark)
    luma, lip_l = px @ _LUMA, float(ring @ _LUMA)
    lip_c = max(float(ring.max() - ring.min()) / max(lip_l, 1e-3), 1e-3)
    grey = (px.max(-1) - px.min(-1)) / np.maximum(luma, 1e-3) < tn.carried_margin_grey * lip_c
    dark = (luma < tn.carried_margin_dark * lip_l) & (np.arange(1, m + 1)[:, None] <= 2 * base)
    odd = (teeth_like(px, ring) > 0.5) | (grey & (luma > tn.carried_margin_dark * lip_l)) | dark
    # the depth (px) of the last odd pixel of the run from the edge: it ends at the first 3 lip
    # pixels in a row (further down, the lip's own highlight is light and grey too)
    last = np.zeros(odd.shape[1])
    for c in range(odd.shape[1]):
        lip_run = np.convolve(~odd[:, c], np.ones(3), "valid") >= 3
        end = int(np.argmax(lip_run)) if lip_run.any() else m
        hits = np.flatnonzero(odd[:end, c])
        last[c] = hits[-1] + 1 if hits.size else 0
    dep = np.clip(last + 2.0, base, most)
    # spread to the neighbours (a tooth's edge column) and smoothed along the row: no steps
    r = max(1, round(0.01 * wd))
    pad = np.pad(dep, r, mode="edge")
    dep = np.max(np.lib.stride_tricks.sliding_window_view(pad, 2 * r + 1), -1)
    k = np.exp(-0.5 * (np.arange(-3 * r, 3 * r + 1) / r) ** 2)
    pad = np.pad(dep, 3 * r, mode="edge")
    return np.convolve(pad, k / k.sum(), "valid")


#: Samples down each column of a loop (:func:`loop_teeth_share`).
LOOP_SAMPLES = 25


def loop_teeth_share(rgb: np.ndarray, upper: np.ndarray, lower: np.ndarray, tn: MouthTuning) -> np.ndarray | None:
    """(N,) for each point of a mouth's inner-lip loop (``upper``/``lower``: (N, 2) photo
    coordinates, left corner first; the Face Mesh's, where colour found no interior), the share
    of the column's height from the upper curve down to the end of its upper teeth: the longest
    run of teeth (:func:`~faceedit.stage.lip_rims.teeth_like` over ``tn.loop_teeth_sure`` against
    the lips' colour read just above and below the loop) starting in its top
    ``tn.loop_teeth_start``, at least ``tn.loop_teeth_run`` samples long; 0 where a column has
    none; None where fewer than ``tn.carried_teeth_columns`` of the columns have one (closed
    lips, a dark slit). A smile's thin
    row of teeth in a loop that reaches over the lips' inner sides is too small a part of it for
    :func:`~faceedit.stage.lips.find_interior` (its lightness percentile is the lips')."""
    up, lo = np.asarray(upper, np.float64), np.asarray(lower, np.float64)
    n = len(up)
    w = float(np.linalg.norm(up[-1] - up[0]))
    if w < 8:
        return None
    img = np.asarray(rgb)
    img = np.repeat(img[..., None], 3, -1) if img.ndim == 2 else img[..., :3]
    unit = float(pixel_max(img.dtype))
    t = (np.arange(LOOP_SAMPLES) + 0.5) / LOOP_SAMPLES
    pts = up[:, None, :] + t[None, :, None] * (lo - up)[:, None, :]
    off = np.linspace(0.03, 0.1, 4)[None, :, None] * w * np.array([0.0, 1.0])
    ring = np.vstack([(up[1:-1, None, :] - off).reshape(-1, 2), (lo[1:-1, None, :] + off).reshape(-1, 2)])

    def at(p: np.ndarray) -> np.ndarray:
        x = np.clip(p[:, 0], 0, img.shape[1] - 1)
        y = np.clip(p[:, 1], 0, img.shape[0] - 1)
        # (each channel read from the points' box alone, at float32 positions shifted by whole pixels)
        xy = np.stack([x, y], 1).astype(np.float32)
        (x0, y0), (x1, y1) = points_box(xy, img.shape)
        near, sx, sy = img[y0:y1, x0:x1], xy[:, 0] - np.float32(x0), xy[:, 1] - np.float32(y0)
        return np.stack([sample_points(near[..., c].astype(np.float32), sx, sy) for c in range(3)], 1) / unit

    lip = np.median(at(ring), 0)
    teeth = teeth_like(at(pts.reshape(-1, 2)), lip).reshape(n, LOOP_SAMPLES) >= tn.loop_teeth_sure
    share = np.zeros(n)
    first = int(np.ceil(tn.loop_teeth_start * LOOP_SAMPLES))
    for i in range(n):
        k, best = 0, (0, 0)  # (length, end) of the longest run (a gap of one sample bridged)
        while k < first:
            if not teeth[i, k]:
                k += 1
                continue
            j = k
            while j + 1 < LOOP_SAMPLES and (teeth[i, j + 1] or (j + 2 < LOOP_SAMPLES and teeth[i, j + 2])):
                j += 1
            best = max(best, (j - k + 1, j + 1))
            k = j + 1
        if best[0] >= tn.loop_teeth_run:
            share[i] = best[1] / LOOP_SAMPLES
    if float(np.mean(share > 0)) < tn.carried_teeth_columns:
        return None
    return share
