"""Eyebrows: ``--attr brows=bushy|thin``.

Each brow is found along its five 68-point landmarks: in a band about its line, how much darker
than the skin above and below it each pixel is (:func:`browness`, 0 skin .. 1 the brow's dark
core). Then, along the brow's normal (across its hairs' direction of growth, which runs along
the brow):

* **bushy**: the brow's own pixels are copied a little above and below itself (shifted copies
  laid where they are darker than what is there), so the brow grows with its own hairs'
  texture, and its hairs are made a little denser (darker in proportion to the browness);
* **thin**: the brow is pressed toward its own centre line (a warp across it: its hairs'
  texture kept, narrower), and the skin just above and below it is pulled in over the edges it
  leaves.

Only a box round each brow changes; strength mixes the change in (0: the photo as it is).
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.conditions import BROW_STYLES
from faceedit.faces.landmarks import eye_distance
from faceedit.pixels import pixel_max
from faceedit.stage.matting import unit
from faceedit.stage.tuning_face import BrowsTuning

assert BROW_STYLES == ("bushy", "thin"), "the styles' names are declared in faceedit.conditions"


def _normal(brow: np.ndarray) -> np.ndarray:
    """The brow's unit normal, pointing down the face (from its line toward the eye)."""
    t = brow[-1] - brow[0]
    n = np.array([-t[1], t[0]]) / max(float(np.linalg.norm(t)), 1e-6)
    return n if n[1] > 0 else -n


def _shift(img: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``img`` moved by ``v`` px (x, y), edges replicated."""
    m = np.array([[1, 0, v[0]], [0, 1, v[1]]], np.float32)
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def browness(rgb: np.ndarray, line: np.ndarray, d: float, tuning: BrowsTuning | None = None) -> np.ndarray:
    """(h, w) 0..1 how much of a brow each pixel of ``rgb`` (a box round it, float32 RGB 0..1) is:
    its luma below the skin's (read beside the brow, ``skin_ring``) as a share of the brow's
    darkest, within ``band`` of the brow's ``line`` (box px; ``tuning``'s, default its defaults)."""
    tn = tuning if tuning is not None else BrowsTuning()
    y = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    h, w = y.shape
    pts = np.round(line * 16).astype(np.int32)

    def band(half: float) -> np.ndarray:
        m = np.zeros((h, w), np.uint8)
        cv2.polylines(m, [pts], False, 1, max(1, int(round(2 * half * d))), cv2.LINE_8, shift=4)
        return m > 0

    inner = band(tn.band)
    ring = band(tn.skin_ring[1]) & ~band(tn.skin_ring[0])
    if not inner.any() or not ring.any():
        return np.zeros((h, w), np.float32)
    skin = float(np.median(y[ring]))
    core = band(0.5 * tn.band)  # the brow's darkest, read near its line (hair may hang into the band)
    dark = float(np.percentile(y[core], 5)) if core.any() else float(np.percentile(y[inner], 5))
    b = np.clip((skin - y) / max(skin - dark, 0.04), 0.0, 1.0)
    soft = cv2.GaussianBlur(band(tn.band).astype(np.float32), (0, 0), max(0.5, 0.02 * d))
    return (b * soft).astype(np.float32)


def _bushy(rgb: np.ndarray, b: np.ndarray, n: np.ndarray, d: float, tn: BrowsTuning) -> np.ndarray:
    out = rgb.copy()
    have = b.copy()
    for s in tn.bushy_shifts:
        v = n * s * d
        moved, moved_b = _shift(rgb, v), _shift(b, v)
        a = np.clip(moved_b - have, 0.0, 1.0)[..., None]
        out = out + a * (moved - out)
        have = np.maximum(have, moved_b)
    return out * (1.0 - tn.bushy_darken * have[..., None])


def _across(shape: tuple[int, int], line: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each pixel of a box of ``shape``: its signed distance across the brow's ``line`` (px,
    positive down the face), the unit normal there ((h, w, 2)) and how far inside the brow's
    length it lies (0 beyond its ends .. 1)."""
    t = np.linspace(0.0, 1.0, 64)
    seg = np.cumsum(np.r_[0.0, np.linalg.norm(np.diff(line, axis=0), axis=1)])
    dense = np.stack([np.interp(t * seg[-1], seg, line[:, k]) for k in (0, 1)], 1)
    tangent = np.gradient(dense, axis=0)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-9)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1)
    normal *= np.where(normal[:, 1:] < 0, -1.0, 1.0)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    xy = np.stack([xx, yy], -1)
    dist = ((xy[:, :, None, :] - dense[None, None]) ** 2).sum(-1)
    j = dist.argmin(-1)
    u = ((xy - dense[j]) * normal[j]).sum(-1)
    inside = np.clip(np.minimum(t[j], 1.0 - t[j]) / 0.08, 0.0, 1.0)
    return u, normal[j], inside


