"""How smooth a closed mouth's line runs on laughs made neutral: per face, the darkest row of each
column of the mouth (within :data:`BAND` of the edit's re-read inner lips, the middle 70 % of
its outer corners' distance; grey blurred by 0.7 px, the row found to a sub-pixel by a parabola through
the darkest three) and its deviation from a quadratic fitted to those rows, RMS and largest, in
eye distances (the wiggle: a real closed mouth's line is a smooth curve, a Cupid's-bow dip at
most). Faces: the world set's laughs (``--only``, default group_five, group_t1, posed_laugh,
astronaut) and London HD TRAINING smiles (``--ids``) at 1350 px and cut to 96 and 128 px
(:func:`faceedit.eval.world.small_face`). Writes ``seam.jsonl`` and a 6x crop of each mouth
(``<name>.png``, the edit) under ``-o``.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python bench/bench_seam_course.py --london ../shared/data/london_hd -o runs/seam
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

#: The line is looked for within this many eye distances of the re-read inner lips' middle
#: (the mean of their upper and lower curves, 68 points 60-67) in each column.
BAND = 0.1


def course(rgb: np.ndarray, lm: np.ndarray) -> dict | None:
    """The line's wiggle on ``rgb`` (the module's text) for the 68 points ``lm``."""
    grey = cv2.GaussianBlur(cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float64),
                            (0, 0), 0.7)
    eye = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    a, b = lm[48], lm[54]
    upper, lower = lm[[60, 61, 62, 63, 64]], lm[[60, 67, 66, 65, 64]]
    xs, ys = [], []
    for x in range(int(np.ceil(a[0] + 0.15 * (b[0] - a[0]))), int(b[0] - 0.15 * (b[0] - a[0])) + 1):
        mid = 0.5 * (np.interp(x, upper[:, 0], upper[:, 1]) + np.interp(x, lower[:, 0], lower[:, 1]))
        rows = np.arange(max(0, int(np.floor(mid - BAND * eye))), min(grey.shape[0], int(np.ceil(mid + BAND * eye)) + 1))
        if len(rows) < 3:
            continue
        col = grey[rows, x]
        k = int(np.argmin(col))
        y = float(rows[k])
        if 0 < k < len(rows) - 1:
            den = col[k - 1] - 2 * col[k] + col[k + 1]
            y += 0.5 * (col[k - 1] - col[k + 1]) / den if den > 1e-9 else 0.0
        xs.append(x), ys.append(y)
    if len(xs) < 5:
        return None
    xs_a, ys_a = np.asarray(xs, float), np.asarray(ys, float)
    res = ys_a - np.polyval(np.polyfit(xs_a, ys_a, 2), xs_a)
    return {"eye_px": round(eye, 1), "rms_ed": round(float(np.sqrt((res ** 2).mean())) / eye, 4),
            "max_ed": round(float(np.abs(res).max()) / eye, 4),
            "line_grey": round(float(np.median([grey[int(round(y)), int(x)] for x, y in zip(xs, ys)])), 1)}


def crop6(rgb: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """The mouth at 6x (nearest), BGR: the outer lip's box grown by a third of its width."""
    x0, y0 = lm[48:60].min(0)
    x1, y1 = lm[48:60].max(0)
    g = (x1 - x0) / 3
    x0, y0, x1, y1 = (int(max(0, v)) for v in (x0 - g, y0 - g, x1 + g, y1 + g))
    c = np.ascontiguousarray(rgb[y0:y1, x0:x1, ::-1])
    s = max(1, min(6, int(900 / max(c.shape[1], 1))))
    return cv2.resize(c, None, fx=s, fy=s, interpolation=cv2.INTER_NEAREST)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--london", type=Path, default=None)
    ap.add_argument("--ids", default="001,002,003,004,006,007")
    ap.add_argument("--only", default="group_five,group_t1,posed_laugh,astronaut")
    ap.add_argument("-o", "--out", type=Path, required=True)
    a = ap.parse_args(argv)
    from faceedit.api import Editor
    from faceedit.eval import world
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", device="cpu")
    photos = [(p.name, p.rgb) for p in world.world_set(wheels=True)
              if any(part in p.name for part in a.only.split(","))]
    if a.london is not None:
        for i in a.ids.split(","):
            assert i not in HELD_OUT, f"{i} is held out"
            rgb = world.read_rgb(a.london / "smiling" / f"{i}.jpg")
            photos.append((f"london_{i}", rgb))
            lm = np.asarray(ed.detector.detect(rgb)[0].landmarks, np.float64)
            for side in (96, 128):
                photos.append((f"london_{i}_small{side}", world.small_face(rgb, [lm[36:42].mean(0), lm[42:48].mean(0)], side)))
    a.out.mkdir(parents=True, exist_ok=True)
    with (a.out / "seam.jsonl").open("w") as log:
        for name, rgb in photos:
            faces = sorted(ed.detector.detect(rgb), key=lambda f: -f.area)
            out = edit_faces(ed, rgb, faces, EditRequest.of("neutral", 1.0))
            for k, f in enumerate(faces):
                c = (f.box[:2] + f.box[2:]) / 2
                near = min(ed.detector.detect(out), key=lambda g: float(np.linalg.norm((g.box[:2] + g.box[2:]) / 2 - c)))
                lm = np.asarray(near.landmarks, np.float64)
                rec = course(out, lm)
                if rec is None:
                    continue
                rec["name"] = f"{name}#{k}"
                log.write(json.dumps(rec) + "\n")
                print(json.dumps(rec), flush=True)
                cv2.imwrite(str(a.out / f"{name}_{k}.png"), crop6(out, np.asarray(f.landmarks, np.float64)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
