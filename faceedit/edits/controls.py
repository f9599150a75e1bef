"""Named fine controls of the stage (``--control smile=0.5,brows=-0.3``): their names, ranges,
the AU intensities each sets, and the parsing of a command line's value. No numpy or torch, so
the stage's declaration (:mod:`faceedit.models.catalogue.stage`), the edit request and the
command line read them before any model loads.

A control is applied by one or more of:

* AUs set through the expression state (:meth:`faceedit.stage.state.ExpressionStates.set_aus`):
  :data:`CONTROLS` gives the AUs of each side;
* a landmark move the warp carries (:data:`faceedit.stage.moves.MOVES`): what the state's AU
  space lacks (lip protrusion, a wink's squeeze, the lids following the gaze up);
* lids drawn closed (:mod:`faceedit.stage.lids`): one eye closed, a full blink, ``eyes`` below
  0, the lids dropping as the gaze goes down;
* the irises repainted (:data:`GAZE`, :mod:`faceedit.stage.gaze`);
* the head turned (:data:`HEAD_POSE`, :mod:`faceedit.stage.pose`), after the expression.

A control at 0 asks for nothing: the photo is left bit for bit as it is.

Left and right: ``wink_left`` closes the person's own left eye, which is on the image's right
in an unmirrored photo (68-point landmarks 42-47); ``gaze_x`` +1 turns the eyes to the image's
right (the person's left), ``gaze_y`` +1 up; ``head_yaw`` +1 turns the face towards the image's
right, ``head_pitch`` +1 tilts it up (chin out), ``head_roll`` +1 tilts it clockwise as seen in
the image (the eye on the image's right goes down).
"""

from __future__ import annotations

from faceedit.errors import UsageError

#: Named fine controls, as absolute AU intensities (0..5): name -> (AUs at +1, AUs at -1),
#: each ``|v|`` times its weight. ``smile=0.5`` sets AU12 to 2.25, AU6 to 1 and AU25 to 0.75
#: and AU15 to 0; ``smile=-1`` sets AU15 to 4 and the smile's AUs to 0. An AU of weight 0 is
#: set to 0 (lips pushed out or rounded let a smile go). Controls with no AUs move landmarks,
#: the irises or the head instead (see the module notes).
CONTROLS: dict[str, tuple[dict[int, float], dict[int, float]]] = {
    "smile": ({12: 4.5, 6: 2.0, 25: 1.5}, {15: 4.0}),  # -1: lip corners down
    "mouth": ({26: 4.0, 25: 3.0}, {17: 3.0}),  # open; -1: chin raised, lips pressed
    "brows": ({1: 4.0, 2: 4.0}, {4: 4.0}),  # up / down (frown)
    "eyes": ({5: 4.0}, {45: 4.5}),  # wide open / closed
    "gaze_x": ({}, {}),  # the irises to the image's right; -1 left
    "gaze_y": ({}, {}),  # the irises up; -1 down
    "blink": ({}, {}),  # both eyes closed (0..1)
    "wink_left": ({}, {}),  # the person's left eye closed (the image's right), squeezed (0..1)
    "wink_right": ({}, {}),  # the person's right eye (the image's left) (0..1)
    "pout": ({12: 0.0, 6: 0.0}, {}),  # lips pushed out, fuller (a smile let go); -1: drawn in, thinner
    "purse": ({23: 2.0, 12: 0.0, 6: 0.0}, {}),  # lips tightened and puckered; -1: relaxed, wider
    "grin": ({20: 4.0, 12: 2.5, 25: 3.0}, {15: 3.0, 17: 2.0}),  # lips back, teeth together; -1: a grimace down
    "aaa": ({26: 4.5, 25: 4.0}, {}),  # the mouth open (0..1)
    "eee": ({20: 3.5, 25: 3.0, 12: 1.0}, {}),  # wide, lips parted; -1: narrowed
    "woo": ({25: 2.5, 26: 1.5, 12: 0.0, 6: 0.0}, {}),  # rounded and a little open; -1: wide
    "head_yaw": ({}, {}),  # the face turned towards the image's right, about 15 degrees at 1
    "head_pitch": ({}, {}),  # the face tilted up
    "head_roll": ({}, {}),  # the head tilted clockwise in the image
}
#: Each control's range where it is not -1..1: a closed eye and an open mouth have no opposite.
RANGES: dict[str, tuple[float, float]] = {"blink": (0.0, 1.0), "wink_left": (0.0, 1.0),
                                          "wink_right": (0.0, 1.0), "aaa": (0.0, 1.0)}
DEFAULT_RANGE = (-1.0, 1.0)
#: Controls that repaint the irises (:mod:`faceedit.stage.gaze`).
GAZE = ("gaze_x", "gaze_y")
#: Controls that turn the head (:mod:`faceedit.stage.pose`).
HEAD_POSE = ("head_yaw", "head_pitch", "head_roll")


def control_range(name: str) -> tuple[float, float]:
    """The values control ``name`` takes (inclusive)."""
    return RANGES.get(name, DEFAULT_RANGE)


def parse_controls(spec: str | dict) -> dict[str, float]:
    """``"smile=0.5,brows=-0.3"`` -> {"smile": 0.5, "brows": -0.3}; UsageError on an unknown name,
    a value outside the control's range, a name given twice or a malformed item."""
    if isinstance(spec, dict):
        items = [f"{k}={v}" for k, v in spec.items()]
    else:
        items = [p for p in spec.replace(";", ",").split(",") if p.strip()]
    out: dict[str, float] = {}
    for item in items:
        name, _, value = item.partition("=")
        name = name.strip().lower()
        if name not in CONTROLS:
            raise UsageError(f"unknown control {name!r}; valid: {', '.join(CONTROLS)} "
                             "(each -1..1; blink, wink_left, wink_right and aaa 0..1)")
        try:
            v = float(value)
        except ValueError:
            raise UsageError(f"control {name}: {value!r} is not a number") from None
        lo, hi = control_range(name)
        if not lo <= v <= hi:
            raise UsageError(f"control {name}={v:g} is outside {lo:g}..{hi:g}")
        if name in out:
            raise UsageError(f"control {name} is given twice ({out[name]:g} and {v:g})")
        out[name] = v
    return out


def controls_to_aus(controls: dict[str, float]) -> dict[int, float]:
    """Absolute AU intensities for named controls: the AUs of the control's side take ``|v| *``
    their weight, those of the other side 0 (where two controls name one AU, the larger wins).
    A control at 0 sets none."""
    aus: dict[int, float] = {}
    for name, v in controls.items():
        if v == 0:
            continue
        pos, neg = CONTROLS[name]
        on, off = (pos, neg) if v > 0 else (neg, pos)
        if not on:
            continue
        for au in off:
            aus.setdefault(au, 0.0)
        for au, w in on.items():
            aus[au] = max(aus.get(au, 0.0), abs(v) * w)
    return aus
