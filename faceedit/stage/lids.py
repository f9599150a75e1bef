"""Closed and lowered eyelids drawn from the photo's own lid: a blink, a wink, sleepy lids.

A warp that moves the lid landmarks together stretches what lies between them and above them:
the lashes, which stand up off the lid's margin in an open eye, are pulled down into a V-shaped
smear and the lid margin into a grey strip. A real lid closes as a sheet sliding down over the
eyeball: the lid's skin comes down from under the crease (the crease flattens and drops a
little), the lash line moves with the lid's edge and the lashes, no longer held up by the
eyeball, point down; the lower lid rises a little to meet it.

:func:`close_lids` draws that on the photo, eye by eye, in the eye's own frame (``x`` along the
eye line, ``y`` down the face, so a tilted head gets the same lid), column by column between
the eye's corners. The photo's eye is read first (:func:`eye_margins`): the upper lid margin
``U`` (the lash roots, the darkest line just above the Face Mesh's lid contour), the lower one
``L``, the crease ``C`` (the darkest line between the lid and the brow) and the top ``T`` of
what may move (part of the way up to the brow). With ``H = L - U`` and the lids meeting at
``M = L - meet * H`` (``meet`` of :class:`~faceedit.stage.tuning_lids.LidsTuning` for a blink, more for a wink's
squeeze), a closure ``a`` (0..1) puts the upper lid's edge at ``E = U + a (M - U)`` and the
lower lid's at ``L' = L + a (M - L)``:

* between ``T`` and the crease the skin stays, the crease coming down ``crease_drop`` of
  the lid's travel and unfolding: its shadow (where darker than the skin's light carried over
  it from either side) fades by ``crease_fade`` of the closure, over ``crease_width`` eye
  heights each side of it (a closed lid's crease is a soft line, not the ring of an open eye's
  fold around it);
* below the crease the lid's skin (the photo's, between the crease and the lashes) is
  stretched down to the edge: its shading, its folds flattening as it comes down
  (``fold_scale``) and, where stretched, grain as strong as the photo's lid skin drawn at
  the photo's own scale (stretched, grain would streak); over the eyeball its colour eases into
  that of the skin around the eye carried smoothly over it (``lid_ease``, its reach softened
  over ``lid_soft`` eye heights at its top and sides), lit where the
  lid bulges most, over the eyeball (from ``lit_reach`` eye heights above the open eye's
  margin), as the person's lid and the skin under the eye are (``lit``), a little
  darker towards the edge, its top in the shadow of the socket above it where that is darker
  (``top_shade``, the skin's light there its ``shade_pct`` percentile:
  :func:`faceedit.stage.lid_shade.shade_top`); the whole brought to the light real closed lids have against the
  person's skin between the crease and the brow and under the eye (``tone``, not below
  ``tone_floor`` of the skin under the eye, ``deep_floor`` where the skin under the brow is
  the socket's deep shadow; lightened where it bulges, over ``tone_rise`` of the eyeball's dome,
  its top left in the socket's light; nowhere lighter than ``tone_peak`` of the skin under the
  eye, ``deep_peak`` where the skin under the brow is the socket's deep shadow), that skin's body colour (``body_pct``, not its sheen) tinted as
  the photo's own lid skin is (``tint_reach``), with the person's own skin on it (the
  texture of the photo's skin under the eye, its pores, grain and small blotches, laid in
  patches: :func:`faceedit.stage.lid_skin.own_skin_detail`, ``texture``), and the closed
  lid's crease drawn over it (:func:`faceedit.stage.lid_lines.draw_lid_lines`; fine wrinkles
  along it only where ``wrinkles`` asks: drawn, they are stripes across the lid);
* the lash roots (the dark band ``roots`` eye heights along the margin) move down with the
  edge, unstretched, and a lash line as dark as the photo's own runs along it (``line``; no
  lighter than its middle half's where the photo's lashes thin out, ``lash_even``), streaked
  with the photo's own lashes' grain (:mod:`faceedit.stage.lid_lashes`);
* the lashes above the open eye's margin are the lashes of the closed one, mirrored at the edge
  so they point down, over what lies below it (the lower lid, or the eyeball of a lid part-way
  down), where they are darker than the lid's skin; at the outer corner, where the lid hardly
  moves, those left standing above its edge are the skin around them (``corner_lashes``);
* between the edges (a partial closure) the eyeball stays where it is, in the lid's shadow;
* the lower lid and the skin below it (to ``below_reach`` eye heights under the margin) rise,
  the lower lid's rim (``lower_rim`` of the opening below the margin) tucked under the upper
  lid's edge, which meets the skin below it; in a wink's squeeze (the share ``s`` by which the
  eye closes more than the other) the lower lid is pushed up against the edge, its rim and
  lashes meeting the upper lid's in one dark line: ``lower_rim + s (wink_lower_rim - lower_rim)``;
  raised, it has the light and colour of the skin below it where that is warmer (``lower_skin``,
  ``lower_skin_grey``: its sheen carried up is a grey smear) and no part lighter than the skin
  under the eye (``lower_clip``: its wet rim's and the caruncle's glints under the lash line
  read as the eye's white) or than its own light around it (``cap_reach``: a broad light patch
  of skin stays, with its grain), the cap easing out to the corners (``cap_corner``).

Every source position is read from the photo before the lids move, so nothing is drawn twice;
the map is the photo's own at the corners (``H`` = 0), above ``T`` and below the reach, so the
drawn lid meets the photo without a seam; its steps (the edges) are softened over
``edge_soft`` px. A closure of 0 changes nothing. The lower-case names are the fields of
:class:`~faceedit.stage.tuning_lids.LidsTuning` (the stage's ``tuning.lids``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from faceedit.pixels import luma, pixel_max
from faceedit.stage.eyes import MESH_EYES
from faceedit.stage.lid_below import smooth_below
from faceedit.stage.lid_corners import close_corner
from faceedit.stage.lid_lashes import draw_lash_line, lash_grain, strands_at
from faceedit.stage.lid_lines import draw_lid_lines
from faceedit.stage.lid_shade import shade_top
from faceedit.stage.lid_skin import as_skin_below, corner_lashes_as_skin, frame_box, lit_tone, own_skin_detail, warmer
from faceedit.stage.membrane import membrane_fill
from faceedit.stage.moves import face_frame
from faceedit.stage.tuning_lids import LidsTuning

#: The drawn grain's one fixed field (the same grain on every frame of a video): its seed. The
#: values that set how a closed lid looks are :class:`~faceedit.stage.tuning_lids.LidsTuning`'s.
GRAIN_SEED = 53
#: The 68 points of each eye: its upper contour (outer corner to inner) and its lower; its brow.
LM_CONTOURS = (((36, 37, 38, 39), (36, 41, 40, 39)), ((45, 44, 43, 42), (45, 46, 47, 42)))
LM_BROWS = ((17, 18, 19, 20, 21), (22, 23, 24, 25, 26))


def lid_contours(lm: np.ndarray, mesh: np.ndarray | None, k: int,
                 tuning: LidsTuning | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(upper, lower): eye ``k``'s (0: the image's left) lid contours, (N, 2) photo px each,
    corner to corner: the Face Mesh's, else the 68 points' set ``lm_upper_out`` /
    ``lm_lower_out`` of their distance apart (``tuning``'s, default its defaults)."""
    if mesh is not None:
        xy = np.asarray(mesh, np.float64)[:, :2]
        up, low = MESH_EYES[k]
        return xy[list(up)], xy[list(low)]
    lm = np.asarray(lm, np.float64)
    up, low = (lm[list(c)].copy() for c in LM_CONTOURS[k])
    gap = low[1:3] - up[1:3]
    tn = tuning if tuning is not None else LidsTuning()
    up[1:3] -= tn.lm_upper_out * gap
    low[1:3] += tn.lm_lower_out * gap
    return up, low


