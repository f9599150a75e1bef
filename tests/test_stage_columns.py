"""Per-column reads all at once (faceedit.stage.columns) give what the column-by-column loops
they replace gave, value for value: the loops are kept here as the reference, run on random
masks and lumas (runs cut by the image's bottom, columns under the least height, NaN lumas,
white runs that start too high or end in no dark)."""

from __future__ import annotations

import numpy as np

from faceedit.stage.columns import shade_under, white_runs


def _under_loop(f, y, inside, xs, least, share, floor):
    for x in xs:
        rows = np.flatnonzero(inside[:, x])
        if rows.size < least:
            continue
        b = int(rows[-1])
        lip = y[b + 4:b + 8, x]
        if lip.size == 4 and not inside[b + 4:b + 8, x].any():
            target = max(share * float(np.median(lip)), floor)
            f[b, x] = min(1.0, target / max(float(y[b, x]), 1e-3))
    return f


def _run(dark, white, hs, start):
    found = np.nonzero(white)[0]
    if len(found) == 0 or not start[0] <= hs[found[0]] <= start[1]:
        return np.nan, np.nan
    first = top = found[0]
    if (~dark[:first] & (hs[:first] < hs[first] - 1.0)).any():
        return np.nan, np.nan
    while top + 1 < len(hs) and white[top + 1]:
        top += 1
    ends = np.nonzero(dark[top + 1:])[0]
    if top == first or len(ends) == 0 or hs[top + 1 + ends[0]] - hs[top] > 1.0:
        return np.nan, np.nan
    return float(hs[first]), float(hs[top])


def test_shade_under_is_the_column_loop():
    rng = np.random.default_rng(0)
    changed = 0
    for trial in range(300):
        h, w = rng.integers(6, 30), rng.integers(3, 25)
        inside = np.zeros((h, w), bool)
        for x in range(w):  # a run per column, some reaching the bottom, some empty
            top = rng.integers(0, h)
            inside[top:min(h, top + rng.integers(0, 9)), x] = True
        inside |= rng.random((h, w)) < 0.03
        y = (rng.random((h, w)) * (1.0 if trial % 3 else 0.002)).astype(np.float32)
        if trial % 7 == 0:
            y[rng.random((h, w)) < 0.05] = np.nan
        xs = np.flatnonzero(inside.any(0))[1:]
        floor = float(rng.random() * 0.3)
        ref = _under_loop(np.ones((h, w), np.float32), y, inside, xs, 4, 0.75, floor)
        got = shade_under(np.ones((h, w), np.float32), y, inside, xs, 4, 0.75, floor)
        np.testing.assert_array_equal(got, ref)  # NaN where NaN
        changed += int((ref != 1).sum())
    assert changed > 100  # the cases shade something


def test_white_runs_are_the_run_loop():
    rng = np.random.default_rng(1)
    shown = 0
    for _ in range(200):
        m, n = rng.integers(1, 12), rng.integers(2, 40)
        hs = np.arange(n) * 0.5 - rng.random() * 3
        dark = rng.random((m, n)) < rng.random()
        white = ~dark & (rng.random((m, n)) < 0.8)
        for i in range(m):  # structured rows: dark, white run, dark
            if rng.random() < 0.6:
                a, b = sorted(rng.integers(0, n, 2))
                dark[i], white[i] = True, False
                white[i, a:b], dark[i, a:b] = True, False
        first = rng.integers(0, n + 1, m)
        lo = hs[np.minimum(first, n - 1)] - rng.random(m) * 2
        hi = lo + rng.random(m) * 10
        got = white_runs(dark, white, hs, first, lo, hi)
        for i in range(m):
            ref = _run(dark[i, first[i]:], white[i, first[i]:], hs[first[i]:], (lo[i], hi[i]))
            np.testing.assert_array_equal(got[i], ref)
            shown += int(np.isfinite(ref[0]))
    assert shown > 50
