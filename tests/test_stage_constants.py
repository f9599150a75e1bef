"""Every module constant of the stage sits on one side of the rule for tuned values, and
``docs/stage-tuning.md`` lists them as the modules hold them (``bench/stage_constants.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _bench import load_bench

ROOT = Path(__file__).resolve().parents[1]


def _script():
    return load_bench("stage_constants")


def test_the_doc_lists_every_stage_constant_on_its_side():
    script = _script()
    assert script.documented(ROOT / "docs" / "stage-tuning.md") == script.table()


def test_a_constant_without_a_side_is_refused(tmp_path):
    script = _script()
    (tmp_path / "new.py").write_text("LOOKS = 0.3\n")
    with pytest.raises(ValueError, match="new.LOOKS"):
        script.table(tmp_path)


def test_moved_values_are_in_the_record_with_their_old_defaults():
    from faceedit.stage.tuning import EditTuning, StageTuning

    script = _script()
    assert "steps.CREASE_GAP" not in script.SIDES and "steps.RAISED_LIP" not in script.SIDES
    edit = StageTuning.from_dict({"edit": {}}).edit  # a header without the fields
    assert (edit.crease_gap, edit.raised_lip) == (0.1, 0.05) == (EditTuning().crease_gap, EditTuning().raised_lip)


#: Values moved from module constants into the record, with the constants' values: a stage file
#: whose header lacks them (weights/stage.safetensors's records only edit, mouth, eyes, light's
#: strength) draws as before.
MOVED = {
    ("lids", "meet"): 0.25, ("lids", "wink_meet"): 0.25, ("lids", "roots"): 0.15, ("lids", "grain_scale"): 30,
    ("lids", "lid_ease"): (0.0, 0.45), ("lids", "lit_pct"): (50.0, 80.0), ("lids", "edge_soft"): 0.8,
    ("edit", "open_from"): 0.25, ("edit", "open_keep"): 0.5, ("edit", "above_chord"): 0.34,
    ("edit", "open_split_reach"): 0.1, ("eyes", "old_iris"): 1.15,
    ("light", "chroma_follow"): 0.2, ("light", "exposure_percentile"): 70, ("light", "ratio_clip"): (0.03, 1.5),
    ("light", "background_below_chin"): -0.5, ("light", "background_forehead"): 1.1,
    ("warp", "region_inner"): 0.1, ("warp", "region_outer"): 0.6, ("warp", "forehead_pin"): (0.5, 0.8),
    ("warp", "paint_region"): (0.0, 0.3), ("warp", "round_aspect"): (0.25, 0.45),
    ("warp", "opening_follows"): (1.0, 1.5), ("pose", "pivot_share"): 0.5, ("pose", "falloff"): 1.9,
    ("regions", "cap"): 0.3, ("regions", "background_delta"): 5.0, ("regions", "neck_fade"): 0.6,
    ("edit", "lips_closed"): 0.03, ("lips", "min_teeth_lightness"): 8.0, ("lips", "lip_redness"): 6.0,
    ("lips", "crease_piece"): 0.25, ("lips", "crease_reach"): 0.1, ("lips", "crease_contrast"): 0.04,
    ("lips", "teeth_start"): 0.4, ("lips", "cut_min_px"): 1.0, ("lips", "upper_teeth_brighter"): 25.0,
    ("lips", "upper_teeth_most"): 0.9, ("lips", "lower_dark_most"): 0.5, ("lips", "lower_teeth_lighter"): 10.0,
    ("lips", "lower_teeth_whiter"): 6.0, ("lips", "lower_teeth_shaded_lighter"): 2.0,
    ("lips", "lower_teeth_shaded_whiter"): 14.0, ("lips", "lower_teeth_margin"): 0.06,
    ("eyes", "shown_upper"): 0.15, ("eyes", "shown_lower"): 0.08, ("eyes", "white_read"): 0.08,
    ("eyes", "white_gap"): 0.02, ("eyes", "white_rank"): 0.7, ("pose", "depth_near"): 0.04,
    ("pose", "depth_reach"): 0.25, ("pose", "depth_blend"): 0.06, ("regions", "far_side"): 1.3,
    ("regions", "far_above"): 1.6, ("regions", "ear_redder"): 6.0, ("regions", "ear_cheek"): 0.6,
    ("lids", "lm_upper_out"): 0.25, ("lids", "lm_lower_out"): 0.1, ("regions", "eye_grow"): 0.07,
    ("regions", "lip_grow"): 0.04, ("regions", "brow_half"): 0.06, ("regions", "skin_near"): 3.5,
    ("regions", "skin_far"): 5.0, ("regions", "skin_spread"): 2.5, ("regions", "ears"): 0.4,
    ("regions", "ear_lobe"): 0.3, ("regions", "outline"): 0.08, ("regions", "wall_strip"): 0.06,
    ("regions", "wall_fit"): 6.0, ("regions", "grey_below"): 0.35, ("regions", "grey_above"): 0.55,
    ("regions", "box_side"): 2.4, ("regions", "box_above"): 2.0, ("regions", "box_below"): 1.8,
    ("regions", "unsure"): 0.05, ("regions", "behind"): 0.15, ("regions", "contrast_min"): 12.0,
    ("regions", "smooth_rough"): 2.0, ("regions", "hair_edge"): 0.02, ("regions", "matte_radius"): 0.05,
    ("regions", "matte_eps"): 2e-4, ("warp", "side_angles"): (30.0, 75.0), ("warp", "zone"): (0.4, 0.8),
    ("brows", "band"): 0.13, ("brows", "skin_ring"): (0.17, 0.28), ("brows", "bushy_shifts"): (-0.04, -0.02, 0.025),
    ("brows", "bushy_darken"): 0.12, ("brows", "thin_ratio"): 0.55, ("brows", "thin_half"): 0.07,
    ("folds", "sharp"): 0.005, ("folds", "sharp_px"): 0.8, ("folds", "sharp_kind"): {"nasolabial": 0.014},
    ("folds", "soft_medial"): ("glabella",), ("folds", "reach"): 0.12, ("folds", "reach_fade"): 0.25,
    ("folds", "max_amount"): 1.25, ("folds", "min_ratio"): 0.55, ("folds", "shoulder"): 0.3,
    ("folds", "shade_tint"): (0.8, 1.06, 1.28), ("folds", "tint_chroma"): 0.12,
    ("folds", "smooth_reach"): {"forehead": 0.07, "glabella": 0.08}, ("folds", "smooth_fine"): 0.007,
    ("folds", "smooth_broad"): 0.08, ("folds", "smooth_along"): 0.04, ("folds", "smooth_clear"): 0.03,
    ("folds", "smooth_from_au"): 2.0, ("hair", "chroma_kept"): 0.5, ("hair", "contrast_power"): 0.35,
    ("hair", "contrast"): (0.6, 1.6), ("hair", "top"): 94.0, ("hair", "knee"): 12.0, ("hair", "headroom"): 1.5,
    ("hair", "edge_width"): 0.03, ("hair", "highlight_power"): 0.7,
    ("mouth", "small_cavity_floor"): 0.04, ("mouth", "small_throat_dark"): 0.5, ("mouth", "small_rim_edge"): 0.9,
    ("eyes", "shut_small_px"): (28.0, 40.0), ("eyes", "shut_aperture"): 0.15, ("eyes", "shut_lash_dark"): 0.75,
    ("eyes", "shut_lash_reach"): 0.2, ("eyes", "shut_white_over_skin"): 0.85, ("eyes", "shut_white_chroma"): 0.9,
    ("eyes", "shut_lid_shadow"): (0.3, 0.12), ("eyes", "shut_iris_radius"): 0.2, ("eyes", "shut_iris_luma"): (0.3, 0.45),
    ("eyes", "shut_pupil"): (0.45, 0.5), ("eyes", "shut_lower_margin"): (1.0, 0.15), ("eyes", "shut_soften"): 0.6,
}


def test_a_header_without_the_new_groups_takes_the_old_constants():
    from faceedit.stage.tuning import StageTuning

    saved = {"edit": {"teeth_rise": 0.6}, "eyes": {"opens": 1.08}, "light": {"strength": 0.6}}  # an older header
    tuning = StageTuning.from_dict(saved)
    for (group, name), value in MOVED.items():
        assert getattr(getattr(tuning, group), name) == value, (group, name)
    assert not any(f"{m}.{n.upper()}" in _script().SIDES for m, n in (("lids", "roots"), ("warp", "region_outer"),
                                                                       ("shading", "ratio_clip"), ("pose", "falloff")))


def test_a_saved_record_comes_back_whole_with_its_pairs_as_tuples():
    import json

    from faceedit.stage.tuning import StageTuning
    from faceedit.stage.tuning_lids import LidsTuning

    tuning = StageTuning(lids=LidsTuning(lit_pct=(40.0, 70.0), meet=0.3))
    back = StageTuning.from_dict(json.loads(json.dumps(tuning.to_dict())))
    assert back == tuning and back.lids.lit_pct == (40.0, 70.0)
    with pytest.raises(ValueError, match="lids: unknown value 'nope'"):
        StageTuning.from_dict({"lids": {"nope": 1.0}})


def test_the_painters_draw_by_the_record_they_are_given():
    """A value changed in the record changes what the painter draws (the record reaches it),
    and the defaults draw as a painter given no record."""
    import cv2
    import numpy as np
    from _imgs import astronaut, astronaut_face

    from faceedit.stage.lids import close_lids
    from faceedit.stage.moves import lid_closures
    from faceedit.stage.pose import HeadTurn
    from faceedit.stage.tuning_face import PoseTuning
    from faceedit.stage.tuning_lids import LidsTuning

    img = cv2.resize(np.array(astronaut()), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    lm = np.asarray(astronaut_face().landmarks, np.float64) * 2 + 0.5
    plain = close_lids(img, lm, None, (1.0, 0.0))
    assert np.array_equal(close_lids(img, lm, None, (1.0, 0.0), tuning=LidsTuning()), plain)
    assert not np.array_equal(close_lids(img, lm, None, (1.0, 0.0), tuning=LidsTuning(shadow=0.9, meet=0.5)), plain)
    assert lid_closures({"blink": 1.0}, LidsTuning(meet=0.4))[1] == (0.4, 0.4)
    rng = np.random.default_rng(0)  # a face's 468 points in a box, with depth
    mesh = np.column_stack([rng.uniform(200, 300, (468, 2)), rng.uniform(-20, 20, 468)])
    near = HeadTurn(mesh, (512, 512), 1.0, 0.0, 0.0).box
    far = HeadTurn(mesh, (512, 512), 1.0, 0.0, 0.0, PoseTuning(falloff=2.5)).box
    assert far[0] < near[0] and far[2] > near[2]  # the head region reaches further


def test_the_mouths_reading_follows_the_record_it_is_given():
    """A lips value changed in the record changes where the upper teeth are found to end (and
    so what a smile taken away carries up with the lip); the defaults find what no record does."""
    import cv2
    import numpy as np
    from _imgs import drawn_face

    from faceedit.stage.cut_curves import opening_polygon
    from faceedit.stage.side_teeth import upper_teeth_share
    from faceedit.stage.tuning_lips import LipsTuning

    lip = (168, 92, 90)
    x = np.linspace(140.0, 340.0, 33)
    bow = 30.0 * (1 - ((x - 240.0) / 100.0) ** 2)
    up, lo = np.stack([x, 200.0 - bow], 1), np.stack([x, 200.0 + bow], 1)
    img = drawn_face(lip=lip)
    cut = up + 0.6 * (lo - up)  # teeth in the top 60 % of the interior, lip below
    cv2.fillPoly(img, [np.round(opening_polygon(up, cut)).astype(np.int32)], (236, 232, 224))
    cv2.fillPoly(img, [np.round(opening_polygon(cut, lo)).astype(np.int32)], lip)
    plain = upper_teeth_share(img, up, lo)
    assert np.array_equal(upper_teeth_share(img, up, lo, LipsTuning()), plain)
    assert np.all(np.abs(plain[8:25] - 0.6) <= 0.1)
    # teeth no brighter than the lips by 200 L* are none: every column is carried whole
    assert np.all(upper_teeth_share(img, up, lo, LipsTuning(min_teeth_lightness=200.0)) == 1.0)


def test_the_folds_follow_the_record_they_are_given():
    """A folds value changed in the record changes what the painter draws (each groove no deeper
    than ``min_ratio`` of the skin); the defaults draw as a painter given no record."""
    import numpy as np

    from faceedit.stage.folds import KINDS, paint_folds
    from faceedit.stage.model import Stage
    from faceedit.stage.tuning_folds import FoldsTuning

    face = Stage.from_pretrained("stage")._a("mean_shape").astype(np.float64) * 4.0  # a 1350-px face's size
    p = {"depth": 0.6, "soft": 0.03, "sharp_side": 1.0, "light": 0.0, "light_at": 0.04, "light_width": 0.02,
         "offset": 0.0}
    params = {k: dict(p) for k in KINDS}
    img = np.full((1100, 1100, 3), 150, np.uint8)  # grey skin: R, G and B by the ratio alike
    plain = paint_folds(img, face, {"glabella": 1.0}, params)
    assert np.array_equal(paint_folds(img, face, {"glabella": 1.0}, params, tuning=FoldsTuning()), plain)
    # the glabella is drawn as creases (faceedit.stage.creases): their floor's darkening is the record's
    deep = paint_folds(img, face, {"glabella": 1.0}, params, tuning=FoldsTuning(crease_shade=(0.4, 0.08)))
    assert int(deep.min()) < int(plain.min()) - 5
    shallow = paint_folds(img, face, {"glabella": 1.0}, params,
                          tuning=FoldsTuning(crease_shade=(0.4, 0.08), min_ratio=0.9))
    assert int(shallow.min()) >= round(0.9 * 150) - 1
    assert int(deep.min()) < int(shallow.min()) - 5


def test_a_record_with_names_and_maps_comes_back_whole():
    import json

    from faceedit.stage.tuning import StageTuning
    from faceedit.stage.tuning_folds import FoldsTuning

    tuning = StageTuning(folds=FoldsTuning(soft_medial=("glabella", "forehead"), sharp_kind={"nose": 0.01}))
    back = StageTuning.from_dict(json.loads(json.dumps(tuning.to_dict())))
    assert back == tuning and back.folds.soft_medial == ("glabella", "forehead")
