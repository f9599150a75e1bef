"""A closed smile whose crease lies deep in shade, which the Face Mesh reads as lips apart, closed by an edit:
cut on its crease as sealed lips are (faceedit.stage.lips.crease_only), not as an open mouth's dark (cut into the
lower lip, past its shine, and closed up over the upper lip)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _bench import load_bench

from faceedit.stage.lips import crease_only

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LONDON_HD = DATA / "london_hd"

pytestmark = pytest.mark.skipif(not (LONDON_HD / "smiling" / "082.jpg").is_file(),
                                reason="../shared/data/london_hd absent")


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage", device="cpu")


def _mesh(editor, rgb: np.ndarray) -> np.ndarray:
    return max(editor.detector.detect(rgb), key=lambda f: f.area).dense


def test_a_deep_crease_is_told_from_an_open_mouth_teeth_and_a_grey_photo(editor):
    from faceedit.eval import world

    for kind, name, crease in (("smiling", "082", True), ("smiling", "042", True),  # closed smiles, dark creases
                               ("smiling", "018", False), ("smiling", "003", False)):  # a laugh's teeth; a smile
        rgb = world.read_rgb(LONDON_HD / kind / f"{name}.jpg")
        assert crease_only(rgb, _mesh(editor, rgb)) is crease, name
    yale = DATA / "yale" / "subject05.happy.png"
    if yale.is_file():  # (a grey laugh: its teeth are not told from its lips by colour)
        rgb = world.read_rgb(yale)
        assert not crease_only(rgb, _mesh(editor, rgb))


def test_london_082s_closed_smile_made_neutral_keeps_its_upper_lip(editor):
    """London HD 082 smiling (1350 px, lips closed over a crease in shade; the mesh reads them 0.08 eye distances
    apart) made neutral: its upper lip, read by dlib (51 to 62, eye distances), at least 0.9 of its own neutral
    photo's (0.132; 0.130 cut on the crease, 0.099 cut as an open mouth's, the lower lip closed up over it)."""
    from faceedit.eval import world

    read = load_bench("bench_laugh_neutral").Dlib68()

    def upper_lip(rgb: np.ndarray) -> float:
        lm = read(rgb)
        assert lm is not None
        return float((lm[62, 1] - lm[51, 1]) / np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))

    edit = editor.edit(world.read_rgb(LONDON_HD / "smiling" / "082.jpg"), "neutral", force=True)
    assert upper_lip(edit) >= 0.9 * upper_lip(world.read_rgb(LONDON_HD / "neutral" / "082.jpg"))
