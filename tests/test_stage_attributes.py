"""Hair colour, skin tone and brows painted by the stage (faceedit/stage/hair.py, skin.py,
brows.py over the regions of faceedit/stage/regions.py): the hair matte never takes the face's
skin, blond lifts the astronaut's brown hair and black darkens a light head, pale lifts the
cheeks and leaves the hair, bushy darkens the brows, zero strength is bit-exact, and unknown
values name the option and the valid ones."""

from __future__ import annotations

import numpy as np
import pytest
from _imgs import astronaut, astronaut_face
from conftest import SHARED_DATA
from test_cli_apply import face_photo, run

from faceedit.conditions import GLASSES_OFF_REFUSED, HAIR_COLOURS
from faceedit.edits.attributes import worded
from faceedit.errors import UsageError
from faceedit.eval.head import next_to_head, outside_head, psnr, strands_kept
from faceedit.faces.landmarks import eye_distance
from faceedit.models.request import EditRequest
from faceedit.stage.brows import restyle
from faceedit.stage.hair import recolour
from faceedit.stage.regions import hair_matte
from faceedit.stage.skin import retone

LUMA = np.array([0.299, 0.587, 0.114])


def _face():
    return astronaut(), np.asarray(astronaut_face().landmarks, np.float64)


def _skin_patches(lm: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(y0, y1, x0, x1) of both cheeks, the chin and the forehead just above the brows' middle."""
    d = eye_distance(lm)
    r = int(0.12 * d)
    centres = [lm[[2, 31, 41]].mean(0), lm[[14, 35, 46]].mean(0), lm[8] + [0, -0.25 * d], lm[27] + [0, -0.15 * d]]
    return [(int(c[1]) - r, int(c[1]) + r, int(c[0]) - r, int(c[0]) + r) for c in centres]


def _hair(img: np.ndarray, lm: np.ndarray, above: float = 0.9) -> np.ndarray:
    """The hair's core (matte over ``above``) as a photo-sized mask."""
    r = hair_matte(img, lm)
    out = np.zeros(img.shape[:2], bool)
    x0, y0, x1, y1 = r.work.box
    out[y0:y1, x0:x1] = r.hair > above
    return out


def _change(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(int) - b.astype(int)).max(-1)


@pytest.mark.parametrize("colour", HAIR_COLOURS)
def test_the_hair_matte_never_recolours_the_face_skin(colour):
    img, lm = _face()
    out = recolour(img, lm, colour)
    diff = _change(out, img)
    for y0, y1, x0, x1 in _skin_patches(lm):
        assert diff[y0:y1, x0:x1].max() < 3
    hair = _hair(img, lm)
    assert hair.sum() > 0.5 * eye_distance(lm) ** 2  # her hair is found ...
    assert diff[hair].mean() > 10  # ... and changed


def test_blond_lifts_brown_hair_and_black_darkens_light_hair():
    img, lm = _face()
    hair = _hair(img, lm)
    luma = img.astype(float) @ LUMA
    blond = recolour(img, lm, "blond")
    assert (blond.astype(float) @ LUMA)[hair].mean() >= luma[hair].mean() + 15
    black = recolour(blond, lm, "black")
    assert (black.astype(float) @ LUMA)[hair].mean() <= (blond.astype(float) @ LUMA)[hair].mean() - 30
    # the texture stays: the hair's own variation is still there, not a flat fill
    assert (blond.astype(float) @ LUMA)[hair].std() > 0.5 * luma[hair].std()


def test_pale_lifts_the_cheeks_and_leaves_the_hair_and_tan_darkens_them():
    img, lm = _face()
    hair = _hair(img, lm)
    luma = img.astype(float) @ LUMA
    for tone, sign in (("pale", 1), ("tan", -1)):
        out = retone(img, lm, tone)
        new = out.astype(float) @ LUMA
        for y0, y1, x0, x1 in _skin_patches(lm)[:2]:
            assert sign * (new[y0:y1, x0:x1].mean() - luma[y0:y1, x0:x1].mean()) > 8
        assert _change(out, img)[hair].mean() < 0.5
        assert np.percentile(_change(out, img)[hair], 99) < 3
        x0, x1 = int(lm[48, 0]) + 3, int(lm[54, 0]) - 3  # the upper lip's middle, corner to corner
        y = int(round((lm[51, 1] + lm[62, 1]) / 2))
        assert _change(out, img)[y - 1:y + 1, x0:x1].max() < 3


def test_bushy_darkens_the_brow_band_thin_lightens_it_and_the_cheeks_stay():
    img, lm = _face()
    d = eye_distance(lm)
    import cv2

    band = np.zeros(img.shape[:2], np.uint8)
    for brow in (lm[17:22], lm[22:27]):
        cv2.polylines(band, [np.round(brow).astype(np.int32)], False, 1, max(1, int(0.15 * d)))
    band = band > 0
    luma = img.astype(float) @ LUMA
    bushy = restyle(img, lm, "bushy")
    thin = restyle(img, lm, "thin")
    assert (bushy.astype(float) @ LUMA)[band].mean() < luma[band].mean() - 5
    assert (thin.astype(float) @ LUMA)[band].mean() > luma[band].mean() + 3
    for out in (bushy, thin):
        for y0, y1, x0, x1 in _skin_patches(lm)[:3]:
            assert _change(out, img)[y0:y1, x0:x1].max() == 0


def test_zero_strength_is_bit_exact_and_strength_scales():
    img, lm = _face()
    assert np.array_equal(recolour(img, lm, "blond", 0.0), img)
    assert np.array_equal(retone(img, lm, "pale", 0.0), img)
    assert np.array_equal(restyle(img, lm, "bushy", 0.0), img)
    hair = _hair(img, lm)
    full = _change(recolour(img, lm, "blond"), img)[hair].mean()
    half = _change(recolour(img, lm, "blond", 0.5), img)[hair].mean()
    assert 0.35 * full < half < 0.65 * full
    wide = img.astype(np.uint16) * 257
    out16 = recolour(wide, lm, "red")
    assert out16.dtype == np.uint16 and _change(out16, wide).max() > 20 * 257


def test_through_the_stage_with_an_expression_zero_is_bit_exact():
    from faceedit.models.loading import load_model

    try:
        stage = load_model("weights/stage.safetensors").model
    except Exception as e:  # noqa: BLE001 - the shipped weights are absent from a bare checkout
        pytest.skip(f"shipped stage weights: {e}")
    img, lm = _face()
    attrs = {"hair": "red", "skin": "tan", "brows": "bushy"}
    zero, _ = stage.edit_photo(img, [lm], EditRequest.of("happy", 0.0, attrs=attrs))
    assert np.array_equal(zero, img)
    both, _ = stage.edit_photo(img, [lm], EditRequest.of("happy", 1.0, attrs=attrs, light="50,0"))
    alone, _ = stage.edit_photo(img, [lm], EditRequest.of("happy", 1.0, light="50,0"))
    hair = _hair(img, lm)
    assert _change(both, alone)[hair].mean() > 10
    with pytest.raises(UsageError, match="hair=purple.*black, brown, blond, red, grey"):
        stage.edit_photo(img, [lm], EditRequest.of("keep", 1.0, attrs={"hair": "purple"}))


def test_values_are_request_words_and_unknown_ones_name_the_option_and_the_valid_values(tmp_path):
    assert EditRequest(attrs="hair=Blonde,skin=pale,brows=thin").attrs == {"hair": "blond", "skin": "pale",
                                                                           "brows": "thin"}
    for key, values in worded().items():
        with pytest.raises(UsageError, match=f"`attrs` {key}=purple: unknown value; valid: {', '.join(values)}"):
            EditRequest(attrs={key: "purple"})
    code, _, err = run("apply", "-m", "stage", "--attr", "skin=green", face_photo(tmp_path / "a.png", astronaut()),
                       "-o", tmp_path / "out")
    assert code == 2 and "skin=green" in err and "pale, tan" in err
    code, out, _ = run("models")
    assert code == 0 and "hair= takes black, brown, blond, red, grey" in " ".join(out.split())


@pytest.mark.parametrize("value", ["off", "0", "0.25"])
def test_glasses_off_is_refused_with_the_reason_before_anything_is_written(value, tmp_path):
    code, _, err = run("apply", "-m", "stage", "--attr", f"glasses={value}",
                       face_photo(tmp_path / "a.png", astronaut()), "-o", tmp_path / "out")
    words = " ".join(err.split())
    assert code == 2 and f"glasses={'off' if value == '0' else value}: {GLASSES_OFF_REFUSED}" in words
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_form_for_a_model_offers_each_attributes_words():
    from faceedit.models.options import model_options

    fields = {f["name"]: f for f in model_options("secgan").fields()}
    values = fields["attrs"]["values"]
    assert values["hair"] == list(HAIR_COLOURS) and values["skin"] == ["pale", "tan"]
    assert "off" not in values["glasses"] and "round" in values["glasses"]  # the stage refuses off


LONDON_HD = SHARED_DATA / "london_hd" / "neutral"


@pytest.mark.skipif(not (LONDON_HD / "021.jpg").exists(), reason="../shared/data/london_hd is absent")
@pytest.mark.parametrize("name", ["021", "037", "042"])
def test_ears_and_a_bald_scalp_are_not_hair(name):
    """London 021 and 037 are bald, 042 close-cropped: hair=blond leaves their ears (and bald
    scalps) as they are."""
    import cv2

    from faceedit.faces.detectors import get_detector

    img = cv2.cvtColor(cv2.imread(str(LONDON_HD / f"{name}.jpg")), cv2.COLOR_BGR2RGB)
    face = max(get_detector("mediapipe").detect(img), key=lambda f: f.area)
    lm = np.asarray(face.landmarks, np.float64)
    out = recolour(img, lm, "blond", mesh=face.dense)
    d = eye_distance(lm)
    changed = _change(out, img) > 10
    for side, ear in ((-1, lm[0:3].mean(0)), (1, lm[14:17].mean(0))):
        x = int(ear[0] + side * 0.25 * d)
        y0, y1 = int(lm[19, 1]), int(lm[33, 1])
        assert changed[y0:y1, min(x, x + side * int(0.3 * d)):max(x, x + side * int(0.3 * d))].mean() < 0.02
    if name != "042":
        assert changed.mean() < 0.001


@pytest.mark.skipif(not (LONDON_HD / "003.jpg").exists(), reason="../shared/data/london_hd is absent")
@pytest.mark.parametrize(("name", "part", "least", "most"), [
    ("003", "fringe", 0.9, 1.0),  # a dark fringe down to the brows (its colour reads as shaded skin)
    ("027", "lock", 0.75, 1.0),  # an ash lock swept over the forehead (its colour near the skin's)
    ("002", "fringe", 0.0, 0.05),  # bare foreheads: skin, left as it is
    ("011", "fringe", 0.0, 0.05),
])
def test_hair_over_the_forehead_is_recoloured_and_a_bare_forehead_is_not(name, part, least, most):
    """hair=blond on London neutrals: the share of pixels changed by over 10 levels in a band
    over the forehead: ``fringe`` from 0.6 to 0.1 eye distances above the brows' top, between
    points 19 and 24; ``lock`` from 0.9 to 0.4 above, from point 17 to the nose's bridge (27).
    Measured: 003 fringe 1.0 (0.37 when the matte read colour only), 027 lock 0.85 (0.60), 002
    and 011 0.001, 0.0."""
    import cv2

    from faceedit.faces.detectors import get_detector

    img = cv2.cvtColor(cv2.imread(str(LONDON_HD / f"{name}.jpg")), cv2.COLOR_BGR2RGB)
    face = max(get_detector("mediapipe").detect(img), key=lambda f: f.area)
    lm = np.asarray(face.landmarks, np.float64)
    d = eye_distance(lm)
    changed = _change(recolour(img, lm, "blond", mesh=face.dense), img) > 10
    top = float(lm[17:27, 1].min())
    if part == "fringe":
        band = changed[int(top - 0.6 * d):int(top - 0.1 * d), int(lm[19, 0]):int(lm[24, 0])]
    else:
        band = changed[int(top - 0.9 * d):int(top - 0.4 * d), int(lm[17, 0]):int(lm[27, 0])]
    assert least <= band.mean() <= most, band.mean()


def test_a_photos_hair_does_not_depend_on_what_was_edited_before():
    """GrabCut's random start is seeded: the same photo gets the same hair whatever ran first."""
    img, lm = _face()
    first = recolour(img, lm, "red")
    recolour(*_moved(img, lm, 10.0, (20.0, 5.0)), "blond")  # another matte found in between
    assert np.array_equal(recolour(img, lm, "red"), first)


def _moved(img: np.ndarray, lm: np.ndarray, angle: float, shift: tuple[float, float], scale: float = 1.0):
    import cv2

    from faceedit.faces.align import apply_affine

    m = cv2.getRotationMatrix2D(tuple(lm[27]), angle, scale)
    m[:, 2] += shift
    out = cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out, apply_affine(m, lm)


def test_a_head_carried_to_a_later_frame_lands_on_its_hair_and_keeps_its_colour():
    """A video track's head mattes (HeadLook), found on its first frame, moved onto a later frame
    whose head turned and moved: they cover the hair found on that frame itself, leave its skin
    alone, and the recoloured hair's mean colour stays that of the first frame."""
    from faceedit.stage.regions import head_look

    img, lm = _face()
    look = head_look(img, lm, None, None, skin=True)
    later, lm2 = _moved(img, lm, 4.0, (9.0, -6.0), 1.05)
    regions, area = look.on(lm2, later)
    assert area is not None and area.shape == regions.hair.shape
    own = hair_matte(later, lm2)
    assert regions.work.box == own.work.box
    carried, found = regions.hair > 0.5, own.hair > 0.5
    assert (carried & found).sum() / (carried | found).sum() > 0.85  # the same hair
    first = recolour(img, lm, "blond", regions=look.regions)
    again = recolour(later, lm2, "blond", regions=regions)
    for y0, y1, x0, x1 in _skin_patches(lm2):
        assert _change(again, later)[y0:y1, x0:x1].max() < 3
    x0, y0, x1, y1 = regions.work.box
    core = np.zeros(later.shape[:2], bool)
    core[y0:y1, x0:x1] = carried
    c0 = np.zeros(img.shape[:2], bool)
    ox0, oy0, ox1, oy1 = look.regions.work.box
    c0[oy0:oy1, ox0:ox1] = look.regions.hair > 0.5
    assert np.abs(first[c0].mean(0) - again[core].mean(0)).max() < 3  # the same blond


# -- what lies outside the head stays as it was ------------------------------------------------------
@pytest.mark.parametrize("tone", ["tan", "pale"])
def test_a_skin_tone_leaves_the_wall_beside_the_jaw_as_it_was(tone):
    # the astronaut's wall beside her jaw has her skin's colour: a skin matte that reaches the
    # ears' distance all round the face, or spreads there through the guided filter, tints it
    img, lm = _face()
    out = retone(img, lm, tone)
    assert psnr(img, out, outside_head(img, lm)) >= 40.0
    beside = next_to_head(img, lm)
    assert beside.sum() > 2 * eye_distance(lm) ** 2  # the wall beside head and neck is measured
    assert psnr(img, out, beside) >= 55.0
    assert (_change(out, img)[beside] > 4).mean() < 0.002
    cheeks = _skin_patches(lm)[:2]
    assert min(_change(out, img)[y0:y1, x0:x1].mean() for y0, y1, x0, x1 in cheeks) > 8  # the skin is toned


def test_blond_keeps_the_strands_light_and_dark_and_leaves_the_rest_of_the_photo():
    img, lm = _face()
    out = recolour(img, lm, "blond")
    assert psnr(img, out, outside_head(img, lm)) >= 40.0
    kept = strands_kept(img, out, _hair(img, lm))
    assert kept["change"] > 30  # blond: much lighter ...
    assert 0.8 <= kept["texture"] <= 1.6  # ... with the strands' detail, neither flattened nor etched
    assert kept["corr"] > 0.9 and kept["top"] > 0.8  # light and dark where they were, highlights on top


def test_a_skin_tone_leaves_a_white_shirt_under_pale_skin_as_it_was():
    # pale skin (the astronaut's chroma at 0.6) is near grey: a chroma model as wide as its own
    # takes a white shirt under the chin for skin (without the grey limit, a tan darkens a
    # quarter of it by up to 30 levels)
    import cv2

    img, lm = _face()
    d = eye_distance(lm)
    lab = cv2.cvtColor(img.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    lab[..., 1:] *= 0.6
    img = np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255 + 0.5, 0, 255).astype(np.uint8)
    shirt = np.zeros(img.shape[:2], bool)
    shirt[int(lm[8, 1] + 0.15 * d):, int(lm[2, 0] - d):int(lm[14, 0] + d)] = True
    shirt &= img.astype(float).mean(2) < 90  # her dark collar, below the chin
    img[shirt] = (236, 236, 234)
    out = retone(img, lm, "tan")
    assert (_change(out, img)[shirt] > 2).mean() < 0.01
    assert min(_change(out, img)[y0:y1, x0:x1].mean() for y0, y1, x0, x1 in _skin_patches(lm)[:2]) > 8


# -- skin only; the hair's strands kept (issue 53, item 4) ------------------------------------------
def _features(img: np.ndarray, lm: np.ndarray) -> dict[str, np.ndarray]:
    """The eyes' and lips' inner polygons (eroded 1 px) and a band along the brows, drawn from the
    68 points alone (not the painter's feature mask)."""
    import cv2

    h, w = img.shape[:2]
    out = {}
    for name, polys in (("eyes", [lm[36:42], lm[42:48]]), ("lips", [lm[48:60]])):
        m = np.zeros((h, w), np.uint8)
        cv2.fillPoly(m, [np.round(p).astype(np.int32) for p in polys], 1)
        out[name] = cv2.erode(m, np.ones((3, 3), np.uint8)) > 0
    m = np.zeros((h, w), np.uint8)
    for brow in (lm[17:22], lm[22:27]):
        cv2.polylines(m, [np.round(brow).astype(np.int32)], False, 1, max(1, int(round(0.05 * eye_distance(lm)))))
    out["brows"] = m > 0
    return out


def _high_pass_corr(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    """The correlation over ``where`` of two photos' luma less its 2-px blur (the strands)."""
    import cv2

    ya, yb = a.astype(np.float64) @ LUMA, b.astype(np.float64) @ LUMA
    ha, hb = ya - cv2.GaussianBlur(ya, (0, 0), 2.0), yb - cv2.GaussianBlur(yb, (0, 0), 2.0)
    return float(np.corrcoef(ha[where], hb[where])[0, 1])


def _new_white(img: np.ndarray, out: np.ndarray, near: np.ndarray) -> int:
    """Pixels of ``near`` the edit made white (every channel 245 or more, not so before)."""
    return int(((out >= 245).all(-1) & ~(img >= 245).all(-1) & near).sum())


@pytest.mark.parametrize("tone", ["tan", "pale"])
def test_a_skin_tone_changes_the_skin_only(tone):
    # the astronaut: nothing outside the head, eyes and lips as they were, the brows nearly
    img, lm = _face()
    out = retone(img, lm, tone)
    assert psnr(img, out, outside_head(img, lm)) >= 40.0
    kept = {name: psnr(img, out, m) for name, m in _features(img, lm).items()}
    assert kept["eyes"] >= 50.0 and kept["lips"] >= 50.0 and kept["brows"] >= 45.0, kept
    assert psnr(img, out, _hair(img, lm)) >= 40.0


@pytest.mark.parametrize("colour", HAIR_COLOURS)
def test_every_hair_colour_keeps_the_strands_and_leaves_the_rest(colour):
    # the strands' light and dark in their place (high-passed luma), the highlights the
    # brightest part, their contrast neither flattened nor etched, no pixel blown white
    img, lm = _face()
    out = recolour(img, lm, colour)
    assert psnr(img, out, outside_head(img, lm)) >= 40.0
    core = _hair(img, lm)
    assert _high_pass_corr(img, out, core) >= 0.85
    kept = strands_kept(img, out, core)
    assert kept["top"] >= 0.9 and 0.6 <= kept["texture"] <= 1.6, kept
    assert _new_white(img, out, _hair(img, lm, above=0.05)) == 0


@pytest.mark.skipif(not (LONDON_HD / "014.jpg").exists(), reason="../shared/data/london_hd is absent")
@pytest.mark.parametrize("colour", ["blond", "grey"])
def test_dark_hair_made_light_keeps_its_strands_and_no_white_fringe(colour):
    """London 014 (held out; dark wavy hair over a light wall, 1350 px): a light colour lifted
    the wall between the outer strands and the highlights to white (grey: 5153 pixels) and kept
    0.70-0.75 of the strands' high-passed light and dark in place."""
    import cv2

    from faceedit.faces.detectors import get_detector

    img = cv2.cvtColor(cv2.imread(str(LONDON_HD / "014.jpg")), cv2.COLOR_BGR2RGB)
    face = max(get_detector("mediapipe").detect(img), key=lambda f: f.area)
    lm = np.asarray(face.landmarks, np.float64)
    r = hair_matte(img, lm, face.dense)
    out = recolour(img, lm, colour, mesh=face.dense, regions=r)
    x0, y0, x1, y1 = r.work.box
    core, near = np.zeros(img.shape[:2], bool), np.zeros(img.shape[:2], bool)
    core[y0:y1, x0:x1], near[y0:y1, x0:x1] = r.hair > 0.9, r.hair > 0.05
    assert _new_white(img, out, near) == 0
    assert _high_pass_corr(img, out, core) >= 0.74
    assert psnr(img, out, outside_head(img, lm)) >= 40.0
