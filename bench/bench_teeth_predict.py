"""What in a neutral London photo foretells how much tooth the same person's real smile shows
(London HD has each person neutral and smiling). Per face, measures of the neutral photo
(:func:`neutral_measures`) and of the real smile's teeth (:func:`bench_teeth_truth.truth`'s
``area`` and ``open``, ``reach``: how far its teeth run across the opening, and ``teeth/eye``:
its teeth's brightest quarter's luma over the neutral photo's eye whites', as the stage's
:func:`~faceedit.stage.teeth_look.teeth_cap` reads them); then, over the
faces, each measure's Spearman rank correlation with the three, its median among the smiles that
show teeth and those that show none, and how many show none.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python bench/bench_teeth_predict.py [--ids 001,002,...]
        [--data ../shared/data]

Default ids: London HD's people with both photos less :data:`london_ids.HELD_OUT` (the
training people). The neutral measures, in eye distances (68 points' eye centres) unless said:
``mouth_w`` the outer lip corners' distance (Face Mesh 61-291), ``mouth/face`` it over the jaw's
width (68 points 0-16), ``upper_lip`` / ``lower_lip`` the lips' thickness at the middle (mesh
0-13, 14-17), ``philtrum`` the upper lip's height under the nose (mesh 2-0), ``gap`` the lips'
parting (13-14), ``eye_open`` the eyes' height over width (68 points), ``sclera`` the eye whites'
luma (:func:`faceedit.stage.mouth.sclera_colour`), ``white`` the eye-white pixels' area (inside
the eye contours, whiter than half that luma) over the eye distance squared, ``skin`` and ``lip``
the skin and lip rings' luma (:func:`faceedit.stage.mouth.ring_stats`). Takes about 2 s a face.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mouth_luma import largest, luma, opening_mask  # noqa: E402
from bench_teeth_truth import LUMA, truth  # noqa: E402
from london_ids import HELD_OUT  # noqa: E402

from faceedit.faces.landmarks import eye_distance  # noqa: E402
from faceedit.stage.cut_curves import resample_by_length  # noqa: E402
from faceedit.stage.lips import MESH_INNER_LOWER, MESH_INNER_UPPER  # noqa: E402
from faceedit.stage.mouth import ring_stats, sclera_colour  # noqa: E402

NEUTRAL = ("mouth_w", "mouth/face", "upper_lip", "lower_lip", "philtrum", "gap", "eye_open", "sclera", "white",
           "skin", "lip")
SMILE = ("area", "open", "reach", "teeth/eye")


def _curves(face) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(face.dense, np.float64)[:, :2]
    return resample_by_length(d[MESH_INNER_UPPER], 41), resample_by_length(d[MESH_INNER_LOWER], 41)


def reach(img: np.ndarray, face) -> float:
    """How far a mouth's teeth (:func:`bench_teeth_truth.truth`'s rule) run across its opening:
    the 3rd to 97th percentile of their pixels' position from the left inner corner (0) to the
    right (1); 0 where it shows none."""
    up, lo = _curves(face)
    inside, _ = opening_mask(img.shape, face.dense)
    if inside.sum() < 30:
        return 0.0
    y = luma(img) / 255.0
    lip = float(ring_stats(img, up, lo)["lip"] @ LUMA)
    teeth = inside & (y > 1.15 * lip) & (y > 0.5 * float(np.percentile(y[inside], 95)))
    yy, xx = np.nonzero(teeth)
    if len(xx) < 8:
        return 0.0
    axis = up[-1] - up[0]
    u = ((np.stack([xx, yy], 1) - up[0]) @ axis) / float(axis @ axis)
    return float(np.percentile(u, 97) - np.percentile(u, 3))


def neutral_measures(img: np.ndarray, face) -> dict[str, float]:
    """The measures :data:`NEUTRAL` of a detected face (the module's docstring)."""
    lm = np.asarray(face.landmarks, np.float64)
    d = np.asarray(face.dense, np.float64)[:, :2]
    ed = eye_distance(lm)
    m = {"mouth_w": np.linalg.norm(d[291] - d[61]) / ed}
    m["mouth/face"] = m["mouth_w"] * ed / np.linalg.norm(lm[16] - lm[0])
    m["upper_lip"], m["lower_lip"] = np.linalg.norm(d[13] - d[0]) / ed, np.linalg.norm(d[17] - d[14]) / ed
    m["philtrum"], m["gap"] = np.linalg.norm(d[0] - d[2]) / ed, np.linalg.norm(d[14] - d[13]) / ed
    m["eye_open"] = float(np.mean([(np.linalg.norm(e[1] - e[5]) + np.linalg.norm(e[2] - e[4]))
                                   / (2 * np.linalg.norm(e[3] - e[0])) for e in (lm[36:42], lm[42:48])]))
    sc = sclera_colour(img, lm)
    m["sclera"] = float(sc @ LUMA) if sc is not None else float("nan")
    white = 0
    for eye in (lm[36:42], lm[42:48]):
        mask = np.zeros(img.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(eye).astype(np.int32)], 1)
        px = img[mask > 0][:, :3].astype(np.float64) / 255.0
        white += int(((px @ LUMA - 3.0 * (px.max(1) - px.min(1))) > 0.5 * np.nan_to_num(m["sclera"])).sum())
    m["white"] = white / ed**2
    rings = ring_stats(img, *_curves(face))
    m["skin"], m["lip"] = float(rings["skin"] @ LUMA), float(rings["lip"] @ LUMA)
    return {k: float(v) for k, v in m.items()}


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two samples (ties ranked by order; NaN pairs left out)."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return float("nan")
    ra, rb = np.argsort(np.argsort(a[ok])), np.argsort(np.argsort(b[ok]))
    return float(np.corrcoef(ra, rb)[0, 1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--ids", default=None, help="London ids (default: the training people)")
    a = ap.parse_args(argv)
    root = a.data / "london_hd"
    held = set(HELD_OUT)
    ids = ([s.strip() for s in a.ids.split(",") if s.strip()] if a.ids else
           sorted(p.stem for p in (root / "neutral").glob("*.jpg")
                  if (root / "smiling" / p.name).exists() and p.stem not in held))
    from faceedit.faces.detectors import get_detector

    det = get_detector("mediapipe")
    rows: list[tuple[dict, dict]] = []
    for i in ids:
        neutral, smiling = (np.asarray(Image.open(root / k / f"{i}.jpg").convert("RGB")) for k in ("neutral", "smiling"))
        fn, fs = largest(det, neutral), largest(det, smiling)
        real = truth(smiling, fs)
        if fn is None or fn.dense is None or real is None:
            print(f"{i} -", flush=True)
            continue
        nm = neutral_measures(neutral, fn)
        sc = sclera_colour(smiling, fs.landmarks)
        tb = real["tb/eye"] * float(sc @ LUMA) if sc is not None else float("nan")
        sm = {"area": real["area"], "open": real["open"], "reach": reach(smiling, fs), "teeth/eye": tb / nm["sclera"]}
        rows.append((nm, sm))
        print(f"{i} " + " ".join(f"{k} {v:.3f}" for k, v in {**nm, **sm}.items()), flush=True)
    shows = np.array([s["area"] >= 0.002 for _, s in rows])
    print(f"\n{len(rows)} faces, {int(shows.sum())} real smiles show teeth; real area median "
          f"{np.median([s['area'] for _, s in rows]):.4f} (those showing teeth {np.median([s['area'] for _, s in rows if s['area'] >= 0.002]):.4f})")
    te = np.array([s["teeth/eye"] for _, s in rows])
    print("real teeth over the neutral eye whites (10th, 50th, 90th percentile): "
          + ", ".join(f"{v:.3f}" for v in np.nanpercentile(te, [10, 50, 90])))
    print(f"{'neutral':>11} " + " ".join(f"rho {k:>9}" for k in SMILE) + "  median teeth / none")
    for k in NEUTRAL:
        x = np.array([n[k] for n, _ in rows])
        rho = [spearman(x, np.array([s[t] for _, s in rows])) for t in SMILE]
        print(f"{k:>11} " + " ".join(f"{r:+13.2f}" for r in rho)
              + f"  {np.nanmedian(x[shows]):.3f} / {np.nanmedian(x[~shows]) if (~shows).any() else float('nan'):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
