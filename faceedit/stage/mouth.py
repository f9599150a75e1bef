"""Mouth interiors from real exemplars, shared measurements, and closed lips' seam.

The bank of real mouth interiors that fills the hole a warp opens between the lips is
:class:`faceedit.stage.mouth_bank.MouthBank`; this module holds what its builder
(:mod:`faceedit.train.mouths`) and its filler share: the bank's scale and file
(:data:`BANK_WIDTH`, :data:`BANK_FILE`), its descriptor columns (:data:`DESCRIPTORS`), the rings
round the lips where colour is read (:func:`ring_stats`), the eye whites' colour
(:func:`sclera_colour`) and a photo's grain (:func:`highpass_noise`); and the seam of lips an edit
has closed (:func:`paint_seam`). How a smile's teeth follow a small or soft photo is in
:mod:`faceedit.stage.teeth_look`. What a photo's mouth shows, found from colour, and the lip curves
both read are in :mod:`faceedit.stage.lips`.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS, pixel_max
from faceedit.stage.beard import cheek_boxes
from faceedit.stage.blur_reading import edge_blur
from faceedit.stage.cut_curves import opening_polygon
from faceedit.stage.eye_open import opening
from faceedit.stage.lips import LEVEL_WIDTH, box_around, join_corners
from faceedit.stage.seam_colour import lips_ab, lips_lab, toward_lips
from faceedit.stage.seam_course import straighten_line
from faceedit.stage.seam_line import clear_remnants, crisp_profile, lips_texture, offsets
from faceedit.stage.seam_meet import meet_line
from faceedit.stage.seam_squeeze import squeeze_band
from faceedit.stage.small_seam import OwnLips, small_floor
from faceedit.stage.teeth_look import small_weight
from faceedit.stage.tuning import MouthTuning
from faceedit.stage.tuning_lips import LipsTuning
from faceedit.stage.upper_lip import closed_upper_lip

#: Inner-lip corner distance of every exemplar in the bank (px): the scale its interiors were
#: found at.
BANK_WIDTH = LEVEL_WIDTH
#: Rings around the inner-lip polygon where lip and skin colour are read, in corner distances
#: outside the polygon (the same definition at build and fill time).
LIP_RING = (0.02, 0.07)
SKIN_RING = (0.30, 0.45)
#: Names of the columns of the bank's ``descriptors`` (also in its header).
DESCRIPTORS = ("aspect", "width_ed", "height_ed", "teeth_luma", "lip_r", "lip_g", "lip_b",
               "skin_r", "skin_g", "skin_b", "skin_noise", "upper_depth", "scale",
               "sclera_r", "sclera_g", "sclera_b")
#: The shipped bank's file name in the weights folder (:func:`faceedit.weights.shipped_file`).
BANK_FILE = "mouths.safetensors"
_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)
#: The narrowest seam (Gaussian sigma, photo px) :func:`paint_seam` draws. One that
#: ``seam_width`` makes narrower (eyes under 59 px apart at the default 0.04) is drawn this wide
#: at its depth times its own sigma over this one: the darkness a line under a pixel wide
#: leaves in the photo's pixels. Drawn at full depth, on London smiles cut to 96 px and made
#: neutral it was a line darker than the person's own closed lips at that size.
SEAM_MIN_SIGMA = 1.0
#: A seam narrower than this (Gaussian sigma, px) is laid by each pixel's distance to the line
#: itself; a wider one by the distance to the line drawn in pixels (under half a pixel off,
#: nothing beside its width), which at a pixel or two wide drew it as a staircase.
SEAM_EXACT_SIGMA = 2.0
#: The seam is at least as wide as the photo's own blur at the lips
#: (:func:`~faceedit.stage.blur_reading.edge_blur` in the box about the line grown by this share
#: of the corner distance), its depth over as much less: on a soft photo (insightface's
#: group_t1, 1.2 px) a seam a pixel wide stood as a drawn line.
SEAM_BLUR_REACH = 0.25
#: On a small mouth (:func:`~faceedit.stage.teeth_look.small_weight` of the corner distance)
#: the seam takes the colour of the darkest this-percent of the pixels about it (the lips' own
#: dark: redder than the lips, red over luma 1.79 against 1.51 on group_t1 face 1, 1.24-1.39
#: against 1.15-1.24 on London neutral mouths at 96 px); the lips' colour darkened alike in
#: all channels read grey beside them.
SEAM_DARK_PERCENTILE = 10.0


# --------------------------------------------------------------------------------------------
# measurements shared with the builder


def highpass_noise(grey: np.ndarray, where: np.ndarray) -> float:
    """Robust standard deviation (1.4826 MAD) of ``grey - blur(grey, sigma 1)`` over ``where``:
    the grain and fine detail a photo carries at its own pixels."""
    hp = grey - cv2.GaussianBlur(grey, (0, 0), 1.0)
    v = hp[where]
    if v.size < 16:
        return 0.0
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def ring_stats(unit_rgb: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> dict:
    """Colour of the lips and skin around an inner-lip polygon and the skin's high-pass noise.

    ``unit_rgb``: (H,W,3) float in [0,1], or uint8 / uint16 levels (made unit floats over the
    rings' box alone), the whole photo (rings may reach beyond a roi).
    Returns ``lip`` and ``skin`` (3,) channel medians over :data:`LIP_RING` / :data:`SKIN_RING`
    and ``noise`` (:func:`highpass_noise` of the skin ring's luma)."""
    up, lo = join_corners(upper, lower)
    w = float(np.linalg.norm(up[-1] - up[0]))
    poly = opening_polygon(up, lo)
    x0, y0, x1, y1 = box_around(poly, SKIN_RING[1] * w + 2, unit_rgb.shape)
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(inside, [np.round((poly - [x0, y0]) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    dist = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5) / max(w, 1e-6)
    crop = unit_rgb[y0:y1, x0:x1]
    if np.issubdtype(crop.dtype, np.integer):
        crop = crop.astype(np.float32) / pixel_max(crop.dtype)
    crop = np.ascontiguousarray(crop, np.float32)
    lip = (dist > LIP_RING[0]) & (dist < LIP_RING[1])
    skin = (dist > SKIN_RING[0]) & (dist < SKIN_RING[1])
    out: dict[str, Any] = {}  # lip and skin colours (3,); noise: a float
    for name, m in (("lip", lip), ("skin", skin)):
        out[name] = np.median(crop[m], 0) if m.sum() >= 8 else np.median(crop.reshape(-1, 3), 0)
    out["noise"] = highpass_noise(crop @ _LUMA, skin)
    return out


#: Eye whites read on an eye whose lids are closer than this share of its width are mostly lid
#: and skin (:func:`whites_shown`): insightface's group_t1, its squinting faces (0.06-0.13) read
#: whites yellower than the photo's real teeth, its open ones (0.25-0.44) as warm as them;
#: London HD neutrals' open eyes read 0.30-0.37.
SCLERA_OPEN = 0.15
#: Eye whites read darker than this share of the upper cheeks' luma (:func:`cheeks_skin`)
#: are not the whites: an eye whose iris fills its opening, or narrowed by a smile, gives its whitest quarter to the
#: iris, the lashes and the lids' shade. On the 68 web faces of ``bench/bench_world.py --photos`` 8 read 0.13-0.35
#: of the cheeks (r/g 1.10-1.37; the bank's teeth white-balanced and capped to them came out pink or grey), the rest
#: 0.44 and more; London HD's first 40 neutrals 0.67 and more, its first 40 smiles 0.62 and more but for 013's
#: squint, 0.25.
SCLERA_SKIN = 0.4
#: A skin ring round the mouth (:data:`SKIN_RING`) darker than this share of the upper cheeks' luma
#: (:func:`cheeks_skin`) is a beard's hair: the mouth bank takes the skin's colour, light and grain from the cheeks
#: (:func:`skin_round_mouth`). On the 68 web faces the rings of five full beards read 0.44-0.56 of their cheeks (the
#: bank's teeth drawn to them grey and grained as hair), the rest 0.67-0.97; London HD's first 40 neutrals 0.67-1.00.
HAIR_RING = 0.6


def whites_shown(face_lm: np.ndarray) -> bool:
    """Whether both eyes of the 68 landmarks ``face_lm`` are open at least :data:`SCLERA_OPEN`
    of their width (the lids' distance, the mean of the two middle pairs, over the corners')."""
    lm = np.asarray(face_lm, np.float64)
    return all(opening(lm[a:a + 6]) >= SCLERA_OPEN for a in (36, 42))


def sclera_colour(pixels: np.ndarray, face_lm: np.ndarray) -> np.ndarray | None:
    """Unit RGB (3,) of the whites of the eyes: the median of the whitest quarter (luma minus 3x
    the channel spread: bright and grey, not lid or iris) of the pixels inside the two eye
    contours of the 68 landmarks (36-41, 42-47); None when the eyes are too small or off the
    photo, or both shut (lids closer than :data:`SCLERA_OPEN` of their width: what lies between them
    is lid skin and lashes; read as whites, a blink made happy had its teeth capped at 1.4 times its
    lids' light and tinted by them, London 061 at 675 px 0.65 -> 0.31 of white, 008 0.80 -> 0.56),
    or what is read is darker than :data:`SCLERA_SKIN` of the cheeks (an iris filling the opening).
    Near-neutral in every face, the eye whites carry the photo's white balance where the
    skin also carries the person's tone (on the London smiles, one white balance, their r/g and
    b/g vary by 5 % and 3 % between people)."""
    lm = np.asarray(face_lm, np.float64)
    if not any(opening(lm[a:a + 6]) >= SCLERA_OPEN for a in (36, 42)):
        return None
    unit = pixel_max(pixels.dtype)
    picked = []
    for eye in (lm[36:42], lm[42:48]):
        x0, y0, x1, y1 = box_around(eye, 2, pixels.shape)
        if x1 - x0 < 4 or y1 - y0 < 3:
            continue
        m = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(m, [np.round((eye - [x0, y0]) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
        px = pixels[y0:y1, x0:x1][m > 0].astype(np.float64) / unit
        if px.ndim == 1:
            px = np.repeat(px[:, None], 3, 1)
        if len(px) >= 8:
            px = px[:, :3]
            white = px @ _LUMA - 3.0 * (px.max(1) - px.min(1))
            picked.append(px[white >= np.percentile(white, 75)])
    if not picked or sum(len(p) for p in picked) < 4:
        return None
    whites = np.median(np.vstack(picked), 0)
    cheeks = cheeks_skin(pixels, lm)
    if cheeks is not None and float(whites @ _LUMA) < SCLERA_SKIN * float(cheeks["skin"] @ _LUMA):
        return None
    return whites


def cheeks_skin(pixels: np.ndarray, face_lm: np.ndarray) -> dict[str, Any] | None:
    """The upper cheeks' skin (:func:`~faceedit.stage.beard.cheek_boxes`) of the face at ``face_lm`` (68
    landmarks): ``skin``, unit RGB (3,) channel medians, and ``noise``, their luma's :func:`highpass_noise`, as
    :func:`ring_stats` reads the skin ring; None where a cheek lies off the photo or is under 16 pixels."""
    h, w = pixels.shape[:2]
    unit = pixel_max(pixels.dtype)
    parts = []
    for x0, y0, x1, y1 in cheek_boxes(face_lm):
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if (x1 - x0) * (y1 - y0) < 16:
            return None
        crop = pixels[y0:y1, x0:x1].astype(np.float32) / unit
        parts.append(np.repeat(crop[..., None], 3, -1) if crop.ndim == 2 else crop[..., :3])
    flat = np.vstack([p.reshape(-1, 3) for p in parts])
    noise = float(np.median([highpass_noise(np.ascontiguousarray(p @ _LUMA),
                                            np.ones(p.shape[:2], bool)) for p in parts]))
    return {"skin": np.median(flat, 0), "noise": noise}


def skin_round_mouth(rgb: np.ndarray, rings: dict[str, Any], face_lm: np.ndarray) -> dict[str, Any]:
    """``rings`` (:func:`ring_stats` round a mouth of the face at ``face_lm``, 68 landmarks, on ``rgb``) with its
    skin's colour and grain the upper cheeks' (:func:`cheeks_skin`) where its skin ring is darker than
    :data:`HAIR_RING` of them: a beard's hair, whose dark and strands the mouth bank's teeth, cavity and grain
    would take for the skin's light."""
    cheeks = cheeks_skin(rgb, face_lm)
    if cheeks is None or float(np.asarray(rings["skin"]) @ _LUMA) >= HAIR_RING * float(cheeks["skin"] @ _LUMA):
        return rings
    return {**rings, **cheeks}


# --------------------------------------------------------------------------------------------
# closed lips


def _distance_to_polyline(xx: np.ndarray, yy: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Each pixel's (centres ``xx``, ``yy``) distance to the polyline ``line`` (N, 2): the least
    of its distances to the segments, one segment at a time over all the pixels."""
    px, py = np.asarray(xx, np.float64).ravel(), np.asarray(yy, np.float64).ravel()
    line = np.asarray(line, np.float64)
    best = np.full(px.shape, np.inf)
    for (ax, ay), (bx, by) in zip(line[:-1], line[1:]):
        abx, aby = bx - ax, by - ay
        t = np.clip(((px - ax) * abx + (py - ay) * aby) / max(abx * abx + aby * aby, 1e-12), 0.0, 1.0)
        ex, ey = px - (ax + t * abx), py - (ay + t * aby)
        np.minimum(best, np.sqrt(ex * ex + ey * ey), out=best)
    return best.reshape(np.shape(xx))


def _lips_blur(pixels: np.ndarray, line: np.ndarray, width: float) -> float:
    """The photo's own blur (a Gaussian's sigma, px: :func:`~faceedit.stage.blur_reading.edge_blur`)
    round a mouth whose lips meet along ``line`` (corners ``width`` px apart): in the box about
    the line grown by :data:`SEAM_BLUR_REACH` of ``width``."""
    x0, y0, x1, y1 = box_around(line, SEAM_BLUR_REACH * width, pixels.shape)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return 0.0
    crop = pixels[y0:y1, x0:x1].astype(np.float32) / pixel_max(pixels.dtype)
    grey = crop if crop.ndim == 2 else crop[..., :3] @ _LUMA
    return edge_blur(grey, np.ones(grey.shape, bool))


def lips_dark(pixels: np.ndarray, lips: np.ndarray) -> float:
    """The lips' own dark: the :data:`SEAM_DARK_PERCENTILE`-th percentile of the luma (the
    pixels' scale) inside the polygon ``lips`` (the 68 points' outer lip, 48-59); 0 where it
    holds no pixel."""
    x0, y0, x1, y1 = box_around(np.asarray(lips, np.float64), 1, pixels.shape)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(inside, [np.round((np.asarray(lips, np.float64) - (x0, y0)) * 16).astype(np.int32)], 1,
                 cv2.LINE_8, 4)
    crop = pixels[y0:y1, x0:x1].astype(np.float32)
    grey = crop if crop.ndim == 2 else crop[..., :3] @ _LUMA
    return float(np.percentile(grey[inside > 0], SEAM_DARK_PERCENTILE)) if inside.any() else 0.0


def _along(img: np.ndarray, axis: np.ndarray, sigma: float) -> np.ndarray:
    """``img`` (h, w[, c] float32) blurred by a Gaussian of ``sigma`` px along the unit
    direction ``axis`` alone (a line kernel, its taps split between pixels bilinearly)."""
    r = int(np.ceil(3 * sigma))
    kernel = np.zeros((2 * r + 3, 2 * r + 3), np.float32)
    for i in np.arange(-r, r + 1):
        x, y = r + 1 + i * axis[0], r + 1 + i * axis[1]
        fx, fy = int(np.floor(x)), int(np.floor(y))
        ax, ay, g = x - fx, y - fy, np.exp(-0.5 * (i / sigma) ** 2)
        for dx, dy, wgt in ((0, 0, (1 - ax) * (1 - ay)), (1, 0, ax * (1 - ay)), (0, 1, (1 - ax) * ay), (1, 1, ax * ay)):
            kernel[fy + dy, fx + dx] += g * wgt
    return cv2.filter2D(img, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REPLICATE)


def paint_seam(pixels: np.ndarray, upper: np.ndarray, lower: np.ndarray, eye_dist: float,
               amount: float, tuning: MouthTuning | None = None, *, lips: np.ndarray | None = None,
               in_place: bool = False, photo_scale: float = 1.0, seam: LipsTuning | None = None,
               own: OwnLips | None = None) -> np.ndarray:
    """Lips an edit has closed, given the line where they meet: ``upper``/``lower`` (N, 2) the
    closed inner-lip curves (left corner first; their mean is the line, first moved with the
    dark the warp carried into it onto a smooth course:
    :func:`~faceedit.stage.seam_course.straighten_line`; on a larger mouth the band the warp
    carried there then squeezed into a thin core, the lips beside it stretched in over the rest:
    :func:`~faceedit.stage.seam_squeeze.squeeze_band`). On the line a pixel
    is darkened to ``seam_dark`` of the lips' luma around it, beside it less (a Gaussian of
    ``seam_width`` full width at half depth, a larger mouth's ``seam_width_large`` by the rest of
    its small share), fading out over the last ``seam_taper`` of the
    mouth at each corner and where the curves lie apart (none a seam's width apart; the values
    are ``tuning``'s, :class:`faceedit.stage.tuning.MouthTuning`); ``amount``
    (0..1) of it. On a small face the seam is at least :data:`SEAM_MIN_SIGMA` wide, shallower by
    as much, and at least as wide as the photo's own blur at the lips (:data:`SEAM_BLUR_REACH`).
    On a small mouth the pixels along the line are first evened along it (``seam_even``: a row
    of dark and light specks carried from a smile's lip edges is a line of their mean), over the
    seam's width; beyond that it never lightens (a seam the warp already drew stays); keeps the
    pixels' colour (all channels scaled alike), but on a small mouth goes toward the colour of
    the lips' own dark (:data:`SEAM_DARK_PERCENTILE`) as far as it is darkened over the seam's full darkening,
    and, given ``lips`` (the 68 points' outer-lip polygon where the lips now lie), no darker
    than their own dark (:func:`lips_dark`) by as much (a small mouth's share:
    :func:`~faceedit.stage.teeth_look.small_weight` of its corners' distance at ``photo_scale``,
    the photo's own pixels per pixel of ``pixels``); a larger mouth's seam (the rest of that
    share) goes toward the lips' own chroma (:func:`~faceedit.stage.seam_colour.toward_lips`,
    ``seam_chroma`` of their median a*, b*) as far as it is darkened. Given ``own`` (the
    photo's own lips' dark and their darker pixels' chroma read before the warp,
    :func:`~faceedit.stage.small_seam.own_lips_dark`), a small mouth's seam goes no darker than it
    (its share of the floor) and toward that chroma itself, keeps
    ``seam_small_depth`` of the depth its widening takes away and lies where the lips meet in
    the pixels (:func:`~faceedit.stage.seam_meet.meet_line`). ``pixels`` (H, W[, C]) uint8/uint16, a
    new array (the same one when there is nothing to do, or written over with ``in_place``)."""
    tuning = tuning if tuning is not None else MouthTuning()
    seam = seam if seam is not None else LipsTuning()
    line = (np.asarray(upper, np.float64) + np.asarray(lower, np.float64)) / 2
    width = float(np.linalg.norm(line[-1] - line[0]))
    if amount <= 0 or width < 2 or eye_dist <= 0:
        return pixels
    # the dark the warp carried into the line moved onto a smooth course, the seam drawn on it
    moved, line = straighten_line(pixels, line, eye_dist, amount, tuning)
    if moved is not pixels:
        if in_place:
            pixels[...] = moved
        pixels, in_place = (pixels, True) if in_place else (moved, True)
    small = small_weight(width, photo_scale)
    # the lips' own dark read before the band is squeezed (the seam's floor: a band made lip
    # leaves fewer dark pixels, and a floor read after it held the seam lighter)
    dark_before = None
    if small < 1.0 and tuning.squeeze_core > 0:
        # a larger mouth's carried band (a laugh's squeezed interior) made lip outside a thin core
        apart = np.linalg.norm(np.asarray(upper, np.float64) - np.asarray(lower, np.float64), axis=1)
        ends = ((line - line[0]) @ (line[-1] - line[0])) / max(width * width, 1e-9)
        fade = np.clip(np.minimum(ends, 1.0 - ends) / tuning.seam_taper, 0.0, 1.0)
        fade *= np.clip(1.0 - apart / (tuning.seam_width * eye_dist), 0.0, 1.0)
        squeezed = squeeze_band(pixels, line, eye_dist, amount * (1.0 - small), fade, tuning)
        dark_before = lips_dark(pixels, lips) if lips is not None and squeezed is not pixels else None
        if squeezed is not pixels and in_place:
            pixels[...] = squeezed
        pixels, in_place = (pixels, in_place) if squeezed is pixels or in_place else (squeezed, True)
        # teeth the squeeze left beside the line made lip
        ab0 = lips_ab(pixels, lips, pixel_max(pixels.dtype)) if lips is not None else None
        cleared = clear_remnants(pixels, line, eye_dist, amount * (1.0 - small), fade, ab0, lips, seam)
        if cleared is not pixels and in_place:
            pixels[...] = cleared
        pixels, in_place = (pixels, in_place) if cleared is pixels or in_place else (cleared, True)
    if lips is not None and small > 0:
        # a smile's upper lip stretched thin over the teeth, carried down, is a dark line, no lip
        drawn = closed_upper_lip(pixels, line, lips, eye_dist, amount * small, tuning)
        if drawn is not pixels and in_place:
            pixels[...] = drawn
        pixels, in_place = (pixels, in_place) if drawn is pixels or in_place else (drawn, True)
    # a larger mouth's seam narrower: its carried band was made lip beside a thin core
    wide = tuning.seam_width if tuning.squeeze_core <= 0 else (
        small * tuning.seam_width + (1.0 - small) * tuning.seam_width_large)
    sigma = wide * eye_dist / 2.355
    # a seam narrower than the photo's pixels, or than the photo's own blur at the lips, is
    # spread over them with its darkness kept (its depth times its width): a small or soft
    # face gets a faint line as soft as its lips' edges, not a crisp dark one
    blur = _lips_blur(pixels, line, width)
    deep = own is not None and small > 0 and seam.seam_small_depth > 0
    if deep:  # (a deep line under the lips' meeting is a second edge, no seam)
        line = meet_line(pixels, line, eye_dist, seam)
    # (a small mouth's seam at the photo's own lips' dark: widened to the photo's blur only)
    widest = max(seam.seam_small_sigma if deep else SEAM_MIN_SIGMA, blur)
    depth = min(sigma / widest, 1.0)
    sigma = max(sigma, widest)
    if deep:
        # a small mouth's seam at its full depth over the widened width, no darker than the photo's own
        # lips (below): spread with its darkness kept, it is a pink band with no line where the lips meet
        depth += small * seam.seam_small_depth * (1.0 - depth)
    # a larger mouth's seam: a crisp core at the photo's own sharpness (:mod:`faceedit.stage.seam_line`);
    # a photo softer than the core (its blur over the core's sigma) keeps as much of the wide seam
    core = max(seam.seam_core * eye_dist / 2.355, blur, 0.5)
    crisp = (1.0 - small) * min(seam.seam_core * eye_dist / 2.355 / core, 1.0)
    box = box_around(line, 4 * sigma + 2, pixels.shape)
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return pixels
    crop = pixels[y0:y1, x0:x1].astype(np.float32)
    grey = crop if crop.ndim == 2 else crop @ _LUMA
    lab = lips_lab(pixels, lips, pixel_max(pixels.dtype)) if lips is not None else None
    ab = None if lab is None else lab[1:]
    # distance of every pixel to the line (a wide seam: to the line drawn at 1/16 px), and
    # where along it (corner taper)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    dist: np.ndarray
    if sigma < SEAM_EXACT_SIGMA:  # a narrow seam: the distance to the curve itself, not to its pixels
        dist = _distance_to_polyline(xx, yy, line).astype(np.float32)
    else:
        mask = np.full(grey.shape, 255, np.uint8)
        cv2.polylines(mask, [np.round((line - (x0, y0)) * 16).astype(np.int32)], False, 0, 1, cv2.LINE_8, shift=4)
        dist = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
    axis = (line[-1] - line[0]) / width
    t = ((xx - line[0][0]) * axis[0] + (yy - line[0][1]) * axis[1]) / width  # 0..1 corner to corner
    along = np.clip(np.minimum(t, 1.0 - t) / tuning.seam_taper, 0.0, 1.0)
    # only where the lips meet: none where the curves are a seam's width apart (a mouth that
    # talks on through a closing edit opens between frames)
    apart = np.linalg.norm(np.asarray(upper, np.float64) - np.asarray(lower, np.float64), axis=1)
    at = ((line - line[0]) @ axis) / width
    along *= np.interp(t, at, np.clip(1.0 - apart / (tuning.seam_width * eye_dist), 0.0, 1.0))
    profile = wide_profile = np.exp(-0.5 * (dist / sigma) ** 2)
    texture: np.ndarray = np.zeros(grey.shape, np.float32)
    if crisp > 0:
        s, h = offsets(xx, yy, line)
        detail, wave = lips_texture(grey, s, h, width, core, eye_dist, seam)
        texture = detail * (seam.seam_texture * crisp)
        profile = (1.0 - crisp) * profile + crisp * crisp_profile(h - wave, sigma, core, seam)
    dip = (profile * along * amount * depth).astype(np.float32)
    # the luma wanted: seam_dark of the lips' luma around the line (a blur wide enough to
    # average both lips over the dip), the pixel's own where it is darker; dip of the way there
    if small > 0 and tuning.seam_even > 0:
        # a small mouth's seam evened along the line first: the pixels it met from the lips' inner
        # edges mixed teeth, their gaps and the dark between lip and teeth in turn, a row of
        # dark and light specks at a few px (insightface's group_five, face 2, made neutral)
        even = (small * amount * np.exp(-0.5 * (dist / sigma) ** 2) * along).astype(np.float32)
        even = even.reshape(*even.shape, *(1,) * (crop.ndim - 2))
        crop = crop * (1 - even) + _along(crop, axis, tuning.seam_even * width) * even
        grey = crop if crop.ndim == 2 else crop @ _LUMA
    base = cv2.GaussianBlur(grey, (0, 0), 3 * sigma)
    # a seam no darker than seam_floor of its lips' own dark, a small mouth's no darker than that
    # dark (at 96-128 px seam_dark of the lips was darker than any pixel of the person's lips and
    # read as a drawn line; a laugh closed at 127 px between the eyes read a line 0.74 of it)
    share = small + (1.0 - small) * tuning.seam_floor
    if lips is not None and share > 0:
        dark_now = dark_before if dark_before is not None else lips_dark(pixels, lips)
        mine = small_floor(small, own if seam.seam_small_depth > 0 else None, dark_now, tuning.seam_floor)
        floor = share * dark_now if mine is None else mine
    else:
        floor = 0.0
    # a larger mouth's seam darker where its lips beside it are darker (their furrows), lighter
    # where they are lighter
    want = np.minimum(grey, np.maximum(tuning.seam_dark * base, floor) * np.clip(1.0 + texture, 0.5, 1.5))
    gain = 1.0 - dip * (1.0 - want / np.maximum(grey, 1e-3))
    if crop.ndim == 2 or small <= 0.0:
        out = crop * (gain if crop.ndim == 2 else gain[..., None])
    else:
        # a small mouth's seam in the colour of its lips' own dark, not their colour darkened
        # (which reads grey beside them): toward it as far as the pixel is darkened, over the
        # seam's full darkening (a pixel barely darkened keeps its colour)
        rgb = crop[..., :3].astype(np.float64)
        hue = np.maximum(rgb, 1e-3) / np.maximum(grey[..., None], 1e-3)
        dark = grey <= np.percentile(grey, SEAM_DARK_PERCENTILE)
        tone = np.maximum(rgb[dark].mean(0), 1e-3) / max(float(rgb[dark].mean(0) @ _LUMA), 1e-3)
        share = (np.clip((1.0 - gain) / max(1.0 - tuning.seam_dark, 1e-6), 0.0, 1.0) * small)[..., None]
        colour = hue * (tone / hue) ** share
        out = crop.copy()
        out[..., :3] = ((grey * gain)[..., None] * colour / np.maximum(colour @ _LUMA, 1e-6)[..., None])
    if ab is not None and small < 1.0 and tuning.seam_chroma > 0:
        # a larger mouth's seam as red as its lips, not their colour darkened alike in all
        # channels (grey beside them: :mod:`faceedit.stage.seam_colour`)
        # over the seam's full width (a carried grey band beside a crisp core made lip-red too)
        share = np.maximum(dip, (wide_profile * along * amount * depth).astype(np.float32)) * (1.0 - small)
        out = out.copy() if out is crop else out
        out[..., :3] = toward_lips(out[..., :3], share, ab, tuning.seam_chroma, pixel_max(pixels.dtype),
                                   shade_from=None if lab is None else tuning.seam_saturation * float(lab[0]))
    if own is not None and own.ab is not None and small > 0 and tuning.seam_chroma > 0 and seam.seam_small_depth > 0:
        # a small mouth's seam toward the chroma of the photo's own lips in shade, read before the
        # warp (after it, teeth and lip carried together read greyer; their colour darkened is
        # grey-brown beside them), as it is: real closed lips at 96-128 px meet in it
        out = out.copy() if out is crop else out
        out[..., :3] = toward_lips(out[..., :3], dip * small, own.ab, 1.0, pixel_max(pixels.dtype))
    res = pixels if in_place else pixels.copy()
    res[y0:y1, x0:x1] = np.clip(np.round(out), 0, pixel_max(pixels.dtype)).astype(pixels.dtype)
    return res


