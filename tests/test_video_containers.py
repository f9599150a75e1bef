"""Every container FFmpeg (PyAV) demuxes is a video input, listed by its extension or told by
its bytes; video outputs take video extensions (``--ext .mkv``), photos photo ones. Clips are
made here with PyAV; a GRID clip (MPEG-1 in an MPEG program stream) where the shared data is."""

from __future__ import annotations

import json
import os

import pytest

av = pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
pytest.importorskip("skimage", reason="the astronaut photo comes with scikit-image")

from _imgs import astronaut
from typer.testing import CliRunner

from faceedit.cli import app
from faceedit.plan import video_format
from faceedit.video.synth import write_clip

SIZE = (192, 144)
# name, the encoder the clip is written with, the container PyAV reads it as, the output's extension
CONTAINERS = [
    ("a.mpg", "mpeg2video", "mpeg", ".mkv"),  # MPEG-2 in a program stream (DVD, GRID)
    ("b.mpeg", "mpeg1video", "mpeg", ".mkv"),
    ("c.vob", "mpeg2video", "mpeg", ".mkv"),
    ("d.ts", "libx264", "mpegts", ".ts"),
    ("e.m2ts", "libx264", "mpegts", ".mkv"),
    ("f.mts", "libx264", "mpegts", ".mkv"),
    ("g.flv", "libx264", "flv", ".flv"),
    ("h.asf", "wmv2", "asf", ".mkv"),
    ("i.wmv", "msmpeg4", "asf", ".mkv"),
    ("j.3gp", "libx264", "mov,mp4,m4a,3gp,3g2,mj2", ".3gp"),
    ("k.3g2", "libx264", "mov,mp4,m4a,3gp,3g2,mj2", ".mp4"),  # an ISO media file: MP4
    ("l.ogv", "libvpx", "ogg", ".mkv"),
]


def run(*args):
    r = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def make(path, codec, n=3):
    """A clip of the astronaut; skipped where this FFmpeg cannot write it."""
    try:
        write_clip(str(path), astronaut(), n, SIZE, tone=None, codec=codec)
    except (av.FFmpegError, ValueError) as e:
        pytest.skip(f"this FFmpeg cannot write {os.path.basename(str(path))} with {codec}: {e}")


def frames(path) -> tuple[int, tuple[int, int]]:
    with av.open(str(path)) as c:
        shapes = [f.to_ndarray(format="rgb24").shape for f in c.decode(video=0)]
    return len(shapes), shapes[0][:2]


@pytest.mark.parametrize("name, codec, container, out_ext", CONTAINERS, ids=[c[0] for c in CONTAINERS])
def test_each_container_ffmpeg_reads_is_edited_as_a_video(tmp_path, name, codec, container, out_ext):
    """Listed from a folder by its extension and named directly (then told by its bytes, under
    any name), the clip is edited whole; its output is the container's own where faceedit
    writes it, else Matroska."""
    folder = tmp_path / "in"
    folder.mkdir()
    make(folder / name, codec)
    with av.open(str(folder / name)) as c:
        assert c.format.name == container
    assert video_format(folder / name)
    code, stdout, stderr = run("apply", folder, "-m", "stage", "-t", "happy", "-o", tmp_path / "out", "--json")
    assert code == 0, stderr
    record = json.loads(stdout.splitlines()[0])
    stem = os.path.splitext(name)[0]
    assert record["status"] == "ok" and record["kind"] == "video" and record["frames"] == 3
    assert record["output"] == str(tmp_path / "out" / f"{stem}_happy{out_ext}")
    assert frames(record["output"]) == (3, SIZE[::-1])
    renamed = tmp_path / f"{stem}.bin"  # named directly: the bytes tell
    os.rename(folder / name, renamed)
    code, stdout, stderr = run("apply", renamed, "-m", "stage", "-t", "happy", "-o", tmp_path / "out2", "--json")
    assert code == 0 and json.loads(stdout.splitlines()[0])["status"] == "ok", stderr


