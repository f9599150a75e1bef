"""``faceedit eval``: how well a model edits held-out faces.

For every edit the model offers (``EditModel.eval_conditions``: target + options + what the output
should show) it edits the held-out source crops of the given prepared datasets and measures:

* **expression / lighting accuracy** of the outputs by the project's classifiers
  (``weights/expression.safetensors``, ``weights/lighting.safetensors``; their own held-out accuracy
  is reported beside, from their metadata);
* **identity preservation**: cosine similarity of identity features (``weights/identity``) of input
  and output, and the same-person rate at the threshold calibrated on real pairs;
* **quality**: mean score of the outputs by the quality estimator (0..10) next to that of the real
  held-out crops;
* **AU error** (AU-conditioned models): MSE and Pearson r between requested AU intensities and the
  intensities estimated from the outputs' landmarks, over the AUs geometry can see;
* **L1 / SSIM** against the real target photo where held-out ground-truth pairs exist (the
  subject's source photo and a real photo of the same session showing the edit's expected
  expression and/or lighting: London smiling, JAFFE/Yale expressions, Extended Yale B lighting),
  next to the same figures for the unedited input;
* **KID / FID** with Inception features only where ``torch-fidelity`` and its weights are
  installed; otherwise reported as unavailable (never approximated with another network).

Held-out subjects come from the same seeded split the trainers use, so they never trained the model.
A missing analysis network turns its metric into ``{"available": false, "reason": ...}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from faceedit.data import Dataset, condition_pairs, holdout_subjects
from faceedit.errors import UsageError
from faceedit.log import logger
from faceedit.models.base import EditModel
from faceedit.pixels import levels_to_signed, signed_to_uint8

BATCH = 32
GT_KEYS = ("expression", "lighting")  # labels a ground-truth photo must match


@dataclass
class EvalData:
    sources: list[dict]
    held: list[dict]


def heldout_rows(datasets: list[Dataset], fraction: float = 0.2, seed: int = 0) -> list[dict]:
    rows = []
    for d in datasets:
        held = holdout_subjects({r["subject"] for r in d.rows}, fraction, seed)
        rows += [r for r in d.rows if r["subject"] in held]
    return rows


def _unavailable(reason: str) -> dict:
    return {"available": False, "reason": reason}


def _analysis(kind: str):
    """The loaded analysis network of ``kind`` or None (with the reason logged once)."""
    from faceedit.analysis.store import analysis_available

    if not analysis_available(kind):
        return None
    if kind in ("expression", "lighting"):
        from faceedit.analysis.classify import load_classifier

        return load_classifier(kind)
    if kind == "identity":
        from faceedit.analysis.identity import load_identity

        return load_identity()
    if kind == "quality":
        from faceedit.analysis.quality import load_quality

        return load_quality()
    raise ValueError(kind)


# The figures of each analysis network's own held-out evaluation (from its checkpoint header,
# as its model card shows them) that say how far its judgement of the edits can be trusted.
OWN_FIGURES = {
    "expression": ("accuracy", "balanced_accuracy", "n"),
    "lighting": ("accuracy", "balanced_accuracy", "n"),
    "identity": ("accuracy", "roc_auc", "threshold"),
    "quality": ("rank_acc_real_vs_degraded", "rank_acc_same_face", "spearman", "real_mean"),
}


def _own_heldout_figures(kind: str) -> dict:
    from faceedit.analysis.store import analysis_meta

    m = analysis_meta(kind).metrics
    return {k: m[k] for k in OWN_FIGURES[kind] if k in m}


def _edit_all(model: EditModel, x: torch.Tensor, target: str, options: dict, device) -> torch.Tensor:
    outs = []
    with torch.inference_mode():
        for i in range(0, x.shape[0], BATCH):
            outs.append(model.edit(x[i:i + BATCH].to(device), target, 1.0, **options).float().cpu())
    return torch.cat(outs)


def _batched(fn, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return torch.cat([fn(x[i:i + BATCH]) for i in range(0, x.shape[0], BATCH)])


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's r of two samples (torchmetrics', in float64); NaN for fewer than two values or
    a constant sample."""
    from torchmetrics.functional.regression import pearson_corrcoef

    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    if a.size < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(pearson_corrcoef(torch.from_numpy(a), torch.from_numpy(b)))


def estimate_output_aus(images: torch.Tensor) -> np.ndarray:
    """AU intensities of generated crops (N, C, S, S) in [-1, 1], from landmarks found by the
    offline detector on the crop upscaled to 256 px; rows where no face is found are NaN."""
    import cv2

    from faceedit.faces.au import AU_IDS, estimate_aus
    from faceedit.faces.detectors import get_detector

    det = get_detector("dlib")
    out = np.full((images.shape[0], len(AU_IDS)), np.nan)
    for i, t in enumerate(images):
        u8 = signed_to_uint8(t)
        a = (u8.expand(3, -1, -1) if u8.shape[0] == 1 else u8).permute(1, 2, 0).numpy()
        a = cv2.resize(a, (256, 256), interpolation=cv2.INTER_CUBIC)
        faces = det.detect(a)
        if faces and faces[0].landmarks.shape[0] == 68:
            out[i] = np.atleast_2d(estimate_aus(faces[0].landmarks))[0]
    return out


