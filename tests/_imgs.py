"""Synthetic image factories for tests (offline, deterministic, small unless asked otherwise)."""

from __future__ import annotations

import os
import struct
import zlib
from functools import lru_cache

import cv2
import numpy as np

RED = (255, 0, 0)


def gradient(height: int = 48, width: int = 64, dtype: type = np.uint8) -> np.ndarray:
    """(H, W, 3) RGB with distinct, smoothly varying channels; full range of ``dtype``."""
    top = np.iinfo(dtype).max
    y, x = np.mgrid[0:height, 0:width]
    red = x / max(width - 1, 1)
    green = y / max(height - 1, 1)
    blue = (x + y) / max(width + height - 2, 1)
    return np.rint(np.dstack([red, green, 1 - blue]) * top).astype(dtype)


def marker(height: int = 40, width: int = 60, size: int = 12) -> np.ndarray:
    """(H, W, 3) black RGB with a ``size`` x ``size`` red square in the top-left corner."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:size, :size] = RED
    return pixels


def marker_corner(pixels: np.ndarray, size: int = 12) -> str:
    """Which corner ('tl', 'tr', 'bl', 'br') of an RGB image holds the red marker."""
    h, w = pixels.shape[:2]
    corners = {
        "tl": pixels[:size, :size],
        "tr": pixels[:size, w - size :],
        "bl": pixels[h - size :, :size],
        "br": pixels[h - size :, w - size :],
    }
    return max(
        corners, key=lambda k: float(corners[k][..., 0].mean()) - float(corners[k][..., 1:].mean())
    )


@lru_cache(maxsize=1)
def astronaut() -> np.ndarray:
    """skimage's astronaut photo (512 x 512 RGB uint8), bundled with scikit-image."""
    from skimage import data

    image = data.astronaut()
    image.flags.writeable = False
    return image


@lru_cache(maxsize=1)
def astronaut_face():
    """The astronaut's face as dlib finds it (the tests' fixed landmarks)."""
    from faceedit.faces.detectors import get_detector

    return max(get_detector("dlib").detect(astronaut()), key=lambda f: f.area)


def group_t1_face(index: int):
    """insightface's group_t1 (RGB) and its face ``index`` by area (MediaPipe's); skips the test
    where the photo is not at hand (the wheel not fetched and no network)."""
    import pytest

    from faceedit.eval import world

    try:
        paths = world.fetch(timeout=30.0)
    except world.WorldUnavailable as e:
        pytest.skip(f"the world photos are not at hand: {e}")
    from faceedit.faces.detectors import get_detector

    rgb = world.read_rgb(paths["group_t1"])
    return rgb, sorted(get_detector("mediapipe").detect(rgb), key=lambda f: -f.area)[index]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_solid_png(
    path: str | os.PathLike[str], width: int, height: int, rgb: tuple[int, int, int]
) -> None:
    """A solid-colour 8-bit RGB PNG of any size, written row by row (memory: one row)."""
    row = b"\0" + bytes(rgb) * width
    compressor = zlib.compressobj(1)
    with open(path, "wb") as f:
        f.write(
            b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        )
        idat = bytearray()
        for _ in range(height):
            idat += compressor.compress(row)
        idat += compressor.flush()
        f.write(_png_chunk(b"IDAT", bytes(idat)))
        f.write(_png_chunk(b"IEND", b""))


