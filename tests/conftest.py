import os
import sys
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

sys.path.insert(0, str(TESTS))  # tests import their helper modules (tiny_model, _imgs) directly


def pytest_collection_modifyitems(config, items):
    if SHARED_DATA.is_dir():
        return
    skip = pytest.mark.skip(reason=f"needs the shared face data at {SHARED_DATA} (absent)")
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _python_sigint_handler():
    """Python's own SIGINT handler for the whole run: a suite started as a background job (`cmd &`
    in a script) inherits SIGINT ignored, and the tests of Ctrl-C handling need it delivered."""
    import signal

    old = signal.getsignal(signal.SIGINT)
    if old is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


@pytest.fixture(autouse=True)
def _signal_handlers_kept():
    """Every test leaves SIGINT and SIGTERM as it found them (ray.init installs a SIGTERM handler
    of its own, which later tests of the stop signals would otherwise find in place)."""
    import signal

    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, h in before.items():
        if signal.getsignal(s) is not h and h is not None:
            signal.signal(s, h)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread(request):
    """Modules that set ``ONE_TORCH_THREAD = True`` run on one torch thread: their tiny tensors
    gain nothing from more, and OpenMP threads waiting on each other made training tests 10-40x
    slower on a shared CPU (2.6 s on one thread, 23-100 s on two under load). Module scope and
    autouse, so it is in force before the module's own module-scoped fixtures run."""
    if not getattr(request.module, "ONE_TORCH_THREAD", False):
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return SHARED_DATA


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage.data import astronaut as load

    return load()


@pytest.fixture
def astronaut_png(tmp_path, astronaut) -> Path:
    from PIL import Image

    p = tmp_path / "astronaut.png"
    Image.fromarray(astronaut).save(p)
    return p


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory) -> str:
    from tiny_model import save_tiny

    return save_tiny(tmp_path_factory.mktemp("tiny") / "tiny.safetensors")


@pytest.fixture
def paired_dataset(tmp_path) -> Path:
    """A small prepared dataset of (neutral, happy) pairs, 6 subjects (tests/_datasets.py)."""
    from _datasets import make_dataset

    return make_dataset(tmp_path / "ds", subjects=6, paired=True)


@pytest.fixture
def plugin_env(monkeypatch):
    """Environment for subprocess CLI runs that need the tiny test model."""
    env = dict(os.environ)
    env["FACEEDIT_PLUGINS"] = "tiny_model"
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture(scope="module")
def ray_session():
    """A private Ray on this machine for a test module (``apply --engine ray`` joins it), shut
    down after it, with the SIGTERM handler ray.init puts in taken back out."""
    import signal

    ray = pytest.importorskip("ray", reason='Ray is not installed (pip install "faceedit[ray]")')
    pytest.importorskip("ray.data", reason='Ray Data is not installed (pip install "faceedit[ray]")')
    from faceedit.ray_engine import start_ray

    sigterm = signal.getsignal(signal.SIGTERM)
    started = start_ray(num_cpus=2)
    yield ray
    if started:
        ray.shutdown()
    signal.signal(signal.SIGTERM, sigterm)


@pytest.fixture
def slid(monkeypatch):
    """The stage's plan for ``surprised`` with the mouth slid sideways half an eye distance (a
    move the warp cannot hold: :mod:`faceedit.stage.hold` declines it), for photos and videos."""
    from faceedit.faces.landmarks import eye_distance
    from faceedit.stage import steps

    plan = steps.plan_move

    def sliding(stage, face):
        plan(stage, face)
        if face.request.target == "surprised":
            face.goal = face.goal.copy()
            face.goal[48:68, 0] += 0.5 * eye_distance(face.landmarks)

    monkeypatch.setattr(steps, "plan_move", sliding)