@dataclass
class EyeFrame:
    """One eye's frame and lines, read on the photo (:func:`eye_margins`). ``origin``, ``u``,
    ``n``: the frame (photo point, unit vectors along the eye line and down the face); per
    column ``xs`` (frame px, corner to corner): ``upper`` and ``lower`` lid margins, ``crease``,
    ``top`` (what lies above stays), ``lashes`` (the lash line's colour); ``tall``: the tallest
    opening; ``side``: which eye (0: the image's left)."""

    origin: np.ndarray
    u: np.ndarray
    n: np.ndarray
    xs: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    crease: np.ndarray
    top: np.ndarray
    tall: float
    lashes: np.ndarray | None = None  # (N, C) or (N,) the lash line's colour per column, unit levels
    side: int = 0  # which eye (0: the image's left, its outer corner first along x)

    def to_frame(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, np.float64) - self.origin
        return np.stack([p @ self.u, p @ self.n], -1)

    def to_photo(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.origin + np.asarray(x)[..., None] * self.u + np.asarray(y)[..., None] * self.n

    def at(self, x: np.ndarray, line: np.ndarray) -> np.ndarray:
        """``line`` (per column) at frame x positions ``x``."""
        return np.interp(x, self.xs, line)


def _robust_curve(xs: np.ndarray, v: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """A quadratic in ``xs`` through ``v`` (a lid line read column by column: lashes and
    catchlights throw single columns off), fitted where ``weight`` > 0, outliers down-weighted
    (Tukey's biweight, three rounds)."""
    t = (xs - xs.mean()) / max(float(np.ptp(xs)), 1.0)
    basis = np.stack([np.ones_like(t), t, t * t], 1)
    w = weight.astype(np.float64).copy()
    fit = np.full_like(v, float(np.median(v)))
    for _ in range(4):
        if (w > 0).sum() < 4:
            break
        sw = np.sqrt(w)[:, None]
        coef = np.linalg.lstsq(basis * sw, v * sw[:, 0], rcond=None)[0]
        fit = basis @ coef
        r = v - fit
        scale = 4.685 * max(1.4826 * float(np.median(np.abs(r[weight > 0]))), 0.5)
        w = weight * np.clip(1 - (r / scale) ** 2, 0, 1) ** 2
    return fit


def eye_margins(src: np.ndarray, lm: np.ndarray, mesh: np.ndarray | None, k: int,
                tuning: LidsTuning | None = None) -> EyeFrame | None:
    """Eye ``k``'s (0: the image's left) lines read on the photo ``src``: from the lid contours
    (:func:`lid_contours`), their corners moved ``corner_out`` of the eye's width outwards
    (the Face Mesh's and the 68 points' lie inside the visible eye); the upper margin raised to
    the darkest line (the lash roots) up to ``margin_search[0]`` eye heights above the contour,
    the lower one lowered to the strongest fall in light below the eye's white
    (``lower_search``), the crease the darkest line between the top and the lid's skin band,
    each a smooth curve (:func:`_robust_curve`) easing into the contours' own over the corners'
    move (the shares are ``tuning``'s, :class:`~faceedit.stage.tuning_lids.LidsTuning`). None
    for an eye under 4 px wide."""
    tn = tuning if tuning is not None else LidsTuning()
    upper, lower = lid_contours(lm, mesh, k, tn)
    u, n, _ = face_frame(lm)
    origin = upper[0]
    rel = lambda p: np.stack([(p - origin) @ u, (p - origin) @ n], -1)  # noqa: E731
    up, low = rel(upper), rel(lower)
    up, low = up[np.argsort(up[:, 0])], low[np.argsort(low[:, 0])]
    xa, xb = float(min(up[0, 0], low[0, 0])), float(max(up[-1, 0], low[-1, 0]))
    width = xb - xa
    if width < 4:
        return None
    ext = tn.corner_out * width
    ends = [(up[0] + low[0]) / 2 - [ext, 0], (up[-1] + low[-1]) / 2 + [ext, 0]]
    up, low = np.vstack([ends[0], up, ends[1]]), np.vstack([ends[0], low, ends[1]])
    xs = np.arange(np.ceil(ends[0][0]), np.floor(ends[1][0]) + 1, 1.0)
    if len(xs) < 4:
        return None
    u0, l0 = np.interp(xs, up[:, 0], up[:, 1]), np.interp(xs, low[:, 0], low[:, 1])
    l0 = np.maximum(l0, u0)
    tall = float(max((l0 - u0).max(), 1.0))
    brow = rel(np.asarray(lm, np.float64)[list(LM_BROWS[k])])
    brow = brow[np.argsort(brow[:, 0])]
    brow_y = np.interp(xs, brow[:, 0], brow[:, 1])
    top = np.maximum(u0 - tn.skin_reach * tall, brow_y + tn.brow_keep * (u0 - brow_y))
    frame = EyeFrame(origin, u, n, xs, u0, l0, top, top, tall, side=k)
    # the photo's light over the eye, sampled in the frame
    corners = frame.to_photo(np.array([xs[0], xs[-1], xs[0], xs[-1]]),
                             np.array([top.min(), top.min(), l0.max() + tall, l0.max() + tall]))
    x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int) - 3, 0)
    x1, y1 = np.ceil(corners.max(0)).astype(int) + 4
    x1, y1 = min(x1, src.shape[1]), min(y1, src.shape[0])
    if x1 - x0 < 4 or y1 - y0 < 4:
        return frame
    crop = src[y0:y1, x0:x1].astype(np.float32)
    lum = luma(crop) if crop.ndim == 3 else crop

    def at(ys: np.ndarray, img: np.ndarray) -> np.ndarray:
        q = (frame.to_photo(np.broadcast_to(xs[:, None], ys.shape), ys) - [x0, y0]).astype(np.float32)
        return cv2.remap(img, q[..., 0], q[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def argline(ys: np.ndarray, score: np.ndarray) -> np.ndarray:
        return ys[np.arange(len(xs)), np.argmin(score, 1)]

    weight = np.clip(np.minimum(xs - ends[0][0], ends[1][0] - xs) / ext, 0.0, 1.0)  # the corners stay
    fine = cv2.GaussianBlur(lum, (0, 0), max(0.7, tall / 25))
    ys = u0[:, None] + np.linspace(-tn.margin_search[0], tn.margin_search[1], 40)[None, :] * tall
    roots = _robust_curve(xs, argline(ys, at(ys, fine)) - u0, weight)
    frame.upper = u0 + weight * roots
    # the lower margin: where the eye's white gives way to the lid going down, where that lies
    # below the contour (under a dark iris the fall is the iris's own edge)
    ys = l0[:, None] + np.linspace(-tn.lower_search[0], tn.lower_search[1], 40)[None, :] * tall
    step = max(0.5, tall / 20)
    edge = argline(ys, at(ys + step, fine) - at(ys - step, fine))
    frame.lower = np.maximum(l0 + weight * np.maximum(_robust_curve(xs, edge - l0, weight), 0.0), frame.upper)
    # the crease: the darkest line between the top and the lid's skin above the lashes
    broad = cv2.GaussianBlur(lum, (0, 0), max(1.0, tall / 10))
    skin_end = frame.upper - tn.lashes * tall
    lo_, hi_ = top + 0.1 * (frame.upper - top), skin_end - tn.min_skin * tall
    ys = lo_[:, None] + np.linspace(0.0, 1.0, 30)[None, :] * np.maximum(hi_ - lo_, 0.0)[:, None]
    crease = _robust_curve(xs, argline(ys, at(ys, broad)), weight * (hi_ > lo_))
    frame.crease = np.clip(crease, top, np.maximum(top, hi_))
    colour = cv2.GaussianBlur(crop / pixel_max(src.dtype), (0, 0), max(0.7, tall / 25))
    # the lash line's colour: per column the darkest along the upper margin, smoothed
    ys = frame.upper[:, None] + np.linspace(-0.3, 0.05, 12)[None, :] * tall
    line = at(ys, colour)
    darkest = np.argmin(luma(line) if line.ndim == 3 else line, 1)
    lash_col = line[np.arange(len(xs)), darkest]
    sigma_l = max(1.0, 0.05 * len(xs))
    frame.lashes = cv2.GaussianBlur(lash_col.reshape(len(xs), 1, -1), (1, 0), sigmaX=0.1, sigmaY=sigma_l,
                                    borderType=cv2.BORDER_REPLICATE).reshape(lash_col.shape)
    if tn.lash_even > 0:
        # the closed lid's lash line runs corner to corner: where the photo's lashes are thin
        # (towards the inner corner) it is no lighter than the middle half's, lash_even of the way
        lum_l = luma(frame.lashes.astype(np.float32)) if frame.lashes.ndim == 2 else frame.lashes
        q = len(xs) // 4
        ref = float(np.median(lum_l[q:len(xs) - q])) if len(xs) > 4 else float(np.median(lum_l))
        gain = np.minimum(ref / np.maximum(lum_l, 1e-6), 1.0) ** tn.lash_even
        frame.lashes = frame.lashes * (gain[:, None] if frame.lashes.ndim == 2 else gain)
    return frame


def close_lids(pixels: np.ndarray, lm: np.ndarray, mesh: np.ndarray | None,
               amounts: tuple[float, float], meets: tuple[float, float] | None = None,
               tuning: LidsTuning | None = None) -> np.ndarray:
    """``pixels`` ((H, W[, C]) uint8/uint16) with eye ``k``'s lids closed ``amounts[k]`` (0..1;
    index 0 the image's left eye, 68-point 36-41) of the way, meeting ``meets[k]`` of the way up
    from the lower lid (default ``tuning``'s ``meet`` for both): see the module notes. ``lm``:
    the face's 68 points; ``mesh``: its Face Mesh points ((468, 2+)) or None; ``tuning``: how
    the lids are drawn (:class:`~faceedit.stage.tuning_lids.LidsTuning`, default its defaults).
    Returns ``pixels`` itself when both amounts are 0, else a new array."""
    if not any(a > 0 for a in amounts):
        return pixels
    tn = tuning if tuning is not None else LidsTuning()
    meets = meets if meets is not None else (tn.meet, tn.meet)
    out = pixels.copy()
    for k, a in enumerate(amounts):
        if a > 0:
            eye = eye_margins(pixels, lm, mesh, k, tn)
            if eye is not None:
                # a wink's squeeze: the share by which this eye closes more than the other
                squeeze = float(np.clip(min(float(a), 1.0) - min(float(amounts[1 - k]), 1.0), 0.0, 1.0))
                rim = tn.lower_rim + squeeze * (tn.wink_lower_rim - tn.lower_rim)
                _close_eye(pixels, out, eye, min(float(a), 1.0), meets[k], tn, rim)
    return out


def _grain_like(grain: np.ndarray, x: np.ndarray, y: np.ndarray, across: float, seed: int = 0) -> np.ndarray:
    """Grain as strong, channel by channel, as ``grain`` ((N[, C]) the detail of the photo's
    skin at one scale) at the eye-frame points ``x``, ``y`` (from the eye's outer corner and its
    top: the grain moves with the eye, a video's closed lid does not shimmer): one field for all
    channels (a photo's grain is mostly in its light), a blur of ``across`` px of white noise,
    its spread taken where it is read (read between its pixels it is smoother)."""
    size = int(np.ceil(max(float(x.max()), float(y.max()), 1.0))) + 4
    noise = np.random.default_rng(GRAIN_SEED + seed).standard_normal((size, size)).astype(np.float32)
    field = cv2.GaussianBlur(noise, (0, 0), across)
    field = field / np.float32(max(float(field.std()), 1e-6))
    z = cv2.remap(field, np.clip(x, 0, size - 1).astype(np.float32), np.clip(y, 0, size - 1).astype(np.float32),
                  cv2.INTER_LINEAR)
    z = z / np.float32(max(float(z.std()), 1e-6))
    # a robust spread: lash strands and the crease's edge in the band are not grain
    std = (1.4826 * np.median(np.abs(grain - np.median(grain, 0)), 0)).astype(np.float32)
    return z[..., None] * std if grain.ndim == 2 else z * std


def _deep_share(here: np.ndarray, above: np.ndarray, under: np.ndarray, tn: LidsTuning) -> float:
    """How deep-set the eye is, 0..1: the light of the photo ``here``'s skin ``above`` it
    (between the crease and the brow) over that ``under`` it, from ``deep[0]`` (0) to
    ``deep[1]`` (1) of :class:`~faceedit.stage.tuning_lids.LidsTuning`; 0 where too little of
    either shows."""
    if above.sum() <= 8 or under.sum() <= 8:
        return 0.0
    lum = luma(here) if here.ndim == 3 else here
    ratio = float(lum[above].mean()) / max(float(lum[under].mean()), 1e-6)
    return float(np.clip((tn.deep[0] - ratio) / (tn.deep[0] - tn.deep[1]), 0.0, 1.0))

def _match_tone(new: np.ndarray, here: np.ndarray, down: np.ndarray, lid: np.ndarray, above: np.ndarray,
                under: np.ndarray, band: np.ndarray, tn: LidsTuning, rise: np.ndarray | None = None,
                below: np.ndarray | None = None) -> np.ndarray:
    """``new`` with its closed lid (where ``down`` > 0, weighted by it) brought to ``tone`` of
    the mean luma of the photo ``here``'s skin ``above`` (between the crease and the brow) and
    ``under`` the eye (the two means' mean; not below ``tone_floor`` of the skin under the eye,
    rising to ``deep_floor`` as the skin above falls from ``deep[0]`` to ``deep[1]`` of it),
    its colour that skin's body colour (its pixels between the ``body_pct`` percentiles of their
    luma, not its sheen nor its folds; ``lower_skin`` of the way to ``below``'s, the skin the
    raised lower lid takes, where given and warmer by ``lower_skin_grey``) tinted as the photo's own lid skin (``band``, between the
    crease and the lashes: its lit pixels' colour over that skin's, each channel within
    ``tint_reach`` of 1; ``tint`` where there are too few); ``lid`` (the middle of the eye)
    where its light is read; nowhere (its light blurred 2 px) lighter than ``tone_peak`` of the
    skin under the eye, rising to ``deep_peak`` with the floor.
    Unchanged where there is too little of either to read."""
    w = down * lid
    if w.sum() < 4 or under.sum() < 9:
        return new
    cover = np.clip(down, 0.0, 1.0)
    refs = [here[m].mean(0) for m in (above, under) if m.sum() > 8]
    ref = np.mean(refs, 0)
    cur = (new * (w[..., None] if new.ndim == 3 else w)).reshape(-1, *new.shape[2:]).sum(0) / w.sum()
    deep = 0.0
    if new.ndim == 3:
        lum_ref, lum_under = float(luma(ref.astype(np.float32))), float(luma(here[under].mean(0).astype(np.float32)))
        # the deeper the socket's shadow above the eye (its light over that under the eye), the
        # more the under-eye skin alone sets the floor
        deep = 0.0 if len(refs) < 2 else float(np.clip(
            (tn.deep[0] - (2 * lum_ref - lum_under) / max(lum_under, 1e-6)) / (tn.deep[0] - tn.deep[1]), 0.0, 1.0))
        level = max(tn.tone * lum_ref, (tn.tone_floor + deep * (tn.deep_floor - tn.tone_floor)) * lum_under)
        body = lit_tone(here, above | under, tn.body_pct)
        hue = (ref if body is None else body) / max(float(luma(ref if body is None else body)), 1e-6)
        if below is not None:
            to = below / max(float(luma(below)), 1e-6)
            hue = hue + tn.lower_skin * float(warmer(to, hue, tn.lower_skin_grey)) * (to - hue)
        own = lit_tone(here, band, tn.lit_pct)
        tint = np.clip(np.asarray(tn.tint, np.float32) if own is None else own / max(float(luma(own)), 1e-6) / hue,
                       1 - tn.tint_reach, 1 + tn.tint_reach)
        target = hue * tint
        target = target / max(float(luma(target.astype(np.float32))), 1e-6) * level
    else:
        target = max(tn.tone * float(ref), tn.tone_floor * float(here[under].mean()))
    gain = np.clip(np.asarray(target, np.float32) / np.maximum(cur, 1e-6), 0.5, 2.0)
    if rise is not None and float(np.mean(gain)) > 1:
        # lightened where it bulges over the eyeball (``rise``), its top left in the socket's light
        r = (w * rise)[..., None] if new.ndim == 3 else w * rise
        cur_r = (new * r).reshape(-1, *new.shape[2:]).sum(0) / w.sum()
        gain = np.clip(1 + (np.asarray(target, np.float32) - cur) / np.maximum(cur_r, 1e-6), 1.0, 2.5)
        down = down * rise
    d = down[..., None] if new.ndim == 3 else down
    out = new * (1 + (gain - 1) * d)
    if tn.tone_peak > 0:
        # nowhere lighter than ``tone_peak`` of the skin under the eye (its light blurred, not its grain)
        lum = luma(out) if out.ndim == 3 else out
        smooth = cv2.GaussianBlur(lum.astype(np.float32), (0, 0), 2.0)
        share = tn.tone_peak + deep * (tn.deep_peak - tn.tone_peak)
        peak = share * float(np.mean(luma(here[under].mean(0).astype(np.float32)) if here.ndim == 3
                                     else here[under].mean()))
        f = 1 + (np.minimum(peak / np.maximum(smooth, 1e-6), 1.0) - 1) * cover
        out = out * (f[..., None] if out.ndim == 3 else f)
    return out.astype(np.float32)


def _close_eye(src: np.ndarray, out: np.ndarray, eye: EyeFrame, a: float, meet: float, tn: LidsTuning,
               lower_rim: float) -> None:
    """Eye ``eye`` of ``src`` drawn into ``out`` with its lids closed ``a`` of the way, meeting
    ``meet`` of the way up from the lower lid, the lower lid's rim ``lower_rim`` of the opening
    (under the upper lid's edge)."""
    tall = eye.tall
    lash, roots = tn.lashes * tall, tn.roots * tall
    xa, xb = float(eye.xs[0]), float(eye.xs[-1])
    top, bottom = float(eye.top.min()) - 2, float(eye.lower.max()) + tn.below_reach * tall + 2
    photo = eye.to_photo(np.array([xa - 2, xb + 2, xa - 2, xb + 2]), np.array([top, top, bottom, bottom]))
    box = frame_box(eye, photo, src.shape)
    if box is None:
        return
    (x0, y0, x1, y1), X, Y = box
    h, w = src.shape[:2]
    inside = (X > xa) & (X < xb)
    U, L = eye.at(X, eye.upper), eye.at(X, eye.lower)
    T, C = eye.at(X, eye.top), eye.at(X, eye.crease)
    H = np.where(inside, L - U, 0.0)
    M = L - meet * H
    E = U + a * (M - U)  # the upper lid's new edge
    Lp = L + a * (M - L)  # the lower lid's
    d = E - U
    share = np.clip(d / lash, 0.0, 1.0)  # how far the lashes have turned down
    B = L + tn.below_reach * tall
    skin_end = U - roots - share * (lash - roots)  # the lid skin's lower end (above the lashes)
    C = np.minimum(C, skin_end - tn.min_skin * tall * share)
    C = np.maximum(C, T)
    Cd = C + tn.crease_drop * d  # the crease, come down a little
    lid_end = E - roots
    Ys = Y.copy()
    above = (Y >= T) & (Y < Cd)
    Ys = np.where(above, T + (Y - T) / np.maximum(Cd - T, 1e-6) * (C - T), Ys)
    on_lid = (Y >= Cd) & (Y < lid_end)
    t = (Y - Cd) / np.maximum(lid_end - Cd, 1e-6)
    Ys = np.where(on_lid, C + t * (skin_end - C), Ys)
    Ys = np.where((Y >= lid_end) & (Y < E), Y - d, Ys)  # the roots, moved
    below = (Y >= Lp) & (Y < B)
    rim = L + lower_rim * H
    Ys = np.where(below, rim + (Y - Lp) / np.maximum(B - Lp, 1e-6) * (B - rim), Ys)
    # where the skin is stretched its grain is drawn anew at the photo's own scale
    stretch = np.where(on_lid, (lid_end - Cd) / np.maximum(skin_end - C, 1e-6), 1.0)
    new_grain = np.clip((stretch - 1.0) / 0.5, 0.0, 1.0).astype(np.float32)
    unit = float(pixel_max(src.dtype))
    pad = int(np.ceil(max(lash, (tn.texture_from + tn.texture_depth - tn.below_reach) * tall) + 4))
    sx0, sy0, sx1, sy1 = max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, w), min(y1 + pad, h)
    crop = src[sy0:sy1, sx0:sx1].astype(np.float32) / unit
    fine_blur = cv2.GaussianBlur(crop, (0, 0), max(0.8, tall / tn.grain_scale))
    broad = cv2.GaussianBlur(crop, (0, 0), max(1.0, tall / tn.fold_scale))
    folds, grain = fine_blur - broad, crop - fine_blur
    chans = (lambda v: v[..., None]) if crop.ndim == 3 else (lambda v: v)  # noqa: E731
    lum = luma if crop.ndim == 3 else (lambda v: v)  # noqa: E731

    def sample(img: np.ndarray, ys: np.ndarray) -> np.ndarray:
        q = (eye.to_photo(X, ys) - [sx0, sy0]).astype(np.float32)
        r = cv2.remap(img, q[..., 0], q[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return r.reshape(r.shape[:2] + img.shape[2:])

    # the lid's folds flatten as its skin comes down (wholly from a third of the way down it),
    # where the lid's lit skin covers the eye: darker where it turns away, towards its edge
    def smoothstep(v: np.ndarray) -> np.ndarray:
        v = np.clip(v, 0.0, 1.0)
        return v * v * (3 - 2 * v)

    flat = (share * np.where(on_lid, smoothstep(t / 0.3), 0.0)).astype(np.float32)
    new = sample(broad, Ys) + sample(folds, Ys) * chans(1 - flat)
    down = share * np.where(on_lid, smoothstep((t - tn.lid_ease[0]) / (tn.lid_ease[1] - tn.lid_ease[0])), 0.0)
    bulges = smoothstep(H / (tn.bulge * tall))
    down = (down * bulges).astype(np.float32)
    if tn.lid_soft > 0:
        # softened at its top and sides, whole down to its edge (continued below it as it is there)
        whole = np.where(inside & (Y >= lid_end), share * bulges, down).astype(np.float32)
        down = np.minimum(down, cv2.GaussianBlur(whole, (0, 0), tn.lid_soft * tall)).astype(np.float32)
    here = crop[y0 - sy0:y1 - sy0, x0 - sx0:x1 - sx0]
    rel = np.abs(X - (xa + xb) / 2) / max((xb - xa) / 2, 1e-6)
    mid = inside & (rel < tn.lit_width)
    above_lid = (Y >= T) & (Y < C) & mid
    under_eye = (Y > L + tn.lit_below[0] * tall) & (Y < L + tn.lit_below[1] * tall) & mid
    # a deep-set eye's closed lid turns into the socket's shadow at its edge: darker there, its
    # lash line wider and the lower lid under it in its shadow
    deep = _deep_share(here, above_lid, under_eye, tn)
    edge_dark, line_w, lash_shadow = (v0 + deep * (v1 - v0) for v0, v1 in (
        (tn.edge_dark, tn.deep_edge_dark), (tn.line, tn.deep_line), (tn.lash_shadow, tn.deep_lash_shadow)))
    closed = float(np.clip((a - tn.closed_dark[1]) / (1 - tn.closed_dark[1]), 0.0, 1.0))
    edge_dark += closed * max(tn.closed_dark[0] - edge_dark, 0.0)  # a closed lid's edge
    if down.max() > 0:
        # the skin around the closed lid (above it, beyond its corners, the lower lid below),
        # carried smoothly over it
        open_ = inside & (H > 0) & (Y >= Cd) & (Y < Lp + tn.hang * tall)
        around = membrane_fill(new, (~open_).astype(np.float32))
        if tn.lid_soft > 0:
            # smoothed (the fill meets itself in seams where its sides differ: a dark corner)
            around = np.where(chans(open_), cv2.GaussianBlur(around, (0, 0), tn.lid_soft * tall), around)
        # over the eyeball: from lit_reach eye heights above the open eye's margin (or the
        # crease, where that lies lower) to the lid's edge
        start = np.maximum(Cd, U - tn.lit_reach * tall)
        td = (Y - start) / np.maximum(lid_end - start, 1e-6)
        # where it bulges over the eyeball, in the light: the person's lit lid skin
        tone = lit_tone(here, inside & (rel < tn.lit_width) & (((Y > C) & (Y < U - lash))
                                                         | ((Y > L + tn.lit_below[0] * tall) & (Y < L + tn.lit_below[1] * tall))),
                         tn.lit_pct)
        if tone is not None:
            dome = (1 - np.clip(rel, 0.0, 1.0) ** 2) ** 2 * np.where(on_lid, np.sin(np.pi * np.clip(
                tn.lit_dome[0] + (tn.lit_dome[1] - tn.lit_dome[0]) * td, 0.0, 1.0)), 0.0)
            lit = chans((tn.lit * dome).astype(np.float32))
            around = around * (1 - lit) + tone * lit
        turn = 1.0 - edge_dark * np.clip((t - 0.6) / 0.4, 0.0, 1.0) ** 2
        new = new * chans(1 - down) + around * chans(down * turn.astype(np.float32))
        if tn.top_shade > 0:
            new = shade_top(new, X, Y, eye, Cd, t, (share * (Y < lid_end)).astype(np.float32), tn)
        rise = smoothstep(td / tn.tone_rise).astype(np.float32) if tn.tone_rise > 0 else None
        below = lit_tone(sample(broad, B + tn.lower_skin_read * tall), mid, tn.body_pct)  # lid_skin.as_skin_below's
        new = _match_tone(new, here, down, mid, above_lid, under_eye, mid & (Y > C) & (Y < U - lash), tn, rise, below)
    if tn.crease_fade > 0:
        # the crease unfolds: its shadow, below the skin's light carried over it, fades
        cw = tn.crease_width * tall
        band = inside & (np.abs(Y - Cd) < cw) & (Y >= T)
        if band.any():
            smooth = membrane_fill(new, (~band).astype(np.float32))
            taper = smoothstep(np.minimum(X - xa, xb - X) / (tn.corner_out * (xb - xa)))
            fade = a * tn.crease_fade * taper * np.clip(1 - ((Y - Cd) / cw) ** 2, 0.0, 1.0) ** 2 * band
            under = np.clip((lum(smooth) - lum(new)) / 0.02, 0.0, 1.0)  # only the shadow is lifted
            f = chans((fade * under).astype(np.float32))
            new = (new * (1 - f) + smooth * f).astype(np.float32)
    new = smooth_below(new, X, Y, E, Lp, (xa, xb), tall, a, tn)  # the raised lower lid's wrinkles
    skin_band = (Y > C) & (Y < skin_end) & inside
    grain_here = grain[y0 - sy0:y1 - sy0, x0 - sx0:x1 - sx0]
    # the grain of the skin around the eye (the lid skin's own band is a few rows, in the
    # brow's shadow or under the fold: too smooth to speak for a whole closed lid)
    skin_around = ~(((Y > U - lash) & (Y < L + tn.hang * tall)) | (Y < T)) & (Y < B)
    donor = skin_around if skin_around.sum() > 8 else skin_band
    drawn = _grain_like(grain_here[donor] if donor.sum() > 8 else grain_here.reshape(-1, *crop.shape[2:]),
                        X - xa + 2, Y - top + 2, tn.grain_across)
    g = chans(new_grain)
    own = (np.maximum(down, flat * smoothstep(H / (tn.bulge * tall))) if down.max() > 0 else down).astype(np.float32)
    # the photo's grain where the person's skin (below) is not laid, the two weighted so that their
    # squares sum to one (two unlike grains blended linearly lose strength where they meet: 0.71 of it halfway)
    new = new + (sample(grain, Ys) * (1 - g) + drawn * g) * chans(np.sqrt(np.clip(1 - own * own, 0.0, 1.0)))
    if down.max() > 0 and tn.texture > 0:
        # where the lid's folds were flattened and its colour eased into the skin's: the person's
        # own skin under the eye, in patches (faceedit.stage.lid_skin)
        detail = own_skin_detail(crop, (sx0, sy0), eye, X, Y, top, tn, GRAIN_SEED + 2)
        if detail is not None:
            new = new * (1 + detail * chans(tn.texture * own))
    # the raised lower lid in the light and colour of the skin below the rise (lid_skin.as_skin_below)
    ends = smoothstep(np.minimum(X - xa, xb - X) / max(0.25 * tn.corner_out * (xb - xa), 1.0))
    w = a * tn.lower_skin * inside * (Y >= Lp) * ends * np.clip((B - Y) / np.maximum(0.5 * (B - Lp), 1e-6), 0, 1)
    new = as_skin_below(new, sample(broad, Ys), sample(broad, B + tn.lower_skin_read * tall), w.astype(np.float32),
                        tn.lower_skin_grey)
    if tn.lower_clip > 0 and under_eye.sum() > 8:
        # the lower lid raised under the closed one: its wet rim's and lashes' highlights, carried
        # up under the lash line, read as the eye's white; no lighter there than the skin under
        # the eye's light (its lower_clip percentile), fading out down to the reach
        cap = float(np.percentile(lum(here)[under_eye], tn.lower_clip))
        # (and where the lids meet, at the corners too, where they do not move: the tear film's
        # glints on the caruncle); on an eye closed most of the way, none on a lowered lid's eyeball
        met = (Lp - E) < 0.5 * tn.roots * tall
        raised = inside & (Y < B) & ((Y >= Lp) | (met & (Y >= Lp - tn.roots * tall)))
        w = (smoothstep(np.asarray((a - 0.5) / 0.5)) * raised
             * np.clip((B - Y) / np.maximum(B - Lp, 1e-6), 0.0, 1.0)).astype(np.float32)
        new = close_corner(new, src, eye, X, w, (cap, tn.cap_reach * tall), Y < Lp, tn)
    # its crease and the fine lines along it
    found = smoothstep(((eye.at(X, eye.crease) - T) / np.maximum(U - T, 1e-6) - tn.crease_found[0])
                       / (tn.crease_found[1] - tn.crease_found[0]))
    new = draw_lid_lines(new, X, Y, E, Cd, (xa, xb), tall, (share * inside).astype(np.float32), tn,
                         GRAIN_SEED + 1, found.astype(np.float32), outer_first=eye.side == 0)
    # the closed lid's shadow under its edge
    fall = np.exp(-np.maximum(Y - E, 0) / (tn.shadow_reach * tall))
    shade = 1.0 - np.where(Y < Lp, tn.shadow, lash_shadow) * np.clip(d / roots, 0, 1) * fall
    shade = np.where((Y >= E) & (Y < B) & inside, shade, 1.0).astype(np.float32)
    new = new * chans(shade)
    # the lashes, mirrored at the edge to point down, where darker than the lid's skin
    hang = (Y >= E) & (Y < E + tn.hang * tall)
    lash_px = sample(crop, U - (Y - E))
    lum_src = luma(here) if here.ndim == 3 else here
    skin_lum = float(np.median(lum_src[skin_band])) if skin_band.sum() > 8 else float(np.median(lum_src))
    lash_band = (Y > U - lash) & (Y < U) & inside
    darkest = float(np.percentile(lum_src[lash_band], 5)) if lash_band.sum() > 8 else 0.0
    lash_lum = luma(lash_px) if lash_px.ndim == 3 else lash_px
    alpha = np.clip((skin_lum - lash_lum) / max(0.7 * (skin_lum - darkest), 0.02 * skin_lum, 1e-3), 0.0, 1.0)
    alpha = (alpha * share * hang * np.clip(1.0 - (Y - E) / (tn.hang * tall), 0.0, 1.0)).astype(np.float32)
    new = new * chans(1 - alpha) + lash_px * chans(alpha)
    # the lash line along the edge, as dark as the photo's own, with its lashes' grain (lid_lashes)
    if eye.lashes is not None:
        cols = np.clip(np.rint(X - eye.xs[0]), 0, len(eye.xs) - 1).astype(int)
        strands = strands_at(lash_grain(crop, tall, tn), eye.to_photo, (sx0, sy0), X, Y, U, E,
                             -1.0 if eye.side == 0 else 1.0, tall, tn)
        new = draw_lash_line(new, Y, E, share * inside, eye.lashes[cols], strands, line_w, tall, roots, tn)
    # the map's steps (the lid's edge, the roots' top, the lower lid's edge) softened to the
    # photo's own focus: a pixel and a half across, where they lie
    steps = np.zeros_like(Y)
    for at in (E, lid_end, Lp):
        steps = np.maximum(steps, np.exp(-(((Y - at) / tn.edge_soft) ** 2)))
    steps = (steps * inside * np.clip(d / roots, 0.0, 1.0)).astype(np.float32)
    new = new * chans(1 - steps) + cv2.GaussianBlur(new, (0, 0), tn.edge_soft) * chans(steps)
    drawn_here = ((Y >= T) & (Y < B) & inside) | (alpha > 0)
    new = np.where(chans(drawn_here), new, here)
    out[y0:y1, x0:x1] = np.clip(np.rint(new * unit), 0, unit).astype(src.dtype)
    corner_lashes_as_skin(out, eye, a, (skin_lum, darkest), tn)
