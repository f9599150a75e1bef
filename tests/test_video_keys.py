"""Edits over time: a request's values as key frames (:mod:`faceedit.edits.keyed`), read and
checked in the request, resolved per frame of a clip, refused on a photo; and a real talking clip
(GRID) whose smile is keyed from 0 to 1."""

from __future__ import annotations

import fractions
import json
from pathlib import Path

import numpy as np
import pytest

from faceedit.edits.keyed import Keyed, keyed_json, monotone_cubic
from faceedit.errors import UsageError
from faceedit.models.request import EditRequest
from faceedit.video.smooth import FrameClock, frame_request

GRID = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "grid"


# -- reading and checking --------------------------------------------------------------------
def test_keys_read_in_seconds_and_frame_numbers():
    k = Keyed.parse("0@0s,1@1.5s,0@3s", "`strength`")
    assert k.keys == ((0.0, "s", 0.0), (1.5, "s", 1.0), (3.0, "s", 0.0))
    assert Keyed.parse("0@0,1@50f", "x").keys == ((0.0, "f", 0.0), (50.0, "f", 1.0))
    assert k.text == "0@0s,1@1.5s,0@3s" and f"{k:g}" == k.text and str(k) == k.text
    assert float(k) == 0.0  # a number: its first value
    assert k != 0.0 and k == Keyed.parse("0@0s, 1@1.5s ,0@3s", "x") and hash(k) == hash(k.keys)


@pytest.mark.parametrize("text, words", [
    ("1@x", "'1@x': a key frame is VALUE@TIME"),
    ("1,0@1s", "'1': a key frame is VALUE@TIME"),
    ("0@0,1@1.5", "a frame number is whole; write seconds with s (1.5s)"),
    ("0@1s,1@0s", "go forward in time"),
    ("0@1s,1@1s", "go forward in time"),
    ("a@1s", "'a' is not a number"),
    ("0@0s,2@1s", "`strength` 2: must be between 0 and 1.5"),
])
def test_a_bad_key_is_a_usage_error_naming_the_field_and_the_text(text, words):
    with pytest.raises(UsageError) as e:
        EditRequest(strength=text)
    assert "`strength`" in str(e.value) and words in str(e.value)


def test_controls_and_aus_take_key_frames_beside_plain_values():
    r = EditRequest(controls="smile=0@0s,1@1.5s,0@3s,brows=0.2", aus="12=0@0,3@2s,6=1")
    assert r.controls == {"smile": Keyed.parse("0@0s,1@1.5s,0@3s", "x"), "brows": 0.2}
    assert r.aus == {12: Keyed.parse("0@0,3@2s", "x"), 6: 1.0}
    assert r.keyed() == ["`controls` smile", "`aus` 12"]
    # a mapping takes Keyed values or their text, alike
    assert EditRequest(controls={"smile": "0@0s,1@2s"}).controls == EditRequest(controls="smile=0@0s,1@2s").controls
    rec = r.record_fields()  # a record says the keys
    assert rec["controls"] == {"smile": "0@0s,1@1.5s,0@3s", "brows": 0.2} and rec["aus"] == {12: "0@0,3@2s", 6: 1.0}
    assert json.loads(json.dumps(keyed_json({"s": Keyed.parse("0@0,1@2s", "x")}))) == {"s": "0@0,1@2s"}


@pytest.mark.parametrize("kwargs, words", [
    ({"controls": "smile=0@0s,2@1s"}, "`controls` smile '2@1s'"),
    ({"controls": "blink=0@0s,-1@1s"}, "`controls` blink '-1@1s'"),
    ({"controls": "smil=0@0s,1@1s"}, "unknown control 'smil'"),
    ({"controls": "smile=0@0s,1@1s,smile=0.5"}, "smile is given twice"),
    ({"controls": "smile=0@0s,1@1s,smile=0@0s"}, "`controls` smile is given twice (0@0s,1@1s and 0@0s)"),
    ({"aus": "12=0@0s,6@1s"}, "`aus` 12 '6@1s'"),
    ({"aus": "99=0@0s,1@1s"}, "unknown AU"),
    ({"light": "35,15", "light_strength": "0@0s,2@1s"}, "`light_strength` '2@1s'"),
])
def test_keyed_values_are_checked_as_the_field_is(kwargs, words):
    with pytest.raises(UsageError) as e:
        EditRequest(**kwargs)
    assert words in str(e.value)


