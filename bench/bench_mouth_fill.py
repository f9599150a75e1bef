"""The mouth bank's fill alone: CPU time a call on one thread, on the calls an edit makes.

    OMP_NUM_THREADS=1 python bench/bench_mouth_fill.py --photos 8 --targets happy --repeat 10

Photos as ``bench/bench_stage_steps.py`` makes them (512-px London neutral faces); each is
edited to every target once while :meth:`faceedit.stage.mouth_bank.MouthBank.fill`'s calls are
recorded (their inputs copied), then the recorded calls are run again ``--repeat`` times
(``time.thread_time``). Printed: ms a call for each repeat and their median, and the SHA-256 of
the calls' outputs (two trees that fill alike print the same hash; ``--exact`` runs the
calls under :func:`faceedit.stage.precision.exact_render`). On a shared machine, run the trees
compared in alternation: ``PYTHONPATH`` picks the tree whose ``faceedit`` is timed (its path is
printed).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

import faceedit
from faceedit.models.request import EditRequest
from faceedit.stage import mouth_bank
from faceedit.stage.precision import exact_render
from faceedit.stage.records import StageFace

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=8)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--source", type=Path, default=HERE.parent.parent / "shared/data/london/neutral")
    ap.add_argument("--targets", default="happy")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--exact", action="store_true", help="the exact render's fill")
    args = ap.parse_args()
    sys.path.insert(1, str(HERE))  # after the tree PYTHONPATH names: bench_stage_steps' photos
    from bench_stage_steps import photos

    from faceedit.api import Editor

    print(f"faceedit from {Path(faceedit.__file__).parent}")
    calls = []
    fill = mouth_bank.MouthBank.fill

    def record(self, *a, **k):
        calls.append((copy.deepcopy(a), copy.deepcopy(k)))
        return fill(self, *a, **k)

    editor = Editor.from_pretrained("stage")
    stage = editor.stage or editor.loaded.model
    mouth_bank.MouthBank.fill = record  # type: ignore[method-assign]
    for im in photos(args.photos, args.size, args.source):
        found = editor.detector.detect(im)
        faces = [StageFace(np.asarray(f.landmarks, np.float64), f.dense) for f in found]
        for t in args.targets.split(","):
            stage.edit_photo(im, faces, EditRequest.of(t, 1.0))
    mouth_bank.MouthBank.fill = fill  # type: ignore[method-assign]
    bank = mouth_bank.MouthBank.load()

    def run(a, k):
        return bank.fill(np.array(a[0], copy=True), *a[1:], **k)

    with exact_render() if args.exact else contextlib.nullcontext():
        digest = hashlib.sha256()
        for a, k in calls:  # warm-up, and the outputs
            out, e = run(a, k)
            digest.update(out.tobytes() + str(e).encode())
        spent = []
        for _ in range(args.repeat):
            t0 = time.thread_time()
            for a, k in calls:
                run(a, k)
            spent.append((time.thread_time() - t0) / max(len(calls), 1) * 1000)
    print(f"{len(calls)} fill calls; ms a call (one thread): median {np.median(spent):.2f}; "
          + " ".join(f"{s:.2f}" for s in spent))
    print(f"outputs sha256 {digest.hexdigest()}")


if __name__ == "__main__":
    main()
