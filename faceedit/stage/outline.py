"""The outline of a new mouth opening as a smooth curve with round ends: each destination
inner-lip curve of a cut (:mod:`faceedit.stage.cut_fields`), read as its height off the
corner-to-corner chord, is smoothed and, near each corner, raised to a round end. An
opening drawn from a face mesh's loop (a polyline whose samples kink where the loop's
segments meet, the lips meeting at a wedge at each corner) then has its kinks softened and
its ends round at the corners: no wedge, and nothing of it reaches past the corners. A
flatter opening with both lips parted (a fear's or a vowel's) is smoothed alike and its ends
taper instead: the lips meet in a thin point running into each corner, not a straight-sided
wedge.

Each sample moves across the chord only (as :func:`~faceedit.stage.cut_curves.round_opening`),
never along it: a lip's pixels are not slid along the lip.

Coordinates: x right, y down (as :mod:`faceedit.stage.cut_curves`).
"""

from __future__ import annotations

import numpy as np

from faceedit.stage.tuning_face import WarpTuning

#: Samples of the dense profile along the chord the envelope is smoothed on.
PROFILE = 513


def smoothed_profile(h: np.ndarray, sigma: float) -> np.ndarray:
    """``h`` (samples along the chord, 0 at both ends) smoothed by a Gaussian of ``sigma``
    samples; past each end it is continued by its point reflection there, so the ends stay 0
    and a straight end stays straight."""
    n = len(h)
    if sigma <= 0 or n < 3:
        return h.copy()
    r = min(int(np.ceil(3 * sigma)), n - 1)
    pad = np.r_[2 * h[0] - h[r:0:-1], h, 2 * h[-1] - h[-2:-r - 2:-1]]
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    return np.convolve(pad, k / k.sum(), mode="valid")


