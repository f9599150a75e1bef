"""A network's change is held off the open mouth the stage invented and the lips round it
(faceedit.flow.Flow.paste, faceedit.faces.paste.mouth_hold): the stage's dark interior and its
lips are the photo's, the network's change fades in around them and stays whole elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

from faceedit.api import Editor
from faceedit.faces.paste import LIPS_HOLD_GROW, held_weight, lips_region, mouth_hold
from faceedit.flow import prepare_photo, select_faces
from faceedit.models.hub import weights_present
from faceedit.models.registry import get_spec
from faceedit.models.request import EditRequest


def test_the_held_weight_is_whole_over_the_region_and_nil_beyond_twice_its_reach():
    cov = np.zeros((40, 100), np.float32)
    cov[10:30, 10:90] = 1.0
    cov[9, 10:90] = 0.5  # an anti-aliased edge
    box, w = held_weight((200, 300), ((100, 80, 200, 120), cov))
    x0, y0, x1, y1 = box
    # the box is the region's own (its non-zero rows and columns, 110..190 x 89..110) grown
    assert w.shape == (y1 - y0, x1 - x0) and 100 <= x0 < 110 and 80 <= y0 < 89 and 190 < x1 <= 200 and 110 < y1 <= 120
    inside = w[80 - y0 + 10:80 - y0 + 30, 100 - x0 + 10:100 - x0 + 90]
    assert inside.min() == 1.0
    r = round(0.03 * 80)  # grow: a share of the region's width (80 columns)
    row = w[80 - y0 + 20]  # a row through the middle, past the right edge of the region
    right = 100 - x0 + 90  # the first column outside
    assert row[right] > 0.9 and 0.3 < row[right + r - 1] < 0.8 and row[right + 2 * r + 1] < 0.05
    assert row[right + 3 * r:].max() < 1e-3
    assert held_weight((200, 300), ((0, 0, 10, 10), np.zeros((10, 10), np.float32))) is None
    # a region reaching past the photo's edge is cut to it
    box, w = held_weight((50, 60), ((40, 30, 80, 70), np.ones((40, 40), np.float32)))
    assert box[2] == 60 and box[3] == 50 and w[-1, -1] == 1.0


@pytest.fixture(scope="module")
def stage_editor() -> Editor:
    if not weights_present(get_spec("stage")):
        pytest.skip("shipped stage weights not present")
    return Editor.from_pretrained("stage", device="cpu", detector="dlib")


def test_a_network_s_change_is_held_off_the_stage_s_open_mouth(tmp_path, stage_editor, astronaut):
    """A network that darkens the whole face by 64 levels, on the stage: inside the opening the
    stage painted the photo is the stage's to the level; the face around it is darker."""
    from tiny_model import save_tiny

    path = save_tiny(tmp_path / "darkens.safetensors", targets=["surprised"], stage="stage")
    editor = Editor.from_pretrained(path, device="cpu", detector="dlib")
    assert editor.uses_network("surprised")
    faces = select_faces(editor.detector.detect(astronaut))
    staged = prepare_photo(stage_editor, astronaut, faces, EditRequest("surprised"))
    (x0, y0, x1, y1), cov = staged.edits[0].invented
    assert (cov >= 1.0).sum() > 50  # the mouth opened
    out = editor.edit(astronaut, "surprised")
    stage_alone = stage_editor.edit(astronaut, "surprised")
    assert np.array_equal(stage_alone, staged.pixels)
    inside = cov >= 1.0
    assert np.array_equal(out[y0:y1, x0:x1][inside], stage_alone[y0:y1, x0:x1][inside])
    # the lips the stage drew round its opening are its own to the level too
    lm = np.asarray(staged.edits[0].landmarks, np.float64)
    (lx0, ly0, lx1, ly1), lcov = lips_region(out.shape, lm)
    on_lips = lcov >= 1.0
    assert on_lips.sum() > 200
    assert np.array_equal(out[ly0:ly1, lx0:lx1][on_lips], stage_alone[ly0:ly1, lx0:lx1][on_lips])
    # beyond the hold the network's darkening is there whole: the face, the cheeks beside the lips
    # (below them the surprised jaw drops to the feather of the face mask's edge: 7 of 399 chin
    # pixels darker by 20 levels, 83 of 448 before surprise's mouth was lowered, moves.ADDED_MOVES)
    box, w = mouth_hold(out.shape, staged.edits[0].invented, lm)
    face = (slice(90, 150), slice(190, 250))
    assert out[face].mean() < stage_alone[face].mean() - 20
    bx0, by0, bx1, by1 = box
    free = np.ones(out.shape[:2], bool)
    free[by0:by1, bx0:bx1] = w < 1e-3
    beside = np.zeros_like(free)  # the lips' rows, out to 1.2 mouth widths past the corners
    mw = float(lm[54, 0] - lm[48, 0])
    beside[int(lm[51, 1]):int(lm[57, 1]), int(lm[48, 0] - 1.2 * mw):int(lm[54, 0] + 1.2 * mw) + 1] = True
    assert (beside & free).sum() > 500
    darker = out[beside & free].astype(int).mean(1) - stage_alone[beside & free].mean(1)
    assert (darker < -20).sum() > 200  # 420 of 1294 (the rest within the feather of the mask's edge)


def test_the_mouth_hold_covers_the_lips_and_fades_beyond_them():
    """The lips' outline (68 points 48-59) held whole, the weight falling to nil within twice
    :data:`LIPS_HOLD_GROW` of their width (and the blur's reach) past them; the invented region's
    own hold inside it."""
    lm = np.zeros((68, 2))
    t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    lm[48:60] = np.stack([150 + 50 * np.cos(t), 100 + 20 * np.sin(t)], 1)  # lips 100 px wide
    cov = np.zeros((10, 40), np.float32)
    cov[2:8, 5:35] = 1.0
    invented = ((130, 95, 170, 105), cov)
    box, w = mouth_hold((200, 300), invented, lm)
    x0, y0, x1, y1 = box
    assert w[100 - y0, 150 - x0] == 1.0 and w[100 - y0, 195 - x0] == 1.0  # inside the lips
    r = round(LIPS_HOLD_GROW * 100)
    row = w[100 - y0]
    assert 0.3 < row[201 + r - x0] < 0.8 and row[201 + 3 * r - x0:].max() < 0.05
    # without landmarks the invented region's hold alone, as held_weight gives it
    b2, w2 = mouth_hold((200, 300), invented)
    b3, w3 = held_weight((200, 300), invented)
    assert b2 == b3 and np.array_equal(w2, w3)
