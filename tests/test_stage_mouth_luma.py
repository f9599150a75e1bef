"""Open mouths dark inside on held-out London faces at 1350 px, read as bench/bench_mouth_luma.py
reads them (dlib's 68 points, independent of the stage): the inner-lip polygon's median luma at
most 0.15 of the cheeks' (real open mouths in JAFFE and Yale: 0.05-0.12)."""

from __future__ import annotations

import numpy as np
import pytest
from _bench import load_bench
from conftest import SHARED_DATA
from PIL import Image


def _bench():
    return load_bench("bench_mouth_luma")


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage", device="cpu")  # its default detector, as the bench edits


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "target"), [("136", "fearful"), ("097", "surprised"), ("099", "fearful")])
def test_the_stage_s_open_mouth_is_dark_inside_at_full_size(editor, name, target):
    """136 fearful read 0.274 while the lips' inner rims were lighter (rim_edge 0.8): dlib's
    polygon on a thin opening takes in the lower lip's inner margin."""
    from faceedit.faces.detectors import get_detector

    path = SHARED_DATA / "london_hd" / "neutral" / f"{name}.jpg"
    if not path.exists():
        pytest.skip(f"{path} is not there (../shared/data)")
    bench = _bench()
    img = np.asarray(Image.open(path).convert("RGB"))
    out = editor.edit(img, target, face="largest")
    ratio, aspect = bench.mouth_ratio(out, bench.largest(get_detector("dlib"), out))
    assert aspect > 0.05 and ratio <= 0.15, (ratio, aspect)


@pytest.mark.shared_data
@pytest.mark.parametrize(("method", "name", "target"), [("reggan", "126", "surprised"), ("eggan", "094", "surprised"),
                                                        ("lssl", "099", "fearful")])
def test_a_method_keeps_the_stage_s_open_mouth(method, name, target):
    """A method's network pasted over the stage neither lightens its open mouth nor crushes it to
    black: reggan lightened 126's surprised mouth to 0.160, eggan and lssl took 094's and 099's to
    0.001 and 0.005, before the paste held their change off the opening (faceedit.flow.Flow.paste)."""
    from faceedit.api import Editor
    from faceedit.faces.detectors import get_detector
    from faceedit.models.hub import weights_present
    from faceedit.models.registry import get_spec

    path = SHARED_DATA / "london_hd" / "neutral" / f"{name}.jpg"
    if not path.exists():
        pytest.skip(f"{path} is not there (../shared/data)")
    if not weights_present(get_spec(method)):
        pytest.skip(f"shipped {method} weights not present")
    bench = _bench()
    img = np.asarray(Image.open(path).convert("RGB"))
    out = Editor.from_pretrained(method, device="cpu").edit(img, target, face="largest")
    ratio, aspect = bench.mouth_ratio(out, bench.largest(get_detector("dlib"), out))
    assert 0.03 <= ratio <= 0.15, (ratio, aspect)


def test_carried_teeth_show_as_a_band_darker_toward_the_inside():
    """lip_rims.shade_carried: a bright carried row over a painted dark cavity keeps its top
    under the upper lip but for the lip's shadow (darkest at the lip, the teeth as they were a few
    px below), darkens down the column to the cavity's tone, and is left alone where
    the edit lifts the lip as a smile does (amount 0); above the row only the lip's margin
    within the gums' reach changes, darkened (tests/test_stage_mouth_carried.py)."""
    from faceedit.stage.lip_rims import shade_carried
    from faceedit.stage.tuning import MouthTuning

    h, w = 40, 30
    pixels = np.full((h, w, 3), 150, np.uint8)
    interior = np.zeros((h, w), np.float32)
    opening = np.zeros((h, w), np.float32)
    interior[10:22, 5:25] = 1.0  # 12 rows of teeth at the top of a 24-row column
    opening[22:34, 5:25] = 1.0
    pixels[10:22, 5:25] = 230
    pixels[22:34, 5:25] = 10
    tn = MouthTuning()
    out = shade_carried(pixels, (0, 0, w, h), interior, opening, 1.0, tn)
    col = out[10:22, 15, 0].astype(int)
    lit = int(tn.carried_teeth_band * 24)
    # the band under the lip: the teeth in its shadow, lighter down to the teeth as they were
    assert col[0] < 0.95 * 230 and (np.diff(col[:lit]) >= 0).all() and col[lit - 1] >= 0.98 * 230, col
    assert (np.diff(col[lit - 1:]) <= 0).all() and col[-1] <= 40, col  # darker toward the inside, to the cavity
    # the cavity (the lips close toward the corners in the warp) and the lip's margin
    assert (out[22:] == pixels[22:]).all() and (out[:8] == pixels[:8]).all()
    assert (out[8:10] <= pixels[8:10]).all()  # the gums' reach (0.08 of the 20 columns: 2 rows) only darkens
    assert (shade_carried(pixels, (0, 0, w, h), interior, opening, 0.0, tn) == pixels).all()


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["099", "114"])
def test_fear_from_a_smile_does_not_keep_the_whole_lit_row(editor, name):
    """From a smile, fear kept the person's whole bright upper row above a black slit (dlib read
    099 at 1.027 and 114 at 1.040 before the carried row was shaded by depth; 0.244 and 0.116
    after). With the lips meeting toward a thin opening's corners in the warp
    (``cut_curves.pointed_ends``), dlib's inner-lip polygon still runs out to the lips' corners
    and takes in the lip where they meet: 099 read 0.288-0.316 (torch 2.14 / OpenCV 5.1), and
    0.399 once the lips part along each other from where they meet (``plan_point`` 2: a longer
    taper, more lip inside dlib's polygon), so the bar is 0.5, well under the whole lit row's 1.0."""
    from faceedit.faces.detectors import get_detector

    path = SHARED_DATA / "london_hd" / "smiling" / f"{name}.jpg"
    if not path.exists():
        pytest.skip(f"{path} is not there (../shared/data)")
    bench = _bench()
    img = np.asarray(Image.open(path).convert("RGB"))
    out = editor.edit(img, "fearful", face="largest")
    ratio, aspect = bench.mouth_ratio(out, bench.largest(get_detector("dlib"), out))
    assert aspect > 0.05 and ratio <= 0.5, (ratio, aspect)
