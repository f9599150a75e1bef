"""The input list (faceedit.io.inputs): files, folders, globs, stdin, deduplication, numbering,
formats passed over."""

from __future__ import annotations

import io
import os
import types

from _io_files import make_tree

from faceedit.io import formats
from faceedit.io.formats import PHOTO, input_kind
from faceedit.io.inputs import collect_unread, expand_inputs


def paths(items) -> list[tuple[str, str, str | None]]:
    return [(item.path, item.rel, item.error) for item in items]


def test_expand_is_a_generator(tmp_path):
    assert isinstance(expand_inputs([str(tmp_path)]), types.GeneratorType)


def test_expand_folder(tmp_path):
    make_tree(tmp_path)
    d = str(tmp_path)
    assert paths(expand_inputs([d])) == [
        (os.path.join(d, "a.PNG"), "a.PNG", None),
        (os.path.join(d, "b.jpg"), "b.jpg", None),
    ]


def test_expand_folder_recursive(tmp_path):
    make_tree(tmp_path)
    d = str(tmp_path)
    assert paths(expand_inputs([d], recursive=True)) == [
        (os.path.join(d, "a.PNG"), "a.PNG", None),
        (os.path.join(d, "b.jpg"), "b.jpg", None),
        (os.path.join(d, "sub", "c.webp"), os.path.join("sub", "c.webp"), None),
        (os.path.join(d, "sub", "deep", "d.tif"), os.path.join("sub", "deep", "d.tif"), None),
    ]


def test_expand_files_any_extension_and_missing(tmp_path):
    make_tree(tmp_path)
    notes, missing = str(tmp_path / "notes.txt"), str(tmp_path / "gone.jpg")
    assert paths(expand_inputs([notes, missing])) == [
        (notes, "notes.txt", None),
        (missing, "gone.jpg", "no such file or directory"),
    ]


def test_expand_empty_folder_reports_it(tmp_path):
    (tmp_path / "only_sub" / "x").mkdir(parents=True)
    (tmp_path / "only_sub" / "x" / "p.jpg").write_bytes(b"x")
    [item] = expand_inputs([str(tmp_path / "only_sub")])
    assert item.error and "no photos or videos in folder" in item.error and "`recursive`" in item.error
    assert [i.rel for i in expand_inputs([str(tmp_path / "only_sub")], recursive=True)] == [
        os.path.join("x", "p.jpg")
    ]


def test_expand_globs(tmp_path):
    make_tree(tmp_path)
    d = str(tmp_path)
    assert paths(expand_inputs([os.path.join(d, "*.jpg")])) == [
        (os.path.join(d, "b.jpg"), "b.jpg", None)
    ]
    deep = paths(expand_inputs([os.path.join(d, "**", "[cd].*")], recursive=True))
    assert deep == [
        (os.path.join(d, "sub", "c.webp"), os.path.join("sub", "c.webp"), None),
        (os.path.join(d, "sub", "deep", "d.tif"), os.path.join("sub", "deep", "d.tif"), None),
    ]
    pattern = os.path.join(d, "*.gif")
    assert paths(expand_inputs([pattern])) == [(pattern, "", "pattern matched no files")]


def test_glob_matching_a_folder_expands_it(tmp_path):
    make_tree(tmp_path)
    items = paths(expand_inputs([os.path.join(str(tmp_path), "su?")]))
    assert items == [
        (os.path.join(str(tmp_path), "sub", "c.webp"), os.path.join("sub", "c.webp"), None)
    ]


def test_existing_path_with_glob_characters_is_literal(tmp_path):
    odd = tmp_path / "shot[1].jpg"
    odd.write_bytes(b"x")
    assert paths(expand_inputs([str(odd)])) == [(str(odd), "shot[1].jpg", None)]


def test_expand_stdin(tmp_path):
    make_tree(tmp_path)
    a, b = str(tmp_path / "a.PNG"), str(tmp_path / "b.jpg")
    stdin = io.StringIO(f"  {b}  \n\n{a}\n{tmp_path / 'missing.png'}\n{tmp_path / 'sub'}\n")
    assert paths(expand_inputs(["-"], stdin=stdin)) == [
        (b, "b.jpg", None),
        (a, "a.PNG", None),
        (str(tmp_path / "missing.png"), "missing.png", "no such file or directory"),
        (os.path.join(str(tmp_path / "sub"), "c.webp"), "c.webp", None),
    ]


