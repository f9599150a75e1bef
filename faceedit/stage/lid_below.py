"""The raised lower lid under a closed one: a smooth bulge of skin, not the smile's folds.

:func:`faceedit.stage.lids.close_lids` raises the lower lid and the skin below it to meet the
closed upper lid, carrying what lies under the eye up with it. On a smiling eye that skin is
folded: the lower lid's pale bulge and the smile's under-eye wrinkle under it, carried up, run
a few pixels under the lash line, and the closed eye reads as an almond between the lash line
and that wrinkle (dlib's 68 points put the eye's lower points on it). A real closed eye's lower
lid, pushed up under the lash line, is a smooth bulge of skin, its crease lower down.
:func:`smooth_below` levels the band from ``below_from`` eye heights under where the lids meet
down to ``below_smooth`` to the skin's light carried smoothly over it from the band's edges
(:func:`faceedit.stage.membrane.membrane_fill`), ``below_lift`` of the way at its top, fading
out to its foot and at the eye's corners. The skin's grain is added after it
(:func:`faceedit.stage.lids.close_lids` adds the photo's grain over the drawn lid), so the band
keeps its texture. Chosen on the 68 training smiles (``bench/bench_blink.py --kinds smiling
--edits blink=1``: whole-face dlib 61 -> 63 of 68 under 0.5, eye by eye 58 and 58, at
``below_lift`` 0.5; 65 and 59 at 1.0, but the closed lid then reads lighter than the skin
around it, 1.03 on held-out 014, above real blinks' 0.87-1.01; a band from 0.1 or 0.3, or down
to 1.0 or 2.0, passes fewer at 1.0).
"""

from __future__ import annotations

import numpy as np

from faceedit.stage.membrane import membrane_fill
from faceedit.stage.tuning_lids import LidsTuning


def smooth_below(new: np.ndarray, X: np.ndarray, Y: np.ndarray, E: np.ndarray, Lp: np.ndarray,
                 ends: tuple[float, float], tall: float, a: float, tn: LidsTuning) -> np.ndarray:
    """``new`` ((h, w[, C]) float32, the lid drawn in the eye's frame at ``X``, ``Y``) with the
    raised lower lid under the closed one levelled (see the module notes): ``E`` the upper
    lid's edge and ``Lp`` the lower lid's, per pixel; ``ends`` the eye's corners along ``X``;
    ``tall`` its tallest opening (px); ``a`` its closure. ``new`` itself where nothing is
    levelled."""
    if tn.below_lift <= 0 or tn.below_smooth <= tn.below_from or a <= 0:
        return new
    xa, xb = ends
    meet = np.maximum(E, Lp)
    top, foot = meet + tn.below_from * tall, meet + tn.below_smooth * tall
    band = (X > xa) & (X < xb) & (Y >= top) & (Y < foot)
    if band.sum() < 4:
        return new
    smooth = membrane_fill(new, (~band).astype(np.float32))
    depth = np.clip((Y - top) / np.maximum(foot - top, 1e-6), 0.0, 1.0)
    v = np.clip(np.minimum(X - xa, xb - X) / max(tn.corner_out * (xb - xa), 1e-6), 0.0, 1.0)
    f = (a * tn.below_lift * v * v * (3 - 2 * v) * (1 - depth) ** 2 * band).astype(np.float32)
    f = f[..., None] if new.ndim == 3 else f
    return (new * (1 - f) + smooth * f).astype(np.float32)
