"""Training in worker processes: beside the server, not under its GIL.

A thread that trains in the server's process shares one interpreter lock with the
threads that build the pages' figures. Each torch op lets go of the lock, and getting
it back from a thread busy in Python takes a switch interval (5 ms), so training
crawls while anything draws: a depth-20 run trained 206 steps a second in a thread
alone and 4 beside a thread that built figures without pause (`python -m bench.convoy`;
docs/architecture.md, "Training beside drawing"). A worker process has an interpreter of its own.

`WorkerPool(processes)` starts the workers (`python -m vangrad_core.workers`, each
imports torch once: about 200 MB). A worker keeps its runs in a `TrainingPool` of one
thread and answers the server's requests over a Unix socket, one at a time.
`WorkerRun` is the server's handle on one run there, with `LiveTrainer`'s interface
and its `Snapshot`s: the pages cannot tell them apart. A session's runs live in one
worker (chosen by `affinity`), so that Compare's pair trains in step. A worker that
dies (out of memory, killed) fails its runs with a message, and the next new run
starts a fresh worker.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import pickle
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from multiprocessing.connection import Client, Connection, Listener
from typing import Any

from .config import ExperimentConfig
from .live import LiveTrainer, Snapshot, TrainingPool, give_memory_back, pause_together, snapshot_together
from .recurrent import RecurrentConfig

AUTHKEY_VARIABLE = "VANGRAD_WORKER_AUTHKEY"
PROJECT_FOLDER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # holds vangrad_core
# requests that change no run (the statuses cached on the server stay good after them)
READ_ONLY = frozenset({"statuses", "snapshot", "snapshot_together", "inspect", "can_train_on", "count"})
STATUS_SECONDS = 0.1  # a worker's runs' statuses are asked for together, at most this often
START_SECONDS = 120.0  # a worker imports torch before it listens (seconds; more on a busy machine)
SWITCH_SECONDS = 0.0005  # in a worker: answer a request this soon, even while a step runs
STOPPED = "the training process stopped (the server may be out of memory): press Reset to start again"


WORKER_MB = 500  # what a worker holds once it has trained (torch, pandas, compiled kernels; measured)
SERVER_MB = 600  # what the server itself holds once its first page has run (measured)


def machine_limits() -> tuple[float, float]:
    """(cores, MB) this process may use: its CPU affinity and the container's limits
    (cgroup v2's cpu.max and memory.max, as on Community Cloud), not the host's.
    Where the system tells less (macOS: no affinity; Windows: no sysconf), the machine's
    cores, and 0 MB when its memory is unknown (so no worker)."""
    if hasattr(os, "sched_getaffinity"):
        cores = float(len(os.sched_getaffinity(0)))
    else:
        cores = float(os.cpu_count() or 1)
    try:
        megabytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (AttributeError, ValueError, OSError):
        megabytes = 0.0
    with contextlib.suppress(OSError, ValueError):
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()
        if quota != "max":
            cores = min(cores, int(quota) / int(period))
    with contextlib.suppress(OSError, ValueError):
        limit = open("/sys/fs/cgroup/memory.max").read().strip()
        if limit != "max":
            megabytes = min(megabytes, int(limit) / 2**20)
    return cores, megabytes


def default_workers() -> int:
    """One worker when there is a core for it beside the server's and room for its
    memory beside the server's and the runs' (else none: the runs train in the
    server's threads). More pay on a larger machine: set VANGRAD_TRAINING_WORKERS."""
    cores, megabytes = machine_limits()
    return 1 if cores >= 2 and megabytes >= 2 * (SERVER_MB + WORKER_MB) else 0


class WorkerGone(RuntimeError):
    """The worker process is no longer there."""


class Worker:
    """One worker process and the connection to it. `call` is one request and its
    answer, under a lock: the server's sessions share the worker."""

    def __init__(self) -> None:
        authkey = secrets.token_bytes(16)
        self.folder = tempfile.mkdtemp(prefix="vangrad-worker-")
        address = os.path.join(self.folder, "socket")
        # the package's folder on the worker's path: the server may run from anywhere
        # (`streamlit run ~/vangrad/app.py`), and `-m` looks only in the working folder
        path = os.pathsep.join(filter(None, [PROJECT_FOLDER, os.environ.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vangrad_core.workers", address],
            env=os.environ | {AUTHKEY_VARIABLE: authkey.hex(), "PYTHONPATH": path},
        )
        self.lock = threading.Lock()
        self.orphans: list[int] = []  # runs garbage-collected on the server, released with the next call
        self._connect = (address, authkey)
        self._connection: Connection | None = None
        # Every page asks its runs whether they play, many times a redraw, and the live
        # pace counts the playing sessions: one request answers for all the worker's runs.
        self._statuses: tuple[float, dict[int, tuple]] = (-math.inf, {})  # when they were asked for, and them
        self._changed_at = -math.inf  # when a request that may change a run last returned

    def _connection_now(self) -> Connection:
        """The connection, once the worker listens (it imports torch first: seconds)."""
        if self._connection is None:
            address, authkey = self._connect
            deadline = time.monotonic() + START_SECONDS
            while self._connection is None:
                try:
                    self._connection = Client(address, family="AF_UNIX", authkey=authkey)
                except (FileNotFoundError, ConnectionRefusedError):
                    if not self.alive or time.monotonic() > deadline:
                        raise WorkerGone(STOPPED) from None
                    time.sleep(0.05)
        return self._connection

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def status(self, run_id: int) -> tuple[int, bool, bool, bool, str | None]:
        """A run's (step_count, done, playing, waiting, failure), at most STATUS_SECONDS old
        (or fresh after a request that changed it)."""
        asked = time.monotonic()
        statuses_at, statuses = self._statuses  # (one tuple: another session's thread may replace it meanwhile)
        stale = asked - statuses_at > STATUS_SECONDS or statuses_at <= self._changed_at
        if run_id not in statuses or stale:
            statuses = self.call("statuses", ())
            self._statuses = (asked, statuses)
        return statuses[run_id]

    def call(self, op: str, ids: Sequence[int], *args: Any) -> Any:
        """`op` on the runs `ids` in the worker; raises what it raised there."""
        with self.lock:
            try:
                connection = self._connection_now()
                while self.orphans:
                    connection.send(("release", (self.orphans.pop(),), ()))
                    connection.recv()
                connection.send((op, tuple(ids), args))
                ok, value = connection.recv()
            except (EOFError, OSError) as error:
                raise WorkerGone(STOPPED) from error
            if op not in READ_ONLY:  # it may have changed a run
                self._changed_at = time.monotonic()
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


class WorkerRun:
    """A run that trains in a worker process: `LiveTrainer`'s interface, over a socket."""

    _ids = itertools.count()

    def __init__(self, worker: Worker, config: ExperimentConfig | RecurrentConfig):
        self.worker = worker
        self.id = next(self._ids)
        self._config = config
        self.released = False
        self.gone: str | None = None  # the worker died under the run
        worker.call("new", (self.id,), config)

    def __del__(self) -> None:  # (a session dropped without a release: free the run with the next call)
        if not self.released and self.gone is None:
            self.worker.orphans.append(self.id)

    @property
    def config(self) -> ExperimentConfig | RecurrentConfig:
        return self._config

    @property
    def lost(self) -> bool:
        """Its worker died under it (out of memory, killed), and its frames with it."""
        return not self.released and (self.gone is not None or not self.worker.alive)

    def _call(self, op: str, *args: Any) -> Any:
        try:
            return self.worker.call(op, (self.id,), *args)
        except WorkerGone as error:
            self.gone = str(error)
            raise

    def status(self) -> tuple[int, bool, bool, bool, str | None]:
        """(step_count, done, playing, waiting, failure), in one round trip."""
        if self.released:
            return 0, True, False, False, None
        if self.gone is None:
            try:
                return self.worker.status(self.id)
            except WorkerGone as error:
                self.gone = str(error)
        return 0, True, False, False, self.gone

    step_count = property(lambda self: self.status()[0])
    done = property(lambda self: self.status()[1])
    playing = property(lambda self: self.status()[2])
    waiting = property(lambda self: self.status()[3])
    failure = property(lambda self: self.status()[4])

    def pause(self) -> None:
        if not self.released and self.gone is None:
            with contextlib.suppress(WorkerGone):  # (gone with its worker: it plays no more)
                self._call("pause")

    def step(self, n: int = 1) -> int:
        return self._call("step", n)

    def can_train_on(self) -> bool:
        return not self.released and self.gone is None and self._call("can_train_on")

    def train_on(self, more: int) -> int:
        return self._call("train_on", more)

    def snapshot(self, decision: bool = False, latest: bool = False) -> Snapshot:
        return self._call("snapshot", decision, latest)

    def inspect(self, look: Callable) -> Any:
        """look(trainer) in the worker: `look` must pickle (operator.attrgetter,
        operator.methodcaller, a module's function), not a lambda."""
        return self._call("inspect", look)

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        if self.gone is None:
            try:
                self._call("release")
            except WorkerGone:
                pass


class WorkerPool:
    """`processes` workers, each training its runs in turn; `TrainingPool`'s interface
    (`new`, `play`, `pause`, `pause_all`) for runs that live in them."""

    def __init__(self, processes: int):
        self.lock = threading.Lock()
        self.workers = [Worker() for _ in range(processes)]

    def worker_for(self, affinity: str) -> Worker:
        """The worker for `affinity` (a session): the same one every time, started anew if it died."""
        index = zlib.crc32(affinity.encode()) % len(self.workers)
        with self.lock:
            if not self.workers[index].alive:
                self.workers[index].stop()
                self.workers[index] = Worker()
            return self.workers[index]

    def new(self, config: ExperimentConfig | RecurrentConfig, affinity: str = "") -> WorkerRun:
        return WorkerRun(self.worker_for(affinity), config)

    def play(self, runs: Sequence[WorkerRun]) -> None:
        """Start `runs` (one session's, so one worker's) in step."""
        runs[0].worker.call("play", [run.id for run in runs])

    def pause(self, runs: Sequence[WorkerRun], on_recorded_step: bool = False) -> None:
        live = [run for run in runs if not run.released and run.gone is None]
        if live:
            with contextlib.suppress(WorkerGone):  # (gone with their worker: they play no more)
                live[0].worker.call("pause", [run.id for run in live], on_recorded_step)

    def snapshot(self, runs: Sequence[WorkerRun], decision: bool = False, latest: bool = False) -> tuple[Snapshot, ...]:
        """Snapshots of `runs` (one session's, so one worker's; a pair: at the same step)."""
        try:
            return runs[0].worker.call("snapshot_together", [run.id for run in runs], decision, latest)
        except WorkerGone as error:
            for run in runs:
                run.gone = str(error)
            raise

    def pause_all(self) -> None:
        for worker in self.workers:
            if worker.alive:
                worker.call("pause_all", ())

    def count(self) -> int:
        """Runs the workers hold (not released yet)."""
        return sum(worker.call("count", ()) for worker in self.workers if worker.alive)

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()


def serve(connection: Connection) -> None:
    """A worker's loop: answer each request with (True, result) or (False, error)."""
    import torch

    torch.set_num_threads(1)
    sys.setswitchinterval(SWITCH_SECONDS)
    pool = TrainingPool(1)
    runs: dict[int, LiveTrainer] = {}

    def handle(op: str, ids: tuple[int, ...], args: tuple) -> Any:
        if op == "new":
            runs[ids[0]] = pool.new(*args)
        elif op == "statuses":
            return {i: (run.step_count, run.done, run.playing, run.waiting, run.failure) for i, run in runs.items()}
        elif op == "play":
            pool.play([runs[i] for i in ids])
        elif op == "pause":
            pause_together([runs[i] for i in ids], *args)
        elif op == "snapshot_together":
            return snapshot_together([runs[i] for i in ids], *args)
        elif op == "pause_all":
            pool.pause_all()
        elif op == "count":
            return len(runs)
        elif op == "release":
            runs.pop(ids[0]).release()
            give_memory_back()
        else:  # step, snapshot, inspect, can_train_on, train_on
            return getattr(runs[ids[0]], op)(*args)

    while True:
        try:
            op, ids, args = connection.recv()
        except (EOFError, OSError):  # the server is gone
            return
        try:
            reply = (True, handle(op, ids, args))
        except Exception as error:
            reply = (False, error)
        try:
            connection.send(reply)
        except (TypeError, AttributeError, pickle.PicklingError):  # an error that does not pickle
            connection.send((False, RuntimeError(repr(reply[1]))))


def main(address: str) -> None:
    """Listen at `address` for the one server that started this worker, and serve it.
    Once connected, the socket's file and its folder are of no more use: removed (the
    server is rarely stopped in a way that lets it clean up)."""
    with Listener(address, family="AF_UNIX", authkey=bytes.fromhex(os.environ[AUTHKEY_VARIABLE])) as listener:
        connection = listener.accept()
    with contextlib.suppress(OSError):
        os.rmdir(os.path.dirname(address))
    serve(connection)


if __name__ == "__main__":
    main(sys.argv[1])
