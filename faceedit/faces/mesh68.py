"""Fixed mapping from MediaPipe's 468-point Face Mesh to the 68-point iBUG layout (dlib, FAN).

Each iBUG point is one mesh vertex or a point on the segment between two (``(vertex, weight)``
pairs whose weights sum to 1). Eyes (36-47) are the mesh's own eye-contour vertices (corners
33/133 and 362/263, lids 160/158, 153/144, 385/387, 373/380). Every other point lies on the mesh
contour it belongs to: jaw 0-16 on the face oval, brows 17-26 on the brow rows, outer lip 48-59
on the outer lip contours, inner lip 60-67 on the inner ones (so the mapping follows an opening
mouth), nose 27-35 on pairs of nose vertices. Where on its contour each point sits (the pair and
the weight) was fitted by least squares to dlib's 68 points on the London Set's odd-numbered
subjects (neutral and smiling photos; Face Research Lab London Set, DeBruine & Jones 2017,
CC BY 4.0, doi 10.6084/m9.figshare.5047666.v5), each face first brought to a common frame by a
similarity transform of its mesh.

Measured with the ``mediapipe`` backend on the 43 held-out (even-numbered) London neutral photos,
distances / dlib's inter-ocular distance: 0.049 from dlib's points on average (jaw 0.077, brows
0.050, nose 0.025, eyes 0.040, mouth 0.041); the eye centres (means of 36-41 and 42-47) are
0.030 of the inter-pupil distance from the Set's hand-placed pupils, dlib's 0.038
(bench/bench_faces.py).
"""

from __future__ import annotations

import numpy as np

# iBUG index -> [(mesh vertex, weight), ...]
MESH68 = [
    [(127, 1.0)],  # 0
    [(93, 0.3), (234, 0.7)],  # 1
    [(132, 0.54), (93, 0.46)],  # 2
    [(58, 0.69), (132, 0.31)],  # 3
    [(172, 0.91), (58, 0.09)],  # 4
    [(150, 0.31), (136, 0.69)],  # 5
    [(149, 0.94), (150, 0.06)],  # 6
    [(148, 0.64), (176, 0.36)],  # 7
    [(152, 1.0)],  # 8
    [(400, 0.4), (377, 0.6)],  # 9
    [(379, 0.07), (378, 0.93)],  # 10
    [(365, 0.69), (379, 0.31)],  # 11
    [(288, 0.04), (397, 0.96)],  # 12
    [(361, 0.26), (288, 0.74)],  # 13
    [(323, 0.41), (361, 0.59)],  # 14
    [(454, 0.64), (323, 0.36)],  # 15
    [(356, 0.97), (454, 0.03)],  # 16
    [(70, 0.61), (46, 0.39)],  # 17
    [(63, 0.69), (53, 0.31)],  # 18
    [(105, 0.66), (66, 0.34)],  # 19
    [(66, 0.64), (107, 0.36)],  # 20
    [(107, 0.29), (55, 0.71)],  # 21
    [(336, 0.33), (285, 0.67)],  # 22
    [(296, 0.74), (336, 0.26)],  # 23
    [(334, 0.8), (296, 0.2)],  # 24
    [(300, 0.2), (293, 0.8)],  # 25
    [(300, 0.87), (276, 0.13)],  # 26
    [(168, 0.72), (351, 0.28)],  # 27
    [(351, 0.58), (3, 0.42)],  # 28
    [(281, 0.6), (3, 0.4)],  # 29
    [(4, 0.77), (274, 0.23)],  # 30
    [(240, 0.6), (97, 0.4)],  # 31
    [(242, 0.61), (167, 0.39)],  # 32
    [(164, 0.64), (370, 0.36)],  # 33
    [(326, 0.93), (393, 0.07)],  # 34
    [(327, 0.6), (328, 0.4)],  # 35
    [(33, 1.0)],  # 36
    [(160, 1.0)],  # 37
    [(158, 1.0)],  # 38
    [(133, 1.0)],  # 39
    [(153, 1.0)],  # 40
    [(144, 1.0)],  # 41
    [(362, 1.0)],  # 42
    [(385, 1.0)],  # 43
    [(387, 1.0)],  # 44
    [(263, 1.0)],  # 45
    [(373, 1.0)],  # 46
    [(380, 1.0)],  # 47
    [(61, 0.59), (146, 0.41)],  # 48
    [(40, 0.26), (39, 0.74)],  # 49
    [(37, 0.78), (0, 0.22)],  # 50
    [(0, 0.95), (267, 0.05)],  # 51
    [(267, 0.91), (269, 0.09)],  # 52
    [(269, 0.48), (270, 0.52)],  # 53
    [(375, 0.22), (291, 0.78)],  # 54
    [(405, 0.64), (321, 0.36)],  # 55
    [(314, 1.0)],  # 56
    [(17, 0.94), (314, 0.06)],  # 57
    [(84, 0.88), (17, 0.12)],  # 58
    [(91, 0.19), (181, 0.81)],  # 59
    [(78, 0.47), (95, 0.53)],  # 60
    [(81, 0.07), (82, 0.93)],  # 61
    [(13, 0.9), (312, 0.1)],  # 62
    [(312, 0.67), (311, 0.33)],  # 63
    [(324, 0.27), (308, 0.73)],  # 64
    [(317, 0.76), (402, 0.24)],  # 65
    [(14, 0.92), (317, 0.08)],  # 66
    [(87, 1.0)],  # 67
]

_IDX = np.array([[v for v, _ in r] + [r[0][0]] * (2 - len(r)) for r in MESH68])
_W = np.array([[w for _, w in r] + [0.0] * (2 - len(r)) for r in MESH68])


def mesh_to_68(pts: np.ndarray) -> np.ndarray:
    """(468,2+) mesh points (or (N,468,2+)) -> (68,2) (or (N,68,2)) iBUG landmarks, float64."""
    p = np.asarray(pts, np.float64)[..., :2]
    return np.einsum("kj,...kjd->...kd", _W, p[..., _IDX, :])


#: The mesh's face oval, in order around the face (MediaPipe's FACEMESH_FACE_OVAL contour):
#: from the top of the forehead (vertex 10) down the face's left side in the image, round the chin
#: (152) and back up. Unlike the 68 points it follows the forehead and the temples.
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]


def face_oval(dense: np.ndarray) -> np.ndarray:
    """(36,2) float64 face-oval contour of (468,2+) mesh points."""
    return np.asarray(dense, np.float64)[FACE_OVAL, :2]
