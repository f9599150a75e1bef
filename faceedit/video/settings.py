"""A video run's settings (:class:`VideoSettings`), what it did (:class:`VideoResult`) and the few
edited frames per person it keeps for reading the output (:class:`FaceSamples`), used by
:mod:`faceedit.video.runner` (which streams the clip) and :mod:`faceedit.video.frame_edit` (one
frame's edit)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from faceedit.video.container import EncodeOptions
from faceedit.video.reuse import Reuse
from faceedit.video.smooth import FrameClock


@dataclass
class VideoResult:
    """What :func:`edit_video` did: ``frames`` written, ``edited`` frames with a face edited,
    ``faces`` the most faces edited in one frame, ``tracks`` people tracked (a record's
    ``faces``: the faces found, as a photo's), ``detections`` frames the detector ran on,
    ``keys`` the edited frames edited in full (the others took a key frame's edit,
    :mod:`faceedit.video.reuse`), ``fps`` frames edited per second end to end (a record's
    ``edit_fps``), ``rate`` the clip's own frame rate (a record's ``fps``; None: not known),
    ``declined`` per person and reason the frames on which the edit left the face as it is
    (:func:`faceedit.faces.reading.face_decline_reason`, and on a stage the planned move the
    warp cannot hold, :func:`faceedit.video.frame_edit.moves_held`; :attr:`VideoSettings.force`
    edits them), ``declined_frames`` the frames on which it left one or more."""

    input: str
    output: str
    frames: int = 0
    edited: int = 0
    faces: int = 0
    tracks: int = 0
    detections: int = 0
    keys: int = 0
    cuts: int = 0
    seconds: float = 0.0
    fps: float = 0.0
    total: int = 0  # the frame count the container announced (0: unknown)
    rate: float | None = None  # the clip's frame rate, as its container gives it
    network: bool = False  # the network's change altered a pixel of a frame (set from the workers)
    audio: int = 0  # streams copied
    clock: FrameClock | None = None  # the frames' times the smoothing ran on (from the clip's rate)
    # (track, "turned" | "too" | "move"): [the reason on the first such frame, the frames]
    declined: dict = field(default_factory=dict)
    declined_frames: int = 0

    def to_json(self) -> dict:
        return {"input": self.input, "output": self.output, "frames": self.frames,
                "edited_frames": self.edited, "faces": self.tracks, "tracks": self.tracks,
                "detections": self.detections, "key_frames": self.keys, "scene_cuts": self.cuts,
                "fps": None if self.rate is None else round(self.rate, 3),
                "edit_fps": round(self.fps, 2), "seconds": round(self.seconds, 2),
                "copied_streams": self.audio, "network": self.network,
                "clock": None if self.clock is None else self.clock.kind,
                "clock_steps_replaced": 0 if self.clock is None else self.clock.replaced,
                **({"declined": self.declined_json(), "declined_frames": self.declined_frames}
                   if self.declined else {})}

    def declined_json(self) -> list[dict]:
        """A photo record's ``declined`` with each person's frames (the first such frame's reason)."""
        return [{"face": track, "frames": n, "declined": why}
                for (track, _), (why, n) in sorted(self.declined.items(), key=lambda kv: kv[0])]


class FaceSamples:
    """Up to ``most`` edited frames per person (track), spread over the frames it was edited
    in, each kept as the input's and the output's face crop on the analysis template (what
    :class:`faceedit.analysis.measure.FaceReader` reads), so that a video is read on a few
    frames, not all. A person's edited frames are taken every ``stride``-th (1 at first); once
    more than ``most`` are kept, every other one goes and the stride doubles: the kept frames
    stay spread from the person's first edited frame to about its last, and only those are cut.
    Fed in frame order (the writer's thread)."""

    def __init__(self, most: int = 5):
        self.most = max(1, most)
        # person -> [(frame index, input crop, output crop)]
        self.crops: dict[int, list[tuple[int, np.ndarray, np.ndarray]]] = {}
        self._seen: dict[int, int] = {}
        self._stride: dict[int, int] = {}

    def add(self, person: int, index: int, before: np.ndarray, after: np.ndarray, face) -> None:
        """Frame ``index`` of ``person`` (``face``: its tracked face), ``before``/``after`` the
        frame's input and edited pixels: kept where it falls on the person's stride."""
        from faceedit.analysis.measure import ANALYSIS_TEMPLATE, output_crop
        from faceedit.faces.align import align_face

        n = self._seen.get(person, 0)
        self._seen[person] = n + 1
        stride = self._stride.get(person, 1)
        if n % stride:
            return
        a = align_face(before, face, ANALYSIS_TEMPLATE)
        kept = self.crops.setdefault(person, [])
        kept.append((index, a.crop, output_crop(after, a.matrix, len(a.crop))))
        if len(kept) > self.most:
            self.crops[person] = kept[::2]
            self._stride[person] = stride * 2


@dataclass(frozen=True)
class VideoSettings:
    """How a run edits its videos, the same for each output: ``encode`` the encoding; ``reuse``
    when a frame takes the last key frame's edit, moved, instead of its own (``every``: ``apply
    --key-frames``, 1: every frame in full); ``workers`` frames edited at once (tracking stays in
    order on the calling thread); ``on_no_face``: a clip in which no frame has a face to edit
    (none found, or not face N) is written unedited with ``copy``, else :class:`NoFaceInClip`, no
    file, as a photo without one; ``force`` edits the tracked faces the edit declines on a frame
    (:func:`faceedit.faces.reading.face_decline_reason`: turned past 45 degrees, eyes under 12 px
    apart; on a stage a planned move that slides the mouth sideways under the nose past the
    warp's limit, :mod:`faceedit.stage.hold`; else left as they are on that frame, counted in
    the result's ``declined``); ``hold``
    seconds of the expression's slow part the edit replaces (:class:`ExpressionHold`);
    ``queue_size`` frames each queue between the threads holds."""

    encode: EncodeOptions = EncodeOptions()
    reuse: Reuse = Reuse()
    workers: int = 2
    on_no_face: str = "error"
    force: bool = False
    hold: float = 1.0
    queue_size: int = 8
