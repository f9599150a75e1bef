"""How dark an open mouth's inside is: the median luma inside the inner-lip opening over the
median luma of the cheeks, on edited held-out London faces at 1350 px and on real open mouths.

    OMP_NUM_THREADS=1 python bench/bench_mouth_luma.py --models stage,reggan,eggan,legan,lssl,secgan \\
        [--data ../shared/data] [--ids 008,014,...] [--targets surprised,fearful,aaa] [--crops DIR] [--real] [--profile]

The measure (:func:`mouth_ratio`), the same on every photo: the face is detected again, the
opening is the polygon of its inner lips eroded by 2 % of its corner distance (at least 1 px),
and the cheek is two discs of 0.12 eye distances, each half-way between an outer eye corner and
the mouth corner below it (68 points 36-48, 45-54); the ratio is the opening's median BT.601
luma over the cheeks'. An opening under 30 pixels (closed lips) reads nan. Two detectors read
the lips, each printed: Face Mesh (faceedit's detector; the opening is the mesh's inner-lip
loop, :data:`faceedit.stage.lips.MESH_INNER_UPPER` / ``MESH_INNER_LOWER``) and dlib's 68 points
(the polygon of 60-67), independent of the stage. On a thin opening showing upper teeth Face
Mesh puts the loop round the teeth (fearful edits: it reads the dark gap below them as lip).

For every held-out London id named (``london_hd/neutral/NNN.jpg``; default the split's 18) and
every model, each target (``surprised``, ``fearful``; ``aaa`` is ``--control aaa=1`` on the
neutral target) is edited through :class:`faceedit.api.Editor` (its default detector places the face the
stage moves; with ``detector="dlib"`` the landmarks, and so the edit, differ) and measured; printed per face,
then the median and range per model and target. ``--smiling`` edits the smiling photos instead.
``--real`` first measures real open mouths with the same function: JAFFE's posed surprise and
fear, Yale's surprised faces (greyscale: their luma is the photo) and GRID's talking faces
(every 5th frame), counting only openings at least ``--min-aspect`` tall (``--grid-aspect``
for GRID's talking mouths). ``--crops DIR`` writes each edit's mouth at the photo's own pixels
(``NNN_neutral_target_model.png``) and enlarged 3x by nearest neighbour (``..._3x.png``).
``--profile`` also prints the form inside dlib's opening (:func:`mouth_profile`: its luma over
the cheeks' in six bands from the upper inner lip down, the sides over the middle, the spread
and the fine grain), the median per real group and per model and target.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from faceedit.faces.landmarks import eye_distance
from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.cut_curves import opening_polygon, resample_by_length
from faceedit.stage.lips import MESH_INNER_LOWER, MESH_INNER_UPPER, opening_aspect

LUMA = np.asarray(LUMA_WEIGHTS, np.float64)


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64) if rgb.ndim == 2 else rgb[..., :3].astype(np.float64) @ LUMA


def opening_mask(shape, dense: np.ndarray) -> tuple[np.ndarray, float]:
    """(mask, aspect): the mesh's inner-lip polygon eroded by 2 % of its corner distance, and
    the opening's height over its corner distance."""
    d = np.asarray(dense, np.float64)[:, :2]
    up, lo = (resample_by_length(d[k], 41) for k in (MESH_INNER_UPPER, MESH_INNER_LOWER))
    aspect, wd = opening_aspect(up, lo)
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(opening_polygon(up, lo) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    r = max(1, round(0.02 * wd))
    m = cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return m > 0, float(aspect)


def cheek_mask(shape, lm: np.ndarray) -> np.ndarray:
    """Two discs of 0.12 eye distances half-way between each outer eye corner and the mouth
    corner below it."""
    lm = np.asarray(lm, np.float64)
    m = np.zeros(shape[:2], np.uint8)
    r = max(2, round(0.12 * eye_distance(lm)))
    for a, b in ((36, 48), (45, 54)):
        c = (lm[a] + lm[b]) / 2
        cv2.circle(m, (round(c[0]), round(c[1])), r, 1, -1)
    return m > 0


def dlib_opening_mask(shape, lm: np.ndarray) -> tuple[np.ndarray, float]:
    """(mask, aspect) as :func:`opening_mask` from dlib's inner-lip points (68 points 60-67)."""
    lm = np.asarray(lm, np.float64)
    up, lo = lm[[60, 61, 62, 63, 64]], lm[[60, 67, 66, 65, 64]]
    wd = float(np.linalg.norm(lm[64] - lm[60]))
    aspect = float(np.mean(np.linalg.norm(up[1:4] - lo[1:4], axis=1))) / max(wd, 1e-6)
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(lm[60:68] * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    r = max(1, round(0.02 * wd))
    m = cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return m > 0, aspect


def mouth_ratio(img: np.ndarray, face) -> tuple[float, float]:
    """(opening median luma / cheek median luma, opening aspect) of a detected face: the
    opening from its Face Mesh points, or from dlib's 68 where it has no mesh; (nan, aspect)
    when the opening holds fewer than 30 pixels."""
    if face is None:
        return float("nan"), float("nan")
    y = luma(img)
    if face.dense is not None:
        inside, aspect = opening_mask(img.shape, face.dense)
    else:
        inside, aspect = dlib_opening_mask(img.shape, face.landmarks)
    if inside.sum() < 30:
        return float("nan"), aspect
    cheek = float(np.median(y[cheek_mask(img.shape, face.landmarks)]))
    return float(np.median(y[inside])) / max(cheek, 1e-6), aspect


BANDS = 6


def mouth_profile(img: np.ndarray, lm: np.ndarray) -> dict | None:
    """The form inside a dlib opening (68 points 60-67, eroded as :func:`dlib_opening_mask`),
    over the cheeks' median luma: ``bands`` the median of :data:`BANDS` horizontal bands from the
    upper inner lip (v 0) to the lower (v 1) in the middle half of the mouth's width; ``sides``
    the median of the outer quarters over the middle half's (v 0.3-1); ``iqr`` and ``p90_p10``
    the interquartile and 10-90 % spreads of the whole opening; ``grain`` the median absolute
    difference of neighbouring pixels across the opening (fine texture); ``depth`` the median in five
    bins of the depth inside the whole polygon (its distance from the edge over the deepest
    point's: 0-0.2 the rims, 0.8-1 the middle). None under 30 pixels."""
    lm = np.asarray(lm, np.float64)
    inside, _ = dlib_opening_mask(img.shape, lm)
    if inside.sum() < 30:
        return None
    y = luma(img)
    cheek = max(float(np.median(y[cheek_mask(img.shape, lm)])), 1e-6)
    ys, xs = np.nonzero(inside)
    up, lo = lm[[60, 61, 62, 63, 64]], lm[[60, 67, 66, 65, 64]]
    yu = np.interp(xs, up[:, 0], up[:, 1])
    yl = np.interp(xs, lo[:, 0], lo[:, 1])
    v = (ys - yu) / np.maximum(yl - yu, 1.0)
    u = (xs - lm[60, 0]) / max(lm[64, 0] - lm[60, 0], 1.0)
    val = y[ys, xs] / cheek
    mid = (u > 0.25) & (u < 0.75)
    bands = []
    for b in range(BANDS):
        m = mid & (v >= b / BANDS) & (v < (b + 1) / BANDS)
        bands.append(float(np.median(val[m])) if m.sum() >= 3 else float("nan"))
    low = v > 0.3
    side, centre = val[low & ~mid], val[low & mid]
    dx = np.abs(np.diff(y, axis=1))[inside[:, 1:] & inside[:, :-1]] / cheek
    whole = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(whole, [np.round(lm[60:68] * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    dist = cv2.distanceTransform(whole, cv2.DIST_L2, 5)
    dn = dist / max(float(dist.max()), 1e-6)
    depth = [float(np.median(y[(whole > 0) & (dn > a) & (dn <= a + 0.2)]) / cheek)
             if ((whole > 0) & (dn > a) & (dn <= a + 0.2)).sum() >= 3 else float("nan") for a in (0.0, 0.2, 0.4, 0.6, 0.8)]
    return {"bands": np.asarray(bands), "depth": np.asarray(depth), "median": float(np.median(val)),
            "sides": float(np.median(side) / max(np.median(centre), 1e-6)) if len(side) > 3 and len(centre) > 3
            else float("nan"),
            "iqr": float(np.subtract(*np.percentile(val, [75, 25]))),
            "p90_p10": float(np.subtract(*np.percentile(val, [90, 10]))),
            "grain": float(np.median(dx)) if len(dx) else float("nan")}


def print_profiles(name: str, profs: list[dict]) -> None:
    """The medians over ``profs`` of :func:`mouth_profile`'s figures, one line."""
    if not profs:
        print(f"profile {name:>22}: -")
        return
    b = np.nanmedian(np.stack([p["bands"] for p in profs]), 0)
    dp = np.nanmedian(np.stack([p["depth"] for p in profs]), 0)
    med = {k: float(np.nanmedian([p[k] for p in profs])) for k in ("median", "sides", "iqr", "p90_p10", "grain")}
    print(f"profile {name:>22} (n={len(profs):2d}): bands " + " ".join(f"{x:.3f}" for x in b)
          + f" | median {med['median']:.3f} sides/centre {med['sides']:.2f} iqr {med['iqr']:.3f}"
          f" p90-p10 {med['p90_p10']:.3f} grain {med['grain']:.4f} | depth " + " ".join(f"{x:.3f}" for x in dp),
          flush=True)


def largest(det, img: np.ndarray):
    rgb = np.repeat(img[..., None], 3, -1) if img.ndim == 2 else img
    faces = det.detect(rgb)
    return max(faces, key=lambda f: f.area) if faces else None


def crop(img: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """The mouth at the photo's own pixels: 1.8 x 1.4 mouth widths around the lips."""
    lm = np.asarray(lm, np.float64)
    w = float(np.linalg.norm(lm[54] - lm[48]))
    c = lm[48:68].mean(0) + [0.0, 0.15 * w]
    x0, y0 = max(0, round(c[0] - 0.9 * w)), max(0, round(c[1] - 0.7 * w))
    return img[y0:round(c[1] + 0.7 * w), x0:round(c[0] + 0.9 * w)]


def summary(v) -> str:
    v = np.asarray([x for x in v if np.isfinite(x)], np.float64)
    return f"{np.median(v):.3f} ({v.min():.3f}-{v.max():.3f}, n={len(v)})" if len(v) else "-"


def grid_frames(data: Path, every: int = 5):
    """Every ``every``-th frame (RGB) of each GRID clip in ``data / "grid"``, clip by clip."""
    for p in sorted((data / "grid").glob("*.mpg")):
        cap = cv2.VideoCapture(str(p))
        k = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if k % every == 0:
                yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            k += 1
        cap.release()


def real_mouths(data: Path, detectors: dict, min_aspect: float, grid_aspect: float,
                profile: bool = False) -> None:
    """The ratio on real open mouths, per detector: JAFFE SU/FE, Yale surprised, GRID frames;
    with ``profile``, :func:`mouth_profile` of each group's openings (dlib)."""
    photos: list[tuple[str, np.ndarray, float]] = []
    for name, files in (("JAFFE surprise", sorted((data / "jaffe").glob("*.SU*.*"))),
                        ("JAFFE fear", sorted((data / "jaffe").glob("*.FE*.*"))),
                        ("Yale surprised", sorted((data / "yale").glob("*.surprised*")))):
        photos += [(name, np.asarray(Image.open(p).convert("L")), min_aspect) for p in files]
    photos += [("GRID frames", frame, grid_aspect) for frame in grid_frames(data)]
    for dname, det in detectors.items():
        groups: dict[str, list[float]] = {}
        profs: dict[str, list[dict]] = {}
        for name, img, least in photos:
            f = largest(det, img)
            r, aspect = mouth_ratio(img, f)
            groups.setdefault(name, [])
            if aspect >= least and np.isfinite(r):
                groups[name].append(r)
                pr = mouth_profile(img, f.landmarks) if profile and dname == "dlib" else None
                if pr is not None:
                    profs.setdefault(name, []).append(pr)
        for name, pv in profs.items():
            print_profiles(f"real {name}", pv)
        for name, v in groups.items():
            print(f"real {name:>15} ({dname}): {summary(v)}  quartiles "
                  + (f"{np.percentile(v, 25):.3f}-{np.percentile(v, 75):.3f}" if v else "-"))
        allv = [x for v in groups.values() for x in v]
        if not allv:
            raise SystemExit(f"{data}: no real open mouth found (jaffe/, yale/, grid/)")
        print(f"real {'all':>15} ({dname}): {summary(allv)}  quartiles "
              f"{np.percentile(allv, 25):.3f}-{np.percentile(allv, 75):.3f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--models", default="stage")
    ap.add_argument("--ids", default="", help="London ids (NNN); default the trainers' held-out split")
    ap.add_argument("--targets", default="surprised,fearful,aaa")
    ap.add_argument("--smiling", action="store_true", help="edit the smiling photos")
    ap.add_argument("--crops", type=Path, default=None)
    ap.add_argument("--real", action="store_true", help="also measure real open mouths")
    ap.add_argument("--min-aspect", type=float, default=0.25)
    ap.add_argument("--grid-aspect", type=float, default=0.15)
    ap.add_argument("--profile", action="store_true",
                    help="also print the form inside the dlib opening (mouth_profile)")
    a = ap.parse_args(argv)
    from faceedit.api import Editor
    from faceedit.faces.detectors import get_detector

    detectors = {"mesh": get_detector("mediapipe"), "dlib": get_detector("dlib")}
    if a.real:
        real_mouths(a.data, detectors, a.min_aspect, a.grid_aspect, a.profile)
    ids = [i.strip() for i in a.ids.split(",") if i.strip()]
    if not ids:  # the trainers' split (seed 0, 20 %), as bench/bench_mouth_edits.py reads it
        from faceedit.data import holdout_subjects

        files = sorted((a.data / "london_hd" / "neutral").glob("*.jpg"))
        ids = sorted(s.split("-")[1] for s in holdout_subjects({f"london-{p.stem}" for p in files}, 0.2, 0))
    targets = [t.strip() for t in a.targets.split(",") if t.strip()]
    if a.crops:
        a.crops.mkdir(parents=True, exist_ok=True)
    folder = "smiling" if a.smiling else "neutral"
    photos = {i: np.asarray(Image.open(a.data / "london_hd" / folder / f"{i}.jpg").convert("RGB")) for i in ids}
    table: list[tuple[str, ...]] = []
    for name in [m.strip() for m in a.models.split(",") if m.strip()]:
        ed = Editor.from_pretrained(name, device="cpu")
        per: dict[tuple[str, str], list[float]] = {(t, d): [] for t in targets for d in detectors}
        profs: dict[str, list[dict]] = {t: [] for t in targets}
        for i, img in photos.items():
            row = []
            for t in targets:
                out = (ed.edit(img, "neutral", controls={"aaa": 1.0}, face="largest") if t == "aaa"
                       else ed.edit(img, t, face="largest"))
                cells = []
                for dname, det in detectors.items():
                    f = largest(det, out)
                    r, aspect = mouth_ratio(out, f)
                    per[t, dname].append(r)
                    pr = mouth_profile(out, f.landmarks) if a.profile and dname == "dlib" and f is not None else None
                    if pr is not None:
                        profs[t].append(pr)
                    cells.append(f"{dname} {r:.3f} (aspect {aspect:.2f})")
                    if a.crops and f is not None and dname == "mesh":
                        c = crop(out, f.landmarks)
                        stem = a.crops / f"{i}_{folder}_{t}_{name}"
                        Image.fromarray(c).save(f"{stem}.png")
                        Image.fromarray(cv2.resize(c, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)).save(
                            f"{stem}_3x.png")
                row.append(f"{t} " + " ".join(cells))
            print(f"  {name:>7} {i}: " + ", ".join(row), flush=True)
        for t in targets:
            if a.profile:
                print_profiles(f"{name} {t}", profs[t])
            cells = []
            for dname in detectors:
                v = [x for x in per[t, dname] if np.isfinite(x)]
                cells += [summary(v), f"{np.mean([x <= 0.15 for x in v]):.0%}" if v else "-"]
            table.append((name, t, *cells))
        del ed
    print("\n| model | target | Face Mesh: inner-mouth / cheek luma, median (range, n) | at most 0.15 "
          "| dlib: the same | at most 0.15 |")
    print("|---|---|---|---|---|---|")
    for line in table:
        print("| " + " | ".join(line) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
