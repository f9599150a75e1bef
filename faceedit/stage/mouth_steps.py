"""The stage's mouth step (:func:`fill_mouth`, step 4 of :mod:`faceedit.stage.steps`) and the
tests on a face's mouth that the steps before it share: which interior the lips are cut along
(:func:`interior_cut`), whether the warp carries the lips with nothing to paint
(:func:`carries_lips`, :func:`mouth_still`), whether a smile goes over a dark inside
(:func:`smiles_over_dark_inside`), whether open lips' loop carries no teeth the photo shows
(:func:`carries_no_teeth`), whether a young child's open mouth is carried as it is (:func:`shows_tongue`), how
much of the bank's upper teeth a relaxed lip covers (:func:`teeth_cover`) and how much of a new opening the face's
own teeth carried into it fill (:func:`own_teeth_share`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from faceedit.edits.controls import CONTROLS
from faceedit.stage.chin_slide import face_window
from faceedit.stage.closed_seam import draw_closed_seam
from faceedit.stage.cut_curves import arc_fractions, resample_by_length
from faceedit.stage.lip_ends import closed_lip_ends
from faceedit.stage.lip_rims import lip_over_teeth, shade_carried
from faceedit.stage.lips import crease_fragments, lip_in_interior, widen_interior
from faceedit.stage.mouth import whites_shown
from faceedit.stage.mouth_focus import at_photo_focus
from faceedit.stage.paint import mouth_keep_out
from faceedit.stage.records import Curves, FaceEdit, Statistics
from faceedit.stage.row_ends import fade_row_ends
from faceedit.stage.smile import smile_lift
from faceedit.stage.state import lip_gap
from faceedit.stage.teeth_look import small_smile
from faceedit.stage.tooth_steps import tooth_steps
from faceedit.stage.tuning import EditTuning
from faceedit.stage.tuning_lips import LipsTuning


def interior_cut(shown: Curves | None, lm: np.ndarray, closing: float, tuning: EditTuning,
                 lips: LipsTuning | None = None) -> Curves | None:
    """The mouth interior found from colour (``shown``) as the lips' cut, or None where the Face
    Mesh's inner-lip loop is the cut instead: dropped where the 68 points read the lips closed (under
    ``lips_closed``: no teeth show there; what colour finds is something light over them, a white moustache, a
    pastel's strokes, which the mouth bank took for the face's own teeth over a black opening), or where it spans less than
    ``narrow_interior`` of the 68 points' inner corners (60, 64) (the front teeth of a small
    open smile, between lips that touch towards the corners: opening, their blunt ends would
    stand as the straight sides of a window in the lips; closing, the teeth beyond its ends
    stayed at the mouth's corners); a mouth that closes widens it by the closing margins (its
    teeth must all go); else an end further than ``interior_corner_gap`` of that distance inside its
    corner is carried on to it (colour finds the teeth, not a corner's dark: the lips between were
    cut nowhere, and a smile stretched the lower lip up between them). A closing mouth's ends further than that inside
    its outer corners (48, 54) are eased out onto them first (:func:`_eased_onto`): a laugh's lips meet there, and the
    dark between them beyond its teeth (the corridor, a back tooth), left outside the cut, would stand at the closed
    mouth's corners as torn, dark ends."""
    if shown is None or lip_gap(lm) < tuning.lips_closed:
        return None
    lm = np.asarray(lm, np.float64)
    width = float(np.linalg.norm(shown[0][-1] - shown[0][0]))
    if width < tuning.narrow_interior * float(np.linalg.norm(lm[64] - lm[60])):
        return None
    corners = lm[[60, 64]]
    far = tuning.interior_corner_gap * float(np.linalg.norm(corners[1] - corners[0]))
    if closing > 0:
        shown = _eased_onto(shown, lm[[48, 54]], far, tuning.closing_ends)
        return widen_interior(*shown, tuning.closing_margin_up, tuning.closing_margin_down, lips)
    left, right = (bool(np.linalg.norm(shown[0][i] - corners[k]) > far) for i, k in ((0, 0), (-1, 1)))
    if not (left or right):
        return shown
    # (both curves start and end at their shared corners: carried on along one line, each resampled to its own
    # number of points by arc length, as the curves found are)
    up, lo = (resample_by_length(np.vstack([corners[:1]] * left + [np.asarray(c, np.float64)] + [corners[1:]] * right),
                                 len(c)) for c in shown)
    return up, lo


