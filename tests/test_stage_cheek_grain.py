"""The grain a small face's flattened cheeks keep (faceedit.stage.cheek_grain.keep_grain): drawn
where the flattening took it, above the nose's tip (round an opened mouth, down to the chin), on a
small face only; a London training smile cut small and made neutral keeps its upper cheeks' grain
as the person's own neutral photo does."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

#: The real neutral photo's upper-cheek grain over the smiling photo's, London HD training ids 001,
#: 002, 003, 004, 006, 007, 009 cut to 96 and 128 px (``bench/measure_laugh_grain.py``): 0.68-1.10
#: (mean 0.94); the stage's edit on a23d49f read 0.45-0.94 (004 at 96 px 0.45, 009 0.47).
REAL_GRAIN = (0.68, 1.10)


def _crop(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    before = (150.0 + 6.0 * rng.standard_normal((80, 80, 3))).astype(np.float32)
    after = cv2.GaussianBlur(before, (0, 0), 2.0)  # the grain taken off
    return before, after


def _hp(x: np.ndarray) -> np.ndarray:
    y = x @ np.float32([0.299, 0.587, 0.114])
    return y - cv2.GaussianBlur(y, (0, 0), 1.0)


def test_grain_is_drawn_again_above_the_nose_tip_of_a_small_face():
    from faceedit.stage.cheek_grain import keep_grain
    from faceedit.stage.tuning import EditTuning

    before, after = _crop()
    mask = np.ones((80, 80), np.float32)
    flat = float(_hp(after)[5:35].std())
    out = keep_grain(before, after.copy(), mask, (40.0, 40.0), 30.0, EditTuning())  # 30 px between the eyes
    assert float(_hp(out)[5:35].std()) > 2.0 * flat  # above the nose's tip: grain again
    assert float(_hp(before)[5:35].std()) * 0.5 < float(_hp(out)[5:35].std()) < float(_hp(before)[5:35].std())
    np.testing.assert_allclose(out[46:], after[46:], atol=1e-4)  # below it: as flattened
    # the colour kept: all channels scaled alike
    ratio = out[10:30] / after[10:30]
    np.testing.assert_allclose(ratio[..., 0], ratio[..., 2], rtol=1e-4)


def test_round_an_opened_mouth_the_grain_is_drawn_down_to_the_chin():
    """A laugh made surprised flattens the skin round its new opening too (``around_mouth``): the
    grain is drawn there as above the nose's tip, ``cheek_grain_below_open`` eye distances down."""
    from faceedit.stage.cheek_grain import keep_grain
    from faceedit.stage.tuning import EditTuning

    before, after = _crop()
    mask = np.ones((80, 80), np.float32)
    tn = EditTuning()
    tip = 10.0
    foot = int(tip + tn.cheek_grain_below_open * 30.0) - 3  # (above the feather's edge)
    closed = keep_grain(before, after.copy(), mask, (40.0, tip), 30.0, tn)
    opened = keep_grain(before, after.copy(), mask, (40.0, tip), 30.0, tn, opened=True)
    np.testing.assert_allclose(closed[16:], after[16:], atol=1e-4)  # below the tip: as flattened
    assert float(_hp(opened)[16:foot].std()) > 2.0 * float(_hp(after)[16:foot].std())
    assert float(_hp(opened)[16:foot].std()) < float(_hp(before)[16:foot].std())


def test_no_grain_drawn_on_a_large_face_or_where_none_was_taken():
    from faceedit.stage.cheek_grain import keep_grain
    from faceedit.stage.tuning import EditTuning

    before, after = _crop(1)
    mask = np.ones((80, 80), np.float32)
    tn = EditTuning()
    big = 1.01 * tn.cheek_grain_px / tn.cheek_fine  # its finer blur past the grain's scale
    assert np.array_equal(keep_grain(before, after.copy(), mask, (40.0, 40.0), big, tn), after)
    assert np.array_equal(keep_grain(before, after.copy(), mask, (40.0, 40.0), 30.0, replace(tn, cheek_grain=0.0)), after)
    out = keep_grain(before, before.copy(), mask, (40.0, 40.0), 30.0, tn)  # nothing taken: nothing drawn
    np.testing.assert_allclose(out, before, atol=1e-3)


def _upper_grain(rgb: np.ndarray, lm: np.ndarray) -> float:
    from faceedit.faces.landmarks import eye_distance
    from faceedit.stage.smile import _cheek_mask

    y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    hp = y - cv2.GaussianBlur(y, (0, 0), 1.0)
    mask = _cheek_mask(y.shape, lm, 0.05 * eye_distance(lm)) > 0.9
    return float(hp[mask & (np.arange(y.shape[0])[:, None] < lm[30][1])].std())


@pytest.mark.parametrize("pid", ["004", "009"])
def test_a_small_training_smile_made_neutral_keeps_its_cheek_grain(shared_data, pid):
    from faceedit.api import Editor
    from faceedit.eval.world import london_variants
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    london = shared_data / "london_hd"
    if not (london / "smiling" / f"{pid}.jpg").is_file():
        pytest.skip(f"no London HD smiling photo {pid} under {london}")
    rgb = dict(london_variants(london, ids=(pid,), expressions=("smiling",)))[f"london_{pid}_smiling_small96"]
    ed = Editor.from_pretrained("stage", device="cpu")
    face = ed.detector.detect(rgb)[0]
    lm = np.asarray(face.landmarks, np.float64)
    edit = edit_faces(ed, rgb, [face], EditRequest.of("neutral", 1.0))
    ratio = _upper_grain(edit, lm) / _upper_grain(rgb, lm)
    assert REAL_GRAIN[0] <= ratio <= REAL_GRAIN[1], f"{pid} at 96 px: upper cheeks' grain {ratio:.2f} of the smile's"
