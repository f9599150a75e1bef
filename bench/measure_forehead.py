"""The forehead lines of real sad, fearful and surprised faces (JAFFE, Yale: statistics only) beside the
ones the stage draws on the same faces, measured the same way over the brows.

    OMP_NUM_THREADS=1 python bench/measure_forehead.py [--data ../shared/data] [--held-out]

For every posed sad, fearful or surprised photo of a training subject (the fold trainer's split,
:func:`faceedit.train.folds.fit`; ``--held-out``: its held-out subjects instead) and every
neutral photo of the same person: the luma log ratio posed / neutral warped onto the posed
landmarks, high-passed as the trainer does (:func:`faceedit.train.folds.log_ratio`), sampled on
a grid in the face's frame from the brows' inner ends' middle (``a`` across, -0.7..0.7; ``b``
up the face, 0..0.75 eye distances above it, step 0.01); the floor is neutral -> another
neutral of the same person. The stage's: :func:`faceedit.stage.folds.fold_ratio` of the
forehead alone at amount 1 (light from above, the photo's blur 1 px; sad's lines at spread 0
knit, fearful's at spread 0 not knit, surprise's at 1: :data:`LAYOUT`; a code per person fixed
by their name) on the same posed landmarks, high-passed and sampled the same way.

Per map, two profiles up the face: the middle's (``|a|`` under 0.15) and the sides' (0.35..0.55
either side). A line is a dip of the middle's profile (its local minimum within ``b`` 0.1..0.7
above the inner ends, below the mean of the profile's highest within 0.06 either side by more
than the 90th percentile of the floor's such dips): how many per map, where (``b``), how far apart, how deep,
how long across (:func:`length`).
``middle share``: the middle profile's dips' summed depth over that and the sides' (the same dips
read on the sides' profile): near 1 where only the forehead's middle folds (sad's omega), near
0.5 where it folds across (surprise). Statistics only: no image is written.
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path

import cv2
import numpy as np

A = np.round(np.arange(-0.70, 0.7001, 0.01), 3)
UP = np.round(np.arange(0.0, 0.7501, 0.01), 3)  # eye distances above the inner ends' middle
TARGETS = ("sad", "fearful", "surprised")
#: The stage's layout per target (:func:`faceedit.stage.folds.fold_ratio`'s ``spread`` and ``knit``): sad's
#: inner brows raised and knit, fearful's raised and not knit (the stage's fearful on training
#: London reads spread 0-0.33 and AU4 0), surprise's whole brows.
LAYOUT = {"sad": (0.0, 1.0), "fearful": (0.0, 0.0), "surprised": (1.0, 0.0)}
NEAR = 6  # grid steps either side a dip's shoulders are read over


def sample(ratio: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """``ratio`` on the (UP, A) grid over the brows' inner ends' middle of a face at ``lm``."""
    from faceedit.stage.moves import face_frame

    u, n, ed = face_frame(lm)
    o = (lm[21] + lm[22]) / 2
    pts = o + (A[None, :, None] * u - UP[:, None, None] * n) * ed
    return cv2.remap(ratio.astype(np.float32), pts[..., 0].astype(np.float32), pts[..., 1].astype(np.float32),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def dips(p: np.ndarray) -> list[tuple[int, float]]:
    """(index, depth) of each local minimum of profile ``p`` within 0.1..0.7 up: its depth below
    the mean of the profile's highest within :data:`NEAR` steps either side."""
    out = []
    for i in range(1, len(p) - 1):
        if not 0.1 <= UP[i] <= 0.7 or p[i] > p[i - 1] or p[i] > p[i + 1]:
            continue
        lo, hi = p[max(i - NEAR, 0):i].max(), p[i + 1:i + 1 + NEAR].max()
        out.append((i, float((lo + hi) / 2 - p[i])))
    return out


def middle(m: np.ndarray) -> np.ndarray:
    return m[:, np.abs(A) <= 0.15].mean(1)


def sides(m: np.ndarray) -> np.ndarray:
    return m[:, (np.abs(A) >= 0.35) & (np.abs(A) <= 0.55)].mean(1)


def length(m: np.ndarray, i: int) -> float:
    """How long the line of the middle's dip at ``UP[i]`` runs across (eye distances): the dip's
    depth column by column (below the mean of the column's highest within :data:`NEAR` steps
    either side, averaged over 0.05 across), from the middle out each way to where it falls
    under half the middle's (``|a|`` under 0.15)."""
    lo, hi = m[max(i - NEAR, 0):i].max(0), m[i + 1:i + 1 + NEAR].max(0)
    depth = np.convolve((lo + hi) / 2 - m[i], np.ones(11) / 11, mode="same")
    half = 0.5 * float(depth[np.abs(A) <= 0.15].mean())
    c = int(np.argmin(np.abs(A)))
    right = c
    while right < len(A) - 1 and depth[right + 1] >= half:
        right += 1
    left = c
    while left > 0 and depth[left - 1] >= half:
        left -= 1
    return float(A[right] - A[left])


