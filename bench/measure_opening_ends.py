"""Where a smile made surprised or fearful opens: the warp's drawn opening's ends against the plan's
inner corners (the goal's points 60 and 64), London HD smiling photos at 1350 px.

    OMP_NUM_THREADS=1 python bench/measure_opening_ends.py [--data ../shared/data] [--ids 008,...]
        [--train] [--targets surprised,aaa] [-v]

Each smiling photo is edited through :class:`faceedit.api.Editor` (``aaa``: ``--control aaa=1`` on
the neutral target) with the stage's warp (:func:`faceedit.stage.cutwarp.cut_warp`) watched: its
opening (the hole and the carried interior, coverage over 0.5) is read along the line through the
goal's 60 and 64, from their midpoint. Per side, how far the opening's end lies inside its planned
corner (px, and over the goal's eye distance 36-45; below 0 past it). Printed per face with ``-v``
(``carried``: the smile's teeth are carried, ``cut_warp``'s ``carry_lower``); then per target and
group (carried teeth or not) the median of each face's end lying most inside, how many faces have
an end over 3 px inside, the largest, and the median and largest offset of the opening's centre.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import HELD_OUT, HELD_OUT_CSV  # noqa: E402


def ends_inside(r, goal: np.ndarray) -> tuple[float, float]:
    """(left, right) px: how far the opening of ``r`` (a CutWarpResult) ends inside the goal's 60 and 64."""
    u = (goal[64] - goal[60]) / max(float(np.linalg.norm(goal[64] - goal[60])), 1e-9)
    mid = (goal[60] + goal[64]) / 2
    x0, y0 = r.roi[:2]
    yy, xx = np.nonzero((r.opening + r.interior) > 0.5)
    if xx.size == 0:
        return float("nan"), float("nan")
    a = (np.stack([xx + x0, yy + y0], 1) - mid) @ u
    return float(a.min() - (goal[60] - mid) @ u), float((goal[64] - mid) @ u - a.max())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--ids", default=HELD_OUT_CSV)
    ap.add_argument("--train", action="store_true", help="the London ids not held out instead of --ids")
    ap.add_argument("--targets", default="surprised,aaa")
    ap.add_argument("-v", action="store_true", help="print each face")
    a = ap.parse_args(argv)
    import faceedit.stage.steps as steps
    from faceedit.api import Editor

    seen: list = []
    warp = steps.cut_warp

    def watched(pixels, src, goal, **kw):
        r = warp(pixels, src, goal, **kw)
        seen.append((np.asarray(goal, np.float64), kw.get("carry_lower") is not None, r))
        return r

    steps.cut_warp = watched  # type: ignore[assignment]
    hd = a.data / "london_hd"
    ids = [s.strip() for s in a.ids.split(",") if s.strip()]
    if a.train:
        held = set(HELD_OUT)
        ids = sorted(p.stem for p in (hd / "smiling").glob("*.jpg") if p.stem not in held)
    ed = Editor.from_pretrained("stage", device="cpu")
    for t in [s.strip() for s in a.targets.split(",") if s.strip()]:
        rows: dict[bool, list] = {True: [], False: []}
        for i in ids:
            photo = np.asarray(Image.open(hd / "smiling" / f"{i}.jpg").convert("RGB"))
            seen.clear()
            if t == "aaa":
                ed.edit(photo, "neutral", controls={"aaa": 1.0}, face="largest")
            else:
                ed.edit(photo, t, face="largest")
            if not seen:
                continue
            goal, carried, r = seen[-1]
            left, right = ends_inside(r, goal)
            eye = float(np.linalg.norm(goal[36] - goal[45]))
            rows[carried].append((left, right, eye))
            if a.v:
                print(f"  {i} {t:>9} {'carried' if carried else 'own':>7}: inside L/R {left:+.1f} {right:+.1f} px "
                      f"({left / eye:+.3f} {right / eye:+.3f} eye distances)", flush=True)
        print(f"\n| {t} (faces) | end most inside, median px (eye d.) | ends over 3 px inside | largest px "
              "| centre off, median px | largest |")
        print("|---|---|---|---|---|---|")
        for carried, v in rows.items():
            if not v:
                continue
            x = np.array(v)
            worst, off = x[:, :2].max(1), np.abs(x[:, 0] - x[:, 1]) / 2
            print(f"| {'carried' if carried else 'own'} ({len(x)}) | {np.median(worst):+.1f} "
                  f"({np.median(worst / x[:, 2]):+.3f}) | {int((x[:, :2] > 3).sum())} | {worst.max():+.1f} "
                  f"| {np.median(off):.1f} | {off.max():.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
