"""How wide and tall a smile made neutral leaves the mouth at 1350, 128 and 96 px, over the same
person's real neutral photo cut alike (issue 55).

    OMP_NUM_THREADS=1 python bench/measure_neutral_width.py --london ../shared/data/london_hd -o runs/nwidth

Per London id (``--ids``: the training ids below by default, ``held`` the held-out six of
:data:`faceedit.eval.world.LONDON_IDS`) and size (``--sides``: ``0`` the 1350-px photo itself, else the
square :func:`faceedit.eval.world.small_face` cuts, as ``bench_world.py --london`` cuts its
``small{N}`` variants), the smiling photo is made neutral by the stage at strength 1 and its mouth
is read by dlib's 68-point fit on the stage detector's box of the input (:class:`Shape68`), as is
the neutral photo cut the same way. Width: the outer corners' distance (48 to 54); height: the
outer lips' at the middle (51 to 57); both over the eye centres' distance of the same fit.

Printed as JSON lines, per face and size: ``in`` (the smile), ``goal`` (the 68 points the warp
heads for, the detector's frame), ``warp`` (where the warp put them), ``out`` (read on the edit),
``own`` (the real neutral), ``ratio`` = out / own for width and height; at 128 and 96 px also
``full_cut`` (the 1350-px edit cut alike) and ``over_full`` = out / full_cut; the plan's reading
(``smile``: the share of the smile it takes, ``closing``, ``photo_scale``; ``scale``: the warp's
share); then per size the medians and the 10th to 90th percentile of the ratios. The 68 points
the plan and the warp give are those of the pixels edited (a small face's finer copy,
:mod:`faceedit.stage.fine`): their widths, over their own eye distance, read alike. With ``-o``: per face and
size the mouth at 1x and enlarged (4x, or 6x under 40 px between the eyes), smile | edit | own.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: London training smiles (not held out) the bench makes neutral by default.
TRAIN = ("001", "002", "003", "004", "006", "007", "009", "011", "012", "016", "017", "018")


class Shape68:
    """dlib's 68-point fit on a given box (the stage detector's, so small faces are read too)."""

    def __init__(self) -> None:
        import dlib

        from faceedit.faces.detectors.dlib import SHAPE68, dlib_model

        self.dlib = dlib
        self.shape = dlib.shape_predictor(str(dlib_model(SHAPE68)))

    def __call__(self, rgb: np.ndarray, box) -> np.ndarray:
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        g = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
        s = self.shape(g, self.dlib.rectangle(x0, y0, x1, y1))
        return np.array([[p.x, p.y] for p in s.parts()], np.float64)


def measures(lm: np.ndarray | None) -> dict | None:
    """Width (48 to 54) and height (51 to 57) over the eye centres' distance."""
    if lm is None:
        return None
    eye = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    return {"w": round(float(np.linalg.norm(lm[54] - lm[48])) / eye, 3),
            "h": round(float(np.linalg.norm(lm[57] - lm[51])) / eye, 3)}


