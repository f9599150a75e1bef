"""A beard's hair is not a laugh's shade: on a bearded face the steps that take a laugh away
(:func:`faceedit.stage.smile.flatten_cheeks`, :func:`faceedit.stage.corners.lift_corner_pockets`)
keep the moustache and the beard beside the mouth (:func:`faceedit.stage.beard.beard_hair`) and
take the laugh's smooth shade as on a shaven face; a face whose chin is stranded (a beard, grey or dark)
keeps its moustache's dark pixels, stranded or not (:func:`faceedit.stage.beard.moustache`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from faceedit.api import Editor
from faceedit.faces.landmarks import eye_distance
from faceedit.stage.beard import beard_hair, moustache
from faceedit.stage.corners import lift_corner_pockets
from faceedit.stage.smile import flatten_cheeks
from faceedit.stage.tuning import EditTuning


def _shaven(tn: EditTuning) -> EditTuning:
    """``tn`` with both of the chin's verdicts shaven (:meth:`faceedit.stage.beard.BeardReading.bearded`)."""
    return replace(_dark_only(tn), beard_chin=(0.0, 0.0))


def _dark_only(tn: EditTuning) -> EditTuning:
    """``tn`` reading a beard by its chin's darkness alone (no chin reads stranded)."""
    return replace(tn, beard_chin_strands=(1e9, 1e9 + 1.0))


@pytest.fixture(scope="module")
def mean_face() -> np.ndarray:
    stage = Editor.from_pretrained("stage", device="cpu").stage
    return stage._a("mean_shape").astype(np.float64) * 3.0 + 60.0


def _bearded(lm: np.ndarray, beard: bool, end: bool = False) -> np.ndarray:
    """Skin with pores; with ``beard``, a moustache (with ``end``, hanging down beside the left
    corner) and a chin's beard: hair at 0.55 of the skin's
    luma in vertical strands (+-35 levels, a pixel wide); beside the image's right mouth corner, on
    the skin, a laugh's smooth shade (30 levels deep, 0.06 eye distances across)."""
    ed = eye_distance(lm)
    h, w = int(lm[:, 1].max() + 80), int(lm[:, 0].max() + 80)
    rng = np.random.default_rng(2)
    img = np.full((h, w, 3), (200.0, 150.0, 130.0)) + rng.choice([-6.0, 6.0], size=(h, w, 1))
    if beard:  # a moustache over the upper lip and a beard on the chin
        strands = rng.choice([-35.0, 35.0], size=(1, w, 1)).repeat(h, 0) * (rng.random((h, 1, 1)) > 0.2)
        hair = np.zeros((h, w), bool)
        hair[int(lm[33, 1] + 0.03 * ed):int(lm[51, 1]), int(lm[48, 0]):int(lm[54, 0])] = True
        hair[int(lm[57, 1]):, int(lm[5, 0]):int(lm[11, 0])] = True
        if end:  # the moustache's end, hanging down beside the image's left corner
            hair[int(lm[33, 1] + 0.03 * ed):int(lm[48, 1] + 0.1 * ed), int(lm[48, 0] - 0.2 * ed):int(lm[48, 0])] = True
        img[hair] = 0.55 * img[hair] + strands[hair]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    cx, cy = lm[54] + (0.15 * ed, 0.0)
    img -= 30.0 * np.exp(-0.5 * ((xx - cx) ** 2 + (yy - cy) ** 2) / (0.06 * ed) ** 2)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def test_a_beards_hair_is_not_flattened_a_laughs_shade_on_it_is(mean_face):
    """On a bearded face (its chin darker than its upper cheeks) the hair of the moustache keeps its
    tone and strands where the flattening takes a laugh away (:func:`faceedit.stage.smile._beard`);
    a shaven verdict lightens it into skin. A laugh's smooth shade beside the corner is
    flattened on both; a face without a beard is flattened as before (the bytes)."""
    lm = mean_face
    ed = eye_distance(lm)
    tn = EditTuning(cheek_wing_close=0.0, rest_fold_reach=0.0)
    shaven = _shaven(tn)
    img = _bearded(lm, True)
    kept = flatten_cheeks(img, lm, 1.0, tn, around_mouth=True)
    lost = flatten_cheeks(img, lm, 1.0, shaven, around_mouth=True)
    # the moustache: between the nose's base and the upper lip
    y0, y1 = int(lm[33, 1] + 0.06 * ed), int(lm[51, 1] - 0.03 * ed)
    x0, x1 = int(lm[48, 0]), int(lm[54, 0])

    def tone(im):
        return float(im[y0:y1, x0:x1].astype(np.float64).mean())

    def strands(im):
        return float(np.abs(np.diff(im[y0:y1, x0:x1].astype(np.float64).mean(2), axis=1)).mean())

    assert tone(lost) > tone(img) + 8  # the shaven verdict lightens the hair (the premise)
    assert abs(tone(kept) - tone(img)) < 0.4 * (tone(lost) - tone(img))
    assert strands(kept) > 0.9 * strands(img)
    # the laugh's shade beside the corner: flattened on the bearded face as on the shaven verdict
    cx, cy = np.round(lm[54] + (0.15 * ed, 0.0)).astype(int)
    r = int(0.03 * ed)

    def shade(im):
        return float(im[cy - r:cy + r, cx - r:cx + r].astype(np.float64).mean())

    assert shade(kept) - shade(img) > 0.8 * (shade(lost) - shade(img)) > 5
    # no beard: the same bytes as a shaven verdict
    bare = _bearded(lm, False)
    assert np.array_equal(flatten_cheeks(bare, lm, 1.0, tn, around_mouth=True),
                          flatten_cheeks(bare, lm, 1.0, shaven, around_mouth=True))



