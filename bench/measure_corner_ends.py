"""What a smile made surprised or fearful leaves at its mouth's corners, read again by dlib on
the edit and set against the same reading on the person's own neutral photo (London HD, 1350 px).

    OMP_NUM_THREADS=1 python bench/measure_corner_ends.py [--data ../shared/data] [--ids 008,...]
        [--train] [--targets surprised,aaa] [--neutral] [-v]

Each London id's smiling photo (``--neutral``: its neutral one) is edited through
:class:`faceedit.api.Editor` (``aaa`` is ``--control aaa=1`` on the neutral target: fearful's
open mouth) and dlib's 68 points are found again on the edit, on the neutral photo and on the
smiling one. Two readings per side (68 point 48, the image's left; 54, its right):

``pale``: the line where the lips meet at the corner. Along the edit's corner, from its outer
point (48 / 54) to its inner one (60 / 64), each place's darkest luma within 0.04 eye distances
across; their median over the cheeks' median luma (discs of 0.12 eye distances halfway between
each outer eye corner and the mouth corner below it). On the neutral photo the same over 0.08 eye
distances in from its outer corners along the lips' line. ``pale`` is the edit's less the
neutral's: above 0 the new corner is paler than the person's own (the lips do not meet in a
line there: the opening's end meets skin, or a pale fill lies between the lips' edges).

``red``: what the smile's corner leaves on the skin beside the new one. A band 0.06 eye distances
tall from the edit's outer corner outwards along the mouth, as far as the smile's own corner lay
(dlib on the smiling photo) and at least 0.06 eye distances: its median CIE a* (OpenCV's 8-bit
scale) less the cheeks'; the same band from the neutral photo's corners; ``red`` is the edit's
less the neutral's (the lips' red left on skin reads above 0).

Printed per face with ``-v``; then per target the medians over the faces of each side and of
the worse side, and how many sides are paler than the person's own by more than 0.10.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import HELD_OUT, HELD_OUT_CSV  # noqa: E402

LUMA = np.float32([0.299, 0.587, 0.114])


def cheeks(img: np.ndarray, lm: np.ndarray, plane: np.ndarray) -> list[float]:
    """The median of ``plane`` over each cheek disc of the face at ``lm`` (left, right)."""
    ed = float(np.linalg.norm(lm[36] - lm[45]))
    yy, xx = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    out = []
    for e, m in ((36, 48), (45, 54)):
        c = (lm[e] + lm[m]) / 2
        out.append(float(np.median(plane[np.hypot(xx - c[0], yy - c[1]) < 0.12 * ed])))
    return out


def line_darkest(grey: np.ndarray, p: np.ndarray, q: np.ndarray, ed: float) -> float:
    """The median over the way from ``p`` to ``q`` (a pixel apart) of each place's darkest luma
    within 0.04 eye distances ``ed`` across it."""
    length = max(float(np.linalg.norm(q - p)), 1e-6)
    d = (q - p) / length
    n = np.array([-d[1], d[0]])
    t = np.linspace(0.0, 1.0, max(int(length), 2))[:, None]
    h = 0.04 * ed
    off = np.linspace(-h, h, int(2 * h) + 1)
    pts = (p + t * (q - p))[:, None, :] + off[None, :, None] * n
    v = cv2.remap(grey, pts[..., 0].astype(np.float32), pts[..., 1].astype(np.float32), cv2.INTER_LINEAR)
    return float(np.median(v.min(1)))


def pale_sides(img: np.ndarray, lm: np.ndarray, along: float | None = None) -> list[float]:
    """Per side, the corner's line darkness over the cheek's (:func:`line_darkest`): from the outer
    corner to the inner one, or ``along`` eye distances in from the outer corner towards the inner
    one (a closed mouth's)."""
    grey = np.ascontiguousarray(img[..., :3].astype(np.float32) @ LUMA)
    ed = float(np.linalg.norm(lm[36] - lm[45]))
    cheek = cheeks(img, lm, grey)
    out = []
    for k, (o, i) in enumerate(((48, 60), (54, 64))):
        q = lm[i]
        if along is not None:
            q = lm[o] + along * ed * (lm[i] - lm[o]) / max(float(np.linalg.norm(lm[i] - lm[o])), 1e-6)
        out.append(line_darkest(grey, lm[o], q, ed) / cheek[k])
    return out


def red_sides(img: np.ndarray, lm: np.ndarray, lengths: list[float]) -> list[float]:
    """Per side, the median a* of the band beside the outer corner (``lengths`` px outwards, at
    least 0.06 eye distances; 0.06 tall) less the cheek's."""
    a = cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_RGB2LAB)[..., 1].astype(np.float32)
    ed = float(np.linalg.norm(lm[36] - lm[45]))
    cheek = cheeks(img, lm, a)
    u = (lm[54] - lm[48]) / max(float(np.linalg.norm(lm[54] - lm[48])), 1e-6)
    n = np.array([-u[1], u[0]])
    yy, xx = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    out = []
    for k, (c, sign) in enumerate(((48, -1.0), (54, 1.0))):
        p = lm[c]
        t = ((xx - p[0]) * u[0] + (yy - p[1]) * u[1]) * sign
        s = (xx - p[0]) * n[0] + (yy - p[1]) * n[1]
        band = (t > 0) & (t < max(lengths[k], 0.06 * ed)) & (np.abs(s) < 0.03 * ed)
        out.append(float(np.median(a[band])) - cheek[k])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--ids", default=HELD_OUT_CSV)
    ap.add_argument("--train", action="store_true", help="the London ids not held out instead of --ids")
    ap.add_argument("--targets", default="surprised,aaa")
    ap.add_argument("--neutral", action="store_true", help="edit the neutral photos")
    ap.add_argument("-v", action="store_true", help="print each face")
    a = ap.parse_args(argv)
    from faceedit.api import Editor
    from faceedit.faces.detectors import get_detector

    hd = a.data / "london_hd"
    ids = [s.strip() for s in a.ids.split(",") if s.strip()]
    if a.train:
        held = set(HELD_OUT)
        ids = sorted(p.stem for p in (hd / "smiling").glob("*.jpg") if p.stem not in held)
    det = get_detector("dlib")
    ed = Editor.from_pretrained("stage", device="cpu")

    def points(img: np.ndarray) -> np.ndarray | None:
        faces = det.detect(img)
        if not faces:
            return None
        return np.asarray(max(faces, key=lambda f: float(np.ptp(np.asarray(f.landmarks)[:, 0]))).landmarks, np.float64)

    targets = [t.strip() for t in a.targets.split(",") if t.strip()]
    rows: dict[str, list[tuple[list[float], list[float]]]] = {t: [] for t in targets}
    folder = "neutral" if a.neutral else "smiling"
    for i in ids:
        photo = np.asarray(Image.open(hd / folder / f"{i}.jpg").convert("RGB"))
        neutral = np.asarray(Image.open(hd / "neutral" / f"{i}.jpg").convert("RGB"))
        smile = photo if not a.neutral else np.asarray(Image.open(hd / "smiling" / f"{i}.jpg").convert("RGB"))
        n_lm, s_lm = points(neutral), points(smile)
        if n_lm is None or s_lm is None:
            continue
        truth_pale = pale_sides(neutral, n_lm, along=0.08)
        for t in targets:
            out = (ed.edit(photo, "neutral", controls={"aaa": 1.0}, face="largest") if t == "aaa"
                   else ed.edit(photo, t, face="largest"))
            e_lm = points(out)
            if e_lm is None:
                continue
            u = (e_lm[54] - e_lm[48]) / max(float(np.linalg.norm(e_lm[54] - e_lm[48])), 1e-6)
            lengths = [max(float((e_lm[48] - s_lm[48]) @ u), 0.0), max(float((s_lm[54] - e_lm[54]) @ u), 0.0)]
            pale = [e - n for e, n in zip(pale_sides(out, e_lm), truth_pale)]
            red = [e - n for e, n in zip(red_sides(out, e_lm, lengths), red_sides(neutral, n_lm, lengths))]
            rows[t].append((pale, red))
            if a.v:
                print(f"  {i} {folder} {t:>9}: pale L/R {pale[0]:+.3f} {pale[1]:+.3f}  "
                      f"red L/R {red[0]:+.1f} {red[1]:+.1f}", flush=True)
    print(f"\n| {folder} target (faces) | pale: per side, median | worse side, median | sides over 0.10 "
          "| red: per side, median | worse side, median |")
    print("|---|---|---|---|---|---|")
    for t, v in rows.items():
        if not v:
            continue
        pale = np.array([r[0] for r in v])
        red = np.array([r[1] for r in v])
        print(f"| {t} ({len(v)}) | {np.median(pale):+.3f} | {np.median(pale.max(1)):+.3f} | "
              f"{int((pale > 0.10).sum())} of {pale.size} | {np.median(red):+.1f} | {np.median(red.max(1)):+.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