def test_an_ogg_named_directly_is_a_video(tmp_path):
    """Folders leave .ogg out (mostly sound); named, an Ogg file with a video stream is a video."""
    make(tmp_path / "v.ogg", "libvpx")
    code, stdout, stderr = run("apply", tmp_path / "v.ogg", "-m", "stage", "-t", "happy", "-o", tmp_path / "o", "--json")
    assert code == 0, stderr
    record = json.loads(stdout.splitlines()[0])
    assert record["status"] == "ok" and record["output"].endswith("v_happy.mkv")


def test_videos_take_video_extensions(tmp_path):
    """`--ext .mkv` writes a clip into Matroska; a photo's extension on a video, or a video's on
    a photo, is a usage error before any work; the advice of a codec refused by the container
    names extensions --ext takes, and following it works."""
    from PIL import Image

    make(tmp_path / "c.webm", "libvpx-vp9")
    code, stdout, stderr = run("apply", tmp_path / "c.webm", "-m", "stage", "-t", "happy", "-o", tmp_path / "o",
                               "--video-codec", "libx264")
    assert code == 2 and "--ext (" in stderr and ".mkv" in stderr, stderr
    code, stdout, stderr = run("apply", tmp_path / "c.webm", "-m", "stage", "-t", "happy", "-o", tmp_path / "o",
                               "--video-codec", "libx264", "--ext", ".MKV", "--json")
    assert code == 0, stderr
    out = json.loads(stdout.splitlines()[0])["output"]
    assert out.endswith("c_happy.mkv") and frames(out)[0] == 3
    with av.open(out) as c:
        assert c.format.name.startswith("matroska") and c.streams.video[0].codec_context.name == "h264"
    for ext in (".png", ".jpg"):
        code, _, stderr = run("apply", tmp_path / "c.webm", "-m", "stage", "-t", "happy", "-o", tmp_path / "p",
                              "--ext", ext)
        assert code == 2 and f"c.webm: a video; --ext {ext} is a photo format" in stderr, stderr
        assert stderr.count("\n") == 2 and not (tmp_path / "p").exists()  # the model line, the error
    Image.fromarray(astronaut()).save(tmp_path / "p.png")
    code, _, stderr = run("apply", tmp_path / "p.png", "-m", "stage", "-t", "happy", "-o", tmp_path / "p", "--ext", "mp4")
    assert code == 2 and "p.png: a photo; --ext .mp4 is a video container" in stderr, stderr
    assert not (tmp_path / "p").exists()
    code, _, stderr = run("apply", tmp_path / "p.png", "-m", "stage", "-t", "happy", "-o", tmp_path / "p", "--ext", ".mpg")
    assert code == 2 and "unsupported output extension '.mpg'" in stderr and ".mkv" in stderr, stderr


@pytest.mark.slow
@pytest.mark.shared_data
def test_a_grid_clip_is_a_video(tmp_path, shared_data):
    """A GRID clip (MPEG-1 video, MPEG audio, in an MPEG program stream) is edited whole, its
    sound copied into the Matroska output."""
    src = sorted((shared_data / "grid").glob("*.mpg"))[0]
    code, stdout, stderr = run("apply", src, "-m", "stage", "-t", "happy", "-o", tmp_path, "--json")
    assert code == 0, stderr
    record = json.loads(stdout.splitlines()[0])
    with av.open(str(src)) as c:
        n = sum(1 for _ in c.decode(video=0))
    assert record["status"] == "ok" and record["frames"] == n and record["copied_streams"] == 1
    assert record["output"] == str(tmp_path / f"{src.stem}_happy.mkv")
    with av.open(record["output"]) as c:
        assert len(c.streams.audio) == 1 and sum(1 for _ in c.decode(video=0)) == n


def test_the_page_takes_an_mpeg_clip_and_names_its_output_as_the_command(tmp_path):
    """An uploaded .mpg is a clip on the page; its edited file is named as `faceedit apply`
    names it (Matroska: MPEG program streams are read, not written)."""
    from faceedit.ui.studio import Studio

    make(tmp_path / "a.mpg", "mpeg2video")
    studio = Studio(max_pixels=10**7, workdir=str(tmp_path / "w"))
    photo = studio.add_photo((tmp_path / "a.mpg").read_bytes(), "a.mpg")
    assert photo.video and len(photo.boxes) == 1 and photo.output_name == "a_edited.mkv"
