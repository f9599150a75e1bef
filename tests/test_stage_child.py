"""A young child's face (:func:`faceedit.faces.reading.reads_child`) gets no adult teeth: made happy its lips part no
wider than the photo shows them, made surprised its opening is dark, the mouth bank's teeth covered
(:func:`faceedit.stage.mouth_steps.teeth_cover`). The face: the astronaut made neutral (her lips closed), read as a
child by her irises made larger (the proportion the reading reads), against the same face with the stage's child
reading turned off (edited as an adult's)."""

from dataclasses import replace
from functools import lru_cache

import cv2
import numpy as np
from skimage.data import astronaut

from faceedit.faces.reading import read_face, reads_child
from faceedit.faces.types import Face
from faceedit.pixels import luma

ONE_TORCH_THREAD = True


@lru_cache(maxsize=1)
def _editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage", device="cpu")


def _edit(rgb: np.ndarray, face: Face, target: str) -> np.ndarray:
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    return edit_faces(_editor(), rgb, [face], EditRequest.of(target, 1.0))


def _largest(rgb: np.ndarray) -> Face:
    return max(_editor().detector.detect(rgb), key=lambda f: f.area)


@lru_cache(maxsize=1)
def _closed_mouth() -> tuple[np.ndarray, Face]:
    rgb = _edit(astronaut(), _largest(astronaut()), "neutral")
    return rgb, _largest(rgb)


def _young(face: Face, s: float = 1.35) -> Face:
    p = np.array(face.dense, np.float64)
    for c in (468, 473):
        p[c + 1:c + 5, :2] = p[c, :2] + s * (p[c + 1:c + 5, :2] - p[c, :2])
    return replace(face, dense=p)


def _mouth(out: np.ndarray) -> tuple[float, float, float]:
    """The edit's mouth as the detector finds it again: its teeth share and its lips' gap (read_face), and the
    90th percentile of the luma (0..1) inside its inner lips, a pixel in from them (the detector's inner lip line
    lies on the lips' rims: on the astronaut made young and surprised, a shift of it by 0.05 px took 7 more rim
    pixels in and the percentile from 0.24 to 0.30; a pixel in, 0.158 and 0.162)."""
    face = _largest(out)
    r = read_face(out, face)
    inner = np.zeros(out.shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.round(np.asarray(face.landmarks)[60:68]).astype(np.int32)], 1)
    inner = cv2.erode(inner, np.ones((3, 3), np.uint8))
    y = luma(out.astype(np.float32) / 255)
    return r.teeth, r.mouth_open, float(np.percentile(y[inner > 0], 90))


def test_the_closed_mouth_reads_closed_and_as_an_adults_and_as_a_childs_with_larger_irises():
    rgb, face = _closed_mouth()
    r = read_face(rgb, face)
    assert r.teeth == 0 and r.mouth_open < 0.03
    assert not reads_child(face.dense) and reads_child(_young(face).dense)


@lru_cache(maxsize=1)
def _open_mouth() -> tuple[np.ndarray, Face]:
    rgb = _edit(astronaut(), _largest(astronaut()), "surprised")
    return rgb, _largest(rgb)


def _as_adult_and_child(monkeypatch, target: str, opened: bool = False) -> tuple[tuple, tuple]:
    """:func:`_mouth` of the young face (its mouth closed, or ``opened``: the astronaut made surprised) made
    ``target`` with the stage's child reading turned off, then on."""
    import faceedit.stage.steps as steps

    rgb, face = _open_mouth() if opened else _closed_mouth()
    with monkeypatch.context() as m:
        m.setattr(steps, "reads_child", lambda dense: False)
        adult = _mouth(_edit(rgb, _young(face), target))
    return adult, _mouth(_edit(rgb, _young(face), target))


def test_a_child_made_happy_smiles_with_its_lips_as_the_photo_shows_them(monkeypatch):
    (adult_teeth, adult_open, _), (child_teeth, child_open, _) = _as_adult_and_child(monkeypatch, "happy")
    assert adult_teeth > 0.1 and adult_open > 0.12  # the adult's smile shows the bank's teeth
    assert child_teeth < 0.02 and child_open < adult_open / 1.5  # (the Face Mesh reads closed lips 0.02-0.08 apart)


def test_a_childs_open_mouth_made_happy_keeps_its_own_dark_inside(monkeypatch):
    assert read_face(*_open_mouth()).mouth_open > 0.2
    (adult_teeth, _, adult_light), (child_teeth, child_open, child_light) = _as_adult_and_child(
        monkeypatch, "happy", opened=True)
    # an adult's opening painted over with the bank's row of teeth (read in the detector's inner lips on the edit:
    # 0.31, 0.17 since the surprised input's lower lids are held on its irises; at 5x the same row, a little thinner)
    assert adult_teeth > 0.12
    assert child_open > 0.1 and child_teeth < 0.05 and child_light < 0.9 * adult_light


def test_a_child_made_surprised_opens_a_dark_mouth_without_the_banks_teeth(monkeypatch):
    (_, adult_open, adult_light), (child_teeth, child_open, child_light) = _as_adult_and_child(monkeypatch,
                                                                                             "surprised")
    assert child_open > 0.15 and child_open > 0.8 * adult_open  # it opens as far
    assert child_teeth < 0.02 and child_light < 0.3 and child_light <= 1.02 * adult_light  # dark, no teeth's tips


