"""MediaPipe's iris model (``iris_landmark.tflite``) refining the Face Mesh's eyes: the crop it
sees around each eye, and its eye contour written back into the mesh.

The Face Mesh's lids barely follow a raised upper lid (a surprised face's wide eyes read
nearly as open as its neutral ones), so the state the stage reads put wide eyes into the
person's identity. The iris model sees a 64-px crop of one eye, from the mesh's eye corners
(:func:`eye_roi`: the corners' box, square on its long side, 2.3 times it, turned with the
corners' line; the image's right eye mirrored, as the model is made for the image's left eye),
and returns 71 eye-contour points (both lids, four rings around them, the brow's lower edge)
and 5 iris points. MediaPipe's own graph writes the contour into the mesh's vertices
(:data:`LEFT_CONTOUR`, :data:`RIGHT_CONTOUR`, its ``refine_landmarks``); here the lids only
(the first :data:`LID_POINTS`), whose points the 68-point eyes are (:mod:`faceedit.faces.mesh68`),
by :func:`refine_lids`. The 5 iris points (its centre, then 4 on its rim) follow the mesh's 468
as MediaPipe's refined mesh has them (:func:`with_irises`, :data:`MESH_WITH_IRISES` points, the
image's left eye first); :func:`iris_points` reads them back. Where the upper lid lies on the
iris tells a raised lid from a wide eye (:func:`lid_over_iris`): a relaxed upper lid covers the
iris's top, and white above the iris is a raised lid whatever the eye's size.
"""

from __future__ import annotations

import numpy as np

from faceedit.faces.crops import crop_to_image, roi_matrix, warp_crop
from faceedit.faces.landmarks import eye_centres

IRIS_SIZE = 64  # the iris model's input side
ROI_SCALE = 2.3  # the crop's side over the eye corners' box (MediaPipe's iris graph)
#: (start, end) mesh corners of the image's left eye and of its right eye.
EYE_CORNERS = ((33, 133), (362, 263))
#: The mesh vertex each of the model's 71 contour points refines, the image's left eye; the
#: first 16 are the lids (9 lower from corner to corner, 7 upper between the corners).
LEFT_CONTOUR = (
    33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173,
    130, 25, 110, 24, 23, 22, 26, 112, 243, 247, 30, 29, 27, 28, 56, 190,
    226, 31, 228, 229, 230, 231, 232, 233, 244, 113, 225, 224, 223, 222, 221, 189,
    35, 124, 46, 53, 52, 65, 143, 111, 117, 118, 119, 120, 121, 128, 245,
    156, 70, 63, 105, 66, 107, 55, 193)
RIGHT_CONTOUR = (
    263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398,
    359, 255, 339, 254, 253, 252, 256, 341, 463, 467, 260, 259, 257, 258, 286, 414,
    446, 261, 448, 449, 450, 451, 452, 453, 464, 342, 445, 444, 443, 442, 441, 413,
    265, 353, 276, 283, 282, 295, 372, 340, 346, 347, 348, 349, 350, 357, 465,
    383, 300, 293, 334, 296, 336, 285, 417)
LID_POINTS = 16
CONTOUR_POINTS = 71
IRIS_POINTS = 5
#: A Face Mesh with both irises' points after its 468 (MediaPipe's refined mesh).
MESH_WITH_IRISES = 468 + 2 * IRIS_POINTS


def eye_roi(mesh: np.ndarray, eye: int) -> tuple[np.ndarray, float, float]:
    """(centre, side, angle) of the iris model's crop of eye ``eye`` (0: the image's left) of a
    (468, 2+) mesh in image pixels."""
    a, b = (np.asarray(mesh, np.float64)[i, :2] for i in EYE_CORNERS[eye])
    d = b - a
    side = ROI_SCALE * float(max(abs(d[0]), abs(d[1])))
    return (a + b) / 2, side, float(np.arctan2(d[1], d[0]))


