"""How FER reads real posed expressions, and the stage's edits of the same people to them: what a classifier's
bar can ask of an edit when the photographed expression itself reads so.

    OMP_NUM_THREADS=1 python bench/bench_fer_posed.py -d data/jaffe256 -d data/yale256 --targets surprised

Per prepared data set (``faceedit prepare ... --size 256 --detector dlib``) and target: FER's label
(:class:`bench_independent.FerClassifier`, on the box of the photo's 68 points, as ``bench/bench_world.py`` reads
it) on every real photo labelled with the target, and on each subject's first neutral photo made the target by
``--model`` (default the stage). Printed: per set and target, how many of each FER reads as the target and the
labels it reads instead.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-d", "--data", type=Path, action="append", required=True, help="prepared data sets")
    ap.add_argument("--targets", default="surprised", help="comma-separated expressions")
    ap.add_argument("--model", default="stage")
    a = ap.parse_args(argv)
    from bench_independent import FerClassifier

    from faceedit.api import Editor

    fer = FerClassifier()
    editor = Editor.from_pretrained(a.model, device="cpu")

    def read(rgb: np.ndarray, lm: np.ndarray) -> str:
        (x0, y0), (x1, y1) = lm.min(0), lm.max(0)
        p = fer.probabilities_on_box(rgb, (x0, y0, x1 - x0, y1 - y0))
        return max(p, key=p.__getitem__)

    for root in a.data:
        rows = [json.loads(line) for line in (root / "index.jsonl").read_text().splitlines() if line.strip()]
        for target in a.targets.split(","):
            real: collections.Counter = collections.Counter()
            edit: collections.Counter = collections.Counter()
            neutral: dict[str, dict] = {}
            for r in rows:
                label = r["labels"].get("expression")
                if label == "neutral":
                    neutral.setdefault(r["subject"], r)
                elif label == target:
                    rgb = np.asarray(Image.open(root / r["file"]).convert("RGB"))
                    real[read(rgb, np.asarray(r["landmarks"], np.float64))] += 1
            for r in neutral.values():
                rgb = np.asarray(Image.open(root / r["file"]).convert("RGB"))
                edit[read(editor.edit(rgb, target, force=True), np.asarray(r["landmarks"], np.float64))] += 1
            for name, c in (("real photos", real), (f"{a.model} edits", edit)):
                n = sum(c.values())
                print(f"{root.name:10s} {target:10s} {name:14s} FER {target} {c[target]}/{n}  {dict(c.most_common())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
