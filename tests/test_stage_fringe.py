"""A fringe kept where it hung while the brows move under it (faceedit.stage.fringe): the share
reads a dark fringe hanging to the brows and nothing on a bare forehead or the brows' own hairs;
raised brows leave the fringe as the photo had it and the skin under it as warped; a warp that
drags the fringe down (anger) and a bare forehead are left as the warp drew them."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from faceedit.stage import fringe
from faceedit.stage.model import Stage
from faceedit.stage.moves import face_frame

SKIN, HAIR, BROW = (200, 160, 140), (50, 35, 30), (90, 70, 60)


@pytest.fixture(scope="module")
def lm() -> np.ndarray:
    """The stage's mean neutral face at 4x its 256-px frame (an eye distance near 250 px)."""
    return Stage.from_pretrained("stage")._a("mean_shape").astype(np.float64) * 4.0


def _photo(lm: np.ndarray, edge: float | None) -> np.ndarray:
    """Skin with the brows drawn and, with ``edge``, a dark fringe from the top down to ``edge``
    eye distances above the brows' top, across the forehead; a little noise."""
    img = np.zeros((1100, 1100, 3), np.uint8)
    img[:] = SKIN
    ed = face_frame(lm)[2]
    for side in (lm[17:22], lm[22:27]):
        cv2.polylines(img, [np.round(side + [0, 0.04 * ed]).astype(np.int32)], False, BROW, int(0.06 * ed))
    if edge is not None:
        y = int(lm[17:27, 1].min() - edge * ed)
        img[:y, int(lm[0, 0]):int(lm[16, 0])] = HAIR
    rng = np.random.default_rng(0)
    return np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)


class _Warped:
    """A warp that samples each pixel ``dy`` px below it (the forehead moved up by ``dy``)."""

    def __init__(self, dy: float, landmarks: np.ndarray):
        self.dy, self.landmarks = dy, landmarks

    def source_points(self, box):
        x0, y0, x1, y1 = box
        xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
        return np.stack([xs, ys + self.dy], -1)


def _warp(img: np.ndarray, dy: int) -> np.ndarray:
    return np.roll(img, -dy, axis=0) if dy > 0 else np.concatenate([np.repeat(img[:1], -dy, 0), img[:dy]], 0)


def test_the_share_reads_a_fringe_and_not_a_bare_forehead(lm):
    ed = face_frame(lm)[2]
    photo = _photo(lm, 0.1)
    box = fringe.fringe_box(lm, photo.shape)
    assert box is not None
    x0, y0, x1, y1 = box
    share = fringe.fringe_share(photo, lm, box)
    top = float(lm[17:27, 1].min())
    mid = slice(int(lm[19, 0]) - x0, int(lm[24, 0]) - x0)
    assert share[: int(top - 0.25 * ed) - y0, mid].mean() > 0.9  # the fringe
    assert share[int(top - 0.03 * ed) - y0:, mid].max() < 0.05  # the brows and the skin under them
    bare = fringe.fringe_share(_photo(lm, None), lm, box)
    assert bare.max() == 0.0  # the brows alone are not a fringe
    high = fringe.fringe_share(_photo(lm, 0.8), lm, box)  # a hairline high above the brows
    assert high[:, mid].max() < 0.05


def test_raised_brows_go_under_a_fringe_that_stays(lm):
    ed = face_frame(lm)[2]
    photo = _photo(lm, 0.1)
    dy = int(0.1 * ed)
    after = _warp(photo, dy)  # the forehead and its fringe moved up
    face = SimpleNamespace(landmarks=lm, warped=_Warped(dy, lm - [0, dy]))
    out = fringe.keep_fringe(None, face, photo, after.copy())
    top = float(lm[17:27, 1].min())
    x = int(lm[21, 0] + lm[22, 0]) // 2
    edge = int(top - 0.1 * ed)
    # the fringe reaches as far down as it did; the warp had lifted its edge
    assert np.abs(out[edge - 4, x].astype(int) - HAIR).max() < 25
    assert np.abs(after[edge - 4, x].astype(int) - SKIN).max() < 25
    # the skin under the edge and the brows are as warped
    below = slice(edge + int(0.1 * ed), int(top + 0.4 * ed))
    assert np.array_equal(out[below], after[below])


def test_a_dragged_fringe_and_a_bare_forehead_are_left_as_warped(lm):
    ed = face_frame(lm)[2]
    photo = _photo(lm, 0.1)
    dy = -int(0.1 * ed)
    after = _warp(photo, dy)  # the fringe dragged down with the brows (anger)
    face = SimpleNamespace(landmarks=lm, warped=_Warped(dy, lm - [0, dy]))
    assert np.array_equal(fringe.keep_fringe(None, face, photo, after.copy()), after)
    bare = _photo(lm, None)
    lifted = _warp(bare, -dy)
    face = SimpleNamespace(landmarks=lm, warped=_Warped(-dy, lm + [0, dy]))
    assert np.array_equal(fringe.keep_fringe(None, face, bare, lifted.copy()), lifted)


def test_the_kept_fringe_fades_out_to_its_box_s_top_and_sides():
    fade = fringe.box_fade((100, 200), 250.0)
    assert fade[0].max() < 0.05 and fade[:, 0].max() < 0.05 and fade[:, -1].max() < 0.05
    assert fade[50, 100] == 1.0 and fade[-1, 100] == 1.0  # none at its bottom, under the brows


def test_hair_down_the_temples_leaves_the_brows_outer_ends_as_brow(lm):
    """Side hair that meets each brow's outer end from the temple (JAFFE's) is no fringe hanging
    over the brow: the brow's own end is not laid back, so a raised brow takes it along (laid
    back, it stayed as a hook or a detached smudge under the raised end)."""
    ed = face_frame(lm)[2]
    photo = _photo(lm, None)
    brow_y = int(lm[17:27, 1].max() + 0.08 * ed)
    left, right = int(lm[17, 0] + 0.1 * ed), int(lm[26, 0] - 0.1 * ed)
    photo[:brow_y, :left] = HAIR
    photo[:brow_y, right:] = HAIR
    box = fringe.fringe_box(lm, photo.shape)
    assert box is not None
    x0, y0, x1, y1 = box
    share = fringe.fringe_share(photo, lm, box)
    assert share[: int(lm[17:27, 1].min() - 0.3 * ed) - y0, : left - x0].mean() > 0.5  # the side hair is hair
    for end, nxt in ((17, 18), (26, 25)):  # along the brows' outer stretch, on the brow
        for t in (0.0, 0.5):
            x, y = (lm[end] + t * (lm[nxt] - lm[end]) + [0, 0.04 * ed]).astype(int)
            assert share[y - y0, x - x0] < 0.05, (end, t)
