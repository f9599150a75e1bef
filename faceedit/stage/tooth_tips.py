"""Where a carried row of upper teeth ends in tips: a smile carried into an open mouth keeps its
upper teeth lit down to a depth below the upper lip that is a share of the opening's height
(:func:`faceedit.stage.lip_rims.shade_carried`), and ended there across the whole row that cut
was a straight ruler edge under the teeth (held-out 061 smiling made surprised: the smile's
lower lip hid the teeth's real tips). The edge instead rises into the row's gaps: read where the
lit teeth end (their lowest rows), else over each column's whole lit height, where the teeth's
sides run down from the gums, else placed a tooth's width apart from the row's middle (the gap
between the front incisors), as real upper incisors stand; each tooth's tip rounds into them.
No two gaps stand closer than most of a tooth's width, and a placed one moves onto the photo's
own joint between teeth near it. The edge is anti-aliased square to its slope and as soft as the
row's own side edges (:func:`side_soft`, :func:`tip_cut`): at 1 px it stood as a drawn,
stair-stepped line at 3x (held-out 061, 114; training 129)."""

from __future__ import annotations

import numpy as np

from faceedit.stage.tuning import MouthTuning

#: Where the row's gaps are not read, they are placed ``TOOTH_SHARE`` of the row's width
#: apart from its middle (the central incisors' joint, then the laterals'): a front incisor is
#: about a quarter of the front six teeth's span seen from the front.
TOOTH_SHARE = 0.22
#: Two of the row's gaps stand at least ``TIP_APART`` of a front incisor's width apart (the
#: darker kept): read gaps closer than that were one tooth's shading, and their notches a saw.
TIP_APART = 0.8
#: A gap placed a tooth's width from another moves to the darkest column of the row's lit
#: height within ``TIP_SNAP`` of a front incisor's width (where the photo's teeth part, not
#: under a tooth's middle).
TIP_SNAP = 0.3
#: A gap whose sides are read for the photo's softness (:func:`side_soft`) is at least
#: ``SIDE_CONTRAST`` of the row's median luma darker than the teeth beside it.
SIDE_CONTRAST = 0.15


