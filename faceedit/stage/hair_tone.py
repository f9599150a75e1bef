"""The hair's lightness carried to a colour's by one monotone curve (``--attr hair=blond|red|grey``).

The curve takes the photo's hair's lightness quantiles (:data:`QUANTILES` of Lab L over its
matte's core, :func:`faceedit.stage.regions.hair_colour`) to those of real hair of the colour:
the colour's mean lightness (:data:`faceedit.stage.hair.LAB`) plus the offsets from the mean that
real hair of that colour shows (:data:`PROFILE`). Every strand keeps its rank among the others
(darker stays darker), and the new hair's light and dark spread as real hair's do: a dark head's
squeezed shadows are opened, its highlights stay the lightest. Each step of the curve is kept
within ``HairTuning.tone_slope`` (a dark photo's noise is not lifted into grain, a flat stretch
is not crushed); beyond the outer quantiles it goes on at the end steps' slopes, no steeper than 1.

numpy only.
"""

from __future__ import annotations

import numpy as np

#: The lightness quantiles (percent) the curve joins.
QUANTILES = (2.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 98.0)
#: Real hair's lightness at :data:`QUANTILES`, less its mean (Lab L units): the median over
#: London neutral faces outside the held-out ones (1350 px, the stage's matte over 0.9) whose hair
#: is nearest the colour: blond 068, 081, 122 (L 45-50, b 10-13, the lightest in the set); red
#: 002, 009, 027, 107, 118, 128 (L 36-41, b 8-11); grey 042 (L 58, b -1, the one grey head).
#: Black and brown keep :func:`faceedit.stage.hair.recolour`'s scaled variation.
PROFILE: dict[str, tuple[float, ...]] = {
    "blond": (-27.1, -25.0, -22.8, -15.3, -2.9, 13.7, 25.5, 31.4, 37.4),
    "red": (-23.7, -20.8, -17.7, -10.9, -2.0, 9.1, 21.3, 27.7, 34.2),
    "grey": (-27.7, -23.4, -19.1, -10.7, -0.2, 10.3, 19.7, 24.8, 29.5),
}


def quantiles(light: np.ndarray) -> np.ndarray:
    """(len(QUANTILES),) float32: the lightness ``light`` (any shape) at :data:`QUANTILES`."""
    return np.percentile(np.asarray(light, np.float64).ravel(), QUANTILES).astype(np.float32)


def curve(own: np.ndarray, mean: float, profile: tuple[float, ...],
          slope: tuple[float, float], ceiling: float = 1e9) -> tuple[np.ndarray, np.ndarray]:
    """The curve's knots (x: the photo's hair lightness, y: the new), taking ``own`` (the photo's
    hair's lightness at :data:`QUANTILES`) to ``mean`` + ``profile``, each step's slope within
    ``slope`` (low, high), anchored at the median; x strictly increasing."""
    x = np.maximum.accumulate(np.asarray(own, np.float64) + 1e-3 * np.arange(len(own)))
    offsets = np.asarray(profile, np.float64)
    if mean + offsets[-1] > ceiling:  # the light half squeezed under the ceiling
        offsets = np.where(offsets > 0, offsets * max(ceiling - mean, 0.0) / offsets[-1], offsets)
    y = mean + offsets
    steps = np.clip(np.diff(y) / np.maximum(np.diff(x), 1e-3), *slope)
    mid = len(x) // 2
    out = np.empty_like(y)
    out[mid] = y[mid]
    for i in range(mid + 1, len(x)):
        out[i] = out[i - 1] + steps[i - 1] * (x[i] - x[i - 1])
    for i in range(mid - 1, -1, -1):
        out[i] = out[i + 1] - steps[i] * (x[i + 1] - x[i])
    return x, out


def apply(light: np.ndarray, knots: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``light`` through the curve ``knots``: joined linearly between them, beyond them at the
    end steps' slopes (no steeper than 1); same dtype."""
    x, y = knots
    out = np.interp(light, x, y)
    lo = min((y[1] - y[0]) / max(x[1] - x[0], 1e-3), 1.0)
    hi = min((y[-1] - y[-2]) / max(x[-1] - x[-2], 1e-3), 1.0)
    out = np.where(light < x[0], y[0] + lo * (light - x[0]), out)
    out = np.where(light > x[-1], y[-1] + hi * (light - x[-1]), out)
    return out.astype(light.dtype)