def _profile(x: np.ndarray, y: np.ndarray, width: float, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(chord positions, raw heights, smoothed heights) on the even profile of :data:`PROFILE`
    samples: heights ``y`` at chord positions ``x`` (0 at both corners), smoothed by a Gaussian
    of ``sigma`` of the chord (:func:`smoothed_profile`)."""
    g = np.linspace(0.0, width, PROFILE)
    order = np.argsort(x, kind="stable")
    raw = np.interp(g, np.r_[0.0, np.clip(x[order], 0.0, width), width], np.r_[0.0, y[order], 0.0])
    return g, raw, smoothed_profile(raw, sigma * (PROFILE - 1))


def rounded_side(x: np.ndarray, y: np.ndarray, width: float, sigma: float, reach: float) -> np.ndarray:
    """Heights ``y`` off the chord (towards this side's lip, at chord positions ``x`` from 0 to
    ``width``) as a smooth curve with round ends: smoothed by a Gaussian of ``sigma`` of the
    chord (:func:`smoothed_profile`), then within ``reach`` of the chord from each corner raised
    by ``a (sqrt(t (2 - t)) - t) (1 - t)``, ``t`` the share of that reach from the corner and
    ``a`` the height at the reach: a quarter circle's vertical tangent at the corner instead of
    a wedge's straight side, joined to the rest without a kink."""
    g, raw, prof = _profile(x, y, width, sigma)
    if reach > 0:
        r = reach * width
        for d, at in ((g, r), (width - g, width - r)):  # from each corner
            t = np.clip(d / r, 0.0, 1.0)
            a = max(float(np.interp(at, g, prof)), 0.0)
            prof = prof + a * (np.sqrt(t * (2.0 - t)) - t) * (1.0 - t)
    # (the change read on the even profile, added to the samples: none where nothing changes)
    return y + np.interp(np.clip(x, 0.0, width), g, prof - raw)


def tapered_side(x: np.ndarray, y: np.ndarray, width: float, sigma: float, reach: float, depth: float) -> np.ndarray:
    """Heights ``y`` off the chord (as :func:`rounded_side`) as a smooth curve whose ends taper
    to the corners: smoothed by a Gaussian of ``sigma`` of the chord, then within ``reach`` of
    the chord from each corner scaled by ``1 - depth (1 - t)^2``, ``t`` the share of that reach
    from the corner: with ``depth`` 1 the lips meet tangent to the chord (a slit that thins into
    the corner), less an acute end; joined to the rest without a kink."""
    g, raw, prof = _profile(x, y, width, sigma)
    if reach > 0:
        t = np.clip(np.minimum(g, width - g) / (reach * width), 0.0, 1.0)
        prof = prof * (1.0 - depth * (1.0 - t) ** 2)
    return y + np.interp(np.clip(x, 0.0, width), g, prof - raw)


def smooth_outline(upper: np.ndarray, lower: np.ndarray, tuning: WarpTuning | None = None,
                   src_upper: np.ndarray | None = None, src_lower: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Destination mouth curves (corner to corner) whose opening, as far as it is tall for its
    width (:attr:`~faceedit.stage.tuning_face.WarpTuning.outline_aspect`), has a smooth outline with round ends at
    the corners: each curve :func:`rounded_side` by
    :attr:`~faceedit.stage.tuning_face.WarpTuning.outline_sigma` and
    :attr:`~faceedit.stage.tuning_face.WarpTuning.outline_reach`. The corners stay where they
    are; a thin or closed opening (a smile's crescent, lips that meet) is left as it is, and,
    given the source curves (``src_upper``, ``src_lower``), so is an opening no taller for its
    width than the photo's own: smoothed by as much as it grew, wholly from
    :attr:`~faceedit.stage.tuning_face.WarpTuning.outline_growth` (a photo driven by a talking
    clip keeps its own mouth's outline where its lips part as little as the photo's do). Below
    the rounding's share an opening whose upper lip rises off the chord
    (:attr:`~faceedit.stage.tuning_face.WarpTuning.outline_parted`) is smoothed with its ends
    tapered (:func:`tapered_side` by
    :attr:`~faceedit.stage.tuning_face.WarpTuning.outline_taper`), by what the rounding leaves."""
    tn = tuning if tuning is not None else WarpTuning()
    up, low = np.asarray(upper, np.float64), np.asarray(lower, np.float64)
    chord = up[-1] - up[0]
    width = float(np.linalg.norm(chord))
    if width <= 0:
        return up, low
    e = chord / width
    n = np.array([e[1], -e[0]])  # across the chord
    if float((up - low).sum(0) @ n) < 0:
        n = -n  # towards the upper lip
    xu, yu = (up - up[0]) @ e, (up - up[0]) @ n
    xl, yl = (low - up[0]) @ e, -((low - up[0]) @ n)
    height = float(np.linalg.norm(up - low, axis=1).max())
    lo, hi = tn.outline_aspect
    amount = float(np.clip((height / width - lo) / (hi - lo), 0.0, 1.0))
    lo, hi = tn.outline_parted
    taper = (1.0 - amount) * float(np.clip((float(yu.max()) / width - lo) / (hi - lo), 0.0, 1.0))
    if src_upper is not None and src_lower is not None:
        src_w = float(np.linalg.norm(np.asarray(src_upper)[-1] - np.asarray(src_upper)[0]))
        src_aspect = float(np.linalg.norm(np.asarray(src_upper) - np.asarray(src_lower), axis=1).max()) / max(src_w, 1e-6)
        grew = float(np.clip((height / width - src_aspect) / tn.outline_growth, 0.0, 1.0))
        amount, taper = amount * grew, taper * grew
    if amount <= 0 and taper <= 0:
        return up, low
    args = (width, tn.outline_sigma, tn.outline_reach)
    ru, rl = rounded_side(xu, yu, *args), rounded_side(xl, yl, *args)
    targs = (width, tn.outline_sigma, *tn.outline_taper)
    tu, tl = tapered_side(xu, yu, *targs), tapered_side(xl, yl, *targs)
    su = up + (amount * (ru - yu) + taper * (tu - yu))[:, None] * n
    sl = low - (amount * (rl - yl) + taper * (tl - yl))[:, None] * n
    su[[0, -1]], sl[[0, -1]] = up[[0, -1]], low[[0, -1]]
    return su, sl
