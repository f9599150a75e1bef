"""The fine lines of a closed lid's skin: its crease and the wrinkles along it.

A closed upper lid is not smooth: its skin, unfolded from the crease, keeps the crease as a thin
soft line where the lid meets the skin under the brow (a closed eye's lid is as tall as the
crease lies above the lash line), and the thin lid skin between the crease and the lashes lies in
fine lines that run along the lid, roughly parallel to its edge. :func:`draw_lid_lines` draws
both over a closed lid drawn by :func:`faceedit.stage.lids.close_lids`, in the eye's frame
(``x`` along the eye line, ``y`` down the face):

* the crease: a soft dark line ``crease_line_dark`` of the luma deep at its middle, a Gaussian
  of ``crease_line_width`` eye heights (at least ``crease_line_px``), the skin above it in its
  shadow (``crease_shade`` of that, fading over ``crease_shade_reach``), at the crease found on
  the photo where that lies ``crease_height`` eye heights above the closed lid's edge (else at
  the nearer end of that range), only where the photo's crease was found (not on the top of its
  search, ``crease_found``: there the eye shows none, under a hooded lid or in a deep socket's
  shadow, and a line drawn there reads as the upper lid of an open eye), fading towards the corners (wholly over ``line_taper`` of the
  eye's half width) and, along the eye, varying in depth and wandering a little (a seeded
  smooth field: a drawn line is never quite even);
* the wrinkles: a seeded field of white noise blurred ``wrinkle_length`` eye heights along the lid
  and ``wrinkle_across`` px across it, laid along lines between the lid's edge and its crease
  (each follows their curve), none at the lid's edge, ``wrinkles`` of the luma strong from
  ``wrinkle_clear`` of the way up (lines along the lash line read as an eye's opening), half that
  at the crease, in patches (their strength varies over the lid: broken lines), darkening more than it
  lightens (a wrinkle is a groove). The stage draws none (``wrinkles`` 0): at the photo's
  pixels they read as horizontal stripes across the whole lid, a stretched texture.

Both scale with the lid's closure; the photo's own pixels are untouched outside the closed lid.
The lower-case names are fields of :class:`~faceedit.stage.tuning_lids.LidsTuning`.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.stage.tuning_lids import LidsTuning


def _smoothstep(v: np.ndarray) -> np.ndarray:
    v = np.clip(v, 0.0, 1.0)
    return v * v * (3 - 2 * v)


def _field(shape: tuple[int, int], along: float, across: float, seed: int) -> np.ndarray:
    """(h, w) seeded white noise blurred ``along`` px along x and ``across`` px along y, to unit spread."""
    noise = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    f = cv2.GaussianBlur(noise, (0, 0), sigmaX=max(along, 0.3), sigmaY=max(across, 0.3), borderType=cv2.BORDER_REFLECT)
    return f / np.float32(max(float(f.std()), 1e-6))


def crease_line(E: np.ndarray, Cd: np.ndarray, tall: float, tn: LidsTuning) -> np.ndarray:
    """The closed lid's crease (frame y per pixel): ``Cd`` (the photo's crease, come down) kept
    within ``crease_height`` eye heights above the lid's edge ``E``."""
    lo, hi = tn.crease_height
    return np.clip(Cd, E - hi * tall, E - lo * tall)


def draw_lid_lines(new: np.ndarray, X: np.ndarray, Y: np.ndarray, E: np.ndarray, Cd: np.ndarray,
                   span: tuple[float, float], tall: float, closed: np.ndarray, tn: LidsTuning,
                   seed: int = 0, found: np.ndarray | float = 1.0, outer_first: bool = True) -> np.ndarray:
    """``new`` ((h, w[, C]) float, unit levels; the eye's box as :func:`faceedit.stage.lids.close_lids`
    draws it) with the closed lid's crease and wrinkles drawn (module notes). ``X``, ``Y``: each
    pixel's eye-frame position; ``E``: the closed lid's edge there; ``Cd``: the photo's crease,
    come down; ``span``: the eye's corners (frame x); ``tall``: the eye's tallest opening (px);
    ``closed``: (h, w) how far the lid is closed there (0..1: the lines' weight); ``seed``: the
    lines' random fields' (fixed by the caller: the same lines on every frame of a video);
    ``found``: how surely the photo's crease was found there (0..1: the crease line's weight);
    ``outer_first``: whether the eye's outer corner is at ``span[0]`` (the fields run from it:
    an eye and its mirror image get the same lines)."""
    if tn.crease_line_dark <= 0 and tn.wrinkles <= 0:
        return new
    xa, xb = span
    half = max((xb - xa) / 2, 1e-6)
    rel = np.abs(X - (xa + xb) / 2) / half
    taper = _smoothstep((1 - rel) / tn.line_taper)
    c = crease_line(E, Cd, tall, tn)
    height = np.maximum(E - c, 1.0)
    v = (E - Y) / height  # 0 at the lid's edge, 1 at its crease
    cols = int(np.ceil(xb - xa)) + 8
    along = np.clip((X - xa if outer_first else xb - X) + 4, 0, cols - 1).astype(np.float32)
    gain = np.zeros(Y.shape, np.float32)
    if tn.crease_line_dark > 0:
        wander = _field((1, cols), tn.wrinkle_length * tall, 0.3, seed)[0]
        depth = _field((1, cols), 0.5 * tn.wrinkle_length * tall, 0.3, seed + 1)[0]
        ix = along.astype(int)
        width = max(tn.crease_line_width * tall, tn.crease_line_px)
        yc = c + 0.5 * width * wander[ix]
        # the line, and above it the skin folding over it, in its shadow
        above = 1 / (1 + np.exp(np.clip((Y - yc) / (0.5 * width), -30, 30)))  # 1 above the line, 0 below
        line = np.exp(-0.5 * ((Y - yc) / width) ** 2) + tn.crease_shade * above * np.exp(
            -np.maximum(yc - Y, 0.0) / (tn.crease_shade_reach * tall))
        line = line * np.clip(1 + 0.2 * depth[ix], 0.5, 1.5)
        gain -= (tn.crease_line_dark * line * taper * found).astype(np.float32)
    if tn.wrinkles > 0:
        rows = int(np.ceil(float(height.max()))) + 8
        field = _field((rows, cols), tn.wrinkle_length * tall, tn.wrinkle_across, seed + 2)
        fy = np.clip(v * float(np.median(height)) + 4, 0, rows - 1).astype(np.float32)
        z = cv2.remap(field, along, fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        z = np.where(z < 0, z, 0.5 * z)  # grooves: darker more than lighter
        on = (v > 0) & (v < 1)
        # broken lines: their strength varies over the lid in patches
        patches = cv2.remap(_field((rows, cols), 0.4 * tall, 0.4 * tall, seed + 3), along, fy,
                            cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        weight = np.where(on, (1 - 0.5 * np.clip(v, 0, 1)) * _smoothstep(v / tn.wrinkle_clear), 0.0) * taper
        weight = weight * np.clip(0.6 + 0.6 * patches, 0.0, 1.5)
        gain += (tn.wrinkles * z * weight).astype(np.float32)
    gain *= closed.astype(np.float32)
    return (new * (1 + (gain[..., None] if new.ndim == 3 else gain))).astype(np.float32)
