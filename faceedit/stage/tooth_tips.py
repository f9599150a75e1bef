"""Where a carried row of upper teeth ends in tips: a smile carried into an open mouth keeps its
upper teeth lit down to a depth below the upper lip that is a share of the opening's height
(:func:`faceedit.stage.lip_rims.shade_carried`), and ended there across the whole row that cut
was a straight ruler edge under the teeth (held-out 061 smiling made surprised: the smile's
lower lip hid the teeth's real tips). The edge instead rises into the row's gaps: read where the
lit teeth end (their lowest rows), else over each column's whole lit height, where the teeth's
sides run down from the gums, else placed a tooth's width apart from the row's middle (the gap
between the front incisors), as real upper incisors stand; each tooth's tip rounds into them."""

from __future__ import annotations

import numpy as np

from faceedit.stage.tuning import MouthTuning

#: Where the row's gaps are not read, they are placed ``TOOTH_SHARE`` of the row's width
#: apart from its middle (the central incisors' joint, then the laterals'): a front incisor is
#: about a quarter of the front six teeth's span seen from the front.
TOOTH_SHARE = 0.22


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
    the row's middle); none within ``carried_gap_reach``
    of the width of the row's ends nor where it is under ``carried_row_ends``' second share of
    its tallest (its tapered ends). No gap where the row is under four reaches wide."""
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
    if not gap.any():
        whole = np.array([np.median(luma[t:b + 1, x]) for x, t, b in zip(cols, first, last)])
        gap = dips(whole, reach, tn.carried_whole_dip) & allowed
    if np.count_nonzero(gap) >= 2:
        return cols, gap
    # one gap read (the front incisors' joint, nearest the middle) or none: the others a
    # tooth's width apart from it
    n = cols.size
    mid = float(np.flatnonzero(gap)[0]) if gap.any() else (n - 1) / 2.0
    step = max(TOOTH_SHARE * n, 2.0)
    k = int(n / step) + 1
    at = np.round(mid + step * np.arange(-k, k + 1)).astype(int)
    gap = np.zeros(n, bool)
    gap[at[(at >= 0) & (at < n)]] = True
    return cols, gap & allowed


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
