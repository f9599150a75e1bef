"""The dark line where a smile's lower teeth meet the lower lip, taken in by the cut that hides
them (:func:`faceedit.stage.lips.below_lower_teeth`'s ``past_line``)."""

from __future__ import annotations

import numpy as np

from faceedit.stage.tuning_mouth import LipsTuning


def past_dark_line(lab: np.ndarray, last: np.ndarray, dark: np.ndarray, end: int, tuning: LipsTuning) -> np.ndarray:
    """``last`` (each column's last tooth sample, -1 where none) moved on through the dark line
    under the teeth, on the columns' L*a*b* samples ``lab`` ((N, S, 3), from the cut to the outer
    lower lip) with their dark samples ``dark`` (darker than the lip by half a tooth's
    lightness): the darkest sample within ``lower_line_most`` of the column past the last tooth
    (and before ``end``), where it is dark and less red than the column's own lip (its outer two
    fifths: the lip in shade is as red as the lip, no line), and on while darker than that lip
    by ``lower_teeth_shaded_lighter`` and less red. Past the lighter edge of the teeth the line
    is as dark as the gaps between them; left outside a smile's hidden lower teeth it stood on
    the lower lip as a trace of dark specks (london-097 smiling made surprised)."""
    samples = lab.shape[1]
    light, red = lab[..., 0], lab[..., 1]
    lines = np.minimum(last + 1 + int(tuning.lower_line_most * (samples - 1)), end)
    own = np.median(lab[:, int(0.6 * samples):], 1)  # each column's own lip
    own[:, 0] -= tuning.lower_teeth_shaded_lighter
    last = last.copy()
    for k in np.nonzero((last >= 0) & (lines > last + 1))[0]:
        j = last[k] + 1 + int(np.argmin(light[k, last[k] + 1: lines[k]]))
        if not dark[k, j] or red[k, j] >= own[k, 1]:
            continue
        while j + 1 < lines[k] and light[k, j + 1] < own[k, 0] and red[k, j + 1] < own[k, 1]:
            j += 1
        last[k] = j
    return last
