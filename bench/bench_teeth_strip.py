"""How the upper teeth in a thin open mouth (fearful) read along their length: as separate
teeth (joints, a step of light per tooth) or as one smooth band, on edited London HD faces.

    OMP_NUM_THREADS=1 python bench/bench_teeth_strip.py --from DIR [--ids 027,031,...] [--folders neutral,smiling]
        [--target fearful]

The edits are read from DIR as ``NNN_FOLDER_TARGET.png``. dlib's 68 points are detected again on
the edit; the box spans the inner corners (60, 64) and from 8 % of their distance ``wd`` above
the upper inner lip to the lower inner lip. The strip: the box's pixels of low saturation (HSV
S under 0.3) over 0.45 of the 99th-percentile luma of the box's low-saturation pixels (teeth,
not lips nor cavity), where that is over three times the box's median, their largest 8-connected
piece; under 20 strip columns
reads nothing. Along it, each column's 75th-percentile strip luma ``c``:

- ``joints``: the columns where ``c`` is the least within 0.03 ``wd`` either side and under 0.9
  of the most there, per front tooth's width (0.16 ``wd``) of the strip's length;
- ``fine``: the rms of ``c`` less its Gaussian smoothing (sigma 0.04 ``wd``), over the mean of
  ``c`` (0 for a smooth ramp, higher for steps and joints);
- ``edge``: the steepest luma step down the strip's lower edge (median over its columns, luma
  0..1 per px).

Printed per face, then the medians of the training and held-out faces.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mouth_luma import largest  # noqa: E402
from london_ids import HELD_OUT  # noqa: E402


def strip_measures(img: np.ndarray, lm: np.ndarray) -> tuple[float, float, float] | None:
    """(joints per front tooth width, fine, edge) of the lit strip in the mouth (see the module), or None."""
    wd = float(np.linalg.norm(lm[64] - lm[60]))
    x0, x1 = int(lm[60, 0]), int(lm[64, 0]) + 1
    y0 = int(min(lm[61:64, 1]) - 0.08 * wd)
    y1 = int(max(lm[65:68, 1])) + 1
    box = img[y0:y1, x0:x1].astype(np.float32) / 255.0
    if box.size == 0:
        return None
    y = box @ np.array([0.299, 0.587, 0.114], np.float32)
    hsv = cv2.cvtColor((box * 255).astype(np.uint8), cv2.COLOR_RGB2HSV)
    grey = hsv[..., 1] < 0.3 * 255
    top = float(np.percentile(y[grey], 99)) if grey.any() else 0.0
    if top < 3.0 * max(float(np.median(y)), 0.02):
        return None
    lit = grey & (y > 0.45 * top)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(lit.astype(np.uint8), connectivity=8)
    if n < 2:
        return None
    lit = lab == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    cols = np.flatnonzero(lit.sum(0) > 0)
    if cols.size < 20:
        return None
    c = np.array([np.percentile(y[lit[:, x], x], 75) for x in cols])
    reach = max(int(round(0.03 * wd)), 1)
    pad = np.pad(c, reach, mode="edge")
    near = np.lib.stride_tricks.sliding_window_view(pad, 2 * reach + 1)
    joints = int(((c <= near.min(1)) & (c < 0.9 * near.max(1))).sum())
    per = joints / max(cols.size / (0.16 * wd), 1e-6)
    smooth = cv2.GaussianBlur(c[None, :].astype(np.float64), (0, 0), max(0.04 * wd, 1.0))[0]
    fine = float(np.sqrt(np.mean((c - smooth) ** 2)) / max(c.mean(), 1e-6))
    steps = []
    for x in cols:
        ys = np.flatnonzero(lit[:, x])
        b = ys[-1]
        seg = y[b - 1:min(b + 4, y.shape[0]), x]
        if seg.size >= 2:
            steps.append(float(-np.diff(seg).min()))
    return per, fine, float(np.median(steps)) if steps else float("nan")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--from", dest="src", type=Path, required=True)
    ap.add_argument("--ids", default="001,002,003,004,006,007,009,011,027,031,062,008,014,019,022,061,083,094,"
                                     "096,097,099,114,126,131,136,137,142,144,173")
    ap.add_argument("--folders", default="neutral,smiling")
    ap.add_argument("--target", default="fearful")
    a = ap.parse_args(argv)
    from faceedit.faces.detectors import get_detector

    det = get_detector("dlib")
    rows: dict[tuple[str, bool], list[tuple[float, float, float]]] = {}
    for folder in a.folders.split(","):
        for i in [s.strip() for s in a.ids.split(",") if s.strip()]:
            p = a.src / f"{i}_{folder}_{a.target}.png"
            if not p.exists():
                continue
            img = np.asarray(Image.open(p).convert("RGB"))
            m = strip_measures(img, largest(det, img).landmarks)
            if m is None:
                print(f"  {i} {folder}: no strip")
                continue
            rows.setdefault((folder, i in HELD_OUT), []).append(m)
            print(f"  {i} {folder}: joints/tooth {m[0]:.2f} fine {m[1]:.3f} edge {m[2]:.3f}", flush=True)
    print("\n| folder | faces | n | joints per tooth width | fine | lower edge step |")
    print("|---|---|---|---|---|---|")
    for (folder, held), v in sorted(rows.items()):
        m = np.nanmedian(np.asarray(v, np.float64), 0)
        print(f"| {folder} | {'held-out' if held else 'training'} | {len(v)} | {m[0]:.2f} | {m[1]:.3f} | {m[2]:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
