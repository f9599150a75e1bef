"""How smooth the jaw line's planned move is: the largest second difference along the jaw
(68-point 0-16) of a smile made neutral's move (:func:`faceedit.stage.jaw_line.jaw_kink`, eye
distances), against the same person's own smiling-to-neutral move (the neutral photo's points laid
on the smiling one's by a similarity on the nose bridge and eye corners).

    OMP_NUM_THREADS=1 python bench/measure_jaw_kink.py --london ../shared/data/london_hd [--held-out]
        [--weights 0,2,8] [--world group_t1,group_five]

Faces: London HD's training smiles (``--held-out``: the held-out ones), as photographed and
turned by the ``head_yaw`` control (+1 and -1, re-detected), and the world photos named in
``--world`` (local only). Per ``--weights`` value (:data:`faceedit.stage.jaw_line.JAW_SMOOTH`):
the median, 90th percentile and largest kink of the plans, and the largest move of the nose's
wings (31, 35) and the upper lip's middle (50-52) down the face.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import HELD_OUT  # noqa: E402

FRAME_POINTS = (27, 28, 29, 30, 36, 39, 42, 45)


def _similarity(src: np.ndarray, dst: np.ndarray) -> tuple[complex, np.ndarray, np.ndarray]:
    cs, cd = src.mean(0), dst.mean(0)
    zs = (src - cs) @ [1, 1j]
    zd = (dst - cd) @ [1, 1j]
    s = (np.conj(zs) @ zd) / (np.conj(zs) @ zs)
    return s, cs, cd


def _lay(points: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    s, cs, cd = _similarity(src, dst)
    z = s * ((points - cs) @ [1, 1j])
    return np.column_stack([z.real, z.imag]) + cd


def _stats(v: list[float]) -> str:
    a = np.asarray(v)
    return f"median {np.median(a):.3f} p90 {np.percentile(a, 90):.3f} max {a.max():.3f} (n {len(a)})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--london", type=Path, required=True)
    ap.add_argument("--held-out", action="store_true")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--weights", default="0,8")
    ap.add_argument("--world", default="")
    ap.add_argument("--no-turn", action="store_true")
    args = ap.parse_args()

    from faceedit.api import Editor
    from faceedit.faces.landmarks import eye_distance
    from faceedit.models.request import EditRequest
    from faceedit.stage import jaw_line, steps
    from faceedit.stage.moves import face_frame
    from faceedit.stage.records import StageFace

    ed = Editor.from_pretrained("stage", device="cpu")
    request = ed.stage.request(ed.check_request(EditRequest.of("neutral")))
    ids = sorted(p.stem for p in (args.london / "smiling").glob("*.jpg"))
    ids = [i for i in ids if (i in HELD_OUT) == args.held_out and (args.london / "neutral" / f"{i}.jpg").exists()]
    if args.limit:
        ids = ids[:args.limit]

    def largest(rgb):
        faces = ed.detector.detect(rgb)
        return max(faces, key=lambda f: np.ptp(np.asarray(f.landmarks)[:, 0])) if faces else None

    real, real_wings, real_lip, photos = [], [], [], []  # photos: (name, rgb, face)
    own_lip: dict[str, float] = {}  # the upper lip's own move down the face, per London id
    for i in ids:
        sm = cv2.cvtColor(cv2.imread(str(args.london / "smiling" / f"{i}.jpg")), cv2.COLOR_BGR2RGB)
        ne = cv2.cvtColor(cv2.imread(str(args.london / "neutral" / f"{i}.jpg")), cv2.COLOR_BGR2RGB)
        fs, fn = largest(sm), largest(ne)
        if fs is None or fn is None:
            continue
        ls, ln = np.asarray(fs.landmarks, np.float64), np.asarray(fn.landmarks, np.float64)
        laid = _lay(ln, ln[list(FRAME_POINTS)], ls[list(FRAME_POINTS)])
        real.append(jaw_line.jaw_kink(ls, laid))
        n = face_frame(ls)[1]
        rmv = (laid - ls) / eye_distance(ls)
        real_wings.append(float((rmv[[31, 35]] @ n).max()))
        real_lip.append(float((rmv[[50, 51, 52]] @ n).max()))
        own_lip[i] = real_lip[-1]
        photos.append((i, sm, fs))
        if not args.no_turn:
            for sign in (1.0, -1.0):
                out = ed.edit(cv2.cvtColor(sm, cv2.COLOR_RGB2BGR), "keep", face="largest", controls={"head_yaw": sign})
                rgb = cv2.cvtColor(out, cv2.COLOR_BGR2RGB)
                f = largest(rgb)
                if f is not None:
                    photos.append((f"{i}{'+' if sign > 0 else '-'}", rgb, f))
    if args.world:
        from faceedit.eval.world import cache_dir
        for name in args.world.split(","):
            path = cache_dir() / "images" / f"{name}.jpg"
            if path.exists():
                rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
                for k, f in enumerate(ed.detector.detect(rgb)):
                    photos.append((f"{name}#{k}", rgb, f))
    print("real smiling -> neutral moves, jaw kink:", _stats(real))
    print(f"  nose wings down {_stats(real_wings)}; upper lip down {_stats(real_lip)}")
    for w in [float(x) for x in args.weights.split(",")]:
        jaw_line.JAW_SMOOTH = w
        kinks, turned, wings, lip, rows, over = [], [], [], [], [], []
        for name, rgb, f in photos:
            face = steps.planned(ed.stage, StageFace(f.landmarks, f.dense), request, rgb)
            if face is None or face.goal is None:
                continue
            lm, goal = face.landmarks, face.goal
            k = jaw_line.jaw_kink(lm, goal)
            _, n, _ = face_frame(lm)
            mv = (goal - lm) / eye_distance(lm)
            if "#" not in name:  # London's (the world photos' are listed below)
                (turned if name[-1] in "+-" else kinks).append(k)
            wings.append(float((mv[[31, 35]] @ n).max()))
            lip.append(float((mv[[50, 51, 52]] @ n).max()))
            if "#" in name:
                rows.append(f"  {name}: kink {k:.3f} wings down {wings.pop():.3f} upper lip down {lip.pop():.3f}")
            if name in own_lip:
                over.append(lip[-1] - own_lip[name])
        print(f"JAW_SMOOTH {w:g}: as photographed {_stats(kinks) if kinks else '-'}; turned {_stats(turned) if turned else '-'}")
        if wings:
            print(f"  nose wings down {_stats(wings)}; upper lip down {_stats(lip)}")
            if over:
                print(f"  upper lip down past the person's own, as photographed: {_stats(over)}")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
