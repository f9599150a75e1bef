"""The page's editing (faceedit.ui.studio) without a browser: the preview, the download and the
command that writes the same bytes, the face choice, bad uploads, the form's fields."""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import sys

import numpy as np
import pytest
from _imgs import astronaut, png_bytes, two_astronauts
from PIL import Image

from faceedit.errors import FaceEditError, UsageError
from faceedit.models.request import FIELD, EditRequest
from faceedit.ui.studio import Studio, command_line, safe_name, zip_files

ONE_TORCH_THREAD = True
NAME = "my astronaut é.png"


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    return Studio(max_pixels=2_000_000, workdir=str(tmp_path_factory.mktemp("studio")))


def decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_smile_changes_the_face_alone(studio):
    photo = studio.add_photo(png_bytes(np.asarray(astronaut())), "astronaut.png")
    assert len(photo.boxes) == 1
    before = studio.edit(photo.id, {"model": "stage", "target": "keep"})
    after = studio.edit(photo.id, {"model": "stage", "target": "keep", "controls": {"smile": 0.8}})
    diff = np.abs(after.astype(int) - before.astype(int)).max(axis=2)
    assert diff.max() > 30
    x0, y0, x1, y1 = (int(v) for v in photo.boxes[0])
    outside = diff.copy()
    outside[max(0, y0 - 40):y1 + 40, max(0, x0 - 40):x1 + 40] = 0
    assert outside.max() == 0  # the photo outside the face is left alone
    jpeg = decoded(studio.preview(photo.id, {"model": "stage", "target": "keep", "controls": {"smile": 0.8}}))
    assert jpeg.shape == after.shape


@pytest.mark.slow
def test_command_writes_the_download(studio, tmp_path):
    """The command shown, run where the photo is, writes the download's bytes (the photo's
    name as it is: spaces, an accent)."""
    source = png_bytes(np.asarray(astronaut()))
    (tmp_path / NAME).write_bytes(source)
    photo = studio.add_photo(source, NAME)
    settings = {"model": "stage", "target": "happy", "strength": 0.7, "controls": {"brows": -0.35},
                "light": [35, 15], "light_strength": 0.45, "face": "0"}
    name, data = studio.download(photo.id, settings)
    command = studio.command(photo.id, settings)
    args = shlex.split(command)
    assert args[:3] == ["faceedit", "apply", NAME] and name == "my astronaut é_edited.png"
    subprocess.run([sys.executable, "-m", "faceedit", "-q", *args[1:]], cwd=tmp_path, check=True)
    assert (tmp_path / "edited" / name).read_bytes() == data
    assert (tmp_path / NAME).read_bytes() == source  # the input is kept


@pytest.mark.parametrize("crop", [
    (slice(0, 320), slice(67, 387)),  # the head: its mouth over 100 px apart at the preview's size
    (slice(0, 512), slice(0, 512)),  # the whole photo: a small face's mouth at 700 px, not at 1400
])
def test_large_photo_previews_at_the_shown_size(studio, crop):
    """A photo larger than the preview is edited at the preview's size, its faces scaled: the
    preview matches the full-resolution edit scaled down, a small face's choices too (made by
    the face's size in the photo's own pixels: on the whole astronaut at 700 px the mouth's
    corners are small_weight's, at 1400 px not; the preview had painted the smile's whole
    opening from the bank there, :func:`faceedit.stage.teeth_look.small_smile`, a grey band
    where the full edit keeps the own teeth: its mouth's gap 0.54 of the change). The gap is
    read over the mouth, where those choices act; a quarter of the change: the same choices
    drawn at half the size and scaled down differ by their resampling alone, 0.07 of the change
    on the head, 0.16 on the whole photo's smaller mouth."""
    import cv2

    import faceedit.ui.studio as module
    from faceedit.stage.teeth_look import small_weight
    from faceedit.ui.studio import PREVIEW_SIDE

    big = cv2.resize(np.asarray(astronaut())[crop], (1400, 1400), interpolation=cv2.INTER_CUBIC)
    photo = studio.add_photo(png_bytes(big), f"big{crop[0].stop}.png")
    old, module.PREVIEW_SIDE = PREVIEW_SIDE, 700
    try:
        settings = {"model": "stage", "target": "keep", "controls": {"smile": 0.9}}
        small = studio.edit(photo.id, settings, preview=True).copy()
        full = studio.edit(photo.id, settings)
        lm = photo.at_preview_size()[1][0].landmarks
    finally:
        module.PREVIEW_SIDE = old
    assert small.shape == (700, 700, 3) and full.shape == (1400, 1400, 3)
    corners = float(np.linalg.norm(lm[54] - lm[48]))
    if crop[0].stop == 512:  # the case: a small mouth at the preview's size, a large one at full size
        assert small_weight(corners) > 0.5 and small_weight(2 * corners) == 0.0, corners
    shrunk = cv2.resize(full, (700, 700), interpolation=cv2.INTER_AREA)
    before = cv2.resize(big, (700, 700), interpolation=cv2.INTER_AREA)
    (x0, y0), (x1, y1) = np.floor(lm[48:68].min(0)).astype(int) - 4, np.ceil(lm[48:68].max(0)).astype(int) + 5
    mouth = (slice(y0, y1), slice(x0, x1))
    change = np.abs(shrunk[mouth].astype(int) - before[mouth].astype(int)).mean()
    gap = np.abs(small[mouth].astype(int) - shrunk[mouth].astype(int)).mean()
    assert change > 5.0 and gap < change / 4, (change, gap)


