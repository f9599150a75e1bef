"""The closing upper cut's grey run (:func:`faceedit.stage.lip_line.grey_run`): a column goes on
through the grey of a cavity and the teeth in its shade, up to the lip's red, and not past a run
that never reaches a lip (the skin beside a mouth corner)."""

import numpy as np

from faceedit.stage.lip_line import grey_run
from faceedit.stage.tuning_lips import LipsTuning


def test_a_column_goes_through_the_grey_to_the_lip_and_stops_at_a_run_with_no_lip():
    tn = LipsTuning()
    lip_a, grey = 17.0, 17.0 - tn.lower_teeth_whiter - 8.0  # the lip's a*, and teeth in shade (014: 3-5)
    red = np.full((4, 12), lip_a)
    red[0, :4] = grey          # teeth under the cut: the run's last grey sample is 3
    red[1, :] = grey           # grey to the end: skin beside a corner, no lip to stop at
    red[2, 1:5] = grey         # starts on the lip: no run
    red[3, :2] = lip_a - tn.lower_teeth_whiter + 1.0  # a little less red than the lip: still lip
    assert grey_run(red, lip_a, 10, tn).tolist() == [3, -1, -1, -1]
    # The run must end before ``end`` (the outer lip's part of the samples): ended past it, no lip is met.
    red[0, :] = lip_a
    red[0, :10] = grey
    assert grey_run(red, lip_a, 10, tn)[0] == -1
