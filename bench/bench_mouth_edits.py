"""Mouths the shipped models draw on held-out London faces at the photos' native 1350 px.

    OMP_NUM_THREADS=1 python bench/bench_mouth_edits.py --models stage,reggan --limit 6 \\
        --sheets DIR

    python bench/bench_mouth_edits.py --models stage --ids london-008,london-094 --sheets DIR --card-rows 2

For every held-out London subject (the trainers' split: seed 0, 20 %: 18 people) and every model
named (each edits through :class:`faceedit.api.Editor`, the stage first, the network after it),
the edited photos' faces are detected again with faceedit's detector and measured:

* happy edits of the NEUTRAL photo: mouth sharpness over the same person's real smile (the
  definition of ``bench/bench_mouth.py``: variance of the Laplacian of the outer lips' box grown
  by 15 %, resized to 256 px wide by area; real = 1.0, target 0.7-1.6);
* smiling -> neutral edits of the SMILING photo: the inner-lip gap (mean of the pairs 61-67,
  62-66, 63-65 over the eye distance, :func:`faceedit.stage.state.lip_gap`) and the share of
  faces under 0.03 (target 80 %); the real neutral photos' gap is printed beside it. Measured
  twice: on faceedit's detector's points (Face Mesh mapped to the 68), which read closed dark
  lips as parted (real neutral photos: under half of them "closed"), and on dlib's 68 points
  (``dlib``), which read the real neutral photos as closed; and the dark line where the lips
  meet (:func:`seam_profile` on dlib's points: its darkest luma over the luma beside it, and its
  width at half depth), beside the real neutral photos' own;
* surprised edits of the neutral photo, and the happy edits' teeth: mean luma and luma spread
  (standard deviation, BT.601, 0-255) inside the opening: the interior found from colour around
  the Face Mesh's inner-lip loop (:func:`faceedit.stage.lips.find_interior`, else the loop
  itself), eroded by 2 px. A flat black hole has a tiny spread; real teeth and shading do not.
  The real smiles' interiors are printed beside them.

``--sheets DIR`` writes, per model, ``DIR/NAME_mouth_sheet.png``: mouth crops at the photos' own
pixels (no resizing), rows = people, columns = neutral input | happy | surprised | neutral (edited
from the smiling photo) | real smile; ``--card-rows K`` also writes ``DIR/NAME_mouth.jpg`` with
the first K rows (JPEG quality 90), the size a model card carries.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

# the same measure as the filler's own bench (this folder is on the path when run as a script)
from bench_mouth import mouth_box, sharpness  # noqa: E402
from PIL import Image

from faceedit.api import Editor
from faceedit.data import holdout_subjects
from faceedit.faces.detectors import get_detector
from faceedit.faces.landmarks import eye_distance
from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.cut_curves import opening_polygon, resample_by_length
from faceedit.stage.lips import CURVE_POINTS, MESH_INNER_LOWER, MESH_INNER_UPPER, find_interior
from faceedit.stage.state import lip_gap

CLOSED = 0.03  # inner-lip gap (eye distances) under which lips count as closed
COLUMNS = ("neutral input", "happy", "surprised", "neutral (from smile)", "real smile")


def opening_luma(rgb: np.ndarray, face) -> tuple[float, float, int]:
    """(mean luma, luma std, pixel count) inside the mouth opening of a detected face; the
    interior from colour (:func:`find_interior`) or else the mesh's inner-lip loop, eroded by
    2 px. (nan, nan, 0) when no pixel is left (closed lips)."""
    if face.dense is None:
        return float("nan"), float("nan"), 0
    d = np.asarray(face.dense, np.float64)[:, :2]
    curves = find_interior(rgb, d) or tuple(resample_by_length(d[k], CURVE_POINTS) for k in (MESH_INNER_UPPER, MESH_INNER_LOWER))
    poly = opening_polygon(*curves)
    m = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(poly * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    m = cv2.erode(m, np.ones((5, 5), np.uint8)) > 0
    if m.sum() < 20:
        return float("nan"), float("nan"), int(m.sum())
    y = rgb[m].astype(np.float64) @ np.asarray(LUMA_WEIGHTS)
    return float(y.mean()), float(y.std()), int(m.sum())


def seam_profile(rgb: np.ndarray, lm: np.ndarray) -> tuple[float, float]:
    """(depth, width) of the dark line where closed lips meet, at the three inner-lip pairs
    (61-67, 62-66, 63-65: 68 points): along a vertical strip 5 px wide through each pair's
    midpoint, 0.08 eye distances up and down, the darkest luma over the strip ends' median
    (depth: 1 = no line) and the width at half that depth in eye distances; means of the three."""
    lm = np.asarray(lm, np.float64)
    grey = rgb.astype(np.float64) @ np.asarray(LUMA_WEIGHTS)
    e = eye_distance(lm)
    out = []
    for a, b in ((61, 67), (62, 66), (63, 65)):
        m = (lm[a] + lm[b]) / 2
        x, y0, y1 = round(m[0]), round(m[1] - 0.08 * e), round(m[1] + 0.08 * e)
        prof = grey[max(y0, 0):y1 + 1, max(x - 2, 0):x + 3].mean(1)
        if len(prof) < 9:
            continue
        base = float(np.median(np.r_[prof[:4], prof[-4:]]))
        k = int(np.argmin(prof))
        below = prof < (base + prof[k]) / 2
        i0, i1 = k, k
        while i0 > 0 and below[i0 - 1]:
            i0 -= 1
        while i1 < len(prof) - 1 and below[i1 + 1]:
            i1 += 1
        out.append((prof[k] / max(base, 1e-6), (i1 - i0 + 1) / e))
    return tuple(np.mean(out, 0)) if out else (float("nan"), float("nan"))


def largest(det, rgb: np.ndarray):
    faces = det.detect(rgb)
    return max(faces, key=lambda f: f.area) if faces else None


def tile(rgb: np.ndarray, centre, size) -> np.ndarray:
    """A ``size`` (w, h) crop of ``rgb`` around ``centre`` at the photo's own pixels (edge-padded)."""
    w, h = size
    x0, y0 = round(centre[0] - w / 2), round(centre[1] - h / 2)
    pad = max(w, h)
    big = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return big[y0 + pad:y0 + pad + h, x0 + pad:x0 + pad + w].copy()


