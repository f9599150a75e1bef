"""The dark line where a smile's lower teeth meet the lower lip, taken in by the cut that hides
them (:func:`faceedit.stage.lips.below_lower_teeth`'s ``past_line``)."""

from __future__ import annotations

import numpy as np

from faceedit.stage.tuning_lips import LipsTuning


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


def dark_runs(lab: np.ndarray, last: np.ndarray, dark: np.ndarray, lip_l: float, lip_a: float, upper: bool,
              end: int, tuning: LipsTuning) -> tuple[np.ndarray, np.ndarray]:
    """A closing cut's columns (``lab``: (N, S, 3) L*a*b* samples from the cut to the outer lip,
    ``dark``: darker than the lip's ``lip_l`` by half a tooth's lightness) with no teeth
    (``last`` < 0) that start in the dark: the lower cut's ``last`` moved on through that dark
    run, at most ``lower_dark_most`` of the way; the upper cut's run of the cavity's dark
    (darker than ``upper_cavity_dark`` of ``lip_l``, at most ``upper_cavity_most``) as its own
    last samples (``cavity``, -1 elsewhere), and, on every column, at least to the end of its
    :func:`grey_run`, which the upper cut takes untapered up to the corners (tapered, the
    cavity's dark stood as a slit at a closed mouth's ends: london-014 made surprised and back)."""
    samples = lab.shape[1]
    light, last, cavity = lab[..., 0], last.copy(), np.full(len(last), -1)
    deepest = int((tuning.upper_cavity_most if upper else tuning.lower_dark_most) * (samples - 1))
    run_of = light < tuning.upper_cavity_dark * lip_l if upper else dark
    for k in np.nonzero((last < 0) & run_of[:, 0])[0]:
        run = run_of[k, : deepest + 1]
        (cavity if upper else last)[k] = (int(np.argmin(run)) if not run.all() else deepest + 1) - 1
    return last, (np.maximum(cavity, grey_run(lab[..., 1], lip_a, end, tuning)) if upper else cavity)


def grey_run(red: np.ndarray, lip_a: float, end: int, tuning: LipsTuning) -> np.ndarray:
    """Each column's last grey sample (-1 where none) on the upper cut's columns' a* samples
    ``red`` ((N, S), from the cut to the outer upper lip): less red than the lip's ``lip_a`` by
    ``lower_teeth_whiter`` (the cavity's dark, the teeth in its shade, no lighter than the lip),
    in a run from the cut that ends before ``end``; one that does not end there reaches the skin
    beside a corner, no lip. Left outside a closing cut, the carried teeth of a surprised edit
    stood between the closed lips as a grey line (london-014, 094 made neutral again)."""
    grey = np.cumprod(red[:, :end] < lip_a - tuning.lower_teeth_whiter, 1).astype(bool)
    return np.where(grey.all(1), -1, grey.sum(1) - 1)
