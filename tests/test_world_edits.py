"""Edits that hold on the world's faces (issue 55 item 2): a smile made small and made neutral
keeps a lip line no darker than the person's own lips (:func:`faceedit.eval.world.mouth_line`), in their colour.

The reference is what real closed lips show at that size: on the six held-out London faces'
neutral photos cut to 96 px (:func:`faceedit.eval.world.small_face`), each mouth's line is
0.78-0.92 of the darkest tenth of the person's own lips; an edit's line is held to
:data:`CLOSED_LINE`, the least of five of the six: a line drawn darker reads as a drawn line, not a mouth.
"""

import numpy as np
import pytest

from faceedit.eval import world

#: A closed mouth's line over its own lips' darkest tenth, at least (real London neutral mouths
#: at 96 px: 0.78 for 022, 0.84 083, 0.87 019, 0.91 014, 0.92 008 and 061).
CLOSED_LINE = 0.84


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor
    from faceedit.models.hub import weights_present
    from faceedit.models.registry import get_spec

    if not weights_present(get_spec("stage")):
        pytest.skip("the stage's weights are not present")
    return Editor.from_pretrained("stage", device="cpu")


def _neutral(editor, rgb):
    """(the photo made neutral, the 68 points of its face)."""
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    face = editor.detector.detect(rgb)[0]
    return edit_faces(editor, rgb, [face], EditRequest.of("neutral", 1.0)), np.asarray(face.landmarks)


def _points(editor, rgb):
    return np.asarray(editor.detector.detect(rgb)[0].landmarks)


def test_astronaut_at_96_px_made_neutral_keeps_a_lip_line_no_darker_than_her_lips(editor, astronaut):
    lm = _points(editor, astronaut)
    small = world.small_face(astronaut, [lm[36:42].mean(0), lm[42:48].mean(0)], 96)
    out, lm = _neutral(editor, small)
    assert world.mouth_line(out, lm) >= CLOSED_LINE * world.lips_grey(small, lm)


@pytest.mark.shared_data
@pytest.mark.parametrize("i", world.LONDON_IDS)
def test_london_smile_at_96_px_made_neutral_keeps_a_lip_line_no_darker_than_own_lips(editor, shared_data, i):
    """Against the smiling photo's own lips, and against the same person's neutral photo at the
    same size (their closed mouth's own line, within 3 grey levels)."""
    photos = dict(world.london_variants(shared_data / "london_hd", ids=(i,)))
    smiling, neutral = photos[f"london_{i}_smiling_small96"], photos[f"london_{i}_neutral_small96"]
    out, lm = _neutral(editor, smiling)
    line = world.mouth_line(out, lm)
    assert line >= CLOSED_LINE * world.lips_grey(smiling, lm)
    assert line >= world.mouth_line(neutral, _points(editor, neutral)) - 3


@pytest.mark.shared_data
@pytest.mark.parametrize("i", ("008", "022"))
@pytest.mark.parametrize("side", world.SMALL_SIDES)
def test_small_smile_showing_teeth_made_neutral_keeps_none(editor, shared_data, i, side):
    """The teeth between a small smile's lips go when it closes (008 at 96 px, cut with its chin
    left out, kept a strip of them, 5 of its 11 teeth pixels: its Face Mesh's lips lay 0.059 eye
    distances apart, under the gap the cut was taken past the lower teeth at, and colour found no
    interior). 008 at 64 px, its eyes 19 px apart, shows 2 teeth pixels."""
    rgb = dict(world.london_variants(shared_data / "london_hd", ids=(i,), expressions=("smiling",)))[
        f"london_{i}_smiling_small{side}"]
    out, lm = _neutral(editor, rgb)
    lip = world.lips_grey(rgb, lm, 50)
    before = world.teeth_pixels(rgb, lm, lip)
    assert before >= 2
    assert world.teeth_pixels(out, lm, lip) <= max(1, 0.05 * before)


def _line_red(rgb, lm, middle: bool = False) -> float:
    """The red over the luma of a mouth's line: the median over the columns of
    :func:`faceedit.eval.world.mouth_line`'s mouth of its darkest pixel's; ``middle``: over their middle three
    fifths (a mouth made neutral narrows: the outer columns of the input's mouth are then the cheek's, whose
    fold a smile taken away flattens)."""
    import cv2

    grey = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    m = cv2.dilate(world._inside(rgb.shape, np.asarray(lm)[48:60]).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    px = np.array([rgb[np.nonzero(m[:, x])[0][np.argmin(grey[m[:, x], x])], x]
                   for x in range(rgb.shape[1]) if m[:, x].sum() > 2], np.float64)
    if middle:
        px = px[len(px) // 5:len(px) - len(px) // 5]
    return float(np.median(px[:, 0] / (px @ np.array([0.299, 0.587, 0.114]))))


def test_a_group_photo_s_slight_smile_made_neutral_keeps_a_lip_line_in_its_lips_colour(editor):
    """insightface's group_t1, face 1 (48 px between the eyes, lips parted in a slight smile):
    made neutral, its lips' line no darker than its own lips and as red as the photo's own mouth
    line (1.72 of its luma; the edit's middle 1.62; over the whole width a seam darkened in the lips' colour read
    1.56, a grey line; 1.64 in the lips' dark)."""
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    try:
        paths = world.fetch(timeout=30.0)
    except world.WorldUnavailable as e:
        pytest.skip(f"the world photos are not at hand: {e}")
    rgb = world.read_rgb(paths["group_t1"])
    face = sorted(editor.detector.detect(rgb), key=lambda f: -f.area)[1]
    lm = np.asarray(face.landmarks)
    out = edit_faces(editor, rgb, [face], EditRequest.of("neutral", 1.0))
    assert world.mouth_line(out, lm) >= CLOSED_LINE * world.lips_grey(rgb, lm)
    assert _line_red(out, lm, middle=True) >= _line_red(rgb, lm) - 0.1


def _teeth_light(editor, rgb) -> float:
    """A smile's opening read on its own Face Mesh: the 75th percentile of the luma inside the
    inner lips over the median of the lips' (between the inner and the outer lips)."""
    import cv2

    lm = np.asarray(editor.detector.detect(rgb)[0].landmarks)
    luma = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    inner = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.round(lm[60:68]).astype(np.int32)], 1)
    outer = np.zeros_like(inner)
    cv2.fillPoly(outer, [np.round(lm[48:60]).astype(np.int32)], 1)
    return float(np.percentile(luma[inner > 0], 75) / np.median(luma[(outer > 0) & (inner == 0)]))


@pytest.mark.shared_data
@pytest.mark.parametrize("side", (96, 128))
def test_small_smile_over_its_own_teeth_made_happy_shows_teeth_as_a_neutral_face_made_happy(editor, shared_data,
                                                                                           side):
    """London 008 smiling at 96 and 128 px (his own upper teeth a band of a few px) made happy
    shows its teeth as lit over the lips as his neutral photo made happy (1.52, 1.60 over 1.60;
    with the bank's lower row under the own band, 1.23 and 1.27: a lit seam over a grey wall; at 128 px,
    the opening a few px high all along, with the lips' meeting shade over the bank's teeth, 1.26)."""
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    photos = dict(world.london_variants(shared_data / "london_hd", ids=("008",)))

    def happy(rgb):
        return edit_faces(editor, rgb, editor.detector.detect(rgb)[:1], EditRequest.of("happy", 1.0))

    smiling, neutral = (happy(photos[f"london_008_{e}_small{side}"]) for e in ("smiling", "neutral"))
    assert _teeth_light(editor, smiling) >= 0.9 * _teeth_light(editor, neutral)
