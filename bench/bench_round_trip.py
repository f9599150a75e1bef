"""Expressive starting faces: round trips on held-out London faces and posed expressions made
neutral (JAFFE), measured on re-detected landmarks and drawn as crops at the photos' own pixels.

    OMP_NUM_THREADS=1 python bench/bench_round_trip.py --sheets /tmp/round_trip
    OMP_NUM_THREADS=1 python bench/bench_round_trip.py --part jaffe --sheets /tmp/round_trip
    OMP_NUM_THREADS=1 python bench/bench_round_trip.py --part london --detector dlib --limit 8

``--part london`` (the default runs both): every held-out London subject (the trainers' split:
seed 0, 20 %: 18 people), neutral photo at the set's 1350 px and as a 256-px face crop, is
edited to each expression target the model offers and that edit back to neutral (each edit
through :class:`faceedit.api.Editor`, the face detected again each time). The round trip's
error is the mean distance of the 68 points detected on the face it gives back from those
detected on the original, in the original's eye distances (no alignment: the head does not
move), per target the median over the people; measured with the model's detector and with
dlib's. The detectors' own noise is printed beside it: the same measure between the photo and
the photo re-encoded (JPEG 95) and shifted by one pixel. Beside them, the eyes' opening (the
lids' mean distance in eye distances, the model's detector, median) of the original, the edit
and the face given back: a wide eye kept as the person's own shows there.

``--part jaffe``: every JAFFE photo of surprise, disgust, anger, happiness and sadness made
neutral; per expression, dlib's 68 points of the edit against the same person's neutral photos
(their mean, after a similarity on the stable points), in eye distances, input -> edit; and the
eyes' opening and the brows' height (eye distances) of the input, the edit and the real
neutral. These faces are mostly the stage's training subjects: a look, not a held-out measure.

``--sheets DIR`` writes crops at the photos' own pixels: ``london_<size>_<target>.png`` (rows =
people; columns = original | the target | back to neutral, each as the eyes and the mouth) and
``jaffe_<expr>.png`` (input | neutral edit | the person's real neutral photo).
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image

from faceedit.api import Editor
from faceedit.data import holdout_subjects
from faceedit.faces.align import apply_affine, similarity_transform
from faceedit.faces.detectors import get_detector
from faceedit.faces.landmarks import STABLE, eye_distance
from faceedit.stage.eyes import eye_apertures

TARGETS = ("happy", "sad", "surprised", "angry", "disgusted", "fearful", "sleepy", "wink")
JAFFE = {"SU": "surprised", "DI": "disgusted", "AN": "angry", "HA": "happy", "SA": "sad", "FE": "fearful"}


def largest_lm(det, rgb: np.ndarray) -> np.ndarray | None:
    faces = [f for f in det.detect(rgb) if np.asarray(f.landmarks).shape == (68, 2)]
    return np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64) if faces else None


def error(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Mean point distance of ``b`` from ``a`` in ``a``'s eye distances (NaN without both)."""
    if a is None or b is None:
        return float("nan")
    return float(np.linalg.norm(a - b, axis=1).mean() / eye_distance(a))


def aligned_error(a: np.ndarray, b: np.ndarray) -> float:
    """:func:`error` after a similarity taking ``b``'s stable points onto ``a``'s."""
    return error(a, apply_affine(similarity_transform(b[STABLE], a[STABLE]), b))


def eyes_open(lm: np.ndarray) -> float:
    return float(eye_apertures(lm).mean() / eye_distance(lm))


def brows(lm: np.ndarray) -> float:
    """Brows' height over the eyes (mean of 17-26 above the mean of 36-47), eye distances."""
    return float((lm[36:48, 1].mean() - lm[17:27, 1].mean()) / eye_distance(lm))


def crop(rgb: np.ndarray, lm: np.ndarray, part: str) -> np.ndarray:
    """The eyes and brows, or the mouth, of the face at ``lm`` at the photo's own pixels."""
    ed = eye_distance(lm)
    if part == "eyes":
        c = (lm[17:27].mean(0) + lm[36:48].mean(0)) / 2
        half = np.array([1.05 * ed, 0.42 * ed])
    else:
        c = lm[48:68].mean(0)
        half = np.array([0.6 * ed, 0.4 * ed])
    x0, y0 = np.round(c - half).astype(int)
    x1, y1 = np.round(c + half).astype(int)
    pad = ((max(0, -y0), max(0, y1 - rgb.shape[0])), (max(0, -x0), max(0, x1 - rgb.shape[1])), (0, 0))
    out = np.pad(rgb, pad, constant_values=128)
    return out[y0 + pad[0][0]:y1 + pad[0][0], x0 + pad[1][0]:x1 + pad[1][0]]


