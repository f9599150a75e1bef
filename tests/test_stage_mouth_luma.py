"""Open mouths dark inside on held-out London faces at 1350 px, read as bench/bench_mouth_luma.py
reads them (dlib's 68 points, independent of the stage): the inner-lip polygon's median luma at
most 0.15 of the cheeks' (real open mouths in JAFFE and Yale: 0.05-0.12)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from conftest import ROOT, SHARED_DATA
from PIL import Image


def _bench():
    spec = importlib.util.spec_from_file_location("bench_mouth_luma", ROOT / "bench" / "bench_mouth_luma.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
