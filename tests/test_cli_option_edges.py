"""Options at their edges (issue 52): what `faceedit models` lists is what `apply` takes,
`--lighting keep` leaves the light on every model, and the small ones: numbers, repeated keys,
name templates, the help's words."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from faceedit.cli import app

ONE_TORCH_THREAD = True


def run(*args):
    r = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    from _imgs import astronaut
    from PIL import Image

    path = tmp_path_factory.mktemp("in") / "a.png"
    Image.fromarray(np.asarray(astronaut())[:300, 60:360]).save(path)
    return path


def fields(name: str) -> dict:
    from faceedit.models.loading import list_models

    row = next(r for r in list_models() if r["name"] == name)
    return {f["name"]: f for f in row["options"]["fields"]}


def test_models_lists_only_the_aus_and_glasses_words_apply_takes():
    """EGGAN's AUs 9, 10 and 14 (not estimable in its data) are not listed; no model lists
    glasses off (the stage refuses it, and no network takes them off); every listed AU and
    glasses word passes the network's and the stage's own checks."""
    from faceedit.api import Editor
    from faceedit.models.options import model_options
    from faceedit.models.request import EditRequest

    eggan = Editor.from_pretrained("eggan")
    listed = fields("eggan")["aus"]["choices"]
    assert not {9, 10, 14} & set(listed) and {12, 6, 45} <= set(listed)
    network = eggan.loaded.model
    for au in listed:
        if au in network.au_ids:
            network.parse_aus({au: 2.0})  # raises for an AU it cannot edit
        eggan.check_request(EditRequest(target="au", aus={au: 2.0}))
    stage = Editor.from_pretrained("stage").loaded.model
    for name in ("stage", "reggan", "eggan", "legan", "lssl", "secgan"):
        words = fields(name)["attrs"]["values"]["glasses"]
        assert "off" not in words and "on" in words, name
        for word in words:
            model_options(name).check(EditRequest(attrs={"glasses": word}))
            stage.attribute_amounts({"glasses": word})
    code, stdout, _ = run("models")
    text = " ".join(stdout.split())
    assert code == 0 and "--attr glasses= takes on, a number 0.5..1, or a style" in text
    assert "AUs: 1, 2, 4, 5, 6, 7, 12, 15, 17, 20, 23, 25, 26, 45; attributes" in text
    assert ", 9, 10, 14" not in text


def test_an_au_a_model_cannot_move_is_refused_naming_au(photo, tmp_path):
    code, _, stderr = run("apply", photo, "-m", "eggan", "--au", "9=2", "-o", tmp_path)
    assert code == 2 and "--au" in stderr and "aus:" not in stderr and "AU9" in stderr, stderr


@pytest.mark.parametrize("model", ["lssl", "legan", "stage"])
def test_lighting_keep_leaves_the_light(photo, tmp_path, model):
    """`--lighting keep` is listed for every model that relights: it edits as without
    `--lighting` (no relight), the record saying keep."""
    assert "keep" in fields(model)["lighting"]["choices"]
    code, stdout, stderr = run("apply", photo, "-m", model, "-t", "happy", "--lighting", "keep",
                               "-o", tmp_path / "keep", "--json")
    assert code == 0, stderr
    record = json.loads(stdout.splitlines()[0])
    assert record["status"] == "ok" and record["lighting"] == "keep"
    code, stdout, stderr = run("apply", photo, "-m", model, "-t", "happy", "-o", tmp_path / "plain", "--json")
    assert code == 0, stderr
    plain = json.loads(stdout.splitlines()[0])["output"]
    with open(record["output"], "rb") as a, open(plain, "rb") as b:
        assert a.read() == b.read()