def sheet(rows: list[list[np.ndarray]]) -> np.ndarray:
    """Rows of tiles, 4 px apart on grey (tiles of a row share a height)."""
    lines = []
    for r in rows:
        h = max(t.shape[0] for t in r)
        tiles = [np.pad(t, ((0, h - t.shape[0]), (0, 4), (0, 0)), constant_values=60) for t in r]
        lines.append(np.pad(np.hstack(tiles), ((0, 4), (0, 0), (0, 0)), constant_values=60))
    w = max(x.shape[1] for x in lines)
    return np.vstack([np.pad(x, ((0, 0), (0, w - x.shape[1]), (0, 0)), constant_values=60) for x in lines])


def face_crop(rgb: np.ndarray, lm: np.ndarray, size: int = 256) -> np.ndarray:
    """A square crop around the face (2.2 eye distances each side of the eyes' midpoint, a
    little below them) resized to ``size`` px."""
    ed = eye_distance(lm)
    c = lm[36:48].mean(0) + [0, 0.45 * ed]
    half = 1.15 * ed
    box = (int(c[0] - half), int(c[1] - half), int(c[0] + half), int(c[1] + half))
    return np.asarray(Image.fromarray(rgb).crop(box).resize((size, size), Image.LANCZOS))


def jpeg_shift(rgb: np.ndarray) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=95)
    out = np.asarray(Image.open(buf).convert("RGB"))
    return np.pad(out, ((1, 0), (1, 0), (0, 0)), mode="edge")[:-1, :-1]


def london(ed: Editor, dlib, data: Path, sheets: Path | None, limit: int, targets: list[str]) -> None:
    files = sorted((data / "neutral").glob("*.jpg"))
    held = sorted(holdout_subjects({f"london-{p.stem}" for p in files}, 0.2, 0))[: limit or None]
    det = ed.detector
    for size in ("1350", "256"):
        errs: dict[str, list[tuple[float, float]]] = {t: [] for t in targets}
        opening: dict[str, list[tuple[float, float, float]]] = {t: [] for t in targets}
        noise = []
        tiles: dict[str, list[list[np.ndarray]]] = {t: [] for t in targets}
        for sid in held:
            rgb = np.asarray(Image.open(data / "neutral" / f"{sid.split('-')[1]}.jpg").convert("RGB"))
            if size == "256":
                lm = largest_lm(det, rgb)
                if lm is None:
                    continue
                rgb = face_crop(rgb, lm)
            lm0, dl0 = largest_lm(det, rgb), largest_lm(dlib, rgb)
            if lm0 is None:
                print(f"{sid}: no face found, skipped")
                continue
            shifted = jpeg_shift(rgb)
            ns, nd = largest_lm(det, shifted), largest_lm(dlib, shifted)  # shifted 1 px right and down
            noise.append((error(lm0, None if ns is None else ns - 1), error(dl0, None if nd is None else nd - 1)))
            line = []
            for t in targets:
                there = ed.edit(rgb, t, face="largest")
                back = ed.edit(there, "neutral", face="largest")
                lm_there, lm_back = largest_lm(det, there), largest_lm(det, back)
                e = (error(lm0, lm_back), error(dl0, largest_lm(dlib, back)))
                errs[t].append(e)
                if lm_there is not None and lm_back is not None:
                    opening[t].append((eyes_open(lm0), eyes_open(lm_there), eyes_open(lm_back)))
                line.append(f"{t} {e[0]:.3f}/{e[1]:.3f}")
                if sheets is not None and len(tiles[t]) < 6:
                    tiles[t].append([crop(x, lm0, p) for p in ("eyes", "mouth") for x in (rgb, there, back)])
            print(f"  {size} {sid}: " + ", ".join(line), flush=True)
        n = np.array(noise)
        print(f"London held out at {size} px, {len(n)} people: detector noise (JPEG + 1 px) "
              f"{np.nanmedian(n[:, 0]):.3f} / dlib {np.nanmedian(n[:, 1]):.3f}")
        print(f"{'target':>10}  round trip error (median, max), model's detector | dlib | eyes open "
              "(model's detector, median): original -> the target -> back")
        for t in targets:
            a = np.array(errs[t])
            o = np.median(np.array(opening[t]).reshape(-1, 3), 0)
            print(f"{t:>10}  {np.nanmedian(a[:, 0]):.3f} ({np.nanmax(a[:, 0]):.3f}) | "
                  f"{np.nanmedian(a[:, 1]):.3f} ({np.nanmax(a[:, 1]):.3f}) | "
                  f"{o[0]:.3f} -> {o[1]:.3f} -> {o[2]:.3f}")
        if sheets is not None:
            for t in targets:
                Image.fromarray(sheet(tiles[t])).save(sheets / f"london_{size}_{t}.png")


