"""How far under its 68 points each brow's hairs reach: the band a raised brow carries whole.

The 68 points' brows (17-26) lie along the brows' upper edges, and a brow's hairs hang below
them: 0.25-0.35 of the eye's width on most of London's brows (median 0.30), up to 0.45 on thick
ones (the web photos' median 0.36). A warp that carries a fixed band under the points with
a raised brow (:func:`faceedit.stage.warp.carried_points`, ``WarpTuning.carried_bands``: 0.25)
drew the rest of a thick brow out with the skin between it and the lashes: made surprised, the
brows stood twice as tall, their lower hairs streaked down towards the lids.

:func:`brow_depths` reads each brow's lower edge from the photo: along the face's down direction
under its three middle points (18-20, 23-25), the luma (across 0.16 of the eye's width) from
``brow_read``'s first share of the eye's width above the point down to the upper lid under it:
the forehead's skin is its median down to the second share above the point, the brow's core the
darkest place from the third share above the point to the fourth below it, and the brow's lower
edge where the luma below the core first rises ``brow_band``'s first share of the way back to
the skin (the forehead's, or the lightest below the core where that is darker: the skin under a
brow lies in the socket's shadow). A point whose edge comes within the second share of the eye's
width of the lid found none (a hooded lid's fold or a socket's shadow meets the brow: the default
band stands). The brow's depth is the median of its points', at least the default band
(``carried_bands``) and at most ``brow_band``'s third share. ``brow_read`` and ``brow_band`` are
fields of :class:`~faceedit.stage.tuning_face.WarpTuning`.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import luma_of
from faceedit.stage.moves import face_frame
from faceedit.stage.tuning_face import WarpTuning

#: Each brow's middle points (the image's left brow, the image's right) and its eye's upper lid,
#: corner to corner.
BROW_MIDDLES = (((18, 19, 20), (36, 37, 38, 39)), ((23, 24, 25), (42, 43, 44, 45)))


def _lid_below(lm: np.ndarray, lid: tuple[int, ...], at: float, up: np.ndarray, across: np.ndarray) -> float:
    """The height (along ``up``) of the upper lid's polyline ``lid`` where it passes ``at`` (along
    ``across``), held at its corners beyond them."""
    xs = lm[list(lid)] @ across
    ys = lm[list(lid)] @ up
    order = np.argsort(xs)
    return float(np.interp(at, xs[order], ys[order]))


def brow_depths(pixels: np.ndarray, lm: np.ndarray, tuning: WarpTuning | None = None) -> np.ndarray:
    """(2,) how far (eye widths) under its 68 points each brow's hairs reach (the image's left
    brow, the image's right): see the module notes. ``pixels``: the photo (H, W[, C]), any dtype;
    ``lm``: its face's 68 points."""
    tn = tuning if tuning is not None else WarpTuning()
    skin_from, skin_to, core_up, core_down = tn.brow_read
    edge, lid_margin, most, _ = tn.brow_band
    least = tn.carried_bands[1]
    lm = np.asarray(lm, np.float64)
    across, down_face, _ = face_frame(lm)
    up = -down_face
    out = []
    for points, lid in BROW_MIDDLES:
        width = float(np.linalg.norm(lm[lid[-1]] - lm[lid[0]]))
        found = []
        for j in points:
            gap = float(lm[j] @ up) - _lid_below(lm, lid, float(lm[j] @ across), up, across)
            if gap <= 2 * lid_margin * width:
                continue
            down = np.linspace(-skin_from * width, gap, 60)  # (down the face from the point)
            beside = np.linspace(-0.08, 0.08, 7) * width
            at = lm[j][None, None] - down[:, None, None] * up + beside[None, :, None] * across
            profile = luma_of(cv2.remap(pixels, at[..., 0].astype(np.float32), at[..., 1].astype(np.float32),
                                        cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)).mean(1)
            profile = np.convolve(np.pad(profile, 1, mode="edge"), np.ones(3) / 3, "valid")
            skin = float(np.median(profile[down <= -skin_to * width]))
            k = int(np.argmin(np.where((down >= -core_up * width) & (down <= core_down * width), profile, np.inf)))
            below = profile[k:]
            e = k + int(np.argmax(below >= profile[k] + edge * (min(skin, float(below.max())) - profile[k])))
            if down[e] < gap - lid_margin * width:
                found.append(float(down[e]) / width)
        out.append(float(np.clip(np.median(found), least, most)) if found else least)
    return np.array(out)
