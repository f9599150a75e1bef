"""A coloured lip's red left outside the moved lips is painted with the skin (faceedit.stage.lip_spill):
a lipstick's flecks beside the new corners go, the lips themselves and bare lips stay."""

from __future__ import annotations

import cv2
import numpy as np
from _bench import mean_face_landmarks

from faceedit.faces.landmarks import eye_distance
from faceedit.stage.lip_spill import clear_lip_spill
from faceedit.stage.lips import redness

SKIN = (205, 160, 140)


def _mouth(lips_rgb: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, tuple[slice, slice]]:
    """Skin with grain, the mean face's outer lips (48-59) filled with ``lips_rgb`` and a fleck of it
    beside the image's left corner, 0.08 eye distances out: the photo, its landmarks, the fleck's box."""
    lm = mean_face_landmarks()
    h, w = int(lm[:, 1].max()) + 40, int(lm[:, 0].max()) + 40
    rng = np.random.default_rng(1)
    img = np.clip(np.array(SKIN, np.float32) + rng.normal(0, 3, (h, w, 3)), 0, 255).astype(np.uint8)
    cv2.fillPoly(img, [np.round(lm[48:60]).astype(np.int32)], lips_rgb)
    ed = eye_distance(lm)
    cx, cy = lm[48] - (0.08 * ed, 0.0)
    r = max(int(round(0.03 * ed)), 2)
    box = (slice(int(cy) - r, int(cy) + r + 1), slice(int(cx) - r, int(cx) + r + 1))
    img[box] = lips_rgb
    return img, lm, box


def test_a_lipsticks_fleck_outside_the_lips_is_painted_with_skin():
    img, lm, box = _mouth((200, 40, 60))
    out = clear_lip_spill(img, lm)
    skin_red = float(np.median(redness(img[:20, :20])))
    assert float(redness(img[box]).mean()) - skin_red > 30  # (the premise: the fleck is a lipstick's red)
    assert float(redness(out[box]).mean()) - skin_red < 5  # painted with the skin
    inside = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(lm[48:60]).astype(np.int32)], 1)
    inner = cv2.erode(inside, np.ones((5, 5), np.uint8)) > 0
    np.testing.assert_array_equal(out[inner], img[inner])  # the lips as they were
    far = np.ones(img.shape[:2], bool)
    far[int(lm[48:60, 1].min()) - 60:int(lm[48:60, 1].max()) + 60, int(lm[48, 0]) - 60:int(lm[54, 0]) + 60] = False
    np.testing.assert_array_equal(out[far], img[far])


def test_bare_lips_and_an_unmoved_amount_are_left():
    """Lips a shade redder than the skin (under ``spill_contrast``): nothing painted; amount 0 neither."""
    img, lm, _ = _mouth((205, 140, 130))
    assert clear_lip_spill(img, lm) is img
    red, lm, _ = _mouth((200, 40, 60))
    assert clear_lip_spill(red, lm, amount=0.0) is red
