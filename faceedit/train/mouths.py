"""Build the bank of real mouth interiors that :class:`faceedit.stage.mouth_bank.MouthBank` paints.

    python -m faceedit.train.mouths --data ../shared/data/london_hd -o weights/mouths.safetensors

For every London smile whose subject is not held out (:func:`faceedit.data.holdout_subjects` over
the ids ``london-NNN``, seed 0, 20 %: the split every trainer and the evaluation use):

1. detect the face (MediaPipe Face Mesh; its inner-lip loop traces the lip edge more closely than
   the 68 points, though often a few px outside the teeth at the corners and inside them below);
2. rotate and scale the photo so the inner-lip corners lie level, :data:`BANK_WIDTH` px apart
   (Lanczos: the 1350-px photos have about 170-200 px there, so nothing is shrunk);
3. refine the interior from colour: inside the mesh polygon grown by a few px, pixels less red
   than midway between the lips and the teeth (CIE a*), or much darker than the lips, connected
   to the polygon's core; the inner-lip curves are that region's top and bottom edges per column
   (the top moved down onto the teeth where a pale lip passed the colour test); under the teeth,
   the bottom moved up over the lower lip's inner margin where that passed the test too
   (:func:`trim_lower_lip`: an exemplar paints teeth and shade, never its own lip);
4. keep smiles whose opening is tall enough to show teeth (mean height >= :data:`MIN_ASPECT` of
   the corner distance) and whose interior is brighter than the lips (teeth, not a dark slit);
5. store the crop, the curves, a soft mask and the descriptors of :data:`DESCRIPTORS`.

The cavity of wide-open mouths is a statistic: the median (v, u) luminance profile of the open
mouths in the greyscale JAFFE surprise and Yale surprised photos, relative to their skin ring
(only this 24x16 profile is stored, never their pixels).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from faceedit.data import holdout_subjects
from faceedit.faces.detectors import get_detector
from faceedit.faces.landmarks import eye_distance
from faceedit.stage.cut_curves import opening_polygon, resample_by_length
from faceedit.stage.lips import (
    CURVE_POINTS,
    fill_polygon,
    level_transform,
    levelled,
    mesh_lip_curves,
    opening_aspect,
    refine_interior,
)
from faceedit.stage.mouth import BANK_WIDTH, DESCRIPTORS, ring_stats, sclera_colour
from faceedit.stage.mouth_bank import MouthBank

log = logging.getLogger("faceedit")

#: The stored crop around the level corners: x from -MARGIN_X to BANK_WIDTH + MARGIN_X, y from
#: -TOP to +BOTTOM of the corner line (bank px).
MARGIN_X, TOP, BOTTOM = 24, 40, 104
#: Smallest mean opening height (over the corner distance) that shows teeth.
MIN_ASPECT = 0.06
#: Smiles left out by eye, with the reason (a bank entry is painted onto other people's faces).
EXCLUDE = {"london-103": "a stained front tooth"}
#: The (v, u) grid of the cavity profile.
CAVITY_V, CAVITY_U = 24, 16
#: Under the teeth, a pixel darker than this share of the lips' CIE L* is the mouth's shade, not
#: lip (:func:`lip_under_teeth`).
LIP_DARK = 0.7


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def upper_depth(crop: np.ndarray, up: np.ndarray, lo: np.ndarray) -> float:
    """Depth (bank px) of the upper teeth below the upper lip in the middle of the mouth: where the
    luma along the central columns first falls well below its peak (the gap to the lower row or
    the dark interior), else the whole opening."""
    grey = _luma(crop)
    us = np.linspace(0.3, 0.7, 9)
    k = np.linspace(0, 1, len(up))
    vs = np.linspace(0, 1, 41)
    prof = []
    for uu in us:
        pu = np.array([np.interp(uu, k, up[:, 0]), np.interp(uu, k, up[:, 1])])
        pl = np.array([np.interp(uu, k, lo[:, 0]), np.interp(uu, k, lo[:, 1])])
        pts = pu + vs[:, None] * (pl - pu)
        prof.append(cv2.remap(grey, pts[:, 0:1].astype(np.float32).T, pts[:, 1:2].astype(np.float32).T,
                              cv2.INTER_LINEAR).ravel())
    prof = np.median(np.array(prof), 0)
    i_max = int(np.argmax(prof[:24]))
    low = np.flatnonzero(prof[i_max:] < prof.min() + 0.45 * (prof[i_max] - prof.min()))
    frac = vs[i_max + low[0]] if len(low) else 1.0
    hc = np.median([np.linalg.norm(lo[i] - up[i]) for i in range(len(up) // 3, 2 * len(up) // 3)])
    return float(max(frac, 0.3) * hc)


def lip_under_teeth(crop: np.ndarray, up: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(below, lip): boolean images of ``crop``'s pixels (RGB uint8) inside the polygon of the
    inner-lip curves ``up``/``lo`` below the teeth's lower edge, and those of them that are lip.
    The teeth are the polygon's pixels brighter (CIE L*) than midway between the lips' ring and
    its 75th percentile and less than half as red (a* over L*) as the lips; their lower edge is
    the lowest such row per column, a gap up to 6 px between teeth taking its neighbours' (columns
    without teeth have nothing below); below it means in the opening's lower half too (a pale upper
    lip at a corner is not the lower lip). A pixel below is lip where it is redder for its brightness
    than midway between the teeth and the lips and not darker than :data:`LIP_DARK` of the lips
    (the lower lip's inner margin, often lit; the shade under the teeth stays)."""
    unit = crop.astype(np.float32) / 255.0
    lab = cv2.cvtColor(unit, cv2.COLOR_RGB2Lab)
    light = lab[..., 0]
    red = lab[..., 1] / np.maximum(light, 5.0)
    inside = fill_polygon(crop.shape[:2], opening_polygon(up, lo)) > 0
    below = np.zeros_like(inside)
    if not inside.any():
        return below, below
    lip = cv2.cvtColor(ring_stats(unit, up, lo)["lip"].reshape(1, 1, 3).astype(np.float32), cv2.COLOR_RGB2Lab).ravel()
    lip_red = lip[1] / max(float(lip[0]), 5.0)
    bright = lip[0] + 0.5 * (np.percentile(light[inside], 75) - lip[0])
    teeth = inside & (light > bright) & (red < 0.5 * lip_red)
    if not teeth.any():
        return below, below
    h = crop.shape[0]
    lowest = np.where(teeth.any(0), h - 1 - teeth[::-1].argmax(0), -1).astype(np.float32)
    edge = cv2.dilate(lowest.reshape(1, -1), np.ones((1, 7), np.uint8)).ravel()
    xs = np.arange(crop.shape[1]) + 0.5
    mid = (np.interp(xs, up[:, 0], up[:, 1]) + np.interp(xs, lo[:, 0], lo[:, 1])) / 2
    rows = np.arange(h)[:, None] + 0.5
    below = inside & (rows > edge[None, :] + 1) & (rows > mid[None, :]) & (edge[None, :] >= 0)
    redder = red > 0.5 * (lip_red + float(np.median(red[teeth])))
    return below, below & redder & (light > LIP_DARK * lip[0])


