"""Landmark moves of the named controls the expression state cannot make (each named by its
control's record, :mod:`faceedit.edits.controls`, and run by :func:`control_moves`): the
state's AU space has no lip protrusion (AU18, AU22) and its left-right asymmetric axes are head
turns, so a pout, a pucker and a wink's squeeze (its mouth corner and brow) are displacements
of the 68 goal landmarks that the warp carries; so are the lids following the gaze up and the
jaw of ``aaa`` beyond the state's AU26. A closing eye's lids (a blink, a wink, the sleepy and
wink targets, the gaze down) are drawn, not warped (:mod:`faceedit.stage.lids`): here they are
planned (:func:`lid_closures`) and held open in the warp (:func:`hold_lids`).

Every move is measured in the face's own frame: eye distances along the eye line (``u``) and
across it (``n``, pointing down the face), so a tilted head gets the same move. The weights
below are the fractions of an eye distance (or of the mouth's width) each point travels at 1.
"""

from __future__ import annotations

import numpy as np

from faceedit.edits.controls import control_moves_of
from faceedit.faces.landmarks import eye_centres, eye_distance
from faceedit.stage.tuning import EditTuning
from faceedit.stage.tuning_face import BrowsTuning, RestTuning
from faceedit.stage.tuning_lids import LidsTuning

#: The eyes' lid pairs (upper, lower) of the 68 points: the image's left eye, the image's right.
LID_PAIRS = (((37, 41), (38, 40)), ((43, 47), (44, 46)))
#: What ``wink_left`` / ``wink_right`` 1 squeezes: the mouth corner on its side rises and the
#: brow comes down (eye distances at 1; a control's move at 1, like ``aaa``'s :data:`JAW_DROP`).
WINK_CORNER = 0.05
WINK_BROW = 0.04
#: What ``gaze_y`` 1 moves: how far the upper lid follows the iris (eye distances at 1) and the
#: lower lid (up; looking down, the lids are drawn: :data:`GAZE_DOWN_LIDS`).
GAZE_LID = 0.035
GAZE_LOWER_LID = 0.015
OUTER_UPPER, OUTER_LOWER = (49, 50, 51, 52, 53), (55, 56, 57, 58, 59)
INNER_UPPER, INNER_LOWER = (61, 62, 63), (65, 66, 67)


