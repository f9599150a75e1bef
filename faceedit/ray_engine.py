"""``faceedit apply --engine ray``: the planned jobs of :mod:`faceedit.run` spread over Ray actors
(Ray Data), on this machine or on a cluster.

driver (this process)                      Ray actors (one loaded model each)
  faceedit.run plans every output     ->    edit + write the outputs planned for a share of
  (faceedit.plan: names, {index},           the inputs (faceedit.run.LocalEngine: photos
  collisions, skip-existing, --overwrite,   through the photo engine, a video through the
  inputs never overwritten)                 video engine; atomic writes)
  and takes the stop signals          <-    each input's records as it is done
  yields the records in input order

A video among the inputs is a call of its own: the actor streams its frames through the video
engine with the same editor and options, and its records come back as a photo's do.

Only paths and records travel through Ray, never pixels: each actor reads the photos and writes
the outputs itself, so every worker machine must see the inputs and the output folder at the
same absolute paths (a shared file system). The driver makes every path absolute before it
sends it and gives the records back the paths as the inputs were named, so the records and the
``--json`` lines are those of the local engine.

Ray is imported only here and only for ``--engine ray``; it is the ``ray`` extra
(``pip install "faceedit[ray]"``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import pickle
import re
import threading
import time
import uuid
import warnings
from collections.abc import Generator, Iterator

from faceedit.api import Editor
from faceedit.apply_options import ApplyOptions, CheckedOptions, Record
from faceedit.errors import FaceEditError, UsageError
from faceedit.io.inputs import InputItem
from faceedit.log import logger
from faceedit.plan import VIDEO, Job, PlannedOutput, RecordMaker
from faceedit.run import ApplyRun, LocalEngine
from faceedit.signals import StopSignals

INSTALL_HINT = 'pip install "faceedit[ray]"'
OBJECT_STORE_BYTES = 256 * 2**20  # a local Ray's object store: only paths and records go through it
THREADS_PER_ACTOR = 1  # decode/detect threads and encode threads of each actor (it reserves 1 CPU)
MAX_INPUTS_PER_CALL = 16  # inputs handed to an actor at once (its photo engine streams them)
STOP_POLL_S = 0.5  # how often an actor looks for the driver's stop flag


def import_ray():
    """The ``ray`` module (with Ray Data), quiet and offline; UsageError naming the extra to
    install when it is missing."""
    # Before Ray is imported: no usage statistics sent anywhere, worker logs not deduplicated
    # into summary lines (they stay in Ray's log folder: log_to_driver is off).
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    try:
        import ray
        import ray.data  # noqa: F401  (the `data` extra: pyarrow, pandas)
    except ImportError as e:
        raise UsageError(f"the Ray engine needs Ray with Ray Data: {INSTALL_HINT} ({e})") from None
    return ray


def start_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Join the Ray cluster at ``address`` ('auto': the one started on this machine by ``ray
    start``; default: ``RAY_ADDRESS`` if set) or, without one, start a private Ray on this
    machine with ``num_cpus`` CPUs (default: all its cores): no dashboard, a small object store,
    worker logs kept out of the terminal. Nothing is done when Ray is already initialised in
    this process. Returns True when this call initialised Ray (the caller shuts it down)."""
    ray = import_ray()
    quiet_ray()
    given = address
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        _check_reachable(address, "`address`" if given else "RAY_ADDRESS")
    if ray.is_initialized():
        return False
    common = dict(log_to_driver=False, logging_level=logging.ERROR, include_dashboard=False)
    try:
        if address:
            ray.init(address=address, **common)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count() or 1, object_store_memory=OBJECT_STORE_BYTES,
                     **common)
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise FaceEditError(f"cannot start or join {where}: {e}") from None
    quiet_ray()
    return True


RAY_CONNECT_TIMEOUT_S = 10.0
"""How long ``apply --engine ray`` waits for the Ray cluster at ``--ray-address`` to answer."""


