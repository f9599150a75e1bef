"""A real talking clip made happy keeps its speech, its lips closing where the speaker's close;
made surprised, its mouth opens on the frames it is at rest (:class:`faceedit.video.edit.ExpressionHold`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

GRID = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "grid"
#: dlib's inner-lip gap (over the outer eye corners' distance) under which the lips are closed
#: (bench/bench_talking.py's CLOSED)
CLOSED = 0.04


def dlib_gaps(path: str) -> np.ndarray:
    """dlib's inner-lip gap (61-67, 62-66, 63-65 over 36-45) of the largest face per frame."""
    av = pytest.importorskip("av")
    dlib = pytest.importorskip("dlib")
    from faceedit.faces.detectors.dlib import SHAPE68, dlib_model

    find, shape = dlib.get_frontal_face_detector(), dlib.shape_predictor(str(dlib_model(SHAPE68)))
    out = []
    with av.open(path) as c:
        for f in c.decode(c.streams.video[0]):
            rgb = np.ascontiguousarray(f.to_ndarray(format="rgb24"))
            boxes = find(rgb, 1)
            if not boxes:
                out.append(np.nan)
                continue
            box = max(boxes, key=lambda b: b.area())
            p = np.array([(q.x, q.y) for q in shape(rgb, box).parts()], np.float64)
            gap = np.mean([np.linalg.norm(p[a] - p[b]) for a, b in ((61, 67), (62, 66), (63, 65))])
            out.append(gap / np.linalg.norm(p[45] - p[36]))
    return np.array(out)


@pytest.fixture(scope="module")
def stage_editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage")


@pytest.mark.skipif(not (GRID / "bbaf2n.mpg").is_file(), reason="../shared/data/grid (GRID talking clips) absent")
def test_a_talking_clip_made_happy_closes_its_lips_with_the_speech(tmp_path, stage_editor):
    """GRID's bbaf2n (a speaker at rest, then saying a sentence) made happy: the output's lips are
    closed (dlib) on most of the frames the input's are (0.85 of 39 measured; 0 before the
    reference's lips closed with the face's), the gap follows the input's (r 0.81 measured); made
    surprised, the mouth at rest opens (the output's gap 0.22 on the input's closed frames)."""
    from faceedit.models.request import EditRequest
    from faceedit.video.runner import edit_video

    src = str(GRID / "bbaf2n.mpg")
    before = dlib_gaps(src)
    closed = before < CLOSED
    assert closed.sum() >= 20
    happy = str(tmp_path / "happy.mp4")
    edit_video(stage_editor, src, happy, EditRequest("happy"), progress=False)
    after = dlib_gaps(happy)
    ok = ~(np.isnan(before) | np.isnan(after))
    assert np.corrcoef(before[ok], after[ok])[0, 1] >= 0.7
    assert np.mean(after[closed & ok] < CLOSED) > 0.6
    surprised = str(tmp_path / "surprised.mp4")
    edit_video(stage_editor, src, surprised, EditRequest("surprised"), progress=False)
    rest = dlib_gaps(surprised)[:10]  # the speaker's first frames: at rest, lips closed
    assert closed[:10].all() and np.nanmedian(rest) > 0.1
