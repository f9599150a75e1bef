"""Fit the edit stage (:mod:`faceedit.stage.model`) from prepared datasets: closed form, minutes
on a CPU.

    faceedit train -m stage -d data/london256 -d data/jaffe256 -d data/yale256 -d data/yaleb256 -o RUN

Held-out subjects (the same seeded 20 % split as every trainer) are kept out of every statistic.
Glasses: Yale's two neutral photos per subject, with and without glasses (``labels.glasses``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import torch

from faceedit.conditions import EXPRESSIONS
from faceedit.data import DATA_LICENSES, Dataset, data_names, expression_pairs, holdout_subjects
from faceedit.errors import UsageError
from faceedit.faces.align import apply_affine, similarity_transform
from faceedit.faces.au import AU_IDS, VISIBLE, expression_prototype
from faceedit.faces.landmarks import BROWS, EYES, NOSE_BRIDGE, STABLE, eye_distance
from faceedit.log import logger
from faceedit.pixels import luma, rgb_to_ycc, to_unit
from faceedit.stage.model import Stage
from faceedit.stage.shading import NAMED_DIRECTIONS
from faceedit.stage.state import symmetric_state
from faceedit.stage.tuning import StageTuning
from faceedit.stage.warp import (
    ThinPlateSpline,
    backward_field,
    face_grid,
    mouth_weight,
    polygon_distance,
    region_weight,
    warp_photo,
)

CANON = 256
#: Axes of the shape model (fewer where the data has fewer shapes): identity = principal axes of
#: the training subjects' neutral shapes, expression = those of their within-subject moves.
IDENTITY_AXES = 16
EXPRESSION_AXES = 10
#: The sides of the jaw contour (iBUG 0-5 and 11-16) are left out of the expression axes: between
#: two photos of one person their detected position follows small head turns and tilts more than
#: any expression (fitted with them, 4 of 10 axes are mostly jaw contour, and removing a smile
#: moves the jaw of held-out London faces away from their real neutral photo). The chin (6-10)
#: stays: a dropped jaw moves it.
JAW_SIDES = [*range(0, 6), *range(11, 17)]
#: A target is a full expression: happy's state is fitted on the smiles that part the lips (mean
#: inner-lip gap over this many eye distances). The mean over all smiles barely opens the mouth;
#: a milder smile is ``--strength`` below 1.
HAPPY_MIN_GAP = 0.08
#: A target's state is the mean state of its posed photos, which is weaker than any one of them
#: (people pose an expression in different ways, and the mean cancels what they do not share). It
#: is scaled up, by at most this factor, until the mean move it makes from the training subjects'
#: neutral faces is as large as their real moves to the posed photo.
TARGET_BOOST_MAX = 2.0
#: The posed photos of some expressions lack what makes the expression read as itself (JAFFE's and
#: Yale's sad faces lower the brows and narrow the eyes, as angry ones do, but barely turn the mouth
#: corners down). A target's state is therefore raised until each AU of its FACS prototype (Du et
#: al. 2014: :func:`faceedit.faces.au.expression_prototype`) that geometry sees reads at least the
#: target's boost times the prototype's measured mean intensity, at most this.
PROTOTYPE_MAX = 4.5
#: Prototype AUs not raised: AU20's landmark reading is weak (it ranks fearful faces above the
#: others with AUC 0.64 only, :mod:`faceedit.faces.au`), and forcing it or the mouth opening
#: (AU25, AU26) bends the lips into shapes no face makes; the opening
#: stays the posed photos' own (surprised's jaw drop is set by :data:`TARGET_AUS`).
PROTOTYPE_SKIP = (20, 25, 26)
#: The posed sad, angry and disgusted photos (JAFFE, Yale) are mild: raised only to the boost
#: times the prototype's mean, a neutral London face edited to sad barely turns its mouth
#: corners down. Their prototype AUs are raised to at least this intensity (up to
#: :data:`PROTOTYPE_MAX`), the "marked" level of FACS, so the target reads as itself. Fearful is
#: left out: its prototype asks for brows raised (AU1, AU2) and lowered (AU4) at once, and at
#: this level the least-change state that reads so twists the jaw and the eyes.
PROTOTYPE_FLOOR = 3.5
MILD_POSED = ("sad", "angry", "disgusted")
#: AUs set on a target at these values with its prototype's (raised or lowered; a negative value
#: is the AU's opposite move), where its posed mean, raised to the prototype, does not read as the
#: expression (the evidence: the stage's card, "Tuned values"):
#: - sad: the marked level alone is a tired frown; a face is sad by its inner brows drawn up
#:   (AU1) and its corners (AU15), chin (AU17) and upper lids (AU45 2, a third of a blink)
#:   drooping;
#: - angry: the posed mean lowers the outer brows and not the inner ones (a worried face). The
#:   inner brows go down (AU1 -5) further than the outer ones (AU2 -3), the brows together and
#:   down (AU4 5), no smile (AU12 0) and the lids open (AU45 0): a stern frown;
#: - surprised: the posed mean drops the jaw little (AU26 1.6), a wide shout-like opening; the
#:   jaw dropped (AU26 5) reads as surprise.
TARGET_AUS: dict[str, dict[int, float]] = {"sad": {1: 5.0, 15: 5.0, 17: 5.0, 45: 2.0},
                                           "angry": {1: -5.0, 2: -3.0, 4: 5.0, 12: 0.0, 45: 0.0},
                                           "surprised": {26: 5.0}}
#: Targets whose lips are pressed together (AU25, lips part, set to 0 after the prototype AUs): the
#: posed angry faces mix pressed lips with a shouting mouth, and their mean parts the lips by a
#: slit the mouth bank would fill with a line of teeth between dark corners. Disgusted likewise:
#: its parted mean draws a row of teeth between level corners, a grimace; JAFFE's posed disgust
#: mostly keeps the lips closed, and pressed the landmark truth from neutral is closer.
PRESSED_LIPS = ("angry", "disgusted")
#: Targets with no smile (AU12, lip corner puller, set to 0 after the prototype AUs): no FACS
#: prototype of theirs has AU12, but their posed means read some (surprised 0.7, fearful 1.1,
#: disgusted 0.6: the corners a dropped jaw, a stretched or raised upper lip moves), enough to
#: lift the corners of the opened mouth into a grin. Without it, it takes all of a smile away
#: (its teeth rise further under the upper lip).
NO_SMILE = ("fearful", "disgusted", "surprised")
#: Targets whose state is made left-right symmetric (every one but the wink, whose asymmetry is
#: what it is). The mean of posed photos is not: half of the mean surprised move (2.3 of 4.6
#: canonical px) was a left-right difference the faces did not share (head turns and tilts the
#: stable-point frame leaves), and it widened one eye by 10 % and narrowed the other.
SYMMETRIC_TARGETS = ("happy", "sad", "surprised", "angry", "disgusted", "fearful", "sleepy")
APPEARANCE_RIDGE = 0.1  # appearance gain shrunk towards 1 by this, in units of the pixel's variance
MIN_COLOUR_PAIRS = 20  # a target's appearance is fitted in colour from at least this many colour pairs
#: The smile-removal map (:func:`_smile_off_map`) covers the face outline grown by
#: SMILE_OFF_REGION[0] eye distances (softly) less the mouth (the outer lips, their edge soft over
#: SMILE_OFF_REGION[1]); it is blurred by SMILE_OFF_BLUR canonical px (a mean over people of
#: ratios of two photos: its fine detail is where one person's crease lay, not a smile's).
SMILE_OFF_REGION = (0.15, 0.1)
SMILE_OFF_BLUR = 2.0
#: Where glasses sit: eyes 36-47, brows 17-26 and the nose bridge 27-30 (iBUG-68), their outline
#: grown by GLASSES_REGION[0] eye distances (the lenses reach about that far below the eyes and
#: beside them; 1 inside) with a soft edge out to GLASSES_REGION[1].
GLASSES_POINTS = EYES + BROWS + NOSE_BRIDGE
GLASSES_REGION = (0.3, 0.55)
#: The glasses maps' gain is shrunk towards 1 harder than the mouth's (APPEARANCE_RIDGE): 12 pairs
#: of different frames do not predict a pixel, and a gain near 0 paints Yale's mean grey face over
#: the eyes (dark on light skin); near 1 the map adds the mean change (faint frames, a tint).
GLASSES_RIDGE = 1.0


def _lm(row: dict) -> np.ndarray:
    return np.asarray(row["landmarks"], np.float64)


def lip_gap(lm: np.ndarray) -> float:
    """Mean inner-lip opening in eye distances."""
    return float(np.mean([np.linalg.norm(lm[a] - lm[b]) for a, b in ((61, 67), (62, 66), (63, 65))]) / eye_distance(lm))


def _read(row: dict, channels: int) -> np.ndarray:
    """A crop in 0..1: Y, Cb, Cr for 3 channels (chroma apart from luma, so a dark lip does not
    make dark-tinted teeth), luma for 1."""
    from PIL import Image

    with Image.open(f"{row['dataset']}/{row['file']}") as im:
        a = to_unit(np.asarray(im.convert("RGB")))
    return rgb_to_ycc(a) if channels == 3 else luma(a)[..., None]


def _to_canonical(img: np.ndarray, lm: np.ndarray, frame: np.ndarray, size: int) -> np.ndarray:
    """Resample ``img`` (whose face has landmarks ``lm``, image pixels) into the canonical
    frame (``size`` px) whose landmarks are ``frame``."""
    t = np.linspace(0, size - 1, size)
    uv = np.stack(np.meshgrid(t, t), -1)
    xy = ThinPlateSpline(frame, lm, reg=1e-2)(uv).astype(np.float32)
    out = cv2.remap(np.ascontiguousarray(img), xy[..., 0], xy[..., 1], cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    return out if out.ndim == 3 else out[..., None]


class _Frame:
    """The canonical frame: mean neutral shape and the similarity of a face onto it."""

    def __init__(self, neutral: list[np.ndarray], scale: float):
        m = np.mean([lm * scale for lm in neutral], 0)
        for _ in range(3):
            m = np.mean([apply_affine(similarity_transform(lm[STABLE], m[STABLE]), lm) for lm in neutral], 0)
        self.mean = m

    def norm(self, lm: np.ndarray) -> np.ndarray:
        return similarity_transform(lm[STABLE], self.mean[STABLE])


def fit_stage(datasets: list[Dataset], *, seed: int = 0, holdout: float = 0.2) -> tuple[Stage, dict]:
    """Fit every statistic of the stage; returns (model, report)."""
    t0 = time.time()
    rows = [r for d in datasets for r in d.rows if len(r["landmarks"]) == 68]
    # the same split as every trainer and the evaluation: a seeded share of each dataset's subjects
    held = set().union(*(holdout_subjects({r["subject"] for r in d.rows}, holdout, seed) for d in datasets))
    train = [r for r in rows if r["subject"] not in held]
    size0 = int(datasets[0].meta["size"])
    scale = CANON / size0
    for d in datasets:
        if int(d.meta["size"]) != size0:
            raise ValueError("fit the stage on datasets prepared at one crop size")
    expressive = [r for r in train if r["labels"].get("expression") and "lighting" not in r["labels"]]
    frame = _Frame([_lm(r) for r in expressive if r["labels"]["expression"] == "neutral"], scale)
    mean = frame.mean

    def canon(r: dict) -> np.ndarray:
        return apply_affine(frame.norm(_lm(r)), _lm(r))

    # pairs by target, from every dataset (pair groups never cross datasets)
    pairs: dict[str, list[tuple[dict, dict]]] = {}
    for d in datasets:
        for t, ps in expression_pairs([r for r in d.rows if r["subject"] not in held]).items():
            pairs.setdefault(t, []).extend((s, g) for s, g in ps if len(s["landmarks"]) == 68)
    targets = [t for t in EXPRESSIONS if t in pairs and t != "neutral" and pairs[t]]
    all_pairs = [p for t in targets for p in pairs[t]]
    if not all_pairs:
        raise ValueError("the stage needs neutral -> expression pairs of the same subjects "
                         "(London, JAFFE or Yale prepared with their presets)")

    # the shape model: identity axes from neutral shapes, expression axes from within-subject moves
    neutral = np.stack([canon(r) for r in expressive if r["labels"]["expression"] == "neutral"])
    moves = np.stack([(canon(g) - canon(s)) for s, g in all_pairs])
    moves[:, JAW_SIDES] = 0.0  # see JAW_SIDES
    moves = moves.reshape(len(moves), -1)
    ki, ke = min(IDENTITY_AXES, len(neutral) - 1), min(EXPRESSION_AXES, len(moves) - 1)
    if ki < 1 or ke < 1:
        raise ValueError(f"too few shapes for the stage's shape model: {len(neutral)} neutral photos and "
                         f"{len(moves)} expression pairs of training subjects (at least 2 of each)")
    x = (neutral - mean).reshape(len(neutral), -1)
    _, sv, vt = np.linalg.svd(x - x.mean(0), full_matrices=False)
    id_basis, id_scale = vt[:ki], sv[:ki] / np.sqrt(len(x))
    _, sv, vt = np.linalg.svd(moves, full_matrices=False)  # uncentred: no move is the origin
    ex_basis = vt[:ke]
    ex_scale = np.sqrt(((moves @ ex_basis.T) ** 2).mean(0))
    report: dict[str, Any] = {"pairs": {t: len(pairs[t]) for t in targets}, "held_out_subjects": len(held),
              "identity_axes": ki, "expression_axes": ke,
              "expression_variance_kept": round(float((sv[:ke] ** 2).sum() / (sv ** 2).sum()), 4)}
    shaper = Stage({"canon_size": CANON, "identity_axes": ki, "expression_axes": ke})
    sd_ = shaper.state_dict()
    sd_.update(mean_shape=torch.tensor(mean), identity_basis=torch.tensor(id_basis),
               identity_scale=torch.tensor(id_scale), expression_basis=torch.tensor(ex_basis),
               expression_scale=torch.tensor(ex_scale))
    shaper.load_state_dict({k: v.float() for k, v in sd_.items()})
    state_of = {}

    def state(r: dict) -> np.ndarray:
        key = (r["dataset"], r["file"])
        if key not in state_of:
            state_of[key] = shaper.state(_lm(r)).expression
        return state_of[key]

    # target states: the mean state of the posed photos, boosted to their typical strength
    smiles = list(pairs.get("happy", []))  # every smile, closed ones too (the smile-removal map)
    if "happy" in pairs:
        pairs["happy"] = [(s, g) for s, g in pairs["happy"] if lip_gap(_lm(g)) > HAPPY_MIN_GAP]
    target_states, boosts = {}, {}
    for t in targets:
        posed = {(g["dataset"], g["file"]): g for _, g in pairs[t]}.values()
        mu = np.mean([state(g) for g in posed], 0)
        real = np.mean([np.linalg.norm(np.delete(canon(g) - canon(s), JAW_SIDES, 0)) for s, g in pairs[t]])

        def made(b: float) -> float:
            return float(np.mean([np.linalg.norm((b * mu - state(s)) @ ex_basis) for s, _ in pairs[t]]))

        grid = np.linspace(1.0, TARGET_BOOST_MAX, 21)
        b = float(grid[np.argmin([abs(made(g) - real) for g in grid])])
        target_states[t], boosts[t] = b * mu, round(b, 2)
    for t in target_states:
        if t in SYMMETRIC_TARGETS:
            target_states[t] = symmetric_state(target_states[t], ex_basis)
    report["target_boost"] = boosts
    report["pairs"]["happy_state"] = len(pairs.get("happy", []))

    aus = [au for au, v in zip(AU_IDS, VISIBLE) if v]  # the AUs the stage can set

    # the prototype AUs each target must show (raised, never lowered), and its TARGET_AUS
    au_model = Stage({"canon_size": CANON, "identity_axes": ki, "expression_axes": ke, "aus": aus})
    au_model.load_state_dict(shaper.state_dict())
    raised = {}
    for t in targets:
        try:
            proto = expression_prototype(t)
        except UsageError:  # no prototype (wink)
            continue
        have = au_model.state_aus(target_states[t], np.zeros(ki))
        floor = PROTOTYPE_FLOOR if t in MILD_POSED else 0.0
        want = {au: min(PROTOTYPE_MAX, max(floor, boosts[t] * float(proto[AU_IDS.index(au)])))
                for au in aus if proto[AU_IDS.index(au)] > 0 and au not in PROTOTYPE_SKIP}
        want = {au: v for au, v in want.items() if v > float(np.nan_to_num(have[AU_IDS.index(au)]))}
        want |= TARGET_AUS.get(t, {})
        if want:
            target_states[t] = au_model.set_aus(target_states[t], np.zeros(ki), want, symmetric=False)
            if t in SYMMETRIC_TARGETS:  # the least change of state that raises them need not be
                target_states[t] = symmetric_state(target_states[t], ex_basis)
            raised[t] = {str(au): round(v, 2) for au, v in sorted(want.items())}
        fixed = {**({25: 0.0} if t in PRESSED_LIPS else {}), **({12: 0.0} if t in NO_SMILE else {})}
        if fixed:
            target_states[t] = au_model.set_aus(target_states[t], np.zeros(ki), fixed, symmetric=False)
            if t in SYMMETRIC_TARGETS:
                target_states[t] = symmetric_state(target_states[t], ex_basis)
    report["prototype_raised"] = raised
    report["target_aus"] = {t: {str(au): v for au, v in sorted(TARGET_AUS[t].items())}
                            for t in targets if t in TARGET_AUS}

    # appearance: per-pixel linear map in each target's canonical frame
    appearance = {}
    for t in targets:
        # colour pairs (London) when there are enough of them, else every pair in luma
        colour = [(s, g) for s, g in pairs[t] if not s.get("grey") and not g.get("grey")]
        use, ch = (colour, 3) if len(colour) >= MIN_COLOUR_PAIRS else (pairs[t], 1)
        frame_t = mean + (target_states[t] @ ex_basis).reshape(68, 2)
        # The mouth only: elsewhere (brows, forehead) eight JAFFE subjects' skin and hair would be
        # learnt as the expression. Colour pairs (London, varied skin): the lips and around them;
        # greyscale pairs (JAFFE, Yale: few, similar faces): the opening between the lips only,
        # or their skin tone would be painted on every face.
        canvas = np.stack(np.meshgrid(np.arange(CANON), np.arange(CANON)), -1)
        w = (mouth_weight(frame_t, canvas) if ch == 3 else
             mouth_weight(frame_t, canvas, inner=0.03, outer=0.15, lips=slice(60, 68)))[..., None]
        appearance[t] = _pair_maps(use, ch, frame_t, w)
        report.setdefault("appearance", {})[t] = {"pairs": len(use), "channels": ch}

    # smile removal: what a smile does to the skin around the mouth and eyes, taken away
    def smile_au12(lm: np.ndarray) -> float:
        st = shaper.state(lm)
        return float(np.nan_to_num(au_model.state_aus(st.expression, st.identity)[AU_IDS.index(12)]))

    smile_off = _smile_off_map([(s, g) for s, g in smiles if not s.get("grey") and not g.get("grey")],
                               mean, smile_au12)
    if smile_off is not None:
        report["smile_removal"] = {"pairs": smile_off[2], "au12_of_smiles": round(smile_off[1], 3)}

    # attributes: glasses on / off, luma, in the neutral frame, over the eyes, brows and bridge
    attributes = {}
    glasses = glasses_pairs(datasets, held)
    if glasses:
        canvas = np.stack(np.meshgrid(np.arange(CANON), np.arange(CANON)), -1)
        w = glasses_weight(mean, canvas)[..., None]
        attributes["glasses_on"] = _pair_maps(glasses, 1, mean, w, GLASSES_RIDGE)
        attributes["glasses_off"] = _pair_maps([(g, s) for s, g in glasses], 1, mean, w, GLASSES_RIDGE)
        report["attributes"] = {"glasses": {"pairs": len(glasses), "channels": 1}}

    config = {
        "canon_size": CANON,
        "identity_axes": ki,
        "expression_axes": ke,
        "targets": ["neutral", *targets],
        "lighting": list(NAMED_DIRECTIONS),  # the named directions it relights to (models/shading.py)
        "appearance": {t: int(appearance[t][0].shape[0]) for t in appearance},
        "aus": aus,
        "tuning": StageTuning().to_dict(),  # the tuned values it ships with (weights/stage.md)
    }
    if attributes:
        config["attribute_channels"] = {"glasses": 1}
    if smile_off is not None:
        config["smile_removal"] = True
    model = Stage(config)
    sd_ = model.state_dict()
    for k in ("mean_shape", "identity_basis", "identity_scale", "expression_basis", "expression_scale"):
        sd_[k] = shaper.state_dict()[k]
    for t, v in target_states.items():
        sd_[f"state_{t}"] = torch.tensor(v)
    for t, (gain, bias) in appearance.items():
        sd_[f"gain_{t}"] = torch.tensor(gain)
        sd_[f"bias_{t}"] = torch.tensor(bias)
    for name, (gain, bias) in attributes.items():
        sd_[f"gain_{name}"] = torch.tensor(gain)
        sd_[f"bias_{name}"] = torch.tensor(bias)
    if smile_off is not None:
        sd_["gain_smile_off"] = torch.tensor(smile_off[0][None])
        sd_["smile_au12"] = torch.tensor([smile_off[1]])
    model.load_state_dict({k: v.float() for k, v in sd_.items()})
    report["seconds"] = round(time.time() - t0, 1)
    logger.info("stage fitted in %.0f s: %s", time.time() - t0, report["pairs"])
    return model, report


def _smile_off_map(pairs: list[tuple[dict, dict]], mean: np.ndarray, smile_au12: Callable[[np.ndarray], float]
                   ) -> tuple[np.ndarray, float, int] | None:
    """The smile-removal map from (neutral, smiling) colour pairs of one person: a luma gain per
    pixel of the neutral frame (``mean``), ``neutral ~ gain * smile`` once the smile is warped
    to the neutral photo's landmarks: the skin a smile lifts, creases and lights (the folds from
    the nose to the mouth, the cheeks, the lower lids) as a ratio, which carries no one's skin
    tone (a bias would paint the mean face). Least squares through the origin, divided by its
    median over the region (the two photos' exposure differs a little, which is no part of the
    smile), blurred, and 1 outside the face and inside the lips (the cut and the mouth bank draw
    the mouth). ``smile_au12``: a smile's AU12 intensity from its landmarks. Returns (gain
    (S, S), the mean AU12 of the smiles it was fitted on, pairs), or None with fewer than
    :data:`MIN_COLOUR_PAIRS` pairs."""
    if len(pairs) < MIN_COLOUR_PAIRS:
        return None
    canvas = np.stack(np.meshgrid(np.arange(CANON), np.arange(CANON)), -1)
    w = (region_weight(mean, canvas, inner=0.0, outer=SMILE_OFF_REGION[0])
         * (1.0 - mouth_weight(mean, canvas, inner=0.0, outer=SMILE_OFF_REGION[1])))
    sxx: float | np.ndarray = 0.0
    sxy: float | np.ndarray = 0.0
    au12 = []
    for neutral, smile in pairs:
        src, tgt = _read(smile, 1), _read(neutral, 1)
        ls, ln = _lm(smile), _lm(neutral)
        grid = face_grid(ls)
        field, _ = backward_field(ls, ln, grid)
        x = _to_canonical(warp_photo(src, grid, field), ln, mean, CANON)[..., 0]
        y = _to_canonical(tgt, ln, mean, CANON)[..., 0]
        sxx, sxy = sxx + x * x, sxy + x * y
        au12.append(smile_au12(ls))
    ratio = np.asarray(sxy, np.float64) / np.maximum(np.asarray(sxx, np.float64), 1e-6)
    ratio = ratio / float(np.median(ratio[w > 0.9]))
    gain = cv2.GaussianBlur(ratio.astype(np.float32), (0, 0), SMILE_OFF_BLUR)
    return (1.0 + (gain - 1.0) * w).astype(np.float32), float(np.mean(au12)), len(pairs)


def glasses_pairs(datasets: list[Dataset], held: set[str]) -> list[tuple[dict, dict]]:
    """(without glasses, with glasses) pairs of one subject (Yale: ``labels.glasses`` False /
    True, both neutral), held-out subjects left out. Yale's glasses rows carry no ``pair`` field,
    so they are paired by subject (and by ``pair`` where a set gives one)."""
    out: list[tuple[dict, dict]] = []
    for d in datasets:
        groups: dict[tuple, dict[bool, list[dict]]] = {}
        for r in d.rows:
            g = r["labels"].get("glasses")
            if g is None or r["subject"] in held or len(r["landmarks"]) != 68:
                continue
            if r["labels"].get("expression", "neutral") != "neutral" or "lighting" in r["labels"]:
                continue
            on = g is True or str(g).lower() == "true"
            groups.setdefault((r["subject"], r.get("pair")), {}).setdefault(on, []).append(r)
        for key in sorted(groups, key=str):
            m = groups[key]
            out.extend((s, g) for s in m.get(False, []) for g in m.get(True, []))
    return out


def glasses_weight(lm: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Weight in [0,1] at ``pts`` (..., 2) where glasses sit on a face with landmarks ``lm``:
    1 within GLASSES_REGION[0] eye distances of the convex outline of :data:`GLASSES_POINTS`
    (or inside it), smoothly 0 from GLASSES_REGION[1] on (distances measured perpendicular to the
    outline, so the margin is the same above the brows as beside the eyes)."""
    lm = np.asarray(lm, np.float64)
    iod = eye_distance(lm)
    inner, outer = GLASSES_REGION
    hull = cv2.convexHull(lm[GLASSES_POINTS].astype(np.float32))
    shape = np.shape(pts)[:-1]
    dist = polygon_distance(hull, np.asarray(pts, np.float64).reshape(-1, 2))
    t = np.clip((dist + outer * iod) / ((outer - inner) * iod), 0.0, 1.0)
    return (t * t * (3 - 2 * t)).reshape(shape)


