"""faceedit.eval.light_truth.london_checks measures a relit photo's lit side against its dark
side: a light must have a direction."""

from __future__ import annotations

import pytest

from faceedit.eval.light_truth import london_checks


def _never(photo, light, landmarks):
    raise AssertionError("no photo is edited when a light cannot be measured")


def test_an_even_light_is_refused_naming_it():
    with pytest.raises(ValueError, match="'ambient'.*no lit side"):
        london_checks(_never, [], lights=("left", "ambient"))

