"""The dark interior of a wide-open mouth as the mouth bank draws it (:class:`faceedit.stage.mouth_bank.MouthBank`):
the bank's cavity profile in the photo's skin light, the throat under the upper teeth, the side walls in shadow, a
smooth texture and the tongue, on the opening's normalised (u, v) coordinates, lifted by a share of the photo's own black
(:func:`photo_black`, :func:`black_floor`); and how a small face's open mouth differs (:func:`small_open`)."""

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


def photo_black(pixels: np.ndarray, face_lm: np.ndarray | None) -> np.ndarray | None:
    """Unit RGB (3,) of the photo's own black: the median of the darkest tenth (by luma) of the
    pixels inside the two eye contours of the 68 landmarks (36-41, 42-47), the pupils, a hole
    into the dark as an open mouth's cavity is, in the photo's light, flare and black level (the
    London HD studio portraits: 0.16-0.32 of the cheeks' luma, median 0.22, their nostrils'
    darkest hundredth 0.16; the cavity drawn without it read 0.04 under the teeth, below
    anything the camera shows); None without landmarks or with eyes under 8 pixels."""
    if face_lm is None:
        return None
    lm = np.asarray(face_lm, np.float64)
    px = []
    for eye in (lm[36:42], lm[42:48]):
        x0, y0 = np.floor(eye.min(0)).astype(int)
        x1, y1 = np.ceil(eye.max(0)).astype(int) + 1
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, pixels.shape[1]), min(y1, pixels.shape[0])
        if x1 - x0 < 3 or y1 - y0 < 2:
            continue
        m = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(m, [np.round((eye - [x0, y0]) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
        win = pixels[y0:y1, x0:x1][m > 0].astype(np.float64) / pixel_max(pixels.dtype)
        px.append(np.repeat(win[:, None], 3, 1) if win.ndim == 1 else win[:, :3])
    allpx = np.vstack(px) if px else np.zeros((0, 3))
    if len(allpx) < 8:
        return None
    y = allpx @ _LUMA
    return np.median(allpx[y <= np.percentile(y, 10)], 0)


def black_floor(col: np.ndarray, black: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """Unit RGB ``col`` (n, 3) with ``black`` (unit RGB (3,)) added to its ``drawn`` share (n,):
    the photo's flare and black level laid over what it draws, its form (the throat's falloff,
    the texture, the tongue) kept (a floor the dark reached flattened it)."""
    return col + np.asarray(drawn, np.float64)[:, None] * np.maximum(np.asarray(black, np.float64), 0.0)[None, :]


def open_blur(blur: float, wd: float, photo_scale: float = 1.0) -> float:
    """The blur (px) an open mouth whose corners are ``wd`` px apart is drawn at, beyond the
    fill's own, in a photo ``blur`` px softer than a filled interior
    (:func:`~faceedit.stage.blur_reading.photo_blur`): that blur on a small face, whose few pixels of
    cavity, rims and teeth's tips the photo's softness mixes (times
    :func:`~faceedit.stage.teeth_look.small_weight` at ``photo_scale``); none on a large face. Inside the opening
    only: its edge is softened by :attr:`MouthTuning.edge_focus` at every size (the photo's blur
    there too mixed the carried teeth's light into the cavity round them on a laughing face made
    surprised: dlib's opening read 0.168 of the cheeks, over real open mouths' 0.15)."""
    return small_weight(wd, photo_scale) * float(blur)


def small_open(tn: MouthTuning, wd: float, *, cavity: bool = True, photo_scale: float = 1.0) -> MouthTuning:
    """``tn`` for an open mouth whose corners are ``wd`` px apart: on a small face (by
    :func:`~faceedit.stage.teeth_look.small_weight` at ``photo_scale``) the lips' rims towards ``tn.small_rim_edge``
    and the lower lip's inner shade towards none, its upper teeth (where drawn) an even thin row across the middle
    (``tn.small_side_teeth_from``, ``tn.small_incisal_follow``, ``tn.small_upper_teeth_share``: not the two front
    teeth alone, a lone light block under the lip), and with ``cavity`` the cavity's floor raised
    towards ``tn.small_cavity_floor`` and the throat's dark eased towards ``tn.small_throat_dark``
    (:class:`~faceedit.stage.tuning.MouthTuning`); ``tn`` itself where the face is large. (Round a
    laughing face's own teeth kept in the opening the lighter cavity reads as a smile: FER read
    insightface's group_five face 3 made surprised as happy, 0.54 against 0.46, with it, 0.50
    against 0.50 surprised without.)"""
    w = small_weight(wd, photo_scale)
    if w <= 0.0:
        return tn

    def mix(a: float, b: float) -> float:
        return a + w * (b - a)

    out = replace(tn, rim_edge=mix(tn.rim_edge, tn.small_rim_edge), lower_lip_shade=mix(tn.lower_lip_shade, 0.0),
                  side_teeth_from=mix(tn.side_teeth_from, tn.small_side_teeth_from),
                  incisal_follow=mix(tn.incisal_follow, tn.small_incisal_follow),
                  upper_teeth_share=mix(tn.upper_teeth_share, tn.small_upper_teeth_share))
    if not cavity:
        return out
    return replace(out, cavity_floor=mix(tn.cavity_floor, tn.small_cavity_floor),
                   throat_dark=mix(tn.throat_dark, tn.small_throat_dark))


def walls(u: np.ndarray, tn: MouthTuning) -> np.ndarray:
    """The cavity's light across the opening at ``u`` (0 and 1 the corners), a factor on its luma: the
    side walls (the cheeks' insides, turned from the light coming in) darker towards the corners, by
    ``cavity_wall_dark`` at a corner and none from ``cavity_wall_reach`` of the width in. (Real open
    mouths are darkest at their corners: in dlib's opening the middle rows' outer sixths read 0.41 of
    their middle third on Yale's surprised faces, 0.23 on JAFFE's surprise and fear, 0.74 on GRID's
    talking faces; the stage's read 0.83-0.99 on London training faces made surprised or ``aaa``,
    ``bench/measure_cavity_structure.py``.)"""
    side = np.minimum(u, 1.0 - u)
    return 1.0 - tn.cavity_wall_dark * (1.0 - smoothstep(0.0, tn.cavity_wall_reach, side))


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
    column's ``height`` (over the corner distance) is tall enough to show it (``tongue_height``);
    the cavity under it darker toward the corners (:func:`walls`)."""
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
    # the side walls, turned from the light coming in: darker towards the corners
    lum = lum * walls(u, tn)
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


def soften_edge(out: np.ndarray, roi, opening: np.ndarray, sigma: float, outside: float = 0.0,
                around: bool = False) -> None:
    """The opening's edge softened as a photo's edges are (a Gaussian of ``sigma`` px, set by
    looking at 1350-px portraits, not measured on the photo): within ``2 sigma`` px inside
    the opening (``opening`` over ``roi``) ``out`` is blended, in place, towards its Gaussian
    blur of ``sigma`` px, wholly at the edge; and within ``2 outside`` px above it likewise (the
    upper lip's and carried teeth's side of the edge: a step softened from one side alone stays
    a hard line against the dark; the lower lip's rim falls into the interior as drawn), or with
    ``around`` on every side (a smile's lit teeth in a soft photo: its lower lip's rim met them in a
    sharp line too); pixels further out stay as they are."""
    x0, y0, x1, y1 = (int(v) for v in roi)
    pad = int(np.ceil(3 * max(sigma, outside)))
    bx0, by0 = max(x0 - pad, 0), max(y0 - pad, 0)
    bx1, by1 = min(x1 + pad, out.shape[1]), min(y1 + pad, out.shape[0])
    # only the covered pixels and those within 2 ``outside`` px above them change: the box the
    # blur reaches round them (the kernel's half width, cv2's 8 sigma + 1 taps; the band's
    # width with the distance transform's few % over the true distance)
    band = int(np.ceil(1.05 * (2 * outside + 0.5))) + 1 if outside > 0 else 0
    box = covered_box((x0, y0, x1, y1), opening, (bx0, by0, bx1, by1),
                      band + (int(round(8 * sigma + 1)) | 1) // 2 + 1)
    if box is None:
        return
    (bx0, by0, bx1, by1), op = box
    crop = out[by0:by1, bx0:bx1].astype(np.float32)
    depth = cv2.distanceTransform((op > 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    w = np.where(op > 0, np.clip(1.0 - depth / (2 * sigma), 0.0, 1.0), 0.0).astype(np.float32)
    if outside > 0:  # above the opening in each column (the upper lip's and carried teeth's side), or all round
        away = cv2.distanceTransform((op <= 0.5).astype(np.uint8), cv2.DIST_L2, 5)
        above = (op <= 0.5) if around else np.cumsum(op > 0.5, axis=0) == 0
        w = np.maximum(w, np.where(above, np.clip(1.0 - (away - 0.5) / (2 * outside), 0.0, 1.0), 0.0))
    if crop.ndim == 3:
        w = w[..., None]
    blurred = cv2.GaussianBlur(crop, (0, 0), sigma)
    soft = crop + w * (blurred - crop)
    out[by0:by1, bx0:bx1] = np.clip(np.round(soft), 0, pixel_max(out.dtype)).astype(out.dtype)
