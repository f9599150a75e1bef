"""The truth program's pooled figures (faceedit/eval/truth.py): weighted by each target's pairs, a
target without pairs (neutral made neutral: the held-out pairs start from neutral photos) left
out, so ``-t neutral`` or ``-t surprised,neutral --transitions`` reports instead of failing."""

from __future__ import annotations

import math

from faceedit.eval.truth import pooled


def test_targets_are_weighted_by_their_pairs_and_empty_ones_left_out():
    figs = {"happy": {"pairs": 3, "closer": 1.0}, "sad": {"pairs": 1, "closer": 0.0},
            "neutral": {"pairs": 0, "closer": math.nan}}
    assert pooled(figs, ("closer",)) == {"closer": 0.75}
    assert pooled({"neutral": {"pairs": 0, "closer": math.nan}}, ("closer",)) == {}
    assert pooled({}, ("closer",)) == {}
