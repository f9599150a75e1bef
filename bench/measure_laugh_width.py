"""How wide a laugh made neutral leaves the closed mouth, against real mouths at rest (issue 55).

    OMP_NUM_THREADS=1 python bench/measure_laugh_width.py --london ../shared/data/london_hd -o runs/width

Widths are the outer mouth corners' distance (68-point 48 to 54) over the eye distance (the eye
centres', :func:`faceedit.faces.landmarks.eye_distance`); heights the outer lips' from the upper
lip's middle (51) to the lower's (57), the same unit. Each is read by the editor's own detector
(MediaPipe's 68 points, ``det``) and by dlib's frontal detector with its 68-point fit (``dlib``,
``bench_laugh_neutral.Dlib68``, which misses some small faces: ``null``).

Printed as JSON lines:

- ``rest``: London HD's neutral photos of the training ids (not held out, ``--rest`` of them):
  the widths' median, 10th and 90th percentiles, and the smiling photos' width over their own
  neutral's (how far a smile widens a mouth).
- one line per face made neutral by the stage at strength 1: London's smiling photos
  (``--ids``: ``train`` the first ``--pairs`` training ids, ``held`` the held-out ones, or a
  comma-separated list), beside the same person's neutral photo (``own``); and with ``--world``
  every face of the wheels' photos that smiles or laughs (:data:`WORLD`,
  :mod:`faceedit.eval.world`, local cache only). ``in``: the photo, ``goal``: the landmarks the
  plan heads for (the warp's target), ``out``: read again on the edit; ``scale``: the share of
  the move the warp applied.
- a summary: per group the mean of ``out`` over ``own`` (London) and how many edits read
  narrower than London's 10th percentile.

``--set`` changes ``RestTuning`` fields for the run (``field=value,...``); ``--no-rest`` skips the
rest statistics and takes the default run's (dlib, 68 ids: 0.744 / 0.806 / 0.861).

With ``-o``, each face's mouth (outer lips grown by 0.6 eye distances) at 4x nearest, photo |
edit (| own neutral), as ``<name>.png`` (the wheels' pictures: local only, never committed).
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

#: The wheels' photos with smiling or laughing faces.
WORLD = ("group_five", "group_t1", "posed_laugh", "single_smile", "portrait_112")


def width(lm: np.ndarray | None) -> float | None:
    """The outer corners' distance (48 to 54) over the eye distance."""
    from faceedit.faces.landmarks import eye_distance

    if lm is None:
        return None
    return round(float(np.linalg.norm(lm[54] - lm[48]) / eye_distance(lm)), 3)


def height(lm: np.ndarray | None) -> float | None:
    """The outer lips' height at the middle (51 to 57) over the eye distance."""
    from faceedit.faces.landmarks import eye_distance

    if lm is None:
        return None
    return round(float(np.linalg.norm(lm[57] - lm[51]) / eye_distance(lm)), 3)


def nearest(faces: list, lm: np.ndarray):
    """The detected face whose 68 points lie nearest ``lm`` (None where none is within an eye distance)."""
    from faceedit.faces.landmarks import eye_distance

    if not faces:
        return None
    f = min(faces, key=lambda g: float(np.abs(np.asarray(g.landmarks) - lm).mean()))
    return f if float(np.abs(np.asarray(f.landmarks) - lm).mean()) < eye_distance(lm) else None


