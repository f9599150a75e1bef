"""A photo driven by a talking clip (:func:`faceedit.video.drive.drive_photo`), read again by dlib.

    OMP_NUM_THREADS=1 python bench/bench_drive.py [--driver ../shared/data/grid/bbaf2n.mpg]
        [--photo ../shared/data/london_hd/neutral/008.jpg] [--size 1350] [--neutral N] [--strip docs/drive_strip.jpg]

Drives the photo (at ``--size`` px, its native 1350 by default) by the clip with the stage alone,
against the clip's own rest (``--neutral N``: against its frame N), and prints:

* the output's frame count, frame rate and audio streams against the driver's;
* r of the inner-lip gap per frame (dlib's 68 points: the mean of the 61-67, 62-66, 63-65 gaps
  over the outer eye corners' distance), output against driver;
* r of the eye aspect per frame (dlib's: each eye's two lid distances over its width, both eyes'
  mean), output against driver, and whether the driver blinks (its narrowest frame under 0.75
  of its median);
* the share of output frames that keep the person: dlib's face descriptor (ResNet, 128-D) within
  0.6 of the photo's (dlib's own same-person limit), and the project's identity network's cosine
  at least :data:`faceedit.analysis.measure.MIN_IDENTITY` on the analysis crop;
* the seconds the drive took (one core) and frames per second.

``--strip PATH`` writes driver frames (top) over the driven photo's (bottom), face crops at the
frames where the driver's mouth is most open, most closed, and its eyes narrowest, and a few
between.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def frames(path: str) -> list[np.ndarray]:
    import av

    with av.open(path) as c:
        return [np.ascontiguousarray(f.to_ndarray(format="rgb24")) for f in c.decode(c.streams.video[0])]


def streams(path: str) -> dict:
    import av

    with av.open(path) as c:
        v = c.streams.video[0]
        return {"frames": sum(1 for _ in c.decode(v)), "rate": float(v.average_rate or v.guessed_rate),
                "audio": len(c.streams.audio)}


class Dlib:
    """dlib's HOG face, 68 points and face descriptor of the largest face of a frame."""

    def __init__(self) -> None:
        import dlib

        from faceedit.faces.detectors.dlib import SHAPE68, dlib_model

        self.find = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(str(dlib_model(SHAPE68)))
        self.net = dlib.face_recognition_model_v1(str(dlib_model("dlib_face_recognition_resnet_model_v1.dat")))

    def __call__(self, rgb: np.ndarray, describe: bool = False):
        boxes = self.find(rgb, 1)
        if not boxes:
            return None, None
        box = max(boxes, key=lambda b: b.area())
        shape = self.shape(rgb, box)
        lm = np.array([[p.x, p.y] for p in shape.parts()], np.float64)
        return lm, (np.array(self.net.compute_face_descriptor(rgb, shape)) if describe else None)


def lip_gap(lm: np.ndarray) -> float:
    gaps = [np.linalg.norm(lm[a] - lm[b]) for a, b in ((61, 67), (62, 66), (63, 65))]
    return float(np.mean(gaps) / np.linalg.norm(lm[45] - lm[36]))


def eye_aspect(lm: np.ndarray) -> float:
    out = []
    for e in (range(36, 42), range(42, 48)):
        p = lm[list(e)]
        out.append((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2 * np.linalg.norm(p[0] - p[3])))
    return float(np.mean(out))


def series(dl: Dlib, clip: list[np.ndarray], ref: np.ndarray | None = None):
    """Per frame: lip gap, eye aspect, descriptor distance to ``ref`` (NaN where dlib finds none)."""
    rows = []
    for rgb in clip:
        lm, desc = dl(rgb, describe=ref is not None)
        if lm is None:
            rows.append((np.nan, np.nan, np.nan))
            continue
        dist = float(np.linalg.norm(desc - ref)) if ref is not None and desc is not None else np.nan
        rows.append((lip_gap(lm), eye_aspect(lm), dist))
    return np.array(rows)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    ok = ~(np.isnan(a) | np.isnan(b))
    return float(np.corrcoef(a[ok], b[ok])[0, 1]) if ok.sum() > 2 else float("nan")


def project_identity(photo: np.ndarray, face, clip: list[np.ndarray]) -> np.ndarray:
    """The identity network's cosine of each frame's face (the photo's analysis crop, cut again
    from the frame) with the photo's."""
    from faceedit.analysis.measure import ANALYSIS_TEMPLATE, FaceReader, output_crop
    from faceedit.faces.align import align_face

    a = align_face(photo, face, ANALYSIS_TEMPLATE)
    crops = [[output_crop(f[:photo.shape[0], :photo.shape[1]], a.matrix, len(a.crop))] for f in clip]
    readings = FaceReader().read([a.crop], crops, [None] * len(crops))
    return np.array([r[0].identity for r in readings])


