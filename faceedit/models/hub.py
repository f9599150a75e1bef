"""Where a model's weights come from: a shipped file, a local path or the Hugging Face Hub.

A :class:`WeightSource` names the file; :func:`resolve_weights` gives its local path, downloading
a Hub file (pinned to a commit, checked against its sha256 when loaded) when needed and allowed.
The Hub cache and ``HF_HUB_OFFLINE`` are honoured: offline, a file already in the cache is used
and one that is not is a CheckpointError saying so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from faceedit.conditions import parse_switch
from faceedit.errors import CheckpointError
from faceedit.weights import is_hex, weights_dir


@dataclass(frozen=True)
class WeightSource:
    """Where a model's weights are.

    ``kind="file"``: ``file`` is a name inside ``weights_dir()`` (shipped with faceedit).
    ``kind="path"``: ``path`` is a local file.
    ``kind="hub"``: ``repo_id`` + ``filename`` at ``revision`` (a full 40-hex commit, so the
    bytes cannot change under us) with the expected ``sha256`` (required for the Hub).
    """

    kind: Literal["file", "path", "hub"]
    file: str = ""
    path: str = ""
    repo_id: str = ""
    filename: str = ""
    revision: str = ""
    sha256: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "file":
            ok = bool(self.file)
        elif self.kind == "path":
            ok = bool(self.path)
        elif self.kind == "hub":
            ok = bool(self.repo_id and self.filename and is_hex(self.revision, 40) and self.sha256)
        else:
            raise ValueError(f"unknown weight source kind {self.kind!r}; use file, path or hub")
        if not ok:
            raise ValueError(
                f"incomplete {self.kind} weight source {self!r} (file: file; path: path; "
                "hub: repo_id, filename, 40-hex commit revision and sha256)"
            )
        if self.sha256 is not None and not is_hex(self.sha256, 64):
            raise ValueError(f"sha256 must be 64 lowercase hex digits, got {self.sha256!r}")

    @classmethod
    def shipped(cls, file: str, sha256: str | None = None) -> WeightSource:
        return cls(kind="file", file=file, sha256=sha256)

    @classmethod
    def local(cls, path: str | os.PathLike, sha256: str | None = None) -> WeightSource:
        return cls(kind="path", path=os.fspath(path), sha256=sha256)

    @classmethod
    def hub(cls, repo_id: str, filename: str, revision: str, sha256: str) -> WeightSource:
        return cls(kind="hub", repo_id=repo_id, filename=filename, revision=revision, sha256=sha256)

    def describe(self) -> str:
        """Short form for tables: ``weights/x.safetensors``, a path or ``hf://repo/file@commit``."""
        if self.kind == "file":
            return f"weights/{self.file}"
        if self.kind == "path":
            return self.path
        return f"hf://{self.repo_id}/{self.filename}@{self.revision[:8]}"

    def local_path(self) -> Path | None:
        """The file if it is on this machine (shipped, local or in the Hub cache), else None.
        Never downloads."""
        if self.kind == "hub":
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(self.repo_id, self.filename, revision=self.revision)
            return Path(cached) if isinstance(cached, str) else None
        p = weights_dir() / self.file if self.kind == "file" else Path(self.path).expanduser()
        return p if p.is_file() else None


def hub_offline() -> bool:
    """HF_HUB_OFFLINE as huggingface_hub read it at import, or as set since."""
    from huggingface_hub import constants

    return constants.HF_HUB_OFFLINE or parse_switch(os.environ.get("HF_HUB_OFFLINE", "")) is True


class Registered(Protocol):
    """What the weights' lookup reads of a registered model
    (:class:`faceedit.models.registry.ModelSpec`): its name and where its weights are."""

    @property
    def name(self) -> str: ...

    @property
    def source(self) -> WeightSource: ...


def weights_present(spec: Registered) -> bool:
    """Whether the weights of a registered model are on this machine (no download)."""
    return spec.source.local_path() is not None


def resolve_weights(spec: Registered, *, allow_download: bool = True) -> Path:
    """Local path of a registered model's weights file, downloading from the Hub when needed and
    allowed. CheckpointError when unavailable."""
    w = spec.source
    if w.kind == "file":
        folder = weights_dir()
        p = folder / w.file
        if not p.is_file():
            raise CheckpointError(
                f"weights {w.file!r} of model {spec.name!r} not found in {folder} "
                "(set FACEEDIT_WEIGHTS to the folder that holds them)",
                p,
            )
        return p
    if w.kind == "path":
        p = Path(w.path).expanduser()
        if not p.is_file():
            raise CheckpointError(f"weights file of model {spec.name!r} not found", p)
        return p
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    offline = hub_offline()
    try:
        return Path(hf_hub_download(w.repo_id, w.filename, revision=w.revision,
                                    local_files_only=offline or not allow_download))
    except LocalEntryNotFoundError:
        if offline:
            reason = "not in the local Hugging Face cache and offline (HF_HUB_OFFLINE=1)"
        elif not allow_download:
            reason = "not in the local Hugging Face cache and downloading is disabled"
        else:
            reason = "download failed (network error?) and not in the local Hugging Face cache"
        raise CheckpointError(reason, w.describe()) from None
    except Exception as e:  # huggingface_hub: repository/revision/entry not found, HTTP, OS errors
        first = (str(e).strip().splitlines() or [""])[0]
        raise CheckpointError(f"Hub download failed: {type(e).__name__}: {first}", w.describe()) from None
