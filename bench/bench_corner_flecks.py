"""The dark flecks and tooth light a smile made neutral keeps at its mouth's corners
(:mod:`faceedit.stage.corner_flecks`, :mod:`faceedit.stage.corner_teeth`), counted on London's 1350-px photos.

    OMP_NUM_THREADS=1 python bench/bench_corner_flecks.py --data ../shared/data/london_hd [--held-out]

Each smiling photo (the training ids, or with ``--held-out`` the held-out ones) is made neutral by
the stage; on the result, read again with the stage's detector, the pixels
:func:`~faceedit.stage.corner_flecks.lift_corner_flecks` would still paint are counted (the
flecks left), and the tooth light :func:`~faceedit.stage.corner_teeth.tooth_light` finds (the
teeth left), and likewise on the same people's neutral photos (real closed mouths). Prints per
face and the totals.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import HELD_OUT  # noqa: E402


def flecks_left(rgb: np.ndarray, lm: np.ndarray) -> int:
    from faceedit.stage.corner_flecks import lift_corner_flecks

    return int((np.abs(lift_corner_flecks(rgb, lm).astype(np.int32) - rgb).sum(-1) > 0).sum())


def teeth_left(rgb: np.ndarray, lm: np.ndarray) -> int:
    from faceedit.stage.corner_teeth import tooth_light

    return int(tooth_light(rgb, lm).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--held-out", action="store_true")
    args = ap.parse_args()
    from faceedit.api import Editor

    ed = Editor.from_pretrained("stage", device="cpu")
    ids = sorted(p.stem for p in (args.data / "smiling").glob("*.jpg"))
    ids = [i for i in ids if (i in HELD_OUT) == args.held_out]
    totals: dict[str, list[int]] = {"made neutral": [], "real neutral": [], "made neutral teeth": [],
                                    "real neutral teeth": []}
    for i in ids:
        row = []
        for key, folder in (("made neutral", "smiling"), ("real neutral", "neutral")):
            rgb = cv2.cvtColor(cv2.imread(str(args.data / folder / f"{i}.jpg")), cv2.COLOR_BGR2RGB)
            out = ed.edit(rgb, "neutral") if folder == "smiling" else rgb
            faces = ed.detector.detect(out)
            lm = np.asarray(faces[0].landmarks, np.float64) if faces else None
            n = flecks_left(out, lm) if lm is not None else 0
            m = teeth_left(out, lm) if lm is not None else 0
            totals[key].append(n)
            totals[f"{key} teeth"].append(m)
            row.append(f"{key} {n} (teeth {m})")
        print(i, ", ".join(row), flush=True)
    for key, ns in totals.items():
        print(f"{key}: {sum(ns)} px on {sum(n > 0 for n in ns)} of {len(ns)} faces")


if __name__ == "__main__":
    main()
