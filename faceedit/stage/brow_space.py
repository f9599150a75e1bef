"""A raised brow's space lit: the skin between a brow the move raises and its eye's upper lid.

The warp raises a brow by stretching the skin under it: the band between the brow's hairs and
the upper lid (in a deep-set or hooded eye the socket's shadow and the fold) is carried whole,
stretched taller, as dark as it was. In photographs the space a raised brow opens is lit: the
skin there unfolds and comes out from under the brow's shadow (the brow-lid space's light over
the forehead's, read by ``bench/measure_brow_space.py``: Yale's subjects 0.43 at rest, 0.64
surprised; JAFFE's 1.06 and 1.11). Stretched dark, a surprised face's brows read as heavy dark
arches over the eyes, their inner heads as dark columns down to the eyes' corners (web img35,
img37: a frowning face made surprised).

:func:`lift_brow_space` eases that band's light toward the forehead's, in proportion to how much
higher the move sets the brow over its eye's corners: its smooth light and colour toward the
forehead's where much darker (a socket's moderate shade, which gives the eye its depth, stays), the
skin's grain kept.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import luma_of, pixel_max
from faceedit.stage.moves import face_frame
from faceedit.stage.tuning_face import BrowsTuning

#: Each brow (its points, inner end last for the image's left brow) and its eye's upper lid,
#: corner to corner.
SPACES = (((17, 18, 19, 20, 21), (36, 37, 38, 39)),
          ((22, 23, 24, 25, 26), (42, 43, 44, 45)))


def space_rise(src: np.ndarray, lm: np.ndarray, brow: tuple[int, ...], lid: tuple[int, ...]) -> float:
    """How much higher (a share) the move sets the brow's middle (its three middle points) over
    its eye's corners (the ends of ``lid``, which a blink or a sleepy lid leaves where they are):
    ``lm`` (68, 2) where the move put the points, ``src`` where they were; along the face's down
    direction."""
    corners = [lid[0], lid[-1]]
    def height(p: np.ndarray) -> float:
        _, down, _ = face_frame(p)
        return float((p[corners].mean(0) - p[list(brow[1:4])].mean(0)) @ down)
    before = height(np.asarray(src, np.float64))
    return height(np.asarray(lm, np.float64)) / before - 1.0 if before > 1e-6 else 0.0


def _space_edges(top: np.ndarray, bottom: np.ndarray, down: np.ndarray, n: int = 16
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """The space's upper and lower edges at ``n`` common places across the face (where both the
    ``top`` polyline, under the brow, and the ``bottom`` one, over the lid, reach), the upper one
    nowhere below the lower one (a brow's hairs reaching the lid leave no space there); None
    where they share no stretch across or leave no space at all."""
    across = np.array([-down[1], down[0]])
    def along(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, h = c @ across, c @ down
        order = np.argsort(a)
        return a[order], h[order]
    (ta, th), (ba, bh) = along(top), along(bottom)
    lo, hi = max(ta[0], ba[0]), min(ta[-1], ba[-1])
    if hi - lo < 1.0:
        return None
    a = np.linspace(lo, hi, n)
    upper, lower = np.interp(a, ta, th), np.interp(a, ba, bh)
    upper = np.minimum(upper, lower)
    if float((lower - upper).max()) < 1.0:
        return None
    def back(h: np.ndarray) -> np.ndarray:
        return a[:, None] * across[None] + h[:, None] * down[None]
    return back(upper), back(lower)


def _lid_line(lm: np.ndarray, brow: tuple[int, ...], lid: tuple[int, ...], down: np.ndarray) -> np.ndarray:
    """The upper lid's points (``lid``, corner to corner) run on level with its outer corner (the one
    farther from the nose's bridge, point 27) out to the brow's outer end, where that reaches past
    it across the face: the space a raised brow opens spans its tail too, over the socket beside
    the eye (a thick brow's tail stretched down to the corner was a dark smear there)."""
    across = np.array([-down[1], down[0]])
    pts = lm[list(lid)]
    def outer(ends: tuple[int, int]) -> int:
        return max(ends, key=lambda i: float(np.linalg.norm(lm[i] - lm[27])))
    c, e = outer((lid[0], lid[-1])), outer((brow[0], brow[-1]))
    away = np.sign(float((lm[c] - pts.mean(0)) @ across))
    past = float((lm[e] - lm[c]) @ across) * away
    if past <= 0:
        return pts
    extra = (lm[c] + past * away * across)[None]
    return np.vstack([extra, pts]) if c == lid[0] else np.vstack([pts, extra])


def _skin_hued(smooth: np.ndarray, skin: np.ndarray, hue: tuple[float, float]) -> np.ndarray:
    """1 where ``smooth`` (RGB, any scale) has the hue of ``skin`` (an RGB colour) within
    ``hue[0]`` degrees (CIE a*b*) or hardly any colour (a grey photo's), falling to 0 at
    ``hue[1]``: eye shadow, a make-up's purple or blue on the lid, is no socket's shadow."""
    top = max(float(skin.max()), float(smooth.max()), 1.0)
    lab = cv2.cvtColor(np.clip(smooth / top, 0, 1).astype(np.float32), cv2.COLOR_RGB2LAB)
    ref = cv2.cvtColor(np.clip(skin / top, 0, 1).astype(np.float32)[None, None], cv2.COLOR_RGB2LAB)[0, 0]
    if float(np.hypot(ref[1], ref[2])) < 4.0:
        return np.ones(smooth.shape[:2], np.float32)
    turn = np.abs((np.degrees(np.arctan2(lab[..., 2], lab[..., 1]) - np.arctan2(ref[2], ref[1])) + 180.0) % 360.0 - 180.0)
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    return np.where(chroma < 4.0, 1.0, np.clip((hue[1] - turn) / max(hue[1] - hue[0], 1e-6), 0.0, 1.0)).astype(np.float32)


def lift_brow_space(pixels: np.ndarray, src: np.ndarray, lm: np.ndarray, depths: np.ndarray | None,
                    amount: float = 1.0, tuning: BrowsTuning | None = None, in_place: bool = False) -> np.ndarray:
    """``pixels`` (the warped photo, (H, W, C)) with each raised brow's space lit: between the
    brow's hairs (its points, ``lm`` (68, 2) where the move put them, ``depths`` (2,) eye widths
    under them, :func:`~faceedit.stage.brow_band.brow_depths`; ``space_margins[0]`` more) and its
    upper lid (``space_margins[1]`` eye widths above it), feathered over ``space_feather``, the
    light (its blur over ``space_blur`` eye widths) goes ``space_lift[0]`` of the way up to
    ``space_lift[1]`` of the forehead's (its median colour ``space_forehead`` eye widths above
    the brow), and its colour with it (the grain, the pixels less their blur, kept), times the
    space's rise (:func:`space_rise` against ``src``, the points before the move) from none at
    ``space_rise[0]`` to all at ``space_rise[1]``, times ``amount``; only where its light is
    under that and its hue the forehead's (within ``space_hue``: :func:`_skin_hued`); past the lid's
    outer corner the space runs on under the brow's tail (:func:`_lid_line`). A new array, or ``pixels``
    itself with ``in_place`` (or where no brow rises)."""
    tn = tuning if tuning is not None else BrowsTuning()
    lm = np.asarray(lm, np.float64)
    lift, level = tn.space_lift
    if pixels.ndim != 3 or lift <= 0 or amount <= 0:
        return pixels
    out = pixels
    _, down, _ = face_frame(lm)
    for k, (brow, lid) in enumerate(SPACES):
        low, high = tn.space_rise
        share = min(max((space_rise(src, lm, brow, lid) - low) / max(high - low, 1e-6), 0.0), 1.0) * amount
        if share <= 0:
            continue
        width = float(np.linalg.norm(lm[lid[-1]] - lm[lid[0]]))
        depth = (float(depths[k]) if depths is not None else 0.25) + tn.space_margins[0]
        edges = _space_edges(lm[list(brow)] + depth * width * down,
                             _lid_line(lm, brow, lid, down) - tn.space_margins[1] * width * down, down)
        if edges is None:
            continue
        top, bottom = edges
        feather = tn.space_feather * width
        fore_at = lm[list(brow[1:4])] - np.array(tn.space_forehead)[:, None, None] * width * down
        pts = np.vstack([top, bottom, fore_at.reshape(-1, 2)])
        reach = int(np.ceil(3 * max(feather, tn.space_blur * width))) + 2
        x0, y0 = np.maximum(np.floor(pts.min(0)).astype(int) - reach, 0)
        x1, y1 = np.minimum(np.ceil(pts.max(0)).astype(int) + reach + 1, (pixels.shape[1], pixels.shape[0]))
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        box = out[y0:y1, x0:x1].astype(np.float32)
        rgb = box[..., :3]  # (an alpha channel as it is)
        fy = np.clip(np.round(fore_at[..., 1]).astype(int) - y0, 0, y1 - y0 - 1).ravel()
        fx = np.clip(np.round(fore_at[..., 0]).astype(int) - x0, 0, x1 - x0 - 1).ravel()
        forehead = np.median(rgb[fy, fx], axis=0)
        poly = np.vstack([top, bottom[::-1]]) - [x0, y0]
        drawn = np.zeros(rgb.shape[:2], np.float32)
        cv2.fillPoly(drawn, [np.round(poly * 8).astype(np.int32)], 1.0, cv2.LINE_AA, shift=3)
        mask = cv2.GaussianBlur(drawn, (0, 0), max(feather, 0.5))
        smooth = cv2.GaussianBlur(rgb, (0, 0), max(tn.space_blur * width, 0.5))
        # the smooth light and colour toward the forehead's where darker than ``level`` of it, the grain kept
        fore_light = level * float(luma_of(forehead[None, None]).ravel()[0])
        darker = np.clip((fore_light - luma_of(smooth)) / max(0.1 * fore_light, 1e-6), 0.0, 1.0)  # (no step)
        weight = (lift * share) * mask * darker * _skin_hued(smooth, forehead, tn.space_hue)
        rgb += weight[..., None] * (level * forehead[None, None] - smooth)
        if out is pixels and not in_place:
            out = pixels.copy()
        out[y0:y1, x0:x1] = np.clip(np.round(box), 0, pixel_max(pixels.dtype)).astype(pixels.dtype)
    return out
