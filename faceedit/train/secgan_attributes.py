"""SeCGAN's attribute data (``faceedit train -m secgan --set task=attributes``): the photos behind
the prepared crops, their attribute labels read from the photos themselves, the stage's renders
of a changed attribute and the semantic masks with hair.

The prepared crops are cut from their source photos (``row["source"]``) by a similarity that the
index does not keep; :func:`find_matrix` finds it again (ORB features of the crop matched to the
photo, a RANSAC similarity): the stage's attribute edits need the head round the crop (the hair
matte's box is about five eye distances wide) and run at the photo's pixels, as at inference.
A row whose photo cannot be read or matched works on its crop as the photo.

Labels (no CelebA here: each is read off the photo; -1 where it cannot be):

* **hair** (black, brown, blond, red, grey): :func:`faceedit.faces.parsing.hair_colour` of the
  mean Lab of the hair matte's core (:func:`faceedit.stage.regions.hair_matte` over 0.6); -1 on
  grey photos and where less than :data:`MIN_HAIR_CORE` eye distances squared of hair is found.
* **skin** (pale, medium, tan): the median Lab lightness of the skin matte's core
  (:func:`faceedit.stage.regions.skin_matte` over 0.6) against the training photos' own: the
  lightest third pale, the darkest third tan; -1 on grey photos.
* **brows** (thin, medium, bushy): the brow band's :func:`faceedit.stage.brows.browness` summed
  over both brows, divided by the eye distance and the brows' length (their mean thickness in eye
  distances), times the brows' depth (skin luma less the brows' darkest, 0..1): thinnest third
  thin, thickest third bushy; grey photos too.
* **glasses**: Yale's own labels (its ``glasses`` / ``noglasses`` photos); London and JAFFE
  photos taken as False (their people are photographed without glasses in every photo seen
  here); Yale's other photos -1 (some of its people wear glasses in them).

One training example changes one attribute whose label is known to one of the stage's values
other than its own (:data:`STAGE_VALUES`); the stage renders it on the photo
(:func:`render`), and the render is cut with the crop's similarity.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from faceedit.conditions import BROW_STYLES, HAIR_COLOURS, SKIN_TONES
from faceedit.data import Dataset, holdout_subjects
from faceedit.faces.align import warp_crop
from faceedit.faces.landmarks import eye_distance
from faceedit.faces.parsing import CLASSES_HAIR, hair_colour, one_hot, parse_with_mattes
from faceedit.log import logger
from faceedit.models.stargan import BINARY_VALUES, AttributeSpace
from faceedit.pixels import levels_to_signed
from faceedit.stage import brows as stage_brows
from faceedit.stage.glasses import draw_glasses
from faceedit.stage.hair import recolour
from faceedit.stage.matting import unit
from faceedit.stage.regions import HeadRegions, hair_matte, skin_matte
from faceedit.stage.skin import retone
from faceedit.train.crops import CropSet, TrainData

#: The attributes and their classes (the critic's class head, the condition vector).
VALUES: dict[str, tuple[str, ...]] = {
    "hair": HAIR_COLOURS,
    "skin": ("pale", "medium", "tan"),
    "brows": ("thin", "medium", "bushy"),
    "glasses": tuple(BINARY_VALUES),
}
KEYS = tuple(VALUES)
#: The values the stage renders, per attribute (what a training example may be changed to).
STAGE_VALUES: dict[str, tuple[str, ...]] = {
    "hair": HAIR_COLOURS, "skin": SKIN_TONES, "brows": BROW_STYLES, "glasses": ("True",),
}
#: Less hair core than this (eye distances squared) has no colour label.
MIN_HAIR_CORE = 0.3
#: The frame styles a glasses example draws (one at random).
GLASSES_STYLES = ("rectangular", "round", "aviator", "rimless", "round-tortoise", "rectangular-gold")
#: The edits of a training run's sample sheets: per attribute value the stage's render, then the
#: network's output on it.
SAMPLE_EDITS = (("hair", "blond"), ("hair", "black"), ("skin", "pale"), ("skin", "tan"),
                ("brows", "bushy"), ("brows", "thin"), ("glasses", "True"))
#: Share of the ranked scores below which a photo is the low class (thin, tan), above 1 - it the high.
THIRD = 1.0 / 3.0


#: find_matrix: the matches that must agree, and how close (mean levels) the crop cut again must be.
MIN_INLIERS, RECUT_LEVELS = 15, 10.0


def attribute_space() -> AttributeSpace:
    return AttributeSpace(KEYS, tuple(VALUES[k] for k in KEYS), frozenset({"glasses"}))


def find_matrix(crop: np.ndarray, photo: np.ndarray) -> np.ndarray | None:
    """The similarity (2, 3) that cuts ``crop`` from ``photo`` (both (H, W, 3) uint8), from ORB
    features matched across them (RANSAC, 2 px), the photo tried at full, half and quarter size
    (ORB's pyramid spans less than a crop much smaller than its face), the one whose crop cut
    again is nearest the given one; None when none has :data:`MIN_INLIERS` matches agreeing and a
    crop cut again within :data:`RECUT_LEVELS` levels on average of the given one (a wrong match
    is off by 50 or more)."""
    patch = int(np.clip(min(crop.shape[:2]) // 4, 9, 31))  # ORB's default 31 px leaves a small crop no room
    orb = cv2.ORB.create(2000, edgeThreshold=patch, patchSize=patch)
    k1, d1 = orb.detectAndCompute(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), None)
    if d1 is None or len(k1) < 20:
        return None
    grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    best, best_err = None, RECUT_LEVELS
    for f in (1.0, 0.5, 0.25):
        small = grey if f == 1.0 else cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        k2, d2 = orb.detectAndCompute(small, None)
        if d2 is None or len(k2) < 20:
            continue
        matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(d1, d2)
        if len(matches) < MIN_INLIERS:
            continue
        p_crop = np.array([k1[m.queryIdx].pt for m in matches], np.float32)
        p_photo = np.array([k2[m.trainIdx].pt for m in matches], np.float32) / f
        m, inliers = cv2.estimateAffinePartial2D(p_photo, p_crop, method=cv2.RANSAC, ransacReprojThreshold=2.0)
        if m is None or inliers is None or int(inliers.sum()) < MIN_INLIERS:
            continue
        err = float(np.abs(warp_crop(photo, m, crop.shape[0], "replicate")[0].astype(np.float32) - crop).mean())
        if err <= best_err:
            best, best_err = m.astype(np.float64), err
    return best


@dataclass
class Photo:
    """A crop's source photo and what is found on it once: ``pixels`` (H, W, 3) uint8 RGB,
    ``landmarks`` (68, 2) in its pixels, ``matrix`` photo -> training crop, the hair matte
    (``regions``), and the brows' matte over the photo (``brows``, 0..1, or None)."""

    pixels: np.ndarray
    landmarks: np.ndarray
    matrix: np.ndarray
    grey: bool
    matched: bool = True
    regions: HeadRegions | None = None
    brows: np.ndarray | None = None
    scores: dict[str, float] = field(default_factory=dict)


def _read_photo(row: dict, size: int) -> Photo:
    """The photo behind ``row``'s crop, with its landmarks and its similarity to a ``size`` crop;
    the crop itself as the photo where the photo cannot be read or matched."""
    from PIL import Image

    with Image.open(Path(row["dataset"]) / row["file"]) as im:
        crop = np.asarray(im.convert("RGB"))
    lm_crop = np.asarray(row["landmarks"], np.float64).reshape(-1, 2)
    to_size = np.array([[size / crop.shape[1], 0, 0], [0, size / crop.shape[0], 0]], np.float64)
    src = row.get("source")
    m = None
    if src and Path(src).is_file():
        with Image.open(src) as im:
            photo = np.asarray(im.convert("RGB"))
        m = find_matrix(crop, photo)
    matched = m is not None
    if m is None:
        photo, m = crop, np.array([[1.0, 0, 0], [0, 1.0, 0]])
    inv = cv2.invertAffineTransform(m)
    lm = lm_crop @ inv[:, :2].T + inv[:, 2]
    full = np.vstack([to_size, [0, 0, 1]]) @ np.vstack([m, [0, 0, 1]])
    return Photo(photo, lm, full[:2], bool(row.get("grey")), matched)


def _brow_matte(pixels: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, float]:
    """Both brows' :func:`faceedit.stage.brows.browness` over the photo (0..1) and their score:
    mean thickness (eye distances) times depth (the skin's luma less the brow's darkest)."""
    d = eye_distance(lm)
    h, w = pixels.shape[:2]
    out = np.zeros((h, w), np.float32)
    score = 0.0
    for idx in (slice(17, 22), slice(22, 27)):
        brow = lm[idx]
        pad = 0.4 * d
        x0, y0 = (max(int(np.floor(v - pad)), 0) for v in brow.min(0))
        x1, y1 = (int(np.ceil(v + pad)) for v in brow.max(0))
        x1, y1 = min(x1, w), min(y1, h)
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        rgb = unit(pixels[y0:y1, x0:x1])
        b = stage_brows.browness(rgb, brow - [x0, y0], d)
        out[y0:y1, x0:x1] = np.maximum(out[y0:y1, x0:x1], b)
        length = float(np.linalg.norm(np.diff(brow, axis=0), axis=1).sum())
        y = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
        inside = b > 0.5
        depth = float(np.median(y[b < 0.05]) - np.percentile(y[inside], 5)) if inside.any() and (b < 0.05).any() else 0.0
        score += float(b.sum()) / max(d * length, 1.0) * max(depth, 0.0)
    return out, score / 2.0


def thirds(scores: np.ndarray, train: np.ndarray, key: str, low: str, high: str) -> np.ndarray:
    """Class indices of attribute ``key`` by ``scores`` (NaN: unknown, -1) against the training
    rows' (``train``, bool) thirds: the lowest third ``low``, the highest ``high``, else medium."""
    out = np.full(len(scores), -1, np.int64)
    known = np.isfinite(scores)
    if (known & train).sum() < 3:
        return out
    lo, hi = np.quantile(scores[known & train], [THIRD, 1.0 - THIRD])
    values = VALUES[key]
    out[known] = values.index("medium")
    out[known & (scores <= lo)] = values.index(low)
    out[known & (scores >= hi)] = values.index(high)
    return out


def photo_labels(photos: list[Photo], rows: list[dict], train: np.ndarray) -> dict[str, np.ndarray]:
    """Every row's class indices per attribute (module doc); the skin's and brows' thirds are
    those of the training rows (``train``: bool per row)."""
    n = len(photos)
    hair = np.full(n, -1, np.int64)
    skin_l = np.full(n, np.nan)
    brow_s = np.array([p.scores.get("brows", np.nan) for p in photos])
    for i, p in enumerate(photos):
        if p.grey or p.regions is None:
            continue
        core = p.regions.hair > 0.6
        d = eye_distance(p.landmarks)
        x0, y0, x1, y1 = p.regions.work.box
        lab = cv2.cvtColor(unit(p.pixels[y0:y1, x0:x1]), cv2.COLOR_RGB2Lab)
        if core.sum() >= MIN_HAIR_CORE * d * d:
            hair[i] = HAIR_COLOURS.index(hair_colour(lab[core].mean(0)))
        sk = skin_matte(p.pixels, p.landmarks, p.regions) > 0.6
        if sk.sum() >= 0.1 * d * d:
            skin_l[i] = float(np.median(lab[..., 0][sk]))
        p.scores["skin"] = float(skin_l[i])
    labels = {"hair": hair, "skin": thirds(skin_l, train, "skin", "tan", "pale"),
              "brows": thirds(brow_s, train, "brows", "thin", "bushy")}
    glasses = np.full(n, -1, np.int64)
    for i, r in enumerate(rows):
        g = r["labels"].get("glasses")
        if g is not None:
            glasses[i] = int(str(g) == "True")
        elif not str(r["subject"]).startswith("yale-"):
            glasses[i] = 0
    labels["glasses"] = glasses
    return labels


def render(photo: Photo, key: str, value: str, rng: np.random.Generator) -> np.ndarray:
    """The photo's pixels with the stage's edit of attribute ``key`` to ``value``."""
    px, lm = photo.pixels, photo.landmarks
    if key == "hair":
        return recolour(px, lm, value, regions=photo.regions)
    if key == "skin":
        return retone(px, lm, value, regions=photo.regions)
    if key == "brows":
        return stage_brows.restyle(px, lm, value)
    if key == "glasses":
        return draw_glasses(px, lm, str(rng.choice(GLASSES_STYLES)))
    raise ValueError(f"no stage render for attribute {key!r}")


def cut(photo: Photo, pixels: np.ndarray, size: int) -> np.ndarray:
    """The training crop (size, size, 3) uint8 of ``pixels`` (the photo, or a render of it); a
    grey photo's render grey too (BT.601 luma), as a real grey photo of it would be."""
    crop = warp_crop(pixels, photo.matrix, size, "replicate")[0]
    if photo.grey:
        crop = np.repeat(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    return crop


def cut_matte(photo: Photo, matte: np.ndarray, size: int) -> np.ndarray:
    return cv2.warpAffine(matte.astype(np.float32), photo.matrix, (size, size), flags=cv2.INTER_LINEAR)


@dataclass
class AttributeData(TrainData):
    """:class:`TrainData` of the attribute task: ``photos`` (training rows, then held-out rows, in
    the batches' ``index`` order) and ``masks`` (N, size, size) uint8 label maps over
    :data:`faceedit.faces.parsing.CLASSES_HAIR`."""

    photos: list[Photo] = field(default_factory=list)
    masks: torch.Tensor | None = None

    def staged(self, index: torch.Tensor, labels: dict[str, torch.Tensor], rng: np.random.Generator
               ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """For each row of a batch one attribute changed by the stage: the labels the edit
        should show (the source's with that attribute's class replaced) and the stage's render
        as crops (B, 3, S, S) in [-1, 1]. A row with no attribute to change is its crop."""
        eff = {k: v.clone() for k, v in labels.items()}
        crops = []
        for b, i in enumerate(index.tolist()):
            photo = self.photos[i]
            options = [(k, v) for k in KEYS for v in STAGE_VALUES[k]
                       if int(labels[k][b]) >= 0 and VALUES[k][int(labels[k][b])] != v
                       and (k not in ("hair", "skin") or photo.regions is not None)]
            if not options:
                crops.append(cut(photo, photo.pixels, self.size))
                continue
            k, v = options[int(rng.integers(len(options)))]
            eff[k][b] = VALUES[k].index(v)
            crops.append(cut(photo, render(photo, k, v, rng), self.size))
        x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).to(index.device)
        return eff, levels_to_signed(x)

    def rendered(self, index: torch.Tensor, labels: dict[str, torch.Tensor], key: str, value: str,
                 rng: np.random.Generator) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Every row's stage render of ``key`` set to ``value`` (a row whose label is unknown, or
        hair and skin on a grey photo: its crop) and the labels it should show."""
        eff = {k: v.clone() for k, v in labels.items()}
        crops = []
        for b, i in enumerate(index.tolist()):
            photo = self.photos[i]
            if int(labels[key][b]) < 0 or (key in ("hair", "skin") and photo.regions is None):
                crops.append(cut(photo, photo.pixels, self.size))
                continue
            eff[key][b] = VALUES[key].index(value)
            crops.append(cut(photo, render(photo, key, value, rng), self.size))
        x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).to(index.device)
        return eff, levels_to_signed(x)

    def mask_batch(self, index: torch.Tensor) -> torch.Tensor:
        """One-hot masks (B, len(CLASSES_HAIR), S, S) of the batch's rows."""
        assert self.masks is not None
        return one_hot(self.masks[index.cpu()], len(CLASSES_HAIR)).to(index.device)


def load_attribute_data(datasets: list[Dataset], size: int, holdout: float = 0.2, seed: int = 0) -> AttributeData:
    """The crops of ``datasets`` at ``size`` px, split by subject, with their photos, labels and
    masks (module doc)."""
    rows_train: list[dict] = []
    rows_held: list[dict] = []
    held_names: list[str] = []
    for d in datasets:
        held = holdout_subjects({r["subject"] for r in d.rows}, holdout, seed)
        held_names += sorted(held)
        for r in d.rows:
            (rows_held if r["subject"] in held else rows_train).append(r)
    rows = rows_train + rows_held
    photos: list[Photo] = []
    for r in rows:
        p = _read_photo(r, size)
        if not p.grey:
            try:
                p.regions = hair_matte(p.pixels, p.landmarks)
            except (cv2.error, ValueError) as e:  # GrabCut on a face with too little round it
                logger.warning("%s: no hair matte (%s)", r["file"], e)
        p.brows, p.scores["brows"] = _brow_matte(p.pixels, p.landmarks)
        photos.append(p)
    train = np.arange(len(rows)) < len(rows_train)
    labels = photo_labels(photos, rows, train)
    masks = []
    for p in photos:
        lm = p.landmarks @ p.matrix[:, :2].T + p.matrix[:, 2]
        hair = None
        if p.regions is not None:
            full = np.zeros(p.pixels.shape[:2], np.float32)
            x0, y0, x1, y1 = p.regions.work.box
            full[y0:y1, x0:x1] = p.regions.hair
            hair = cut_matte(p, full, size)
        brows = cut_matte(p, p.brows, size) if p.brows is not None else None
        masks.append(parse_with_mattes(lm, size, hair=hair, brows=brows))
    subjects = {s: i for i, s in enumerate(sorted({r["subject"] for r in rows}))}

    def crop_set(lo: int, hi: int) -> CropSet:
        part = photos[lo:hi]
        images = torch.from_numpy(np.stack([cut(p, p.pixels, size) for p in part])).permute(0, 3, 1, 2) \
            if part else torch.zeros(0, 3, size, size, dtype=torch.uint8)
        lm = torch.tensor(np.array([p.landmarks @ p.matrix[:, :2].T + p.matrix[:, 2] for p in part],
                                   np.float32).reshape(len(part), 68, 2))
        return CropSet(rows=rows[lo:hi], images=images.contiguous(),
                       labels={k: torch.from_numpy(labels[k][lo:hi]) for k in KEYS}, landmarks=lm,
                       grey=torch.tensor([p.grey for p in part]),
                       subjects=torch.tensor([subjects[r["subject"]] for r in rows[lo:hi]], dtype=torch.long))

    n = len(rows_train)
    tr, he = crop_set(0, n), crop_set(n, len(rows))
    he.offset = n
    counts = {k: {VALUES[k][c]: int((labels[k][:n] == c).sum()) for c in range(len(VALUES[k]))} for k in KEYS}
    logger.info("SeCGAN attributes: %d training, %d held-out crops (%d cut from their photos, the rest "
                "worked on as crops); labels of the training crops: %s",
                n, len(rows) - n, sum(p.matched for p in photos), json.dumps(counts))
    vocab = {k: list(VALUES[k]) for k in KEYS}
    data = AttributeData(datasets, size, 3, vocab, tr, he, held_names, photos=photos,
                         masks=torch.from_numpy(np.stack(masks)))
    return data
