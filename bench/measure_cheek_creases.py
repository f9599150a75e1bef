"""The creases a laugh leaves beside its mouth, after the laugh is taken away (surprised, neutral):
what :func:`faceedit.stage.smile.flatten_cheeks` leaves of them where the warp stretched the skin.

    OMP_NUM_THREADS=1 python bench/measure_cheek_creases.py --photos DIR [--london ../shared/data/london_hd
        --ids 014,022,061,099,131,137,142] [--targets surprised,neutral] [-o DIR]

Each photo's largest face (``--photos``: every JPEG or PNG in the folder; ``--london``: the
``smiling`` photos of ``--ids`` at full resolution, and their own ``neutral`` photos read the same
way as the truth of a smile made neutral) is made each target by the stage alone, and the model's
detector reads the edit's landmarks again. In two boxes beside the mouth (from 0.12 to 0.42 eye
distances out from each corner, from the nose's base to 0.3 eye distances below the corners: the
skin a laugh creases and a dropped jaw or a narrower mouth stretches) two measures of the luma
blurred over 0.008 eye distances: ``creases``, the mean of what a grey closing 0.06 eye distances
wide lifts plus what an opening as wide lowers (dark lines and light ridges narrower than that:
the laugh's creases and the shoulders beside them; broader shading, a fold's, is not counted),
and ``grain``, the mean absolute difference of neighbouring pixels of the luma less that blur
(pores, the photo's noise).
Printed per photo and target, input -> edit (and the own neutral photo's); the last lines the
medians of edit over input. Run it on two trees (``PYTHONPATH``) to compare them. ``-o DIR``
writes each edit as PNG.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np


def measures(rgb: np.ndarray, lm: np.ndarray) -> tuple[float, float]:
    """(creases, grain) beside the mouth of the face at 68 landmarks ``lm``, both boxes together."""
    from faceedit.faces.landmarks import eye_distance
    from faceedit.stage import ellipse_morph
    from faceedit.stage.moves import face_frame

    y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    e = eye_distance(lm)
    fine = cv2.GaussianBlur(y, (0, 0), max(0.008 * e, 0.5))
    k = int(round(0.06 * e)) | 1
    lines = (ellipse_morph.close(fine, k) - fine) + (fine - ellipse_morph.open_(fine, k))
    hp = y - fine
    u, n, _ = face_frame(lm)
    crease, grain = [], []
    for corner, side in ((48, -1.0), (54, 1.0)):
        quad = np.array([lm[corner] + side * 0.12 * e * u + (lm[33] - lm[corner]) @ n * n,
                         lm[corner] + side * 0.42 * e * u + (lm[33] - lm[corner]) @ n * n,
                         lm[corner] + side * 0.42 * e * u + 0.3 * e * n,
                         lm[corner] + side * 0.12 * e * u + 0.3 * e * n])
        m = np.zeros(y.shape, np.uint8)
        cv2.fillConvexPoly(m, np.round(quad).astype(np.int32), 1)
        inner = m > 0
        crease.append(lines[inner])
        g = np.abs(np.diff(hp, axis=1))[inner[:, 1:] & inner[:, :-1]]
        grain.append(g)
    return float(np.concatenate(crease).mean()), float(np.concatenate(grain).mean())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=None, help="a folder of photos of laughing faces")
    ap.add_argument("--london", type=Path, default=None, help="the london_hd folder")
    ap.add_argument("--ids", default="014,022,061,099,131,137,142")
    ap.add_argument("--targets", default="surprised,neutral")
    ap.add_argument("-o", "--out", type=Path, default=None)
    args = ap.parse_args(argv)

    from faceedit.api import Editor
    from faceedit.eval.world import read_rgb
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", device="cpu")
    photos: list[tuple[str, Path, Path | None]] = []
    if args.photos is not None:
        photos += [(p.stem, p, None) for p in sorted(args.photos.iterdir())
                   if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    if args.london is not None:
        photos += [(f"london_{i}", args.london / "smiling" / f"{i}.jpg", args.london / "neutral" / f"{i}.jpg")
                   for i in args.ids.split(",") if (args.london / "smiling" / f"{i}.jpg").exists()]
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    targets = args.targets.split(",")
    ratios: dict[str, list[tuple[float, float]]] = {t: [] for t in targets}

    def largest(rgb):
        faces = ed.detector.detect(rgb)
        return max(faces, key=lambda f: f.area) if faces else None

    for name, path, truth in photos:
        rgb = read_rgb(path)
        face = largest(rgb)
        if face is None:
            print(f"{name}: no face")
            continue
        mi = measures(rgb, np.asarray(face.landmarks, np.float64))
        line = f"{name:14s} input creases {mi[0]:5.2f} grain {mi[1]:5.2f}"
        if truth is not None and truth.exists():
            own = read_rgb(truth)
            of = largest(own)
            if of is not None:
                mo = measures(own, np.asarray(of.landmarks, np.float64))
                line += f" | own neutral {mo[0]:5.2f} {mo[1]:5.2f}"
        for t in targets:
            out = edit_faces(ed, rgb, [face], EditRequest.of(t, 1.0))
            if args.out is not None:
                cv2.imwrite(str(args.out / f"{name}_{t}.png"), cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
            fo = largest(out)
            if fo is None:
                line += f" | {t}: no face"
                continue
            me = measures(out, np.asarray(fo.landmarks, np.float64))
            ratios[t].append((me[0] / mi[0], me[1] / mi[1]))
            line += f" | {t} {me[0]:5.2f} {me[1]:5.2f}"
        print(line, flush=True)
    for t, r in ratios.items():
        if r:
            a = np.array(r)
            print(f"{t}: {len(r)} faces, edit over input, median creases {np.median(a[:, 0]):.3f} "
                  f"({a[:, 0].min():.3f}-{a[:, 0].max():.3f}), grain {np.median(a[:, 1]):.3f} "
                  f"({a[:, 1].min():.3f}-{a[:, 1].max():.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
