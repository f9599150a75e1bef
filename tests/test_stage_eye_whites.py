"""A smile's teeth take the photo's light and white balance from skin and eye whites alone: eye whites read
darker than ``SCLERA_SKIN`` of the upper cheeks are the iris and lids, not read
(:func:`faceedit.stage.mouth.sclera_colour`); a skin ring round the mouth darker than ``HAIR_RING`` of them is a
beard's hair, and the mouth bank reads the skin on the cheeks (:func:`faceedit.stage.mouth.skin_round_mouth`);
without eye whites the teeth's brightness is capped by the skin alone (:func:`faceedit.stage.teeth_look.teeth_cap`)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_faces_cutwarp import synthetic_lm

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.mouth import HAIR_RING, SCLERA_SKIN, cheeks_skin, ring_stats, sclera_colour, skin_round_mouth
from faceedit.stage.teeth_look import TEETH_OVER_SCLERA, TEETH_OVER_SKIN, teeth_cap

LM = synthetic_lm()
SKIN = (200.0, 160.0, 140.0)
WHITE = (232.0, 228.0, 226.0)
IRIS = (60.0, 42.0, 38.0)  # an iris and the lids' shade: darker and redder than any eye white
_LUMA = np.asarray(LUMA_WEIGHTS, np.float64)


def _photo(skin=SKIN, eyes=WHITE, iris_share=0.4, beard=None, dtype=np.uint8) -> np.ndarray:
    """A skin-coloured photo (a little grain) of the synthetic face: each eye's opening ``eyes`` with an iris
    ``iris_share`` of its width across in :data:`IRIS`; ``beard``: that colour, grained as hair, over the face
    below the nose but the lips."""
    rng = np.random.default_rng(0)
    img = np.empty((400, 512, 3))
    img[:] = skin
    img += rng.normal(0.0, 2.0, img.shape)
    if beard is not None:  # from under the nose's tip down, between the jaw's sides
        chin = np.zeros(img.shape[:2], np.uint8)
        chin[int(LM[30, 1]) + 2:, int(LM[2, 0]) - 20:int(LM[14, 0]) + 20] = 1
        lips = np.zeros_like(chin)
        cv2.fillPoly(lips, [np.round(LM[48:60]).astype(np.int32)], 1)
        hair = (chin > 0) & (cv2.dilate(lips, np.ones((5, 5), np.uint8)) == 0)
        strands = 1.0 + 0.4 * cv2.GaussianBlur(rng.normal(0.0, 1.0, img.shape[:2]), (0, 0), 0.7)
        img[hair] = np.asarray(beard, np.float64) * strands[hair, None]
    for eye in (LM[36:42], LM[42:48]):
        m = np.zeros(img.shape[:2], np.uint8)
        cv2.fillPoly(m, [np.round(eye * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
        img[m > 0] = eyes
        c = eye.mean(0)
        r = iris_share * float(np.linalg.norm(eye[3] - eye[0])) / 2
        iris = np.zeros_like(m)
        cv2.circle(iris, (int(round(c[0])), int(round(c[1]))), max(1, int(round(r))), 1, -1)
        img[(iris > 0) & (m > 0)] = IRIS
    scale = 257.0 if dtype == np.uint16 else 1.0
    return np.clip(img * scale, 0, 255 * scale).astype(dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_open_eyes_whites_are_read_and_an_iris_filling_the_opening_is_not(dtype):
    got = sclera_colour(_photo(dtype=dtype), LM)
    assert got is not None and np.allclose(got, np.asarray(WHITE) / 255.0, atol=0.03)
    # the opening all iris and shade in a lit face: no whites (read, they were 0.2 of the cheeks: pink teeth)
    assert sclera_colour(_photo(eyes=IRIS, dtype=dtype), LM) is None
    # the same eyes in a face as dark: they are what the photo's whites look like there
    dark = (70.0, 56.0, 50.0)
    got = sclera_colour(_photo(skin=dark, eyes=IRIS, dtype=dtype), LM)
    assert got is not None and np.allclose(got, np.asarray(IRIS) / 255.0, atol=0.03)
    cheeks = cheeks_skin(_photo(dtype=dtype), LM)
    assert cheeks is not None and np.allclose(cheeks["skin"], np.asarray(SKIN) / 255.0, atol=0.02)
    assert 0.0 < cheeks["noise"] < 6.0 / 255.0  # the photo's grain (sigma 2 levels), in unit luma


def test_the_threshold_is_the_share_of_the_cheeks():
    """Eye whites just over SCLERA_SKIN of the cheeks' luma are read; just under, not."""
    cheek = float(np.asarray(SKIN) @ _LUMA)
    for share, read in ((SCLERA_SKIN * 1.1, True), (SCLERA_SKIN * 0.9, False)):
        grey = share * cheek
        got = sclera_colour(_photo(eyes=(grey, grey, grey), iris_share=0.0), LM)
        assert (got is not None) is read, (share, got)


def test_cheeks_off_the_photo_leave_the_reading_to_the_eyes():
    cut = _photo(eyes=IRIS)[:int(LM[36:48, 1].max()) + 3]  # the photo ends under the eyes
    assert cheeks_skin(cut, LM) is None
    got = sclera_colour(cut, LM)
    assert got is not None and np.allclose(got, np.asarray(IRIS) / 255.0, atol=0.03)


def test_a_beards_ring_round_the_mouth_reads_the_skin_on_the_cheeks():
    upper, lower = LM[48:55], LM[[48, 59, 58, 57, 56, 55, 54]]
    clean = _photo()
    rings = ring_stats(clean, upper, lower)
    assert skin_round_mouth(clean, rings, LM) is rings  # a clean-shaven ring: the ring
    bearded = _photo(beard=(70.0, 50.0, 38.0))
    rings = ring_stats(bearded, upper, lower)
    cheeks = cheeks_skin(bearded, LM)
    assert cheeks is not None
    assert float(rings["skin"] @ _LUMA) < HAIR_RING * float(cheeks["skin"] @ _LUMA)
    assert rings["noise"] > 3 * cheeks["noise"]  # the hair's strands read as grain
    got = skin_round_mouth(bearded, rings, LM)
    assert np.allclose(got["skin"], np.asarray(SKIN) / 255.0, atol=0.02)
    assert got["noise"] == cheeks["noise"]
    assert np.array_equal(got["lip"], rings["lip"])  # the lips' colour is the ring's


def test_without_eye_whites_the_teeth_are_capped_by_the_skin():
    sclera, skin = np.array([0.80, 0.78, 0.76]), np.array([0.60, 0.48, 0.42])
    assert teeth_cap(None, skin) == pytest.approx(TEETH_OVER_SKIN * float(skin @ _LUMA))
    assert teeth_cap(sclera, skin) == pytest.approx(TEETH_OVER_SCLERA * float(sclera @ _LUMA))
    seen = np.array([0.9, 0.88, 0.85])
    assert teeth_cap(None, skin, seen) == pytest.approx(float(seen @ _LUMA))
