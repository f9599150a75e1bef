"""Closed eyes read again by an independent detector: dlib's 68 points' eye aspect on the edit.

    OMP_NUM_THREADS=1 python bench/bench_blink.py [--data ../shared/data/london_hd] [--ids 008,014,...]
        [--kinds neutral,smiling]
        [--edits "blink=1;blink=0.6;blink=0.3;wink_left=1;wink_right=1;t:wink;t:sleepy"] [--crops DIR]
        [--yale ../shared/data/yale] [--grid ../shared/data/grid] [--tone] [--texture] [--points DIR]

For each held-out London face at 1350 px (``../shared/data/london_hd/{neutral,smiling}/NNN.jpg``;
skipped where absent) each edit is made by the stage alone (:class:`faceedit.api.Editor`,
MediaPipe's detector with the Face Mesh): ``NAME=V`` a named control on the face's own
expression, ``t:TARGET`` a named target. dlib's 68 points are read on the photo and on the
edit; each eye's aspect is its height over its width from its 6 points ((|p2-p6| + |p3-p5|) /
(2 |p1-p4|)), and the edit's over the photo's is printed, the image's left eye first (a
closed eye reads below 0.5, an open one about 1). dlib's 68 points are one shape, fitted to
both eyes at once: an eye drawn closed beside an open one reads half-open, and the open one
narrower than it is (the same closed-eye pixels read 0.38 of the photo's beside a closed eye
and 0.72 beside an open one: the eye's pixels are identical in the two edits). So each eye is
also read by itself (``mirror``, :func:`eye_by_eye`): the face, its eye line levelled, split
at the middle of its inner eye corners and each half put beside its own mirror image, dlib's
aspect of that two-eyed face (the mean of its two eyes) over the photo's read the same way.
The last lines give, per edit and per reading, the median and largest ratio of the eyes it
closes and the smallest of the eyes it keeps open, and how many faces pass (closed below 0.5,
kept above 0.8).

``--yale DIR`` (``../shared/data/yale``) reads real posed winks and sleepy eyes the same way
first: each Yale subject's ``wink`` and ``sleepy`` photo against their ``normal`` one (the
closed eye is whichever reads narrower), what dlib reads on real photographs of the move. Read
plainly no real wink passes (15 subjects: the narrower eye's median 0.64 of the normal photo's,
the wider's 0.75), eye by eye 5 do (0.45 and 0.84): a wink is judged by the ``mirror`` line.

``--grid DIR`` (``../shared/data/grid``) reads real blinks the same way first: in each GRID
talking clip (``*.mpg``, 140-px faces) the frame whose eyes dlib reads narrowest, over the
clip's median (what dlib reads on a real closed eye).

``--tone`` reads each closed eye's light against the skin around it (:func:`lid_tone`): on
GRID's blink frames (with ``--grid``: every frame whose eyes dlib reads under 0.5 of the clip's
median), on Yale's posed winks (with ``--yale``: the closed eye, read eye by eye under 0.5 of
the subject's normal photo; grey, the colour columns 1) and on the edits' eyes they close (``blink=1``, the winks), on dlib's points of the
frame or edit itself; per edit the median and range of the closed lid's mean luma over the
skin's, and its colour against the skin's.

``--texture`` reads each closed lid's grain and blotchiness against the skin under the eye
(:func:`lid_texture`) on the edits' closed eyes (and GRID's blink frames, with ``--grid``; at
140 px their 1-3 px band is the clips' compression, not comparable), and the photo's open lid
and under-eye skin read the same way.

``--crops DIR`` writes each face's eyes, every edit under the photo, at the photo's own
pixels (``DIR/NNN_KIND.png``) and one eye enlarged 3x with nearest-neighbour
(``DIR/NNN_KIND_3x.png``: the image's left eye, the one ``wink_left`` leaves open, is the
right-hand eye of the pair; both eyes of each edit).

``--points DIR`` writes where dlib puts each eye's 6 points (:func:`pointed`), the photo's row
first and then each edit's, 3x with nearest-neighbour (``DIR/NNN_KIND_points.png``): per row the
image's left eye and its right read on the whole face, then each eye read by itself (its half of
the face beside its mirror image, :func:`halves`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from faceedit.api import Editor
from faceedit.faces.detectors import get_detector

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import HELD_OUT_CSV  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LONDON = ROOT.parent / "shared" / "data" / "london_hd"
EDITS = "blink=1;blink=0.6;blink=0.3;wink_left=1;wink_right=1;t:wink;t:sleepy"
#: Which eyes an edit closes (image left, image right): True closed, False kept open, None either.
CLOSES = {"blink=1": (True, True), "wink_left=1": (False, True), "wink_right=1": (True, False),
          "t:wink": (False, True)}
#: The two readings of an edit's eyes: dlib's shape of the whole face, and each eye by itself.
READINGS = ("plain", "mirror")


def aspect(lm: np.ndarray) -> np.ndarray:
    """(2,) each eye's height over its width from dlib's 6 points (image left eye first)."""
    out = []
    for first in (36, 42):
        p = lm[first:first + 6]
        out.append((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2 * np.linalg.norm(p[0] - p[3])))
    return np.array(out)


def halves(img: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The face's image-left half beside its own mirror image and its right half likewise, the
    eye line levelled (turned about the middle of the inner eye corners, 68-point 39 and 42;
    ``lm`` the photo's 68 points), each as wide as the nearer image edge allows."""
    left_eye, right_eye = lm[36:42].mean(0), lm[42:48].mean(0)
    c = (lm[39] + lm[42]) / 2
    angle = float(np.degrees(np.arctan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0])))
    turn = cv2.getRotationMatrix2D((float(c[0]), float(c[1])), angle, 1.0)
    level = cv2.warpAffine(img, turn, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT)
    cx = int(round(c[0]))
    w = min(cx, img.shape[1] - cx)
    left, right = level[:, cx - w:cx], level[:, cx:cx + w]
    return (np.ascontiguousarray(np.concatenate([left, left[:, ::-1]], 1)),
            np.ascontiguousarray(np.concatenate([right[:, ::-1], right], 1)))


