"""A face's expression as a state: the shape model under the stage's geometry.

A face's canonical 68-point shape is modelled as
``mean + identity_basis.T @ a + expr_basis.T @ e``: the identity axes are the principal axes
of the training subjects' neutral shapes, the expression axes those of their within-subject
moves (neutral -> each posed expression), and ``(a, e)`` the maximum a posteriori fit under
Gaussian priors on both (the axes' own spreads) and a landmark noise of
:data:`SHAPE_NOISE` px (:data:`JAW_NOISE` on the jaw line): a direction in which people's
neutral faces differ a lot (mouth width) is read as identity, one in which only expressions
move (lip-corner rise) as expression. The fit has one more coordinate per basic expression, its
line (:data:`LINE_SCALE`): the stage's whole move to that target, so a face showing it reads as
that expression at some strength (never below 0) rather than as a person with a shorter lower
face or higher brows. ``e`` (the axes' reading plus each line's strength times its target's
state) is the state. Where the detector gives the irises (:mod:`faceedit.faces.iris`), an upper
lid raised off the iris (white above it, :func:`lid_raise`) is expression whatever the eye's
size: what of that raise the state does not read is kept beside it
(``FaceState.lids_raised``) and an edit takes it away as a move of the upper lids
(:meth:`ExpressionStates.lids_raised_change`), so a wide-open surprised eye made neutral closes
to a relaxed opening rather than staying the person's "own". Brows raised with the lids (surprise,
fear) read as the person's high brows too: with a raise of the lids, the state's brows are raised
in proportion (:data:`BROWS_PER_LID`, less what the fit reads; ``FaceState.brows_raised``), so an
edit takes them down with the rest of the expression. MediaPipe's points are read with
the identity prior at their own spread (:data:`MEDIAPIPE_IDENTITY_SPREAD`). A named target is
a state (``state_<target>``: the mean state of the posed photos of it, brought up to their
typical strength and to the AUs of the expression's FACS prototype, see the card and
:mod:`faceedit.train.stage`); ``neutral`` is ``e = 0``; ``keep`` is the face's own; ``like=``
a reference face's; AU intensities (``aus=``, ``controls=``) *set* AUs on top, by the least
change of state that gives them (:meth:`ExpressionStates.set_aus`; AUs are read from the
landmarks, :mod:`faceedit.faces.au`). An edit moves the state from the face's own to the
target's (``strength`` 0 = untouched, 1 = the target, up to
:data:`faceedit.stage.model.MAX_STRENGTH`): the displacement is
``expression_basis.T @ (new - e)``, so a smile is taken away before a frown is added and a face
already at the target barely moves.
The stage applies it as a fold-free warp of the photo (:mod:`faceedit.stage.cutwarp`).

:class:`ExpressionStates` holds the methods; :class:`~faceedit.stage.model.Stage` carries them
with the buffers they read (``mean_shape``, ``identity_basis``/``_scale``,
``expression_basis``/``_scale``, ``state_<target>``) and its ``expressions`` and ``aus``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from faceedit.errors import UsageError
from faceedit.faces.align import apply_affine, invert_affine, similarity_transform
from faceedit.faces.au import AU_IDS, aus_to_json, estimate_aus
from faceedit.faces.iris import lid_over_iris
from faceedit.faces.landmarks import FLIP, eye_distance
from faceedit.stage.moves import (
    MOVES_OFF_LINE,
    TARGET_MOVES,
    face_frame,
    jaw_follows,
    mouth_smile,
    real_opening,
    target_moves,
)
from faceedit.stage.tuning import StageTuning

#: Landmark noise (canonical px, 256-px frame: about 0.012 eye distances) the state fit assumes.
#: Between 0.3 and 1 px the held-out truth barely changes; below 0.1 px identity leaks into the
#: expression state (a neutral face reads as 2.7 standard deviations of expression instead of 1.1).
SHAPE_NOISE = 1.0
INNER_LIP_PAIRS = ((61, 67), (62, 66), (63, 65))
#: State coordinates are clipped to this many standard deviations of their axis.
STATE_CLIP = 4.0
#: The spread (standard deviation) of each named target's line in the state fit: a face may
#: show a named target's whole move (:meth:`ExpressionStates._line_moves`: its state, the
#: opening and the jaw as the stage shapes them, its own landmark moves,
#: :data:`faceedit.stage.moves.TARGET_MOVES`) at some strength, with this prior on the strength.
#: Without the lines a target's move that people's neutral faces also differ by (anger's
#: raised chin and pressed lips, surprise's raised brows) is read as the person's identity, and
#: the way back to neutral leaves it; target moves outside the expression axes are not read at
#: all. A spread of 0.5 or 2 changes the way back by under 0.003 eye distances (the landmark
#: noise decides the split). The lines are the six basic expressions' (sleepy and wink move
#: the lids, which no face's identity mimics).
LINE_SCALE = 1.0
LINE_TARGETS = ("happy", "sad", "surprised", "angry", "disgusted", "fearful")
#: The landmark noise of the jaw line's points (0-16, canonical px) in the state fit: the Face
#: Mesh's face oval is its least sure part (0.077 eye distances from dlib's points against
#: 0.025-0.050 for the others, :mod:`faceedit.faces.mesh68`) and it follows the stage's own chin
#: moves at 15-50 %: at :data:`SHAPE_NOISE` the unread part of a dropped or raised chin is read
#: as the person's face shape. Held-out London round trips at 8 against 1
#: (``bench/bench_round_trip.py --limit 8``, with the lines): surprised 0.048 -> 0.033 at
#: 1350 px, angry 0.042 -> 0.040; at 20, surprised 0.030, angry 0.044, the others worse.
JAW_NOISE = 8.0
#: The points a face is brought to the canonical frame by (a similarity onto the mean shape's):
#: the nose bridge and the eye corners. The other stable points move with an expression as the
#: detector reads it: the lids follow a raised or lowered lid (the iris model's,
#: :mod:`faceedit.faces.iris`) and the nose's lower points follow a raised upper lip (anger's
#: edit moves them up by 0.03 eye distances as re-detected, planned 0). Held-out London round
#: trips (``bench/bench_round_trip.py --limit 8``), 1350 | 256 px, against the nose and eye
#: contours: surprised 0.033 -> 0.029 | 0.035 -> 0.035, angry 0.042 -> 0.038 | 0.041 -> 0.034.
FRAME_POINTS = (27, 28, 29, 30, 36, 39, 42, 45)
#: The identity prior's spread (a share of the shape model's ``identity_scale``, which was fitted
#: on dlib's points) where a face's points are MediaPipe's (``mediapipe=True``): those read
#: people's neutral faces as less different from each other. London's 68 training subjects'
#: neutral photos at 1350 px spread over 0.71 of it on the median identity axis with
#: MediaPipe's points (0.37-1.13 by axis; the 18 held-out people 0.67), 1.04 with dlib's. At
#: the full spread the state put about half of anger's raised mouth (as re-detected) into the
#: identity and the way back left it. 0.6 of it: the round trips at 0.5, 0.6 and 0.7 are in the
#: stage's card ("From expressive faces"); at 0.7 the glitch sweep's smile at 2.5x tips a dark
#: wedge at a mouth corner over its count.
MEDIAPIPE_IDENTITY_SPREAD = 0.6
#: The 68 points' upper lids, whose rise the irises tell (:func:`lid_raise`).
UPPER_LIDS = (37, 38, 43, 44)
#: Where a relaxed upper lid lies on the iris (:func:`faceedit.faces.iris.lid_over_iris`, both
#: eyes' mean, eye distances; below 0: over the iris's top), the MediaPipe detector's points:
#: near the median of neutral faces (London's 86 at 1350 px -0.035, JAFFE's 30 -0.028) ...
LID_RELAXED = -0.033
#: ... and above the highest neutral lids (London -0.0077 and -0.0088, the other 84 below -0.013; JAFFE
#: -0.016; the astronaut made neutral -0.008): no neutral face reads a raise. Posed surprise
#: reads 0.000 (JAFFE, median; 5 % below -0.017), the stage's surprised edits +0.002 (London).
LID_RAISED_FROM = -0.007
#: Above :data:`LID_RAISED_FROM` the lid's raise is read over this many eye distances, up to all
#: of its height above :data:`LID_RELAXED` (:func:`lid_raise`: no jump where it starts). The
#: world's posed_surprise (lids at -0.0045, round eyes with white above the irises on one side)
#: reads 0.018 of its 0.029 over a relaxed lid, and made neutral its eyes open 0.124 eye distances
#: (0.140 as posed); over 0.006 from -0.006 it read 0.007 and kept them at 0.136.
LID_RAMP = 0.004
#: The 68 points' brows, whose rise goes with the lids' (:data:`BROWS_PER_LID`).
BROWS = tuple(range(17, 27))
#: How far (eye distances) the brows are raised as expression for each eye distance of the upper
#: lids' raise the irises show (:func:`lid_raise`): a face whose lids are raised off the irises
#: (surprise, fear) raises its brows with them, which one photo does not tell from high brows
#: of the person's own, so the state reads them as identity. Least squares over the 25 posed
#: surprised photos of JAFFE and Yale whose lids read a raise (of 45), the brows' height over
#: the eyes (MediaPipe's points, canonical frame) against the median of the same person's
#: neutral photos: 1.22 (the median ratio 1.32; the brows 0.043 eye distances higher, the lids'
#: raise 0.038, medians).
BROWS_PER_LID = 1.2
#: Setting AUs (``--au``, ``--control``): Gauss-Newton steps, each at most 1 standard deviation
#: per axis; the weight with which the AUs not asked for are held where they were; damping.
AU_STEPS = 12
KEEP_AU_WEIGHT = 0.3
AU_DAMPING = 0.05


def symmetric_state(state: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """The state (on the orthonormal expression axes ``basis``, (K, 136)) nearest to the
    left-right symmetric part of ``state``'s move: the move averaged with its mirror image (each
    point's move taken from its mirror point, its horizontal part reversed)."""
    move = (np.asarray(state, np.float64) @ basis).reshape(68, 2)
    mirrored = move[FLIP] * np.array([-1.0, 1.0])
    return basis @ ((move + mirrored) / 2).reshape(-1)


