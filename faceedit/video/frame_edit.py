"""One frame's edit in a clip (:func:`plan_frame`): its tracks chosen (``--face``,
``--max-faces``) and those the edit declines left out, then the edit handed to the workers, in
full on a key frame (:func:`key_edit`) or the key frame's moved onto it (:func:`reused_edit`),
with what each track carries from frame to frame (:func:`track_carried`); :class:`FrameEdit`
is the frame as the writer waits for it. :mod:`faceedit.video.runner` streams the clip
through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from faceedit.edits.attributes import needs_matte
from faceedit.errors import FaceEditError, TooManyFacesError, UsageError
from faceedit.faces.mesh68 import mesh_to_68
from faceedit.faces.reading import face_decline_reason
from faceedit.log import logger
from faceedit.models.request import EditRequest
from faceedit.stage.hold import judged
from faceedit.stage.records import Carried, StageFace
from faceedit.video.container import Frame
from faceedit.video.edit import ExpressionHold, steady_parts
from faceedit.video.reuse import FIND, KeyFrames, Plan, carry_change, carry_plan, change_parts, move_parts, moved_edits
from faceedit.video.smooth import FrameClock, frame_request

if TYPE_CHECKING:
    from faceedit.video.settings import FaceSamples, VideoResult, VideoSettings

def select_tracks(tracks: list, face: str = "all", max_faces: int = 10) -> list:
    """``--face`` over tracks: ``all`` (every track: ``max_faces`` is checked on the people of
    the whole clip, :func:`check_people`), ``largest`` (track 0: the largest face of the first
    frame that shows one) or a track number."""
    if face == "all":
        return tracks
    if face == "largest":
        return [t for t in tracks if t.id == 0]
    try:
        n = int(face)
    except ValueError:
        raise UsageError(f"`face` {face!r}; valid: all, largest, or a face number (0 = largest)") from None
    return [t for t in tracks if t.id == n]


def check_people(people: int, face: str, max_faces: int, path: str, frame: int) -> None:
    """``--max-faces`` on a video, as on a photo: with ``face`` all, a clip in which more than
    ``max_faces`` people (distinct tracks; 0 = no limit) appear fails as a whole, as a photo
    with more faces than that does (:func:`faceedit.flow.select_faces`), rather than having
    some of its people edited and others not. Raised at the frame where the first person too
    many appears, so the output is never written. ``largest`` or a face number edit one person
    and take no limit, as on a photo."""
    if face == "all" and max_faces and people > max_faces:
        raise TooManyFacesError(
            f"{people} people tracked by frame {frame}, more than `max_faces` {max_faces} "
            "(raise `max_faces`, or pick one with `face` largest|N)", path)



class FrameEdit:
    """A frame being edited on a worker: the writer waits for it in order."""

    def __init__(self, frame: Frame, future, tracks, steady: bool = True, samples: FaceSamples | None = None):
        self.frame, self.future, self.tracks, self.steady = frame, future, tracks, steady
        # each track's segment and face as this frame saw them: the tracking thread may have
        # moved on to a later frame (and a track found again there) by the time the writer gets here
        self.segments = [tr.segment for tr in tracks]
        self.samples = samples
        self.faces = [(tr.id, tr.face) for tr in tracks] if samples is not None else []

    def result(self) -> Frame:
        try:
            out, done = self.future.result()
        except FaceEditError as e:
            raise type(e)(f"frame {self.frame.index}: {e.reason}", e.path) from None
        for tr, segment, d in zip(self.tracks, self.segments, done):
            if d is None:
                continue
            if self.steady:  # in frame order (this runs on the writer's thread)
                seg, prev = tr.extra.get("steady", (None, None))
                tr.extra["steady"] = (segment, steady_parts(
                    out, d.landmarks, prev if seg == segment else None))
        f = self.frame
        for person, face in self.faces:  # none without samples
            try:
                assert self.samples is not None
                self.samples.add(person, f.index, f.rgb, out, face)
            except Exception:  # noqa: BLE001 (a face that cannot be cut is left unread, never failed)
                logger.debug("cutting frame %d's face %d to read failed", f.index, person, exc_info=True)
        return Frame(out, f.pts, f.time_base, f.index, f.rotation)


def plan_frame(editor, pool, frame: Frame, tracker, holds, request: EditRequest, settings: VideoSettings,
                result: VideoResult, keys: KeyFrames, samples: FaceSamples | None = None) -> Frame | FrameEdit:
    """Track the frame's faces and hand its edit to ``pool`` (a frame without a face to edit,
    or whose faces the edit declines unless ``settings.force``: :func:`not_declined`, and
    :func:`moves_held` on a stage, is passed through as decoded): the edit
    in full on a key frame, else the key frame's edit moved onto it (``keys``,
    :mod:`faceedit.video.reuse`)."""
    if result.clock is None:
        result.clock = FrameClock(result.rate)
    t = result.clock(None if frame.pts is None else float(frame.pts * frame.time_base))
    request, edit = frame_request(request, result.clock)
    tracks = select_tracks(tracker(frame.rgb, t), request.face, request.max_faces)
    check_people(tracker.next_id, request.face, request.max_faces, result.input, frame.index)
    found = len(tracks)
    if not settings.force:
        tracks = not_declined(tracks, result, frame.rgb)
    if not tracks:
        if found:
            result.declined_frames += 1
        return frame
    stage = editor.stage
    likes, plans, motions = None, None, FIND
    if stage is not None:
        ref = request.like
        ref_lm = None if ref is None else editor.reference_landmarks(ref)
        likes = []
        for tr in tracks:
            h = holds.get(tr.id)
            if h is None or h[0] != tr.segment:  # a new track, or one found again: start over
                h = holds[tr.id] = (tr.segment, ExpressionHold(settings.hold))
            likes.append(h[1].reference(stage, tr.face.landmarks, t, request.target, ref_lm, tr.identity,
                                        mesh_to_68(np.asarray(tr.raw)[:, :2])))
        if not settings.force:
            tracks, likes, plans, motions = moves_held(editor, frame.rgb, tracks, likes, request, result,
                                                       keys, frame.index, edit)
    if len(tracks) < found:
        result.declined_frames += 1
    if not tracks:
        return frame
    result.edited += 1
    result.faces = max(result.faces, len(tracks))
    plan = keys.plan(frame.index, frame.rgb, tracks, likes, edit, motions)
    if plan.motions is not None:
        return FrameEdit(frame, pool.submit(reused_edit, plan, frame.rgb), tracks, samples=samples)
    heads = needs_matte(request.attrs or {})  # the edit paints over the head's mattes
    carried = [track_carried(tr, heads, frame.index) for tr in tracks]
    future = plan.key.future = pool.submit(key_edit, plan if keys.reuse.enabled else None, editor, frame.rgb,
                                           [tr.face for tr in tracks], request, likes, carried, result, plans)
    for i, tr in enumerate(tracks):
        if not complete(carried[i], heads):  # this edit may find what the track carries on
            tr.extra.setdefault("pending", []).append((future, i, frame.index))
    return FrameEdit(frame, future, tracks, samples=samples)


def not_declined(tracks: list, result: VideoResult, rgb: np.ndarray | None = None) -> list:
    """The tracks the edit takes on in this frame (``rgb``, where given: a face whose mouth or eyes it shows
    covered is declined too), the others counted in ``result.declined``; a track declined before comes back only
    inside the size and turn limits by a margin (no flicker at one)."""
    kept = []
    for tr in tracks:
        why = face_decline_reason(tr.face, margin=1.0 if tr.extra.get("declined") else 0.0, pixels=rgb)
        tr.extra["declined"] = why is not None
        if why is None:
            kept.append(tr)
        else:
            entry = result.declined.setdefault((tr.id, why.split()[0]), [why, 0])
            entry[1] += 1
    return kept


#: A track whose planned move was declined is edited again only once its slide is under this
#: share of the limit (:func:`moves_held`).
MOVE_HYSTERESIS = 0.8


def moves_held(editor, rgb: np.ndarray, tracks: list, likes: list, request: EditRequest, result: VideoResult,
               keys: KeyFrames | None = None, index: int = 0, edit: object = None) -> tuple[list, list, list, object]:
    """The tracks (and their ``likes``) whose move, as the stage plans it, the warp holds
    (:func:`faceedit.stage.hold.judged`, the photo's verdict), the others counted in
    ``result.declined``: a track is declined once its slide passes the limit and edited again
    only under :data:`MOVE_HYSTERESIS` of it (no flicker at the limit). The verdict is judged on
    key frames (``keys``; frame ``index``, whose edit asks for ``edit``) and kept on the frames
    that take a key frame's edit (their faces held still since it: the same move); a track
    without a verdict since the last key frame (new, or found again) is judged on the frame
    itself. Without ``keys``, on every frame. Returns the tracks kept, their likes, their moves
    as planned on this frame (:func:`faceedit.stage.steps.edit_face`'s ``plan``; None where not
    judged on it) and :meth:`KeyFrames.motions` of the kept tracks (:data:`FIND` without ``keys``)."""
    stage, asked = editor.stage, cast(list, [])  # the stage's request, made once where a track is judged
    since = -1 if keys is None or keys.key is None else keys.key.index
    now: dict[int, tuple] = {}  # the tracks judged on this frame: id -> (plan, why)

    def judge(tr, like) -> None:
        face = StageFace(tr.face.landmarks, getattr(tr.face, "dense", None), None, like)
        was = tr.extra.get("move_declined", False)
        if not asked:
            asked.append(editor.stage_request(request))
        now[id(tr)] = judged(stage, face, asked[0], rgb, MOVE_HYSTERESIS if was else 1.0)
        tr.extra["move_declined"] = now[id(tr)][1] is not None
        tr.extra["move_verdict"] = (tr.segment, index, now[id(tr)][1])

    def held() -> tuple[list, list]:
        pairs = [(tr, like) for tr, like in zip(tracks, likes) if tr.extra["move_verdict"][2] is None]
        return [tr for tr, _ in pairs], [like for _, like in pairs]

    for tr, like in zip(tracks, likes):
        verdict = tr.extra.get("move_verdict")
        if keys is None or verdict is None or verdict[0] != tr.segment or verdict[1] < since:
            judge(tr, like)
    kept, kept_likes = held()
    motions: object = FIND
    if keys is not None:
        motions = keys.motions(rgb, kept, kept_likes)
        if len(now) < len(tracks) and not keys.carries(index, cast(list | None, motions), edit):
            for tr, like in zip(tracks, likes):  # a key frame: every verdict judged on it
                if id(tr) not in now:
                    judge(tr, like)
            if held()[0] != kept:
                kept, kept_likes = held()
                motions = keys.motions(rgb, kept, kept_likes)
    for tr in tracks:
        why = tr.extra["move_verdict"][2]
        if why is not None:
            entry = result.declined.setdefault((tr.id, "move"), [why, 0])
            entry[1] += 1
    return kept, kept_likes, [now[id(tr)][0] if id(tr) in now else None for tr in kept], motions


def key_edit(plan: Plan | None, editor, rgb, faces, request, likes, carried,
              result: VideoResult | None = None, moves: list | None = None) -> tuple[np.ndarray, list]:
    """A frame edited in full (:func:`faceedit.flow.edit_frame`); as a key frame
    (``plan``), its change kept per face for the frames that take it
    (:func:`~faceedit.video.reuse.change_parts`), with the key frame's before it moved onto it
    and mixed in where ``plan`` fades that out. ``result.network`` is set where the network's
    change altered the frame. ``moves``: per face its move as :func:`moves_held` planned it on
    this frame (None: planned here)."""
    from faceedit.flow import edit_frame  # torch: where a frame is edited

    out, done, network = edit_frame(editor, rgb, faces, request, likes=likes, carried=carried,
                                    plans=moves if moves and any(m is not None for m in moves) else None)
    if network and result is not None:  # only ever set to True: the workers' order does not matter
        result.network = True
    if plan is not None:
        key = plan.key
        key.parts = change_parts(rgb, out, [np.asarray(f.landmarks, np.float64).mean(0) for f in faces])
        if plan.before is not None:
            old, onto = plan.before
            assert old.future is not None
            old.future.result()
            key.fading = move_parts(old.parts or [], onto, rgb.shape)
        if plan.fade > 0:
            still = [np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])] * len(faces)
            out = carry_change(rgb, plan.change(), still)
    return out, done


def reused_edit(plan: Plan, rgb) -> tuple[np.ndarray, list]:
    """A frame that takes a key frame's edit (``plan``): its change moved by each face's motion
    and added to the frame's pixels (with the key frame's before it fading out, where ``plan``
    says); the key frame's per-face edits with their landmarks moved the same."""
    key, motions = plan.key, plan.motions
    assert key.future is not None and motions is not None
    _, done = key.future.result()  # a key frame's error is raised here too, naming this frame
    return carry_plan(plan, rgb), moved_edits(done, motions)


