"""An open mouth drawn at a soft photo's focus (faceedit.stage.mouth_focus): in a blurred photo the drawn mouth's
edge is as soft as the photo's own edges; a sharp photo, a smile and the pixels beyond the edge's reach are left as
they are."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceedit.pixels import LUMA_WEIGHTS

_LUMA = np.asarray(LUMA_WEIGHTS, np.float64)


def scene(blur: float):
    """A 160 x 200 crop of skin with lips and a few sharp-edged marks, blurred by ``blur`` px, with a pure-black
    opening 60 x 16 px pasted sharp over the lips (as the mouth bank draws it); the opening's mask and roi."""
    img = np.full((160, 200, 3), (190, 140, 120), np.uint8)
    cv2.ellipse(img, (100, 90), (50, 22), 0, 0, 360, (150, 80, 80), -1)  # the lips
    for x in (20, 60, 140, 170):  # sharp marks: the photo's own edges
        cv2.rectangle(img, (x, 20), (x + 8, 40), (60, 40, 30), -1)
    cv2.rectangle(img, (30, 130), (170, 136), (90, 60, 50), -1)
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    op = np.zeros((160, 200), np.float32)
    cv2.ellipse(op, (100, 90), (30, 8), 0, 0, 360, 1.0, -1)
    img[op > 0.5] = 0
    lm = np.zeros((68, 2))
    lm[60], lm[64] = (70, 90), (130, 90)  # the inner corners
    return img, op, (0, 0, 200, 160), lm


def edge_sigma(img, op):
    from faceedit.stage.blur_reading import edge_blur

    inside = (op > 0.5).astype(np.uint8)
    ring = cv2.dilate(inside, np.ones((7, 7), np.uint8)) - cv2.erode(inside, np.ones((7, 7), np.uint8))
    return edge_blur((img.astype(np.float64) @ _LUMA / 255).astype(np.float32), ring > 0)


def test_a_soft_photo_s_open_mouth_takes_the_photo_s_blur():
    from faceedit.stage.mouth_focus import at_photo_focus
    from faceedit.stage.tuning import MouthTuning

    img, op, roi, lm = scene(2.5)
    before = edge_sigma(img, op)
    out = img.copy()
    at_photo_focus(out, roi, op, lm, MouthTuning(), opens=True)
    after = edge_sigma(out, op)
    assert before < 1.2, before  # pasted sharp
    assert after > max(1.5, 1.8 * before) and after < 3.5, (before, after)  # read 0.83 -> 1.60
    # beyond the edge's reach (twice the blur, with the kernel's own reach) nothing moves
    far = cv2.distanceTransform((op <= 0.5).astype(np.uint8), cv2.DIST_L2, 5) > 14
    assert np.array_equal(out[far], img[far])


@pytest.mark.parametrize("blur, opens", [(0.0, True), (2.5, False)])
def test_a_sharp_photo_or_a_smile_is_left_as_drawn(blur, opens):
    from faceedit.stage.mouth_focus import at_photo_focus, photo_focus
    from faceedit.stage.tuning import MouthTuning

    img, op, roi, lm = scene(blur)
    out = img.copy()
    at_photo_focus(out, roi, op, lm, MouthTuning(), opens=opens)
    assert np.array_equal(out, img)
    if blur == 0.0:
        assert photo_focus(img, roi, op, 60.0, MouthTuning()) == 0.0


def test_a_blurred_photo_made_surprised_has_its_mouth_at_the_photo_s_focus():
    """The astronaut at 1024 px blurred by 2 px made surprised: the drawn mouth's edge reads as soft as the
    photo's eyes (it read 1.15 px against the eyes' 2.58 when drawn at a sharp photo's focus)."""
    from _imgs import astronaut

    from faceedit.api import Editor
    from faceedit.stage.blur_reading import edge_blur

    ed = Editor.from_pretrained("stage")
    img = cv2.GaussianBlur(cv2.resize(astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC), (0, 0), 2.0)
    out = ed.edit(img, "surprised")
    lm = np.asarray(max(ed.detector.detect(img), key=lambda f: f.area).landmarks)
    y_in = (img.astype(np.float64) @ _LUMA / 255).astype(np.float32)
    y_out = (out.astype(np.float64) @ _LUMA / 255).astype(np.float32)
    m = lm[48:68]
    w = np.ptp(m[:, 0])
    x0, y0 = (m.min(0) - 0.3 * w).astype(int)
    x1, y1 = (m.max(0) + 0.3 * w).astype(int)
    dark = (y_out[y0:y1, x0:x1] < 0.15).astype(np.uint8)
    assert dark.sum() > 100  # an open mouth was drawn
    ring = cv2.dilate(dark, np.ones((7, 7), np.uint8)) - cv2.erode(dark, np.ones((7, 7), np.uint8))
    e = lm[36:48]
    ex0, ey0 = (e.min(0) - 10).astype(int)
    ex1, ey1 = (e.max(0) + 10).astype(int)
    eyes = edge_blur(y_in[ey0:ey1, ex0:ex1], np.ones((ey1 - ey0, ex1 - ex0), bool))
    mouth = edge_blur(y_out[y0:y1, x0:x1], ring > 0)
    assert mouth > 0.8 * eyes, (mouth, eyes)
