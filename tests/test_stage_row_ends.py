"""An open mouth's upper row where a smile is taken away (faceedit.stage.row_ends): the row's ends fall into the cavity's shadow, darker and shorter, with
no tooth left lit alone in the cavity (on drawn pixels, and on a London training smile made
fearful and surprised)."""

from __future__ import annotations

import numpy as np
import pytest
from _bench import load_bench
from conftest import SHARED_DATA
from PIL import Image

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.row_ends import fade_row_ends
from faceedit.stage.tuning import EditTuning

LUMA = np.asarray(LUMA_WEIGHTS)
LIP = (170, 100, 110)
TEETH = (230, 228, 222)


def drawn_row():
    """(pixels, opening): a lip all round, an opening at rows 20-49, columns 10-89, dark (8), with a
    row of teeth 10 rows high under its top over columns 20-79."""
    pixels = np.empty((60, 100, 3), np.uint8)
    pixels[:] = LIP
    opening = np.zeros((60, 100), np.float32)
    opening[20:50, 10:90] = 1.0
    pixels[20:50, 10:90] = 8
    pixels[20:30, 20:80] = TEETH
    return pixels, opening


def test_the_row_s_ends_fall_into_the_cavity_s_shadow():
    """At the row's ends its teeth stand at most a little over the contrast asked for over the
    cavity, and are shorter; the middle, the cavity and the lip are left as they were."""
    tn = EditTuning()
    pixels, opening = drawn_row()
    out = fade_row_ends(pixels, (0, 0, 100, 60), opening, tn)
    y = out.astype(np.float64) @ LUMA
    cavity = 8.0
    assert y[20:24, 20].mean() <= 1.2 * tn.row_ends_contrast * cavity
    assert y[20:24, 79].mean() <= 1.2 * tn.row_ends_contrast * cavity
    assert (out[20:30, 45:55] == pixels[20:30, 45:55]).all()  # the middle
    lit = lambda x: int((y[20:30, x] > 2 * tn.row_ends_contrast * cavity).sum())  # noqa: E731
    assert lit(24) < lit(40) == 10  # shorter toward the end
    assert (out[30:50] == pixels[30:50]).all() and (out[:20] == pixels[:20]).all()
    assert (out[20:30, :10] == pixels[20:30, :10]).all()  # the lip
    assert (fade_row_ends(pixels, (0, 0, 100, 60), opening, EditTuning(row_ends_share=0.0)) == pixels).all()


def test_a_faded_tooth_keeps_its_light_order():
    """A tooth at the row's end, a lit middle in a dimmer rim (its own shading), faded: its middle
    stays at least as light as its rim, each a little darker than it was (weighted by each pixel's own
    lightness the lit middle went to the cavity's dark and the rim stayed: a dark core in a light ring, a
    decayed tooth)."""
    tn = EditTuning()
    pixels, opening = drawn_row()
    pixels[20:30, 20:28] = 60  # the end tooth's rim, dimmer than the row (teeth at 230) ...
    pixels[21:30, 22:26] = 200  # ... round its lit middle
    out = fade_row_ends(pixels, (0, 0, 100, 60), opening, tn)
    y, y0 = out.astype(np.float64) @ LUMA, pixels.astype(np.float64) @ LUMA
    for rows in (slice(21, 25), slice(28, 30)):  # its upper half, and its foot, which the fade cuts
        middle, rim = y[rows, 22:24].mean(), y[rows, 20:22].mean()  # beside each other
        assert middle >= rim, (rows, middle, rim)
        assert middle < y0[rows, 22:26].mean() and rim < y0[rows, 20:22].mean()


def test_the_fade_goes_as_far_as_asked():
    """``amount`` scales the change (none at 0, half of it at 0.5, all of it from 1 on): the ends of a
    row a smile keeps or makes (a relaxed upper lip's share of 0) stay as the photo lit them."""
    tn = EditTuning()
    pixels, opening = drawn_row()
    full = fade_row_ends(pixels, (0, 0, 100, 60), opening, tn).astype(np.float64)
    half = fade_row_ends(pixels, (0, 0, 100, 60), opening, tn, amount=0.5).astype(np.float64)
    assert (fade_row_ends(pixels, (0, 0, 100, 60), opening, tn, amount=0.0) == pixels).all()
    assert (fade_row_ends(pixels, (0, 0, 100, 60), opening, tn, amount=2.0) == full).all()
    change = full - pixels
    assert np.abs(change).max() > 100
    np.testing.assert_allclose(half - pixels, 0.5 * change, atol=1.0)


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor
    from faceedit.models.hub import weights_present
    from faceedit.models.registry import get_spec

    if not weights_present(get_spec("stage")):
        pytest.skip("the stage's weights are not present")
    return Editor.from_pretrained("stage", device="cpu")


@pytest.mark.shared_data
@pytest.mark.parametrize("target", ["surprised", "fearful"])
def test_a_kept_row_ends_in_shadow_with_no_lone_tooth(editor, target):
    """London 006's smile (training) made surprised or fearful keeps its own row: no lit piece of
    teeth stands apart from the upper lip, and at the row's ends the teeth stand under 4.2 times
    the cavity's dark (a row lit to its ends reads 5.4 and 7.1 there), the middle lit."""
    path = SHARED_DATA / "london_hd" / "smiling" / "006.jpg"
    if not path.exists():
        pytest.skip(f"{path} is not there (../shared/data)")
    bench = load_bench("bench_teeth_fragments")
    out, opening = bench.opening_of(editor, np.asarray(Image.open(path).convert("RGB")), target)
    assert opening is not None
    r = bench.fragments(out, opening)
    assert r["lone"] == 0
    assert r["ends"] < 4.2 < r["mid"], r


@pytest.mark.shared_data
def test_a_smile_made_happy_keeps_its_own_row_s_ends(editor, monkeypatch):
    """London 061's smile (held out) made happy carries its own row into a taller opening under a lip
    that does not relax: its ends stay as the photo lit them, the edit the same as with no fade at all
    (faded and cut from below, each end tooth stood over a dark step at 2x). Made surprised, the lip
    relaxes and the ends fade."""
    from faceedit.stage import mouth_steps

    path = SHARED_DATA / "london_hd" / "smiling" / "061.jpg"
    if not path.exists():
        pytest.skip(f"{path} is not there (../shared/data)")
    img = np.asarray(Image.open(path).convert("RGB"))
    edits = {t: editor.edit(img, t) for t in ("happy", "surprised")}
    monkeypatch.setattr(mouth_steps, "fade_row_ends", lambda pixels, *a, **k: pixels)
    assert (editor.edit(img, "happy") == edits["happy"]).all()
    assert (editor.edit(img, "surprised") != edits["surprised"]).any()