def symmetric_directions(basis: np.ndarray) -> np.ndarray:
    """(K, m) orthonormal directions of the state space (axes ``basis``, (K, 136) orthonormal)
    whose moves are left-right symmetric: the eigenvectors of :func:`symmetric_state` (a
    symmetric operator on the states) with eigenvalue above one half. On the shipped axes 8 of
    10, eigenvalues 0.93-1.00; the other two (0.00, 0.02) are head turns and tilts left in the
    moves."""
    k = basis.shape[0]
    op = np.stack([symmetric_state(e, basis) for e in np.eye(k)], 1)
    w, v = np.linalg.eigh((op + op.T) / 2)
    return v[:, w > 0.5]


def lid_raise(lm: np.ndarray, irises: np.ndarray | None) -> float:
    """How far (eye distances) a face's upper lids are raised as expression, as their place on the
    irises tells (both eyes' mean of :func:`faceedit.faces.iris.lid_over_iris`): 0 up to
    :data:`LID_RAISED_FROM` (a relaxed lid, whatever the eye's size), then rising over
    :data:`LID_RAMP` to the lid's whole height above :data:`LID_RELAXED`. 0 without irises."""
    if irises is None:
        return 0.0
    gap = float(np.mean(lid_over_iris(lm, irises)))
    return (gap - LID_RELAXED) * float(np.clip((gap - LID_RAISED_FROM) / LID_RAMP, 0.0, 1.0))


