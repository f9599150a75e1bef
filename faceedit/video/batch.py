"""The video engine of ``faceedit apply``: the outputs planned for one video (:mod:`faceedit.plan`)
edited one after the other, one record per output.

:meth:`VideoEngine.edit` writes each planned output of a video job (:func:`edit_video`: decode,
track, edit, encode, streamed) and gives a record per output: ``ok`` (written), ``copied`` (no
face, ``on_no_face`` copy: the clip unedited), ``no_face`` (``on_no_face`` skip) or ``error``
(the input cannot be read, no face to edit, an output cannot be written: the error names the
file and the batch goes on). With ``measure`` or ``verify`` a written video's record carries
``measured``: per person (track) the expression classifier's and identity network's readings of
up to :data:`SAMPLED_FRAMES` of its edited frames (:class:`FaceSamples`), their median
(:func:`faceedit.analysis.measure.median_reading`) with ``frames_read``; ``verify`` marks it
``unverified`` as a photo's output (the file is written all the same). A stop request (Ctrl-C,
SIGTERM) ends the video in progress without a file: its records are not given (None).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from faceedit.apply_options import CheckedOptions
from faceedit.errors import FaceEditError, UsageError
from faceedit.log import logger, timed
from faceedit.plan import VIDEO, Job, RecordMaker, video_format
from faceedit.video.container import EncodeOptions, require_av
from faceedit.video.reuse import Reuse
from faceedit.video.runner import (
    FaceSamples,
    NoFaceInClip,
    Stopped,
    VideoResult,
    VideoSettings,
    default_tracker,
    edit_video,
)

#: The edited frames read per person of a video (spread over the frames it is edited in): the
#: median of a few frames reads as steadily as the person does, at the cost of a few photos'.
SAMPLED_FRAMES = 5


@dataclass
class VideoRecord:
    """A video output's record, shaped as a photo's :class:`faceedit.apply_options.Record`
    (``status``, ``input``, ``output``, ``target``, ``error``, ``to_json()``) with the video's
    frames, tracks and fps."""

    data: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        """A field set (the command line rewords ``error``, the Ray engine renames the paths)
        is set in :attr:`data`, so that :meth:`to_json` gives what was set."""
        if name == "data":
            object.__setattr__(self, name, value)
        else:
            self.data[name] = value

    def to_json(self) -> dict:
        return dict(self.data)


def check_outputs(jobs: list[Job], encode: EncodeOptions) -> None:
    """Before a run: UsageError for bad encoding options, or for the first planned video whose
    output container cannot hold the encoder's video (:meth:`EncodeOptions.check_output`);
    nothing where PyAV is missing (each video is then an error record naming the extra)."""
    try:
        require_av()
    except UsageError:
        return
    encode.check()
    for job in jobs:
        if job.kind == VIDEO:
            for out in job.outputs:
                encode.check_output(out.path, job.item.path)


class VideoEngine:
    """Edits planned video jobs with ``editor`` (a :class:`faceedit.api.Editor`) under ``opts``
    (checked: :attr:`faceedit.plan.Planner.opts`; each output's request, ``face`` / ``max_faces`` choosing tracks; ``on_no_face``,
    ``key_frames`` and ``force`` in :attr:`settings`, with the encoding ``encode``); ``records``
    makes the records (the run's model and conditions); ``progress`` shows frames / total, fps
    and ETA."""

    def __init__(self, editor, opts: CheckedOptions, records: RecordMaker, encode: EncodeOptions | None = None,
                 progress: bool = True):
        self.editor, self.opts, self.records = editor, opts, records
        self.settings = VideoSettings(encode=encode or EncodeOptions(), reuse=Reuse(every=opts.key_frames),
                                      on_no_face=opts.on_no_face, force=opts.force)
        self.encode = self.settings.encode
        self.progress = progress
        self.reader = None  # reads the outputs where measured or verified
        if opts.measure or opts.verify:
            from faceedit.analysis.measure import load_reader

            self.reader = load_reader(editor.device, opts.verify)

    def edit(self, job: Job, stop: Callable[[], bool]) -> list[VideoRecord] | None:
        """A record per planned output of ``job``, in order; None where ``stop()`` ended the video
        in progress (no file written for it). Without PyAV, each output is an error record
        naming the extra (the photos go on)."""
        try:
            require_av()
        except UsageError as e:
            return [self._record(job, out, "error", error=e.reason) for out in job.outputs]
        records = []
        for out in job.outputs:
            if stop():
                return None
            try:
                if video_format(job.item.path) is None:
                    raise FaceEditError("not a video file (no signature of a container FFmpeg reads: "
                                        "MP4/MOV, Matroska/WebM, AVI, MPEG-PS/TS, FLV, ASF, Ogg)", job.item.path)
                samples = FaceSamples(SAMPLED_FRAMES) if self.reader is not None else None
                result = edit_video(self.editor, job.item.path, out.path,
                                    self.opts.request_for(out.target, out.strength), self.settings, stop=stop,
                                    progress=self.progress, tracker=default_tracker(self.editor),
                                    samples=samples, record=out.record)
            except Stopped:
                logger.info("%s: stopped, no output written", job.item.path)
                return None
            except UsageError:
                raise
            except NoFaceInClip as e:
                status = "no_face" if self.opts.on_no_face == "skip" else "error"
                records.append(self._record(job, out, status, error=e.reason, faces=e.tracks))
            except FaceEditError as e:
                records.append(self._record(job, out, "error", error=e.reason if e.path else str(e)))
            except Exception as e:  # a decoder, encoder or editing bug fails this video alone
                logger.debug("unexpected error on %s", job.item.path, exc_info=True)
                records.append(self._record(job, out, "error", error=f"{type(e).__name__}: {e}"))
            else:
                status = "copied" if result.edited == 0 else "ok"
                rec = self._record(job, out, status, result=result)
                if status == "ok" and samples is not None:
                    self._measure(rec, samples, out.target)
                records.append(rec)
        return records

    def _measure(self, rec: VideoRecord, samples: FaceSamples, target: str) -> None:
        """``rec``'s ``measured`` (one batch over every person's sampled frames, each person the
        median of its frames) and, under ``verify``, its status: ``unverified`` with the reason
        where the target did not read or a person changed, or nothing could be read."""
        from faceedit.analysis.measure import median_reading, verdict

        assert self.reader is not None
        flat = [(person, before, after) for person in sorted(samples.crops)
                for _, before, after in samples.crops[person]]
        try:
            if not flat:
                raise RuntimeError("no edited frame could be cut to read (the debug log says why)")
            with timed("measure"):
                (readings,) = self.reader.read([b for _, b, _ in flat], [[a for _, _, a in flat]], [target])
        except Exception as e:  # a reading never fails the output it reads
            logger.debug("measuring %s failed", rec.output, exc_info=True)
            if self.opts.verify:
                rec.status, rec.error = "unverified", f"could not be measured: {type(e).__name__}: {e}"
            return
        per: dict[int, list] = {}
        for (person, _, _), r in zip(flat, readings):
            per.setdefault(person, []).append(r)
        faces = [median_reading(person, rs) for person, rs in per.items()]
        rec.measured = [r.to_json() for r in faces]
        if self.opts.verify:
            why = verdict(faces, target, self.opts.verify_min_prob, self.opts.verify_min_identity)
            if why is not None:
                rec.status, rec.error = "unverified", why

    def _record(self, job: Job, out, status: str, *, error: str | None = None, faces: int | None = None,
                result: VideoResult | None = None) -> VideoRecord:
        """The photo record's keys plus ``kind: video`` and, for a written video, frames, edited
        frames, tracks, detector runs, scene cuts, fps achieved and seconds."""
        base = self.records(job.item.path, out.path if status in ("ok", "copied") else None, status,
                            out.target, out.strength, faces, error)
        fields = base.to_json()
        rec = {"input": fields.pop("input"), "output": fields.pop("output"), "kind": "video", **fields}
        if result is not None:
            rec.update({k: v for k, v in result.to_json().items() if k not in ("input", "output")})
        return VideoRecord(rec)
