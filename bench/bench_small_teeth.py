"""A smile's teeth on small faces: held-out London HD faces shrunk until the eyes are 25-50 px
apart (and one also blurred), the stage's happy edit of the neutral photo next to the same
person's real smiling photo shrunk alike.

    OMP_NUM_THREADS=1 python bench/bench_small_teeth.py [--data ../shared/data] [--out DIR]
        [--faces 008:30,014:40,014:40:2.5,022:25,061:50,083:36]

Each face is ``id:eye px[:blur sigma]``. Read on both photos alike: Face Mesh on the photo
upscaled 4x (the face is too small for it at its own pixels); the inner-lip polygon
(:func:`bench_mouth_luma.opening_mask`); teeth = its 75th-percentile luma, their colour the
median of its brightest quarter; eye whites = :func:`faceedit.stage.mouth.sclera_colour`'s luma;
yellowness 1 - blue / luma; colour the teeth's r, g, b over their luma; detail = the std of luma minus its Gaussian blur of 1 px inside
the polygon. The plate (a flat, bright row over the whole opening): side, corner = the teeth's luma
(75th percentile) in the opening's columns 0.15-0.3 of the corner distance from its middle
(the side teeth) and further out (the corners), over its middle fifth's; height = the bright part of the opening (luma over half-way
from the lips' ring just outside it to the teeth) as a mean height over the corner distance;
shade = the top row of the bright part (its upper 15 %) over the teeth (the upper lip's shadow
on them); lower = the median luma of the lowest third of the middle columns (within 0.12 of the
corner distance of the middle) over the teeth's (a plate reads about 1: its lower row as lit
as its upper one), and its colour (median r, g, b) over its luma (warm: r over 1, b under). ``--photos`` reads the same of every face with an opening in other photos (the
world photos' own smiles), as they are. 014 smiles with closed lips: its real smile has no teeth to read. ``--out`` writes each face's mouth at 4x (nearest neighbour): neutral, edit, real.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mouth_luma import opening_mask  # noqa: E402

from faceedit.faces.landmarks import eye_distance  # noqa: E402
from faceedit.stage.lips import MESH_INNER_UPPER  # noqa: E402
from faceedit.stage.mouth import sclera_colour  # noqa: E402

LUMA = np.array([0.299, 0.587, 0.114])
UP = 4


def _face(det, img):
    big = cv2.resize(img, None, fx=UP, fy=UP, interpolation=cv2.INTER_CUBIC)
    faces = det.detect(big)
    if not faces:
        return None
    f = max(faces, key=lambda f: f.area)
    return np.asarray(f.landmarks, np.float64) / UP, np.asarray(f.dense, np.float64)[:, :2] / UP


def teeth_reading(img: np.ndarray, face) -> dict | None:
    """teeth luma, eye whites' luma, their ratio, the teeth's and eye whites' yellowness, detail."""
    if face is None:
        return None
    lm, dense = face
    inside, _ = opening_mask(img.shape, dense)
    sc = sclera_colour(img, lm)
    if inside.sum() < 6 or sc is None:
        return None
    f = img.astype(np.float64) / 255
    y = f @ LUMA
    t75 = float(np.percentile(y[inside], 75))
    teeth = np.median(f[inside & (y >= t75)], 0)
    hp = y - cv2.GaussianBlur(y, (0, 0), 1.0)
    plate = plate_reading(y, inside, dense, f)
    return {**plate, "edge": edge_line(y, inside), "teeth": t75, "sclera": float(sc @ LUMA), "ratio": t75 / float(sc @ LUMA),
            "yellow": 1 - teeth[2] / max(float(teeth @ LUMA), 1e-6), "sclera_yellow": 1 - sc[2] / max(float(sc @ LUMA), 1e-6),
            "detail": float(hp[inside].std()), "colour": teeth / max(float(teeth @ LUMA), 1e-6)}