def face_frame(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(u, n, eye distance): the unit vector along the eye line (image left to right), the one
    across it pointing down the face, and the distance between the eye centres."""
    lm = np.asarray(lm, np.float64)
    left, right = eye_centres(lm)
    d = right - left
    u = d / max(float(np.linalg.norm(d)), 1e-9)
    return u, np.array([-u[1], u[0]]), eye_distance(lm)


def close_eye(out: np.ndarray, k: int, amount: float, meet: float) -> None:
    """Close eye ``k`` (0: the image's left) of landmarks ``out`` in place, ``amount`` (0..1) of
    the way: each upper lid point and the lower one below it meet ``meet`` of the way up from
    the lower (where the drawn lids of :mod:`faceedit.stage.lids` meet, :func:`lid_closures`)."""
    for up, low in LID_PAIRS[k]:
        at = out[low] + meet * (out[up] - out[low])
        out[up] += amount * (at - out[up])
        out[low] += amount * (at - out[low])


#: Named targets that close the lids with the controls' machinery (the controls at strength 1,
#: on top of the target's state): ``wink`` closes the person's left eye, as ``wink_left=1``
#: does; ``sleepy`` lowers both upper lids over the top of the irises.
TARGET_CONTROLS = {"wink": {"wink_left": 1.0}, "sleepy": {"blink": 0.55}}
#: How far the lids close as the eyes look down (what ``gaze_y`` -1 closes): the upper lid
#: follows the iris down over the eyeball, by about the iris's travel
#: (:data:`faceedit.stage.gaze.GAZE_Y_TRAVEL` of the eye's width, a third of its opening).
GAZE_DOWN_LIDS = 0.3


def with_target_controls(controls: dict[str, float], target: str, strength: float) -> dict[str, float]:
    """``controls`` with the named ``target``'s own (:data:`TARGET_CONTROLS`, times ``strength``
    up to 1) added, the larger of the two where both name one."""
    own = TARGET_CONTROLS.get(target)
    if not own or strength <= 0:
        return controls
    out = dict(controls)
    for k, v in own.items():
        out[k] = max(out.get(k, 0.0), v * min(strength, 1.0))
    return out


def lid_closures(controls: dict[str, float], tuning: LidsTuning | None = None
                 ) -> tuple[tuple[float, float], tuple[float, float]]:
    """(how far, 0..1, the lids of the image's left eye and of its right eye are drawn closed;
    where each pair meets, ``tuning``'s ``meet`` or a wink's ``wink_meet``,
    :class:`~faceedit.stage.tuning_lids.LidsTuning`): ``blink`` both,
    ``wink_right`` the image's left, ``wink_left`` its right, ``eyes`` below 0 both (closed at
    -1; the state's AU45 alone narrows an eye by a few hundredths), ``gaze_y`` below 0 both
    (:data:`GAZE_DOWN_LIDS` at -1: the upper lids follow the eyes down), the largest that asks
    for each."""
    tn = tuning if tuning is not None else LidsTuning()
    blink = max(controls.get("blink", 0.0), max(-controls.get("eyes", 0.0), 0.0),
                GAZE_DOWN_LIDS * max(-controls.get("gaze_y", 0.0), 0.0))
    winks = (controls.get("wink_right", 0.0), controls.get("wink_left", 0.0))
    amounts = tuple(float(min(max(blink, w), 1.0)) for w in winks)
    meets = tuple(tn.wink_meet if w > blink else tn.meet for w in winks)
    return (amounts[0], amounts[1]), (meets[0], meets[1])


def hold_lids(lm: np.ndarray, goal: np.ndarray, eyes: tuple[float, float]) -> np.ndarray:
    """``goal`` with the lids of each eye ``eyes`` closes (above 0) kept as open as in ``lm``,
    moved only with that eye's corners: those lids are drawn, not warped
    (:func:`faceedit.stage.lids.close_lids`)."""
    if not any(a > 0 for a in eyes):
        return goal
    out = np.array(goal, np.float64)
    lm = np.asarray(lm, np.float64)
    for k, a in enumerate(eyes):
        if a <= 0:
            continue
        corners = [36, 39] if k == 0 else [42, 45]
        shift = (out[corners] - lm[corners]).mean(0)
        lids = [i for pair in LID_PAIRS[k] for i in pair]
        out[lids] = lm[lids] + shift
    return out


def control_moves(lm: np.ndarray, goal: np.ndarray, controls: dict[str, float]) -> np.ndarray:
    """``goal`` (68 photo landmarks the edit heads for; ``lm`` the face's own, which set its
    frame) with the landmark moves of ``controls`` added (each control's registered ``move``,
    :class:`faceedit.edits.controls.Control`); ``goal`` itself when none applies."""
    moving = control_moves_of(controls)
    if not moving:
        return goal
    u, n, ed = face_frame(lm)
    out = np.array(goal, np.float64)
    width = float(np.linalg.norm(out[54] - out[48]))
    for move, v in moving:
        move(out, v, u, n, ed, width)
    return out


def _wink(k: int):
    def move(out, v, u, n, ed, width):
        corner = (48, 60) if k == 0 else (54, 64)
        out[list(corner)] -= v * WINK_CORNER * ed * n
        brow = list(range(17, 22)) if k == 0 else list(range(22, 27))
        out[brow] += v * WINK_BROW * ed * n
    return move


def gaze_y_lids(out, v, u, n, ed, width):
    for eye in (0, 1):
        for up, low in LID_PAIRS[eye]:
            out[up] -= v * GAZE_LID * ed * n
            out[low] -= v * GAZE_LOWER_LID * ed * n


def _narrow(out: np.ndarray, share: float, u: np.ndarray, width: float) -> None:
    """Bring the mouth's sides towards its middle: the corners ``share`` of the width each, the
    other lip points by their distance from the middle."""
    mid = (out[48] + out[54]) / 2
    for i in range(48, 68):
        along = float((out[i] - mid) @ u) / max(width / 2, 1e-9)
        out[i] -= share * width * along * u


def _thicken(out: np.ndarray, amount: float, n: np.ndarray, ed: float) -> None:
    """The outer lip margins moved off the lips' line by ``amount`` eye distances (below 0 onto it)."""
    out[list(OUTER_UPPER)] -= amount * ed * n
    out[list(OUTER_LOWER)] += amount * ed * n


# the lip shapes: (the corners' move towards the middle, a share of the width, at +1 / -1;
# the outer lips' move off their line, eye distances)
def pout(out, v, u, n, ed, width):
    _narrow(out, 0.08 * v if v > 0 else 0.04 * v, u, width)
    _thicken(out, 0.045 * v, n, ed)


def purse(out, v, u, n, ed, width):
    _narrow(out, 0.12 * v if v > 0 else 0.06 * v, u, width)
    _thicken(out, -0.02 * max(v, 0.0), n, ed)


def eee(out, v, u, n, ed, width):
    if v < 0:
        _narrow(out, 0.12 * -v, u, width)


def woo(out, v, u, n, ed, width):
    if v > 0:
        _narrow(out, 0.15 * v, u, width)
        _thicken(out, 0.03 * v, n, ed)
    else:
        _narrow(out, 0.08 * v, u, width)


#: ``aaa``: the jaw's drop at 1 beyond the state's AU26 (eye distances), and each jaw point's
#: share of it (the chin's full, the angles' none).
JAW_DROP = 0.08
JAW_SHARE = {4: 0.2, 5: 0.45, 6: 0.7, 7: 0.9, 8: 1.0, 9: 0.9, 10: 0.7, 11: 0.45, 12: 0.2}


def aaa(out, v, u, n, ed, width):
    drop = v * JAW_DROP * ed * n
    out[list(OUTER_LOWER) + list(INNER_LOWER)] += drop
    for i, share in JAW_SHARE.items():
        out[i] += share * drop


#: How much of the middle's move each lip point takes (inner and outer lips; the corners none).
OPEN_SHARE = {62: 1.0, 61: 0.75, 63: 0.75, 51: 1.0, 50: 0.8, 52: 0.8, 49: 0.35, 53: 0.35}
OPEN_SHARE_LOWER = {66: 1.0, 65: 0.75, 67: 0.75, 57: 1.0, 56: 0.8, 58: 0.8, 55: 0.35, 59: 0.35, 8: 1.0}


def real_opening(lm: np.ndarray, goal: np.ndarray, tuning: EditTuning | None = None) -> np.ndarray:
    """``goal`` with a mouth it opens beyond the photo's shaped like real open mouths: its
    height over width (68-point 62 to 66 over the inner corners 60 to 64) above ``open_from``
    kept ``open_keep`` of, and ``above_chord`` of it above the
    corners' chord, the upper lip's middle (61-63, 49-53) and the lower's with the chin
    (65-67, 55-59, 8) moved down the face by their shares of the middle's change. Real posed
    surprise opens the jaw far less than the expression goal's mean, and mostly downwards: the
    goal's tall opening with its upper lip raised reads as a hole cut into the face. ``goal``
    itself where the mouth opens no more than the photo's or stays under ``open_from`` (the
    shares are ``tuning``'s, :class:`faceedit.stage.tuning.EditTuning`)."""
    tn = tuning if tuning is not None else EditTuning()
    goal = np.array(goal, np.float64)
    lm = np.asarray(lm, np.float64)
    _, n, _ = face_frame(lm)
    width = float(np.linalg.norm(goal[64] - goal[60]))
    chord = (goal[60] + goal[64]) / 2
    a, b = float((goal[62] - chord) @ n), float((goal[66] - chord) @ n)
    height, before = b - a, float((lm[66] - lm[62]) @ n)
    if width <= 0 or height <= before or height <= tn.open_from * width:
        return goal
    new_h = max(tn.open_from * width + tn.open_keep * (height - tn.open_from * width), before)
    split = float(np.clip((height / width - tn.open_from) / tn.open_split_reach, 0.0, 1.0))
    above = -a / height + split * (tn.above_chord + a / height)
    d_up, d_lo = -above * new_h - a, (1.0 - above) * new_h - b
    for shares, d in ((OPEN_SHARE, d_up), (OPEN_SHARE_LOWER, d_lo)):
        for i, share in shares.items():
            goal[i] += share * d * n
    return goal


#: The 68 points of the mouth and the jaw line (what a face keeping its own mouth keeps).
MOUTH_AND_JAW = tuple(range(17)) + tuple(range(48, 68))


def keep_mouth(lm: np.ndarray, goal: np.ndarray, share: float) -> np.ndarray:
    """``goal`` with the mouth and the jaw line (68-point 48-67 and 0-16) ``share`` (0..1) of the
    way back to where they are at ``lm``; ``goal`` itself at 0."""
    if share <= 0:
        return goal
    out = np.array(goal, np.float64)
    idx = list(MOUTH_AND_JAW)
    out[idx] += min(float(share), 1.0) * (np.asarray(lm, np.float64)[idx] - out[idx])
    return out


def jaw_follows(lm: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """``goal`` with the jaw line following the chin: the jaw turns about its hinges, so each
    point of it (:data:`JAW_SHARE`, 68-point 4-12) moves down the face by its share of the
    chin's (8) move there, in the frame of the face at ``lm``; along the eye line each keeps its
    own. The expression goal moves the chin with the lower lip and its neighbours alike while
    the jaw's sides stay: a dropped jaw would stretch the lower face, with a step at 5 and 11."""
    goal = np.array(goal, np.float64)
    _, n, _ = face_frame(lm)
    lm = np.asarray(lm, np.float64)
    drop = float((goal[8] - lm[8]) @ n)
    if drop == 0.0:
        return goal
    for i, share in JAW_SHARE.items():
        goal[i] += (share * drop - float((goal[i] - lm[i]) @ n)) * n
    return goal


def chin_follows_lip(lm: np.ndarray, goal: np.ndarray, closing: float) -> np.ndarray:
    """``goal`` with the chin (68-point 8) raised with a lower lip that closing lips raise past
    it, as far as the lips' opening in the photo shuts: ``closing`` (0..1) of the lower lip's
    middle's (57) rise up the face beyond the chin's, at most the fall of the gap between the
    inner lips' middles (62, 66), in the frame of the face at ``lm`` (the jaw is one bone: a
    mouth that shuts lifts the chin with the lip). Without it the lip rises alone, the skin
    between them stretches and the lower lip reads as pushed up by the chin (AU17's pout, which
    reads as sad). ``goal`` itself where the lips do not close, the photo's are closed already
    (a mouth pressed shut raises its lip alone) or the chin rises as far as the lip. The stage
    passes how far the lips close times the share of the opening that is no smile's
    (:func:`faceedit.stage.steps.plan_move`): a smile parts the lips, not the jaw (London's
    held-out smiles made neutral keep their chins: to the real neutral photos, nose to chin
    already 0.03 eye distances short), while JAFFE's posed surprise made neutral left the lower
    face 0.050 eye distances longer than the same people's neutral photos, 0.032 with the chin
    raised (30 photos)."""
    if closing <= 0:
        return goal
    _, n, _ = face_frame(lm)
    lm = np.asarray(lm, np.float64)
    past = float((lm[57] - goal[57]) @ n) - float((lm[8] - goal[8]) @ n)
    shut = float((lm[66] - lm[62]) @ n) - float((goal[66] - goal[62]) @ n)
    lift = min(float(closing), 1.0) * min(past, shut)
    if lift <= 0:
        return goal
    out = np.array(goal, np.float64)
    out[8] -= lift * n
    return out


#: Each brow's 68 points from its outer end to its inner one, with the eye it stands over:
#: the image's left, the image's right.
BROW_EYES = ((tuple(range(17, 22)), tuple(range(36, 42))), (tuple(range(26, 21, -1)), tuple(range(42, 48))))


def brow_slope(lm: np.ndarray) -> tuple[float, float]:
    """How much higher over its eye each brow's inner end (68-point 21, 22) stands than its
    outer end (17, 26), in eye distances across the eye line of the face at ``lm`` (the
    image's left brow, the image's right). Worry (AU1) steepens it, a frown (AU4) flattens it."""
    _, n, ed = face_frame(lm)
    lm = np.asarray(lm, np.float64)
    return tuple(float((lm[b[0]] - lm[b[-1]]) @ n) / ed for b, _ in BROW_EYES)  # type: ignore[return-value]


def brows_at_rest(lm: np.ndarray, goal: np.ndarray, amount: float, tuning: BrowsTuning | None = None) -> np.ndarray:
    """``goal`` with each brow whose inner end it leaves standing over its outer end by more
    than a resting brow's (``tuning.rest_slope``) or the photo's own (:func:`brow_slope`) brought
    ``amount`` (0..1) of the way down to that: its inner end lowered, the points between in
    proportion to their place along it, its outer end kept. A neutral edit that lowers a raised
    brow's outer end more than its inner one (surprise's raise read as AU2 more than AU1) would
    leave the oblique brow of worry (AU1, the sad face's). ``goal`` itself where none does."""
    tn = tuning if tuning is not None else BrowsTuning()
    if amount <= 0:
        return goal
    _, n, ed = face_frame(lm)
    out = np.array(goal, np.float64)
    for (brow, _), own, now in zip(BROW_EYES, brow_slope(lm), brow_slope(goal)):
        steep = now - max(tn.rest_slope, own)
        if steep > 0:
            out[list(brow)] += (min(float(amount), 1.0) * steep * ed * np.linspace(0.0, 1.0, 5))[:, None] * n
    return out


def mouth_at_rest(lm: np.ndarray, goal: np.ndarray, amount: float, tuning: RestTuning | None = None) -> np.ndarray:
    """``goal`` with each mouth corner (68-point 48, 54) it leaves lower below where the lips meet at the
    middle (62 and 66's midpoint) than a resting mouth's (``tuning.corner_drop``) raised ``amount`` (0..1)
    of the way up to that, the lips' points between raised in proportion to the square of their
    distance from the middle over the corner's (the inner lips' over the inner corner's, 60 and 64,
    which rise as far: a bend, the middle stays). An open mouth closed where its lips meet at the
    middle leaves its corners low under an arched line between the lips, the turned-down mouth of
    sadness. ``goal`` itself where neither corner is that low."""
    tn = tuning if tuning is not None else RestTuning()
    if amount <= 0:
        return goal
    u, n, ed = face_frame(lm)
    out = np.array(goal, np.float64)
    mid = (out[62] + out[66]) / 2
    along = (out[48:68] - mid) @ u
    for corner, inner in ((48, 60), (54, 64)):
        # the outer lip's points bend up to the corner, the inner lips' to the inner corner
        reach = np.where(np.arange(48, 68) < 60, float((out[corner] - mid) @ u), float((out[inner] - mid) @ u))
        low = float((out[corner] - mid) @ n) / ed - tn.corner_drop
        if low > 0 and np.all(np.abs(reach) > 0):
            bend = np.clip(along / reach, 0.0, 1.0) ** 2
            out[48:68] -= (min(float(amount), 1.0) * low * ed * bend)[:, None] * n
    return out


def mouth_smile(lm: np.ndarray) -> np.ndarray:
    """(rise, width) of a face's mouth in eye distances: how far its corners (68-point 48, 54, their
    mean) stand above where the lips meet at the middle (62 and 66's midpoint, across the eye line),
    and how far apart they are along it: the two things a smile changes (the state's smile shown,
    :meth:`faceedit.stage.state.ExpressionStates.state`)."""
    u, n, ed = face_frame(lm)
    lm = np.asarray(lm, np.float64)
    mid = (lm[62] + lm[66]) / 2
    return np.array([-float((lm[[48, 54]].mean(0) - mid) @ n), abs(float((lm[54] - lm[48]) @ u))]) / ed


# the winks' moves (each control's move is named in its record, faceedit.edits.controls)
wink_left, wink_right = _wink(1), _wink(0)


#: Each named target's landmark moves on top of its state's (eye distances at strength 1, in the
#: face's frame: ``u`` along the eye line towards the image's right, ``n`` down the face; an
#: inward move takes the ``u`` sign of the side). What a target's mean state leaves out that
#: the expression lives in, set by looking at 1350-px London faces beside JAFFE's posed photos:
#: fear's inner brows raised and drawn together over outer ends that stay down (the oblique,
#: worried brow of AU1+4, not surprise's arch), its eyes wide and its lips stretched sideways
#: and down at the corners (AU20) (the state alone reads as a gasp); disgust's upper lip and
#: nose wings raised over a lower lip pulled down (AU10, AU9, AU16: JAFFE's posed disgust
#: lowers the lower lip and the chin, the state alone pushes them up into a pout that reads as
#: anger), the upper lip raised most beside its middle (AU10's squared lip: raised evenly it
#: is a pout), the brows lowered at their inner ends (AU4) and the lower lids pushed up; anger's
#: brows pulled down and together, hardest at their inner ends (AU4), the upper lids held up
#: under them (AU5: the glare that tells anger from a frown of thought), the lower lids tensed
#: straight (AU7), the lips pressed thin (AU24) where they are (the state alone lifts the
#: whole mouth and bunches the chin: 0.10-0.14 eye distances on JAFFE's neutral faces as
#: MediaPipe reads them, against 0.02 in the same people's posed anger,
#: ``bench/bench_posed_moves.py``); surprise's upper lids and brows raised a little more than its
#: state's (what an edit to it adds beyond: :data:`ADDED_MOVES`). Their size is bounded by the
#: way back (the state reads a move mostly on its target's line only where people's neutral
#: faces do not differ by it; a larger brow drop or mouth stretch is read as the person's own
#: and stays after an edit to neutral) and by the person (anger's brows move dlib's identity
#: descriptor most: the stage's card).
#: A target's moves are read on its line in the state's fit (all but :data:`MOVES_OFF_LINE`'s), which
#: is joint: changing them changes every face's reading, the other targets' lines included
#: (:meth:`faceedit.stage.state.ExpressionStates._solver`).
#: point -> (inward, up) per target; left-side points listed, their mirror images move alike.
TARGET_MOVES: dict[str, dict[int, tuple[float, float]]] = {
    "fearful": {21: (0.03, 0.045), 20: (0.018, 0.025), 19: (0.006, 0.008), 18: (0.0, -0.006),
                17: (0.0, -0.012), 37: (0.0, 0.018), 38: (0.0, 0.018), 40: (0.0, 0.01),
                41: (0.0, 0.01), 48: (-0.06, -0.035), 60: (-0.05, -0.03), 49: (-0.03, -0.014),
                50: (-0.01, -0.008), 51: (0.0, -0.006), 61: (-0.01, -0.012), 62: (0.0, -0.012),
                59: (-0.03, -0.03), 58: (-0.015, -0.03), 57: (0.0, -0.028), 67: (-0.015, -0.02),
                66: (0.0, -0.018)},
    "disgusted": {51: (0.0, 0.09), 50: (0.006, 0.12), 49: (0.006, 0.1), 62: (0.0, 0.055),
                  61: (0.006, 0.07), 60: (0.0, 0.01), 57: (0.0, -0.035), 58: (0.0, -0.035),
                  59: (0.0, -0.025), 8: (0.0, -0.02), 31: (0.0, 0.045), 32: (0.0, 0.035),
                  33: (0.0, 0.025), 21: (0.035, -0.045), 20: (0.02, -0.03), 19: (0.006, -0.012),
                  40: (0.0, 0.016), 41: (0.0, 0.016)},
    "surprised": {37: (0.0, 0.012), 38: (0.0, 0.012), 17: (0.0, 0.012), 18: (0.0, 0.018), 19: (0.0, 0.022),
                 20: (0.0, 0.022), 21: (0.0, 0.018)},
    "angry": {18: (0.0, -0.02), 19: (0.018, -0.04), 20: (0.045, -0.065), 21: (0.07, -0.085),
              37: (0.0, 0.016), 38: (0.0, 0.02), 40: (0.0, 0.02), 41: (0.0, 0.02), 48: (0.012, -0.07),
              49: (0.0, -0.06), 50: (0.0, -0.094), 51: (0.0, -0.096), 57: (0.0, -0.09),
              58: (0.0, -0.09), 59: (0.0, -0.08), 60: (0.0, -0.06), 61: (0.0, -0.06),
              62: (0.0, -0.06), 66: (0.0, -0.1), 67: (0.0, -0.095), 8: (0.0, -0.05)},
}
#: happy's eyes and brows: what a real smile does there that the state's happy line leaves out,
#: measured on London HD's training people (68 neutral and smiling photos of one session, dlib's
#: 68 points at 675 px, ``bench/bench_smile_eyes.py``): real smiles at the edit's mouth width
#: (x1.22) raise the lower lids 0.009 eye distances above their eye's corners and lower the upper
#: ones 0.008 (the eye 0.88 as open), lower the inner brows 0.014 and the outer 0.005. The state
#: alone, as detected on the edit, raises the lower lids 0.013 and the upper 0.001 (0.92 as
#: open: the eye narrowed from below only) and lowers the inner brows 0.001, the outer 0.021.
#: With these moves dlib reads the edit's brows -0.020 and -0.013. The upper lids come down 0.006 at 1,
#: not the 0.017 that would meet real smiles (-0.008, 0.87 open): at 0.017 FER reads
#: insightface's posed_anger_15 made happy as sad. The lower lids rise 0.02 on the state's: the
#: eye narrowed from below beyond a mean London smile, within its spread (dlib reads the edit's
#: lower lids +0.018±0.005 and the eye x0.82±0.06 as open; the real smiles +0.008±0.007,
#: x0.89±0.10, all 68 training people), for the small and JPEG faces FER reads a smile by
#: (``bench/bench_happy_fer.py``, the shareable set's 31 faces: FER reads 24 happy, mean share
#: 0.735, against 20 and 0.685 at 0.01 and 18 and 0.681 with the lids lowered 0.009 to the mean
#: real smile); the lids alone, not the cheek below them (``bench/measure_cheek_moves.py``). They are
#: not read on the happy line (:data:`MOVES_OFF_LINE`).
TARGET_MOVES["happy"] = {37: (0.0, -0.006), 38: (0.0, -0.006), 40: (0.0, 0.02), 41: (0.0, 0.02),
                         17: (0.0, 0.028), 18: (0.0, 0.018), 19: (0.0, 0.006), 20: (0.0, -0.008),
                         21: (0.0, -0.018)}
#: Targets whose own moves the state's line fit does not read and an edit only adds (an edit
#: heading for the target; one taking it away, to neutral or another target, leaves them): read
#: on the happy line, the narrowed eyes of a squint (disgust's, anger's) would read as part of a
#: smile, and the edit to happy would smile less (insightface's posed_disgust_45 made happy, the
#: upper lids at 0.017: FER reads it happy at 0.91 with them off the line, 0.22 on it).
MOVES_OFF_LINE = ("happy",)
#: The image's left points of the 68 mirrored onto the right (iBUG order; the jaw's 0-7 onto 16-9).
MIRROR = {**{i: 16 - i for i in range(8)}, **{i: 26 - (i - 17) for i in range(17, 22)},
          36: 45, 37: 44, 38: 43, 39: 42, 40: 47, 41: 46, 31: 35, 32: 34,
          48: 54, 49: 53, 50: 52, 59: 55, 58: 56, 60: 64, 61: 63, 67: 65}

#: happy's mouth: a real smile lifts the upper lip and the corners and hardly moves the lower lip
#: and the chin; the state's happy drops them. Face Mesh on the 68 training London people at
#: 1350 px, moves from the neutral photo (eye distances, median; ``n`` down the face): the real
#: smiles' upper inner lip -0.039, lower inner lip +0.008, chin -0.006, inner corners -0.056;
#: the stage's happy -0.044, +0.084, +0.048, -0.042 (inner gap 0.150 against 0.054: the bank's
#: teeth filled the taller opening as a plate, 2.1 times the real smiles' tooth area). The
#: lower lip and the chin rise :data:`HAPPY_LOWER_LIFT` at the middle (the lower lip's points
#: by :data:`OPEN_SHARE_LOWER`'s shares, the jaw by :data:`JAW_SHARE`'s), the corners
#: :data:`HAPPY_CORNER_LIFT` (the lips' points beside them 0.4 of it): the upper lip stays as
#: the state lifts it.
HAPPY_LOWER_LIFT = 0.03
HAPPY_CORNER_LIFT = 0.025
#: The chin's share of :data:`HAPPY_LOWER_LIFT`.
HAPPY_CHIN_SHARE = 0.7


def _happy_mouth() -> dict[int, tuple[float, float]]:
    """happy's lower lip, jaw and corner moves (left points and the middle's; the right mirror them)."""
    lift = {**OPEN_SHARE_LOWER, **{k: HAPPY_CHIN_SHARE * v for k, v in JAW_SHARE.items()}}
    out = {i: HAPPY_LOWER_LIFT * share for i, share in lift.items() if i not in MIRROR.values()}
    for i, share in {48: 1.0, 60: 1.0, 49: 0.4, 59: 0.4, 61: 0.4, 67: 0.4}.items():
        out[i] = out.get(i, 0.0) + HAPPY_CORNER_LIFT * share
    return {i: (0.0, up) for i, up in out.items()}


TARGET_MOVES["happy"].update(_happy_mouth())


#: surprised's mouth: real surprise drops the jaw and leaves the upper lip where it is; the
#: state's surprised opens the mouth upward, lifting the upper lip. dlib's 68 points on JAFFE's 10
#: people (30 surprises) and Yale's 15, each one's neutral photo edited beside the real surprise
#: (eye distances, up; ``bench/bench_posed_moves.py --targets surprised --split all --detector dlib
#: --yale``): real surprises move the upper lip's middle -0.011 and -0.041, the mouth corners
#: -0.105 and -0.171, the lower lip -0.259 and -0.373, the chin -0.214 and -0.326; the edit
#: without this move +0.079 and +0.033, -0.072 and -0.092, -0.217 and -0.259, -0.210 and -0.229.
#: The opening, shaped and sized as :func:`real_opening` makes it, and the chin and the jaw with
#: it (its points by :data:`JAW_SHARE`) are lowered :data:`SURPRISED_MOUTH_DROP`, not the whole
#: gap: the way back reads a lowered upper lip as the person's own (a longer lip); the upper lip
#: lowered 0.09 and the jaw 0.095, the astronaut made surprised and neutral again comes back within
#: 0.042-0.050 eye distances (0.015-0.019 without the move, 0.024-0.029 with it).
SURPRISED_MOUTH_DROP = 0.05


def _surprised_drop() -> dict[int, tuple[float, float]]:
    """surprised's lips and jaw moves (left points and the middle's; the right mirror them)."""
    out = {i: SURPRISED_MOUTH_DROP for i in range(48, 68) if i not in MIRROR.values()}
    for i, share in JAW_SHARE.items():
        if i not in MIRROR.values():
            out[i] = share * SURPRISED_MOUTH_DROP
    return {i: (0.0, -down) for i, down in out.items()}


#: surprised's brows: the line reads them raised as the state and :data:`TARGET_MOVES` raise them,
#: and the edit raises them more than real surprises do. The same measure, inner, middle and
#: outer brows: real +0.045, +0.042, +0.009 (JAFFE) and +0.075, +0.089, +0.055 (Yale); the edit
#: +0.076, +0.082, +0.034 and +0.096, +0.107, +0.038; with these come down (eye distances, left
#: points, the right mirror them) +0.060, +0.065, +0.029 and +0.076, +0.086, +0.032, the warp
#: stretching less of the socket's shade under them (web img35, img37 at 1-2x).
SURPRISED_BROWS_DOWN = {21: 0.025, 20: 0.027, 19: 0.027, 18: 0.015}


#: Moves an edit heading for a named target adds beyond its :data:`TARGET_MOVES` (at the
#: strength it adds those with, above 0 only), in the same frame: the state's line fit does not
#: read them (read on surprise's line, the lowered mouth changed every face's reading of the other
#: lines: the astronaut's smile and her young face's happy edit), no edit takes them away, and an
#: edit toward a reference face (``like``) does not add them: a video's held expression is one,
#: whose lips close with the speech (:mod:`faceedit.video.edit`), and the move would lower them.
ADDED_MOVES: dict[str, dict[int, tuple[float, float]]] = {
    "surprised": {**_surprised_drop(), **{i: (0.0, -down) for i, down in SURPRISED_BROWS_DOWN.items()}}}


def target_moves(lm: np.ndarray, goal: np.ndarray, target: str, strength: float,
                 on_line: bool = False, mouth_kept: float = 0.0, added: bool = True) -> np.ndarray:
    """``goal`` with the named ``target``'s own moves (:data:`TARGET_MOVES`) added, ``strength``
    of them, in the frame of the face at ``lm``, and with ``added`` its :data:`ADDED_MOVES` where
    ``strength`` is above 0 and the move is not the line fit's (``on_line``); ``goal`` itself for
    another target or strength 0, and for a target of :data:`MOVES_OFF_LINE` where ``strength`` is
    below 0 or the move is the line fit's. ``mouth_kept`` (0..1): the share of its own mouth the
    face keeps (:func:`keep_mouth`): the moves of :data:`MOUTH_AND_JAW` are taken at ``1 - mouth_kept``."""
    moves = TARGET_MOVES.get(target)
    if not moves or strength == 0 or (target in MOVES_OFF_LINE and (on_line or strength < 0)):
        return goal
    if added and strength > 0 and not on_line and target in ADDED_MOVES:
        moves = {**moves}
        for i, (inward, up) in ADDED_MOVES[target].items():
            a, b = moves.get(i, (0.0, 0.0))
            moves[i] = (a + inward, b + up)
    u, n, ed = face_frame(lm)
    out = np.array(goal, np.float64)
    mouth = strength * (1.0 - min(max(float(mouth_kept), 0.0), 1.0))
    for i, (inward, up) in moves.items():
        k = mouth if i in MOUTH_AND_JAW else strength
        out[i] += k * ed * (inward * u - up * n)  # a left point's inward is +u
        j = MIRROR.get(i)
        if j is not None and j != i:
            out[j] += k * ed * (-inward * u - up * n)
    return out


#: The 68 points' lower lids of each eye (the image's left eye, its right), middle pair.
LOWER_LIDS = ((41, 40), (47, 46))
#: The 68 points' eye corners of each eye.
EYE_CORNERS = ((36, 39), (42, 45))
#: Where a relaxed lower lid lies below the iris's bottom (:func:`lower_lid_over_iris`, both
#: eyes' mean, eye distances; below 0: over the iris), MediaPipe's points: London's neutral
#: photos at 675 px, the 40 first training subjects, median -0.014 (-0.026 to +0.001); the same
#: people smiling -0.018 (to -0.047), laughing faces of the world's photos -0.03 to -0.05.
LOWER_RELAXED = -0.014


def lower_lid_over_iris(lm: np.ndarray, irises: np.ndarray) -> np.ndarray:
    """(2,) how far (eye distances) each eye's lower lid (:data:`LOWER_LIDS`' mean) lies below
    its iris's bottom (the centre plus the mean distance of its 4 rim points) across the eye
    line, the image's left eye first; below 0 where the lid covers the iris's bottom, as a
    smile's raised lower lid (AU6, AU7) does."""
    lm = np.asarray(lm, np.float64)
    irises = np.asarray(irises, np.float64)
    _, n, ed = face_frame(lm)
    out = np.empty(2)
    for k, lids in enumerate(LOWER_LIDS):
        centre = lm[list(EYE_CORNERS[k])].mean(0)
        iris = irises[int(np.argmin(np.linalg.norm(irises[:, 0] - centre, axis=1)))]
        bottom = float(iris[0] @ n) + float(np.linalg.norm(iris[1:] - iris[0], axis=1).mean())
        out[k] = (float(lm[list(lids)].mean(0) @ n) - bottom) / max(ed, 1e-9)
    return out


def hold_lower_lids(lm: np.ndarray, goal: np.ndarray, irises: np.ndarray | None, let_go: float = 0.0,
                    reach: float = 0.0) -> np.ndarray:
    """``goal`` with each eye's lower lid (:data:`LOWER_LIDS`' middle pair, its corners kept) raised
    where it leaves it lower than the photo (``lm``) has it, carried by its eye's corners: an opened
    eye's lower lid stays on the iris as a real surprise's does. A smile's lid raised over its iris
    (``irises``, :func:`lower_lid_over_iris`) may come down ``let_go`` (0..1) of the way to a relaxed
    lid's place, by at most ``reach`` eye distances, as :func:`relax_lower_lids` lets it. ``goal``
    itself where none lies so low."""
    lm = np.asarray(lm, np.float64)
    out = np.array(goal, np.float64)
    _, n, ed = face_frame(lm)
    down = np.zeros(2) if irises is None else \
        min(max(float(let_go), 0.0), 1.0) * np.clip(LOWER_RELAXED - lower_lid_over_iris(lm, irises), 0.0, reach)
    for k, (lids, corners) in enumerate(zip(LOWER_LIDS, EYE_CORNERS)):
        carried = (out[list(corners)] - lm[list(corners)]).mean(0)
        for i in lids:
            up = float((out[i] - lm[i] - carried) @ n) / ed - float(down[k])
            if up > 0:
                out[i] -= up * ed * n
    return out


def relax_lower_lids(lm: np.ndarray, goal: np.ndarray, irises: np.ndarray, amount: float,
                     reach: float, relaxed: float = LOWER_RELAXED) -> np.ndarray:
    """``goal`` with each eye's lower lid brought down, ``amount`` (0..1) of the way, to
    ``relaxed`` eye distances below its iris's bottom (:func:`lower_lid_over_iris`, at ``lm``'s
    irises carried by that eye's corners' move to ``goal``) where the goal leaves it higher; by
    at most ``reach`` eye distances. The lid's middle pair (:data:`LOWER_LIDS`) moves whole, its
    corners stay: the warp carries the skin under it (the cheek a smile bunched there) down
    with it. ``goal`` itself at ``amount`` 0 or where no lid lies high."""
    if amount <= 0:
        return goal
    lm = np.asarray(lm, np.float64)
    out = np.array(goal, np.float64)
    _, n, ed = face_frame(lm)
    moved = np.array(irises, np.float64)
    for corners in EYE_CORNERS:
        centre = lm[list(corners)].mean(0)
        j = int(np.argmin(np.linalg.norm(moved[:, 0] - centre, axis=1)))
        moved[j] = moved[j] + (out[list(corners)].mean(0) - centre)
    over = lower_lid_over_iris(out, moved)
    for k, lids in enumerate(LOWER_LIDS):
        down = min(max(relaxed - float(over[k]), 0.0), reach) * min(float(amount), 1.0)
        out[list(lids)] += down * ed * n
    return out
