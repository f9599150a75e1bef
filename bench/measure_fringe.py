"""How far a fringe's edge moves when the brows move under it: the photo's edge against the edit's.

    OMP_NUM_THREADS=1 python bench/measure_fringe.py --data ../shared/data [--faces 003,143] \
        [--targets angry,surprised,sad] [--sheet /tmp/fringe]

London HD neutrals (1350 px; training 003 and 143 wear dark fringes down to the brows) edited by
the stage at strength 1 (:meth:`faceedit.stage.model.Stage.edit_photo`). Per face and target:
``brows``, the median move of points 17-26 down the image (eye distances; + down); ``edge``, the
median move of the fringe's lower edge over the middle brows (columns from point 19 to 24), and
its 90th percentile of the absolute move. The edge in a column is the first row, going down from
0.5 eye distances over the brows' top, that is no longer darker than half the nose bridge's luma
(point 27's patch), read the same way on the photo and the edit with the photo's landmarks;
columns that start on skin are left out. ``--sheet`` writes per face the forehead and brows, the
photo beside each target's edit (PNG, the photo's own pixels).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from faceedit.faces.landmarks import eye_distance


def edge_rows(img: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Per column from point 19 to 24, the row where the dark fringe ends (NaN: no hair there)."""
    d = eye_distance(lm)
    top = float(lm[17:27, 1].min())
    y = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    bx, by, r = int(lm[27, 0]), int(lm[27, 1]), int(0.06 * d)
    skin = float(np.median(y[by - r:by + r, bx - r:bx + r]))
    y = cv2.GaussianBlur(y, (0, 0), 0.01 * d)
    start = int(top - 0.5 * d)
    hair = y[start:int(top + 0.5 * d), int(lm[19, 0]):int(lm[24, 0])] < 0.5 * skin
    out = np.full(hair.shape[1], np.nan)
    for c in range(hair.shape[1]):
        if hair[0, c]:
            out[c] = start + (int(np.argmin(hair[:, c])) if not hair[:, c].all() else hair.shape[0])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--faces", default="003,143")
    ap.add_argument("--targets", default="angry,surprised,sad")
    ap.add_argument("--sheet", type=Path, help="write each face's forehead, photo | edits, here (PNG)")
    args = ap.parse_args(argv)
    from faceedit.api import Editor
    from faceedit.models.request import EditRequest

    editor = Editor.from_pretrained("stage")
    stage = editor.stage or editor.loaded.model
    print("| face | target | brows | edge | edge p90 abs |\n|---|---|---|---|---|")
    for name in args.faces.split(","):
        img = cv2.cvtColor(cv2.imread(str(args.data / "london_hd" / "neutral" / f"{name}.jpg")), cv2.COLOR_BGR2RGB)
        found = editor.detector.detect(img)
        lm = np.asarray(max(found, key=lambda f: f.area).landmarks, np.float64)
        d = eye_distance(lm)
        before = edge_rows(img, lm)
        tiles = [img]
        for target in args.targets.split(","):
            out, done = stage.edit_photo(img, found, EditRequest.of(target, 1.0))
            tiles.append(out)
            brows = float(np.median(np.asarray(done[0].landmarks)[17:27, 1] - lm[17:27, 1])) / d
            after = edge_rows(out, lm)
            ok = ~np.isnan(before) & ~np.isnan(after)
            move = (after[ok] - before[ok]) / d
            print(f"| {name} | {target} | {brows:+.3f} | {np.median(move):+.3f} | {np.percentile(np.abs(move), 90):.3f} |")
        if args.sheet is not None:
            args.sheet.mkdir(parents=True, exist_ok=True)
            top = float(lm[17:27, 1].min())
            y0, y1 = int(top - 0.7 * d), int(lm[36:48, 1].max() + 0.1 * d)
            x0, x1 = int(lm[17, 0] - 0.15 * d), int(lm[26, 0] + 0.15 * d)
            sheet = np.hstack([t[y0:y1, x0:x1] for t in tiles])
            cv2.imwrite(str(args.sheet / f"fringe_{name}.png"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
