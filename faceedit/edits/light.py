"""The light an edit asks for, in words and numbers: the named directions, the range of a
direction and of the light's strength, and the default strength. No numpy: the edit request
checks a light with it before any model loads; the stage's relighting
(:mod:`faceedit.stage.shading`) reads the same values.

Directions are Extended Yale B's: azimuth and elevation in degrees; positive azimuth lights the
image's left side of the face (the subject's right), positive elevation lights it from above.
"""

from __future__ import annotations

from faceedit.errors import UsageError

#: Named directions (azimuth, elevation in degrees); ``ambient`` is even light from every direction
#: of the front hemisphere (the nine-term model's constant term), which fills the photo's shadows.
NAMED_DIRECTIONS: dict[str, tuple[float, float] | None] = {
    "front": (0.0, 0.0),
    "left": (50.0, 0.0),
    "right": (-50.0, 0.0),
    "top": (0.0, 45.0),
    "bottom": (0.0, -35.0),
    "ambient": None,
}
#: ``--light-strength``'s cap: the measured dark-room point light of Extended Yale B (no fill
#: light: the far side of the face goes nearly black).
MAX_STRENGTH = 1.0
#: How much a light replaces the photo's own when no ``light_strength`` is given: 1 is Extended
#: Yale B's dark-room point light (no fill light: the far side of the face goes nearly black), an
#: ordinary photo keeps fill light in its shadows. The stage's default (its tuning's
#: ``light.strength``) is this value.
LIGHT_STRENGTH = 0.6
#: Light directions the model is fitted on reach these |azimuth|, |elevation| (degrees).
MAX_AZIMUTH = 130.0
MAX_ELEVATION = 90.0


def parse_direction(spec) -> tuple[str, tuple[float, float] | None]:
    """(the light's name, its direction) for a name of :data:`NAMED_DIRECTIONS` (any case,
    spaces around it ignored), ``"AZ,EL"`` degrees or an (azimuth, elevation) pair: the name of a
    direction given by numbers is ``"AZ,EL"`` as ``:g`` writes them. UsageError for anything
    else and for a direction beyond :data:`MAX_AZIMUTH` / :data:`MAX_ELEVATION`."""
    if isinstance(spec, str) and spec.strip().lower() in NAMED_DIRECTIONS:
        name = spec.strip().lower()
        return name, NAMED_DIRECTIONS[name]
    parts = spec.replace(" ", "").split(",") if isinstance(spec, str) else list(spec)
    try:
        az, el = (float(p) for p in parts)
    except (TypeError, ValueError):
        raise UsageError(f"light {spec!r}: give AZ,EL in degrees (e.g. 35,15) or a name: "
                         f"{', '.join(NAMED_DIRECTIONS)}") from None
    if not (abs(az) <= MAX_AZIMUTH and abs(el) <= MAX_ELEVATION):
        raise UsageError(f"light {az:g},{el:g}: azimuth must lie within +-{MAX_AZIMUTH:g} and "
                         f"elevation within +-{MAX_ELEVATION:g} degrees")
    return f"{az:g},{el:g}", (az, el)


def light_strength(strength) -> float:
    """``strength`` as a float in 0..:data:`MAX_STRENGTH`; UsageError outside it."""
    s = float(strength)
    if not 0.0 <= s <= MAX_STRENGTH:
        raise UsageError(f"light strength {s:g}: must be between 0 and {MAX_STRENGTH:g}")
    return s