def _pair_maps(pairs, ch: int, frame: np.ndarray, w: np.ndarray, ridge: float = APPEARANCE_RIDGE,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel linear map (gain, bias), each (ch, S, S), from (source, target) row pairs: the
    source warped to the target's own landmarks, both put in the canonical frame whose
    landmarks are ``frame``; ``w`` (S, S, 1) the region where the map may differ from the
    identity (:func:`_linear_maps`, gain shrunk towards 1 by ``ridge``)."""
    # sums of x, y, x*x and x*y over the pairs: 0.0 until the first pair's images are added
    sx: float | np.ndarray = 0.0
    sy: float | np.ndarray = 0.0
    sxx: float | np.ndarray = 0.0
    sxy: float | np.ndarray = 0.0
    n = 0
    for s, g in pairs:
        src, tgt = _read(s, ch), _read(g, ch)
        ls, lg = _lm(s), _lm(g)
        grid = face_grid(ls)
        field, _ = backward_field(ls, lg, grid)
        warped = warp_photo(src, grid, field)
        xw = _to_canonical(warped, lg, frame, CANON)
        yt = _to_canonical(tgt, lg, frame, CANON)
        sx, sy = sx + xw, sy + yt
        sxx, sxy = sxx + xw * xw, sxy + xw * yt
        n += 1
    gain, bias = _linear_maps(sx / n, sy / n, sxx / n, sxy / n, w, ridge)
    return gain.transpose(2, 0, 1), bias.transpose(2, 0, 1)


def _linear_maps(mx, my, mxx, mxy, w, ridge: float = APPEARANCE_RIDGE) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel ``y = gain * x + bias`` from the moments of (x, y) over the pairs.

    The gain is shrunk towards 1 by ``ridge`` (default APPEARANCE_RIDGE) in units of the pixel's own variance of x
    (so where the target does not follow the source, e.g. teeth where the source had lips, the
    gain goes to about 0 and the bias draws the mean target), and wholly to 1 beyond the region
    weight ``w``, where the bias goes to 0. The gain is smoothed a little (it is a ratio of noisy
    moments); the bias keeps its detail."""
    var = np.maximum(mxx - mx * mx, 1e-6)
    cov = mxy - mx * my
    a = ridge + 1e3 * (1.0 - w)
    gain = (cov + a * var) / (var + a * var)
    gain = cv2.GaussianBlur(gain, (0, 0), 1.5).reshape(gain.shape)
    bias = (my - gain * mx) * w
    gain = 1.0 + (gain - 1.0) * w
    return gain, bias


def export_stage(model: Stage, report: dict, path, datasets: list[Dataset], command: str) -> str:
    """Write the fitted stage as a registry checkpoint (fp16 safetensors); returns its sha256."""
    from faceedit.faces.types import CropTemplate
    from faceedit.models.checkpoint import save_model

    names = data_names([d.meta for d in datasets])
    licence = "; ".join(DATA_LICENSES.get(n, f"{n}: see its licence") for n in names)
    if any(n in ("jaffe", "yale", "yaleb") for n in names):
        licence = "non-commercial research use only (data terms). " + licence
    meta = {  # the config is the model's own (save_model writes it)
        "arch": "stage",
        "conditions": {"targets": model.targets(), "lighting": model.lighting,
                       **{a: ["False", "True"] for a in model.attributes}},
        "image_size": 64,
        "channels": 3,
        "template": CropTemplate(size=64).to_json(),
        "training_data": ", ".join(names),
        "license": licence,
        "metrics": report,
        "command": command,
        "method": "stage",
        # every header holds its model's paste settings; the stage pastes no network crop
        "color_match": False,
        "delta_smooth": 0.0,
    }
    return save_model(str(path), model, meta)
