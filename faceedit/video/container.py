"""Video files in and out through PyAV (its wheels carry FFmpeg's libraries).

* :class:`VideoReader` demuxes one file in order and yields, in file order, decoded video
  frames (:class:`Frame`: upright RGB, its timestamp) and the other streams' packets untouched
  (:class:`Passthrough`: audio is never decoded).
* :class:`VideoWriter` encodes frames at their own timestamps (a variable frame rate is kept),
  writes the display rotation back, and muxes the passed-through packets into copies of their
  streams (no re-encode: the audio's packets are the input's, byte for byte).

PyAV is an optional dependency (``faceedit[video]``); :func:`require_av` names the extra when it
is missing.
"""

from __future__ import annotations

import contextlib
import fractions
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from faceedit.errors import ImageError, OutputError, UsageError
from faceedit.io.formats import VIDEO_FORMAT_BY_EXT
from faceedit.io.outputs import record_text
from faceedit.log import logger

#: Extension -> the container (PyAV's format name) an output with it is written in.
VIDEO_EXTS = VIDEO_FORMAT_BY_EXT
#: Video codec per output container when ``--video-codec`` is not given.
DEFAULT_CODEC = {"mp4": "libx264", "mov": "libx264", "matroska": "libx264", "webm": "libvpx-vp9",
                 "avi": "libx264", "mpegts": "libx264", "flv": "libx264", "3gp": "libx264"}
DEFAULT_CRF = 20
DEFAULT_PRESET = "superfast"  # x264's: encodes faster than veryfast, files about 1.6x larger
#: The speed presets of x264 and x265 (the same names), fastest first.
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
           "placebo")


def require_av():
    """The ``av`` module, or a UsageError naming the extra that installs it."""
    try:
        import av
    except ImportError:
        raise UsageError("video needs PyAV: pip install 'faceedit[video]'") from None
    # FFmpeg's own messages follow -v (shown from warnings up); none by default or with -q
    av.logging.set_level(av.logging.WARNING if logger.getEffectiveLevel() <= logging.DEBUG else None)
    return av


@dataclass
class Frame:
    """One decoded video frame: ``rgb`` (H, W, 3) uint8 upright (the display rotation undone),
    ``pts`` in ``time_base`` units, ``index`` its place in decode order, ``rotation`` the
    stream's display rotation in degrees (counter-clockwise, as PyAV reads it)."""

    rgb: np.ndarray
    pts: int | None
    time_base: fractions.Fraction
    index: int
    rotation: int = 0


@dataclass
class Passthrough:
    """A packet of a stream copied as it is (audio, subtitles): ``stream`` is its input index."""

    packet: Any  # an av.Packet
    stream: int


@dataclass
class VideoInfo:
    """What the runner needs before the first frame: size, the frame count (exact where the
    container stores it, else estimated from the duration; 0 when unknown), rates, streams."""

    path: str
    width: int
    height: int
    frames: int
    rate: fractions.Fraction | None
    time_base: fractions.Fraction
    codec: str
    format: str
    copied: list[int]  # indices of the streams copied untouched


