"""A face whose eyes the photo shows shut (a blink) made happy: the mouth bank's teeth are not balanced or capped by
the lids' skin read as eye whites (:func:`faceedit.stage.mouth.sclera_colour` reads none there)."""

from functools import lru_cache

import cv2
import numpy as np
from skimage.data import astronaut

from faceedit.stage.mouth import SCLERA_OPEN, sclera_colour

ONE_TORCH_THREAD = True


def _eye(x0: float, open_: float, width: float = 30.0, y: float = 40.0) -> np.ndarray:
    h = open_ * width / 2
    return np.array([[x0, y], [x0 + width / 3, y - h], [x0 + 2 * width / 3, y - h], [x0 + width, y],
                     [x0 + 2 * width / 3, y + h], [x0 + width / 3, y + h]], np.float64)


def test_shut_eyes_read_no_whites():
    img = np.full((80, 120, 3), (200, 150, 130), np.uint8)  # lid skin
    img[36:45, 25:45] = img[36:45, 75:95] = (235, 235, 230)  # whites where the eyes are open
    lm = np.zeros((68, 2))
    lm[36:42], lm[42:48] = _eye(20, 0.3), _eye(70, 0.3)
    assert sclera_colour(img, lm) is not None and sclera_colour(img, lm)[2] > 0.85
    lm[36:42], lm[42:48] = _eye(20, 0.5 * SCLERA_OPEN), _eye(70, 0.5 * SCLERA_OPEN)  # a blink
    assert sclera_colour(img, lm) is None
    lm[42:48] = _eye(70, 0.3)  # one eye open (a wink): its whites are read
    assert sclera_colour(img, lm) is not None


@lru_cache(maxsize=1)
def _editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage", device="cpu")


def _edit(rgb, target, **controls):
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    face = max(_editor().detector.detect(rgb), key=lambda f: f.area)
    return edit_faces(_editor(), rgb, [face], EditRequest.of(target, 1.0, controls=controls or None)), face


def test_a_blinking_face_made_happy_gets_the_teeth_of_its_open_eyed_self():
    """The astronaut made neutral (lips closed), then her eyes closed by the stage's blink: made happy, her teeth are
    as light and as neutral as the same face's with its eyes open (their lids read as eye whites had capped them at
    1.4 times the lids' light and tinted them toward the skin: London 061 0.65 -> 0.31 of white)."""
    neutral, _ = _edit(astronaut(), "neutral")
    blinked, _ = _edit(neutral, "keep", blink=1.0)
    open_happy, face = _edit(neutral, "happy")
    shut_happy, _ = _edit(blinked, "happy")
    inner = np.zeros(neutral.shape[:2], np.uint8)
    happy_face = max(_editor().detector.detect(open_happy), key=lambda f: f.area)
    cv2.fillPoly(inner, [np.round(np.asarray(happy_face.landmarks)[60:68]).astype(np.int32)], 1)

    def teeth(rgb):
        px = rgb[inner > 0].astype(np.float64) / 255
        y = px @ [0.299, 0.587, 0.114]
        return px[y >= np.percentile(y, 75)].mean(0)

    a, b = teeth(open_happy), teeth(shut_happy)
    assert float(a @ [0.299, 0.587, 0.114]) > 0.55  # teeth, lit
    assert np.abs(a - b).max() < 0.05, (a, b)