def crops(images: list[np.ndarray], lm: np.ndarray, path: Path) -> None:
    """The mouth of each image (outer lips grown by 0.6 eye distances) at 1x and enlarged, side by side."""
    eye = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    m = lm[48:68]
    x0, y0 = np.maximum(np.floor(m.min(0) - 0.6 * eye), 0).astype(int)
    x1, y1 = np.ceil(m.max(0) + 0.6 * eye).astype(int)
    f = 1 if eye > 150 else 4 if eye >= 40 else 6
    one = np.hstack([im[y0:y1, x0:x1] for im in images])
    big = cv2.resize(one, None, fx=f, fy=f, interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(str(path.with_name(path.stem + "_1x.png")), cv2.cvtColor(one, cv2.COLOR_RGB2BGR))
    if f > 1:
        cv2.imwrite(str(path.with_name(path.stem + f"_{f}x.png")), cv2.cvtColor(big, cv2.COLOR_RGB2BGR))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--london", type=Path, required=True, help="the London HD folder (neutral/, smiling/, templates/)")
    ap.add_argument("--ids", default=",".join(TRAIN), help="comma-separated London ids, or held")
    ap.add_argument("--sides", default="0,128,96", help="0: the photo itself; N: cut to N px")
    ap.add_argument("-o", "--out", type=Path, default=None)
    a = ap.parse_args(argv)

    import faceedit.stage.steps as steps
    from faceedit.api import Editor
    from faceedit.eval import world
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", device="cpu")
    read = Shape68()
    if a.out is not None:
        a.out.mkdir(parents=True, exist_ok=True)
    plans: list = []
    warps: list = []
    plan_move, cut_warp = steps.plan_move, steps.cut_warp

    def plan_recorded(stage, face):
        plan_move(stage, face)
        plans.append(face)

    def warp_recorded(*args, **kw):
        r = cut_warp(*args, **kw)
        warps.append(r)
        return r

    steps.plan_move, steps.cut_warp = plan_recorded, warp_recorded
    neutral = EditRequest.of("neutral", 1.0)
    ids = list(world.LONDON_IDS) if a.ids == "held" else a.ids.split(",")
    sides = [int(s) for s in a.sides.split(",")]
    ratios: dict[int, dict[str, list[float]]] = {s: {"w": [], "h": [], "over_full_w": [], "over_full_h": []}
                                               for s in sides}

    def cut(rgb: np.ndarray, pupils: np.ndarray, side: int) -> np.ndarray:
        return rgb if side == 0 else world.small_face(rgb, pupils, side)

    for i in ids:
        full_out: np.ndarray | None = None
        smile = world.read_rgb(a.london / "smiling" / f"{i}.jpg")
        rest = world.read_rgb(a.london / "neutral" / f"{i}.jpg")
        pupils = world._pupils(a.london / "templates" / f"{i}.tem")
        for side in sides:
            s_rgb, n_rgb = cut(smile, pupils, side), cut(rest, pupils, side)
            faces, own_faces = ed.detector.detect(s_rgb), ed.detector.detect(n_rgb)
            if not faces or not own_faces:
                print(json.dumps({"face": i, "side": side, "missed": True}), flush=True)
                continue
            face = max(faces, key=lambda f: f.area)
            own_face = max(own_faces, key=lambda f: f.area)
            plans.clear()
            warps.clear()
            out = edit_faces(ed, s_rgb, [face], neutral)
            full_out = out if side == 0 else full_out
            lm_in = read(s_rgb, face.box)
            row = {"face": i, "side": side, "in": measures(lm_in),
                   "goal": measures(plans[-1].goal) if plans else None,
                   "warp": measures(warps[-1].landmarks) if warps else None,
                   "out": measures(read(out, face.box)), "own": measures(read(n_rgb, own_face.box)),
                   "det_in": measures(np.asarray(face.landmarks, np.float64))}
            if side and full_out is not None:  # the 1350-px edit cut alike: what the small edit aims at
                row["full_cut"] = measures(read(cut(full_out, pupils, side), face.box))
            if plans:
                p = plans[-1]
                row.update(smile=round(float(p.smile_taken), 3), closing=round(float(p.closing), 3),
                           photo_scale=round(float(p.photo_scale), 3))
            if warps:
                row["scale"] = round(float(warps[-1].scale), 3)
            if row["out"] and row["own"]:
                for k in ("w", "h"):
                    row[f"ratio_{k}"] = round(row["out"][k] / row["own"][k], 3)
                    ratios[side][k].append(row[f"ratio_{k}"])
                    if row.get("full_cut"):
                        row[f"over_full_{k}"] = round(row["out"][k] / row["full_cut"][k], 3)
                        ratios[side][f"over_full_{k}"].append(row[f"over_full_{k}"])
            print(json.dumps(row), flush=True)
            if a.out is not None:
                crops([s_rgb, out, n_rgb], lm_in, a.out / f"{i}_{side or 'full'}.png")
    for side, rs in ratios.items():
        summary: dict = {"side": side, "faces": len(rs["w"])}
        for k, v in rs.items():
            if v:
                summary[f"{k}_median"] = round(float(np.median(v)), 3)
                summary[f"{k}_p10_p90"] = [round(float(x), 3) for x in np.percentile(v, [10, 90])]
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