def test_a_light_direction_takes_key_frames():
    r = EditRequest(light="-35,15@0s; 35,15@2s", light_strength="0@0s,1@2s")
    assert r.light == "-35,15@0s;35,15@2s" and r.keyed() == ["`light_strength`", "`light`"]
    assert r.applied_light() == ("-35,15@0s;35,15@2s", r.light_strength)  # a record gives the keys
    assert [r.resolved(t).light for t in (0.0, 1.0, 2.0, 5.0)] == ["-35,15", "0,15", "35,15", "35,15"]
    assert r.resolved(1.0).applied_light() == ([0.0, 15.0], 0.5)
    assert EditRequest(light="left@0;right@50").light == "50,0@0;-50,0@50"  # a named one as its AZ,EL
    for bad, words in (("-35,15;35,15@1s", "'-35,15': a key frame is AZ,EL@TIME"),
                       ("35,15@1s;35,15@0s", "go forward in time"),
                       ("ambient@0s;left@1s", "ambient has no direction"),
                       ("0,95@0s;0,0@1s", "elevation within")):
        with pytest.raises(UsageError) as e:
            EditRequest(light=bad)
        assert words in str(e.value), bad


# -- the curve -------------------------------------------------------------------------------
def test_two_keys_ease_in_and_out_and_hold_outside():
    k = Keyed.parse("0@1s,1@3s", "x")
    assert [k.at(t) for t in (0.0, 1.0, 2.0, 3.0, 9.0)] == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.0])
    assert k.at(1.5) == pytest.approx(0.15625)  # smoothstep: 3s^2 - 2s^3 at s = 0.25


def test_monotone_keys_give_a_monotone_curve_and_a_peak_stays_a_peak():
    xs, ys = [0.0, 0.3, 0.4, 2.0, 2.2], [0.0, 0.9, 0.95, 1.0, 1.5]  # steep then flat: a spline overshoots
    curve = [monotone_cubic(xs, ys, t) for t in np.linspace(-1, 3, 801)]
    assert np.all(np.diff(curve) >= -1e-12) and min(curve) == 0.0 and max(curve) == 1.5
    k = Keyed.parse("0@0s,1@1.5s,0@3s", "x")
    peak = [k.at(t) for t in np.linspace(0, 3, 301)]
    assert max(peak) == pytest.approx(1.0) and min(peak) == pytest.approx(0.0)


def test_frame_numbered_keys_are_placed_at_the_clips_rate():
    k = Keyed.parse("0@0,1@50", "x")
    assert k.at(1.0, rate=50) == pytest.approx(1.0) and k.at(1.0, rate=25) == pytest.approx(0.5)


def test_each_frame_gets_an_ordinary_request_on_the_clips_clock():
    r = EditRequest("happy", strength="0@0,1@2", controls="smile=0@0s,1@0.08s")
    clock = FrameClock(25)
    got = []
    for k in range(4):
        clock(10.0 + k / 25)  # a clip whose timestamps start at 10 s
        frame, edit = frame_request(r, clock)
        assert frame.keyed() == [] and edit is not None
        got += [frame.strength, frame.controls["smile"]]
    assert got == pytest.approx([0.0, 0.0, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0])
    plain = EditRequest("happy", controls="smile=0.5")
    assert frame_request(plain, clock) == (plain, None)  # nothing keyed: the request itself


def test_a_photo_refuses_key_frames(tmp_path):
    from faceedit.api import Editor

    ed = Editor.from_pretrained("stage")
    with pytest.raises(UsageError, match="`controls` smile given as key frames: a photo takes one value"):
        ed.edit(np.zeros((64, 64, 3), np.uint8), "keep", controls="smile=0@0s,1@2s")


