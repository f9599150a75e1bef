"""How an open mouth's edges read at the photo's own pixels: the hardness of the cavity's lower
edge against the lower lip, the lower lip's inner margin, and the darkness at the opening's
corners, on edited held-out London faces at 1350 px, beside the same measures on the photo.

    OMP_NUM_THREADS=1 python bench/bench_mouth_edges.py [--data ../shared/data] [--ids 008,014,...]
        [--targets surprised,fearful] [--smiling] [--model stage] [--from DIR] [--save DIR] [--real]

Every figure is read with dlib's 68 points, detected again on the edit (independent of the
stage's Face Mesh), luma BT.601 over the median of the cheeks (:func:`bench_mouth_luma.cheek_mask`):

- ``edge``: along the middle 60 % of the lower inner lip (points 60, 67, 66, 65, 64), the
  luma's vertical profile over +-6 % of the corner distance ``wd`` about it, in each column;
  the steepest step between neighbouring pixels, its median over the columns (``grad``: over
  the cheeks' luma, per px) and over the profile's 5-95 % range (``sharp``, 1/px: 1 is a step
  from one pixel to the next, 0.25 a step spread over about four). The photo's own: the same on
  the photo's lower lip edge, its outer border (points 48, 59, 58, 57, 56, 55, 54) on a neutral
  photo and its inner edge against the teeth on a smile.
- ``margin``: the median luma of the lower lip's band ``max(2, 0.02 wd)`` px deep just below the
  cavity's edge (the steepest rise of luma down each column within +-6 % of ``wd`` of the lower
  inner lip), over the lower lip's (the middle third between inner and outer lip), middle 60 %
  of the width: the lip's inner margin, lit (near 1) or in shade.
- ``corner``: the darkest luma within 4 % of ``wd`` of each inner corner (points 60, 64), the
  darker of the two, over the darkest of the photo's own within the same reach of its inner
  corners (the lips' own dark where they meet): under 1 darker than the photo's corners.

- ``end angle``, ``end taper``: the form of the opening's two ends (:func:`end_form`): the
  dark region's full angle near each end and how it thins into the corner, beside real open
  mouths' with ``--real`` (JAFFE fear and surprise, GRID's talking frames).

A target ``aaa``, ``eee`` or ``woo`` is that control at 1 on the photo's own expression (``keep``).
Without ``--from`` each edit is made with :class:`faceedit.api.Editor` (``--save DIR`` keeps
them, ``NNN_FOLDER_TARGET.png``); with it, the edits are read from DIR under those names.
Printed per face, then the medians per target.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mouth_luma import cheek_mask, grid_frames, largest, luma  # noqa: E402

#: Targets read as ``--control NAME=1`` on the photo's own expression (``keep``).
VOWELS = ("aaa", "eee", "woo")
#: The opening's dark, for :func:`end_form`: luma under this share of the cheeks'.
END_DARK = 0.35


def _curve_y(lm: np.ndarray, idx, xs: np.ndarray) -> np.ndarray:
    pts = lm[list(idx)]
    order = np.argsort(pts[:, 0])
    return np.interp(xs, pts[order, 0], pts[order, 1])


def edge_measures(img: np.ndarray, lm: np.ndarray, idx) -> tuple[float, float]:
    """(grad, sharp) of the vertical luma profiles across the curve through ``lm[idx]``
    (middle 60 % of its width), as the module says."""
    y = luma(img)
    lm = np.asarray(lm, np.float64)
    cheek = max(float(np.median(y[cheek_mask(img.shape, lm)])), 1e-6)
    wd = float(np.linalg.norm(lm[64] - lm[60]))
    xa, xb = lm[idx[0], 0], lm[idx[-1], 0]
    xs = np.arange(round(xa + 0.2 * (xb - xa)), round(xb - 0.2 * (xb - xa)) + 1)
    yc = _curve_y(lm, idx, xs)
    r = max(3, round(0.06 * wd))
    grads, sharps = [], []
    for x, yy in zip(xs, yc):
        ys = np.arange(round(yy) - r, round(yy) + r + 1)
        if ys[0] < 0 or ys[-1] >= y.shape[0]:
            continue
        p = y[ys, int(x)]
        g = float(np.abs(np.diff(p)).max())
        span = float(np.subtract(*np.percentile(p, [95, 5])))
        grads.append(g / cheek)
        sharps.append(g / max(span, 1.0))
    return float(np.median(grads)), float(np.median(sharps))


def margin_ratio(img: np.ndarray, lm: np.ndarray) -> float:
    """The lower lip's inner band over its middle third: in each column of the middle 60 %, the
    steepest rise of luma down the profile over +-6 % of wd about the lower inner lip (the
    cavity's edge, wherever the detector put the curve) and the ``max(2, 0.02 wd)`` px below it."""
    y = luma(img)
    lm = np.asarray(lm, np.float64)
    wd = float(np.linalg.norm(lm[64] - lm[60]))
    xa, xb = lm[60, 0], lm[64, 0]
    xs = np.arange(round(xa + 0.2 * (xb - xa)), round(xb - 0.2 * (xb - xa)) + 1)
    yi = _curve_y(lm, (60, 67, 66, 65, 64), xs)
    yo = _curve_y(lm, (48, 59, 58, 57, 56, 55, 54), xs)
    r, d = max(3, round(0.06 * wd)), max(2, round(0.02 * wd))
    band, body = [], []
    for x, a, b in zip(xs, yi, yo):
        ys = np.arange(round(a) - r, round(a) + r + 1)
        if ys[0] < 0 or ys[-1] + d >= y.shape[0]:
            continue
        k = int(np.argmax(np.diff(y[ys, int(x)])))
        band += list(y[ys[k] + 1:ys[k] + 1 + d, int(x)])
        h = b - a
        body += list(y[round(a + h / 3):round(a + 2 * h / 3) + 1, int(x)])
    return float(np.median(band)) / max(float(np.median(body)), 1e-6) if band and body else float("nan")


def corner_dark(img: np.ndarray, lm: np.ndarray) -> float:
    """The darker of the darkest lumas within 4 % of wd of points 60 and 64 (raw luma 0-255)."""
    y = luma(img)
    lm = np.asarray(lm, np.float64)
    r = max(2, round(0.04 * float(np.linalg.norm(lm[64] - lm[60]))))
    yy, xx = np.mgrid[:y.shape[0], :y.shape[1]]
    out = []
    for k in (60, 64):
        cx, cy = lm[k]
        sl = np.s_[max(0, int(cy) - r - 1):int(cy) + r + 2, max(0, int(cx) - r - 1):int(cx) + r + 2]
        m = (xx[sl] - cx) ** 2 + (yy[sl] - cy) ** 2 <= r * r
        out.append(float(y[sl][m].min()))
    return min(out)


def end_form(img: np.ndarray, lm: np.ndarray) -> tuple[float, float]:
    """(angle, taper) of the opening's ends, the median of its two: the dark (luma under ``END_DARK``
    of the cheeks') region inside the outer lips (points 48-59) holding the inner lips' middle,
    read along the chord from point 60 to 64; ``L`` its length along the chord; ``h(f)`` its
    thickness across the chord ``f L`` in from an end (a band ``max(1, 0.02 L)`` px wide). angle:
    the full angle (degrees) of a wedge as thick at 0.1 L; taper: ``h(0.05) / h(0.2)`` (a straight
    wedge 0.25, a slit thinning tangent into the corner less, a round or blunt end more).
    (nan, nan) when no dark opening is found."""
    y = luma(img)
    lm = np.asarray(lm, np.float64)
    cheek = max(float(np.median(y[cheek_mask(img.shape, lm)])), 1e-6)
    lips = np.zeros(y.shape, np.uint8)
    cv2.fillPoly(lips, [np.round(lm[48:60]).astype(np.int32)], 1)
    dark = ((y / cheek < END_DARK) & (lips > 0)).astype(np.uint8)
    n, lab = cv2.connectedComponents(dark, connectivity=8)
    mid = np.round((lm[[61, 62, 63, 65, 66, 67]]).mean(0)).astype(int)
    r = max(1, round(0.03 * float(np.linalg.norm(lm[64] - lm[60]))))
    seen = lab[max(0, mid[1] - r):mid[1] + r + 1, max(0, mid[0] - r):mid[0] + r + 1]
    seen = seen[seen > 0]
    if n < 2 or seen.size == 0:
        return float("nan"), float("nan")
    pys, pxs = np.nonzero(lab == np.bincount(seen).argmax())
    e = lm[64] - lm[60]
    e = e / max(float(np.linalg.norm(e)), 1e-6)
    s = (pxs - lm[60, 0]) * e[0] + (pys - lm[60, 1]) * e[1]
    a, b = float(s.min()), float(s.max()) + 1.0
    length = b - a
    band = max(1.0, 0.02 * length)
    angles, tapers = [], []
    for end, sign in ((a, 1.0), (b, -1.0)):
        def thick(f: float) -> float:
            at = end + sign * f * length
            return float(np.count_nonzero(np.abs(s + 0.5 - at) < band / 2)) / band
        h05, h10, h20 = thick(0.05), thick(0.1), thick(0.2)
        angles.append(float(np.degrees(2 * np.arctan2(h10 / 2, 0.1 * length))))
        tapers.append(h05 / max(h20, 1e-6))
    return float(np.median(angles)), float(np.median(tapers))


def real_ends(data: Path, det, min_aspect: float) -> None:
    """:func:`end_form` of real open mouths (dlib's aspect, 68 points, at least ``min_aspect``):
    JAFFE's posed fear and surprise and GRID's talking faces (every 5th frame), each upscaled
    4x (cubic) so a pixel of their small mouths is no coarser than the edits' bands."""
    groups: dict[str, list[np.ndarray]] = {"JAFFE fear": [], "JAFFE surprise": []}
    for name, pat in (("JAFFE fear", "*.FE*.*"), ("JAFFE surprise", "*.SU*.*")):
        groups[name] = [np.asarray(Image.open(p).convert("RGB")) for p in sorted((data / "jaffe").glob(pat))]
    groups["GRID frames"] = list(grid_frames(data))
    for name, imgs in groups.items():
        rows = []
        for img in imgs:
            big = cv2.resize(img, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
            f = largest(det, big)
            if f is None:
                continue
            lm = np.asarray(f.landmarks, np.float64)
            wd = float(np.linalg.norm(lm[64] - lm[60]))
            if float(np.mean(np.linalg.norm(lm[[61, 62, 63]] - lm[[67, 66, 65]], axis=1))) < min_aspect * wd:
                continue
            rows.append((*end_form(big, lm), wd / 4))
        v = np.asarray(rows, np.float64).reshape(-1, 3)
        m = np.nanmedian(v, 0) if len(v) else [float("nan")] * 3
        print(f"real {name:>14} (n={len(v)}): end angle {m[0]:.1f} deg, taper {m[1]:.2f} "
              f"(inner corners {m[2]:.0f} px apart)", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--ids", default="008,014,019,022,061,083,094,096,097,099,114,126,131,136,137,142,144,173")
    ap.add_argument("--targets", default="surprised,fearful")
    ap.add_argument("--smiling", action="store_true")
    ap.add_argument("--model", default="stage")
    ap.add_argument("--from", dest="src", type=Path, default=None, help="read the edits from DIR")
    ap.add_argument("--save", type=Path, default=None)
    ap.add_argument("--real", action="store_true", help="first the ends of real open mouths (JAFFE, GRID)")
    ap.add_argument("--as-small", type=float, default=0.0,
                    help="read the ends on the edit shrunk until its inner corners are this many px apart, then 4x")
    ap.add_argument("--min-aspect", type=float, default=0.1, help="with --real: the least opening counted")
    a = ap.parse_args(argv)
    from faceedit.faces.detectors import get_detector

    det = get_detector("dlib")
    if a.real:
        real_ends(a.data, det, a.min_aspect)
    ed = None
    if a.src is None:
        from faceedit.api import Editor

        ed = Editor.from_pretrained(a.model, device="cpu")
    folder = "smiling" if a.smiling else "neutral"
    inner, outer = (60, 67, 66, 65, 64), (48, 59, 58, 57, 56, 55, 54)
    rows: dict[str, list[tuple[float, ...]]] = {}
    for i in [s.strip() for s in a.ids.split(",") if s.strip()]:
        img = np.asarray(Image.open(a.data / "london_hd" / folder / f"{i}.jpg").convert("RGB"))
        f0 = largest(det, img)
        own = edge_measures(img, f0.landmarks, inner if a.smiling else outer)
        own_corner = corner_dark(img, f0.landmarks)
        for t in [s.strip() for s in a.targets.split(",") if s.strip()]:
            name = f"{i}_{folder}_{t}.png"
            if a.src is not None:
                out = np.asarray(Image.open(a.src / name).convert("RGB"))
            else:
                assert ed is not None
                out = (ed.edit(img, "keep", controls={t: 1.0}, face="largest") if t in VOWELS
                       else ed.edit(img, t, face="largest"))
                if a.save:
                    a.save.mkdir(parents=True, exist_ok=True)
                    Image.fromarray(out).save(a.save / name)
            f = largest(det, out)
            grad, sharp = edge_measures(out, f.landmarks, inner)
            marg = margin_ratio(out, f.landmarks)
            corner = corner_dark(out, f.landmarks) / max(own_corner, 1.0)
            angle, taper = end_form(out, f.landmarks)
            if a.as_small:  # as small as the real ones, read as they are
                k = a.as_small / float(np.linalg.norm(f.landmarks[64] - f.landmarks[60]))
                small = cv2.resize(out, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
                big = cv2.resize(small, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
                angle, taper = end_form(big, np.asarray(f.landmarks, np.float64) * k * 4)
            rows.setdefault(t, []).append((grad, sharp, own[0], own[1], marg, corner, angle, taper))
            print(f"  {i} {folder} {t:>9}: edge grad {grad:.3f} sharp {sharp:.2f} (photo's {own[0]:.3f}, "
                  f"{own[1]:.2f}) margin {marg:.2f} corner {corner:.2f} end angle {angle:.1f} taper {taper:.2f}",
                  flush=True)
    print(f"\n| {folder} target | edge grad / cheek | sharp (1/px) | photo's grad | photo's sharp | margin / lip "
          "| corner dark / photo's | end angle (deg) | end taper |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t, v in rows.items():
        m = np.nanmedian(np.asarray(v, np.float64), 0)
        print(f"| {t} (n={len(v)}) | " + " | ".join(f"{x:.3f}" for x in m) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
