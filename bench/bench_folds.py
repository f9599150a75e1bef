"""How the project's expression classifier reads the stage's angry, disgusted and fearful edits on
held-out London faces at the photos' native 1350 px, with and without the folds and the targets'
own landmark moves (:mod:`faceedit.stage.folds`, :data:`faceedit.stage.moves.TARGET_MOVES`).

    OMP_NUM_THREADS=1 python bench/bench_folds.py [--data ../shared/data] [--set london|jaffe] [--without]

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
    args = ap.parse_args(argv)
    hd = args.data / "london_hd" / "neutral"
    if not hd.is_dir():
        ap.error(f"--data {args.data}: no london_hd/neutral folder")
    from faceedit.analysis.classify import load_classifier
    from faceedit.api import Editor
    from faceedit.data import holdout_subjects
    from faceedit.eval.truth import _crop_tensor
    from faceedit.io.decode import read_image

    if args.without:
        from faceedit.stage import model, steps

        model.Stage.paint_folds = lambda self, pixels, *a: pixels
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


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