def test_second_face_alone(studio):
    photo = studio.add_photo(png_bytes(two_astronauts()), "two.png")
    assert len(photo.boxes) == 2
    assert photo.boxes[1][0] > 512  # face 1: the smaller, on the right
    base = {"model": "stage", "target": "keep"}
    before = studio.edit(photo.id, base)
    after = studio.edit(photo.id, {**base, "controls": {"smile": 1.0}, "face": "1"})
    diff = np.abs(after.astype(int) - before.astype(int)).max(axis=2)
    assert diff[:, :512].max() == 0 and diff[:, 512:].max() > 30


@pytest.mark.parametrize("data, name, words", [
    (b"", "empty.png", "empty"),
    (b"not an image at all", "notes.txt", "notes.txt"),
    (png_bytes(np.zeros((1500, 1500, 3), np.uint8)), "big.png", "pixels"),
    (b"\x00\x00\x00\x18ftypmp42", "clip.mp4", "clip.mp4"),
])
def test_bad_uploads_say_why(studio, data, name, words):
    with pytest.raises(UsageError, match=words):
        studio.add_photo(data, name)


@pytest.mark.slow
def test_clip_previews_a_frame_then_edits_whole(studio, tmp_path):
    """A clip previews its first frame; the whole clip is edited in the background into the
    bytes the command shown writes."""
    pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
    import time

    from faceedit.video.synth import write_clip

    src = tmp_path / "clip.mp4"
    write_clip(str(src), np.asarray(astronaut()), 8, (256, 192), tone=None)
    photo = studio.add_photo(src.read_bytes(), "clip.mp4")
    assert photo.video and len(photo.boxes) == 1 and photo.image.pixels.shape == (192, 256, 3)
    settings = {"model": "stage", "target": "keep", "controls": {"smile": 0.6}}
    assert decoded(studio.preview(photo.id, settings)).shape == (192, 256, 3)
    with pytest.raises(UsageError, match="whole clip"):
        studio.download(photo.id, settings)
    clip = studio.start_clip(photo.id, settings)
    deadline = time.monotonic() + 300
    while not clip.finished:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert clip.error is None and clip.done == 8
    name, data = studio.clip_file(photo.id)
    args = shlex.split(studio.command(photo.id, settings))
    subprocess.run([sys.executable, "-m", "faceedit", "-q", *args[1:]], cwd=tmp_path, check=True)
    assert name == "clip_edited.mp4" and (tmp_path / "edited" / name).read_bytes() == data


def test_request_errors_name_the_field(studio):
    photo = studio.add_photo(png_bytes(np.asarray(astronaut())), "astronaut.png")
    with pytest.raises(UsageError, match="controls"):
        studio.edit(photo.id, {"model": "stage", "controls": {"smile": 3}})
    with pytest.raises(FaceEditError, match="only 1 face"):
        studio.edit(photo.id, {"model": "stage", "face": "4"})