def _eased_onto(shown: Curves, corners: np.ndarray, far: float, reach: float) -> Curves:
    """``shown`` (upper, lower, left corner first) with each end further than ``far`` from its corner (``corners``
    (2, 2), left first) moved onto it, the move eased out along each curve over ``reach`` of its arc (a smoothstep,
    each sample by its place along its own curve): the curves keep their shape, stretched toward the corners, and the
    teeth near the ends stay between them. (A straight line on from each end turns the lower curve sharply where it
    rises to the end, and the warp takes a curve that turns so for a loop folded across the teeth and cuts along the
    68 points' inner lips instead, on the teeth.)"""
    ends = [(k, i) for k, i in ((0, 0), (1, -1)) if float(np.linalg.norm(shown[0][i] - corners[k])) > far]
    if not ends or reach <= 0:
        return shown
    out = []
    for c in shown:
        c = np.asarray(c, np.float64)
        s = arc_fractions(c)
        moved = c.copy()
        for k, i in ends:
            w = np.clip(1.0 - (s if i == 0 else 1.0 - s) / reach, 0.0, 1.0)
            moved += (w * w * (3.0 - 2.0 * w))[:, None] * (corners[k] - c[i])[None]
        out.append(moved)
    return out[0], out[1]


#: A smile added over the face's own teeth: where the teeth carried into the new opening fill less than this share of
#: its height (:func:`own_teeth_share`), the whole opening is painted from the mouth bank (:func:`fill_mouth`). The
#: warp carries the own row up with the upper lip and the smile's taller opening is left below it: London HD's
#: training smiles made happy carry their own teeth on 19 of 68 faces, and those under half (066 0.23, 027 0.26,
#: 006 0.29, 004 0.29, 037 0.41, 016 0.45; web img18 0.36) stood as a thin row over a black band as tall, a gaping
#: mouth at the photo's own pixels; from 0.55 up (012, 139, 104, 132, 128, 118, 034, 113) the own row fills most
#: of it and the dark below reads as a laugh's, the person's own teeth kept (a face model, looked at 1x).
OWN_TEETH_LEAST = 0.5


