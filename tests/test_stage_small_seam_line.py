"""A small smile made neutral closes its lips on a line (:mod:`faceedit.stage.small_seam`): a
96-px face keeps a lip line no darker than its own lips, and it reads as a line where the lips
meet, not a pink band (London training smiles cut to 96 px made neutral read a band: the line
over the lips' darkest tenth 1.16, median of 16)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from faceedit.eval import world
from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.mouth import paint_seam
from faceedit.stage.small_seam import OwnLips, own_lips_dark
from faceedit.stage.tuning import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS)
LONDON = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "london_hd"


def _small_lips() -> tuple[np.ndarray, np.ndarray]:
    """(A small mouth, corners 40 px apart, on skin: light lips; its outer lip polygon)."""
    img = np.empty((120, 160, 3), np.float64)
    img[:] = (196, 152, 128)
    cv2.ellipse(img, (80, 60), (22, 6), 0, 0, 360, (205, 125, 115), -1)
    t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), np.stack([80 + 22 * np.cos(t), 60 + 6 * np.sin(t)], 1)


def _line() -> np.ndarray:
    x = np.linspace(60.0, 100.0, 11)
    return np.stack([x, np.full_like(x, 60.0)], 1)


def test_a_small_mouth_s_seam_goes_to_the_photo_s_own_lips_dark_and_no_darker():
    """Given the photo's own lips' dark read before the warp, a small mouth's seam goes to it at
    full depth (without it, spread over a pixel's width at its darkness kept, it stays lighter)
    and no darker; in the own lips' colour (redder than their colour darkened)."""
    img, lips = _small_lips()
    luma = lambda a: a.astype(np.float64) @ LUMA  # noqa: E731
    own = OwnLips(120.0, np.array([40.0, 20.0]))
    drawn = paint_seam(img, _line(), _line(), 20.0, 1.0, lips=lips, own=own)
    plain = paint_seam(img, _line(), _line(), 20.0, 1.0, lips=lips)
    seam, bare = luma(drawn)[57:64, 70:91].min(0), luma(plain)[57:64, 70:91].min(0)
    assert np.all(seam >= own.dark - 1.5)
    assert np.median(seam) < own.dark + 6.0
    assert np.median(bare) > np.median(seam) + 10.0
    a, b = drawn[60, 80].astype(float), plain[60, 80].astype(float)
    assert a[0] / luma(a) > b[0] / luma(b) + 0.05


def _lip_points() -> np.ndarray:
    """68 points (eyes and lips used) of a 100-px face: eyes 40 px apart, lips 32 px wide about (50, 70)
    parted by 3 px."""
    lm = np.zeros((68, 2))
    lm[36:42], lm[42:48] = (30, 30), (70, 30)
    t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    lm[48:60] = np.stack([50 + 16 * np.cos(t), 70 + 8 * np.sin(t)], 1)
    u = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    lm[60:68] = np.stack([50 + 10 * np.cos(u), 70 + 1.5 * np.sin(u)], 1)
    return lm


def test_the_own_lips_dark_leaves_out_the_line_between_the_lips():
    """The lips' dark is read between the 68 points' outer and inner lips, a seam's width about
    the inner lips left out: a dark line drawn along the inner lips does not darken it."""
    img = np.full((100, 100, 3), (200, 150, 130), np.uint8)
    lm = _lip_points()
    cv2.fillPoly(img, [np.round(lm[48:60]).astype(np.int32)], (190, 100, 100))
    plain = own_lips_dark(img, lm, 0.04)
    cv2.polylines(img, [np.round(lm[60:68]).astype(np.int32)], True, (60, 20, 20), 1)
    lined = own_lips_dark(img, lm, 0.04)
    assert plain is not None and lined is not None and plain.ab is not None
    assert abs(lined.dark - plain.dark) < 3.0
    assert plain.ab[0] > 20.0  # the lips' red


def test_a_small_mouth_s_seam_takes_the_colour_of_its_lips_in_shade():
    """Strongly coloured lips (RGB 201 / 92 / 94 where lit) with their lower rim in shade (82 / 17
    / 10): the seam goes to the colour of the lips in shade, the median a*, b* of their darker
    quarter (``MouthTuning.seam_own_colour``), not to the median of all of them (the lit lips'
    pinker red: real closed lips at 96-128 px meet in the colour of their shade)."""
    img = np.full((100, 100, 3), (205, 130, 110), np.uint8)
    lm = _lip_points()
    outer = [np.round(lm[48:60]).astype(np.int32)]
    cv2.fillPoly(img, outer, (201, 92, 94))
    shade = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(shade, outer, 1)
    shade[:73] = 0
    img[shade > 0] = (82, 17, 10)
    shade_ab = cv2.cvtColor(np.float32([[[82, 17, 10]]]) / 255.0, cv2.COLOR_RGB2LAB)[0, 0, 1:]
    x = np.linspace(38.0, 62.0, 9)
    line = np.stack([x, np.full_like(x, 70.0)], 1)
    off = {}
    for share in (100.0, MouthTuning().seam_own_colour):
        own = own_lips_dark(img, lm, 0.04, share)
        assert own is not None and own.ab is not None
        out = paint_seam(img, line, line, 40.0, 1.0, lips=lm[48:60], own=own)
        px = out[68:73, 45:56].reshape(-1, 3).astype(np.float32)
        dark = px[np.argsort(px @ LUMA)[:5]]
        ab = np.median(cv2.cvtColor(dark[None] / 255.0, cv2.COLOR_RGB2LAB)[0, :, 1:], 0)
        off[share] = float(np.hypot(*(ab - shade_ab)))
    assert off[MouthTuning().seam_own_colour] < 6.0, off
    assert off[100.0] > 10.0, off


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor
    from faceedit.models.hub import weights_present
    from faceedit.models.registry import get_spec

    if not weights_present(get_spec("stage")):
        pytest.skip("the stage's weights are not present")
    return Editor.from_pretrained("stage", device="cpu")


def _line_contrast(rgb: np.ndarray, lm: np.ndarray) -> float:
    """How much a mouth's line stands out of the lips beside it (grey levels): over the middle
    half of the mouth (the 68 points ``lm``), each column's darkest grey between the outer lips'
    tops and bottoms under the mean of the greys 2 px above and below it; their median."""
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float64)
    a, b = lm[48], lm[54]
    ys = np.arange(int(lm[[50, 51, 52], 1].min()), int(lm[[56, 57, 58], 1].max()) + 1)
    out = []
    for x in range(int(a[0] + 0.25 * (b[0] - a[0])), int(a[0] + 0.75 * (b[0] - a[0])) + 1):
        y = ys[np.argmin(g[ys, x])]
        out.append(0.5 * (g[y - 2, x] + g[y + 2, x]) - g[y, x])
    return float(np.median(out))


