"""The page of ``faceedit ui`` driven in a real browser: Debian's Chromium through Playwright
(no browser download: it launches the installed executable), through the page's element ids.

Skipped, with the reason, where the ui extra, Playwright or a Chromium is missing. With
FACEEDIT_UI_SCREENSHOT=PATH the smile test also writes the README's screenshot there.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from _imgs import astronaut, png_bytes, two_astronauts
from PIL import Image

pytest.importorskip("starlette", reason="needs the ui extra (pip install 'faceedit[ui]')")
uvicorn = pytest.importorskip("uvicorn", reason="needs the ui extra (pip install 'faceedit[ui]')")
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install playwright)")

CHROMIUM = os.environ.get("FACEEDIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    pytest.skip("needs a Chromium executable (Debian: apt-get install chromium)", allow_module_level=True)

ONE_TORCH_THREAD = True
MAX_PIXELS = 2_000_000  # the server's --max-pixels: a 1500 x 1500 upload is refused


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The page served on a free port of 127.0.0.1 from a thread of this process."""
    from faceedit.ui.app import create_app
    from faceedit.ui.studio import Studio

    studio = Studio(max_pixels=MAX_PIXELS, device="cpu", workdir=str(tmp_path_factory.mktemp("ui")))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(studio), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the page's server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        except Exception as e:  # a Chromium that cannot start here (no display libraries...)
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {e}")
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1180, "height": 760}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(server)
    pg.wait_for_selector("body[data-ready=true]")
    yield pg
    context.close()


def upload(page, name: str, data: bytes, mime: str = "image/png") -> None:
    page.set_input_files("#photo", files=[{"name": name, "mimeType": mime, "buffer": data}])


def settled(page, contains: str = "") -> str:
    """Wait until the preview shows the latest settings (containing ``contains``); return them."""
    page.wait_for_function(
        "(c) => document.body.dataset.status === 'ready' && (document.getElementById('preview').dataset.settings || '').includes(c)",
        arg=contains)
    return page.get_attribute("#preview", "data-settings")


