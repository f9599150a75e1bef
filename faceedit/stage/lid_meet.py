"""Where a closing eye's drawn lids meet, and the 68 points the warp reports put on that line.

The lids are drawn closed on the photo before the warp (:func:`faceedit.stage.lids.close_lids`):
they meet ``meet`` of the way up from the lower lid's margin to the upper one's, margins read
from the photo's pixels (:func:`faceedit.stage.lids.eye_margins`: the lash roots above the
contour, the fall in light under the eye's white), not from the 68 points' lids. The warp
carries the drawn lids with the face and holds that eye's lid points open, moved only with its
corners (:func:`faceedit.stage.moves.hold_lids`); the points it reports for the closed eye are
then put where the drawn lids meet: :func:`meeting_points` reads the drawn meeting line at the
column of each of the eye's lid pairs (:data:`faceedit.stage.moves.LID_PAIRS`) and
:func:`close_on_line` moves the warp's points there, carried as that pair was. Put where the
68 points' own lids meet (:func:`faceedit.stage.moves.close_eye`) they lay above the drawn
line: blink=1 on 12 London training faces at 1350 px (001-011, 038, 062, 119, 123), neutral
median 1.9 px (to 5.4 px, 0.16 of the eye's opening), smiling median 1.0 px (to 3.7 px).
"""

from __future__ import annotations

import numpy as np

from faceedit.stage.lids import eye_margins
from faceedit.stage.moves import LID_PAIRS, close_eye
from faceedit.stage.tuning_lids import LidsTuning


def meeting_points(pixels: np.ndarray, lm: np.ndarray, mesh: np.ndarray | None, amounts: tuple[float, float],
                   meets: tuple[float, float], tuning: LidsTuning | None = None) -> np.ndarray:
    """(2, 2, 2): for each eye ``k`` (0: the image's left) that ``amounts`` closes and each of
    its lid pairs (:data:`~faceedit.stage.moves.LID_PAIRS`), the photo point where
    :func:`~faceedit.stage.lids.close_lids` draws its lids meeting (``meets[k]`` of the way up
    from the lower margin, at the pair's column in the eye's frame); NaN for an eye not closed
    or too small to draw. ``lm``: the face's 68 points; ``mesh``: its Face Mesh points or None."""
    tn = tuning if tuning is not None else LidsTuning()
    lm = np.asarray(lm, np.float64)
    out = np.full((2, 2, 2), np.nan)
    for k, a in enumerate(amounts):
        eye = eye_margins(pixels, lm, mesh, k, tn) if a > 0 else None
        if eye is None:
            continue
        for j, (up, low) in enumerate(LID_PAIRS[k]):
            x = np.array(eye.to_frame((lm[up] + lm[low]) / 2)[0])
            upper, lower = eye.at(x, eye.upper), eye.at(x, eye.lower)
            out[k, j] = eye.to_photo(x, lower - meets[k] * (lower - upper))
    return out


def close_on_line(moved: np.ndarray, lm: np.ndarray, amounts: tuple[float, float], points: np.ndarray | None,
                  meets: tuple[float, float]) -> np.ndarray:
    """The warp's 68 points ``moved`` (it carried the face's ``lm``, each closing eye's lids held
    open) with each eye ``amounts`` closes closed that far onto the drawn meeting ``points``
    (:func:`meeting_points`, photo px): each lid point goes ``amounts[k]`` of the way from where
    it lay in the photo to its pair's meeting point, carried by the warp's move of it. An eye
    whose points are NaN (or all, with ``points`` None) is closed where its 68 points' lids
    meet, ``meets[k]`` of the way up (:func:`~faceedit.stage.moves.close_eye`)."""
    out = np.array(moved, np.float64)
    lm = np.asarray(lm, np.float64)
    for k, a in enumerate(amounts):
        if a <= 0:
            continue
        if points is None or np.isnan(points[k]).any():
            close_eye(out, k, a, meets[k])
            continue
        for j, pair in enumerate(LID_PAIRS[k]):
            for i in pair:
                out[i] += a * (points[k, j] - lm[i])
    return out
