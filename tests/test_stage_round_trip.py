"""The shipped stage's round trip on the astronaut: a neutral face made X and then neutral again
gives back its landmarks (the stage's detector, found again on each edit), for every expression
target. The astronaut's own photo smiles a little, so the neutral face is her photo made neutral.
With the shared data: JAFFE's open-mouthed surprise made neutral is not scaled down."""

from __future__ import annotations

import numpy as np
import pytest
from _imgs import astronaut

from faceedit.api import Editor
from faceedit.faces.landmarks import eye_distance

#: The issue's bar: landmarks back within this many eye distances of the neutral face's (mean
#: point distance). The detector's own noise on the astronaut (the neutral face made neutral
#: again) measures 0.014.
ROUND_TRIP = 0.035
#: Targets whose round trip is known to miss the bar (mean distance measured 0.049 surprised,
#: 0.062 angry): the detector re-reads the stage's own surprised move at 0.38 of its size and
#: angry's at 0.15, so the way back undoes only that much (weights/stage.md, "From expressive
#: faces"); angry's own added moves (brows drawn in, lips pressed: ``moves.TARGET_MOVES``) are
#: not in the expression state, and the way back does not read them at all.
MISSES = {"surprised", "angry"}
#: Of those, the ones whose way back still heads for the face.
HEADS_BACK = {"surprised"}

@pytest.fixture(scope="module")
def neutral_face():
    ed = Editor.from_pretrained("stage", device="cpu")
    img = ed.edit(astronaut(), "neutral", face="largest")
    return ed, img, _landmarks(ed, img)


def _landmarks(ed: Editor, rgb: np.ndarray) -> np.ndarray:
    faces = [f for f in ed.detector.detect(rgb) if np.shape(f.landmarks) == (68, 2)]
    assert faces, "no face found"
    return np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64)


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b, axis=1).mean() / eye_distance(a))


@pytest.mark.parametrize("target", ["happy", "sad", "surprised", "angry", "disgusted", "fearful", "sleepy",
                                    "wink"])
def test_neutral_to_target_and_back_gives_the_face_back(neutral_face, target):
    ed, img, lm = neutral_face
    there = ed.edit(img, target, face="largest")
    back = ed.edit(there, "neutral", face="largest")
    moved, returned = _distance(lm, _landmarks(ed, there)), _distance(lm, _landmarks(ed, back))
    assert moved > 0.015, f"{target}: the edit barely moved the face ({moved:.3f})"
    if target in MISSES:
        if target in HEADS_BACK:
            assert returned < moved, f"{target}: back {returned:.3f} eye distances away, the edit {moved:.3f}"
        pytest.xfail(f"{target}: back within {returned:.3f} eye distances (known to miss {ROUND_TRIP})")
    assert returned < ROUND_TRIP, f"{target}: back within {returned:.3f} eye distances, not {ROUND_TRIP}"


@pytest.mark.shared_data
def test_posed_open_surprise_made_neutral_is_not_scaled_down(shared_data):
    """JAFFE's open-mouthed surprised photos made neutral: the move is not scaled down (a cut
    deep in a thin lip folded it, and the mouth stayed open) and the moved landmarks' lips meet
    (what the pixels between them show: the stage's card, "From expressive faces")."""
    from PIL import Image

    from faceedit.stage.state import LIPS_CLOSED, lip_gap

    ed = Editor.from_pretrained("stage", device="cpu")
    checked = 0
    for p in sorted((shared_data / "jaffe").glob("*.SU*.png")):
        rgb = np.asarray(Image.open(p).convert("RGB"))
        faces = [f for f in ed.detector.detect(rgb) if np.shape(f.landmarks) == (68, 2)]
        if not faces or lip_gap(faces[0].landmarks) < 0.15:
            continue
        _, done = ed.stage.edit_photo(rgb, [faces[0].landmarks], "neutral", dense=[faces[0].dense])
        assert done[0].scale == 1.0, f"{p.name}: the move scaled to {done[0].scale:.2f}"
        assert lip_gap(done[0].landmarks) < LIPS_CLOSED, p.name
        checked += 1
    assert checked >= 10
