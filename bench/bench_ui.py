"""Preview latency of `faceedit ui` per slider move, on 1-MP and 12-MP photos.

    python bench/bench_ui.py [--model stage] [--moves 8] [--no-browser]

1. in process: the function the page's preview calls (``Studio.preview``: the edit through
   ``faceedit.flow.edit_faces`` on the faces found once, at the preview's size (longest side
   2048), then the preview JPEG), one call per smile value, after one call that loads the
   model; beside it the edit at full resolution (what the download writes);
2. through the browser (Debian's Chromium driven by Playwright, the page served from this
   process): the time from setting ``#control-smile`` to the new preview shown.

The photos are scikit-image's astronaut scaled up (1024 x 1024; 4000 x 3000 with the
astronaut at 3000 x 3000 on a grey field), one face each.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def photos() -> dict[str, bytes]:
    from PIL import Image
    from skimage.data import astronaut

    base = Image.fromarray(astronaut())
    one = base.resize((1024, 1024), Image.BICUBIC)
    twelve = Image.new("RGB", (4000, 3000), (128, 128, 128))
    twelve.paste(base.resize((3000, 3000), Image.BICUBIC), (500, 0))
    out = {}
    for name, image in (("1 MP", one), ("12 MP", twelve)):
        buf = io.BytesIO()
        image.save(buf, "PNG")
        out[name] = buf.getvalue()
    return out


def values(n: int) -> list[float]:
    return [round(0.1 + 0.8 * i / max(1, n - 1), 2) for i in range(n)]


def summary(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    return f"median {statistics.median(ms):6.0f} ms  max {ms[-1]:6.0f} ms  (n={len(ms)})"


def in_process(studio, data: bytes, model: str, moves: int) -> tuple[list[float], list[float]]:
    photo = studio.add_photo(data, "bench.png", model)
    studio.preview(photo.id, {"model": model, "target": "keep"})  # loads the model
    previews, edits = [], []
    for v in values(moves):
        settings = {"model": model, "target": "keep", "controls": {"smile": v}}
        t = time.perf_counter()
        studio.preview(photo.id, settings)
        previews.append(time.perf_counter() - t)
        studio._last = None  # the edit again, alone
        t = time.perf_counter()
        studio.edit(photo.id, settings)
        edits.append(time.perf_counter() - t)
    return previews, edits


def in_browser(studio, images: dict[str, bytes], model: str, moves: int) -> dict[str, list[float]]:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from faceedit.ui.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(studio), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    out = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(120_000)
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("body[data-ready=true]")
            page.select_option("#model", model)
            for name, data in images.items():
                page.set_input_files("#photo", files=[{"name": "bench.png", "mimeType": "image/png", "buffer": data}])
                page.wait_for_function("() => document.body.dataset.status === 'ready' && document.getElementById('preview').dataset.settings")
                times = []
                for v in values(moves):
                    t = time.perf_counter()
                    page.fill("#control-smile", str(v))
                    page.wait_for_function(
                        "(v) => document.body.dataset.status === 'ready' && "
                        "document.getElementById('preview').dataset.settings.includes('\"smile\":' + v + '}')", arg=v)
                    times.append(time.perf_counter() - t)
                out[name] = times
            browser.close()
    finally:
        server.should_exit = True
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="stage")
    ap.add_argument("--moves", type=int, default=8)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    import torch

    from faceedit.ui.studio import Studio

    studio = Studio(device="cpu")
    images = photos()
    print(f"model {args.model}, torch threads {torch.get_num_threads()}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '-')}, {os.cpu_count()} CPUs")
    print("in process (Studio.preview: edit at preview size + JPEG; the edit at full resolution):")
    for name, data in images.items():
        previews, edits = in_process(studio, data, args.model, args.moves)
        print(f"  {name:5s} preview {summary(previews)}")
        print(f"  {name:5s} full    {summary(edits)}")
    if args.no_browser:
        return
    if not shutil.which("chromium"):
        print("through the browser: skipped (no chromium)")
        return
    print("through the browser (slider set -> new preview shown):")
    for name, times in in_browser(studio, images, args.model, args.moves).items():
        print(f"  {name:5s} {summary(times)}")


if __name__ == "__main__":
    main()
