"""``faceedit apply PHOTO --like DRIVER.mp4``: each photo driven by the performance of the face in
a video (:func:`faceedit.video.drive.drive_photo`; a video input's expression replaced by the
driver's, :func:`faceedit.video.drive.drive_video`), one video per input, named
``{stem}_like-{driver's stem}{ext}`` (``--ext`` a video extension; default ``.mp4``) in ``--out``.
The driver is read once for all the photos."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from faceedit.errors import FaceEditError, UsageError
from faceedit.log import logger


def is_driver(like: Path) -> bool:
    """Whether ``--like`` names a video (its bytes a video container's): the photos are driven."""
    from faceedit.plan import video_format

    return like.is_file() and video_format(like) is not None


def drive_inputs(inputs: list[str], like: Path, *, out_dir: str, model: str, neutral: int | None, ext: str | None,
                 overwrite: bool, recursive: bool, device: str, precision: str, detector: str, max_pixels: int,
                 encode: dict, as_json: bool, keep: list[str] | None = None) -> int:
    """Drive every photo and video of ``inputs`` by ``like`` (a video: its expression replaced by
    the driver's frame by frame, its head motion kept, :func:`faceedit.video.drive.drive_video`;
    ``keep``: ``pose`` keeps a photo's head unturned too); returns the number that failed."""
    from faceedit.io.formats import VIDEO_FORMAT_BY_EXT

    keep = keep or []
    bad = [k for k in keep if k not in ("pose",)]  # faceedit.video.drive.KEEP (torch: imported below)
    if bad:
        raise UsageError(f"--like-keep {', '.join(bad)}; valid: pose")
    ext = (ext or ".mp4").lower()
    ext = ext if ext.startswith(".") else f".{ext}"
    if ext not in VIDEO_FORMAT_BY_EXT:
        raise UsageError(f"--like {like} (a video) writes videos: --ext {ext} is not a video extension "
                         f"({', '.join(VIDEO_FORMAT_BY_EXT)})")
    from faceedit.api import Editor
    from faceedit.io.inputs import expand_inputs
    from faceedit.plan import video_format
    from faceedit.video.container import EncodeOptions
    from faceedit.video.drive import KEEP, drive_photo, drive_video, read_performance

    assert set(KEEP) == {"pose"}
    editor = Editor.from_pretrained(model, device=device, precision=precision, detector=detector)
    if editor.stage is None:
        raise UsageError(f"--like {like} (a video): model {model} has no stage to move the face")
    from faceedit.video.runner import default_tracker

    tracker = default_tracker(editor)
    performance = read_performance(editor, str(like), neutral, tracker=tracker)
    os.makedirs(out_dir, exist_ok=True)
    failed = 0
    for item in expand_inputs(inputs, recursive):
        out = os.path.join(out_dir, f"{Path(item.rel).stem}_like-{like.stem}{ext}")
        rec: dict = {"input": item.path, "like": str(like), "output": out}
        try:
            if item.error:
                raise UsageError(item.error)
            if os.path.exists(out) and not overwrite:
                logger.warning("%s: %s exists (--overwrite replaces it), skipped", item.path, out)
                rec["status"] = "skipped"
            elif video_format(item.path) is not None:
                result = drive_video(editor, item.path, str(like), out, neutral=neutral, tracker=tracker,
                                     performance=performance, encode=EncodeOptions(**encode))
                rec = {**result.to_json(), "status": "ok"}
            else:
                result = drive_photo(editor, item.path, str(like), out, neutral=neutral, tracker=tracker,
                                     performance=performance, max_pixels=max_pixels,
                                     encode=EncodeOptions(**encode), keep=keep)
                rec = {**result.to_json(), "status": "ok"}
        except FaceEditError as e:
            failed += 1
            rec.update(status="error", error=e.reason)
            logger.error("%s: %s", item.path, rec["error"])
        if as_json:
            sys.stdout.write(json.dumps(rec) + "\n")
            sys.stdout.flush()
    return failed
