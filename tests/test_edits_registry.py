"""A control and an attribute added by registering one record each, in this module alone (no
other file touched): they appear in `faceedit apply --help`, in `faceedit models --json`, in the
page's form (the studio's model list, what faceedit/ui/page.html builds its sliders and choices
from), in the request's validation, and they reach the pixels through the stage. An attribute
that is not registered is an error, never another attribute's painter."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _imgs import astronaut, astronaut_face
from test_cli_apply import run
from test_models_stage import synthetic_stage

from faceedit.edits.attributes import ATTRIBUTES, Attribute, register_attribute
from faceedit.edits.controls import CONTROLS, Control, register_control
from faceedit.errors import UsageError
from faceedit.models.request import EditRequest

CALLS: list[tuple[str, float | str]] = []


def smirk(out, v, u, n, ed, width):
    """The image's right mouth corner up the face, a tenth of an eye distance at 1."""
    CALLS.append(("smirk", v))
    out[[54, 64]] -= v * 0.1 * ed * n


def paint_freckles(pixels, face, value, strength):
    """A dark dot on the nose's tip, ``value`` x ``strength`` of the way to black."""
    CALLS.append(("freckles", value))
    out = pixels.copy()
    x, y = np.rint(face.moved[30]).astype(int)
    out[y - 2:y + 3, x - 2:x + 3] = (out[y - 2:y + 3, x - 2:x + 3] * (1 - value * strength)).astype(out.dtype)
    return out


@pytest.fixture(autouse=True)
def registered():
    register_control(Control("smirk", "one mouth corner up (the image's right)", {12: 1.0}, range=(0.0, 1.0),
                             move=smirk, presses_lips="always"))
    register_attribute(Attribute("freckles", "dotted on the nose", paint_freckles))
    CALLS.clear()
    yield
    del CONTROLS["smirk"], ATTRIBUTES["freckles"]


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="smirk"):
        register_control(Control("smirk", "again"))
    with pytest.raises(ValueError, match="must hold 0"):
        Control("frown", "a range without its rest", range=(0.5, 1.0))


def test_they_are_in_the_help():
    code, out, _ = run("apply", "--help")
    text = " ".join(out.replace("│", " ").split())
    assert code == 0 and "smirk" in text and "freckles=on|off" in text
    assert "smirk 0..1" in text  # its own range, beside the winks'


def test_they_are_in_models_json_and_the_page():
    from faceedit.ui.studio import Studio

    code, out, _ = run("models", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    for name in ("stage", "reggan"):  # the stage's, and a network's on the stage
        options = rows[name]["options"]
        assert options["controls"]["smirk"] == [0.0, 1.0]
        assert "freckles" in options["attributes"]
        fields = {f["name"]: f for f in options["fields"]}
        assert "smirk" in fields["controls"]["choices"] and fields["controls"]["ranges"]["smirk"] == [0.0, 1.0]
        assert "freckles" in fields["attrs"]["choices"] and fields["attrs"]["values"]["freckles"] == ["off", "on"]
    page = {m["name"]: {f["name"]: f for f in m["fields"]} for m in Studio().models()}
    assert page["stage"]["controls"]["ranges"]["smirk"] == [0.0, 1.0]
    assert "freckles" in page["stage"]["attrs"]["choices"]


def test_the_request_validates_them():
    assert EditRequest(controls="smirk=0.5").controls == {"smirk": 0.5}
    assert EditRequest(attrs="freckles=on").attrs == {"freckles": 1.0}
    with pytest.raises(UsageError, match="smirk=-0.5 is outside 0..1"):
        EditRequest(controls={"smirk": -0.5})
    with pytest.raises(UsageError, match="freckles=maybe: use on or off"):
        EditRequest(attrs={"freckles": "maybe"})


def test_they_reach_the_pixels():
    st = synthetic_stage()
    img = astronaut()
    lm = np.asarray(astronaut_face().landmarks, np.float64)
    out, done = st.edit_photo(img, [lm], EditRequest.of("keep", 1.0, controls={"smirk": 1.0}))
    assert ("smirk", 1.0) in CALLS
    moved = done[0].landmarks
    rise = lm[:, 1] - moved[:, 1]  # up the image
    assert rise[54] > rise[48] + 2  # its move: the image's right corner up more than the AU lifts both
    assert not np.array_equal(out, img)
    out, _ = st.edit_photo(img, [lm], EditRequest.of("keep", 1.0, attrs={"freckles": "on"}))
    assert ("freckles", 1.0) in CALLS
    x, y = np.rint(lm[30]).astype(int)
    assert out[y, x].sum() < img[y, x].sum() // 4 and np.array_equal(out[:50], img[:50])


def test_an_attribute_not_registered_is_an_error():
    from faceedit.stage.attributes import AttributeFace, paint_attribute

    st = synthetic_stage()
    img = astronaut()
    lm = np.asarray(astronaut_face().landmarks, np.float64)
    with pytest.raises(UsageError, match="unknown attribute 'tattoo' for the stage"):
        st.edit_photo(img, [lm], EditRequest.of("keep", 1.0, attrs={"tattoo": "on"}))
    with pytest.raises(UsageError, match="'tattoo' is not registered"):
        paint_attribute(img, AttributeFace(lm), "tattoo", 1.0)
    del ATTRIBUTES["freckles"]
    with pytest.raises(UsageError, match="unknown attribute 'freckles'"):
        st.edit_photo(img, [lm], EditRequest.of("keep", 1.0, attrs={"freckles": "on"}))
    ATTRIBUTES["freckles"] = Attribute("freckles", "dotted on the nose", paint_freckles)
