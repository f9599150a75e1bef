"""Small eyes made surprised by the stage: how thick the upper lid's dark margin reads beside the iris,
on dlib's 68 points of the input and of the edit (independent of the stage).

    OMP_NUM_THREADS=1 python bench/bench_lid_margin.py [--london ../shared/data/london_hd] [--ids 001,002,003,004] \
        [--photos group_five,group_t1,posed_laugh] [-o runs/lid_margin]

The photos: the world's (``faceedit.eval.world``, the wheels' photos whose name holds one of ``--photos``'
parts) and London faces cut small (``london_variants``: 64, 96, 128 px, smiling and neutral, ``--ids``: training
ids by default, none of the held-out ones), each made surprised at strength 1 (every face). Per eye of every face
dlib finds in the input (its nearest in the edit, within 0.3 of its box's width) that is at most
:data:`MOST_PX` px wide and whose lids' distance grew by :data:`GROWN` or more: :func:`margin`, the upper
margin's thickness (px) and its dark minima. A warp that stretches the opening stretches the margin with it (twice
as thick on an eye opened twice as wide); moved as a line it keeps about the input's thickness. Prints per eye
(``in`` the input's thickness, then the edit's) and the medians. ``-o``: each eye at 6x (nearest), input | edit, PNG.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

TRAINING_IDS = "001,002,003,004"
MOST_PX = 40.0  # eyes wider than this (corner to corner, px) are not small
GROWN = 1.3  # the lids' distance grown by this or more: opened wide
COLUMNS = (0.22, 0.27, 0.32, 0.68, 0.73, 0.78)  # shares of the eye's width: beside the iris


def _luma(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., :3].astype(np.float32) / 255.0) @ np.array([0.299, 0.587, 0.114], np.float32)


def margin(rgb: np.ndarray, eye: np.ndarray) -> tuple[float, float]:
    """(thickness px, dark minima) of the upper lid's margin of the eye whose 6 68-point contour
    points are ``eye``: in the columns :data:`COLUMNS` of its width from its first corner, along
    the perpendicular to the corners' line (quarter-pixel steps), the dark run (under half-way from its
    darkest to the median of the skin 0.3-0.45 eye widths above the upper lid's line) through
    the darkest point from 0.15 eye widths above the line to half-way down to the lower lid's
    (the upper and lower lids' lines quadratics through the corners and their two points); its
    length, the median over the columns; and the count of local minima there deeper than 0.04 of
    luma than the lighter of the highest points on either side, the mean over the columns."""
    pts = np.asarray(eye, np.float64)
    if pts[3, 0] < pts[0, 0]:
        pts = pts[[3, 2, 1, 0, 5, 4]]
    w = float(np.linalg.norm(pts[3] - pts[0]))
    lum = _luma(rgb)
    o, u = pts[0], (pts[3] - pts[0]) / w
    n = np.array([-u[1], u[0]])
    f = np.stack([(pts - o) @ u, (pts - o) @ n], 1)
    up = np.polyfit(f[[0, 1, 2, 3], 0], f[[0, 1, 2, 3], 1], 2)
    lo = np.polyfit(f[[0, 4, 5, 3], 0], f[[0, 4, 5, 3], 1], 2)
    thick, minima = [], []
    for t in COLUMNS:
        x = t * w
        yu, yl = float(np.polyval(up, x)), float(np.polyval(lo, x))
        ys = np.arange(yu - 0.45 * w, max(yl, yu + 1.0), 0.25)
        p = (o + x * u + ys[:, None] * n).astype(np.float32)
        v = cv2.remap(lum, p[:, 0:1], p[:, 1:2], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)[:, 0]
        skin = float(np.median(v[ys < yu - 0.3 * w]))
        win = (ys > yu - 0.15 * w) & (ys < yu + 0.5 * (yl - yu))
        if not win.any():
            continue
        i = int(np.argmin(np.where(win, v, np.inf)))
        dark = v < 0.5 * (v[i] + skin)
        a = b = i
        while a > 0 and dark[a - 1]:
            a -= 1
        while b < len(v) - 1 and dark[b + 1]:
            b += 1
        thick.append((b - a + 1) * 0.25)
        minima.append(sum(1 for j in range(1, len(v) - 1) if win[j] and v[j] <= v[j - 1] and v[j] < v[j + 1]
                          and min(v[:j].max(), v[j:].max()) - v[j] > 0.04))
    if not thick:
        return float("nan"), float("nan")
    return float(np.median(thick)), float(np.mean(minima))


def _apertures(lm: np.ndarray) -> np.ndarray:
    return np.array([float(np.linalg.norm(lm[[e + 1, e + 2]] - lm[[e + 5, e + 4]], axis=1).mean()) for e in (36, 42)])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--london", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--ids", default=TRAINING_IDS, help="London ids ('' for none)")
    ap.add_argument("--photos", default="group_five,group_t1,posed_laugh", help="world photos ('' for none)")
    ap.add_argument("-o", "--out", type=Path, default=None)
    args = ap.parse_args()
    from faceedit.api import Editor
    from faceedit.eval import world
    from faceedit.faces.detectors import get_detector
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    photos: list[tuple[str, np.ndarray]] = []
    if args.photos:
        photos += [(p.name, p.rgb) for p in world.world_set(wheels=True)
                   if any(part in p.name for part in args.photos.split(","))]
    if args.ids:
        photos += [(n, rgb) for n, rgb in world.london_variants(args.london, ids=tuple(args.ids.split(",")))
                   if "small" in n]
    det = get_detector("dlib")
    ed = Editor.from_pretrained("stage", device="cpu")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, rgb in photos:
        faces = ed.detector.detect(rgb)
        out = edit_faces(ed, rgb, faces, EditRequest.of("surprised", 1.0)) if faces else rgb
        found = det.detect(out)
        for fi, f in enumerate(sorted(det.detect(rgb), key=lambda g: -g.area)):
            c = (f.box[:2] + f.box[2:]) / 2
            near = min(found, key=lambda g: float(np.linalg.norm((g.box[:2] + g.box[2:]) / 2 - c)), default=None)
            if near is None or np.linalg.norm((near.box[:2] + near.box[2:]) / 2 - c) > 0.3 * (f.box[2] - f.box[0]):
                continue
            lm, lm_e = np.asarray(f.landmarks, np.float64), np.asarray(near.landmarks, np.float64)
            grow = _apertures(lm_e) / np.maximum(_apertures(lm), 1e-6)
            for k, e in enumerate((slice(36, 42), slice(42, 48))):
                width = float(np.linalg.norm(lm[e][3] - lm[e][0]))
                if width > MOST_PX or grow[k] < GROWN:
                    continue
                m_in, m_out = margin(rgb, lm[e]), margin(out, lm_e[e])
                rows.append((m_in, m_out))
                print(f"{name}#{fi} eye {k} {width:.0f} px x{grow[k]:.2f}: in {m_in[0]:.2f} px, edit {m_out[0]:.2f} px, "
                      f"minima {m_in[1]:.1f} -> {m_out[1]:.1f}", flush=True)
                if args.out:
                    box = np.vstack([lm[e], lm_e[e]])
                    x0, y0 = np.maximum(np.floor(box.min(0) - [0.5 * width, 0.8 * width]).astype(int), 0)
                    x1, y1 = np.ceil(box.max(0) + [0.5 * width, 0.5 * width]).astype(int)
                    pair = np.hstack([rgb[y0:y1, x0:x1], out[y0:y1, x0:x1]])
                    big = cv2.resize(pair, None, fx=6, fy=6, interpolation=cv2.INTER_NEAREST)
                    cv2.imwrite(str(args.out / f"{name}_{fi}_{k}.png"), cv2.cvtColor(big, cv2.COLOR_RGB2BGR))
    if rows:
        a = np.array([[r[0][0], r[1][0], r[0][1], r[1][1]] for r in rows])
        print(f"{len(rows)} eyes: margin median {np.nanmedian(a[:, 0]):.2f} px in the input, {np.nanmedian(a[:, 1]):.2f} "
              f"in the edit (mean {np.nanmean(a[:, 1]):.2f}); minima {np.nanmean(a[:, 2]):.2f} -> {np.nanmean(a[:, 3]):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
