r"""The lips' grain of a London smile made neutral against the same person's real neutral photo.

    OMP_NUM_THREADS=1 python bench/measure_lip_grain.py --london ../shared/data/london_hd \
        --ids 001,002,003,004,006,007,009,010,011,012 --held

Per id the smiling photo (1350 px, and cut to 96 and 128 px as bench_world cuts it:
:func:`faceedit.eval.world.london_variants`) is made neutral by the stage; the editor's
detector's 68 points are read on the edit, on the smiling input and on the neutral photo (cut
alike). The grain is the std of the luma less its Gaussian blur (1.5 px at 1350 px, 1 px on the
cuts) inside the lips (:func:`lip_mask`: the 68 points' outer-lip polygon shrunk by 0.02 eye
distances, away from the inner-lip polygon and a band 0.05 eye distances either side of it, the
seam's band of closed lips, and from the corners: the middle 70% of the mouth's width). Printed
per id and size: the smiling input's, the edit's and the real neutral's grain and the edit's over
the neutral's; then the mean of that ratio and of its log's size (how far from the neutral's
grain either way) per size over the ``--ids`` that are not held out (:data:`london_ids.HELD_OUT`;
the ones to choose values on) and over those that are, apart. ``--held`` adds the held-out ids.
``-o DIR`` writes the mouths' crops (edit and neutral, 1x and 3x at 1350 px, 6x on the cuts) as
PNG.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from london_ids import HELD_OUT, london_ids  # noqa: E402

SIZES = ("1350", "small96", "small128")


def lip_mask(shape: tuple[int, ...], lm: np.ndarray) -> np.ndarray:
    """The lips' pixels: the outer-lip polygon shrunk by 0.02 eye distances (off the lips' outer
    edge), less the inner-lip polygon and a band 0.05 eye distances either side of it (the seam's
    band of closed lips; the teeth and the lips' inner edges of an open one) and the corners
    (outside the middle 70% of the mouth's width)."""
    from faceedit.faces.landmarks import eye_distance

    e = eye_distance(lm)
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(lm[48:60]).astype(np.int32)], 1)
    r = int(0.02 * e)
    if r > 0:
        mask = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    inner = np.round(lm[60:68]).astype(np.int32)
    band = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(band, [inner], 1)
    cv2.polylines(band, [inner], True, 1, thickness=max(int(round(0.1 * e)), 1))
    x = np.arange(shape[1])[None, :]
    x0, x1 = lm[48, 0], lm[54, 0]
    mid = (x >= x0 + 0.15 * (x1 - x0)) & (x <= x1 - 0.15 * (x1 - x0))
    return (mask > 0) & (band == 0) & mid


def grain(rgb: np.ndarray, lm: np.ndarray, sigma: float) -> float:
    """The std of the luma less its Gaussian blur of ``sigma`` px inside :func:`lip_mask`."""
    y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    hp = y - cv2.GaussianBlur(y, (0, 0), sigma)
    m = lip_mask(y.shape, lm)
    return float(hp[m].std()) if m.sum() > 3 else float("nan")


def crop(rgb: np.ndarray, lm: np.ndarray, k: int) -> np.ndarray:
    """The mouth (the outer lips' box grown by half the mouth's width) at ``k`` times, BGR."""
    w = lm[54, 0] - lm[48, 0]
    x0, y0 = np.maximum(np.floor(lm[48:60].min(0) - 0.5 * w).astype(int), 0)
    x1, y1 = np.ceil(lm[48:60].max(0) + 0.5 * w).astype(int)
    c = rgb[y0:y1, x0:x1]
    return cv2.cvtColor(cv2.resize(c, None, fx=k, fy=k, interpolation=cv2.INTER_NEAREST), cv2.COLOR_RGB2BGR)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--london", type=Path, required=True, help="the london_hd folder")
    ap.add_argument("--ids", default="001,002,004,009,012", help="ids, or train / held (bench/london_ids.py)")
    ap.add_argument("--held", action="store_true", help="add the held-out ids")
    ap.add_argument("-o", "--out", type=Path, default=None)
    args = ap.parse_args(argv)
    from faceedit.api import Editor
    from faceedit.eval.world import london_variants, read_rgb
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ids = london_ids(args.london, args.ids) + (list(HELD_OUT) if args.held else [])
    ed = Editor.from_pretrained("stage", device="cpu")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)

    def points(rgb: np.ndarray) -> np.ndarray | None:
        faces = ed.detector.detect(rgb)
        return np.asarray(faces[0].landmarks, np.float64) if faces else None

    ratios: dict[tuple[str, bool], list[float]] = {}
    for i in ids:
        photos = {}
        for expression in ("smiling", "neutral"):
            path = args.london / expression / f"{i}.jpg"
            if not path.is_file():
                break
            photos[(expression, "1350")] = read_rgb(path)
            for name, rgb in london_variants(args.london, ids=(i,), expressions=(expression,)):
                size = name.rsplit("_", 1)[1]
                if size in SIZES:
                    photos[(expression, size)] = rgb
        for size in SIZES:
            smile, neutral = photos.get(("smiling", size)), photos.get(("neutral", size))
            if smile is None or neutral is None:
                continue
            faces = ed.detector.detect(smile)
            if not faces:
                continue
            edit = edit_faces(ed, smile, [faces[0]], EditRequest.of("neutral", 1.0))
            lm_s, lm_e, lm_n = np.asarray(faces[0].landmarks, np.float64), points(edit), points(neutral)
            if lm_e is None or lm_n is None:
                continue
            sigma = 1.5 if size == "1350" else 1.0
            gs, ge, gn = grain(smile, lm_s, sigma), grain(edit, lm_e, sigma), grain(neutral, lm_n, sigma)
            ratios.setdefault((size, i in HELD_OUT), []).append(ge / gn)
            print(f"{i} {size:9s} grain smiling {gs:5.2f}  edit {ge:5.2f}  neutral {gn:5.2f}  edit/neutral "
                  f"{ge / gn:5.2f}{'  (held out)' if i in HELD_OUT else ''}", flush=True)
            if args.out is not None:
                for k in ((1, 3) if size == "1350" else (6,)):
                    cv2.imwrite(str(args.out / f"{i}_{size}_edit_x{k}.png"), crop(edit, lm_e, k))
                    cv2.imwrite(str(args.out / f"{i}_{size}_neutral_x{k}.png"), crop(neutral, lm_n, k))
    for (size, held), r in sorted(ratios.items()):
        print(f"{'held-out' if held else 'training'} {size:9s} edit/neutral mean {np.mean(r):.3f}, mean |log| "
              f"{np.mean(np.abs(np.log(r))):.3f} over {len(r)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
