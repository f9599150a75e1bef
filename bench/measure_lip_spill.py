"""How much of a coloured lip's red an edit leaves outside the lips: photos with red lips edited to targets.

    OMP_NUM_THREADS=1 python bench/measure_lip_spill.py --photos PHOTOS --targets surprised,neutral

Each photo's faces are read by the stage's own detector (MediaPipe's 68 points) on the photo and again on
each edit. On the photo, the lips' redness (CIE a*, OpenCV's 8-bit scale: the median inside the outer lips,
the opening left out) against the skin's round them (0.2-0.35 eye distances off the outline): faces whose
lips are at least ``--contrast`` redder are measured (a lipstick; bare lips' trace is a shade). On the edit,
the ring 0.04-0.2 eye distances off its own outer lips: the share of its pixels that are at least half as
far from the skin's redness toward the lips' as the lips are (lip red outside the lips), per face and the
median; the photo itself read the same way, for scale. The reading is
:mod:`faceedit.stage.lip_spill`'s (its ring starts nearer, at 0.02).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

RING = (0.04, 0.2, 0.35)


def _reading(rgb: np.ndarray, lm: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray] | None:
    """(lips' redness, skin's, the ring's redness, the box's corner) on the face at ``lm``."""
    from faceedit.faces.landmarks import eye_distance
    from faceedit.stage.lips import redness

    ed = eye_distance(lm)
    lo = np.maximum(lm[48:60].min(0) - RING[2] * ed - 2, 0).astype(int)
    hi = np.minimum(lm[48:60].max(0) + RING[2] * ed + 3, (rgb.shape[1], rgb.shape[0])).astype(int)
    crop = rgb[lo[1]:hi[1], lo[0]:hi[0]]
    if crop.shape[0] < 8 or crop.shape[1] < 8:
        return None
    red = redness(crop)
    lips = np.zeros(red.shape, np.uint8)
    cv2.fillPoly(lips, [np.round(lm[48:60] - lo).astype(np.int32)], 1)
    inside = np.zeros_like(lips)
    cv2.fillPoly(inside, [np.round(lm[60:68] - lo).astype(np.int32)], 1)
    own = (lips > 0) & (cv2.dilate(inside, np.ones((3, 3), np.uint8)) == 0)
    off = cv2.distanceTransform((1 - lips).astype(np.uint8), cv2.DIST_L2, 3) / ed
    skin = (off > RING[1]) & (off <= RING[2])
    ring = (off > RING[0]) & (off <= RING[1])
    if own.sum() < 8 or skin.sum() < 16 or ring.sum() < 16:
        return None
    return float(np.median(red[own])), float(np.median(red[skin])), red[ring], lo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=Path, required=True)
    ap.add_argument("--targets", default="surprised,neutral")
    ap.add_argument("--contrast", type=float, default=16.0, help="lips at least this much redder than the skin")
    args = ap.parse_args()
    from faceedit.api import Editor
    from faceedit.eval import world

    ed = Editor.from_pretrained("stage", device="cpu")
    targets = [t for t in args.targets.split(",") if t]
    spill: dict[str, list[float]] = {t: [] for t in ["photo", *targets]}
    for p in sorted(args.photos.glob("*.[jp][pn]g")):
        rgb = world.read_rgb(p)
        faces = ed.detector.detect(rgb)
        if not faces:
            continue
        face = max(faces, key=lambda f: f.area)
        read = _reading(rgb, np.asarray(face.landmarks, np.float64))
        if read is None or read[0] - read[1] < args.contrast:
            continue
        lips_red, skin_red, ring, _ = read
        half = skin_red + 0.5 * (lips_red - skin_red)
        row = {"photo": float((ring >= half).mean())}
        for t in targets:
            out = ed.edit(rgb, t, force=True)
            found = ed.detector.detect(out)
            if not found:
                continue
            c = np.asarray(face.landmarks, np.float64).mean(0)
            near = min(found, key=lambda f: float(np.linalg.norm(np.asarray(f.landmarks).mean(0) - c)))
            r = _reading(out, np.asarray(near.landmarks, np.float64))
            if r is not None:
                row[t] = float((r[2] >= half).mean())
        for k, v in row.items():
            spill[k].append(v)
        print(p.stem, f"lips {lips_red - skin_red:.0f} over the skin", "  ".join(f"{k} {v:.3f}" for k, v in row.items()),
              flush=True)
    print("median", "  ".join(f"{k} {np.median(v):.3f} ({len(v)})" for k, v in spill.items() if v))


if __name__ == "__main__":
    main()
