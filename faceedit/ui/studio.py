"""What the page does, without the web: photos decoded and their faces detected once, the edit
rerun per setting through the editing flow, the ``faceedit apply`` line that reproduces it, the
full-resolution file and a batch of files.

The settings of an edit are a mapping as the page sends them: ``model``, the request's fields
(:data:`faceedit.models.request.FIELDS`: ``target``, ``strength``, ``lighting``, ``light``,
``light_strength``, ``aus``, ``controls``, ``attrs``, ``phase``, ``face``), each present only
when set; or, one edit per face, ``model`` and ``faces``: per face ``{"face": N, ...its
request's fields}``, as a ``faceedit apply --job`` file lists them (:meth:`Studio.job`). What a model takes (its fields, their ranges and values) is
:meth:`faceedit.models.options.ModelOptions.fields`, as ``faceedit models --json`` lists it.

A photo is decoded (:func:`faceedit.io.decode.read_image`) and its faces are found by the
detector ``faceedit apply`` uses (:attr:`faceedit.api.Editor.detector`) once, when it is added;
each preview chooses the faces (:func:`faceedit.flow.select_faces`) and runs
:func:`faceedit.flow.edit_faces`, as ``faceedit apply`` does for one photo, and the download is
those pixels written by :func:`faceedit.io.encode.write_image` as the command writes its
output: the same bytes.

A video (the ``video`` extra) previews its first frame the same way; the whole clip is edited
by :func:`faceedit.video.runner.edit_video` as ``faceedit apply`` edits it (faces tracked, the
expression held), in the background (:class:`Clip`); its values may change over the clip, key
frames given as one text (``keys``: :func:`faceedit.models.request.keyed_fields`), the preview
at the first frame's values.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shlex
import shutil
import tempfile
import threading
import uuid
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from faceedit.api import Editor
from faceedit.apply_options import ApplyOptions
from faceedit.edits.keyed import Keyed
from faceedit.errors import FaceEditError, UsageError
from faceedit.faces.types import Face
from faceedit.flow import edit_each, edit_faces, select_faces
from faceedit.io.decode import DEFAULT_MAX_PIXELS, LoadedImage, read_image
from faceedit.io.encode import write_image
from faceedit.io.formats import PHOTO, VIDEO, VIDEO_EXTS
from faceedit.models.request import FIELD, EditRequest, keyed_fields
from faceedit.pixels import to_uint8
from faceedit.plan import output_record

#: The name of the edited file: the command's ``--name`` and the download's, PNG whatever the
#: photo's format (lossless, 16 bits kept).
OUTPUT_NAME = "{stem}_edited.png"
#: The name of an edited video (the command's ``--name`` for a clip): the clip's own container.
VIDEO_NAME = "{stem}_edited{ext}"
#: The folder the command writes into.
OUTPUT_DIR = "edited"
#: The file the page's "save settings" downloads, which the command shown for one edit per face
#: reads (``--job``).
JOB_NAME = "faceedit-preset.json"
#: ``faceedit apply``'s defaults (quality, key frames): the command shown uses them.
APPLY_DEFAULTS = ApplyOptions(targets=["keep"], out_dir=OUTPUT_DIR)
#: The longest side of a preview image (the download is full size).
PREVIEW_SIDE = 2048
#: Photos kept decoded at once (the oldest is dropped).
KEEP_PHOTOS = 8
#: The request's fields the page sets (``like``: a second photo, ``settings``: a model's own
#: keys without declared types, ``max_faces``: the face choice is made by clicking).
PAGE_FIELDS = ("target", "strength", "lighting", "light", "light_strength", "aus", "controls", "attrs",
               "phase", "face")


@dataclass
class Photo:
    """A decoded upload with its faces as detected (``faces``) and numbered as ``face`` N
    numbers them: largest first (``boxes``)."""

    id: str
    name: str
    image: LoadedImage
    faces: list[Face]
    boxes: list[list[float]] = field(default_factory=list)
    video: bool = False  # ``image`` is the clip's first frame
    _small: tuple[np.ndarray, list[Face]] | None = field(default=None, repr=False)

    @property
    def stem(self) -> str:
        return os.path.splitext(self.name)[0]

    def at_preview_size(self) -> tuple[np.ndarray, list[Face]]:
        """The pixels and faces a preview edits: the photo's own where its longest side is at
        most :data:`PREVIEW_SIDE`, else the photo scaled down to it (area average) with its
        faces scaled alike (:func:`scale_face`), computed once. The preview shows the photo at
        that size anyway; a 12-MP photo's edit takes a quarter of the time."""
        if self._small is None:
            pixels, faces = self.image.pixels, self.faces
            h, w = pixels.shape[:2]
            s = PREVIEW_SIDE / max(h, w)
            if s < 1:
                import cv2

                size = (max(1, round(w * s)), max(1, round(h * s)))
                pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
                faces = [scale_face(f, size[0] / w, size[1] / h) for f in faces]
            self._small = (pixels, faces)
        return self._small

    @property
    def output_name(self) -> str:
        """The name the command gives the edited file (a clip in a container only read, an
        MPEG program stream: Matroska, as :func:`faceedit.plan.video_output` chooses)."""
        ext = os.path.splitext(self.name)[1].lower()  # as the command's {ext}
        if not self.video:
            return OUTPUT_NAME.format(stem=self.stem, ext=ext)
        from faceedit.io.inputs import InputItem
        from faceedit.plan import video_output

        return video_output(InputItem(self.image.path, self.name), VIDEO_NAME.format(stem=self.stem, ext=ext))


