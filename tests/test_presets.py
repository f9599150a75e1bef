"""Presets (faceedit.preset_file, `faceedit apply --preset FILE` / `--save-preset FILE`): a TOML or
JSON file of options, written and read back to the same run; the command line's options win over
the file's; an unknown key or a bad value is one usage line naming the file and the key; no
pickle is ever read."""

import json
import pickle

import pytest
from typer.testing import CliRunner

from faceedit.apply_options import ApplyOptions
from faceedit.cli import app
from faceedit.errors import UsageError
from faceedit.models.request import EditRequest
from faceedit.preset_file import KEYS, preset_of, read_preset, write_preset

runner = CliRunner()


def run(*args):
    r = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def without_paths(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k not in ("output", "input")}


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_every_kind_of_value_reads_back(tmp_path, suffix):
    """preset_of -> write_preset -> read_preset gives the same request and run options."""
    request = EditRequest.of(lighting=None, light="35,15", light_strength=0.7, aus={12: 3.5, 6: 2},
                             controls={"smile": 0.4, "brows": -0.25}, attrs={"glasses": 0.75, "hair": "blond"},
                             like="ref photo.jpg", phase="refined", settings={"mode": "delta", "steps": [1, 2]},
                             face="1", max_faces=3)
    opts = ApplyOptions(targets=("au", "keep"), strengths=(0.5, 1.25), out_dir="o", request=request, face="1",
                        max_faces=3, quality=80, overwrite=True, on_no_face="copy", key_frames=4,
                        name_template="{stem}-{target}{ext}", ext=".png", verify_min_prob=0.6, force=True)
    path = tmp_path / f"p{suffix}"
    write_preset(path, preset_of("stage", opts, name="mixed ünïcode"))
    got = read_preset(path)
    assert got["name"] == "mixed ünïcode" and got["model"] == "stage"
    assert got["target"] == ("au", "keep") and got["strength"] == (0.5, 1.25)
    back = EditRequest(**{k: got[k] for k in ("light", "light_strength", "aus", "controls", "attrs", "like",
                                             "phase", "settings", "face", "max_faces")})
    assert back == request
    for key in ("quality", "overwrite", "on_no_face", "key_frames", "name_template", "ext", "verify_min_prob", "force"):
        assert got[key] == getattr(opts, key), key
    assert set(got) <= set(KEYS)


def test_the_pages_settings_are_a_preset(tmp_path):
    """The page's settings object (faceedit/ui/page.html settings(): the light as [az, el], AU
    numbers as text) is a JSON preset as it is."""
    page = {"model": "stage", "face": "all", "target": "happy", "strength": 0.8, "light": [-30, 10],
            "light_strength": 0.5, "controls": {"smile": 0.2}, "aus": {"12": 2.5}, "attrs": {"glasses": "on"}}
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page))
    got = read_preset(path)
    assert got["light"] == "-30,10" and got["aus"] == {12: 2.5} and got["attrs"] == {"glasses": 1.0}
    assert got["target"] == ("happy",) and got["strength"] == (0.8,)


def test_saved_preset_runs_the_same_edit(tmp_path, astronaut_png):
    """--save-preset writes the run's options; --preset alone (no --model, no --target) gives the
    same record and the same output bytes."""
    first, second = tmp_path / "o1", tmp_path / "o2"
    preset = tmp_path / "look.toml"
    code, out1, err = run("apply", astronaut_png, "-m", "stage", "-t", "happy", "-s", "0.7", "--control",
                          "brows=-0.3", "--light", "35,15", "--quality", "90", "-o", first, "--json",
                          "--save-preset", preset)
    assert code == 0, err
    text = preset.read_text()
    assert 'model = "stage"' in text and "light = [35.0, 15.0]" in text and "quality = 90" in text, text
    code, out2, err = run("apply", astronaut_png, "--preset", preset, "-o", second, "--json")
    assert code == 0, err
    (r1,), (r2,) = records(out1), records(out2)
    assert without_paths(r1) == without_paths(r2) and r2["strength"] == 0.7 and r2["controls"] == {"brows": -0.3}
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir()) and len(names) == 1
    assert (first / names[0]).read_bytes() == (second / names[0]).read_bytes()


