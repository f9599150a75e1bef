"""The stage's change kept as a patch (faceedit.pipeline._changed_patch): the bounding box of
every pixel that differs, found by comparing rows as wide words, is the one an element by element
comparison gives, for any row width, channel count and dtype."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faceedit.pipeline import _changed_patch


def _box_by_elements(before: np.ndarray, after: np.ndarray):
    ys, xs = np.nonzero((before != after).reshape(before.shape[0], before.shape[1], -1).any(-1))
    return None if ys.size == 0 else (ys.min(), ys.max() + 1, xs.min(), xs.max() + 1)


@pytest.mark.parametrize("shape,dtype", [((96, 128, 3), np.uint8), ((61, 37, 3), np.uint8),
                                         ((40, 33, 3), np.uint16), ((50, 31), np.uint8)])
def test_changed_patch_is_the_box_of_every_changed_pixel(shape, dtype):
    rng = np.random.default_rng(7)
    before = rng.integers(0, 200, shape, dtype=dtype)
    assert _changed_patch(before, before.copy()) is None
    for _ in range(30):
        after = before.copy()
        for _ in range(int(rng.integers(1, 4))):  # single levels of single channels, anywhere
            y, x = int(rng.integers(0, shape[0])), int(rng.integers(0, shape[1]))
            where = (y, x) if len(shape) == 2 else (y, x, int(rng.integers(0, shape[2])))
            after[where] += 1
        box, patch = _changed_patch(before, after)
        assert tuple(int(v) for v in box) == tuple(int(v) for v in _box_by_elements(before, after))
        y0, y1, x0, x1 = box
        np.testing.assert_array_equal(patch, after[y0:y1, x0:x1])


def test_a_photos_last_output_is_drawn_on_its_decoded_pixels_and_the_others_on_copies():
    from faceedit.pipeline import _drawn_on

    pixels = np.zeros((8, 9, 3), np.uint8)
    assert _drawn_on(pixels, True) is pixels
    other = _drawn_on(pixels, False)
    assert other is not pixels and not np.shares_memory(other, pixels) and np.array_equal(other, pixels)
    pixels.flags.writeable = False  # (a read-only buffer is copied even for the last)
    last = _drawn_on(pixels, True)
    assert last is not pixels and last.flags.writeable


def test_each_output_of_a_photo_is_the_one_it_gets_alone(tmp_path, astronaut):
    """Two targets and two strengths of one photo (the stage's patch on each): every output, the
    last drawn on the decoded pixels, is the one a run asking for it alone writes, bit for bit."""
    from PIL import Image

    from faceedit.api import Editor
    from faceedit.apply_options import ApplyOptions
    from faceedit.run import ApplyRun

    d = tmp_path / "in"
    d.mkdir()
    Image.fromarray(astronaut[:300, 60:360]).save(d / "p.png")
    editor = Editor.from_pretrained("stage")

    def apply_to(out, targets, strengths):
        opts = ApplyOptions(targets=targets, strengths=strengths, out_dir=str(out), workers=1,
                            name_template="{stem}_{target}_{strength}{ext}")
        recs = list(ApplyRun.local(editor, opts).run([str(d)]))
        assert recs and all(r.status == "ok" for r in recs), [(r.status, r.error) for r in recs]
        return {Path(r.output).name: np.asarray(Image.open(r.output)) for r in recs}

    together = apply_to(tmp_path / "together", ["happy", "surprised"], [0.5, 1.0])
    assert len(together) == 4
    for name, px in together.items():
        target, strength = name.split("_")[1], float(name.split("_")[2].rsplit(".", 1)[0])
        alone = apply_to(tmp_path / f"alone_{target}_{strength}", [target], [strength])
        assert np.array_equal(next(iter(alone.values())), px), name
    src = np.asarray(Image.open(d / "p.png"))
    assert all(not np.array_equal(px, src) for px in together.values())