def own_teeth_share(interior: np.ndarray, opening: np.ndarray) -> float:
    """How much of an opening's height the face's own teeth carried into it fill: per column of the warp's ROI,
    the carried ``interior``'s share of it with the painted ``opening`` (both 0..1 over the ROI), the median over
    the middle half of the columns over 2 px high (the corners' short columns left out); 1 where none is."""
    carried = np.clip(np.asarray(interior, np.float64), 0.0, 1.0)
    height = (carried + np.clip(np.asarray(opening, np.float64), 0.0, 1.0)).sum(0)
    cols = np.flatnonzero(height > 2.0)
    if len(cols) == 0:
        return 1.0
    share = carried.sum(0)[cols] / height[cols]
    n = len(share)
    return float(np.median(share[n // 4: n - n // 4] if n >= 4 else share))


def carries_lips(face: FaceEdit, tuning: EditTuning) -> bool:
    """Whether the warp carries the lips as the photo shows them, with no opening to paint: a
    mouth with no interior found whose move does not part its lips (the 68 points' inner lips
    no further apart) and adds no smile, where its lips' colour is known and they lie at most
    ``tuning.crease_gap`` apart (the crease between closed lips read as a parting by the Face
    Mesh, e.g. a disgusted upper lip; painted, it came out as a grey stroke or a slit of the
    mouth bank's teeth), or where a control reshapes them
    (its record's ``presses_lips``, :class:`faceedit.edits.controls.Control`: ``pout``, ``purse``,
    a wink's mouth corner; ``eee`` and ``woo`` below 0)."""
    s, lm, goal = face.request, face.landmarks, face.goal
    assert goal is not None
    lips = any(CONTROLS[k].presses(s.control(k)) for k in s.controls or {})
    if face.shown is None and lips:
        return lip_gap(goal) <= lip_gap(lm) + 0.005
    # (a smile added, or a mouth open wider than a crease: the bank paints its teeth and its dark)
    return (face.shown is None and face.lip_redness is not None and face.smile_taken >= 0
            and lip_gap(lm) < tuning.crease_gap and lip_gap(goal) <= lip_gap(lm) + 0.005)


def mouth_still(lm: np.ndarray, goal: np.ndarray) -> bool:
    """Whether a move leaves the mouth (68-point 48-67) where it is (under a hundredth of a pixel):
    the warp then carries the lips as they are and there is no opening to paint."""
    return float(np.abs(np.asarray(goal)[48:] - np.asarray(lm)[48:]).max()) < 0.01


def smiles_over_dark_inside(face: FaceEdit, tuning: EditTuning) -> bool:
    """Whether an edit adds a smile to a mouth the photo shows open with no teeth found in it (a surprised or
    talking mouth: its dark inside, at most the edges of its teeth): the smile shows a whole row, the photo none."""
    return face.smile_taken < 0 and face.shown is None and lip_gap(face.landmarks) > tuning.lips_closed


def carries_no_teeth(face: FaceEdit, tuning: EditTuning) -> bool:
    """Whether the loop between lips the photo shows apart (over twice ``lips_closed``) carries no teeth it shows:
    colour found no interior between them (``face.shown``) and no row of teeth is carried from the loop
    (``face.carry``). It carries a dark inside, lip and a slit between them, which read pixel by pixel as lip or
    not left a saw-toothed top edge on the new opening (insightface's group_t1 face 1, a smile parted over the tips
    of teeth colour did not find, made surprised); the whole opening is painted (:func:`fill_mouth`). Lips that
    (nearly) meet keep their crease as a band where they meet: painted whole, a talking clip's closed frames made
    surprised read apart (GRID's bbaf2n)."""
    return face.shown is None and face.carry is None and lip_gap(face.landmarks) > 2 * tuning.lips_closed


def teeth_cover(stage: Statistics, face: FaceEdit) -> float:
    """The share of the mouth bank's upper teeth drawn under the upper lip: ``teeth_cover`` times the smile the new
    state lacks (:func:`faceedit.stage.smile.smile_lift`). A relaxed upper lip covers the top of the teeth a smile shows.
    A young child's lips cover them all (``face.child``): the bank's teeth are an adult's, and a small child's open
    mouth shows its dark and its tongue."""
    assert face.current is not None and face.new_state is not None
    if face.child:
        return 1.0
    return stage.tuning.edit.teeth_cover * (1.0 - smile_lift(stage, face.current, face.new_state))


def shows_tongue(stage: Statistics, face: FaceEdit) -> bool:
    """Whether the face is a young child's whose open mouth (its lips ``child_open`` or more apart) a smiling move
    carries as the photo shows it: its dark and its tongue, as red as its lips, where an adult's carried inside is
    painted over from the bank (its lip-red as lip, a dark inside under a smile as a whole)."""
    if not face.child or lip_gap(face.landmarks) < stage.tuning.edit.child_open:
        return False
    assert face.current is not None and face.new_state is not None
    return smile_lift(stage, face.current, face.new_state) >= stage.tuning.edit.smiling_goal


def fill_mouth(stage: Statistics, face: FaceEdit, pixels: np.ndarray, whites: np.ndarray | None = None,
               seen: Callable[[], np.ndarray | None] | None = None) -> np.ndarray:
    """The warped face's mouth: an opening painted from the mouth bank below the face's own teeth carried into it,
    the dark seam where lips that showed teeth close; the
    mouth drawn at the photo's resolution is kept out of the appearance maps (``face.keep_out``). Without a mouth
    bank the appearance maps draw the mouth. ``pixels`` are the warp's, the stage's own: drawn over, not copied.
    ``whites``: the eye whites' colour read on the photo before the warp (:func:`faceedit.stage.mouth.sclera_colour`;
    the warp's smile narrows the eyes and mixes lid into them), the bank's teeth's white balance and brightness cap;
    ``seen``: what reads the teeth the photo shows there (:func:`faceedit.stage.teeth_look.seen_teeth`), for a smile's
    teeth's brightness and, where the eyes show no whites, their colour."""
    r = face.warped
    assert r is not None and face.goal is not None
    out, moved = pixels, r.landmarks
    if face.closing == 0 and (mouth_still(face.landmarks, face.goal) or carries_lips(face, stage.tuning.edit)):
        return out  # the mouth stays closed, or where it is
    opening, interior = r.opening, r.interior
    bank = stage.mouth_bank()
    own = (face.shown is not None or face.carry is not None) and float(interior.sum()) > 0
    tongue = shows_tongue(stage, face)
    if bank is not None and not tongue and (
            smiles_over_dark_inside(face, stage.tuning.edit) or carries_no_teeth(face, stage.tuning.edit)
            or own and small_smile(r.upper, r.lower, teeth_cover(stage, face), stage.tuning.mouth, face.photo_scale)
            or own and face.smile_taken < 0 and own_teeth_share(interior, opening) < OWN_TEETH_LEAST):
        # the dark inside of an open mouth carried into a smile would stand between the bank's teeth as black gaps and
        # broken teeth, an open mouth's carried slit and lip as a ragged edge, a small face's own teeth as a thin seam
        # over its lower row, a row of own teeth a smile carries up as a thin band over a black one: the whole opening
        # is painted
        opening, interior = opening + interior, np.zeros_like(interior)
    elif bank is not None and face.lip_redness is not None and float(interior.max()) > 0:
        # what the loop carried that is lip (but the upper lip carried teeth hang from), and the
        # pieces of the crease between closed lips, are painted like the rest of the opening
        lip = np.zeros_like(interior) if tongue else lip_in_interior(out, r.roi, interior, face.lip_redness, stage.tuning.lips)
        lip -= lip_over_teeth(out, r.roi, interior, lip) if own else 0.0
        lip += crease_fragments(interior - lip, float(np.linalg.norm(moved[64] - moved[60])), stage.tuning.lips)
        opening, interior = opening + lip, interior - lip
    if bank is not None and float(opening.max()) > 0:
        # the face's own teeth are carried into the opening: paint what lies below them
        # (with the bank's upper teeth too, a thin band of own teeth got a second row)
        own = (face.shown is not None or face.carry is not None) and float(interior.sum()) > 0
        out, face.exemplar = bank.fill(out, *face_window(r.roi, r.face_roi, opening), r.upper, r.lower, face_lm=moved,
                                       exemplar=face.carried_mouth, own_teeth=own, in_place=True,
                                       teeth_cover=teeth_cover(stage, face), tuning=stage.tuning.mouth, sclera=whites,
                                       whites_open=whites_shown(face.landmarks), photo_scale=face.photo_scale,
                                       seen=seen)
        face.invented = (tuple(int(v) for v in r.roi), np.clip(opening, 0.0, 1.0).astype(np.float32))
        keeps = face.request.target == "keep" and not face.request.aus and face.request.like is None  # lips as they are
        kept = lip_gap(face.goal) / max(lip_gap(face.landmarks), 1e-6)
        if (own or face.smile_taken > 0) and not keeps and kept >= stage.tuning.mouth.carried_kept_gap:
            # a smile's lit row (found from colour, or inside the Face Mesh's loop) under a
            # relaxed upper lip that stays open (fear, surprise): a band, darker toward the
            # inside; a move that closes the mouth (neutral) leaves what it keeps of the row
            relax = teeth_cover(stage, face) / max(stage.tuning.edit.teeth_cover, 1e-6)
            # (and its ends in the cavity's shadow as far as the lip relaxes: a smile made happy keeps its own)
            out = fade_row_ends(shade_carried(out, r.roi, interior, opening, relax, stage.tuning.mouth, in_place=True),
                                r.roi, opening + interior, stage.tuning.edit,
                                amount=relax / max(stage.tuning.edit.row_ends_relaxed, 1e-6), in_place=True)
        out = tooth_steps(out, r.roi, opening + interior, float(moved[[51, 62, 66], 0].mean()),
                          float(np.linalg.norm(moved[64] - moved[60])), face.photo_scale, in_place=True)
        at_photo_focus(out, r.roi, opening + interior, moved, stage.tuning.mouth,  # in a soft photo
                       opens=own or teeth_cover(stage, face) >= stage.tuning.mouth.open_cover)
    if face.closing > 0 and (face.shown is not None or lip_gap(face.landmarks) > 2 * stage.tuning.edit.lips_closed):
        if face.smile_taken > 0:  # a laugh's lips, thinned at the corners, stretched to the closed ones
            closed_lip_ends(out, r.landmarks, r.upper, r.lower, stage.tuning.warp)
        out = draw_closed_seam(stage, face, out, r)  # (and face.seam_deepened)
    drawn = opening + interior
    if bank is not None and float(drawn.max()) > 0:
        face.keep_out = (r.roi, mouth_keep_out(r.roi, moved, drawn))
    return out