def test_the_command_line_wins(tmp_path, astronaut_png):
    """Each option given on the command line replaces the preset's; --lighting replaces the
    preset's --light; what it does not give stays the preset's."""
    preset = tmp_path / "p.json"
    preset.write_text(json.dumps({"model": "stage", "target": "happy", "strength": 0.4, "light": [35, 15],
                                  "controls": {"brows": 0.5}, "face": "largest"}))
    code, out, err = run("apply", astronaut_png, "--preset", preset, "-o", tmp_path / "o", "--json", "-t", "surprised",
                         "--strength", "1", "--lighting", "left")
    assert code == 0, err
    (rec,) = records(out)
    assert rec["target"] == "surprised" and rec["strength"] == 1.0 and rec["lighting"] == "left"
    assert rec["controls"] == {"brows": 0.5} and rec["face"] == "largest"


@pytest.mark.parametrize("content, says", [
    ('model = "stage"\nbogus = 1\n', "key 'bogus': not a preset's key"),
    ('controls = { smile = 5 }\n', "key 'controls': control smile=5 is outside -1..1"),
    ('quality = "high"\n', "key 'quality': 'high': give a whole number"),
    ('quality = 0\n', "key 'quality': 0: must be between 1 and 100"),
    ('strength = [0.5, 9]\n', "key 'strength': 9: must be between 0 and 1.5"),
    ('on_no_face = "ignore"\n', "key 'on_no_face': 'ignore'; valid: error, skip, copy"),
    ('face = "second"\n', "key 'face': 'second' is not one of all, largest"),
    ('aus = 12\n', "key 'aus': 12: give a table"),
    ('light_strength = 0.5\n', "key 'light_strength': needs light or lighting"),
    ('out_dir = "x"\n', "key 'out_dir': not a preset's key"),
    ('target = "happy\n', "not TOML:"),
])
def test_bad_keys_and_values_are_one_usage_line(tmp_path, astronaut_png, content, says):
    preset = tmp_path / "bad.toml"
    preset.write_text(content)
    with pytest.raises(UsageError, match="bad.toml"):
        read_preset(preset)
    code, out, err = run("apply", astronaut_png, "-m", "stage", "--preset", preset, "-o", tmp_path / "o")
    assert code == 2 and not out and err.count("\n") == 1, err
    assert err.startswith(f"faceedit: error: {preset}: ") and says in err, err
    assert not (tmp_path / "o").exists()


def test_files_that_are_not_presets(tmp_path):
    for name, data, says in [("p.yaml", b"model: stage", "a preset is a .toml or .json file"),
                             ("missing.toml", None, "no such preset file"),
                             ("list.json", b"[1, 2]", "not a table of keys"),
                             ("latin.json", '{"name": "caf\xe9"}'.encode("latin-1"), "not UTF-8 text")]:
        if data is not None:
            (tmp_path / name).write_bytes(data)
        with pytest.raises(UsageError, match=f"{name}: {says}"):
            read_preset(tmp_path / name)


def test_no_pickle_is_read(tmp_path, monkeypatch):
    """A pickle under a preset's suffix is refused as not TOML/JSON, and never unpickled."""
    def refuse(*args, **kwargs):
        raise AssertionError("a pickle was loaded")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    payload = pickle.dumps({"model": "stage", "target": "happy"})
    for name in ("p.json", "p.toml"):
        (tmp_path / name).write_bytes(payload)
        with pytest.raises(UsageError, match="not (JSON|TOML|UTF-8)"):
            read_preset(tmp_path / name)
    (tmp_path / "p.pkl").write_bytes(payload)
    with pytest.raises(UsageError, match="a preset is a .toml or .json file"):
        read_preset(tmp_path / "p.pkl")


def test_model_is_still_required_without_a_preset(tmp_path, astronaut_png):
    code, _, err = run("apply", astronaut_png, "-t", "happy", "-o", tmp_path / "o")
    assert code == 2 and "Missing option '--model'" in err and err.count("\n") == 1, err


@pytest.mark.parametrize("value, hint", [("medium", "--video-preset medium"), ("VerySlow", "--video-preset veryslow"),
                                         ("soft-smile", None)])
def test_preset_that_is_no_file_is_a_usage_error(tmp_path, astronaut_png, monkeypatch, value, hint):
    """--preset takes a preset file only: a value that is none (no such file, no .toml or .json
    suffix) is one usage line naming it, and pointing to --video-preset where it is an x264
    speed word; nothing is written."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run("apply", astronaut_png, "-m", "stage", "-t", "happy", "-o", tmp_path / "o", "--preset", value)
    assert code == 2 and not out and err.count("\n") == 1, err
    assert f"--preset {value}: no such file" in err, err
    assert (hint in err) if hint else "--video-preset" not in err, err
    assert not (tmp_path / "o").exists()
