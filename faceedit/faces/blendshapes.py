"""ARKit's 52 blendshape coefficients of a face, read by MediaPipe's own face blendshapes model.

MediaPipe's face landmarker bundle (``face_landmarker.task``, Apache 2.0) holds two networks this
module runs with LiteRT on the CPU, both shipped unchanged in ``weights/`` (``weights/blendshapes.md``):

* ``face_landmarks_detector.tflite``: Face Mesh v2, a 256-px crop in, 478 points out (the 468 of
  the Face Mesh and 10 iris points, the same numbering as the detector's refined mesh);
* ``face_blendshapes.tflite``: 146 of those 478 points (x, y) in (:data:`SUBSET`, the indices of
  MediaPipe's ``face_blendshapes_graph``), 52 scores 0..1 out (:data:`NAMES`): ``_neutral``, no
  blendshape, left out of what :meth:`BlendshapeReader.read` returns, and 51 of Apple ARKit's 52
  blendshapes under their names (all but ``tongueOut``).

MediaPipe's graph gives the model the points in image pixels (its normalised landmarks times the
image's width and height); the model centres and scales them itself (its output moves by less
than 1e-5 when the points are shifted by 100 px and halved). The points are Face Mesh v2's: the
blendshapes model was made on them. On the detector's own 478 points (Face Mesh v1 with the iris
model's lids and irises) it reads worse (``bench/bench_blendshapes_read.py --detector-mesh``):
``browInnerUp`` on London's 86 neutral faces median 0.13 against v2's 0.008, smiling above neutral
``mouthSmile`` in 83 of the 86 pairs against 86, JAFFE's posed surprise ``jawOpen`` median 0.26
against 0.43. So each face is meshed again by v2 on a crop found from the detector's points
(:func:`roi_from_points`: the detector's mesh where it has one, else its 68 landmarks), then
once more on the crop of v2's own mesh, as MediaPipe's tracking does from frame to frame.

Left and right are ARKit's, the person's own: ``eyeBlinkLeft`` is the eye on the image's right
of an unmirrored photo (measured: the stage's ``wink_left``, which closes that eye, raises
``eyeBlinkLeft``; docs/blendshapes.md).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from faceedit.edits.arkit import SHAPES, UNREAD
from faceedit.faces.mediapipe_common import crop_to_image, roi_from_mesh, roi_matrix, warp_crop

#: The 52 outputs of the blendshapes model, in its order: ``_neutral``, then ARKit's names
#: (:data:`faceedit.edits.arkit.SHAPES` without ``tongueOut``, which it does not read).
NAMES = ("_neutral", *(n for n in SHAPES if n != UNREAD))
#: The 51 ARKit blendshapes the model reads (its outputs less ``_neutral``; ARKit's 52 less
#: ``tongueOut``), in the model's order.
ARKIT = NAMES[1:]
#: The 146 of Face Mesh v2's 478 points the blendshapes model reads, in its input's order
#: (MediaPipe's face_blendshapes_graph: lips, eyes, brows, nose, the face's outline, both irises).
SUBSET = (
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39, 40, 46, 52, 53, 54, 55, 58, 61, 63, 65,
    66, 67, 70, 78, 80, 81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133, 136,
    144, 145, 146, 148, 149, 150, 152, 153, 154, 155, 157, 158, 159, 160, 161, 162, 163, 168, 172,
    173, 176, 178, 181, 185, 191, 195, 197, 234, 246, 249, 251, 263, 267, 269, 270, 276, 282, 283,
    284, 285, 288, 291, 293, 295, 296, 297, 300, 308, 310, 311, 312, 314, 317, 318, 321, 323, 324,
    332, 334, 336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380, 381, 382, 384, 385,
    386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454, 466, 468, 469, 470, 471, 472,
    473, 474, 475, 476, 477,
)
MESH_V2_SIZE = 256  # Face Mesh v2's input side
MESH_V2_POINTS = 478
#: weights/manifest.json's ``files`` names of the two .tflite files.
TFLITE_NAMES = {"mesh": "facemesh_v2_tflite", "blendshapes": "blendshapes_tflite"}


def roi_from_points(points: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Face Mesh's crop (centre, side, angle) from a face's points in image pixels: a mesh (468
    or more points) as MediaPipe re-crops from one (:func:`roi_from_mesh`); 68 iBUG landmarks as
    the box of the mesh they stand for (the brows to the chin, widened by a quarter upwards for
    the forehead the 68 lack), rolled with the outer eye corners (36, 45)."""
    p = np.asarray(points, np.float64)[:, :2]
    if len(p) >= 468:
        return roi_from_mesh(p[:468])
    if len(p) != 68:
        raise ValueError(f"{len(p)} landmarks: reading blendshapes needs a face mesh or 68 landmarks")
    d = p[45] - p[36]
    angle = float(np.arctan2(d[1], d[0]))
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, s], [-s, c]])  # image -> upright frame
    q = p @ rot.T
    lo, hi = q.min(0), q.max(0)
    lo[1] -= 0.25 * (hi[1] - lo[1])  # the forehead above the brows
    centre = ((lo + hi) / 2) @ rot
    return centre, float((hi - lo).max()) * 1.5, angle


