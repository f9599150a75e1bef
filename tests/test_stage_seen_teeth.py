"""A smile's teeth take the colour of the teeth the photo shows where its eyes show no whites
(``teeth_look.seen_teeth``, ``to_seen_teeth``): a squinting face's "eye whites" are lid and skin, and
the mouth bank's teeth took their khaki (insightface's group_t1 face 2 made happy)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from _imgs import group_t1_face

from faceedit.stage.teeth_look import _LUMA, seen_teeth, to_seen_teeth
from faceedit.stage.tuning import MouthTuning


def _mouth_points() -> np.ndarray:
    """68 points (only 48-67 used) of a mouth 60 px wide, lips parted by 6 px."""
    lm = np.zeros((68, 2))
    xs = np.linspace(20.0, 80.0, 7)
    lm[48:55] = np.stack([xs, [50, 44, 42, 43, 42, 44, 50]], 1)  # outer upper, left to right
    lm[55:60] = np.stack([xs[5:0:-1], [58, 61, 62, 61, 58]], 1)  # outer lower, right to left
    lm[60:65] = np.stack([[24, 38, 50, 62, 76], [50, 47, 47, 47, 50]], 1)  # inner upper
    lm[65:68] = np.stack([[62, 50, 38], [53, 53, 53]], 1)  # inner lower, right to left
    return lm


def _face(teeth_rgb, highlight_rgb=None) -> tuple[np.ndarray, np.ndarray]:
    lm = _mouth_points()
    img = np.full((100, 100, 3), (200, 150, 120), np.uint8)
    cv2.fillPoly(img, [np.round(lm[48:60]).astype(np.int32)], (170, 80, 70))
    if teeth_rgb is not None:
        cv2.fillPoly(img, [np.round(lm[60:68]).astype(np.int32)], teeth_rgb)
    if highlight_rgb is not None:  # a gloss on the lower lip, outside the inner lines
        img[57:60, 44:56] = highlight_rgb
    return img, lm


def test_teeth_between_the_inner_lips_give_their_colour():
    img, lm = _face((236, 196, 180))
    seen = seen_teeth(img, lm)
    assert seen is not None
    assert np.allclose(seen * 255.0, (236, 196, 180), atol=1.0)


def test_a_lip_s_highlight_is_no_tooth():
    """A light, grey-ish gloss on the lower lip (as London's closed neutral lips show) passes the
    light and saturation rule, but lies outside the inner lips: no teeth read."""
    img, lm = _face(None, highlight_rgb=(240, 205, 195))
    inner = lm[60:68].copy()
    lm[60:68] = inner.mean(0) + (inner - inner.mean(0)) * [1.0, 0.1]  # the lips closed
    assert seen_teeth(img, lm) is None
    # the same gloss below a line past the lower teeth counts: ``below`` is where teeth were found
    below = np.stack([[24, 38, 50, 62, 76], [50, 60, 60, 60, 50]], 1).astype(np.float64)
    assert seen_teeth(img, lm, below) is not None


def test_a_grey_photo_reads_none():
    img, lm = _face((236, 196, 180))
    assert seen_teeth(img.mean(-1).astype(np.uint8), lm) is None


def test_to_seen_teeth_gives_the_teeth_their_colour_and_keeps_the_dark_s():
    rng = np.random.default_rng(0)
    teeth = np.array([0.82, 0.74, 0.52]) * rng.uniform(0.97, 1.0, (60, 1))  # a yellowed row
    gaps = np.array([0.40, 0.30, 0.22]) * rng.uniform(0.97, 1.0, (20, 1))  # warm dark between
    fill = np.vstack([teeth, gaps]).astype(np.float32)
    seen = np.array([0.93, 0.76, 0.70])
    out = to_seen_teeth(fill, seen, MouthTuning())
    top = np.median(out[:60][(out[:60] @ _LUMA) >= np.percentile(out[:60] @ _LUMA, 75)], 0)
    c_out, c_seen = top / float(top @ _LUMA), seen / float(seen @ _LUMA)
    assert np.abs(c_out - c_seen).max() < 0.01
    assert 0.9 * float(seen @ _LUMA) - 1e-6 <= float(top @ _LUMA) <= 1.1 * float(seen @ _LUMA) + 1e-6
    g_in, g_out = fill[60:].mean(0), out[60:].mean(0)
    assert np.allclose(g_out / (g_out @ _LUMA), g_in / (g_in @ _LUMA), atol=1e-3)  # the gaps' own colour


def test_a_squinting_smile_made_happy_has_teeth_of_the_photo_s_colour():
    """group_t1's face 2 (eyes 43 px apart, squinting: its "eye whites" read r, g, b over luma
    1.28, 0.92, 0.55, more saturated than its skin) made happy: the drawn upper row's whitest
    quarter's chromaticity within 0.06 of the photo's own teeth's (its lower row; the eye whites'
    balance left it 0.14 off in blue: khaki)."""
    from faceedit.api import Editor
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest
    from faceedit.stage.sealed import lower_teeth_line

    rgb, face = group_t1_face(2)
    seen = seen_teeth(rgb, face.landmarks, lower_teeth_line(rgb, face.dense))
    assert seen is not None
    out = edit_faces(Editor.from_pretrained("stage"), rgb, [face], EditRequest.of("happy", 1.0))
    lm = np.asarray(face.landmarks)
    # the new upper row: from 2 px above the points' inner upper lip 6 rows down, across the middle half
    x0, x1 = int(lm[60, 0] + 0.25 * (lm[64, 0] - lm[60, 0])), int(lm[64, 0] - 0.25 * (lm[64, 0] - lm[60, 0]))
    y0 = int(lm[61:64, 1].min()) - 2
    band = out[y0:y0 + 6, x0:x1].reshape(-1, 3).astype(np.float64) / 255.0
    changed = np.abs(out[y0:y0 + 6, x0:x1].astype(int) - rgb[y0:y0 + 6, x0:x1]).max(-1).reshape(-1) > 8
    band = band[changed]
    white = band @ _LUMA - 3.0 * (band.max(1) - band.min(1))
    top = np.median(band[white >= np.percentile(white, 75)], 0)
    c_top, c_seen = top / float(top @ _LUMA), seen / float(seen @ _LUMA)
    assert np.abs(c_top - c_seen).max() < 0.06, (np.round(c_top, 3), np.round(c_seen, 3))


def test_the_teeth_cap_is_at_least_the_photo_s_own_teeth():
    """A blurred photo's eye whites read dark (London 061 smiling, blurred: 0.32 luma), and the cap
    (1.4 times them) drew its teeth dimmer than the photo's own (0.45 against 0.53)."""
    from faceedit.stage.teeth_look import teeth_cap

    sclera, skin, seen = np.array([0.34, 0.32, 0.29]), np.array([0.30, 0.22, 0.18]), np.array([0.64, 0.61, 0.55])
    assert teeth_cap(sclera, skin) < 0.46
    assert teeth_cap(sclera, skin, seen) == pytest.approx(float(seen @ _LUMA))
    assert teeth_cap(sclera, skin, seen * 0.5) == teeth_cap(sclera, skin)  # never lowered