def complete(carried: Carried, heads: bool) -> bool:
    """Whether a track carries all its edits need: a mouth bank entry, and the head's mattes
    where the edit paints over them (``heads``)."""
    return carried.mouth is not None and (carried.head is not None or not heads)


#: The frames back from which a frame's plan waits for a track's edits in flight
#: (:func:`track_carried`): a constant, so that a frame's edit does not depend on the number of workers.
CARRY_LAG = 2


def track_carried(tr, heads: bool, index: int, lag: int = CARRY_LAG) -> Carried:
    """What a track's edits carry from frame to frame (:class:`Carried`): the head's mattes
    (``heads``: where the edit paints over them), found on its first frame, and the mouth bank
    entry they paint, the first one drawn for it in frame order. The track's edits that may
    find them, in flight on the workers, are taken in frame order: while it has no head, each
    one (the first frame's, as the next is planned); then those of frames more than ``lag``
    before this one, frame ``index`` (the workers stay busy on a mouth that never opens; the few
    frames planned while the first drawn entry is in flight draw their own best fit; only key
    frames are edited, :mod:`faceedit.video.reuse`). What a frame gets depends on the frames
    before it alone, never on how far the workers have got: the same on every run."""
    pending = tr.extra.get("pending", [])
    have = tr.extra.get("carried") or Carried()
    while pending and not complete(have, heads) and (pending[0][2] < index - lag or (heads and have.head is None)):
        future, i, _ = pending.pop(0)
        try:
            _, done = future.result()
        except Exception:  # noqa: BLE001 (the writer raises it, in frame order)
            continue
        if done[i] is not None:
            have = tr.extra["carried"] = have.merged(done[i].carried)
    if complete(have, heads):
        pending.clear()
    return have
