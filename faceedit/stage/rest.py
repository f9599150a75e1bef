"""The brows and mouth an edit leaves at rest: a neutral edit's brows no more oblique and its mouth's
corners no lower than a resting face's (:func:`~faceedit.stage.moves.brows_at_rest`,
:func:`~faceedit.stage.moves.mouth_at_rest`), and the frown a photo shows released by an edit to a
target with no frown of its own (:func:`brows_unknit`; its furrow's lines:
:func:`faceedit.stage.appearance.paint_move_folds`), and brows set low that show no furrow raised from
where they are by a target that raises them (:func:`low_brows_kept`), in eye distances of the face's frame (:func:`~faceedit.stage.moves.face_frame`)."""

from __future__ import annotations

import numpy as np

from faceedit.stage.lip_drop import upper_lip_drop_held
from faceedit.stage.moves import BROW_EYES, brows_at_rest, face_frame, mouth_at_rest
from faceedit.stage.rest_width import mouth_width_at_rest
from faceedit.stage.state import lip_gap
from faceedit.stage.tuning import StageTuning
from faceedit.stage.tuning_face import BrowsTuning

#: The named targets with no frown of their own: an edit to one releases the frown a photo shows
#: (:func:`brows_unknit`).
UNFROWNED = ("neutral", "happy", "surprised")


def inner_brows(p: np.ndarray, frame: tuple[np.ndarray, np.ndarray, float]) -> tuple[np.ndarray, float]:
    """How high each brow's inner end (68-point 21, 22) stands over its eye's inner corner (39,
    42) across the eye line (the image's left, the image's right), and how far apart the two stand
    along it, in eye distances of ``frame`` (:func:`~faceedit.stage.moves.face_frame`): a frown (AU4) lowers them and
    draws them together."""
    u, n, ed = frame
    p = np.asarray(p, np.float64)
    return (np.array([float((p[39] - p[21]) @ n), float((p[42] - p[22]) @ n)]) / ed,
            float((p[22] - p[21]) @ u) / ed)


def frown_shown(lm: np.ndarray, tuning: BrowsTuning | None = None) -> np.ndarray:
    """How much (0..1) of a frown each brow of the face at ``lm`` shows beyond a resting brow's:
    its inner end's height over its eye (:func:`inner_brows`) below ``tuning.knit_from`` (low
    for London's neutral photos), whole ``tuning.knit_full`` further down."""
    tn = tuning if tuning is not None else BrowsTuning()
    heights, _ = inner_brows(lm, face_frame(lm))
    return np.clip((tn.knit_from - heights) / tn.knit_full, 0.0, 1.0)


def low_brows_kept(lm: np.ndarray, goal: np.ndarray, rest: np.ndarray, aim: np.ndarray, amount: float,
                   tuning: BrowsTuning | None = None) -> np.ndarray:
    """``goal`` of an edit whose target raises the brows (from ``rest``, where the state puts the face
    at ``lm`` with no expression, to ``aim``, where it puts it with the target's: their mean point by
    more than ``tuning.raised_from`` eye distances up the face) with the brows' share of the move
    from ``lm`` to ``rest`` taken out ``amount`` of the way where that move raises them too. The
    state reads brows set low as lowered by a frown, and a surprise from it raised them by that
    reading on top of its own rise: London 008's neutral photo made surprised 0.165 eye distances,
    0.15 over its lids (brows set higher: 0.08-0.10); Yale's own surprises of brows set as low (0.20-0.22
    eye distances over the lids at rest) raise them 0.03-0.10 over the lids. ``amount``: the edit's
    strength times how little of a frown's furrow the photo shows (1 -
    :func:`faceedit.stage.relief.furrow_shown`): a knit that shows its furrow is released. ``goal``
    itself otherwise (an edit to neutral releases the frown the state reads: JAFFE's posed anger
    shows little furrow at 256 px)."""
    tn = tuning if tuning is not None else BrowsTuning()
    brows = list(range(17, 27))
    lm = np.asarray(lm, np.float64)
    d = np.asarray(rest, np.float64)[brows] - lm[brows]
    _, n, ed = face_frame(lm)
    raised = -float(((np.asarray(aim, np.float64)[brows] - np.asarray(rest, np.float64)[brows]) @ n).mean()) / ed
    if amount <= 0 or raised <= tn.raised_from or float((d @ n).mean()) >= 0:  # (n points down the face)
        return goal
    out = np.array(goal, np.float64)
    out[brows] -= float(amount) * d
    return out


def brows_unknit(lm: np.ndarray, goal: np.ndarray, amount: float, tuning: BrowsTuning | None = None) -> np.ndarray:
    """``goal`` with the frown the photo's brows show (:func:`frown_shown`) released ``amount``
    (0..1) of the way: each frowning brow's inner end the goal leaves lower over its eye than a
    resting brow's (``tuning.rest_inner``) raised toward it, the two inner ends the goal leaves
    closer than a resting brow's (``tuning.rest_gap``) drawn apart toward it, the points between in
    proportion to their place along the brow, the outer ends kept. The state reads a knit held
    hard as the person's own brows, and an edit to a target with no frown (:data:`UNFROWNED`)
    would lay its smile or its raise under them. ``goal`` itself on brows at rest."""
    tn = tuning if tuning is not None else BrowsTuning()
    frown = frown_shown(lm, tn) * min(max(float(amount), 0.0), 1.0)
    if not np.any(frown > 0):
        return goal
    frame = face_frame(lm)
    u, n, ed = frame
    heights, gap = inner_brows(goal, frame)
    apart = float(frown.mean()) * max(tn.rest_gap - gap, 0.0) / 2
    out = np.array(goal, np.float64)
    along = np.linspace(0.0, 1.0, 5)[:, None]
    for (brow, _), f, h, side in zip(BROW_EYES, frown, heights, (-1.0, 1.0)):
        out[list(brow)] += along * ed * (side * apart * u - f * max(tn.rest_inner - h, 0.0) * n)
    return out


def at_rest(lm: np.ndarray, goal: np.ndarray, amount: float, tuning: StageTuning | None = None,
            mouth: bool = True, target: str = "neutral", furrowed: float = 0.0) -> np.ndarray:
    """``goal`` of an edit to ``target`` with the photo's frown released ``amount`` (0..1) times
    ``furrowed`` (0..1, the furrow the photo shows between the brows,
    :func:`faceedit.stage.relief.furrow_shown`) of the way where the target has no frown of its
    own (:data:`UNFROWNED`, :func:`brows_unknit`) and, a
    neutral edit's, its brows and (``mouth``) mouth brought ``amount`` of the way to a resting
    face's where it leaves them past it (:func:`brows_at_rest`, :func:`mouth_at_rest`), and a
    closed mouth it narrows below a resting mouth's width widened to it
    (:func:`~faceedit.stage.rest_width.mouth_width_at_rest`; a turned face's too) and its outer
    upper lip's drop held back (:func:`~faceedit.stage.lip_drop.upper_lip_drop_held`)."""
    tn = tuning if tuning is not None else StageTuning()
    goal = brows_unknit(lm, goal, amount * furrowed * (target in UNFROWNED), tn.brows)
    if target != "neutral":
        return goal
    brows = brows_at_rest(lm, goal, amount, tn.brows)
    if lip_gap(brows) < tn.edit.lips_closed:  # a closed mouth at a resting mouth's width at least,
        brows = mouth_width_at_rest(lm, brows, amount, tn.rest)  # its upper lip lowered no further than a rest's
        brows = upper_lip_drop_held(lm, brows, amount)
    return mouth_at_rest(lm, brows, amount, tn.rest) if mouth else brows
