"""Key frames on a real talking clip (GRID, 360x288, a face about 110 px): a still face's frames
take the key frame's edit; the mouth's pixels are held to their own level."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")


@pytest.fixture(scope="module")
def grid(shared_data):
    """bbaf2n's frames 58-67 (the speaker silent after the sentence) and their tracked faces."""
    from faceedit.api import Editor
    from faceedit.video.container import Frame, VideoReader
    from faceedit.video.runner import default_tracker

    path = shared_data / "grid" / "bbaf2n.mpg"
    if not path.exists():
        pytest.skip("GRID clips not present (../shared/data/grid)")
    tracker = default_tracker(Editor.from_pretrained("stage"))
    frames, tracks = [], []
    with VideoReader(str(path)) as reader:
        for item in reader:
            if isinstance(item, Frame) and item.index >= 50:
                found = tracker(item.rgb, item.index / 25)
                if item.index >= 58:
                    frames.append(item.rgb)
                    tracks.append([SimpleNamespace(id=t.id, segment=t.segment, face=t.face) for t in found])
            if len(frames) == 10:
                break
    return frames, tracks


def test_a_small_still_face_takes_the_key_frames_edit(grid):
    """The speaker's face at rest: after the first key frame its frames take its edit (the
    compared crop of a face this small is blurred first, or resampling its pixel-wide edges alone
    reads as change), a key frame again only where ``every`` says."""
    from faceedit.video.reuse import KeyFrames, Reuse

    frames, tracks = grid
    keys = KeyFrames(Reuse(every=8))
    carried = [keys.plan(i, f, t, None).motions is not None for i, (f, t) in enumerate(zip(frames, tracks))]
    assert carried[0] is False and sum(carried[1:8]) >= 6, carried
    assert keys.keys <= 3, carried


def test_the_mouths_pixels_are_held_to_their_own_level(grid):
    """A change of 14 grey levels over a patch of the lips makes the frame a key frame (the
    mouth's level, :attr:`Reuse.mouth`); the same change on the cheek, under the face's level
    (:attr:`Reuse.level`), does not."""
    from faceedit.faces.landmarks import eye_distance
    from faceedit.video.reuse import KeyFace, Reuse, face_motion

    frames, tracks = grid
    face = tracks[5][0].face
    lm = np.asarray(face.landmarks, np.float64)
    key = KeyFace(0, 0, lm, np.asarray(face.dense, np.float64)[:, :2], None)
    reuse = Reuse(mouth=10.0)

    def patched(x: float, y: float) -> np.ndarray:
        out = frames[5].astype(np.int16)
        r = int(round(0.08 * eye_distance(lm)))
        out[int(y) - r:int(y) + r, int(x) - 2 * r:int(x) + 2 * r] += 14
        return np.clip(out, 0, 255).astype(np.uint8)

    assert face_motion(frames[5], key, frames[5], face, None, reuse)[0] is not None  # itself
    lips = lm[[51, 57]].mean(0)  # between the outer lips' middles
    assert face_motion(frames[5], key, patched(*lips), face, None, reuse)[0] is None
    cheek = 0.5 * (lm[2] + lm[31])
    assert face_motion(frames[5], key, patched(*cheek), face, None, reuse)[0] is not None
    assert face_motion(frames[5], key, patched(*lips), face, None, Reuse(mouth=20.0))[0] is not None


def test_a_carried_frames_change_follows_the_lips_own_motion(grid):
    """The lips moved 2 px down since the key frame while the head held: on the carried frame
    the key frame's change at the mouth moves down with them (:func:`carry_plan`), and away from
    the mouth it stays where the head's motion puts it."""
    from faceedit.video.reuse import Key, KeyFace, Plan, carry_plan

    frames, tracks = grid
    face = tracks[5][0].face
    lm = np.asarray(face.landmarks, np.float64)
    before = frames[5]
    mouth = lm[48:68]
    x0, y0 = (mouth.min(0) - 6).astype(int)
    x1, y1 = (mouth.max(0) + 6).astype(int)
    after = before.copy()
    after[y0 + 2:y1, x0:x1] = before[y0:y1 - 2, x0:x1]  # the mouth's pixels 2 px down
    change = np.zeros(before.shape, np.float32)
    rows = np.arange(before.shape[0], dtype=np.float32)[:, None, None]
    lips = float(lm[[62, 66], 1].mean())
    change[:] = 40 * np.exp(-0.5 * ((rows - lips) / 1.5) ** 2)  # a band along the lips, the whole width
    key = Key(0, before, [KeyFace(0, 0, lm, lm, None)])
    key.parts = [((0, 0, before.shape[1], before.shape[0]), change)]
    out = carry_plan(Plan(key, [np.eye(2, 3)]), after).astype(np.float64) - after

    def centre(col: int) -> float:
        band = out[:, col].mean(-1)
        lo = int(lips) - 8
        seg = band[lo:lo + 17].clip(0, None)
        return lo + float((seg * np.arange(17)).sum() / seg.sum())

    middle = int(mouth[:, 0].mean())
    assert abs(centre(middle) - (lips + 2)) < 0.6, (centre(middle), lips)
    assert abs(centre(int(lm[0, 0]) + 2) - lips) < 0.3  # beside the face: the head's motion alone
    # a change whose part cuts the mouth's box to a strip a few pixels high (a crash in DIS's
    # pyramid unless the crop is squared): carried all the same
    y = int(lips) - 4
    key.parts = [((0, y, before.shape[1], y + 9), change[y:y + 9])]
    strip = carry_plan(Plan(key, [np.eye(2, 3)]), after)
    assert strip.shape == after.shape and np.array_equal(strip[:y], after[:y])
