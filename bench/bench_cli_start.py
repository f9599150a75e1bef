"""Start-up time of the commands that load no model, each in a fresh process.

    python bench/bench_cli_start.py --runs 5

Median wall time (process start to exit, ``--runs`` runs each, after one warm-up run that fills
the file cache) of:

* ``python -c pass`` and ``python -c "import torch"``: the interpreter alone, and what importing
  torch adds, for scale;
* ``faceedit models`` and ``faceedit models --json``: the listing (the registry's declarations
  and the checkpoint headers, no network module, no torch);
* ``faceedit --help``;
* usage errors found before a model loads: ``apply`` with ``--strength lots``, with an unknown
  ``--model`` name, and with an unknown ``--target`` for a model (checked against its header);

and whether each process imported torch (``-X importtime``'s list of modules).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

APPLY = ["apply", "photo.jpg", "-o", "out"]
COMMANDS: list[tuple[str, list[str]]] = [
    ("python -c pass", [sys.executable, "-c", "pass"]),
    ("python -c 'import torch'", [sys.executable, "-c", "import torch"]),
    ("faceedit models", ["models"]),
    ("faceedit models --json", ["models", "--json"]),
    ("faceedit --help", ["--help"]),
    ("apply --strength lots", [*APPLY, "-m", "reggan", "-t", "happy", "--strength", "lots"]),
    ("apply -m regan (unknown)", [*APPLY, "-m", "regan", "-t", "happy"]),
    ("apply -t joyful (unknown)", [*APPLY, "-m", "reggan", "-t", "joyful"]),
]


def command_line(args: list[str]) -> list[str]:
    """``args`` as run: the ``faceedit`` console script when on PATH (what a user starts), else
    ``python -m faceedit``."""
    if args and args[0] == sys.executable:
        return args
    script = shutil.which("faceedit")
    return [script, *args] if script else [sys.executable, "-m", "faceedit", *args]


def timed(cmd: list[str], cwd: str, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def imports_torch(args: list[str], cwd: str, env: dict) -> bool:
    """Whether the command imports torch: ``-X importtime`` lists every module imported."""
    rest = args[1:] if args and args[0] == sys.executable else ["-m", "faceedit", *args]
    done = subprocess.run([sys.executable, "-X", "importtime", *rest], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    return any(line.rpartition("|")[2].strip() == "torch" for line in done.stderr.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (median reported)")
    args = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env.pop("FACEEDIT_PLUGINS", None)
    with tempfile.TemporaryDirectory() as cwd:
        print(f"{'command':28s} {'median s':>9s} {'min s':>7s}  torch imported")
        for label, cmd_args in COMMANDS:
            cmd = command_line(cmd_args)
            timed(cmd, cwd, env)  # warm-up: the file cache
            times = [timed(cmd, cwd, env) for _ in range(args.runs)]
            torch = "yes" if imports_torch(cmd_args, cwd, env) else "no"
            print(f"{label:28s} {statistics.median(times):9.2f} {min(times):7.2f}  {torch}")


if __name__ == "__main__":
    main()