def test_apply_strength_key_frames_are_one_strength(tmp_path):
    from faceedit.apply_options import ApplyOptions

    k = Keyed.parse("0@0,1@2s", "x")
    opts = ApplyOptions(targets=["happy"], out_dir=str(tmp_path), strengths=(k,))
    opts.check()
    assert "{strength}" in opts.default_name_template()
    with pytest.raises(UsageError, match="key frames are one strength"):
        ApplyOptions(targets=["happy"], out_dir=str(tmp_path), strengths=(0.5, k)).check()


# -- a real clip -----------------------------------------------------------------------------
def _cut(src: str, dst: str, frames: int) -> None:
    """The first ``frames`` frames of ``src`` as an H.264 clip at 25 fps."""
    import av

    with av.open(src) as c, av.open(dst, "w") as o:
        v = c.streams.video[0]
        s = o.add_stream("libx264", rate=25, options={"bf": "0"})
        s.width, s.height, s.pix_fmt = v.codec_context.width, v.codec_context.height, "yuv420p"
        for i, f in enumerate(c.decode(v)):
            if i == frames:
                break
            nf = av.VideoFrame.from_ndarray(f.to_ndarray(format="rgb24"), format="rgb24")
            nf.pts, nf.time_base = i, fractions.Fraction(1, 25)
            o.mux(s.encode(nf))
        o.mux(s.encode())


@pytest.mark.skipif(not (GRID / "lbax4n.mpg").is_file(), reason="../shared/data/grid (GRID talking clips) absent")
def test_a_keyed_smile_rises_from_the_unedited_first_frame(tmp_path):
    """GRID's lbax4n, its first 20 frames (0.8 s, talking), ``--control smile=0@0s,1@0.48s``:
    the first frame is the frame an edit asking nothing writes (``smile=0`` over the whole clip,
    the same encoding), pixel for pixel; the smile read per output frame (the stage's AU12,
    lip corner puller, read from the tracked landmarks of the output) does not fall from the
    first frame to the last key frame (frame 12) and rises by more than 1.5 over it (measured
    0 -> 2.09, no step down; the talking input's own AU12 over those frames: 0 to 0.6), and
    stays up after it."""
    av = pytest.importorskip("av")
    from faceedit.api import Editor
    from faceedit.faces.au import AU_IDS
    from faceedit.video.runner import default_tracker, edit_video

    ed = Editor.from_pretrained("stage")
    clip = str(tmp_path / "clip.mp4")
    _cut(str(GRID / "lbax4n.mpg"), clip, 20)

    def frames(path):
        with av.open(path) as c:
            return [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]

    keyed = edit_video(ed, clip, str(tmp_path / "keyed.mp4"), EditRequest("keep", controls="smile=0@0s,1@0.48s"),
                       progress=False)
    edit_video(ed, clip, str(tmp_path / "none.mp4"), EditRequest("keep", controls="smile=0"), progress=False)
    out, none = frames(str(tmp_path / "keyed.mp4")), frames(str(tmp_path / "none.mp4"))
    assert len(out) == len(none) == 20 and keyed.edited == 20
    assert np.array_equal(out[0], none[0])
    assert not np.array_equal(out[12], none[12])

    au12 = list(AU_IDS).index(12)
    tracker = default_tracker(ed)
    smile = np.array([ed.stage.face_aus(tracker(f, k / 25)[0].face.landmarks)[au12] for k, f in enumerate(out)])
    assert np.all(np.diff(smile[:13]) >= -0.02), smile
    assert smile[12] - smile[0] > 1.5, smile
    assert smile[12:].min() >= smile[12] - 0.1, smile  # held (read 2.09 .. 2.78: the talking on top)


# -- the page ----------------------------------------------------------------------------------
def test_key_frames_as_one_text():
    from faceedit.models.request import keyed_fields

    got = keyed_fields("smile=0@0s,1@2s strength=0@0,1@1s AU12=0@0s,3@1s")
    assert got == {"controls": {"smile": "0@0s,1@2s"}, "strength": "0@0,1@1s", "aus": {12: "0@0s,3@1s"}}
    with pytest.raises(UsageError, match="key frames 'hair': not a keyed field"):
        keyed_fields("hair=0@0s,1@1s")
    with pytest.raises(UsageError, match="key frames 'smile=0.5': not key frames"):
        keyed_fields("smile=0.5")


