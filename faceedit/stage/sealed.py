"""The teeth a smile shows below the Face Mesh's inner lower lip, where the mesh lays that line
along their top: lips the mesh reads apart are sealed only where none show there
(:func:`lips_sealed_over_lip`), a closing mouth's lower cut goes past them
(:func:`past_lower_teeth`), and the line past them bounds where a smile's teeth's colour is read
(:func:`lower_teeth_line`)."""

from __future__ import annotations

import numpy as np

from faceedit.stage.lips import MESH_INNER_LOWER, MESH_OUTER_LOWER, below_lower_teeth, lips_sealed
from faceedit.stage.tuning_lips import LipsTuning


def teeth_below(rgb: np.ndarray, mesh: np.ndarray, tuning: LipsTuning | None = None) -> bool:
    """Whether the photo shows teeth between the Face Mesh's inner lower lip and its outer lower
    lip (``mesh``: (468, 2|3) points): :func:`lower_teeth_line` finds them."""
    return lower_teeth_line(rgb, mesh, tuning) is not None


def lower_teeth_line(rgb: np.ndarray, mesh: np.ndarray, tuning: LipsTuning | None = None) -> np.ndarray | None:
    """The Face Mesh's inner lower lip (``mesh``: (468, 2|3) points) moved past the lower teeth the photo
    shows between it and the outer lower lip (:func:`~faceedit.stage.lips.below_lower_teeth`; (N, 2), left
    corner first), where it moved at least ``tuning.teeth_below_share`` of the way to the outer line, the
    median over its middle third; else None."""
    tuning = tuning or LipsTuning()
    xy = np.asarray(mesh, np.float64)[:, :2]
    inner, outer = xy[MESH_INNER_LOWER], xy[MESH_OUTER_LOWER]
    moved = below_lower_teeth(rgb, inner, outer, tuning=tuning)
    n = len(inner)
    middle = slice(n // 3, n - n // 3)
    way = np.linalg.norm(outer[middle] - inner[middle], axis=1)
    share = np.linalg.norm(moved[middle] - inner[middle], axis=1) / np.maximum(way, 1e-6)
    return moved if float(np.median(share)) >= tuning.teeth_below_share else None


def lips_sealed_over_lip(rgb: np.ndarray, mesh: np.ndarray, tuning: LipsTuning | None = None) -> bool:
    """:func:`~faceedit.stage.lips.lips_sealed`, and no teeth below the mesh's inner lower lip
    (:func:`teeth_below`): where the mesh lays a smile's inner lower lip along the top of its lower
    teeth, the pixels between its inner lines are lip and the lips read sealed, and a neutral edit
    kept the teeth as lower lip (insightface's group_t1 face 2, lips 0.067 eye distances apart)."""
    return lips_sealed(rgb, mesh, tuning) and not teeth_below(rgb, mesh, tuning)


def past_lower_teeth(rgb: np.ndarray, lower: np.ndarray, mesh: np.ndarray, tuning: LipsTuning | None = None
                     ) -> np.ndarray:
    """A closing open mouth's lower cut ``lower`` ((N, 2), the mesh's inner lower lip's N points
    moved onto the crease and widened, left corner first) moved past the dark and teeth below it
    (:func:`~faceedit.stage.lips.below_lower_teeth`, ``through_dark``) and, where teeth show
    below the mesh's own inner lower lip (:func:`teeth_below`), each point at least as far toward
    the outer lower lip as the teeth and dark below that line reach (the same search from it,
    whose columns read the lip's colour on the lip itself). Moved onto the crease above a smile's lower teeth, the cut's
    columns reach the teeth with their outer two fifths, read them as the lip's colour and find
    none (insightface's group_t1 face 2: the cut 0.2 px below the mesh's line in the middle, the
    teeth 4 px below it)."""
    xy = np.asarray(mesh, np.float64)[:, :2]
    outer = xy[MESH_OUTER_LOWER]
    cut = below_lower_teeth(rgb, lower, outer, through_dark=True, tuning=tuning)
    if not teeth_below(rgb, mesh, tuning):
        return cut
    own = below_lower_teeth(rgb, xy[MESH_INNER_LOWER], outer, through_dark=True, tuning=tuning)
    if len(own) != len(cut):
        return cut
    way = outer - np.asarray(lower, np.float64)
    norm = np.maximum((way ** 2).sum(1), 1e-9)
    further = ((own - cut) * way).sum(1) / norm > 0
    return np.where(further[:, None], own, cut)
