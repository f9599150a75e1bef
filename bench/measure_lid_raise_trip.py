"""London faces made surprised and back to neutral, read as tests/test_stage_expressive.py's round
trip reads them: the eyes' opening and the lids' raise the state reads off the irises.

    OMP_NUM_THREADS=1 python bench/measure_lid_raise_trip.py --data ../shared/data/london_hd [--ids train]
        [--scale 0.5] [--source neutral]

Each photo (``<source>/NNN.jpg`` at ``--scale`` of its 1350 px, INTER_AREA; the test's 097 is at
0.5) is made surprised by the stage (:class:`faceedit.api.Editor`), the result made neutral,
and each of the three read by the model's detector (the largest face). Per face: the eyes' opening
(the lids' mean distance 37-41, 38-40, 43-47, 44-46 in eye distances) of the photo, the edit and
the way back and the way back's distance from the photo's own; the irises' radius (the iris
model's 4 rim points' mean distance, both eyes' mean, eye distances) on the photo and the edit;
the edit's upper lids over the irises' tops (:func:`faceedit.faces.iris.lid_over_iris`, both
eyes' mean), the raise that reads (:func:`faceedit.stage.state.lid_raise`) and what of it the
state keeps beside its expression (``FaceState.lids_raised``), which the way back takes away.
Then the medians, how many ways back are off their own opening by 0.0125 or more (the test's
bar) and the faces whose edit's lids lie on :data:`~faceedit.stage.state.LID_RAMP` (there the
raise read changes by 6.5 to 8.5 times any change of the lids' place over the irises).

``--ids``: ``train`` (the default: none of the held-out ids), ``held`` or a list (001,003).
``--jaffe DIR``: instead, real surprise: per JAFFE person, the iris radius the model reads on
the posed surprised photos (``*.SU*``) over that on the neutral ones (``*.NE*``), medians.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from faceedit.api import Editor
from faceedit.faces.iris import iris_points, lid_over_iris
from faceedit.faces.landmarks import eye_distance
from faceedit.stage.state import LID_RAISED_FROM, LID_RAMP, lid_raise

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import london_ids  # noqa: E402

PAIRS = ((37, 41), (38, 40), (43, 47), (44, 46))
BAR = 0.0125


def opening(lm: np.ndarray) -> float:
    """The eyes' opening, the lids' mean distance in eye distances (the test's reading)."""
    return float(np.mean([np.linalg.norm(lm[a] - lm[b]) for a, b in PAIRS]) / eye_distance(lm))


def iris_radius(face) -> float:
    """Both irises' radius (their rim points' mean distance from the centre), eye distances."""
    irises = iris_points(face.dense)
    return float(np.mean([np.linalg.norm(i[1:] - i[0], axis=1).mean() for i in irises]) / eye_distance(face.landmarks))


def jaffe_radii(ed: Editor, jaffe: Path) -> None:
    """Per JAFFE person, the irises' radius on the posed surprise over that on the neutral photos."""
    radii: dict[str, dict[str, list[float]]] = {}
    for path in sorted(jaffe.glob("*.png")):
        who, expr = path.name.split(".")[:2]
        if expr[:2] not in ("NE", "SU"):
            continue
        faces = [f for f in ed.detector.detect(np.asarray(Image.open(path).convert("RGB"))) if f.dense is not None]
        if faces and iris_points(max(faces, key=lambda f: f.area).dense) is not None:
            radii.setdefault(who, {}).setdefault(expr[:2], []).append(iris_radius(max(faces, key=lambda f: f.area)))
    ratios = []
    for who, got in radii.items():
        if "NE" in got and "SU" in got:
            ratios.append(float(np.median(got["SU"]) / np.median(got["NE"])))
            print(f"{who}: iris radius neutral {np.median(got['NE']):.4f} surprised {np.median(got['SU']):.4f} "
                  f"({ratios[-1]:.3f})")
    if ratios:
        print(f"{len(ratios)} people: surprised / neutral iris radius median {np.median(ratios):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--ids", default="train")
    ap.add_argument("--scale", type=float, default=0.5)
    ap.add_argument("--source", default="neutral", choices=("neutral", "smiling"))
    ap.add_argument("--jaffe", type=Path, default=None, help="JAFFE's folder: its surprise's iris radius instead")
    args = ap.parse_args()
    ed = Editor.from_pretrained("stage", device="cpu")
    if args.jaffe is not None:
        jaffe_radii(ed, args.jaffe)
        return

    def face(img: np.ndarray):
        return max(ed.detector.detect(img), key=lambda f: f.area)

    rows, ramp = [], []
    for i in london_ids(args.data, args.ids):
        path = args.data / args.source / f"{i}.jpg"
        if not path.is_file():
            continue
        rgb = np.asarray(Image.open(path).convert("RGB"))
        if args.scale != 1:
            rgb = cv2.resize(rgb, None, fx=args.scale, fy=args.scale, interpolation=cv2.INTER_AREA)
        own = face(rgb)
        wide_rgb = ed.edit(rgb, "surprised", face="largest")
        wide = face(wide_rgb)
        back = face(ed.edit(wide_rgb, "neutral", face="largest"))
        irises = iris_points(wide.dense)
        gap = float(np.mean(lid_over_iris(wide.landmarks, irises)))
        st = ed.stage.state(wide.landmarks, irises, mediapipe=True)
        o = [opening(x.landmarks) for x in (own, wide, back)]
        r = [iris_radius(x) for x in (own, wide)]
        row = (*o, abs(o[2] - o[0]), *r, gap, lid_raise(wide.landmarks, irises), st.lids_raised)
        rows.append(row)
        if LID_RAISED_FROM <= gap <= LID_RAISED_FROM + LID_RAMP:
            ramp.append(i)
        print(f"{i}: opening own {o[0]:.4f} surprised {o[1]:.4f} back {o[2]:.4f} (off {row[3]:.4f}) | iris radius own "
              f"{r[0]:.4f} surprised {r[1]:.4f} | lids over irises {gap:+.4f} raise {row[7]:.4f} kept {row[8]:.4f}",
              flush=True)
    if not rows:
        return
    a = np.array(rows)
    print(f"{len(a)} faces: median opening own {np.median(a[:, 0]):.4f} surprised {np.median(a[:, 1]):.4f} back "
          f"{np.median(a[:, 2]):.4f}; back off its own median {np.median(a[:, 3]):.4f} mean {a[:, 3].mean():.4f} "
          f"largest {a[:, 3].max():.4f}, {int((a[:, 3] >= BAR).sum())} at {BAR} or more")
    print(f"iris radius surprised / own median {np.median(a[:, 5] / a[:, 4]):.3f}; raise median {np.median(a[:, 7]):.4f}, "
          f"kept {np.median(a[:, 8]):.4f}; lids on the ramp ({LID_RAISED_FROM} to {LID_RAISED_FROM + LID_RAMP}): "
          f"{len(ramp)} ({','.join(ramp)})")


if __name__ == "__main__":
    main()
