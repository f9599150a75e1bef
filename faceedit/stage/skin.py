"""Skin tone: ``--attr skin=pale|tan``.

The skin of the face, ears and neck together (:func:`faceedit.stage.regions.skin_matte`: the
cheeks' colour, connected to the face, less the hair, eyes, brows and lips) is moved in CIE Lab:
its lightness shifted in proportion to its own (the shading of cheekbones, nose and neck kept),
its chroma scaled (:data:`TONES`). Lips, eyes, teeth and hair are outside the matte and stay as
they are; the new tone is mixed in by the matte times the strength (0: the photo as it is).
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.conditions import SKIN_TONES
from faceedit.pixels import pixel_max
from faceedit.stage.matting import unit
from faceedit.stage.regions import HeadRegions, hair_matte, skin_matte, skin_without_features
from faceedit.stage.tuning_face import RegionsTuning

#: Each tone's change: lightness added at the skin's median lightness (L units; in proportion to
#: a pixel's own elsewhere), the a (red) and b (yellow) chroma's scale and shift.
TONES: dict[str, tuple[float, float, float, float, float]] = {
    #        dL    a x   a +   b x   b +
    "pale": (9.0, 0.85, 0.0, 0.78, 0.0),
    "tan": (-8.0, 0.95, 0.5, 1.0, 2.0),
}
assert tuple(TONES) == SKIN_TONES, "the tones' names are declared in faceedit.conditions"


def retone(pixels: np.ndarray, lm: np.ndarray, tone: str, strength: float = 1.0, mesh: np.ndarray | None = None,
           regions: HeadRegions | None = None, area: np.ndarray | None = None,
           tuning: RegionsTuning | None = None) -> np.ndarray:
    """``pixels`` ((H, W, 3) uint8/uint16 RGB, unchanged) with the skin of the face at 68
    landmarks ``lm`` moved to ``tone`` (:data:`SKIN_TONES`), ``strength`` (0..1) of the way;
    ``regions``: the face's head mattes, ``area``: its skin area over their box
    (:func:`~faceedit.stage.regions.skin_area`), where already found; ``tuning``: how the mattes
    are found where they are not (:class:`~faceedit.stage.tuning_face.RegionsTuning`, default its
    defaults)."""
    if strength <= 0:
        return pixels.copy()
    r = regions if regions is not None else hair_matte(pixels, lm, mesh, tuning)
    matte = skin_matte(pixels, lm, r, tuning) if area is None else skin_without_features(area, lm, r, tuning)
    x0, y0, x1, y1 = r.work.box
    rgb = unit(pixels[y0:y1, x0:x1])
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
    core = matte > 0.6
    if int(core.sum()) < 20:
        return pixels.copy()
    own = float(np.median(lab[..., 0][core]))
    dl, ax, ap, bx, bp = TONES[tone]
    new = lab.copy()
    new[..., 0] = np.clip(lab[..., 0] + dl * np.clip(lab[..., 0] / max(own, 1.0), 0.3, 1.3), 0.0, 100.0)
    new[..., 1] = lab[..., 1] * ax + ap
    new[..., 2] = lab[..., 2] * bx + bp
    out_rgb = np.clip(cv2.cvtColor(new, cv2.COLOR_Lab2RGB), 0.0, 1.0)
    a = np.clip(matte * float(min(strength, 1.0)), 0.0, 1.0)[..., None]
    mixed = rgb + a * (out_rgb - rgb)
    out = pixels.copy()
    top = pixel_max(pixels.dtype)
    region = np.clip(np.rint(mixed * top), 0, top).astype(pixels.dtype)
    untouched = a[..., 0] <= 0
    region[untouched] = pixels[y0:y1, x0:x1][untouched]
    out[y0:y1, x0:x1] = region
    return out