def _check_reachable(address: str, option: str) -> None:
    """Fail at once, with one line naming ``address``, where nothing at its HOST:PORT accepts a
    connection and answers as a gRPC server within :data:`RAY_CONNECT_TIMEOUT_S` (refused,
    unknown host, no answer, another protocol):
    ``ray.init`` would retry for minutes, printing a "Failed to connect to GCS" line every few
    seconds, and not end on SIGTERM meanwhile. ``auto`` (found by Ray on this machine) and
    ``ray://`` client addresses are left to Ray. FaceEditError (exit 1); UsageError for an
    address that is not HOST:PORT."""
    import socket

    if address == "auto" or "://" in address:
        return
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise UsageError(f"{option} {address}: give HOST:PORT (the head node's, e.g. head:6379), "
                         "auto, or ray://HOST:PORT")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=RAY_CONNECT_TIMEOUT_S) as conn:
            speaks = _speaks_http2(conn)
    except OSError as e:
        reason = (f"no answer within {RAY_CONNECT_TIMEOUT_S:g} s" if isinstance(e, TimeoutError)
                  else "unknown host" if isinstance(e, socket.gaierror) else (e.strerror or str(e)).lower())
        raise FaceEditError(f"cannot join the Ray cluster at {address} ({option}): {reason}; is Ray "
                            "running there (ray start --head)?") from None
    if not speaks:
        raise FaceEditError(f"cannot join the Ray cluster at {address} ({option}): something answers "
                            "there but not as Ray's head node does (no gRPC); is it Ray's GCS port "
                            "(6379 by default)?")


#: An HTTP/2 client's connection preface and an empty SETTINGS frame: a gRPC server (Ray's GCS)
#: answers with its own SETTINGS frame (type 4, the frame header's fourth byte).
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


def _speaks_http2(conn) -> bool:
    """Whether the server on the connected socket ``conn`` answers an HTTP/2 preface with a
    SETTINGS frame within its timeout (a port that accepts and stays silent, or speaks another
    protocol, made ``ray.init`` hang for minutes). Raises TimeoutError on silence."""
    conn.sendall(_HTTP2_PREFACE)
    head = b""
    while len(head) < 9:
        chunk = conn.recv(9 - len(head))
        if not chunk:
            return False
        head += chunk
    return head[3] == 4


def quiet_ray() -> None:
    """No Ray Data progress bars or execution logs on the terminal (faceedit draws its own
    progress; errors still show)."""
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.enable_operator_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.enable_auto_log_stats = False
    ctx.execution_options.verbose_progress = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


class _Worker:
    """One Ray actor: one model loaded with :meth:`Editor.from_pretrained` and a
    :class:`faceedit.run.LocalEngine` (``THREADS_PER_ACTOR`` threads; ``video``: the videos'
    encoding) that edits and writes the outputs the driver planned. Takes a batch of ``{"pos",
    "job"}`` rows (``job``: JSON of planned jobs, absolute paths) and yields ``{"pos",
    "records", "fatal"}`` rows: the pickled records of each job as soon as it is done, or a
    pickled FaceEditError where the whole run must stop (the model could not be loaded, or a
    usage error, as the local engine raises them). Once the driver's stop flag (a named actor,
    :func:`_raise_stop_flag`) exists, the engine stops as the local one does at Ctrl-C."""

    def __init__(self, model: str, load: dict, opts: CheckedOptions, stop_flag: tuple[str, str],
                 video: dict | None = None):
        self.fatal: FaceEditError | None = None
        self.stop = StopSignals()  # requested by the driver's flag (no signal is taken here)
        self.engine: LocalEngine | None = None
        try:
            editor = Editor.from_pretrained(model, **load)
            self.engine = LocalEngine(editor, opts, RecordMaker(opts, editor.spec.name), progress=False,
                                      **(video or {}))
        except FaceEditError as e:
            self.fatal = e
        except Exception as e:  # noqa: BLE001  (reported on the driver, as one line)
            self.fatal = FaceEditError(f"cannot load model {model} on a Ray worker: "
                                       f"{type(e).__name__}: {e}")
        threading.Thread(target=self._watch, args=stop_flag, daemon=True,
                         name="faceedit-ray-stop").start()

    def _watch(self, name: str, namespace: str) -> None:
        import ray

        while not self.stop.requested:
            try:
                ray.get_actor(name, namespace=namespace)
            except ValueError:  # not raised (yet)
                time.sleep(STOP_POLL_S)
                continue
            self.stop.request()

    def __call__(self, batch: dict) -> Iterator[dict]:
        # a batch holds calls (one row each): the photos of one call, or one video
        jobs = [_job_from_message(m) for text in batch["job"] for m in json.loads(text)]
        if self.fatal is not None:
            yield _row(jobs[0].pos, fatal=self.fatal)
            return
        assert self.engine is not None  # unless self.fatal says why
        if self.stop.requested:
            return  # the driver stopped the run: these inputs are not done
        done: set[int] = set()
        try:
            for job, records in self.engine.schedule(jobs, self.stop):
                done.add(job.pos)
                yield _row(job.pos, list(records))  # each job as soon as it is done
        except FaceEditError as e:  # e.g. a model option refused at the first forward
            yield _row(next(j.pos for j in jobs if j.pos not in done), fatal=e)


