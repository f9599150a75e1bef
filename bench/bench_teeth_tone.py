"""The colour and shading of the upper teeth in a thin opening (fearful, ``eee``, a small ``aaa``) drawn
by the stage on London HD faces, next to the same figures of real smiles' upper rows (London HD's own
smiling photos: one studio, one white balance).

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python bench/bench_teeth_tone.py [--data ../shared/data]
        [--ids 002,004,...|held] [--edits "fearful;keep:eee=1;keep:aaa=0.3"] [--folders neutral,smiling]
        [--real] [--save DIR]

The upper row: on a real smile, the pixels of dlib's inner-lip polygon (68 points 60-67) over half its
97th-percentile luma with HSV saturation under 0.4, in each column the first run from the top; on an
edit, the lit pixels :func:`faceedit.stage.tooth_steps.tooth_steps` reads in the opening it is given
(over 0.45 of the opening's 98th-percentile luma, soft threshold), the first run from the top in each
column. Its colours are read on it eroded by a 3x3 square (no pixel mixed with the lips or the dark). Printed:

- ``Y/ck``: the row's 75th-percentile luma over the cheeks' median (two squares beside the nose, as
  :func:`bench_mouth_luma.cheek_mask` places them, read on the photo before the edit);
- ``R-G``, ``G-B``: the brightest quarter's median colour over its luma (r, g, b / Y): its red over
  green and green over blue (warm ivory: both over 0; a darkened lip colour: green under blue);
  ``dR-G``, ``dG-B`` the same of the darker half;
- ``top``: per column of the row's middle 40 %, the mean luma of its upper quarter (under the upper
  lip) over the column's brightest, the median;
- ``joint``: the rms of the columns' 75th-percentile luma less its Gaussian smoothing over a tenth of
  the row, over its mean (a row of separate teeth: their joints; a smooth band: 0).

``--real`` also prints each smile's shade tone (:func:`shade_tone`) and their median, which
:data:`faceedit.stage.teeth_tone.SHADE_TONE` is. Per run the median and range over the faces. Default ids: the trainers' London smiles showing teeth
(the held-out split left out); ``held`` the held-out split's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

LUMA = np.array([0.299, 0.587, 0.114])
TRAINING = "002,004,006,009,012,013,016,026,034,036,037,062,063,064"
HELD = "008,014,019,022,061,083,094,096,097,099,114,126,131,136,137,142,144,173"
FIELDS = ("Y/ck", "R-G", "G-B", "dR-G", "dG-B", "top", "joint")


def cheek_luma(img: np.ndarray, lm: np.ndarray) -> float:
    """The median luma of two squares beside the nose, 0.3 of the inner corner distance above the
    mouth's corners."""
    y = img.astype(np.float64) / 255.0 @ LUMA
    wd = float(np.linalg.norm(lm[64] - lm[60]))
    r = max(int(0.08 * wd), 2)
    vals = []
    for a, b, s in ((31, 48, -1), (35, 54, 1)):
        cx, cy = (lm[a] + lm[b]) / 2 + [s * 0.25 * wd, -0.3 * wd]
        vals.append(y[int(cy) - r:int(cy) + r, int(cx) - r:int(cx) + r].ravel())
    return float(np.median(np.concatenate(vals)))


def first_run(mask: np.ndarray) -> np.ndarray:
    """``mask`` kept to its first run of pixels from the top in each column."""
    up = np.zeros_like(mask, bool)
    for x in np.flatnonzero(mask.any(0)):
        ys = np.flatnonzero(mask[:, x])
        br = np.flatnonzero(np.diff(ys) > 1)
        up[ys[0]:(ys[br[0]] if br.size else ys[-1]) + 1, x] = True
    return up


