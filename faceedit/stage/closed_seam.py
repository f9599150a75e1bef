"""The seam of a mouth an edit closes, drawn (:func:`faceedit.stage.mouth.paint_seam`) with the
photo's own lips' dark (:func:`faceedit.stage.small_seam.own_lips_dark`) on a small mouth, and
the luma that dark takes from the seam drawn without it, which the corner flecks are found
without (:func:`faceedit.stage.corner_flecks.lift_corner_flecks`).

The flecks are the darks the warp carries into a closed mouth's corners: a dark piece there
shorter than ``fleck_length`` is painted over, a longer one is the line running on to the corner
and stays. A piece is read against its neighbourhood's median, which the own dark's deeper seam
lowers beside the line's ends: the astronaut made neutral keeps the line's 5-px run into her
right corner on the seam without it, and on the deeper one the run reads 4 px, a fleck.
"""

from __future__ import annotations

import numpy as np

from faceedit.faces.landmarks import eye_distance
from faceedit.pixels import luma_of
from faceedit.stage.cutwarp import CutWarpResult
from faceedit.stage.lips import box_around
from faceedit.stage.mouth import paint_seam
from faceedit.stage.records import FaceEdit, Statistics
from faceedit.stage.small_seam import OwnLips
from faceedit.stage.teeth_look import small_weight


def draw_closed_seam(stage: Statistics, face: FaceEdit, pixels: np.ndarray, r: CutWarpResult) -> np.ndarray:
    """``pixels`` (the warp's, drawn over) with the seam of the lips ``face`` closes (``r``: its
    warp, whose closed inner lips give the line), at ``face.closing`` of the warp's scale. On a
    mouth small enough for the photo's own lips' dark (``face.lips_dark``) to reach the seam,
    ``face.seam_deepened`` is set to what that dark took (the box's top row and left column,
    and the luma drawn less the luma of the seam drawn without it, over a box an eye distance
    round the lips); else None."""
    moved = r.landmarks
    line = (np.asarray(r.upper, np.float64) + np.asarray(r.lower, np.float64)) / 2
    own = face.lips_dark
    face.seam_deepened = None
    if own is None or stage.tuning.lips.seam_small_depth <= 0 \
            or small_weight(float(np.linalg.norm(line[-1] - line[0])), face.photo_scale) <= 0:
        return _seam(stage, face, pixels, r, own)
    x0, y0, x1, y1 = box_around(np.vstack([moved[48:68], r.upper, r.lower]), eye_distance(moved), pixels.shape)
    plain = _seam(stage, face, pixels[y0:y1, x0:x1].copy(), r, None, (x0, y0))
    out = _seam(stage, face, pixels, r, own)
    face.seam_deepened = (y0, x0, luma_of(out[y0:y1, x0:x1]) - luma_of(plain))
    return out


def _seam(stage: Statistics, face: FaceEdit, pixels: np.ndarray, r: CutWarpResult, own: OwnLips | None,
          at: tuple[int, int] = (0, 0)) -> np.ndarray:
    """``pixels`` (the photo's, or a box of it whose top-left is ``at``) with the seam drawn in place."""
    moved = r.landmarks - at
    return paint_seam(pixels, r.upper - at, r.lower - at, eye_distance(moved), face.closing * r.scale,
                      stage.tuning.mouth, lips=moved[48:60], in_place=True, photo_scale=face.photo_scale,
                      seam=stage.tuning.lips, own=own)