def test_the_form_is_the_declaration(studio):
    """Each model's fields are the request's declaration (faceedit models --json): every named
    control with the declared range."""
    models = {m["name"]: m for m in studio.models()}
    fields = {f["name"]: f for f in models["stage"]["fields"]}
    assert fields["controls"]["choices"] == list(FIELD["controls"].allowed)
    assert fields["controls"]["range"] == list(FIELD["controls"].range)
    assert fields["strength"]["range"] == list(FIELD["strength"].range)


def test_command_line_reads_back():

    request = EditRequest(target="keep", strength=1.0, controls={"smile": 0.1 + 0.2}, aus={12: 2.5},
                          attrs={"glasses": 1.0}, face="1")
    args = shlex.split(command_line("my photo.jpg", "stage", request))
    assert args[2] == "my photo.jpg"
    assert args[args.index("--control") + 1] == f"smile={0.1 + 0.2!r}"
    assert args[args.index("--au") + 1] == "12=2.5"
    assert args[args.index("--attr") + 1] == "glasses=on"
    assert args[args.index("--face") + 1] == "1"


def test_names_and_zip():
    import zipfile

    assert safe_name("C:\\photos\\my photo (1).JPG") == "my photo (1).JPG"
    assert safe_name("../..") == "photo"
    assert safe_name("a\nb.png") == "a_b.png"
    z = zipfile.ZipFile(io.BytesIO(zip_files([("a.png", b"1"), ("a.png", b"2")])))
    assert z.namelist() == ["a.png", "a_1.png"]


@pytest.mark.slow
def test_cli_serves_on_this_machine_only(tmp_path):
    """`faceedit ui` binds 127.0.0.1 by default and serves the page with its element ids."""
    pytest.importorskip("uvicorn", reason="needs the ui extra (pip install 'faceedit[ui]')")
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "faceedit", "ui", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "faceedit ui did not answer"
                time.sleep(0.2)
        for element in ('id="photo"', 'id="preview"', 'id="command"', 'id="download"'):
            assert element in page
        listening = open("/proc/net/tcp").read() if os.path.exists("/proc/net/tcp") else ""
        if listening:  # the port is bound on 127.0.0.1 alone (0100007F), not 0.0.0.0
            local = [line.split()[1] for line in listening.splitlines()[1:]]
            ours = [addr for addr in local if addr.endswith(f":{port:04X}")]
            assert ours and all(addr.startswith("0100007F:") for addr in ours)
    finally:
        proc.terminate()
        proc.wait(10)


def test_cli_without_the_extra_says_what_to_install(monkeypatch):
    from typer.testing import CliRunner

    import faceedit.ui
    from faceedit.cli import app

    monkeypatch.setattr(faceedit.ui, "missing", lambda: ["starlette"])
    r = CliRunner().invoke(app, ["ui"])
    assert r.exit_code == 2
    assert "faceedit[ui]" in r.output and "starlette" in r.output
    r = CliRunner().invoke(app, ["ui", "--help"])
    assert r.exit_code == 0 and "--host" in r.output and "127.0.0.1" in r.output


def asgi(app, method: str, path: str, body: bytes = b"") -> tuple[int, dict]:
    """One request to the page's app (an ASGI call, no server): its status and JSON body."""
    import asyncio
    import json
    from urllib.parse import urlsplit

    url = urlsplit(path)
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": url.path, "raw_path": url.path.encode(), "query_string": url.query.encode(),
             "headers": [(b"host", b"test")], "client": ("127.0.0.1", 1), "server": ("test", 80), "root_path": ""}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(data) if data[:1] == b"{" else {}