def test_beard_hair_reads_the_moustache_not_the_shade(mean_face):
    lm = mean_face
    ed = eye_distance(lm)
    img = _bearded(lm, True)
    box = (0, 0, img.shape[1], img.shape[0])
    hair = beard_hair(img, lm, box, EditTuning())
    assert hair is not None and hair.shape == img.shape[:2]
    y0, y1 = int(lm[33, 1] + 0.06 * ed), int(lm[51, 1] - 0.03 * ed)
    assert np.median(hair[y0:y1, int(lm[48, 0]):int(lm[54, 0])]) > 0.6
    cx, cy = np.round(lm[54] + (0.15 * ed, 0.0)).astype(int)
    r = int(0.03 * ed)
    assert hair[cy - r:cy + r, cx - r:cx + r].max() < 0.1  # the smooth shade
    assert hair[int(lm[40, 1] + 0.2 * ed):int(lm[30, 1]), int(lm[36, 0]):int(lm[39, 0])].max() < 0.1  # the cheeks
    # a box beyond the photo reads zeros there, the same values inside
    wide = beard_hair(img, lm, (-10, -10, img.shape[1] + 10, img.shape[0] + 10), EditTuning())
    assert np.array_equal(wide[10:-10, 10:-10], hair) and not wide[:10].any()
    assert beard_hair(_bearded(lm, False), lm, box, EditTuning()) is None


def test_corner_pockets_keep_a_beards_hair(mean_face):
    """The moustache's end beside a corner stays; a shaven verdict paints it as a laugh's pocket."""
    lm = mean_face
    ed = eye_distance(lm)
    img = _bearded(lm, True, end=True)
    x, y = np.round(lm[48] - (0.1 * ed, 0.0)).astype(int)
    r = int(0.02 * ed)
    tn = EditTuning()

    def hair(tuning):
        return lambda box: beard_hair(img, lm, box, tuning)

    kept = lift_corner_pockets(img, lm, 1.0, hair=hair(tn))
    lost = lift_corner_pockets(img, lm, 1.0, hair=hair(_shaven(tn)))
    patch = (slice(y - r, y + r), slice(x - r, x + r))
    assert np.abs(lost[patch].astype(float) - img[patch]).mean() > 10  # painted (the premise)
    assert np.abs(kept[patch].astype(float) - img[patch]).mean() < 0.2 * np.abs(lost[patch].astype(float) - img[patch]).mean()
    assert np.array_equal(lost, lift_corner_pockets(img, lm, 1.0))


