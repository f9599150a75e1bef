"""What a photo's mouth shows (faceedit.stage.lips): the interior found from colour, where its
upper teeth end, what a closed mouth's loop carries, the interior a closing mouth loses."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from _imgs import drawn_face
from conftest import SHARED_DATA

from faceedit.stage.cut_curves import opening_polygon
from faceedit.stage.lips import (
    MESH_INNER_LOWER,
    MESH_INNER_UPPER,
    crease_fragments,
    lip_in_interior,
    on_crease,
    widen_interior,
)
from faceedit.stage.side_teeth import upper_teeth_share


def test_widen_interior_moves_the_middle_apart_and_keeps_the_corners():
    """A closing mouth loses its interior with a margin: the curves move apart across the mouth
    by the given corner distances at the middle, not at all at the corners, on a tilted mouth
    as on a level one."""
    u = np.linspace(0.0, 1.0, 33)
    upper = np.c_[100 + 200 * u, 200 - 20 * np.sin(np.pi * u)]
    lower = np.c_[100 + 200 * u, 200 + 25 * np.sin(np.pi * u)]
    for angle in (0.0, 0.3):
        c, s = np.cos(angle), np.sin(angle)
        rot = np.array([[c, -s], [s, c]])
        up, lo = upper @ rot.T, lower @ rot.T
        wu, wl = widen_interior(up, lo, 0.01, 0.04)
        np.testing.assert_allclose(wu[[0, -1]], up[[0, -1]], atol=1e-9)
        np.testing.assert_allclose(wl[[0, -1]], lo[[0, -1]], atol=1e-9)
        down = np.array([-s, c])  # the mouth's own "down"
        assert np.isclose((wl[16] - lo[16]) @ down, 0.04 * 200)
        assert np.isclose((up[16] - wu[16]) @ down, 0.01 * 200)


def test_what_a_closed_mouths_loop_carries_that_is_lip_is_left_to_the_filler():
    """Closed lips' inner-lip loop encloses the crease and some lip: the lip-coloured part of
    the carried interior is handed to the filler (it drew a pink line across new openings); a
    dark inside, as a talking mouth shows, stays carried; nothing outside the interior counts."""
    pixels = np.zeros((60, 80, 3), np.uint8)
    pixels[:, :] = (200, 120, 130)  # lip
    pixels[30:, :] = (40, 30, 30)  # a dark opening below
    interior = np.zeros((40, 60), np.float32)
    interior[5:35, 10:50] = 1.0
    roi = (10, 10, 70, 50)
    lab = cv2.cvtColor(np.full((1, 1, 3), (200, 120, 130), np.uint8), cv2.COLOR_RGB2LAB)[0, 0]
    lip = lip_in_interior(pixels, roi, interior, float(lab[1]))
    assert lip[6:18, 11:49].min() > 0.99  # photo rows 16-27: lip
    assert lip[22:34, 11:49].max() < 0.01  # photo rows 32-43: the dark opening
    assert lip[interior == 0].max() == 0.0


def test_pieces_of_a_closed_mouths_crease_are_left_to_the_filler_and_a_band_stays():
    """Carried into a new opening, pieces of the dark crease between closed lips were blots on
    the filler's teeth: pieces narrower than a quarter of the mouth go to the filler, soft edges
    and all; a band across the mouth (a mouth the face opened itself) stays carried."""
    kept = np.zeros((40, 220), np.float32)
    kept[10:13, 20:60] = 1.0  # a piece 40 px wide: under a quarter of a 200-px mouth
    kept[9, 20:60] = 0.4  # its soft edge
    kept[20:22, 100:104] = 0.7  # a dot
    kept[30:34, 10:190] = 1.0  # a band of 180 px
    frag = crease_fragments(kept, 200.0)
    np.testing.assert_array_equal(frag[8:14, 15:65], kept[8:14, 15:65])
    np.testing.assert_array_equal(frag[20:22, 100:104], kept[20:22, 100:104])
    assert frag[28:36].max() == 0.0
    assert crease_fragments(kept, 100.0)[8:14].max() == 0.0  # 40 px of a 100-px mouth is a band
    assert not crease_fragments(np.zeros((5, 5), np.float32), 100.0).any()


def test_upper_teeth_share_finds_where_the_upper_teeth_end():
    """An interior whose top 60 % is teeth and the rest a strip of lower lip (as colour finds a
    smile's interior): the share is about 0.6 across the middle; a dark interior without teeth
    keeps 1 (everything carried, as before)."""
    lip = (168, 92, 90)
    x = np.linspace(140.0, 340.0, 33)
    bow = 30.0 * (1 - ((x - 240.0) / 100.0) ** 2)
    up = np.stack([x, 200.0 - bow], 1)
    lo = np.stack([x, 200.0 + bow], 1)
    img = drawn_face(lip=lip).astype(np.float64)
    cut = up + 0.6 * (lo - up)
    cv2.fillPoly(img, [np.round(opening_polygon(up, cut)).astype(np.int32)], (236, 232, 224))
    cv2.fillPoly(img, [np.round(opening_polygon(cut, lo)).astype(np.int32)], lip)
    img = np.clip(img, 0, 255).astype(np.uint8)
    share = upper_teeth_share(img, up, lo)
    assert share.shape == (33,)
    assert np.all(np.abs(share[8:25] - 0.6) <= 0.1), share.round(2)
    dark = drawn_face(lip=lip)
    cv2.fillPoly(dark, [np.round(opening_polygon(up, lo)).astype(np.int32)], (40, 25, 25))
    assert np.all(upper_teeth_share(dark, up, lo) == 1.0)


def _levelled_mouth():
    """A levelled crop (LEVEL_WIDTH px between the corners) of an open mouth: skin, red lips,
    white upper teeth over a dark cavity; its inner and outer lip curves."""
    from faceedit.stage.lips import LEVEL_WIDTH

    u = np.linspace(0.0, 1.0, 33)
    x = LEVEL_WIDTH // 2 + LEVEL_WIDTH * u
    bump = np.sin(np.pi * u)
    up, lo = np.c_[x, 128 - 22 * bump], np.c_[x, 128 + 28 * bump]
    oup, olo = np.c_[x, 126 - 48 * bump], np.c_[x, 130 + 56 * bump]
    crop = np.zeros((328, 2 * LEVEL_WIDTH, 3), np.uint8)
    crop[:] = (200, 150, 130)
    cv2.fillPoly(crop, [np.round(opening_polygon(oup, olo)).astype(np.int32)], (170, 60, 70))
    cv2.fillPoly(crop, [np.round(opening_polygon(up, lo)).astype(np.int32)], (40, 20, 20))
    cv2.fillPoly(crop, [np.round(opening_polygon(up, np.c_[x, 128 - 5 * bump])).astype(np.int32)], (235, 235, 225))
    return crop, (up, lo, oup, olo)


def test_the_interior_found_does_not_depend_on_the_crop_around_the_lips():
    """refine_interior searches the lips' columns only: the mouth found in a crop with 40 more
    columns of skin on the left is the same one, 40 px to the right; the L*a*b* it reads
    (lab_near, converted near the lips only) is the whole crop's there, and handing it in
    gives the same curves as converting it inside."""
    from faceedit.stage.lips import interior_lab, refine_interior

    crop, curves = _levelled_mouth()
    found = refine_interior(crop, *curves)
    assert found is not None
    assert found[0][:, 1].mean() < 128 - 5 and found[1][:, 1].mean() > 128  # around the opening
    again = refine_interior(crop, *curves, lab=interior_lab(crop, *curves))
    for a, b in zip(found, again):
        np.testing.assert_array_equal(a, b)
    wide = np.concatenate([np.repeat(crop[:, :1], 40, 1), crop], 1)
    shifted = refine_interior(wide, *(c + (40.0, 0.0) for c in curves))
    assert shifted is not None
    for a, b in zip(found, shifted):
        np.testing.assert_allclose(b - (40.0, 0.0), a, atol=1e-9)
    lab = interior_lab(crop, *curves)
    full = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    near = lab.any(-1)
    assert near.sum() > 0.2 * near.size
    np.testing.assert_array_equal(lab[near], full[near])


def closed_lips(crease_y: float = 100.0) -> np.ndarray:
    """Skin with closed lips: a red upper and lower lip meeting at a dark crease along
    ``crease_y`` (which bends down towards the corners, as a smile's does not)."""
    img = np.full((200, 300, 3), (205, 165, 145), np.uint8)
    xs = np.arange(300)
    bend = 4.0 * ((xs - 150) / 90.0) ** 2
    for x in range(60, 241):
        c = int(round(crease_y + bend[x]))
        img[c - 14:c, x] = (170, 90, 95)
        img[c + 1:c + 16, x] = (185, 105, 110)
        img[c - 1:c + 2, x] = (70, 35, 40)
    return cv2.GaussianBlur(img, (3, 3), 0)


def test_on_crease_moves_a_loop_inside_the_upper_lip_onto_the_crease():
    """A Face Mesh inner-lip loop that lies inside the upper lip (8 px above the crease) is cut
    open there, leaving the crease under the new opening with a black tip over the lip at
    each corner; moved onto the crease, every point (the corners too) lies within a pixel of
    it, in an 8-bit, a 16-bit and a grey photo. A loop already on the crease stays where it is."""
    rgb = closed_lips()
    xs = np.linspace(62, 238, 11)
    crease = 100.0 + 4.0 * ((xs - 150) / 90.0) ** 2
    photos = (rgb, rgb.astype(np.uint16) * 257, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    for img, off in itertools.product(photos, (-8.0, 0.0, 6.0)):
        up = np.c_[xs, crease + off]
        lo = np.c_[xs, crease + off + 1.0]
        nu, nl = on_crease(img, up, lo)
        assert np.abs((nu[:, 1] + nl[:, 1]) / 2 - crease).max() <= 1.5, off
        assert np.allclose(nu[:, 0], xs) and np.allclose(nl[:, 1] - nu[:, 1], 1.0)


def test_on_crease_keeps_a_loop_where_no_crease_is_darker():
    """Even skin (no crease within reach): the loop is kept, not dragged to noise."""
    rng = np.random.default_rng(0)
    img = np.clip(rng.normal(170, 2, (200, 300, 3)), 0, 255).astype(np.uint8)
    xs = np.linspace(62, 238, 11)
    up, lo = np.c_[xs, np.full(11, 100.0)], np.c_[xs, np.full(11, 101.0)]
    nu, nl = on_crease(img, up, lo)
    assert np.array_equal(nu, up) and np.array_equal(nl, lo)


LONDON_033 = SHARED_DATA / "london_hd" / "neutral" / "033.jpg"


@pytest.mark.skipif(not LONDON_033.exists(), reason="../shared/data/london_hd is absent")
def test_on_crease_on_a_london_photo():
    """London 033 at 1350 px: the Face Mesh's inner-lip loop lies 7+ px above the crease at the
    mouth's middle (cut open there, a smile drew teeth over the upper lip, black tips at the
    corners); moved, it lies on the crease's darkest row."""
    from faceedit.faces.detectors import get_detector

    rgb = cv2.cvtColor(cv2.imread(str(LONDON_033)), cv2.COLOR_BGR2RGB)
    face = max(get_detector("mediapipe", device="cpu").detect(rgb), key=lambda f: f.area)
    assert face.dense is not None
    dense = np.asarray(face.dense, np.float64)
    up, lo = dense[MESH_INNER_UPPER, :2], dense[MESH_INNER_LOWER, :2]
    nu, nl = on_crease(rgb, up, lo)
    x = int(round(up[5, 0]))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[:, x - 2:x + 3].mean(axis=1)
    y0 = int(up[5, 1]) - 15
    darkest = y0 + int(np.argmin(grey[y0:y0 + 30]))
    assert darkest - (up[5, 1] + lo[5, 1]) / 2 > 5
    assert abs((nu[5, 1] + nl[5, 1]) / 2 - darkest) <= 1.5


def _open_mouth_with_lower_teeth(grey: bool = False):
    """A 200x160 mouth: skin, a red lower lip from y 110 to 130, white lower teeth from y 96 to
    104 and a dark line under them, a dark pink tongue above; the loop's lower curve at y 90."""
    img = np.full((160, 200, 3), (200, 150, 130), np.uint8)
    img[60:110, 40:160] = (110, 50, 60)  # the tongue and the cavity
    img[96:104, 55:145] = (235, 232, 225)  # the lower teeth
    img[104:107, 55:145] = (70, 30, 35)  # the line where they meet the lip
    img[107:130, 40:160] = (190, 90, 100)  # the lower lip
    if grey:
        img = np.repeat(img.mean(-1, keepdims=True), 3, -1).astype(np.uint8)
    x = np.linspace(40, 160, 11)
    lower = np.c_[x, 90 + 0 * x]
    lower[[0, -1], 1] = 75  # the corners
    outer = np.c_[x, 130 + 0 * x]
    outer[[0, -1], 1] = 80
    return img, lower, outer


def test_a_closing_cut_is_taken_past_the_lower_teeth_in_colour_and_in_grey():
    """The lower teeth between the mesh's lower loop and the lower lip go inside the cut (the
    lips that close keep none between them), in a grey photo too (there a tooth is lighter than the
    lip alone: left below the loop, a grey laugh's lower teeth stood between its closed lips, JAFFE
    MK.HA1); a grey lip's highlight, as light as a tooth but past the lip, is no tooth."""
    from faceedit.stage.lips import below_lower_teeth

    middle = slice(3, 8)
    for grey in (False, True):
        img, lower, outer = _open_mouth_with_lower_teeth(grey=grey)
        moved = below_lower_teeth(img, lower, outer)
        assert (moved[middle, 1] >= 104).all(), grey  # past the teeth and the line under them
        assert (moved[middle, 1] < 118).all(), grey  # not deep into the lip
        assert np.allclose(moved[[0, -1]], lower[[0, -1]])  # the corners stay
    img[114:121, 70:130] = 235  # a highlight inside the grey lip
    assert (below_lower_teeth(img, lower, outer)[middle, 1] < 112).all()
    img[96:107] = img[80, 100]  # no teeth: the cavity down to the lip
    assert np.allclose(below_lower_teeth(img, lower, outer), lower)



def test_the_lower_teeth_are_reached_across_a_sample_of_blur():
    """A colour photo's lower teeth behind a sample of blur from the dark above them (neither dark nor
    whitish, less red than the lip: a pale laugh's, web img15) are still reached (cut off there, its lower
    teeth were carried on the lower lip as white flecks); a lip-red sample there still stops the run."""
    from faceedit.stage.lips import below_lower_teeth

    img, lower, outer = _open_mouth_with_lower_teeth()
    img[93:96, 40:160] = (185, 95, 105)  # the blur: L about the lip's, a* 37 against the lip's 41
    middle = slice(3, 8)
    moved = below_lower_teeth(img, lower, outer)
    assert (moved[middle, 1] >= 104).all()  # past the teeth
    img[93:96, 40:160] = (190, 90, 100)  # lip-red there: the teeth beyond are not reached
    assert (below_lower_teeth(img, lower, outer)[middle, 1] < 96).all()


def test_the_lower_lips_highlight_is_no_tooth():
    """A light, whitish highlight on the lower lip, with lip-red between it and the loop, is no
    tooth: where no teeth show the cut stays at the loop, and under the teeth it ends below them,
    not at the highlight (london-099 smiling: its lip's highlight was hidden as lower teeth)."""
    from faceedit.stage.lips import below_lower_teeth

    img, lower, outer = _open_mouth_with_lower_teeth()
    img[114:121, 70:130] = (245, 220, 220)  # the highlight, inside the lip
    moved = below_lower_teeth(img, lower, outer)
    middle = slice(3, 8)
    assert (moved[middle, 1] >= 104).all()  # past the teeth and the line under them
    assert (moved[middle, 1] < 112).all()  # short of the highlight
    img[96:107] = (110, 50, 60)  # no teeth: the tongue and the cavity down to the lip
    assert np.allclose(below_lower_teeth(img, lower, outer), lower)


def test_a_smiles_hidden_lower_teeth_take_in_the_dark_line_under_them_not_the_lip_in_shade():
    """Past a lighter edge under the lower teeth, the dark, less red line where they meet the lip
    goes inside ``past_line``'s cut (left outside, a smile's hidden teeth left it on the lower lip
    as dark specks, london-097 smiling made surprised); a band of lip in shade, as dark but as red
    as the lip, stays outside, and so does the lip past the line."""
    from faceedit.stage.lips import below_lower_teeth

    img, lower, outer = _open_mouth_with_lower_teeth()
    img[104:107, 55:145] = (120, 110, 108)  # the teeth's lighter edge
    img[107:110, 55:145] = (80, 60, 62)  # the dark line
    img[110:130, 40:160] = (190, 90, 100)  # the lower lip
    middle = slice(3, 8)
    plain = below_lower_teeth(img, lower, outer)
    moved = below_lower_teeth(img, lower, outer, past_line=True)
    assert (plain[middle, 1] < 108).all()  # the teeth alone stop at their edge
    assert (moved[middle, 1] >= 110).all()  # through the line
    assert (moved[middle, 1] < 114).all()  # not deep into the lip
    img[107:110, 55:145] = (145, 45, 60)  # lip in shade: dark, as red as the lip
    shade = below_lower_teeth(img, lower, outer, past_line=True)
    assert (shade[3:7, 1] < moved[3:7, 1] - 3).all()


def test_a_closing_upper_cut_goes_past_upper_teeth_and_keeps_a_lip_without_them():
    """The upper cut of a closing mouth: moved up past the upper teeth the photo shows between
    the mesh's upper loop and the outer upper lip; where none show (a dark cavity under the lip)
    it stays at the loop, the upper lip whole; None on a grey photo (the caller widens it)."""
    from faceedit.stage.lips import above_upper_teeth

    img, lower, outer = _open_mouth_with_lower_teeth()
    # the same mouth turned upside down: the teeth hang from the upper lip
    flipped = img[::-1].copy()
    h = img.shape[0] - 1
    upper, outer_upper = lower * [1, -1] + [0, h], outer * [1, -1] + [0, h]
    moved = above_upper_teeth(flipped, upper, outer_upper)
    middle = slice(3, 8)
    assert (moved[middle, 1] <= h - 104).all()  # past the teeth and the line above them
    assert (moved[middle, 1] > h - 118).all()  # not deep into the lip
    # no teeth: the cavity's dark runs up to the lip, and the cut stays where it was
    plain = flipped.copy()
    plain[plain.shape[0] - 107:plain.shape[0] - 96] = (40, 20, 25)
    assert np.allclose(above_upper_teeth(plain, upper, outer_upper), upper)
    grey = np.repeat(flipped.mean(-1, keepdims=True), 3, -1).astype(np.uint8)
    assert above_upper_teeth(grey, upper, outer_upper) is None


def test_a_closing_lower_cut_goes_through_the_dark_when_asked_and_not_into_the_lip():
    """An open mouth showing no lower teeth (a surprised edit's cavity and tongue in shade from
    the loop down to the lower lip): with ``through_dark`` the closing cut goes past that dark
    band to the lip, so the closed lips keep none of it between them; without, it stays at the
    loop; a lip darker than its own middle only near the loop is not cut past half the way."""
    from faceedit.stage.lips import below_lower_teeth

    img, lower, outer = _open_mouth_with_lower_teeth()
    img[96:107] = (110, 50, 60)  # no teeth: the tongue and the cavity down to the lip
    assert np.allclose(below_lower_teeth(img, lower, outer), lower)
    moved = below_lower_teeth(img, lower, outer, through_dark=True)
    middle = slice(3, 8)
    assert (moved[middle, 1] >= 105).all()  # past the dark band
    assert (moved[middle, 1] < 112).all()  # not deep into the lip
    assert np.allclose(moved[[0, -1]], lower[[0, -1]])  # the corners stay
    deep = img.copy()
    deep[107:128] = (110, 50, 60)  # dark all the way to the outer lip: half the way at most
    assert (below_lower_teeth(deep, lower, outer, through_dark=True)[middle, 1] <= 90 + 0.56 * 40).all()


def test_a_closing_upper_cut_goes_through_the_cavity_when_asked_and_keeps_the_lip():
    """An open mouth whose upper cut lies a few pixels inside its dark cavity (toward the corners
    the Face Mesh's loop does): with ``through_dark`` the cut goes up past the cavity's dark to
    the lip, so the closed lips keep no dark slit between them; without, it stays; where the
    column starts on the lip it does not move, nor does it follow a cavity deeper than
    ``upper_cavity_most`` of the way into the lip."""
    from faceedit.stage.lips import above_upper_teeth

    img = np.full((160, 200, 3), (200, 160, 140), np.uint8)  # skin
    img[20:50, 40:160] = (170, 90, 100)  # the upper lip, y 20-50
    img[50:110, 40:160] = (20, 12, 12)  # the cavity under it
    x = np.linspace(40, 160, 11)
    upper = np.c_[x, 54 + 0 * x]  # 4 px inside the cavity
    upper[[0, -1], 1] = 70  # the corners
    outer = np.c_[x, 20 + 0 * x]
    outer[[0, -1], 1] = 66
    assert np.allclose(above_upper_teeth(img, upper, outer), upper)
    moved = above_upper_teeth(img, upper, outer, through_dark=True)
    middle = slice(2, 9)
    assert (moved[middle, 1] <= 50.5).all()  # past the cavity's dark
    assert (moved[middle, 1] >= 46).all()  # not into the lip beyond the margin
    assert np.allclose(moved[[0, -1]], upper[[0, -1]])  # the corners stay
    on_lip = np.c_[x, 48 + 0 * x]
    on_lip[[0, -1], 1] = 70
    assert np.allclose(above_upper_teeth(img, on_lip, outer, through_dark=True)[middle], on_lip[middle])
    thin = img.copy()
    thin[20:50, 40:160] = (20, 12, 12)  # dark all the way to the outer lip: at most the most
    assert (above_upper_teeth(thin, upper, outer, through_dark=True)[middle, 1] >= 54 - 0.37 * 34).all()


def test_a_closing_upper_cut_finds_upper_teeth_under_a_dark_lip_of_little_colour():
    """Under a thin, dark upper lip of little colour (Lab a about 5) the teeth are no less red
    than the lip, and they fill most of the column from the loop to the outer lip: the cut
    still goes past them (far lighter than the lip's outer fifth), up to near the outer lip; a
    lip's highlight (lighter, whiter, but not by a tooth's lightness) is no tooth."""
    from faceedit.stage.lips import above_upper_teeth

    img = np.full((160, 200, 3), (70, 50, 44), np.uint8)  # dark skin
    img[20:40, 40:160] = (48, 36, 33)  # the thin upper lip, y 20-40
    img[40:62, 55:145] = (150, 146, 142)  # the upper teeth hanging from it, y 40-62
    img[62:110, 40:160] = (25, 15, 16)  # the cavity
    x = np.linspace(40, 160, 11)
    upper = np.c_[x, 70 + 0 * x]
    upper[[0, -1], 1] = 85  # the corners
    outer = np.c_[x, 20 + 0 * x]
    outer[[0, -1], 1] = 80
    moved = above_upper_teeth(img, upper, outer)
    middle = slice(3, 8)
    assert (moved[middle, 1] <= 40).all()  # past the teeth
    assert (moved[middle, 1] >= 24).all()  # not through the lip
    shiny = img.copy()
    shiny[40:62, 55:145] = (25, 15, 16)  # no teeth: the cavity up to the lip ...
    shiny[24:30, 60:140] = (66, 54, 50)  # ... whose highlight is lighter and whiter than it
    assert np.allclose(above_upper_teeth(shiny, upper, outer), upper)


def test_a_closing_upper_cut_goes_past_the_gum_to_the_lips_edge_and_no_further():
    """A smile's bared gum (lip-coloured, between the upper lip's dark inner edge and the
    teeth): the closing cut found at the teeth's top goes up past the gum to the dark line at
    the lip's edge, not into the lip; with no gum (the teeth right under the lip) or a dark
    line only far up the lip it stays where it is."""
    from faceedit.stage.lips import above_gums

    img = np.full((120, 200, 3), (200, 160, 140), np.uint8)  # skin
    img[20:38, 40:160] = (190, 120, 115)  # the upper lip, y 20-38 ...
    img[38:41, 40:160] = (110, 60, 60)  # ... its dark inner edge ...
    img[41:50, 50:150] = (195, 125, 120)  # ... the gum, as light and red as the lip ...
    img[50:70, 50:150] = (235, 230, 215)  # ... and the teeth
    x = np.linspace(40, 160, 11)
    upper = np.c_[x, 50 + 0 * x]
    upper[[0, -1], 1] = 60  # the corners
    outer = np.c_[x, 20 + 0 * x]
    outer[[0, -1], 1] = 55
    moved = above_gums(img, upper, outer)
    middle = slice(3, 8)
    assert (moved[middle, 1] <= 41).all(), moved[middle, 1]  # past the gum
    assert (moved[middle, 1] >= 37).all(), moved[middle, 1]  # not into the lip
    assert np.allclose(moved[[0, -1]], upper[[0, -1]])  # the corners stay
    no_gum = img.copy()
    no_gum[38:50, 40:160] = (190, 120, 115)  # the lip down to the teeth
    assert np.allclose(above_gums(no_gum, upper, outer), upper)
    far = no_gum.copy()
    far[23:26, 40:160] = (110, 60, 60)  # a dark line far up the lip: no edge of it
    assert np.allclose(above_gums(far, upper, outer), upper)
