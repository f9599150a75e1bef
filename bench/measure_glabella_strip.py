"""How much lighter the skin between the glabellar creases is than the forehead beside the brows'
heads, on London HD faces made angry, disgusted and sad by the stage.

    OMP_NUM_THREADS=1 python bench/measure_glabella_strip.py [--data ../shared/data]
        [--faces neutral/027,neutral/002,neutral/117,smiling/027] [--targets angry,disgusted,sad]

Each face is edited to each target (:class:`faceedit.api.Editor`, strength 1); on the edit,
with the landmarks found on it, :func:`faceedit.stage.creases.strip_excess` gives the strip's
luma over the forehead's, row by row down the strip (printed as ratios, and their mean). The
measure is this tree's ``creases.py`` (loaded from its file), the edit the ``faceedit`` on the
path: run it with another tree on PYTHONPATH to measure that tree's edits the same way. Choose
constants on training ids; the held-out London ids are for looking and reporting only. Sad's
figure is not read: the landmarks found on a sad edit miss its raised inner brows, so its
"forehead" falls on their hair. Statistics only: no image is written.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def own_measure():
    """This tree's :mod:`faceedit.stage.creases`, loaded from its file (the strip's reach below
    the lines 0.05 where the ``faceedit`` on the path has no ``crease_even``)."""
    spec = importlib.util.spec_from_file_location("own_creases", ROOT / "faceedit" / "stage" / "creases.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["own_creases"] = mod
    spec.loader.exec_module(mod)
    if not hasattr(mod.FoldsTuning(), "crease_even"):
        mod.strip_span = lambda lines, tn: (min(ln.top + (ln.bottom - ln.top) / 3 for ln in lines),
                                            max(ln.bottom for ln in lines) + 0.05)
    return mod


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--faces", default="neutral/027,neutral/002,neutral/117,smiling/027")
    ap.add_argument("--targets", default="angry,disgusted,sad")
    args = ap.parse_args(argv)
    hd = args.data / "london_hd"
    if not hd.exists():
        print(f"{hd}: not found; the measure needs the shared London HD photos")
        return 1
    from faceedit.api import Editor

    creases = own_measure()
    ed = Editor.from_pretrained("stage")
    means: dict[str, list[float]] = {}
    for f in args.faces.split(","):
        img = cv2.imread(str(hd / f"{f}.jpg"))
        if img is None:
            raise FileNotFoundError(hd / f"{f}.jpg")
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        for t in args.targets.split(","):
            out = ed.edit(img, t, 1.0, face="largest")
            lm = np.asarray(max(ed.detector.detect(out), key=lambda x: x.area).landmarks, np.float64)
            rows = np.exp(creases.strip_excess(out, lm, None, 1.0 if t == "sad" else 0.0))
            means.setdefault(t, []).append(float(rows.mean()))
            print(f"{f} {t}: strip/forehead {rows.mean():.3f}, rows top to bottom {np.round(rows, 3).tolist()}",
                  flush=True)
    for t, v in means.items():
        print(f"{t}: mean over {len(v)} faces {np.mean(v):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