def _light_scene(blur: float):
    """A 160 x 200 crop of skin with lips blurred by ``blur`` px and a smile's light opening (teeth, 60 x 16 px)
    pasted sharp over them, as the mouth bank draws it; the opening's mask and roi."""
    img = np.full((160, 200, 3), (190, 140, 120), np.uint8)
    cv2.ellipse(img, (100, 90), (50, 22), 0, 0, 360, (120, 60, 60), -1)  # the lips
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    op = np.zeros((160, 200), np.float32)
    cv2.ellipse(op, (100, 90), (30, 8), 0, 0, 360, 1.0, -1)
    img[op > 0.5] = (235, 225, 210)
    return img, op, (0, 0, 200, 160)


def _top_step(img: np.ndarray, op: np.ndarray) -> float:
    """The steepest one-pixel luma step down the opening's middle third's columns, from 8 px above its
    top to its middle: where the teeth meet the upper lip. The median over the columns."""
    y = img.astype(np.float64) @ _LUMA
    ys, xs = np.nonzero(op > 0.5)
    x0, x1 = np.percentile(xs, [33, 67]).astype(int)
    steps = []
    for x in range(x0, x1):
        col = np.nonzero(op[:, x] > 0.5)[0]
        steps.append(float(np.abs(np.diff(y[col[0] - 8:(col[0] + col[-1]) // 2, x])).max()))
    return float(np.median(steps))


@pytest.mark.parametrize("blur", [2.5, 0.8])
def test_a_smile_in_a_soft_photo_meets_the_lip_as_softly_as_the_photo(blur):
    """A smile's sharp light fill over lips blurred by 2.5 px: its edge softened from both sides all round
    (``small_cavity.soft_smile_edge``): the top's and the bottom's steepest steps at most two thirds of the
    ones softened from inside alone, nothing changed 20 px away; over lips blurred by 0.8 px (under
    ``MouthTuning.smile_soft_knee`` beyond the fill's own blur) nothing changed."""
    from faceedit.stage.blur_reading import photo_blur
    from faceedit.stage.small_cavity import open_edge, soft_smile_edge
    from faceedit.stage.tuning import MouthTuning

    img, op, roi = _light_scene(blur)
    poly = cv2.findContours((op > 0.5).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0][0][:, 0, :]
    rings = {"blur": photo_blur(img, poly.astype(np.float64))}
    tn = MouthTuning()
    inside = img.copy()
    open_edge(inside, roi, op, tn, rings, 60.0, smile=True, own_teeth=False)  # the fill's own edge, inside
    out = inside.copy()
    soft_smile_edge(out, roi, op, tn, rings["blur"])
    if blur > 2:
        assert rings["blur"] > 2.0
        assert _top_step(out, op) <= (2.0 / 3.0) * _top_step(inside, op), (_top_step(out, op), _top_step(inside, op))
        assert _top_step(out[::-1], op[::-1]) <= (2.0 / 3.0) * _top_step(inside[::-1], op[::-1])  # the lower rim
        far = cv2.distanceTransform((op <= 0.5).astype(np.uint8), cv2.DIST_L2, 5) > 20
        assert np.array_equal(out[far], img[far])
    else:
        assert rings["blur"] < tn.smile_soft_knee
        assert np.array_equal(out, inside)
