"""A neutral edit lowers a smile's outer upper lip no further than a resting lip's drop allows
(:func:`faceedit.stage.lip_drop.upper_lip_drop_held`, in :func:`faceedit.stage.rest.at_rest`)."""

import numpy as np
import pytest
from _imgs import closed_mean_face

from faceedit.stage.lip_drop import UPPER_DROP_FROM, UPPER_DROP_KEEP, upper_drop, upper_lip_drop_held
from faceedit.stage.moves import face_frame
from faceedit.stage.rest import at_rest


@pytest.fixture(scope="module")
def face():
    return closed_mean_face()


def lowered(lm: np.ndarray, drop: float) -> np.ndarray:
    """``lm`` with the outer upper lip (49-53) lowered ``drop`` eye distances down the face."""
    _, n, ed = face_frame(lm)
    out = lm.copy()
    out[49:54] += drop * ed * n
    return out


def test_a_laugh_s_upper_lip_drop_is_held_back_beyond_a_rest_s(face):
    goal = lowered(face, 0.08)
    out = upper_lip_drop_held(face, goal, 1.0)
    want = UPPER_DROP_FROM + UPPER_DROP_KEEP * (0.08 - UPPER_DROP_FROM)
    assert upper_drop(face, out) == pytest.approx(want, abs=1e-9)
    assert upper_drop(face, out) < 0.07
    kept = [i for i in range(68) if i not in (49, 50, 51, 52, 53)]
    assert np.allclose(out[kept], goal[kept])  # the inner lips, where they meet, and the corners stay
    half = upper_lip_drop_held(face, goal, 0.5)  # half the way
    assert upper_drop(face, half) == pytest.approx((0.08 + want) / 2, abs=1e-9)


def test_a_small_drop_and_no_amount_leave_the_goal(face):
    goal = lowered(face, 0.02)
    assert upper_lip_drop_held(face, goal, 1.0) is goal
    big = lowered(face, 0.08)
    assert upper_lip_drop_held(face, big, 0.0) is big


def test_at_rest_holds_a_neutral_edit_s_drop_and_no_other_target_s(face):
    goal = lowered(face, 0.08)
    assert upper_drop(face, at_rest(face, goal, 1.0)) < 0.06
    assert upper_drop(face, at_rest(face, goal, 1.0, target="happy")) == pytest.approx(0.08)
