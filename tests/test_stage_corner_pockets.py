"""The dark pockets a closed smile leaves at its corners painted with the skin around them
(faceedit.stage.corners.lift_corner_pockets)."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.stage.corners import lift_corner_pockets, pocket_amount


def _face(lips=(170, 90, 90)) -> tuple[np.ndarray, np.ndarray]:
    """A flat skin patch with closed lips (landmarks 48-59 an ellipse) and 68 landmarks whose
    eyes are 80 px apart: the reach round each corner is 10.4 px."""
    lm = np.zeros((68, 2))
    lm[36], lm[45] = (60, 60), (140, 60)
    a = np.linspace(np.pi, -np.pi, 12, endpoint=False)  # 48: the left corner, then over the top
    lm[48:60] = np.c_[100 + 30 * np.cos(a), 140 - 8 * np.sin(a)]
    img = np.full((200, 200, 3), (200, 160, 140), np.uint8)
    cv2.fillPoly(img, [np.round(lm[48:60]).astype(np.int32)], lips)
    return img, lm


def test_dark_corner_pocket_is_painted_with_skin():
    img, lm = _face()
    pocket = img.copy()
    cv2.circle(pocket, (67, 137), 4, (40, 30, 30), -1)  # a dark wedge just off the left corner
    out = lift_corner_pockets(pocket, lm, 1.0)
    grey = lambda im: im.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])  # noqa: E731
    skin = float(grey(img)[120, 30])
    before, after = float(grey(pocket)[137, 67]), float(grey(out)[137, 67])
    assert before < 0.3 * skin
    assert after > 0.8 * skin, (before, after, skin)
    # the lips' middle and the skin away from the corners stay as they are
    assert np.array_equal(out[140, 95:106], pocket[140, 95:106])
    assert np.array_equal(out[:100], pocket[:100])


def test_half_amount_paints_half_way():
    img, lm = _face()
    cv2.circle(img, (133, 137), 4, (40, 30, 30), -1)
    full = lift_corner_pockets(img, lm, 1.0)[137, 133].astype(float)
    half = lift_corner_pockets(img, lm, 0.5)[137, 133].astype(float)
    start = img[137, 133].astype(float)
    assert np.all(half > start + 10) and np.all(half < full - 10)


def test_nothing_dark_nothing_changed():
    img, lm = _face(lips=(210, 150, 140))  # lips as light as the skin: no pocket
    assert np.array_equal(lift_corner_pockets(img, lm, 1.0), img)
    img, lm = _face()
    cv2.circle(img, (67, 137), 4, (40, 30, 30), -1)
    assert lift_corner_pockets(img, lm, 0.0) is img


def test_pockets_painted_only_for_a_smile_taken_away():
    """A surprised mouth's stretched lips read about half a smile (0.52 on the round-trip face):
    made neutral, its corners are not painted; a whole smile taken away paints them whole."""
    assert pocket_amount(0.52) == 0.0
    assert pocket_amount(1.0) == 1.0
    assert 0.0 < pocket_amount(0.8) < 1.0


def test_a_mouth_the_warp_closes_whole_has_its_pockets_painted_whatever_the_goals_gap():
    """A laugh made neutral whose lips the move closes whole (``closing`` 1: the warp meets them)
    has its corner pockets painted even where the goal's points keep a gap over ``lips_closed``
    (web img9: 0.033, its corners two dark blots); a move that closes them part way does not."""
    from types import SimpleNamespace

    from faceedit.api import Editor
    from faceedit.models.request import EditRequest
    from faceedit.stage import records
    from faceedit.stage.corners import lift_pockets
    from faceedit.stage.state import lip_gap

    st = Editor.from_pretrained("stage", device="cpu").stage
    img, lm = _face()
    cv2.circle(img, (67, 137), 4, (40, 30, 30), -1)  # a dark wedge just off the left corner
    goal = lm.copy()
    gap = st.tuning.edit.lips_closed + 0.005  # eye distances (80 px): the inner lips 3.2 px apart
    goal[[61, 62, 63]] = goal[[61, 62, 63]] * 0 + (100, 140 - 40 * gap)
    goal[[65, 66, 67]] = goal[[65, 66, 67]] * 0 + (100, 140 + 40 * gap)
    goal[36:42], goal[42:48] = (60, 60), (140, 60)
    assert lip_gap(goal) > st.tuning.edit.lips_closed

    def lifted(closing: float) -> np.ndarray:
        face = records.FaceEdit(st.request(EditRequest.of("neutral", 1.0)), lm, goal=goal, closing=closing,
                                smile_taken=1.0)
        face.warped = SimpleNamespace(landmarks=goal)
        return lift_pockets(st, face, img.copy())

    luma = np.float32([0.299, 0.587, 0.114])
    skin = float(img[120, 30] @ luma)
    assert float(lifted(1.0)[137, 67] @ luma) > 0.8 * skin
    assert np.array_equal(lifted(0.5), img)


def test_a_pocket_beside_teeth_takes_the_skin_s_light():
    """A pocket off a corner whose lips hold light teeth beside it (a laugh made surprised: its lower
    teeth reach the corner) is filled from the skin round it, not from the teeth: no lighter than the
    skin (filled from both, the pocket stood as a pale wedge cut into the corner); the lips stay."""
    img, lm = _face()
    cv2.ellipse(img, (74, 140), (3, 2), 0, 0, 360, (250, 250, 245), -1)  # teeth inside the lips, by the corner
    pocket = img.copy()
    cv2.circle(pocket, (67, 140), 3, (40, 30, 30), -1)  # the dark pocket just off the left corner
    out = lift_corner_pockets(pocket, lm, 1.0)
    grey = lambda im: im.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])  # noqa: E731
    skin = float(grey(img)[120, 30])
    lips = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(lips, [np.round(lm[48:60]).astype(np.int32)], 1)
    filled = (grey(pocket) < 0.5 * skin) & (lips == 0)
    assert filled.sum() > 10
    assert float(grey(out)[filled].max()) <= 1.05 * skin, (float(grey(out)[filled].max()), skin)
    assert float(grey(out)[filled].mean()) > 0.8 * skin
    kept = (lips > 0) & (grey(pocket) >= 0.5 * skin)  # the lips, but for the pocket's own pixels on them
    assert np.array_equal(out[kept], pocket[kept])
