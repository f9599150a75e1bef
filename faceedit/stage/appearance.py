"""The appearance of a moved face: the target's appearance map and the folds of the move.

An appearance map (the stage's ``gain_<target>`` / ``bias_<target>`` buffers) is a per-pixel
linear map ``gain * x + bias`` in the target's canonical frame (the mean shape showing the
target's state), fitted from (source warped to the real target's landmarks, real target):
where the target parts the lips it draws teeth or a mouth cavity, elsewhere the cheeks and
folds. :func:`appearance_amount` says which target's map an edit paints and how much,
:func:`paint_target` lays it on the face, and :func:`paint_move_folds` draws the folds and
furrows of the move (:mod:`faceedit.stage.folds`). Every function takes the stage's statistics
(:class:`faceedit.stage.records.Statistics`); the steps (:mod:`faceedit.stage.steps`) call them.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.stage import apple, creases, folds, relief
from faceedit.stage.forehead_creases import forehead_knit, forehead_spread
from faceedit.stage.paint import paint_maps
from faceedit.stage.records import FaceEdit, Statistics
from faceedit.stage.rest import UNFROWNED


def appearance_amount(stats: Statistics, current: np.ndarray, new: np.ndarray, target: str | None = None
                      ) -> tuple[str | None, float]:
    """Which target's appearance map to paint for a state change ``current`` -> ``new``, and
    how much (0..1): ``target`` when given, else the fitted target the change heads for most
    directly (neutral excepted); the amount is the progress made towards that target's state
    in units of its full strength (for ``neutral``, of a typical expression's), so a face
    already at the target gets no second coat of teeth."""
    w = 1.0 / np.maximum(stats.array("expression_scale"), 1e-6)
    step = (new - current) * w
    if not np.any(step) or not stats.appearance:
        return None, 0.0
    states = {t: (np.zeros_like(current) if t == "neutral" else stats.array(f"state_{t}")) * w
              for t in stats.appearance}
    typical = float(np.median([float(np.linalg.norm(v)) for t, v in states.items() if t != "neutral"]
                              or [1.0]))
    if target is None:
        best = -np.inf
        for t, v in states.items():
            toward = v - current * w
            cos = float(step @ toward / max(np.linalg.norm(step) * np.linalg.norm(toward), 1e-9))
            if t != "neutral" and cos > best:
                target, best = t, cos
        if target is None:
            return None, 0.0
    toward = states[target] - current * w
    progress = float(step @ toward / max(np.linalg.norm(toward), 1e-9))
    full = float(np.linalg.norm(states[target])) if target != "neutral" else typical
    return target, float(np.clip(progress / max(full, 1e-9), 0.0, 1.0))


def appearance_maps(stats: Statistics, target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(canonical landmarks of the target's frame, gain (C, S, S), bias (C, S, S))."""
    basis = stats.array("expression_basis")
    state = stats.array(f"state_{target}") if target != "neutral" else np.zeros(len(basis))
    frame = stats.array("mean_shape") + (state @ basis).reshape(68, 2)
    return frame, stats.array(f"gain_{target}"), stats.array(f"bias_{target}")


def shows_teeth(stats: Statistics, target: str | None) -> bool:
    """Whether ``target``'s appearance map shows teeth between its mean face's lips: it lightens
    them by ``tuning.edit.teeth_shown`` or more (:func:`teeth_lightened`)."""
    return target in stats.appearance and teeth_lightened(stats, target) >= stats.tuning.edit.teeth_shown


def teeth_lightened(stats: Statistics, target: str) -> float:
    """How far ``target``'s appearance map lightens a mid-grey (luma 0.5) between its mean face's
    inner lips (68-point 60 to 67, in its canonical frame), unit luma at the 95th percentile:
    a map whose mean face shows its teeth there lightens it (happy's smile 0.27, fearful 0.08),
    one of lips that meet or of a dark open mouth darkens it (angry -0.01, disgusted -0.04,
    surprised -0.24); made once per stage."""
    def make() -> np.ndarray:
        frame, gain, bias = appearance_maps(stats, target)
        inner = np.zeros(gain.shape[1:], np.uint8)
        cv2.fillPoly(inner, [np.round(frame[60:68]).astype(np.int32)], 1)
        lightened = ((gain[0] - 1.0) * 0.5 + bias[0])[inner > 0]
        return np.array(np.percentile(lightened, 95) if lightened.size else 0.0)

    return float(stats.cached(f"teeth_lightened|{target}", make))


def stacked(stats: Statistics, gain: str, bias: str) -> tuple[np.ndarray, np.ndarray]:
    """Buffers ``gain`` and ``bias`` ((C, S, S) each) channels-last ((S, S, C) float32 each,
    contiguous: what :func:`~faceedit.stage.paint.paint_maps` samples and combines fastest),
    made once per stage."""
    def last(k: str) -> np.ndarray:
        return stats.cached(f"{k}|channels-last", lambda: np.ascontiguousarray(np.moveaxis(stats.array(k), 0, -1),
                                                                               np.float32))

    return last(gain), last(bias)


def paint_target(stats: Statistics, pixels: np.ndarray, moved: np.ndarray, target: str, strength: float,
                 keep_out: tuple | None = None, *, in_place: bool = False) -> np.ndarray:
    """Apply the target's per-pixel linear appearance map (in its canonical frame) to the face
    at landmarks ``moved`` (not where ``keep_out`` says, :func:`faceedit.stage.paint.paint_maps`;
    ``in_place``: written over ``pixels``, a buffer the caller owns)."""
    frame = appearance_maps(stats, target)[0]
    return paint_maps(pixels, moved, frame, stacked(stats, f"gain_{target}", f"bias_{target}"), strength,
                      keep_out, in_place=in_place, region=stats.tuning.warp.paint_region)


def paint_move_folds(stats: Statistics, pixels: np.ndarray, face: FaceEdit, heads_for: str | None,
                     progress: float, *, in_place: bool = False) -> np.ndarray:
    """The folds and furrows of the face's move (:mod:`faceedit.stage.folds`) drawn at the
    photo's resolution on its moved landmarks: by the AUs the move raises (AU4, AU1+2 read from
    the landmarks of its states; AU9, AU10, which they do not show, from the target it heads
    for, ``heads_for``, ``progress`` of the way), times the warp's scale (the glabellar lines as
    uneven as the person's identity says, :func:`~faceedit.stage.creases.face_code`; the forehead's
    lines across it as far as the outer brows rise with the inner, :func:`~faceedit.stage.forehead_creases.forehead_spread`,
    bowed as far as the inner brows knit, :func:`~faceedit.stage.forehead_creases.forehead_knit`; a young child's
    forehead's ``FoldsTuning.child_forehead`` as deep), after the lines the
    photo shows of the AUs the move lowers are taken away (:func:`~faceedit.stage.folds.smooth_folds`;
    a target's without a frown of its own also the lines of the frown the photo shows,
    :func:`~faceedit.stage.relief.furrow_shown`, the nose's wrinkles with them,
    ``FoldsTuning.release_full``),
    and with them the knit's relief of a frown taken away
    (:func:`~faceedit.stage.relief.flatten_knit`), and a smile's cheek under the eyes (AU6, :mod:`faceedit.stage.apple`) by the same target;
    ``pixels`` themselves where it draws none (a zero edit, neutral, the fold statistics not
    installed); ``in_place``: written over ``pixels``, a buffer the caller owns."""
    r, cur, new = face.warped, face.current, face.new_state
    assert r is not None and cur is not None and new is not None
    if not np.any(new != cur.expression):
        return pixels
    fold_stats = folds.shipped_stats()
    if fold_stats is None:
        return pixels
    before = stats.state_aus_cached(cur.expression, cur.identity)
    after = stats.state_aus_cached(new, cur.identity)
    tn = stats.tuning.folds
    removal = folds.fold_removal(fold_stats, before, after, tn)
    shown = 0.0
    if face.request.target in UNFROWNED and face.goal is not None and "glabella" in removal:
        # the lines of a frown the photo shows, which the state reads as the person's own face
        # (as brows_unknit releases its brows), and the nose's wrinkles with them
        shown = min(face.furrowed / tn.release_full, 1.0)
        removal["glabella"] = max(removal["glabella"], shown)
        removal.update({k: shown for k in tn.release_reach})
    removal = {k: v * r.scale for k, v in removal.items()}
    smoothed = folds.smooth_folds(pixels, r.landmarks, removal, in_place=in_place, tuning=tn)
    smoothed = relief.flatten_knit(smoothed, r.landmarks, removal.get("glabella", 0.0), tn, brows=stats.tuning.brows,
                                   in_place=in_place or smoothed is not pixels)
    smoothed = relief.flatten_chin(smoothed, r.landmarks, shown * r.scale, tn, in_place=in_place or smoothed is not pixels)
    amounts = folds.fold_amounts(fold_stats, before, after, heads_for, progress, tn)
    amounts = {k: v * r.scale * (tn.child_forehead if face.child and k == "forehead" else 1.0)
               for k, v in amounts.items()}
    drawn = folds.paint_folds(smoothed, r.landmarks, amounts, fold_stats.params, face.keep_out,
                              in_place=in_place or smoothed is not pixels, tuning=tn,
                              code=creases.face_code(cur.identity), spread=forehead_spread(before, after),
                              knit=forehead_knit(after, tn))
    cheek = apple.apple_amount(heads_for, progress, tn) * r.scale
    return apple.paint_apple(drawn, r.landmarks, cheek, in_place=in_place or drawn is not pixels, tuning=tn)