def jaffe(ed: Editor, dlib, data: Path, sheets: Path | None, limit: int) -> None:
    files = sorted(data.glob("*.png"))
    by_person: dict[str, list[Path]] = {}
    for f in files:
        by_person.setdefault(f.name.split(".")[0], []).append(f)

    def load(f: Path) -> np.ndarray:
        return np.asarray(Image.open(f).convert("RGB"))

    neutral = {}
    for p, fs in by_person.items():
        lms = [x for x in (largest_lm(dlib, load(f)) for f in fs if ".NE" in f.name) if x is not None]
        if lms:
            ref = lms[0]
            neutral[p] = (np.mean([apply_affine(similarity_transform(x[STABLE], ref[STABLE]), x) for x in lms], 0),
                          [f for f in fs if ".NE" in f.name][0])
    print(f"{'JAFFE':>10}  photos  to real neutral (dlib, aligned): input -> edit | eyes open: input -> edit "
          "(real) | brows: input -> edit (real)")
    for code, name in JAFFE.items():
        rows, tiles = [], []
        for p, fs in by_person.items():
            if p not in neutral:
                continue
            for f in [f for f in fs if f".{code}" in f.name][: limit or None]:
                rgb = load(f)
                lm = largest_lm(dlib, rgb)
                out = ed.edit(rgb, "neutral", face="largest")
                lo = largest_lm(dlib, out)
                if lm is None or lo is None:
                    continue
                ref = neutral[p][0]
                rows.append((aligned_error(ref, lm), aligned_error(ref, lo), eyes_open(lm), eyes_open(lo),
                             eyes_open(ref), brows(lm), brows(lo), brows(ref)))
                if sheets is not None and len(tiles) < 10:
                    real = load(neutral[p][1])
                    tiles.append([crop(x, lm, "eyes") for x in (rgb, out)] + [crop(real, ref, "eyes")]
                                 + [crop(x, lm, "mouth") for x in (rgb, out)] + [crop(real, ref, "mouth")])
        a = np.array(rows)
        m = np.median(a, 0)
        print(f"{name:>10}  {len(a):>6}  {m[0]:.3f} -> {m[1]:.3f}  | {m[2]:.3f} -> {m[3]:.3f} ({m[4]:.3f}) | "
              f"{m[5]:.3f} -> {m[6]:.3f} ({m[7]:.3f})", flush=True)
        if sheets is not None:
            Image.fromarray(sheet(tiles)).save(sheets / f"jaffe_{name}.png")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="stage")
    ap.add_argument("--detector", default="auto", help="the detector the edits use (faceedit's names)")
    ap.add_argument("--part", choices=("london", "jaffe", "both"), default="both")
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--limit", type=int, default=0, help="at most this many people (London) / photos per person (JAFFE)")
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--sheets", type=Path, default=None, help="folder for the crop sheets")
    a = ap.parse_args(argv)
    ed = Editor.from_pretrained(a.model, device="cpu", detector=a.detector)
    dlib = get_detector("dlib")
    if a.sheets:
        a.sheets.mkdir(parents=True, exist_ok=True)
    if a.part in ("london", "both"):
        london(ed, dlib, a.data / "london_hd", a.sheets, a.limit,
               [t for t in a.targets.split(",") if t in ed.targets()])
    if a.part in ("jaffe", "both"):
        jaffe(ed, dlib, a.data / "jaffe", a.sheets, a.limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
