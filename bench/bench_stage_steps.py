"""The stage's edit alone, per step: CPU time a face on one thread, and a hash of the outputs.

    OMP_NUM_THREADS=1 python bench/bench_stage_steps.py --photos 24 --targets happy,surprised,sad
    OMP_NUM_THREADS=1 python bench/bench_stage_steps.py --video 30 --targets surprised,happy

The faces are found once (not timed); then every target edits every photo once as a warm-up
and once timed (``time.process_time``), through :meth:`faceedit.stage.model.Stage.edit_photo`
as ``faceedit apply`` calls it. Photos: ``--photos`` 512-px JPEGs made from
../shared/data/london/neutral as bench_perception.py makes them (the astronaut where that
folder is absent). ``--video N``: N 1280x720 frames of the astronaut under the synthetic camera
motion of bench_video.py (:mod:`faceedit.video.synth`), each detected on its own (the video
runner tracks them instead: the same kind of landmarks).

Printed: CPU-ms a face per target and their mean, per step of
:mod:`faceedit.stage.steps` (plan the move, choose the cuts, warp, fill the mouth, paint the
appearance...), and the SHA-256 of every output in turn: two trees that edit alike print the
same hash (compare code changes that must not change a pixel). On a machine shared with other
work, run the trees compared in alternation.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from faceedit.models.request import EditRequest
from faceedit.stage.records import StageFace

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

STEPS = ("plan_move", "move_gaze", "draw_lids", "choose_cuts", "warp", "fill_mouth", "paint_appearance", "relight", "turn_head")


def time_steps(spent: dict[str, float]) -> None:
    """Wrap every step of :mod:`faceedit.stage.steps` named in STEPS where ``edit_face`` calls it
    (the module's own names), adding its CPU time (``time.process_time``) to ``spent[name]``."""
    import faceedit.stage.steps as steps

    def timer(name: str):
        step = getattr(steps, name)

        def timed(*a):
            t0 = time.process_time()
            out = step(*a)
            spent[name] += time.process_time() - t0
            return out
        return timed

    for name in STEPS:
        setattr(steps, name, timer(name))


def photos(n: int, size: int, source: Path) -> list[np.ndarray]:
    from bench_apply import make_photos
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        make_photos(Path(tmp), n, size, source if source.is_dir() else None)
        return [np.asarray(Image.open(p).convert("RGB")) for p in sorted(Path(tmp).iterdir())]


def frames(n: int) -> list[np.ndarray]:
    from skimage.data import astronaut

    from faceedit.video.synth import camera, render

    photo = astronaut()
    return [render(photo, m, (1280, 720)) for m in camera(n, photo.shape[:2], (1280, 720))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=24)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--source", type=Path, default=HERE.parent.parent / "shared/data/london/neutral")
    ap.add_argument("--video", type=int, default=0, help="N 720p frames instead of photos")
    ap.add_argument("--targets", default="happy,surprised,sad")
    args = ap.parse_args()

    from faceedit.api import Editor

    editor = Editor.from_pretrained("stage")
    stage = editor.stage or editor.loaded.model
    images = frames(args.video) if args.video else photos(args.photos, args.size, args.source)
    faces = []
    for im in images:
        found = editor.detector.detect(im)
        faces.append(([np.asarray(f.landmarks, np.float64) for f in found], [f.dense for f in found]))
    spent: dict[str, float] = defaultdict(float)
    time_steps(spent)
    targets = args.targets.split(",")
    for t in targets:  # warm-up: caches, the mouth bank, the fold statistics
        for im, (lms, dense) in zip(images, faces):
            stage.edit_photo(im, [StageFace(l, d) for l, d in zip(lms, dense)], EditRequest.of(t, 1.0))
    spent.clear()
    digest = hashlib.sha256()
    per_target = {}
    n_faces = sum(len(lms) for lms, _ in faces)
    for t in targets:
        t0 = time.process_time()
        for im, (lms, dense) in zip(images, faces):
            digest.update(stage.edit_photo(im, [StageFace(l, d) for l, d in zip(lms, dense)], EditRequest.of(t, 1.0))[0].tobytes())
        per_target[t] = (time.process_time() - t0) / max(n_faces, 1) * 1000
    what = f"{args.video} frames of 720p" if args.video else f"{len(images)} photos of {args.size} px"
    print(f"{what}, {n_faces} faces; CPU-ms a face (one thread): "
          + ", ".join(f"{t} {v:.1f}" for t, v in per_target.items())
          + f"; mean {np.mean(list(per_target.values())):.1f}")
    edits = max(n_faces, 1) * len(targets)
    print("per step, CPU-ms a face: " + ", ".join(f"{k} {v / edits * 1000:.2f}" for k, v in spent.items() if v > 0))
    print(f"outputs sha256 {digest.hexdigest()}")


if __name__ == "__main__":
    main()
