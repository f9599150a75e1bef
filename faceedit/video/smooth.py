"""Temporal filters for tracked faces.

Landmarks are smoothed with the One-Euro filter (Casiez, Roussel and Vogel, CHI 2012): a
first-order low-pass whose cut-off rises with the signal's speed. A face at rest is measured
again each frame with a few tenths of a pixel of noise, which a fixed low-pass would have to
smooth heavily (and then lag a turning head by several frames); the One-Euro filter smooths
hard at rest and lets fast motion through with little lag, needs no motion model (a Kalman
filter would need one, and noise covariances fitted per clip), and has two intuitive knobs.
The speed it reacts to is measured on the whole face (the largest point speed, in face widths
per second), so one cut-off serves all points of a face and the shape never shears.

The expression state's slow part (:class:`SlowMean`, an exponential mean over about a second)
is what an edit replaces: the frame-to-frame rest of the state (talking, blinking) is kept.

Both run on each frame's time, which :class:`FrameClock` gives: the frame's timestamp where the
step from the frame before is plausible for the clip, else one frame's period (frame order).
A request's key frames are resolved on the same clock, at the frame's time from the clip's
first frame (:func:`frame_request`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from faceedit.models.request import EditRequest


def _alpha(cutoff: float, dt: float) -> float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuro:
    """One-Euro filter over an array (all entries share one cut-off).

    ``min_cutoff`` (Hz): the cut-off at rest (lower = smoother when still); ``beta``: how fast the
    cut-off rises with speed (higher = less lag in motion); ``d_cutoff`` (Hz): the low-pass of the
    speed itself. ``scale``: the unit speeds are measured in (e.g. the face's width in pixels),
    so the knobs do not depend on the face's size."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 1.5, d_cutoff: float = 1.0,
                 trend: float | None = None):
        self.min_cutoff, self.beta, self.d_cutoff, self.trend = min_cutoff, beta, d_cutoff, trend
        self.x: np.ndarray | None = None
        self.v: np.ndarray | float = 0.0
        self.dx: float = 0.0
        self.t: float | None = None

    def reset(self) -> None:
        self.x, self.v, self.dx, self.t = None, 0.0, 0.0, None

    def __call__(self, x: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        """The filtered value of ``x`` measured at time ``t`` (seconds, increasing)."""
        x = np.asarray(x, np.float64)
        if self.x is None or self.t is None or t <= self.t:
            self.x, self.t, self.dx, self.v = x.copy(), t, 0.0, np.zeros_like(x)
            return x.copy()
        dt = t - self.t
        # with a trend the filter smooths around where the value is heading (no lag behind a
        # steady motion: Holt's linear smoothing with One-Euro's adaptive cut-off)
        pred = self.x + self.v * dt if self.trend else self.x
        speed = float(np.abs(x - self.x).max()) / max(scale, 1e-9) / dt
        self.dx += _alpha(self.d_cutoff, dt) * (speed - self.dx)
        cutoff = self.min_cutoff + self.beta * self.dx
        new = pred + _alpha(cutoff, dt) * (x - pred)
        if self.trend:
            self.v = self.v + _alpha(self.trend, dt) * ((new - self.x) / dt - self.v)
        self.x, self.t = new, t
        return self.x.copy()


class SlowMean:
    """Exponential mean with time constant ``seconds`` (first value taken as it is)."""

    def __init__(self, seconds: float = 1.0):
        self.seconds = seconds
        self.value: np.ndarray | None = None
        self.t: float | None = None

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if self.value is None or self.t is None or t <= self.t:
            self.value, self.t = x.copy(), t
            return x.copy()
        a = 1.0 - math.exp(-(t - self.t) / self.seconds)
        self.value = self.value + a * (x - self.value)
        self.t = t
        return self.value.copy()


class FrameClock:
    """Each frame's time (seconds) for the filters above, robust to a clip's clock.

    The period is the container's nominal frame rate where it lies in [:data:`LOW`,
    :data:`HIGH`] fps, else 25 fps. A frame's time is the previous frame's plus the step
    between their timestamps where that step is within a factor :data:`SLACK` of the period
    (a variable frame rate, a dropped frame), else plus one period: a missing timestamp, one
    that goes back or jumps, or a clip whose timestamps claim another rate altogether (the
    same talking clip stamped at 1,875 fps) is smoothed in frame order. ``replaced`` counts
    the steps taken by frame order, ``steps`` all steps; :attr:`kind` says which clock ran;
    ``start`` is the first frame's time (:attr:`since`: the last frame's time from it, what a
    key-framed edit is resolved at)."""

    LOW, HIGH, SLACK = 1.0, 240.0, 3.0

    def __init__(self, rate: float | None):
        nominal = float(rate) if rate else 0.0
        self.rate = nominal if self.LOW <= nominal <= self.HIGH else 25.0
        self.period = 1.0 / self.rate
        self.t: float | None = None
        self.start = 0.0
        self.stamp: float | None = None
        self.steps = self.replaced = 0

    def __call__(self, stamp: float | None) -> float:
        """The time of the next frame, whose timestamp (seconds) is ``stamp`` (None: none)."""
        if self.t is None:
            self.t = self.start = 0.0 if stamp is None else float(stamp)
        else:
            self.steps += 1
            step = None if stamp is None or self.stamp is None else float(stamp) - self.stamp
            if step is None or not self.period / self.SLACK <= step <= self.period * self.SLACK:
                step = self.period
                self.replaced += 1
            self.t += step
        self.stamp = None if stamp is None else float(stamp)
        return self.t

    @property
    def since(self) -> float:
        """The last frame's time from the first frame's (seconds)."""
        return 0.0 if self.t is None else self.t - self.start

    @property
    def kind(self) -> str:
        """``timestamps`` (every step from them), ``frame order`` (none) or ``mixed``."""
        if not self.replaced:
            return "timestamps"
        return "frame order" if self.replaced == self.steps else "mixed"


def frame_request(request: EditRequest, clock: FrameClock) -> tuple[EditRequest, object]:
    """``request`` at the frame ``clock`` last timed: its key frames resolved at the frame's time
    from the clip's first (:meth:`faceedit.models.request.EditRequest.resolved`; a frame-numbered key placed at the
    clock's rate), and what it asks for as a value a key frame's compares (None where nothing
    is keyed: every frame asks the same)."""
    if not request.keyed():
        return request, None
    r = request.resolved(clock.since, clock.rate)
    return r, (r.strength, r.light, r.light_strength, tuple(sorted((r.aus or {}).items())),
               tuple(sorted((r.controls or {}).items())))
