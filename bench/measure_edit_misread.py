"""How far the stage's detector reads the stage's own edits off the points the edits aimed at, by region, and
the round trips neutral -> target -> neutral, on London HD's neutral photos.

    OMP_NUM_THREADS=1 python bench/measure_edit_misread.py --london ../shared/data/london_hd --ids train --pairs 20

Each person's neutral photo (at the set's 1350 px, or ``--scale`` of it) is edited to each of ``--targets``
(:meth:`faceedit.stage.model.Stage.edit_photo` on the face the stage's detector finds) and the edit back to
neutral, the face found again on each output. Printed:

- the misread: the 68 points found on the edit less the points the edit aimed at, both brought to the
  state's canonical frame by the aimed points' similarity (:meth:`ExpressionStates.normaliser
  <faceedit.stage.state.ExpressionStates.normaliser>`: canonical px of the 256-px frame), root mean square
  over the points of each region, all people and targets (how far off the state fit,
  :class:`~faceedit.stage.state.ExpressionStates`, reads each region of the stage's own edits);
- the round trip: the mean distance of the points found on the face given back from those found on the
  neutral photo, in its eye distances, the median over the people per target (no alignment).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from london_ids import london_ids
from PIL import Image

from faceedit.api import Editor
from faceedit.faces.align import apply_affine
from faceedit.faces.landmarks import eye_distance
from faceedit.models.request import EditRequest

REGIONS = {"jaw": range(0, 17), "brows": range(17, 27), "bridge": range(27, 31), "nostrils": range(31, 36),
           "eyes": range(36, 48), "outer lips": range(48, 60), "inner lips": range(60, 68)}
TARGETS = "happy,sad,surprised,angry,disgusted,fearful,sleepy,wink"


def _largest(ed: Editor, rgb: np.ndarray):
    return max(ed.detector.detect(rgb), key=lambda f: f.area)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--london", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--ids", default="train", help="train, held, none or a comma-separated list")
    ap.add_argument("--pairs", type=int, default=20, help="the first this many people of --ids")
    ap.add_argument("--targets", default=TARGETS)
    ap.add_argument("--scale", type=float, default=1.0, help="the photos resized by this")
    args = ap.parse_args()
    ed = Editor.from_pretrained("stage", device="cpu")
    stage, targets = ed.stage, args.targets.split(",")
    trips: dict[str, list[float]] = {t: [] for t in targets}
    misread: dict[str, list[float]] = {k: [] for k in REGIONS}
    for pid in london_ids(args.london, args.ids, args.pairs):
        im = Image.open(args.london / "neutral" / f"{pid}.jpg").convert("RGB")
        if args.scale != 1:
            im = im.resize((round(im.width * args.scale), round(im.height * args.scale)), Image.LANCZOS)
        rgb = np.asarray(im)
        face = _largest(ed, rgb)
        start = np.asarray(face.landmarks, np.float64)
        for t in targets:
            out, done = stage.edit_photo(rgb, [face], EditRequest.of(t))
            aim = np.asarray(done[0].landmarks, np.float64)
            found = _largest(ed, out)
            to_canonical = stage.normaliser(aim)
            off = apply_affine(to_canonical, np.asarray(found.landmarks, np.float64)) - apply_affine(to_canonical, aim)
            for k, idx in REGIONS.items():
                misread[k].extend(np.linalg.norm(off[list(idx)], axis=1) ** 2)
            back, _ = stage.edit_photo(out, [found], EditRequest.of("neutral"))
            end = np.asarray(_largest(ed, back).landmarks, np.float64)
            trips[t].append(float(np.linalg.norm(end - start, axis=1).mean() / eye_distance(start)))
        print(pid, " ".join(f"{t} {v[-1]:.4f}" for t, v in trips.items()), flush=True)
    print("misread (canonical px, rms):", ", ".join(f"{k} {np.sqrt(np.mean(v)):.2f}" for k, v in misread.items()))
    medians = {t: float(np.median(v)) for t, v in trips.items()}
    print("round trip (eye distances, median):", ", ".join(f"{t} {v:.4f}" for t, v in medians.items()),
          f"; mean {np.mean(list(medians.values())):.4f}")


if __name__ == "__main__":
    main()