def plate_reading(y: np.ndarray, inside: np.ndarray, dense: np.ndarray, rgb: np.ndarray | None = None) -> dict:
    """falloff, height, shade and lower (the module's docstring) of luma ``y`` over the opening
    ``inside``; with ``rgb`` (unit) also the lower row's colour over its luma."""
    d = np.asarray(dense, np.float64)[:, :2]
    a, b = d[MESH_INNER_UPPER[0]], d[MESH_INNER_UPPER[-1]]
    wd = max(float(np.linalg.norm(b - a)), 1.0)
    ys, xs = np.nonzero(inside)
    u = ((np.stack([xs, ys], 1) - a) @ (b - a)) / wd**2
    v = y[ys, xs]
    t75 = float(np.percentile(v, 75))
    off = np.abs(u - 0.5)

    def band(m):
        return float(np.percentile(v[m], 75)) if m.sum() >= 3 else float("nan")

    centre = band(off < 0.1)
    ring = (cv2.dilate(inside.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0) & ~inside
    lips = float(np.median(y[ring])) if ring.any() else 0.0
    bright = v > lips + 0.5 * (t75 - lips)
    height = float(bright.sum()) / wd / wd
    by = ys[bright]
    if bright.sum() >= 6:
        top = np.zeros(bright.sum(), bool)
        for x in np.unique(xs[bright]):  # each column's bright pixels' upper 15 %
            col = xs[bright] == x
            top[col] = by[col] <= by[col].min() + 0.15 * (by[col].max() - by[col].min() + 1)
        shade = float(np.mean(v[bright][top])) / max(float(np.mean(v[bright])), 1e-6)
    else:
        shade = float("nan")
    low, low_rgb = [], []
    for x in np.unique(xs[off < 0.12]):  # the lowest third of each middle column
        col = ys[xs == x]
        if len(col) >= 3:
            rows = col[col >= col.min() + 2 * (col.max() - col.min()) / 3]
            low += list(y[rows, x])
            low_rgb += [] if rgb is None else list(rgb[rows, x])
    lc = np.median(np.asarray(low_rgb), 0) if low_rgb else np.full(3, np.nan)
    return {"lower": float(np.median(low)) / t75 if low else float("nan"),
            "lower_colour": lc / max(float(lc @ LUMA), 1e-6) if low_rgb else lc, "side": band((off >= 0.15) & (off < 0.3)) / centre, "corner": band(off >= 0.3) / centre,
            "height": height, "shade": shade}


def edge_line(y: np.ndarray, inside: np.ndarray) -> float:
    """The darkest 1-px line along the opening's lower edge over the lips' own luma: down each
    of the middle 80 % of ``inside``'s columns, the darkest pixel from 2 px above its lowest
    pixel to 3 px below it (Face Mesh's polygon finds the lips' edge within a pixel or two)
    over the lower lip's luma in that column (the median 4-7 px below its lowest pixel); the
    median over the columns. A line drawn darker than the lips under a smile's teeth reads low;
    a real smile's own shadow there, as low as it is."""
    cols = np.flatnonzero(inside.any(0))
    if cols.size < 5:
        return float("nan")
    cut = max(1, int(0.1 * cols.size))
    ratios = []
    for x in cols[cut:-cut]:
        b = int(np.flatnonzero(inside[:, x])[-1])
        if b + 8 > y.shape[0]:
            continue
        ratios.append(float(y[max(b - 2, 0):b + 4, x].min()) / max(float(np.median(y[b + 4:b + 8, x])), 1e-6))
    return float(np.median(ratios)) if ratios else float("nan")


def _mouth(img, lm):
    w = float(np.linalg.norm(lm[54] - lm[48]))
    c = lm[48:68].mean(0)
    x0, y0 = int(max(0, c[0] - 0.9 * w)), int(max(0, c[1] - 0.6 * w))
    crop = img[y0:int(c[1] + 0.6 * w), x0:int(c[0] + 0.9 * w)]
    return cv2.resize(crop, None, fx=UP, fy=UP, interpolation=cv2.INTER_NEAREST)


def _photos(det, paths) -> int:
    """The plate's reading of every face with an opening in ``paths``, as they are."""
    print("| photo | face x | eyes px | side | corner | height | shade | lower | lower's colour / luma | edge line |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        img = np.asarray(Image.open(path).convert("RGB"))
        big = cv2.resize(img, None, fx=UP, fy=UP, interpolation=cv2.INTER_CUBIC)
        for f in sorted(det.detect(big), key=lambda f: float(np.asarray(f.landmarks)[:, 0].mean())):
            lm, dense = np.asarray(f.landmarks, np.float64) / UP, np.asarray(f.dense, np.float64)[:, :2] / UP
            inside, _ = opening_mask(img.shape, dense)
            if inside.sum() < 6:
                continue
            y = img.astype(np.float64) @ LUMA / 255
            r = plate_reading(y, inside, dense, img.astype(np.float64) / 255)
            lc = "/".join(f"{c:.2f}" for c in r["lower_colour"])
            print(f"| {path.name} | {lm[:, 0].mean():.0f} | {eye_distance(lm):.0f} | {r['side']:.2f} | {r['corner']:.2f} | "
                  f"{r['height']:.3f} | {r['shade']:.2f} | {r['lower']:.2f} | {lc} | {edge_line(y, inside):.2f} |",
                  flush=True)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--faces", default="008:30,014:40,014:40:2.5,022:25,061:50,083:36")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--photos", type=Path, nargs="*", default=[])
    a = ap.parse_args(argv)
    from faceedit.api import Editor
    from faceedit.faces.detectors import get_detector

    det = get_detector("mediapipe")
    if a.photos:
        return _photos(det, a.photos)
    ed = Editor.from_pretrained("stage", device="cpu")
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
    print("| face | eyes px | blur | real teeth / eye whites | edit's | real yellow (eye whites') | edit's | real detail | edit's "
          "| real colour / luma | edit's | real side | edit's | real corner | edit's | real height | edit's | real shade | edit's "
          "| real lower | edit's | real lower's colour / luma | edit's | real edge line | edit's |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for spec in a.faces.split(","):
        name, eyes, *rest = spec.split(":")
        blur = float(rest[0]) if rest else 0.0
        row, crops = {}, []
        for kind in ("neutral", "smiling"):
            img = np.asarray(Image.open(a.data / "london_hd" / kind / f"{name}.jpg").convert("RGB"))
            k = float(eyes) / eye_distance(np.asarray(max(det.detect(img), key=lambda f: f.area).landmarks))
            small = cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
            if blur:
                small = cv2.GaussianBlur(small, (0, 0), blur)
            shown = ed.edit(small, "happy", face="largest") if kind == "neutral" else small
            face = _face(det, shown)
            row[kind] = teeth_reading(shown, face)
            if face is not None:
                crops += [_mouth(small, face[0]), _mouth(shown, face[0])] if kind == "neutral" else [_mouth(shown, face[0])]
        if a.out and crops:
            h = max(c.shape[0] for c in crops)
            strip = np.hstack([cv2.copyMakeBorder(c, 0, h - c.shape[0], 0, 4, cv2.BORDER_CONSTANT, value=(255, 0, 255))
                               for c in crops])
            Image.fromarray(strip).save(a.out / f"{name}_{eyes}_{blur:g}.png")
        r, e = row["smiling"], row["neutral"]

        def cell(s, key, fmt=".2f"):
            return "-" if s is None else format(s[key], fmt)

        def rgb(s, key="colour"):
            return "-" if s is None else "/".join(f"{v:.2f}" for v in s[key])

        print(f"| {name} | {eyes} | {blur:g} | {cell(r, 'ratio')} | {cell(e, 'ratio')} | "
              f"{cell(r, 'yellow', '.3f')} ({cell(r, 'sclera_yellow', '.3f')}) | {cell(e, 'yellow', '.3f')} "
              f"({cell(e, 'sclera_yellow', '.3f')}) | {cell(r, 'detail', '.3f')} | {cell(e, 'detail', '.3f')} | "
              f"{rgb(r)} | {rgb(e)} | {cell(r, 'side')} | {cell(e, 'side')} | {cell(r, 'corner')} | {cell(e, 'corner')} | {cell(r, 'height', '.3f')} | "
              f"{cell(e, 'height', '.3f')} | {cell(r, 'shade')} | {cell(e, 'shade')} | "
              f"{cell(r, 'lower')} | {cell(e, 'lower')} | {rgb(r, 'lower_colour')} | {rgb(e, 'lower_colour')} | {cell(r, 'edge')} | {cell(e, 'edge')} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