def eye_by_eye(dlib, img: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """(2,) each eye's aspect read by itself: dlib's mean aspect of the two eyes of the face
    made of that eye's half and its mirror image (:func:`halves`; ``lm`` the photo's 68 points,
    so the photo and its edit are split at the same line); NaN where dlib finds no face."""
    out = []
    for half in halves(img, lm):
        found = dlib.detect(half)
        out.append(float(aspect(largest(found)).mean()) if found else np.nan)
    return np.array(out)


def largest(found) -> np.ndarray | None:
    """dlib's 68 points of the largest of the faces ``found``, or None."""
    return np.asarray(max(found, key=lambda f: f.area).landmarks, np.float64) if found else None


def edit(editor: Editor, img: np.ndarray, spec: str) -> np.ndarray:
    if spec.startswith("t:"):
        return editor.edit(img, spec[2:], face="largest")
    controls = {k: float(v) for k, v in (item.split("=") for item in spec.split(","))}
    return editor.edit(img, "keep", face="largest", controls=controls)


def crops(lm: np.ndarray, tiles: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(both eyes of every tile stacked, at the photo's pixels; both eyes 3x, side by side per
    tile, stacked)."""
    span = lm[45, 0] - lm[36, 0]
    x0, x1 = int(lm[36, 0] - 0.25 * span), int(lm[45, 0] + 0.25 * span)
    cy, half = int(lm[36:48, 1].mean() - 0.05 * span), int(0.2 * span)
    both = np.concatenate([t[cy - half:cy + half, x0:x1] for t in tiles], 0)
    eyes = []
    for t in tiles:
        pair = []
        for a, b in ((36, 39), (42, 45)):
            w = lm[b, 0] - lm[a, 0]
            ex0, ex1 = int(lm[a, 0] - 0.35 * w), int(lm[b, 0] + 0.35 * w)
            ey = int(lm[a:a + 6, 1].mean() - 0.1 * w)
            eh = int(0.45 * w)
            pair.append(cv2.resize(t[ey - eh:ey + eh, ex0:ex1], None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST))
        h = min(p.shape[0] for p in pair)
        eyes.append(np.concatenate([p[:h] for p in pair], 1))
    w = min(e.shape[1] for e in eyes)
    return both, np.concatenate([e[:, :w] for e in eyes], 0)


def pointed(dlib, img: np.ndarray, lm: np.ndarray, photo_lm: np.ndarray) -> np.ndarray:
    """One row of ``--points``: ``img``'s two eyes with ``lm`` (dlib's 68 points of ``img``)
    drawn, then each eye with the points dlib finds on it read by itself (:func:`halves` split
    at ``photo_lm``'s line), 3x nearest; a grey tile where dlib finds no face."""
    span = float(np.linalg.norm(photo_lm[39] - photo_lm[36]) + np.linalg.norm(photo_lm[45] - photo_lm[42])) / 2
    hw, hh = int(0.8 * span), int(0.4 * span)

    def tile(im: np.ndarray, pts: np.ndarray | None, first: int) -> np.ndarray:
        if pts is None:
            return np.full((6 * hh, 6 * hw, 3), 128, np.uint8)
        cx, cy = (int(round(v)) for v in pts[first:first + 6].mean(0))
        pad = cv2.copyMakeBorder(im, hh, hh, hw, hw, cv2.BORDER_REPLICATE)
        big = cv2.resize(pad[cy:cy + 2 * hh, cx:cx + 2 * hw], None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
        for p in pts[first:first + 6]:
            q = (int(round(3 * (p[0] - cx + hw) + 1)), int(round(3 * (p[1] - cy + hh) + 1)))
            cv2.circle(big, q, 3, (255, 0, 0), -1)
        return big

    left, right = halves(img, photo_lm)
    return np.concatenate([tile(img, lm, 36), tile(img, lm, 42), tile(left, largest(dlib.detect(left)), 36),
                           tile(right, largest(dlib.detect(right)), 42)], 1)


#: The eye's points in :func:`lid_tone`: its upper contour, its lower, its brow (image left first).
TONE_POINTS = (((36, 37, 38, 39), (36, 41, 40, 39), (17, 18, 19, 20, 21)),
               ((42, 43, 44, 45), (42, 47, 46, 45), (22, 23, 24, 25, 26)))


def eye_regions(shape: tuple[int, ...], lm: np.ndarray, closed: bool):
    """Per eye (image left first; ``lm`` 68 points on an image of ``shape``) the masks
    :func:`lid_tone` and :func:`lid_texture` read, and the eye's width ``w``: over the middle 60%
    of the eye, with ``D`` from the brow's points down to the lash line (``closed``: the middle of
    the eye's upper and lower contours; open: the upper contour), the lid ``0.08-0.35 D`` above
    the lash line (open: ``0.1-0.3 D``), the skin ``0.35-0.55 D`` below the brow and the skin
    ``0.12-0.32 w`` under the lower contour."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    for up, low, brow in TONE_POINTS:
        up, low, brow = lm[list(up)], lm[list(low)], lm[list(brow)]
        x0, x1 = up[0, 0], up[-1, 0]
        w = x1 - x0
        xs = np.clip(xx, x0, x1)
        upper, lower = np.interp(xs, up[:, 0], up[:, 1]), np.interp(xs, low[:, 0], low[:, 1])
        lash = (upper + lower) / 2 if closed else upper
        top = np.interp(xs, *brow[np.argsort(brow[:, 0])].T)
        d = lash - top
        mid = (xx > x0 + 0.2 * w) & (xx < x1 - 0.2 * w)
        lid = mid & ((yy > lash - 0.35 * d) & (yy < lash - 0.08 * d) if closed
                     else (yy > lash - 0.3 * d) & (yy < lash - 0.1 * d))
        above = mid & (yy > top + 0.35 * d) & (yy < top + 0.55 * d)
        under = mid & (yy > lower + 0.12 * w) & (yy < lower + 0.32 * w)
        yield lid, above, under, w


def lid_tone(img: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """(2, 6) per eye of a closed-eyed face (image left first; ``lm`` dlib's 68 points of
    ``img`` itself): the closed lid's mean luma over that of the skin above it, under the eye,
    and of the two (the means' mean); then the lid's colour (R, G, B over luma) over the skin's.
    The face is levelled on its eyes; over the middle 60% of each eye, with ``D`` from the brow's
    points down to the lash line (the middle of the eye's upper and lower contours, which meet
    on a closed eye) and ``w`` the eye's width: the lid is ``0.08-0.35 D`` above the lash line,
    the skin above it ``0.35-0.55 D`` below the brow (between the brow and the crease), under
    the eye ``0.12-0.32 w`` below the lower contour."""
    a, b = lm[36:42].mean(0), lm[42:48].mean(0)
    turn = cv2.getRotationMatrix2D((float((a[0] + b[0]) / 2), float((a[1] + b[1]) / 2)),
                                   float(np.degrees(np.arctan2(b[1] - a[1], b[0] - a[0]))), 1.0)
    img = cv2.warpAffine(img, turn, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT).astype(np.float64)
    lm = lm @ turn[:, :2].T + turn[:, 2]
    lum = img @ np.array([0.299, 0.587, 0.114])
    out = []
    for lid, above, under, _ in eye_regions(img.shape, lm, closed=True):
        if min(lid.sum(), above.sum(), under.sum()) < 4:
            out.append(np.full(6, np.nan))
            continue
        v, ab, un = lum[lid].mean(), lum[above].mean(), lum[under].mean()
        skin = above | under
        colour = (img[lid].mean(0) / v) / (img[skin].mean(0) / lum[skin].mean())
        out.append(np.array([v / ab, v / un, v / ((ab + un) / 2), *colour]))
    return np.array(out)


def lid_texture(img: np.ndarray, lm: np.ndarray, closed: bool) -> np.ndarray:
    """(2, 4) per eye (image left first; ``lm`` dlib's 68 points of ``img`` itself): the
    texture of the lid and of the skin under the eye, each as its grain (the robust spread of
    luma minus its 1 px blur) and its blotchiness (the spread of its 1 px blur minus its blur of
    0.03 of the eye's width: patches and rings a few px across, not the lid's shading), in % of
    its mean luma. The lid
    is :func:`lid_tone`'s (``closed``: 0.08-0.35 of the way from the lash line to the brow) or,
    on an open eye, the skin between the crease and the lashes (0.1-0.3 of the way up from the
    upper contour), the skin under the eye :func:`lid_tone`'s."""
    lum = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float64) if img.ndim == 3 else img.astype(np.float64)
    out = []
    for lid, _, under, w in eye_regions(img.shape, lm, closed):
        fine = cv2.GaussianBlur(lum, (0, 0), 1.0)
        grain, blotch = lum - fine, fine - cv2.GaussianBlur(lum, (0, 0), max(1.5, 0.03 * w))
        row = []
        for m in (lid, under):
            if m.sum() < 9:
                row += [np.nan, np.nan]
                continue
            g = grain[m]
            row += [100 * 1.4826 * np.median(np.abs(g - np.median(g))) / lum[m].mean(),
                    100 * blotch[m].std() / lum[m].mean()]
        out.append(row)
    return np.array(out)


def texture_line(name: str, t: list[np.ndarray]) -> None:
    """Print the medians of :func:`lid_texture`'s rows ``t``: the lid's grain and blotches, and
    each over the skin under the eye's."""
    r = np.array([row for rows in t for row in rows]).reshape(-1, 4)
    r = r[~np.isnan(r).any(1)]
    if len(r):
        m = np.median(r, 0)
        gr, br = np.median(r[:, 0] / r[:, 2]), np.median(r[:, 1] / r[:, 3])
        print(f"{name:24s} lid grain {m[0]:.2f} blotches {m[1]:.2f} (max {r[:, 1].max():.2f}); under the eye "
              f"{m[2]:.2f} {m[3]:.2f}; lid over under: grain {gr:.2f}, blotches {br:.2f} (max "
              f"{(r[:, 1] / r[:, 3]).max():.2f}); {len(r)} eyes")


def tone_line(name: str, t: list[np.ndarray]) -> None:
    """Print the median and range of :func:`lid_tone`'s rows ``t`` (closed eyes)."""
    r = np.array(t).reshape(-1, 6)
    r = r[~np.isnan(r).any(1)]
    if len(r):
        m = np.median(r, 0)
        print(f"{name:24s} lid over skin median {m[2]:.3f} ({r[:, 2].min():.3f}-{r[:, 2].max():.3f}), over the "
              f"skin above {m[0]:.3f}, under {m[1]:.3f}; colour R G B {m[3]:.3f} {m[4]:.3f} {m[5]:.3f}; {len(r)} eyes")


def real_moves(yale: Path, dlib, tone: bool = False) -> None:
    """Print dlib's eye aspect on Yale's posed winks and sleepy eyes over each subject's normal
    photo, both readings (plain, and each eye by itself: :func:`eye_by_eye`), the medians; with
    ``tone`` the winks' closed eye's light (:func:`lid_tone`, grey: its luma only) where it reads
    under 0.5 of the normal photo's, eye by eye."""
    rows: dict[tuple[str, str], list[np.ndarray]] = {(c, r): [] for c in ("wink", "sleepy") for r in READINGS}
    tones: list[np.ndarray] = []
    for s in range(1, 16):
        read = {}
        for cond in ("normal", "wink", "sleepy"):
            path = yale / f"subject{s:02d}.{cond}.png"
            grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) if path.exists() else None
            img = np.dstack([grey] * 3) if grey is not None else None
            found = dlib.detect(img) if img is not None else []
            if found and img is not None:
                lm = np.asarray(max(found, key=lambda f: f.area).landmarks, np.float64)
                read[cond] = {"plain": aspect(lm), "mirror": eye_by_eye(dlib, img, lm), "tone": lid_tone(img, lm)}
        for cond, reading in rows:
            if "normal" in read and cond in read:
                rows[cond, reading].append(np.sort(read[cond][reading] / read["normal"][reading]))
        if tone and "normal" in read and "wink" in read:
            r = read["wink"]["mirror"] / read["normal"]["mirror"]
            shut = int(np.nanargmin(r)) if not np.isnan(r).all() else -1
            if shut >= 0 and r[shut] < 0.5:
                tones.append(read["wink"]["tone"][[shut]])
                print(f"yale subject{s:02d} wink: eye {shut} at {r[shut]:.2f}, lid over skin {tones[-1][0, 2]:.3f}")
    for (cond, reading), got in rows.items():
        r = np.array(got)
        if len(r):
            print(f"yale {cond} ({reading}): {len(r)} subjects; narrower eye median {np.nanmedian(r[:, 0]):.2f}, "
                  f"wider eye median {np.nanmedian(r[:, 1]):.2f}; narrower < 0.5 and wider > 0.8 in "
                  f"{int(((r[:, 0] < 0.5) & (r[:, 1] > 0.8)).sum())}")
    if tone:
        tone_line("yale winks", tones)


def real_blinks(grid: Path, dlib, tone: bool = False, texture: bool = False) -> None:
    """Print, per GRID clip, dlib's eye aspect on its narrowest-eyed frame over the clip's
    median; with ``tone`` the closed lids' light (:func:`lid_tone`) on every frame whose eyes both
    read under 0.5 of it."""
    tones, textures = [], []
    for clip in sorted(grid.glob("*.mpg")):
        cap, read, frames = cv2.VideoCapture(str(clip)), [], []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            found = dlib.detect(rgb)
            if found:
                read.append(aspect(largest(found)))
                frames.append((rgb, largest(found)))
        if read:
            r = np.array(read) / np.median(read, 0)
            i = int(np.argmin(r.mean(1)))
            print(f"grid {clip.stem}: {len(r)} frames; narrowest {r[i, 0]:.2f} {r[i, 1]:.2f} (frame {i})")
            for j in np.where(r.max(1) < 0.5)[0] if tone or texture else []:
                if tone:
                    tones.append(lid_tone(*frames[j]))
                    print(f"  frame {j}: lid over skin {tones[-1][0, 2]:.3f} {tones[-1][1, 2]:.3f}")
                if texture:
                    textures.append(lid_texture(*frames[j], True))
    if tone:
        tone_line("grid blinks", tones)
    if texture:
        texture_line("grid blinks", textures)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=LONDON)
    ap.add_argument("--ids", default=HELD_OUT_CSV)
    ap.add_argument("--kinds", default="neutral,smiling")
    ap.add_argument("--edits", default=EDITS)
    ap.add_argument("--crops", type=Path, default=None)
    ap.add_argument("--yale", type=Path, default=None)
    ap.add_argument("--grid", type=Path, default=None)
    ap.add_argument("--points", type=Path, default=None, help="write dlib's eye points on 3x crops here")
    ap.add_argument("--tone", action="store_true", help="read the closed lids' light against the skin's")
    ap.add_argument("--texture", action="store_true", help="read the closed lids' grain and blotches (lid_texture)")
    args = ap.parse_args()
    editor = Editor.from_pretrained("stage", device="cpu")
    dlib = get_detector("dlib")
    if args.yale is not None:
        real_moves(args.yale, dlib, args.tone)
    if args.grid is not None:
        real_blinks(args.grid, dlib, args.tone, args.texture)
    specs = args.edits.split(";")
    ratios: dict[tuple[str, str], list[np.ndarray]] = {(s, r): [] for s in specs for r in READINGS}
    tones: dict[str, list[np.ndarray]] = {s: [] for s in specs}
    textures: dict[str, list[np.ndarray]] = {s: [] for s in ["photo", *specs]}
    for kind in args.kinds.split(","):
        for i in args.ids.split(","):
            path = args.data / kind / f"{i}.jpg"
            if not path.exists():
                print(f"{path}: absent, skipped")
                continue
            bgr = cv2.imread(str(path))
            if bgr is None:
                print(f"{path}: unreadable, skipped")
                continue
            img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            found = dlib.detect(img)
            if not found:
                print(f"{path}: dlib finds no face, skipped")
                continue
            lm = largest(found)
            own = {"plain": aspect(lm), "mirror": eye_by_eye(dlib, img, lm)}
            tiles, line = [img], []
            rows = [pointed(dlib, img, lm, lm)] if args.points else []
            if args.texture:
                textures["photo"].append(lid_texture(img, lm, False))
            for spec in specs:
                out = edit(editor, img, spec)
                again = dlib.detect(out)
                if again:
                    read = {"plain": aspect(largest(again)), "mirror": eye_by_eye(dlib, out, lm)}
                    r = {k: read[k] / own[k] for k in READINGS}
                    for k in READINGS:
                        ratios[spec, k].append(r[k])
                    tone = ""
                    if args.tone and spec in CLOSES:
                        t = lid_tone(out, largest(again))[[k for k in (0, 1) if CLOSES[spec][k]]]
                        tones[spec].append(t)
                        tone = "; lid tone " + " ".join(f"{v:.2f}" for v in t[:, 2])
                    if args.texture and spec in CLOSES:
                        t = lid_texture(out, largest(again), True)[[k for k in (0, 1) if CLOSES[spec][k]]]
                        textures[spec].append(t)
                        tone += "; grain/blotch " + " ".join(f"{v[0]:.2f}/{v[1]:.2f}" for v in t)
                    if args.points:
                        rows.append(pointed(dlib, out, largest(again), lm))
                    line.append(f"{spec} {r['plain'][0]:.2f} {r['plain'][1]:.2f} "
                                f"(mirror {r['mirror'][0]:.2f} {r['mirror'][1]:.2f}{tone})")
                else:
                    line.append(f"{spec} no face")
                tiles.append(out)
            if args.texture:
                line.insert(0, "photo lid grain/blotch " + " ".join(f"{v[0]:.2f}/{v[1]:.2f}" for v in textures["photo"][-1]))
            print(f"{kind}/{i}: " + " | ".join(line), flush=True)
            if args.points:
                args.points.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(args.points / f"{i}_{kind}_points.png"), cv2.cvtColor(np.concatenate(rows, 0),
                                                                                     cv2.COLOR_RGB2BGR))
            if args.crops:
                args.crops.mkdir(parents=True, exist_ok=True)
                both, big = crops(lm, tiles)
                cv2.imwrite(str(args.crops / f"{i}_{kind}.png"), cv2.cvtColor(both, cv2.COLOR_RGB2BGR))
                cv2.imwrite(str(args.crops / f"{i}_{kind}_3x.png"), cv2.cvtColor(big, cv2.COLOR_RGB2BGR))
    print("\nedit (reading): closed eyes median / max; open eyes min; faces passing (closed < 0.5, open > 0.8)")
    for spec in specs:
        for reading in READINGS:
            summary(spec, reading, np.array(ratios[spec, reading]).reshape(-1, 2))
    if args.tone:
        print("\nthe closed lids' light and colour against the skin around them (lid_tone)")
        for spec in specs:
            tone_line(spec, tones[spec])
    if args.texture:
        print("\nthe lids' texture, % of their luma (lid_texture): grain, blotches; over the skin under the eye")
        for spec, t in textures.items():
            texture_line(spec, t)


def summary(spec: str, reading: str, r: np.ndarray) -> None:
    """Print one edit's line of the summary from its ratios ``r`` ((faces, 2), image left eye first)."""
    if not len(r):
        return
    name = f"{spec} ({reading})"
    want = CLOSES.get(spec)
    if want is None:
        print(f"{name:24s} both eyes median {np.nanmedian(r):.2f} (min {np.nanmin(r):.2f}, "
              f"max {np.nanmax(r):.2f}), {len(r)} faces")
        return
    closed = r[:, [k for k in (0, 1) if want[k]]]
    kept = r[:, [k for k in (0, 1) if not want[k]]]
    ok = (closed < 0.5).all(1) & ((kept > 0.8).all(1) if kept.size else True)
    open_txt = f", open median {np.nanmedian(kept):.2f} min {np.nanmin(kept):.2f}" if kept.size else ""
    print(f"{name:24s} closed median {np.nanmedian(closed):.2f} max {np.nanmax(closed):.2f}{open_txt}; "
          f"{int(ok.sum())} of {len(r)} pass")

if __name__ == "__main__":
    main()
