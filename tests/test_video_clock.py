"""The frames' clock the smoothing runs on (:class:`faceedit.video.smooth.FrameClock`), and a real
talking clip that keeps talking under an edit whatever its timestamps claim."""

from __future__ import annotations

import fractions
from pathlib import Path

import numpy as np
import pytest

from faceedit.video.smooth import FrameClock

GRID = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "grid"


def run(clock: FrameClock, stamps) -> list[float]:
    return [clock(s) for s in stamps]


def test_regular_timestamps_are_the_clock():
    clock = FrameClock(25)
    assert run(clock, [3.0 + k / 25 for k in range(10)]) == pytest.approx([3.0 + k / 25 for k in range(10)])
    assert clock.kind == "timestamps" and clock.replaced == 0 and clock.steps == 9


def test_variable_rate_and_a_dropped_frame_kept():
    stamps = [0.0, 0.033, 0.070, 0.100, 0.167, 0.200]  # about 30 fps, one frame dropped (0.133)
    clock = FrameClock(30)
    assert run(clock, stamps) == pytest.approx(stamps)
    assert clock.kind == "timestamps"


def test_a_clock_claiming_another_rate_runs_in_frame_order():
    # a 25-fps talking clip re-stamped 1/1875 s apart; its container announces 1875 fps
    clock = FrameClock(1875)
    got = run(clock, [k / 1875 for k in range(20)])
    assert np.diff(got) == pytest.approx([1 / 25] * 19)
    assert clock.kind == "frame order" and clock.replaced == 19
    # the same stamps under a plausible nominal rate: the nominal period
    clock = FrameClock(30)
    assert np.diff(run(clock, [k / 1875 for k in range(5)])) == pytest.approx([1 / 30] * 4)


def test_jumps_backward_steps_and_missing_stamps_take_one_period():
    clock = FrameClock(25)
    got = run(clock, [0.0, 0.04, 9.0, 9.04, 9.0, None, 9.12])
    assert np.diff(got) == pytest.approx([0.04, 0.04, 0.04, 0.04, 0.04, 0.04])
    # replaced: the jump to 9.0, the step back to 9.0, the missing stamp and the step after it
    assert clock.replaced == 4 and clock.kind == "mixed"


@pytest.mark.parametrize("rate", [None, 0.0, 1e6])
def test_an_unknown_or_implausible_nominal_rate_means_25fps(rate):
    clock = FrameClock(rate)
    assert clock.rate == 25.0
    assert np.diff(run(clock, [None, None, None])) == pytest.approx([0.04, 0.04])


@pytest.fixture(scope="module")
def stage_editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage")


def _retimed(src: str, dst: str, rate: int) -> None:
    """``src`` re-encoded with its frames stamped 1/``rate`` s apart (its pictures unchanged)."""
    import av

    with av.open(src) as c, av.open(dst, "w") as o:
        v = c.streams.video[0]
        s = o.add_stream("libx264", rate=25, options={"bf": "0"})
        s.width, s.height, s.pix_fmt = v.codec_context.width, v.codec_context.height, "yuv420p"
        s.codec_context.time_base = s.time_base = fractions.Fraction(1, rate)
        for i, f in enumerate(c.decode(v)):
            nf = av.VideoFrame.from_ndarray(f.to_ndarray(format="rgb24"), format="rgb24")
            nf.pts, nf.time_base = i, fractions.Fraction(1, rate)
            o.mux(s.encode(nf))
        o.mux(s.encode())


@pytest.mark.skipif(not (GRID / "lbax4n.mpg").is_file(), reason="../shared/data/grid (GRID talking clips) absent")
def test_a_real_talking_clip_keeps_talking_whatever_its_clock(tmp_path, stage_editor):
    """GRID's lbax4n (25 fps, a speaker saying a sentence) made happy, as shipped and re-stamped
    at 1,875 fps: the inner-lip gap of the output follows the input's both times (0.969 and
    0.974 measured), the two edits talk alike (the smoothing ran on the same times), and the
    record says which clock it ran on."""
    av = pytest.importorskip("av")
    from faceedit.models.request import EditRequest
    from faceedit.video.runner import default_tracker, edit_video

    def gaps(path):
        tracker, out = default_tracker(stage_editor), []
        with av.open(path) as c:
            for k, f in enumerate(c.decode(c.streams.video[0])):
                lm = tracker(f.to_ndarray(format="rgb24"), k / 25)[0].face.landmarks
                out.append(np.linalg.norm(lm[66] - lm[62]) / np.linalg.norm(lm[45] - lm[36]))
        return np.array(out)

    shipped = str(GRID / "lbax4n.mpg")
    retimed = str(tmp_path / "lbax4n_1875fps.mp4")
    _retimed(shipped, retimed, 1875)
    edited = []
    for src, clock in ((shipped, "timestamps"), (retimed, "frame order")):
        out = str(tmp_path / (Path(src).stem + "_happy.mp4"))
        record = edit_video(stage_editor, src, out, EditRequest("happy"), progress=False).to_json()
        assert record["clock"] == clock, src
        edited.append(gaps(out))
        assert np.corrcoef(gaps(src), edited[-1])[0, 1] > 0.85, src
    assert np.corrcoef(*edited)[0, 1] > 0.9