INCEPTION_WEIGHTS = "weights-inception-2015-12-05-6726825d.pth"
"""torch-fidelity's Inception-v3 weights (file name in the torch hub cache, ``checkpoints/``)."""


def kid_fid(real: torch.Tensor, fake: torch.Tensor) -> dict:
    """KID/FID with torch-fidelity's Inception-v3 features when that package and its weights (in
    the torch hub cache) are installed; otherwise unavailable (nothing is downloaded at run time,
    this project ships no Inception weights and does not substitute another network)."""
    import os

    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError:
        return _unavailable("needs Inception-v3 features: pip install torch-fidelity (with torchvision) "
                            "and its weights; not installed")
    weights = os.path.join(torch.hub.get_dir(), "checkpoints", INCEPTION_WEIGHTS)
    if not os.path.isfile(weights):
        return _unavailable(f"Inception-v3 weights not found at {weights} (not downloaded at run time)")
    try:
        fe = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=weights)
    except Exception as e:
        return _unavailable(f"Inception-v3 weights unavailable: {str(e).splitlines()[0][:120]}")

    def feats(x):
        u8 = signed_to_uint8(x)
        u8 = u8.expand(-1, 3, -1, -1) if u8.shape[1] == 1 else u8
        return _batched(lambda b: fe(b)[0], u8).double().numpy()

    fr, ff = feats(real), feats(fake)
    return {"available": True, "fid": frechet_distance(fr, ff), "kid": kernel_inception_distance(fr, ff),
            "n_real": len(fr), "n_fake": len(ff)}


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FID formula on two feature sets (N, D): torchmetrics' ``FrechetInceptionDistance`` fed the
    features themselves (float64)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    fid = FrechetInceptionDistance(feature=_Given(a.shape[1]))
    fid.update(torch.as_tensor(a, dtype=torch.float64), real=True)
    fid.update(torch.as_tensor(b, dtype=torch.float64), real=False)
    return float(fid.compute())


