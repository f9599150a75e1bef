"""Calibrate the landmark AU estimator (:mod:`faceedit.faces.au`) on prepared datasets.

``python -m faceedit.train.au_calibration data/london data/jaffe data/yale`` measures the
population neutral reference, each AU's scale and the mean AU intensities of each labelled
expression on the training subjects, and prints them as the Python source that
:mod:`faceedit.faces.au` holds (paste it there; ``tests/test_faces_au.py`` checks the two agree).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from faceedit.faces.au import (
    AU_IDS,
    MEASURES,
    NOT_ESTIMABLE,
    activations,
    dataset_measures,
    normalise_landmarks,
    scaled_intensities,
)

#: The 95th percentile of each AU's activation over labelled expressive faces maps to this.
CALIBRATION_TARGET = 4.5
#: ... unless that would put the 95th percentile of neutral-vs-neutral noise above this (FACS
#: "trace"): a change the size of a subject's neutral-to-neutral variation stays below 1.
NOISE_CEILING = 1.0


def calibrate(datasets: Iterable, seed: int = 0) -> dict:
    """Measure :mod:`faceedit.faces.au`'s ``NEUTRAL_REFERENCE``, ``SCALE`` and ``MEASURED_EXPRESSION_MEANS``.

    ``datasets``: :class:`faceedit.data.Dataset` objects. Only the training subjects of
    :func:`faceedit.data.split_rows` are used (held-out subjects stay unseen).

    * reference: mean over subjects of each subject's mean neutral measures;
    * activation of every expressive (labelled, non-neutral) row relative to its own subject's
      neutral rows; noise = activation of each neutral row relative to the *other* neutral rows
      of its pair group (one session: in the shared data only JAFFE has several neutral photos
      per session; Yale's extra neutral photos differ in glasses, lighting and pose on purpose);
    * ``SCALE[au] = min(CALIBRATION_TARGET / p95(expressive), NOISE_CEILING / p95(noise))``;
    * expression means: mean clipped intensity per labelled expression with these scales.
    Returns these plus the statistics behind them."""
    from faceedit.data import split_rows

    train, _ = split_rows(list(datasets), seed=seed)
    m, ref, groups = dataset_measures(train)
    expr = np.array([r["labels"].get("expression") or "" for r in train])
    subjects = defaultdict(list)
    for i, r in enumerate(train):
        if expr[i] == "neutral":
            subjects[r["subject"]].append(i)
    reference = np.mean([m[idx].mean(0) for idx in subjects.values()], axis=0)

    has_ref = ~np.isnan(ref).any(1)
    expressive = has_ref & (expr != "neutral") & (expr != "")
    act = activations(m - np.where(has_ref[:, None], ref, 0.0))
    pair_neutrals = defaultdict(list)  # one session: photos taken together, same conditions
    for i, r in enumerate(train):
        if expr[i] == "neutral" and r.get("pair"):
            pair_neutrals[r["pair"]].append(i)
    noise = [m[i] - m[[j for j in g if j != i]].mean(0)
             for g in pair_neutrals.values() if len(g) > 1 for i in g]
    noise_act = activations(np.array(noise))

    scale, stats = {}, {}
    for j, au in enumerate(AU_IDS):
        if au in NOT_ESTIMABLE:
            continue
        p_expr = float(np.percentile(act[expressive, j], 95))
        p_noise = float(np.percentile(np.maximum(noise_act[:, j], 0), 95))
        s = min(CALIBRATION_TARGET / p_expr, NOISE_CEILING / p_noise)
        scale[au] = s
        stats[au] = {"p95_expressive": p_expr, "p95_noise": p_noise,
                     "noise_limited": s < CALIBRATION_TARGET / p_expr}

    # the cues AU9 and AU10 would need (why they are NOT_ESTIMABLE): mean change, IOD units
    n = normalise_landmarks(np.array([r["landmarks"] for r in train]))
    cues = {"nose_wing_rise": -(n[:, 31, 1] + n[:, 35, 1]) / 2, "upper_lip_to_nose": n[:, 51, 1] - n[:, 33, 1]}
    unseen = {}
    for cue, v in cues.items():
        dv = np.array([v[i] - v[g].mean() if g else np.nan for i, g in enumerate(groups)])
        unseen[cue] = {e: float(np.nanmean(dv[expressive & (expr == e)])) for e in ("happy", "disgusted", "angry")}

    inten = scaled_intensities(act, scale)
    means = {}
    for e in sorted({e for e in expr[expressive]}):
        sel = expressive & (expr == e)
        means[e] = {au: float(np.mean(inten[sel, j])) for j, au in enumerate(AU_IDS) if au not in NOT_ESTIMABLE}
    return {
        "reference": {k: float(v) for k, v in zip(MEASURES, reference)},
        "scale": scale,
        "expression_means": means,
        "stats": stats,
        "unseen_cues": unseen,
        "counts": {"training_rows": len(train), "expressive_rows": int(expressive.sum()),
                   "neutral_subjects": len(subjects), "noise_photos": len(noise),
                   "per_expression": {e: int((expressive & (expr == e)).sum()) for e in means}},
    }


def format_constants(cal: dict) -> str:
    """Python source of the calibrated constants, as :mod:`faceedit.faces.au` holds them."""
    lines = ["NEUTRAL_REFERENCE: dict[str, float] = {"]
    lines += [f'    "{k}": {v:.5f},' for k, v in cal["reference"].items()]
    lines += ["}", "SCALE: dict[int, float] = {"]
    lines += [f"    {au}: {s:.3f},  # p95 expressive {cal['stats'][au]['p95_expressive']:.4f}, "
              f"p95 neutral noise {cal['stats'][au]['p95_noise']:.4f} IOD"
              + (" (noise-limited)" if cal["stats"][au]["noise_limited"] else "")
              for au, s in cal["scale"].items()]
    lines += ["}", "MEASURED_EXPRESSION_MEANS: dict[str, dict[int, float]] = {"]
    for e, d in cal["expression_means"].items():
        n = cal["counts"]["per_expression"][e]
        lines.append(f'    "{e}": {{{", ".join(f"{au}: {v:.2f}" for au, v in d.items())}}},  # {n} faces')
    lines.append("}")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m faceedit.train.au_calibration DATASET... (prints the constants)
    import json
    import sys

    from faceedit.data import open_datasets

    result = calibrate(open_datasets(sys.argv[1:]))
    print(format_constants(result))
    print(json.dumps({"counts": result["counts"], "unseen_cues": result["unseen_cues"]}), file=sys.stderr)
