"""Where a smile made neutral closes its lips, against the person's own neutral, and which step
puts the line there (issues 53, 55).

    OMP_NUM_THREADS=1 python bench/measure_lips_meet.py --london ../shared/data/london_hd --ids train
    OMP_NUM_THREADS=1 python bench/measure_lips_meet.py --london ../shared/data/london_hd --ids held

On each London smiling photo the stage's edit to neutral at strength 1, read by dlib's 68 points
(``bench_laugh_neutral.Dlib68``) on the edit and on the same person's neutral photo, in eye
distances (the eye centres') down the face from the nose base (33):

- ``dark_out`` / ``dark_own``: the line where the lips meet as the pixels show it: the darkest
  row (luma blurred by a pixel) within :data:`NEAR` of dlib's inner lips (61-63, 65-67), the
  median over :data:`COLUMNS` columns across the middle third of the mouth;
- ``plan``: the line the warp closes the lips on (the middle of the cut's closed curves,
  :attr:`faceedit.stage.cutwarp.CutWarpResult.upper` and ``lower``), read in the edit's frame;
- ``above_plan``: how far above that line the edit's darkest row lies (looked for about it, same
  search; the seam's course is :func:`faceedit.stage.seam_course.straighten_line`'s);
- ``course``: how far that step moved the seam's line at the mouth's middle (down: above 0);
- ``meet_out`` / ``meet_own``: dlib's inner lips' mean line (61-63 with 65-67).

Only faces whose lips the edit closes from open (the seam drawn, ``course`` read) are summed:
the means of each, of ``dark_out - dark_own``, ``plan - dark_own`` and ``meet_out - meet_own``
(and their mean absolute values). ``--set`` changes stage tuning fields for the run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import london_ids  # noqa: E402
from measure_upper_lip import frame  # noqa: E402

#: How far (eye distances) either side of the line looked about the darkest row is looked for.
NEAR = 0.04
#: How many columns across the middle third of the mouth are read.
COLUMNS = 15
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def darkest(rgb: np.ndarray, lm: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """The point :data:`NEAR` about ``centre`` (photo px) where the lips' dark lies: the median
    offset down the face of each column's darkest row (:data:`COLUMNS` across the middle third)."""
    u, n, ed = frame(lm)
    grey = cv2.GaussianBlur(rgb.astype(np.float32) @ _LUMA, (0, 0), 1.0)
    width = float((lm[54] - lm[48]) @ u)
    hs = np.arange(-NEAR * ed, NEAR * ed, 0.25)
    found = []
    for s in np.linspace(-width / 6, width / 6, COLUMNS):
        p = centre + s * u + hs[:, None] * n
        g = cv2.remap(grey, p[:, 0].astype(np.float32)[None], p[:, 1].astype(np.float32)[None], cv2.INTER_LINEAR)[0]
        found.append(hs[int(np.argmin(g))])
    return centre + float(np.median(found)) * n


def down(p: np.ndarray, lm: np.ndarray) -> float:
    """``p``'s height below ``lm``'s nose base (33), eye distances."""
    _, n, ed = frame(lm)
    return float((p - lm[33]) @ n) / ed


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--london", type=Path, required=True, help="the London HD folder (neutral/, smiling/)")
    ap.add_argument("--ids", default="train", help="train, held or comma-separated London ids")
    ap.add_argument("--set", default=None, help="stage tuning fields for the run, e.g. mouth.course_plan=0")
    a = ap.parse_args(argv)
    from bench_laugh_neutral import Dlib68, with_tuning

    import faceedit.stage.mouth as mouth
    import faceedit.stage.steps as steps
    from faceedit.api import Editor
    from faceedit.eval import world
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    seen: dict = {}
    warp, straighten = steps.cut_warp, mouth.straighten_line

    def seen_warp(*args, **kw):  # the closed curves the warp meets the lips on
        r = warp(*args, **kw)
        seen["plan"] = (np.asarray(r.upper) + np.asarray(r.lower)) / 2
        return r

    def seen_straighten(pixels, line, eye_dist, amount, tuning=None):  # the seam's line moved
        out, moved = straighten(pixels, line, eye_dist, amount, tuning)
        k = len(line) // 2
        seen["course"] = float(np.mean(np.asarray(moved)[k - 3:k + 4, 1] - np.asarray(line)[k - 3:k + 4, 1])) / eye_dist
        return out, moved

    steps.cut_warp, mouth.straighten_line = seen_warp, seen_straighten
    ed = Editor.from_pretrained("stage", device="cpu")
    if a.set:
        with_tuning(ed, a.set)
    read = Dlib68()
    ids = london_ids(a.london, a.ids)
    rows = []
    for i in ids:
        rgb = world.read_rgb(a.london / "smiling" / f"{i}.jpg")
        faces = ed.detector.detect(rgb)
        if not faces:
            continue
        seen.clear()
        out = edit_faces(ed, rgb, [faces[0]], EditRequest.of("neutral", 1.0))
        own = world.read_rgb(a.london / "neutral" / f"{i}.jpg")
        lo, lw = read(out), read(own)
        if lo is None or lw is None or "course" not in seen:
            continue  # (no seam drawn: lips the smile kept closed)
        plan = seen["plan"]
        k = len(plan) // 2
        at = plan[k - 2:k + 3].mean(0)
        inner_o, inner_w = lo[[61, 62, 63, 65, 66, 67]].mean(0), lw[[61, 62, 63, 65, 66, 67]].mean(0)
        _, n, e = frame(lo)
        row = {"id": i, "dark_out": down(darkest(out, lo, inner_o), lo), "dark_own": down(darkest(own, lw, inner_w), lw),
               "plan": down(at, lo), "above_plan": float((at - darkest(out, lo, at)) @ n) / e,
               "course": seen["course"], "meet_out": down(inner_o, lo), "meet_own": down(inner_w, lw)}
        print(json.dumps({k: v if isinstance(v, str) else round(v, 4) for k, v in row.items()}), flush=True)
        rows.append(row)
    if not rows:
        return
    mean = lambda f: round(float(np.mean([f(r) for r in rows])), 4)  # noqa: E731
    both = lambda f: [mean(f), mean(lambda r: abs(f(r)))]  # noqa: E731
    print(json.dumps({"faces": len(rows), **{k: mean(lambda r, k=k: r[k]) for k in rows[0] if k != "id"},
                      "dark_out-own": both(lambda r: r["dark_out"] - r["dark_own"]),
                      "plan-dark_own": both(lambda r: r["plan"] - r["dark_own"]),
                      "meet_out-own": both(lambda r: r["meet_out"] - r["meet_own"])}), flush=True)


if __name__ == "__main__":
    main()
