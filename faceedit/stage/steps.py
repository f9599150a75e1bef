"""The stage's edit of one face, as named steps in data order.

:func:`edit_face` runs them on one face; :meth:`faceedit.stage.model.Stage.edit_photo` calls it
for each face of a photo in turn (the one loop over faces), every face on the photo the faces
before it left. :class:`~faceedit.stage.records.FaceEdit` carries one face through them; each
step reads what the steps before it wrote there, and the stage's statistics as
:class:`~faceedit.stage.records.Statistics` gives them (the stage is passed in: this module does
not import :mod:`faceedit.stage.model`). The painters are modules the steps import
(:mod:`faceedit.stage.smile`, :mod:`~faceedit.stage.appearance`, :mod:`~faceedit.stage.eyes`,
:mod:`~faceedit.stage.mouth_bank`, :mod:`~faceedit.stage.attributes`...), each a function of
the statistics and the pixels.

1. :func:`plan_move`: read the face's expression state and plan the move to the asked one (the
   landmarks it heads for, the named controls' landmark moves added, :mod:`faceedit.stage.moves`;
   how far the lips close, how much of a smile it takes away, whether the eyes open wider than
   the face's own neutral);
1b. :func:`move_gaze`: the irises moved by the gaze controls (:mod:`faceedit.stage.gaze`);
1c. :func:`draw_lids`: the lids of a blink, a wink or sleepy eyes drawn closed
    (:mod:`faceedit.stage.lids`);
2. :func:`choose_cuts`: the curves the warp cuts the lips along (the mouth interior the photo
   shows, found from colour around the Face Mesh's inner-lip loop, else the loop itself, widened
   where an open mouth closes), and
   the lower edge of the upper teeth that a smile taken away carries up;
3. :func:`warp`: the fold-free warp of the photo with the lips (and the eyelids where the move
   closes an eye) as cuts; eyes opened wider keep their irises' size;
4. :func:`~faceedit.stage.mouth_steps.fill_mouth`: a mouth opened wider than the photo shows painted from the mouth bank,
   and the dark seam of lips closed over teeth; :func:`~faceedit.stage.corners.lift_pockets`: a smile's dark corner
   pockets painted with the skin, then the closed lips' own grain (:mod:`faceedit.stage.lip_grain`); on a turned face the fills are kept off its nose and past its
   far side's outline (:func:`faceedit.stage.turned.hidden_parts`, the folds of step 5 too);
5. :func:`paint_appearance`: the smile's skin, the target's appearance map, its folds and
   furrows (:mod:`faceedit.stage.folds`) and the attributes;
6. :func:`relight`: the head relit to the asked light;
7. :func:`turn_head`: the head turned by the head pose controls (:mod:`faceedit.stage.pose`).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from faceedit.edits.attributes import ATTRIBUTES
from faceedit.edits.controls import CONTROLS, GAZE, HEAD_POSE
from faceedit.faces.iris import iris_points
from faceedit.faces.open_mouth import LOWER_LIP, lower_lip_seen, opens_tall
from faceedit.faces.reading import eyes_hidden, reads_child
from faceedit.log import logger
from faceedit.stage import fringe, relief, shading, side_teeth, small_seam
from faceedit.stage.appearance import appearance_amount, paint_move_folds, paint_target, shows_teeth
from faceedit.stage.attributes import AttributeFace, paint_attribute
from faceedit.stage.brow_band import brow_depths
from faceedit.stage.brow_space import lift_brow_space
from faceedit.stage.corners import lift_pockets
from faceedit.stage.cutwarp import CutWarpResult, cut_warp
from faceedit.stage.eye_open import held_shut
from faceedit.stage.eyes import keep_irises, widens_eyes
from faceedit.stage.gaze import move_irises
from faceedit.stage.jaw_line import jaw_line
from faceedit.stage.lenses import hold_eyes, keep_lenses
from faceedit.stage.lid_edge import lids_on_edge
from faceedit.stage.lid_meet import close_on_line, meeting_points
from faceedit.stage.lids import close_lids
from faceedit.stage.lip_grain import carry_lip_grain
from faceedit.stage.lips import (
    MESH_INNER_LOWER,
    MESH_INNER_UPPER,
    MESH_OUTER_LOWER,
    MESH_OUTER_UPPER,
    above_gums,
    above_upper_teeth,
    below_lower_teeth,
    crease_only,
    find_interior,
    grey_round,
    lip_redness,
    on_crease,
    widen_interior,
)
from faceedit.stage.lower_margin import loop_teeth_share
from faceedit.stage.mouth import sclera_colour
from faceedit.stage.mouth_steps import fill_mouth, interior_cut
from faceedit.stage.moves import (
    TARGET_MOVES,
    chin_follows_lip,
    control_moves,
    hold_lids,
    hold_lower_lids,
    keep_mouth,
    lid_closures,
    real_opening,
    relax_lower_lids,
    target_moves,
    with_target_controls,
)
from faceedit.stage.paint import lips_keep_out
from faceedit.stage.pose import turn_head as turn_pose
from faceedit.stage.records import (
    Curves,
    FaceEdit,
    StageEdit,
    StageFace,
    StageRequest,
    Statistics,
    mesh_depth,
    mesh_points,
)
from faceedit.stage.regions import head_look
from faceedit.stage.rest import at_rest, low_brows_kept
from faceedit.stage.sealed import lips_sealed_over_lip, lower_teeth_line, past_lower_teeth
from faceedit.stage.smile import (
    cheeks_flattened,
    flatten_cheeks,
    paint_smile,
    smile_lift,
    smile_reached,
    smile_skin,
    squint_let_go,
    target_smiles,
)
from faceedit.stage.state import close_lips, lip_gap, raise_lids
from faceedit.stage.teeth_look import seen_teeth
from faceedit.stage.tuning import EditTuning
from faceedit.stage.turned import head_frame, hidden_parts, plan_sides


@functools.cache
def warn_once(message: str) -> None:
    """Log ``message`` as a warning the first time only (a video's every frame would repeat it)."""
    logger.warning(message)


def closes_eyes(lm: np.ndarray, moved: np.ndarray, ratio: float) -> bool:
    """Whether a move narrows either eye to under ``ratio`` of its opening (a blink, a wink,
    sleepy lids; :attr:`EditTuning.eye_closing`): the eyelids are then cut like the lips, so the
    lids meet over the eye."""
    def aperture(p: np.ndarray, eye: list[int]) -> float:
        top, bottom = eye[1:3], eye[4:6][::-1]
        return float(np.linalg.norm(p[top] - p[bottom], axis=1).mean())

    lm, moved = np.asarray(lm, np.float64), np.asarray(moved, np.float64)
    return any(aperture(moved, e) < ratio * aperture(lm, e) for e in (list(range(36, 42)), list(range(42, 48))))


def like_closes(like: np.ndarray | None, strength: float, tuning: EditTuning) -> float:
    """How far (0..1) a reference face ``like`` brings the lips together: one whose inner lips
    meet (``tuning.lips_closed``, read off its own 68 points: the state does not carry a
    closed-lips smile, and a video's speech closes the lips of a held expression this way,
    :class:`faceedit.video.edit.ExpressionHold`) closes them, ``strength`` of the way."""
    if like is None or strength <= 0 or lip_gap(like) >= tuning.lips_closed:
        return 0.0
    return min(float(strength), 1.0)


def plan_move(stage: Statistics, face: FaceEdit) -> None:
    """Read the face's state and plan its move (:meth:`Stage.plan`): the state it goes to, the landmarks it heads for
    (a new opening shaped like real open mouths and the jaw line turning with a dropped chin,
    :mod:`faceedit.stage.moves`; the named controls' moves and the target's own beyond its state: fear's stretched
    lips, disgust's raised upper lip, anger's knitted brows, those the face shows taken away,
    :meth:`Stage.target_move_change`; brows set low that show no furrow raised from where they are by a target that
    raises them (:func:`faceedit.stage.rest.low_brows_kept`);
    a neutral edit's brows and mouth at rest (:func:`faceedit.stage.rest.at_rest`); on
    a face turned aside the move planned on it turned to the front, laid back by its turn,
    :mod:`faceedit.stage.turned`; a named target's smile the face shows already leaves its mouth and jaw line where
    they are, :func:`faceedit.stage.smile.smile_reached`), how far the lips close, how much of a smile is taken away,
    whether an eye opens wider than the face's own neutral and how far each eye's lids are drawn closed (the controls'
    and the ``wink`` and ``sleepy`` targets', :func:`faceedit.stage.moves.lid_closures`; the warp holds those lids
    open). The state is read with the irises where the detector gives them; the raise of the upper lids off the irises
    that the state does not read is taken away like a target's own moves (:meth:`Stage.lids_raised_change`). A gasp's
    state is read on the Face Mesh's points; where its move closes the lips the move starts from its lower lip and jaw
    where the photo shows them (``face.seen``, :func:`gasps`): the jaw moved as the state moves the Face Mesh's, the
    lower lip closing onto the upper, the chin raised with it."""
    s, lm, irises = face.request, face.landmarks, face.irises
    mediapipe = face.mesh is not None  # a face with a Face Mesh has MediaPipe's points
    turn = head_frame(face.mesh, face.depth, stage.tuning.turned)
    if turn is not None:  # a turned face: planned turned to the front, laid back by its turn
        lm, irises = turn.frontal(lm), turn.frontal_irises(irises)
    cur, new, sides = plan_sides(stage, turn, lm, irises, s, mediapipe)  # (and mirrored, on a turned face)
    face.current, face.new_state = cur, new
    opens = widens_eyes(stage, cur, new)
    controls = with_target_controls({k: s.control(k) for k in s.controls or {}}, s.target, s.strength)
    face.lids, face.lids_meet = lid_closures(controls, stage.tuning.lids)
    # the face's own expression kept (a relight, controls alone): its lips stay as they are
    keeps = s.target == "keep" and not s.aus and s.like is None
    goal = np.array(lm, np.float64) if keeps else sides.goal(stage, lm, cur, new, s.strength)
    if s.like is None and s.target in stage.expressions and not keeps:  # brows set low rise from where they are
        rest = stage.goal_landmarks(lm, cur, np.zeros_like(cur.expression), 1.0)
        aim = stage.goal_landmarks(lm, cur, stage.target_state(s.target, cur), 1.0)
        goal = low_brows_kept(lm, goal, rest, aim, s.strength * (1.0 - face.furrowed), stage.tuning.brows)
    closing = 0.0 if keeps else stage.closes_mouth(cur, new, s.strength)  # goal_landmarks closed them
    if closing > 0 and face.seen is not None:  # a gasp that closes: from its lower lip and jaw as the photo shows them
        face.landmarks, face.mesh = face.seen
        read, lm = lm, face.landmarks if turn is None else turn.frontal(face.landmarks)
        shift = lm - read  # (the jaw moves as the state moves the read one; the lower lip closes, closing of the way)
        shift[list(LOWER_LIP)] *= 1.0 - closing
        goal += shift
    closes = 0.0 if keeps else like_closes(s.like, s.strength, stage.tuning.edit)
    if closes > closing:  # a reference whose lips meet: the goal's too
        goal, closing = close_lips(goal, closes), closes
    # a new opening shaped like real ones; the chin rises with lips that shut, unless a smile parted them
    jaw = closing * (1.0 - smile_lift(stage, cur, cur.expression))  # (a dropped jaw turns: its sides follow)
    goal = goal if keeps else jaw_line(lm, chin_follows_lip(lm, real_opening(lm, goal, stage.tuning.edit), jaw))
    # a named target's open smile the face shows already: its own mouth stays (smile_reached;
    # a target whose lips meet closes them, one whose controls press them, wink's, reshapes them)
    named = s.target in stage.expressions and not s.aus and s.like is None and closing == 0 \
        and not any(CONTROLS[k].presses(v) for k, v in controls.items() if k in CONTROLS)
    face.mouth_kept = smile_reached(stage, cur, stage.target_state(s.target, cur), stage.tuning.edit) \
        if named and s.strength > 0 else 0.0
    goal = keep_mouth(lm, goal, face.mouth_kept)
    face.goal = control_moves(lm, goal, controls)
    if not keeps:  # a smile's raised lower lids let down with it; the target's own moves on top
        let_go = 0.0
        if irises is not None:
            let_go = squint_let_go(stage, cur, new, s.target, taken=sides.taken(stage, cur, new))
            face.goal = relax_lower_lids(lm, face.goal, irises, let_go, stage.tuning.eyes.squint_reach)
        like = stage.state(s.like, mediapipe=mediapipe) if s.like is not None else None
        for target, amount in stage.target_move_change(cur, s.target, s.strength, like).items():
            face.goal = target_moves(lm, face.goal, target, amount, mouth_kept=face.mouth_kept, added=like is None)
        face.goal = raise_lids(lm, face.goal, stage.lids_raised_change(cur, s.target, s.strength, like))
        # a neutral edit's brows and mouth at rest (a turned face's mouth: its own), a frown released
        face.goal = at_rest(lm, face.goal, s.strength * (like is None), stage.tuning, turn is None, s.target, face.furrowed)
        if opens:  # opened eyes: the lower lids stay on the irises (a smile's let down), as real surprises' do
            face.goal = hold_lower_lids(lm, face.goal, irises, let_go, stage.tuning.eyes.squint_reach)
    if turn is not None:
        lm, face.goal = face.landmarks, turn.photo_goal(face.landmarks, lm, face.goal)
    face.goal = hold_lids(lm, face.goal, face.lids)  # a closing eye's lids are drawn (draw_lids)
    if face.sealed_gap > 0 and lip_gap(face.goal) > 0:  # the reference's parting less the one misread
        face.goal = close_lips(face.goal, min(face.sealed_gap / lip_gap(face.goal), 1.0))
    if face.sealed and lip_gap(face.goal) < stage.tuning.edit.lips_closed:
        # sealed lips a move parts by less than a closed mouth's gap stay sealed: no slit, no teeth
        face.goal = close_lips(face.goal)
    face.closing = closing
    face.smile_taken = sides.taken(stage, cur, new) if s.sets_smile else 0.0
    if face.child and lip_gap(face.goal) > lip_gap(face.landmarks) \
            and smile_lift(stage, cur, new) >= stage.tuning.edit.smiling_goal:
        # a young child's smile parts its lips no wider than the photo shows them: the mouth bank's teeth are an
        # adult's, and a child smiling with its lips closed, or its own mouth open, reads as happy
        face.goal = close_lips(face.goal, 1.0 - lip_gap(face.landmarks) / lip_gap(face.goal))
    smiles = face.smile_taken > 0 and s.target in stage.expressions and target_smiles(stage, s.target, cur)
    face.cheeks_taken = 0.0 if smiles else face.smile_taken  # a smaller smile keeps its cheeks' relief
    face.widens_eyes = face.mesh is not None and opens
    if face.widens_eyes:  # eyes shut in the photo, too large to draw open, stay shut
        face.goal = hold_lids(face.landmarks, face.goal, held_shut(face.landmarks, stage.tuning.eyes, face.photo_scale))
    if face.eyes_hidden:  # sunglasses, a deep shadow: the brows and the eyes stay (lenses.hold_eyes)
        face.goal, face.widens_eyes, face.lids = hold_eyes(face.goal, face.landmarks), False, (0.0, 0.0)


def move_gaze(stage: Statistics, face: FaceEdit, pixels: np.ndarray) -> np.ndarray:
    """The irises moved by the ``gaze_x`` / ``gaze_y`` controls (:func:`faceedit.stage.gaze.move_irises`),
    on the photo before the warp (which then carries them with the lids); a face without a Face
    Mesh (a detector other than MediaPipe's) keeps its irises (logged)."""
    gaze = (face.request.control(GAZE[0]), face.request.control(GAZE[1]))
    if gaze == (0.0, 0.0):
        return pixels
    if face.mesh is None:
        warn_once("gaze controls need the Face Mesh (the mediapipe detector): irises left in place")
        return pixels
    return move_irises(pixels, face.mesh, gaze, stage.tuning.eyes)


def draw_lids(stage: Statistics, face: FaceEdit, pixels: np.ndarray) -> np.ndarray:
    """The lids of each eye a blink, a wink or the target closes drawn closed that far
    (:func:`faceedit.stage.lids.close_lids`, by the tuning's ``lids``), on the photo before the
    warp, which then carries them with the face (the warp holds those lids open,
    :func:`faceedit.stage.moves.hold_lids`); where they meet is kept for its points (:mod:`faceedit.stage.lid_meet`)."""
    face.lids_met = meeting_points(pixels, face.landmarks, face.mesh, face.lids, face.lids_meet, stage.tuning.lids)
    return close_lids(pixels, face.landmarks, face.mesh, face.lids, face.lids_meet, stage.tuning.lids)


def open_grey(pixels: np.ndarray, lm: np.ndarray, tuning: EditTuning) -> bool:
    """Whether a face at 68 points ``lm`` shows its lips apart (over twice ``lips_closed``) in a grey photo: there
    colour finds no interior (:func:`~faceedit.stage.lips.find_interior`), and the Face Mesh's loop round the
    teeth of a laugh is the cut as it lies. Moved onto "the crease" (:func:`~faceedit.stage.lips.on_crease`: the
    darkest row near its middle, which between open lips is the dark upper lip or the line under the teeth), the
    loop went up the upper lip by its height: the lip was cut away with the teeth's top and the teeth's lower
    half carried down (JAFFE's laughs made surprised: the upper teeth at the bottom of the opening and no upper
    lip, KM.HA1, MK.HA1, NA.HA1); a mouth the edit closes, its loop then widened, closed its lips over the lip cut
    away: a pale upper lip, the teeth kept between the lips (KA.HA1, MK.HA1, YM.HA2, KM.HA4 made neutral). The
    photo is read grey round the mouth (its lips' box grown by their width): a grey 4K photo is not swept whole."""
    return lip_gap(lm) > 2 * tuning.lips_closed and grey_round(pixels, np.asarray(lm, np.float64)[48:68])


def choose_cuts(stage: Statistics, face: FaceEdit, pixels: np.ndarray) -> None:
    """The lips' cut of a face with a Face Mesh (without one the warp cuts along the 68 points' inner
    lips): the interior the photo shows (:func:`interior_cut`; closing, taken up past the gum a smile
    bares, :func:`~faceedit.stage.lips.above_gums`), else the mesh's inner-lip loop moved onto the
    crease between the lips (:func:`faceedit.stage.lips.on_crease`; on a smile the 68 points' inner
    lips lie on the teeth; open lips in a grey photo keep the loop as it lies,
    :func:`open_grey`), widened by ``closing_loop_up`` / ``closing_loop_down`` where an open mouth
    closes (the loop lies under the upper teeth of a dark opening, and teeth left outside the cut stay
    between the closed lips). Where a smile is taken away from a mouth that stays open, only the upper
    teeth go up with the upper lip: below them (the lower teeth, a strip of lower lip colour found
    with them) the opening is left to the mouth bank, and the lower teeth the photo shows below the
    cut, which the lower lip would carry, are filled from the lip (``hide_lower``)."""
    if face.mesh is None or face.mouth_kept >= 1:
        return  # (a mouth kept as it is: its 68 points, which do not move, are the cut)
    xy = face.mesh
    tuning, lips = stage.tuning.edit, stage.tuning.lips
    # (teeth in shadow are read where the lips close over them: a kept or widened opening keeps its cut)
    found = find_interior(pixels, xy, lips, shadowed=face.closing > 0)
    face.shown = interior_cut(found, face.landmarks, face.closing, tuning, lips)
    if face.sealed:  # lips that meet: the cut is the crease between them, enclosing no lip
        mid = (xy[MESH_INNER_UPPER] + xy[MESH_INNER_LOWER]) / 2
        face.lips = on_crease(pixels, mid, mid, lips)
    else:
        face.lips = face.shown or (
            (xy[MESH_INNER_UPPER], xy[MESH_INNER_LOWER]) if open_grey(pixels, face.landmarks, tuning)
            else on_crease(pixels, xy[MESH_INNER_UPPER], xy[MESH_INNER_LOWER], lips))
        if face.shown is not None and face.closing > 0:  # the gum a smile bares goes with the teeth
            face.lips = (above_gums(pixels, face.shown[0], xy[MESH_OUTER_UPPER], lips), face.shown[1])
    opened = face.shown is None and face.closing > 0 and lip_gap(face.landmarks) > 2 * tuning.lips_closed
    if opened and crease_only(pixels, xy, lips):  # a closed smile's deep crease the mesh reads apart: cut on it, as sealed
        mid = (xy[MESH_INNER_UPPER] + xy[MESH_INNER_LOWER]) / 2
        face.lips = on_crease(pixels, mid, mid, lips)
    elif opened:
        # an open mouth whose interior colour did not find (a dark cavity): the mesh's loop lies under the upper teeth,
        # which must go with the rest of the opening (and the lower teeth it shows between its lower loop and lip, or
        # the dark of its cavity, tongue and rim there, with them); on a colour photo the upper cut goes past the upper
        # teeth it finds there, a margin where none show: a fixed widening cut into the upper lip of a wide-open mouth
        face.unwidened = face.lips
        up, lo = widen_interior(*face.lips, tuning.closing_loop_up, tuning.closing_loop_down, lips)
        rim = widen_interior(*face.lips, tuning.closing_margin_up, 0.0, lips)[0]
        past = above_upper_teeth(pixels, rim, xy[MESH_OUTER_UPPER], lips, through_dark=True)
        face.lips = (up if past is None else past, past_lower_teeth(pixels, lo, xy, lips))
        face.below_teeth = (face.unwidened[0],
                            below_lower_teeth(pixels, face.unwidened[1], xy[MESH_OUTER_LOWER], tuning=lips))
    elif face.shown is None and lip_gap(face.landmarks) > tuning.lips_closed * (1 if face.closing > 0 else 2):
        # (a mouth that closes from a little apart: the teeth of a small face, a strip a pixel
        # or two high that colour did not find as an interior, go with the opening)
        # an open mouth that stays open: the lower teeth it shows below the loop are repainted
        # with the rest of the opening, not left under the new one
        face.lips = (face.lips[0], below_lower_teeth(pixels, face.lips[1], xy[MESH_OUTER_LOWER], tuning=lips))
    if face.shown is None:
        face.lip_redness = lip_redness(pixels, xy)
    if face.smile_taken > 0 and face.closing == 0 and not face.sealed:
        # (the mesh's loop where colour found no interior: a thin row of teeth in a wide loop)
        cut = face.shown or face.lips
        share = (side_teeth.with_side_teeth(pixels, *cut, side_teeth.upper_teeth_share(pixels, *cut, lips), lips)
                 if face.shown is not None else None if cut is None else side_teeth.bridged(loop_teeth_share(pixels, *cut, stage.tuning.mouth)))
        if share is not None and cut is not None:
            face.carry = cut[0] + share[:, None] * (cut[1] - cut[0])
            face.hide_lower = below_lower_teeth(pixels, cut[1], xy[MESH_OUTER_LOWER], past_line=True, tuning=lips)


def warp(stage: Statistics, face: FaceEdit, pixels: np.ndarray) -> np.ndarray:
    """The photo with the face warped to its goal (:func:`faceedit.stage.cutwarp.cut_warp`,
    fold-free, full resolution, the lips and closing eyelids cut; a raised brow carried whole down to
    its hairs' lower edge, :func:`faceedit.stage.brow_band.brow_depths`, a video track's as its first
    edit read it); eyes opened wider than the
    face's neutral keep their irises' size (:func:`faceedit.stage.eyes.keep_irises`). An opened
    mouth is left with the warp's placeholder fill. A smile taken away shows the teeth it
    carries into a new opening ``teeth_rise`` of the smile's opening higher, under the upper
    lip: a smile lifts the upper lip off the teeth and a relaxed mouth does not. A widened cut
    (:func:`choose_cuts`) whose move folds is dropped for the mesh's own loop where that scales
    the move down less (cut deep into a thin lip, a closing mouth was left open)."""
    lm, goal, tuning = face.landmarks, face.goal, stage.tuning.edit
    assert goal is not None
    src = lm
    rise = tuning.teeth_rise * max(face.smile_taken, 0.0)
    cut = face.shown or face.lips
    if face.carry is not None and cut is not None:
        # (the rise at most what keeps ``teeth_kept`` of the carried upper teeth in sight)
        mid = len(face.carry) // 2
        height = float(cut[1][mid, 1] - cut[0][mid, 1])
        if height > 0:
            rise = min(rise, (1.0 - tuning.teeth_kept) * float(face.carry[mid, 1] - cut[0][mid, 1]) / height)

    own = face.carried.brows if face.carried is not None else None  # (a video track's: its first edit's)
    brows = face.brows = own if own is not None else brow_depths(pixels, src, stage.tuning.warp)

    def run(lips: Curves | None) -> CutWarpResult:
        return cut_warp(pixels, src, goal, eyelids=closes_eyes(src, goal, tuning.eye_closing), lips=lips,
                        close_mouth=face.closing if lips is not None else 0.0,
                        teeth_rise=rise, carry_lower=face.carry, hide_lower=face.hide_lower,
                        found_corners=face.shown is not None, photo_scale=face.photo_scale, tuning=stage.tuning.warp,
                        brows=brows)

    r = face.warped = run(face.lips)
    for narrower in (face.below_teeth, face.unwidened):
        # cut into a thin lip the closing move folds and is scaled down, leaving the mouth
        # open: the loop as the mesh gives it (past the lower teeth, then as it is) closes the
        # mouth, its teeth's edge on the lip
        if r.scale >= 1 or narrower is None:
            break
        plain = run(narrower)
        if plain.scale > r.scale:
            r = face.warped = plain
            face.lips = narrower
    if any(a > 0 for a in face.lids):  # the lids drawn closed before the warp, which carried them: their points
        r.landmarks = close_on_line(r.landmarks, face.landmarks, face.lids, face.lids_met, face.lids_meet)
    if face.mesh is not None and face.widens_eyes:  # the warp's pixels are the stage's own: drawn over
        return keep_irises(pixels, r.pixels, lm, r.landmarks, face.mesh, r.source_points, stage.tuning.eyes,
                           in_place=True, photo_scale=face.photo_scale, irises=face.irises, child=face.child)
    return r.pixels


def raises_upper_lip(target: str | None, tuning: EditTuning) -> bool:
    """Whether ``target``'s own moves (:data:`~faceedit.stage.moves.TARGET_MOVES`) raise the
    upper lip beside its middle by more than ``tuning.raised_lip``."""
    moves = TARGET_MOVES.get(target or "", {})
    return max(moves.get(i, (0.0, 0.0))[1] for i in (50, 51)) > tuning.raised_lip


def paint_appearance(stage: Statistics, face: FaceEdit, pixels: np.ndarray) -> np.ndarray:
    """The appearance of the moved face: the smile's skin (:func:`faceedit.stage.smile.smile_skin`),
    the appearance map of the target the move heads for
    (:func:`faceedit.stage.appearance.appearance_amount`; a named target's own, none for neutral;
    off the lips for a target that raises the upper lip, :func:`raises_upper_lip`, for a reference whose lips meet,
    :func:`like_closes`, and for lips the move closes under a map that shows teeth,
    :func:`~faceedit.stage.appearance.shows_teeth`), the folds the move makes
    (:func:`faceedit.stage.appearance.paint_move_folds`) and the attributes asked for, each by its registered painter
    over the head's mattes where its record asks for them (:func:`faceedit.stage.attributes.paint_attribute`), up to
    the edit's strength 1; none of them over the mouth drawn at the photo's resolution. ``pixels`` are the stage's own
    (the warp's): drawn over, not copied."""
    s, r = face.request, face.warped
    assert r is not None and face.current is not None and face.new_state is not None
    cur, new = face.current.expression, face.new_state
    if s.aus or s.like is not None or s.target not in stage.expressions:  # keep, AUs, a reference
        appearance, amount = appearance_amount(stage, cur, new)
    elif s.target in stage.appearance:
        appearance, amount = appearance_amount(stage, cur, new, s.target)
    else:  # neutral: nothing to paint
        appearance, amount = None, 0.0
    out = paint_smile(stage, pixels, r.landmarks, smile_skin(face.smile_taken, appearance) * r.scale,
                      face.keep_out, in_place=True)
    out = flatten_cheeks(out, r.landmarks, cheeks_flattened(face.cheeks_taken, stage.tuning.edit) * r.scale,
                         stage.tuning.edit, around_mouth=s.target != "neutral",
                         carried=(face.landmarks, r.source_points), in_place=True, photo_scale=face.photo_scale)
    if appearance is not None and amount > 0:
        # off the lips where the upper lip rises, where a reference's closed lips or the move close the mouth (the
        # move's under a map showing teeth: between the lips a white band), where sealed lips stay sealed, or where a
        # smiling face keeps its own mouth (a mean smile's teeth: on a dark lip a grey wash, over its own a second coat)
        t, teeth = stage.tuning.edit, face.closing > 0 and shows_teeth(stage, appearance)
        off = raises_upper_lip(appearance, t) or like_closes(s.like, s.strength, t) > 0 or teeth \
            or face.mouth_kept >= 1 or (face.sealed and lip_gap(r.landmarks) < t.lips_closed)
        keep = lips_keep_out(r.roi, r.landmarks, face.keep_out) if off else face.keep_out
        out = paint_target(stage, out, r.landmarks, appearance, amount * r.scale, keep, in_place=True)
    out = paint_move_folds(stage, out, face, appearance, amount, in_place=True)
    out = lift_brow_space(out, face.landmarks, r.landmarks, face.brows, r.scale, stage.tuning.brows, in_place=True)
    for name, v in (s.attributes or {}).items():
        if v != 0.0 and s.strength > 0:
            matte = ATTRIBUTES[name].matte if name in ATTRIBUTES else ""
            if matte:
                face.head = head_look(out, r.landmarks, face.mesh, face.head or face.carried_head, matte == "skin",
                                      stage.tuning.regions)
            painted = AttributeFace(r.landmarks, face.mesh, face.head, s.light, stage.tuning)
            out = paint_attribute(out, painted, name, v, min(s.strength, 1.0))
    return out


def relight(stage: Statistics, face: FaceEdit, pixels: np.ndarray) -> np.ndarray:
    """The head relit to the asked light (:func:`faceedit.stage.shading.relight`, by the
    tuning's ``light``) at the light's
    strength times the edit's (up to 1), its head region laid by the face's landmarks before
    the move: head and neck do not move with an expression (laid by the moved ones, a dropped
    jaw stretches the neck column down onto the clothes)."""
    light = face.request.light
    if light is None:
        return pixels
    return shading.relight(pixels, face.landmarks, light, light.strength * min(face.request.strength, 1.0),
                           tuning=stage.tuning.light)


def turn_head(stage: Statistics, face: FaceEdit, pixels: np.ndarray) -> np.ndarray:
    """The head turned by the head pose controls (:mod:`faceedit.stage.pose`, by the tuning's
    ``pose``), last, on the
    edited face: a warp on the Face Mesh's depth. A face without a mesh with depth (a detector
    other than MediaPipe's) is not turned (logged)."""
    s = face.request
    yaw, pitch, roll = (s.control(k) for k in HEAD_POSE)
    if yaw == 0 and pitch == 0 and roll == 0:
        return pixels
    if face.mesh is None or face.depth is None:
        warn_once("head pose controls need the Face Mesh's depth (the mediapipe detector): faces left unturned")
        return pixels
    out, turn = turn_pose(pixels, np.column_stack([face.mesh, face.depth]), yaw, pitch, roll, stage.tuning.pose)
    if turn is not None and face.warped is not None:
        face.turned = turn.move_points(face.warped.landmarks)
    return out


def edit_face(stage: Statistics, face_in: StageFace, request: StageRequest,
              pixels: np.ndarray, plan: FaceEdit | None = None) -> tuple[np.ndarray, StageEdit]:
    """One face's edit on ``pixels`` (the photo the faces before it left): the steps above in
    turn (plan the move, move the gaze, draw the lids, choose the cuts, warp, fill the mouth,
    paint the appearance, relight, turn the head) over one :class:`FaceEdit`, made from the face
    (its landmarks, Face Mesh points and depth, irises, what its video track carries) and the
    request (with the face's own reference face where it has one). Lips the Face Mesh reads apart
    that the pixels show sealed (:func:`faceedit.stage.sealed.lips_sealed_over_lip`) have their 68 points'
    inner lips closed first: the state reads a closed mouth, the cut is the crease between them
    and a move that parts them by less than ``lips_closed`` leaves them sealed. Returns the new
    photo and what was done; a face without 68 landmarks is left as it is (``pixels``
    themselves, scale 0). ``plan``: the face's move as :func:`planned` made it on these
    ``pixels`` for this request (the move verdict's, :func:`faceedit.stage.hold.judged`), taken
    on instead of planning it again (it is edited in place: pass each plan once)."""
    face = planned(stage, face_in, request, pixels) if plan is None else plan
    if plan is not None:
        plan.carried = face_in.carried  # what the track carries, for the steps (the plan read only its child)
    if face is None:
        return pixels, StageEdit(np.asarray(face_in.landmarks, np.float64), 0.0)
    whites = sclera_colour(pixels, face.landmarks)  # the photo's, before the warp narrows the eyes
    # the teeth the photo shows, as it shows them (read where a smile is filled: the warp moves them)
    seen = functools.partial(seen_teeth, pixels, face.landmarks, None if face.mesh is None else functools.partial(
        lower_teeth_line, pixels, face.mesh, stage.tuning.lips), stage.tuning.mouth)
    face.lips_dark = small_seam.own_lips_dark(pixels, face.landmarks, stage.tuning.mouth.seam_width,  # as the lips were
                                              stage.tuning.mouth.seam_own_colour)
    out = move_gaze(stage, face, pixels)
    out = draw_lids(stage, face, out)
    choose_cuts(stage, face, out)
    source, out = out, fringe.keep_fringe(stage, face, out, warp(stage, face, out))
    # a turned face's far outline and nose, kept from the fills as the warp drew them
    moved = face.warped.landmarks if face.warped is not None else face.landmarks
    hidden = hidden_parts(head_frame(face.mesh, face.depth, stage.tuning.turned), face.mesh, moved, out,
                          stage.tuning.turned)
    out = fill_mouth(stage, face, out, whites, seen)
    out = out if hidden is None else hidden.keep(out, nose=True)  # no mouth fill on its nose, past its outline
    out = carry_lip_grain(face, source, lift_pockets(stage, face, out), stage.tuning.lips, in_place=True)
    out = paint_appearance(stage, face, out)
    out = out if hidden is None else hidden.keep(out, nose=False)  # no folds past its outline
    out = keep_lenses(pixels, out, face.landmarks, stage.tuning.eyes) if face.eyes_hidden else out  # lenses as they are
    out = relight(stage, face, out)
    out = turn_head(stage, face, out)
    return out, face.result()


def gasps(stage: Statistics, lm: np.ndarray) -> bool:
    """Whether the 68 points ``lm`` (MediaPipe's) read a mouth open tall
    (:func:`~faceedit.faces.open_mouth.opens_tall`) that their state reads no smile in (under
    ``seen_smile``, :func:`~faceedit.stage.smile.smile_lift`): a laugh's lips dlib reads apart
    differently, and its closing lifts no jaw."""
    if not opens_tall(lm):
        return False
    cur = stage.state(lm, mediapipe=True)
    return smile_lift(stage, cur, cur.expression) < stage.tuning.edit.seen_smile


def planned(stage: Statistics, face_in: StageFace, request: StageRequest, pixels: np.ndarray) -> FaceEdit | None:
    """The :class:`FaceEdit` of one face with its move planned (:func:`plan_move`), as :func:`edit_face` starts it
    (upper lids read inside the white above an iris raised onto the lid's edge the pixels show,
    :func:`~faceedit.stage.lid_edge.lids_on_edge`; lips they show sealed closed; a gasp's lower lip and jaw read where
    dlib sees them, :func:`~faceedit.faces.open_mouth.lower_lip_seen`); None without 68 landmarks."""
    lm = np.asarray(face_in.landmarks, np.float64)
    if lm.shape != (68, 2):
        return None
    mesh = face_in.dense
    own = request if face_in.like is None else dataclasses.replace(request, like=face_in.like)
    lm = lids_on_edge(pixels, lm, iris_points(mesh), stage.tuning.eyes)
    # a gasp's lower lip and jaw where the photo shows them, not inside the mouth where the Face Mesh reads them (a
    # photo's: a video track's frames keep the tracked points, which dlib's would make jitter; not a laugh's)
    seen = lower_lip_seen(pixels, lm, mesh) if mesh is not None and face_in.carried is None and gasps(stage, lm) else None
    seen = None if seen is None else (seen[0], mesh_points(seen[1]))
    face = FaceEdit(own, lm, mesh_points(mesh), mesh_depth(mesh), iris_points(mesh), carried=face_in.carried,
                    photo_scale=face_in.photo_scale, furrowed=relief.furrow_shown(pixels, lm, stage.tuning.brows),
                    child=reads_child(mesh) if face_in.carried is None or face_in.carried.child is None
                    else face_in.carried.child,  # (a video track's: as its first edit read it)
                    eyes_hidden=eyes_hidden(pixels, lm), seen=seen)
    if face.mesh is not None and lip_gap(lm) > stage.tuning.edit.lips_closed \
            and lips_sealed_over_lip(pixels, face.mesh, stage.tuning.lips):
        # lips the pixels show meeting: the 68 points' inner lips meet too, so the state reads a
        # closed mouth and an edit that does not open it neither closes it again nor cuts it open
        face.landmarks, face.sealed, face.seen = close_lips(lm), True, None
        # a video track's own reference (the face's state plus a driver's change) carries that parting
        face.sealed_gap = lip_gap(lm) if face_in.like is not None else 0.0
    plan_move(stage, face)
    return face