class BlendshapeReader:
    """Reads the ARKit blendshapes of faces from a photo and the faces a detector found there.
    Interpreters are made per calling thread (a LiteRT interpreter serves one thread at a time).

    ``files``: {"mesh": Face Mesh v2 .tflite, "blendshapes": blendshapes .tflite}; default the
    shipped ones (:func:`faceedit.weights.shipped_file`)."""

    def __init__(self, files: dict[str, Path] | None = None, num_threads: int = 1):
        from faceedit.errors import UsageError
        from faceedit.faces.litert_faces import litert_importable

        if not litert_importable():
            raise UsageError("reading blendshapes needs LiteRT: pip install ai-edge-litert")
        if files is None:
            from faceedit.weights import shipped_file

            files = {k: shipped_file(n) for k, n in TFLITE_NAMES.items()}
        missing = [str(p) for p in files.values() if not Path(p).is_file()]
        if missing:
            raise UsageError(f"reading blendshapes needs {', '.join(missing)} (MediaPipe's face landmarker "
                             "files, weights/blendshapes.md)")
        self._models = {k: Path(files[k]).read_bytes() for k in ("mesh", "blendshapes")}
        self.num_threads = max(1, int(num_threads))
        self._local = threading.local()
        self._nets()  # a bad file fails here, not at the first face

    def _nets(self) -> dict:
        nets = getattr(self._local, "nets", None)
        if nets is None:
            from faceedit.faces.litert_faces import _interpreter

            nets = self._local.nets = {k: _interpreter(m, self.num_threads) for k, m in self._models.items()}
        return nets

    def mesh(self, image: np.ndarray, points: np.ndarray, passes: int = 2) -> np.ndarray:
        """(478, 3) Face Mesh v2 points in image pixels (x, y; z in the same units) of the face
        whose detector points are ``points`` (a mesh or 68 landmarks), on ``image`` (uint8 RGB):
        the first pass on :func:`roi_from_points`' crop, each further one on the last mesh's."""
        it = self._nets()["mesh"]
        inp = it.get_input_details()[0]["index"]
        out = next(d["index"] for d in it.get_output_details() if int(np.prod(d["shape"])) == MESH_V2_POINTS * 3)
        roi = roi_from_points(points)
        pts = np.empty((MESH_V2_POINTS, 3))
        for _ in range(max(1, passes)):
            m = roi_matrix(*roi, MESH_V2_SIZE)
            crop = warp_crop(image, m, MESH_V2_SIZE)
            it.set_tensor(inp, (crop.astype(np.float32) * np.float32(1 / 255))[None])
            it.invoke()
            p = it.get_tensor(out).reshape(MESH_V2_POINTS, 3).astype(np.float64)
            p[:, :2] -= 0.5  # the network's pixel edges -> the crop's pixel centres
            pts = crop_to_image(p, m)
            roi = roi_from_mesh(pts[:468])
        return pts

    def scores(self, mesh: np.ndarray) -> np.ndarray:
        """(52,) the blendshapes model's outputs (:data:`NAMES` order) on a (478, 2+) mesh in
        image pixels."""
        it = self._nets()["blendshapes"]
        x = np.asarray(mesh, np.float32)[list(SUBSET), :2][None]
        it.set_tensor(it.get_input_details()[0]["index"], np.ascontiguousarray(x))
        it.invoke()
        return it.get_tensor(it.get_output_details()[0]["index"]).reshape(-1).astype(np.float64)

    def read(self, image: np.ndarray, faces: list) -> list[dict[str, float]]:
        """Per face (a :class:`faceedit.faces.types.Face`: its ``dense`` mesh where it has one,
        else its 68 landmarks), {ARKit name: coefficient 0..1} in :data:`ARKIT` order."""
        out = []
        for f in faces:
            pts = f.dense if getattr(f, "dense", None) is not None else f.landmarks
            b = self.scores(self.mesh(image, pts))
            out.append({n: float(v) for n, v in zip(NAMES[1:], b[1:])})
        return out


def to_json(coefficients: dict[str, float]) -> dict[str, float]:
    """A face's coefficients rounded for a record (4 decimals), ARKit's order."""
    return {n: round(float(coefficients[n]), 4) for n in ARKIT if n in coefficients}
