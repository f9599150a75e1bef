"""How black and how grainy a photo's darks are, against its cheeks, and the stage's drawn cavity
beside them: the evidence for ``MouthTuning.cavity_black`` and ``cavity_grain``.

    OMP_NUM_THREADS=1 python bench/measure_photo_black.py [--data ../shared/data] [--ids 008,061,...]
        [--edit surprised]

On London HD neutrals (``london_hd/neutral/NNN.jpg``; default the 8 ids below), with dlib's 68
points: the cheeks are two squares of 0.12 eye distances (half-side) half-way between each outer
eye corner and the mouth corner below it. Printed per photo and as medians:
``black`` the photo's black (:func:`faceedit.stage.cavity.photo_black`, the pupils) over the
cheeks' median luma; ``nostril`` the nostrils' darkest hundredth over it; ``dark grain`` the
median absolute high-pass (luma less its Gaussian blur of 1.5 px, times 1.4826) of the
nostrils' darkest 8 % over the cheeks'. With ``--edit TARGET`` each photo is also edited by the
stage and the same grain is read inside dlib's inner-mouth polygon (eroded 3 px, pixels under 0.3
of the cheeks' luma): ``cavity grain``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from faceedit.pixels import LUMA_WEIGHTS

LUMA = np.asarray(LUMA_WEIGHTS, np.float32)
IDS = "008,061,094,097,114,126,131,137"


def mad(a: np.ndarray) -> float:
    return 1.4826 * float(np.median(np.abs(a - np.median(a))))


def cheeks(y: np.ndarray, lm: np.ndarray) -> np.ndarray:
    r = int(0.12 * np.linalg.norm(lm[45] - lm[36]))
    return np.concatenate([y[int(c[1]) - r:int(c[1]) + r, int(c[0]) - r:int(c[0]) + r].ravel()
                           for c in ((lm[36] + lm[48]) / 2, (lm[45] + lm[54]) / 2)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--ids", default=IDS)
    ap.add_argument("--edit", default="", help="also edit to this target and read the cavity's grain")
    a = ap.parse_args(argv)
    from faceedit.faces.detectors import get_detector
    from faceedit.stage.cavity import photo_black

    det = get_detector("dlib")
    ed = None
    if a.edit:
        from faceedit.api import Editor

        ed = Editor.from_pretrained("stage", device="cpu")
    rows = []
    for i in [s.strip() for s in a.ids.split(",") if s.strip()]:
        img = np.asarray(Image.open(a.data / "london_hd" / "neutral" / f"{i}.jpg").convert("RGB"))
        lm = max(det.detect(img), key=lambda f: f.area).landmarks
        y = img.astype(np.float32) @ LUMA
        hp = y - cv2.GaussianBlur(y, (0, 0), 1.5)
        cheek, cheek_hp = float(np.median(cheeks(y, lm))), mad(cheeks(hp, lm))
        b = photo_black(img, lm)
        black = float(b @ LUMA) * 255 / cheek if b is not None else float("nan")
        n = lm[31:36]
        x0, x1 = int(n[:, 0].min()) - 10, int(n[:, 0].max()) + 10
        y0, y1 = int(n[:, 1].min()) - 15, int(n[:, 1].max()) + 8
        nb = y[y0:y1, x0:x1]
        core = cv2.erode((nb <= np.percentile(nb, 8)).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        row = [black, float(np.percentile(nb, 1)) / cheek, mad(hp[y0:y1, x0:x1][core]) / cheek_hp]
        if ed is not None:
            out = ed.edit(img, a.edit, face="largest")
            lo = max(det.detect(out), key=lambda f: f.area).landmarks
            yo = out.astype(np.float32) @ LUMA
            ho = yo - cv2.GaussianBlur(yo, (0, 0), 1.5)
            m = np.zeros(yo.shape, np.uint8)
            cv2.fillPoly(m, [np.round(lo[60:68]).astype(np.int32)], 1)
            inside = (cv2.erode(m, np.ones((7, 7), np.uint8)) > 0) & (yo < 0.3 * float(np.median(cheeks(yo, lo))))
            row.append(mad(ho[inside]) / mad(cheeks(ho, lo)) if inside.sum() >= 50 else float("nan"))
        rows.append(row)
        print(f"{i}: black {row[0]:.3f} nostril {row[1]:.3f} dark grain {row[2]:.2f}"
              + (f" cavity grain {row[3]:.2f}" if ed is not None else ""), flush=True)
    med = np.nanmedian(np.asarray(rows), 0)
    print(f"median of {len(rows)}: black {med[0]:.3f} nostril {med[1]:.3f} dark grain {med[2]:.2f}"
          + (f" cavity grain {med[3]:.2f}" if ed is not None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