class _StopFlag:
    """The stop signal of one run: the actors stop once an actor of this name exists."""

    def ping(self) -> bool:
        return True


def _raise_stop_flag(ray, name: str, namespace: str):
    """Create the run's stop flag (keep the handle: the flag lives while it is referenced)."""
    return ray.remote(num_cpus=0)(_StopFlag).options(name=name, namespace=namespace).remote()


def _row(pos: int, records: list | None = None, fatal: FaceEditError | None = None) -> dict:
    """One output row of an actor: a job's records (a photo's :class:`Record`, a video's
    :class:`faceedit.video.batch.VideoRecord`), or the error that stops the run."""
    return {"pos": [pos], "records": [pickle.dumps(records or [])],
            "fatal": [pickle.dumps(fatal) if fatal is not None else b""]}


def _job_message(job: Job) -> dict:
    """What an actor needs of a planned job: the input and its outputs, absolute paths, with the
    record each output carries (as JSON text)."""
    item = dataclasses.replace(job.item, path=os.path.abspath(job.item.path))
    return {"pos": job.pos, "item": dataclasses.asdict(item), "kind": job.kind,
            "outputs": [(o.target, o.strength, os.path.abspath(o.path), json.dumps(o.record))
                        for o in job.outputs]}


def _job_from_message(message: dict) -> Job:
    return Job(message["pos"], InputItem(**message["item"]), message["kind"],
               [PlannedOutput(t, s, p, json.loads(r)) for t, s, p, r in message["outputs"]])