def lines(m: np.ndarray, least: float) -> dict[str, float]:
    """A map's lines (see the module's docstring): count, places, spacing, depth, length, middle share."""
    pm, ps = middle(m), sides(m)
    found = [(i, d) for i, d in dips(pm) if d > least]
    side = {i: d for i, d in dips(ps)}
    out: dict[str, float] = {"count": float(len(found))}
    if found:
        at = [float(UP[i]) for i, _ in found]
        out["lowest"] = min(at)
        out["depth"] = float(np.median([d for _, d in found]))
        out["length"] = float(np.median([length(m, i) for i, _ in found]))
        if len(at) > 1:
            out["spacing"] = float(np.median(np.diff(sorted(at))))
        mid_sum = sum(d for _, d in found)
        # the sides' dips within 3 steps of the middle's
        side_sum = sum(max([side.get(j, 0.0) for j in range(i - 3, i + 4)] + [0.0]) for i, _ in found)
        out["middle_share"] = float(mid_sum / max(mid_sum + side_sum, 1e-9))
    return out


def summary(label: str, maps: list[np.ndarray], least: float) -> None:
    per = [lines(m, least) for m in maps]
    got = [q for q in per if q["count"] > 0]

    def med(k: str) -> str:
        v = [q[k] for q in got if k in q]
        return f"{np.median(v):.3f}" if v else "-"

    print(f"| {label} | {len(got)} of {len(maps)} | {np.mean([q['count'] for q in per]):.2f} | {med('lowest')} | "
          f"{med('spacing')} | {med('depth')} | {med('length')} | {med('middle_share')} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--held-out", action="store_true", help="the trainer's held-out subjects instead")
    args = ap.parse_args(argv)
    from measure_glabella import high_passed, jaffe_faces

    from faceedit.stage import folds
    from faceedit.stage.creases import face_code
    from faceedit.train.folds import _luma, log_ratio

    rows, marks = jaffe_faces(args.data, TARGETS, args.held_out)
    stats = folds.shipped_stats()
    assert stats is not None
    real: dict[str, list[np.ndarray]] = {}
    drawn: dict[str, list[np.ndarray]] = {}
    for _, subj, e, path in rows:
        if path not in marks or e not in (*TARGETS, "neutral"):
            continue
        neutrals = [p for _, s, x, p in rows if s == subj and x == "neutral" and p in marks and p != path]
        if not neutrals:
            continue
        lm = marks[path]
        posed = _luma(path)
        real.setdefault(e, []).append(np.mean([sample(log_ratio(posed, lm, _luma(n), marks[n]), lm) for n in neutrals], 0))
        if e == "neutral":
            continue
        code = face_code(np.random.default_rng(zlib.crc32(subj.encode())).standard_normal(40))
        spread, knit = LAYOUT[e]
        try:
            made = folds.fold_ratio(posed.shape, lm, {"forehead": 1.0}, stats.params, np.array([0.0, -1.0]),
                                    code=code, spread=spread, knit=knit)
        except TypeError:  # a tree from before the knit's layout (or the forehead's creases)
            try:
                made = folds.fold_ratio(posed.shape, lm, {"forehead": 1.0}, stats.params, np.array([0.0, -1.0]),
                                        code=code, spread=spread)
            except TypeError:
                made = folds.fold_ratio(posed.shape, lm, {"forehead": 1.0}, stats.params, np.array([0.0, -1.0]))
        drawn.setdefault(e, []).append(sample(high_passed(made, posed.shape, lm), lm))
    floors = real.pop("neutral")
    floor = np.mean(floors, 0)
    noise = [d for m in floors for _, d in dips(middle(m - floor))]
    least = float(np.quantile(noise, 0.9))
    print(f"{'held-out' if args.held_out else 'training'} subjects; neutral -> neutral: {len(floors)} maps, "
          f"the middle's dips' median {np.median(noise):.4f}; a line is over their 90th percentile {least:.4f}")
    print("| map | with lines | lines per map | lowest (up) | spacing | depth | length | middle share |")
    print("|---|---|---|---|---|---|---|---|")
    summary("neutral -> neutral", [m - floor for m in floors], least)
    for t in TARGETS:
        if t in real:
            summary(f"{t}, real", [m - floor for m in real[t]], least)
            summary(f"{t}, stage", drawn[t], least)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