def shot(page) -> np.ndarray:
    """The preview as the browser shows it, without the face boxes drawn over it."""
    page.eval_on_selector("#faces", "e => e.style.visibility = 'hidden'")
    data = page.locator("#preview").screenshot()
    page.eval_on_selector("#faces", "e => e.style.visibility = ''")
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def test_smile_slider_changes_the_preview(page):
    upload(page, "astronaut.png", png_bytes(np.asarray(astronaut())))
    settled(page)
    assert page.locator("#faces rect").count() == 1
    before = shot(page)
    page.fill("#control-smile", "0.8")
    assert '"smile":0.8' in settled(page, "smile")
    after = shot(page)
    assert after.shape == before.shape
    assert np.abs(after - before).max() > 30
    assert "--control smile=0.8" in page.inner_text("#command")
    target = os.environ.get("FACEEDIT_UI_SCREENSHOT")
    if target:  # the README's picture, small
        page.fill("#compare", "0")
        image = Image.open(io.BytesIO(page.screenshot()))
        image = image.resize((image.width * 2 // 3, image.height * 2 // 3), Image.LANCZOS).convert("RGB")
        image.quantize(128).save(target, optimize=True)


@pytest.mark.slow
def test_download_is_the_commands_output(page, tmp_path):
    source = png_bytes(np.asarray(astronaut()))
    (tmp_path / "astronaut.png").write_bytes(source)
    upload(page, "astronaut.png", source)
    settled(page)
    page.select_option("#target", "happy")
    page.fill("#strength", "0.6")
    page.fill("#control-brows", "-0.4")
    settled(page, "brows")
    with page.expect_download() as info:
        page.click("#download")
    data = open(info.value.path(), "rb").read()
    assert info.value.suggested_filename == "astronaut_edited.png"
    args = shlex.split(page.inner_text("#command"))
    assert args[:2] == ["faceedit", "apply"] and "--target" in args and "happy" in args
    subprocess.run([sys.executable, "-m", "faceedit", "-q", *args[1:]], cwd=tmp_path, check=True)
    assert (tmp_path / "edited" / "astronaut_edited.png").read_bytes() == data
    assert Image.open(io.BytesIO(data)).size == (512, 512)  # full resolution


def test_settings_save_and_load_as_a_preset(page, tmp_path):
    """'save settings' downloads the settings as a JSON preset that `faceedit apply --preset`
    reads; 'load settings' of a TOML preset sets the form to it (the other controls unset) and
    names what the page does not set."""
    import json

    from faceedit.preset_file import read_preset

    upload(page, "astronaut.png", png_bytes(np.asarray(astronaut())))
    settled(page)
    page.select_option("#target", "happy")
    page.fill("#strength", "0.6")
    page.fill("#control-brows", "-0.4")
    key = settled(page, "brows")
    with page.expect_download() as info:
        page.click("#save-settings")
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.name == "faceedit-preset.json" and json.loads(saved.read_text()) == json.loads(key)
    got = read_preset(saved)
    assert got["model"] == "stage" and got["target"] == ("happy",) and got["strength"] == (0.6,)
    assert got["controls"] == {"brows": -0.4}
    look = tmp_path / "look.toml"
    look.write_text('model = "stage"\ntarget = "surprised"\nstrength = 0.8\ncontrols = { smile = 0.3 }\nquality = 90\n')
    page.set_input_files("#load-settings", str(look))
    s = json.loads(settled(page, '"smile":0.3'))
    assert s["target"] == "surprised" and s["strength"] == 0.8 and s["controls"] == {"smile": 0.3}, s
    assert "--control smile=0.3" in page.inner_text("#command")
    assert page.inner_text("#preset-note") == "look.toml: the page does not set quality"
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": "stage", "bogus": 1}')
    page.set_input_files("#load-settings", str(bad))
    page.wait_for_function("() => document.getElementById('message').textContent.includes('bad.json')")
    assert page.inner_text("#message").startswith("bad.json: key 'bogus': not a preset's key")


@pytest.mark.slow
def test_an_edit_per_face(page, tmp_path):
    """'an edit per face': click a face, edit it, click the next; each face keeps its own edit;
    the download is what the command shown writes with the saved settings as its --job file."""
    import json

    source = png_bytes(two_astronauts())
    (tmp_path / "two.png").write_bytes(source)
    upload(page, "two.png", source)
    settled(page)
    page.check("#per-face")
    page.select_option("#target", "happy")
    settled(page, '"target":"happy"')
    page.click("#face-1")
    page.select_option("#target", "surprised")
    page.fill("#control-brows", "0.5")
    job = json.loads(settled(page, "brows"))
    assert [(f["face"], f["target"], f.get("controls")) for f in job["faces"]] == [
        (0, "happy", None), (1, "surprised", {"brows": 0.5})], job
    page.click("#face-0")  # the form shows face 0's edit again
    settled(page)
    assert page.input_value("#target") == "happy" and "unset" in page.get_attribute("label:has(#control-brows)", "class")
    assert json.loads(page.get_attribute("#preview", "data-settings")) == job
    args = shlex.split(page.inner_text("#command"))
    assert "--job" in args and args[args.index("--job") + 1] == "faceedit-preset.json"
    with page.expect_download() as info:
        page.click("#save-settings")
    info.value.save_as(tmp_path / "faceedit-preset.json")
    with page.expect_download() as info:
        page.click("#download")
    data = open(info.value.path(), "rb").read()
    subprocess.run([sys.executable, "-m", "faceedit", "-q", *args[1:]], cwd=tmp_path, check=True)
    assert (tmp_path / "edited" / "two_edited.png").read_bytes() == data
    edited = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    diff = np.abs(edited - two_astronauts().astype(int)).max(axis=2)
    assert diff[:, :500].max() > 30 and diff[:, 524:].max() > 30  # both faces edited


def test_second_face_of_two(page):
    upload(page, "two.png", png_bytes(two_astronauts()))
    settled(page)
    assert page.locator("#faces rect").count() == 2
    before = shot(page)
    page.click("#face-1")
    page.fill("#control-smile", "1")
    assert '"face":"1"' in settled(page, "smile")
    assert "--face 1" in page.inner_text("#command")
    diff = np.abs(shot(page) - before).max(axis=2)
    half = diff.shape[1] * 512 // 912
    assert diff[:, half + 4:].max() > 30  # the right face smiles
    assert diff[:, :half - 4].max() < 12  # the left one is left as it was (JPEG noise aside)


def test_bad_uploads_then_a_good_one(page):
    for name, data, words in [("notes.txt", b"not an image", "notes.txt"), ("empty.png", b"", "empty"),
                              ("big.png", png_bytes(np.zeros((1500, 1500, 3), np.uint8)), "pixels")]:
        upload(page, name, data, "application/octet-stream")
        page.wait_for_function("(w) => document.getElementById('message').textContent.includes(w)", arg=words)
    upload(page, "astronaut.png", png_bytes(np.asarray(astronaut())))
    settled(page)
    assert page.inner_text("#message") == ""
    assert page.get_attribute("#preview", "data-photo")
    page.fill("#control-mouth", "0.5")
    settled(page, "mouth")
    assert "--control mouth=0.5" in page.inner_text("#command")


def test_batch_panel_zips_the_files(page):
    """The current settings on two photos and a bad file: progress, the bad file's message, a
    zip of the two edited photos."""
    import zipfile

    photo = png_bytes(np.asarray(astronaut()))
    page.fill("#control-smile", "0.5")
    page.set_input_files("#batch", files=[
        {"name": "a.png", "mimeType": "image/png", "buffer": photo},
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not an image"},
        {"name": "b.png", "mimeType": "image/png", "buffer": png_bytes(two_astronauts())}])
    page.click("#batch-run")
    page.wait_for_function("() => document.getElementById('batch-status').textContent.includes('edited')")
    assert page.inner_text("#batch-status") == "2 / 3 edited"
    assert page.get_attribute("#batch-progress", "value") == "3"
    assert "notes.txt" in page.inner_text("#message")
    with page.expect_download() as info:
        page.click("#batch-download")
    names = zipfile.ZipFile(info.value.path()).namelist()
    assert names == ["a_edited.png", "b_edited.png"]


@pytest.mark.slow
def test_clip_frame_then_whole_clip(page, tmp_path):
    """A clip previews its first frame; 'edit the whole clip' shows progress, then the download
    is the clip the command shown writes."""
    pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
    from faceedit.video.synth import write_clip

    src = tmp_path / "clip.mp4"
    write_clip(str(src), np.asarray(astronaut()), 6, (256, 192), tone=None)
    upload(page, "clip.mp4", src.read_bytes(), "video/mp4")
    settled(page)
    assert page.locator("#faces rect").count() == 1
    assert page.get_attribute("#download", "aria-disabled") == "true"  # the clip first
    page.fill("#control-smile", "0.7")
    settled(page, "smile")
    page.click("#clip")
    page.wait_for_function("() => document.getElementById('clip-status').textContent === 'edited'")
    with page.expect_download() as info:
        page.click("#download")
    data = open(info.value.path(), "rb").read()
    args = shlex.split(page.inner_text("#command"))
    subprocess.run([sys.executable, "-m", "faceedit", "-q", *args[1:]], cwd=tmp_path, check=True)
    assert (tmp_path / "edited" / "clip_edited.mp4").read_bytes() == data


def test_clip_key_frames(page, tmp_path):
    """A clip's key frames typed on the page: the command carries them, and the whole clip the
    page edits is the bytes that command writes; on a photo the field is hidden."""
    pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
    from faceedit.video.synth import write_clip

    src = tmp_path / "clip.mp4"
    write_clip(str(src), np.asarray(astronaut()), 6, (256, 192), tone=None)
    upload(page, "clip.mp4", src.read_bytes(), "video/mp4")
    settled(page)
    page.fill("#keys", "smile=0@0,1@5")
    page.dispatch_event("#keys", "change")
    settled(page, "smile=0@0,1@5")
    assert "--control smile=0@0,1@5" in page.inner_text("#command")
    page.click("#clip")
    page.wait_for_function("() => document.getElementById('clip-status').textContent === 'edited'")
    with page.expect_download() as info:
        page.click("#download")
    data = open(info.value.path(), "rb").read()
    args = shlex.split(page.inner_text("#command"))
    subprocess.run([sys.executable, "-m", "faceedit", "-q", *args[1:]], cwd=tmp_path, check=True)
    assert (tmp_path / "edited" / "clip_edited.mp4").read_bytes() == data
    upload(page, "astronaut.png", png_bytes(np.asarray(astronaut())))
    settled(page)
    assert not page.is_visible("#keys")
