"""A raised brow is carried whole down to its hairs' lower edge (faceedit.stage.brow_band.brow_depths,
faceedit.stage.warp.carried_points' ``brows``): a thick brow made surprised keeps its height, the skin
between it and the lashes stretches."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_stage_carried_bands import LM, WIDTH, _move

from faceedit.faces.landmarks import eye_distance
from faceedit.stage.brow_band import brow_depths
from faceedit.stage.cutwarp import cut_warp
from faceedit.stage.tuning_face import WarpTuning
from faceedit.stage.warp import UPPER_LIDS, carried_points

BANDS = WarpTuning().carried_bands
SKIN = WarpTuning().brow_band[3]


def _photo(depth: float, dtype=np.uint8) -> np.ndarray:
    """A skin-grey photo (a little grain) with each brow drawn dark from its 68 points ``depth`` eye
    widths down the face."""
    rng = np.random.default_rng(1)
    img = 170.0 + rng.normal(0.0, 3.0, (1280, 1280))
    mask = np.zeros(img.shape, np.uint8)
    for brow in (LM[17:22], LM[22:27]):
        poly = np.vstack([brow, brow[::-1] + [0.0, depth * WIDTH]])
        cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 1, cv2.LINE_AA, shift=4)
    img = np.where(mask > 0, 60.0, img)
    scale = 257.0 if dtype == np.uint16 else 1.0
    return np.repeat((img * scale)[..., None], 3, -1).astype(dtype)


@pytest.mark.parametrize("depth", [0.32, 0.42])
def test_a_thick_brows_lower_edge_is_read(depth):
    for dtype in (np.uint8, np.uint16):
        got = brow_depths(_photo(depth, dtype), LM)
        assert np.allclose(got, depth, atol=0.04), (depth, got)


def test_a_thin_brow_or_a_shadow_down_to_the_lid_keeps_the_default_band_and_none_is_deeper_than_the_most():
    least = BANDS[1]
    assert np.allclose(brow_depths(_photo(0.12), LM), least)  # thinner than the band: the band
    gap = float(LM[19, 1] - LM[37, 1]) / WIDTH
    assert np.allclose(brow_depths(_photo(gap + 0.1), LM), least)  # dark down to the lid: no edge found
    most = WarpTuning().brow_band[2]
    assert np.allclose(brow_depths(_photo(most + 0.15), LM), most)  # thicker than the most: the most


def test_the_brows_band_reaches_its_depth_where_there_is_room_and_stops_short_of_the_lashes():
    moved = _move(0.06, 0.15)
    plain = carried_points(LM, moved, *BANDS)
    same = carried_points(LM, moved, *BANDS, brows=(np.array([BANDS[1], BANDS[1]]), SKIN))
    for a, b in zip(plain, same):
        np.testing.assert_array_equal(a, b)  # at the default depth: as without
    after, before, share = carried_points(LM, moved, *BANDS, brows=(np.array([0.4, 2.0]), SKIN))
    lash, brow = slice(0, None, 2), slice(1, None, 2)
    deep = (before[brow, 1] - plain[1][brow, 1]) / WIDTH + BANDS[1]  # (the face upright: down is +y)
    assert np.allclose(deep[:2], 0.4)  # the image's left brow: its depth
    short = (before[lash, 1] - before[brow, 1])[2:] / WIDTH  # the right: to the lashes' band less the skin
    assert np.all(deep[2:] < 2.0) and np.allclose(short, SKIN)
    np.testing.assert_allclose(after[brow] - before[brow], np.tile([0.0, -0.15 * eye_distance(LM)], (4, 1)))
    np.testing.assert_array_equal(share, plain[2])


def _hung_from() -> list[int]:
    """The brow points the brows' bands hang from: each nearest above an upper lid's middle point."""
    return [int(brow[int(np.argmin(np.abs(LM[list(brow), 0] - LM[i, 0])))]) for (_, b, c, _), brow in UPPER_LIDS
            for i in (b, c)]


def _rows_shown(photo_depth: float, brows: np.ndarray | None) -> float:
    """The fewest rows of the source per row the warp shows over the brows' hairs (from each point a band
    hangs from down ``photo_depth`` eye widths) made surprised: 1 carried whole, under 1 drawn out. Read
    off a photo whose pixels say where they are."""
    k = 40.0
    yy = np.mgrid[0:1280, 0:1280][0].astype(np.float64)
    ramp = np.repeat((yy * k)[..., None], 3, -1).astype(np.uint16)
    moved = _move(0.06, 0.15)
    at = cut_warp(ramp, LM, moved, brows=brows).pixels.astype(np.float64)[..., 0] / k
    shown = np.inf
    for j in _hung_from():
        x, y = moved[j]
        h = photo_depth * WIDTH
        shown = min(shown, (at[int(round(y + h)), int(round(x))] - at[int(round(y)), int(round(x))]) / h)
    return shown


def test_a_thick_brow_raised_keeps_its_height():
    depth = 0.45
    read = brow_depths(_photo(depth), LM)
    without = _rows_shown(depth, None)
    carried = _rows_shown(depth, read)
    assert without < 0.9  # the premise: the default band leaves the thick brow's lower hairs drawn out
    assert carried > 0.96, (without, carried, read)


def test_a_video_track_carries_its_first_edits_brow_depths():
    """The brows' depths read from a photo move a little from frame to frame (GRID's talking clips: up to 0.1 eye
    widths): a track's later frames take its first edit's (``Carried.brows``), so a raised brow's band does not
    flicker; an edit without them reads its own and hands them on."""
    from _imgs import astronaut

    from faceedit.api import Editor
    from faceedit.models.request import EditRequest
    from faceedit.stage.records import Carried, StageFace

    rgb = astronaut()
    ed = Editor.from_pretrained("stage", device="cpu")
    face = max(ed.detector.detect(rgb), key=lambda f: f.area)
    request = EditRequest.of("surprised")
    first, done = ed.stage.edit_photo(rgb, [StageFace(face.landmarks, face.dense)], request)
    read = done[0].carried.brows
    assert read is not None and np.allclose(read, brow_depths(rgb, face.landmarks))
    again, _ = ed.stage.edit_photo(rgb, [StageFace(face.landmarks, face.dense, Carried(brows=read))], request)
    assert np.array_equal(again, first)
    other = read + 0.15
    later, done = ed.stage.edit_photo(rgb, [StageFace(face.landmarks, face.dense, Carried(brows=other))], request)
    assert np.array_equal(done[0].carried.brows, other) and not np.array_equal(later, first)
    assert Carried(brows=None).merged(Carried(brows=read)).brows is read
