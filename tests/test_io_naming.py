"""Output names (faceedit.io.naming): templates, fields, collisions and what separates them."""

from __future__ import annotations

import os

import pytest
from _io_files import make_tree

from faceedit.errors import OutputError, UsageError
from faceedit.io.inputs import InputItem, expand_inputs
from faceedit.io.naming import OutputNamer


def item(path: str, rel: str | None = None) -> InputItem:
    return InputItem(path, os.path.basename(path) if rel is None else rel)


def test_default_names(tmp_path):
    namer = OutputNamer(tmp_path)
    assert namer.path_for(item("/in/Photo.JPG"), "smile", 1.0) == str(tmp_path / "Photo_smile.jpg")
    assert namer.path_for(item("/in/scan.gif"), "smile", 1.0) == str(tmp_path / "scan_smile.png")


def test_all_fields(tmp_path):
    namer = OutputNamer(
        tmp_path, "{relparent}/{index:03d}-{name}-{stem}-{target}@{strength}{ext}", ext="WEBP"
    )
    assert namer.path_for(item("/in/a/b/p.jpg", "a/b/p.jpg"), "old", 0.5, 7) == str(
        tmp_path / "a" / "b" / "007-p.jpg-p-old@0.5.webp"
    )
    assert namer.path_for(item("/in/q.png"), "old", -1) == str(tmp_path / "000-q.png-q-old@-1.webp")
    fixed = OutputNamer(tmp_path, "{stem}_{strength:.2f}{ext}")
    assert fixed.path_for(item("/in/q.png"), "old", 0.5) == str(tmp_path / "q_0.50.png")


@pytest.mark.parametrize("ext", ["png", ".PNG", ".Jpeg", "tif"])
def test_ext_override_is_normalised(tmp_path, ext):
    namer = OutputNamer(tmp_path, ext=ext)
    expected = "." + ext.lstrip(".").lower()
    assert namer.path_for(item("/in/a.bmp"), "t", 1).endswith("a_t" + expected)


def test_bad_ext_override(tmp_path):
    with pytest.raises(UsageError, match=r"unsupported output extension '\.gif'; use one of \.jpg"):
        OutputNamer(tmp_path, ext=".gif")


@pytest.mark.parametrize(
    "template, message",
    [
        ("{stem}_{colour}{ext}", r"unknown field \{colour\}; fields: \{stem\} \{name\}"),
        ("{stem.upper}{ext}", "unknown field"),
        ("{}{ext}", "unknown field"),
        ("{stem{ext}", "bad `name_template`"),
        ("{stem}}{ext}", "bad `name_template`"),
        ("{index:q}{ext}", "bad `name_template`"),
        ("{stem}_{target}", "no image extension"),
        ("../{stem}{ext}", "escapes the output folder"),
        ("/abs/{stem}{ext}", "escapes the output folder"),
        ("{stem}/{ext}/", "empty or names a folder"),
    ],
)
def test_bad_templates(tmp_path, template, message):
    with pytest.raises(UsageError, match=message):
        OutputNamer(tmp_path, template)


def test_field_values_cannot_escape(tmp_path):
    namer = OutputNamer(tmp_path, "{target}/{stem}{ext}")
    assert namer.path_for(item("/in/p.jpg"), "..", 1) == str(tmp_path / "__" / "p.jpg")
    assert namer.path_for(item("/in/p.jpg"), "../../etc/x", 1) == str(
        tmp_path / ".._.._etc_x" / "p.jpg"
    )
    assert namer.path_for(item("/in/a\\b.jpg"), "t\0u", 1) == str(tmp_path / "t_u" / "a_b.jpg")
    with pytest.raises(OutputError, match="escapes the output folder"):
        namer.path_for(item("/in/p.jpg", "../../p.jpg"), "t", 1)
    with pytest.raises(OutputError, match="escapes the output folder"):
        OutputNamer(tmp_path, "{relparent}/{stem}{ext}").path_for(
            item("/etc/p.jpg", "/etc/p.jpg"), "t", 1
        )


