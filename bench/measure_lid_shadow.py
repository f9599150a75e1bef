"""The upper lid's shadow on the white of the eye: open eyes in photos against the stage's widened ones (issue 53).

    OMP_NUM_THREADS=1 python bench/measure_lid_shadow.py --london ../shared/data/london_hd --ids train --pairs 20
    OMP_NUM_THREADS=1 python bench/measure_lid_shadow.py --london ../shared/data/london_hd --ids none --photos DIR

Each photo's largest face is read by the stage's own detector (its Face Mesh lid margins, the iris found by
:func:`faceedit.stage.eyes.find_iris`); each edit (``--targets``, strength 1) is read again the same way. In the
middle 0.6 of each eye's length, off the iris (beyond 1.25 of its radius) and inside the mesh's opening, each
pixel's luma over the white's lit part (the 75th percentile of those more than 0.12 eye widths under the upper
margin), by how far under the margin it lies (:data:`BANDS`, eye widths): the median over the eyes of each
band's median. A photo's open eyes are darkest just under the lid (its shadow and lashes) and reach the lit
white by about 0.1 eye widths; a drawn white lit up to the lashes reads flat.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import add_photo_args, photo_paths  # noqa: E402

#: The bands under the upper lid's margin (eye widths, corner to corner).
BANDS = (0.0, 0.02, 0.04, 0.06, 0.08, 0.10, 0.13, 0.17, 0.22)
#: Pixels further under the margin than this (eye widths) are the white's lit part.
LIT_FROM = 0.12


def eye_profiles(rgb: np.ndarray, mesh: np.ndarray) -> list[np.ndarray]:
    """Each eye's band medians (len(BANDS) - 1, NaN where a band holds under 5 pixels) over its lit white."""
    from faceedit.pixels import luma
    from faceedit.stage.eyes import eye_polygon, find_iris, in_polygon

    unit = rgb.astype(np.float32) / 255.0
    out = []
    for k in (0, 1):
        poly = eye_polygon(mesh, k, 0.0)
        width = float(np.linalg.norm(poly[0] - poly[8]))
        found = find_iris(unit, poly)
        if found is None:
            continue
        c, r = found
        x0, y0 = np.maximum(np.floor(poly.min(0)).astype(int), 0)
        x1, y1 = np.ceil(poly.max(0)).astype(int)
        yy, xx = np.mgrid[y0:min(y1 + 1, rgb.shape[0]), x0:min(x1 + 1, rgb.shape[1])]
        pts = np.stack([xx, yy], -1).reshape(-1, 2)
        top = poly[:9][np.argsort(poly[:9, 0])]
        below = (pts[:, 1] - np.interp(pts[:, 0], top[:, 0], top[:, 1])) / width
        along = (pts[:, 0] - poly[0, 0]) / (poly[8, 0] - poly[0, 0])
        white = in_polygon(poly, pts) & (np.linalg.norm(pts - c, axis=1) > 1.25 * r) & (np.abs(along - 0.5) < 0.3)
        lum = luma(unit[pts[:, 1], pts[:, 0]])
        lit = white & (below > LIT_FROM)
        if lit.sum() < 10:
            continue
        ref = float(np.percentile(lum[lit], 75))
        bands = []
        for a, b in zip(BANDS[:-1], BANDS[1:]):
            sel = white & (below >= a) & (below < b)
            bands.append(float(np.median(lum[sel])) / ref if sel.sum() >= 5 else np.nan)
        out.append(np.array(bands))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_photo_args(ap, "surprised,fearful")
    args = ap.parse_args()

    from faceedit.api import Editor
    from faceedit.eval.world import read_rgb
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    paths = photo_paths(args)
    ed = Editor.from_pretrained("stage", device="cpu")
    targets = [t for t in args.targets.split(",") if t]
    rows: dict[str, list[np.ndarray]] = {name: [] for name in ["photo"] + targets}

    def read(rgb: np.ndarray):
        faces = sorted(ed.detector.detect(rgb), key=lambda f: -f.area)
        return faces[0] if faces and faces[0].dense is not None else None

    for p in paths:
        rgb = read_rgb(p)
        face = read(rgb)
        if face is None:
            print(f"{p.name}: no face with a Face Mesh", file=sys.stderr)
            continue
        rows["photo"] += eye_profiles(rgb, np.asarray(face.dense))
        for t in targets:
            out = edit_faces(ed, rgb, [face], EditRequest.of(t, 1.0))
            again = read(out)
            if again is not None:
                rows[t] += eye_profiles(out, np.asarray(again.dense))
    print("bands under the lid (eye widths):", " ".join(f"{a:.2f}-{b:.2f}" for a, b in zip(BANDS[:-1], BANDS[1:])))
    for name, r in rows.items():
        if r:
            med = np.nanmedian(np.array(r), 0)
            print(f"{name:10s} {len(r):3d} eyes: " + " ".join(f"{v:.3f}" for v in med))


if __name__ == "__main__":
    main()
