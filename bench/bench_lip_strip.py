"""How much of the lip's own grain the stage's filled lower-teeth strip carries: a smile's lower
teeth below the cut, hidden when the smile goes (``cut_warp``'s ``hide_lower``), measured on the
filled source the warp samples.

    OMP_NUM_THREADS=1 python bench/bench_lip_strip.py [--data ../shared/data] [--ids 083,097,...] \\
        [--targets surprised,fearful]

For every held-out London id (default the trainers' split) each target is edited from the
smiling photo (``london_hd/smiling/NNN.jpg``) by :class:`faceedit.api.Editor` ("stage"); the
warp's last call is recorded: its ``lips`` lower curve, ``hide_lower`` and the source as the side
fields sample it (the photo with the hidden parts filled). On the middle 60 % of the curves, the
strip is the polygon between the lower curve and ``hide_lower`` eroded by 1 px, and the lip
beside it the band just below ``hide_lower`` (1 px down, as tall as the strip's median height,
at least 3 px and at most 0.6 of the lower lip's thickness below it, to landmark 57). Printed:
the luma high-pass (luma less its Gaussian blur of 1 px) standard deviation in the strip over
the lip's, and the same for the Laplacian's energy; 1 is the lip's own grain, near 0 a smooth
fill. Edits where no strip is found (``hide_lower`` on the cut, or under 10 px) are skipped.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from faceedit.pixels import LUMA_WEIGHTS

LUMA = np.asarray(LUMA_WEIGHTS, np.float32)


def band_mask(shape, top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """The polygon between two curves (left to right), eroded by 1 px."""
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(np.vstack([top, bottom[::-1]]) * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    return cv2.erode(m, np.ones((3, 3), np.uint8)).astype(bool)


def strip_detail(filled: np.ndarray, lower: np.ndarray, hide: np.ndarray, lm: np.ndarray):
    """(high-pass std ratio, Laplacian energy ratio, strip px) of the strip over the lip below,
    or None where no strip is found."""
    y = filled[..., :3].astype(np.float32) @ LUMA
    n = len(hide)
    mid = slice(n // 5, n - n // 5)
    tall = hide[mid, 1] - lower[mid, 1]
    thick = float(lm[57, 1] - hide[n // 2, 1])
    below = hide + np.array([0.0, max(min(float(np.median(tall)), 0.6 * thick), 3.0)])
    strip = band_mask(y.shape, lower[mid], hide[mid])
    lip = band_mask(y.shape, hide[mid] + [0.0, 1.0], below[mid])
    if strip.sum() < 10 or lip.sum() < 10:
        return None
    hp = y - cv2.GaussianBlur(y, (0, 0), 1.0)
    lap = cv2.Laplacian(y, cv2.CV_32F)
    return (float(hp[strip].std() / hp[lip].std()),
            float(np.mean(lap[strip] ** 2) / np.mean(lap[lip] ** 2)), int(strip.sum()))


def edit_strip(editor, rgb: np.ndarray, target: str):
    """:func:`strip_detail` of ``editor``'s edit of ``rgb`` to ``target``, read on the warp's
    last call (its filled source, cut and ``hide_lower``); None where it hides no strip."""
    import faceedit.stage.cutwarp as cutwarp
    import faceedit.stage.steps as steps

    seen: dict = {}
    remap, warp = cutwarp._remap, steps.cut_warp

    def record_remap(src, *args, **kw):  # the first read of the filled source
        if kw.get("window") is not None and "src" not in seen:
            seen["src"] = (src.copy(), kw["window"])
        return remap(src, *args, **kw)

    def record_warp(pixels, src_lm, dst_lm, **kw):
        seen.clear()
        seen.update(kw=kw, lm=np.asarray(src_lm, np.float64))
        return warp(pixels, src_lm, dst_lm, **kw)

    cutwarp._remap, steps.cut_warp = record_remap, record_warp
    try:
        editor.edit(rgb, target)
    finally:
        cutwarp._remap, steps.cut_warp = remap, warp
    kw = seen.get("kw", {})
    if kw.get("hide_lower") is None or kw.get("lips") is None or "src" not in seen:
        return None
    src, (ox, oy) = seen["src"]
    filled = rgb.copy()
    filled[oy:oy + src.shape[0], ox:ox + src.shape[1]] = src
    return strip_detail(filled, np.asarray(kw["lips"][1], np.float64),
                        np.asarray(kw["hide_lower"], np.float64), seen["lm"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--ids", default="", help="London ids (NNN); default the trainers' held-out split")
    ap.add_argument("--targets", default="surprised,fearful")
    a = ap.parse_args(argv)
    from faceedit.api import Editor

    ids = [i.strip() for i in a.ids.split(",") if i.strip()]
    if not ids:  # the trainers' split (seed 0, 20 %), as bench/bench_mouth_luma.py reads it
        from faceedit.data import holdout_subjects

        files = sorted((a.data / "london_hd" / "neutral").glob("*.jpg"))
        ids = sorted(s.split("-")[1] for s in holdout_subjects({f"london-{p.stem}" for p in files}, 0.2, 0))
    ed = Editor.from_pretrained("stage")
    rows = []
    for i in ids:
        rgb = np.asarray(Image.open(a.data / "london_hd" / "smiling" / f"{i}.jpg").convert("RGB"))
        for t in [t.strip() for t in a.targets.split(",") if t.strip()]:
            got = edit_strip(ed, rgb, t)
            if got is None:
                continue
            rows.append(got[:2])
            print(f"{i} {t:10s} strip {got[2]:5d} px  high-pass std strip/lip {got[0]:.2f}  "
                  f"Laplacian energy {got[1]:.2f}", flush=True)
    if rows:
        med = np.median(np.array(rows), 0)
        print(f"median (n={len(rows)}): high-pass std {med[0]:.2f}, Laplacian energy {med[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
