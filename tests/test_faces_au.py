"""Action-unit intensities from landmark geometry (faceedit/faces/au.py) and `faceedit au`."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from faceedit.errors import UsageError
from faceedit.faces import au
from faceedit.faces.au import (
    AU_IDS,
    AU_KEYS,
    VISIBLE,
    dataset_aus,
    estimate_aus,
    expression_prototype,
    parse_au_spec,
)

ROOT = Path(__file__).resolve().parents[1]
J = {a: i for i, a in enumerate(AU_IDS)}


def neutral_face() -> np.ndarray:
    """A synthetic upright frontal 68-point iBUG face in inter-ocular units (eye centres at
    (-0.5, 0) and (0.5, 0), y down)."""
    p = np.zeros((68, 2))
    t = np.linspace(0, np.pi, 17)
    p[0:17] = np.stack([-0.95 * np.cos(t), 0.1 + 1.35 * np.sin(t)], 1)  # jaw, chin at (0, 1.45)
    bx = np.linspace(-0.85, -0.15, 5)
    p[17:22] = np.stack([bx, -0.33 - 0.08 * np.sin(np.linspace(0.3, 2.8, 5))], 1)
    p[22:27] = p[21:16:-1] * [-1, 1]
    p[27:31] = [[0, 0.0], [0, 0.15], [0, 0.3], [0, 0.45]]
    p[31:36] = [[-0.18, 0.6], [-0.09, 0.62], [0, 0.63], [0.09, 0.62], [0.18, 0.6]]
    p[36:42] = [[-0.75, 0], [-0.58, -0.08], [-0.42, -0.08], [-0.25, 0], [-0.42, 0.06], [-0.58, 0.06]]
    p[42:48] = [[0.25, 0], [0.42, -0.08], [0.58, -0.08], [0.75, 0], [0.58, 0.06], [0.42, 0.06]]
    p[48:60] = [[-0.4, 1.0], [-0.25, 0.93], [-0.1, 0.9], [0, 0.92], [0.1, 0.9], [0.25, 0.93], [0.4, 1.0],
                [0.25, 1.1], [0.1, 1.14], [0, 1.15], [-0.1, 1.14], [-0.25, 1.1]]
    p[60:68] = [[-0.35, 1.0], [-0.1, 0.995], [0, 0.995], [0.1, 0.995], [0.35, 1.0], [0.1, 1.005], [0, 1.005], [-0.1, 1.005]]
    return p


def in_photo(p, scale=40.0, angle_deg=0.0, shift=(200.0, 150.0)) -> np.ndarray:
    a = math.radians(angle_deg)
    r = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return p @ r.T * scale + np.asarray(shift)


MIRROR = [*range(16, -1, -1), *range(26, 16, -1), 27, 28, 29, 30, *range(35, 30, -1),
          45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40,
          54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65]


def smiling(p, up=0.08, out=0.06):
    q = p.copy()
    for i, sx in ((48, -1), (60, -1), (54, 1), (64, 1)):
        q[i] += [sx * out, -up]
    return q


def mouth_opened(p, drop=0.25):
    q = p.copy()
    q[[55, 56, 57, 58, 59, 65, 66, 67]] += [0, drop]
    q[4:13] += [0, drop]
    q[[48, 54, 60, 64]] += [0, drop / 2]  # corners ride halfway down with the lower lip
    return q


def visible(v):
    return v[..., VISIBLE]


# --------------------------------------------------------------------------------------------
# geometry


def test_shapes_and_not_estimable_aus_are_nan():
    p = in_photo(neutral_face())
    one = estimate_aus(p)
    many = estimate_aus(np.stack([p, p, p]))
    assert one.shape == (17,) and many.shape == (3, 17)
    assert list(AU_KEYS) == [f"AU{a}" for a in (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45)]
    assert [a for a, v in zip(AU_IDS, VISIBLE) if not v] == [9, 10, 14]
    assert np.isnan(one[~VISIBLE]).all() and np.isfinite(one[VISIBLE]).all()
    assert ((visible(many) >= 0) & (visible(many) <= 5)).all()
    with pytest.raises(ValueError, match="68"):
        estimate_aus(np.zeros((5, 2)))


def test_a_face_against_itself_as_neutral_is_zero():
    p = in_photo(neutral_face())
    assert np.array_equal(visible(estimate_aus(p, neutral=p)), np.zeros(VISIBLE.sum()))


@pytest.mark.parametrize("scale,angle,shift", [(8.0, 0, (0, 0)), (150.0, 35, (-900, 4000)), (41.3, -170, (5.5, 7.25))])
def test_invariant_to_scale_rotation_and_translation(scale, angle, shift):
    face, neutral = smiling(mouth_opened(neutral_face(), 0.1)), neutral_face()
    ref_pop = estimate_aus(in_photo(face))
    ref_own = estimate_aus(in_photo(face), neutral=in_photo(neutral))
    assert visible(ref_own).max() > 1  # the test face is not trivially neutral
    moved = in_photo(face, scale, angle, shift)
    np.testing.assert_allclose(visible(estimate_aus(moved)), visible(ref_pop), atol=1e-9)
    # the neutral photo may be at another scale and position than the face
    np.testing.assert_allclose(visible(estimate_aus(moved, neutral=in_photo(neutral, 13, -20, (3, 3)))),
                               visible(ref_own), atol=1e-9)


def test_mirror_image_reads_the_same():
    face = smiling(neutral_face(), up=0.05, out=0.02)
    face[[19, 20]] += [0, -0.06]  # one brow raised: averaged over both sides
    mirrored = (face * [-1, 1])[MIRROR]
    np.testing.assert_allclose(visible(estimate_aus(in_photo(mirrored))), visible(estimate_aus(in_photo(face))), atol=1e-9)


def test_lip_corners_up_and_out_raise_au12_not_au15():
    n = neutral_face()
    a = estimate_aus(in_photo(smiling(n)), neutral=in_photo(n))
    assert a[J[12]] > 2 and a[J[15]] == 0 and a[J[20]] == 0
    frown = smiling(n, up=-0.05, out=0.0)
    b = estimate_aus(in_photo(frown), neutral=in_photo(n))
    assert b[J[15]] > 2 and b[J[12]] == 0
    # without a neutral face the population mean is the reference: still ordered
    assert estimate_aus(in_photo(smiling(n)))[J[12]] > estimate_aus(in_photo(n))[J[12]]


def test_mouth_opened_raises_au25_and_au26():
    n = neutral_face()
    a = estimate_aus(in_photo(mouth_opened(n)), neutral=in_photo(n))
    assert a[J[25]] > 2 and a[J[26]] > 2
    assert a[J[12]] < 1 and a[J[17]] == 0


def test_brows_and_lids():
    n = neutral_face()
    raised = n.copy()
    raised[17:27] += [0, -0.1]
    a = estimate_aus(in_photo(raised), neutral=in_photo(n))
    assert a[J[1]] > 2 and a[J[2]] > 2 and a[J[4]] == 0
    frown = n.copy()
    frown[17:22] += [0.04, 0.06]
    frown[22:27] += [-0.04, 0.06]
    b = estimate_aus(in_photo(frown), neutral=in_photo(n))
    assert b[J[4]] > 2 and b[J[1]] == 0 and b[J[2]] == 0
    closed = n.copy()
    closed[[37, 38, 43, 44]] += [0, 0.12]  # upper lids down onto the lower lids
    c = estimate_aus(in_photo(closed), neutral=in_photo(n))
    assert c[J[45]] > 4 and c[J[5]] == 0 and c[J[7]] > 2
    wide = n.copy()
    wide[[37, 38, 43, 44]] += [0, -0.04]
    d = estimate_aus(in_photo(wide), neutral=in_photo(n))
    assert d[J[5]] > 2 and d[J[45]] == 0


def test_dataset_aus_uses_each_subjects_neutral_rows():
    n = in_photo(neutral_face())
    other = in_photo(neutral_face() * [1.0, 1.1])  # another person: a longer face
    rows = [
        {"subject": "a", "pair": "a", "labels": {"expression": "neutral"}, "landmarks": n.tolist()},
        {"subject": "a", "pair": "a", "labels": {"expression": "happy"}, "landmarks": in_photo(smiling(neutral_face())).tolist()},
        {"subject": "b", "pair": "b", "labels": {"expression": "neutral"}, "landmarks": other.tolist()},
        {"subject": "b", "pair": "b", "labels": {"expression": "neutral"}, "landmarks": other.tolist()},
        {"subject": "c", "pair": None, "labels": {"expression": "happy"}, "landmarks": n.tolist()},
    ]
    a = dataset_aus(rows)
    assert a.shape == (5, 17)
    assert np.array_equal(visible(a[[0, 2, 3]]), np.zeros((3, VISIBLE.sum())))
    assert a[1, J[12]] > 2
    np.testing.assert_array_equal(a[4], estimate_aus(n))  # no neutral row: population reference


def test_calibrated_constants_cover_the_estimable_aus():
    assert set(au.SCALE) == {a for a, v in zip(AU_IDS, VISIBLE) if v}
    assert all(s > 0 for s in au.SCALE.values())
    assert set(au.NEUTRAL_REFERENCE) == set(au.MEASURES)


# --------------------------------------------------------------------------------------------
# prototypes and user input


def test_expression_prototypes():
    assert np.array_equal(expression_prototype("neutral"), np.zeros(17))
    happy = expression_prototype("happy")
    assert happy[J[12]] > 2 and happy[J[25]] > 0 and happy[J[15]] == 0
    np.testing.assert_array_equal(expression_prototype("smile"), happy)
    surprised = expression_prototype("surprise")
    assert all(surprised[J[a]] > 1 for a in (1, 2, 5, 25, 26)) and surprised[J[4]] == 0
    disgusted = expression_prototype("disgusted")
    assert disgusted[J[9]] == au.UNSEEN_PROTOTYPE_INTENSITY and disgusted[J[4]] > 0
    for name in au.prototype_names():
        v = expression_prototype(name)
        assert v.shape == (17,) and np.isfinite(v).all() and ((v >= 0) & (v <= 5)).all()
        main, extra = {**au.DU_2014_TABLE1, **au.EXTRA_PROTOTYPES}.get(name, ((), ()))
        assert all(v[J[a]] == 0 for a in AU_IDS if a not in (*main, *extra))
    assert expression_prototype("sleepy")[J[45]] > 2
    with pytest.raises(UsageError, match="left/right"):
        expression_prototype("wink")
    with pytest.raises(UsageError, match="choose from"):
        expression_prototype("bored")


def test_parse_au_spec():
    assert parse_au_spec("12=3.5,6=2") == {12: 3.5, 6: 2.0}
    assert parse_au_spec(" AU12=0 au45=5 ") == {12: 0.0, 45: 5.0}
    for bad, msg in [("13=1", "unknown AU"), ("12=5.5", "outside 0..5"), ("12=-1", "outside"),
                     ("12=nan", "outside"), ("12=x", "not a number"), ("12", "AU=INTENSITY"),
                     ("", "empty"), ("12=1,12=2", "twice"), ("smile=2", "not an AU number")]:
        with pytest.raises(UsageError, match=msg):
            parse_au_spec(bad)


# --------------------------------------------------------------------------------------------
# command line


def _invoke(*args):
    from faceedit.cli import app

    r = CliRunner().invoke(app, ["au", *map(str, args)], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def test_cli_json_on_the_astronaut(astronaut_png, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    code, out, err = _invoke("--json", "--detector", "dlib", bad, astronaut_png)
    recs = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [r["status"] for r in recs] == ["error", "ok"]
    assert "broken.jpg" in err and "not a recognised image format" in err
    rec = recs[1]
    assert rec["file"] == str(astronaut_png) and rec["face"] == 0 and len(rec["box"]) == 4
    assert list(rec["aus"]) == list(AU_KEYS)
    assert [k for k, v in rec["aus"].items() if v is None] == ["AU9", "AU10", "AU14"]
    assert all(0 <= v <= 5 for v in rec["aus"].values() if v is not None)
    # her own photo as the neutral reference: every estimable AU reads 0
    code, out, _ = _invoke("--json", "--detector", "dlib", "--neutral", astronaut_png, astronaut_png)
    assert code == 0 and all(v in (None, 0.0) for v in json.loads(out)["aus"].values())


def test_cli_table_and_usage_errors(astronaut_png):
    code, out, _ = _invoke("--detector", "dlib", astronaut_png)
    assert code == 0 and "AU12" in out and "astronaut.png" in out and "AU9" in out  # caption names it
    code, _, err = _invoke("--detector", "opencv", astronaut_png)
    assert code == 2 and "68" in err


# --------------------------------------------------------------------------------------------
# on the prepared shared data


def _prepared(*names):
    paths = [ROOT / "data" / n for n in names]
    for p in paths:
        if not (p / "index.jsonl").is_file():
            pytest.skip(f"needs the prepared data set {p} (faceedit prepare ../shared/data/{p.name} -o {p})")
    from faceedit.data import open_datasets

    return open_datasets(paths)


@pytest.mark.shared_data
def test_london_smiles_read_higher_au12_than_their_neutral_pair():
    (london,) = _prepared("london")
    by = {}
    for r in london.rows:
        by.setdefault(r["subject"], {})[r["labels"]["expression"]] = np.array(r["landmarks"])
    ids = [s for s, d in by.items() if {"neutral", "happy"} <= set(d)]
    neutral = np.stack([by[s]["neutral"] for s in ids])
    happy = np.stack([by[s]["happy"] for s in ids])
    # population reference for both: the comparison does not see the pairing
    rate = float(np.mean(estimate_aus(happy)[:, J[12]] > estimate_aus(neutral)[:, J[12]]))
    own = np.array([estimate_aus(h, neutral=n)[J[12]] for h, n in zip(happy, neutral)])
    print(f"London: AU12(happy) > AU12(neutral) in {rate:.3f} of {len(ids)} ids (population reference); "
          f"against the own neutral photo AU12 > 0.5 in {np.mean(own > 0.5):.3f}, mean {own.mean():.2f}")
    assert len(ids) >= 80 and rate >= 0.8 and np.mean(own > 0.5) >= 0.8


@pytest.mark.shared_data
def test_jaffe_surprised_raises_brows_and_drops_jaw():
    (jaffe,) = _prepared("jaffe")
    a = dataset_aus(jaffe.rows)
    expr = np.array([r["labels"]["expression"] for r in jaffe.rows])
    for unit in (1, 2, 26):
        s, n = a[expr == "surprised", J[unit]].mean(), a[expr == "neutral", J[unit]].mean()
        print(f"JAFFE AU{unit}: surprised {s:.2f}, neutral {n:.2f}")
        assert s > n + 1.0


@pytest.mark.shared_data
def test_calibration_reproduces_the_module_constants():
    from faceedit.train.au_calibration import calibrate

    cal = calibrate(_prepared("london", "jaffe", "yale"))
    for k, v in au.NEUTRAL_REFERENCE.items():
        assert cal["reference"][k] == pytest.approx(v, abs=1e-5)
    for k, v in au.SCALE.items():
        assert cal["scale"][k] == pytest.approx(v, abs=1e-3)
    for e, d in au.MEASURED_EXPRESSION_MEANS.items():
        for k, v in d.items():
            assert cal["expression_means"][e][k] == pytest.approx(v, abs=0.005 + 1e-9)
