"""The closed eye's corners (faceedit.stage.lid_corners): the raised lower lid's glint cap darkens
a glint but leaves a broad light patch of skin its grain (``cap_reach``), and eases out towards
the corners, so the closed eye meets the photo's own skin at its inner end with no straight side."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceedit.stage.lid_corners import cap_glints, near_corner
from faceedit.stage.lids import close_lids, eye_margins
from faceedit.stage.tuning_lids import LidsTuning


def _grain(img: np.ndarray) -> np.ndarray:
    lum = img.mean(-1)
    return lum - cv2.GaussianBlur(lum, (0, 0), 2.0)


def test_above_the_lids_meeting_a_glint_is_capped_and_a_broad_light_patch_keeps_its_grain():
    """Skin (0.3) with a broad light patch (0.2 lighter, 20 px across) and the photo's grain on it,
    and a 3-px glint (0.95) beside it, capped at the skin's light (0.3) over the lids' meeting,
    its surroundings' light read over 8 px (cap_reach): the patch keeps its light (0.95 of it) and
    its grain's darker half (only what stands out of the light around it is capped; 0.20 of the
    grain's spread), the glint comes down to the skin's (0.32). Capped at the skin's light alone,
    the patch is a flat block (0.61 of its light, no grain)."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:64, :96].astype(np.float32)
    patch = 0.2 * np.exp(-((yy - 32) ** 2 + (xx - 30) ** 2) / (2 * 20.0 ** 2))
    img = np.repeat((0.3 + patch + rng.normal(0, 0.02, yy.shape))[..., None], 3, -1).astype(np.float32)
    img[31:34, 84:87] = 0.95
    w, met = np.ones_like(yy), np.ones(yy.shape, bool)
    core = (yy - 32) ** 2 + (xx - 30) ** 2 < 6 ** 2
    out = cap_glints(img, 0.3, w, met, 8.0)
    assert out[core].mean() > 0.9 * img[core].mean()
    assert _grain(out)[core].std() > 0.15 * _grain(img)[core].std()
    assert out[31:34, 84:87].max() < 0.4
    flat = cap_glints(img, 0.3, w, ~met, 8.0)  # the skin's light alone
    assert _grain(flat)[core].std() < 0.05 * _grain(img)[core].std()
    assert flat[31:34, 84:87].max() < 0.32


def test_the_cap_eases_out_at_both_corners():
    """near_corner: 1 at each corner, 0 from cap_corner of the eye's width in, in between falling."""
    tn = LidsTuning()
    x = np.linspace(10.0, 110.0, 101)
    v = near_corner(x, (10.0, 110.0), tn)
    assert v[0] == pytest.approx(1.0) and v[-1] == pytest.approx(1.0)
    inner = np.abs(x - 60) <= 50 - 100 * tn.cap_corner
    assert (v[inner] == 0).all()
    assert (np.diff(v[x < 10 + 100 * tn.cap_corner]) <= 0).all()


def _inner_end(out: np.ndarray, eye) -> np.ndarray:
    """The luma of the closed eye's inner end: 1-7 px in from its corner, over the rows of the
    roots above where the lids meet there."""
    lum = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(np.float32)
    i, s = (len(eye.xs) - 1, -1.0) if eye.side == 0 else (0, 1.0)
    meet = eye.lower[i] - LidsTuning.meet * (eye.lower[i] - eye.upper[i])
    ys, d = np.meshgrid(meet - np.linspace(0.0, LidsTuning.roots * eye.tall, 6), np.arange(1.0, 8.0))
    p = eye.to_photo(eye.xs[i] + s * d.ravel(), ys.ravel()).astype(np.float32)
    return cv2.remap(lum, p[:, 0][None], p[:, 1][None], cv2.INTER_LINEAR)[0]


@pytest.mark.shared_data
def test_the_closed_eye_s_inner_end_meets_the_photo_s_light_at_the_corner():
    """099 smiling (held out, 1350 px), blink 1: the light skin at the image-right eye's inner
    corner runs on into the closed eye's inner end, as light as the photo's there (0.92 of it
    measured); capped up to the corner it was a flat grey-blue block with a straight side, 0.82
    of it."""
    from test_stage_lids import _held_out

    img, lm, mesh = _held_out("099.jpg", "smiling")
    eye = eye_margins(img, lm, mesh, 1)
    out = close_lids(img, lm, mesh, (1.0, 1.0))
    assert _inner_end(out, eye).mean() > 0.9 * _inner_end(img, eye).mean()


def _red_over_blue(img: np.ndarray, eye, corner: bool) -> float:
    """Red over blue (RGB means) of the closed eye's inner end (``corner``: 0.04-0.2 of the eye's
    width in from its inner corner, from the lash roots above where the lids meet down to the
    lower margin) or of the skin next to it (0.05-0.25 of the width beyond the corner, half an
    eye height either side of its middle: lid_corners.corner_skin's)."""
    inner = len(eye.xs) - 1 if eye.side == 0 else 0
    s = -1.0 if eye.side == 0 else 1.0
    wide = eye.xs[-1] - eye.xs[0]
    if corner:
        x = eye.xs[inner] + s * np.arange(0.04 * wide, 0.2 * wide)
        up, low = np.interp(x, eye.xs, eye.upper), np.interp(x, eye.xs, eye.lower)
        top = low - LidsTuning.meet * (low - up) - LidsTuning.roots * eye.tall
        t = np.linspace(0.0, 1.0, 8)[:, None]
        xs, ys = np.broadcast_to(x, (8, len(x))), top + t * (low - top)
    else:
        dx, dy = np.meshgrid(np.arange(0.05 * wide, 0.25 * wide), np.arange(-0.5 * eye.tall, 0.5 * eye.tall + 1))
        xs, ys = eye.xs[inner] - s * dx, (eye.upper[inner] + eye.lower[inner]) / 2 + dy
    p = eye.to_photo(xs.ravel(), ys.ravel()).astype(np.float32)
    rgb = cv2.remap(img, p[:, 0][None], p[:, 1][None], cv2.INTER_LINEAR)[0].astype(np.float32)
    c = rgb.mean(0) if corner else np.median(rgb, 0)
    return float(c[0] / c[2])


@pytest.mark.shared_data
def test_the_closed_eye_s_inner_corner_takes_the_skin_s_colour():
    """096 smiling (held out, 1350 px), blink 1: at the image-right eye's inner end the raised
    lower lid and what the glint cap darkened take the colour of the skin next to the corner
    (red over blue 0.88 of the skin's measured); left the white's tint, darkened, it was a
    grey-blue patch by warm skin, 0.79 of it."""
    from test_stage_lids import _held_out

    img, lm, mesh = _held_out("096.jpg", "smiling")
    eye = eye_margins(img, lm, mesh, 1)
    out = close_lids(img, lm, mesh, (1.0, 1.0))
    assert _red_over_blue(out, eye, True) > 0.85 * _red_over_blue(img, eye, False)
