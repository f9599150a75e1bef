"""Per-column reads of a mask over an image, all columns at once, in whole-array steps that give
what a loop over the columns (one :func:`numpy.median` or one run search a column) gives: the
same sums and the same comparisons in the same order (``tests/test_stage_columns.py`` keeps the
loops and compares).

- :func:`shade_under` (:func:`faceedit.stage.teeth_look.under_shade`): the factor that darkens
  each column's lowest masked pixel toward a share of the median of the 4 pixels 4-7 rows under
  it;
- :func:`white_runs` (:func:`faceedit.stage.lid_edge.lid_edge_rise`): each column's run of white
  pixels starting above dark ones and ending in dark.
"""

from __future__ import annotations

import numpy as np


def _median4(v: np.ndarray) -> np.ndarray:
    """``np.median`` of each column of ``v`` (4, M): the two middle values' sum over 2 in ``v``'s
    dtype (what ``np.median`` of 4 values computes), NaN where a column holds one."""
    s = np.sort(v, 0)
    med = (s[1] + s[2]) / 2
    nan = np.isnan(v).any(0)
    if nan.any():
        med[nan] = np.nan
    return med


def shade_under(f: np.ndarray, y: np.ndarray, inside: np.ndarray, xs: np.ndarray, least: int, share: float,
                floor: float) -> np.ndarray:
    """``f`` with, in each column ``x`` of ``xs`` where ``inside`` ((H, W) bool, the shape of the
    luma ``y``) holds at least ``least`` pixels, its lowest one ``b`` set to ``min(1, max(share *
    median(y[b+4:b+8, x]), floor) / max(y[b, x], 1e-3))`` where those 4 rows lie in the image and
    outside ``inside`` (left as it is elsewhere). Python's ``max`` and ``min`` of floats, NaNs
    and ties as they take them."""
    sub = inside[:, xs]
    h = inside.shape[0]
    b = h - 1 - np.argmax(sub[::-1], 0)  # each column's lowest pixel inside
    ok = (np.count_nonzero(sub, 0) >= least) & (b + 8 <= h)
    xs, b = xs[ok], b[ok]
    rows = b[None, :] + np.arange(4, 8)[:, None]  # (4, M): 4-7 rows under each
    clear = ~inside[rows, xs].any(0)
    xs, b, rows = xs[clear], b[clear], rows[:, clear]
    if not xs.size:
        return f
    a = share * _median4(y[rows, xs]).astype(np.float64)
    target = np.where(floor > a, floor, a)  # max(a, floor)
    own = y[b, xs].astype(np.float64)
    v = target / np.where(1e-3 > own, 1e-3, own)  # / max(own, 1e-3)
    f[b, xs] = np.where(v < 1.0, v, 1.0)  # min(1.0, v)
    return f


def white_runs(dark: np.ndarray, white: np.ndarray, hs: np.ndarray, first: np.ndarray, lo: np.ndarray,
               hi: np.ndarray) -> np.ndarray:
    """(M, 2): each row's (start, top) heights of a white run, NaNs where it shows none; rows of
    ``dark`` and ``white`` ((M, N) bool) are columns across an eye read at the heights ``hs``
    ((N,), ascending), each from its index ``first[i]`` on. The run is the first white of the row
    there, at a height within ``lo[i]``-``hi[i]``, with nothing but dark below it (back to
    ``first[i]``) but within a pixel's height of it, and white up to its top, which is followed by
    dark within a pixel's height (and is not its start)."""
    m, n = white.shape
    j = np.arange(n)[None, :]
    w = white & (j >= first[:, None])
    has = w.any(1)
    f = np.argmax(w, 1)
    hf = hs[f]
    ok = has & (lo <= hf) & (hf <= hi)
    # light below the start (not dark, and more than a pixel below it)
    below = (j >= first[:, None]) & (j < f[:, None]) & ~dark & (hs[None, :] < (hf - 1.0)[:, None])
    ok &= ~below.any(1)
    gap = ~white & (j > f[:, None])  # the first pixel past the start that is not white
    top = np.where(gap.any(1), np.argmax(gap, 1), n) - 1
    after = dark & (j > top[:, None])
    end = np.argmax(after, 1)
    ok &= (top != f) & after.any(1)
    ok &= ~(hs[np.where(ok, end, 0)] - hs[top] > 1.0)
    out = np.full((m, 2), np.nan)
    out[ok, 0], out[ok, 1] = hs[f[ok]], hs[top[ok]]
    return out
