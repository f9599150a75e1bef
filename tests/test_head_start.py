"""Issue 57, item 3: apply decodes and detects its first photos while torch is imported and the
model loads (faceedit.head_start.HeadStart); the engine takes those results instead of redoing
them, and they are the faces it would have found itself."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceedit.faces.detectors import get_detector
from faceedit.faces.detectors.mediapipe import litert_status
from faceedit.head_start import HeadStart, cpu_run
from faceedit.io.decode import read_image

pytestmark = pytest.mark.skipif(litert_status() is not None, reason=f"no LiteRT: {litert_status()}")

MAX_PIXELS = 50_000_000


@pytest.fixture(scope="module")
def photos(tmp_path_factory, astronaut) -> Path:
    """Five photos (the astronaut's head, shifted, one of them mirrored) and an unreadable file."""
    d = tmp_path_factory.mktemp("head")
    for i in range(5):
        head = astronaut[10 * i:300 + 10 * i, 60:360]
        Image.fromarray(head[:, ::-1] if i == 3 else head).save(d / f"p{i}.png")
    (d / "p5.png").write_bytes(b"not a png")
    return d


def _head(photos: Path, detector, keep: int = 2, keep_bytes: int = 0) -> HeadStart:
    return HeadStart(iter(sorted(str(p) for p in photos.iterdir())), detector, max_pixels=MAX_PIXELS,
                     group=2, keep=keep, keep_bytes=keep_bytes)


def test_faces_are_the_detectors_own(photos):
    """Each photo's head start holds the faces the detector finds on that photo alone, pixels for
    the first ``keep`` photos only; an unreadable file holds the decoder's error."""
    det = get_detector("mediapipe", device="cpu")
    head = _head(photos, det)
    try:
        for i in range(5):
            path = str(photos / f"p{i}.png")
            early = head.take(path, det)
            assert early is not None and early.error is None
            assert (early.image is not None) == (i < 2)
            own = det.detect(read_image(path, max_pixels=MAX_PIXELS).rgb8())
            assert len(early.faces) == len(own) == 1
            for a, b in zip(early.faces, own):
                np.testing.assert_array_equal(a.dense, b.dense)
                np.testing.assert_array_equal(a.landmarks, b.landmarks)
                np.testing.assert_array_equal(a.box, b.box)
            assert head.take(path, det) is None  # handed over once
        bad = head.take(str(photos / "p5.png"), det)
        assert bad is not None and bad.error is not None and bad.faces is None
    finally:
        head.close()
    assert head.done == 6 and head.used == 6


def test_pixels_beyond_the_first_kept_within_the_byte_budget(photos):
    """Past the first ``keep`` photos, the decoded pixels are kept while all those kept beyond
    them fit in ``keep_bytes`` (here two photos' worth): the engine decodes only the rest."""
    det = get_detector("mediapipe", device="cpu")
    one = read_image(str(photos / "p0.png"), max_pixels=MAX_PIXELS).pixels.nbytes
    head = _head(photos, det, keep=2, keep_bytes=2 * one)
    try:
        kept = []
        for i in range(5):
            early = head.take(str(photos / f"p{i}.png"), det)
            assert early is not None and early.faces
            kept.append(early.image is not None)
            if early.image is not None:
                own = read_image(str(photos / f"p{i}.png"), max_pixels=MAX_PIXELS)
                np.testing.assert_array_equal(early.image.pixels, own.pixels)
        assert kept == [True, True, True, True, False]
        assert head.kept_bytes == 2 * one
    finally:
        head.close()


def test_another_detector_or_a_stopped_head_start_gives_nothing(photos):
    det = get_detector("mediapipe", device="cpu")
    head = _head(photos, det)
    try:
        assert head.take(str(photos / "p0.png"), object()) is None  # not the engine's detector
    finally:
        head.close()
    head = _head(photos, det)
    head.stop()
    head.close()
    assert head.done <= 2  # at most the group under way when it stopped
    assert head.take(str(photos / "p4.png"), det) is None


def test_begin_only_where_it_cannot_change_the_faces(photos):
    kw = {"max_pixels": MAX_PIXELS, "recursive": False, "group": 2, "keep": 2}
    assert HeadStart.begin(["-"], "auto", "cpu", **kw) is None  # stdin is the planner's
    assert HeadStart.begin([str(photos)], "opencv", "cpu", **kw) is None  # not mediapipe on LiteRT
    assert HeadStart.begin([str(photos)], "mediapipe", "cuda", **kw) is None
    assert not cpu_run("cuda:0") and not cpu_run("mps") and cpu_run("cpu")
    head = HeadStart.begin([str(photos)], "mediapipe", "cpu", **kw)
    assert head is not None
    head.close()


def test_apply_with_a_head_start_writes_what_it_writes_without(tmp_path, photos):
    """The run apply makes (ApplyRun.load_local, with a head start) writes the same bytes as a
    run of the same model built without one (ApplyRun.local)."""
    from faceedit.api import Editor
    from faceedit.apply_options import ApplyOptions
    from faceedit.run import ApplyRun

    specs = [str(photos / f"p{i}.png") for i in range(5)]
    opts = ApplyOptions(["happy"], str(tmp_path / "with"), batch_size=2, workers=2, measure=False)
    run = ApplyRun.load_local("stage", opts, specs, device="cpu", detector="mediapipe")
    head = run.engine.photos.head_start
    assert head is not None
    head._thread.join(60)  # every photo done before the engine starts (here torch was loaded already)
    with_recs = list(run.run(specs))
    assert head.used == 5  # every photo's faces came from the head start
    editor = Editor.from_pretrained("stage", device="cpu", detector="mediapipe")
    opts = ApplyOptions(["happy"], str(tmp_path / "without"), batch_size=2, workers=2, measure=False)
    without_recs = list(ApplyRun.local(editor, opts, progress=False).run(specs))
    assert [r.status for r in with_recs] == [r.status for r in without_recs] == ["ok"] * 5
    for a, b in zip(with_recs, without_recs):
        assert Path(a.output).read_bytes() == Path(b.output).read_bytes()
