"""A closed lid against the person's own skin: stripes, grain and the drawn patch's edge (issue 53).

    OMP_NUM_THREADS=1 python bench/measure_closed_lid.py --london ../shared/data/london_hd --ids train --faces 16
    OMP_NUM_THREADS=1 python bench/measure_closed_lid.py --london ../shared/data/london_hd --ids held
    OMP_NUM_THREADS=1 python bench/measure_closed_lid.py --grid ../shared/data/grid --ids none

Read on dlib's 68 points (``bench_laugh_neutral.Dlib68``: independent of the stage's own points),
the image levelled on its eyes. Per eye, over the middle :data:`MIDDLE` of its width, with ``D``
from the brow's points down to the lash line, the closed lid is the band from :data:`LID` ``[0]`` ``D`` below the brow
(under its lower edge) to :data:`LID` ``[1]`` ``D`` above the lash line, resampled column by
column (its rows follow the lash line's curve, one px apart):

- ``stripes``: horizontal bands. The band's row profile (each row's mean luma) and its column
  profile (each column's), each less its Gaussian blur of :data:`HIGH` px (shading and the crease
  scale kept out), their variances times the count each mean is over (white noise reads 1):
  the rows' over the columns'. Lines along the lid (a texture drawn out along the eye, each row
  unlike the next) read high; a smooth convex shading down the lid does not.
- ``grain``: the robust spread (1.4826 MAD) of the band's luma less its 1.5-px Gaussian blur, over
  the same on the person's own skin: under the eye (0.12-0.32 of the eye's width below its lower
  contour) and between the brow and the crease (0.35-0.55 ``D`` below the brow), read on the photo.
- ``edge``: the drawn patch's boundary. The gradient of the edit's luma (blurred 1.5 px) less the
  photo's where it is steeper (what the edit adds: a crease flattened takes a step away, a rim or
  an oval's edge adds one), its 99th percentile over the skin above the open eye (from 0.15 ``D``
  below the brow to :data:`EDGE_LOW` ``D`` above the open eye's upper contour, the eye's width and
  :data:`EDGE_SIDE` of it each side, the photo's points), times 3 px (a step across 3 px) over
  the skin's grain (above). A drawn lid that meets the photo without a boundary adds none.

On London faces (``--ids train``: the first ``--faces`` training ids, ``held`` the 18 held-out
ones; ``--kinds`` neutral, smiling) each ``--edits`` edit is made by the stage alone
(:class:`faceedit.api.Editor`; ``NAME=V,...`` controls on the face's own expression,
``TARGET:NAME=V`` with a target) and its closed eyes read; the photo's open eye is read the same
way (its band from under the brow to the open eye's upper contour) for its own skin's stripes.
``--grid DIR`` reads GRID's real blinks (every frame whose eyes dlib reads under 0.5 of the
clip's median; 140-px faces, their own scale: compare with the photo row, not the 1350-px
figures). Printed: one line per face, then per edit the median and 90th percentile of each
figure. ``--set group.field=V,...`` changes stage tuning fields; ``-o DIR`` writes each edit (PNG).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import HELD_OUT  # noqa: E402

EDITS = "blink=1;blink=0.5"
#: The share of the eye's width (its middle) the lid is read over.
MIDDLE = 0.7
#: The lid band: from this share of ``D`` below the brow's points to this share above the lash line.
LID = (0.25, 0.08)
#: The profiles' high-pass: each less its Gaussian blur of this many px.
HIGH = 1.0
#: The edge's zone: down to this share of ``D`` above the open eye's upper contour ...
EDGE_LOW = 0.2
#: ... and this share of the eye's width beyond each corner.
EDGE_SIDE = 0.15
_LUMA = np.array([0.299, 0.587, 0.114])
KEYS = ("stripes", "grain", "edge")
EYES = (((36, 37, 38, 39), (36, 41, 40, 39), (17, 18, 19, 20, 21)),
        ((42, 43, 44, 45), (42, 47, 46, 45), (22, 23, 24, 25, 26)))


def _luma(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float64) @ _LUMA if img.ndim == 3 else img.astype(np.float64)


def level(img: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the image's luma turned so its eye line is level, 68 points turned with it)."""
    a, b = lm[36:42].mean(0), lm[42:48].mean(0)
    turn = cv2.getRotationMatrix2D((float((a[0] + b[0]) / 2), float((a[1] + b[1]) / 2)),
                                   float(np.degrees(np.arctan2(b[1] - a[1], b[0] - a[0]))), 1.0)
    lum = cv2.warpAffine(_luma(img).astype(np.float32), turn, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT)
    return lum, lm @ turn[:, :2].T + turn[:, 2]


