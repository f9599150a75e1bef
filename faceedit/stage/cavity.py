"""The dark interior of a wide-open mouth as the mouth bank draws it (:class:`faceedit.stage.mouth_bank.MouthBank`):
the bank's cavity profile in the photo's skin light, the throat under the upper teeth, a smooth texture and the
tongue, on the opening's normalised (u, v) coordinates; and how a small face's open mouth differs
(:func:`small_open`)."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS, pixel_max
from faceedit.stage.lip_rims import smoothstep
from faceedit.stage.lips import sample_points
from faceedit.stage.teeth_look import covered_box, small_weight
from faceedit.stage.tuning import MouthTuning

_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)


def saturate(rgb: np.ndarray, amount: float) -> np.ndarray:
    """``rgb`` (..., 3) with its chroma (the channels' distance from their luma) times
    ``amount``, the luma kept; never below 0."""
    rgb = np.asarray(rgb, np.float64)
    luma = rgb @ _LUMA
    return np.maximum(luma[..., None] + amount * (rgb - luma[..., None]), 0.0)


def open_blur(blur: float, wd: float) -> float:
    """The blur (px) an open mouth whose corners are ``wd`` px apart is drawn at, beyond the
    fill's own, in a photo ``blur`` px softer than a filled interior
    (:func:`~faceedit.stage.teeth_look.photo_blur`): that blur on a small face, whose few pixels of
    cavity, rims and teeth's tips the photo's softness mixes (times
    :func:`~faceedit.stage.teeth_look.small_weight`); none on a large face. Inside the opening
    only: its edge is softened by :attr:`MouthTuning.edge_focus` at every size (the photo's blur
    there too mixed the carried teeth's light into the cavity round them on a laughing face made
    surprised: dlib's opening read 0.168 of the cheeks, over real open mouths' 0.15)."""
    return small_weight(wd) * float(blur)


def small_open(tn: MouthTuning, wd: float, *, cavity: bool = True) -> MouthTuning:
    """``tn`` for an open mouth whose corners are ``wd`` px apart: on a small face (by
    :func:`~faceedit.stage.teeth_look.small_weight`) the lips' rims towards ``tn.small_rim_edge``
    and the lower lip's inner shade towards none, and with ``cavity`` the cavity's floor raised
    towards ``tn.small_cavity_floor`` and the throat's dark eased towards ``tn.small_throat_dark``
    (:class:`~faceedit.stage.tuning.MouthTuning`); ``tn`` itself where the face is large. (Round a
    laughing face's own teeth kept in the opening the lighter cavity reads as a smile: FER read
    insightface's group_five face 3 made surprised as happy, 0.54 against 0.46, with it, 0.50
    against 0.50 surprised without.)"""
    w = small_weight(wd)
    if w <= 0.0:
        return tn

    def mix(a: float, b: float) -> float:
        return a + w * (b - a)

    out = replace(tn, rim_edge=mix(tn.rim_edge, tn.small_rim_edge), lower_lip_shade=mix(tn.lower_lip_shade, 0.0))
    if not cavity:
        return out
    return replace(out, cavity_floor=mix(tn.cavity_floor, tn.small_cavity_floor),
                   throat_dark=mix(tn.throat_dark, tn.small_throat_dark))


def draw_cavity(profile: np.ndarray, cavity_rgb: np.ndarray, u, v, seed, tn: MouthTuning, lip_luma: float,
                skin_luma: float, height: np.ndarray) -> np.ndarray:
    """The dark interior of a wide-open mouth: the bank's (v, u) luminance profile ``profile`` (relative to
    the skin) times ``skin_luma`` (the photo's skin round the mouth before the colour gains:
    as dark beside dark skin as beside light) in the colour of the bank's dark interior (``cavity_rgb``), with a
    smooth texture (no lighter than ``cavity_ceiling`` of the skin), darkened by ``throat_dark``
    down to ``throat_from`` of the opening's height and less down to ``throat_to`` (the
    throat under the upper teeth, the deepest part); and the tongue over its lower part: a
    share of ``lip_luma`` (the lips' luma before the colour gains) rising from its back to its
    front, its crest a little lighter (``tongue_crest``), in a tongue's red-pink, where the
    column's ``height`` (over the corner distance) is tall enough to show it (``tongue_height``)."""
    vv, uu = profile.shape
    # the profile's outer columns reach the lips where the curves meet: the corners read the
    # inner columns (and are darkened with the rest of the mouth's corners)
    uc = np.clip(u, tn.cavity_side_column, 1.0 - tn.cavity_side_column)
    lum = sample_points(profile.astype(np.float32), uc * (uu - 1), np.clip(v, 0, 1) * (vv - 1))
    # the real mouths' teeth and lips in the profile's top rows are not the cavity's
    lum = np.minimum(lum, tn.cavity_ceiling)
    # the profile's darkest values (a deep, unlit cavity) lifted a little: soft tissue and
    # palate in the ambient light of a studio photo, never a flat black
    lum = (tn.cavity_floor + (1.0 - tn.cavity_floor) * lum) * skin_luma
    # the throat, deepest, at the back under the upper teeth: the opening's top darkest
    lum = lum * (1.0 - tn.throat_dark * (1.0 - smoothstep(tn.throat_from, tn.throat_to, v)))
    # smooth texture: seeded random fields on coarse grids (a fifth to a thirtieth of the mouth)
    rng = np.random.default_rng([abs(int(s)) for s in seed] + [7])
    tex = np.zeros_like(u)
    for octave in tn.cavity_texture:
        g = rng.standard_normal((octave.rows, octave.columns)).astype(np.float32)
        tex += octave.amplitude * sample_points(cv2.resize(g, (64, 32), interpolation=cv2.INTER_CUBIC),
                                   u * 63, np.clip(v, 0, 1) * 31)
    col = (lum * np.exp(tex))[:, None] * saturate(cavity_rgb.astype(np.float64), tn.cavity_saturation)[None, :]
    # the tongue: a rounded pink hump over the bottom third, darker towards the back
    top = tn.tongue_top + tn.tongue_curve * ((u - 0.5) / tn.tongue_half_width) ** 2
    side = np.minimum(u, 1.0 - u)
    a_t = (smoothstep(0.0, tn.tongue_edge, v - top) * smoothstep(tn.tongue_side_from, tn.tongue_side_to, side)
           * smoothstep(tn.tongue_height[0], tn.tongue_height[1], height))
    groove = 1.0 - tn.groove_depth * np.exp(-(((u - 0.5) / tn.groove_width) ** 2)) * smoothstep(
        0.0, tn.groove_fade, v - top)
    # its crest (the hump's top, facing the opening) catches a faint light
    crest = tn.tongue_crest * np.exp(-(((v - top - tn.tongue_crest_at) / tn.tongue_crest_width) ** 2))
    # a share of the lips' luma in a tongue's red-pink, lighter from its back to its front
    t_lum = ((tn.tongue_luma + tn.tongue_luma_rise * smoothstep(0.0, tn.tongue_luma_reach, v - top) + crest)
             * np.exp(tn.tongue_texture * tex) * groove)
    tongue = (t_lum * lip_luma)[:, None] * np.asarray(tn.tongue_rgb, np.float64)[None, :]
    col = col * (1 - a_t[:, None]) + tongue * a_t[:, None]
    return np.clip(col, 0, 1)


def soften_edge(out: np.ndarray, roi, opening: np.ndarray, sigma: float) -> None:
    """The opening's edge softened as a photo's edges are (a Gaussian of ``sigma`` px, set by
    looking at 1350-px portraits, not measured on the photo): within ``2 sigma`` px inside
    the opening (``opening`` over ``roi``) ``out`` is blended, in place, towards its Gaussian
    blur of ``sigma`` px, wholly at the edge; pixels outside the opening stay as they are."""
    x0, y0, x1, y1 = (int(v) for v in roi)
    pad = int(np.ceil(3 * sigma))
    bx0, by0 = max(x0 - pad, 0), max(y0 - pad, 0)
    bx1, by1 = min(x1 + pad, out.shape[1]), min(y1 + pad, out.shape[0])
    # only the covered pixels change: the box the blur reaches round them
    # (the kernel's half width, cv2's 8 sigma + 1 taps)
    box = covered_box((x0, y0, x1, y1), opening, (bx0, by0, bx1, by1), (int(round(8 * sigma + 1)) | 1) // 2 + 1)
    if box is None:
        return
    (bx0, by0, bx1, by1), op = box
    crop = out[by0:by1, bx0:bx1].astype(np.float32)
    depth = cv2.distanceTransform((op > 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    w = np.where(op > 0, np.clip(1.0 - depth / (2 * sigma), 0.0, 1.0), 0.0).astype(np.float32)
    if crop.ndim == 3:
        w = w[..., None]
    blurred = cv2.GaussianBlur(crop, (0, 0), sigma)
    soft = crop + w * (blurred - crop)
    out[by0:by1, bx0:bx1] = np.clip(np.round(soft), 0, pixel_max(out.dtype)).astype(out.dtype)
