"""How dark real closed mouths run at their corners, and how dark their seam is, at a small face's size
(issue 55: the bars of tests/test_stage_corner_flecks.py's astronaut and tests/test_stage_seam_floor.py's
posed laugh, against real mouths).

    OMP_NUM_THREADS=1 python bench/measure_closed_corners.py --london ../shared/data/london_hd --eye 59.6

London HD's neutral photos of the training ids (not held out, the first ``--n``) are scaled down
(area) to ``--eye`` px between the outer eye corners (68-point 36, 45; the astronaut's 59.6) and
read again by the stage's detector. Per photo, as the astronaut's test reads her edit: ``corner``,
the darkest luma within 3 px of the segment from each outer lip corner (48, 54) a quarter of the
way to the other, over the line's darkness (:func:`faceedit.stage.corner_flecks.line_dark`); and
as the posed laugh's test reads its edit: ``line``, :func:`faceedit.eval.world.mouth_line` over
:func:`faceedit.eval.world.lips_grey`. Prints one JSON line per photo and a summary (median, 10th
and 90th percentiles, how many fall under each test's bar).
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

_LUMA = np.float32([0.299, 0.587, 0.114])


def corner_share(grey: np.ndarray, lm: np.ndarray, dark: float) -> float:
    """The darkest ``grey`` within 3 px of each outer corner's quarter of the mouth, over ``dark``."""
    yy, xx = np.mgrid[: grey.shape[0], : grey.shape[1]]
    worst = np.inf
    for i, sign in ((48, 1.0), (54, -1.0)):
        a = lm[i]
        d = sign * 0.25 * (lm[54] - lm[48])
        t = np.clip(((xx - a[0]) * d[0] + (yy - a[1]) * d[1]) / float(d @ d), 0.0, 1.0)
        near = np.hypot(xx - a[0] - t * d[0], yy - a[1] - t * d[1]) < 3.0
        worst = min(worst, float(grey[near].min()) / dark)
    return float(worst)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--london", type=Path, required=True, help="the london_hd folder")
    ap.add_argument("--eye", type=float, default=59.6, help="px between the outer eye corners after scaling")
    ap.add_argument("--n", type=int, default=30, help="how many training ids")
    a = ap.parse_args(argv)
    from faceedit.api import Editor
    from faceedit.eval import world
    from faceedit.stage.corner_flecks import line_dark

    ed = Editor.from_pretrained("stage", device="cpu")
    ids = sorted({p.stem for p in (a.london / "neutral").glob("*.jpg")} - set(HELD_OUT))[: a.n]
    corners, lines = [], []
    for i in ids:
        rgb = cv2.cvtColor(cv2.imread(str(a.london / "neutral" / f"{i}.jpg")), cv2.COLOR_BGR2RGB)
        faces = ed.detector.detect(rgb)
        if not faces:
            continue
        lm = np.asarray(faces[0].landmarks, np.float64)
        s = a.eye / float(np.linalg.norm(lm[36] - lm[45]))
        small = cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        faces = ed.detector.detect(small)
        if not faces:
            continue
        lm = np.asarray(faces[0].landmarks, np.float64)
        grey = small.astype(np.float32) @ _LUMA
        dark = line_dark(grey, lm)
        if dark is None:
            continue
        corners.append(corner_share(grey, lm, dark))
        lines.append(world.mouth_line(small, lm) / world.lips_grey(small, lm))
        print(json.dumps({"id": i, "corner": round(corners[-1], 3), "line": round(lines[-1], 3)}), flush=True)
    for name, v, bar in (("corner", corners, 0.85), ("line", lines, 0.78)):
        x = np.asarray(v)
        print(json.dumps({name: {"n": len(x), "median": round(float(np.median(x)), 3),
                                 "p10": round(float(np.percentile(x, 10)), 3), "p90": round(float(np.percentile(x, 90)), 3),
                                 f"under_{bar}": int((x < bar).sum())}}))


if __name__ == "__main__":
    main()
