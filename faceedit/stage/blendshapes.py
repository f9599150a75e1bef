"""ARKit blendshapes as an edit: ``--blendshapes jawOpen=0.6,eyeBlinkLeft=1`` (or a JSON file
``faceedit au --blendshapes`` wrote) translated into the stage's named controls
(:mod:`faceedit.edits.controls`), which the edit request already takes. No numpy or torch.

Each shape the state can express drives one control in one direction (:data:`MAPPING`); the
value it gets is read off a curve fitted on the stage itself (:data:`CURVES`): the control swept
over 0, 0.25, 0.5, 0.75 and 1 of its range in that direction on five faces, each edit read back by
:class:`faceedit.faces.blendshapes.BlendshapeReader`, the shape's mean reading at each step. A
coefficient is turned into the control value whose reading it is (linear between the steps; at
or below the unedited face's reading: 0; above the full control's reading: the full control).
``bench/bench_blendshapes.py`` makes the sweep and checks the mapping by reading back what was
set; docs/blendshapes.md has the table and the figures.

Shapes that drive the same control combine: the largest of those in one direction, less the
largest of those in the other (``browInnerUp`` and ``browOuterUpLeft`` raise the brows,
``browDownLeft`` lowers them). The state is symmetric apart from the lids: a pair's Left and
Right shapes (``mouthSmileLeft``, ``mouthSmileRight``) drive the one control and the larger
wins; ``eyeBlinkLeft`` and ``eyeBlinkRight`` close each eye by itself (``wink_left``,
``wink_right``), or both by ``blink`` where both are given within :data:`BLINK_TOGETHER` of
each other (their mean on :data:`BLINK_CURVE`). Left and right are the person's own (ARKit's).

Shapes the state cannot express (:data:`INEXPRESSIBLE`: no control moves them, or the stage's
edit does not read back as the shape) are refused above :data:`NOISE` with a usage error naming
them where they are given by name; at or below it they ask for nothing. A file (a reading of a
whole face, all 51 shapes) has them left out, with a warning naming those above :data:`NOISE`
(:func:`controls_spec`).

The command line (``faceedit apply --blendshapes``) puts the controls on the ``neutral`` target
unless a target is given: a coefficient is absolute, as in ARKit (the shapes not given are 0);
the curves were fitted on neutral faces, and the read-back figures are of that use.
"""

from __future__ import annotations

import json
from pathlib import Path

from faceedit.edits.arkit import SHAPES
from faceedit.edits.controls import control_range
from faceedit.errors import UsageError
from faceedit.log import logger

#: ARKit's 52 blendshape names (:data:`faceedit.edits.arkit.SHAPES`).
ARKIT = SHAPES
#: The control steps of the fitted curves: fractions of the control's range in its direction.
LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: A coefficient at or below this asks for nothing (an inexpressible one is not refused).
NOISE = 0.1

