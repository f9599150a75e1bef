"""A photo driven by a video's performance: ``faceedit apply PHOTO --like DRIVER.mp4``
(:func:`drive_photo`); a video's expression replaced by the driver's, its head motion kept
(:func:`drive_video`).

Two passes over the driver. The first tracks its face (:class:`~faceedit.video.track.FaceTracker`:
the Face Mesh followed from frame to frame) and reads per frame, each against the
driver's rest (the clip's own, :func:`rest_readings`, read from many frames: its usual
expression carried to its most closed mouth, its eyes' usual opening; or its frame
``neutral``), a :class:`Performance`:

* the expression state's change (:meth:`Stage.state <faceedit.stage.state.ExpressionStates.state>`
  of its 68 points, read as the stage reads a tracked face), its part that goes with the lips'
  opening :data:`MOUTH_GAIN` times over (:func:`opening_gain`);
* how far the eyes are closed: each eye's ``eyeBlink`` coefficient (ARKit's, read by
  :class:`faceedit.faces.blendshapes.BlendshapeReader`: the tracked mesh's lids barely follow a
  blink on a small face) turned into the ``blink`` value whose drawn lids read as it
  (:data:`faceedit.stage.blendshapes.BLINK_CURVE`), less the rest's, and into the
  ``wink_left`` / ``wink_right`` value that reads as it (its own curve,
  :data:`faceedit.stage.blendshapes.CURVES`: a wink alone reads less closed), less the
  rest's. Eyes closed alike (their wink values within :data:`WINK_APART`) are the ``blink``
  control at both eyes' mean; eyes further apart a wink: the more closed eye's wink control at its
  wink value, the ``blink`` at the other eye's closure (the driver's own left eye closes the
  photo's own left eye: :meth:`Performance.controls`);
* the gaze: each iris's centre (:func:`faceedit.stage.eyes.find_iris`) along and across its eye,
  in eye widths, as the ``gaze_x`` / ``gaze_y`` controls (:data:`faceedit.stage.gaze.GAZE_X_TRAVEL`
  at 1); a frame whose irises are not found, or whose lids close, keeps the last reading;
* the head pose: the rotation that brings the rest frame's mesh (x, y and MediaPipe's depth)
  onto this frame's (Kabsch), as yaw, pitch and roll over :data:`faceedit.stage.pose.MAX_DEGREES`
  (the ``head_*`` controls).

Each is read on the mesh as measured (the tracker's raw mesh, not its smoothed one, which lags a
talking mouth by a frame or two); the expression, the gaze and the pose then pass a One-Euro
filter (:class:`~faceedit.video.smooth.OneEuro`) forwards and backwards on the frames' clock
(:class:`~faceedit.video.smooth.FrameClock`), which smooths without lag; the lids are taken as
read (a blink lasts three or four frames). A frame without a face keeps the last frame's reading
(the first tracked frame's before it).

The second pass writes one frame per driver frame, at its timestamp, with the driver's audio
copied: the photo's largest face (found once, with its mesh) edited by the stage to its own
expression state plus the driver's change (a reference face of that state, the stage's
``like``), with the controls above. The mouth and the eyes are steadied from frame to frame
(:func:`faceedit.video.edit.steady_parts`) and the mouth bank entry the first opened mouth drew
is kept for the others (:class:`~faceedit.stage.records.Carried`).
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np

from faceedit.errors import NoFaceError, UsageError
from faceedit.files import atomic_path
from faceedit.log import logger
from faceedit.models.request import EditRequest
from faceedit.stage.records import Carried
from faceedit.video.container import VIDEO_EXTS, EncodeOptions, Frame, VideoReader, VideoWriter
from faceedit.video.edit import steady_parts
from faceedit.video.smooth import FrameClock, OneEuro

#: What ``keep`` may hold (:func:`drive_photo`, :func:`drive_video`): the face's own head pose.
KEEP = ("pose",)
#: One-Euro settings of the gaze and the pose readings (controls per second) and of the
#: expression state's (standard deviations per second), each run forwards and backwards
#: (:func:`both_ways`).
READING_FILTER = {"min_cutoff": 1.5, "beta": 0.5}
EXPRESSION_FILTER = {"min_cutoff": 3.0, "beta": 0.5}
#: Gaze readings (control units) below this are taken as none: an iris search on a small face
#: moves by a few hundredths of an eye width from frame to frame (GRID's speakers, who look at
#: the camera, read up to 0.3 from frame to frame before the filter).
GAZE_DEADBAND = 0.3
#: The eyes' closure (0..1) below which no lid is drawn (the lids' own flutter).
CLOSURE_DEADBAND = 0.1
#: Eyes whose wink values (0..1, :attr:`Performance.winks`) lie further apart than this are a
#: wink, one eye closed by itself; nearer, a blink (both closed alike). GRID's bbaf2n and lbax4n
#: read at most 0.27 apart in a blink and 0.46 with the eyes open (lbax4n's left lid reads a
#: little closed as he talks); the stage's own full wink on the astronaut, filmed at 256 px, 0.6 to 0.66.
WINK_APART = 0.5
#: The part of the expression's change that goes with the lips' opening (:func:`opening_gain`)
#: is applied this many times over: the stage's warp of a closed mouth to a given inner-lip
#: gap shows a thinner opening than a real mouth with that gap (dlib reads GRID's bbaf2n at up
#: to 0.13 eye distances, the London face 008 driven by it at 0.008 with a gain of 1, 0.037 with 2).
MOUTH_GAIN = 3.0


@dataclass
class Performance:
    """The driver's readings per frame, each against its rest (frame ``neutral``, or the clip's own):
    ``expression`` (N, K) the state's change (its opening's part :data:`MOUTH_GAIN` times
    over); ``closure`` (N, 2) how far each eye (the image's
    left first: the person's right) is closed, 0..1, as a ``blink`` value, and ``winks`` (N, 2) as a
    ``wink_right`` / ``wink_left`` value (None: ``closure``'s); ``gaze`` (N, 2) and ``pose`` (N, 3) the controls they stand for
    (gaze_x, gaze_y; head_yaw, head_pitch, head_roll), each -1..1; ``found`` (N,) the frames a
    face was tracked on; ``rate`` the driver's frame rate (None: not known); ``rest`` how the
    readings' rest was taken: ``frame`` (frame ``neutral``'s) or ``auto`` (the clip's own,
    :func:`rest_readings`, ``neutral`` its closed-mouth frame nearest it)."""

    expression: np.ndarray
    closure: np.ndarray
    gaze: np.ndarray
    pose: np.ndarray
    found: np.ndarray
    neutral: int = 0
    rate: float | None = None
    winks: np.ndarray | None = None
    rest: str = "frame"

    def __len__(self) -> int:
        return len(self.found)

    def rest_note(self) -> str:
        """The rest in words, for the log: ``frame N`` or ``the clip's rest (near frame N)``."""
        return f"frame {self.neutral}" if self.rest == "frame" else f"the clip's rest (near frame {self.neutral})"

    def controls(self, k: int, keep: Collection[str] = ()) -> dict[str, float]:
        """Frame ``k``'s named controls (:mod:`faceedit.edits.controls`); ``keep`` holding
        ``pose``: the head's turn left out (the face keeps its own pose). The lids: eyes closed
        alike (wink values within :data:`WINK_APART`) are the ``blink`` at both eyes' mean
        closure; a wink is the more closed eye's ``wink_right`` (the image's left eye, the
        person's right) or ``wink_left`` at its wink value, with the ``blink`` at the other eye's
        closure; a ``blink`` below :data:`CLOSURE_DEADBAND` is 0."""
        shut = np.clip(self.closure[k], 0.0, 1.0)
        one = shut if self.winks is None else np.clip(self.winks[k], 0.0, 1.0)
        blink, winks = float(shut.mean()), [0.0, 0.0]
        if abs(one[0] - one[1]) > WINK_APART:
            side = int(one[1] > one[0])
            blink, winks[side] = float(shut[1 - side]), float(one[side])
        gx, gy = (float(v) for v in self.gaze[k])
        yaw, pitch, roll = (0.0, 0.0, 0.0) if "pose" in keep else (
            float(np.clip(v, -1.0, 1.0)) for v in self.pose[k])
        return {"blink": blink if blink >= CLOSURE_DEADBAND else 0.0,
                "wink_right": winks[0], "wink_left": winks[1],
                "gaze_x": _dead(gx, GAZE_DEADBAND), "gaze_y": _dead(gy, GAZE_DEADBAND),
                "head_yaw": yaw, "head_pitch": pitch, "head_roll": roll}


def _dead(v: float, band: float) -> float:
    """``v`` clipped to -1..1, 0 inside ``band``."""
    return 0.0 if abs(v) < band else float(np.clip(v, -1.0, 1.0))


def angles(r: np.ndarray) -> np.ndarray:
    """(3,) yaw, pitch, roll (degrees) of rotation ``r`` as :func:`faceedit.stage.pose.rotation`
    composes them (roll @ pitch @ yaw, on x right, y down, h towards the camera)."""
    pitch = np.arcsin(np.clip(r[2, 1], -1.0, 1.0))
    yaw = np.arctan2(-r[2, 0], r[2, 2])
    roll = np.arctan2(-r[0, 1], r[1, 1])
    return np.rad2deg(np.array([yaw, pitch, roll]))


def head_rotation(mesh: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """(3, 3) the rotation that best brings face mesh ``ref`` onto ``mesh`` (each (468, 3): x, y
    image px, MediaPipe's z, smaller towards the camera), both centred and scaled (Kabsch), on
    the coordinates of :func:`faceedit.stage.pose.rotation` (h = -z)."""

    def norm(p: np.ndarray) -> np.ndarray:
        q = np.asarray(p, np.float64)[:468, :3] * [1.0, 1.0, -1.0]
        q = q - q.mean(0)
        return q / max(float(np.sqrt((q ** 2).sum(1).mean())), 1e-9)

    a, b = norm(ref), norm(mesh)
    u, _, vt = np.linalg.svd(b.T @ a)
    d = np.sign(np.linalg.det(u @ vt))
    return u @ np.diag([1.0, 1.0, d]) @ vt


def iris_offsets(rgb: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """(2, 2) each eye's iris centre (the image's left eye first) from its corners' midpoint,
    along the eye (towards the image's right) and across it (down), in eye widths; NaN for an
    eye whose iris is not found (:func:`faceedit.stage.eyes.find_iris`)."""
    from faceedit.stage.eyes import eye_polygon, find_iris

    out = np.full((2, 2), np.nan)
    xy = np.asarray(mesh, np.float64)[:, :2]
    for k, (a, b) in enumerate(((33, 133), (362, 263))):
        poly = eye_polygon(xy, k, 0.1)
        x0, y0 = np.maximum(np.floor(poly.min(0)).astype(int) - 4, 0)
        x1, y1 = np.ceil(poly.max(0)).astype(int) + 5
        crop = rgb[y0:y1, x0:x1]
        if crop.shape[0] < 4 or crop.shape[1] < 4:
            continue
        found = find_iris(crop.astype(np.float32) / 255, poly - [x0, y0])
        if found is None:
            continue
        u = xy[b] - xy[a]
        width = float(np.linalg.norm(u))
        u = u / max(width, 1e-9)
        n = np.array([-u[1], u[0]])  # across the eye, down the face
        rel = found[0] + [x0, y0] - (xy[a] + xy[b]) / 2
        out[k] = [float(rel @ u) / width, float(rel @ n) / width]
    return out


def _settle(tracker, rgb: np.ndarray, t: float) -> None:
    """Track ``rgb`` once at ``t`` and start the tracks' filters over: the mesh a detection
    gives (on the detector's box) lies off the one the following frames give (each on the last
    mesh's ROI) by more than a talking mouth moves, and the filter would drift from one to the
    other over the first half second. The next call on ``rgb`` gives a followed mesh, taken as
    it is."""
    for tr in tracker(rgb, t):
        tr.filter.reset()


#: The auto rest (:func:`rest_readings`): the frames whose inner-lip gap lies at or below this
#: quantile of the clip's are its closed mouth.
REST_QUANTILE = 0.1


def read_performance(editor, driver: str, neutral: int | None = None, *, tracker=None) -> Performance:
    """The driver's :class:`Performance`, its face tracked (the largest of the first frame that
    shows one: track 0). ``neutral``: the frame the readings are taken against; None: the clip's
    own rest (:func:`rest_readings`). NoFaceError where no frame shows a face; UsageError for a
    ``neutral`` frame the driver lacks or that shows no face."""
    from faceedit.stage.gaze import GAZE_X_TRAVEL, GAZE_Y_TRAVEL
    from faceedit.stage.pose import MAX_DEGREES

    r = _readings(editor, driver, tracker)
    found, n = r["found"], len(r["found"])
    if neutral is not None and not 0 <= neutral < n:
        raise UsageError(f"`neutral` {neutral}: the driver has frames 0..{n - 1}")
    if neutral is not None and not found[neutral]:
        raise UsageError(f"`neutral` {neutral}: no face tracked on that frame of the driver")
    rest = rest_readings(r) if neutral is None else {
        k: r[k][neutral] for k in ("expression", "gap", "aperture", "shut", "rotation", "iris")} | {"frame": neutral}
    expression = opening_gain(r["expression"] - rest["expression"], r["gap"] - rest["gap"])
    closure = np.clip(r["aperture"] - rest["aperture"], 0.0, 1.0)
    winks = np.clip(r["shut"] - rest["shut"], 0.0, 1.0)
    back = rest["rotation"].T
    raw_pose = np.array([angles(x @ back) for x in r["rotation"]]) / MAX_DEGREES
    offsets = r["iris"]  # (N, 2 eyes, 2)
    ref = rest["iris"]
    with warnings.catch_warnings():  # an iris never found: NaN, quietly (its gaze stays 0)
        warnings.simplefilter("ignore", RuntimeWarning)
        if np.isnan(ref).any():  # the rest's irises not found: the clip's median
            ref = np.where(np.isnan(ref), np.nanmedian(offsets, 0), ref)
        rel = np.nanmean(offsets - ref, 1)  # (N, 2), both eyes' mean; NaN where neither was found
    rel[closure.mean(1) > CLOSURE_DEADBAND] = np.nan  # a closing lid hides the iris: held
    held = np.zeros(2)
    raw_gaze = np.zeros((n, 2))
    for k in range(n):
        if not np.isnan(rel[k]).any():
            held = rel[k]
        raw_gaze[k] = held
    raw_gaze = raw_gaze / [GAZE_X_TRAVEL, -GAZE_Y_TRAVEL]  # gaze_y: + up
    times = r["times"]
    expression = both_ways(expression, times, EXPRESSION_FILTER)
    perf = Performance(expression, closure, both_ways(raw_gaze, times, READING_FILTER),
                       both_ways(raw_pose, times, READING_FILTER), found, int(rest["frame"]), r["rate"], winks,
                       rest="frame" if neutral is not None else "auto")
    logger.info("%s: read against %s", driver, perf.rest_note())
    return perf


def rest_readings(r: dict) -> dict:
    """The clip's own rest: the readings of ``r`` (:func:`_readings`) its face shows at rest, each
    from many frames, so that no one frame's rendering or reading moves every driven frame. The
    inner-lip gap: the median of the frames whose gap is at or below the clip's
    :data:`REST_QUANTILE` (the driver's most closed mouth, ``g0``). The expression state: the
    per-dimension median over every tracked frame of its state carried to ``g0`` along the
    opening's direction (:func:`closed_states`: the state's least-squares change per unit of gap
    over the tracked frames above that quantile, so the few closed frames do not tilt it), the
    clip's usual expression with its mouth closed. The lids' and the irises' readings: their
    median over every tracked frame (open eyes, looking ahead: a blink lasts a few frames). The
    head's rotation: that of the closed-mouth frame whose state lies nearest the rest's
    (``frame``, also the frame recorded)."""
    ok = np.flatnonzero(r["found"])
    gaps = r["gap"][ok]
    shut = gaps <= np.quantile(gaps, REST_QUANTILE)
    closed = ok[shut]
    gap = float(np.median(r["gap"][closed]))
    expression = np.median(closed_states(r["expression"][ok], gaps, gap, ~shut), 0)
    frame = int(closed[np.argmin(np.linalg.norm(r["expression"][closed] - expression, axis=1))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        iris = np.nanmedian(r["iris"][ok], 0)
    return {"expression": expression, "gap": gap,
            "aperture": np.median(r["aperture"][ok], 0), "shut": np.median(r["shut"][ok], 0),
            "rotation": r["rotation"][frame], "iris": iris, "frame": frame}


def closed_states(expression: np.ndarray, gaps: np.ndarray, gap: float, fit: np.ndarray | None = None) -> np.ndarray:
    """(N, K) each frame's expression state (``expression`` (N, K), at inner-lip gaps ``gaps``
    (N,)) carried to the gap ``gap`` along the opening's direction: the least-squares slope ``v``
    of the state against the gap over the frames ``fit`` (a mask; None: all), about their means,
    each frame less ``(gaps - gap) * v``. Where fewer than two frames are fitted or their gaps
    barely differ (no talking) the states are taken as they are."""
    e, g = np.asarray(expression, np.float64), np.asarray(gaps, np.float64)
    m = np.ones(len(g), bool) if fit is None else np.asarray(fit, bool)
    if np.count_nonzero(m) < 2:
        return e
    dg = g[m] - g[m].mean()
    norm = float(dg @ dg)
    if norm < 1e-8:
        return e
    v = (dg @ (e[m] - e[m].mean(0))) / norm
    return e - (g - gap)[:, None] * v[None]


def _readings(editor, driver: str, tracker) -> dict:
    """The driver's raw readings per frame (arrays over its N frames): ``expression`` (N, K) the
    expression state, ``gap`` (N,) the inner-lip gap, ``aperture`` and ``shut`` (N, 2) each eye's
    ``blink`` and wink value, ``rotation`` (N, 3, 3) the head's from the first tracked frame's,
    ``iris`` (N, 2, 2) :func:`iris_offsets`, ``found`` (N,), ``times`` (the frames' clock) and
    ``rate``. A frame without a face keeps the last tracked frame's readings (the first tracked
    frame's before it). NoFaceError where no frame shows a face."""
    stage = editor.stage
    if stage is None:
        raise UsageError("driving a photo needs the stage (the model's geometry): load it with stage=True")
    if tracker is None:
        from faceedit.video.runner import default_tracker

        tracker = default_tracker(editor)
    from faceedit.faces.blendshapes import BlendshapeReader
    from faceedit.faces.mesh68 import mesh_to_68
    from faceedit.stage.blendshapes import BLINK_CURVE, control_value
    from faceedit.stage.state import lip_gap

    blinks = BlendshapeReader()
    names = ("expression", "aperture", "shut", "rotation", "gap")
    rows: dict[str, list] = {k: [] for k in names}
    irises: list[np.ndarray] = []
    found: list[bool] = []
    first_mesh = None
    with VideoReader(driver) as reader:
        rate = float(reader.info.rate) if reader.info.rate else None
        clock = FrameClock(rate)
        times = []
        for item in reader:
            if not isinstance(item, Frame):
                continue
            t = clock(None if item.pts is None else float(item.pts * item.time_base))
            times.append(t)
            if first_mesh is None:
                _settle(tracker, item.rgb, t - clock.period)
            tr = next((x for x in tracker(item.rgb, t) if x.id == 0), None)
            found.append(tr is not None)
            if tr is None:
                for k in names:
                    rows[k].append(None)
                irises.append(np.full((2, 2), np.nan))
                continue
            # the mesh as measured: the performance is smoothed over the whole clip, with no lag
            mesh = np.asarray(tr.raw, np.float64)
            lm = mesh_to_68(mesh)
            if first_mesh is None:
                first_mesh = mesh
            rows["expression"].append(stage.state(lm, mediapipe=True).expression)
            shapes = blinks.read(item.rgb, [tr.face])[0]  # the person's left eye is on the image's right
            sides = [f"eyeBlink{side}" for side in ("Right", "Left")]
            rows["aperture"].append(np.array([control_value(BLINK_CURVE, shapes[n]) for n in sides]))
            rows["shut"].append(np.array([control_value(n, shapes[n]) for n in sides]))
            rows["gap"].append(lip_gap(lm))
            rows["rotation"].append(head_rotation(mesh, first_mesh))
            irises.append(iris_offsets(item.rgb, mesh))
    if not any(found):
        raise NoFaceError(f"no face found in any of its {len(found)} frames", driver)
    last = found.index(True)
    for j in range(len(found)):
        if found[j]:
            last = j
        else:
            for name in names:
                rows[name][j] = rows[name][last]
    out: dict = {name: np.array(v, np.float64) for name, v in rows.items()}
    return out | {"iris": np.array(irises), "found": np.array(found), "times": times, "rate": rate}


def both_ways(values: np.ndarray, times: list[float], settings: dict) -> np.ndarray:
    """``values`` (N, ...) at ``times`` through a One-Euro filter (``settings``) forwards, then
    that backwards: smoothed with no lag (each pass's lag undone by the other's)."""
    t = np.asarray(times, np.float64)
    ahead, back = OneEuro(**settings), OneEuro(**settings)
    fwd = np.array([ahead(v, x) for v, x in zip(values, t)])
    end = t[-1] if len(t) else 0.0
    return np.array([back(v, end - x) for v, x in zip(fwd[::-1], t[::-1])])[::-1]


def opening_gain(expression: np.ndarray, gaps: np.ndarray, gain: float = MOUTH_GAIN) -> np.ndarray:
    """``expression`` (N, K) changes with the part that goes with the lips' opening (``gaps``
    (N,): the inner-lip gap's change, :func:`faceedit.stage.state.lip_gap`) ``gain`` times over:
    that part is the least-squares direction ``v`` in the state whose multiples by the gap best
    give the changes, and each frame gets ``(gain - 1) * gap * v`` added. A driver whose lips do
    not part is left as it is."""
    g = np.asarray(gaps, np.float64)
    norm = float(g @ g)
    if norm < 1e-8 or gain == 1.0:
        return expression
    v = (g @ expression) / norm
    return expression + (gain - 1.0) * g[:, None] * v[None]


def aimed_shape(stage, want: np.ndarray, identity: np.ndarray) -> np.ndarray:
    """Landmarks (canonical frame) of ``identity`` whose expression state, read as the stage reads
    a tracked face, is ``want`` (the state estimate shrinks towards the mean: aimed past it)."""
    y = np.array(want, np.float64)
    for _ in range(4):
        shape = stage.expression_shape(y, identity)
        y = y + (want - stage.state(shape, mediapipe=True).expression)
    return stage.expression_shape(y, identity)


@dataclass
class DriveResult:
    """What :func:`drive_photo` did: ``frames`` written (the driver's), ``rate`` the driver's
    frame rate, ``audio`` streams copied, ``found`` driver frames with a face tracked, ``seconds``
    end to end, ``edit_fps`` frames written per second."""

    input: str
    driver: str
    output: str
    frames: int = 0
    rate: float | None = None
    audio: int = 0
    found: int = 0
    neutral: int = 0
    rest: str = "frame"
    seconds: float = 0.0
    performance: Performance | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        return {"input": self.input, "like": self.driver, "output": self.output, "frames": self.frames,
                "fps": None if self.rate is None else round(self.rate, 3), "copied_streams": self.audio,
                "driver_frames_with_face": self.found, "like_neutral": self.neutral,
                "like_rest": self.rest,
                "seconds": round(self.seconds, 2),
                "edit_fps": round(self.frames / self.seconds, 2) if self.seconds > 0 else 0.0}


def _check(dst: str, keep: Collection[str]) -> str:
    """``dst``'s extension, a video's; UsageError for another or a ``keep`` not in :data:`KEEP`."""
    ext = os.path.splitext(dst)[1].lower()
    if ext not in VIDEO_EXTS:
        raise UsageError(f"{dst}: not a video extension ({', '.join(sorted(VIDEO_EXTS))})")
    bad = [k for k in keep if k not in KEEP]
    if bad:
        raise UsageError(f"`like_keep` {', '.join(bad)}; valid: {', '.join(KEEP)}")
    return ext


def _even(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` with its last row / column repeated where its height / width is odd (4:2:0 video)."""
    h, w = rgb.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return rgb
    return np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def photo_face(tracker, rgb: np.ndarray):
    """The photo's largest face with its Face Mesh (the tracker's detector); NoFaceError without one."""
    faces = [f for f in tracker.faces([rgb])[0] if f.dense is not None]
    if not faces:
        raise NoFaceError("no face found in the photo to drive")
    return max(faces, key=lambda f: f.area)


class _FrameEdits:
    """The stage's edits of one face frame by frame (:func:`faceedit.flow.edit_frame`): the
    mouth bank entry the first opened mouth drew kept for the others (``carried``), the mouth and
    the eyes steadied from frame to frame (:func:`faceedit.video.edit.steady_parts`)."""

    def __init__(self, editor) -> None:
        self.editor, self.carried = editor, Carried()
        self.steady: dict | None = None

    def __call__(self, rgb: np.ndarray, face, controls: dict[str, float], like: np.ndarray) -> np.ndarray:
        """``rgb`` with ``face`` edited to the shape ``like`` with ``controls`` (those at 0 left out)."""
        from faceedit.flow import edit_frame  # torch: where a frame is edited

        request = EditRequest.of("keep", 1.0, controls={c: v for c, v in controls.items() if v})
        out, done, _ = edit_frame(self.editor, rgb, [face], request, likes=[like], carried=[self.carried])
        if done and done[0] is not None:
            self.carried = self.carried.merged(done[0].carried)
            self.steady = steady_parts(out, done[0].landmarks, self.steady)
        return out


def _write_frames(src: str, dst: str, ext: str, result: DriveResult, frame, *, start: float,
                  encode: EncodeOptions | None, record: dict | None) -> DriveResult:
    """Write ``dst`` (atomically: an error leaves no file) with one frame per frame of video
    ``src``, at its timestamp, and ``src``'s other streams copied: ``frame(item, k)`` gives frame
    ``k``'s (the ``k``-th of ``src``, ``item``) pixels and display rotation. Fills ``result``'s
    frame count, copied streams, rate and seconds (from ``start``)."""
    with VideoReader(src) as reader, atomic_path(dst) as temp:
        result.audio, result.rate = len(reader.info.copied), float(reader.info.rate) if reader.info.rate else None
        writer = VideoWriter(temp, reader, encode, format=VIDEO_EXTS[ext], record=record)
        try:
            for item in reader:
                if not isinstance(item, Frame):
                    writer.write(item)
                    continue
                out, rotation = frame(item, result.frames)
                writer.write(Frame(out, item.pts, item.time_base, item.index, rotation))
                result.frames += 1
            writer.close()
        except BaseException:
            writer.abort()
            raise
    result.seconds = time.perf_counter() - start
    logger.info("%s driven by %s: %d frames, %.1f s", result.input, result.driver, result.frames, result.seconds)
    return result


def drive_photo(editor, photo, driver: str, dst: str, *, neutral: int | None = None, encode: EncodeOptions | None = None,
                record: dict | None = None, tracker=None, max_pixels: int | None = None,
                performance: Performance | None = None, keep: Collection[str] = ()) -> DriveResult:
    """Write ``dst`` (a video; its container from the extension): ``photo`` (a path or an RGB
    uint8 array) driven by the performance of the face in video ``driver``, frame by frame, with
    the driver's frame count, timestamps (its rate) and audio (copied). ``editor``: a
    :class:`faceedit.api.Editor` with a stage; ``neutral``: the driver's frame the performance
    is read against (None: the clip's own rest, :func:`read_performance`; ``performance``: one
    read already);
    ``record``: faceedit's record of the output, kept in the container's metadata; ``keep``
    (:data:`KEEP`): ``pose``, the photo's head left unturned. Written atomically: an error
    leaves no file."""
    ext = _check(dst, keep)
    start = time.perf_counter()
    name = photo if isinstance(photo, (str, os.PathLike)) else "photo"
    if isinstance(photo, (str, os.PathLike)):
        from faceedit.io.decode import DEFAULT_MAX_PIXELS, read_image

        photo = read_image(photo, max_pixels=max_pixels or DEFAULT_MAX_PIXELS).rgb8()
    rgb = np.ascontiguousarray(np.asarray(photo)[..., :3])
    if tracker is None:
        from faceedit.video.runner import default_tracker

        tracker = default_tracker(editor)
    face = photo_face(tracker, rgb)
    perf = performance if performance is not None else read_performance(editor, driver, neutral, tracker=tracker)
    stage = editor.stage
    own = stage.state(face.landmarks, mediapipe=True)
    result = DriveResult(str(name), str(driver), dst, neutral=perf.neutral, rest=perf.rest, found=int(perf.found.sum()),
                         rate=perf.rate, performance=perf)
    edit = _FrameEdits(editor)
    last: list = []  # (controls, expression, output) of the last frame edited

    def frame(item: Frame, k: int) -> tuple[np.ndarray, int]:
        k = min(k, len(perf) - 1)
        controls, expression = perf.controls(k, keep), perf.expression[k]
        if not (last and last[0] == controls and np.array_equal(last[1], expression)):  # else the same picture
            like = aimed_shape(stage, own.expression + expression, own.identity)
            last[:] = [controls, expression, _even(edit(rgb, face, controls, like))]
        return last[2], 0

    return _write_frames(driver, dst, ext, result, frame, start=start, encode=encode, record=record)


def drive_video(editor, src: str, driver: str, dst: str, *, neutral: int | None = None, encode: EncodeOptions | None = None,
                record: dict | None = None, tracker=None, performance: Performance | None = None) -> DriveResult:
    """Write ``dst``: video ``src`` with its person's (track 0: the largest face of the first
    frame that shows one) expression replaced by the driver's frame by frame, its own head
    motion kept (``keep`` pose). Frame k of ``src`` goes to the expression state of its own first
    tracked frame plus the driver's change at frame k (the driver's last frame after it ends),
    with the driver's lids and gaze; the output has ``src``'s frames, timestamps and audio. Frames
    without the person are written as they are. The other arguments as :func:`drive_photo`'s."""
    ext = _check(dst, ())
    start = time.perf_counter()
    if tracker is None:
        from faceedit.video.runner import default_tracker

        tracker = default_tracker(editor)
    perf = performance if performance is not None else read_performance(editor, driver, neutral, tracker=tracker)
    from faceedit.video.track import FaceTracker

    own_tracker = FaceTracker(tracker.faces, editor.stage, identity=tracker.identity)
    stage = editor.stage
    result = DriveResult(str(src), str(driver), dst, neutral=perf.neutral, rest=perf.rest, found=int(perf.found.sum()),
                         performance=perf)
    edit = _FrameEdits(editor)
    clock: list = []  # the source's FrameClock, made on its first frame
    base: list = []  # the expression state of the person's first tracked frame

    def frame(item: Frame, k: int) -> tuple[np.ndarray, int]:
        if not clock:
            clock.append(FrameClock(result.rate))
        t = clock[0](None if item.pts is None else float(item.pts * item.time_base))
        tr = next((x for x in own_tracker(item.rgb, t) if x.id == 0), None)
        if tr is None:
            return item.rgb, item.rotation
        k = min(k, len(perf) - 1)
        cur = stage.state(tr.face.landmarks, mediapipe=True)
        base[:] = base or [cur.expression]
        ident = cur.identity if tr.identity is None else tr.identity
        like = aimed_shape(stage, base[0] + perf.expression[k], ident)
        return edit(item.rgb, tr.face, perf.controls(k, KEEP), like), item.rotation

    return _write_frames(src, dst, ext, result, frame, start=start, encode=encode, record=record)
