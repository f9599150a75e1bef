"""Which trainer trains which analysis network, and where ``train-analysis`` keeps its run."""

from __future__ import annotations

import os
from pathlib import Path

from faceedit.analysis.store import KIND_MODULES
from faceedit.errors import UsageError
from faceedit.train.analysis.classifier import ExpressionTrainer, LightingTrainer
from faceedit.train.analysis.common import AnalysisTrainer
from faceedit.train.analysis.identity import IdentityTrainer
from faceedit.train.analysis.parser import ParserTrainer
from faceedit.train.analysis.quality import QualityTrainer


def analysis_trainer(kind: str) -> type[AnalysisTrainer]:
    """The trainer of the analysis network ``kind`` (UsageError naming the kinds otherwise)."""
    trainers = {t.kind: t for t in (ExpressionTrainer, LightingTrainer, IdentityTrainer, ParserTrainer,
                                    QualityTrainer)}
    if kind not in trainers:
        raise UsageError(f"unknown analysis network {kind!r}; choose from {', '.join(sorted(KIND_MODULES))}")
    return trainers[kind]


def default_run_dir(out: str | os.PathLike) -> Path:
    """The run folder of ``train-analysis`` when none is given: beside the weights file
    (``weights/expression.safetensors`` -> ``weights/expression.run/``)."""
    out = Path(out)
    return out.with_name(f"{out.stem}.run")