def test_name_that_is_an_existing_folder(tmp_path):
    (tmp_path / "p_t.jpg").mkdir()
    with pytest.raises(OutputError, match="existing folder"):
        OutputNamer(tmp_path).path_for(item("/in/p.jpg"), "t", 1)


def test_predict_claims_nothing(tmp_path):
    namer = OutputNamer(tmp_path)
    assert namer.predict(item("/b/p.jpg"), "smile", 1) == str(tmp_path / "p_smile.jpg")
    assert namer.predict(item("/b/p.jpg", "../../p.jpg"), "t", 1) is None  # escapes: no path
    assert namer.path_for(item("/a/p.jpg"), "smile", 1) == str(tmp_path / "p_smile.jpg")


def test_collisions(tmp_path):
    namer = OutputNamer(tmp_path, "{stem}{ext}")
    first = namer.path_for(item("/a/p.jpg"), "smile", 1)
    assert namer.path_for(item("/a/p.jpg"), "smile", 1) == first  # the same request again is fine
    with pytest.raises(OutputError, match=r"output path collision with /a/p\.jpg"):
        namer.path_for(item("/b/p.jpg"), "smile", 1)
    with pytest.raises(OutputError, match=r"output path collision with /a/p\.jpg"):
        namer.path_for(item("/a/p.jpg"), "old", 1)
    mirrored = OutputNamer(tmp_path, "{relparent}/{stem}{ext}")
    assert mirrored.path_for(item("/a/x/p.jpg", "x/p.jpg"), "t", 1) != mirrored.path_for(
        item("/a/y/p.jpg", "y/p.jpg"), "t", 1
    )


def test_expand_numbers_the_inputs_and_names_use_the_number(tmp_path):
    make_tree(tmp_path)
    d = str(tmp_path)
    items = list(expand_inputs([d, str(tmp_path / "gone.jpg"), d]))
    assert [(os.path.basename(i.path), i.index) for i in items] == [
        ("a.PNG", 0), ("b.jpg", 1), ("gone.jpg", 2)]
    namer = OutputNamer(tmp_path / "o", "{index:02d}_{stem}{ext}")
    assert namer.path_for(items[1], "t", 1) == str(tmp_path / "o" / "01_b.jpg")
    assert namer.predict(items[1], "t", 1) == str(tmp_path / "o" / "01_b.jpg")


def test_collisions_suggest_a_field_that_separates_the_two(tmp_path):
    namer = OutputNamer(tmp_path, "{stem}_{target}{ext}")
    namer.path_for(InputItem("/a/p.jpg", "p.jpg", index=0), "t", 1)
    with pytest.raises(OutputError, match=r"add \{index\} to the name template, e\.g\. "
                       r"`name_template` '\{stem\}_\{target\}_\{index\}\{ext\}'"):
        namer.path_for(InputItem("/b/p.jpg", "p.jpg", index=1), "t", 1)
    with pytest.raises(OutputError, match=r"add \{relparent\} or \{index\} .* `name_template` '\{relparent\}/"):
        namer.path_for(InputItem("/r/x/p.jpg", "x/p.jpg", index=2), "t", 1)
    with pytest.raises(OutputError, match=r"add \{strength\} to"):
        namer.path_for(InputItem("/a/p.jpg", "p.jpg", index=0), "t", 0.5)


def test_condition_fields_are_bound_to_the_runs_values(tmp_path):
    template = OutputNamer.bind("{relparent}/{stem}_{lighting}_{au}_{attr:.3}{ext}",
                                {"lighting": "left", "au": "au12-3", "attr": "glasses-on"})
    assert template == "{relparent}/{stem}_left_au12-3_gla{ext}"
    assert OutputNamer.bind("{lighting}/{stem}{ext}", {"lighting": "../x{y}"}) == ".._x{{y}}/{stem}{ext}"
    namer = OutputNamer(tmp_path, "{lighting}/{stem}{ext}")  # unbound: '', still valid
    assert namer.path_for(item("/in/p.jpg"), "t", 1) == str(tmp_path / "p.jpg")
    with pytest.raises(UsageError, match="unknown field"):
        OutputNamer(tmp_path, "{light}{ext}")
