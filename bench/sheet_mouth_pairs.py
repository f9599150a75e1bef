"""Two sets of edits side by side at the mouth: each edit's mouth from folder ``BEFORE`` and the
same-named edit from ``AFTER``, cut at the same place (dlib's 68 points on the ``BEFORE`` edit,
the lips' box grown 25 px to each side and 20 px up and down), enlarged 3x by nearest neighbour
and written as PNG ``OUT/NAME`` (before | after).

    OMP_NUM_THREADS=1 python bench/sheet_mouth_pairs.py BEFORE AFTER OUT
        [--names 061_smiling_fearful.png,061_smiling_surprised.png]

The folders are what ``bench/bench_mouth_edges.py --save DIR`` writes (``NNN_FOLDER_TARGET.png``),
made from two checkouts; without ``--names`` every PNG in ``AFTER`` that ``BEFORE`` also holds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mouth_luma import largest  # noqa: E402


def pair(before: np.ndarray, after: np.ndarray, lm: np.ndarray, scale: int = 3) -> np.ndarray:
    """(h, w, 3) RGB: ``before`` | ``after`` cut round the lips of ``lm`` (68 points), a 4-px
    white bar between, ``scale`` times by nearest neighbour."""
    lo, hi = lm[48:68].min(0) - (25, 20), lm[48:68].max(0) + (25, 20)
    x0, y0 = np.maximum(np.floor(lo).astype(int), 0)
    x1, y1 = np.ceil(hi).astype(int)
    a, b = before[y0:y1, x0:x1], after[y0:y1, x0:x1]
    bar = np.full((a.shape[0], 4, 3), 255, np.uint8)
    return cv2.resize(np.hstack([a, bar, b]), None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--names", default="")
    a = ap.parse_args(argv)
    from faceedit.faces.detectors import get_detector

    det = get_detector("dlib")
    names = ([s.strip() for s in a.names.split(",") if s.strip()] if a.names
             else sorted(p.name for p in a.after.glob("*.png") if (a.before / p.name).exists()))
    a.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        before = np.asarray(Image.open(a.before / name).convert("RGB"))
        after = np.asarray(Image.open(a.after / name).convert("RGB"))
        f = largest(det, before)
        if f is None:
            print(f"{name}: no face found", flush=True)
            continue
        sheet = pair(before, after, np.asarray(f.landmarks, np.float64))
        cv2.imwrite(str(a.out / name), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
        print(f"{name}: {sheet.shape[1]}x{sheet.shape[0]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
