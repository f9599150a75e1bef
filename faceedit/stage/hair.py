"""Hair colour: ``--attr hair=black|brown|blond|red|grey``.

The hair is found from the photo (:func:`faceedit.stage.regions.hair_matte`: GrabCut seeded by
the face, a guided-filter matte at the photo's pixels) and recoloured in CIE Lab (:func:`paint`).
Blond, red and grey take its lightness through one monotone curve from the hair's own
lightness quantiles to real hair's of the colour (:mod:`faceedit.stage.hair_tone`): every
strand keeps its rank, a dark head's squeezed light and dark open to real light hair's spread.
Black and brown move its lightness to the colour's (:data:`HAIR_COLOURS`) with its own
variation about its mean kept and scaled by :func:`contrast`. Either is rolled off under white
(:func:`soft_limit`); the chroma is set to the colour's with a share of its own variation kept,
fading towards white in the highlights (:func:`highlight_chroma`).

At the outline against a plain wall the hair's share of each pixel is read from its lightness
(:mod:`faceedit.stage.hair_edge`): a flyaway beyond the matte, or a pixel of the wall between
the outer strands, takes the change the hair nearby gets by its share of hair (the wall stays
the wall), no lighter than itself, that hair made new or itself made new as hair. Elsewhere at
the matte's soft edge a pixel gets no lighter than the colour's mean plus a spread or its own
lightness (the wall between the outer strands is not lifted). Skin, eyebrows and background are
outside the matte and stay as they are; the new colour is mixed in by the share of hair times
the strength (0: the photo as it is).
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.conditions import HAIR_COLOURS
from faceedit.faces.landmarks import eye_distance
from faceedit.log import logger
from faceedit.pixels import pixel_max
from faceedit.stage import hair_tone as tone
from faceedit.stage.hair_edge import outline
from faceedit.stage.hair_tone import PROFILE, QUANTILES
from faceedit.stage.matting import unit
from faceedit.stage.regions import HeadRegions, hair_colour, hair_matte
from faceedit.stage.tuning_face import HairTuning, RegionsTuning

#: Each colour's mean Lab (L 0..100), as hair of that colour reads in studio photos.
LAB: dict[str, tuple[float, float, float]] = {
    "black": (17.0, 1.0, 1.5),
    "brown": (32.0, 7.0, 14.0),
    "blond": (68.0, 4.0, 26.0),
    "red": (40.0, 20.0, 27.0),
    "grey": (64.0, 0.0, 2.0),
}
assert tuple(LAB) == HAIR_COLOURS, "the colours' names are declared in faceedit.conditions"
#: How far the hair's own variation is kept, how light it may go and how its edge and highlights
#: are drawn: :class:`~faceedit.stage.tuning_face.HairTuning` (the stage's ``tuning.hair``; the
#: defaults where none is given).


def soft_limit(light: np.ndarray, tuning: HairTuning | None = None) -> np.ndarray:
    """Lab lightness ``light`` kept within 0..``top``, by a soft knee over its top ``knee``
    units: a strand lifted past white rolls off instead of clipping to a flat patch."""
    tn = tuning if tuning is not None else HairTuning()
    hi = tn.top - tn.knee
    out = np.where(light > hi, hi + tn.knee * np.tanh((light - hi) / tn.knee), light)
    return np.maximum(out, 0.0).astype(light.dtype)


def highlight_chroma(light: np.ndarray, mean: float, tuning: HairTuning | None = None) -> np.ndarray:
    """The share of its chroma a recoloured pixel of lightness ``light`` keeps, the colour's mean
    lightness being ``mean``: all at or below it, falling towards white above it (a highlight is
    the light's colour; a light yellow kept at the colour's chroma leaves sRGB and clips flat)."""
    power = (tuning if tuning is not None else HairTuning()).highlight_power
    return np.clip((100.0 - light) / max(100.0 - mean, 1.0), 0.0, 1.0) ** power


def contrast(own: float, new: float, tuning: HairTuning | None = None) -> float:
    """The scale of the hair's lightness variation going from mean lightness ``own`` to ``new``
    (the ratio to ``contrast_power``, within ``contrast``): light hair shows more of its strands
    than dark hair does."""
    tn = tuning if tuning is not None else HairTuning()
    return float(np.clip((max(new, 1.0) / max(own, 1.0)) ** tn.contrast_power, *tn.contrast))


def paint(lab: np.ndarray, seen: np.ndarray, colour: str, tuning: HairTuning | None = None) -> np.ndarray:
    """``lab`` ((..., 3) float32 Lab) as hair of ``colour``, the hair's own colour being ``seen``
    (:func:`~faceedit.stage.regions.hair_colour`): its lightness through the curve to real hair
    of the colour (:mod:`faceedit.stage.hair_tone`, blond, red, grey) or moved to the colour's
    mean with its variation scaled (black, brown), rolled off under white; its chroma the
    colour's with a share of its own variation, fading in the highlights."""
    tn = tuning if tuning is not None else HairTuning()
    own, spread = seen[:3], float(seen[3])
    target = np.array(LAB[colour], np.float32)
    new = lab.copy()
    if colour in PROFILE and len(seen) >= 4 + len(QUANTILES):
        new[..., 0] = tone.apply(lab[..., 0], tone.curve(seen[4:], float(target[0]), PROFILE[colour], tn.tone_slope,
                                                               tn.tone_top))
    else:
        k = min(contrast(float(own[0]), float(target[0]), tn),
                max((tn.top - float(target[0])) / (tn.headroom * spread), tn.contrast[0]))
        # the shift to the colour's mean, its own variation about the hair's mean scaled (bounded)
        lift = np.clip(lab[..., 0] - own[0], -2.5 * spread, 2.5 * spread)
        new[..., 0] += (target[0] - own[0]) + (k - 1.0) * lift
    new[..., 1:] += (target[1:] - own[1:]) + (tn.chroma_kept - 1.0) * np.clip(lab[..., 1:] - own[1:], -12, 12)
    new[..., 0] = soft_limit(new[..., 0], tn)
    new[..., 1:] *= highlight_chroma(new[..., 0], float(target[0]), tn)[..., None]
    return new


