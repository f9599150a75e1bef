"""A real expression's shape moved onto another person's neutral face: the expression classifier's
geometric transfer (:meth:`faceedit.train.analysis.classifier.ClassifierTrainer.transfer`).

An expressive crop's landmarks, less its subject's neutral ones (after the two are brought
together by a similarity on the points an expression leaves in place: eye corners and nose),
are that person's expression as a move of the 68 points. Turned and scaled into another face's
frame (the similarity between the two neutral faces' stable points), the move drives a dense,
fold-free warp of that other face (the stage's thin-plate-spline field,
:func:`faceedit.stage.warp.backward_field`: the face region moves, what lies beyond it does
not). What the warp cannot make, an opened mouth's teeth and cavity, folds and furrows, is the
expressive crop less its neutral warped into its geometry; it can be added, itself warped into
the new face's geometry. Every pixel of the result comes from real photos: a real face, moved
by a real person's real expression.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.faces.align import similarity_transform
from faceedit.stage.warp import WARP_POINTS, ThinPlateSpline, backward_field, face_grid, warp_photo

#: The points a similarity between two faces (or two photos of one face) is fitted on: eye
#: corners and nose, which an expression leaves in place.
STABLE_POINTS = [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45]
#: How much of the chin's move each jaw point (0-16) takes: all at the chin, none at the ears. The
#: jaw contour's own moves between two photos are mostly the head turning (and the detector's
#: uncertainty on a contour), not the expression; what an expression does to the jaw is drop it.
JAW_FOLLOWS_CHIN = np.cos(np.linspace(-np.pi / 2, np.pi / 2, 17)) ** 2
#: Grid cells per side of the warp's field on a working-size crop (a 48-px crop: 2 px a cell).
CELLS = 24


def similarity(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A (2, 2), t (2,)): the least-squares similarity taking points ``src`` (N, 2) onto
    ``dst``, ``dst ~ src @ A.T + t`` (:func:`faceedit.faces.align.similarity_transform`'s, split)."""
    m = similarity_transform(src, dst)
    return m[:, :2], m[:, 2]


def expression_move(crop_lm: np.ndarray, base_lm: np.ndarray, target_lm: np.ndarray) -> np.ndarray:
    """Where ``target_lm`` (68, 2) go when that face makes the expression of a crop whose
    landmarks are ``crop_lm``, its subject's neutral ones ``base_lm``: the crop's landmarks
    brought onto the neutral's by a similarity on :data:`STABLE_POINTS` (the photos' framing
    and head pose left out), their move from the neutral (the jaw's: the chin's, fading to
    none at the ears, :data:`JAW_FOLLOWS_CHIN`) turned and scaled by the similarity from that
    neutral to the target face, added to the target's landmarks."""
    crop_lm, base_lm = np.asarray(crop_lm, np.float64), np.asarray(base_lm, np.float64)
    target_lm = np.asarray(target_lm, np.float64)
    a1, t1 = similarity(crop_lm[STABLE_POINTS], base_lm[STABLE_POINTS])
    move = crop_lm @ a1.T + t1 - base_lm
    move[:17] = JAW_FOLLOWS_CHIN[:, None] * move[8]
    a2, _ = similarity(base_lm[STABLE_POINTS], target_lm[STABLE_POINTS])
    return target_lm + move @ a2.T


def warp_face(image: np.ndarray, lm: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """``image`` (S, S) float32 warped so that its landmarks ``lm`` go to ``moved``: the
    stage's fold-free field (a move that would fold is scaled down until it does not), zero
    beyond the face region."""
    grid = face_grid(lm, cells=CELLS)
    field, _ = backward_field(lm, moved, grid)
    return warp_photo(np.ascontiguousarray(image, np.float32), grid, field)


def carry(image: np.ndarray, lm: np.ndarray, onto: np.ndarray) -> np.ndarray:
    """``image`` (S, S) of a face at ``lm`` resampled into the geometry of another face at
    ``onto`` (68, 2 each): a smoothed thin-plate spline through :data:`WARP_POINTS`, taking
    each output pixel to where its place on the face lies in ``image`` (borders: zero)."""
    s = image.shape[-1]
    tps = ThinPlateSpline(np.asarray(onto, np.float64)[WARP_POINTS], np.asarray(lm, np.float64)[WARP_POINTS],
                          reg=1e-2)
    ys, xs = np.mgrid[0:s, 0:s].astype(np.float64)
    src = tps(np.stack([xs, ys], -1)).astype(np.float32)
    return cv2.remap(np.ascontiguousarray(image, np.float32), src[..., 0], src[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


def low_pass(image: np.ndarray, sigma: float) -> np.ndarray:
    """``image`` (S, S) blurred by a Gaussian of ``sigma`` px (none at 0): an appearance
    change's large structures (an opened mouth, teeth, a fold's shading) without the grain and
    sharpness by which one photo set's scans differ from another's."""
    if sigma <= 0:
        return np.asarray(image, np.float32)
    return cv2.GaussianBlur(np.ascontiguousarray(image, np.float32), (0, 0), sigmaX=float(sigma),
                            borderType=cv2.BORDER_REPLICATE)


def nearest_pose(lm: np.ndarray, candidates: np.ndarray) -> int:
    """Which of ``candidates`` (K, 68, 2) lies nearest in head pose to ``lm`` (68, 2): the least
    residual, after a similarity, on the points an expression leaves in place
    (:data:`STABLE_POINTS`) and the jaw's outer contour (what turns with the head)."""
    keep = STABLE_POINTS + [0, 1, 2, 3, 13, 14, 15, 16]
    lm = np.asarray(lm, np.float64)[keep]
    best, best_err = 0, np.inf
    for k, c in enumerate(np.asarray(candidates, np.float64)):
        a, t = similarity(c[keep], lm)
        err = float(((c[keep] @ a.T + t - lm) ** 2).sum())
        if err < best_err:
            best, best_err = k, err
    return best


def appearance_change(crop: np.ndarray, crop_lm: np.ndarray, base: np.ndarray, base_lm: np.ndarray) -> np.ndarray:
    """What an expression changes besides the geometry, in the expressive crop's geometry: the
    crop less its neutral ``base`` warped onto the crop's landmarks (teeth, an opened mouth,
    folds; (S, S) float32)."""
    return np.asarray(crop, np.float32) - warp_face(base, base_lm, crop_lm)