def sheet(images: list[np.ndarray], lm: np.ndarray, path: Path) -> None:
    """The mouth of each image at 4x nearest, side by side."""
    from faceedit.faces.landmarks import eye_distance

    eye = eye_distance(lm)
    m = lm[48:68]
    x0, y0 = np.maximum(np.floor(m.min(0) - 0.6 * eye), 0).astype(int)
    x1, y1 = np.ceil(m.max(0) + 0.6 * eye).astype(int)
    f = 4 if x1 - x0 < 200 else 2
    crops = [cv2.resize(im[y0:y1, x0:x1], None, fx=f, fy=f, interpolation=cv2.INTER_NEAREST) for im in images]
    h = min(c.shape[0] for c in crops)
    cv2.imwrite(str(path), cv2.cvtColor(np.hstack([c[:h] for c in crops]), cv2.COLOR_RGB2BGR))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--london", type=Path, required=True, help="the London HD folder (neutral/, smiling/)")
    ap.add_argument("--rest", type=int, default=68, help="how many training ids' photos measure the rest")
    ap.add_argument("--ids", default="train", help="train, held or comma-separated London ids to make neutral")
    ap.add_argument("--pairs", type=int, default=16, help="with --ids train: how many")
    ap.add_argument("--world", action="store_true", help="the wheels' smiling and laughing faces too")
    ap.add_argument("-o", "--out", type=Path, default=None)
    ap.add_argument("--set", default=None, help="RestTuning fields for the run, e.g. corner_drop=0.02")
    ap.add_argument("--no-rest", action="store_true", help="skip the rest statistics")
    a = ap.parse_args(argv)
    from bench_laugh_neutral import Dlib68

    import faceedit.stage.steps as steps
    from faceedit.api import Editor
    from faceedit.eval import world
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", device="cpu")
    if a.set:
        import dataclasses

        stage = ed.stage
        assert stage is not None
        fields = {k: float(v) for k, v in (kv.split("=") for kv in a.set.split(","))}
        stage.tuning = dataclasses.replace(stage.tuning, rest=dataclasses.replace(stage.tuning.rest, **fields))
    read = Dlib68()
    if a.out is not None:
        a.out.mkdir(parents=True, exist_ok=True)
    train = sorted(p.stem for p in (a.london / "neutral").glob("*.jpg") if p.stem not in HELD_OUT)
    rest: list[float] = []
    widen: list[float] = []
    for i in train[:0 if a.no_rest else a.rest]:
        n_lm = read(world.read_rgb(a.london / "neutral" / f"{i}.jpg"))
        s_lm = read(world.read_rgb(a.london / "smiling" / f"{i}.jpg"))
        w_n, w_s = width(n_lm), width(s_lm)
        if w_n is not None:
            rest.append(w_n)
            if w_s is not None:
                widen.append(w_s / w_n)
    if rest:
        lo, mid, hi = np.percentile(rest, [10, 50, 90])
        print(json.dumps({"rest": len(rest), "width_p10": round(lo, 3), "width_median": round(mid, 3),
                          "width_p90": round(hi, 3), "width_min": min(rest), "width_max": max(rest),
                          "smile_widens_median": round(float(np.median(widen)), 3),
                          "smile_widens_p10_p90": [round(float(v), 3) for v in np.percentile(widen, [10, 90])]}),
              flush=True)
    else:  # the default run's figures (dlib, the first 68 training ids)
        lo, mid, hi = 0.744, 0.806, 0.861

    goals: list[tuple[np.ndarray, float]] = []
    cut_warp = steps.cut_warp

    def recorded(*args, **kw):
        r = cut_warp(*args, **kw)
        goals.append((np.array(args[2], np.float64), float(r.scale)))
        return r

    steps.cut_warp = recorded
    neutral = EditRequest.of("neutral", 1.0)
    rows: dict[str, list[dict]] = {"london": [], "world": []}

    def one(name: str, rgb: np.ndarray, face, own: np.ndarray | None) -> dict:
        goals.clear()
        out = edit_faces(ed, rgb, [face], neutral)
        lm = np.asarray(face.landmarks, np.float64)
        back = nearest(ed.detector.detect(out), lm)
        b = None if back is None else np.asarray(back.landmarks, np.float64)
        goal = goals[-1][0] if goals else None
        dl_in, dl_out = read(rgb), read(out)
        if dl_in is not None and np.abs(dl_in - lm).mean() > 0.5 * np.linalg.norm(lm[36] - lm[45]):
            dl_in = dl_out = None  # dlib found another face
        row = {"face": name, "scale": [round(s, 3) for _, s in goals],
               "det": {"in": width(lm), "goal": width(goal), "out": width(b)},
               "dlib": {"in": width(dl_in), "out": width(dl_out)},
               "height": {"in": height(lm), "goal": height(goal), "out": height(b), "dlib_out": height(dl_out)}}
        if own is not None:
            own_lm = read(own)
            row["own"] = {"dlib": width(own_lm), "height": height(own_lm)}
        if a.out is not None:
            sheet([rgb, out] + ([own] if own is not None else []), lm, a.out / f"{name}.png")
        print(json.dumps(row), flush=True)
        return row

    ids = train[:a.pairs] if a.ids == "train" else list(HELD_OUT) if a.ids == "held" else a.ids.split(",")
    for i in ids:
        rgb = world.read_rgb(a.london / "smiling" / f"{i}.jpg")
        faces = ed.detector.detect(rgb)
        if faces:
            rows["london"].append(one(f"london_{i}", rgb, faces[0], world.read_rgb(a.london / "neutral" / f"{i}.jpg")))
    if a.world:
        paths = world.fetch()
        for name in WORLD:
            rgb = world.read_rgb(paths[name])
            for k, face in enumerate(sorted(ed.detector.detect(rgb), key=lambda f: -f.area)):
                rows["world"].append(one(f"{name}_{k}", rgb, face, None))
    for group, rs in rows.items():
        if not rs:
            continue
        outs = [r["dlib"]["out"] or r["det"]["out"] for r in rs]
        summary = {"group": group, "faces": len(rs),
                   "narrower_than_p10": int(sum(o is not None and o < lo for o in outs)),
                   "wider_than_p90": int(sum(o is not None and o > hi for o in outs)),
                   "det_out_mean": round(float(np.mean([r["det"]["out"] for r in rs if r["det"]["out"]])), 3),
                   "det_goal_mean": round(float(np.mean([r["det"]["goal"] for r in rs if r["det"]["goal"]])), 3)}
        own = [(r["dlib"]["out"], r["own"]["dlib"]) for r in rs if "own" in r and r["dlib"]["out"] and r["own"]["dlib"]]
        if own:
            summary["dlib_out_over_own"] = round(float(np.mean([o / w for o, w in own])), 3)
            summary["dlib_abs_err_own"] = round(float(np.mean([abs(o - w) for o, w in own])), 3)
            hs = [(r["height"]["dlib_out"], r["own"]["height"]) for r in rs if r["height"]["dlib_out"] and r["own"]["height"]]
            summary["height_out_over_own"] = round(float(np.mean([o / w for o, w in hs])), 3)
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
