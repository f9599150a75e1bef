"""Luma profiles across the stage's painted folds and across real creases: is a fold a darker
valley with at most a lit shoulder, or a bright streak?

    OMP_NUM_THREADS=1 python bench/bench_folds_profile.py [--data ../shared/data]
    OMP_NUM_THREADS=1 python bench/bench_folds_profile.py --crops DIR

Edits: every held-out London subject's 1350-px neutral photo (the trainers' split: seed 0, 20 %:
18 people) made angry, sad, fearful, surprised, happy and disgusted through :class:`faceedit.api.Editor`
(model ``stage``). Each fold line the edit paints (:func:`faceedit.stage.folds.fold_curves` on
the moved landmarks, kinds the edit draws; the glabella's creases' centre lines,
:func:`faceedit.stage.creases.crease_points`, and sad's forehead creases',
:func:`faceedit.stage.forehead_creases.forehead_points`) is crossed by 15 profiles along its middle 70 %,
each the luma sampled from -0.12 to +0.12 eye distances across it (the fold's fitted offset
its centre), averaged over 0.02 eye distances along it (pores are not folds). Per profile:
``depth`` = 1 - (its darkest luma within 0.035 of the centre) / (the skin around it there: a
parabola fitted to its outer parts, 0.07-0.12 either side, the face's own shading across it);
``peak`` = its brightest luma within 0.07 of the centre / that parabola - 1. A profile is a
bright streak where its peak exceeds the 95th percentile of the floor's (the same kind of line
laid on the neutral photos, below: what skin with no crease reads) and its own depth (brighter
over its skin than it is dark: a streak, not a crease). The fold's own layer (the edit less the
same edit without folds, ``faceedit.stage.appearance.paint_move_folds`` off) is read alone too: its lift (levels it
brightens anywhere on the profile) against its drop (levels it darkens it).

Real creases, measured the same way with the valley searched within 0.04 of the laid-out line:
the nasolabial folds of London's held-out smiling photos at 1350 px, JAFFE's posed photos
(statistics only: angry's glabellar lines, surprised's forehead lines, happy's nasolabial folds,
disgusted's nose and nasolabial folds) and, as the floor, the same lines laid on the neutral
photos (London's 1350-px neutrals, JAFFE's NE): what a profile across no crease reads.

``--crops DIR`` writes crops instead: forehead, glabella, nasolabial region and upper lip of
014, 061, 097, 131 and the astronaut, neutral then edited (angry, sad, surprised, happy,
disgusted), at the photo's own pixels and enlarged 3x (nearest neighbour).
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import cv2
import numpy as np

TARGETS = ("angry", "sad", "fearful", "surprised", "happy", "disgusted")
#: JAFFE's posed expressions and the kinds of crease each shows.
JAFFE_KINDS = {"AN": ("glabella",), "SU": ("forehead",), "HA": ("nasolabial",), "DI": ("nose", "nasolabial")}
CROP_FACES = ("014", "061", "097", "131", "astronaut")
ACROSS = np.linspace(-0.12, 0.12, 49)  # eye distances across a fold
ALONG = np.linspace(-0.01, 0.01, 5)  # eye distances along it, averaged
CENTRE, OUTER = 0.035, 0.07


def luma(rgb: np.ndarray) -> np.ndarray:
    x = rgb.astype(np.float32)
    return x if x.ndim == 2 else x[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)


def profiles(y: np.ndarray, points: np.ndarray, ed: float, offset: float = 0.0) -> np.ndarray:
    """(15, len(ACROSS)) luma profiles of ``y`` across the polyline ``points`` (its positive
    side, as :func:`faceedit.stage.folds.fold_curves` draws it, at positive distances), centred
    ``offset`` eye distances onto that side, each averaged over :data:`ALONG`."""
    k = len(points)
    tangent = np.gradient(points, axis=0)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-9)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1)
    idx = np.linspace(0.15 * (k - 1), 0.85 * (k - 1), 15)
    out = []
    for t in idx:
        i = int(round(t))
        p, n, u = points[i], normal[i], tangent[i]
        grid = (p[None, None] + ((ACROSS + offset)[None, :, None] * n + ALONG[:, None, None] * u) * ed)
        xs, ys = grid[..., 0].astype(np.float32), grid[..., 1].astype(np.float32)
        out.append(cv2.remap(y, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).mean(0))
    return np.array(out)


def read(prof: np.ndarray, search: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(depth, peak) of each profile (module doc); ``search``: the valley looked for within that
    many eye distances of the centre (a real crease's, not the laid-out line's, place)."""
    a = np.abs(ACROSS)
    outer = a >= OUTER
    # the skin around the fold: a parabola through the profile's outer parts (the face's own
    # shading across it: the nose's bridge brighter than the cheek beside it, a brow's curve)
    basis = np.stack([ACROSS ** 2, ACROSS, np.ones_like(ACROSS)], 1)
    fit = np.linalg.lstsq(basis[outer], prof[:, outer].T, rcond=None)[0]
    base = (basis @ fit).T
    r = prof / np.maximum(base, 1e-6) - 1.0
    depth = -r[:, a <= max(CENTRE, search)].min(1)
    peak = r[:, ~outer].max(1)
    return depth, peak


