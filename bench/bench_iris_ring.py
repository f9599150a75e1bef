"""The white round an opened eye's kept iris read again on the edit: a drawn ring round it.

    OMP_NUM_THREADS=1 python bench/bench_iris_ring.py [--data ../shared/data/london_hd]
        [--ids 008,061,...] [--kinds neutral,smiling] [--targets surprised,fearful]

For each held-out London face at 1350 px (``../shared/data/london_hd/{neutral,smiling}/NNN.jpg``)
each target is made by the stage alone (:class:`faceedit.api.Editor`) and the edit read again
by MediaPipe's Face Mesh: each eye's iris found on the edit (:func:`faceedit.stage.eyes.find_iris`,
centre ``c``, radius ``r``), and on its left and right arcs (within 35 degrees of the eye line,
the lids lie over the rest) the white's luma just outside the iris (1.1-1.3 ``r``) over the
white's further out (1.4-1.8 ``r``; both over pixels at least 0.6 of the outer band's 90th
percentile: the white, not a lash or the lid), and the fine detail there (mean absolute luma
less its blur of 1.5 px, on pixels at least 0.85 of the outer band's median: the white, not
the iris's edge rising into it) near over far; and on the same arcs the iris's rim (0.88-1.0 ``r``)
over its body (0.6-0.8 ``r``), median lumas: a photo's dark limbal ring reads under 1, a kept
iris whose edge was lightened from within (a pale ring round a smaller iris) over it. A grey ring
drawn round the iris reads a luma ratio under 1 and a smooth one a detail ratio under 1; the
photo's own open eyes read the same way are printed first (``photo``). The last lines give per
target the median, lowest and highest.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from faceedit.api import Editor
from faceedit.faces.detectors import get_detector
from faceedit.pixels import luma
from faceedit.stage.eyes import eye_polygon, find_iris
from faceedit.stage.tuning import EyesTuning

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import HELD_OUT_CSV  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LONDON = ROOT.parent / "shared" / "data" / "london_hd"


def ring(rgb: np.ndarray, mesh: np.ndarray) -> list[tuple[float, float, float]]:
    """Per eye whose iris is found (image left first): (near over far luma, near over far detail,
    rim over body luma)."""
    lum = luma(rgb.astype(np.float32) / 255)
    detail = np.abs(lum - cv2.GaussianBlur(lum, (0, 0), 1.5))
    out = []
    for k in (0, 1):
        poly = eye_polygon(mesh, k, EyesTuning().lower_lid_raise)
        width = float(np.linalg.norm(poly[0] - poly[8]))
        x0, y0 = np.maximum(np.floor(poly.min(0) - width).astype(int), 0)
        x1, y1 = np.ceil(poly.max(0) + width).astype(int)
        found = find_iris(rgb[y0:y1, x0:x1].astype(np.float32) / 255, poly - [x0, y0])
        if found is None:
            continue
        c, r = found[0] + [x0, y0], found[1]
        yy, xx = np.mgrid[y0:y0 + lum[y0:y1, x0:x1].shape[0], x0:x0 + lum[y0:y1, x0:x1].shape[1]]
        dx, dy = xx - c[0], yy - c[1]
        dist = np.hypot(dx, dy)
        arc = np.abs(dy) < np.tan(np.radians(35)) * np.abs(dx)
        here, fine = lum[y0:y1, x0:x1], detail[y0:y1, x0:x1]
        far = arc & (dist > 1.4 * r) & (dist < 1.8 * r)
        if far.sum() < 10:
            continue
        white = here > 0.6 * np.percentile(here[far], 90)
        near, far = arc & (dist > 1.1 * r) & (dist < 1.3 * r) & white, far & white
        if near.sum() < 10 or far.sum() < 10:
            continue
        # the grain on the white itself (not the iris's edge rising into it)
        light = here > 0.85 * np.median(here[far])
        if (near & light).sum() < 10 or (far & light).sum() < 10:
            continue
        rim, body = arc & (dist > 0.88 * r) & (dist < r), arc & (dist > 0.6 * r) & (dist < 0.8 * r)
        out.append((float(np.median(here[near]) / np.median(here[far])),
                    float(fine[near & light].mean() / max(float(fine[far & light].mean()), 1e-6)),
                    float(np.median(here[rim]) / max(float(np.median(here[body])), 1e-6))))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=LONDON)
    ap.add_argument("--ids", default=HELD_OUT_CSV)
    ap.add_argument("--kinds", default="neutral,smiling")
    ap.add_argument("--targets", default="surprised,fearful")
    args = ap.parse_args()
    editor = Editor.from_pretrained("stage", detector="mediapipe")
    det = get_detector("mediapipe")
    reads: dict[str, list[tuple[float, float, float]]] = {}
    for kind in args.kinds.split(","):
        for i in args.ids.split(","):
            bgr = cv2.imread(str(args.data / kind / f"{i}.jpg"))
            if bgr is None:
                continue
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            line = []
            for name, img in [("photo", rgb)] + [(t, editor.edit(rgb, t, face="largest"))
                                                 for t in args.targets.split(",")]:
                found = det.detect(img)
                face = max(found, key=lambda f: f.area) if found else None
                if face is None or face.dense is None:
                    line.append(f"{name} -")
                    continue
                got = ring(img, np.asarray(face.dense)[:468, :2])
                reads.setdefault(name, []).extend(got)
                line.append(f"{name} " + " ".join(f"{a:.3f}/{b:.2f}/{c:.2f}" for a, b, c in got))
            print(f"{kind}/{i}: " + " | ".join(line), flush=True)
    for name, got in reads.items():
        v = np.array(got)
        print(f"{name}: white near/far luma median {np.median(v[:, 0]):.3f} (lowest {v[:, 0].min():.3f}, highest "
              f"{v[:, 0].max():.3f}); detail near/far median {np.median(v[:, 1]):.2f} (lowest {v[:, 1].min():.2f}); "
              f"rim/body median {np.median(v[:, 2]):.3f} (p90 {np.percentile(v[:, 2], 90):.3f}); {len(v)} eyes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