def test_the_flattening_keeps_no_hair_at_the_mouths_corners(mean_face):
    """Within ``beard_corner``'s first share of an eye distance of a corner the flattening takes what is
    dark as on a shaven face (a laugh's corner creases are dark and, on a small face, as fine as strands);
    beyond its second the hair stays. So too on a stranded chin: the moustache kept smooth or not
    (:func:`moustache`) lies above the corners."""
    lm = mean_face
    ed = eye_distance(lm)
    tn = EditTuning(cheek_wing_close=0.0, rest_fold_reach=0.0)
    img = _bearded(lm, True, end=True)
    kept = flatten_cheeks(img, lm, 1.0, _dark_only(tn), around_mouth=True).astype(float)
    lost = flatten_cheeks(img, lm, 1.0, _shaven(tn), around_mouth=True).astype(float)
    stranded = flatten_cheeks(img, lm, 1.0, tn, around_mouth=True).astype(float)
    r = max(int(0.02 * ed), 2)
    at = np.round(lm[48] - (0.06 * ed, 0.0)).astype(int)  # the hanging end beside the corner
    far = np.round(lm[48] - (0.17 * ed, 0.22 * ed)).astype(int)  # its top, 0.28 from the corner
    near_ = (slice(at[1] - r, at[1] + r), slice(at[0] - r, at[0] + r))
    far_ = (slice(far[1] - r, far[1] + r), slice(far[0] - r, far[0] + r))
    assert abs(lost[near_].mean() - img[near_].mean()) > 5  # the flattening reaches it (the premise)
    assert abs(kept[near_].mean() - lost[near_].mean()) < 1.0
    assert abs(kept[far_].mean() - img[far_].mean()) < 0.5 * abs(lost[far_].mean() - img[far_].mean())  # (0.41)
    # (1.3 of 21 levels: the moustache's ramp ends 0.05 eye distances above the corners)
    assert abs(stranded[near_].mean() - lost[near_].mean()) < 0.1 * abs(lost[near_].mean() - img[near_].mean())


def _grey_beard(lm: np.ndarray, chin: bool = True) -> np.ndarray:
    """Skin with pores; a grey beard on the chin (hair at 0.9 of the skin's luma in strands of +-45 levels: the
    chin as light as the dark verdict's ``beard_chin`` reads shaven, with ``chin``; else the chin smooth and
    dark, 0.6 of the skin, as a top light's shadow leaves it); a moustache as smooth as the skin and 0.6 of
    its luma (a dropped jaw stretched it) between the nose's base and the upper lip; beside the image's
    right corner, below it, a laugh's crease as dark (0.6 of the skin, 0.04 eye distances wide)."""
    ed = eye_distance(lm)
    h, w = int(lm[:, 1].max() + 80), int(lm[:, 0].max() + 80)
    rng = np.random.default_rng(4)
    img = np.full((h, w, 3), (200.0, 150.0, 130.0)) + rng.choice([-6.0, 6.0], size=(h, w, 1))
    beard = np.zeros((h, w), bool)
    beard[int(lm[57, 1]):, int(lm[5, 0]):int(lm[11, 0])] = True
    if chin:
        strands = rng.choice([-45.0, 45.0], size=(1, w, 1)).repeat(h, 0) * (rng.random((h, 1, 1)) > 0.2)
        img[beard] = 0.9 * img[beard] + strands[beard]
    else:
        img[beard] = 0.6 * np.array([200.0, 150.0, 130.0])
    top, low = int(lm[33, 1] + 0.03 * ed), int(lm[51, 1])
    img[top:low, int(lm[48, 0]):int(lm[54, 0])] = 0.6 * np.array([200.0, 150.0, 130.0])
    cx = int(lm[54, 0] + 0.2 * ed)
    img[int(lm[54, 1] + 0.05 * ed):int(lm[54, 1] + 0.3 * ed), cx - int(0.02 * ed):cx + int(0.02 * ed)] = \
        0.6 * np.array([200.0, 150.0, 130.0])
    return np.clip(img, 0, 255).astype(np.uint8)


