"""Photos and videos in one `apply` run (faceedit.run.ApplyRun with the local engine: the photo
engine and the video engine): names, records in input order, errors that do not stop the run, re-runs that skip."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
pytest.importorskip("skimage", reason="the astronaut photo comes with scikit-image")

from _imgs import astronaut
from PIL import Image

from faceedit.plan import video_output
from faceedit.video.synth import write_clip


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage")


def applier(editor, out, **kw):
    from faceedit.apply_options import ApplyOptions
    from faceedit.run import ApplyRun

    return ApplyRun.local(editor, ApplyOptions(targets=["happy"], out_dir=str(out), **kw), progress=False)


def test_photos_and_videos_in_one_run(tmp_path, editor):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(astronaut()).resize((256, 256)).save(src / "a_photo.png")
    write_clip(str(src / "b_clip.mp4"), astronaut(), 6, (224, 168))
    write_clip(str(tmp_path / "c.mp4"), astronaut(), 5, (224, 168))
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


def two_people() -> np.ndarray:
    """The astronaut beside her mirror image: two people in one picture."""
    a = astronaut()
    return np.concatenate([a, np.ascontiguousarray(a[:, ::-1])], axis=1)


def test_max_faces_is_one_rule_for_photos_and_videos(tmp_path, editor):
    """--max-faces 1 with --face all fails the photo of two people and the clip of the same two
    alike (an error record each, no output, the run goes on); --face largest edits one person
    in each and takes no limit; --max-faces 2 edits both people in each."""
    from faceedit.apply_options import ApplyOptions
    from faceedit.run import ApplyRun

    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(two_people()).resize((512, 256)).save(src / "a_two.png")
    write_clip(str(src / "b_two.mp4"), two_people(), 5, (320, 160))
    Image.fromarray(astronaut()).resize((256, 256)).save(src / "c_one.png")
    names = [str(src / n) for n in ("a_two.png", "b_two.mp4", "c_one.png")]

    def run(out, **kw):
        opts = ApplyOptions(targets=["happy"], out_dir=str(tmp_path / out), **kw)
        return [r.to_json() for r in ApplyRun.local(editor, opts, progress=False).run(names)]

    capped = run("capped", max_faces=1)
    assert [r["status"] for r in capped] == ["error", "error", "ok"]
    assert "more than `max_faces` 1" in capped[0]["error"]
    assert "2 people tracked by frame 0, more than `max_faces` 1" in capped[1]["error"]
    assert capped[1]["output"] is None and os.listdir(tmp_path / "capped") == ["c_one_happy.png"]
    assert [r["faces"] for r in capped] == [2, None, 1]  # the faces found
    largest = run("largest", max_faces=1, face="largest")
    assert [(r["status"], r["faces"]) for r in largest] == [("ok", 2), ("ok", 2), ("ok", 1)]
    both = run("both", max_faces=2)
    assert [(r["status"], r["faces"]) for r in both] == [("ok", 2), ("ok", 2), ("ok", 1)]
    assert both[1]["tracks"] == 2
