"""London faces cut small (``faceedit.eval.world.london_variants``: 64, 96, 128 px) made surprised by the stage: how
their opening reads, on dlib's 68 points of the edit (independent of the stage).

    OMP_NUM_THREADS=1 python bench/bench_small_surprise.py --london ../shared/data/london_hd [--ids 001,003] \
        [--fer] [-o runs/small_surprise] [--real ../shared/data/jaffe]

Per face: ``median`` the opening's median luma over the cheeks' (:func:`bench_mouth_luma.mouth_profile`); ``p5``
its darkest twentieth's; ``step`` the 95th percentile of the luma steps between neighbouring pixels within 2 px of
the opening, over the cheeks' luma (a hard, stair-stepped edge and dark notches between teeth's tips read high);
with ``--fer`` FER's surprised probability on the input's dlib box. Then the means. ``-o``: each mouth at 4-8x
(nearest) as PNG. ``--real``: the same numbers on JAFFE's surprised faces shrunk to eyes 30 px apart (real small
open mouths). ``--ids`` defaults to training ids (none of the held-out ones).
"""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_mouth_luma import cheek_mask, dlib_opening_mask, luma, mouth_profile  # noqa: E402

TRAINING_IDS = "001,003,012,016,029,082"


def numbers(img: np.ndarray, lm: np.ndarray) -> dict | None:
    """The opening's ``median``, ``p5`` and ``step`` (see the module's text); None without an opening."""
    inside, _ = dlib_opening_mask(img.shape, lm)
    if inside.sum() < 10:
        return None
    y = luma(img)
    cheek = float(np.median(y[cheek_mask(img.shape, lm)]))
    near = cv2.dilate(inside.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    steps = np.concatenate([np.abs(np.diff(y, axis=1))[near[:, 1:] & near[:, :-1]],
                            np.abs(np.diff(y, axis=0))[near[1:] & near[:-1]]]) / cheek
    p = mouth_profile(img, lm)
    return {"median": None if p is None else float(p["median"]),
            "p5": float(np.percentile(y[inside > 0], 5) / cheek), "step": float(np.percentile(steps, 95))}


def mouth_png(path: Path, img: np.ndarray, lm: np.ndarray, k: int) -> None:
    m = lm[48:68]
    cx, cy = m.mean(0)
    w = (m[:, 0].max() - m[:, 0].min()) * 0.9 + 4
    crop = img[max(int(cy - 0.7 * w), 0):int(cy + 0.7 * w), max(int(cx - w), 0):int(cx + w)]
    cv2.imwrite(str(path), cv2.resize(crop[..., ::-1], None, fx=k, fy=k, interpolation=cv2.INTER_NEAREST))


def summary(rows: list[dict]) -> str:
    def mean(key):
        vals = [r[key] for r in rows if r.get(key) is not None]
        return f"{np.mean(vals):.3f}" if vals else "-"
    over = sum(r["median"] > 0.15 for r in rows if r["median"] is not None)
    return (f"n {len(rows)}  median {mean('median')} (over 0.15: {over})  p5 {mean('p5')}  step {mean('step')}"
            f"  fer_surprised {mean('fer')}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--london", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--ids", default=TRAINING_IDS)
    ap.add_argument("--fer", action="store_true")
    ap.add_argument("-o", "--out", type=Path, default=None)
    ap.add_argument("--real", type=Path, default=None, help="the JAFFE folder")
    args = ap.parse_args()
    from faceedit.api import Editor
    from faceedit.eval.world import london_variants
    from faceedit.faces.detectors import get_detector

    det = get_detector("dlib")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    if args.real:
        real = []
        for f in sorted(glob.glob(str(args.real / "*.SU*.png"))):
            bgr = cv2.imread(f)
            if bgr is None:
                continue
            im = np.ascontiguousarray(bgr[..., ::-1])
            faces = det.detect(im)
            if not faces:
                continue
            lm = np.asarray(faces[0].landmarks, np.float64)
            s = 30.0 / float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
            r = numbers(cv2.resize(im, None, fx=s, fy=s, interpolation=cv2.INTER_AREA), lm * s)
            if r is not None:
                real.append(r)
        print("JAFFE surprised at eyes 30 px:", summary(real))
    fer = None
    if args.fer:
        from bench_independent import FerClassifier
        fer = FerClassifier()
    ed = Editor.from_pretrained("stage", device="cpu")
    rows = []
    for name, rgb in london_variants(args.london, ids=tuple(args.ids.split(","))):
        if "small" not in name:
            continue
        out = ed.edit(rgb, "surprised", face="largest")
        faces = det.detect(out)
        if not faces:
            print(name, "dlib finds no face")
            continue
        lm = np.asarray(faces[0].landmarks, np.float64)
        r = numbers(out, lm)
        if r is None:
            print(name, "no opening")
            continue
        given = det.detect(rgb)
        if fer is not None and given:
            b = given[0].box
            r["fer"] = float(fer.probabilities_on_box(out, (b[0], b[1], b[2] - b[0], b[3] - b[1]))["surprised"])
        rows.append(r)
        print(name, {k: None if v is None else round(v, 3) for k, v in r.items()}, flush=True)
        if args.out:
            mouth_png(args.out / f"{name}.png", out, lm, 8 if name.endswith("64") else 6 if name.endswith("96") else 4)
    print("London made surprised:", summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