def trim_lower_lip(crop: np.ndarray, up: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """The lower curve ``lo`` moved up, in each column under the teeth, over the run of lip
    (:func:`lip_under_teeth`) that reaches up from the interior's bottom (the lower lip's inner
    margin the colour test let in): a bank exemplar must paint teeth and shade, not its own lip.
    The lift is widened by 2 px each side and smoothed (Gaussian, 2 px); never above ``up``."""
    below, lip = lip_under_teeth(crop, up, lo)
    h, w = lip.shape
    lift = np.zeros(w, np.float64)
    for x in np.flatnonzero(below.any(0)):
        rows = np.flatnonzero(below[:, x])
        run = 0
        for r in rows[::-1]:
            if not lip[r, x]:
                break
            run += 1
        if run:
            y = np.interp(x, lo[:, 0], lo[:, 1])
            lift[x] = max(0.0, y - (rows[-1] - run + 0.5))
    if not lift.any():
        return lo
    wide = cv2.dilate(lift.reshape(1, -1).astype(np.float32), np.ones((1, 5), np.uint8))
    smooth = cv2.GaussianBlur(wide, (0, 0), 2).ravel().astype(np.float64)
    out = lo.astype(np.float64).copy()
    out[1:-1, 1] = np.maximum(out[1:-1, 1] - np.interp(out[1:-1, 0], np.arange(w), smooth),
                              np.interp(out[1:-1, 0], up[:, 0], up[:, 1]))
    return resample_by_length(out, len(lo))


def build_exemplar(rgb: np.ndarray, face) -> dict | None:
    """One bank entry from a photo and its detected face, or None when it shows no teeth."""
    up, lo, oup, olo = mesh_lip_curves(face.dense)
    ed = eye_distance(face.landmarks)
    wide_x, wide_top, wide_bottom = BANK_WIDTH // 2, 128, 200
    m = level_transform(up, lo, wide_x, wide_top)
    scale = float(np.linalg.norm(m[:, 0]))
    size = (BANK_WIDTH + 2 * wide_x, wide_top + wide_bottom)
    wide = cv2.warpAffine(rgb, m, size, flags=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REFLECT)
    curves = refine_interior(wide, *levelled(m, up, lo, oup, olo))
    if curves is None:
        return None
    rup, rlo = curves
    rlo = trim_lower_lip(wide, rup, rlo)
    aspect, width = opening_aspect(rup, rlo)
    if aspect < MIN_ASPECT:
        return None
    unit = wide.astype(np.float32) / 255.0
    rings = ring_stats(unit, rup, rlo)
    inside = fill_polygon(wide.shape[:2], opening_polygon(rup, rlo)) > 0
    teeth = _luma(unit)[inside]
    lip_l = float(rings["lip"] @ np.array([0.299, 0.587, 0.114]))
    teeth_l = float(np.percentile(teeth, 75))
    if teeth_l < 1.15 * lip_l:  # a dark slit, no teeth
        return None
    # the stored crop
    cx0, cy0 = wide_x - MARGIN_X, wide_top - TOP
    crop = wide[cy0:wide_top + BOTTOM, cx0:wide_x + BANK_WIDTH + MARGIN_X]
    off = np.array([cx0, cy0], np.float64)
    rup, rlo = rup - off, rlo - off
    mask = fill_polygon(crop.shape[:2], opening_polygon(rup, rlo)).astype(np.float32)
    mask = np.clip(cv2.GaussianBlur(mask, (0, 0), 1.5) * 255, 0, 255).astype(np.uint8)
    dark = _luma(unit)[inside] < np.percentile(teeth, 30)
    dark_rgb = np.median(unit[inside][dark], 0)
    desc = {"aspect": aspect, "width_ed": width / scale / ed,
            "height_ed": aspect * width / scale / ed, "teeth_luma": teeth_l,
            "lip_r": rings["lip"][0], "lip_g": rings["lip"][1], "lip_b": rings["lip"][2],
            "skin_r": rings["skin"][0], "skin_g": rings["skin"][1], "skin_b": rings["skin"][2],
            "skin_noise": rings["noise"], "upper_depth": upper_depth(crop, rup, rlo), "scale": scale}
    sclera = sclera_colour(rgb, face.landmarks)
    if sclera is None:
        return None
    desc.update(sclera_r=sclera[0], sclera_g=sclera[1], sclera_b=sclera[2])
    return {"image": crop, "mask": mask, "upper": rup, "lower": rlo,
            "desc": np.array([desc[k] for k in DESCRIPTORS], np.float32),
            "dark_rgb": dark_rgb / max(float(dark_rgb @ np.array([0.299, 0.587, 0.114])), 1e-3)}


def cavity_profile(data_root: Path, detector) -> tuple[np.ndarray, int]:
    """Median (v, u) luminance of wide-open mouths relative to their skin ring, from the greyscale
    JAFFE surprise and Yale surprised photos beside ``data_root``; (profile, photos used)."""
    files = sorted((data_root.parent / "jaffe").glob("*.SU*.*")) + sorted((data_root.parent / "yale").glob("*.surprised*"))
    profs = []
    us = np.linspace(0, 1, CAVITY_U)
    vs = np.linspace(0, 1, CAVITY_V)
    for p in files:
        g = np.asarray(Image.open(p).convert("L"))
        faces = detector.detect(np.repeat(g[..., None], 3, 2))
        if not faces or faces[0].dense is None:
            continue
        up, lo, _, _ = mesh_lip_curves(faces[0].dense)
        up, lo = resample_by_length(up, CURVE_POINTS), resample_by_length(lo, CURVE_POINTS)
        aspect, _ = opening_aspect(up, lo)
        if aspect < 0.25:
            continue
        k = np.linspace(0, 1, len(up))
        pu = np.stack([np.interp(us, k, up[:, 0]), np.interp(us, k, up[:, 1])], 1)
        pl = np.stack([np.interp(us, k, lo[:, 0]), np.interp(us, k, lo[:, 1])], 1)
        pts = pu[None] + vs[:, None, None] * (pl - pu)[None]
        grey = g.astype(np.float32) / 255.0
        lum = cv2.remap(grey, pts[..., 0].astype(np.float32), pts[..., 1].astype(np.float32), cv2.INTER_LINEAR)
        skin = ring_stats(np.repeat(grey[..., None], 3, 2), up, lo)["skin"][0]
        profs.append(lum / max(float(skin), 1e-3))
    if not profs:
        raise SystemExit(f"no open mouths found in {data_root.parent}/jaffe or yale")
    return np.median(np.array(profs), 0).astype(np.float32), len(profs)


def build(data: Path, *, seed: int = 0, holdout: float = 0.2) -> tuple[MouthBank, dict]:
    detector = get_detector("mediapipe")
    files = sorted((data / "smiling").glob("*.jpg"))
    held = holdout_subjects({f"london-{p.stem}" for p in files}, holdout, seed)
    entries, ids, skipped = [], [], []
    for p in files:
        sid = f"london-{p.stem}"
        if sid in held or sid in EXCLUDE:
            continue
        rgb = np.asarray(Image.open(p).convert("RGB"))
        faces = detector.detect(rgb)
        if not faces or faces[0].dense is None:
            skipped.append(sid)
            continue
        ent = build_exemplar(rgb, faces[0])
        if ent is None:
            skipped.append(sid)
            continue
        entries.append(ent)
        ids.append(sid)
        log.info("%s: aspect %.3f", sid, ent["desc"][0])
    if not entries:
        raise SystemExit(f"no smile in {data}/smiling shows teeth")
    cavity, n_cav = cavity_profile(data, detector)
    bank = MouthBank(np.stack([e["image"] for e in entries]), np.stack([e["mask"] for e in entries]),
                     np.stack([e["upper"] for e in entries]).astype(np.float32),
                     np.stack([e["lower"] for e in entries]).astype(np.float32),
                     np.stack([e["desc"] for e in entries]),
                     cavity, np.median([e["dark_rgb"] for e in entries], 0).astype(np.float32), ids)
    report = {"exemplars": len(ids), "skipped": len(skipped), "held_out": sorted(held),
              "cavity_photos": n_cav}
    return bank, report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, type=Path, help="the london_hd folder (smiling/NNN.jpg)")
    ap.add_argument("-o", "--out", required=True, type=Path, help="output .safetensors")
    ap.add_argument("--seed", type=int, default=0, help="hold-out seed (the trainers' default 0)")
    ap.add_argument("--holdout", type=float, default=0.2, help="held-out fraction of subjects")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    t0 = time.time()
    bank, report = build(a.data, seed=a.seed, holdout=a.holdout)
    bank.save(a.out, {"data": "London Face Research Lab set (1350 px smiles), CC BY 4.0, DeBruine & Jones 2017, "
                              "doi 10.6084/m9.figshare.5047666.v5; cavity profile: statistics of JAFFE and Yale "
                              "surprised faces (non-commercial research)",
                      "held_out": ",".join(report["held_out"]), "seed": str(a.seed), "holdout": str(a.holdout),
                      "cavity_photos": str(report["cavity_photos"])})
    print(f"{report['exemplars']} exemplars ({report['skipped']} smiles without teeth or face skipped, "
          f"{len(report['held_out'])} subjects held out), cavity from {report['cavity_photos']} open mouths, "
          f"{a.out.stat().st_size / 1e6:.1f} MB, {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
