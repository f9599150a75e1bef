"""What the stage's steps share: the stage's request (:class:`StageRequest`, one per photo), a
face as the stage takes it (:class:`StageFace`), one face's edit as the steps fill it in
(:class:`FaceEdit`), what the stage did to it (:class:`StageEdit`) and carries along a video
track (:class:`Carried`), and what the steps and the painters read of the stage's statistics
(:class:`Statistics`, which :class:`faceedit.stage.model.Stage` is). The stage
(:mod:`faceedit.stage.model`), its steps (:mod:`faceedit.stage.steps`) and the painters they
import (:mod:`faceedit.stage.smile`, :mod:`~faceedit.stage.appearance`...) import this module;
the stage imports the steps and nothing below imports the stage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from faceedit.faces.iris import MESH_WITH_IRISES
from faceedit.stage.cutwarp import CutWarpResult
from faceedit.stage.regions import HeadLook
from faceedit.stage.shading import Light
from faceedit.stage.small_seam import OwnLips
from faceedit.stage.state import FaceState
from faceedit.stage.tuning import StageTuning
from faceedit.stage.tuning_lids import LidsTuning

Curves = tuple[np.ndarray, np.ndarray]


def mesh_points(mesh: np.ndarray | None) -> np.ndarray | None:
    """A face's Face Mesh points as (468, 2) float64 image px (its depth and the irises' points
    after them dropped), or None where it has none."""
    if mesh is None or np.shape(mesh)[0] not in (468, MESH_WITH_IRISES):
        return None
    return np.asarray(mesh, np.float64)[:468, :2]

def mesh_depth(mesh: np.ndarray | None) -> np.ndarray | None:
    """A face's Face Mesh depth as (468,) float64 (MediaPipe's z: the image px scale, smaller
    towards the camera), or None where it has no mesh or no depth."""
    if mesh is None or np.shape(mesh) not in ((468, 3), (MESH_WITH_IRISES, 3)):
        return None
    return np.asarray(mesh, np.float64)[:468, 2]

@dataclass(frozen=True)
class Carried:
    """What a video track carries from its edits to its later frames, so that every frame
    paints the same: the mouth bank entry drawn into an opened mouth, the head's hair and
    skin mattes (:class:`faceedit.stage.regions.HeadLook`), whether the face reads as a young
    child's (:func:`faceedit.faces.reading.reads_child`, whose reading moves a little from frame to
    frame) and how deep its brows' hairs reach (:func:`faceedit.stage.brow_band.brow_depths`: on
    GRID's talking clips up to 0.1 eye widths from one frame to the next, a raised brow's band
    would flicker), each None until an edit found it."""

    mouth: int | None = None
    head: HeadLook | None = None
    child: bool | None = None
    brows: np.ndarray | None = None

    def merged(self, other: Carried | None) -> Carried:
        """What either knows (this one's first)."""
        if other is None:
            return self
        return Carried(self.mouth if self.mouth is not None else other.mouth,
                       self.head if self.head is not None else other.head,
                       self.child if self.child is not None else other.child,
                       self.brows if self.brows is not None else other.brows)

    @property
    def complete(self) -> bool:
        return self.mouth is not None and self.head is not None


@dataclass
class StageEdit:
    """What the stage did to one face: its landmarks after the edit, the warp scale used (below 1
    where the full move would have folded the image), its expression state before and after and
    what a video track carries to its next frames (pass it back as ``carried``)."""

    landmarks: np.ndarray
    scale: float
    state: np.ndarray | None = None
    new_state: np.ndarray | None = None
    carried: Carried = Carried()
    #: where the stage invented pixels the photo never showed: (roi (x0, y0, x1, y1), float32
    #: (y1-y0, x1-x0) coverage 0..1) of the open mouth painted from the mouth bank; None where it
    #: painted none (or the head's turn moved it)
    invented: tuple[tuple[int, int, int, int], np.ndarray] | None = None


@dataclass(frozen=True)
class StageRequest:
    """The stage's part of an edit request, what is asked of every face of one photo: made once
    from the request (:meth:`faceedit.stage.model.Stage.request`), the values as the steps read
    them."""

    target: str  # the canonical target name
    strength: float  # 0 (nothing) .. the stage's MAX_STRENGTH (the request checks the range)
    aus: dict[int, float] | None = None  # AU intensities to set (the named controls merged in)
    like: np.ndarray | None = None  # a reference face's 68 landmarks: its state is the goal
    attributes: dict[str, float | str] | None = None  # attribute -> signed amount (+1 on, -1 off) or style
    light: Light | None = None  # the light the head is relit to
    controls: dict[str, float] | None = None  # the named controls (their landmark moves, gaze, head pose)

    def control(self, name: str) -> float:
        """A named control's value times the edit's strength (up to 1); 0 when not asked for."""
        return float((self.controls or {}).get(name, 0.0)) * min(self.strength, 1.0)

    @property
    def sets_smile(self) -> bool:
        """Whether the edit sets the face's smile: a named target, a reference face or an AU12
        asked for. AUs set that leave the smile alone keep it (AU25/26 alone move the AU12
        reading a little)."""
        return self.target not in ("keep", "au") or self.like is not None or 12 in (self.aus or {})


@dataclass(frozen=True)
class StageFace:
    """One face the stage edits: its 68 ``landmarks``; its Face Mesh points (``dense``: (468, 2),
    or (468, 3) with depth, or (478, 3) with the irises' points after them,
    :mod:`faceedit.faces.iris`; None without a mesh): the interior the photo shows is found
    around the mesh's inner-lip loop and is the lips' cut, and the state reads a lid raised off
    the iris as expression; what its video track carries from earlier frames (``carried``: the
    mouth bank entry to paint into an opened mouth, the head's mattes, whether it is a young child's; None: found
    on this photo); a reference face's 68 landmarks for this face alone (``like``; None: the request's);
    the photo's own pixels per pixel of these points (``photo_scale``: 1 where the photo edited
    is the photo's own size, over 1 for a face on a copy scaled down from it, a preview: the
    stage's choices by a face's size in pixels, :func:`~faceedit.stage.teeth_look.small_weight`
    and :func:`~faceedit.stage.eye_open.eye_weight`, read the face's size at the photo's own
    pixels, so a preview is the full edit's look at a smaller size)."""

    landmarks: np.ndarray
    dense: np.ndarray | None = None
    carried: Carried | None = None
    like: np.ndarray | None = None
    photo_scale: float = 1.0

    @classmethod
    def of(cls, face: Any) -> StageFace:
        """``face`` as a StageFace: itself, a detected face's (``.landmarks`` and ``.dense``:
        :class:`faceedit.faces.types.Face`, and its ``photo_scale``), or its 68 landmarks alone."""
        if isinstance(face, StageFace):
            return face
        if hasattr(face, "landmarks"):
            return cls(face.landmarks, getattr(face, "dense", None), photo_scale=getattr(face, "photo_scale", 1.0))
        return cls(face)


@dataclass
class FaceEdit:
    """One face's edit as the steps fill it in (image pixels throughout)."""

    request: StageRequest
    landmarks: np.ndarray  # (68, 2) before the edit
    mesh: np.ndarray | None = None  # (468, 2) Face Mesh points, or None
    depth: np.ndarray | None = None  # (468,) the Face Mesh's depth (image px scale), or None
    irises: np.ndarray | None = None  # (2, 5, 2) the irises' points (faceedit.faces.iris), or None
    sealed: bool = False  # lips the Face Mesh reads apart that meet in the photo (faceedit.stage.lips.lips_sealed)
    sealed_gap: float = 0.0  # their parting as read (eye distances), where a track's own reference carries it
    # a gasp's 68 points and Face Mesh points with its lower lip and jaw where the photo shows them
    # (faceedit.faces.open_mouth.lower_lip_seen), taken on as ``landmarks`` and ``mesh`` where the move
    # closes its lips (plan_move; the state reads the Face Mesh's), else None
    seen: tuple[np.ndarray, np.ndarray | None] | None = None
    eyes_hidden: bool = False  # sunglasses or a deep shadow (faceedit.faces.reading.eyes_hidden): brows, eyes held
    child: bool = False  # a young child's face (faceedit.faces.reading.reads_child): no adult teeth painted
    furrowed: float = 0.0  # the frown's furrow the photo shows between the brows (0..1, relief.furrow_shown)
    lips_dark: OwnLips | None = None  # the photo's own lips' dark and colour before the warp (own_lips_dark)
    # plan_move
    lids: tuple[float, float] = (0.0, 0.0)  # how far each eye's lids are drawn closed (image left, right)
    lids_meet: tuple[float, float] = (LidsTuning.meet, LidsTuning.meet)  # where they meet, up from the lower lid
    lids_met: np.ndarray | None = None  # (2, 2, 2) where the drawn lids meet at each lid pair (draw_lids)
    current: FaceState | None = None  # the face's own state
    new_state: np.ndarray | None = None  # the expression state the edit moves it to
    goal: np.ndarray | None = None  # (68, 2) the landmarks the move heads for
    closing: float = 0.0  # how far the lips close (0..1)
    smile_taken: float = 0.0  # the share of a smile taken away (-1..1; below 0 one added)
    cheeks_taken: float = 0.0  # the share of it whose cheeks' relief flattens (0 for a smiling target)
    mouth_kept: float = 0.0  # the share of the mouth's move left out: the face smiles already (0..1)
    widens_eyes: bool = False  # the new state opens an eye wider than the face's neutral
    # choose_cuts
    shown: Curves | None = None  # the mouth interior the photo shows, kept as the cut
    lips: Curves | None = None  # the inner-lip cut (None: the 68 points' inner lips)
    lip_redness: float | None = None  # how red the lips are, where no interior was found
    unwidened: Curves | None = None  # the mesh's loop before it was widened for a closing mouth
    below_teeth: Curves | None = None  # that loop, its lower lip taken down past the lower teeth
    carry: np.ndarray | None = None  # the upper teeth's lower edge, carried with the upper lip
    hide_lower: np.ndarray | None = None  # with it, the lower curve taken past the lower teeth
    # warp
    brows: np.ndarray | None = None  # (2,) how deep the brows' hairs reach (eye widths; brow_band.brow_depths)
    warped: CutWarpResult | None = None
    # fill_mouth
    exemplar: int | None = None  # the mouth bank entry painted
    invented: tuple | None = None  # (roi, coverage): the opening painted from the bank (StageEdit.invented)
    # paint_appearance
    head: HeadLook | None = None  # the head's hair and skin mattes (an attribute edit's)
    keep_out: tuple | None = None  # (roi, mask): the mouth drawn at the photo's resolution
    seam_deepened: tuple[int, int, np.ndarray] | None = None  # the luma lips_dark took from the seam (closed_seam)
    # turn_head
    turned: np.ndarray | None = None  # (68, 2) the landmarks after the head's turn
    carried: Carried | None = None  # what the face's video track carries (StageFace.carried)
    photo_scale: float = 1.0  # the photo's own pixels per pixel here (StageFace.photo_scale)

    @property
    def carried_mouth(self) -> int | None:
        return None if self.carried is None else self.carried.mouth

    @property
    def carried_head(self) -> HeadLook | None:
        return None if self.carried is None else self.carried.head

    def result(self) -> StageEdit:
        """What the stage did to the face (:class:`StageEdit`)."""
        assert self.warped is not None and self.current is not None and self.new_state is not None
        cur, scale = self.current.expression, self.warped.scale
        reached = cur + scale * (self.new_state - cur)
        moved = self.turned if self.turned is not None else self.warped.landmarks
        invented = self.invented if self.turned is None else None
        return StageEdit(moved, scale, cur, reached, Carried(self.exemplar, self.head, self.child, self.brows),
                         invented)


class Statistics(Protocol):
    """What the steps and the painters read of the stage's statistics
    (:class:`faceedit.stage.model.Stage`): its targets and appearance maps, whether it holds the
    smile map, its tuned values, its buffers as numpy arrays (and arrays made from them, once),
    the expression state and its moves (:class:`faceedit.stage.state.ExpressionStates`) and the
    mouth bank."""

    expressions: list[str]
    appearance: dict[str, int]
    smile_removal: bool
    tuning: StageTuning

    def array(self, name: str) -> np.ndarray: ...

    def cached(self, key: str, make: Callable[[], np.ndarray]) -> np.ndarray: ...

    def state_aus_cached(self, state: np.ndarray, identity: np.ndarray) -> np.ndarray: ...

    def expression_shape(self, state: np.ndarray, identity: np.ndarray) -> np.ndarray: ...

    def plan(self, lm: np.ndarray, target: str, strength: float = 1.0, *, aus: dict | None = None,
             like: np.ndarray | None = None, irises: np.ndarray | None = None,
             mediapipe: bool = False) -> tuple[FaceState, np.ndarray]: ...

    def state(self, lm: np.ndarray, irises: np.ndarray | None = None, mediapipe: bool = False) -> FaceState: ...

    def target_state(self, target: str, current: FaceState) -> np.ndarray: ...

    def goal_landmarks(self, lm: np.ndarray, cur: FaceState, new: np.ndarray, strength: float) -> np.ndarray: ...

    def target_move_change(self, current: FaceState, target: str, strength: float,
                           like: FaceState | None = None) -> dict[str, float]: ...

    def lids_raised_change(self, current: FaceState, target: str, strength: float,
                           like: FaceState | None = None) -> float: ...

    def closes_mouth(self, cur: FaceState, new: np.ndarray, strength: float) -> float: ...

    def mouth_bank(self) -> Any: ...