def _lines(lm: np.ndarray, k: int):
    """Eye ``k``'s columns (the middle :data:`MIDDLE`), its lash line (the upper contour: a closed
    eye's meets its lower one, a lowered lid's is its edge), lower contour and brow on them, and its width."""
    up, low, brow = (lm[list(p)] for p in EYES[k])
    x0, x1 = up[0, 0], up[-1, 0]
    w = x1 - x0
    xs = np.arange(x0 + 0.5 * (1 - MIDDLE) * w, x1 - 0.5 * (1 - MIDDLE) * w)
    upper, lower = np.interp(xs, up[:, 0], up[:, 1]), np.interp(xs, low[:, 0], low[:, 1])
    b = brow[np.argsort(brow[:, 0])]
    return xs, upper, lower, np.interp(xs, b[:, 0], b[:, 1]), w


def _band(lum: np.ndarray, xs: np.ndarray, top: np.ndarray, bottom: np.ndarray) -> np.ndarray | None:
    """(rows, columns) of ``lum`` from ``top`` to ``bottom`` per column, one px apart (rows follow the curve)."""
    n = int(round(float(np.median(bottom - top))))
    if n < 4 or len(xs) < 4:
        return None
    s = np.linspace(0.0, 1.0, n)[:, None]
    ys = (top[None, :] + s * (bottom - top)[None, :]).astype(np.float32)
    return cv2.remap(lum.astype(np.float32), np.broadcast_to(xs[None, :], ys.shape).astype(np.float32), ys,
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def stripes(band: np.ndarray) -> float:
    """The band's row profile's high-passed energy over its column profile's (module notes)."""
    def hp(v: np.ndarray) -> np.ndarray:
        v = v.astype(np.float32)[None, :]
        return (v - cv2.GaussianBlur(v, (0, 0), sigmaX=HIGH, sigmaY=0.1, borderType=cv2.BORDER_REFLECT))[0]
    r, c = hp(band.mean(1)), hp(band.mean(0))
    return float(np.var(r[2:-2]) * band.shape[1] / max(np.var(c[2:-2]) * band.shape[0], 1e-9))


def _spread(v: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def fine(lum: np.ndarray) -> np.ndarray:
    """The luma less its 1.5-px blur."""
    return lum - cv2.GaussianBlur(lum, (0, 0), 1.5)


def skin_grain(lum: np.ndarray, lm: np.ndarray, k: int) -> float:
    """The grain (:func:`fine`'s robust spread) of eye ``k``'s own skin: under the eye and under the brow."""
    xs, lash, lower, brow, w = _lines(lm, k)
    d = lash - brow
    f = fine(lum)
    parts = [_band(f, xs, lower + 0.12 * w, lower + 0.32 * w), _band(f, xs, brow + 0.35 * d, brow + 0.55 * d)]
    vals = np.concatenate([p.ravel() for p in parts if p is not None])
    return max(_spread(vals), 1e-6)


def lid_figures(lum: np.ndarray, lm: np.ndarray, k: int, own_grain: float) -> dict[str, float] | None:
    """Eye ``k``'s lid ``stripes`` and ``grain`` (over ``own_grain``) on the levelled luma ``lum``."""
    xs, lash, _, brow, _ = _lines(lm, k)
    d = lash - brow
    band = _band(lum, xs, brow + LID[0] * d, lash - LID[1] * d)
    if band is None:
        return None
    g = _band(fine(lum), xs, brow + LID[0] * d, lash - LID[1] * d)
    assert g is not None
    return {"stripes": round(stripes(band), 3), "grain": round(_spread(g[2:-2, 2:-2].ravel()) / own_grain, 3)}


def edge(lum_out: np.ndarray, lum_own: np.ndarray, lm_own: np.ndarray, k: int, own_grain: float) -> float:
    """The largest step the edit adds over the skin above the open eye, over the skin's grain (module notes)."""
    up, _, brow = (lm_own[list(p)] for p in EYES[k])
    x0, x1 = up[0, 0], up[-1, 0]
    w = x1 - x0
    def grad(lum: np.ndarray) -> np.ndarray:
        g = cv2.GaussianBlur(lum.astype(np.float32), (0, 0), 1.5)
        return np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 8, cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 8)

    mag = np.maximum(grad(lum_out) - grad(lum_own), 0.0)
    xs = np.arange(x0 - EDGE_SIDE * w, x1 + EDGE_SIDE * w)
    upper = np.interp(np.clip(xs, x0, x1), up[:, 0], up[:, 1])
    b = brow[np.argsort(brow[:, 0])]
    top = np.interp(xs, b[:, 0], b[:, 1])
    d = upper - top
    zone = _band(mag, xs, top + 0.15 * d, upper - EDGE_LOW * d)
    if zone is None:
        return float("nan")
    return round(3.0 * float(np.percentile(zone, 99)) / own_grain, 3)


def read_face(rgb: np.ndarray, lm: np.ndarray, out: np.ndarray | None, lm_out: np.ndarray | None):
    """Per eye: the photo's own figures (open) and, with an edit, the edit's (closed) and its edge."""
    lum, lml = level(rgb, lm)
    rows = []
    for k in (0, 1):
        g = skin_grain(lum, lml, k)
        row = {"photo": lid_figures(lum, lml, k, g)}
        if out is not None and lm_out is not None:
            # the edit levelled as the photo is (its own points turned the same way)
            a, b = lm[36:42].mean(0), lm[42:48].mean(0)
            turn = cv2.getRotationMatrix2D((float((a[0] + b[0]) / 2), float((a[1] + b[1]) / 2)),
                                           float(np.degrees(np.arctan2(b[1] - a[1], b[0] - a[0]))), 1.0)
            lum_o = cv2.warpAffine(_luma(out).astype(np.float32), turn, (out.shape[1], out.shape[0]),
                                   flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            lmo = lm_out @ turn[:, :2].T + turn[:, 2]
            fig = lid_figures(lum_o, lmo, k, g)
            if fig is not None:
                fig["edge"] = edge(lum_o, lum, lml, k, g)
            row["edit"] = fig
        rows.append(row)
    return rows


def summary(name: str, figs: list[dict[str, float]]) -> dict:
    out: dict = {"edit": name, "eyes": len(figs)}
    for key in KEYS:
        v = np.array([f[key] for f in figs if key in f and np.isfinite(f[key])])
        if len(v):
            out[key] = {"median": round(float(np.median(v)), 3), "p90": round(float(np.percentile(v, 90)), 3)}
    return out


def grid_blinks(grid: Path, read) -> list[dict[str, float]]:
    """The lid figures of GRID's blink frames (both eyes under 0.5 of the clip's median aspect)."""
    from bench_blink import aspect

    figs = []
    for clip in sorted(grid.glob("*.mpg")):
        cap, frames = cv2.VideoCapture(str(clip)), []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            lm = read(rgb)
            if lm is not None:
                frames.append((rgb, lm, aspect(lm)))
        if not frames:
            continue
        med = np.median([f[2] for f in frames], 0)
        for rgb, lm, asp in frames:
            if (asp / med).max() < 0.5:
                lum, lml = level(rgb, lm)
                for k in (0, 1):
                    f = lid_figures(lum, lml, k, skin_grain(lum, lml, k))
                    if f is not None:
                        figs.append(f)
                        print(json.dumps({"grid": clip.stem, "eye": k, **f}), flush=True)
    return figs


def edit(ed, rgb: np.ndarray, spec: str) -> np.ndarray:
    target, _, controls = spec.rpartition(":")
    values = {k: float(v) for k, v in (item.split("=") for item in controls.split(","))}
    return ed.edit(rgb, target or "keep", face="largest", controls=values)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--london", type=Path, default=None, help="the London HD folder (neutral/, smiling/)")
    ap.add_argument("--ids", default="train", help="train, held, none or comma-separated London ids")
    ap.add_argument("--faces", type=int, default=16, help="with --ids train: how many (the first ones)")
    ap.add_argument("--kinds", default="neutral,smiling")
    ap.add_argument("--edits", default=EDITS)
    ap.add_argument("--grid", type=Path, default=None, help="GRID's clips: their real blinks read first")
    ap.add_argument("--set", default=None, help="stage tuning fields for the run, e.g. lids.wrinkles=0")
    ap.add_argument("-o", "--out", type=Path, default=None)
    a = ap.parse_args(argv)
    from bench_laugh_neutral import Dlib68, with_tuning

    read = Dlib68()
    if a.grid is not None:
        print(json.dumps(summary("grid blinks", grid_blinks(a.grid, read))), flush=True)
    if a.london is None or a.ids == "none":
        return
    from faceedit.api import Editor
    from faceedit.eval import world

    ed = Editor.from_pretrained("stage", device="cpu")
    if a.set:
        with_tuning(ed, a.set)
    if a.out is not None:
        a.out.mkdir(parents=True, exist_ok=True)
    train = sorted(p.stem for p in (a.london / "neutral").glob("*.jpg") if p.stem not in HELD_OUT)
    ids = {"train": train[: a.faces], "held": list(HELD_OUT)}.get(a.ids, a.ids.split(","))
    specs = a.edits.split(";")
    figs: dict[str, list[dict[str, float]]] = {s: [] for s in ["photo", *specs]}
    for kind in a.kinds.split(","):
        for i in ids:
            path = a.london / kind / f"{i}.jpg"
            if not path.exists():
                continue
            rgb = world.read_rgb(path)
            lm = read(rgb)
            if lm is None:
                continue
            line: dict = {"face": f"{kind}/{i}"}
            for k, row in enumerate(read_face(rgb, lm, None, None)):
                if row["photo"]:
                    figs["photo"].append(row["photo"])
                    line[f"photo{k}"] = row["photo"]
            for spec in specs:
                out = edit(ed, rgb, spec)
                if a.out is not None:
                    name = spec.replace(":", "_").replace("=", "").replace(",", "_")
                    cv2.imwrite(str(a.out / f"{kind}_{i}_{name}.png"), cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
                lm_out = read(out)
                if lm_out is None:
                    continue
                for k, row in enumerate(read_face(rgb, lm, out, lm_out)):
                    if row["edit"]:
                        figs[spec].append(row["edit"])
                        line[f"{spec} {k}"] = row["edit"]
            print(json.dumps(line), flush=True)
    for name, f in figs.items():
        print(json.dumps(summary(name, f)), flush=True)


if __name__ == "__main__":
    main()
