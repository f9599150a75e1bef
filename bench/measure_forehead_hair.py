"""Hair over the forehead under a hair colour: how much of a fringe or a swept lock the recolour
reaches, and how little of a bare forehead, and how much of a crown's shine it leaves as it was.

    OMP_NUM_THREADS=1 python bench/measure_forehead_hair.py --data ../shared/data \
        [--faces 002,003,009,011,016,026,027] [--colour blond] [--sheet docs/hair_forehead.jpg]

London HD neutrals (1350 px; training ids by default), landmarks and Face Mesh from the
mediapipe detector, :func:`faceedit.stage.hair.recolour` at strength 1. Per face, the share of
pixels changed by more than 10 levels in two bands over the forehead: ``fringe`` from 0.6 to 0.1
eye distances above the brows' top, between points 19 and 24 (a fringe down to the brows; skin on
a bare forehead); ``lock`` from 0.9 to 0.4 above, from point 17 to the nose's bridge (27) (a lock
swept across the forehead's upper left, or the hairline); ``crown`` the pixels of the hair over
the forehead left within 8 levels of the photo's (a shine left grey in a recoloured head), that
hair found without the stage's matte (:func:`crown_core`). ``--sheet`` writes the forehead of
each face at the photo's own pixels, the photo over its recolour, side by side (JPEG).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceedit.eval.head import backdrop, face_hull, head_mask  # noqa: E402
from faceedit.faces.detectors import get_detector  # noqa: E402
from faceedit.faces.landmarks import eye_distance  # noqa: E402
from faceedit.stage.hair import recolour  # noqa: E402
from faceedit.stage.matting import head_box  # noqa: E402


def bands(changed: np.ndarray, lm: np.ndarray) -> tuple[float, float]:
    """(fringe, lock): the share of ``changed`` (bool) in the two bands (module doc)."""
    d = eye_distance(lm)
    top = float(lm[17:27, 1].min())
    fringe = changed[int(top - 0.6 * d):int(top - 0.1 * d), int(lm[19, 0]):int(lm[24, 0])]
    lock = changed[int(top - 0.9 * d):int(top - 0.4 * d), int(lm[17, 0]):int(lm[27, 0])]
    return float(fringe.mean()), float(lock.mean())


def crown_core(img: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """bool: the hair over the forehead, found without the stage's matte: the head
    (:func:`faceedit.eval.head.head_mask`) less the plain backdrop and the face's outline, its
    holes (a shine as grey as the wall) filled, 0.06 eye distances in from its edge, from 0.4 eye
    distances above the brows up, within the stage's head box."""
    d = eye_distance(lm)
    face = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(face, [np.round(face_hull(lm)).astype(np.int32)], 1)
    wall = backdrop(img, lm)
    hair = head_mask(img, lm) & (face == 0) & (~wall if wall is not None else True)
    n, labels = cv2.connectedComponents((~hair).astype(np.uint8), connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    hair |= ~np.isin(labels, border) & (face == 0)
    k = 2 * int(0.06 * d) + 1
    core = cv2.erode(hair.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    core[int(lm[17:27, 1].min() - 0.4 * d):] = False
    x0, y0, x1, y1 = head_box(lm, img.shape).box
    inside = np.zeros_like(core)
    inside[y0:y1, x0:x1] = True
    return core & inside


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--faces", default="002,003,009,011,016,026,027")
    ap.add_argument("--colour", default="blond")
    ap.add_argument("--sheet", type=Path, help="write the foreheads, photo over recolour, here (JPEG)")
    args = ap.parse_args(argv)
    det = get_detector("mediapipe")
    tiles = []
    print("| face | fringe | lock | crown |\n|---|---|---|---|")
    for name in args.faces.split(","):
        path = args.data / "london_hd" / "neutral" / f"{name}.jpg"
        img = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        face = max(det.detect(img), key=lambda f: f.area)
        lm = np.asarray(face.landmarks, np.float64)
        out = recolour(img, lm, args.colour, mesh=face.dense)
        fringe, lock = bands(np.abs(out.astype(int) - img.astype(int)).max(-1) > 10, lm)
        kept = np.abs(out.astype(int) - img.astype(int)).max(-1) < 8
        core = crown_core(img, lm)
        print(f"| {name} | {fringe:.3f} | {lock:.3f} | {int((kept & core).sum())} of {int(core.sum())} |", flush=True)
        if args.sheet:
            d = eye_distance(lm)
            top = float(lm[17:27, 1].min())
            y0, y1 = max(int(top - 1.2 * d), 0), int(lm[36:48, 1].mean())
            x0, x1 = max(int(lm[0, 0] - 0.2 * d), 0), int(lm[16, 0] + 0.2 * d)
            tiles.append(np.vstack([img[y0:y1, x0:x1], out[y0:y1, x0:x1]]))
    if args.sheet and tiles:
        h = min(t.shape[0] for t in tiles)
        sheet = np.hstack([t[:h] for t in tiles])
        cv2.imwrite(str(args.sheet), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
