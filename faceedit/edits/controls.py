"""Named fine controls of the stage (``--control smile=0.5,brows=-0.3``) as a registry of
records (:class:`Control`, :data:`CONTROLS`): each control's name, range, help, the AU
intensities it sets and the landmark move it makes, and the parsing of a command line's value.
No numpy or torch, so the request, the command line, ``faceedit models`` and the page read them
before any model loads; :func:`register_control` adds one, and every one of those lists it.

A control is applied by one or more of:

* AUs set through the expression state (:meth:`faceedit.stage.state.ExpressionStates.set_aus`):
  the record's ``up`` and ``down``;
* a landmark move the warp carries (the record's ``move``, e.g. those of
  :mod:`faceedit.stage.moves`): what the state's AU space lacks (lip protrusion, a wink's
  squeeze, the lids following the gaze up); a move that reshapes closed lips without parting
  them says so (``presses_lips``), and the stage then carries the lips as they are;
* lids drawn closed (:mod:`faceedit.stage.lids`): one eye closed, a full blink, ``eyes`` below
  0, the lids dropping as the gaze goes down;
* the irises repainted (:data:`GAZE`, :mod:`faceedit.stage.gaze`);
* the head turned (:data:`HEAD_POSE`, :mod:`faceedit.stage.pose`), after the expression.

The last three are the stage's own steps, which read their controls by name; a registered
control reaches the pixels through its AUs and its move.

A control at 0 asks for nothing: the photo is left bit for bit as it is.

Left and right: ``wink_left`` closes the person's own left eye, which is on the image's right
in an unmirrored photo (68-point landmarks 42-47); ``gaze_x`` +1 turns the eyes to the image's
right (the person's left), ``gaze_y`` +1 up; ``head_yaw`` +1 turns the face towards the image's
right, ``head_pitch`` +1 tilts it up (chin out), ``head_roll`` +1 tilts it clockwise as seen in
the image (the eye on the image's right goes down).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from faceedit.errors import UsageError

#: The words of :attr:`Control.presses_lips`.
PRESS_WORDS = ("", "always", "below_zero")


@dataclass(frozen=True)
class Control:
    """One named control.

    ``up`` / ``down``: the AUs it sets at +1 / -1, as absolute intensities (0..5) ``|v|`` times
    each weight; an AU of weight 0 is set to 0 (lips pushed out or rounded let a smile go).
    ``range``: the values it takes, inclusive (a closed eye and an open mouth have no opposite:
    0..1). ``move``: its landmark move, ``move(goal, value, u, n, eye_distance, mouth_width)``
    changing the (68, 2) goal landmarks in place (``u`` the unit vector along the eye line,
    ``n`` the one down the face), a function or its ``"module:name"`` text (imported when an
    edit first runs it: :func:`resolve`); None: no move. ``presses_lips``: whether its move
    reshapes closed lips without parting them (``always``, at any value but 0; ``below_zero``,
    below 0 only; ``""``: it parts them or leaves them alone): the stage then keeps the lips as
    the photo shows them rather than paint an opening. ``help``: a few words, what +1 (and -1)
    does."""

    name: str
    help: str
    up: Mapping[int, float] = field(default_factory=dict)
    down: Mapping[int, float] = field(default_factory=dict)
    range: tuple[float, float] = (-1.0, 1.0)
    move: str | Callable[..., Any] | None = None
    presses_lips: str = ""

    def __post_init__(self) -> None:
        lo, hi = self.range
        if not lo <= 0.0 <= hi:
            raise ValueError(f"control {self.name}: range {lo:g}..{hi:g} must hold 0 (the control left alone)")
        if self.presses_lips not in PRESS_WORDS:
            raise ValueError(f"control {self.name}: presses_lips {self.presses_lips!r}; valid: {PRESS_WORDS}")

    def presses(self, value: float) -> bool:
        """Whether this control at ``value`` reshapes closed lips without parting them."""
        return (self.presses_lips == "always" and value != 0) or (self.presses_lips == "below_zero" and value < 0)


#: Every named control, by name, in the order the help lists them.
CONTROLS: dict[str, Control] = {}


def register_control(control: Control, *, replace: bool = False) -> Control:
    """Add ``control`` to :data:`CONTROLS` (``replace``: over one of its name); ValueError for a
    name taken. Returns it."""
    if control.name in CONTROLS and not replace:
        raise ValueError(f"control {control.name!r} is registered already")
    CONTROLS[control.name] = control
    return control


def resolve(ref: str | Callable[..., Any]) -> Callable[..., Any]:
    """A move or painter: the function itself, or the one ``"module:name"`` names (imported)."""
    if callable(ref):
        return ref
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


_MOVES = "faceedit.stage.moves:"
for _control in (
    Control("smile", "the lip corners up; -1 down", {12: 4.5, 6: 2.0, 25: 1.5}, {15: 4.0}),
    Control("mouth", "the mouth open; -1 the chin raised, lips pressed", {26: 4.0, 25: 3.0}, {17: 3.0}),
    Control("brows", "the brows up; -1 down (a frown)", {1: 4.0, 2: 4.0}, {4: 4.0}),
    Control("eyes", "the eyes wide open; -1 closed", {5: 4.0}, {45: 4.5}),
    Control("gaze_x", "the irises to the image's right; -1 left"),
    Control("gaze_y", "the irises up, the lids following; -1 down", move=_MOVES + "gaze_y_lids"),
    Control("blink", "both eyes closed", range=(0.0, 1.0)),
    Control("wink_left", "the person's left eye (the image's right) closed, squeezed", range=(0.0, 1.0),
            move=_MOVES + "wink_left", presses_lips="always"),
    Control("wink_right", "the person's right eye (the image's left) closed, squeezed", range=(0.0, 1.0),
            move=_MOVES + "wink_right", presses_lips="always"),
    Control("pout", "the lips pushed out, fuller (a smile let go); -1 drawn in, thinner", {12: 0.0, 6: 0.0},
            move=_MOVES + "pout", presses_lips="always"),
    Control("purse", "the lips tightened and puckered; -1 relaxed, wider", {23: 2.0, 12: 0.0, 6: 0.0},
            move=_MOVES + "purse", presses_lips="always"),
    Control("grin", "the lips drawn back, teeth together; -1 a grimace down", {20: 4.0, 12: 2.5, 25: 3.0},
            {15: 3.0, 17: 2.0}),
    Control("aaa", "the mouth open, the jaw dropped", {26: 4.5, 25: 4.0}, range=(0.0, 1.0), move=_MOVES + "aaa"),
    Control("eee", "wide, the lips parted; -1 narrowed", {20: 3.5, 25: 3.0, 12: 1.0}, move=_MOVES + "eee",
            presses_lips="below_zero"),
    Control("woo", "rounded and a little open; -1 wide", {25: 2.5, 26: 1.5, 12: 0.0, 6: 0.0}, move=_MOVES + "woo",
            presses_lips="below_zero"),
    Control("head_yaw", "the face turned towards the image's right, about 15 degrees at 1"),
    Control("head_pitch", "the face tilted up"),
    Control("head_roll", "the head tilted clockwise in the image"),
):
    register_control(_control)
del _control

#: Controls that repaint the irises (:mod:`faceedit.stage.gaze`).
GAZE = ("gaze_x", "gaze_y")
#: Controls that turn the head (:mod:`faceedit.stage.pose`).
HEAD_POSE = ("head_yaw", "head_pitch", "head_roll")


def control_range(name: str) -> tuple[float, float]:
    """The values control ``name`` takes (inclusive)."""
    return CONTROLS[name].range


def ranges_in_words() -> str:
    """The controls' ranges as the help says them: ``each -1..1; blink and aaa 0..1``."""
    by_range: dict[tuple[float, float], list[str]] = {}
    for c in CONTROLS.values():
        by_range.setdefault(c.range, []).append(c.name)
    widest = max(by_range, key=lambda r: len(by_range[r]))
    parts = [f"each {widest[0]:g}..{widest[1]:g}"]
    for (lo, hi), names in by_range.items():
        if (lo, hi) != widest:
            listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
            parts.append(f"{listed} {lo:g}..{hi:g}")
    return "; ".join(parts)


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
            raise UsageError(f"unknown control {name!r}; valid: {', '.join(CONTROLS)} ({ranges_in_words()})")
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
        c = CONTROLS[name]
        on, off = (c.up, c.down) if v > 0 else (c.down, c.up)
        if not on:
            continue
        for au in off:
            aus.setdefault(au, 0.0)
        for au, w in on.items():
            aus[au] = max(aus.get(au, 0.0), abs(v) * w)
    return aus


def control_moves_of(controls: Mapping[str, float]) -> list[tuple[Callable[..., Any], float]]:
    """(move, value) of each control in ``controls`` that has a move and is not 0, in the order
    given."""
    return [(resolve(m), v) for k, v in controls.items() if v != 0 and (m := CONTROLS[k].move) is not None]
