"""Clips made from a still photo under a known, smooth camera motion, and the temporal
stability measure that undoes it (tests and ``bench/bench_video.py``).

:func:`camera` gives, per frame, the affine from photo to frame pixels (a slow pan, zoom and a
small roll, all smooth in time); :func:`write_clip` renders a clip with an optional tone as its
audio; :func:`temporal_change` warps every frame back into the photo's frame and measures the
mean absolute change from one frame to the next inside a region, so camera motion does not
count, only what changed on the face itself.
"""

from __future__ import annotations

import fractions
import math

import cv2
import numpy as np

from faceedit.models.request import EditRequest
from faceedit.video.container import require_av


def camera(n: int, photo: tuple[int, int], size: tuple[int, int], *, pan: float = 0.06,
           zoom: float = 0.08, roll: float = 3.0, centre: tuple[float, float] | None = None) -> list[np.ndarray]:
    """Per frame the (2, 3) affine photo pixel -> frame pixel: the frame shows the photo around
    ``centre`` (default its middle), panning by ``pan`` of the photo's side, zooming by a factor
    up to 1 + ``zoom`` and rolling by up to ``roll`` degrees, each along a half cosine (smooth,
    no jumps). ``photo``: (h, w); ``size``: the frame's (w, h)."""
    ph, pw = photo
    w, h = size
    cx, cy = centre if centre is not None else (pw / 2, ph / 2)
    base = min(w / pw, h / ph) * 1.1
    out = []
    for i in range(n):
        s = 0.5 - 0.5 * math.cos(math.pi * i / max(n - 1, 1))  # 0 -> 1 smoothly
        k = base * (1 + zoom * s)
        a = math.radians(roll * (2 * s - 1))
        px, py = cx + pan * pw * (s - 0.5), cy + 0.5 * pan * ph * (s - 0.5)
        c, sn = math.cos(a) * k, math.sin(a) * k
        m = np.array([[c, -sn, 0.0], [sn, c, 0.0]])
        m[:, 2] = np.array([(w - 1) / 2, (h - 1) / 2]) - m[:, :2] @ np.array([px, py])
        out.append(m)
    return out


def render(photo: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The frame the camera ``matrix`` sees of ``photo`` (reflected borders)."""
    return cv2.warpAffine(photo, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def write_clip(path: str, photo: np.ndarray, n: int = 36, size: tuple[int, int] = (192, 144), *,
               fps: int = 25, tone: float | None = 440.0, hide: tuple[int, int] | None = None,
               codec: str = "libx264", rotation: int = 0, vfr: bool = False, crf: int = 18,
               cut_at: int | None = None, other: np.ndarray | None = None,
               photos=None) -> list[np.ndarray]:
    """Write an ``n``-frame clip of ``photo`` under :func:`camera`'s motion; returns the camera
    matrices. ``tone``: a sine of that frequency as AAC (Opus in WebM) audio; ``hide`` (a, b):
    frames a..b-1 show a blurred, face-free version of the photo (the face leaves and comes
    back); ``cut_at``: from that frame on the clip shows ``other``; ``rotation``: the display
    rotation stored (frames are written turned so they display upright); ``vfr``: every other
    gap between frames is doubled (a variable frame rate); ``photos``: a function frame number
    -> the photo that frame shows (same size as ``photo``: e.g. :func:`talking`)."""
    av = require_av()
    mats = camera(n, photo.shape[:2], size)
    blank = cv2.GaussianBlur(photo, (0, 0), 25) if hide else None
    with av.open(path, "w") as c:
        v = c.add_stream(codec, rate=fps)
        w, h = size if rotation % 180 == 0 else size[::-1]
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.time_base = v.codec_context.time_base = fractions.Fraction(1, fps * 2)
        if codec == "libx264":
            v.options = {"crf": str(crf), "preset": "veryfast"}
        if rotation:
            v.set_display_rotation(rotation)
        a = None
        if tone:
            a = c.add_stream("libopus" if path.endswith(".webm") else "aac", rate=48000)
            a.layout = "mono"
        pts = 0
        for i, m in enumerate(mats):
            src = photo if photos is None else photos(i)
            if hide and hide[0] <= i < hide[1]:
                src = blank
            if cut_at is not None and i >= cut_at and other is not None:
                src = other
            rgb = render(src, m, size)
            k = (rotation // 90) % 4
            rgb = np.ascontiguousarray(np.rot90(rgb, -k)) if k else rgb
            f = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            f.pts = pts
            pts += 2 if not vfr or i % 2 == 0 else 4
            for p in v.encode(f):
                c.mux(p)
        for p in v.encode(None):
            c.mux(p)
        if a is not None and tone:
            seconds = pts / (2 * fps)
            rate = 48000
            t = np.arange(int(seconds * rate)) / rate
            samples = (0.3 * np.sin(2 * np.pi * tone * t)).astype(np.float32)[None]
            chunk = 960
            for j in range(0, samples.shape[1], chunk):
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, j:j + chunk]),
                                                format="flt", layout="mono")
                af.sample_rate, af.pts = rate, j
                for p in a.encode(af):
                    c.mux(p)
            for p in a.encode(None):
                c.mux(p)
    return mats


def talking(stage, photo: np.ndarray, face, period: int = 8, amount: float = 2.5):
    """A function frame number -> ``photo`` with the face's jaw dropped and lips parted by the
    stage (AU26, AU25) along a cosine of ``period`` frames: a mouth that opens and closes as in
    speech. ``face``: the photo's face with its landmarks and mesh."""
    cache: dict[int, np.ndarray] = {}

    def frame(k: int) -> np.ndarray:
        k %= period
        if k not in cache:
            a = amount * (0.5 - 0.5 * math.cos(2 * math.pi * k / period))
            cache[k] = stage.edit_photo(photo, [face], EditRequest.of("keep", 1.0, aus={26: a, 25: min(2 * a, 5.0)}))[0]
        return cache[k]

    return frame


def undo_camera(frame: np.ndarray, matrix: np.ndarray, photo_shape: tuple[int, int]) -> np.ndarray:
    """The frame warped back into the photo's pixels (float32)."""
    h, w = photo_shape
    inv = cv2.invertAffineTransform(matrix)
    return cv2.warpAffine(frame.astype(np.float32), inv, (w, h), flags=cv2.INTER_LINEAR)


def temporal_change(frames: list[np.ndarray], mats: list[np.ndarray], photo_shape: tuple[int, int],
                    box: tuple[int, int, int, int]) -> np.ndarray:
    """Per pair of consecutive frames, the mean absolute difference (grey levels, RGB mean)
    inside ``box`` (x0, y0, x1, y1 in photo pixels) once both are warped back into the photo."""
    x0, y0, x1, y1 = box
    prev, out = None, []
    for f, m in zip(frames, mats):
        u = undo_camera(f, m, photo_shape)[y0:y1, x0:x1]
        if prev is not None:
            out.append(float(np.abs(u - prev).mean()))
        prev = u
    return np.array(out)
