"""The stage's fast render against its exact one: PSNR inside each face's box, per photo and edit.

    OMP_NUM_THREADS=1 python bench/stage_fast_psnr.py --photos 24
    OMP_NUM_THREADS=1 python bench/stage_fast_psnr.py --photos 8 --crops runs/fast_crops

Photos as ``bench/bench_stage_steps.py`` makes them (512-px London neutral faces, the astronaut
where that folder is absent); every photo is edited by each of :data:`EDITS` (the three
expressions of the speed bench, neutral, a blink, an attribute) once under
:func:`faceedit.stage.precision.exact_render` and once without it. Printed: per edit the lowest
and the median PSNR (dB) inside the detector's face box and the largest difference of a channel
there (levels of 255), then the lowest over all. ``--crops DIR``: the mouth and eye crops of
the worst photo of each edit, fast beside exact beside their difference times 8, at 3x (nearest),
as PNGs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from faceedit.models.request import EditRequest
from faceedit.stage.records import StageFace

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: (label, request): what every photo is edited by.
EDITS = (
    ("happy", EditRequest.of("happy", 1.0)),
    ("surprised", EditRequest.of("surprised", 1.0)),
    ("sad", EditRequest.of("sad", 1.0)),
    ("neutral", EditRequest.of("neutral", 1.0)),
    ("blink", EditRequest.of("keep", 1.0, controls={"blink": 1.0})),
    ("glasses", EditRequest.of("keep", 1.0, attrs={"glasses": "on"})),
)


def face_psnr(exact: np.ndarray, fast: np.ndarray, box) -> tuple[float, int]:
    """(PSNR in dB, largest channel difference) of ``fast`` against ``exact`` inside ``box``
    (x0, y0, x1, y1, clipped to the photo)."""
    from faceedit.eval.head import psnr

    h, w = exact.shape[:2]
    x0, y0 = max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)
    x1, y1 = min(int(np.ceil(box[2])), w), min(int(np.ceil(box[3])), h)
    where = np.zeros((h, w), bool)
    where[y0:y1, x0:x1] = True
    diff = np.abs(exact[where].astype(np.int32) - fast[where].astype(np.int32))
    return psnr(exact, fast, where), int(diff.max(initial=0))


def renders(stage, image: np.ndarray, found, request: EditRequest) -> tuple[np.ndarray, np.ndarray]:
    """(exact, fast) renders of ``request`` on ``image`` with the detector's faces ``found``."""
    from faceedit.stage.precision import exact_render

    faces = [StageFace(np.asarray(f.landmarks, np.float64), f.dense) for f in found]
    with exact_render():
        exact = stage.edit_photo(image, faces, request)[0]
    return exact, stage.edit_photo(image, faces, request)[0]


def crops(exact: np.ndarray, fast: np.ndarray, lm: np.ndarray) -> dict[str, np.ndarray]:
    """Mouth and eye crops: fast | exact | |difference| x 8, each at 3x (nearest)."""
    out = {}
    iod = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    for name, pts in (("mouth", lm[48:68]), ("eyes", lm[36:48])):
        c = pts.mean(0)
        half = np.array([0.9, 0.45]) * iod if name == "mouth" else np.array([1.3, 0.4]) * iod
        x0, y0 = np.maximum(np.floor(c - half).astype(int), 0)
        x1, y1 = np.ceil(c + half).astype(int)
        a, b = fast[y0:y1, x0:x1], exact[y0:y1, x0:x1]
        d = np.clip(np.abs(a.astype(np.int32) - b.astype(np.int32)) * 8, 0, 255).astype(np.uint8)
        row = np.concatenate([a, b, d], 1)
        out[name] = row.repeat(3, 0).repeat(3, 1)
    return out


def main() -> None:
    from bench_stage_steps import photos

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=24)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--source", type=Path, default=HERE.parent.parent / "shared/data/london/neutral")
    ap.add_argument("--crops", type=Path, help="write the worst photo's mouth and eye crops per edit here")
    args = ap.parse_args()

    from faceedit.api import Editor

    editor = Editor.from_pretrained("stage")
    stage = editor.stage or editor.loaded.model
    images = photos(args.photos, args.size, args.source)
    found = [editor.detector.detect(im) for im in images]
    lowest = np.inf
    for label, request in EDITS:
        scores = []
        for i, (im, faces) in enumerate(zip(images, found)):
            if not faces:
                continue
            exact, fast = renders(stage, im, faces, request)
            db, most = min(face_psnr(exact, fast, f.box) for f in faces)
            scores.append((db, most, i, exact, fast, faces[0]))
        dbs = [s[0] for s in scores]
        worst = min(scores, key=lambda s: s[0])
        lowest = min(lowest, worst[0])
        print(f"{label:10s} faces {len(scores)}: PSNR in the face box min {worst[0]:.1f} dB (photo {worst[2]}), "
              f"median {np.median(dbs):.1f} dB; largest difference {max(s[1] for s in scores)} levels")
        if args.crops is not None and np.isfinite(worst[0]):
            from PIL import Image

            args.crops.mkdir(parents=True, exist_ok=True)
            for name, row in crops(worst[3], worst[4], np.asarray(worst[5].landmarks, np.float64)).items():
                Image.fromarray(row).save(args.crops / f"{label}_{worst[2]}_{name}.png")
    print(f"lowest PSNR over all: {lowest:.1f} dB")


if __name__ == "__main__":
    main()