def raise_lids(lm: np.ndarray, goal: np.ndarray, amount: float) -> np.ndarray:
    """``goal`` with the upper lids (:data:`UPPER_LIDS`) raised ``amount`` eye distances (below 0:
    lowered) in the frame of the face at ``lm``; ``goal`` itself at 0."""
    if amount == 0:
        return goal
    _, n, ed = face_frame(lm)
    out = np.array(goal, np.float64)
    out[list(UPPER_LIDS)] -= amount * ed * n
    return out


def lip_gap(lm: np.ndarray) -> float:
    """Mean inner-lip opening (61-67, 62-66, 63-65) in eye distances."""
    lm = np.asarray(lm, np.float64)
    gaps = [np.linalg.norm(lm[a] - lm[b]) for a, b in INNER_LIP_PAIRS]
    return float(np.mean(gaps) / eye_distance(lm))


def close_lips(lm: np.ndarray, amount: float = 1.0) -> np.ndarray:
    """``lm`` with each upper inner-lip point and the lower one facing it moved ``amount`` of the
    way to their midpoint (1: the lips meet)."""
    out = np.array(lm, np.float64)
    for a, b in INNER_LIP_PAIRS:
        mid = (out[a] + out[b]) / 2
        out[a] += amount * (mid - out[a])
        out[b] += amount * (mid - out[b])
    return out


@dataclass
class FaceState:
    """A face's shape split into identity and expression: coordinates on the stage's identity and
    expression axes (canonical px), and the canonical landmarks it was read from."""

    expression: np.ndarray
    identity: np.ndarray
    canonical: np.ndarray
    #: the strength read on each named target's line (:data:`LINE_SCALE`), by target
    lines: dict[str, float] = dataclasses.field(default_factory=dict)
    #: how far (eye distances) the upper lids are raised as the irises show
    #: (:func:`lid_raise`) beyond what the state reads: a wide-open eye's expression, which the
    #: fit takes for the person's own opening (people's eyes differ in opening as much)
    lids_raised: float = 0.0
    #: how far (eye distances) the state's brows were raised beyond what the fit read, for the
    #: lids' raise (:data:`BROWS_PER_LID`): in ``expression`` (an edit takes it away with the
    #: rest of the state), 0 where the irises show no raise
    brows_raised: float = 0.0


