"""What the move verdict (faceedit.stage.hold) costs beside the edit, on a photo and a clip.

    OMP_NUM_THREADS=1 python bench/bench_verdict.py photos [--photos 24] [--rounds 5]
    OMP_NUM_THREADS=1 python bench/bench_verdict.py video [CLIP] [--repeat 2]

``photos``: the first ``--photos`` London photos of 512 px (bench_apply.make_photos, as
bench_speed makes them), detected and aligned once; then, ``--rounds`` times, each photo's
verdict and stage as apply's engine runs them (``flow.planned_moves``, then ``flow.stage_faces``)
with the verdict's plans passed on and without them (the edit planning each move again), the
two in turn per photo (the order alternating); thread CPU-ms a photo of each and their
difference per round. ``video``: ``edit_video`` on CLIP (default the GRID clip bbaf2n.mpg;
reggan happy, its defaults), the thread CPU-ms a frame of its steps (wrappers on the
functions the run calls: the tracker, the held expression, the verdict with the key frames'
motions, the key frames' edits, the carried frames', the steadying) and the process's over
all threads. Where a function is not there (an older tree, run from its own folder for an
A/B), its line is left out.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
from bench_apply import make_photos  # noqa: E402


def photos(args) -> None:
    from PIL import Image

    from faceedit import flow
    from faceedit.api import Editor
    from faceedit.models.request import EditRequest

    editor = Editor.from_pretrained(args.model)
    request = editor.check_request(EditRequest.of(args.target, 1.0))
    with tempfile.TemporaryDirectory() as tmp:
        make_photos(Path(tmp), args.photos, 512, ROOT.parent / "shared/data/london/neutral")
        shots = []
        for p in sorted(Path(tmp).iterdir()):
            im = np.asarray(Image.open(p).convert("RGB"))
            shots.append((im, flow.align_faces(editor, im, editor.detector.detect(im))))

    def one(im, aligned, passed: bool) -> np.ndarray:
        plans, whys = flow.planned_moves(editor, im, [a.face for a in aligned], request)
        held = [i for i, why in enumerate(whys) if why is None]
        given = [plans[i] for i in held] if passed and plans is not None else None
        return flow.stage_faces(editor, im, [aligned[i] for i in held], request, plans=given).pixels

    spent: dict[bool, list[float]] = {True: [], False: []}
    for r in range(args.rounds):
        total = {True: 0.0, False: 0.0}
        for k, (im, aligned) in enumerate(shots):
            outs = {}
            for passed in (True, False) if (k + r) % 2 == 0 else (False, True):
                t = time.thread_time()
                outs[passed] = one(im, aligned, passed)
                total[passed] += time.thread_time() - t
            assert np.array_equal(outs[True], outs[False]), "a plan passed on changed the edit"
        for passed in (True, False):
            spent[passed].append(total[passed] / len(shots) * 1000)
    for passed, name in ((True, "plans passed on"), (False, "planned again")):
        print(f"{name:16s} {' '.join(f'{v:.1f}' for v in spent[passed])} CPU-ms a photo "
              f"(median {np.median(spent[passed]):.1f})")
    print(f"{'difference':16s} {' '.join(f'{b - a:.2f}' for a, b in zip(spent[True], spent[False]))}")


def video(args) -> None:
    from faceedit.api import Editor
    from faceedit.models.request import EditRequest
    from faceedit.video import edit as video_edit
    from faceedit.video import frame_edit, reuse, track
    from faceedit.video.runner import VideoSettings, default_tracker, edit_video

    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)

    def wrap(owner, name: str, label: str) -> None:
        f = getattr(owner, name, None)
        if f is None:  # an older tree (the A/B against main): not there
            return

        def timed(*a, **k):
            t = time.thread_time()
            try:
                return f(*a, **k)
            finally:
                spent[label] += time.thread_time() - t
                calls[label] += 1

        setattr(owner, name, timed)

    wrap(track.FaceTracker, "__call__", "track")
    wrap(video_edit.ExpressionHold, "reference", "hold the expression")
    wrap(frame_edit, "moves_held", "verdict and motions")
    wrap(frame_edit, "judged", "  of it: judge (plan the move)")
    wrap(frame_edit, "planned_decline", "  of it: judge (plan the move)")
    wrap(reuse.KeyFrames, "motions", "  of it: the faces' motions")
    wrap(reuse.KeyFrames, "plan", "choose the key frames")
    wrap(frame_edit, "key_edit", "key frames: edit in full")
    wrap(frame_edit, "reused_edit", "carried frames")
    wrap(frame_edit, "steady_parts", "steady the mouth and eyes")
    editor = Editor.from_pretrained(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            spent.clear()
            calls.clear()
            c0 = time.process_time()
            r = edit_video(editor, str(args.clip), str(Path(tmp) / "out.mp4"), EditRequest.of(args.target, 1.0),
                           VideoSettings(), progress=False, tracker=default_tracker(editor))
            n = r.frames
            print(f"{Path(args.clip).name}: {n} frames, {r.keys} key frames, "
                  f"{(time.process_time() - c0) / n * 1000:.1f} CPU-ms a frame over all threads")
            for label, sec in spent.items():
                print(f"  {label:32s} {sec / n * 1000:6.2f}  ({calls[label]} calls)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    p = sub.add_parser("photos")
    p.add_argument("--photos", type=int, default=24)
    p.add_argument("--rounds", type=int, default=5)
    v = sub.add_parser("video")
    v.add_argument("clip", nargs="?", type=Path, default=ROOT.parent / "shared/data/grid/bbaf2n.mpg")
    v.add_argument("--repeat", type=int, default=2)
    for s in (p, v):
        s.add_argument("--model", default="reggan")
        s.add_argument("--target", default="happy")
    args = ap.parse_args()
    photos(args) if args.what == "photos" else video(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