def _upright(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """Stored pixels -> as displayed (``rotation`` degrees counter-clockwise)."""
    k = (int(rotation) // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


def _stored(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """Displayed pixels -> as stored (the inverse of :func:`_upright`)."""
    k = (int(rotation) // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, -k)) if k else rgb


class VideoReader:
    """Demux and decode one file in order. ``with VideoReader(path) as r: for item in r: ...``
    yields :class:`Frame` and :class:`Passthrough` items in file order. A file FFmpeg cannot
    open, without a video stream, or that breaks while decoding raises :class:`ImageError`
    naming it."""

    def __init__(self, path: str | os.PathLike[str], threads: int = 0):
        av = require_av()
        self.path = os.fspath(path)
        try:
            self._c = av.open(self.path, "r")
        except (av.FFmpegError, OSError, UnicodeDecodeError) as e:
            raise ImageError(f"cannot open as a video: {_reason(e)}", self.path) from None
        if not self._c.streams.video:
            self._c.close()
            raise ImageError("no video stream", self.path)
        self.video = self._c.streams.video[0]
        self.video.thread_type = "AUTO"  # frame threads; a slice-threaded codec uses slices
        if threads:
            self.video.codec_context.thread_count = threads
        self.copied = [s for s in self._c.streams if s.type in ("audio", "subtitle") and s.codec_context is not None]
        self.info = self._info()

    def _info(self) -> VideoInfo:
        v = self.video
        rate = v.average_rate or v.guessed_rate
        frames = int(v.frames or 0)
        if not frames:
            duration = (v.duration * v.time_base if v.duration else
                        (self._c.duration / 1_000_000 if self._c.duration else 0))
            frames = round(float(duration) * float(rate)) if rate and duration else 0
        cc = v.codec_context
        return VideoInfo(self.path, cc.width, cc.height, frames, rate, v.time_base, cc.name,
                         self._c.format.name, [s.index for s in self.copied])

    def __iter__(self) -> Iterator[Frame | Passthrough]:
        av = require_av()
        index = 0
        streams = [self.video, *self.copied]
        try:
            for packet in self._c.demux(streams):
                if packet.stream.index != self.video.index:
                    if packet.dts is not None or packet.size:  # demux's flush packets carry nothing
                        yield Passthrough(packet, packet.stream.index)
                    continue
                for frame in packet.decode():
                    yield Frame(_upright(frame.to_ndarray(format="rgb24"), frame.rotation), frame.pts,
                                frame.time_base or self.video.time_base, index, int(frame.rotation))
                    index += 1
        except (av.FFmpegError, ValueError) as e:
            raise ImageError(f"cannot decode frame {index}: {_reason(e)}", self.path) from None
        if index == 0:
            raise ImageError("no video frame could be decoded", self.path)

    def close(self) -> None:
        self._c.close()

    def __enter__(self) -> VideoReader:  # noqa: PYI034
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class EncodeOptions:
    """Output encoding: ``codec`` (FFmpeg encoder name; None: :data:`DEFAULT_CODEC` of the
    container), ``crf`` (x264/x265/VP9 quality, lower is better), ``preset`` (x264/x265 speed
    preset), ``threads`` (encoder threads, 0 = FFmpeg's choice)."""

    codec: str | None = None
    crf: int = DEFAULT_CRF
    preset: str = DEFAULT_PRESET
    threads: int = 0

    def check(self) -> None:
        """UsageError for an encoder this FFmpeg lacks or values out of range."""
        av = require_av()
        if self.codec is not None and self.codec not in av.codecs_available:
            raise UsageError(f"`codec` {self.codec}: not an encoder of this FFmpeg")
        if not 0 <= self.crf <= 63:
            raise UsageError(f"`crf` {self.crf}: must be between 0 and 63")
        if self.preset not in PRESETS:
            raise UsageError(f"`preset` {self.preset!r}: not an x264/x265 preset; valid: {', '.join(PRESETS)}")

    def check_output(self, path: str, input: str) -> None:
        """UsageError where the output container of ``path`` (its extension) cannot hold this
        encoder's video, naming ``input`` and what would work: known before a run, so a run
        that would fail on it is refused whole (as the command's other usage errors are)."""
        fmt = VIDEO_EXTS.get(os.path.splitext(path)[1].lower())
        if self.codec is None or fmt is None or _holds(fmt, self.codec):
            return
        exts = [e for e, f in VIDEO_EXTS.items() if _holds(f, self.codec)]
        raise UsageError(
            f"{input}: its output {os.path.basename(path)} cannot hold `codec` {self.codec} video; "
            f"leave `codec` out ({DEFAULT_CODEC[fmt]} in {fmt}) or name a container that holds it "
            f"with `ext` ({', '.join(exts) or 'none here'})")


def _holds(fmt: str, codec: str) -> bool:
    """Whether the container ``fmt`` (a PyAV format name) takes the encoder ``codec``'s video."""
    import io

    av = require_av()
    try:
        with av.open(io.BytesIO(), "w", format=fmt) as c:
            c.add_stream(codec)
    except (av.FFmpegError, ValueError):
        return False
    return True


class VideoWriter:
    """Encode frames and copy packets into a new file of the container ``format`` (a PyAV
    format name; None: from the extension). The video stream is set up at the first frame (its
    size, rotation); the copied streams are templates of the reader's. Frames keep their
    timestamps: the video stream's time base is the input's. ``record`` (faceedit's record of
    the output, :mod:`faceedit.io.outputs`) goes into the container's ``comment`` tag."""

    def __init__(self, path: str, reader: VideoReader, encode: EncodeOptions | None = None,
                 format: str | None = None, record: dict | None = None):
        av = require_av()
        self.path = path
        self.reader = reader
        self.encode = encode or EncodeOptions()
        try:
            self._c = av.open(path, "w", format=format or VIDEO_EXTS.get(os.path.splitext(path)[1].lower()))
        except (av.FFmpegError, ValueError) as e:
            raise UsageError(f"cannot write this video container: {_reason(e)}") from None
        if record is not None:
            self._c.metadata["comment"] = record_text(record)
        self._out: dict[int, object] = {}  # input stream index -> its copy
        self._v: Any = None  # the video stream, set up at the first frame
        self._pending: list = []  # packets that came before the first frame set the streams up
        self.frames = 0

    def _open_streams(self, frame: Frame) -> None:
        """Every output stream, at the first frame, in the input's order (a tool that picks a
        stream by its number, ``-map 0:0``, finds the same stream in the output)."""
        av = require_av()
        streams = sorted([self.reader.video, *self.reader.copied], key=lambda s: s.index)
        for s in streams:
            if s is self.reader.video:
                self._v = self._add_video(frame)
                continue
            try:
                self._out[s.index] = self._c.add_stream_from_template(s)
            except (av.FFmpegError, ValueError) as e:
                reason = (f"stream {s.index} ({s.codec_context.name}) cannot be copied into "
                          f"{self._c.format.name}: {_reason(e)}")
                raise OutputError(reason, self.reader.path) from None
        try:
            self._c.start_encoding()
        except (av.FFmpegError, ValueError) as e:
            raise OutputError(f"cannot encode {self._v.codec_context.name} into "
                              f"{self._c.format.name}: {_reason(e)}", self.reader.path) from None
        for item in self._pending:
            self._mux(item)
        self._pending = []

    def _add_video(self, frame: Frame) -> Any:
        """The encoded video stream, sized and turned as ``frame`` is stored."""
        av = require_av()
        info = self.reader.info
        fmt = self._c.format.name.split(",")[0]
        codec = self.encode.codec or DEFAULT_CODEC.get(fmt, "libx264")
        rate = info.rate or fractions.Fraction(25)
        try:
            v = self._c.add_stream(codec, rate=rate)
        except (av.FFmpegError, ValueError) as e:
            raise OutputError(f"cannot encode {codec} into {fmt}: {_reason(e)}", self.reader.path) from None
        h, w = _stored(frame.rgb, frame.rotation).shape[:2]
        v.width, v.height = w, h
        v.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        v.time_base = frame.time_base
        v.codec_context.time_base = frame.time_base
        if self.encode.threads:
            v.codec_context.thread_count = self.encode.threads
        opts = {}
        if codec in ("libx264", "libx265"):
            opts = {"crf": str(self.encode.crf), "preset": self.encode.preset}
        if codec == "libx265":  # x265 prints its own log lines on stderr, outside FFmpeg's log: its
            # settings and statistics with -v (debug), its errors alone otherwise
            opts["x265-params"] = f"log-level={'info' if logger.getEffectiveLevel() <= logging.DEBUG else 'error'}"
        elif codec in ("libvpx-vp9", "libvpx"):
            opts = {"crf": str(self.encode.crf), "b": "0", "deadline": "realtime", "cpu-used": "8"}
        v.options = opts
        if frame.rotation:
            v.set_display_rotation(frame.rotation)
        return v

    def write(self, item: Frame | Passthrough) -> None:
        """Encode a frame (its ``rgb`` upright, as read) or copy a packet."""
        if isinstance(item, Passthrough):
            if self._v is None:
                self._pending.append(item)
            else:
                self._mux(item)
            return
        av = require_av()
        if self._v is None:
            self._open_streams(item)
        vf = av.VideoFrame.from_ndarray(_stored(item.rgb, item.rotation), format="rgb24")
        vf.pts, vf.time_base = item.pts, item.time_base
        for p in self._v.encode(vf):
            self._c.mux(p)
        self.frames += 1

    def _mux(self, item: Passthrough) -> None:
        packet = item.packet
        packet.stream = self._out[item.stream]
        self._c.mux(packet)

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        if self._v is not None:
            for p in self._v.encode(None):
                self._c.mux(p)
        self._c.close()

    def abort(self) -> None:
        """Close without flushing (the caller removes the file)."""
        with contextlib.suppress(Exception):  # a half-written file is removed anyway
            self._c.close()


def _reason(e: Exception) -> str:
    """A short reason from a PyAV / OS error."""
    text = getattr(e, "strerror", None) or str(e)
    return text.split(": '")[0].strip().rstrip(".").lower() or type(e).__name__
