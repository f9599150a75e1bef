"""Where a smile made neutral leaves the upper lip, against the person's own neutral (issue 55).

    OMP_NUM_THREADS=1 python bench/measure_upper_lip.py --london ../shared/data/london_hd --ids train --pairs 12
    OMP_NUM_THREADS=1 python bench/measure_upper_lip.py --london ../shared/data/london_hd --ids held --world group_t1

Read by dlib's frontal detector and 68-point fit (``bench_laugh_neutral.Dlib68``: independent of
the stage's own points), in eye distances (the eye centres', 36-41 and 42-47) down the face
(across the eye line) from the nose base (33):

- ``outer``: the upper lip's outer line (50-52, their mean), ``inner``: its inner line (61-63),
  ``meet``: where the lips meet (the mean of the inner lines, 61-63 and 65-67);
- on each London smiling photo (``in``), the stage's edit of it to neutral at strength 1 (``out``)
  and the same person's neutral photo (``own``); ``drop`` is out - in (the edit's lowering of the
  line), ``own_drop`` own - in (the person's own), ``err`` out - own;
- ``red``: the lip's red above the line: the median CIE a* (0..255 as OpenCV scales it) of a
  band from ``RED_BAND`` eye distances above the outer upper lip (dlib's 49-53, the middle
  three-fifths of the mouth's width) less the median a* of the skin halfway between that lip and the
  nose base (the philtrum's middle, ``SKIN_BAND``), on the edit (``red_out``) and the person's own
  neutral (``red_own``); a smeared lip colour above the edited line reads higher than the own.

Summaries per group (``train`` / ``held`` London ids, the world faces): the means of ``drop``,
``own_drop``, ``err`` and ``|err|`` per line, and of ``red_out`` and ``red_own``. World faces (``--world``,
the wheels' photos, local cache only: :mod:`faceedit.eval.world`) have no own neutral: their
``drop`` and ``red_out`` only. ``--set`` changes stage tuning fields for the run
(``group.field=value,...``). With ``-o``, each edit as ``<face>.png`` beside ``<face>_in.png``
(local only, never committed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import HELD_OUT, london_ids  # noqa: E402

#: The band the lip's red is read in above the outer upper lip (eye distances: from, to).
RED_BAND = (0.008, 0.03)
#: The skin it is read against: this share of the way from the outer upper lip to the nose base.
SKIN_BAND = (0.4, 0.6)


def frame(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The eye line's direction ``u``, the way down the face ``n`` and the eye distance."""
    left, right = lm[36:42].mean(0), lm[42:48].mean(0)
    ed = float(np.linalg.norm(right - left))
    u = (right - left) / ed
    return u, np.array([-u[1], u[0]]), ed


def lines(lm: np.ndarray | None) -> dict[str, float] | None:
    """The upper lip's outer (50-52) and inner (61-63) lines' and the lips' meeting line's (61-63
    with 65-67) height below the nose base (33)."""
    if lm is None:
        return None
    _, n, ed = frame(lm)
    return {"outer": round(float((lm[50:53].mean(0) - lm[33]) @ n) / ed, 4),
            "inner": round(float((lm[61:64].mean(0) - lm[33]) @ n) / ed, 4),
            "meet": round(float((np.vstack([lm[61:64], lm[65:68]]).mean(0) - lm[33]) @ n) / ed, 4)}


