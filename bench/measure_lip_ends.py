"""How far a new mouth opening runs under skin past the upper lip's ends (issue 53's dark
"spur" past a smile's corners made surprised), read on the warp's output before the mouth is
painted, on London HD faces at 1350 px.

    OMP_NUM_THREADS=1 python bench/measure_lip_ends.py [--data ../shared/data] [--ids 022,061,...]
        [--targets surprised,fearful] [--smiling]

The stage's warp step (:func:`faceedit.stage.steps.warp`) is wrapped to keep its result: the
new opening's upper curve (``CutWarpResult.upper``) on the warped photo. Along it, a band
above (1-4 % of the corner-to-corner width deep) is read for redness (CIE a*); ``LEVEL`` of the
way from the cheeks' (beside the moved points 48 and 54) to the lip's (the band's median over
the curve's middle 40 %) is lip. ``skin``: from each corner, the arc (px) before the first lip
sample, the longer end per face (a real open mouth's upper lip reaches its corners: 0 up to a
sample's spacing, ~4 px at 1350 px). Printed per face, then the medians per target.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

#: The share of the way from the cheeks' redness to the lip's from which the band is lip.
LEVEL = 0.5


def skin_ends(pixels: np.ndarray, upper: np.ndarray, lm: np.ndarray) -> tuple[float, float]:
    """(first, last): the arc (px) of ``upper`` from each corner before its band above is lip."""
    up = np.asarray(upper, np.float64)
    lm = np.asarray(lm, np.float64)
    chord = float(np.linalg.norm(up[-1] - up[0]))
    a = cv2.cvtColor(np.ascontiguousarray(pixels[..., :3]), cv2.COLOR_RGB2LAB)[..., 1].astype(np.float32)
    t = np.gradient(up, axis=0)
    t /= np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-9)
    n = np.stack([t[:, 1], -t[:, 0]], 1)
    eyes = (lm[36:42].mean(0) + lm[42:48].mean(0)) / 2
    n *= np.sign(float((n @ (eyes - lm[8])).mean())) or 1.0
    pts = up[None] + (np.linspace(0.01, 0.04, 4) * chord)[:, None, None] * n[None]
    r = cv2.remap(a, pts[..., 0].astype(np.float32), pts[..., 1].astype(np.float32), cv2.INTER_LINEAR).mean(0)
    s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(up, axis=0), axis=1))]
    u = s / s[-1]
    lip = float(np.median(r[(u >= 0.3) & (u <= 0.7)]))
    side = lm[54] - lm[48]
    cheek = []
    for p in (lm[48] - 0.12 * side, lm[54] + 0.12 * side):
        x, y = int(round(p[0])), int(round(p[1]))
        cheek.append(a[y - 3:y + 4, x - 3:x + 4].ravel())
    skin = float(np.median(np.concatenate(cheek)))
    if lip - skin < 2.0:
        return float("nan"), float("nan")
    is_lip = (r - skin) / (lip - skin) >= LEVEL
    first = s[int(np.argmax(is_lip))]
    last = s[-1] - s[len(s) - 1 - int(np.argmax(is_lip[::-1]))]
    return float(first), float(last)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--ids", default="008,014,019,022,061,083,094,096,097,099,114,126,131,136,137,142,144,173")
    ap.add_argument("--targets", default="surprised,fearful")
    ap.add_argument("--smiling", action="store_true")
    a = ap.parse_args(argv)
    import faceedit.stage.steps as steps
    from faceedit.api import Editor

    kept: list = []
    plain = steps.warp

    def warp(stage, face, pixels):
        out = plain(stage, face, pixels)
        kept.append(face.warped)
        return out

    steps.warp = warp
    ed = Editor.from_pretrained("stage", device="cpu")
    folder = "smiling" if a.smiling else "neutral"
    rows: dict[str, list[float]] = {}
    for i in [s.strip() for s in a.ids.split(",") if s.strip()]:
        img = np.asarray(Image.open(a.data / "london_hd" / folder / f"{i}.jpg").convert("RGB"))
        for t in [s.strip() for s in a.targets.split(",") if s.strip()]:
            kept.clear()
            ed.edit(img, t, face="largest")
            if not kept:
                continue
            r = kept[-1]
            first, last = skin_ends(r.pixels, r.upper, r.landmarks)
            rows.setdefault(t, []).append(max(first, last))
            print(f"  {i} {folder} {t:>9}: skin over the ends {first:.1f} / {last:.1f} px "
                  f"(width {np.linalg.norm(r.upper[-1] - r.upper[0]):.0f}, scale {r.scale:.2f})", flush=True)
    print(f"\n| {folder} target | skin over the worse end, median (px) | max | ends over 8 px |")
    print("|---|---|---|---|")
    for t, v in rows.items():
        x = np.asarray(v, np.float64)
        x = x[np.isfinite(x)]
        print(f"| {t} (n={len(x)}) | {np.median(x):.1f} | {x.max():.1f} | {np.mean(x > 8):.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
