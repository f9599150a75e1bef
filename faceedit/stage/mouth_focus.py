"""An open mouth drawn at a soft photo's focus (:func:`at_photo_focus`).

The mouth bank, the carried teeth's shading (:func:`~faceedit.stage.lip_rims.shade_carried`) and the teeth's
steps (:func:`~faceedit.stage.tooth_steps.tooth_steps`) draw an open mouth at a sharp studio photo's focus: its
edge softened by a pixel (:attr:`~faceedit.stage.tuning.MouthTuning.edge_focus`), the carried teeth cut with
one-pixel edges. In a soft photo (out of focus, upscaled, a webcam's) that interior reads as pasted on: a crisp
black hole and teeth outlined in dark lines inside lips a few pixels soft. Here the whole drawn mouth and the
lips' side of its edge are blurred by the photo's own blur beyond a sharp photo's; a sharp photo is left as
drawn (byte for byte)."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import pixel_max
from faceedit.stage.blur_reading import edge_blur, luma_of
from faceedit.stage.teeth_look import covered_box
from faceedit.stage.tuning import MouthTuning


def photo_focus(pixels: np.ndarray, roi, drawn: np.ndarray, wd: float, tuning: MouthTuning) -> float:
    """The blur (a Gaussian's sigma, px) a drawn open mouth (``drawn``, float 0..1 over ``roi`` of ``pixels``,
    its inner corners ``wd`` px apart) takes to sit in its photo: the photo's own blur at the strongest
    edges round it (:func:`~faceedit.stage.blur_reading.edge_blur` of the luma in ``roi`` grown by half of
    ``wd``, outside the drawn pixels grown by a tenth of it) past
    :attr:`~faceedit.stage.tuning.MouthTuning.open_focus_knee` in quadrature; 0 in a sharp photo. (A small
    face's bank fill is drawn at the photo's blur already, :mod:`faceedit.stage.small_cavity`; the carried
    teeth's shading and steps after it are not.)"""
    x0, y0, x1, y1 = (int(v) for v in roi)
    cover = (np.asarray(drawn) > 0).astype(np.uint8)
    if not cover.any() or wd <= 0:
        return 0.0
    pad = int(np.ceil(0.5 * wd))
    h, w = pixels.shape[:2]
    bx0, by0, bx1, by1 = max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, w), min(y1 + pad, h)
    mask = np.zeros((by1 - by0, bx1 - bx0), np.uint8)
    mask[y0 - by0:y1 - by0, x0 - bx0:x1 - bx0] = cover
    grow = 2 * int(np.ceil(0.1 * wd)) + 1
    outside = cv2.dilate(mask, np.ones((grow, grow), np.uint8)) == 0
    unit = float(pixel_max(pixels.dtype))
    g = luma_of(pixels[by0:by1, bx0:bx1]) / unit
    sigma = edge_blur(g, outside)
    soft = float(np.sqrt(max(sigma**2 - tuning.open_focus_knee**2, 0.0)))
    return soft


def at_photo_focus(pixels: np.ndarray, roi, drawn: np.ndarray, lm: np.ndarray, tuning: MouthTuning, *,
                   opens: bool) -> None:
    """A drawn open mouth (``drawn``, float 0..1 over ``roi`` = (x0, y0, x1, y1) of ``pixels``: the painted
    opening and the teeth carried into it; ``lm``: the moved face's 68 points) blurred in place by the photo's
    blur beyond a sharp photo's (:func:`photo_focus`): wholly inside, fading out over twice that beyond its
    edge on every side, so the step from the photo's lips into the dark is as soft as the photo's own
    edges. Nothing in a sharp photo, nor where the mouth is not drawn open (``opens`` false: a smile's teeth
    take the photo's blur in the mouth bank)."""
    if not opens:
        return
    wd = float(np.linalg.norm(np.asarray(lm, np.float64)[64] - np.asarray(lm, np.float64)[60]))
    sigma = photo_focus(pixels, roi, drawn, wd, tuning)
    if sigma <= 0.0:
        return
    x0, y0, x1, y1 = (int(v) for v in roi)
    reach = int(np.ceil(2.0 * sigma)) + 1
    box = covered_box((x0, y0, x1, y1), drawn, (0, 0, pixels.shape[1], pixels.shape[0]),
                      reach + (int(round(8 * sigma + 1)) | 1) // 2 + 1)
    if box is None:
        return
    (bx0, by0, bx1, by1), op = box
    crop = pixels[by0:by1, bx0:bx1].astype(np.float32)
    away = cv2.distanceTransform((op <= 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    w = np.where(op > 0.5, 1.0, np.clip(1.0 - (away - 0.5) / (2.0 * sigma), 0.0, 1.0)).astype(np.float32)
    if crop.ndim == 3:
        w = w[..., None]
    soft = crop + w * (cv2.GaussianBlur(crop, (0, 0), sigma) - crop)
    pixels[by0:by1, bx0:bx1] = np.clip(np.round(soft), 0, pixel_max(pixels.dtype)).astype(pixels.dtype)