#: shape -> (control, direction +1 / -1): the control that expresses it. ``gaze_x`` +1 turns the
#: eyes to the image's right, the person's left: their left eye looks out, their right eye in.
MAPPING: dict[str, tuple[str, int]] = {
    "browInnerUp": ("brows", 1), "browOuterUpLeft": ("brows", 1), "browOuterUpRight": ("brows", 1),
    "eyeBlinkLeft": ("wink_left", 1), "eyeBlinkRight": ("wink_right", 1),
    "eyeLookInLeft": ("gaze_x", -1), "eyeLookOutLeft": ("gaze_x", 1),
    "eyeLookInRight": ("gaze_x", 1), "eyeLookOutRight": ("gaze_x", -1),
    "jawOpen": ("aaa", 1),
    "mouthFunnel": ("woo", 1), "mouthPucker": ("woo", 1),
    "mouthPressLeft": ("pout", -1), "mouthPressRight": ("pout", -1),
    "mouthSmileLeft": ("smile", 1), "mouthSmileRight": ("smile", 1),
    "mouthUpperUpLeft": ("grin", 1), "mouthUpperUpRight": ("grin", 1),
}
#: shape -> its mean reading at each of :data:`LEVELS` of its control (bench/bench_blendshapes.py).
CURVES: dict[str, tuple[float, ...]] = {
    "browInnerUp": (0.065, 0.102, 0.214, 0.297, 0.406),
    "browOuterUpLeft": (0.206, 0.248, 0.352, 0.437, 0.539),
    "browOuterUpRight": (0.107, 0.121, 0.227, 0.311, 0.420),
    "eyeBlinkLeft": (0.125, 0.179, 0.237, 0.378, 0.472),
    "eyeBlinkRight": (0.079, 0.137, 0.213, 0.333, 0.446),
    "eyeLookInLeft": (0.018, 0.046, 0.151, 0.347, 0.567),
    "eyeLookOutLeft": (0.203, 0.355, 0.559, 0.734, 0.842),
    "eyeLookInRight": (0.200, 0.375, 0.573, 0.742, 0.845),
    "eyeLookOutRight": (0.026, 0.060, 0.157, 0.324, 0.533),
    "jawOpen": (0.003, 0.007, 0.056, 0.124, 0.172),
    "mouthFunnel": (0.001, 0.003, 0.034, 0.224, 0.458),
    "mouthPucker": (0.045, 0.234, 0.792, 0.952, 0.970),
    "mouthPressLeft": (0.168, 0.201, 0.254, 0.311, 0.393),
    "mouthPressRight": (0.073, 0.101, 0.135, 0.170, 0.245),
    "mouthSmileLeft": (0.063, 0.207, 0.445, 0.732, 0.839),
    "mouthSmileRight": (0.077, 0.207, 0.446, 0.699, 0.813),
    "mouthUpperUpLeft": (0.001, 0.016, 0.120, 0.395, 0.659),
    "mouthUpperUpRight": (0.001, 0.019, 0.152, 0.424, 0.692),
}
#: Both eyes closed together: ``blink`` (both lids) against the mean of ``eyeBlinkLeft`` and
#: ``eyeBlinkRight``, at :data:`LEVELS` (a wink alone closes one eye less far).
BLINK_CURVE: tuple[float, ...] = (0.102, 0.209, 0.316, 0.562, 0.677)
#: Where both eyes' blink coefficients lie within this of each other, both eyes close by ``blink``.
BLINK_TOGETHER = 0.2

_WEAK = "the stage's {} moves it by {:.2f} (mean of four London faces; bench/bench_blendshapes.py sweep)"
_OTHER = "no control of the stage makes this move (the state has no {})"
_BACK = ("the stage's {} moves it, but set and read back on the astronaut r is {:.2f}, under 0.8 "
         "(bench/bench_blendshapes.py check --target neutral)")
_SQUINT = ("the state has no lower lid raised; eyes=-1 (the lids closing) reads as it (set and read back r >= 0.91 "
           "on five faces) but a blink or a wink reads as a squint as well (0.68-0.83 on the astronaut), so a whole reading of a wink "
           "closed both eyes through it (bench/bench_blendshapes.py drive)")
_UNREAD = "the reader gives it 0.000 on all 525 readings of the sweep (five faces, 104 edits each and unedited)"
_LOW = "; at most {} on all 525 readings of the sweep"
#: The shapes the state cannot express, each with why (docs/blendshapes.md).
INEXPRESSIBLE: dict[str, str] = {
    "browDownLeft": _WEAK.format("brows=-1 (AU4)", 0.08), "browDownRight": _WEAK.format("brows=-1 (AU4)", 0.08),
    "cheekPuff": _OTHER.format("cheek puff"),
    "cheekSquintLeft": _UNREAD + " (the stage's smile, AU6, among them)",
    "cheekSquintRight": _UNREAD + " (the stage's smile, AU6, among them)",
    "eyeLookDownLeft": _BACK.format("gaze_y=-1", 0.57), "eyeLookDownRight": _BACK.format("gaze_y=-1", 0.51),
    "eyeLookUpLeft": _WEAK.format("gaze_y=1", 0.06), "eyeLookUpRight": _WEAK.format("gaze_y=1", 0.06),
    "eyeSquintLeft": _SQUINT, "eyeSquintRight": _SQUINT,
    "eyeWideLeft": _WEAK.format("eyes=1 (AU5)", 0.02), "eyeWideRight": _WEAK.format("eyes=1 (AU5)", 0.04),
    "jawForward": _OTHER.format("jaw thrust"), "jawLeft": _OTHER.format("sideways jaw"),
    "jawRight": _OTHER.format("sideways jaw"), "mouthClose": _OTHER.format("lips closed over an open jaw"),
    "mouthDimpleLeft": _OTHER.format("AU14 (only purse raises its reading, a different move)"),
    "mouthDimpleRight": _OTHER.format("AU14 (only purse raises its reading, a different move)"),
    "mouthFrownLeft": _WEAK.format("smile=-1 (AU15)", 0.0) + _LOW.format(0.008),
    "mouthFrownRight": _WEAK.format("smile=-1 (AU15)", 0.0) + _LOW.format(0.011),
    "mouthLeft": _OTHER.format("sideways mouth"), "mouthRight": _OTHER.format("sideways mouth"),
    "mouthLowerDownLeft": _WEAK.format("aaa", 0.06), "mouthLowerDownRight": _WEAK.format("aaa", 0.06),
    "mouthRollLower": _BACK.format("pout=-1", 0.78), "mouthRollUpper": _WEAK.format("pout=-1", 0.08),
    "mouthShrugLower": _OTHER.format("AU17 that reads as it (mouth=-1 lowers its reading; only purse raises it)"),
    "mouthShrugUpper": _OTHER.format("shrugged upper lip (only purse raises its reading)"),
    "mouthStretchLeft": _WEAK.format("woo=-1 (eee: 0.00)", 0.04),
    "mouthStretchRight": _WEAK.format("woo=-1 (eee: 0.00)", 0.10) + "; its left side 0.04",
    "noseSneerLeft": _OTHER.format("AU9") + "; " + _UNREAD, "noseSneerRight": _OTHER.format("AU9") + "; " + _UNREAD,
    "tongueOut": _OTHER.format("tongue") + "; MediaPipe's model does not read it",
}