class RayEngine:
    """The jobs planned by the driver (:mod:`faceedit.run`) edited by ``workers`` Ray actors: the
    photos in calls of several, each video in a call of its own (its frames streamed through
    one actor, as the local engine streams them; ``encode`` its encoding). Each actor runs a
    :class:`faceedit.run.LocalEngine` on its calls, so a record is the local engine's.

    ``editor`` is loaded on the driver only to check the options against the model (usage
    errors before Ray starts) and to plan the outputs; each actor loads ``model`` itself with
    ``device``, ``precision`` and ``detector``. ``gpus_per_worker``: GPUs each actor reserves
    (fractions share a GPU); None: 1 where the cluster has GPUs (and ``device`` is not cpu),
    else 0. ``workers``: actors; None: one per GPU (GPU actors) or per CPU of the cluster.
    Ray starts (or is joined) only when there is something to edit.
    """

    stopping = ("the Ray workers finish the photos in progress (a video in progress is dropped, "
                "no file), the rest are dropped")

    def __init__(self, editor: Editor, opts: CheckedOptions, records: RecordMaker, *, model: str,
                 device: str = "auto", precision: str = "auto", detector: str = "auto",
                 address: str | None = None, workers: int | None = None,
                 gpus_per_worker: float | None = None, num_cpus: int | None = None,
                 encode: dict | None = None):
        import_ray()  # UsageError now if Ray is missing, before any input is read
        if workers is not None and workers < 1:
            raise UsageError(f"`workers` {workers}: must be at least 1")
        if gpus_per_worker is not None and not (gpus_per_worker >= 0 and math.isfinite(gpus_per_worker)):
            raise UsageError(f"`gpus_per_worker` {gpus_per_worker:g}: must be 0 or more")
        from faceedit.device import (  # checked here: the actors resolve them
            CUDA_INDEX,
            DEVICES,
            PRECISIONS,
        )

        if device not in DEVICES and not CUDA_INDEX.fullmatch(device):
            raise UsageError(f"unknown `device` {device!r}; valid: {', '.join(DEVICES)}, cuda:N")
        if precision not in PRECISIONS:
            raise UsageError(f"unknown `precision` {precision!r}; valid: {', '.join(PRECISIONS)}")
        if device == "cpu" and gpus_per_worker:
            raise UsageError("`gpus_per_worker` needs `device` auto or cuda (not cpu)")
        self.editor, self.opts, self.records = editor, opts, records
        self.model = os.path.abspath(model) if os.path.isfile(model) else model
        self.encode = encode
        self.load = {"device": device, "precision": precision, "detector": detector}
        self.address, self.num_cpus = address, num_cpus
        self.workers, self.gpus_per_worker = workers, gpus_per_worker
        self.actors = 0
        self._lock = threading.Lock()
        self._flag_name: tuple[str, str] | None = None  # the stop flag's name, once Ray runs
        self._flag = None

    def check(self, jobs: list[Job]) -> None:
        if any(job.kind == VIDEO and job.outputs for job in jobs):
            from faceedit.video.batch import check_outputs
            from faceedit.video.container import EncodeOptions

            check_outputs(jobs, EncodeOptions(**(self.encode or {})))

    def stop(self) -> None:
        """Raise the run's stop flag: the actors finish the photos in progress, start no other."""
        with self._lock:
            if self._flag_name is not None and self._flag is None:
                self._flag = _raise_stop_flag(import_ray(), *self._flag_name)

    # -- driver ------------------------------------------------------------------------------
    def _worker_options(self) -> CheckedOptions:
        """The options for the actors: absolute paths (they may run elsewhere, in another
        folder), ``THREADS_PER_ACTOR`` threads."""
        request = self.opts.request
        if isinstance(request.like, (str, os.PathLike)):
            request = dataclasses.replace(request, like=os.path.abspath(request.like))
        return dataclasses.replace(self.opts, out_dir=os.path.abspath(self.opts.out_dir),
                                   request=request, workers=THREADS_PER_ACTOR)

    def _resources(self, ray) -> tuple[int, float]:
        """(actors, GPUs per actor) for this cluster."""
        have = ray.cluster_resources()
        cpus, gpus = int(have.get("CPU", 0)), float(have.get("GPU", 0))
        per = self.gpus_per_worker
        if per is None:
            per = 1.0 if gpus >= 1 and self.load["device"] != "cpu" else 0.0
        if per > gpus:
            raise UsageError(f"`gpus_per_worker` {per:g}: the Ray cluster has {gpus:g} GPUs")
        actors = self.workers
        if actors is None:
            actors = max(1, int(gpus // per) if per else cpus)
        if actors > max(cpus, 1):  # each actor reserves a CPU: the rest would never start
            logger.warning("`workers` %d: the Ray cluster has %d CPUs; starting %d actors",
                           actors, cpus, max(cpus, 1))
            actors = max(cpus, 1)
        if per and actors * per > gpus:
            fit = max(1, int(gpus // per))
            logger.warning("`workers` %d with %g GPUs each: the Ray cluster has %g GPUs; "
                           "starting %d actors", actors, per, gpus, fit)
            actors = fit
        return actors, per

    def schedule(self, jobs: list[Job], stop: StopSignals) -> Generator[tuple[Job, list], None, None]:
        """Each job with its records as the actors finish it (any order). Where the driver's
        iteration ends early (a KeyboardInterrupt it could not take as a flag), Ray is shut
        down at once: an output being written is never left partial (writes are atomic) but
        may have no record."""
        ray = import_ray()
        started = start_ray(self.address, self.num_cpus)
        stop.retake()  # ray.init puts in a SIGTERM handler of its own (it exits at once)
        try:
            if not stop.requested:  # else Ctrl-C while Ray started
                yield from self._execute(ray, jobs, stop)
        finally:
            with self._lock:
                self._flag_name, self._flag = None, None
            if started:
                ray.shutdown()

    def _execute(self, ray, jobs: list[Job], stop: StopSignals) -> Iterator[tuple[Job, list]]:
        actors, gpus = self._resources(ray)
        videos = [job for job in jobs if job.kind == VIDEO]
        photos = [job for job in jobs if job.kind != VIDEO]
        per_call = max(1, min(MAX_INPUTS_PER_CALL, math.ceil(len(photos) / (2 * actors))))
        # a call per video (a video streams through one actor; the longest work is handed out
        # first), the photos in calls of per_call: one row per call, one call per batch
        calls = [[job] for job in videos] + [photos[i:i + per_call] for i in range(0, len(photos), per_call)]
        self.actors = actors = min(actors, len(calls))  # no actor without a call to make
        rows = [{"pos": json.dumps([job.pos for job in call]),
                 "job": json.dumps([_job_message(job) for job in call])} for call in calls]
        load = dict(self.load)
        if not gpus and load["device"] == "auto":
            load["device"] = "cpu"  # no GPU reserved: do not take one
        logger.info("Ray: %d actor%s (%s), %d photo%s to edit (%d a call), %d video%s (one a call)",
                    actors, "s" * (actors != 1), f"{gpus:g} GPU each" if gpus else "CPU",
                    len(photos), "s" * (len(photos) != 1), per_call, len(videos), "s" * (len(videos) != 1))
        with self._lock:
            self._flag_name = (f"faceedit-stop-{uuid.uuid4().hex}", ray.get_runtime_context().namespace)
        if stop.requested:
            self.stop()
        # with videos an actor is handed one call at a time, so that no video waits behind
        # another on a busy actor while an idle one has nothing to do
        pool = dict(max_tasks_in_flight_per_actor=1) if videos else {}
        args = dict(batch_size=1, batch_format="numpy",
                    compute=ray.data.ActorPoolStrategy(size=actors, **pool),
                    fn_constructor_args=(self.model, load, self._worker_options(), self._flag_name,
                                         {"encode": self.encode}),
                    num_cpus=1, num_gpus=gpus or None)
        by_pos = {job.pos: job for job in jobs}
        like = self.opts.request.like
        ctx = ray.data.DataContext.get_current()
        # a 1-byte block target: each row an actor yields (an input done) is sent at once, not
        # when its whole call is done (put back afterwards: the context is this process's)
        block_size, ctx.target_max_block_size = ctx.target_max_block_size, 1
        done: set[int] = set()
        try:
            ds = ray.data.from_items(rows, override_num_blocks=len(calls))
            # max_restarts=0: an actor that dies (killed, out of memory, a crash in a decoder)
            # fails its photos (error records) instead of being restarted to retry them without
            # end, Ray Data's default. A Ray remote argument, deprecated in recent Ray (to go in
            # 2.64): left out where Ray no longer takes it.
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    ds = ds.map_batches(_Worker, **args, max_restarts=0)
            except TypeError:
                ds = ds.map_batches(_Worker, **args)
            for row in ds.iter_rows():
                if row["fatal"]:
                    raise pickle.loads(row["fatal"])
                job = by_pos[int(row["pos"])]
                done.add(job.pos)
                yield job, [self._driver_record(job, rec, like) for rec in pickle.loads(row["records"])]
        except FaceEditError:
            raise
        except Exception as e:  # noqa: BLE001  (a worker died: its photos fail, the rest is reported)
            reason = (f"Ray worker failed: {_first_line(e)}; run again to finish (the outputs "
                      "written before are skipped)")
            logger.debug("Ray execution failed", exc_info=True)
            for job in jobs:
                if job.pos not in done:
                    yield job, [self.records(job.item.path, None, "error", o.target, o.strength, error=reason)
                                for o in job.outputs]
        finally:
            ctx.target_max_block_size = block_size

    @staticmethod
    def _driver_record(job, rec: Record, like=None) -> Record:
        """An actor's record with the paths as the driver named them (absolute on the actor;
        ``like``: the --like reference as given)."""
        if rec.like is not None and isinstance(like, (str, os.PathLike)):
            rec.like = os.fspath(like)
        names = {os.path.abspath(job.item.path): job.item.path}
        names.update((os.path.abspath(o.path), o.path) for o in job.outputs)
        rec.input = job.item.path
        if rec.output is not None:
            rec.output = names.get(rec.output, rec.output)
            masks = getattr(rec, "masks", None)  # a video's record has none
            if masks:  # beside the output: OUTPUT-STEM_face<N>_<name>.png
                here, there = (os.path.splitext(p)[0] for p in (rec.output, os.path.abspath(rec.output)))
                rec.masks = [here + m[len(there):] if m.startswith(there) else m for m in masks]
        if rec.error:
            for there, here in names.items():
                if there != here:
                    rec.error = rec.error.replace(there, here)
        return rec


def ray_run(editor: Editor, opts: ApplyOptions, *, model: str, **engine) -> ApplyRun:
    """A run of ``opts`` on Ray actors (:class:`RayEngine`, ``engine`` its keywords), the outputs
    planned here with ``editor``."""
    from faceedit.plan import Planner

    planner = Planner(editor, opts)
    return ApplyRun(planner, RayEngine(editor, planner.opts, planner.records, model=model, **engine))


def _first_line(e: BaseException) -> str:
    """The first line of ``e``'s message, without the terminal colour codes Ray puts in."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".rstrip(": ")