def face_box(lm: np.ndarray, shape: tuple[int, int], grow: float = 1.7) -> tuple[int, int, int]:
    """(x0, y0, side) of a square around landmarks ``lm``, ``grow`` times their span, in the frame."""
    c = (lm.min(0) + lm.max(0)) / 2
    side = int(min(max(np.ptp(lm, 0)) * grow, *shape[:2]))
    x0 = int(np.clip(c[0] - side / 2, 0, shape[1] - side))
    y0 = int(np.clip(c[1] - side / 2 - 0.1 * side, 0, shape[0] - side))
    return x0, y0, side


def strip(path: str, drv: list[np.ndarray], out: list[np.ndarray], picks: list[int], dl: Dlib, tile: int = 200) -> None:
    lm_d, _ = dl(drv[0])
    lm_o, _ = dl(out[0])
    rows = []
    for clip, lm in ((drv, lm_d), (out, lm_o)):
        x0, y0, side = face_box(lm, clip[0].shape)
        row = []
        for k in picks:
            crop = cv2.resize(clip[k][y0:y0 + side, x0:x0 + side], (tile, tile), interpolation=cv2.INTER_AREA)
            cv2.putText(crop, str(k), (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA)
            row.append(crop)
        rows.append(np.hstack(row))
    cv2.imwrite(path, cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--driver", default=str(DATA / "grid" / "bbaf2n.mpg"))
    ap.add_argument("--photo", default=str(DATA / "london_hd" / "neutral" / "008.jpg"))
    ap.add_argument("--size", type=int, default=1350, help="the photo's side, px (its own: 1350)")
    ap.add_argument("--neutral", type=int, default=None,
                    help="the driver's frame read as its rest (default: the clip's own rest, drive.rest_readings)")
    ap.add_argument("--out", default=None, help="keep the driven video here (default: a temporary file)")
    ap.add_argument("--strip", default=None)
    args = ap.parse_args()

    from faceedit.api import Editor
    from faceedit.video.drive import drive_photo, photo_face
    from faceedit.video.runner import default_tracker

    photo = cv2.cvtColor(cv2.imread(args.photo), cv2.COLOR_BGR2RGB)
    if photo.shape[0] != args.size:
        photo = cv2.resize(photo, (args.size * photo.shape[1] // photo.shape[0], args.size), interpolation=cv2.INTER_AREA)
    editor = Editor.from_pretrained("stage")
    tracker = default_tracker(editor)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or os.path.join(tmp, "driven.mp4")
        start = time.perf_counter()
        result = drive_photo(editor, photo, args.driver, out, neutral=args.neutral, tracker=tracker)
        took = time.perf_counter() - start
        got, want = streams(out), streams(args.driver)
        drv, outs = frames(args.driver), frames(out)
    dl = Dlib()
    lm, ref = dl(photo, describe=True)
    assert lm is not None and ref is not None, "dlib finds no face in the photo"
    d, o = series(dl, drv), series(dl, outs, ref)
    ident = project_identity(photo, photo_face(tracker, photo), outs)
    from faceedit.analysis.measure import MIN_IDENTITY

    blinks = bool(np.nanmin(d[:, 1]) < 0.75 * np.nanmedian(d[:, 1]))
    report = {
        "driver": os.path.basename(args.driver), "photo": os.path.basename(args.photo), "size": args.size,
        "rest": result.rest, "rest_frame": result.neutral,
        "frames": [got["frames"], want["frames"]], "rate": [got["rate"], want["rate"]],
        "audio_streams": [got["audio"], want["audio"]],
        "same_frames_rate_audio": got == want,
        "r_lip_gap": round(pearson(d[:, 0], o[:, 0]), 3),
        "r_eye_aspect": round(pearson(d[:, 1], o[:, 1]), 3), "driver_blinks": blinks,
        "dlib_found_output": int((~np.isnan(o[:, 0])).sum()),
        "kept_dlib_0.6": round(float(np.mean(np.nan_to_num(o[:, 2], nan=9.0) < 0.6)), 3),
        "dlib_distance_max": round(float(np.nanmax(o[:, 2])), 3),
        f"kept_identity_{MIN_IDENTITY}": round(float(np.mean(ident >= MIN_IDENTITY)), 3),
        "identity_min": round(float(ident.min()), 3),
        "seconds": round(took, 1), "fps": round(result.frames / took, 2),
    }
    print(json.dumps(report))
    if args.strip:
        gap, eye = np.nan_to_num(d[:, 0], nan=np.nanmedian(d[:, 0])), np.nan_to_num(d[:, 1], nan=9.0)
        keys = {0, int(gap.argmax()), int(eye.argmin()), int(gap[5:].argmin()) + 5}
        picks = sorted(keys | {int(k) for k in np.linspace(0, len(drv) - 1, 8)[1:-1]})[:8]
        strip(args.strip, drv, outs, picks, dl)
        print(f"strip: {args.strip} (frames {picks})")


if __name__ == "__main__":
    main()
