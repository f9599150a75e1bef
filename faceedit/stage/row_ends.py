"""An open mouth's upper row of teeth where a smile is taken away and the mouth stays open (fear,
surprise): how it ends. The row is the face's own carried row or the mouth bank's, whichever the
fill takes on grounds that hold for every value of a control (no switch on the opening's width, so
teeth do not come and go as a control moves). Real rows end in the mouth's shadow, their last teeth
darker and shorter under the lip, not lit to their last column and cut off square against the
dark: :func:`fade_row_ends` finds the lit row under the upper lip and, over each end's share of
its length, darkens it toward a few times the cavity's tone and shortens it from below into the
cavity."""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import median_filter

from faceedit.pixels import LUMA_WEIGHTS, from_unit
from faceedit.stage.lip_rims import smoothstep
from faceedit.stage.tooth_steps import lit_opening
from faceedit.stage.tuning import EditTuning

_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)


def row_columns(lit: np.ndarray, gap: int) -> tuple[int, int] | None:
    """The first and last column of the widest run of columns of ``lit`` (bool (h, w)) holding a
    lit pixel, runs joined over gaps of up to ``gap`` columns; None where none is lit."""
    cols = np.flatnonzero(lit.any(0))
    if cols.size == 0:
        return None
    breaks = np.flatnonzero(np.diff(cols) > gap + 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [cols.size - 1]])
    k = int(np.argmax(cols[ends] - cols[starts]))
    return int(cols[starts[k]]), int(cols[ends[k]])


def fade_row_ends(pixels: np.ndarray, roi, opening: np.ndarray, tuning: EditTuning, *, amount: float = 1.0,
                  in_place: bool = False) -> np.ndarray:
    """The upper row of teeth inside ``opening`` (float 0..1 over ``roi`` = (x0, y0, x1, y1)) faded at
    its ends. The cavity's tone: the median colour of the opening's darker third; the row: the widest
    run of columns (gaps of 2 px joined) with a pixel as grey as teeth (red less blue under 0.2-0.3 of
    the luma) over twice the tone's luma and 0.45 of the opening's 98th-percentile luma in the upper
    half of its column, where that is over three times the opening's median; its height: the median
    over its columns of their lit pixels' depth below the teeth's own top (each column's first pixel
    of teeth, a running median of 5 columns). Over ``row_ends_share`` of the row's length from each
    end (smoothstep) every pixel of the upper half is drawn toward the tone (its difference from the
    tone scaled: the cavity stays) as far as it is teeth (each tooth whole, its dim rim and shading
    with its lit middle, a pixel round it softly; as grey as teeth: the lips' rims stay), the teeth
    beyond the row as its ends, at the end so far that the row's median lit luma stands
    ``row_ends_contrast`` times the tone's, and below ``row_ends_narrow`` of the row's height there
    wholly (softly, over the rest of the height): the end's teeth darker and shorter. ``amount``
    (0..1) of that change (0: none). Unchanged without a row of at least 8 columns. A new array, or
    ``pixels`` written over with ``in_place``."""
    share, contrast, narrow = tuning.row_ends_share, tuning.row_ends_contrast, tuning.row_ends_narrow
    x0, y0, x1, y1 = (int(v) for v in roi)
    op = np.clip(np.asarray(opening, np.float32), 0.0, 1.0)
    inside = op > 0.5
    if share <= 0 or amount <= 0 or inside.sum() < 50 or pixels.ndim != 3:
        return pixels
    found = lit_opening(pixels, roi, inside)
    if found is None:
        return pixels
    crop, luma, top = found
    dark = luma[inside]
    tone = np.median(crop[inside][dark <= np.percentile(dark, 33)], 0)
    t_luma = max(float(tone @ _LUMA), 0.01)
    rows = np.arange(crop.shape[0], dtype=np.float64)[:, None]
    first = np.where(inside.any(0), np.argmax(inside, 0), 0)
    depth = rows - first[None, :]
    upper = inside & (depth < inside.sum(0)[None, :] / 2.0)
    # teeth only: the lips' rims inside the opening (red over blue 0.33-0.47 of their luma on London 009, 006,
    # 137, the teeth 0.10-0.18) and the cavity (at the tone) stay
    rb = (crop[..., 0] - crop[..., 2]) / np.maximum(luma, 1e-3)
    grey = 1.0 - smoothstep(0.2, 0.3, rb)
    lit = upper & (luma > 0.45 * top) & (luma > 2.0 * t_luma) & (grey > 0.5)
    span = row_columns(lit, 2)
    if span is None or span[1] - span[0] + 1 < 8:
        return pixels
    a, b = span
    row_lit = lit[:, a:b + 1]
    end = float(np.clip((contrast - 1.0) * t_luma / max(float(np.median(luma[:, a:b + 1][row_lit])) - t_luma, 1e-6),
                        0.0, 1.0))
    teeth = smoothstep(2.0 * t_luma, 0.45 * top, luma) * grey
    # the ends fade from where the teeth end, not the lit ones: a row the shade already darkens
    # toward its corners (a smile's full row carried under a surprised lip) keeps its shaded
    # side teeth (faded from the lit row's ends, a full row of eight came out two front teeth)
    toothy = upper & (teeth > 0.5)
    whole = row_columns(toothy, 2)
    if whole is not None and whole[0] <= b and whole[1] >= a:
        a, b = min(a, whole[0]), max(b, whole[1])
    xs = np.arange(crop.shape[1], dtype=np.float64)
    s = smoothstep(0.0, 1.0, (np.minimum(xs - a, b - xs) + 0.5) / max(share * (b - a + 1), 1.0))
    s = np.where((xs >= a) & (xs <= b), s, 0.0)
    gain = end + (1.0 - end) * s  # along the row
    # below narrow x the height, at the end, the teeth go wholly (softly over the rest of the height)
    # (the height read down from the teeth's own top, each column's first tooth pixel, over a running median of 5:
    # where the lip is lifted off the row the opening's top lies above it, and read from there a column's step in
    # it cut a tooth along the column, its lower part gone: a half-dark tooth, web img31 made surprised)
    tops = median_filter(np.where(toothy.any(0), np.argmax(toothy, 0), first).astype(np.float64), size=5, mode="nearest")
    depth = rows - tops[None, :]
    height = float(np.median([d[m].max() + 1.0 for d, m in zip(depth[:, a:b + 1].T, row_lit.T) if m.any()]))
    short = 1.0 - (1.0 - s)[None, :] * smoothstep(narrow * height, height, depth)
    # a tooth faded as a whole: its dim rim and shading as far as its lit middle (weighted by each pixel's
    # own lightness, a tooth faded wholly kept a light rim round a dark core, a decayed tooth: web img31
    # made surprised), a pixel beyond it softly; the lips' rims (not grey) stay
    tooth = (teeth > 0).astype(np.float32)
    whole_teeth = np.maximum(tooth, cv2.GaussianBlur(cv2.dilate(tooth, np.ones((3, 3), np.uint8)), (0, 0), 1.0))
    fade = whole_teeth * np.clip(2.0 * grey, 0.0, 1.0)
    g = np.where(upper, 1.0 - min(amount, 1.0) * fade * (1.0 - gain[None, :] * short), 1.0)
    if (g >= 1.0).all():
        return pixels
    out = pixels if in_place else pixels.copy()
    ys, xx = np.nonzero(g < 1.0)
    shaded = tone[None, :] + (crop[ys, xx] - tone[None, :]) * g[ys, xx][:, None]
    out[ys + y0, xx + x0, :3] = from_unit(np.clip(shaded, 0.0, 1.0), pixels.dtype)
    return out