def mouth_frame(lm: np.ndarray):
    """(centre, (w, h)) of a mouth crop: 1.8 x 1.5 mouth widths, a little below the lips' centre
    so a dropped jaw stays in."""
    w = float(np.linalg.norm(lm[54] - lm[48]))
    c = lm[48:68].mean(0) + [0.0, 0.2 * w]
    return c, (round(1.8 * w), round(1.5 * w))


def label(img: np.ndarray, text: str) -> None:
    cv2.putText(img, text, (8, 26), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 4, cv2.LINE_AA)
    cv2.putText(img, text, (8, 26), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 1, cv2.LINE_AA)


def sheet(rows: list[list[np.ndarray]]) -> np.ndarray:
    """Rows of equal-height tiles, 4 px grey gutters, rows padded to the widest, a header strip."""
    gut = 4
    lines = []
    for r in rows:
        h = r[0].shape[0]
        parts = []
        for t in r:
            parts += [t, np.full((h, gut, 3), 128, np.uint8)]
        lines.append(np.hstack(parts[:-1]))
    width = max(line.shape[1] for line in lines)
    head = np.full((36, width, 3), 40, np.uint8)
    x = 0
    for name in COLUMNS:
        cv2.putText(head, name, (x + 8, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 1, cv2.LINE_AA)
        x += rows[0][0].shape[1] + gut
    out = [head]
    for line in lines:
        pad = np.full((line.shape[0], width - line.shape[1], 3), 128, np.uint8)
        out += [np.hstack([line, pad]), np.full((gut, width, 3), 128, np.uint8)]
    return np.vstack(out[:-1])


def med(v) -> str:
    v = np.asarray([x for x in v if np.isfinite(x)], np.float64)
    return f"{np.median(v):.2f} ({v.min():.2f}-{v.max():.2f})" if len(v) else "-"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--models", default="stage", help="comma-separated model names (faceedit models)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many held-out people (0: all 18)")
    ap.add_argument("--ids", default="", help="only these held-out ids, in this order (e.g. london-008,london-094)")
    ap.add_argument("--sheets", type=Path, default=None, help="folder for the mouth-crop contact sheets")
    ap.add_argument("--card-rows", type=int, default=0, help="also write NAME_mouth.jpg with this many rows")
    a = ap.parse_args(argv)
    det = get_detector("auto")
    dlib = get_detector("dlib")

    def dlib_gap(rgb: np.ndarray) -> tuple[float, tuple[float, float]]:
        """dlib's inner-lip gap and the seam between the lips (:func:`seam_profile`)"""
        f = largest(dlib, rgb)
        if f is None:
            return float("nan"), (float("nan"), float("nan"))
        return lip_gap(f.landmarks), seam_profile(rgb, f.landmarks)

    files = sorted((a.data / "neutral").glob("*.jpg"))
    held = sorted(holdout_subjects({f"london-{p.stem}" for p in files}, 0.2, 0))
    if a.ids:
        wanted = [i.strip() for i in a.ids.split(",") if i.strip()]
        unknown = [i for i in wanted if i not in held]
        if unknown:
            ap.error(f"not held-out London ids: {', '.join(unknown)}")
        held = wanted
    if a.limit:
        held = held[: a.limit]
    # the inputs and the real photos, detected once for every model
    people = []
    for sid in held:
        nid = sid.split("-")[1]
        neutral = np.asarray(Image.open(a.data / "neutral" / f"{nid}.jpg").convert("RGB"))
        smile = np.asarray(Image.open(a.data / "smiling" / f"{nid}.jpg").convert("RGB"))
        fn, fs = largest(det, neutral), largest(det, smile)
        if fn is None or fs is None:
            print(f"{sid}: no face found, skipped")
            continue
        people.append({"sid": sid, "neutral": neutral, "smile": smile, "fn": fn, "fs": fs,
                       "sharp_real": sharpness(smile, mouth_box(fs.landmarks, smile.shape)),
                       "gap_neutral": lip_gap(fn.landmarks), "gap_smile": lip_gap(fs.landmarks),
                       **dict(zip(("gap_neutral_dlib", "seam_neutral"), dlib_gap(neutral))),
                       "luma_smile": opening_luma(smile, fs)})
    for p in people:
        print(f"  real {p['sid']}: neutral gap {p['gap_neutral']:.3f}, smile gap {p['gap_smile']:.3f}, smile opening "
              f"luma {p['luma_smile'][0]:.0f}+-{p['luma_smile'][1]:.0f}")
    print(f"{len(people)} held-out London people at {people[0]['neutral'].shape[1]} px")
    print(f"real photos: neutral inner-lip gap {med([p['gap_neutral'] for p in people])} eye distances, "
          f"{np.mean([p['gap_neutral'] < CLOSED for p in people]):.0%} under {CLOSED} "
          f"(dlib: {med([p['gap_neutral_dlib'] for p in people])}, "
          f"{np.mean([p['gap_neutral_dlib'] < CLOSED for p in people]):.0%}; the line between the lips, "
          f"darkest/beside {med([p['seam_neutral'][0] for p in people])}, "
          f"width {med([p['seam_neutral'][1] for p in people])} eye distances); "
          f"smiling {med([p['gap_smile'] for p in people])}; real smile opening luma "
          f"{med([p['luma_smile'][0] for p in people])}, spread {med([p['luma_smile'][1] for p in people])}")
    if a.sheets:
        a.sheets.mkdir(parents=True, exist_ok=True)
    table = []
    for name in [m.strip() for m in a.models.split(",") if m.strip()]:
        t0 = time.perf_counter()
        ed = Editor.from_pretrained(name, device="cpu")
        rows, tiles = [], []
        for p in people:
            happy = ed.edit(p["neutral"], "happy", face="largest")
            surprised = ed.edit(p["neutral"], "surprised", face="largest") if "surprised" in ed.targets() else None
            calm = ed.edit(p["smile"], "neutral", face="largest")
            fh, fc = largest(det, happy), largest(det, calm)
            fu = largest(det, surprised) if surprised is not None else None
            r = {"sid": p["sid"]}
            r["sharp"] = sharpness(happy, mouth_box(fh.landmarks, happy.shape)) / p["sharp_real"] if fh else np.nan
            r["gap"] = lip_gap(fc.landmarks) if fc else np.nan
            r["gap_dlib"], r["seam"] = dlib_gap(calm)
            r["happy_luma"] = opening_luma(happy, fh) if fh else (np.nan, np.nan, 0)
            r["surp_luma"] = opening_luma(surprised, fu) if fu else (np.nan, np.nan, 0)
            r["surp_gap"] = lip_gap(fu.landmarks) if fu else np.nan
            rows.append(r)
            print(f"  {name:>7} {p['sid']}: happy sharpness {r['sharp']:.2f}, smile->neutral gap {r['gap']:.3f} "
                  f"(dlib {r['gap_dlib']:.3f}; was {p['gap_smile']:.3f}; seam {r['seam'][0]:.2f} "
                  f"{r['seam'][1]:.3f}), surprised gap {r['surp_gap']:.3f} luma "
                  f"{r['surp_luma'][0]:.0f}+-{r['surp_luma'][1]:.0f}, happy teeth luma "
                  f"{r['happy_luma'][0]:.0f}+-{r['happy_luma'][1]:.0f}", flush=True)
            if a.sheets:
                cn, size = mouth_frame(p["fn"].landmarks)
                cs, _ = mouth_frame(p["fs"].landmarks)
                blank = np.full((size[1], size[0], 3), 128, np.uint8)
                row = [tile(p["neutral"], cn, size), tile(happy, cn, size),
                       tile(surprised, cn, size) if surprised is not None else blank,
                       tile(calm, cs, size), tile(p["smile"], cs, size)]
                label(row[0], p["sid"])
                tiles.append(row)
        secs = time.perf_counter() - t0
        s = np.array([r["sharp"] for r in rows])
        g = np.array([r["gap"] for r in rows])
        gd = np.array([r["gap_dlib"] for r in rows])
        table.append((name, len(rows), med(s), f"{np.mean((s >= 0.7) & (s <= 1.6)):.0%}", med(g),
                      f"{np.mean(g < CLOSED):.0%}", med(gd), f"{np.mean(gd < CLOSED):.0%}",
                      f"{np.nanmedian([r['seam'][0] for r in rows]):.2f} / {np.nanmedian([r['seam'][1] for r in rows]):.3f}",
                      med([r["surp_gap"] for r in rows]),
                      med([r["surp_luma"][0] for r in rows]), med([r["surp_luma"][1] for r in rows]),
                      med([r["happy_luma"][0] for r in rows]), med([r["happy_luma"][1] for r in rows]),
                      f"{secs:.0f}"))
        if a.sheets and tiles:
            Image.fromarray(sheet(tiles)).save(a.sheets / f"{name}_mouth_sheet.png", optimize=True)
            if a.card_rows:
                Image.fromarray(sheet(tiles[: a.card_rows])).save(a.sheets / f"{name}_mouth.jpg", quality=90)
        del ed
    head = ("model", "n", "happy sharpness/real", "in 0.7-1.6", "smile->neutral gap", f"<{CLOSED}",
            "gap (dlib)", f"<{CLOSED} (dlib)", "seam darkest/beside / width",
            "surprised gap", "surprised luma", "surprised spread", "happy luma", "happy spread", "s")
    print("\n| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in table:
        print("| " + " | ".join(str(c) for c in row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
