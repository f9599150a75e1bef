"""How far a neutral London face made happy spreads its mouth corners, against the same person's
real smile: Face Mesh's outer (61, 291) and inner (78, 308) lip corners and dlib's 68-point
outer ones (48, 54, fitted in the Face Mesh's box) on the neutral photo, the smiling one and the
edit, the change in their distance from the neutral photo's in the neutral photo's eye
distances, and dlib's descriptor distance between the neutral photo and the edit.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python bench/measure_happy_spread.py --ids 001,002 \\
        [--corner-in 0.02] [--save DIR] [--load DIR]

``--corner-in X`` brings happy's mouth corners (68-point 48, 60 and their mirrors) X eye distances
in along the eye line on top of happy's own moves (:data:`faceedit.stage.moves.TARGET_MOVES`),
the lips' points beside them (49, 59, 61, 67) 0.4 of it, for the run; ``--save`` writes
each edit as DIR/NNN.png (``bench_teeth_truth.py --load DIR`` reads them), ``--load`` reads them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mouth_luma import largest  # noqa: E402
from bench_teeth_truth import happy_edit  # noqa: E402
from bench_world import Identity  # noqa: E402

from faceedit.faces.landmarks import eye_distance  # noqa: E402

CORNERS = {"outer": (61, 291), "inner": (78, 308)}
#: The share of ``--corner-in`` each left lip point of the 68 moves in (its mirror alike).
IN_SHARE = {48: 1.0, 60: 1.0, 49: 0.4, 59: 0.4, 61: 0.4, 67: 0.4}


def widths(face, ident: Identity, rgb: np.ndarray) -> dict[str, float]:
    """The lip corners' distances (pixels): Face Mesh's :data:`CORNERS` and dlib's 68-point
    fit's outer corners (48, 54) on the Face Mesh's box."""
    d = np.asarray(face.dense, np.float64)[:, :2]
    x0, y0, x1, y1 = (int(round(v)) for v in face.box)
    s = ident.shape(rgb, ident.dlib.rectangle(x0, y0, x1, y1))
    corners = [np.array([s.part(i).x, s.part(i).y], np.float64) for i in (48, 54)]
    return {**{k: float(np.linalg.norm(d[a] - d[b])) for k, (a, b) in CORNERS.items()},
            "dlib": float(np.linalg.norm(corners[1] - corners[0]))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--ids", required=True)
    ap.add_argument("--corner-in", type=float, default=0.0)
    ap.add_argument("--save", type=Path, default=None)
    ap.add_argument("--load", type=Path, default=None)
    a = ap.parse_args(argv)
    from faceedit.faces.detectors import get_detector

    det = get_detector("mediapipe")
    ed = None
    if a.load is None:
        from faceedit.api import Editor
        from faceedit.stage import moves

        happy = moves.TARGET_MOVES["happy"]
        for k, share in IN_SHARE.items():
            inward, up = happy.get(k, (0.0, 0.0))
            happy[k] = (inward + a.corner_in * share, up)
        ed = Editor.from_pretrained("stage", device="cpu")
    if a.save:
        a.save.mkdir(parents=True, exist_ok=True)
    ident = Identity()
    rows = []
    for i in [s.strip() for s in a.ids.split(",") if s.strip()]:
        neutral, smiling = (np.asarray(Image.open(a.data / "london_hd" / k / f"{i}.jpg").convert("RGB"))
                            for k in ("neutral", "smiling"))
        out = happy_edit(ed, neutral, i, a.load, a.save)
        fn, fs, fe = (largest(det, x) for x in (neutral, smiling, out))
        if fn is None or fs is None or fe is None or fn.dense is None or fs.dense is None or fe.dense is None:
            print(f"{i} -", flush=True)
            continue
        e = eye_distance(fn.landmarks)
        wn, ws, we = widths(fn, ident, neutral), widths(fs, ident, smiling), widths(fe, ident, out)
        dist = float(np.linalg.norm(ident(neutral, fn.box) - ident(out, fn.box)))
        r = {**{f"real_{k}": (ws[k] - wn[k]) / e for k in wn},
             **{f"edit_{k}": (we[k] - wn[k]) / e for k in wn}, "id": dist}
        rows.append(r)
        print(i, " ".join(f"{k} {v:+.3f}" for k, v in r.items()), flush=True)
    if rows:
        print(f"medians over {len(rows)}: " + " ".join(
            f"{k} {np.median([r[k] for r in rows]):+.3f}" for k in rows[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
