"""The line where closed lips meet: a smile made neutral against the person's own neutral (issues 53, 55).

    OMP_NUM_THREADS=1 python bench/measure_closed_seam.py --london ../shared/data/london_hd --ids train --pairs 12
    OMP_NUM_THREADS=1 python bench/measure_closed_seam.py --london ../shared/data/london_hd --ids held

Read on dlib's 68 points of each photo (``bench_laugh_neutral.Dlib68``: independent of the stage's own
points and drawing): each column across the mouth (one per px along the corners' axis, 48 to 54, the
middle :data:`MIDDLE` of it) is sampled down the face at a quarter px between the outer upper lip
(49-53) and the outer lower lip (55-59); the meeting line is the column's darkest luma within
:data:`NEAR` eye distances of the inner lips' mean line (61-63 and 65-67, 60 and 64 at the ends).
Against the lips' median (the outer-lip polygon, 48-59, in the same middle):

- ``dark``: the line's luma over the lips' median luma (the median over the columns; lower is darker);
- ``width``: the line's width at half its depth (px, contiguous about the darkest sample) over the
  mouth's width (48 to 54), the median over the columns;
- ``chroma``: CIE L*a*b* chroma (sqrt(a*^2 + b*^2), OpenCV's 8-bit scale less 128) at the line's
  darkest sample over the lips' median chroma, and ``a``: its a* less the lips' (red lost: below 0);
- ``vary``: the standard deviation of the columns' ``dark`` (its variation along the mouth), and
  ``vary_s`` of it smoothed along the mouth (:data:`SMOOTH`);
- ``red_h``: the upper lip's red height in eye distances (the eye centres'): from the line up the
  middle third's columns while a* stays above halfway from the philtrum's (halfway from the outer
  upper lip to the nose base, 33) to the upper lip's median a*, the median over those columns.

On each London smiling photo the stage's edit to neutral at strength 1 (``out``) and the same
person's neutral photo (``own``); per group, the means of each and of out - own. ``--set``
changes stage tuning fields (``group.field=value,...``); ``-o`` writes each edit (local only).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import london_ids  # noqa: E402

#: The share of the mouth's width (its middle) the columns are read over.
MIDDLE = 0.8
#: How far (eye distances) from the inner lips' line the meeting line's dark is looked for.
NEAR = 0.03
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
#: ``vary_s``: ``vary`` of the columns' darkness smoothed along the mouth by a Gaussian of this
#: share of its width (the line's course of darkness, not the photo's grain).
SMOOTH = 0.04
KEYS = ("dark", "width", "chroma", "a", "vary", "vary_s", "red_h")


def _curve(pts: np.ndarray, u: np.ndarray, n: np.ndarray, o: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The offset down the face (``n``) of the polyline ``pts`` at ``at`` along ``u`` from ``o``."""
    a, d = (pts - o) @ u, (pts - o) @ n
    order = np.argsort(a)
    return np.interp(at, a[order], d[order])


