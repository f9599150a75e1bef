"""How the project's expression classifier reads the stage's angry, disgusted and fearful edits on
held-out London faces at the photos' native 1350 px, with and without the folds and the targets'
own landmark moves (:mod:`faceedit.stage.folds`, :data:`faceedit.stage.moves.TARGET_MOVES`).

    OMP_NUM_THREADS=1 python bench/bench_folds.py [--data ../shared/data] [--set london|jaffe] [--without]
    OMP_NUM_THREADS=1 python bench/bench_folds.py --sheet weights/folds.png

``--sheet PATH`` draws the folds' contact sheet instead: four held-out London faces (008, 014, 019,
096) made angry, disgusted, fearful and surprised, at face size; below, the brows and nose of
008 and 019 at the photo's own pixels for angry, disgusted and fearful, each without then with
the folds (the same edit, ``faceedit.stage.appearance.paint_move_folds`` switched off for the first).

For every held-out London subject (the trainers' split: seed 0, 20 %: 18 people), or every neutral
photo of the held-out JAFFE subjects (2 people, 6 photos; ``--set jaffe``), the neutral photo is
edited to each target through :class:`faceedit.api.Editor` (model ``stage``) and the edit's face
classified as :mod:`faceedit.eval.truth` does (the input face's aligned crop); for JAFFE the same
people's real posed photos are classified too (the classifier's own ceiling). ``--without``: the
same edits with the folds and the target moves switched off (the stage before them). Printed:
per target how many of the faces read as it, the classifier's mean probability of it, and what
the others read as.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import numpy as np
import torch

TARGETS = ("angry", "disgusted", "fearful", "surprised")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--set", choices=("london", "jaffe"), default="london")
    ap.add_argument("--without", action="store_true", help="folds and target moves off")
    ap.add_argument("--sheet", type=Path, help="write the contact sheet here instead of classifying")
    args = ap.parse_args(argv)
    hd = args.data / "london_hd" / "neutral"
    if not hd.is_dir():
        ap.error(f"--data {args.data}: no london_hd/neutral folder")
    from faceedit.analysis.classify import load_classifier
    from faceedit.api import Editor
    from faceedit.data import holdout_subjects
    from faceedit.eval.truth import _crop_tensor
    from faceedit.io.decode import read_image

    if args.sheet is not None:
        return sheet(hd, args.sheet)
    if args.without:
        from faceedit.stage import steps

        steps.paint_move_folds = lambda stats, pixels, *a, **k: pixels
        steps.target_moves = lambda lm, goal, target, strength: goal
    if args.set == "london":
        ids = sorted(p.stem for p in hd.glob("*.jpg"))
        held = holdout_subjects({f"london-{i}" for i in ids}, 0.2, 0)
        photos = [hd / f"{i}.jpg" for i in ids if f"london-{i}" in held]
        posed: dict[str, list[Path]] = {}
    else:
        jaffe = args.data / "jaffe"
        files = sorted(jaffe.glob("*.*.*.*"))
        held = holdout_subjects({f"jaffe-{p.name[:2]}" for p in files}, 0.2, 0)
        mine = [p for p in files if f"jaffe-{p.name[:2]}" in held]
        photos = [p for p in mine if ".NE" in p.name]
        code = {"angry": "AN", "disgusted": "DI", "fearful": "FE", "surprised": "SU"}
        posed = {t: [p for p in mine if f".{c}" in p.name] for t, c in code.items()}
    ed = Editor.from_pretrained("stage")
    clf = load_classifier("expression")
    reads: dict[str, collections.Counter] = {t: collections.Counter() for t in TARGETS}
    prob: dict[str, list[float]] = {t: [] for t in TARGETS}
    for path in photos:
        img = read_image(str(path)).rgb8()
        face = max(ed.detector.detect(img), key=lambda f: f.area)
        for t in TARGETS:
            out = ed.edit(img, t, 1.0, face="largest")
            with torch.no_grad():
                p = clf.probs(_crop_tensor(out, face).to(clf.device))[0]
            reads[t][clf.labels[int(p.argmax())]] += 1
            prob[t].append(float(p[clf.index(t)]))
    print(f"{len(photos)} held-out {args.set} neutral photos at {img.shape[1]} px; "
          f"{'without' if args.without else 'with'} folds and target moves")
    for t in TARGETS:
        print(f"{t}: {reads[t][t]}/{len(photos)} read as {t}, mean p({t}) {np.mean(prob[t]):.3f}; "
              f"all: {dict(reads[t].most_common())}")
    for t, paths in posed.items():
        got = collections.Counter()
        for path in paths:
            img = read_image(str(path)).rgb8()
            face = max(ed.detector.detect(img), key=lambda f: f.area)
            with torch.no_grad():
                got[clf.predict(_crop_tensor(img, face))[0]] += 1
        print(f"real posed {t}: {got[t]}/{len(paths)} read as {t}; all: {dict(got.most_common())}")
    return 0


SHEET_FACES = ("008", "014", "019", "096")
CLOSE_FACES = ("008", "019")


def sheet(hd: Path, path: Path) -> int:
    """The folds' contact sheet (module doc, ``--sheet``)."""
    from PIL import Image, ImageDraw

    from faceedit.api import Editor
    from faceedit.faces.landmarks import eye_distance
    from faceedit.io.decode import read_image
    from faceedit.stage import steps

    ed = Editor.from_pretrained("stage")
    with_folds = steps.paint_move_folds
    tile, rows, close = 280, [], []
    for pid in SHEET_FACES:
        img = read_image(str(hd / f"{pid}.jpg")).rgb8()
        lm = np.asarray(max(ed.detector.detect(img), key=lambda f: f.area).landmarks, np.float64)
        iod = eye_distance(lm)
        (x0, y0), (x1, y1) = lm.min(0), lm.max(0)
        face = (int(x0 - 0.25 * iod), int(y0 - 0.9 * iod), int(x1 + 0.25 * iod), int(y1 + 0.15 * iod))
        edits = {t: ed.edit(img, t, 1.0, face="largest") for t in TARGETS}
        cells = [img, *edits.values()]
        rows.append([Image.fromarray(c).crop(face).resize((tile, int(tile * (face[3] - face[1]) / (face[2] - face[0]))))
                     for c in cells])
        if pid in CLOSE_FACES:  # brows and nose at the photo's pixels, without then with the folds
            cx, cy = lm[[21, 22, 27, 30]].mean(0)
            box = (int(cx - 0.75 * iod), int(cy - 0.75 * iod), int(cx + 0.75 * iod), int(cy + 0.55 * iod))
            steps.paint_move_folds = lambda stats, pixels, *a, **k: pixels
            try:
                plain = {t: ed.edit(img, t, 1.0, face="largest") for t in TARGETS[:3]}
            finally:
                steps.paint_move_folds = with_folds
            close.append([Image.fromarray(c).crop(box) for t in TARGETS[:3] for c in (plain[t], edits[t])])
    label_h = 18
    width = max(len(rows[0]) * tile, max(sum(c.width for c in r) for r in close))
    height = label_h + sum(r[0].height for r in rows) + sum(label_h + r[0].height for r in close)
    out = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(out)
    for i, name in enumerate(("input", *TARGETS)):
        draw.text((i * tile + 4, 3), name, fill="black")
    y = label_h
    for r in rows:
        for i, c in enumerate(r):
            out.paste(c, (i * tile, y))
        y += r[0].height
    for pid, r in zip(CLOSE_FACES, close):
        x = 0
        for j, c in enumerate(r):
            draw.text((x + 4, y + 3), f"{pid} {TARGETS[j // 2]} {'with' if j % 2 else 'without'} folds (1:1)", fill="black")
            out.paste(c, (x, y + label_h))
            x += c.width
        y += label_h + r[0].height
    out.save(path)
    print(f"wrote {path} ({width}x{height})")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
