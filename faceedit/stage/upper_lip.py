"""A small mouth's upper lip where an edit closes it: a band of lip colour of a closed lip's
height above the seam (:func:`closed_upper_lip`, drawn before :func:`faceedit.stage.mouth.paint_seam`).

A smile stretches the upper lip to a pixel or two over the teeth, in the shade the lip casts on
them; carried down as it is to a closed mouth it stood as a thin dark line over the lower lip
(insightface's group_five, face 2, eyes 40 px apart, made neutral). A real closed upper lip at
that size is about a tenth of the eye distance high, in the colour of the lips.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import pixel_max
from faceedit.stage.lips import box_around
from faceedit.stage.tuning_mouth import MouthTuning

#: The band's height toward the corners: the middle's times the sine of the way along (0..pi)
#: to this power (a face model: a closed upper lip's thinning into the corners).
UPPER_LIP_TAPER = 0.7
#: How much thinner than a closed lip (a share of its height) the upper lip down the middle
#: third is where the band is drawn whole; from there to a closed lip's height it fades out, and
#: a lip as high as a closed one or higher is kept as the photo has it (a face model).
UPPER_LIP_THIN = 0.15


def _inside(shape: tuple[int, int], pts: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
    """Which pixels of a ``shape`` box at ``origin`` (x, y) lie inside the polygon ``pts``."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round((pts - origin) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    return mask > 0


def lower_lip_colour(pixels: np.ndarray, line: np.ndarray, lips: np.ndarray, box: tuple[int, int, int, int]
                     ) -> np.ndarray | None:
    """The median RGB of the lower lip (between the seam ``line`` and the outer lower lip,
    ``lips`` 6-11 and 0: the 68 points 54-59 and 48) in ``box``, the pixels within a pixel of
    the line left out; None where fewer than four pixels remain."""
    x0, y0, x1, y1 = box
    origin = (x0, y0)
    lower = np.concatenate([lips[6:12], lips[:1], line[::-1]])
    inside = _inside((y1 - y0, x1 - x0), lower, origin)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    seam_y = np.interp(xx, line[:, 0], line[:, 1])
    inside &= yy > seam_y + 1.0
    if inside.sum() < 4:
        return None
    return np.median(pixels[y0:y1, x0:x1][inside][:, :3].astype(np.float64), 0)


def closed_upper_lip(pixels: np.ndarray, line: np.ndarray, lips: np.ndarray, eye_dist: float, amount: float,
                     tuning: MouthTuning) -> np.ndarray:
    """``pixels`` (H, W, C uint8/uint16) with the upper lip above the seam ``line`` ((N, 2), left
    corner first: where the closed lips meet) drawn as a closed lip: from the row above the line
    up to the outer upper lip (``lips``: the 68 points' outer lip 48-59 where the lips now lie),
    at least ``closed_upper_lip_height`` eye distances high down the middle (less toward the
    corners, the sine of the way along to :data:`UPPER_LIP_TAPER`), in the lower lip's colour
    (:func:`lower_lip_colour`) times ``closed_upper_lip_shade`` (its top lighter than its
    underside by ``closed_upper_lip_fall``), the photo's grain along the line kept, ``amount``
    (0..1) of the way (fading out over ``closed_upper_lip_fade`` of the corner distance at each
    corner), its top edge ``closed_upper_lip_soft`` px soft; only where the upper lip down the
    middle is thinner than that height (whole from :data:`UPPER_LIP_THIN` of it thinner). A new
    array; ``pixels`` itself where there is nothing to draw (no colour, no lip, a full lip)."""
    line = np.asarray(line, np.float64)
    lips = np.asarray(lips, np.float64)
    line = line[np.argsort(line[:, 0])]
    left, right = float(line[0, 0]), float(line[-1, 0])
    if amount <= 0 or pixels.ndim != 3 or right - left < 4 or eye_dist <= 0:
        return pixels
    tall = tuning.closed_upper_lip_height * eye_dist
    box = box_around(np.concatenate([lips, line]), tall + 2, pixels.shape)
    x0, y0, x1, y1 = box
    if x1 - x0 < 4 or y1 - y0 < 4:
        return pixels
    colour = lower_lip_colour(pixels, line, lips, box)
    if colour is None:
        return pixels
    outer = lips[:7][np.argsort(lips[:7, 0])]
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    seam_y = np.interp(xx, line[:, 0], line[:, 1])
    outer_y = np.interp(xx, outer[:, 0], outer[:, 1])
    t = np.clip((xx - left) / (right - left), 0.0, 1.0)
    # a lip already a closed lip's height (a smile that left it full) is left to the photo
    own = float(np.median((seam_y - outer_y)[(t > 1 / 3) & (t < 2 / 3)]))
    thin = float(np.clip((tall - own) / (UPPER_LIP_THIN * tall), 0.0, 1.0))
    if thin <= 0:
        return pixels
    top = seam_y - np.maximum(seam_y - outer_y, tall * np.sin(np.pi * t) ** UPPER_LIP_TAPER)
    # soft at the top; at the seam the band ends on the row above the line (the seam's own row
    # is the seam's to draw, :func:`faceedit.stage.mouth.paint_seam`)
    cover = np.clip(yy + 0.5 - top, 0.0, 1.0) * ((xx >= left) & (xx <= right))
    cover = cv2.GaussianBlur(cover.astype(np.float32), (0, 0), tuning.closed_upper_lip_soft).astype(np.float64)
    fade = np.clip(np.minimum(t, 1.0 - t) / tuning.closed_upper_lip_fade, 0.0, 1.0)
    cover *= np.clip(seam_y - yy, 0.0, 1.0) * fade * amount * thin
    if float(cover.max()) <= 0:
        return pixels
    crop = pixels[y0:y1, x0:x1].astype(np.float64)
    # the lip's underside in its own shade: lighter at the top, darker toward the seam
    down = np.clip((yy - top) / np.maximum(seam_y - top, 1.0), 0.0, 1.0)
    shade = tuning.closed_upper_lip_shade * (1.0 + tuning.closed_upper_lip_fall * (0.5 - down))
    want = colour * shade[..., None]
    # the photo's grain along the line kept (across it, the thin dark lip is what goes)
    grain = crop[..., :3] - cv2.GaussianBlur(crop[..., :3], (0, 0), sigmaX=1.0, sigmaY=1e-3)
    crop[..., :3] += (want + grain - crop[..., :3]) * cover[..., None]
    out = pixels.copy()
    out[y0:y1, x0:x1] = np.clip(np.round(crop), 0, pixel_max(pixels.dtype)).astype(pixels.dtype)
    return out
