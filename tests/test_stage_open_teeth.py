"""Teeth the mouth bank paints (faceedit.stage.mouth_bank, shipped bank, drawn faces): a wide-open
mouth's upper row ends in a tooth's short edge over a dark cavity, not a translucent arc fading
into a lit band below it, at the exemplar's own tips, in a warm shade; a smile's teeth are not
whitened by the person's lighter skin."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from _imgs import EYES, drawn_face

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.cut_curves import opening_polygon
from faceedit.stage.mouth_bank import MouthBank
from faceedit.stage.tuning import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS)
#: The values before the teeth's edge was shortened: a long fade, darker teeth, a lit band
#: under them, the cavity read as light as the real mouths' profile (their teeth in its top rows).
TRANSLUCENT = MouthTuning(upper_teeth_fade_width=0.35, open_teeth_shade=0.7, under_teeth_light=0.3,
                          cavity_ceiling=1.0)


@pytest.fixture(scope="module")
def bank() -> MouthBank:
    return MouthBank.load()


def open_mouth(bank: MouthBank, tuning: MouthTuning) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the drawn face with a surprised-like wide opening filled, its upper and lower curves): an
    opening 110 px tall and 180 wide, a relaxed lip (``teeth_cover`` 0.4, surprised's)."""
    img = drawn_face()
    t = np.linspace(0.0, 1.0, 15)
    x, bump = 150 + 180 * t, np.sin(np.pi * t)
    up, lo = np.c_[x, 200 - 16.5 * bump], np.c_[x, 200 + 93.5 * bump]
    poly = opening_polygon(up, lo)
    x0, y0 = np.floor(poly.min(0)).astype(int) - 4
    x1, y1 = np.ceil(poly.max(0)).astype(int) + 5
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(m, [np.round((poly - [x0, y0]) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    out, _ = bank.fill(img, (x0, y0, x1, y1), m.astype(np.float32) / 255.0, up, lo, teeth_cover=0.4,
                       tuning=tuning)
    return out, up, lo


def profile(bank: MouthBank, tuning: MouthTuning) -> tuple[np.ndarray, float]:
    """(luma down the middle of :func:`open_mouth`'s opening from its upper lip, the skin's
    luma): the middle 41 columns' mean luma per row."""
    out, up, _ = open_mouth(bank, tuning)
    lum = out.astype(np.float64) @ LUMA
    top = int(np.ceil(up[7, 1]))
    skin = drawn_face()[..., :3].astype(np.float64) @ LUMA
    return lum[top:top + 60, 220:261].mean(1), float(skin[150, 240])


def edge(rows: np.ndarray) -> tuple[float, int, int]:
    """(the teeth's peak luma, the first row below it under 3/4 of it, the first under 1/4)."""
    peak = int(np.argmax(rows[:30]))
    below = rows[peak:]
    return float(rows[peak]), peak + int(np.argmax(below < 0.75 * rows[peak])), peak + int(np.argmax(below < 0.25 * rows[peak]))


@pytest.mark.parametrize("tuning", [MouthTuning(), TRANSLUCENT], ids=["shipped", "translucent"])
def test_open_teeth_end_in_a_short_edge_over_the_dark(bank, tuning):
    """The row's lower edge falls from 3/4 of the teeth's peak luma to 1/4 within 3 px (a
    tooth's edge at this size: 2 px; over 0.35 of their depth into the profile's light top rows,
    8 px, a grey arc at 3x), the cavity's first 6 rows below it are under 0.2 of the peak (no
    lit band), and the teeth are at least 0.9 of the skin's luma (teeth, not a grey band: 1.03;
    at 0.7 shade, 0.85). The translucent values fail each part: the test tells them apart."""
    rows, skin = profile(bank, tuning)
    peak, r75, r25 = edge(rows)
    if tuning is TRANSLUCENT:
        assert r25 - r75 > 3 and peak < 0.9 * skin, (peak, r75, r25, skin)
        return
    assert r25 - r75 <= 3, (r75, r25, rows[:30].round(1))
    assert rows[r25:r25 + 6].mean() < 0.2 * peak, (rows[r25:r25 + 6].round(1), peak)
    assert peak >= 0.9 * skin, (peak, skin)


def smile_teeth(bank: MouthBank, img: np.ndarray, tuning: MouthTuning, exemplar: int | None = None):
    """(the 75th-percentile-up teeth luma of a smile's opening, 30 px tall, filled on ``img``
    with the drawn face's landmarks, the exemplar)."""
    lm = np.tile([240.0, 160.0], (68, 1))
    a = np.deg2rad([180, 135, 45, 0, -45, -135])
    for i, (cx, cy) in zip((36, 42), EYES):
        lm[i:i + 6] = np.c_[cx + 28 * np.cos(a), cy - 11 * np.sin(a)]
    t = np.linspace(0.0, 1.0, 15)
    x, bump = 150 + 180 * t, np.sin(np.pi * t)
    up, lo = np.c_[x, 200 - 4.5 * bump], np.c_[x, 200 + 25.5 * bump]
    poly = opening_polygon(up, lo)
    x0, y0 = np.floor(poly.min(0)).astype(int) - 4
    x1, y1 = np.ceil(poly.max(0)).astype(int) + 5
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(m, [np.round((poly - [x0, y0]) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    out, e = bank.fill(img, (x0, y0, x1, y1), m.astype(np.float32) / 255.0, up, lo, face_lm=lm,
                       exemplar=exemplar, tuning=tuning)
    inside = cv2.erode(m, np.ones((7, 7), np.uint8)) == 255
    lum = out[y0:y1, x0:x1][inside].astype(np.float64) @ LUMA
    return float(np.mean(lum[lum >= np.percentile(lum, 75)])), e


@pytest.mark.parametrize("power", [MouthTuning().brighten_power, 0.6], ids=["shipped", "rings"])
def test_lighter_skin_does_not_whiten_the_teeth(bank, power):
    """Lighter skin and lips round the mouth, the eye whites as bright (the London photos'
    0.42-0.66 luma), are the person's tone: skin and lips 1.3 times as light as a face whose
    teeth the colour gains leave as they are brighten the teeth by at most 6 % (on the bank's
    London smiles the teeth follow the rings' gain with a slope of 0.16; at 0.2, 4 %), where
    ``exposure_power``'s 0.6 took them 12 % brighter, which fails it."""
    white = (150, 146, 143)
    light = drawn_face(skin=(170, 127, 106), lip=(140, 77, 75), white=white)
    lighter = drawn_face(skin=(221, 165, 138), lip=(182, 100, 98), white=white)
    tuning = MouthTuning(brighten_power=power)
    t_light, e = smile_teeth(bank, light, tuning)
    t_lighter, _ = smile_teeth(bank, lighter, tuning, e)
    if power == 0.6:
        assert t_lighter > 1.06 * t_light, (t_lighter, t_light)
    else:
        assert t_lighter <= 1.06 * t_light, (t_lighter, t_light)


def test_open_teeth_end_in_their_own_tips(bank):
    """The upper row of a wide-open mouth ends at the exemplar's own incisal edge: the tips'
    round and the notches between them, not a cut at one depth below the lip. Down each of the
    front teeth's columns (every 2nd from 200 to 280), the first row under half the teeth's
    peak departs from a smooth (quadratic) curve by up to 1.5 px; cut at one depth it followed
    the lip's curve to 0.6 px. The drawn face is lit evenly: the edge is the teeth's."""
    out, up, _ = open_mouth(bank, MouthTuning())
    lum = out.astype(np.float64) @ LUMA
    cols = np.arange(200, 281, 2)
    edge = []
    for c in cols:
        top = int(np.ceil(np.interp(c, up[:, 0], up[:, 1])))
        col = lum[top:top + 40, c]
        peak = int(np.argmax(col[:25]))
        edge.append(top + peak + int(np.argmax(col[peak:] < 0.5 * col[peak])))
    residual = np.asarray(edge) - np.polyval(np.polyfit(cols, edge, 2), cols)
    assert np.abs(residual).max() >= 1.0, (edge, residual.round(2))


def test_shaded_teeth_are_warm(bank):
    """Teeth in a mouth's shade take real shaded teeth's warm colour
    (:data:`faceedit.stage.teeth_tone.SHADE_TONE`), not a darkened white's grey: just under the
    upper lip over the front teeth (columns 230-250) their red over blue is at least 4 % above
    that drawn without it (``teeth_bounce`` 0: 1.23 against 1.14 on the drawn face), at the same
    luma within 3 % (149 and 149)."""

    def front(tuning):
        out, up, _ = open_mouth(bank, tuning)
        top = int(np.ceil(up[7, 1]))
        rgb = out[top + 2:top + 8, 230:251].reshape(-1, 3).astype(np.float64).mean(0)
        return rgb[0] / rgb[2], float(rgb @ LUMA)

    (warm, l_warm), (grey, l_grey) = front(MouthTuning()), front(MouthTuning(teeth_bounce=0.0))
    assert warm > 1.04 * grey, (warm, grey)
    assert abs(l_warm - l_grey) < 0.03 * l_grey, (l_warm, l_grey)
