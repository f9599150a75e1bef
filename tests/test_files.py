"""Atomic writes (faceedit.files): temporary files of killed writers, text and bytes."""

from __future__ import annotations

import os

from _imgs import gradient
from _io_files import listing

from faceedit.files import write_file_atomically
from faceedit.io.decode import read_image
from faceedit.io.encode import write_image


def test_stale_temp_files_of_a_killed_writer_are_removed(tmp_path):
    """A writer killed (kill -9) between writing its temporary file and renaming it leaves
    ".NAME.PID.XXXXXXXX.tmp"; the next write of NAME removes it, and only such leftovers."""
    import subprocess
    import sys
    import time

    target = tmp_path / "out.png"
    code = (
        "import os, signal, numpy as np\n"
        "from faceedit.io.encode import write_image\n"
        "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"write_image({str(target)!r}, np.zeros((4, 4, 3), np.uint8))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == -9, r.stderr
    [killed] = listing(tmp_path)
    assert killed.startswith(".out.png.") and killed.endswith(".tmp")
    old = time.time() - 3600  # "a few minutes" ago, and then some
    live = os.getppid()  # a running process: its fresh temporary file is being written
    old_foreign = [".out.png.76543210.tmp",  # not our pattern (no pid), untouched for long
                   f".other.png.{live}.0123abcd.tmp"]  # another file's
    keep = [f".out.png.{live}.0123abcd.tmp",  # a live concurrent writer
            ".out.png.89abcdef.tmp", ".out.png.backup.tmp", "out.png.1.0123abcd.tmp",  # not ours
            *old_foreign]
    gone = [f".out.png.{live}.fedcba98.tmp"]  # untouched for too long
    for name in keep + gone:
        (tmp_path / name).write_bytes(b"partial")
    for name in gone + old_foreign:
        os.utime(tmp_path / name, (old, old))
    write_image(target, gradient())
    assert listing(tmp_path) == sorted(keep + ["out.png"])
    assert read_image(target).pixels.shape == (48, 64, 3)


def test_write_file_atomically(tmp_path):
    path = tmp_path / "sub" / "meta.json"
    write_file_atomically(path, '{"a": "\u00e9"}')
    assert path.read_text(encoding="utf-8") == '{"a": "\u00e9"}'
    write_file_atomically(path, b"{}")
    assert path.read_bytes() == b"{}" and listing(path.parent) == ["meta.json"]


def test_check_output_refuses_inputs_folders_and_existing_files(tmp_path):
    """The rules of every command that writes a file: never an input (by any name, or a file in
    an input folder), never a folder, an existing file only with overwrite."""
    import pytest

    from faceedit.errors import UsageError
    from faceedit.io.outputs import check_output

    photo = tmp_path / "in" / "photo.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b"photo")
    (tmp_path / "link.jpg").symlink_to(photo)
    os.link(photo, tmp_path / "hard.jpg")
    for out, inputs in [(photo, [photo]), (tmp_path / "link.jpg", [photo]), (photo, [tmp_path / "link.jpg"]),
                        (tmp_path / "hard.jpg", [photo]), (photo, [tmp_path / "in"]),
                        (tmp_path / "in" / "new.png", [tmp_path / "in"])]:
        with pytest.raises(UsageError, match=r"`out` .*: is an input of this command"):
            check_output(out, inputs=inputs, overwrite=True)
    with pytest.raises(UsageError, match="`sheet` .*: exists; give `overwrite` to replace it"):
        check_output(tmp_path / "hard.jpg", option="sheet")
    with pytest.raises(UsageError, match="is a folder"):
        check_output(tmp_path / "in", overwrite=True)
    check_output(tmp_path / "hard.jpg", inputs=[tmp_path / "elsewhere" / "other.jpg"], overwrite=True)
    check_output(tmp_path / "new.png", inputs=[photo, tmp_path / "in"])  # beside the folder, not in it
    assert photo.read_bytes() == b"photo"