def parse_blendshapes(spec: str | dict) -> dict[str, float]:
    """``"jawOpen=0.6,eyeBlinkLeft=1"``, a JSON file's path (``{name: value}``, or what
    ``faceedit au --blendshapes`` printed: one face's record a line, the first line's
    ``blendshapes`` taken), or a dict ->
    {ARKit name: value 0..1}. UsageError on an unknown name (case counts, as in ARKit), a value
    that is not a number in 0..1, a name given twice or a file that cannot be read."""
    if isinstance(spec, dict):
        items = list(spec.items())
    elif is_file_spec(spec):
        items = list(_read_file(Path(spec)).items())
    else:
        items = []
        for part in (p for p in spec.replace(";", ",").split(",") if p.strip()):
            name, eq, value = part.partition("=")
            if not eq:
                raise UsageError(f"`blendshapes` {part.strip()!r}: give NAME=VALUE (e.g. jawOpen=0.6) or a JSON file")
            items.append((name.strip(), value.strip()))
    out: dict[str, float] = {}
    for name, value in items:
        if name not in ARKIT:
            near = [n for n in ARKIT if n.lower() == str(name).lower()]
            hint = f" (did you mean {near[0]}?)" if near else " (ARKit's 52 names: see docs/blendshapes.md)"
            raise UsageError(f"`blendshapes` {name!r}: not an ARKit blendshape{hint}")
        if name in out:
            raise UsageError(f"`blendshapes` {name} given twice")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise UsageError(f"`blendshapes` {name}={value!r}: not a number") from None
        if not 0.0 <= v <= 1.0:
            raise UsageError(f"`blendshapes` {name}={v:g}: a blendshape coefficient is 0..1")
        out[name] = v
    return out


def is_file_spec(spec: str) -> bool:
    """Whether a ``--blendshapes`` value names a file (it ends in .json or is one) rather than
    NAME=VALUE items."""
    return spec.strip().lower().endswith(".json") or "=" not in spec and Path(spec).is_file()


def _read_file(path: Path) -> dict:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"`blendshapes` {path}: cannot read it ({e})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:  # au --json's lines, one face each: the first face
        try:
            data = json.loads(next(line for line in text.splitlines() if line.strip()))
        except (StopIteration, json.JSONDecodeError) as e:
            raise UsageError(f"`blendshapes` {path}: cannot read it as JSON ({e})") from None
    if isinstance(data, dict) and isinstance(data.get("faces"), list):  # au --blendshapes' record
        faces = [f for f in data["faces"] if isinstance(f, dict) and isinstance(f.get("blendshapes"), dict)]
        if not faces:
            raise UsageError(f"`blendshapes` {path}: the record holds no face's blendshapes")
        data = faces[0]["blendshapes"]
    elif isinstance(data, dict) and isinstance(data.get("blendshapes"), dict):
        data = data["blendshapes"]
    if not isinstance(data, dict):
        raise UsageError(f"`blendshapes` {path}: give {{name: value}} or a line `faceedit au` printed with blendshapes")
    return data