def write_png_header_only(path: str | os.PathLike[str], width: int, height: int) -> None:
    """A PNG that declares ``width`` x ``height`` but holds no pixel data at all."""
    with open(path, "wb") as f:
        f.write(
            b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        )
        f.write(_png_chunk(b"IEND", b""))


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def cmyk_icc_profile(lab: tuple[int, int, int] = (88, -86, 83)) -> bytes:
    """A minimal valid CMYK -> Lab ICC v2 profile that maps *every* colour to ``lab``.

    The default Lab is a saturated green, so an image converted through this profile is
    green whatever its CMYK values: proof the embedded profile was used.
    """
    lightness, a, b = lab
    colour = bytes([round(lightness * 255 / 100), a + 128, b + 128])
    identity_matrix = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    a2b0 = (
        b"mft1"
        + b"\0" * 4
        + bytes([4, 3, 2, 0])
        + identity_matrix
        + bytes(range(256)) * 4  # input curves
        + colour * 2**4  # 2-point grid over 4 inputs
        + bytes(range(256)) * 3  # output curves
    )
    text = b"test CMYK\0"
    desc = b"desc" + b"\0" * 4 + struct.pack(">I", len(text)) + text + b"\0" * (4 + 4 + 2 + 1 + 67)
    white = b"XYZ " + b"\0" * 4 + _s15(0.9642) + _s15(1.0) + _s15(0.8249)
    tags = [(b"A2B0", a2b0), (b"desc", desc), (b"wtpt", white)]
    offset = 128 + 4 + 12 * len(tags)
    table = body = b""
    for signature, data in tags:
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    header = (
        struct.pack(">I", offset + len(body))
        + b"lcms"
        + b"\x02\x10\x00\x00"
        + b"prtr"
        + b"CMYK"
        + b"Lab "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 28
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


#: Eye centres of :func:`drawn_face`.
EYES = ((170, 90), (310, 90))


def drawn_face(skin=(196, 152, 128), lip=(168, 92, 90), size=(360, 480), seed=0,
               white=(232, 226, 222)) -> np.ndarray:
    """A skin-coloured canvas with grain, two eyes (whites and irises, :data:`EYES`) and an
    elliptic pair of lips centred at (240, 200)."""
    rng = np.random.default_rng(seed)
    img = np.empty((*size, 3), np.float64)
    img[:] = skin
    for c in EYES:
        cv2.ellipse(img, c, (30, 13), 0, 0, 360, white, -1)
        cv2.circle(img, c, 10, (70, 50, 40), -1)
    cv2.ellipse(img, (240, 200), (115, 48), 0, 0, 360, lip, -1)
    img = cv2.GaussianBlur(img, (0, 0), 2.0) + rng.normal(0, 3.0, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def png_bytes(pixels: np.ndarray) -> bytes:
    """``pixels`` encoded as a PNG file's bytes."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def two_astronauts() -> np.ndarray:
    """Two astronauts side by side, the right one smaller (face 1, numbered largest first)."""
    from PIL import Image

    left = np.asarray(astronaut())
    right = np.asarray(Image.fromarray(left).resize((400, 400), Image.BICUBIC))
    out = np.zeros((512, 912, 3), np.uint8)
    out[:, :512] = left
    out[56:456, 512:] = right
    return out


def mouth_opening(x: float, y: float, width: float, rise: float, drop: float, pad: int):
    """An open mouth's inner-lip curves from ``(x, y)`` across ``width`` px, the upper one bowed up
    by ``rise`` px, the lower down by ``drop`` ((15, 2) px each), the opening's box ``(x0, y0, x1,
    y1)`` (``pad`` px round it, one more at the far sides) and its coverage over the box ((h, w)
    float32, anti-aliased)."""
    from faceedit.stage.cut_curves import opening_polygon

    t = np.linspace(0.0, 1.0, 15)
    up = np.c_[x + width * t, y - rise * np.sin(np.pi * t)]
    lo = np.c_[x + width * t, y + drop * np.sin(np.pi * t)]
    poly = opening_polygon(up, lo)
    x0, y0 = np.floor(poly.min(0)).astype(int) - pad
    x1, y1 = np.ceil(poly.max(0)).astype(int) + pad + 1
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(m, [np.round((poly - [x0, y0]) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    return up, lo, (int(x0), int(y0), int(x1), int(y1)), m.astype(np.float32) / 255.0


def drawn_open_mouth():
    """:func:`drawn_face` with an open mouth's curves over its lips (:func:`mouth_opening`): the
    face, the upper and lower inner-lip curves, the opening's box, its coverage over the box and
    each column's last row inside the opening (the box's rows)."""
    up, lo, roi, op = mouth_opening(150, 200, 180, 4.5, 25.5, 4)
    bottom = (np.arange(op.shape[0])[:, None] * (op > 0.5)).max(0)
    return drawn_face(), up, lo, roi, op, bottom


def closed_mouth() -> tuple[np.ndarray, np.ndarray]:
    """A flat skin patch (200 x 200 RGB uint8) with closed lips and their 68 points: landmarks
    48-59 an ellipse 60 px wide (48 the left corner, then over the top), eyes 80 px apart, and a
    dark line 2 px thick between the lips along y = 140 (luma about 100)."""
    lm = np.zeros((68, 2))
    lm[36], lm[45] = (60, 60), (140, 60)
    a = np.linspace(np.pi, -np.pi, 12, endpoint=False)
    lm[48:60] = np.c_[100 + 30 * np.cos(a), 140 - 8 * np.sin(a)]
    lm[60:68] = np.c_[np.linspace(73, 127, 8), np.full(8, 140.0)]
    img = np.full((200, 200, 3), (200, 160, 140), np.uint8)
    cv2.fillPoly(img, [np.round(lm[48:60]).astype(np.int32)], (170, 90, 90))
    img[139:141, 71:130] = (130, 85, 85)
    return img, lm


def closed_mean_face() -> np.ndarray:
    """The stage's mean face (68 points), lips closed, 200 px between the eyes, tilted 10 degrees."""
    from faceedit.models.loading import load_model
    from faceedit.stage.moves import face_frame
    from faceedit.stage.state import close_lips

    lm = load_model("stage").model._a("mean_shape").reshape(68, 2).astype(np.float64)
    lm = close_lips((lm - lm.mean(0)) * 200.0 / face_frame(lm)[2])
    t = np.deg2rad(10.0)
    return lm @ np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]]) + 400.0
