"""A photo driven by a video's performance (:mod:`faceedit.video.drive`, ``apply --like VIDEO``):
the head pose read back, the opening's gain, the lids (a blink both eyes, a wink one), and driven clips that keep the driver's frame count,
rate and audio and open their mouth with it (a project-made talking clip; a real GRID one,
skipped without ``../shared``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from faceedit.stage.pose import rotation
from faceedit.video.drive import Performance, angles, closed_states, head_rotation, opening_gain, rest_readings

GRID = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "grid"
LONDON_HD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "london_hd" / "neutral"


@pytest.mark.parametrize("pose", [(0.5, 0.0, 0.0), (0.0, -0.4, 0.0), (0.0, 0.0, 0.7), (0.3, 0.2, -0.4)])
def test_head_pose_read_back_as_the_stage_turns_it(pose):
    """A mesh turned by :func:`faceedit.stage.pose.rotation` (x right, y down, h = -z towards the
    camera) is read back as that turn, in the controls' units (15 degrees at 1)."""
    rng = np.random.default_rng(0)
    mesh = rng.normal(size=(468, 3)) * [60.0, 80.0, 30.0] + [200.0, 240.0, 0.0]
    r = rotation(*pose)
    xyh = mesh * [1.0, 1.0, -1.0]
    c = xyh.mean(0)
    turned = ((xyh - c) @ r.T + c) * [1.0, 1.0, -1.0]
    assert angles(r) / 15.0 == pytest.approx(pose, abs=1e-9)
    assert angles(head_rotation(turned, mesh)) / 15.0 == pytest.approx(pose, abs=1e-6)


def test_the_opening_gain_scales_only_what_goes_with_the_gap():
    rng = np.random.default_rng(1)
    v, other = rng.normal(size=8), rng.normal(size=8)
    gaps = np.abs(np.sin(np.arange(30) / 3.0)) * 0.05
    steady = np.outer(np.cos(np.arange(30)), other)
    steady -= np.outer(gaps, (gaps @ steady) / (gaps @ gaps))  # no part along the gap
    expression = np.outer(gaps, v) + steady
    out = opening_gain(expression, gaps, 3.0)
    assert out == pytest.approx(np.outer(gaps, 3 * v) + steady)
    assert opening_gain(expression, np.zeros(30), 3.0) is expression  # lips that never part


def test_the_clips_own_rest_is_its_most_closed_mouth_with_its_usual_eyes():
    """A clip that starts mid-word (mouth open) rests on its closed mouth (the gap of the lowest
    tenth of its lip gaps, the state's opening part closed), not on its first frame; its lids'
    rest is their usual opening (a blink's three frames do not move it); the frame it records is
    a closed-mouth one."""
    n, rng = 40, np.random.default_rng(3)
    gap = np.r_[np.full(6, 0.15), 0.08 + 0.06 * np.abs(np.sin(np.arange(26) / 2.0)), np.full(8, 0.02)]
    gap[:] += rng.normal(0, 0.003, n)
    mouth, brow = rng.normal(size=5), rng.normal(size=5)
    expression = np.outer(gap, mouth) + np.outer(np.cos(np.arange(n) / 5.0), brow) * 0.1
    aperture = np.full((n, 2), 0.05)
    aperture[20:23] = 0.9  # a blink
    r = {"expression": expression, "gap": gap, "aperture": aperture, "shut": aperture.copy(),
         "rotation": np.repeat(np.eye(3)[None], n, 0), "iris": np.zeros((n, 2, 2)), "found": np.ones(n, bool)}
    rest = rest_readings(r)
    assert rest["frame"] >= 32 and rest["gap"] < 0.03, rest["frame"]
    assert rest["expression"] @ mouth / (mouth @ mouth) < 0.03  # the opening's part: closed
    assert rest["aperture"] == pytest.approx([0.05, 0.05])
    r["found"][32:] = False  # the closed frames untracked: the rest is the tracked frames' most closed
    assert rest_readings(r)["frame"] < 32 and rest_readings(r)["gap"] < 0.1


