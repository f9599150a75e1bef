"""FER's happy share of each shareable world photo made happy by the stage: the astronaut and
the held-out London faces' variants of ``bench/bench_world.py`` (its set, ``--shareable-only``),
each edited to happy at strength 1 and read by FER's emotion model on the input's face box
(:class:`bench_independent.FerClassifier`); the share (0..1) where ``bench_world`` prints only
the label, so a change too small to flip a label still shows.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python bench/bench_happy_fer.py --london ../shared/data/london_hd
    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python bench/bench_happy_fer.py --only 008,061 --lower-lids 0.01

``--lower-lids X``: happy's own lower-lid move (68-point 40, 41 and their mirrors,
:data:`faceedit.stage.moves.TARGET_MOVES`, eye distances up) set to X for the run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--london", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--only", default=None, help="photos whose names hold one of these (comma-separated)")
    ap.add_argument("--lower-lids", type=float, default=None, help="happy's lower-lid move for the run")
    a = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_independent import LABELS, FerClassifier
    from bench_world import world_photos

    from faceedit.api import Editor
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest
    from faceedit.stage.moves import TARGET_MOVES

    if a.lower_lids is not None:
        TARGET_MOVES["happy"][40] = TARGET_MOVES["happy"][41] = (0.0, a.lower_lids)
    photos = world_photos(a.london, False, a.only)
    ed = Editor.from_pretrained("stage", device="cpu")
    fer = FerClassifier()
    shares, hits = [], 0
    for p in photos:
        faces = sorted(ed.detector.detect(p.rgb), key=lambda f: -f.area)
        if not faces:
            continue
        out = edit_faces(ed, p.rgb, faces, EditRequest.of("happy", 1.0))
        f = faces[0]
        label = fer.on_box(out, (f.box[0], f.box[1], f.box[2] - f.box[0], f.box[3] - f.box[1]))
        q = fer.net.get_tensor(fer.out["index"])[0].astype(np.float64)
        share = float(q[LABELS.index("happy")] / max(q.sum(), 1e-9))
        shares.append(share)
        hits += label == "happy"
        print(f"{p.name:32s} {label:8s} happy {share:.2f}", flush=True)
    print(f"{len(shares)} faces: FER reads happy {hits}, mean happy share {np.mean(shares):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