def control_value(shape: str | tuple[float, ...], value: float) -> float:
    """The control value (in its direction, 0..1 of its range) whose fitted reading of
    ``shape`` is ``value`` (its curve in :data:`CURVES`, or the curve itself; made
    non-decreasing; linear between its steps)."""
    curve = list(CURVES[shape] if isinstance(shape, str) else shape)
    for i in range(1, len(curve)):
        curve[i] = max(curve[i], curve[i - 1])
    if value <= curve[0]:
        return 0.0
    if value >= curve[-1]:
        return 1.0
    for i in range(1, len(curve)):
        if value <= curve[i]:
            lo, hi = curve[i - 1], curve[i]
            t = 0.0 if hi <= lo else (value - lo) / (hi - lo)
            return LEVELS[i - 1] + t * (LEVELS[i] - LEVELS[i - 1])
    return 1.0


def refused(shapes: dict[str, float]) -> list[str]:
    """The shapes of ``shapes`` the state cannot express that ask for something (above :data:`NOISE`)."""
    return [n for n in ARKIT if n in INEXPRESSIBLE and shapes.get(n, 0.0) > NOISE]


def to_controls(shapes: dict[str, float] | str) -> dict[str, float]:
    """Blendshape coefficients (or a spec :func:`parse_blendshapes` reads) -> the stage's
    controls {name: value}, rounded to 3 decimals, those at 0 left out. UsageError naming the
    shapes the state cannot express where any asks for something (:func:`refused`)."""
    if not isinstance(shapes, dict):
        shapes = parse_blendshapes(shapes)
    else:
        shapes = parse_blendshapes(dict(shapes))
    bad = refused(shapes)
    if bad:
        raise UsageError(
            f"`blendshapes`: the stage cannot express {', '.join(f'{n}={shapes[n]:g}' for n in bad)} "
            f"(give them as 0, or at most {NOISE:g}; what it can: docs/blendshapes.md)")
    up: dict[str, float] = {}
    down: dict[str, float] = {}
    left, right = shapes.get("eyeBlinkLeft"), shapes.get("eyeBlinkRight")
    together = False
    if left is not None and right is not None and abs(left - right) <= BLINK_TOGETHER:
        together = True  # both eyes closing alike: the blink, which closes them further than two winks
        up["blink"] = control_value(BLINK_CURVE, (left + right) / 2)
    for name, value in shapes.items():
        if name not in MAPPING or together and name in ("eyeBlinkLeft", "eyeBlinkRight"):
            continue
        control, direction = MAPPING[name]
        side = up if direction > 0 else down
        side[control] = max(side.get(control, 0.0), control_value(name, value))
    out: dict[str, float] = {}
    for control in sorted({*up, *down}):
        lo, hi = control_range(control)
        v = up.get(control, 0.0) * hi + down.get(control, 0.0) * lo  # lo < 0 where the control goes down
        v = round(min(hi, max(lo, v)), 3)
        if v:
            out[control] = v
    return out


def controls_spec(spec: list[str] | tuple[str, ...] | str | None) -> list[str]:
    """The ``--control`` items that ``--blendshapes`` values (repeatable; each a spec
    :func:`parse_blendshapes` reads; all together one set of shapes) stand for: for the command
    line, which adds them to its ``--control`` list. Shapes that ask for nothing give one
    control at 0 (the target alone).

    Given by name, a shape the state cannot express is refused (:func:`to_controls`). A file
    is a reading of a whole face (``faceedit au --blendshapes`` writes all 51 the reader
    gives, and real faces read above :data:`NOISE` on some the state lacks): its inexpressible
    shapes are left out, and a warning names those above :data:`NOISE`; its other shapes at or
    below :data:`NOISE` are taken as 0 (a reading's noise would move the controls whose curves
    start near 0, ``gaze_x``, ``aaa``, ``grin``, by a third of their range)."""
    if not spec:
        return []
    specs = [spec] if isinstance(spec, str) else list(spec)
    shapes: dict[str, float] = {}
    for s in specs:
        given = parse_blendshapes(s)
        if is_file_spec(s):
            left_out = refused(given)
            if left_out:
                logger.warning("`blendshapes` %s: left out what the stage cannot express: %s", s.strip(),
                               ", ".join(f"{n}={given[n]:g}" for n in left_out))
            # a reading's noise is no move: at or below NOISE a file's shape asks for nothing
            given = {n: (v if v > NOISE else 0.0) for n, v in given.items() if n not in INEXPRESSIBLE}
        for name, v in given.items():
            if name in shapes:
                raise UsageError(f"`blendshapes` {name} given twice")
            shapes[name] = v
    controls = to_controls(shapes)
    if not controls:  # every shape at the unedited face's reading: a control at 0 leaves the photo as it is
        mapped = [MAPPING[n][0] for n in shapes if n in MAPPING]
        return [f"{mapped[0] if mapped else 'smile'}=0"]
    return [f"{k}={v:g}" for k, v in controls.items()]