def test_a_childs_forehead_made_surprised_folds_shallower_than_an_adults(monkeypatch):
    """Raised brows crease an adult's forehead; a young child's taut skin barely (``FoldsTuning.child_forehead``).
    The astronaut's fringe is painted over with the skin between her brows (lines are not drawn over hair); the
    young face made surprised, read as a child and not: the fine relief (luma less its blur) over the forehead."""
    import faceedit.stage.steps as steps

    rgb, face = _closed_mouth()
    lm = np.asarray(face.landmarks)
    eyes = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    top = float(lm[17:27, 1].min())
    bare = rgb.copy()
    between = lm[[21, 22]].mean(0).astype(int)
    skin = np.median(rgb[between[1] - 6:between[1] + 2, between[0] - 6:between[0] + 6].reshape(-1, 3), 0)
    y0, y1, x0, x1 = int(top - 1.2 * eyes), int(top - 0.12 * eyes), int(lm[17, 0]), int(lm[26, 0])
    noise = np.random.default_rng(0).normal(0, 2, (y1 - y0, x1 - x0, 3))
    bare[y0:y1, x0:x1] = np.clip(skin + noise, 0, 255).astype(np.uint8)
    young = _young(_largest(bare))

    def relief(img: np.ndarray) -> float:
        y = luma(img.astype(np.float32) / 255)
        fine = y - cv2.GaussianBlur(y, (0, 0), 3.0)
        return float(fine[int(top - 0.9 * eyes):int(top - 0.3 * eyes), int(lm[19, 0]):int(lm[24, 0])].std())

    with monkeypatch.context() as m:
        m.setattr(steps, "reads_child", lambda dense: False)
        adult = relief(_edit(bare, young, "surprised"))
    child = relief(_edit(bare, young, "surprised"))
    assert adult > 3 * relief(bare) and child < 0.5 * adult, (relief(bare), adult, child)


def test_a_video_track_keeps_the_child_reading_of_its_first_edit():
    """The reading moves a little from frame to frame: a track's later frames take its first edit's (``carried``),
    so a face near the threshold does not switch between a child's mouth and an adult's."""
    from faceedit.models.request import EditRequest
    from faceedit.stage.records import Carried, StageFace

    rgb, face = _closed_mouth()
    stage = _editor().stage
    young = _young(face)
    out_child, done = stage.edit_photo(rgb, [StageFace(young.landmarks, young.dense)], EditRequest.of("happy"))
    assert done[0].carried.child is True
    # a later frame whose own reading is an adult's, carrying the track's child reading, edits as a child
    carried = Carried(None, None, True)
    out, later = stage.edit_photo(rgb, [StageFace(face.landmarks, face.dense, carried)], EditRequest.of("happy"))
    adult, _ = stage.edit_photo(rgb, [StageFace(face.landmarks, face.dense)], EditRequest.of("happy"))
    assert later[0].carried.child is True
    assert _mouth(out)[0] < 0.02 < 0.1 < _mouth(adult)[0]
    assert Carried(3, None, None).merged(Carried(None, None, False)).child is False


def _baby_eye(radius: float):
    """(unit RGB, opening polygon): a 60-px eye 22 px open, a light white and a dark iris of ``radius`` eye widths
    centred in it (its top and bottom under the lids), blurred as a photo is."""
    img = np.full((90, 120, 3), 0.75, np.float32)
    t = np.linspace(0, 1, 9)
    x = 30 + 60 * t
    upper, lower = np.c_[x, 45 - 11 * np.sin(np.pi * t)], np.c_[x, 45 + 11 * np.sin(np.pi * t)]
    poly = np.vstack([upper, lower[1:-1][::-1]])
    eye, iris = np.zeros((90, 120), np.uint8), np.zeros((90, 120), np.uint8)
    cv2.fillPoly(eye, [np.round(poly * 4).astype(np.int32)], 255, shift=2)
    cv2.circle(iris, (60 * 4, 45 * 4), int(round(radius * 60 * 4)), 255, -1, shift=2)
    img[eye > 0] = 0.85
    img[(eye > 0) & (iris > 0)] = 0.2
    return cv2.GaussianBlur(img, (0, 0), 1.0), poly


def test_a_childs_iris_is_kept_at_its_size_not_the_iris_models():
    """A baby's iris fills more of its eye (0.34 of its width here) than the iris model reads (0.26): searched as an
    adult's it is found near the model's radius and the white drawn round it cuts its top off; a child's search
    finds its edge."""
    from faceedit.stage.eyes import child_irises, child_search, find_iris
    from faceedit.stage.tuning import EyesTuning

    tuning = EyesTuning()
    img, poly = _baby_eye(0.34)
    model = np.array([[[60.0, 45.0]] + [[60.0 + 0.26 * 60 * np.cos(a), 45.0 + 0.26 * 60 * np.sin(a)]
                                         for a in np.linspace(0, 1.5 * np.pi, 4)]] * 2)
    rim = float(np.linalg.norm(model[0, 1:] - model[0, 0], axis=1).mean())
    adult = find_iris(img, poly, tuning, rim)
    child = find_iris(img, poly, child_search(tuning), float(np.linalg.norm(
        child_irises(model, tuning)[0, 1:] - model[0, 0], axis=1).mean()))
    assert adult is not None and child is not None
    assert adult[1] < 0.3 * 60 and abs(child[1] - 0.34 * 60) < 0.03 * 60
