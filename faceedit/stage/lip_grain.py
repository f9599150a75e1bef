"""The photo's own lip detail on lips an edit has closed and stretched (:func:`carry_lip_grain`).

A smile or laugh made neutral closes its mouth: the warp stretches the smile's thin lips in height
(London's training smiles at 1350 px: up to 1.3-1.5 times, 004 and 009), and their furrows, grain
and specular flecks are smeared with them into smooth red. Here each lip's low frequencies stay as
the warp drew them, and the photo's own detail (its luma less a Gaussian blur of ``grain_blur``
eye distances, read inside the photo's lip only) is carried at its native scale: a pixel of the
closed lip that lies ``d`` px from the lip's outer edge reads the source lip at the same share of
the way along the mouth, ``d`` px in from the source lip's outer edge, folded back and forth
within the source lip short of its inner edge (no teeth's edge is read), at whole pixels. That
detail is added on the warped lip, as much of it as the warped lip's body lacks of
``grain_amount`` times the source's (the rest of that variance: the warp's own edges and detail
stay, a lip that kept its grain gets none), fading in where the lip is stretched from
``grain_stretch``'s first share of its source height to its second, off the seam's band
(``grain_seam``, eye distances from the line where the lips meet, which
:func:`faceedit.stage.mouth.paint_seam` draws; on a small face at least ``grain_seam_px``), off the outer edge and toward the corners
(``grain_corner``). All channels are scaled alike. Called by
:func:`faceedit.stage.steps.edit_face` once the mouth is filled and its corners' pockets and
flecks painted (:func:`faceedit.stage.corners.lift_pockets`: the flecks are found on the lips as
the warp left them).
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.faces.landmarks import eye_distance
from faceedit.pixels import luma_of, pixel_max
from faceedit.stage.cut_curves import resample_by_length
from faceedit.stage.lip_rims import smoothstep
from faceedit.stage.lips import box_around
from faceedit.stage.records import FaceEdit
from faceedit.stage.tuning_lips import LipsTuning

#: Samples along each lip (corner to corner) where its source and closed heights are read.
ALONG = 96
#: The lip's fractions across (outer edge 0 to inner edge 1) are sampled every this many px
#: where each pixel of a closed lip finds its place on the lip.
ACROSS_STEP = 0.5
#: The detail read in the source is clipped to this many robust deviations (1.4826 median absolute
#: deviations) about its median (a fleck of the skin or teeth at an edge is not copied).
CLIP_DEVIATIONS = 6.0
#: The outer upper and lower lips of the 68 points, left corner first.
_OUTER = ([48, 49, 50, 51, 52, 53, 54], [48, 59, 58, 57, 56, 55, 54])
#: The inner lips of the 68 points, left corner first (without a cut of the photo's own).
_INNER = ([60, 61, 62, 63, 64], [60, 67, 66, 65, 64])



def _inside(poly: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Which pixels of ``box`` (x0, y0, x1, y1) lie inside the polygon ``poly`` (float mask, 0/1)."""
    x0, y0, x1, y1 = box
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    pts = np.round((poly - (x0, y0)) * 16).astype(np.int32)
    cv2.fillPoly(mask, [pts], 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(np.float32)


def lip_detail(luma: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """``luma`` less its Gaussian blur of ``sigma`` px over ``mask`` only (a normalised blur: the
    skin and teeth beyond the lip add nothing to it); zero outside ``mask``."""
    num = cv2.GaussianBlur(luma * mask, (0, 0), sigma)
    smooth = num / np.maximum(cv2.GaussianBlur(mask, (0, 0), sigma), 1e-6)
    return (luma - smooth) * mask


def _places(outer: np.ndarray, inner: np.ndarray, box: tuple[int, int, int, int],
            mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each pixel of ``box`` inside ``mask``: its row and column in the box, its sample index
    along the lip (0..ALONG-1) and its fraction across (0 at ``outer``, 1 at ``inner``), the
    nearest of the lip's samples every :data:`ACROSS_STEP` px."""
    from scipy.spatial import cKDTree

    height = float(np.linalg.norm(inner - outer, axis=1).max())
    steps = max(int(np.ceil(height / ACROSS_STEP)) + 1, 2)
    v = np.linspace(0.0, 1.0, steps)
    grid = outer[:, None, :] + v[None, :, None] * (inner - outer)[:, None, :]  # (ALONG, steps, 2)
    tree = cKDTree(grid.reshape(-1, 2))
    py, px = np.nonzero(mask > 0)
    _, idx = tree.query(np.stack([px + box[0], py + box[1]], 1).astype(np.float64))
    return np.stack([py, px], 1), idx // steps, v[idx % steps]


def carry_lip_grain(face: FaceEdit, source: np.ndarray, pixels: np.ndarray, tuning: LipsTuning | None = None,
                    in_place: bool = False) -> np.ndarray:
    """``pixels`` (the edit so far) with the closed lips' detail read from ``source`` (the photo
    the warp moved, before it), as the module's docstring says; ``face``: the edit's record (its
    landmarks, the cut the warp took, the warp's result). Only a move that takes a smile away
    (``face.smile_taken`` > 0) and closes the lips (``face.closing`` > 0) is touched. A new array (the same one when there is nothing to do, or
    written over with ``in_place``)."""
    tuning = tuning or LipsTuning()
    r = face.warped
    if r is None or face.closing <= 0 or face.smile_taken <= 0 or tuning.grain_amount <= 0:
        return pixels
    src_lm, dst_lm = np.asarray(face.landmarks, np.float64), np.asarray(r.landmarks, np.float64)
    cut = face.lips if face.lips is not None else (src_lm[_INNER[0]], src_lm[_INNER[1]])
    ed = eye_distance(dst_lm)
    sigma = max(tuning.grain_blur * ed, 0.6)
    seam0 = max(tuning.grain_seam[0] * ed, tuning.grain_seam_px)
    seam1 = seam0 + max((tuning.grain_seam[1] - tuning.grain_seam[0]) * ed, 1.0)
    top = pixel_max(pixels.dtype)
    out = pixels if in_place else pixels.copy()
    done = False
    for k in range(2):
        so = resample_by_length(src_lm[_OUTER[k]], ALONG)
        si = resample_by_length(np.asarray(cut[k], np.float64), ALONG)
        do = resample_by_length(dst_lm[_OUTER[k]], ALONG)
        di = resample_by_length(np.asarray(r.upper if k == 0 else r.lower, np.float64), ALONG)
        t_s = np.linalg.norm(si - so, axis=1)
        t_d = np.linalg.norm(di - do, axis=1)
        stretch = t_d / np.maximum(t_s, 1e-6)
        reach = t_s - np.minimum(2.0 * sigma, 0.3 * t_s)  # read short of the source lip's inner edge
        along = np.linspace(0.0, 1.0, ALONG)
        gate = (smoothstep(*tuning.grain_stretch, stretch) * smoothstep(0.75, 2.0, reach)
                * smoothstep(0.0, tuning.grain_corner, np.minimum(along, 1.0 - along)))
        if float(gate.max()) <= 0:
            continue
        dst_poly = np.concatenate([do, di[::-1]])
        src_poly = np.concatenate([so, si[::-1]])
        dbox = box_around(dst_poly, 2 * sigma + 2, out.shape)
        sbox = box_around(src_poly, 2 * sigma + 2, source.shape)
        if dbox[2] - dbox[0] < 3 or dbox[3] - dbox[1] < 3 or sbox[2] - sbox[0] < 3 or sbox[3] - sbox[1] < 3:
            continue
        dmask, smask = _inside(dst_poly, dbox), _inside(src_poly, sbox)
        if float(dmask.sum()) < 4 or float(smask.sum()) < 4:
            continue
        s_luma = luma_of(source[sbox[1]:sbox[3], sbox[0]:sbox[2]]) / top
        s_detail = lip_detail(s_luma, smask, sigma)
        here = out[dbox[1]:dbox[3], dbox[0]:dbox[2]].astype(np.float32) / top
        d_luma = luma_of(here)
        d_detail = lip_detail(d_luma, dmask, sigma)
        rc, i, v = _places(do, di, dbox, dmask)
        depth = v * t_d[i]  # px in from the closed lip's outer edge
        span = np.maximum(reach[i], 1.0)
        folded = np.mod(depth, 2.0 * span)
        read = np.minimum(folded, 2.0 * span - folded) / np.maximum(t_s[i], 1e-6)
        at = so[i] + read[:, None] * (si[i] - so[i])
        sx = np.clip(np.round(at[:, 0]).astype(np.int64) - sbox[0], 0, s_detail.shape[1] - 1)
        sy = np.clip(np.round(at[:, 1]).astype(np.int64) - sbox[1], 0, s_detail.shape[0] - 1)
        got = s_detail[sy, sx] * (smask[sy, sx] > 0)
        mid = float(np.median(got))
        spread = CLIP_DEVIATIONS * 1.4826 * float(np.median(np.abs(got - mid)))
        got = np.clip(got, mid - spread, mid + spread) - mid
        weight = gate[i] * smoothstep(seam0, seam1, (1.0 - v) * t_d[i]) * smoothstep(0.5 * sigma, 2.0 * sigma, depth)
        y, x = rc[:, 0], rc[:, 1]
        old = d_luma[y, x]
        # (what the warped lip's body lacks of ``grain_amount`` times the source's detail: the
        # rest of that variance)
        body = weight > 0.5 * float(weight.max()) if float(weight.max()) > 0 else weight >= 0
        have, want = float(np.var(d_detail[y, x][body])), float(np.var(got[body]))
        gain = float(np.sqrt(max(tuning.grain_amount ** 2 * want - have, 0.0) / max(want, 1e-12)))
        new = np.maximum(old + weight * gain * got, 0.0)
        ratio = new / np.maximum(old, 1e-4)
        px = here[y, x] * (ratio[:, None] if here.ndim == 3 else ratio)
        here[y, x] = np.clip(px, 0.0, 1.0)
        out[dbox[1]:dbox[3], dbox[0]:dbox[2]] = np.round(here * top).astype(out.dtype)
        done = True
    return out if done or in_place else pixels