def recolour(pixels: np.ndarray, lm: np.ndarray, colour: str, strength: float = 1.0,
             mesh: np.ndarray | None = None, regions: HeadRegions | None = None,
             own_colour: np.ndarray | None = None, tuning: HairTuning | None = None,
             mattes: RegionsTuning | None = None) -> np.ndarray:
    """``pixels`` ((H, W, 3) uint8/uint16 RGB, unchanged) with the hair of the face at 68
    landmarks ``lm`` recoloured to ``colour`` (:data:`HAIR_COLOURS`), ``strength`` (0..1) of the
    way; ``regions``: the face's matte, ``own_colour``: the hair's own
    (:func:`~faceedit.stage.regions.hair_colour`; a video track's, read on its first frame, so
    that hair leaving the frame does not shift the new colour), when already found. A face
    whose hair is not found comes back unchanged (a copy; logged). ``tuning``: how the colour is
    drawn, ``mattes``: how the matte is found where not given (default their defaults)."""
    if strength <= 0:
        return pixels.copy()
    tn = tuning if tuning is not None else HairTuning()
    r = regions if regions is not None else hair_matte(pixels, lm, mesh, mattes)
    seen = own_colour if own_colour is not None else hair_colour(pixels, r, mattes)
    if seen is None:
        logger.warning("hair=%s: no hair found on a face (a bald or shaven head?); left as it is", colour)
        return pixels.copy()
    x0, y0, x1, y1 = r.work.box
    rgb = unit(pixels[y0:y1, x0:x1])
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
    d = eye_distance(lm)
    new = paint(lab, seen, colour, tn)
    # at the matte's soft edge, where it is not read strand by strand, a pixel is part hair, part
    # what lies behind: lifted as hair, a light wall between a dark head's outer strands went
    # white round a head made blond; there it gets no lighter than the colour's mean plus a
    # spread, or its own lightness
    line = outline(r.work, lab, r.hair, r.face, lm, d, tn, mattes)
    grow = 2 * max(1, int(round(tn.edge_width * d))) + 1
    edge = cv2.dilate((r.hair < 0.5).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))) > 0
    edge &= line.band < 0.5
    cap = np.maximum(lab[..., 0][edge], float(LAB[colour][0]) + float(seen[3]))
    new[..., 0][edge] = np.minimum(new[..., 0][edge], cap)
    out_rgb = np.clip(cv2.cvtColor(new, cv2.COLOR_Lab2RGB), 0.0, 1.0)
    change = out_rgb - rgb
    # read strand by strand at the outline (:mod:`faceedit.stage.hair_edge`): a pixel mostly wall
    # takes, by its share of hair, the change the hair nearby gets (its own lightness is the wall's)
    # (the hair nearby is smooth: made new at work scale)
    hair_small = r.work.small(line.hair)
    size = (rgb.shape[1], rgb.shape[0])
    near = cv2.resize(np.clip(cv2.cvtColor(paint(hair_small, seen, colour, tn), cv2.COLOR_Lab2RGB), 0.0, 1.0), size,
                      interpolation=cv2.INTER_LINEAR)
    shift = near - cv2.resize(np.clip(cv2.cvtColor(hair_small, cv2.COLOR_Lab2RGB), 0.0, 1.0), size,
                              interpolation=cv2.INTER_LINEAR)
    by_share = (line.band * (1.0 - np.clip((line.alpha - 0.5) / 0.4, 0.0, 1.0)))[..., None]
    change = change + by_share * (shift - change)
    a = (np.clip(line.alpha * float(min(strength, 1.0)), 0.0, 1.0))[..., None]
    mixed = rgb + a * change
    # ... and, part wall, gets no lighter than itself, the hair nearby made new or itself made
    # new as hair (the share's shift on a light pixel went past white)
    read = by_share[..., 0] > 0
    mixed[read] = np.minimum(mixed[read], np.maximum(np.maximum(rgb[read], near[read]), out_rgb[read]))
    out = pixels.copy()
    top = pixel_max(pixels.dtype)
    out[y0:y1, x0:x1] = np.clip(np.rint(mixed * top), 0, top).astype(pixels.dtype)
    # where the matte is 0 the photo's own levels stay (no round trip through float)
    out[y0:y1, x0:x1][a[..., 0] <= 0] = pixels[y0:y1, x0:x1][a[..., 0] <= 0]
    return out
