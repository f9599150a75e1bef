"""A value that changes over a clip: :class:`Keyed`, values at key times, interpolated smoothly.

Written ``VALUE@TIME`` comma-separated, ``0@0s,1@1.5s,0@3s``: a time is seconds with ``s``
(``1.5s``) or a frame number, bare or with ``f`` (``0``, ``36f``; frames counted from 0, the
clip's first). Between two keys the value follows a monotone cubic (Fritsch and Carlson's
conditions, the slopes Fritsch and Butland's weighted harmonic mean of the neighbouring
secants, as SciPy's PCHIP; the first and last key's slope 0): keys that rise give a curve that
rises, a key above or below both neighbours is its curve's peak or trough (slope 0 there), and
two keys alone give smoothstep's ease in and out. Before the first key and after the last the
value is held.

A request's keyed fields (:class:`faceedit.models.request.EditRequest`: ``strength``,
``light_strength``, each control's and each AU's value) hold one of these; the video path
resolves them per frame (:meth:`Keyed.at`) into an ordinary request.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from faceedit.errors import UsageError

#: The rate a frame-numbered key is placed at where the clip gives none.
DEFAULT_RATE = 25.0

_KEY = re.compile(r"^\s*([^@\s]+)\s*@\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([sf]?)\s*$")


def is_keyed_text(text: object) -> bool:
    """Whether ``text`` is written as key frames (holds an ``@``)."""
    return isinstance(text, str) and "@" in text


class Keyed(float):
    """Values at times: ``keys`` as ``(time, unit, value)``, ``unit`` ``s`` (seconds) or ``f``
    (a frame number), in time order, two keys never at one time (the module's notes).
    :meth:`parse` reads the text, :meth:`at` gives the value at a time.

    A number as well: the value before and at the first key (what the clip's first frame
    gets), so that a field declared as a number holds one and the code that reads the field
    takes it as that number. Equal only to the same keys (not to that number), hashed by them;
    written as its text (``str``, any format spec: ``0@0s,1@2s``); a record gives the text
    (:func:`keyed_json`). What edits a photo refuses one (:meth:`faceedit.models.request.
    EditRequest.keyed`): the video path resolves it per frame."""

    keys: tuple[tuple[float, str, float], ...]

    def __new__(cls, keys) -> Keyed:
        keys = tuple((float(at), str(unit), float(v)) for at, unit, v in keys)
        if not keys:
            raise ValueError("Keyed: no key frames")
        obj = super().__new__(cls, keys[0][2])
        obj.keys = keys
        return obj

    def __reduce__(self):
        return (Keyed, (self.keys,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Keyed) and other.keys == self.keys

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.keys)

    def __repr__(self) -> str:
        return f"Keyed({self.text!r})"

    @classmethod
    def parse(cls, text: str, name: str, check: Callable[[float], float] | None = None) -> Keyed:
        """``0@0s,1@2s`` (``;`` separates as well): a UsageError naming ``name`` (the field as a
        message names it, ```strength```) and the bad text for a malformed key, a frame number that is not whole, times out of order or
        repeated, a value ``check`` refuses."""
        items = [p for p in str(text).replace(";", ",").split(",") if p.strip()]
        if not items:
            raise UsageError(f"{name} {text!r}: no key frames; give VALUE@TIME, e.g. 0@0s,1@2s")
        keys = []
        for item in items:
            m = _KEY.match(item)
            if m is None:
                raise UsageError(f"{name} {item.strip()!r}: a key frame is VALUE@TIME, the time in seconds "
                                 "(2s) or a frame number (50), e.g. 0@0s,1@2s")
            value_text, at_text, unit = m.groups()
            try:
                value = float(value_text)
            except ValueError:
                raise UsageError(f"{name} {item.strip()!r}: {value_text!r} is not a number") from None
            at = float(at_text)
            if unit != "s":
                if at != int(at):
                    raise UsageError(f"{name} {item.strip()!r}: a frame number is whole; write seconds "
                                     f"with s ({at_text}s)")
                unit = "f"
            if check is not None:
                try:
                    value = check(value)
                except UsageError as e:
                    raise UsageError(f"{name} {item.strip()!r}: {e}") from None
            keys.append((at, unit, value))
        return cls.of(keys, name, text)

    @classmethod
    def of(cls, keys, name: str, text: object = None) -> Keyed:
        """``keys`` checked: finite, and in time order (seconds and frame numbers mixed are placed
        at 25 fps here; :meth:`at` orders them at the clip's own rate)."""
        keys = tuple((float(at), unit, float(v)) for at, unit, v in keys)
        if not keys:
            raise UsageError(f"{name} {text!r}: no key frames")
        placed = [at if unit == "s" else at / DEFAULT_RATE for at, unit, _ in keys]
        if any(b <= a for a, b in zip(placed, placed[1:])):
            raise UsageError(f"{name} {text!r}: key frames "
                             "go forward in time, each at its own time")
        if any(not math.isfinite(v) or not math.isfinite(at) for at, _, v in keys):
            raise UsageError(f"{name} {text!r}: a key frame is not a finite number")
        return cls(keys)

    @property
    def text(self) -> str:
        """The keys as the command line writes them, ``0@0s,1@2s`` (frame numbers bare)."""
        return ",".join(f"{v:g}@{at:g}{'s' if unit == 's' else ''}" for at, unit, v in self.keys)

    def __str__(self) -> str:
        return self.text

    def __format__(self, spec: str) -> str:
        """The text, whatever the spec: a message or a name that writes a number ``{v:g}``
        writes the keys."""
        return self.text

    @property
    def values(self) -> list[float]:
        return [v for _, _, v in self.keys]

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def times(self, rate: float | None) -> list[float]:
        """The keys' times in seconds, a frame number placed at ``rate`` (default 25 fps)."""
        rate = rate if rate and rate > 0 else DEFAULT_RATE
        return [at if unit == "s" else at / rate for at, unit, _ in self.keys]

    def at(self, seconds: float, rate: float | None = None) -> float:
        """The value at ``seconds`` from the clip's first frame (``rate``: the clip's frame rate,
        which places the frame-numbered keys)."""
        pairs = sorted(zip(self.times(rate), self.values), key=lambda p: p[0])  # frames and seconds
        kept = [p for i, p in enumerate(pairs) if i == 0 or p[0] > pairs[i - 1][0]]  # mixed, at any rate
        return monotone_cubic([t for t, _ in kept], [v for _, v in kept], seconds)


def monotone_cubic(xs: list[float], ys: list[float], x: float) -> float:
    """The monotone piecewise cubic through ``(xs, ys)`` (increasing ``xs``) at ``x``, held at
    the ends, end slopes 0 (the module's notes)."""
    n = len(xs)
    if n == 1 or x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    h = [xs[i + 1] - xs[i] for i in range(n - 1)]
    d = [(ys[i + 1] - ys[i]) / h[i] for i in range(n - 1)]
    m = [0.0] * n
    for i in range(1, n - 1):
        if d[i - 1] * d[i] > 0:
            w1, w2 = 2 * h[i] + h[i - 1], h[i] + 2 * h[i - 1]
            m[i] = (w1 + w2) / (w1 / d[i - 1] + w2 / d[i])
    i = max(k for k in range(n - 1) if xs[k] <= x)
    s = (x - xs[i]) / h[i]
    h00, h10 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s
    h01, h11 = -2 * s**3 + 3 * s**2, s**3 - s**2
    return h00 * ys[i] + h10 * h[i] * m[i] + h01 * ys[i + 1] + h11 * h[i] * m[i + 1]


def keyed_json(value: object) -> object:
    """A field's value as a record gives it: a :class:`Keyed`'s text (``0@0s,1@2s``), a
    mapping's values so, anything else as it is."""
    if isinstance(value, Keyed):
        return value.text
    if isinstance(value, dict):
        return {k: keyed_json(v) for k, v in value.items()}
    return value
