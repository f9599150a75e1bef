"""How a real smile moves the cheek's Face Mesh points against what the stage's happy warp moves
them: London HD's training pairs (neutral and smiling photo of one person, one session; the
held-out ids are skipped).

    OMP_NUM_THREADS=1 python bench/measure_cheek_moves.py --london ../shared/data/london_hd
    OMP_NUM_THREADS=1 python bench/measure_cheek_moves.py --edit   # the edit re-read as well

Per person both photos are read at half size (675 px) by the stage's detector (MediaPipe's Face
Mesh). The smiling mesh is put onto the neutral one by a similarity on points a smile leaves
(:data:`STILL`: the nose's bridge, the inner eye corners, the temples), and each point's move is
measured in the neutral face's frame (:func:`faceedit.stage.moves.face_frame`), in its eye
distances: ``in`` towards the face's middle, ``up`` up the face; the image's right side is
mirrored onto its left (each left point's mirror: the point nearest its mirror image about the
face's midline, on the mean neutral face). The stage's warp: where the planned happy goal's
spline (the 68 goal points and the warp's fixed anchors, :func:`warp_move`) carries each
neutral point. ``--edit``: the edit rendered and re-read by the detector, put on the neutral
the same way.

Printed per cheek point of :data:`CHEEK` (left side; means over people and both sides): the
real smile's move, the warp's and the difference (real less warp) with its spread.

On the 68 training pairs (real less warp, eye distances; spread over people about 0.02 for
every point): the rows under the lower lid (228-231, 31; 111, 117-120) rise 0.009-0.018 more
than the warp lifts them and move out up to 0.013; the malar mound's outer points (116, 123,
147) 0.019-0.023 up and 0.011-0.022 out, its inner ones 0.005-0.012 up; over the nasolabial
fold (206, 216, 92, 186, 57) the warp lifts 0.015-0.05 too far (the edit's mouth corner, mesh
61, moves (-0.092, +0.091), a real smile's (-0.059, +0.055)); the lids and eye corners (33,
133, 144-160) about 0.01 up, upper and lower alike (the whole eye region sits higher; the
aperture narrows as much in the warp as in the real smiles, 0.009). Those cheek moves put
into the warp as extra driving points lowered FER's happy share of the shareable set
(``bench/bench_happy_fer.py``: mean 0.681 to 0.657) and were taken out again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import HELD_OUT  # noqa: E402

HALF = 675
#: Face Mesh points a smile leaves where they are: the nose's bridge, the inner eye corners and
#: the temples at the eyes' height.
STILL = [168, 6, 197, 195, 9, 8, 133, 362, 127, 356, 139, 368]
#: The image's left cheek (the person's right), by region: under the lower lid (the
#: infraorbital rows), the malar mound (cheek apple), the nasolabial side, the cheek's contour.
CHEEK = {
    "under lid": [228, 229, 230, 231, 117, 118, 119, 120, 111, 31],
    "malar": [116, 123, 50, 101, 100, 36, 205, 187, 147, 142],
    "nasolabial": [206, 203, 216, 207, 212, 92, 165, 186, 57, 214],
    "contour": [234, 93, 132, 58, 137, 177, 215],
    "lids": [33, 133, 144, 145, 153, 160, 158, 159],
    "elsewhere": [10, 151, 9, 168, 6, 1, 152, 175, 61, 105],
}


def mirror_map(mean: np.ndarray) -> np.ndarray:
    """(468,) each mesh point's mirror image: the point nearest its reflection about the face's
    midline (``mean``: the mean neutral face in its frame, eye distances, ``u`` first; the
    midline through the nose's bridge and tip)."""
    mid = float(mean[[168, 6, 197, 195, 5, 4, 1], 0].mean())
    ref = np.stack([2 * mid - mean[:, 0], mean[:, 1]], 1)
    return np.argmin(((ref[:, None] - mean[None]) ** 2).sum(-1), 1)


def onto(points: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``points`` (468, 2) put onto ``ref`` by a similarity on :data:`STILL`."""
    m, _ = cv2.estimateAffinePartial2D(points[STILL].astype(np.float32), ref[STILL].astype(np.float32))
    return points @ m[:2, :2].T + m[:, 2]


def warp_move(lm: np.ndarray, goal: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Where the warp from 68 points ``lm`` to ``goal`` carries ``pts``: the spline through the
    warp's driving points and anchors, forwards, times the warp's region weight."""
    from faceedit.stage.warp import WARP_POINTS, ThinPlateSpline, region_weight, warp_anchors

    anchors = warp_anchors(lm, goal)
    tps = ThinPlateSpline(np.vstack([lm[WARP_POINTS], anchors]), np.vstack([goal[WARP_POINTS], anchors]), reg=1e-3)
    w = region_weight(lm, pts)[..., None]
    return pts + (tps(pts) - pts) * w


def in_frame(d: np.ndarray, lm68: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """(468, 2) moves ``d`` (photo px) as (inward, up) eye distances of ``lm68``'s frame, each
    left point the mean of its own and its mirror's."""
    from faceedit.stage.moves import face_frame

    u, n, ed = face_frame(lm68)
    a, b = d @ u / ed, -(d @ n) / ed
    # a left point's inward is +u, its mirror's -u
    return np.stack([(a - a[mirror]) / 2, (b + b[mirror]) / 2], 1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--london", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--edit", action="store_true", help="also render the edit and re-read it")
    ap.add_argument("--all", action="store_true", help="print every point below the eyes, not CHEEK's")
    a = ap.parse_args(argv)
    from faceedit.api import Editor
    from faceedit.models.request import EditRequest
    from faceedit.stage.records import StageFace
    from faceedit.stage.steps import planned

    ed = Editor.from_pretrained("stage", allow_download=False)
    stage = ed.stage
    assert stage is not None
    req = stage.request(EditRequest.of("happy", 1.0))

    def half(path: Path) -> np.ndarray:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        return cv2.resize(rgb, (HALF, HALF), interpolation=cv2.INTER_AREA)

    def face_of(rgb: np.ndarray):
        faces = [f for f in ed.detector.detect(rgb) if f.dense is not None and np.shape(f.landmarks) == (68, 2)]
        return max(faces, key=lambda f: f.area) if faces else None

    ids = sorted(p.stem for p in (a.london / "smiling").glob("*.jpg")
                 if (a.london / "neutral" / p.name).is_file() and p.stem not in HELD_OUT)
    if a.limit:
        ids = ids[:a.limit]
    got: dict[str, list[np.ndarray]] = {"real": [], "warp": [], "edit": []}
    neutrals, lms = [], []
    for i in ids:
        neutral, smiling = half(a.london / "neutral" / f"{i}.jpg"), half(a.london / "smiling" / f"{i}.jpg")
        fn, fs = face_of(neutral), face_of(smiling)
        if fn is None or fs is None:
            continue
        mn, ms = np.asarray(fn.dense, np.float64)[:468, :2], np.asarray(fs.dense, np.float64)[:468, :2]
        lm = np.asarray(fn.landmarks, np.float64)
        plan = planned(stage, StageFace.of(fn), req, neutral)
        if plan is None or plan.goal is None:
            continue
        got["real"].append(onto(ms, mn) - mn)
        got["warp"].append(warp_move(lm, np.asarray(plan.goal, np.float64), mn) - mn)
        if a.edit:
            out, _ = stage.edit_photo(neutral, [fn], req)
            fe = face_of(out)
            got["edit"].append(onto(np.asarray(fe.dense, np.float64)[:468, :2], mn) - mn if fe is not None
                               else np.full_like(mn, np.nan))
        neutrals.append(mn)
        lms.append(lm)
        print(f"{i}", end=" ", flush=True)
    print()
    # each person's moves in their own frame, then the mirror of the mean face
    from faceedit.stage.moves import face_frame

    def normal(p: np.ndarray, lm68: np.ndarray) -> np.ndarray:
        u, n, e = face_frame(lm68)
        mid = (lm68[42:48].mean(0) + lm68[36:42].mean(0)) / 2
        return np.stack([(p - mid) @ u, (p - mid) @ n], 1) / e

    mean_face = np.mean([normal(p, lm) for p, lm in zip(neutrals, lms)], 0)
    mirror = mirror_map(mean_face)
    rows = {k: np.array([in_frame(d, lm, mirror) for d, lm in zip(v, lms)]) for k, v in got.items() if v}
    print(f"{len(lms)} people (training); moves (inward, up) in eye distances, means over people, both sides")
    names = CHEEK if not a.all else {"below the eyes": [int(j) for j in np.argsort(mean_face[:, 1])
                                                        if mean_face[j, 0] < -0.25 and 0.1 < mean_face[j, 1] < 1.0]}
    for region, idx in names.items():
        print(f"{region}:")
        for j in idx:
            r, w = np.nanmean(rows["real"][:, j], 0), np.nanmean(rows["warp"][:, j], 0)
            d = rows["real"][:, j] - rows["warp"][:, j]
            sd = np.nanstd(d, 0)
            ex = ""
            if "edit" in rows:
                e = np.nanmean(rows["edit"][:, j], 0)
                ex = f" edit ({e[0]:+.3f},{e[1]:+.3f})"
            print(f"  {j:3d} (mirror {mirror[j]:3d}) at ({mean_face[j, 0]:+.2f},{mean_face[j, 1]:+.2f}): real ({r[0]:+.3f},"
                  f"{r[1]:+.3f}) warp ({w[0]:+.3f},{w[1]:+.3f}){ex} real-warp ({r[0] - w[0]:+.3f}±{sd[0]:.3f},"
                  f"{r[1] - w[1]:+.3f}±{sd[1]:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