def test_a_stranded_chin_keeps_a_smooth_moustache(mean_face):
    """A grey beard reads bearded by its chin's strands, not its darkness; its moustache, smooth as skin,
    keeps its tone where the flattening takes a laugh away (the dark verdict alone lightens
    it into skin). A smooth dark chin (a top light's shadow) does not read stranded: there is no beard
    below the nose, and the flattening is as before (the bytes)."""
    lm = mean_face
    ed = eye_distance(lm)
    tn = EditTuning(cheek_wing_close=0.0, rest_fold_reach=0.0)
    img = _grey_beard(lm)
    box = (0, 0, img.shape[1], img.shape[0])
    above = moustache(img, lm, box, tn)
    assert above is not None and above.shape == img.shape[:2]
    assert moustache(img, lm, box, _dark_only(tn)) is None
    y0, y1 = int(lm[33, 1] + 0.08 * ed), int(lm[51, 1] - 0.03 * ed)
    x0, x1 = int(lm[48, 0] + 0.05 * ed), int(lm[54, 0] - 0.05 * ed)
    assert float(np.median(above[y0:y1, x0:x1])) > 0.9
    assert float(above[:int(lm[31:36, 1].mean()), :].max()) == 0.0  # nothing above the nose's base
    assert float(above[int(lm[54, 1]):, :].max()) == 0.0  # nor below the corners: the laugh's crease there
    kept = flatten_cheeks(img, lm, 1.0, tn, around_mouth=True).astype(float)
    lost = flatten_cheeks(img, lm, 1.0, _dark_only(tn), around_mouth=True).astype(float)

    def tone(im):
        return float(im[y0:y1, x0:x1].mean())

    assert tone(lost) > tone(img) + 5  # the dark verdict alone lightens the moustache (the premise)
    assert abs(tone(kept) - tone(img)) < 0.3 * (tone(lost) - tone(img))
    shadow = _grey_beard(lm, chin=False)
    assert moustache(shadow, lm, box, tn) is None
    assert np.array_equal(flatten_cheeks(shadow, lm, 1.0, tn, around_mouth=True),
                          flatten_cheeks(shadow, lm, 1.0, _dark_only(tn), around_mouth=True))


def test_strands_are_hair_where_darker_than_the_skin(mean_face):
    """:func:`faceedit.stage.beard.hair_strands` on a face with smooth, retouched cheeks: a laugh's fold lines
    (thin, as light as the skin blurred) stranded against those cheeks are not hair; a moustache's strands,
    darker than the skin, are."""
    from faceedit.stage.beard import hair_strands

    lm = mean_face
    ed = eye_distance(lm)
    h, w = int(lm[:, 1].max() + 80), int(lm[:, 0].max() + 80)
    rng = np.random.default_rng(3)
    y = np.full((h, w), 200.0) + rng.normal(0.0, 0.5, (h, w))  # smooth skin
    # fold lines beside the image's right corner: 1-px dark lines 4 px apart, 25 levels deep
    fx0, fx1 = int(lm[54, 0] + 0.05 * ed), int(lm[54, 0] + 0.25 * ed)
    fy0, fy1 = int(lm[33, 1]), int(lm[54, 1] + 0.1 * ed)
    y[fy0:fy1, fx0:fx1:4] -= 25.0
    # a moustache's end beside the image's left corner: hair at 0.55 of the skin, strands +-35
    mx0, mx1 = int(lm[48, 0] - 0.25 * ed), int(lm[48, 0] - 0.05 * ed)
    strands = rng.choice([-35.0, 35.0], size=(1, mx1 - mx0)) * (rng.random((fy1 - fy0, 1)) > 0.2)
    y[fy0:fy1, mx0:mx1] = 0.55 * y[fy0:fy1, mx0:mx1] + strands
    img = np.clip(np.stack([y * 1.05, y, y * 0.9], -1), 0, 255).astype(np.uint8)
    box = (0, 0, w, h)
    tn = EditTuning()
    read = hair_strands(img, lm, box, tn)
    alone = hair_strands(img, lm, box, replace(tn, strand_dark=(10.0, 11.0)))  # strands only (no darkness)
    assert read is not None and alone is not None
    m = int(0.04 * ed)  # inside each patch, off its edges
    fold = (slice(fy0 + m, fy1 - m), slice(fx0 + m, fx1 - m))
    hair = (slice(fy0 + m, fy1 - m), slice(mx0 + m, mx1 - m))
    assert float(np.median(alone[fold])) > 0.9  # the premise: the lines read as strands
    assert float(np.median(read[fold])) < 0.1
    assert float(np.median(read[hair])) > 0.9
    # on a bearded face (its chin darker than its cheeks) light strands are hair too: a moustache's sparse ends
    chin = img.copy()
    chin[int(lm[57, 1] + 0.05 * ed):, int(lm[5, 0]):int(lm[11, 0])] = (chin[int(lm[57, 1] + 0.05 * ed):,
                                                                      int(lm[5, 0]):int(lm[11, 0])] * 0.6).astype(np.uint8)
    bearded = hair_strands(chin, lm, box, tn)
    assert bearded is not None and float(np.median(bearded[fold])) > 0.9