def test_the_page_sets_a_clips_key_frames(tmp_path):
    """The page's key frames of a clip (``keys``) are the request's, over the sliders' values: the
    preview is the first frame at the keys' first values, the command line carries them; a
    photo refuses them."""
    pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
    from _imgs import astronaut, png_bytes

    from faceedit.ui.studio import Studio
    from faceedit.video.synth import write_clip

    studio = Studio(max_pixels=2_000_000, workdir=str(tmp_path / "studio"))
    (tmp_path / "studio").mkdir(exist_ok=True)
    src = tmp_path / "clip.mp4"
    write_clip(str(src), np.asarray(astronaut()), 4, (256, 192), tone=None)
    clip = studio.add_photo(src.read_bytes(), "clip.mp4")
    settings = {"model": "stage", "target": "keep", "controls": {"brows": 0.3}, "keys": "smile=0@0s,1@2s"}
    _, request = studio.request(settings)
    assert request.controls == {"smile": Keyed.parse("0@0s,1@2s", "x"), "brows": 0.3}
    first = studio.edit(clip.id, settings)
    assert np.array_equal(first, studio.edit(clip.id, {**settings, "keys": "", "controls": {"brows": 0.3}}))
    assert "--control smile=0@0s,1@2s,brows=0.3" in studio.command(clip.id, settings)
    photo = studio.add_photo(png_bytes(np.asarray(astronaut())), "astronaut.png")
    with pytest.raises(UsageError, match="`controls` smile given as key frames: a photo takes one value"):
        studio.edit(photo.id, settings)


# -- the command line --------------------------------------------------------------------------
def test_apply_records_the_keys_and_refuses_them_on_a_photo(tmp_path):
    """``apply --strength 0@0,1@5 --control smile=0@0s,1@0.2s --light -35,15@0s;35,15@0.2s`` on a
    clip and a photo: the clip's
    record and name say the keys, the photo is an error record naming them (exit 1); a bad key
    is a usage error naming the option and the text (exit 2)."""
    pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
    import os
    import subprocess
    import sys

    from _imgs import astronaut
    from PIL import Image

    from faceedit.video.synth import write_clip

    write_clip(str(tmp_path / "b.mp4"), astronaut(), 6, (224, 168))
    Image.fromarray(astronaut()).resize((256, 256)).save(tmp_path / "a.png")

    def apply(*args):
        return subprocess.run([sys.executable, "-m", "faceedit", "apply", *map(str, args)], capture_output=True,
                              text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)

    out = tmp_path / "out"
    r = apply(tmp_path / "b.mp4", tmp_path / "a.png", "-m", "stage", "-t", "happy", "--strength", "0@0,1@5",
              "--control", "smile=0@0s,1@0.2s", "--light", "-35,15@0s;35,15@0.2s", "-o", out, "--json")
    assert r.returncode == 1, r.stderr
    clip, photo = (json.loads(line) for line in r.stdout.splitlines())
    assert clip["status"] == "ok" and clip["strength"] == "0@0,1@5" and clip["controls"] == {"smile": "0@0s,1@0.2s"}
    assert clip["light"] == "-35,15@0s;35,15@0.2s"
    assert os.path.basename(clip["output"]) == "b_happy_light-35,15@0s;35,15@0.2s_smile-0@0s,1@0.2s_0@0,1@5.mp4"
    assert photo["status"] == "error" and photo["output"] is None
    assert photo["error"] == ("--strength, --light, --control smile given as key frames: a photo takes one value (give a "
                              "number), key frames are for a video")
    bad = apply(tmp_path / "b.mp4", "-m", "stage", "--control", "smile=0@0s,1@1.5", "-o", out)
    assert bad.returncode == 2 and "--control smile '1@1.5': a frame number is whole" in bad.stderr, bad.stderr
