"""How light an edit's eye whites are against the cheek under them: the world's photos and London HD smiles made
surprised (or another target).

    OMP_NUM_THREADS=1 python bench/bench_eye_whites.py --world [--target surprised]
    OMP_NUM_THREADS=1 python bench/bench_eye_whites.py --london ../shared/data/london_hd --ids train --pairs 30 \\
        --scale 0.5 [--target surprised]

Each eye is read on the photo and on the edit by the stage's own detector (MediaPipe's 68 points, found again on
the edit, the face nearest the input's): its white is the median luma of the lightest quarter of the eye's
contour (eroded by a pixel) scored as the eye whites are (luma less 3x the channels' spread: bright and grey),
over the median luma of the cheek under it (a square 0.24 eye widths wide, 0.55 below the eye's middle). London
HD's open eyes at 1350 px read 0.81 / 0.94 (10th percentile / median); a squint's white in its lids' shadow
0.3-0.75. Per face both eyes (the image's left first), input and edit; then how many edited eyes read under
0.81. ``--world``: :func:`faceedit.eval.world.world_set` (the wheels' photos where they can be had; with
``--london`` its London cuts too); ``--london`` alone: the smiling photos of ``--ids`` (``train``, ``held`` or a
list, :func:`london_ids.london_ids`) at ``--scale``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import london_ids  # noqa: E402

from faceedit.pixels import luma  # noqa: E402

OPEN_P10 = 0.81


def whites(rgb8: np.ndarray, lm: np.ndarray) -> list[float]:
    """Each eye's white over the cheek under it (the module's text); nan where the eye is under 8 px."""
    rgb = rgb8.astype(np.float32) / 255
    y = luma(rgb)
    out = []
    for e in (lm[36:42], lm[42:48]):
        w = float(np.linalg.norm(e[3] - e[0]))
        m = np.zeros(y.shape, np.uint8)
        cv2.fillPoly(m, [np.round(e * 8).astype(np.int32)], 1, cv2.LINE_8, 3)
        px = rgb[cv2.erode(m, np.ones((3, 3), np.uint8)) > 0]
        if len(px) < 8:
            out.append(float("nan"))
            continue
        score = luma(px) - 3 * (px.max(1) - px.min(1))
        white = float(np.median(luma(px[score >= np.percentile(score, 75)])))
        c = e.mean(0) + [0.0, 0.55 * w]
        r = max(int(0.12 * w), 1)
        cheek = float(np.median(y[max(int(c[1]) - r, 0):int(c[1]) + r + 1, max(int(c[0]) - r, 0):int(c[0]) + r + 1]))
        out.append(white / max(cheek, 1e-6))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--world", action="store_true")
    ap.add_argument("--london", type=Path)
    ap.add_argument("--ids", default="train")
    ap.add_argument("--pairs", type=int)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--target", default="surprised")
    a = ap.parse_args(argv)

    from faceedit.api import Editor
    from faceedit.eval.world import read_rgb, world_set
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", device="cpu")
    if a.world:
        photos = [(p.name, p.rgb) for p in world_set(a.london)]
    elif a.london is not None:
        photos = []
        for i in london_ids(a.london, a.ids, a.pairs):
            rgb = read_rgb(a.london / "smiling" / f"{i}.jpg")
            if a.scale != 1.0:
                rgb = cv2.resize(rgb, None, fx=a.scale, fy=a.scale, interpolation=cv2.INTER_AREA)
            photos.append((f"london_{i}_smiling", rgb))
    else:
        ap.error("give --world or --london")
    edited = []
    for name, rgb in photos:
        for k, f in enumerate(sorted(ed.detector.detect(rgb), key=lambda f: -f.area)):
            lm = np.asarray(f.landmarks, np.float64)
            out = edit_faces(ed, rgb, [f], EditRequest.of(a.target, 1.0))
            found = ed.detector.detect(out)
            if not found:
                continue
            near = min(found, key=lambda g: float(np.linalg.norm(np.asarray(g.landmarks).mean(0) - lm.mean(0))))
            before, after = whites(rgb, lm), whites(out, np.asarray(near.landmarks, np.float64))
            edited += after
            print(f"{name}#{k}  input {before[0]:.2f} / {before[1]:.2f}  {a.target} {after[0]:.2f} / {after[1]:.2f}")
    v = np.array([x for x in edited if x == x])
    if len(v):
        print(f"edited eyes: {len(v)}, under {OPEN_P10}: {int((v < OPEN_P10).sum())}, "
              f"10th / 50th percentile {np.percentile(v, 10):.2f} / {np.median(v):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