def test_the_clips_rest_is_read_from_many_frames_not_its_closed_ones_alone():
    """The rest's expression state is every tracked frame's carried to the closed gap along the
    opening's direction (their median): the few closed-mouth frames read off by one rendering's
    offset (all of them: a made clip's closed frames are one picture) move it by a small part of
    that offset, where the closed frames' own median moves by all of it; the opening's part of
    the rest is the closed mouth's."""
    n, rng = 40, np.random.default_rng(5)
    gap = 0.02 + 0.12 * (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / 8))
    mouth, calm = rng.normal(size=6), rng.normal(size=6)
    expression = np.outer(gap, mouth) + calm + rng.normal(0, 0.02, (n, 6))
    r = {"expression": expression, "gap": gap, "aperture": np.zeros((n, 2)), "shut": np.zeros((n, 2)),
         "rotation": np.repeat(np.eye(3)[None], n, 0), "iris": np.zeros((n, 2, 2)), "found": np.ones(n, bool)}
    rest = rest_readings(r)
    assert rest["expression"] == pytest.approx(calm + 0.02 * mouth, abs=0.03)
    closed = gap <= np.quantile(gap, 0.1)
    offset = rng.normal(size=6)
    offset *= 0.5 / np.linalg.norm(offset)
    r["expression"] = expression + closed[:, None] * offset
    moved = rest_readings(r)["expression"] - rest["expression"]
    assert np.linalg.norm(moved) < 0.2 * np.linalg.norm(offset)
    assert closed_states(expression, np.full(n, 0.05), 0.02) == pytest.approx(expression)  # no talking: as read
    r["gap"] = np.full(n, 0.05)  # a still mouth: every frame is as closed as the clip gets
    assert rest_readings(r)["expression"] == pytest.approx(np.median(r["expression"], 0))


@pytest.mark.parametrize("closure, winks, lids", [
    ((0.8, 0.7), (1.0, 1.0), {"blink": 0.75}),  # a blink: both eyes, their mean, as closed as the mean reads
    ((0.0, 0.24), (0.0, 0.45), {"blink": 0.12}),  # lbax4n talking: one lid reads a little closed
    ((0.44, 0.0), (0.66, 0.0), {"wink_right": 0.66}),  # the image's left eye alone: the person's right
    ((0.05, 0.3), (0.0, 0.7), {"wink_left": 0.7}),  # the other eye under the deadband: no blink
    ((0.3, 0.9), (0.4, 1.0), {"wink_left": 1.0, "blink": 0.3}),  # one eye half, the other shut
])
def test_a_wink_closes_its_own_eye_and_a_blink_both(closure, winks, lids):
    """Performance.controls: eyes closed alike are the blink at their mean closure; one eye's
    wink value further than WINK_APART over the other's is that eye's wink (the driver's own right
    eye, on the image's left, is the photo's own right: ``wink_right``), the other's closure the blink."""
    perf = Performance(np.zeros((1, 3)), np.array([closure]), np.zeros((1, 2)), np.zeros((1, 3)), np.ones(1, bool),
                       winks=np.array([winks]))
    got = {k: v for k, v in perf.controls(0).items() if k in ("blink", "wink_left", "wink_right") and v}
    assert got == pytest.approx(lids)


def test_a_winking_driver_closes_one_of_the_photos_eyes(tmp_path, stage_editor):
    """A driver made by the stage (the astronaut, 256 px, 12 frames: frames 3-5 its ``wink_right``
    at 1, 8-9 its ``blink`` at 1) drives the astronaut at 320 px. Its wink frames are read as the
    person's right eye's wink alone, its blink frames as a blink; on the output, read by the
    project's blendshape reader, the photo's own right eye (the image's left, ``eyeBlinkRight``)
    reads more closed than its left on the wink frames than on the open ones (by 0.055 measured;
    0.01 when the driver's two eyes were averaged into one blink), and both read closed on the
    blink frames (0.32 to 0.52 measured, 0.02 to 0.05 open)."""
    pytest.importorskip("av")
    import cv2

    from faceedit.faces.blendshapes import BlendshapeReader
    from faceedit.models.request import EditRequest
    from faceedit.video.drive import drive_photo
    from faceedit.video.runner import default_tracker
    from faceedit.video.synth import write_clip
    from tests._imgs import astronaut

    photo = astronaut()
    tracker = default_tracker(stage_editor)
    face = max(tracker.faces([photo])[0], key=lambda f: f.area)

    def look(controls):
        return stage_editor.stage.edit_photo(photo, [face], EditRequest.of("keep", 1.0, controls=controls))[0]

    shots = {0: photo, 1: look({"wink_right": 1.0}), 2: look({"blink": 1.0})}
    plan = [0, 0, 0, 1, 1, 1, 0, 0, 2, 2, 0, 0]
    driver = tmp_path / "wink.mp4"
    write_clip(str(driver), photo, len(plan), (256, 256), photos=lambda k: shots[plan[k]])
    still = cv2.resize(photo, (320, 320), interpolation=cv2.INTER_AREA)
    result = drive_photo(stage_editor, still, str(driver), str(tmp_path / "out.mp4"))
    perf = result.performance
    assert perf is not None
    for k in (3, 4, 5):
        lids = perf.controls(k)
        assert lids["wink_right"] > 0.5 and lids["wink_left"] == 0.0 and lids["blink"] == 0.0, (k, lids)
    for k in (8, 9):
        lids = perf.controls(k)
        assert lids["blink"] > 0.5 and lids["wink_right"] == lids["wink_left"] == 0.0, (k, lids)
    reader = BlendshapeReader()
    shut = []
    for rgb in _clip(tmp_path / "out.mp4")[0]:
        shapes = reader.read(rgb, [max(tracker.faces([rgb])[0], key=lambda f: f.area)])[0]
        shut.append((shapes["eyeBlinkRight"], shapes["eyeBlinkLeft"]))
    shut = np.array(shut)
    side = shut[:, 0] - shut[:, 1]  # the image's left eye over its right
    opened = [k for k, p in enumerate(plan) if p == 0]
    assert side[3:6].mean() > side[opened].mean() + 0.03, side.round(3)
    assert shut[8:10].min() > 0.25 and shut[opened].max() < 0.1, shut.round(3)


