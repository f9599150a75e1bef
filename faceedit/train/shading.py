"""Fit the relighting model (:mod:`faceedit.stage.shading`) on Extended Yale B: closed form, a
minute on one CPU core.

    python -m faceedit.train.shading -d data/yaleb256 -o weights/shading.safetensors

Each training subject's 64 point-light photos share one alignment with its front-lit photo
(``P00A+000E+00``, the pair's source row), so the luma ratio ``I(light) / I(front)`` is taken
pixel by pixel, then carried onto the canonical head canvas through the subject's landmarks. Per
canvas pixel and light direction the median over subjects is kept, and nine spherical-harmonic
coefficients are fitted to the 64 medians by least squares. Beyond the photos' coverage (ears,
neck, hair) the coefficients are continued from the nearest covered pixel and smoothed. The
held-out subjects (:func:`faceedit.data.holdout_subjects`, seed 0, 20 %) are kept out.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import cv2
import numpy as np

from faceedit.data import Dataset, holdout_subjects, open_dataset, valid_area
from faceedit.faces.align import apply_affine, similarity_transform
from faceedit.faces.landmarks import CHIN, JAW, STABLE, eye_centres, eye_distance
from faceedit.log import logger
from faceedit.pixels import luma, to_unit
from faceedit.stage.shading import ShadingModel, direction_vector, sh9
from faceedit.stage.warp import ThinPlateSpline, region_outline

#: Canvas side (px), eye distance on it (px) and the eyes' height: room for the hair above
#: (2.5 eye distances) and the neck below (about 3.6).
CANVAS = 192
CANVAS_IOD = 30.0
CANVAS_EYE_Y = 76.0
#: Added to both lumas (0..1) of a ratio: dark pixels of the front photo do not blow it up.
RATIO_EPS = 0.02
#: A canvas pixel's median needs this fraction of the subjects to see it.
MIN_COVERAGE = 0.5
#: Least-squares weight of the lights from behind the face's plane (|azimuth| > 90 deg: the face
#: is nearly black) against 1 for the others; ridge on the coefficients.
BACK_WEIGHT = 0.3
RIDGE = 1e-3
#: Smoothing (canvas px) of the coefficient maps inside the covered area and of their continuation.
SMOOTH_IN, SMOOTH_OUT = 1.5, 6.0
#: The head region on the canvas, in eye distances. Full weight over the core: the face outline
#: (jaw, brows, the forehead CORE_FOREHEAD above the brows) grown by CORE_GROW, and the neck
#: (NECK_WIDTH of the jaw's width between points 4 and 12, down to NECK_DOWN below the chin).
#: Nothing beyond the head's outline: an ellipse HEAD_EARS wider than the jaw each side (the ears)
#: reaching HEAD_TOP above the eyes and down to the chin, and the neck NECK_SIDE wider each side
#: and NECK_END longer. Between the two the weight falls smoothly. The hair takes the whole
#: change (a weaker share from a fixed height above the brows would cross the skin of a high
#: forehead as a step).
CORE_GROW = 0.1
CORE_FOREHEAD = 0.6
HEAD_EARS = 0.3
HEAD_TOP = 1.75
NECK_WIDTH = 0.75
NECK_DOWN = 0.8
NECK_SIDE = 0.35
NECK_END = 1.0
#: Below jaw point JAW_EAR (under the ear lobe) the outline is the jaw's, grown by JAW_GROW.
JAW_EAR = 3
JAW_GROW = 0.15


def canvas_frame(rows: list[dict]) -> np.ndarray:
    """The mean of the rows' landmarks (similarity-aligned on :data:`STABLE` points), placed on
    the canvas with the eyes level, :data:`CANVAS_IOD` apart, centred at (CANVAS/2, CANVAS_EYE_Y)."""
    lms = [np.asarray(r["landmarks"], np.float64) for r in rows]
    m = lms[0]
    for _ in range(3):
        m = np.mean([apply_affine(similarity_transform(lm[STABLE], m[STABLE]), lm) for lm in lms], 0)
    left, right = eye_centres(m)
    ang = math.atan2(right[1] - left[1], right[0] - left[0])
    s = CANVAS_IOD / eye_distance(m)
    c, si = math.cos(-ang) * s, math.sin(-ang) * s
    centre = (left + right) / 2
    rot = np.array([[c, -si], [si, c]])
    return (m - centre) @ rot.T + np.array([CANVAS / 2, CANVAS_EYE_Y])


def head_weights(frame: np.ndarray, size: int = CANVAS) -> tuple[np.ndarray, np.ndarray]:
    """(head weight, face weight) on the canvas for canvas landmarks ``frame``: the head weight is
    1 over the core (face, neck), 0 from the head's outline on (the hair inside it), smooth
    between; the face weight is the face outline (where the exposure is measured)."""
    iod = eye_distance(frame)
    ec = eye_centres(frame).mean(0)
    chin = frame[CHIN]
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    neck_half = NECK_WIDTH * abs(frame[12, 0] - frame[4, 0]) / 2
    neck_c = (frame[4, 0] + frame[12, 0]) / 2

    def neck(side: float, end: float) -> np.ndarray:
        return ((np.abs(xs - neck_c) <= neck_half + side * iod) & (ys >= frame[4, 1])
                & (ys <= chin[1] + (NECK_DOWN + end) * iod))

    core = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(core, np.rint(region_outline(frame, CORE_GROW, CORE_FOREHEAD)).astype(np.int32), 1)
    core = core.astype(bool) | neck(0.0, 0.0)
    jaw_w = abs(frame[JAW[-1], 0] - frame[JAW[0], 0])
    top = ec[1] - HEAD_TOP * iod
    a, b = jaw_w / 2 + HEAD_EARS * iod, (chin[1] - top) / 2
    outer = ((xs - ec[0]) / a) ** 2 + ((ys - (top + chin[1]) / 2) / b) ** 2 <= 1.0
    outer &= ys <= frame[JAW_EAR, 1]  # below the ear lobes the head is the jaw
    jaw = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(jaw, np.rint(region_outline(frame, JAW_GROW, CORE_FOREHEAD)).astype(np.int32), 1)
    outer |= jaw.astype(bool) | neck(NECK_SIDE, NECK_END) | core
    d_core = cv2.distanceTransform((~core).astype(np.uint8), cv2.DIST_L2, 5)
    d_out = cv2.distanceTransform(outer.astype(np.uint8), cv2.DIST_L2, 5)
    t = np.where(core, 1.0, d_out / np.maximum(d_core + d_out, 1e-6))
    head = t * t * (3 - 2 * t)
    face = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(face, np.rint(region_outline(frame, 0.0, 0.3)).astype(np.int32), 1)
    return head.astype(np.float32), face.astype(np.float32)


def _read_luma(row: dict) -> np.ndarray:
    from PIL import Image

    with Image.open(f"{row['dataset']}/{row['file']}") as im:
        a = to_unit(np.asarray(im.convert("RGB")))
    return luma(a)


def subject_groups(d: Dataset, subjects: set[str] | None = None, exclude: set[str] | frozenset[str] = frozenset()
                   ) -> dict[str, tuple[dict, dict[tuple[int, int], dict]]]:
    """Per subject of an Extended Yale B set: (front-lit source row, {(azimuth, elevation): row})."""
    out: dict[str, tuple[dict, dict]] = {}
    by: dict[str, list[dict]] = {}
    for r in d.rows:
        s = r["subject"]
        if s in exclude or (subjects is not None and s not in subjects) or len(r["landmarks"]) != 68:
            continue
        by.setdefault(s, []).append(r)
    for s, rows in sorted(by.items()):
        src = [r for r in rows if r.get("role") == "source" and r.get("matrix")]
        if not src:
            continue
        lit = {(int(r["labels"]["azimuth"]), int(r["labels"]["elevation"])): r for r in rows
               if r["labels"].get("azimuth") is not None}
        out[s] = (src[0], lit)
    return out


def fit_shading(d: Dataset, *, seed: int = 0, holdout: float = 0.2) -> tuple[ShadingModel, dict]:
    """Fit the model on the training subjects of a prepared Extended Yale B set."""
    t0 = time.time()
    held = holdout_subjects({r["subject"] for r in d.rows}, holdout, seed)
    groups = subject_groups(d, exclude=held)
    frame = canvas_frame([src for src, _ in groups.values()])
    dirs = sorted({k for _, lit in groups.values() for k in lit})
    ratios = np.full((len(groups), len(dirs), CANVAS, CANVAS), np.nan, np.float32)
    t = np.arange(CANVAS, dtype=np.float64)
    uv = np.stack(np.meshgrid(t, t), -1)
    for i, (src, lit) in enumerate(groups.values()):
        xy = ThinPlateSpline(frame, np.asarray(src["landmarks"], np.float64), reg=1e-2)(uv).astype(np.float32)

        def canvas(img: np.ndarray, border: float = 0.0, xy: np.ndarray = xy) -> np.ndarray:
            return cv2.remap(np.ascontiguousarray(img, np.float32), xy[..., 0], xy[..., 1], cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=border)

        valid = canvas(valid_area(src, d.size).astype(np.float32)) > 0.99
        base = canvas(_read_luma(src))
        for j, k in enumerate(dirs):
            if k in lit:
                r = (canvas(_read_luma(lit[k])) + RATIO_EPS) / (base + RATIO_EPS)
                ratios[i, j] = np.where(valid, r, np.nan)
    counts = np.isfinite(ratios).sum(0)
    med = _nanmedian(ratios)
    covered = (counts >= MIN_COVERAGE * len(groups)).all(0)
    basis = sh9(np.stack([direction_vector(*k) for k in dirs]))  # (D, 9)
    w = np.array([BACK_WEIGHT if abs(k[0]) > 90 else 1.0 for k in dirs])
    a = basis.T @ (w[:, None] * basis) + RIDGE * np.eye(9)
    proj = np.linalg.solve(a, basis.T * w)  # (9, D)
    y = np.where(covered[None], med, 0.0).reshape(len(dirs), -1)
    coef = (proj @ y).reshape(9, CANVAS, CANVAS).astype(np.float32)
    fit = (basis @ coef.reshape(9, -1)).reshape(len(dirs), CANVAS, CANVAS)
    resid = np.abs(fit - med)[:, covered]
    coef = np.stack([_continue(c, covered) for c in coef])
    head, face = head_weights(frame)
    report = {
        "subjects": len(groups), "held_out": sorted(held), "directions": len(dirs),
        "coverage": round(float(covered.mean()), 3),
        "fit_abs_error_ratio": {"all": round(float(resid.mean()), 4),
                                "front_half": round(float(resid[[abs(k[0]) <= 90 for k in dirs]].mean()), 4)},
        "seconds": round(time.time() - t0, 1),
    }
    meta = {"trained_on": "Extended Yale B (cropped), training subjects only",
            "license": "research use with citation (Extended Yale Face Database B); statistics only, no images",
            "report": report}
    return ShadingModel(frame, coef, head, face, meta), report


def _nanmedian(x: np.ndarray) -> np.ndarray:
    """Median over axis 0 ignoring NaN, in row blocks (bounded memory)."""
    import warnings

    out = np.empty(x.shape[1:], np.float32)
    with warnings.catch_warnings():  # pixels no subject sees are NaN, and meant to be
        warnings.simplefilter("ignore", RuntimeWarning)
        for j in range(x.shape[1]):
            out[j] = np.nanmedian(x[:, j], 0)
    return np.nan_to_num(out, nan=1.0)


def _continue(c: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """A coefficient map continued beyond ``covered`` from its nearest covered pixel, smoothed
    there more than inside."""
    from scipy.ndimage import distance_transform_edt

    dist, (iy, ix) = distance_transform_edt(~covered, return_indices=True)
    filled = c[iy, ix]
    inner = cv2.GaussianBlur(filled, (0, 0), SMOOTH_IN)
    outer = cv2.GaussianBlur(filled, (0, 0), SMOOTH_OUT)
    t = np.clip(dist / (2 * SMOOTH_OUT), 0.0, 1.0)
    return ((1 - t) * inner + t * outer).astype(np.float32)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-d", "--data", required=True, help="prepared Extended Yale B set (faceedit prepare)")
    p.add_argument("-o", "--out", required=True, help="output .safetensors")
    a = p.parse_args(argv)
    model, report = fit_shading(open_dataset(a.data))
    model.save(a.out, {"command": " ".join(["python -m faceedit.train.shading", *sys.argv[1:]])})
    logger.info("shading model written to %s", a.out)
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