def figures(img: np.ndarray, row: np.ndarray, cheek: float) -> dict | None:
    """The module's figures of the upper row ``row`` (bool, the image's shape) of RGB ``img``: its colours
    read eroded by a 3x3 square, ``top`` and ``joint`` on it whole."""
    f = img[..., :3].astype(np.float64) / 255.0
    y = f @ LUMA
    whole, row = row, cv2.erode(row.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    yt = y[row]
    if yt.size < 15:
        return None

    def rgb(mask):
        c = np.median(f[mask] / np.maximum(y[mask], 1e-3)[:, None], 0)
        return float(c[0] - c[1]), float(c[1] - c[2])

    bright, dark = row & (y >= np.percentile(yt, 75)), row & (y < np.percentile(yt, 50))
    out = {"Y/ck": float(np.percentile(yt, 75)) / max(cheek, 1e-3)}
    out["R-G"], out["G-B"] = rgb(bright)
    out["dR-G"], out["dG-B"] = rgb(dark)
    cols = np.flatnonzero(whole.any(0))
    tops, prof = [], []
    for x in cols[int(0.3 * cols.size):int(0.7 * cols.size)]:
        ys = np.flatnonzero(whole[:, x])
        p = y[ys[0]:ys[-1] + 1, x]
        if p.size >= 3:
            tops.append(p[:max(1, p.size // 4)].mean() / max(p.max(), 1e-6))
    for x in cols:
        prof.append(np.percentile(y[whole[:, x], x], 75))
    out["top"] = float(np.median(tops)) if tops else float("nan")
    pr = np.asarray(prof)
    sm = cv2.GaussianBlur(pr[None], (0, 0), max(pr.size / 10.0, 1.0))[0]
    out["joint"] = float(np.sqrt(np.mean((pr - sm) ** 2)) / max(float(pr.mean()), 1e-6))
    return out


def shade_tone(img: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, float]:
    """(tone, depth) of a real upper row ``row`` (eroded by a 3x3 square): the median colour over its
    luma of its darkest quarter divided by its brightest quarter's, over that ratio's own luma, raised
    to 1 over ``depth`` (1 less the quarters' median luma ratio): the chromaticity the teeth move
    toward per unit of depth (:data:`faceedit.stage.teeth_tone.SHADE_TONE`)."""
    f = img[..., :3].astype(np.float64) / 255.0
    y = f @ LUMA
    core = cv2.erode(row.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    yt = y[core]
    b, d = core & (y >= np.percentile(yt, 75)), core & (y < np.percentile(yt, 25))
    k = np.median(f[d] / y[d, None], 0) / np.median(f[b] / y[b, None], 0)
    depth = 1.0 - float(np.median(y[d]) / np.median(y[b]))
    return (k / float(k @ LUMA)) ** (1.0 / max(depth, 1e-3)), depth


def real_row(img: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """A real smile's upper row (see the module)."""
    m = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(m, [lm[60:68].astype(np.int32)], 1)
    y = img.astype(np.float64) / 255.0 @ LUMA
    sat = cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_RGB2HSV)[..., 1]
    return first_run((m > 0) & (y > 0.5 * np.percentile(y[m > 0], 97)) & (sat < 0.4 * 255))


def edit_row(out: np.ndarray, seen: dict) -> np.ndarray:
    """An edit's upper row: the lit pixels of the opening :func:`tooth_steps` was given (see the module)."""
    x0, y0, x1, y1 = seen["roi"]
    op = seen["op"]
    y = out[y0:y1, x0:x1, :3].astype(np.float64) / 255.0 @ LUMA
    top = float(np.percentile(y[op > 0.5], 98))
    w = np.clip((y - 0.35 * top) / (0.2 * top), 0.0, 1.0) * np.clip(op, 0.0, 1.0)
    row = np.zeros(out.shape[:2], bool)
    row[y0:y1, x0:x1] = first_run(w > 0.5)
    return row


def report(name: str, rows: list[dict]) -> None:
    if not rows:
        print(f"{name}: none")
        return
    a = {k: np.array([r[k] for r in rows]) for k in FIELDS}
    print(f"{name} (n={len(rows)}): " + ", ".join(
        f"{k} {np.nanmedian(v):.3f} [{np.nanmin(v):.3f}, {np.nanmax(v):.3f}]" for k, v in a.items()), flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--ids", default=TRAINING, help="London ids; 'held' the held-out split")
    ap.add_argument("--edits", default="fearful;keep:eee=1;keep:aaa=0.3",
                    help="';'-separated target[:control=value,...]")
    ap.add_argument("--folders", default="neutral,smiling")
    ap.add_argument("--real", action="store_true", help="measure the real smiling photos")
    ap.add_argument("--save", type=Path, default=None, help="write each edit as DIR/ID_FOLDER_EDIT.png")
    a = ap.parse_args(argv)
    from faceedit.faces.detectors import get_detector

    det = get_detector("dlib")
    ids = [i.strip() for i in (HELD if a.ids == "held" else a.ids).split(",") if i.strip()]

    def landmarks(img):
        faces = det.detect(img)
        return np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64) if faces else None

    if a.real:
        rows, tones = [], []
        for i in ids:
            img = np.asarray(Image.open(a.data / "london_hd" / "smiling" / f"{i}.jpg").convert("RGB"))
            lm = landmarks(img)
            row = None if lm is None else real_row(img, lm)
            r = None if lm is None else figures(img, row, cheek_luma(img, lm))
            if r is not None:
                rows.append(r)
                tone, depth = shade_tone(img, row)
                tones.append(tone)
                print(f"  {i} real: " + " ".join(f"{k} {v:.3f}" for k, v in r.items())
                      + f" tone {np.round(tone, 3).tolist()} depth {depth:.3f}", flush=True)
        report("real smiles", rows)
        if tones:
            t = np.asarray(tones)
            print(f"shade tone: median {np.round(np.median(t, 0), 3).tolist()}, min {np.round(t.min(0), 3).tolist()}, "
                  f"max {np.round(t.max(0), 3).tolist()}")
        return 0

    import faceedit.stage.mouth_steps as steps
    from faceedit.api import Editor

    seen: list[dict] = []
    tooth_steps = steps.tooth_steps

    def hook(pixels, roi, opening, *args, **kw):
        seen.append({"roi": tuple(int(v) for v in roi), "op": np.asarray(opening, np.float32).copy()})
        return tooth_steps(pixels, roi, opening, *args, **kw)

    steps.tooth_steps = hook
    ed = Editor.from_pretrained("stage", device="cpu")
    if a.save:
        a.save.mkdir(parents=True, exist_ok=True)
    for spec in [s.strip() for s in a.edits.split(";") if s.strip()]:
        target, _, ctl = spec.partition(":")
        controls = {k: float(v) for k, v in (c.split("=") for c in ctl.split(","))} if ctl else None
        for folder in a.folders.split(","):
            rows = []
            for i in ids:
                img = np.asarray(Image.open(a.data / "london_hd" / folder / f"{i}.jpg").convert("RGB"))
                lm = landmarks(img)
                if lm is None:
                    continue
                seen.clear()
                out = np.asarray(ed.edit(img, target, face="largest", controls=controls))
                if a.save:
                    tag = spec.replace(":", "_").replace("=", "").replace(",", "_")
                    cv2.imwrite(str(a.save / f"{i}_{folder}_{tag}.png"), out[..., 2::-1])
                r = figures(out, edit_row(out, seen[-1]), cheek_luma(img, lm)) if seen else None
                if r is None:
                    print(f"  {i} {folder} {spec}: no row", flush=True)
                    continue
                rows.append(r)
                print(f"  {i} {folder} {spec}: " + " ".join(f"{k} {v:.3f}" for k, v in r.items()), flush=True)
            report(f"{folder} {spec}", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
