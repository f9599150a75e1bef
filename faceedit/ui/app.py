"""The page's web server: a Starlette app over a :class:`faceedit.ui.studio.Studio`.

Routes (JSON errors as ``{"error": message}`` with status 400):

``GET /``                          the page (``page.html``)
``GET /api/models``                the models on this machine with the request's fields each takes
``POST /api/photo?name=N``         an upload (the file's bytes): its id, size and face boxes
``GET /api/original/ID``           the photo as uploaded (JPEG, for the before/after view)
``POST /api/preview/ID``           settings (JSON) -> the edited photo (JPEG), the command in
                                   the ``X-Command`` header
``GET /api/download/ID?s=JSON``    the edited photo at full resolution (the command's output)
``POST /api/clip/ID``              settings (JSON): edit the whole clip ID in the background
``GET /api/clip/ID``               its progress (frames done, total, error, ready)
``GET /api/clip/ID/file``          the edited clip
``POST /api/batch/JOB?name=N&s=JSON``  one file of a batch edited with the settings
``GET /api/batch/JOB.zip``         the batch's outputs in a zip
``POST /api/preset?name=N``        a preset file (TOML or JSON, ``faceedit apply --preset``'s): its
                                   settings as the page sets them
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from faceedit.errors import FaceEditError, UsageError
from faceedit.log import logger
from faceedit.ui.studio import Studio, page_error, zip_files


def create_app(studio: Studio) -> Starlette:
    """The app serving ``studio``."""
    page = resources.files("faceedit.ui").joinpath("page.html").read_text(encoding="utf-8")
    batches: dict[str, list[tuple[str, bytes]]] = {}

    def failed(e: Exception) -> JSONResponse:
        if isinstance(e, FaceEditError):
            return JSONResponse({"error": page_error(e)}, status_code=400)
        logger.error("page request failed: %s: %s", type(e).__name__, e)
        logger.debug("page request failed", exc_info=True)
        return JSONResponse({"error": page_error(e)}, status_code=500)

    def settings_of(text: str | bytes | None) -> dict[str, Any]:
        try:
            value = json.loads(text or "{}")
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise FaceEditError("the settings are not a JSON object")
        return value

    async def index(request: Request) -> Response:
        return HTMLResponse(page)

    def models(request: Request) -> Response:
        from faceedit.edits.light import MAX_AZIMUTH, MAX_ELEVATION

        try:
            return JSONResponse({"models": studio.models(),
                                 "light": {"azimuth": MAX_AZIMUTH, "elevation": MAX_ELEVATION}})
        except Exception as e:
            return failed(e)

    async def photo(request: Request) -> Response:
        data = await request.body()
        name = request.query_params.get("name") or "photo"
        model = request.query_params.get("model") or "stage"
        try:
            p = await _threaded(studio.add_photo, data, name, model)
        except Exception as e:
            return failed(e)
        h, w = p.image.pixels.shape[:2]
        return JSONResponse({"id": p.id, "name": p.name, "width": w, "height": h, "boxes": p.boxes,
                             "video": p.video, "output": p.output_name})

    async def original(request: Request) -> Response:
        try:
            data = await _threaded(studio.original, request.path_params["pid"])
        except Exception as e:
            return failed(e)
        return Response(data, media_type="image/jpeg")

    async def preview(request: Request) -> Response:
        pid = request.path_params["pid"]
        try:
            settings = settings_of(await request.body())
            data = await _threaded(studio.preview, pid, settings)
            command = studio.command(pid, settings)
        except Exception as e:
            return failed(e)
        return Response(data, media_type="image/jpeg", headers={"X-Command": quote(command)})

    async def download(request: Request) -> Response:
        try:
            settings = settings_of(request.query_params.get("s"))
            name, data = await _threaded(studio.download, request.path_params["pid"], settings)
        except Exception as e:
            return failed(e)
        return Response(data, media_type="image/png", headers={"Content-Disposition": attachment(name)})

    async def clip_start(request: Request) -> Response:
        try:
            settings = settings_of(await request.body())
            clip = studio.start_clip(request.path_params["pid"], settings)
        except Exception as e:
            return failed(e)
        return JSONResponse(clip.to_json())

    async def clip_state(request: Request) -> Response:
        clip = studio.clips.get(request.path_params["pid"])
        if clip is None:
            return JSONResponse({"error": "no clip is being edited"}, status_code=400)
        return JSONResponse(clip.to_json())

    async def clip_file(request: Request) -> Response:
        try:
            name, data = studio.clip_file(request.path_params["pid"])
        except Exception as e:
            return failed(e)
        return Response(data, media_type="application/octet-stream",
                        headers={"Content-Disposition": attachment(name)})

    async def batch_add(request: Request) -> Response:
        job = request.path_params["job"]
        name = request.query_params.get("name") or "photo"
        try:
            settings = settings_of(request.query_params.get("s"))
            out = await _threaded(studio.batch_one, await request.body(), name, settings)
        except Exception as e:
            return failed(e)
        batches.setdefault(job, []).append(out)
        while len(batches) > 4:  # the oldest batches go
            batches.pop(next(iter(batches)))
        return JSONResponse({"name": out[0]})

    async def batch_zip(request: Request) -> Response:
        files = batches.get(request.path_params["job"])
        if not files:
            return JSONResponse({"error": "no file of this batch was edited"}, status_code=400)
        return Response(zip_files(files), media_type="application/zip",
                        headers={"Content-Disposition": 'attachment; filename="edited.zip"'})

    async def preset(request: Request) -> Response:
        try:
            name = request.query_params.get("name") or "preset.json"
            return JSONResponse(await _threaded(studio.preset_settings, await request.body(), name))
        except Exception as e:
            return failed(e)

    return Starlette(routes=[
        Route("/", index),
        Route("/api/models", models),
        Route("/api/photo", photo, methods=["POST"]),
        Route("/api/original/{pid}", original),
        Route("/api/preview/{pid}", preview, methods=["POST"]),
        Route("/api/download/{pid}", download),
        Route("/api/clip/{pid}", clip_start, methods=["POST"]),
        Route("/api/clip/{pid}", clip_state),
        Route("/api/clip/{pid}/file", clip_file),
        Route("/api/batch/{job}.zip", batch_zip),
        Route("/api/batch/{job}", batch_add, methods=["POST"]),
        Route("/api/preset", preset, methods=["POST"]),
    ])


def attachment(name: str) -> str:
    """A Content-Disposition header naming a download ``name`` (any characters: RFC 6266's
    ``filename*``, an ASCII ``filename`` beside it for old clients)."""
    plain = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


async def _threaded(function, *args):
    """``function(*args)`` on a worker thread (editing is CPU-bound; the server keeps serving)."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(function, *args)