def summary(name: str, depth: list, peak: list, bright: float, extra: str = "") -> None:
    """One row: the profiles' depths and peaks, and how many are bright streaks (a peak over
    ``bright``, the 95th percentile of the floor's peaks, and over the profile's own depth)."""
    d, p = np.concatenate(depth), np.concatenate(peak)
    streak = (p > bright) & (p > d)
    print(f"{name:38s} n {d.size:4d}  depth median {np.median(d):.3f} (p90 {np.percentile(d, 90):.3f})  "
          f"peak median {np.median(p):.3f}  bright streaks {int(streak.sum()):3d} ({streak.mean():.1%}){extra}")


def floors(rows: dict[str, list[tuple[np.ndarray, np.ndarray]]]) -> dict[str, float]:
    """Per kind the 95th percentile of the floor's peaks (what skin with no crease reads)."""
    return {k: float(np.percentile(np.concatenate([r[1] for r in v]), 95)) for k, v in rows.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--crops", type=Path, help="write the crops here instead of measuring")
    args = ap.parse_args(argv)
    hd = args.data / "london_hd"
    if not (hd / "neutral").is_dir():
        ap.error(f"--data {args.data}: no london_hd/neutral folder")
    from faceedit.api import Editor

    ed = Editor.from_pretrained("stage")
    if args.crops is not None:
        return crops(ed, hd, args.crops)
    from faceedit.data import holdout_subjects
    from faceedit.io.decode import read_image
    from faceedit.stage import folds, steps
    from faceedit.stage.moves import face_frame

    ids = sorted(p.stem for p in (hd / "neutral").glob("*.jpg"))
    held = [i for i in ids if f"london-{i}" in holdout_subjects({f"london-{i}" for i in ids}, 0.2, 0)]
    stats = folds.shipped_stats()
    assert stats is not None
    real_paint = folds.paint_folds
    paint_folds = steps.paint_move_folds
    edits: dict[str, dict[str, list]] = collections.defaultdict(lambda: collections.defaultdict(list))
    floor: dict[str, list] = collections.defaultdict(list)
    for pid in held:
        img = read_image(str(hd / "neutral" / f"{pid}.jpg")).rgb8()
        face = max(ed.detector.detect(img), key=lambda f: f.area)
        lm0 = np.asarray(face.landmarks, np.float64)
        for kind, pts, off in laid(lm0, stats.params):  # the floor: the lines laid on the neutral photo
            floor[kind].append(profiles(luma(img), pts, face_frame(lm0)[2], off))
        for t in TARGETS:
            got: dict = {}

            def spy(pixels, moved, amounts, params, keep_out=None, _got=got, **kw):
                _got.update(lm=np.array(moved, np.float64), amounts=dict(amounts), spread=kw.get("spread", 1.0),
                            code=kw.get("code"), knit=kw.get("knit", 1.0))
                return real_paint(pixels, moved, amounts, params, keep_out, **kw)

            folds.paint_folds = spy
            try:
                out = ed.edit(img, t, 1.0, face="largest")
            finally:
                folds.paint_folds = real_paint
            if not got:
                continue
            steps.paint_move_folds = lambda stats, pixels, *a, **k: pixels
            try:
                plain = ed.edit(img, t, 1.0, face="largest")
            finally:
                steps.paint_move_folds = paint_folds
            lm, e = got["lm"], face_frame(got["lm"])[2]
            y, layer = luma(out), luma(out) - luma(plain)
            for kind, pts, off in laid(lm, stats.params, min(got["amounts"].get("forehead", 0.0), 1.0), got["spread"],
                                   got["code"], got["knit"]):
                if got["amounts"].get(kind, 0.0) < 0.05:
                    continue
                prof = profiles(y, pts, e, off)
                lay = profiles(layer, pts, e, off)
                edits[f"{t} {kind}"]["prof"].append(prof)
                edits[f"{t} {kind}"]["lift"].append(lay.max(1))
                edits[f"{t} {kind}"]["drop"].append(-lay.min(1))
    print(f"{len(held)} held-out London neutral photos at 1350 px, edited by the stage; "
          f"profiles {ACROSS[0]:+.2f}..{ACROSS[-1]:+.2f} eye distances across each painted fold")
    floor_rows = {kind: [read(p, 0.04) for p in floor[kind]] for kind in folds.KINDS}
    bright = floors(floor_rows)
    print("bright streak: a peak over the London floor's 95th percentile (" +
          ", ".join(f"{k} {v:.3f}" for k, v in bright.items()) + ") and over the profile's depth")
    for key in sorted(edits):
        rows = [read(p) for p in edits[key]["prof"]]
        lift, drop = np.concatenate(edits[key]["lift"]), np.concatenate(edits[key]["drop"])
        summary(f"edit {key}", [r[0] for r in rows], [r[1] for r in rows], bright[key.split()[1]],
                f"  layer: drop median {np.median(drop):.1f} lv, lift median {np.median(lift):.1f}, "
                f"max {lift.max():.1f} lv, lift over 0.5 x drop {int((lift > 0.5 * drop).sum())}")
    for kind, rows in floor_rows.items():
        summary(f"floor: London neutral, {kind}", [r[0] for r in rows], [r[1] for r in rows], bright[kind])
    real_london(ed, hd, held, stats, bright["nasolabial"])
    real_jaffe(ed, args.data / "jaffe", stats)
    return 0


def laid(lm: np.ndarray, params: dict, sad: float = 0.0, spread: float = 1.0,
         code: np.ndarray | None = None, knit: float = 1.0) -> list[tuple[str, np.ndarray, float]]:
    """(kind, points, offset) of every fold line as the stage lays it on a face at ``lm``: the
    fitted curves (:func:`faceedit.stage.folds.fold_curves`) and, for the glabella, the creases'
    centre lines (:func:`faceedit.stage.creases.crease_points`, an even face's; shorter by ``sad``);
    for the forehead, where most of its lines are creases (``spread``, the brows' rise across,
    under half drawn across: :func:`faceedit.stage.forehead_creases.across_share`), theirs
    (:func:`faceedit.stage.forehead_creases.forehead_points`, as uneven as the face's ``code``, as
    bowed as ``knit`` says)."""
    from faceedit.stage.creases import crease_points
    from faceedit.stage.folds import fold_curves

    creased = ["glabella"]
    try:
        from faceedit.stage.forehead_creases import across_share, forehead_points
    except ImportError:  # a tree from before the forehead's creases
        forehead = []
    else:
        try:
            forehead = forehead_points(lm, spread, code, knit=knit) if across_share(spread) < 0.5 else []
        except TypeError:  # a tree from before the knit's layout
            forehead = forehead_points(lm, spread, code) if across_share(spread) < 0.5 else []
    if forehead:
        creased.append("forehead")
    out = [(c.kind, c.points, params[c.kind]["offset"]) for c in fold_curves(lm) if c.kind not in creased]
    return out + [("glabella", pts, 0.0) for pts in crease_points(lm, sad=sad)] + [("forehead", pts, 0.0) for pts in forehead]


def real_london(ed, hd: Path, held: list[str], stats, bright: float) -> None:
    """The nasolabial folds of the held-out smiling photos (module doc)."""
    from faceedit.io.decode import read_image
    from faceedit.stage.folds import fold_curves
    from faceedit.stage.moves import face_frame

    depth, peak = [], []
    for pid in held:
        path = hd / "smiling" / f"{pid}.jpg"
        if not path.is_file():
            continue
        img = read_image(str(path)).rgb8()
        lm = np.asarray(max(ed.detector.detect(img), key=lambda f: f.area).landmarks, np.float64)
        for c in fold_curves(lm):
            if c.kind == "nasolabial":
                d, p = read(profiles(luma(img), c.points, face_frame(lm)[2], stats.params[c.kind]["offset"]), 0.04)
                depth.append(d)
                peak.append(p)
    summary("real: London smiling, nasolabial", depth, peak, bright)


def real_jaffe(ed, jaffe: Path, stats) -> None:
    """JAFFE's posed creases and its neutral floor (module doc; statistics only)."""
    from faceedit.io.decode import read_image
    from faceedit.stage.moves import face_frame

    if not jaffe.is_dir():
        print(f"no {jaffe}: JAFFE skipped")
        return
    got: dict[str, tuple[list, list]] = collections.defaultdict(lambda: ([], []))
    for path in sorted(jaffe.glob("*.*.*.*")):
        code = path.name.split(".")[1][:2]
        kinds = JAFFE_KINDS.get(code, ("forehead", "glabella", "nose", "nasolabial") if code == "NE" else ())
        if not kinds:
            continue
        img = read_image(str(path)).rgb8()
        faces = ed.detector.detect(img)
        if not faces:
            continue
        lm = np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64)
        y, e = luma(img), face_frame(lm)[2]
        for kind, pts, off in laid(lm, stats.params):
            if kind in kinds:
                d, p = read(profiles(y, pts, e, off), 0.04)
                key = f"{'floor' if code == 'NE' else 'real'}: JAFFE {code}, {kind}"
                got[key][0].append(d)
                got[key][1].append(p)
    bright = floors({k.split(", ")[1]: [(d, p) for d, p in zip(*v, strict=True)]
                     for k, v in got.items() if k.startswith("floor")})
    for key in sorted(got):
        summary(key, *got[key], bright.get(key.split(", ")[1], 0.0))


