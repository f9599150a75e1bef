"""Photos and videos in one `apply` run (faceedit.video.apply.MixedApplier over the photo
engine): names, records in input order, errors that do not stop the run, re-runs that skip."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
pytest.importorskip("skimage", reason="the astronaut photo comes with scikit-image")

from _imgs import astronaut
from PIL import Image

from faceedit.video.apply import MixedApplier, video_output
from faceedit.video.batch import VideoApplier
from faceedit.video.synth import write_clip


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage")


def applier(editor, out, **kw):
    from faceedit.apply_options import ApplyOptions
    from faceedit.pipeline import BatchApplier

    opts = ApplyOptions(targets=["happy"], out_dir=str(out), **kw)
    return MixedApplier(BatchApplier(editor, opts), VideoApplier(editor, progress=False, model="stage"))


def test_photos_and_videos_in_one_run(tmp_path, editor):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(astronaut()).resize((256, 256)).save(src / "a_photo.png")
    write_clip(str(src / "b_clip.mp4"), astronaut(), 6, (128, 96))
    write_clip(str(tmp_path / "c.mp4"), astronaut(), 5, (128, 96))
    os.rename(tmp_path / "c.mp4", src / "c_clip")  # a video by its bytes, not its name
    (src / "d_bad.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    Image.fromarray(np.asarray(astronaut())[:, ::-1].copy()).resize((256, 256)).save(src / "e_photo.jpg")
    out = tmp_path / "out"
    names = [str(src / n) for n in ("a_photo.png", "b_clip.mp4", "c_clip", "d_bad.mp4", "e_photo.jpg")]
    run = applier(editor, out)
    recs = list(run.run(names))
    got = [(os.path.basename(r.input), r.status, r.output and os.path.basename(r.output)) for r in recs]
    assert got == [("a_photo.png", "ok", "a_photo_happy.png"), ("b_clip.mp4", "ok", "b_clip_happy.mp4"),
                   ("c_clip", "ok", "c_clip_happy.mp4"), ("d_bad.mp4", "error", None),
                   ("e_photo.jpg", "ok", "e_photo_happy.jpg")]
    assert recs[1].to_json()["frames"] == 6 and recs[1].to_json()["kind"] == "video"
    assert recs[3].error and not run.interrupted
    assert sorted(os.listdir(out)) == ["a_photo_happy.png", "b_clip_happy.mp4", "c_clip_happy.mp4",
                                       "e_photo_happy.jpg"]
    again = list(applier(editor, out).run(names))
    assert [r.status for r in again] == ["skipped", "skipped", "skipped", "error", "skipped"]


def test_video_output_keeps_a_video_container():
    class Item:
        path = "in/clip.mov"

    assert video_output(Item, "out/clip_happy.png") == "out/clip_happy.mov"
    assert video_output(Item, "out/clip_happy.mkv") == "out/clip_happy.mkv"
