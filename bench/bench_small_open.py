"""Small faces' open mouths against real ones at the same size: the opening's luma from the upper
inner lip down and the sharpness of its rim, on GRID's talking faces (colour, faces about 140 px)
and on world photos' faces made surprised by the stage.

    OMP_NUM_THREADS=1 python bench/bench_small_open.py [--data ../shared/data] [--photos group_t1.jpg]

Read on dlib's 68 points (independent of the stage), the same on every photo:
:func:`bench_mouth_luma.mouth_profile` (six bands' median luma over the cheeks' median, v 0 at
the upper inner lip; the opening's median) and :func:`rim` (the rim's sharpness: down the
middle half's columns, the steepest luma step per pixel within half the lip's thickness (a fifth
of the mouth's width at most, a pixel at least) of each inner lip, over the steepest step across
the outer lips' edges in the same columns, the photo's own lip edge; and ``width``: the rim's luma rise from the opening's median to the lip's
over that steepest step, px). GRID: every 3rd frame whose dlib opening is at least
``--min-aspect`` of its corner distance tall. The world photos: ``~/.cache/faceedit/world/images``,
every face, the stage's surprised at strength 1 (``--force``). Prints per face and the medians.

Per eye of those faces (the input's 68 points, from the stage's detector) :func:`eye_dark`: the
pixels darker than :data:`DARK` of the eye region's median luma in the input (the region: the
corners' span and half an eye width beyond each, from 0.8 eye widths above the corners' line to
0.5 below it, which holds the widened lids), in the input and in the edit: a lash line moved as a
line keeps about the input's count (plus an iris's where one is drawn), one stretched into a
smear doubles it or more.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_mouth_luma import dlib_opening_mask, luma, mouth_profile  # noqa: E402


def rim(img: np.ndarray, lm: np.ndarray) -> dict:
    """The rim's sharpness (see the module's text): ``upper``/``lower`` the steepest luma step at
    each inner lip over the outer lips' steepest (medians over the middle half's columns) and
    ``width`` (px) the rise from the opening's median luma to the lips' over the rim's steepest step."""
    lm = np.asarray(lm, np.float64)
    y = cv2.GaussianBlur(luma(img), (0, 0), 0.5)
    gy = np.abs(np.diff(y, axis=0))
    wd = float(np.linalg.norm(lm[64] - lm[60]))
    reach = max(2, round(0.2 * wd))
    inside, _ = dlib_opening_mask(img.shape, lm)
    inner = float(np.median(y[inside])) if inside.sum() else float("nan")
    xs = np.arange(round(lm[60, 0] + 0.25 * wd), round(lm[64, 0] - 0.25 * wd) + 1)
    cols: dict[str, list[float]] = {k: [] for k in ("upper", "lower", "outer", "lips")}
    for x in xs:
        if not 0 <= x < img.shape[1]:
            continue
        yu = np.interp(x, lm[[60, 61, 62, 63, 64], 0], lm[[60, 61, 62, 63, 64], 1])
        yl = np.interp(x, lm[[60, 67, 66, 65, 64], 0], lm[[60, 67, 66, 65, 64], 1])
        yo = np.interp(x, lm[[48, 49, 50, 51, 52, 53, 54], 0], lm[[48, 49, 50, 51, 52, 53, 54], 1])
        ylo = np.interp(x, lm[[54, 55, 56, 57, 58, 59, 48], 0][::-1], lm[[54, 55, 56, 57, 58, 59, 48], 1][::-1])

        def steep(c: float, lip: float) -> float:  # within half the lip's thickness, a pixel at least
            r = max(1.0, min(reach, 0.5 * lip))
            a, b = max(int(round(c - r)), 0), min(int(round(c + r)), gy.shape[0])
            return float(gy[a:b, x].max()) if b > a else float("nan")

        cols["upper"].append(steep(yu, yu - yo))
        cols["lower"].append(steep(yl, ylo - yl))
        cols["outer"].append(max(steep(yo, yu - yo), steep(ylo, ylo - yl)))
        cols["lips"].append(float(np.median(y[int(yo):int(yu) + 1, x])) if yu > yo else float("nan"))
    med = {k: float(np.nanmedian(v)) if v else float("nan") for k, v in cols.items()}
    o = max(med["outer"], 1e-6)
    return {"upper": med["upper"] / o, "lower": med["lower"] / o,
            "width": (med["lips"] - inner) / max(med["upper"], 1e-6)}