@pytest.mark.skipif(not (LONDON / "smiling").is_dir(), reason="needs ../shared/data/london_hd (absent)")
@pytest.mark.parametrize("person", ("002", "012", "013"))
def test_a_96_px_smile_made_neutral_keeps_a_lip_line_no_darker_than_its_lips(editor, person):
    """A London training smile (teeth shown) cut to 96 px and made neutral: the mouth's line no
    darker than the smiling lips' darkest tenth, and a line where the lips meet (at least 30 grey
    levels under the lips 2 px above and below it; 27.5, 12.8 and 19.0 as a pink band, the
    people's own neutral photos 48, 57 and 47)."""
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    small = dict(world.london_variants(LONDON, ids=(person,), expressions=("smiling",)))
    rgb = small[f"london_{person}_smiling_small96"]
    face = editor.detector.detect(rgb)[0]
    lm = np.asarray(face.landmarks)
    out = edit_faces(editor, rgb, [face], EditRequest.of("neutral", 1.0))
    assert world.mouth_line(out, lm) >= world.lips_grey(rgb, lm)
    assert _line_contrast(out, lm) >= 30.0


def test_the_line_s_run_into_a_corner_is_no_fleck_on_the_deeper_seam(editor):
    """The astronaut made neutral (her eyes 43 px apart: a small mouth's seam at her own lips'
    dark): the corner flecks are found on the seam as drawn without that dark
    (:mod:`faceedit.stage.closed_seam`), so the line's dark run into her right corner stays as on
    that seam (found on the deeper one, its 5 px read 4: a fleck, painted 30 grey levels lighter,
    and the detector read her mouth 1.7 px narrower)."""
    import dataclasses

    from _imgs import astronaut

    from faceedit.models.request import EditRequest

    photo = astronaut()
    face = max(editor.detector.detect(photo), key=lambda f: f.area)
    tuning = editor.stage.tuning
    try:
        runs = []
        for depth in (0.0, tuning.lips.seam_small_depth):
            editor.stage.tuning = dataclasses.replace(tuning, lips=dataclasses.replace(tuning.lips,
                                                                                     seam_small_depth=depth))
            out, done = editor.stage.edit_photo(photo, [face], EditRequest.of("neutral"))
            lm = np.asarray(done[0].landmarks)
            x0, x1 = int(lm[54, 0] - 0.25 * (lm[54, 0] - lm[48, 0])), int(np.ceil(lm[54, 0]))
            y = int(round(lm[[54, 64], 1].mean()))
            runs.append(float((out[y - 3:y + 4, x0:x1].astype(np.float64) @ LUMA).min(0).mean()))
    finally:
        editor.stage.tuning = tuning
    assert tuning.lips.seam_small_depth > 0
    assert runs[1] < runs[0] + 4.0, runs