@dataclass
class Clip:
    """The whole clip being edited in the background: frames ``done`` of ``total``, then the
    output's ``path`` (or the ``error``). One edit runs at a time: previews wait for it."""

    done: int = 0
    total: int = 0
    path: str | None = None
    error: str | None = None
    finished: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"done": self.done, "total": self.total, "finished": self.finished, "error": self.error,
                "ready": self.path is not None}


#: The longest upload name kept, in UTF-8 bytes (file systems take 255; the outputs add a suffix).
MAX_NAME_BYTES = 160


def safe_name(name: str) -> str:
    """An upload's file name as the page saves it and the command names it: its base name
    (after ``/`` or ``\\``), control characters replaced by ``_``, its stem shortened so that
    the name is at most :data:`MAX_NAME_BYTES` bytes (the extension kept); ``photo`` for an
    empty name or a bare dot."""
    base = os.path.basename(str(name).replace("\\", "/")).strip()
    base = re.sub(r"[\x00-\x1f\x7f]", "_", base)
    if base in ("", ".", ".."):
        return "photo"
    if len(base.encode("utf-8")) > MAX_NAME_BYTES:
        stem, ext = os.path.splitext(base)
        if len(ext.encode("utf-8")) > 16:  # no extension worth keeping
            stem, ext = base, ""
        room = MAX_NAME_BYTES - len(ext.encode("utf-8"))
        stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip()
        base = (stem or "photo") + ext
    return base


