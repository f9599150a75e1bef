"""The shape of real open mouths: the gap between the inner lips across the mouth, and how
much of it lies above the corners' chord, on JAFFE's posed surprise and fear and Yale's
surprised photos (greyscale; statistics only, as the data README allows).

    OMP_NUM_THREADS=1 python bench/measure_open_mouths.py [--data ../shared/data]

Every photo whose Face Mesh inner-lip loop (:data:`faceedit.stage.lips.MESH_INNER_UPPER` /
``MESH_INNER_LOWER``) encloses an opening at least ``--min-aspect`` tall for its corner
distance is measured in the frame of its corners: at :data:`U` positions along the chord, the
upper and the lower curve's distance from it, over the largest gap. Prints the medians (the
gap's profile and the upper share) that :data:`faceedit.stage.cut_curves.OPEN_GAP` and
``OPEN_UPPER`` hold, with the quartiles.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from faceedit.faces.detectors import get_detector
from faceedit.stage.cut_curves import resample_by_length
from faceedit.stage.lips import mesh_lip_curves, opening_aspect

U = np.linspace(0.0, 1.0, 11)


def profile(up: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gap over its largest, upper share of the gap) at :data:`U` along the corners' chord."""
    a = (up[0] + lo[0]) / 2
    b = (up[-1] + lo[-1]) / 2
    d = (b - a) / np.linalg.norm(b - a)
    n = np.array([d[1], -d[0]])  # towards the upper lip (y down)
    if float((up.mean(0) - lo.mean(0)) @ n) < 0:
        n = -n
    w = float(np.linalg.norm(b - a))

    def along(c):
        s, h = (c - a) @ d / w, (c - a) @ n
        o = np.argsort(s)
        return np.interp(U, s[o], h[o])

    hu, hl = along(up), -along(lo)
    gap = np.maximum(hu + hl, 0.0)
    share = np.where(gap > 1e-6, hu / np.maximum(gap, 1e-6), 0.5)
    return gap / max(float(gap.max()), 1e-6), share


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--min-aspect", type=float, default=0.25)
    args = ap.parse_args()
    files = (sorted((args.data / "jaffe").glob("*.SU*.*")) + sorted((args.data / "jaffe").glob("*.FE*.*"))
             + sorted((args.data / "yale").glob("*.surprised*")))
    det = get_detector("mediapipe")
    gaps, shares, aspects = [], [], []
    for p in files:
        g = np.asarray(Image.open(p).convert("L"))
        faces = det.detect(np.repeat(g[..., None], 3, 2))
        if not faces or faces[0].dense is None:
            continue
        up, lo, _, _ = mesh_lip_curves(faces[0].dense)
        up, lo = resample_by_length(up, 33), resample_by_length(lo, 33)
        aspect, _ = opening_aspect(up, lo)
        if aspect < args.min_aspect:
            continue
        gp, sh = profile(up, lo)
        gaps.append(gp)
        shares.append(sh)
        aspects.append(aspect)
    if not gaps:
        raise SystemExit(f"no open mouths in {args.data}/jaffe or yale")
    gaps_a, shares_a = np.array(gaps), np.array(shares)
    print(f"{len(gaps)} open mouths of {len(files)} photos (aspect >= {args.min_aspect}; median aspect "
          f"{np.median(aspects):.2f})")
    print("u        ", " ".join(f"{u:5.2f}" for u in U))
    for name, a in (("gap", gaps_a), ("upper", shares_a)):
        q1, med, q3 = np.percentile(a, [25, 50, 75], axis=0)
        print(f"{name:5s} med ", " ".join(f"{x:5.2f}" for x in med))
        print(f"{name:5s} q1  ", " ".join(f"{x:5.2f}" for x in q1))
        print(f"{name:5s} q3  ", " ".join(f"{x:5.2f}" for x in q3))
    ellipse = np.sqrt(np.clip(1 - (2 * U - 1) ** 2, 0, 1))
    print("ellipse   ", " ".join(f"{x:5.2f}" for x in ellipse))


if __name__ == "__main__":
    main()