def serve(host: str = "127.0.0.1", port: int = 7860, *, max_pixels: int | None = None,
          device: str = "auto", checkpoints: str | None = None) -> None:
    """Serve the page on ``host:port`` until interrupted. The address is taken before the page
    is announced: a UsageError naming ``host`` or ``port`` where it cannot be (a port in use, a
    host that is not an address of this machine), and nothing announced."""
    import uvicorn

    from faceedit.io.decode import DEFAULT_MAX_PIXELS

    sock = listening_socket(host, port)
    studio = Studio(max_pixels=max_pixels or DEFAULT_MAX_PIXELS, device=device, checkpoints=checkpoints)
    server = uvicorn.Server(uvicorn.Config(create_app(studio), log_level="warning"))
    shown = f"[{host}]" if ":" in host else host
    logger.info("faceedit ui on http://%s:%d/ (Ctrl-C stops it)", shown, port)
    with sock:
        server.run(sockets=[sock])


def listening_socket(host: str, port: int):
    """A TCP socket bound to ``host:port`` and listening; UsageError with the reason where
    ``host`` is not an address of this machine or the port cannot be had."""
    import errno
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as e:
        reason = e.strerror if isinstance(e, socket.gaierror) else str(e)
        raise UsageError(f"`host` {host!r}: not an address this machine can serve on ({reason})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise UsageError(f"`port` {port}: already in use on {host}; choose another `port`") from None
        if e.errno == errno.EADDRNOTAVAIL:
            raise UsageError(f"`host` {host!r}: not an address of this machine") from None
        if e.errno == errno.EACCES:
            raise UsageError(f"`port` {port}: not allowed to serve on it here (ports below 1024 need root)") from None
        raise UsageError(f"`host` {host!r} `port` {port}: cannot serve there ({e.strerror})") from None
    return sock