DARK = 0.5


def eye_dark(rgb: np.ndarray, lm: np.ndarray, k: int, thr: float | None = None) -> tuple[int, float]:
    """(pixels darker than ``thr`` in eye ``k``'s region (see the module's text), ``thr``): by default
    :data:`DARK` of the region's median luma in ``rgb`` (pass the input's to read an edit alike)."""
    e = np.asarray(lm, np.float64)[[36, 39] if k == 0 else [42, 45]]
    w = float(np.linalg.norm(e[1] - e[0]))
    x0, x1 = int(e[:, 0].min() - 0.5 * w), int(np.ceil(e[:, 0].max() + 0.5 * w))
    y0, y1 = int(e[:, 1].min() - 0.8 * w), int(np.ceil(e[:, 1].max() + 0.5 * w))
    y = luma(rgb[max(y0, 0):y1, max(x0, 0):x1])
    thr = DARK * float(np.median(y)) if thr is None else thr
    return int((y < thr).sum()), thr


def row(name: str, img: np.ndarray, lm: np.ndarray) -> dict | None:
    p = mouth_profile(img, lm)
    if p is None:
        return None
    p.update(rim(img, lm))
    print(f"{name:28s} bands " + " ".join(f"{b:.3f}" for b in p["bands"])
          + f"  median {p['median']:.3f} grain {p['grain']:.3f} rim up {p['upper']:.2f} lo {p['lower']:.2f}"
          f" width {p['width']:.1f}px", flush=True)
    return p


def summary(name: str, rows: list[dict]) -> None:
    if not rows:
        return
    b = np.nanmedian(np.stack([r["bands"] for r in rows]), 0)
    med = {k: float(np.nanmedian([r[k] for r in rows])) for k in ("median", "grain", "upper", "lower", "width")}
    print(f"== {name} (n={len(rows)}) bands " + " ".join(f"{v:.3f}" for v in b)
          + f"  median {med['median']:.3f} grain {med['grain']:.3f} rim up {med['upper']:.2f}"
          f" lo {med['lower']:.2f} width {med['width']:.1f}px", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--photos", default="group_t1.jpg")
    ap.add_argument("--min-aspect", type=float, default=0.25)
    ap.add_argument("--no-grid", action="store_true")
    args = ap.parse_args(argv)
    from faceedit.faces.detectors import get_detector

    dlib = get_detector("dlib")
    if not args.no_grid:
        rows = []
        for p in sorted((args.data / "grid").glob("*.mpg")):
            cap = cv2.VideoCapture(str(p))
            k = 0
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                k += 1
                if k % 3:
                    continue
                rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                faces = dlib.detect(rgb)
                if not faces:
                    continue
                lm = np.asarray(faces[0].landmarks, np.float64)
                if dlib_opening_mask(rgb.shape, lm)[1] >= args.min_aspect:
                    r = row(f"grid {p.stem} {k}", rgb, lm)
                    if r is not None:
                        rows.append(r)
        summary("GRID open mouths", rows)
    from faceedit.api import Editor
    from faceedit.eval.world import cache_dir, read_rgb
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", device="cpu")
    rows = []
    for name in args.photos.split(","):
        rgb = read_rgb(cache_dir() / "images" / name)
        faces = ed.detector.detect(rgb)
        out = edit_faces(ed, rgb, faces, EditRequest.of("surprised", 1.0))
        found = dlib.detect(out)
        for i, f in enumerate(faces):
            c = np.asarray(f.box, np.float64).reshape(2, 2).mean(0)
            near = min(found, key=lambda g: float(np.linalg.norm(np.asarray(g.box).reshape(2, 2).mean(0) - c)),
                       default=None)
            if near is None:
                continue
            lm_in = np.asarray(f.landmarks, np.float64)
            eyes = []
            for k in (0, 1):
                n_in, thr = eye_dark(rgb, lm_in, k)
                eyes.append(f"{n_in}->{eye_dark(out, lm_in, k, thr)[0]}")
            r = row(f"{Path(name).stem} face {i} ({f.box[2] - f.box[0]:.0f}px)", out,
                    np.asarray(near.landmarks, np.float64))
            print(f"   dark px round the eyes (input->edit): {' '.join(eyes)}", flush=True)
            if r is not None:
                rows.append(r)
    summary("stage surprised", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
