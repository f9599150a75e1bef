"""Mouth interiors on held-out London faces: sharpness and teeth colour against the real smile.

    python bench/bench_mouth.py --data ../shared/data/london_hd --out DIR

For every held-out London subject (the trainers' split: seed 0, 20 %) whose real smile shows an
opening, the real smile's inner-lip curves (Face Mesh) are mapped onto the neutral full-resolution
photo by a similarity on the eyes and nose, the polygon between them is filled with
:meth:`MouthBank.fill` (no warp: the neutral lips stay where they are), and compared with the real
smile:

* sharpness: variance of the Laplacian of the mouth box (the outer lips' box grown by 15 %, resized
  to 256 px wide by area) of the filled photo over the same of the real smile (target 0.7-1.6);
* the same for the real smile's own interior pasted into the same opening (the bench's ceiling:
  the neutral lips stay closed around it) and for the neutral photo itself;
* the same inside the opening alone (the polygon's box, filled over real), teeth against teeth;
* teeth colour: CIE76 distance between the mean Lab of the brighter half of the filled interior
  and of the real interior (eroded by 2 px).

Side-by-side crops (neutral | filled | real smile) at the photo's own pixels go to ``--out``, with
wide-open (surprised) examples: the neutral photo's jaw dropped by half the inner-lip width with
a crude thin-plate warp of the mesh, the hole between the lips filled.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from faceedit.data import holdout_subjects
from faceedit.faces.align import apply_affine, similarity_transform
from faceedit.faces.detectors import get_detector
from faceedit.faces.landmarks import STABLE
from faceedit.stage.cut_curves import opening_polygon, resample_by_length
from faceedit.stage.lips import CURVE_POINTS, MESH_INNER_LOWER, MESH_INNER_UPPER, MESH_OUTER_LOWER, opening_aspect
from faceedit.stage.mouth_bank import MouthBank
from faceedit.stage.warp import ThinPlateSpline

WIDTH = 256


def sharpness(rgb: np.ndarray, box) -> float:
    x0, y0, x1, y1 = box
    crop = rgb[y0:y1, x0:x1]
    h = max(1, round(crop.shape[0] * WIDTH / crop.shape[1]))
    g = cv2.cvtColor(cv2.resize(crop, (WIDTH, h), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(g.astype(np.float64), cv2.CV_64F).var())


def poly_box(poly: np.ndarray, shape):
    x0, y0 = np.floor(poly.min(0)).astype(int)
    x1, y1 = np.ceil(poly.max(0)).astype(int) + 1
    return max(x0, 0), max(y0, 0), min(x1, shape[1]), min(y1, shape[0])


def mouth_box(lm: np.ndarray, shape, grow: float = 0.15):
    p = lm[48:60]
    lo, hi = p.min(0), p.max(0)
    m = (hi - lo) * grow
    x0, y0 = np.floor(lo - m).astype(int)
    x1, y1 = np.ceil(hi + m).astype(int)
    return max(x0, 0), max(y0, 0), min(x1, shape[1]), min(y1, shape[0])


def opening_mask(poly: np.ndarray, shape, pad: int = 3):
    """(roi, soft mask) of a polygon: anti-aliased edge, about one pixel wide."""
    x0, y0 = np.floor(poly.min(0)).astype(int) - pad
    x1, y1 = np.ceil(poly.max(0)).astype(int) + pad + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, shape[1]), min(y1, shape[0])
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(m, [np.round((poly - [x0, y0]) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    return (x0, y0, x1, y1), m.astype(np.float32) / 255.0


def interior_lab(rgb: np.ndarray, poly: np.ndarray) -> np.ndarray:
    m = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(poly * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    m = cv2.erode(m, np.ones((5, 5), np.uint8)) > 0
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float64)[m]
    lab = lab[lab[:, 0] >= np.median(lab[:, 0])]  # the brighter half: the teeth
    return np.array([lab[:, 0].mean() * 100 / 255, lab[:, 1].mean() - 128, lab[:, 2].mean() - 128])


def open_wide(rgb: np.ndarray, face, drop: float = 0.5):
    """A crude dropped jaw for looking at wide openings: the lower lip, chin and jaw moved down by
    ``drop`` inner-lip widths (the upper lip up a little) with a thin-plate spline through the
    mesh, the rest of the face held. Returns (photo, upper, lower inner-lip curves)."""
    d = face.dense[:, :2].astype(np.float64)
    up, lo = (resample_by_length(d[k], CURVE_POINTS) for k in (MESH_INNER_UPPER, MESH_INNER_LOWER))
    w = float(np.linalg.norm(up[-1] - up[0]))
    bump = np.sin(np.linspace(0, np.pi, len(up)))
    new_up = up - np.c_[np.zeros(len(up)), 0.06 * w * bump]
    new_lo = lo + np.c_[np.zeros(len(lo)), drop * w * (0.25 + 0.75 * bump)]
    new_up[[0, -1]] = up[[0, -1]] + [0.0, 0.08 * drop * w]
    new_lo[[0, -1]] = new_up[[0, -1]]
    olo = resample_by_length(d[MESH_OUTER_LOWER], 9)[1:-1]
    olo_new = olo + np.c_[np.zeros(len(olo)), drop * w * (0.25 + 0.75 * np.sin(np.linspace(0, np.pi, 9)[1:-1]))]
    jaw = face.landmarks[4:13].astype(np.float64)
    jaw_new = jaw + np.c_[np.zeros(9), drop * w * np.sin(np.linspace(0.15, np.pi - 0.15, 9)) ** 2 * 0.9]
    fixed = np.vstack([face.landmarks[17:48], face.landmarks[[0, 1, 2, 14, 15, 16]]]).astype(np.float64)
    h, wd = rgb.shape[:2]
    frame = np.array([[0, 0], [wd - 1, 0], [0, h - 1], [wd - 1, h - 1]], np.float64)
    src = np.vstack([up[1:-1], lo[1:-1], up[[0, -1]], olo, jaw, fixed, frame])
    dst = np.vstack([new_up[1:-1], new_lo[1:-1], new_up[[0, -1]], olo_new, jaw_new, fixed, frame])
    tps = ThinPlateSpline(dst, src, reg=1e-3)
    x0, y0, x1, y1 = poly_box(np.vstack([dst[:-4], src[:-4]]), rgb.shape)
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    xy = tps(np.stack([gx, gy], -1).reshape(-1, 2)).reshape(y1 - y0, x1 - x0, 2).astype(np.float32)
    out = rgb.copy()
    out[y0:y1, x0:x1] = cv2.remap(rgb, xy[..., 0], xy[..., 1], cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    return out, new_up, new_lo


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--out", type=Path, default=None, help="folder for side-by-side crops")
    ap.add_argument("--bank", type=Path, default=None, help="bank file (default: the shipped one)")
    ap.add_argument("--crops", type=int, default=8, help="how many side-by-side crops to write")
    ap.add_argument("--wide", type=int, default=2, help="how many wide-open (surprised) examples to write")
    a = ap.parse_args(argv)
    bank = MouthBank.load(a.bank)
    det = get_detector("mediapipe")
    files = sorted((a.data / "neutral").glob("*.jpg"))
    held = sorted(holdout_subjects({f"london-{p.stem}" for p in files}, 0.2, 0))
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
    rows = []
    wide_open = 0
    print(f"{'subject':>11} {'aspect':>6} {'ex':>3} {'sharp':>6} {'neutral':>7} {'real':>6} {'inner':>6} {'dE76':>5}")
    for sid in held:
        nid = sid.split("-")[1]
        neutral = np.asarray(Image.open(a.data / "neutral" / f"{nid}.jpg").convert("RGB"))
        smile = np.asarray(Image.open(a.data / "smiling" / f"{nid}.jpg").convert("RGB"))
        fn, fs = det.detect(neutral), det.detect(smile)
        if not fn or not fs:
            continue
        fn, fs = fn[0], fs[0]
        m = similarity_transform(fs.landmarks[STABLE], fn.landmarks[STABLE])
        d = fs.dense[:, :2]
        up_s, lo_s = (resample_by_length(d[k], CURVE_POINTS) for k in (MESH_INNER_UPPER, MESH_INNER_LOWER))
        aspect, _ = opening_aspect(up_s, lo_s)
        if aspect < 0.06:  # the smile shows no teeth
            continue
        up, lo = apply_affine(m, up_s), apply_affine(m, lo_s)
        poly = opening_polygon(up, lo)
        roi, op = opening_mask(poly, neutral.shape)
        filled, ex = bank.fill(neutral, roi, op, up, lo, face_lm=fn.landmarks)
        box_n = mouth_box(apply_affine(m, fs.landmarks), neutral.shape)
        box_s = mouth_box(fs.landmarks, smile.shape)
        s_real = sharpness(smile, box_s)
        r_fill = sharpness(filled, box_n) / s_real
        r_neutral = sharpness(neutral, box_n) / s_real
        # the bench's ceiling: the real smile's own interior pasted into the same opening
        x0, y0, x1, y1 = roi
        real_in = cv2.warpAffine(smile, m, (neutral.shape[1], neutral.shape[0]), flags=cv2.INTER_LINEAR)
        oracle = neutral.copy()
        a3 = op[..., None]
        oracle[y0:y1, x0:x1] = np.rint(neutral[y0:y1, x0:x1] * (1 - a3) + real_in[y0:y1, x0:x1] * a3).astype(np.uint8)
        r_oracle = sharpness(oracle, box_n) / s_real
        poly_s = opening_polygon(up_s, lo_s)
        r_inner = sharpness(filled, poly_box(poly, neutral.shape)) / sharpness(smile, poly_box(poly_s, smile.shape))
        de = float(np.linalg.norm(interior_lab(filled, poly) - interior_lab(smile, opening_polygon(up_s, lo_s))))
        rows.append((r_fill, r_neutral, de, r_inner, r_oracle))
        print(f"{sid:>11} {aspect:6.3f} {ex:3d} {r_fill:6.2f} {r_neutral:7.2f} {r_oracle:6.2f} {r_inner:6.2f} {de:5.1f}")
        if a.out and len(rows) <= a.crops:
            # the three crops at the photo's own pixels, the smile's box of the same size
            w, h = box_n[2] - box_n[0], box_n[3] - box_n[1]
            cs = ((box_s[0] + box_s[2]) // 2, (box_s[1] + box_s[3]) // 2)
            sx0, sy0 = max(cs[0] - w // 2, 0), max(cs[1] - h // 2, 0)
            tiles = [neutral[box_n[1]:box_n[3], box_n[0]:box_n[2]], filled[box_n[1]:box_n[3], box_n[0]:box_n[2]],
                     smile[sy0:sy0 + h, sx0:sx0 + w]]
            hh = min(t.shape[0] for t in tiles)
            Image.fromarray(np.hstack([t[:hh] for t in tiles])).save(a.out / f"{sid}.png")
        if a.out and wide_open < a.wide:
            # wide open: the jaw dropped by a crude warp, the hole between the lips filled
            opened, su, sl = open_wide(neutral, fn)
            roi2, op2 = opening_mask(opening_polygon(su, sl), neutral.shape)
            wide, ex2 = bank.fill(opened, roi2, op2, su, sl, face_lm=fn.landmarks)
            x0, y0, x1, y1 = roi2
            pad = int(0.3 * (x1 - x0))
            crop = (slice(max(y0 - pad, 0), y1 + pad), slice(max(x0 - pad, 0), x1 + pad))
            Image.fromarray(np.hstack([neutral[crop], wide[crop]])).save(a.out / f"surprised-{sid}.png")
            print(f"{sid:>11} wide open (aspect {opening_aspect(su, sl)[0]:.2f}) with exemplar {ex2}")
            wide_open += 1
    r = np.array(rows)
    print(f"{len(r)} held-out smiles with teeth: sharpness filled/real median {np.median(r[:, 0]):.2f} "
          f"(range {r[:, 0].min():.2f}-{r[:, 0].max():.2f}; neutral/real {np.median(r[:, 1]):.2f}, "
          f"the real interior pasted the same way {np.median(r[:, 4]):.2f}), "
          f"inside the opening {np.median(r[:, 3]):.2f} (range {r[:, 3].min():.2f}-{r[:, 3].max():.2f}), "
          f"teeth dE76 median {np.median(r[:, 2]):.1f} (range {r[:, 2].min():.1f}-{r[:, 2].max():.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