def _thin(rgb: np.ndarray, b: np.ndarray, line: np.ndarray, d: float, tn: BrowsTuning) -> np.ndarray:
    """The brow pressed toward its own centre line (its hairs' texture kept, narrower across the
    brow), the skin beside it pulled in to fill the edges it leaves."""
    u, normal, inside = _across(b.shape, line)
    weight = b * (np.abs(u) < tn.band * d)
    centre = float((u * weight).sum() / max(float(weight.sum()), 1e-6))
    v = u - centre
    half = tn.thin_half * d
    # the source across the brow: v / thin_ratio within its half width, back to v at twice it
    scale = 1.0 / tn.thin_ratio - 1.0
    pull = v * scale * np.clip(2.0 - np.abs(v) / half, 0.0, 1.0) * np.clip(np.abs(v) / half, 0, 1) \
        + v * scale * (np.abs(v) < half) * (1 - np.clip(np.abs(v) / half, 0, 1))
    pull = pull * inside
    h, w = b.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    mx = (xx + pull * normal[..., 0]).astype(np.float32)
    my = (yy + pull * normal[..., 1]).astype(np.float32)
    return cv2.remap(rgb, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def restyle(pixels: np.ndarray, lm: np.ndarray, style: str, strength: float = 1.0,
            tuning: BrowsTuning | None = None) -> np.ndarray:
    """``pixels`` ((H, W, 3) uint8/uint16 RGB, unchanged) with the brows of the face at 68
    landmarks ``lm`` made ``style`` (:data:`BROW_STYLES`), ``strength`` (0..1) of the way, as
    ``tuning`` draws them (:class:`~faceedit.stage.tuning_face.BrowsTuning`, default its defaults)."""
    tn = tuning if tuning is not None else BrowsTuning()
    out = pixels.copy()
    if strength <= 0:
        return out
    lm = np.asarray(lm, np.float64)
    d = eye_distance(lm)
    h, w = pixels.shape[:2]
    top = pixel_max(pixels.dtype)
    for idx in (slice(17, 22), slice(22, 27)):
        brow = lm[idx]
        pad = 0.4 * d
        x0, y0 = (int(np.floor(v - pad)) for v in brow.min(0))
        x1, y1 = (int(np.ceil(v + pad)) for v in brow.max(0))
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        rgb = unit(out[y0:y1, x0:x1])
        line = brow - [x0, y0]
        b = browness(rgb, line, d, tn)
        n = _normal(brow)
        new = _bushy(rgb, b, n, d, tn) if style == "bushy" else _thin(rgb, b, line, d, tn)
        mixed = rgb + float(min(strength, 1.0)) * (new - rgb)
        changed = np.abs(new - rgb).max(-1) > 0
        region = np.clip(np.rint(mixed * top), 0, top).astype(pixels.dtype)
        region[~changed] = out[y0:y1, x0:x1][~changed]
        out[y0:y1, x0:x1] = region
    return out
