"""How a run trains (:class:`LoopConfig`), and a trainer's config (``--set KEY=JSON``) and
options (``--option KEY=JSON``) checked before a run writes or loads anything, so a bad value is
one usage error naming it, not a traceback halfway through.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from faceedit.errors import UsageError
from faceedit.models.base import ConfigError, ModelConfig, Range


@dataclass
class LoopConfig:
    """How a run trains (``faceedit train`` and ``train-analysis`` options): its length
    (``steps``, ``budget_minutes``), batch, seed, how often it checkpoints, samples and logs,
    device and autocast, resume or ``--init``, the stage it trains on (``stage``), the held-out
    fraction, trainer ``options`` and torch ``threads``."""

    steps: int = 10_000
    budget_minutes: float | None = None
    batch_size: int | None = None
    seed: int = 0
    ckpt_every: int = 500
    sample_every: int = 500
    log_every: int = 10
    device: str = "auto"
    amp: str = "auto"          # auto (on CUDA) | off | fp16 | bf16
    resume: bool = False
    init: str | None = None
    stage: str | None = "stage"  # methods that train on the stage's edits use this stage; None: pixels alone
    holdout: float = 0.2
    progress: bool = True
    options: dict = field(default_factory=dict)
    # files (name -> text) written into the run folder when the run starts, once its config, data
    # and networks are known good (faceedit train's run.json), so a refused run leaves nothing
    run_files: dict = field(default_factory=dict)
    threads: int | None = None  # torch threads (train_and_export; None: choose_threads picks them)


class TrainerKind(Protocol):
    """What the checks read of a trainer class (:class:`faceedit.train.trainer.Trainer`): what it
    trains, its exported model's typed config, its own config's defaults and the options it
    reads beyond :data:`TRAINER_OPTIONS`."""

    method: str
    config_class: type[ModelConfig] | None
    default_config: dict[str, Any]
    extra_options: tuple[str, ...]


def trainer_config(trainer_cls: type[TrainerKind], config: dict) -> dict:
    """A trainer's config, for a trainer with a ``config_class`` every key checked: ConfigError
    names one that is neither the model's nor the trainer's."""
    config = dict(config)
    if trainer_cls.config_class is not None:
        valid = [*trainer_cls.config_class.keys(), *(k for k in trainer_cls.default_config
                                                      if k not in trainer_cls.config_class.keys())]
        for key in config:
            if key not in valid:
                raise ConfigError(f"unknown {trainer_cls.method} config key {key!r}; valid keys: "
                                  f"{', '.join(valid)}")
    return config


# The ranges of the trainers' own --set keys (those not in the exported model's config), by
# name: a name means the same thing in every trainer. The first pattern that matches applies.
TRAINER_KEY_RANGES: list[tuple[str, Range]] = [
    ("lambda_reg", Range(gt=0)),  # RegGAN's ridge: the expression layers' solve needs it positive
    ("lambda_*", Range(ge=0)), ("d_cls", Range(ge=0)),  # loss weights
    ("lr", Range(gt=0)), ("*_lr", Range(gt=0)),
    ("betas", Range(ge=0, lt=1)), ("beta1", Range(ge=0, lt=1)), ("beta2", Range(ge=0, lt=1)),
    ("d_n_layers", Range(ge=1)), ("d_layers", Range(ge=0)),  # d_layers 0 or null: as many as fit
    ("*channels", Range(ge=1)),
    ("n_critic", Range(ge=0)), ("augment_copies", Range(ge=0)), ("msssim_scales", Range(ge=1)),
    ("keep_prob", Range(ge=0, le=1)), ("quality_q", Range(gt=0)),
]

TRAINER_OPTIONS = {"vgg19": "VGG-19 weights for the perceptual losses (--vgg19)",
                   "semantic": "SeCGAN: false trains the plain baseline (--no-semantic)"}
"""The trainer options (``LoopConfig.options``, ``faceedit train --option KEY=JSON``) the
trainers read; a trainer of a plugin adds its own in ``Trainer.extra_options``."""


def check_config(trainer_cls: type[TrainerKind], config: dict, options: dict | None = None) -> dict:
    """A run's ``--set`` config (and ``--option`` options) checked before anything is written or
    loaded, so a bad value is one usage error (ConfigError) naming it, not a traceback halfway
    through: unknown keys (:func:`trainer_config`); keys of the model config the trainer takes
    from the datasets (the targets...), which a ``--set`` would not change; each model key's type
    and declared range (``ModelConfig.check_values``); each trainer key's type (that of its
    default) and range (``TRAINER_KEY_RANGES``); unknown option names. Returns the config."""
    config = trainer_config(trainer_cls, config)
    cc = trainer_cls.config_class
    model_keys = set(cc.keys()) if cc is not None else set()
    derived = sorted(k for k in config if k in model_keys and k not in trainer_cls.default_config)
    if derived:
        raise ConfigError(f"`config` {derived[0]}: {trainer_cls.method} takes {derived[0]} from the datasets "
                          f"(their labels), not from `config`; leave it out")
    if cc is not None:
        cc.check_values({k: v for k, v in config.items() if k in model_keys})
    for key, value in config.items():
        if key in model_keys:
            continue
        default = trainer_cls.default_config.get(key)
        if default is not None and not _same_json_type(value, default):
            raise ConfigError(f"{trainer_cls.method} config {key}={json.dumps(value)}: expected "
                              f"{_json_type(default)}, as its default {json.dumps(default)}")
        rule = next((r for pattern, r in TRAINER_KEY_RANGES if fnmatch.fnmatchcase(key, pattern)), None)
        problem = rule.problem(value) if rule is not None else None
        if problem:
            raise ConfigError(f"{trainer_cls.method} config {key}={json.dumps(value)}: {problem}")
    known = {**TRAINER_OPTIONS, **{k: "" for k in trainer_cls.extra_options}}
    for key in options or {}:
        if key not in known:
            raise UsageError(f"`options` {key}: no trainer option of that name; known: {', '.join(known)}")
    return config


def _same_json_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, int):
        return isinstance(value, int)
    if isinstance(default, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            return False
        if default and all(isinstance(v, float) for v in default):  # fixed coefficients (betas)
            return len(value) == len(default) and all(_same_json_type(v, 0.0) for v in value)
        if default and all(isinstance(v, int) and not isinstance(v, bool) for v in default):
            return len(value) > 0 and all(_same_json_type(v, 0) for v in value)  # widths: any number of them
        return True
    return isinstance(value, type(default))


def _json_type(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, int):
        return "a whole number"
    if isinstance(default, (list, tuple)):
        if default and all(isinstance(v, float) for v in default):
            return f"a list of {len(default)} numbers"
        if default and all(isinstance(v, int) for v in default):
            return "a list of whole numbers"
        return "a list"
    if isinstance(default, str):
        return "a string"
    return type(default).__name__
