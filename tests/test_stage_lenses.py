"""Eyes behind sunglasses (faceedit.faces.reading.eyes_hidden): the stage holds the brows and the eyes where they are
and keeps the lenses' own pixels (faceedit.stage.lenses), and edits the rest of the face."""

from functools import lru_cache

import numpy as np
from _bench import load_bench
from skimage.data import astronaut

from faceedit.stage.lenses import hold_eyes, lens_mask

ONE_TORCH_THREAD = True


@lru_cache(maxsize=1)
def _editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage", device="cpu")


def _largest(rgb):
    return max(_editor().detector.detect(rgb), key=lambda f: f.area)


def test_hold_eyes_keeps_the_brows_and_eyes_and_moves_the_rest():
    lm = np.arange(136, dtype=np.float64).reshape(68, 2)
    goal = lm + 3.0
    held = hold_eyes(goal, lm)
    assert np.array_equal(held[17:27], lm[17:27]) and np.array_equal(held[36:48], lm[36:48])
    assert np.array_equal(held[48:], goal[48:]) and np.array_equal(held[:17], goal[:17])


def test_sunglasses_stay_as_they_are_and_the_mouth_is_edited():
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    bench = load_bench("bench_covered")
    lm = np.asarray(_largest(astronaut()).landmarks, np.float64)
    lensed = bench.draw_lenses(astronaut(), lm, bench.LENSES["black"])
    face = _largest(lensed)
    (x0, y0, x1, y1), cover = lens_mask(lensed, face.landmarks)
    assert cover.max() > 0.99 and (cover > 0.99).sum() > 0.5 * np.pi * (0.4 * 43) ** 2  # two lenses found
    for target in ("surprised", "neutral", "happy"):
        out = edit_faces(_editor(), lensed, [face], EditRequest.of(target))
        lens = cover > 0.99
        diff = np.abs(out[y0:y1, x0:x1].astype(int) - lensed[y0:y1, x0:x1].astype(int)).max(-1)
        assert diff[lens].max() <= 1, target  # the lenses as the photo has them
        mouth = np.asarray(face.landmarks)[48:68]
        mx0, my0 = mouth.min(0).astype(int)
        mx1, my1 = mouth.max(0).astype(int)
        assert np.abs(out[my0:my1, mx0:mx1].astype(int) - lensed[my0:my1, mx0:mx1].astype(int)).max() > 30, target