def test_expand_reports_a_symlink_loop_and_lists_the_rest(tmp_path):
    make_tree(tmp_path)
    os.symlink("loop.jpg", tmp_path / "loop.jpg")
    d = str(tmp_path)
    items = list(expand_inputs([d]))
    assert [(i.rel, i.error and "symbolic links" in i.error) for i in items] == [
        ("a.PNG", None), ("b.jpg", None), ("loop.jpg", True)]
    assert all(i.listed for i in items)
    assert not next(expand_inputs([os.path.join(d, "b.jpg")])).listed  # named, not listed
    assert next(expand_inputs([os.path.join(d, "*.jpg")])).listed


def test_expand_deduplicates_by_real_path(tmp_path):
    make_tree(tmp_path)
    b = str(tmp_path / "b.jpg")
    os.symlink(b, tmp_path / "link.jpg")
    specs = [
        b,
        str(tmp_path),
        os.path.join(str(tmp_path), "sub", "..", "b.jpg"),
        str(tmp_path / "link.jpg"),
    ]
    assert paths(expand_inputs(specs)) == [
        (b, "b.jpg", None),
        (str(tmp_path / "a.PNG"), "a.PNG", None),
    ]


def test_unread_image_formats_are_logged_and_collected(tmp_path, caplog, monkeypatch):
    from faceedit.log import logger

    monkeypatch.setattr(logger, "propagate", True)  # to caplog, whatever the CLI tests set up
    make_tree(tmp_path)
    for name in ("anim.gif", "phone.heic", "raw.CR2"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "clip.gif").write_bytes(b"x")
    with caplog.at_level("DEBUG", logger="faceedit"), collect_unread() as unread:
        items = list(expand_inputs([str(tmp_path), str(tmp_path / "only")]))
    assert unread == [str(tmp_path / n) for n in ("anim.gif", "phone.heic", "raw.CR2")] + [
        str(tmp_path / "only" / "clip.gif")]
    assert f"{tmp_path / 'anim.gif'}: skipped: GIF is not a format faceedit reads" in caplog.text
    assert "notes.txt" not in caplog.text
    assert "1 file(s) in formats faceedit does not read (.gif)" in items[-1].error
    assert list(expand_inputs([str(tmp_path / "only")]))  # no collector: nothing breaks


def test_every_item_says_its_kind(tmp_path):
    make_tree(tmp_path)
    specs = [str(tmp_path), str(tmp_path / "notes.txt"), str(tmp_path / "gone.png")]
    items = list(expand_inputs(specs, recursive=True))
    assert [os.path.basename(i.path) for i in items] == [
        "a.PNG", "b.jpg", "c.webp", "d.tif", "notes.txt", "gone.png"]
    assert {i.kind for i in items} == {PHOTO}  # a file named directly is a photo whatever its name


def test_a_new_kind_is_one_entry_of_the_extension_table(tmp_path, monkeypatch):
    """Folders list the files of every kind KIND_BY_EXT knows, each item with that kind: the
    input list holds kinds other than photos without knowing them."""
    make_tree(tmp_path)
    (tmp_path / "clip.XYZ").write_bytes(b"x")
    assert input_kind("clip.xyz") is None
    assert [i.path for i in expand_inputs([str(tmp_path)])] == [
        str(tmp_path / n) for n in ("a.PNG", "b.jpg")]
    monkeypatch.setitem(formats.KIND_BY_EXT, ".xyz", "clip")
    assert input_kind(tmp_path / "clip.XYZ") == "clip"
    items = list(expand_inputs([str(tmp_path)]))
    assert [(os.path.basename(i.path), i.kind) for i in items] == [
        ("a.PNG", PHOTO), ("b.jpg", PHOTO), ("clip.XYZ", "clip")]
    [named] = expand_inputs([str(tmp_path / "clip.XYZ")])
    assert named.kind == "clip"
