"""Where a small mouth's closed lips meet in the pixels: the luma valley between the two lips'
bodies across the planned line, which :func:`faceedit.stage.mouth.paint_seam` draws a small
mouth's seam at the photo's own lips' dark on (:func:`meet_line`).

The planned line (the warp's closed inner lips, kept at the plan's place by
:func:`~faceedit.stage.seam_course.straighten_line`) can lie under the dark the warp carried
between the lips (the astronaut's start: 0.3-0.5 px, London smiles cut to 96 px: 0.2-0.5 px
along the mouth's middle); a seam at the own lips' dark drawn there is a second edge under the
lips' meeting.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import luma_of, pixel_max
from faceedit.stage.tuning_lips import LipsTuning


def meet_line(pixels: np.ndarray, line: np.ndarray, eye_dist: float, tuning: LipsTuning | None = None) -> np.ndarray:
    """``line`` (N, 2, left corner first; a small mouth's closed seam) moved across itself onto
    the luma valley of ``pixels`` within ``seam_meet_reach`` px: at each pixel's step along it the
    darkest row (luma blurred along the line by 0.04 eye distances, sub-pixel by a parabola),
    weighted by how much more than ``seam_meet_depth`` darker it is than the rows past the reach
    on both sides; a quadratic fitted through them, faded out over ``seam_meet_taper`` of the
    mouth at each corner (``tuning``'s, :class:`~faceedit.stage.tuning_lips.LipsTuning`).
    ``line`` itself where under half the steps find a valley."""
    tn = tuning if tuning is not None else LipsTuning()
    line = np.asarray(line, np.float64)
    axis = line[-1] - line[0]
    width = float(np.linalg.norm(axis))
    if width < 8 or eye_dist <= 0 or tn.seam_meet_reach <= 0:
        return line
    axis = axis / width
    normal = np.array([-axis[1], axis[0]])
    rel = line - line[0]
    at, off = rel @ axis, rel @ normal
    order = np.argsort(at)
    steps = np.arange(0.0, width + 0.5, 1.0)
    path = np.interp(steps, at[order], off[order])
    reach = int(np.ceil(tn.seam_meet_reach)) + 1
    hs = np.arange(-reach, reach + 1, dtype=np.float64)
    px = line[0][0] + steps[None] * axis[0] + (path[None] + hs[:, None]) * normal[0]
    py = line[0][1] + steps[None] * axis[1] + (path[None] + hs[:, None]) * normal[1]
    grey = luma_of(pixels.astype(np.float32) / pixel_max(pixels.dtype))
    strip = cv2.remap(np.ascontiguousarray(grey), px.astype(np.float32), py.astype(np.float32),
                      cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    strip = cv2.GaussianBlur(strip, (0, 0), sigmaX=max(0.04 * eye_dist, 1.0), sigmaY=0.1)
    inner = slice(1, len(hs) - 1)  # the rows within the reach
    k = 1 + np.argmin(strip[inner], 0)
    cols = np.arange(strip.shape[1])
    lo, mid, hi = strip[k - 1, cols], strip[k, cols], strip[k + 1, cols]
    den = lo - 2 * mid + hi
    sub = np.where(den > 1e-6, np.clip(0.5 * (lo - hi) / np.maximum(den, 1e-6), -0.5, 0.5), 0.0)
    found = hs[k] + sub
    side = np.minimum(strip[0], strip[-1])
    t = steps / width
    taper = np.clip(np.minimum(t, 1.0 - t) / max(tn.seam_meet_taper, 1e-6), 0.0, 1.0)
    w = np.maximum(side - mid - tn.seam_meet_depth, 0.0) * (np.abs(found) <= tn.seam_meet_reach) * taper
    if np.count_nonzero(w > 1e-6) < max(4, 0.5 * np.count_nonzero(taper > 0)):
        return line
    fit = np.clip(np.polyval(np.polyfit(t, found, 2, w=np.sqrt(w)), t), -tn.seam_meet_reach, tn.seam_meet_reach) * taper
    shift = np.interp(at, steps, fit)
    return line + shift[:, None] * normal[None]
