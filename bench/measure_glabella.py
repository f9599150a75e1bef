"""The glabellar lines of real angry and sad faces (JAFFE, Yale: statistics only) beside the ones
the stage draws on the same faces, measured the same way against the brows' inner ends.

    OMP_NUM_THREADS=1 python bench/measure_glabella.py [--data ../shared/data]

For every posed angry, disgusted, sad or fearful photo of a training subject (the fold trainer's split,
:func:`faceedit.train.folds.fit`) and every neutral photo of the same person: the luma log ratio
posed / neutral warped onto the posed landmarks, high-passed as the trainer does
(:func:`faceedit.train.folds.log_ratio`), sampled on a grid in the face's frame round the brows'
inner ends' middle (``a`` across, ``b`` down, eye distances: -0.3..0.3 x -0.4..0.15, step 0.01);
less the same map of neutral -> another neutral of the same person (the floor). The stage's:
:func:`faceedit.stage.folds.fold_ratio` of the glabella alone at its fitted depth (amount 1,
light from above, the photo's blur 1 px; each person's lines as uneven as a code drawn for them
at random, fixed by their name; sad's as with the inner brows raised, the forehead's amount 1,
its own lines not drawn; fearful's none, as the stage's fearful move reads no AU4) on the same
posed landmarks at the same size, high-passed
and sampled the same way (so a version without the crease module measures too: run it with
another tree on PYTHONPATH).

Printed per target, for the real mean map and the stage's: the two lines' places across (the
deepest dip either side of the middle in the band b -0.2..0, within 0.02..0.2) and their spacing,
the dip's depth (log ratio, below the band's profile's outer parts) and its width (full width at
half that depth, eye distances), the lines' extent up the face (where the dip's column is below
half its deepest: top and bottom ``b``), and the middle's rise over the dips (the bunched skin
between them). Per pair the same places and spacing (medians over the pairs whose dip is over
the floor's 90th percentile): a mean map blurs lines that lie at different places on different
faces. Statistics only: no image is written.
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path

import cv2
import numpy as np

A = np.round(np.arange(-0.30, 0.3001, 0.01), 3)
B = np.round(np.arange(-0.40, 0.1501, 0.01), 3)
BAND = (-0.2, 0.0)
TARGETS = ("angry", "disgusted", "sad", "fearful")


def sample(ratio: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """``ratio`` on the (B, A) grid round the brows' inner ends' middle of a face at ``lm``."""
    from faceedit.stage.moves import face_frame

    u, n, ed = face_frame(lm)
    o = (lm[21] + lm[22]) / 2
    pts = o + (A[None, :, None] * u + B[:, None, None] * n) * ed
    return cv2.remap(ratio.astype(np.float32), pts[..., 0].astype(np.float32), pts[..., 1].astype(np.float32),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def lines_of(m: np.ndarray) -> dict[str, float] | None:
    """The two lines' statistics of a (B, A) map (see the module's docstring); None where either
    side has no dip."""
    band = (B >= BAND[0]) & (B <= BAND[1])
    p = m[band].mean(0)
    outer = np.concatenate([p[np.abs(A) >= 0.25]])
    base = float(np.median(outer))
    out: dict[str, float] = {}
    cols = []
    for side, name in ((-1, "left"), (1, "right")):
        ok = (np.abs(A) >= 0.02) & (np.abs(A) <= 0.2) & (np.sign(A) == side)
        idx = np.flatnonzero(ok)
        i = int(idx[np.argmin(p[idx])])
        depth = base - float(p[i])
        if depth <= 0:
            return None
        half = base - depth / 2
        lo = i
        while lo > 0 and p[lo] < half:
            lo -= 1
        hi = i
        while hi < len(p) - 1 and p[hi] < half:
            hi += 1
        col = m[:, max(i - 1, 0):i + 2].mean(1)
        deep = int(np.argmin(np.where(band, col, np.inf)))
        cb = float(np.median(col))
        under = col < cb - (cb - col[deep]) / 2
        top, bottom = deep, deep
        while top > 0 and under[top - 1]:
            top -= 1
        while bottom < len(B) - 1 and under[bottom + 1]:
            bottom += 1
        out.update({f"{name}_a": float(A[i]), f"{name}_depth": depth, f"{name}_width": float(A[hi] - A[lo]) - 0.01,
                    f"{name}_top": float(B[top]), f"{name}_bottom": float(B[bottom])})
        cols.append(i)
    out["spacing"] = out["right_a"] - out["left_a"]
    mid = p[cols[0]:cols[1] + 1].max() if cols[1] > cols[0] else p[cols[0]]
    out["middle_rise"] = float(mid - max(p[cols[0]], p[cols[1]]))
    return out


def clear(label: str, maps: list[np.ndarray], least: float) -> None:
    """Print the medians over ``maps``' lines deeper than ``least`` (each side on its own): where
    across, how deep, how wide, their top and bottom; and over the maps with both sides so deep,
    the spacing and the shallower one's share of the deeper one's depth."""
    per = [q for q in (lines_of(m) for m in maps) if q is not None]
    sides = [(abs(q[f"{s}_a"]), q[f"{s}_depth"], q[f"{s}_width"], q[f"{s}_top"], q[f"{s}_bottom"])
             for q in per for s in ("left", "right") if q[f"{s}_depth"] > least]
    both = [q for q in per if min(q["left_depth"], q["right_depth"]) > least]
    if not sides:
        print(f"  {label}: no line deeper than {least:.4f}")
        return
    med = np.median(np.array(sides), 0)
    text = (f"  {label}: {len(sides)} of {2 * len(maps)} lines deeper than {least:.4f}: |a| {med[0]:.3f}, "
            f"depth {med[1]:.4f}, width {med[2]:.3f}, top {med[3]:.2f}, bottom {med[4]:.2f}")
    if both:
        text += (f"; both sides on {len(both)}: spacing {np.median([q['spacing'] for q in both]):.3f}, shallower/deeper "
                 f"{np.median([min(q['left_depth'], q['right_depth']) / max(q['left_depth'], q['right_depth']) for q in both]):.2f}")
    print(text)


def jaffe_faces(data: Path, targets: tuple[str, ...], held_out: bool = False) -> tuple[list, dict[str, np.ndarray]]:
    """JAFFE's and Yale's photos (``faceedit.train.folds._photos`` rows) and the 68 points of those of
    ``targets`` and neutral, of the training subjects (``held_out``: the held-out ones), by path."""
    from faceedit.data import holdout_subjects
    from faceedit.faces.detectors import get_detector
    from faceedit.train.folds import _luma, _photos

    rows = _photos(data / "jaffe", data / "yale")
    held: set[str] = set()
    for name in {r[0] for r in rows}:
        held |= holdout_subjects({r[1] for r in rows if r[0] == name}, 0.2, 0)
    det = get_detector("auto")
    marks: dict[str, np.ndarray] = {}
    for _, subj, e, path in rows:
        if (subj in held) != held_out or e not in (*targets, "neutral"):
            continue
        g = np.round(_luma(path) * 255).astype(np.uint8)
        faces = [f for f in det.detect(np.repeat(g[..., None], 3, -1)) if np.shape(f.landmarks) == (68, 2)]
        if faces:
            marks[path] = np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64)
    return rows, marks


def high_passed(made, shape: tuple[int, ...], lm: np.ndarray) -> np.ndarray:
    """The log of a drawn ratio (``folds.fold_ratio``'s ``(box, ratio)`` or None) over a photo of
    ``shape``, less its Gaussian blur of the trainer's high-pass in eye distances of ``lm``."""
    from faceedit.faces.landmarks import eye_distance
    from faceedit.train.folds import HIGH_PASS

    lr = np.zeros(shape, np.float32)
    if made is not None:
        (x0, y0, x1, y1), r = made
        lr[y0:y1, x0:x1] = np.log(r)
    return lr - cv2.GaussianBlur(lr, (0, 0), HIGH_PASS * eye_distance(lm))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = ap.parse_args(argv)
    from faceedit.faces.landmarks import eye_distance
    from faceedit.stage import folds
    from faceedit.train.folds import _luma, log_ratio

    try:
        from faceedit.stage.creases import face_code
    except ImportError:  # a tree from before the creases: its lines have no code
        face_code = None

    rows, marks = jaffe_faces(args.data, TARGETS)
    stats = folds.shipped_stats()
    assert stats is not None
    real: dict[str, list[np.ndarray]] = {}
    drawn: dict[str, list[np.ndarray]] = {}
    eds = []
    for _, subj, e, path in rows:
        if path not in marks or e not in (*TARGETS, "neutral"):
            continue
        neutrals = [p for _, s, x, p in rows if s == subj and x == "neutral" and p in marks and p != path]
        if not neutrals:
            continue
        lm = marks[path]
        posed = _luma(path)
        m = np.mean([sample(log_ratio(posed, lm, _luma(n), marks[n]), lm) for n in neutrals], 0)
        real.setdefault(e, []).append(m)
        if e != "neutral":
            eds.append(eye_distance(lm))
            extra = {}
            if face_code is not None:  # a code per person, as an identity would give one
                extra["code"] = face_code(np.random.default_rng(zlib.crc32(subj.encode())).standard_normal(40))
            # sad's lines with the inner brows raised (the forehead's amount: 1), the forehead's own not drawn
            # fearful's: none (the stage's fearful move reads AU4 0 on training London)
            amounts = {"glabella": 0.0 if e == "fearful" else 1.0, "forehead": 1.0 if e == "sad" else 0.0}
            params = {k: v for k, v in stats.params.items() if k != "forehead"}
            made = folds.fold_ratio(posed.shape, lm, amounts, params, np.array([0.0, -1.0]), **extra)
            drawn.setdefault(e, []).append(sample(high_passed(made, posed.shape, lm), lm))
    floors = real.pop("neutral")
    floor = np.mean(floors, 0)
    noise = [q for q in (lines_of(m - floor) for m in floors) if q is not None]
    floor_depth = float(np.median([q["left_depth"] for q in noise] + [q["right_depth"] for q in noise]))
    print(f"neutral -> neutral per pair ({len(noise)} of {len(floors)}): the dips' depth median {floor_depth:.4f}")
    clear("neutral -> neutral", [m - floor for m in floors], 2.0 * floor_depth)
    print(f"training pairs: {', '.join(f'{t} {len(v)}' for t, v in sorted(real.items()))}; "
          f"eye distance median {np.median(eds):.0f} px")
    keys = ("left_a", "right_a", "spacing", "left_depth", "right_depth", "left_width", "right_width",
            "left_top", "left_bottom", "right_top", "right_bottom", "middle_rise")
    print("| target | map | " + " | ".join(keys) + " |")
    print("|---|---|" + "---|" * len(keys))
    for t in TARGETS:
        if t not in real:
            continue
        for name, maps in (("real, mean", [m - floor for m in real[t]]), ("stage, mean", drawn[t])):
            s = lines_of(np.mean(maps, 0))
            vals = " | ".join(f"{s[k]:.3f}" if s else "-" for k in keys)
            print(f"| {t} | {name} | {vals} |")
        band = (B >= BAND[0]) & (B <= BAND[1])
        for name, mm in (("real", np.mean(real[t], 0) - floor), ("stage", np.mean(drawn[t], 0))):
            print(f"  {t} {name} across (a -0.3..0.3 by 0.04, x1000): "
                  + " ".join(f"{1000 * v:+.0f}" for v in mm[band].mean(0)[::4]))
        for name, maps in (("real", [m - floor for m in real[t]]), ("stage", drawn[t])):
            clear(f"{t} {name}", maps, 2.0 * floor_depth)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