class _Given(torch.nn.Module):
    """The "feature extractor" of features computed beforehand (once, for FID and KID alike)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.num_features = int(dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def kernel_inception_distance(a: np.ndarray, b: np.ndarray) -> float:
    """KID (Binkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel over all of
    both sets. Ours, not torchmetrics': its KID draws random subsets of one size from both sets
    (from the global torch RNG), which for sets of unequal size is another, noisier estimate
    (0.1 % off at 400 vs 144 features); for equal sizes the two agree to 1e-13."""
    d = a.shape[1]
    k = lambda x, y: (x @ y.T / d + 1) ** 3  # noqa: E731
    m, n = len(a), len(b)
    kxx, kyy, kxy = k(a, a), k(b, b), k(a, b)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * kxy.mean())


def evaluate(
    model: EditModel,
    meta,
    datasets: list[Dataset],
    *,
    device: torch.device | str = "cpu",
    max_sources: int = 48,
    max_pairs: int = 64,
    sheet: str | Path | None = None,
    sheet_rows: int = 6,
    aus: bool = True,
) -> dict[str, Any]:
    """Metrics of ``model`` (with its checkpoint ``meta``) on the held-out subjects of ``datasets``;
    writes a contact sheet PNG (input | each edit) when ``sheet`` is given."""
    from faceedit.data import load_crops
    from faceedit.eval.metrics import l1, ssim

    size, channels = int(meta.image_size), int(meta.channels)
    held = heldout_rows(datasets)
    if not held:
        raise UsageError("no held-out subjects in the given datasets")
    neutral = [r for r in held if r["labels"].get("expression") == "neutral"]
    sources = neutral or held
    step = max(1, len(sources) // max_sources)
    sources = sources[::step][:max_sources]
    x = levels_to_signed(load_crops(sources, size, channels))
    conds = model.eval_conditions()
    result: dict[str, Any] = {"heldout_subjects": len({r["subject"] for r in held}),
                              "sources": len(sources), "conditions": {}}
    nets = {k: _analysis(k) for k in ("expression", "lighting", "identity", "quality")}
    for k, v in nets.items():
        if v is None:
            logger.warning("eval: no %s network (weights/%s.safetensors); that metric is unavailable", k, k)
    real_q = None
    if nets["quality"] is not None:
        real_q = float(_batched(nets["quality"].score, levels_to_signed(load_crops(held, size, 3))).mean())
    id_ref = _batched(nets["identity"].embed, x) if nets["identity"] is not None else None

    outputs = []
    for c in conds:
        name = c.get("name") or "+".join([c["target"], *[f"{k}={v}" for k, v in c["options"].items()]])
        y = _edit_all(model, x, c["target"], c["options"], device)
        outputs.append((name, y))
        m: dict[str, Any] = {}
        for key in ("expression", "lighting"):
            want = c["expect"].get(key)
            if want is None:
                continue
            net = nets[key]
            if net is None:
                m[f"{key}_accuracy"] = _unavailable(f"no weights/{key}.safetensors")
            elif want not in net.labels:
                m[f"{key}_accuracy"] = _unavailable(f"{want!r} is not a class of the {key} classifier")
            else:
                pred = _batched(net.logits, y).argmax(1)
                m[f"{key}_accuracy"] = float((pred == net.labels.index(want)).float().mean())
        if id_ref is not None:
            sim = (id_ref * _batched(nets["identity"].embed, y)).sum(1)
            m["identity_cosine"] = float(sim.mean())
            m["same_person_rate"] = float((sim >= nets["identity"].threshold).float().mean())
        if nets["quality"] is not None:
            m["quality"] = float(_batched(nets["quality"].score, y).mean())
        want_aus = c["expect"].get("aus")
        if aus and want_aus is not None:
            est = estimate_output_aus(y)
            req = np.broadcast_to(np.asarray(want_aus, float), est.shape)
            ok = ~np.isnan(est) & ~np.isnan(req)
            m["au_mse"] = float(((est - req)[ok] ** 2).mean()) if ok.any() else float("nan")
            m["au_pearson"] = pearson(est[ok], req[ok]) if ok.any() else float("nan")
            m["au_faces_found"] = float((~np.isnan(est).all(1)).mean())
        result["conditions"][name] = m

    # ground truth: held-out (source, real target) photo pairs of the same subject and session,
    # for every edit whose options only name labels it expects (e.g. LEGAN's or LSSL's lighting)
    gt: dict[str, Any] = {}
    for c, (name, _) in zip(conds, outputs):
        expect = {k: v for k, v in c["expect"].items() if k in GT_KEYS}
        if not expect or not set(c["options"]) <= set(expect):
            continue
        pairs = condition_pairs(held, expect, GT_KEYS)
        if not pairs:
            continue
        pairs = pairs[:: max(1, len(pairs) // max_pairs)][:max_pairs]
        src = levels_to_signed(load_crops([p[0] for p in pairs], size, channels))
        real = levels_to_signed(load_crops([p[1] for p in pairs], size, channels))
        y = _edit_all(model, src, c["target"], c["options"], device)
        gt[name] = {"pairs": len(src), "l1": float(l1(y, real).mean()), "ssim": float(ssim(y, real).mean()),
                    "l1_input": float(l1(src, real).mean()), "ssim_input": float(ssim(src, real).mean())}
    result["ground_truth"] = gt or _unavailable("no held-out ground-truth pairs for these edits")

    def mean_of(key):
        vals = [v[key] for v in result["conditions"].values() if isinstance(v.get(key), float)]
        return float(np.mean(vals)) if vals else None

    result["summary"] = {k: mean_of(k) for k in ("expression_accuracy", "lighting_accuracy", "identity_cosine",
                                                 "same_person_rate", "quality", "au_mse", "au_pearson")}
    result["summary"]["quality_real"] = real_q
    result["classifiers"] = {k: _own_heldout_figures(k) if v is not None else None for k, v in nets.items()}
    fake = torch.cat([y for _, y in outputs]) if outputs else x
    result["kid_fid"] = kid_fid(levels_to_signed(load_crops(held, size, 3)), fake)
    if sheet is not None:
        _write_sheet(sheet, x[:sheet_rows], [(n, y[:sheet_rows]) for n, y in outputs])
        result["sheet"] = str(sheet)
    return _clean(result)


def _clean(v):
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, float):
        return round(v, 4) if math.isfinite(v) else None
    return v


def _write_sheet(path: str | Path, x: torch.Tensor, outputs: list[tuple[str, torch.Tensor]]) -> None:
    from faceedit.eval.sheet import labelled_grid, tensor_image
    from faceedit.io.encode import write_image

    rows = [[tensor_image(x[i])] + [tensor_image(y[i]) for _, y in outputs] for i in range(x.shape[0])]
    write_image(str(path), labelled_grid(rows, ["input", *(n for n, _ in outputs)], [""] * len(rows)),
                record={"command": "eval"})  # faceedit's record (faceedit.io.outputs)
    logger.info("contact sheet: %s (columns: input, %s)", path, ", ".join(n for n, _ in outputs))