def seam(rgb: np.ndarray, lm: np.ndarray | None) -> dict[str, float] | None:
    """The meeting line's figures (module docstring) on ``rgb`` read at dlib's ``lm``."""
    if lm is None:
        return None
    left, right = lm[36:42].mean(0), lm[42:48].mean(0)
    ed = float(np.linalg.norm(right - left))
    u = (right - left) / ed
    n = np.array([-u[1], u[0]])
    o = lm[48]
    wd = float((lm[54] - o) @ u)
    if wd < 10:
        return None
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    grey = rgb.astype(np.float32) @ _LUMA
    lo = 0.5 * (1 - MIDDLE) * wd
    at = np.arange(lo, wd - lo, 1.0)
    top = _curve(lm[48:55], u, n, o, at)
    bottom = _curve(np.vstack([lm[54:60], lm[48:49]]), u, n, o, at)
    inner = 0.5 * (_curve(lm[[60, 61, 62, 63, 64]], u, n, o, at) + _curve(lm[[64, 65, 66, 67, 60]], u, n, o, at))
    nose = float((lm[33] - o) @ n)
    mid_top = float(np.interp(0.5 * wd, at, top))
    # the lips' median, over the polygon's pixels in the middle
    cols: dict[str, list[float]] = {k: [] for k in KEYS if not k.startswith("vary")}
    dd = np.arange(-0.5 * (mid_top - nose), 0.0, 0.25)  # px up from the outer upper lip, to the philtrum
    lips_px = []
    profiles = []
    for j, s in enumerate(at):
        hs = np.arange(top[j] - 0.05 * ed, bottom[j], 0.25)  # from above the lip (its red's top)
        if (hs >= top[j]).sum() < 8:
            continue
        px = o[0] + s * u[0] + hs * n[0]
        py = o[1] + s * u[1] + hs * n[1]
        mx, my = px.astype(np.float32)[None], py.astype(np.float32)[None]
        g = cv2.remap(grey, mx, my, cv2.INTER_LINEAR)[0]
        c = cv2.remap(lab, mx, my, cv2.INTER_LINEAR)[0]
        lips_px.append(np.column_stack([g, c])[hs >= top[j]])
        profiles.append((j, hs, g, c))
    if not lips_px:
        return None
    allp = np.vstack(lips_px)
    lip_l = float(np.median(allp[:, 0]))
    lip_a, lip_b = float(np.median(allp[:, 2])) - 128, float(np.median(allp[:, 3])) - 128
    lip_c = float(np.hypot(lip_a, lip_b))
    # the philtrum's a*, and the upper lip's median a* (above the inner line)
    px = o[0] + 0.5 * wd * u[0] + (mid_top + dd) * n[0]
    py = o[1] + 0.5 * wd * u[1] + (mid_top + dd) * n[1]
    ph = cv2.remap(lab, px.astype(np.float32)[None], py.astype(np.float32)[None], cv2.INTER_LINEAR)[0]
    skin_a = float(np.median(ph[: max(len(ph) // 2, 1), 1])) - 128
    for j, hs, g, c in profiles:
        near = (np.abs(hs - inner[j]) <= NEAR * ed) & (hs >= top[j])
        if near.sum() < 3:
            continue
        k = int(np.nonzero(near)[0][np.argmin(g[near])])
        depth = lip_l - g[k]
        cols["dark"].append(float(g[k] / lip_l))
        if depth > 2:
            half = g < g[k] + 0.5 * depth
            a_, b_ = k, k
            while a_ > 0 and half[a_ - 1]:
                a_ -= 1
            while b_ < len(g) - 1 and half[b_ + 1]:
                b_ += 1
            cols["width"].append((b_ - a_ + 1) * 0.25 / wd)
        la, lb = float(c[k, 1]) - 128, float(c[k, 2]) - 128
        cols["chroma"].append(float(np.hypot(la, lb)) / max(lip_c, 1e-6))
        cols["a"].append(la - lip_a)
        if abs(at[j] - 0.5 * wd) < wd / 6:
            on = (hs < hs[k]) & (hs >= top[j])
            up_a = np.median(c[on, 1]) - 128 if on.sum() > 2 else lip_a
            thr = 0.5 * (skin_a + up_a)
            m = k
            while m > 0 and (c[m - 1, 1] - 128 > thr or hs[k] - hs[m - 1] < 1.0):
                m -= 1
            cols["red_h"].append(float((hs[k] - hs[m]) / ed))
    if len(cols["dark"]) < 5:
        return None
    out = {k: round(float(np.median(v)), 4) for k, v in cols.items() if v}
    out["vary"] = round(float(np.std(cols["dark"])), 4)
    d = np.asarray(cols["dark"], np.float32)[None]
    out["vary_s"] = round(float(np.std(cv2.GaussianBlur(d, (0, 0), sigmaX=SMOOTH * wd, sigmaY=0.1,
                                                        borderType=cv2.BORDER_REFLECT))), 4)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--london", type=Path, required=True, help="the London HD folder (neutral/, smiling/)")
    ap.add_argument("--ids", default="train", help="train, held or comma-separated London ids")
    ap.add_argument("--pairs", type=int, default=12, help="with --ids train: how many (the first ones)")
    ap.add_argument("--set", default=None, help="stage tuning fields for the run, e.g. mouth.seam_width=0.02")
    ap.add_argument("-o", "--out", type=Path, default=None)
    a = ap.parse_args(argv)
    from bench_laugh_neutral import Dlib68, with_tuning

    from faceedit.api import Editor
    from faceedit.eval import world
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", device="cpu")
    if a.set:
        with_tuning(ed, a.set)
    read = Dlib68()
    if a.out is not None:
        a.out.mkdir(parents=True, exist_ok=True)
    ids = london_ids(a.london, a.ids, a.pairs)
    rows = []
    for i in ids:
        rgb = world.read_rgb(a.london / "smiling" / f"{i}.jpg")
        faces = ed.detector.detect(rgb)
        if not faces:
            continue
        out = edit_faces(ed, rgb, [faces[0]], EditRequest.of("neutral", 1.0))
        own = world.read_rgb(a.london / "neutral" / f"{i}.jpg")
        row = {"id": i, "out": seam(out, read(out)), "own": seam(own, read(own))}
        if a.out is not None:
            cv2.imwrite(str(a.out / f"{i}.png"), cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
        print(json.dumps(row), flush=True)
        if row["out"] and row["own"]:
            rows.append(row)
    summary: dict = {"faces": len(rows)}
    for k in KEYS:
        o = [r["out"][k] for r in rows if k in r["out"] and k in r["own"]]
        w = [r["own"][k] for r in rows if k in r["out"] and k in r["own"]]
        if o:
            summary[k] = {"out": round(float(np.mean(o)), 4), "own": round(float(np.mean(w)), 4),
                          "gap_sd": round(float(np.mean(np.subtract(o, w)) / max(np.std(w), 1e-9)), 2)}
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