def eye_crops(image: np.ndarray, mesh: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The iris model's two uint8 (64, 64, 3) crops of a face (the image's left eye, then its
    right eye mirrored) and the (2, 3) image -> crop matrix of each (before the mirroring)."""
    crops, mats = [], []
    for eye in (0, 1):
        m = roi_matrix(*eye_roi(mesh, eye), IRIS_SIZE)
        crop = warp_crop(image, m, IRIS_SIZE)
        crops.append(crop[:, ::-1] if eye == 1 else crop)
        mats.append(m)
    return crops, mats


def contour_to_image(points: np.ndarray, matrix: np.ndarray, mirrored: bool) -> np.ndarray:
    """The model's (K, 3) output in its input's pixel edges -> image pixels (x, y, depth)."""
    p = np.asarray(points, np.float64).reshape(-1, 3).copy()
    if mirrored:
        p[:, 0] = IRIS_SIZE - p[:, 0]
    p[:, :2] -= 0.5  # pixel edges -> the crop's pixel centres, which roi_matrix's frame uses
    return crop_to_image(p, matrix)


def refine_lids(mesh: np.ndarray, contours: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """A copy of the (468, 3) mesh with each eye's lid vertices (the contour's first
    :data:`LID_POINTS`) moved to the iris model's, ``contours`` being the two eyes' (71, 3)
    contours in image pixels; the depth stays the mesh's."""
    out = np.array(mesh, np.float64, copy=True)
    for idx, c in zip((LEFT_CONTOUR, RIGHT_CONTOUR), contours):
        ids = list(idx[:LID_POINTS])
        out[ids, :2] = np.asarray(c, np.float64)[:LID_POINTS, :2]
    return out


def with_irises(mesh: np.ndarray, irises: list[np.ndarray] | tuple[np.ndarray, ...]) -> np.ndarray:
    """(478, 3): the (468, 3) mesh with the two eyes' iris points after it (``irises``: the image's
    left eye's (5, 3), then its right eye's, image pixels); their depth is the mean of that eye's
    lid vertices' (the model's own iris depth is in another scale)."""
    mesh = np.asarray(mesh, np.float64)
    rows = [mesh]
    for idx, pts in zip((LEFT_CONTOUR, RIGHT_CONTOUR), irises):
        p = np.array(pts, np.float64)[:IRIS_POINTS, :3]
        p[:, 2] = mesh[list(idx[:LID_POINTS]), 2].mean()
        rows.append(p)
    return np.vstack(rows)


def iris_points(dense: np.ndarray | None) -> np.ndarray | None:
    """(2, 5, 2) the irises' points (centre, then 4 on the rim; the image's left eye first) of a
    mesh with them (:data:`MESH_WITH_IRISES` points), or None (no mesh, or no iris model ran)."""
    if dense is None or np.shape(dense)[0] < MESH_WITH_IRISES:
        return None
    return np.asarray(dense, np.float64)[468:MESH_WITH_IRISES, :2].reshape(2, IRIS_POINTS, 2)


def lid_over_iris(lm: np.ndarray, irises: np.ndarray) -> np.ndarray:
    """(2,) how far each eye's upper lid lies above its iris's top (the image's left eye first;
    eye distances, below 0 where the lid covers the iris's top, as a relaxed lid does), in the
    face's upright frame (the line through the eyes' centres level): the 68 points' upper lid
    (36-39, 42-45) at the iris centre's column against the centre less the iris's radius (the
    mean distance of its 4 rim points). Neutral faces read about -0.035 (both eyes' mean: London's
    86 at 1350 px, 90 % of them -0.048 to -0.015; JAFFE's -0.028), JAFFE's posed surprise
    0.000 (medians)."""
    lm = np.asarray(lm, np.float64)
    irises = np.asarray(irises, np.float64)
    centres = eye_centres(lm)
    d = centres[1] - centres[0]
    ed = float(np.linalg.norm(d))
    rot = np.array([[d[0], d[1]], [-d[1], d[0]]]) / max(ed, 1e-9)  # the eyes' line to +x

    def up(p: np.ndarray) -> np.ndarray:
        return (np.asarray(p) - centres[0]) @ rot.T

    out = np.empty(2)
    for k, lid in enumerate(((36, 37, 38, 39), (42, 43, 44, 45))):
        # the iris nearest this eye's centre (the points' order is the image's, as are the eyes')
        iris = irises[int(np.argmin(np.linalg.norm(irises[:, 0] - centres[k], axis=1)))]
        curve = up(lm[list(lid)])
        curve = curve[np.argsort(curve[:, 0])]
        c = up(iris[0])
        radius = float(np.linalg.norm(iris[1:] - iris[0], axis=1).mean())
        lid_y = float(np.interp(c[0], curve[:, 0], curve[:, 1]))
        out[k] = ((c[1] - radius) - lid_y) / ed
    return out
