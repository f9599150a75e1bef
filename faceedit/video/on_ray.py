"""Videos on Ray as a library call: one task per video. (``faceedit apply --engine ray`` runs
its videos on the actors that edit its photos instead, a video a call: :mod:`faceedit.ray_engine`.)

A video streams through one process (its frames depend on the previous ones through the
tracker and the temporal filters), so the unit of work on Ray is a whole video: each task
loads the model once per worker process (:func:`_editor`, cached), edits its video with
:class:`faceedit.video.batch.VideoApplier` and returns that video's records. Only paths and
records travel: every worker must see the inputs and the output folder at the same absolute
paths (a shared file system), and the driver sends absolute paths and gives the records back the
paths as they were named. Ray itself is started by the caller (``faceedit.ray_engine.start_ray``);
the ``ray`` module is passed in, so this module never imports it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator

from faceedit.video.batch import VideoApplier, VideoJob

_EDITORS: dict = {}  # (model, load settings) -> Editor, per worker process


def _editor(model: str, load: dict):
    key = (model, tuple(sorted(load.items())))
    if key not in _EDITORS:
        from faceedit.api import Editor

        _EDITORS[key] = Editor.from_pretrained(model, **load)
    return _EDITORS[key]


def _task(job: VideoJob, model: str, load: dict, settings: dict) -> list[dict]:
    """(on a worker) edit one video; its records."""
    from faceedit.errors import FaceEditError

    try:
        editor = _editor(model, load)
    except FaceEditError as e:  # every output an error record, as the applier writes them
        videos = VideoApplier(None, progress=False, model=model, **settings)
        return [videos.record(job.input, out, "error", t, s, error=str(e)) for out, t, s in job.outputs]
    return list(VideoApplier(editor, progress=False, model=model, **settings).run_one(job))


def run_on_ray(ray, jobs: Iterable[VideoJob], *, model: str, load: dict | None = None,
               settings: dict | None = None, cpus_per_task: float = 1.0,
               gpus_per_task: float = 0.0) -> Iterator[dict]:
    """Edit ``jobs`` as Ray tasks, one video each; yields every video's records in input order.
    ``load``: :meth:`Editor.from_pretrained`'s keywords (device, precision, detector);
    ``settings``: :class:`VideoApplier`'s (options, face, max_faces, overwrite, encode).
    KeyboardInterrupt cancels the tasks not finished (a cancelled video leaves no file)."""
    task = ray.remote(num_cpus=cpus_per_task, num_gpus=gpus_per_task)(_task)
    jobs = list(jobs)
    absolute = [VideoJob(os.path.abspath(j.input), [(os.path.abspath(o), t, s) for o, t, s in j.outputs])
                for j in jobs]
    refs = [task.remote(a, model, dict(load or {}), dict(settings or {})) for a in absolute]
    try:
        for job, a, ref in zip(jobs, absolute, refs):
            names = {a.input: job.input, **{ao: o for (ao, _, _), (o, _, _) in zip(a.outputs, job.outputs)}}
            for rec in ray.get(ref):
                rec["input"] = names.get(rec["input"], rec["input"])
                if rec.get("output") is not None:
                    rec["output"] = names.get(rec["output"], rec["output"])
                yield rec
    except BaseException:
        for ref in refs:
            with contextlib.suppress(Exception):  # finished or gone
                ray.cancel(ref)
        raise
