"""Hair colour: ``--attr hair=black|brown|blond|red|grey``.

The hair is found from the photo (:func:`faceedit.stage.regions.hair_matte`: GrabCut seeded by
the face, a guided-filter matte at the photo's pixels) and recoloured in CIE Lab: its lightness
is moved to the colour's (:data:`HAIR_COLOURS`) with its own variation about its mean kept and
scaled by :func:`contrast` (strands, highlights and the roots' shading stay where they are,
lighter hair shows a wider range, as real hair does), rolled off under white
(:func:`soft_limit`) and, at the matte's edge, no lighter than the colour's mean plus a spread
or the pixel's own (the wall between the outer strands is not lifted); its chroma set to the
colour's with a share of its own variation kept, fading towards white in the highlights
(:func:`highlight_chroma`). Skin, eyebrows and background are outside the matte and stay as
they are; the new colour is mixed in by the matte times the strength (0: the photo as it is).
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.conditions import HAIR_COLOURS
from faceedit.faces.landmarks import eye_distance
from faceedit.log import logger
from faceedit.pixels import pixel_max
from faceedit.stage.matting import unit
from faceedit.stage.regions import HeadRegions, hair_colour, hair_matte

#: Each colour's mean Lab (L 0..100), as hair of that colour reads in studio photos.
LAB: dict[str, tuple[float, float, float]] = {
    "black": (17.0, 1.0, 1.5),
    "brown": (32.0, 7.0, 14.0),
    "blond": (68.0, 4.0, 26.0),
    "red": (40.0, 20.0, 27.0),
    "grey": (64.0, 0.0, 2.0),
}
assert tuple(LAB) == HAIR_COLOURS, "the colours' names are declared in faceedit.conditions"
#: The share of the hair's own chroma variation (about its mean) kept.
CHROMA_KEPT = 0.5
#: The hair's lightness variation is scaled by (new L / own L) to this power, within these bounds:
#: over the hair of 64 of London's 68 faces outside the held-out ones (hair L 13-58) the hair's lightness deviation
#: grows as its mean lightness to the power 0.35 (11.9 L units at L under 20, 15.7 at 40-60).
CONTRAST_POWER = 0.35
CONTRAST = (0.6, 1.6)
#: The lightest a recoloured pixel gets (Lab L; paper white is 100: hair's highlights are the
#: colour's, never white).
TOP = 94.0
#: The width (Lab L units) of the soft knee under :data:`TOP` (:func:`soft_limit`).
KNEE = 12.0
#: The hair's lightness variation is scaled by no more than fits this many of its spreads above
#: the colour's mean under :data:`TOP` (a light colour has little room: blond's strands squeezed
#: into the knee lost their light and dark; at 2.0 dark hair made blond kept its strands' places
#: better but 0.64-0.8 of their contrast in levels, where real hair of every lightness in London's
#: photos shows about the same, 10-12 levels of local deviation).
HEADROOM = 1.5
#: The hair's edge: within this (eye distances) of where its matte is under a half; there a
#: pixel gets no lighter than the colour's mean plus the hair's spread, or its own lightness.
EDGE_WIDTH = 0.03
#: How fast a highlight's chroma falls towards white (:func:`highlight_chroma`).
HIGHLIGHT_POWER = 0.7


def soft_limit(light: np.ndarray) -> np.ndarray:
    """Lab lightness ``light`` kept within 0..:data:`TOP`, by a soft knee over its top :data:`KNEE`
    units: a strand lifted past white rolls off instead of clipping to a flat patch."""
    hi = TOP - KNEE
    out = np.where(light > hi, hi + KNEE * np.tanh((light - hi) / KNEE), light)
    return np.maximum(out, 0.0).astype(light.dtype)


def highlight_chroma(light: np.ndarray, mean: float) -> np.ndarray:
    """The share of its chroma a recoloured pixel of lightness ``light`` keeps, the colour's mean
    lightness being ``mean``: all at or below it, falling towards white above it (a highlight is
    the light's colour; a light yellow kept at the colour's chroma leaves sRGB and clips flat)."""
    return np.clip((100.0 - light) / max(100.0 - mean, 1.0), 0.0, 1.0) ** HIGHLIGHT_POWER


def contrast(own: float, new: float) -> float:
    """The scale of the hair's lightness variation going from mean lightness ``own`` to ``new``:
    light hair shows more of its strands than dark hair does."""
    return float(np.clip((max(new, 1.0) / max(own, 1.0)) ** CONTRAST_POWER, *CONTRAST))


def recolour(pixels: np.ndarray, lm: np.ndarray, colour: str, strength: float = 1.0,
             mesh: np.ndarray | None = None, regions: HeadRegions | None = None,
             own_colour: np.ndarray | None = None) -> np.ndarray:
    """``pixels`` ((H, W, 3) uint8/uint16 RGB, unchanged) with the hair of the face at 68
    landmarks ``lm`` recoloured to ``colour`` (:data:`HAIR_COLOURS`), ``strength`` (0..1) of the
    way; ``regions``: the face's matte, ``own_colour``: the hair's own
    (:func:`~faceedit.stage.regions.hair_colour`; a video track's, read on its first frame, so
    that hair leaving the frame does not shift the new colour), when already found. A face
    whose hair is not found comes back unchanged (a copy; logged)."""
    if strength <= 0:
        return pixels.copy()
    r = regions if regions is not None else hair_matte(pixels, lm, mesh)
    seen = own_colour if own_colour is not None else hair_colour(pixels, r)
    if seen is None:
        logger.warning("hair=%s: no hair found on a face (a bald or shaven head?); left as it is", colour)
        return pixels.copy()
    x0, y0, x1, y1 = r.work.box
    rgb = unit(pixels[y0:y1, x0:x1])
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
    own, spread = seen[:3], float(seen[3])
    target = np.array(LAB[colour], np.float32)
    k = min(contrast(float(own[0]), float(target[0])), max((TOP - float(target[0])) / (HEADROOM * spread), CONTRAST[0]))
    # the change a pixel of hair gets: the shift to the colour's mean, its own variation about
    # the hair's mean scaled (bounded: a pixel partly background or skin changes by the
    # matte's share of what hair there would)
    new = lab.copy()
    lift = np.clip(lab[..., 0] - own[0], -2.5 * spread, 2.5 * spread)
    new[..., 0] += (target[0] - own[0]) + (k - 1.0) * lift
    new[..., 1:] += (target[1:] - own[1:]) + (CHROMA_KEPT - 1.0) * np.clip(lab[..., 1:] - own[1:], -12, 12)
    new[..., 0] = soft_limit(new[..., 0])
    # at the matte's soft edge a pixel is part hair, part what lies behind: lifted as hair, a
    # light wall between a dark head's outer strands went white round a head made blond; there
    # it gets no lighter than the colour's mean plus a spread, or its own lightness
    grow = 2 * max(1, int(round(EDGE_WIDTH * eye_distance(lm)))) + 1
    edge = cv2.dilate((r.hair < 0.5).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))) > 0
    new[..., 0][edge] = np.minimum(new[..., 0][edge], np.maximum(lab[..., 0][edge], target[0] + spread))
    new[..., 1:] *= highlight_chroma(new[..., 0], float(target[0]))[..., None]
    out_rgb = np.clip(cv2.cvtColor(new, cv2.COLOR_Lab2RGB), 0.0, 1.0)
    a = (np.clip(r.hair * float(min(strength, 1.0)), 0.0, 1.0))[..., None]
    mixed = rgb + a * (out_rgb - rgb)
    out = pixels.copy()
    top = pixel_max(pixels.dtype)
    out[y0:y1, x0:x1] = np.clip(np.rint(mixed * top), 0, top).astype(pixels.dtype)
    # where the matte is 0 the photo's own levels stay (no round trip through float)
    out[y0:y1, x0:x1][a[..., 0] <= 0] = pixels[y0:y1, x0:x1][a[..., 0] <= 0]
    return out
