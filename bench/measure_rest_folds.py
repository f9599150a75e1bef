"""The nasolabial fold of a smile made neutral against the person's own resting fold.

    OMP_NUM_THREADS=1 python bench/measure_rest_folds.py --london ../shared/data/london_hd [--held] [-o DIR]

Per London person (the training ids by default, ``--held``: the held-out ones) three photos: the
smiling photo, the stage's neutral edit of it (strength 1) and the person's own neutral photo.
On each, the nasolabial line laid on the face's own landmarks (:func:`faceedit.stage.folds.fold_curves`)
is crossed at 3 points along it (0.3, 0.5 and 0.7 of its length; both sides of the face) by a luma
profile from -0.16 to +0.16 eye distances, averaged over 0.03 eye distances along it. Per profile:
the cheek around it, a line fitted to its outer parts (0.1-0.16 either side); ``depth`` = 1 - the
darkest luma within 0.07 of the line over that line's luma there; ``width`` = how far (eye
distances) the profile stays darker than half that depth round its darkest point. Printed: per
person and for all, the medians of depth and width for smile, edit and own neutral. ``-o``:
per person the right cheek at 2x (nearest), smile | edit | own neutral, as PNG. ``--set``:
EditTuning fields for the run (``k=v,k=v``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import HELD_OUT  # noqa: E402

ACROSS = np.linspace(-0.16, 0.16, 65)
ALONG = np.linspace(-0.015, 0.015, 7)
AT = (0.3, 0.5, 0.7)
OUTER, SEARCH = 0.1, 0.07


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def fold_profiles(y: np.ndarray, lm: np.ndarray) -> list[np.ndarray]:
    """The luma profiles across both nasolabial lines of the face at ``lm``, at :data:`AT`."""
    from faceedit.stage.folds import fold_curves
    from faceedit.stage.moves import face_frame

    ed = face_frame(lm)[2]
    out = []
    for c in fold_curves(lm):
        if c.kind != "nasolabial":
            continue
        pts = c.points
        seg = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
        for f in AT:
            s = f * seg[-1]
            p = np.array([np.interp(s, seg, pts[:, 0]), np.interp(s, seg, pts[:, 1])])
            i = int(np.clip(np.searchsorted(seg, s), 1, len(pts) - 1))
            t = pts[i] - pts[i - 1]
            t /= max(float(np.linalg.norm(t)), 1e-9)
            n = np.array([-t[1], t[0]])
            grid = p[None, None] + (ACROSS[None, :, None] * n + ALONG[:, None, None] * t) * ed
            out.append(cv2.remap(y, grid[..., 0].astype(np.float32), grid[..., 1].astype(np.float32),
                                 cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).mean(0))
    return out


def read(prof: np.ndarray) -> tuple[float, float]:
    """(depth, width in eye distances) of one profile (module doc)."""
    outer = np.abs(ACROSS) >= OUTER
    a, b = np.polyfit(ACROSS[outer], prof[outer], 1)
    r = prof / np.maximum(a * ACROSS + b, 1e-6) - 1.0
    inner = np.flatnonzero(np.abs(ACROSS) <= SEARCH)
    k = int(inner[np.argmin(r[inner])])
    depth = max(-float(r[k]), 0.0)
    if depth <= 0:
        return 0.0, 0.0
    half = r < -0.5 * depth
    lo = hi = k
    while lo > 0 and half[lo - 1]:
        lo -= 1
    while hi < len(r) - 1 and half[hi + 1]:
        hi += 1
    return depth, float(ACROSS[hi] - ACROSS[lo] + ACROSS[1] - ACROSS[0])


def measure(ed, rgb: np.ndarray) -> tuple[list[tuple[float, float]], np.ndarray] | None:
    faces = ed.detector.detect(rgb)
    if not faces:
        return None
    lm = np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64)
    return [read(p) for p in fold_profiles(luma(rgb), lm)], lm


def cheek_sheet(images: list[np.ndarray], lms: list[np.ndarray], path: Path) -> None:
    """The face's right cheek (beside landmarks 31-48, each image's own) of each image at 2x, side by side."""
    crops = []
    for im, lm in zip(images, lms):
        eye = np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0))
        pts = lm[[31, 48, 40]]
        x0, y0 = np.maximum(np.floor(pts.min(0) - [0.45 * eye, 0.1 * eye]), 0).astype(int)
        x1, y1 = np.ceil(pts.max(0) + [0.1 * eye, 0.35 * eye]).astype(int)
        crops.append(cv2.resize(im[y0:y1, x0:x1], None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST))
    h = min(c.shape[0] for c in crops)
    cv2.imwrite(str(path), cv2.cvtColor(np.hstack([c[:h] for c in crops]), cv2.COLOR_RGB2BGR))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--london", type=Path, required=True, help="the London HD folder (neutral/, smiling/)")
    ap.add_argument("--held", action="store_true", help="the held-out ids (default: the training ids)")
    ap.add_argument("--ids", help="these London ids instead")
    ap.add_argument("--every", type=int, default=1, help="every n-th of the ids")
    ap.add_argument("-o", "--out", type=Path)
    ap.add_argument("--set", help="EditTuning fields for the run, e.g. rest_fold_keep=0.8")
    a = ap.parse_args(argv)
    from faceedit.api import Editor
    from faceedit.eval import world
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    have = sorted(p.stem for p in (a.london / "smiling").glob("*.jpg") if (a.london / "neutral" / p.name).is_file())
    ids = a.ids.split(",") if a.ids else [i for i in have if (i in HELD_OUT) == a.held][::a.every]
    ed = Editor.from_pretrained("stage", device="cpu")
    if a.set:
        import dataclasses

        stage = ed.stage
        assert stage is not None
        fields: dict[str, Any] = {k: float(v) for k, v in (kv.split("=") for kv in a.set.split(","))}
        stage.tuning = dataclasses.replace(stage.tuning, edit=dataclasses.replace(stage.tuning.edit, **fields))
    neutral = EditRequest.of("neutral", 1.0)
    if a.out is not None:
        a.out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[tuple[float, float]]] = {"smile": [], "edit": [], "own": []}
    for i in ids:
        rgb = world.read_rgb(a.london / "smiling" / f"{i}.jpg")
        own = world.read_rgb(a.london / "neutral" / f"{i}.jpg")
        face = max(ed.detector.detect(rgb), key=lambda f: f.area)
        out = edit_faces(ed, rgb, [face], neutral)
        got = {k: measure(ed, im) for k, im in (("smile", rgb), ("edit", out), ("own", own))}
        if any(v is None for v in got.values()):
            print(json.dumps({"london": i, "face": "missed"}), flush=True)
            continue
        row: dict[str, object] = {"london": i}
        for k, v in got.items():
            assert v is not None
            rows[k] += v[0]
            row[k] = [round(float(np.median([d for d, _ in v[0]])), 4), round(float(np.median([w for _, w in v[0]])), 3)]
        print(json.dumps(row), flush=True)
        if a.out is not None:
            cheek_sheet([rgb, out, own], [got["smile"][1], got["edit"][1], got["own"][1]],  # type: ignore[index]
                        a.out / f"london_{i}.png")
    summary = {k: {"depth": round(float(np.median([d for d, _ in v])), 4),
                   "width": round(float(np.median([w for _, w in v])), 3), "n": len(v)} for k, v in rows.items() if v}
    print(json.dumps({"medians": summary, "ids": len(ids), "held_out": a.held}), flush=True)


if __name__ == "__main__":
    main()
