"""Commands that need no model answer without importing torch: ``faceedit models`` (the registry's
declarations and the checkpoint headers), the help, and the usage errors found before a model
loads. Each runs in a fresh interpreter, since this one has imported torch long ago."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from faceedit.models.registry import get_spec

# Runs the command line in process (typer's CliRunner) and reports what it imported.
SCRIPT = """
import json, sys
from typer.testing import CliRunner
from faceedit.cli import app
result = CliRunner().invoke(app, json.loads(sys.argv[1]))
heavy = sorted(m for m in ("torch", "safetensors.torch", "faceedit.models.base", "faceedit.models.reggan",
                           "faceedit.stage.model", "faceedit.models.checkpoint") if m in sys.modules)
print(json.dumps({"code": result.exit_code, "output": result.output, "imported": heavy}))
"""


def run_fresh(args: list[str], cwd) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env.pop("FACEEDIT_PLUGINS", None)  # a plugin module may import what it likes
    done = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def weights_on_this_machine(name: str) -> bool:
    return get_spec(name).source.local_path() is not None


APPLY = ["apply", "photo.jpg", "-o", "out"]


@pytest.mark.parametrize("args, code, words", [
    (["models"], 0, "reggan"),
    (["models", "--json"], 0, '"name": "stage"'),
    (["--help"], 0, "models"),
    (["apply", "--help"], 0, "--strength"),
    ([*APPLY, "-m", "reggan", "-t", "happy", "--strength", "lots"], 2, "strength"),
    ([*APPLY, "-m", "regan", "-t", "happy"], 2, "unknown model 'regan'"),
    ([*APPLY, "-m", "stage", "-t", "happy", "--control", "frown=1"], 2, "unknown control 'frown'"),
], ids=["models", "models-json", "help", "apply-help", "bad-strength", "unknown-model", "unknown-control"])
def test_answers_without_torch(tmp_path, args, code, words):
    result = run_fresh(args, tmp_path)
    assert result["code"] == code and words in result["output"], result["output"]
    assert result["imported"] == [], f"{' '.join(args)} imported {result['imported']}"


@pytest.mark.parametrize("args, words", [
    ([*APPLY, "-m", "reggan", "-t", "joyful"], "unknown target 'joyful'"),
    ([*APPLY, "-m", "legan", "-t", "happy", "--set", "bogus=1"], "bogus"),
    ([*APPLY, "-m", "secgan", "-t", "happy", "--attr", "hat=on"], "hat"),
], ids=["unknown-target", "unknown-set-key", "unknown-attribute"])
def test_checks_against_the_headers_without_torch(tmp_path, args, words):
    """A model's targets and options are read from its checkpoint header (and its stage's): no
    tensor, no network module, no torch."""
    model = args[args.index("-m") + 1]
    if not (weights_on_this_machine(model) and weights_on_this_machine("stage")):
        pytest.skip(f"weights of {model!r} or of the stage are not on this machine")
    result = run_fresh(args, tmp_path)
    assert result["code"] == 2 and words in result["output"], result["output"]
    assert result["imported"] == [], f"{' '.join(args)} imported {result['imported']}"


def test_listing_matches_in_process(tmp_path):
    """The fresh process's listing (nothing but declarations and headers) is the listing of a
    process that has imported every method's network."""
    import faceedit.models.eggan  # noqa: F401
    import faceedit.models.legan  # noqa: F401
    import faceedit.models.lssl  # noqa: F401
    import faceedit.models.reggan  # noqa: F401
    import faceedit.models.secgan  # noqa: F401
    import faceedit.stage.model  # noqa: F401
    from faceedit.models.loading import list_models

    fresh = json.loads(run_fresh(["models", "--json"], tmp_path)["output"])
    here = json.loads(json.dumps(list_models()))
    assert {row["name"]: row for row in fresh} == {row["name"]: row for row in here}