def _clip(path):
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = [np.ascontiguousarray(f.to_ndarray(format="rgb24")) for f in c.decode(v)]
        return frames, float(v.average_rate or v.guessed_rate), len(c.streams.audio)


@pytest.fixture(scope="module")
def stage_editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage")


def test_a_made_talking_clip_drives_a_photo_through_the_cli(tmp_path, stage_editor):
    """The astronaut's mouth opened and closed by the stage every 8 frames, 24 frames at 25 fps
    with a tone: ``apply PHOTO --like CLIP`` writes the driver's frame count, rate and audio
    stream, and the photo's inner lips (read on the output by the tracker's Face Mesh) part
    with the driver's (r > 0.8; 0.98 measured against the rest read from all the frames, 0.66
    against the closed frames' median: they are all one stage rendering of the closed mouth)."""
    pytest.importorskip("av")
    import cv2
    from PIL import Image
    from typer.testing import CliRunner

    from faceedit.cli import app
    from faceedit.stage.state import lip_gap
    from faceedit.video.runner import default_tracker
    from faceedit.video.synth import talking, write_clip
    from tests._imgs import astronaut

    photo = astronaut()
    face = max(default_tracker(stage_editor).faces([photo])[0], key=lambda f: f.area)
    driver = tmp_path / "talk.mp4"
    write_clip(str(driver), photo, 24, (256, 256), photos=talking(stage_editor.stage, photo, face))
    still = tmp_path / "still.png"
    Image.fromarray(cv2.resize(photo, (320, 320), interpolation=cv2.INTER_AREA)).save(still)
    r = CliRunner().invoke(app, ["apply", str(still), "-m", "stage", "--like", str(driver), "-o",
                                 str(tmp_path / "out"), "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    rec = json.loads([line for line in r.stdout.splitlines() if line.startswith("{")][-1])
    assert rec["status"] == "ok" and rec["frames"] == 24
    out, rate, audio = _clip(rec["output"])
    drv, drate, daudio = _clip(driver)
    assert (len(out), rate, audio) == (len(drv), drate, daudio) == (24, 25.0, 1)
    assert out[0].shape == (320, 320, 3)

    def gaps(frames):
        tracker = default_tracker(stage_editor)
        return np.array([lip_gap(tracker(f, k / 25)[0].face.landmarks) for k, f in enumerate(frames)])

    g_out, g_drv = gaps(out), gaps(drv)
    assert np.ptp(g_out) > 0.03  # the photo's mouth does open and close
    assert np.corrcoef(g_out, g_drv)[0, 1] > 0.8


@pytest.mark.skipif(not (GRID / "lbax4n.mpg").is_file() or not (LONDON_HD / "019.jpg").is_file(),
                    reason="../shared/data (GRID clips, London HD) absent")
def test_a_real_talking_clip_drives_a_held_out_face(tmp_path, stage_editor):
    """GRID's lbax4n (a speaker saying a sentence, 75 frames at 25 fps, with audio) drives the
    held-out London face 019 at 360 px, read against the clip's own rest (its closed mouth at
    the end): the output has the driver's frame count, rate and audio, and its inner-lip gap,
    read by dlib on every frame, follows the driver's (r >= 0.85; 0.949 measured, 0.944 against
    its frame 60, and 0.687 against its first frame, mid-word with the mouth open)."""
    pytest.importorskip("av")
    import cv2

    from faceedit.faces.detectors import get_detector
    from faceedit.video.drive import drive_photo

    photo = cv2.cvtColor(cv2.imread(str(LONDON_HD / "019.jpg")), cv2.COLOR_BGR2RGB)
    photo = cv2.resize(photo, (360, 360), interpolation=cv2.INTER_AREA)
    out = tmp_path / "019_like-lbax4n.mp4"
    result = drive_photo(stage_editor, photo, str(GRID / "lbax4n.mpg"), str(out))
    assert result.to_json()["like_rest"] == "auto" and result.neutral >= 55  # its closed mouth, at the end
    frames, rate, audio = _clip(out)
    drv, drate, daudio = _clip(GRID / "lbax4n.mpg")
    assert (len(frames), rate, audio) == (len(drv), drate, daudio) == (75, 25.0, 1) == (result.frames, 25.0, 1)
    dlib = get_detector("dlib")

    def gap(rgb):
        lm = np.asarray(max(dlib.detect(rgb), key=lambda f: f.area).landmarks, np.float64)
        return np.mean([np.linalg.norm(lm[a] - lm[b]) for a, b in ((61, 67), (62, 66), (63, 65))]) / np.linalg.norm(
            lm[45] - lm[36])

    assert np.corrcoef([gap(f) for f in frames], [gap(f) for f in drv])[0, 1] >= 0.85



@pytest.mark.skipif(not (GRID / "swiz3n.mpg").is_file(), reason="../shared/data/grid (GRID talking clips) absent")
def test_a_real_video_takes_the_drivers_expression(tmp_path, stage_editor):
    """GRID's swiz3n (one speaker) driven by bbaf2n (another; ``drive_video``, its own head motion
    kept): the output has swiz3n's frames, rate and audio, and its inner-lip gap (dlib) follows
    the driver's (r >= 0.6; 0.73 measured) far more than its own speech (0.33 measured)."""
    pytest.importorskip("av")
    from faceedit.faces.detectors import get_detector
    from faceedit.video.drive import drive_video

    out = tmp_path / "swiz3n_like-bbaf2n.mp4"
    result = drive_video(stage_editor, str(GRID / "swiz3n.mpg"), str(GRID / "bbaf2n.mpg"), str(out))
    frames, rate, audio = _clip(out)
    src, srate, saudio = _clip(GRID / "swiz3n.mpg")
    assert (len(frames), rate, audio) == (len(src), srate, saudio) == (result.frames, 25.0, 1)
    dlib = get_detector("dlib")

    def gaps(clip):
        out = []
        for rgb in clip:
            lm = np.asarray(max(dlib.detect(rgb), key=lambda f: f.area).landmarks, np.float64)
            out.append(np.mean([np.linalg.norm(lm[a] - lm[b]) for a, b in ((61, 67), (62, 66), (63, 65))])
                       / np.linalg.norm(lm[45] - lm[36]))
        return np.array(out)

    g_out, g_drv, g_src = gaps(frames), gaps(_clip(GRID / "bbaf2n.mpg")[0]), gaps(src)
    follows, own = np.corrcoef(g_out, g_drv)[0, 1], np.corrcoef(g_out, g_src)[0, 1]
    assert follows >= 0.6 and follows > own + 0.2, (follows, own)


@pytest.mark.parametrize("extra", [["--like-keep", "mouth"], ["--ext", ".png"]])
def test_a_drive_the_cli_cannot_make_is_a_usage_error_before_any_work(tmp_path, extra):
    """``--like VIDEO`` with a --like-keep it does not know, or a photo extension for the video it
    writes: exit 2 naming the option, before the model loads."""
    pytest.importorskip("av")
    from typer.testing import CliRunner

    from faceedit.cli import app
    from faceedit.video.synth import write_clip
    from tests._imgs import gradient

    clip = tmp_path / "driver.mp4"
    write_clip(str(clip), gradient(96, 128), 4, (64, 48))
    r = CliRunner().invoke(app, ["apply", str(clip), "-m", "stage", "--like", str(clip), "-o", str(tmp_path / "o"),
                                 *extra])
    assert r.exit_code == 2, r.output
    assert extra[0] in r.output
    assert not (tmp_path / "o").exists()