def crops(ed, hd: Path, out_dir: Path) -> int:
    """The crops of ``--crops`` (module doc)."""
    from PIL import Image
    from skimage.data import astronaut

    from faceedit.faces.landmarks import eye_distance
    from faceedit.io.decode import read_image

    out_dir.mkdir(parents=True, exist_ok=True)
    for pid in CROP_FACES:
        img = astronaut() if pid == "astronaut" else read_image(str(hd / "neutral" / f"{pid}.jpg")).rgb8()
        lm = np.asarray(max(ed.detector.detect(img), key=lambda f: f.area).landmarks, np.float64)
        iod = eye_distance(lm)
        boxes = {  # centre, width, height (eye distances)
            "forehead": (lm[17:27].mean(0) + [0, -0.4 * iod], 1.4, 0.6),
            "glabella": (lm[[21, 22]].mean(0) + [0, -0.05 * iod], 0.7, 0.6),
            "nasolabial": (lm[[31, 35, 48, 54]].mean(0), 1.5, 0.75),
            "upper_lip": (lm[[33, 51, 62]].mean(0) + [0, 0.05 * iod], 0.9, 0.45),
        }
        shots = [img] + [ed.edit(img, t, 1.0, face="largest") for t in TARGETS]
        for name, (c, w, h) in boxes.items():
            x0, y0 = int(c[0] - w * iod / 2), int(c[1] - h * iod / 2)
            x1, y1 = int(c[0] + w * iod / 2), int(c[1] + h * iod / 2)
            cells = [s[y0:y1, x0:x1] for s in shots]
            gap = np.full((y1 - y0, 3, 3), 255, np.uint8)
            row = np.concatenate([x for c_ in cells for x in (c_, gap)][:-1], 1)
            Image.fromarray(row).save(out_dir / f"{pid}_{name}.png")
            Image.fromarray(row).resize((row.shape[1] * 3, row.shape[0] * 3), Image.NEAREST).save(
                out_dir / f"{pid}_{name}_3x.png")
        print(f"{pid}: crops of neutral, {', '.join(TARGETS)}", flush=True)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
