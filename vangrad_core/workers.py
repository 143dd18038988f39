"""Training in worker processes: beside the server, not under its GIL.

A thread that trains in the server's process shares one interpreter lock with the
threads that build the pages' figures. Each torch op lets go of the lock, and getting
it back from a thread busy in Python takes a switch interval (5 ms), so training
crawls while anything draws: a depth-20 run trained 178 steps a second alone and 2
while another thread built figures without pause (docs/architecture.md, "Training
beside drawing"). A worker process has an interpreter of its own.

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

import itertools
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
from .live import LiveTrainer, Snapshot, TrainingPool, give_memory_back, pause_together
from .recurrent import RecurrentConfig

AUTHKEY_VARIABLE = "VANGRAD_WORKER_AUTHKEY"
START_SECONDS = 120.0  # a worker imports torch before it listens (seconds; more on a busy machine)
SWITCH_SECONDS = 0.0005  # in a worker: answer a request this soon, even while a step runs
STOPPED = "the training process stopped (the server may be out of memory): press Reset to start again"


class WorkerGone(RuntimeError):
    """The worker process is no longer there."""


class Worker:
    """One worker process and the connection to it. `call` is one request and its
    answer, under a lock: the server's sessions share the worker."""

    def __init__(self) -> None:
        authkey = secrets.token_bytes(16)
        self.folder = tempfile.mkdtemp(prefix="vangrad-worker-")
        address = os.path.join(self.folder, "socket")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vangrad_core.workers", address],
            env=os.environ | {AUTHKEY_VARIABLE: authkey.hex()},
        )
        self.lock = threading.Lock()
        self.orphans: list[int] = []  # runs garbage-collected on the server, released with the next call
        self._connect = (address, authkey)
        self._connection: Connection | None = None

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
                return self._call("status")
            except WorkerGone:
                pass
        return 0, True, False, False, self.gone

    step_count = property(lambda self: self.status()[0])
    done = property(lambda self: self.status()[1])
    playing = property(lambda self: self.status()[2])
    waiting = property(lambda self: self.status()[3])
    failure = property(lambda self: self.status()[4])

    def pause(self) -> None:
        if not self.released and self.gone is None:
            self._call("pause")

    def step(self, n: int = 1) -> int:
        return self._call("step", n)

    def snapshot(self, decision: bool = False) -> Snapshot:
        return self._call("snapshot", decision)

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
                self.workers[index] = Worker()
            return self.workers[index]

    def new(self, config: ExperimentConfig | RecurrentConfig, affinity: str = "") -> WorkerRun:
        return WorkerRun(self.worker_for(affinity), config)

    def play(self, runs: Sequence[WorkerRun]) -> None:
        """Start `runs` (one session's, so one worker's) in step."""
        runs[0].worker.call("play", [run.id for run in runs])

    def pause(self, runs: Sequence[WorkerRun]) -> None:
        live = [run for run in runs if not run.released and run.gone is None]
        if live:
            live[0].worker.call("pause", [run.id for run in live])

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
        elif op == "status":
            run = runs[ids[0]]
            return run.step_count, run.done, run.playing, run.waiting, run.failure
        elif op == "play":
            pool.play([runs[i] for i in ids])
        elif op == "pause":
            pause_together([runs[i] for i in ids])
        elif op == "pause_all":
            pool.pause_all()
        elif op == "count":
            return len(runs)
        elif op == "release":
            runs.pop(ids[0]).release()
            give_memory_back()
        else:  # step, snapshot, inspect
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
    """Listen at `address` for the one server that started this worker, and serve it."""
    with Listener(address, family="AF_UNIX", authkey=bytes.fromhex(os.environ[AUTHKEY_VARIABLE])) as listener:
        connection = listener.accept()
    serve(connection)


if __name__ == "__main__":
    main(sys.argv[1])
