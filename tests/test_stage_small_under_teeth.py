"""A small face's smile over its own upper teeth is painted whole from the mouth bank
(:func:`faceedit.stage.teeth_look.small_smile`, :func:`faceedit.stage.mouth_steps.fill_mouth`): its own
teeth there are a band of a few px, which over the bank's lower row stood as a thin lit seam above
a grey wall (London 008 smiling at 64-128 px made happy). A relaxed lip (fear, surprise) or a large
mouth is not such a smile. And a small face's own teeth carried down with the lower lip just under
a smile drawn from the bank (:func:`faceedit.stage.teeth_look.carried_row`) go into the lip's
shade, not a second lit row."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
from _imgs import drawn_face, mouth_opening

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.cut_curves import opening_polygon
from faceedit.stage.tuning import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS, np.float64)
TEETH = (230, 228, 222)


def _small_smile():
    """A drawn face shrunk to a mouth 44 px wide, its own upper teeth a 2-px band (``band``) under
    the upper lip (left out of the opening ``op``, as the stage carries them), the opening below."""
    img = cv2.resize(drawn_face(), (120, 90), interpolation=cv2.INTER_AREA)
    up, lo, (x0, y0, x1, y1), op = mouth_opening(38, 50, 44, 1.0, 6.0, 3)
    band = np.zeros_like(op)
    for c in range(op.shape[1]):
        rows = np.flatnonzero(op[:, c] > 0.5)
        if len(rows) > 4:
            band[rows[0]:rows[0] + 2, c] = 1.0
    img[y0:y1, x0:x1][band > 0] = TEETH
    return img, (x0, y0, x1, y1), op * (1.0 - band), up, lo, band


def test_a_small_smile_over_its_own_teeth_is_painted_whole_from_the_bank():
    from faceedit.stage.mouth_bank import MouthBank
    from faceedit.stage.teeth_look import small_smile

    tn = MouthTuning()
    img, roi, op, up, lo, band = _small_smile()
    assert small_smile(up, lo, 0.0, tn)
    assert not small_smile(up, lo, 0.4, tn)  # a relaxed lip: an open mouth, its cavity under the teeth
    mid = (up[0] + up[-1]) / 2
    assert not small_smile(mid + 3 * (up - mid), mid + 3 * (lo - mid), 0.0, tn)  # a mouth 132 px wide
    out, _ = MouthBank.load().fill(img, roi, op + band, up, lo, tuning=tn, exemplar=14)
    x0, y0, x1, y1 = roi
    luma = out[y0:y1, x0:x1].astype(np.float64) @ LUMA
    lip = float(np.asarray((168, 92, 90)) @ LUMA)
    assert np.median(luma[op > 0.9]) > 0.6 * lip  # teeth in the lips' light, not a gap
    # the own band is the bank's smile now: no seam of the photo's teeth over it
    own = np.all(out[y0:y1, x0:x1] == np.asarray(TEETH, np.uint8), axis=-1)
    assert not own[band > 0].any()


def _carried(lit: bool):
    """A drawn face's small smile (mouth 44 px wide) drawn from the bank whole, with (``lit``)
    or without the face's own teeth as a 2-px band just under the opening (carried down with
    the lower lip)."""
    img, roi, _, up, lo, _ = _small_smile()
    x0, y0, x1, y1 = roi
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(m, [np.round((opening_polygon(up, lo) - [x0, y0]) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    full = m.astype(np.float32) / 255.0  # no own teeth at the top: all of it is the opening
    band = np.zeros(full.shape, bool)
    for c in range(full.shape[1]):
        rows = np.flatnonzero(full[:, c] > 0.5)
        if len(rows) > 2:
            band[rows[-1] + 1:rows[-1] + 3, c] = True
    if lit:
        img[y0:y1, x0:x1][band] = TEETH
    return img, roi, full, up, lo, band


def test_a_small_face_s_own_teeth_carried_under_the_smile_go_into_the_lip_s_shade():
    from faceedit.stage.mouth_bank import MouthBank
    from faceedit.stage.teeth_look import carried_row

    bank = MouthBank.load()
    tn = MouthTuning()
    img, roi, op, up, lo, band = _carried(True)
    x0, y0, x1, y1 = roi
    lip = np.asarray((168, 92, 90), np.float64) / 255.0
    assert carried_row(img, roi, op, lip, 44.0, tn)
    assert not carried_row(*_carried(False)[:3], lip, 44.0, tn)
    assert not carried_row(img, roi, op, lip, 120.0, tn)  # a large face's: not a small face's smile
    out, e = bank.fill(img, roi, op, up, lo, tuning=tn, exemplar=14)
    kept, _ = bank.fill(img, roi, op, up, lo, tuning=replace(tn, carried_row_less_red=9.0), exemplar=e)
    lum_teeth = float(np.asarray(TEETH, np.float64) @ LUMA)
    shaded = out[y0:y1, x0:x1][band].astype(np.float64) @ LUMA
    left = kept[y0:y1, x0:x1][band].astype(np.float64) @ LUMA
    assert np.median(left) > 0.8 * lum_teeth  # left alone: a second, lit row
    assert np.median(shaded) < 0.6 * lum_teeth  # in the lower lip's shade