def red_above(rgb: np.ndarray, lm: np.ndarray | None) -> float | None:
    """The median a* of :data:`RED_BAND` above the outer upper lip less the philtrum's
    (:data:`SKIN_BAND`), over the middle three-fifths of the mouth's width."""
    if lm is None:
        return None
    u, n, ed = frame(lm)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    top = lm[48:55]  # the outer upper lip, corner to corner
    x0, y0 = np.floor(top.min(0) - [2, 0.4 * ed]).astype(int)
    x1, y1 = np.ceil(top.max(0) + 2).astype(int)
    x0, y0 = max(x0, 0), max(y0, 0)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    p = np.stack([xx, yy], -1) - lm[51]
    along, down = p @ u, p @ n
    lip_u = (top - lm[51]) @ u
    lip_n = (top - lm[51]) @ n
    order = np.argsort(lip_u)
    line = np.interp(along, lip_u[order], lip_n[order])
    half = 0.3 * float(lip_u.max() - lip_u.min())
    mid = np.abs(along - 0.5 * float(lip_u.max() + lip_u.min())) < half
    above = line - down  # px above the lip's line
    nose = float((lm[33] - lm[51]) @ n)
    band = mid & (above >= RED_BAND[0] * ed) & (above <= RED_BAND[1] * ed)
    skin = (np.abs(along) < 0.06 * ed) & (down >= line + (nose - line) * SKIN_BAND[1]) \
        & (down <= line + (nose - line) * SKIN_BAND[0])
    a = lab[y0:y1, x0:x1, 1].astype(np.float64)
    if band.sum() < 4 or skin.sum() < 4:
        return None
    return round(float(np.median(a[band]) - np.median(a[skin])), 2)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--london", type=Path, required=True, help="the London HD folder (neutral/, smiling/)")
    ap.add_argument("--ids", default="train", help="train, held, none or comma-separated London ids")
    ap.add_argument("--pairs", type=int, default=12, help="with --ids train: how many (the first ones)")
    ap.add_argument("--skip", type=int, default=0, help="with --ids train: start after this many")
    ap.add_argument("--world", default="", help="comma-separated world photos (e.g. group_t1)")
    ap.add_argument("--set", default=None, help="stage tuning fields for the run, e.g. mouth.seam_width=0.03")
    ap.add_argument("-o", "--out", type=Path, default=None)
    a = ap.parse_args(argv)
    from bench_laugh_neutral import Dlib68, with_tuning

    from faceedit.api import Editor
    from faceedit.eval import world
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", device="cpu")
    if a.set:
        with_tuning(ed, a.set)
    read = Dlib68()
    if a.out is not None:
        a.out.mkdir(parents=True, exist_ok=True)
    neutral = EditRequest.of("neutral", 1.0)
    rows: dict[str, list[dict]] = {}

    def one(group: str, name: str, rgb: np.ndarray, face, own: np.ndarray | None) -> None:
        out = edit_faces(ed, rgb, [face], neutral)
        lm = np.asarray(face.landmarks, np.float64)
        crop = None
        if own is None:  # a face of a group photo: dlib on its own surroundings
            x0, y0 = np.maximum(lm.min(0) - 0.6 * (lm.max(0) - lm.min(0)), 0).astype(int)
            x1, y1 = (lm.max(0) + 0.6 * (lm.max(0) - lm.min(0))).astype(int)
            crop = (slice(y0, y1), slice(x0, x1))
            off = np.array([x0, y0], np.float64)
            d_in, d_out = read(np.ascontiguousarray(rgb[crop])), read(np.ascontiguousarray(out[crop]))
            d_in = None if d_in is None else d_in + off
            d_out = None if d_out is None else d_out + off
        else:
            d_in, d_out = read(rgb), read(out)
        if d_in is not None and np.abs(d_in - lm).mean() > 0.5 * np.linalg.norm(lm[36] - lm[45]):
            d_in = d_out = None  # dlib found another face
        row: dict = {"face": name, "in": lines(d_in), "out": lines(d_out), "red_out": red_above(out, d_out)}
        if own is not None:
            d_own = read(own)
            row["own"] = lines(d_own)
            row["red_own"] = red_above(own, d_own)
        for k in ("outer", "inner", "meet"):
            if row["in"] and row["out"]:
                row.setdefault("drop", {})[k] = round(row["out"][k] - row["in"][k], 4)
            if row["in"] and row.get("own"):
                row.setdefault("own_drop", {})[k] = round(row["own"][k] - row["in"][k], 4)
            if row["out"] and row.get("own"):
                row.setdefault("err", {})[k] = round(row["out"][k] - row["own"][k], 4)
        if a.out is not None:
            cv2.imwrite(str(a.out / f"{name}.png"), cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
            cv2.imwrite(str(a.out / f"{name}_in.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            if d_out is not None:
                np.save(a.out / f"{name}_dlib.npy", d_out)
        print(json.dumps(row), flush=True)
        rows.setdefault(group, []).append(row)

    ids = london_ids(a.london, a.ids, a.pairs, a.skip)
    for i in ids:
        rgb = world.read_rgb(a.london / "smiling" / f"{i}.jpg")
        faces = ed.detector.detect(rgb)
        if faces:
            group = "held" if i in HELD_OUT else "train"
            one(group, f"london_{i}", rgb, faces[0], world.read_rgb(a.london / "neutral" / f"{i}.jpg"))
    if a.world:
        paths = world.fetch()
        for name in a.world.split(","):
            rgb = world.read_rgb(paths[name])
            for k, face in enumerate(sorted(ed.detector.detect(rgb), key=lambda f: -f.area)):
                one("world", f"{name}_{k}", rgb, face, None)
    for group, rs in rows.items():
        summary: dict = {"group": group, "faces": len(rs)}
        for key in ("drop", "own_drop", "err"):
            for line in ("outer", "inner", "meet"):
                vals = [r[key][line] for r in rs if key in r and line in r[key]]
                if vals:
                    summary[f"{key}_{line}"] = round(float(np.mean(vals)), 4)
                    if key == "err":
                        summary[f"abs_err_{line}"] = round(float(np.mean(np.abs(vals))), 4)
        for key in ("red_out", "red_own"):
            vals = [r[key] for r in rs if r.get(key) is not None]
            if vals:
                summary[key] = round(float(np.mean(vals)), 2)
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