class ExpressionStates:
    """The state model's methods (mixed into :class:`~faceedit.stage.model.Stage`, which holds
    the buffers: ``_a(name)`` gives one as float numpy)."""

    expressions: list[str]
    aus: list[int]
    _np: dict[str, Any]  # the model's cache of numpy copies (the solvers are kept there too)
    tuning: StageTuning  # the model's tuned values

    def _a(self, name: str) -> np.ndarray:  # provided by the model
        raise NotImplementedError

    def normaliser(self, lm: np.ndarray) -> np.ndarray:
        """(2,3) similarity from a face's landmarks to the canonical frame (:data:`FRAME_POINTS`)."""
        return similarity_transform(np.asarray(lm)[list(FRAME_POINTS)], self._a("mean_shape")[list(FRAME_POINTS)])

    def canonical(self, lm: np.ndarray) -> np.ndarray:
        """A face's landmarks in the canonical frame (similarity on the stable points)."""
        lm = np.asarray(lm, np.float64)
        return apply_affine(self.normaliser(lm), lm)

    def line_targets(self) -> list[str]:
        """The named targets with a line in the state fit: those of :data:`LINE_TARGETS` the model
        has a state for (found once, until the buffers load again)."""
        found = self._np.get("line_targets")
        if found is None:
            found = self._np["line_targets"] = [t for t in LINE_TARGETS if t in self.expressions
                                                and np.any(self._a(f"state_{t}"))]
        return list(found)

    def _line_moves(self) -> np.ndarray:
        """(T, 136) canonical move of each line target at full strength: the edit's whole move
        planned on the mean shape (its state on the expression axes, the lips closed where the
        state's are, the opening shaped like real ones, the jaw turning, its own landmark moves:
        :mod:`faceedit.stage.moves`), read-only: made once a tuning, until the buffers load again."""
        made = self._np.get("line_moves")
        if made is not None and made[0] is self.tuning.edit:
            return made[1]
        mean = self._a("mean_shape").astype(np.float64)
        rows = []
        for t in self.line_targets():
            goal = mean + (self._a(f"state_{t}").astype(np.float64) @ self._a("expression_basis")).reshape(68, 2)
            if lip_gap(goal) < self.tuning.edit.lips_closed:
                goal = close_lips(goal)
            goal = jaw_follows(mean, real_opening(mean, goal, self.tuning.edit))
            goal = target_moves(mean, goal, t, 1.0, on_line=True)
            rows.append((goal - mean).reshape(-1))
        self._np["line_moves"] = (self.tuning.edit, moves := np.array(rows).reshape(-1, mean.size))
        moves.flags.writeable = False
        return moves

    def _solver(self, lines: tuple[str, ...], mediapipe: bool = False) -> np.ndarray:
        """(Ki + Ke + len(lines), 136) matrix taking a canonical shape minus the mean to its MAP
        coordinates: identity, expression and the strengths on the line targets ``lines``; the
        identity prior narrowed to :data:`MEDIAPIPE_IDENTITY_SPREAD` for MediaPipe's points.
        The coordinates are solved jointly, so one line target's move (:meth:`_line_moves`, its
        own :data:`TARGET_MOVES` among it) changes every face's reading on the other lines, the
        axes and the identity, and with them every edit's move, by design: the moves share
        points (anger's raised upper and lower lids and surprise's raised upper lids). Anger's
        lower lids at 0.02 against 0.01 eye distances move the astronaut's surprised eyes made
        neutral from 0.0141 to 0.0155 of her own opening (OpenCV 4.14;
        ``tests/test_stage_round_trip.py``). The moves of :data:`MOVES_OFF_LINE` (happy's) are
        not in the fit and change no reading."""
        solvers = self._np.setdefault("solvers", {})
        if (lines, mediapipe) not in solvers:
            moves = self._line_moves()
            rows = [self.line_targets().index(t) for t in lines]
            b = np.vstack([self._a("identity_basis"), self._a("expression_basis"), moves[rows]]).astype(np.float64)
            spread = MEDIAPIPE_IDENTITY_SPREAD if mediapipe else 1.0
            prior = np.concatenate([spread * self._a("identity_scale"), self._a("expression_scale"),
                                    np.full(len(lines), LINE_SCALE)]).astype(np.float64)
            noise = np.full((68, 2), SHAPE_NOISE)
            noise[:17] = JAW_NOISE
            w = 1.0 / noise.reshape(-1) ** 2  # each coordinate's weight
            a = (b * w) @ b.T + np.diag(1.0 / np.maximum(prior, 1e-6) ** 2)
            solvers[lines, mediapipe] = np.linalg.solve(a, b * w)
        return solvers[lines, mediapipe]

    def state(self, lm: np.ndarray, irises: np.ndarray | None = None, mediapipe: bool = False) -> FaceState:
        """The face's expression state and identity coordinates (:class:`FaceState`): the
        expression is what the expression axes read plus each line target's state times the
        strength read on its line. No strength is below 0 (a face does not show the opposite of
        a named expression's whole move; read freely, a neutral face reads about -0.5 fearful
        and would be made more fearful than the target): the fit is made again without the
        lines read below 0 until none is. The happy line reads no more than the mouth shows
        (:meth:`smile_shown`) plus ``tuning.rest.smile_unshown``: pressed, stretched lips fit as part
        of a smile, which a neutral edit would take away into a narrow, pursed mouth. With the face's ``irises`` ((2, 5, 2) photo px,
        :func:`faceedit.faces.iris.iris_points`), the raise of its upper lids they show beyond
        what the state reads (:meth:`lid_lift`) is ``FaceState.lids_raised``, and the brows'
        rise that goes with it (:data:`BROWS_PER_LID` of it, less what the fit reads,
        :meth:`brow_lift`) is added to the expression along :meth:`_brow_raise`
        (``FaceState.brows_raised``). ``mediapipe``:
        the points are MediaPipe's (:data:`MEDIAPIPE_IDENTITY_SPREAD`)."""
        c = self.canonical(lm)
        x = (c - self._a("mean_shape")).reshape(-1)
        ki, ke = len(self._a("identity_scale")), len(self._a("expression_scale"))
        lines = tuple(self.line_targets())
        while True:
            coef = self._solver(lines, mediapipe) @ x
            if not (coef[ki + ke:] < 0).any():
                break
            lines = tuple(t for t, v in zip(lines, coef[ki + ke:]) if v >= 0)
        clip = STATE_CLIP * np.concatenate([self._a("identity_scale"), self._a("expression_scale"),
                                            np.full(len(lines), LINE_SCALE)])
        coef = np.clip(coef, -clip, clip)
        if "happy" in lines:  # no more of a smile than the mouth shows
            i = ki + ke + lines.index("happy")
            coef[i] = min(coef[i], self.smile_shown(c) + self.tuning.rest.smile_unshown)
        expression = coef[ki:ki + ke].copy()
        for t, strength in zip(lines, coef[ki + ke:]):
            expression += strength * self._a(f"state_{t}")
        out = FaceState(expression, coef[:ki], c, dict(zip(lines, map(float, coef[ki + ke:]))))
        raised = lid_raise(lm, irises)
        if raised > 0:
            ed = eye_distance(c)
            brows = BROWS_PER_LID * raised - self.brow_lift(out) / ed
            if brows > 0:  # the brows' rise that goes with the lids', beyond what the fit read
                out.expression = out.expression + brows * ed * self._brow_raise()
                out.brows_raised = float(brows)
            out.lids_raised = max(0.0, raised - self.lid_lift(out) / ed)
        return out

    def smile_shown(self, canonical: np.ndarray) -> float:
        """How much of a smile (the happy line's strength, at least 0) a face's canonical landmarks show:
        the larger of its mouth corners' rise over the lips' middle and its mouth's width
        (:func:`~faceedit.stage.moves.mouth_smile`), each beyond the mean face's, as a share of
        the happy line's own (:meth:`_line_moves`)."""
        moves = self._line_moves()
        made = self._np.get("smile_scale")
        if made is None or made[0] is not moves:  # the mean face's and the happy line's, made once
            mean = self._a("mean_shape").astype(np.float64)
            line = moves[self.line_targets().index("happy")].reshape(68, 2)
            rest = mouth_smile(mean)
            made = self._np["smile_scale"] = (moves, rest, np.maximum(mouth_smile(mean + line) - rest, 1e-6))
        shown = (mouth_smile(canonical) - made[1]) / made[2]
        return max(float(shown.max()), 0.0)

    def _lift(self, st: FaceState, points: tuple[int, ...]) -> float:
        """How far (canonical px) a state raises ``points`` (their mean): its expression's move
        and its lines' own landmark moves (:data:`TARGET_MOVES`)."""
        own_lifts = self._np.setdefault("own_lift", {})
        if points not in own_lifts:
            moves = self._line_moves().reshape(-1, 68, 2)
            states = np.stack([self._a(f"state_{t}") @ self._a("expression_basis") for t in self.line_targets()])
            own = (states.reshape(-1, 68, 2) - moves)[:, list(points), 1].mean(1)
            own_lifts[points] = dict(zip(self.line_targets(), map(float, own)))
        move = (np.asarray(st.expression, np.float64) @ self._a("expression_basis")).reshape(68, 2)
        lift = -float(move[list(points), 1].mean())
        return lift + sum(v * own_lifts[points].get(t, 0.0) for t, v in st.lines.items())

    def lid_lift(self, st: FaceState) -> float:
        """How far (canonical px) a state raises the upper lids (:data:`UPPER_LIDS`' mean)."""
        return self._lift(st, UPPER_LIDS)

    def brow_lift(self, st: FaceState) -> float:
        """How far (canonical px) a state raises the brows (:data:`BROWS`' mean)."""
        return self._lift(st, BROWS)

    def _brow_raise(self) -> np.ndarray:
        """The state (on the expression axes) nearest to the brows raised 1 canonical px (their
        mean) as the surprised target's whole move raises them (straight up without it): the axes
        carry 0.98 of it, and move the other points by at most 0.25 px (the nose's)."""
        if "brow_raise" not in self._np:
            move = np.zeros((68, 2))
            if "surprised" in self.line_targets():
                move[list(BROWS)] = self._line_moves().reshape(-1, 68, 2)[self.line_targets().index("surprised")][list(BROWS)]
            if move[list(BROWS), 1].mean() >= 0:
                move[list(BROWS)] = (0.0, -1.0)
            move /= -move[list(BROWS), 1].mean()
            self._np["brow_raise"] = self._a("expression_basis").astype(np.float64) @ move.reshape(-1)
        return self._np["brow_raise"]

    def lids_raised_change(self, current: FaceState, target: str, strength: float,
                           like: FaceState | None = None) -> float:
        """How far (eye distances, below 0: lowered) an edit moves the upper lids for the raise
        the irises show beyond the state (``FaceState.lids_raised``): the goal has none (a named
        target's own raise is in its state and moves; a reference face's is its own), ``keep``
        the face's; ``strength`` of the way."""
        have = current.lids_raised
        want = like.lids_raised if like is not None else (
            0.0 if target == "neutral" or target in self.expressions else have)
        return float(strength) * (want - have)

    def target_move_change(self, current: FaceState, target: str, strength: float,
                           like: FaceState | None = None) -> dict[str, float]:
        """How much of each target's own landmark moves (:data:`TARGET_MOVES`, by target) an
        edit adds (below 0: takes away): from the strength the face shows on the target's line
        to the goal's, ``strength`` of the way; the goal shows the named target's own moves
        whole, a reference face's (``like``) as read on it, neutral none, ``keep`` the face's.
        An edit to another named expression leaves the other targets' moves as read: a line's
        reading on a face that does not show its target is noise of the size of what an edit
        makes (London's neutral faces read up to 0.3 on disgust's line, the astronaut's 0.37 on
        anger's; an edit to anger reads 0.00 on it at 1350 px, median of 9), and taking it away
        would reshape every edit's mouth and brows by the noise. A target of
        :data:`MOVES_OFF_LINE` (happy) has its moves added by an edit to it alone, not by a
        reference face (``like``) reading more of it: its line's reading is not of them."""
        out = {}
        for t in TARGET_MOVES:
            if t in MOVES_OFF_LINE and t != target:
                continue
            have = current.lines.get(t, 0.0)
            if like is not None:
                want = like.lines.get(t, 0.0)
            elif target == "neutral":
                want = 0.0
            elif target in self.expressions:
                want = 1.0 if t == target else have
            else:
                want = have
            if strength * (want - have) != 0:
                out[t] = float(strength) * (want - have)
        return out

    def expression_shape(self, state: np.ndarray, identity: np.ndarray) -> np.ndarray:
        """(68,2) canonical landmarks of a face with these identity coordinates showing ``state``."""
        flat = (self._a("mean_shape").reshape(-1) + identity @ self._a("identity_basis")
                + np.asarray(state, np.float64) @ self._a("expression_basis"))
        return flat.reshape(68, 2)

    def state_aus(self, state: np.ndarray, identity: np.ndarray, clip: bool = True) -> np.ndarray:
        """AU intensities (17, :data:`faceedit.faces.au.AU_IDS` order, NaN where geometry cannot
        see the AU) of a state, read against the same face with no expression (its identity's
        own neutral shape), so a person's own face shape is not read as expression."""
        neutral = self.expression_shape(np.zeros_like(state), identity)
        return estimate_aus(self.expression_shape(state, identity), neutral=neutral, clip=clip)

    def face_aus(self, lm: np.ndarray) -> np.ndarray:
        """AU intensities of a face (:meth:`state_aus` of its estimated state)."""
        st = self.state(lm)
        return self.state_aus(st.expression, st.identity)

    def describe(self, lm: np.ndarray) -> dict:
        """A face's state for JSON records: AU intensities read against its own identity's
        neutral shape (``{"AU01": 1.2, ...}``, null where geometry cannot see the AU), the state
        on the expression axes in standard deviations, and the named target it is nearest to
        (``neutral`` included) with that distance."""
        st = self.state(lm)
        scale = np.maximum(self._a("expression_scale"), 1e-6)
        named = {"neutral": np.zeros_like(st.expression),
                 **{t: self._a(f"state_{t}") for t in self.expressions if t != "neutral"}}
        dist = {t: float(np.linalg.norm((st.expression - v) / scale)) for t, v in named.items()}
        nearest = min(dist, key=dist.__getitem__)
        return {"aus": aus_to_json(self.state_aus(st.expression, st.identity)),
                "state": [round(float(v), 3) for v in st.expression / scale],
                "nearest": nearest, "nearest_distance": round(dist[nearest], 3)}

    def target_state(self, target: str, current: FaceState) -> np.ndarray:
        """The state a target names: ``neutral`` none, ``keep`` the face's own, an expression the
        mean state of its posed photos."""
        if target == "neutral":
            return np.zeros_like(current.expression)
        if target in self.expressions:
            return self._a(f"state_{target}").astype(np.float64)
        return current.expression.copy()

    def set_aus(self, state: np.ndarray, identity: np.ndarray, aus: dict[int, float],
                symmetric: bool = True) -> np.ndarray:
        """``state`` with the AUs of ``aus`` ({au: 0..5}) at those intensities and every other AU
        geometry sees kept where it was, by the least change of state (in standard deviations of
        the expression axes): Gauss-Newton steps on the AU readings of :meth:`state_aus`, whose
        Jacobian is taken numerically. An AU asked for 0 that already reads 0 (or less) is left
        alone, as is one kept that reads less than 0; a negative value (the stage trainer's)
        asks for the AU's opposite move on its linear reading (AU1 -5: the inner brows lowered
        as far as AU1 5 raises them).

        ``symmetric``: the change is left-right symmetric (steps along
        :func:`symmetric_directions` only; the state's own asymmetry, a wink's, stays): free, the
        least change takes much of its move from the axes' left-right differences (``--au 4=3``
        would lower one brow; the figures are in the stage's card). The stage's trainer raises
        prototype AUs freely and projects the result (``symmetric=False``, then
        :func:`symmetric_state`)."""
        if not aus:
            return state
        for au in aus:
            if au not in self.aus:
                raise UsageError(f"AU {au}: the stage has no statistics for it; valid: {', '.join(map(str, self.aus))}")
        # step metric: landmark pixels (an axis that varies a lot, e.g. a leftover head turn, is
        # no cheaper to move than one that varies little)
        scale = np.full(len(state), float(np.median(self._a("expression_scale"))))
        rows = [AU_IDS.index(au) for au in self.aus]
        wanted = np.array([AU_IDS.index(au) in [AU_IDS.index(a) for a in aus] for au in self.aus])
        out = np.array(state, np.float64)

        def read(x: np.ndarray) -> np.ndarray:  # linear readings: a clipped one has no slope
            return np.nan_to_num(self.state_aus(x, identity, clip=False)[rows])

        keep = read(out)
        goal = np.array([float(aus.get(au, keep[i])) for i, au in enumerate(self.aus)])
        weight = np.where(wanted, 1.0, KEEP_AU_WEIGHT)
        if symmetric:
            if "symmetric_directions" not in self._np:
                self._np["symmetric_directions"] = symmetric_directions(self._a("expression_basis").astype(np.float64))
            directions = self._np["symmetric_directions"]
        else:
            directions = np.eye(len(out))
        for _ in range(AU_STEPS):
            have = read(out)
            r = goal - have
            # asked for none (or kept at less) and reads none or the opposite: done; a wanted
            # negative value is pursued
            r[(goal <= 0) & (have <= 0) & ~(wanted & (goal < 0))] = 0.0
            if np.abs(r[wanted]).max() < 0.05:
                break
            jac = np.stack([(read(out + 0.25 * scale * e) - have) / 0.25 for e in directions.T], 1)
            jw = jac * weight[:, None]
            # minimum-norm step in standard deviations: d = J^T (J J^T + mu)^-1 r
            step = jw.T @ np.linalg.solve(jw @ jw.T + AU_DAMPING * np.eye(len(r)), r * weight)
            if symmetric:  # at most 1 per axis, scaled as a whole (clipping axes would tilt it)
                step = directions @ step
                step = step / max(1.0, float(np.abs(step).max()))
            else:
                step = np.clip(step, -1.0, 1.0)
            out = out + step * scale
        return out

    # -- on a photo -------------------------------------------------------------------------
    def plan(self, lm: np.ndarray, target: str, strength: float = 1.0, *, aus: dict | None = None,
             like: np.ndarray | None = None, irises: np.ndarray | None = None,
             mediapipe: bool = False) -> tuple[FaceState, np.ndarray]:
        """(the face's state, read with its ``irises`` where given and as MediaPipe's points with
        ``mediapipe``, see :meth:`state`; the state the edit moves it to).

        The goal is the target's state (or, with ``like``, the reference face's own), with the
        AU intensities ``aus`` set on top; the new state lies ``strength`` of the way from the
        face's own state to the goal (beyond it above 1)."""
        cur = self.state(lm, irises, mediapipe)
        goal = self.state(like, mediapipe=mediapipe).expression if like is not None else self.target_state(target, cur)
        goal = self.set_aus(goal, cur.identity, aus or {})
        return cur, cur.expression + float(strength) * (goal - cur.expression)

    def move(self, lm: np.ndarray, target: str, strength: float = 1.0, *, aus: dict | None = None,
             like: np.ndarray | None = None, irises: np.ndarray | None = None,
             mediapipe: bool = False) -> np.ndarray:
        """The face's landmarks after the edit, photo coordinates (geometry only): the
        expression axes times the state change of :meth:`plan` (:meth:`goal_landmarks`)."""
        lm = np.asarray(lm, np.float64)
        cur, new = self.plan(lm, target, strength, aus=aus, like=like, irises=irises, mediapipe=mediapipe)
        return self.goal_landmarks(lm, cur, new, strength)

    def goal_landmarks(self, lm: np.ndarray, cur: FaceState, new: np.ndarray, strength: float) -> np.ndarray:
        """Photo landmarks of a face at ``lm`` (state ``cur``) moved to state ``new``; a state
        whose mouth is closed (:attr:`~faceedit.stage.tuning.EditTuning.lips_closed`) closes the
        lips, ``strength`` of the way."""
        d = ((new - cur.expression) @ self._a("expression_basis")).reshape(68, 2)
        goal = apply_affine(invert_affine(self.normaliser(lm)), cur.canonical + d)
        closing = self.closes_mouth(cur, new, strength)
        if closing > 0:
            goal = close_lips(goal, closing)
        if np.abs(goal - lm).max() < 1e-6:  # no move (strength 0, a face at its target)
            return np.array(lm, np.float64)
        return goal

    def closes_mouth(self, cur: FaceState, new: np.ndarray, strength: float) -> float:
        """How far (0..1) an edit from ``cur`` to state ``new`` brings the lips together: a
        state whose mouth is closed (:attr:`~faceedit.stage.tuning.EditTuning.lips_closed`)
        closes them, ``strength`` of the way; lips that are closed already stay closed at any strength (half of the way would leave
        the crease between them, which the cut encloses, open as a light line).

        The state's mouth is read with the face's own rest parting (its identity's), but on a
        face whose expression parts the lips (a laugh, a talking mouth: its expression opens the
        mean face's lips ``lips_closed`` or more) at most with the mean face's: such a photo does
        not show the person's lips at rest, and the fit splits the parting between identity and
        expression by its priors alone (insightface's laughing group_t1#1 turned to the front
        read 0.035 eye distances of its own parting, London HD's 172 photos at most 0.027)."""
        closed = self.tuning.edit.lips_closed
        gap = lip_gap(self.expression_shape(new, cur.identity))
        mean = np.zeros_like(cur.identity)
        if gap >= closed and lip_gap(self.expression_shape(cur.expression, mean)) >= closed:
            gap = min(gap, lip_gap(self.expression_shape(new, mean)))
        if strength > 0 and gap < closed:
            if lip_gap(self.expression_shape(cur.expression, cur.identity)) < closed:
                return 1.0
            return min(float(strength), 1.0)
        return 0.0

