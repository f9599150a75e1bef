"""How bright a smile's teeth are drawn against the person's own: the teeth luma of a held-out
London face's happy edit (from its neutral photo) next to that of the same person's real smiling
photo, both over the lips' luma round the opening and over the cheeks'.

    OMP_NUM_THREADS=1 python bench/bench_teeth_luma.py [--models stage,reggan,...] [--ids 008,014,...]
        [--data ../shared/data] [--target happy]

The measure (:func:`teeth_stats`), the same on both photos: Face Mesh's inner-lip loop
(:func:`bench_mouth_luma.opening_mask`, eroded by 2 % of its corner distance); the teeth's luma
is the opening's 75th-percentile BT.601 luma (as the mouth bank's ``teeth_luma``), the lips' is
the median of the ring 2-7 % of the corner distance outside the loop
(:func:`faceedit.stage.mouth.ring_stats`), the cheeks' as in :func:`bench_mouth_luma.cheek_mask`.
A real smile whose teeth luma is under 1.15 times its lips' shows no teeth (the bank's own rule)
and is left out of the comparison. Printed per face, then per model the median and worst
(largest) edit-over-real ratio of teeth over lips, and of the teeth's luma itself (the London
neutral and smiling photos share a studio and its exposure).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mouth_luma import cheek_mask, largest, luma, opening_mask  # noqa: E402

from faceedit.stage.cut_curves import resample_by_length  # noqa: E402
from faceedit.stage.lips import MESH_INNER_LOWER, MESH_INNER_UPPER  # noqa: E402
from faceedit.stage.mouth import ring_stats  # noqa: E402

LUMA = np.array([0.299, 0.587, 0.114])


def teeth_stats(img: np.ndarray, face) -> tuple[float, float, float, float] | None:
    """(teeth luma, lips' luma, cheeks' luma, teeth yellowness) of a detected face, or None:
    lumas in [0, 1]; the yellowness is 1 - blue / luma of the median colour of the opening's
    brightest quarter (the teeth)."""
    if face is None or face.dense is None:
        return None
    inside, _ = opening_mask(img.shape, face.dense)
    if inside.sum() < 30:
        return None
    y = luma(img) / 255.0
    d = np.asarray(face.dense, np.float64)[:, :2]
    up, lo = (resample_by_length(d[k], 41) for k in (MESH_INNER_UPPER, MESH_INNER_LOWER))
    rings = ring_stats(img, up, lo)
    t75 = float(np.percentile(y[inside], 75))
    teeth = np.median(img[..., :3][inside & (y >= t75)].astype(np.float64) / 255.0, 0)
    return (t75, float(rings["lip"] @ LUMA), float(np.median(y[cheek_mask(img.shape, face.landmarks)])),
            1.0 - float(teeth[2]) / max(float(teeth @ LUMA), 1e-6))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--models", default="stage")
    ap.add_argument("--ids", default="008,014,019,022,061,083,094,096,097,099,114,126,131,136,137,142,144,173")
    ap.add_argument("--target", default="happy")
    a = ap.parse_args(argv)
    from faceedit.api import Editor
    from faceedit.faces.detectors import get_detector

    det = get_detector("mediapipe")
    ids = [i.strip() for i in a.ids.split(",") if i.strip()]
    real = {}
    for i in ids:
        sm = np.asarray(Image.open(a.data / "london_hd" / "smiling" / f"{i}.jpg").convert("RGB"))
        s = teeth_stats(sm, largest(det, sm))
        real[i] = s if s is not None and s[0] >= 1.15 * s[1] else None
        print(f"  real {i}: " + (f"teeth {s[0]:.3f} = {s[0] / s[1]:.2f} x lips, {s[0] / s[2]:.2f} x cheeks, yellow {s[3]:.3f}"
                                 + ("" if real[i] else " (no teeth shown)") if s else "no opening"), flush=True)
    rows = []
    for name in [m.strip() for m in a.models.split(",") if m.strip()]:
        ed = Editor.from_pretrained(name, device="cpu")
        over, absolute = [], []
        for i in ids:
            img = np.asarray(Image.open(a.data / "london_hd" / "neutral" / f"{i}.jpg").convert("RGB"))
            out = ed.edit(img, a.target, face="largest")
            s = teeth_stats(out, largest(det, out))
            if s is None:
                print(f"  {name:>7} {i}: no opening", flush=True)
                continue
            r = real[i]
            rel = (s[0] / s[1]) / (r[0] / r[1]) if r else float("nan")
            if r:
                over.append(rel)
                absolute.append(s[0] / r[0])
            print(f"  {name:>7} {i}: teeth {s[0]:.3f} = {s[0] / s[1]:.2f} x lips, {s[0] / s[2]:.2f} x cheeks, yellow {s[3]:.3f}"
                  + (f"; over the real smile's: teeth/lips {rel:.2f}, teeth {s[0] / r[0]:.2f}" if r else ""),
                  flush=True)
        cells = [name]
        for v in (np.asarray(over), np.asarray(absolute)):
            cells += [f"{np.median(v):.2f}" if len(v) else "-", f"{v.max():.2f}" if len(v) else "-"]
        rows.append((*cells, str(len(over))))
        del ed
    print("\n| model | edit's teeth/lips over the real smile's, median | worst | teeth luma over the real's, median "
          "| worst | n |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