class Studio:
    """The page's state: the loaded models (one :class:`~faceedit.api.Editor` each, loaded at
    first use), the photos added (decoded, faces found once) and the last preview."""

    def __init__(self, *, max_pixels: int = DEFAULT_MAX_PIXELS, device: str = "auto",
                 workdir: str | None = None, checkpoints: str | None = None) -> None:
        self.max_pixels = max_pixels
        self.device = device
        self.checkpoints = checkpoints  # a folder whose .safetensors files the page offers by name
        self._tmp = tempfile.TemporaryDirectory(prefix="faceedit-ui-") if workdir is None else None
        self.workdir = workdir or self._tmp.name  # type: ignore[union-attr]
        self.photos: OrderedDict[str, Photo] = OrderedDict()
        self._editors: dict[str, Editor] = {}
        self._lock = threading.RLock()  # one edit at a time: the models are not shared across threads
        self._last: tuple[str, str, np.ndarray] | None = None
        self.clips: dict[str, Clip] = {}

    # -- models --------------------------------------------------------------------------------
    def models(self) -> list[dict[str, Any]]:
        """The registered models whose weights are on this machine, then the checkpoints of the
        ``checkpoints`` folder by file name, each with the request's fields it takes
        (``fields``: as ``faceedit models --json`` lists them)."""
        from faceedit.models.loading import list_models
        from faceedit.models.options import model_options

        rows = [{"name": r["name"], "fields": r["options"]["fields"]}
                for r in list_models() if r.get("present") and r.get("options")]
        for name in self.checkpoint_names():
            options = model_options(os.path.join(self.checkpoints or "", name))
            if options is not None:
                rows.append({"name": name, "fields": options.summary()["fields"]})
        return rows

    def checkpoint_names(self) -> list[str]:
        """The ``.safetensors`` files directly in the ``checkpoints`` folder (none without one)."""
        if not self.checkpoints or not os.path.isdir(self.checkpoints):
            return []
        return sorted(n for n in os.listdir(self.checkpoints)
                      if n.lower().endswith(".safetensors") and os.path.isfile(os.path.join(self.checkpoints, n)))

    def model_source(self, model: str) -> str:
        """What :meth:`editor` loads for the page's ``model``: a registered model's name, or a
        file of the ``checkpoints`` folder named by its file name. Anything else (a path on the
        server, a file elsewhere) is a UsageError that reads no file."""
        from faceedit.models.registry import model_names

        if model in model_names():
            return model
        if model in self.checkpoint_names():
            return os.path.join(self.checkpoints or "", model)
        offered = ", ".join([*model_names(), *self.checkpoint_names()])
        raise UsageError(f"model {model!r}: the page takes a model by its name: {offered}")

    def editor(self, model: str) -> Editor:
        with self._lock:
            if model not in self._editors:
                source = self.model_source(model)
                self._editors[model] = Editor.from_pretrained(source, device=self.device, allow_download=False)
            return self._editors[model]

    # -- photos --------------------------------------------------------------------------------
    def add_photo(self, data: bytes, name: str, model: str = "stage") -> Photo:
        """Decode an upload (a video: its first frame) and find its faces. UsageError with the
        reason for an empty file, a file that is neither an image nor a video, or one larger
        than ``max_pixels``."""
        name = safe_name(name)
        self.model_source(model)  # a model the page does not offer: refused before anything is saved
        if not data:
            raise UsageError(f"{name}: the file is empty")
        video = os.path.splitext(name)[1].lower() in VIDEO_EXTS
        pid = uuid.uuid4().hex[:12]
        folder = os.path.join(self.workdir, pid)
        os.makedirs(folder)
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(data)
        try:
            image = first_frame(path, self.max_pixels) if video else read_image(path, max_pixels=self.max_pixels)
        except FaceEditError as e:
            raise UsageError(f"{name}: {e.reason}") from None
        with self._lock:
            faces = self.editor(model).detector.detect(image.rgb8())
        photo = Photo(pid, name, image, list(faces), video=video)
        photo.boxes = [[float(v) for v in f.box] for f in sorted(faces, key=lambda f: -f.area)]
        with self._lock:
            self.photos[pid] = photo
            while len(self.photos) > KEEP_PHOTOS:
                self._forget(next(iter(self.photos)))
        return photo

    def _forget(self, pid: str) -> None:
        """Drop a photo and its saved upload (a clip's edited file stays while the page may
        download it)."""
        photo = self.photos.pop(pid, None)
        if photo is not None and pid not in self.clips:
            shutil.rmtree(os.path.dirname(photo.image.path), ignore_errors=True)

    def photo(self, pid: str) -> Photo:
        try:
            return self.photos[pid]
        except KeyError:
            raise UsageError("that photo is no longer here: add it again") from None

    # -- one edit ------------------------------------------------------------------------------
    def request(self, settings: Mapping[str, Any]) -> tuple[str, EditRequest]:
        """The model and the edit request of ``settings``, checked against the model
        (UsageError naming the field)."""
        model = str(settings.get("model") or "stage")
        fields = {k: settings[k] for k in PAGE_FIELDS if settings.get(k) not in (None, "", {})}
        if isinstance(fields.get("aus"), Mapping):
            fields["aus"] = {int(k): v for k, v in fields["aus"].items()}
        if str(settings.get("keys") or "").strip():  # a clip's key frames, over the sliders' values
            for k, v in keyed_fields(str(settings["keys"])).items():
                fields[k] = {**dict(fields.get(k) or {}), **v} if isinstance(v, dict) else v
        request = EditRequest(**fields)
        return model, self.editor(model).check_request(request)

    def job(self, settings: Mapping[str, Any]) -> tuple[str, dict[int, EditRequest]]:
        """The model and per face its request of settings that edit each face its own way
        (``faces``: a list of ``{"face": N, ...the request's fields}``, as a ``--job`` file
        lists them), each checked against the model."""
        model = str(settings.get("model") or "stage")
        faces = settings.get("faces")
        if not isinstance(faces, list) or not faces:
            raise UsageError("faces: give one edit per face")
        edits: dict[int, EditRequest] = {}
        for entry in faces:
            number = entry.get("face") if isinstance(entry, Mapping) else None
            if isinstance(number, bool) or not isinstance(number, int) or number < 0 or number in edits:
                raise UsageError(f"faces: {number!r} is not a face number given once")
            _, request = self.request({**entry, "model": model, "face": str(number)})
            edits[number] = request
        return model, edits

    def edit(self, pid: str, settings: Mapping[str, Any], *, preview: bool = False) -> np.ndarray:
        """The photo edited as ``settings`` asks, at full resolution (the photo's own bit
        depth; ``preview``: at :meth:`Photo.at_preview_size`): its faces as found, chosen by
        ``face``, through :func:`faceedit.flow.edit_faces`."""
        photo = self.photo(pid)
        key = json.dumps(settings, sort_keys=True) + (" preview" if preview else "")
        with self._lock:
            if self._last is not None and self._last[:2] == (pid, key):
                return self._last[2]
            pixels, found = photo.at_preview_size() if preview else (photo.image.pixels, photo.faces)
            if settings.get("faces") is not None:  # one edit per face (--job)
                model, edits = self.job(settings)
                out = edit_each(self.editor(model), pixels, [
                    (select_faces(found, str(n), 0, photo.name)[0], r) for n, r in edits.items()])
            else:
                model, request = self.request(settings)
                if request.keyed():  # a clip's first frame: the keys' values there; a photo takes none
                    if not photo.video:
                        raise UsageError(f"{', '.join(request.keyed())} given as key frames: a photo takes one value")
                    request = request.resolved(0.0)
                faces = select_faces(found, request.face, request.max_faces, photo.name)
                out = edit_faces(self.editor(model), pixels, faces, request)
            self._last = (pid, key, out)
            return out

    def preview(self, pid: str, settings: Mapping[str, Any], quality: int = 90) -> bytes:
        """The edited photo as a JPEG for the page, its longest side at most
        :data:`PREVIEW_SIDE` (edited at that size: :meth:`Photo.at_preview_size`)."""
        return jpeg(self.edit(pid, settings, preview=True), quality)

    def original(self, pid: str, quality: int = 90) -> bytes:
        return jpeg(self.photo(pid).image.pixels, quality)

    def download(self, pid: str, settings: Mapping[str, Any]) -> tuple[str, bytes]:
        """The edited photo's file name and bytes, at full resolution, written as ``faceedit
        apply`` writes :meth:`command`'s output."""
        photo = self.photo(pid)
        if photo.video:
            raise UsageError(f"{photo.name}: a video; edit the whole clip, then download it")
        pixels = self.edit(pid, settings)
        return self._encode(photo, pixels, settings)

    def _record(self, settings: Mapping[str, Any], path: str, kind: str) -> dict:
        """The record ``faceedit apply`` writes into the output of :meth:`command` (its
        default quality and key frames)."""
        if settings.get("faces") is not None:
            from faceedit.job_run import job_record

            model, edits = self.job(settings)
            return job_record(self.editor(model), edits, path, quality=APPLY_DEFAULTS.quality,
                              key_frames=APPLY_DEFAULTS.key_frames)
        model, request = self.request(settings)
        editor = self.editor(model)
        return output_record(editor.spec.name, request, editor.detector.name, path, kind,
                             quality=APPLY_DEFAULTS.quality, key_frames=APPLY_DEFAULTS.key_frames)

    def _encode(self, photo: Photo, pixels: np.ndarray, settings: Mapping[str, Any]) -> tuple[str, bytes]:
        name = photo.output_name
        folder = tempfile.mkdtemp(dir=self.workdir)
        path = os.path.join(folder, name)
        write_image(path, pixels, photo.image.alpha, like=photo.image, protected=(photo.image.path,),
                    quality=APPLY_DEFAULTS.quality, record=self._record(settings, path, PHOTO))
        with open(path, "rb") as f:
            data = f.read()
        os.remove(path)
        os.rmdir(folder)
        return name, data

    def command(self, pid: str, settings: Mapping[str, Any]) -> str:
        """The ``faceedit apply`` line that writes the download's bytes, run where the photo is
        (it names the photo by the upload's file name)."""
        photo = self.photo(pid)
        if settings.get("faces") is not None:
            model, _ = self.job(settings)
            args = ["faceedit", "apply", photo.name, "--model", self.model_source(model), "--job", JOB_NAME,
                    "--out", OUTPUT_DIR, "--name", OUTPUT_NAME]
            return " ".join(shlex.quote(a) for a in args)
        model, request = self.request(settings)
        return command_line(photo.name, self.model_source(model), request, photo.video)

    # -- a whole clip --------------------------------------------------------------------------
    def start_clip(self, pid: str, settings: Mapping[str, Any]) -> Clip:
        """Edit the whole clip ``pid`` as :meth:`command` would, on a thread of its own; its
        progress is the :class:`Clip` returned (also ``clips[pid]``)."""
        photo = self.photo(pid)
        if not photo.video:
            raise UsageError(f"{photo.name}: a photo, not a clip")
        if settings.get("faces") is not None:
            raise UsageError("one edit per face is for photos: the clip takes one edit")
        model, request = self.request(settings)
        clip = self.clips[pid] = Clip()
        threading.Thread(target=self._edit_clip, args=(photo, model, request, clip), daemon=True).start()
        return clip

    def _edit_clip(self, photo: Photo, model: str, request: EditRequest, clip: Clip) -> None:
        from faceedit.video.container import VideoReader
        from faceedit.video.reuse import Reuse
        from faceedit.video.runner import Progress, VideoSettings, default_tracker, edit_video

        class Counted(Progress):
            def update(self, done: int) -> None:
                clip.done = done

            def close(self, done: int) -> None:
                clip.done = done

        folder = tempfile.mkdtemp(dir=self.workdir)
        path = os.path.join(folder, photo.output_name)
        try:
            with self._lock:
                editor = self.editor(model)
                bar = Counted(photo.name, 0, stream=io.StringIO())
                with VideoReader(photo.image.path) as reader:
                    clip.total = bar.total = reader.info.frames
                record = output_record(editor.spec.name, request, editor.detector.name, path, VIDEO,
                                       quality=APPLY_DEFAULTS.quality, key_frames=APPLY_DEFAULTS.key_frames)
                edit_video(editor, photo.image.path, path, request,
                           VideoSettings(reuse=Reuse(every=APPLY_DEFAULTS.key_frames)), progress=bar,
                           tracker=default_tracker(editor), record=record)
            clip.path = path
        except Exception as e:  # shown on the page; the page goes on
            clip.error = page_error(e)
        finally:
            clip.finished = True

    def clip_file(self, pid: str) -> tuple[str, bytes]:
        clip = self.clips.get(pid)
        if clip is None or clip.path is None:
            raise UsageError("the clip is not edited yet")
        with open(clip.path, "rb") as f:
            return os.path.basename(clip.path), f.read()

    # -- presets -------------------------------------------------------------------------------
    def preset_settings(self, data: bytes, name: str) -> dict[str, Any]:
        """A preset file's (``--preset``'s: :func:`faceedit.preset_file.read_preset`, TOML or
        JSON by ``name``'s suffix) settings as the page sets them: ``model``, the first target
        and strength, the light as ``[AZ, EL]``, the fields of :data:`PAGE_FIELDS` (``ignored``:
        the keys the page has no control for, the run options)."""
        from faceedit.preset_file import preset_of, read_preset

        folder = tempfile.mkdtemp(dir=self.workdir)
        path = os.path.join(folder, safe_name(name))
        try:
            with open(path, "wb") as f:
                f.write(data)
            values = read_preset(path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        fields = {k: values[k] for k in PAGE_FIELDS if k in values and k not in ("target", "strength")}
        opts = ApplyOptions(targets=values.get("target", ())[:1], strengths=values.get("strength", (1.0,))[:1],
                            out_dir=OUTPUT_DIR, request=EditRequest(**fields), face=fields.get("face", "all"))
        out = preset_of(values.get("model"), opts)
        if "faces" in values:  # a job: each face's edit as the page sets it
            out["faces"] = [{"face": n, **{k: v for k, v in preset_of(None, ApplyOptions(
                targets=(r.target,), strengths=(r.strength,), out_dir=OUTPUT_DIR, request=r)).items()
                if k in PAGE_FIELDS}} for n, r in values["faces"]]
        out["ignored"] = sorted(k for k in values if k not in (*PAGE_FIELDS, "model", "name", "faces"))
        return out

    # -- many files ----------------------------------------------------------------------------
    def batch_one(self, data: bytes, name: str, settings: Mapping[str, Any]) -> tuple[str, bytes]:
        """One file of a batch: added, edited and written as :meth:`download` does."""
        if os.path.splitext(safe_name(name))[1].lower() in VIDEO_EXTS:
            raise UsageError(f"{safe_name(name)}: a video; the batch edits photos (a clip: add it as the photo)")
        photo = self.add_photo(data, name, str(settings.get("model") or "stage"))
        try:
            return self._encode(photo, self.edit(photo.id, settings), settings)
        finally:
            with self._lock:
                self._forget(photo.id)
                self._last = None


def page_error(e: Exception) -> str:
    """An error as the page shows it, one line that names no file of the server: a
    FaceEditError's reason after its file's base name (an upload's name, not where the server
    keeps it), each parameter the library names in backquotes (`` `controls` ``) as the option
    of the ``faceedit apply`` line the page shows (``--control``) and the photo limit as the
    server's option (``faceedit ui --max-pixels``); any other error by its kind alone (its
    message may name the server's files)."""
    if not isinstance(e, FaceEditError):
        return f"the server failed ({type(e).__name__}); its log says more"

    def word(m: re.Match) -> str:
        name = m.group(1)
        if name == "max_pixels":
            return "faceedit ui --max-pixels"
        return FIELD[name].flag if name in FIELD else name.replace("_", " ")

    text = re.sub(r"`([A-Za-z_][A-Za-z0-9_]*)`", word, e.reason)
    return f"{os.path.basename(e.path)}: {text}" if e.path else text


def command_line(name: str, model: str, request: EditRequest, video: bool = False) -> str:
    """``faceedit apply NAME --model MODEL ...``: every field of ``request`` the page sets, by
    its flag, with the numbers written so that they read back the same."""
    args = ["faceedit", "apply", name, "--model", model, "--out", OUTPUT_DIR,
            "--name", VIDEO_NAME if video else OUTPUT_NAME,
            "--target", request.target, "--strength", _number(request.strength)]
    if request.lighting is not None:
        args += [FIELD["lighting"].flag, request.lighting]
    if request.light is not None:
        args += [FIELD["light"].flag, request.light]
    if request.light_strength is not None:
        args += [FIELD["light_strength"].flag, _number(request.light_strength)]
    for key in ("aus", "controls"):
        values = getattr(request, key)
        if values:
            args += [FIELD[key].flag, ",".join(f"{k}={_number(v)}" for k, v in values.items())]
    if request.attrs:
        from faceedit.models.request import attr_word

        args += [FIELD["attrs"].flag, ",".join(f"{k}={attr_word(v)}" for k, v in request.attrs.items())]
    if request.phase is not None:
        args += [FIELD["phase"].flag, request.phase]
    if request.face != FIELD["face"].default:
        args += [FIELD["face"].flag, request.face]
    return " ".join(shlex.quote(a) for a in args)


def first_frame(path: str, max_pixels: int) -> LoadedImage:
    """A clip's first frame as a decoded photo (ImageError naming the file where it is not a
    video PyAV can read; UsageError without the ``video`` extra)."""
    from faceedit.errors import ImageError
    from faceedit.video.container import Frame, VideoReader

    with VideoReader(path) as reader:
        info = reader.info
        if info.width * info.height > max_pixels:
            raise ImageError(f"{info.width}x{info.height} frames: more than {max_pixels} pixels (`max_pixels`)", path)
        for item in reader:
            if isinstance(item, Frame):
                return LoadedImage(path, item.rgb, None, "PNG", False, None, None, False)
    raise ImageError("no video frame could be decoded", path)


def scale_face(face: Face, sx: float, sy: float) -> Face:
    """``face`` on the photo scaled by ``sx``, ``sy`` (pixel centres at integers: x -> (x +
    0.5) sx - 0.5); a mesh's depth scales by their mean, its ``photo_scale`` by their mean's
    inverse (the stage's choices by a face's size read it at the photo's own size)."""
    import dataclasses

    scale = np.array([sx, sy])

    def points(p: np.ndarray) -> np.ndarray:
        """Points (N, 2) or more columns, x and y scaled, each array keeping its dtype."""
        p = np.asarray(p)
        out = p.astype(np.float64)
        out[:, :2] = (out[:, :2] + 0.5) * scale - 0.5
        return out.astype(p.dtype)

    dense = None
    if face.dense is not None:
        dense = points(face.dense)
        dense[:, 2] = (np.asarray(face.dense[:, 2], np.float64) * (sx + sy) / 2).astype(dense.dtype)
    box = points(np.asarray(face.box).reshape(2, 2)).reshape(4)
    return dataclasses.replace(face, box=box, landmarks=points(face.landmarks), dense=dense,
                               photo_scale=face.photo_scale * 2.0 / (sx + sy))


def _number(value: float) -> str:
    """A number as the shortest text that reads back as the same float; key frames as their
    text (``0@0s,1@2s``)."""
    if isinstance(value, Keyed):
        return value.text
    v = float(value)
    return str(int(v)) if v.is_integer() and math.isfinite(v) else repr(v)


def jpeg(pixels: np.ndarray, quality: int = 90) -> bytes:
    """RGB pixels as a JPEG, the longest side at most :data:`PREVIEW_SIDE`."""
    import cv2

    rgb = to_uint8(pixels)
    h, w = rgb.shape[:2]
    scale = PREVIEW_SIDE / max(h, w)
    if scale < 1:
        rgb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def zip_files(files: list[tuple[str, bytes]]) -> bytes:
    """The files in one zip (stored: PNGs do not shrink), names made unique."""
    buf = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in files:
            stem, ext = os.path.splitext(name)
            unique, n = name, 1
            while unique in seen:
                unique, n = f"{stem}_{n}{ext}", n + 1
            seen.add(unique)
            z.writestr(unique, data)
    return buf.getvalue()