def test_page_takes_registered_model_names_only(studio, tmp_path):
    """A path on the server is never opened (no "not found" or "corrupt" to tell files apart);
    a checkpoint folder named to the page offers its files by name alone."""
    pytest.importorskip("starlette", reason="needs the ui extra (pip install 'faceedit[ui]')")
    from urllib.parse import quote

    from faceedit.ui.app import create_app

    photo = studio.add_photo(png_bytes(np.asarray(astronaut())), "astronaut.png")
    app = create_app(studio)
    answers = set()
    for model in ("/etc/shadow", "/no/such/file.safetensors", "/etc/passwd", str(tmp_path)):
        status, j = asgi(app, "POST", f"/api/preview/{photo.id}", json_bytes({"model": model}))
        assert status == 400 and "the page takes a model by its name" in j["error"], j
        answers.add(j["error"].split(":", 1)[1])
        status, j = asgi(app, "POST", f"/api/photo?name=a.png&model={quote(model)}", png_bytes(np.zeros((8, 8, 3), np.uint8)))
        assert status == 400 and "by its name" in j["error"]
    assert len(answers) == 1  # the same answer whether the file is there or not
    (tmp_path / "mine.safetensors").write_bytes(b"")
    folder = Studio(workdir=str(tmp_path / "w"), checkpoints=str(tmp_path))
    assert folder.checkpoint_names() == ["mine.safetensors"]
    assert folder.model_source("mine.safetensors") == os.path.join(str(tmp_path), "mine.safetensors")
    assert folder.model_source("stage") == "stage"
    for model in (str(tmp_path / "mine.safetensors"), "../mine.safetensors", "/etc/shadow"):
        with pytest.raises(UsageError, match="by its name"):
            folder.model_source(model)


def json_bytes(value) -> bytes:
    import json

    return json.dumps(value).encode()


def test_long_upload_name_is_shortened_and_errors_name_no_server_path(studio):
    """A 300-character name is kept to MAX_NAME_BYTES (its extension kept), the upload works;
    the page's errors name the upload, not where the server keeps it, in the words the page
    shows (the command's --control, the server's --max-pixels)."""
    pytest.importorskip("starlette", reason="needs the ui extra (pip install 'faceedit[ui]')")
    from urllib.parse import quote

    from faceedit.ui.app import create_app
    from faceedit.ui.studio import MAX_NAME_BYTES

    app = create_app(studio)
    for name in ("x" * 300 + ".png", "é" * 200 + ".png", "y" * 300):
        status, j = asgi(app, "POST", f"/api/photo?name={quote(name)}", png_bytes(np.asarray(astronaut())))
        assert status == 200, j
        assert len(j["name"].encode()) <= MAX_NAME_BYTES and j["name"][0] == name[0]
        assert j["name"].endswith(os.path.splitext(name)[1])
    status, j = asgi(app, "POST", f"/api/photo?name={'z' * 300}.png", b"not a photo")
    assert status == 400 and studio.workdir not in j["error"] and j["error"].startswith("z" * 20), j
    status, j = asgi(app, "POST", "/api/photo?name=big.png", png_bytes(np.zeros((1500, 1500, 3), np.uint8)))
    assert status == 400 and "faceedit ui --max-pixels" in j["error"] and "`" not in j["error"], j
    pid = asgi(app, "POST", "/api/photo?name=a.png", png_bytes(np.asarray(astronaut())))[1]["id"]
    status, j = asgi(app, "POST", f"/api/preview/{pid}", json_bytes({"model": "stage", "controls": {"smile": 3}}))
    assert status == 400 and "--control" in j["error"] and "`" not in j["error"], j


def test_cli_port_taken_or_bad_host_one_line_exit_2(tmp_path):
    """Where the address cannot be had, `faceedit ui` says why in one line, exits 2 and
    announces no page."""
    pytest.importorskip("uvicorn", reason="needs the ui extra (pip install 'faceedit[ui]')")
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for args, words in ((["--port", str(port)], f"--port {port}: already in use"),
                            (["--host", "no-such-host.invalid"], "--host 'no-such-host.invalid'"),
                            (["--host", "192.0.2.1"], "--host '192.0.2.1': not an address of this machine")):
            r = subprocess.run([sys.executable, "-m", "faceedit", "ui", *args], capture_output=True, text=True,
                               cwd=tmp_path, timeout=120)
            assert r.returncode == 2, r.stderr
            assert r.stderr.count("\n") == 1 and words in r.stderr, r.stderr
            assert "http://" not in r.stderr + r.stdout
