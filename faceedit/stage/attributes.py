"""The attributes' painters on the stage (each named by its record in
:mod:`faceedit.edits.attributes`) and :func:`paint_attribute`, which runs the registered painter
of an attribute: glasses drawn as a posed 3D frame (:mod:`faceedit.stage.glasses`), hair
recoloured (:mod:`faceedit.stage.hair`), skin toned (:mod:`faceedit.stage.skin`) and brows
thickened or thinned (:mod:`faceedit.stage.brows`), hair and skin over the head's mattes
(:mod:`faceedit.stage.regions`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from faceedit.edits.attributes import ATTRIBUTES
from faceedit.edits.controls import resolve
from faceedit.errors import UsageError
from faceedit.stage.brows import restyle
from faceedit.stage.glasses import draw_glasses
from faceedit.stage.hair import recolour
from faceedit.stage.regions import HeadLook
from faceedit.stage.shading import Light
from faceedit.stage.skin import retone
from faceedit.stage.tuning import StageTuning


@dataclass(frozen=True)
class AttributeFace:
    """What a painter knows of the face it paints: its 68 landmarks after the edit's move
    (``moved``), its Face Mesh points before the move (or None: a hair matte's cap follows the
    face's oval), the head's mattes (``head``: an earlier frame's of a video track, or found on
    this photo for an attribute whose record asks for a matte; None otherwise) and the light the
    face is about to be relit to (or None); ``tuning``: the stage's tuned values (its
    ``regions``: how the head's mattes are found where ``head`` lacks them; its ``hair`` and
    ``brows``: how the hair's colours and the brows' styles are drawn), default the defaults."""

    moved: np.ndarray
    mesh: np.ndarray | None = None
    head: HeadLook | None = None
    light: Light | None = None
    tuning: StageTuning = field(default_factory=StageTuning)


def paint_attribute(pixels: np.ndarray, face: AttributeFace, name: str, value: float | str,
                    strength: float = 1.0) -> np.ndarray:
    """Attribute ``name`` painted at ``value`` on ``face``, ``strength`` (0..1) of the way, by its
    registered painter; ``pixels`` themselves at strength 0. UsageError for an attribute that
    is not registered."""
    if strength <= 0:
        return pixels
    record = ATTRIBUTES.get(name)
    if record is None:
        raise UsageError(f"attribute {name!r} is not registered; registered: {', '.join(ATTRIBUTES)}")
    return resolve(record.painter)(pixels, face, value, strength)


def paint_glasses(pixels: np.ndarray, face: AttributeFace, value: float | str, strength: float) -> np.ndarray:
    """Glasses drawn on (``value`` above 0, or a style's word) as a posed 3D frame
    (:func:`faceedit.stage.glasses.draw_glasses`), the frame's opacity ``value`` x ``strength``,
    its shadow away from the light the face is about to be relit to; ``pixels`` themselves for a
    value of 0 or below (the stage refuses glasses off before an edit runs)."""
    if not (isinstance(value, str) or value > 0):
        return pixels
    style = value if isinstance(value, str) else None
    opacity = (1.0 if isinstance(value, str) else value) * strength
    relight = None
    if face.light is not None and face.light.direction is not None:
        relight = (*face.light.direction, face.light.strength * strength)
    return draw_glasses(pixels, face.moved, style, opacity, relight) if opacity > 0 else pixels


def paint_hair(pixels: np.ndarray, face: AttributeFace, value: float | str, strength: float) -> np.ndarray:
    """The hair recoloured to ``value``'s colour (:func:`faceedit.stage.hair.recolour`), over the
    head's matte moved onto this face where the face has one."""
    regions = face.head.on(face.moved, pixels, face.tuning.regions)[0] if face.head is not None else None
    return recolour(pixels, face.moved, str(value), strength, face.mesh, regions,
                    None if face.head is None else face.head.hair_colour, face.tuning.hair, face.tuning.regions)


def paint_skin(pixels: np.ndarray, face: AttributeFace, value: float | str, strength: float) -> np.ndarray:
    """The skin toned to ``value`` (:func:`faceedit.stage.skin.retone`), over the head's mattes
    and skin area moved onto this face where the face has them."""
    regions, area = face.head.on(face.moved, pixels, face.tuning.regions) if face.head is not None else (None, None)
    return retone(pixels, face.moved, str(value), strength, face.mesh, regions, area, face.tuning.regions)


def paint_brows(pixels: np.ndarray, face: AttributeFace, value: float | str, strength: float) -> np.ndarray:
    """The brows made ``value``'s style (:func:`faceedit.stage.brows.restyle`)."""
    return restyle(pixels, face.moved, str(value), strength, face.tuning.brows)
