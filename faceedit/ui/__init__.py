"""``faceedit ui``: a local web page to tune an edit by eye (the ``ui`` extra: Starlette and
uvicorn).

Drop a photo; its faces are found once and boxed; click one (or all); choose the model, the
target, the strength and every field of the edit request the model takes (controls, AUs, light,
attributes), each built from the request's declaration (:data:`faceedit.models.request.FIELDS`
as :meth:`faceedit.models.options.ModelOptions.fields` gives it per model). The preview reruns
the edit alone (:mod:`faceedit.ui.studio`); the page shows the ``faceedit apply`` line that
writes the download's bytes, and edits a batch of files into a zip.

The page is a plain HTML/JS file served by Starlette (:mod:`faceedit.ui.app`) rather than a
Gradio app: its inputs carry the element ids scripts drive (``photo``, ``preview``,
``command``, ``download``, ``control-NAME``) on the elements themselves, where Gradio puts an
``elem_id`` on a wrapper around them.
"""

from __future__ import annotations

#: The modules the page needs (the ``ui`` extra).
NEEDS = ("starlette", "uvicorn")


def missing() -> list[str]:
    """The modules of the ``ui`` extra that are not installed."""
    import importlib.util

    return [m for m in NEEDS if importlib.util.find_spec(m) is None]


def serve(host: str = "127.0.0.1", port: int = 7860, *, max_pixels: int | None = None,
          device: str = "auto", checkpoints: str | None = None) -> None:
    """Serve the page on ``host:port`` (127.0.0.1: this machine only) until interrupted; the
    registered models, and the ``.safetensors`` files of the folder ``checkpoints`` by file
    name. A UsageError, with nothing served, where the address cannot be had."""
    from faceedit.ui.app import serve as run

    run(host, port, max_pixels=max_pixels, device=device, checkpoints=checkpoints)
