"""How an open mouth's upper row of teeth ends, at the photo's own pixels: its lower edge against
the cavity and its ends beside it, on London HD faces edited to open their mouths (a smile made
fearful or surprised carries the person's own row; a neutral face shows the bank's), next to the
same people's real smiles.

    OMP_NUM_THREADS=1 python bench/bench_teeth_row.py [--ids 002,009,...] [--targets fearful,surprised]
        [--smiling] [--real] [--data ../shared/data] [--model stage]

Both measures read dlib's inner-lip polygon (68 points 60-67) on the edit, per column:

- ``edge``: in the middle 40 % of the row (its columns whose upper run of teeth, pixels over 0.55
  of the polygon's 97th-percentile luma, dilated 3 px, is at least 3 px tall), how many px down
  the column the luma takes to fall from 0.8 of the run's median to 0.2 of it (linear between
  pixels), the median
  over the columns: a tooth's edge against the dark takes 1-2 px, a row that fades to the
  cavity several.
- ``ends``: per column the 90th-percentile luma of the polygon's upper 40 %; from the middle
  out, the first column under half the middle's median: the mean of the 3 columns inside it less
  the 3 from it outward, over the middle's (each end, the median over them): how square the row
  stops beside the cavity (real smiles' rows fall off into the mouth's corners).

``--real`` measures the smiling photos themselves (``ends`` only: a smile's upper row meets the
lower, not a cavity). Printed per face, then the medians.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from faceedit.pixels import LUMA_WEIGHTS

LUMA = np.asarray(LUMA_WEIGHTS, np.float64)
#: The trainers' London ids with a smile showing its upper teeth (the held-out split left out).
TRAINING_SMILES = "002,004,006,009,012,013,016,026,034,036,037,062,063,064"


def polygon(shape, lm: np.ndarray) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(np.asarray(lm, np.float64)[60:68]).astype(np.int32)], 1)
    return m


def edge_width(img: np.ndarray, lm: np.ndarray) -> float:
    """The ``edge`` measure (module docstring); nan where the row is under 20 columns."""
    y = img[..., :3].astype(np.float64) @ LUMA
    m = cv2.dilate(polygon(img.shape, lm), np.ones((7, 7), np.uint8))
    if m.sum() < 50:
        return float("nan")
    teeth = ((y > 0.55 * np.percentile(y[m > 0], 97)) & (m > 0)).astype(np.uint8)
    teeth = (cv2.morphologyEx(teeth, cv2.MORPH_CLOSE, np.ones((3, 9), np.uint8)) * m).astype(np.uint8)
    cols = np.flatnonzero(teeth.any(0))
    if len(cols) < 20:
        return float("nan")
    xs, widths = [], []
    for x in range(cols[0], cols[-1] + 1):
        rows = np.flatnonzero(teeth[:, x])
        if len(rows) == 0:
            continue
        split = np.flatnonzero(np.diff(rows) > 1)
        last = rows[split[0]] if len(split) else rows[-1]  # the upper run's lowest pixel
        if last - rows[0] < 2 or last + 12 > y.shape[0]:
            continue
        light = float(np.median(y[rows[0]:last + 1, x]))
        down = y[rows[0]:last + 12, x]
        top = int(np.argmax(down >= 0.8 * light))
        below = np.flatnonzero(down[top:] < 0.8 * light)
        if len(below) == 0:
            continue
        a = top + int(below[0])
        dark = np.flatnonzero(down[a:] < 0.2 * light)
        if len(dark) == 0 or a < 1:
            continue
        b = a + int(dark[0])

        def cross(k: int, level: float) -> float:  # where the luma falls through level between k - 1 and k
            return k - 1 + (down[k - 1] - level) / max(down[k - 1] - down[k], 1e-6)

        xs.append(x)
        widths.append(cross(b, 0.2 * light) - cross(a, 0.8 * light))
    u = (np.asarray(xs) - cols[0]) / max(cols[-1] - cols[0], 1)
    mid = (u > 0.3) & (u < 0.7)
    return float(np.median(np.asarray(widths)[mid])) if mid.any() else float("nan")


def end_steps(img: np.ndarray, lm: np.ndarray) -> list[float]:
    """The ``ends`` measure at each end of the row that has one (module docstring)."""
    y = img[..., :3].astype(np.float64) @ LUMA
    m = polygon(img.shape, lm)
    tops = []
    for x in np.flatnonzero(m.any(0)):
        rows = np.flatnonzero(m[:, x])
        if len(rows) >= 3:
            tops.append(np.percentile(y[rows[:max(2, int(0.4 * len(rows)))], x], 90))
    p = np.asarray(tops, np.float64)
    n = len(p)
    if n < 12:
        return []
    c = float(np.median(p[int(0.4 * n):int(0.6 * n)]))
    steps = []
    for idx in (range(n // 2, -1, -1), range(n // 2, n)):
        j = next((k for k in idx if p[k] < 0.5 * c), None)
        if j is None or j < 3 or j + 3 > n:
            continue
        inside, outside = (p[j + 1:j + 4], p[j - 2:j + 1]) if idx.step < 0 else (p[j - 3:j], p[j:j + 3])
        steps.append(float((inside.mean() - outside.mean()) / max(c, 1e-6)))
    return steps


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--ids", default=TRAINING_SMILES)
    ap.add_argument("--targets", default="fearful,surprised")
    ap.add_argument("--smiling", action="store_true", help="edit the smiling photos (default: the neutral ones)")
    ap.add_argument("--real", action="store_true", help="measure the smiling photos themselves")
    ap.add_argument("--model", default="stage")
    a = ap.parse_args(argv)
    from faceedit.faces.detectors import get_detector

    det = get_detector("dlib")
    ids = [i.strip() for i in a.ids.split(",") if i.strip()]
    folder = "smiling" if a.smiling or a.real else "neutral"
    runs = ["real"] if a.real else [t.strip() for t in a.targets.split(",") if t.strip()]
    ed = None
    if not a.real:
        from faceedit.api import Editor

        ed = Editor.from_pretrained(a.model, device="cpu")
    for run in runs:
        edges, ends = [], []
        for i in ids:
            path = a.data / "london_hd" / folder / f"{i}.jpg"
            if not path.exists():
                continue
            img = np.asarray(Image.open(path).convert("RGB"))
            out = img if ed is None else ed.edit(img, run, face="largest")
            faces = det.detect(out)
            if not faces:
                print(f"  {i} {run}: no face", flush=True)
                continue
            lm = max(faces, key=lambda f: f.area).landmarks
            e = float("nan") if a.real else edge_width(out, lm)
            s = end_steps(out, lm)
            edges.append(e)
            ends += s
            print(f"  {i} {folder} {run}: edge {e:.2f} ends " + " ".join(f"{v:.3f}" for v in s), flush=True)
        ev = [v for v in edges if np.isfinite(v)]
        print(f"{folder} {run}: edge median {np.median(ev) if ev else float('nan'):.2f} (n={len(ev)}), "
              f"ends median {np.median(ends) if ends else float('nan'):.3f} (n={len(ends)})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