def dips(prof: np.ndarray, reach: int, dip: float) -> np.ndarray:
    """(n,) bool: the columns of ``prof`` (n,) under ``dip`` of the brightest within ``reach``
    either side and the darkest within half that."""
    pad = np.pad(prof, reach, mode="edge")
    near = np.lib.stride_tricks.sliding_window_view(pad, 2 * reach + 1)
    low = near[:, reach - reach // 2:reach + reach // 2 + 1].min(1)
    return (prof < dip * near.max(1)) & (prof <= low)


def row_gaps(luma: np.ndarray, lit: np.ndarray, width: float, tn: MouthTuning) -> tuple[np.ndarray, np.ndarray]:
    """(cols, gap): the columns of the lit teeth ``lit`` ((h, w) bool; ``luma`` the pixels'
    luma, the mouth ``width`` px wide) and which are gaps between teeth: first as
    :func:`faceedit.stage.lip_rims.tooth_corners` reads them over the lowest
    ``carried_gap_band`` of each column, else over its whole height (under ``carried_whole_dip``); where
    under two are read, ``TOOTH_SHARE`` of the row's width apart from the one read (else from
    the row's middle), each moved to the darkest column of the whole lit height within
    ``TIP_SNAP`` of that width; none within ``carried_gap_reach``
    of the width of the row's ends nor where it is under ``carried_row_ends``' second share of
    its tallest (its tapered ends), and none within ``TIP_APART`` of a tooth's width of a darker
    one (:func:`apart`). No gap where the row is under four reaches wide."""
    cols = np.flatnonzero(lit.any(0))
    reach = max(int(round(tn.carried_gap_reach * width)), 2)
    if cols.size < 4 * reach:
        return cols, np.zeros(cols.size, bool)
    first = np.argmax(lit[:, cols], 0)
    last = lit.shape[0] - 1 - np.argmax(lit[::-1, cols], 0)
    tall = lit[:, cols].sum(0)
    allowed = tall >= tn.carried_row_ends[1] * np.percentile(tall, 90)
    allowed[:reach] = allowed[-reach:] = False
    band = np.maximum(np.round(tn.carried_gap_band * tall), 2).astype(int)
    low = np.array([np.median(luma[max(b - k + 1, t):b + 1, x]) for x, t, b, k in zip(cols, first, last, band)])
    gap = dips(low, reach, tn.carried_gap_dip) & allowed
    whole = np.array([np.median(luma[t:b + 1, x]) for x, t, b in zip(cols, first, last)])
    if not gap.any():
        gap = dips(whole, reach, tn.carried_whole_dip) & allowed
    n = cols.size
    step = max(TOOTH_SHARE * n, 2.0)
    # (a gap two columns wide is one gap)
    gap = apart(gap, whole, TIP_APART * step)
    if np.count_nonzero(gap) >= 2:
        return cols, gap
    # one gap read (the front incisors' joint, nearest the middle) or none: the others a
    # tooth's width apart from it
    mid = float(np.flatnonzero(gap)[0]) if gap.any() else (n - 1) / 2.0
    k = int(n / step) + 1
    at = np.round(mid + step * np.arange(-k, k + 1)).astype(int)
    snap = max(int(round(TIP_SNAP * step)), 1)
    placed = np.zeros(n, bool)
    for a in at[(at >= 0) & (at < n)]:
        near = np.arange(max(a - snap, 0), min(a + snap + 1, n))
        # the darkest near it, the nearest of equals (a flat row keeps the tooth's width)
        placed[a if gap[a] else near[np.lexsort((np.abs(near - a), whole[near]))[0]]] = True
    gap = placed
    return cols, apart(gap & allowed, whole, TIP_APART * step)


def apart(gap: np.ndarray, prof: np.ndarray, least: float) -> np.ndarray:
    """``gap`` (n,) bool with no two of its columns under ``least`` apart: the darker in
    ``prof`` (n,) kept."""
    keep = np.zeros(gap.shape, bool)
    for c in np.flatnonzero(gap)[np.argsort(prof[gap], kind="stable")]:
        near = np.flatnonzero(keep)
        if near.size == 0 or np.abs(near - c).min() >= least:
            keep[c] = True
    return keep


def side_soft(luma: np.ndarray, lit: np.ndarray, fallback: float) -> float:
    """The photo's own softness at the lit teeth's side edges (px): along each row of ``lit``
    ((h, w) bool) lit over half the row's width, across each gap (a column darkest within 3 of
    it, ``SIDE_CONTRAST`` of the row's median luma under the teeth beside it) the luma's rise over its steepest one-pixel
    step either side (a box-sampled step: 1; a Gaussian blur of sigma s: 2.5 s), the median;
    ``fallback`` where under 4 are read."""
    ws: list[float] = []
    on = lit.sum(1)
    for y in np.flatnonzero(on > 0.5 * on.max()):
        xs = np.flatnonzero(lit[y])
        xs = xs[int(0.2 * xs.size):int(0.8 * xs.size)]
        if xs.size < 12:
            continue
        p = luma[y, xs[0]:xs[-1] + 1].astype(np.float64)
        least = SIDE_CONTRAST * float(np.median(p))
        for k in range(4, p.size - 4):
            if p[k] < p[k + 1] and p[k] == p[k - 3:k + 4].min():
                for side in (p[k - 4:k + 1][::-1], p[k:k + 5]):
                    c = float(side.max() - p[k])
                    if c >= least:
                        ws.append(c / float(np.abs(np.diff(side)).max()))
    return float(np.median(ws)) if len(ws) >= 4 else fallback


def tip_cut(above: np.ndarray, end: np.ndarray, inside: np.ndarray, ramp: float, least: float,
            band: np.ndarray) -> np.ndarray:
    """(h, w) 0..1: how much of each pixel lies below the lit teeth's lower edge, ``end`` (h, w)
    px below the opening's top (``above``, :func:`faceedit.stage.lip_rims.column_gaps`;
    ``inside`` (h, w) bool the opening): a smoothstep across the edge over ``ramp`` px, measured
    square to it (its slope along the row read from ``end``; 1.5 times the photo's softness,
    :func:`side_soft`, gives the edge that softness), on a tip's rounded sides as on its flat. It
    is whole where a ramp of ``least`` px about ``end`` is (the softer edge starts higher: no
    light spreads further into the cavity than a sharp cut's), and starts no higher than
    ``band`` (h, w), the teeth kept as they are under the lip (a thin row's edge is sharper, down
    to ``least``)."""
    e = np.where(inside, np.asarray(end, np.float64), np.nan)
    with np.errstate(invalid="ignore"):
        slope = np.nan_to_num(np.gradient(e, axis=1), nan=0.0)
    c = 1.0 / np.sqrt(1.0 + np.minimum(slope * slope, 9.0))
    least = max(least, 1e-3)
    hi = 0.5 * least
    lo = np.minimum(np.maximum(hi - max(ramp, least), (band - end) * c), -hi)
    t = np.clip(((above - end) * c - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def tip_lift(luma: np.ndarray, lit: np.ndarray, width: float, tn: MouthTuning) -> np.ndarray:
    """(w,) px: how far the lit teeth's lower edge rises in each column of ``lit`` ((h, w) bool,
    ``luma`` the pixels' luma, a mouth ``width`` px wide) beside the row's gaps
    (:func:`row_gaps`): ``carried_tip_depth`` of the width at a gap, smoothly to none
    ``carried_tip_reach`` of it away (a smoothstep: the tips' corners and the gap's top both round), at most ``carried_tip_share`` of the column's lit height. Zeros where no gap is found."""
    out = np.zeros(lit.shape[1])
    cols, gap = row_gaps(luma, lit, width, tn)
    if not gap.any():
        return out
    d = np.abs(cols[:, None] - cols[gap][None, :]).min(1).astype(np.float64)
    t = np.clip(d / max(tn.carried_tip_reach * width, 1.0), 0.0, 1.0)
    out[cols] = np.minimum(tn.carried_tip_depth * width * (1.0 - t * t * (3.0 - 2.0 * t)), tn.carried_tip_share * lit[:, cols].sum(0))
    return out
