"""A run that trains while a live view draws it.

`LiveTrainer` wraps a `Trainer` (or, for a `RecurrentConfig`, a `RecurrentTrainer`)
with what a live page needs: playing or paused, and `Snapshot`s of the run to draw
from. `train_together` trains runs in step (Compare's two) within one time budget. A step that raises stops its
run and keeps why (`failure`): the page says so once, and nothing trains again until
the run is reset. Nothing here knows about Streamlit.

`TrainingPool` is where playing runs train: a few threads (one per core) that give
every playing run a turn of QUANTUM_SECONDS in round-robin order, shorter when so
many play that a round would last more than ROUND_SECONDS, so that training goes on
between the page's redraws instead of only inside them (docs/architecture.md,
"Training beside drawing"), and every run moves between two of its page's refreshes
however many play.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import dataclasses
import functools
import math
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from .config import DATASETS_2D, ExperimentConfig
from .cost import grid_resolution, rests_untrained
from .recurrent import RecurrentConfig, RecurrentTrainer
from .summary import at_step
from .trainer import Trainer

SNAPSHOT_QUEUE_SECONDS = 2.0  # a snapshot waits this long for a slot, then goes ahead
QUANTUM_SECONDS = 0.05  # a run's turn in the pool (at least one step)
# A round of the pool's turns lasts at most this (each turn shorter with many playing):
# forty runs in turns of 0.05 s each waited 2 s for the next, as long as the slowest
# live view's refresh, which then often found its run where the last had left it. (In
# rounds of 1 s, a class's views refreshing every 1.2 s still found it there one time in
# a few, and showed it still for 2-2.4 s; in rounds of 0.25 s a run moves between any
# two refreshes.)
ROUND_SECONDS = 0.25
READER_WAIT_SECONDS = 0.0005  # training checks this often whether a reader is done
# a playing run not trained for this long is "waiting for its turn" (longer than a round of
# turns, ROUND_SECONDS, with a step's overshoot: under a full round it would flicker)
WAITING_SECONDS = 1.5


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """A run as it was at one moment: everything a view needs, copied."""

    config: ExperimentConfig
    step_count: int
    done: bool
    diverged_at: int | None
    divergence_reason: str | None
    failure: str | None  # why the run stopped with an error, if it did
    metrics: pd.DataFrame
    layers: pd.DataFrame
    activation_inputs: pd.DataFrame
    decision: tuple[pd.DataFrame, pd.DataFrame] | None  # 2-D data only, when asked for
    time_gradients: pd.DataFrame | None = None  # a recurrent run's dL/dh_t rows (its `layers` are empty)
    units: pd.DataFrame | None = None  # every unit at the last recorded step (Trainer.units); None if recurrent
    playing: bool = False  # whether the run played when the snapshot was taken

    @property
    def setting_off(self) -> bool:
        """Playing, before its first step: a view says its charts are on their way, not
        "Press Train" (a class's first steps can come after the view's wait for them)."""
        return self.playing and self.step_count == 0 and self.diverged_at is None and self.failure is None

    @property
    def stamp(self) -> tuple:
        """Changes whenever the run has moved on (for caching what is drawn from it): a
        step, a test of the last step where the run came to rest (`test_at_rest`), or
        being set going (`setting_off`)."""
        tested = len(self.metrics) > 0 and not math.isnan(self.metrics["test_loss"].iat[-1])
        return (self.config, self.step_count, self.diverged_at, self.failure, tested, self.setting_off)

    @functools.cached_property
    def kept(self) -> int:
        """Which of its steps the run kept: a fingerprint of the steps recorded and the
        steps tested. Two runs of one config hold the same numbers at the same steps,
        unless one paused or was stepped by hand (a test where it came to rest, a step
        recorded off a long run's grid) or went on past its steps: a chart of one is
        the other's only where these agree too (`identity`). (Of what this snapshot
        holds: the newest moment's, `latest()`, differs from the whole run's.)"""
        held = [self.metrics["test_loss"].notna().to_numpy()] if len(self.metrics) else []
        held += [
            frame["step"].to_numpy() for frame in (self.layers, self.time_gradients) if frame is not None and len(frame)
        ]
        return hash(tuple(array.tobytes() for array in held))

    @property
    def identity(self) -> tuple:
        """What a chart drawn from this snapshot depends on: the run's moment (`stamp`)
        and the steps it kept (`kept`)."""
        return self.stamp, self.kept

    def latest(self) -> Snapshot:
        """The newest moment only, for the headline numbers that a live view redraws at
        every refresh: the last recorded step's rows, the last metrics row and the last
        evaluated one; no inputs, units or grid (a few kB where the whole run is 2 MB at
        step 500 of a depth-20 run: a worker pickles a snapshot on its training core)."""
        metrics = self.metrics
        if len(metrics):  # (positions in NumPy: label lookups cost a millisecond a refresh)
            tested = np.flatnonzero(metrics["test_loss"].notna().to_numpy())
            metrics = metrics.iloc[sorted({*tested[-1:], len(metrics) - 1})]
        return dataclasses.replace(
            self,
            metrics=metrics,
            layers=at_step(self.layers, "end") if len(self.layers) else self.layers,
            activation_inputs=pd.DataFrame(),
            decision=None,
            time_gradients=None if self.time_gradients is None else at_step(self.time_gradients, "end"),
            units=None,
        )


class LiveTrainer:
    """A Trainer with play / pause, steps, and snapshots.

    `slots`: a semaphore shared by every LiveTrainer of a pool, which bounds the
    heavy work done in the pages' own threads (snapshots, decision grids).
    """

    def __init__(self, config: ExperimentConfig | RecurrentConfig, slots: threading.Semaphore | None = None):
        self._config = config
        self._trainer: Trainer | RecurrentTrainer | None = None  # built when first needed (`trainer`)
        self._light = not rests_untrained(config)  # (a heavy run rests until it trains: `_rest`)
        self._at_rest: Snapshot | None = None  # a resting run's step-0 snapshot, grid included
        self._released = False
        self.slots = slots or threading.Semaphore(1)
        self.lock = threading.Lock()  # held for each step, and by whoever reads between two steps
        self.readers = 0  # threads waiting to read between two steps: training lets them in first
        self.playing = False
        self.in_pool = False  # has a place in a TrainingPool's turns
        self.trained_at = time.monotonic()  # when it last trained (or started playing)
        self.failure: str | None = None  # what a step raised; the run stops for good

    @property
    def config(self) -> ExperimentConfig:
        return self._config

    @property
    def released(self) -> bool:
        return self._released

    @property
    def trainer(self) -> Trainer | RecurrentTrainer | None:
        """The run's trainer, built now if the run has none yet (a new run, or a heavy one
        at rest: `_rest`); None once released. Between two steps, like every other read."""
        if self._trainer is None and not self._released:
            self._trainer = (
                RecurrentTrainer(self._config) if isinstance(self._config, RecurrentConfig) else Trainer(self._config)
            )
        return self._trainer

    @property
    def resting(self) -> bool:
        """Holds its step-0 snapshot only, not its trainer (`_rest`; or building the trainer
        again failed: `failure` says why)."""
        return self._trainer is None and self._at_rest is not None

    lost = False  # (a WorkerRun's worker can die under it; this run lives in this process)

    @property
    def step_count(self) -> int:
        return 0 if self._trainer is None else self._trainer.step_count

    @property
    def done(self) -> bool:
        trainer = self._trainer
        return self._released or (trainer is not None and trainer.done) or self.failure is not None

    in_step = False  # a step of this run is under way (a network whose steps take seconds is not waiting)

    @property
    def waiting(self) -> bool:
        """Playing, but not trained for a while, and not in a step: many runs are waiting
        for their turn (a lone run on the largest network, 1.8 s a step, said so)."""
        return self.playing and not self.in_step and time.monotonic() - self.trained_at > WAITING_SECONDS

    def play(self) -> None:
        self.playing = not self.done
        self.trained_at = time.monotonic()

    def pause(self, on_recorded_step: bool = False) -> None:
        """Stop playing; returns once no step is under way (the count shown is final).
        `on_recorded_step`: as `pause_together`'s."""
        pause_together((self,), on_recorded_step)

    def charts_behind_counter(self) -> bool:
        """Whether the run could go on and its last step was not recorded: its charts show
        an earlier step than its counter (a long run records one step in a few)."""
        with self.between_steps():
            trainer = self._trainer
            return trainer is not None and not self.done and trainer.last_recorded_step != trainer.step_count - 1

    def can_train_on(self) -> bool:
        """Finished its steps (not diverged, not failed) with room to go on (`train_on`)."""
        trainer = self._trainer
        return trainer is not None and trainer.done and self.failure is None and trainer.max_extension > 0

    def train_on(self, more: int) -> int:
        """Let a finished run go on for `more` steps (at most to the config's largest step
        count), on the same weights and history; returns the steps added."""
        with self.between_steps():
            if not self.can_train_on():
                return 0
            before = self.trainer.config.steps
            self.trainer.extend(more)
            return self.trainer.config.steps - before

    def release(self) -> None:
        """Stop the run and let go of its model, optimizer and history (its page is
        gone). A released run trains no more; a page that comes back starts a new one."""
        self.playing = False
        with self.between_steps():
            self._released = True
            self._trainer = self._at_rest = None

    @contextlib.contextmanager
    def between_steps(self) -> Iterator[None]:
        """Hold the run still between two steps. (A lock alone would starve a reader:
        the training thread, holding the GIL, takes it back the moment it lets go;
        so the reader says it waits, and training waits for it.)"""
        self.readers += 1
        try:
            with self.lock:
                yield
        finally:
            self.readers -= 1

    def step(self, n: int = 1) -> int:
        """n steps now, in the caller's thread (a click on Step); then the run, at rest,
        is tested where it stands."""
        ran = sum(self._train_one(record=i == n - 1) for i in range(n))  # (the charts show the last)
        with self.between_steps():
            self._test_at_rest()
        return ran

    def _test_at_rest(self) -> None:
        """(Between two steps.) `Trainer.test_at_rest`; what it raises ends the run, as a step's."""
        if self._trainer is not None and self.failure is None:
            try:
                self._trainer.test_at_rest()
            except Exception as error:
                self.failure = f"{type(error).__name__}: {error}"

    def _train_one(self, record: bool = False) -> int:
        with self.lock:
            return self._step_locked(record)

    def _step_locked(self, record: bool = False) -> int:
        """One step, the lock held (0 if the run is done); `record`: recorded whatever
        the run's grid. Whatever a step raises ends the run, not the page: it stops
        playing and keeps the error as `failure`."""
        if self.done:
            return 0
        self.in_step = True
        try:
            ran = self.trainer.step(1, record_last=record)  # (a resting run's trainer is built again here)
        except Exception as error:
            self.failure = f"{type(error).__name__}: {error}"
            ran = 0
        finally:
            self.in_step = False
        if self._trainer is not None:
            self._at_rest = None  # it trains: its snapshots come from its trainer now
        self.trained_at = time.monotonic()
        if self.done:
            self.playing = False
        return ran

    def inspect(self, look: Callable):
        """look(trainer), between two training steps (for views a Snapshot lacks). Pages
        pass operator.attrgetter / methodcaller, which a WorkerRun can send to its worker."""
        with self.between_steps():
            try:
                return look(self.trainer)
            finally:
                self._rest()

    def snapshot(self, decision: bool = False, latest: bool = False) -> Snapshot:
        """Copies of the run's frames (and, for 2-D data if asked, the decision grid);
        only the newest moment's if `latest` (`Snapshot.latest`)."""
        return snapshot_together((self,), decision, latest)[0]

    def _snapshot_held(self, decision: bool, latest: bool = False) -> Snapshot:
        """The snapshot, taken while the caller holds the run between two steps."""
        self._rest()
        if self.resting:
            rest = self._at_rest
            snap = dataclasses.replace(
                rest,
                done=self.done,
                failure=self.failure,
                decision=rest.decision if decision else None,
                playing=self.playing,
            )
            return snap.latest() if latest else snap
        return self._snapshot_of(self.trainer, decision, latest)

    def _snapshot_of(self, trainer: Trainer | RecurrentTrainer, decision: bool, latest: bool) -> Snapshot:
        recurrent = isinstance(trainer, RecurrentTrainer)
        grid = None
        if decision and not recurrent and trainer.config.dataset in DATASETS_2D:
            grid = trainer.decision_grid(grid_resolution(trainer.config))
        snap = Snapshot(
            config=trainer.config,
            step_count=trainer.step_count,
            done=self.done,
            diverged_at=trainer.diverged_at,
            divergence_reason=trainer.divergence_reason,
            failure=self.failure,
            metrics=trainer.metrics,
            layers=pd.DataFrame() if recurrent else trainer.latest_layers() if latest else trainer.layers,
            activation_inputs=pd.DataFrame() if recurrent or latest else trainer.activation_inputs(),
            decision=grid,
            time_gradients=trainer.time_gradients if recurrent else None,
            units=None if recurrent or latest else trainer.units(),
            playing=self.playing,
        )
        return snap.latest() if latest else snap

    def _rest(self) -> None:
        """(Between two steps.) A heavy run that has not taken a step (none trained,
        none diverged or failed) and is not about to keeps its step-0 snapshot, grid
        included, and lets go of its trainer; its first step builds the same trainer
        again (a run is its config: seeded data, weights and batches)."""
        if self._light or self._released or self.playing or self.failure is not None or self.resting:
            return
        trainer = self.trainer
        if trainer.step_count > 0 or trainer.done:
            return
        if self._at_rest is None:
            self._at_rest = self._snapshot_of(trainer, decision=True, latest=False)
        self._trainer = trainer = None  # (the local too: the network goes with its last reference)
        give_memory_back()


def snapshot_together(
    runs: Sequence[LiveTrainer], decision: bool = False, latest: bool = False
) -> tuple[Snapshot, ...]:
    """Snapshots of `runs` taken between the same two rounds: a pair kept in step shows
    the same step count. Waits up to SNAPSHOT_QUEUE_SECONDS for one of the server's
    slots (a large model's frames, histograms and grid cost as much as training; a page
    is never stuck longer than that wait), then holds every run between two steps (in
    the order `train_together` takes their locks)."""
    slots = runs[0].slots
    slot = slots.acquire(timeout=SNAPSHOT_QUEUE_SECONDS)
    try:
        with contextlib.ExitStack() as held:
            for run in runs:
                held.enter_context(run.between_steps())
            return tuple(run._snapshot_held(decision, latest) for run in runs)
    finally:
        if slot:
            slots.release()


def train_together(runs: Sequence[LiveTrainer], seconds: float, max_steps: int = 10_000) -> int:
    """Train the playing runs one step each in turn for about `seconds` (at least one
    round, at most `max_steps`): two runs of different sizes stay in step, and
    together cost what one run costs. A round holds every run's lock, so that a
    pause (`pause_together`) never falls between two runs' steps. Returns the rounds
    trained."""
    rounds, start = 0, time.perf_counter()
    while rounds < max_steps:
        while any(run.readers for run in runs):  # someone waits to read between two steps: let them
            time.sleep(READER_WAIT_SECONDS)
        with contextlib.ExitStack() as held:
            for run in runs:
                held.enter_context(run.lock)
            stepping = [run for run in runs if run.playing]
            if not stepping:
                break
            for run in stepping:
                run._step_locked()
        rounds += 1
        if time.perf_counter() - start >= seconds:
            break
    return rounds


def pause_together(runs: Sequence[LiveTrainer], on_recorded_step: bool = False) -> None:
    """Stop the runs playing, then wait for a round under way to end: the runs stay
    in step, and no step is taken after this returns. Each is tested where it stopped.
    `on_recorded_step` (a Pause pressed): where a run's last step was off the grid it records
    (a long run keeps one step in a few), all take one more step, recorded, so that the
    charts show the step the counter says."""
    for run in runs:
        run.playing = False
    if on_recorded_step and any(run.charts_behind_counter() for run in runs):
        for run in runs:
            run._train_one(record=True)
    for run in runs:
        with run.between_steps():
            run._test_at_rest()


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, None elsewhere. Loaded once: each CDLL defines classes of its
    own, cyclic garbage that only a collection would free."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def give_memory_back() -> None:
    """Hand the heap freed since (by released runs, by pages drawn at once) back to
    the system. glibc keeps it for the process otherwise: after a large block is
    freed it serves blocks up to that size from the heap instead of mapping them
    (its dynamic mmap threshold), so ten pages opened at once left the server 77 to
    519 MB larger for good, against 50 MB one after another; this call gave back all
    but 20 to 60 MB of it. (A fixed threshold keeps nothing either, but made a large
    network's steps 30% slower.) No garbage collection: a run, its trainer and its
    snapshots hold no reference cycles, so they are freed as their last reference goes
    (tests/test_release.py), and a full collection held the interpreter lock for 0.13 s
    in a training worker and 0.2 s in a process with the app loaded, every run waiting.
    Called without the interpreter lock (ctypes lets go of it)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def turn_seconds(groups: int, threads: int = 1) -> float:
    """How long a group trains at its turn when `groups` take turns on `threads`."""
    return min(QUANTUM_SECONDS, ROUND_SECONDS * threads / max(groups, 1))


class TrainingPool:
    """Trains the playing runs: `threads` threads take the runs (or groups of runs
    kept in step) in turn, round-robin, for QUANTUM_SECONDS each, or as long as lets
    every group a turn within ROUND_SECONDS (`turn_seconds`). A group that starts
    playing takes one step ahead of the round, then joins it at the back: when a class
    presses Train at once, every page can show its run moving as soon as it is redrawn,
    not a round later. A run leaves the pool
    when it stops playing (paused, done, failed, released) or is no longer referenced
    by anything else (its session is gone): the pool holds it only weakly.

    The pool's runs train in this process, under its GIL (vangrad_core.workers trains
    them in processes of their own, with the same interface)."""

    def __init__(self, threads: int):
        self.slots = threading.BoundedSemaphore(threads)  # snapshots taken at once, by the pages' threads
        self.turns: collections.deque[tuple[weakref.ref, ...]] = collections.deque()
        self.starting: collections.deque[tuple[weakref.ref, ...]] = collections.deque()  # first steps, before `turns`
        self.in_hand: list[tuple[weakref.ref, ...]] = []  # the groups that threads train now
        self.ready = threading.Condition()
        self.threads = [
            threading.Thread(target=self._work, name=f"vangrad-training-{i}", daemon=True) for i in range(threads)
        ]
        for thread in self.threads:
            thread.start()

    def new(self, config: ExperimentConfig | RecurrentConfig, affinity: str = "") -> LiveTrainer:
        """A paused run for this pool (`affinity`: whose it is, for a WorkerPool)."""
        return LiveTrainer(config, slots=self.slots)

    def play(self, runs: Sequence[LiveTrainer]) -> None:
        """Start `runs` (kept in step) and give them turns until none plays."""
        with self.ready:
            for run in runs:
                run.play()
            if not any(run.in_pool for run in runs):  # (paused and played again before its turn: it has one)
                for run in runs:
                    run.in_pool = True
                self.starting.append(tuple(weakref.ref(run) for run in runs))
                self.ready.notify()

    def __len__(self) -> int:
        with self.ready:
            return len(self.starting) + len(self.turns)

    def pause(self, runs: Sequence[LiveTrainer], on_recorded_step: bool = False) -> None:
        """Stop `runs` playing, in step (`pause_together`)."""
        pause_together(runs, on_recorded_step)

    def snapshot(
        self, runs: Sequence[LiveTrainer], decision: bool = False, latest: bool = False
    ) -> tuple[Snapshot, ...]:
        """Snapshots of `runs` (a pair kept in step: at the same step; `snapshot_together`)."""
        return snapshot_together(runs, decision, latest)

    def pause_all(self) -> None:
        """Pause every run the pool trains (each group in step), those waiting for their
        turn and those in a thread's hands."""
        with self.ready:
            groups = [
                [run for run in (ref() for ref in group) if run is not None]
                for group in (*self.starting, *self.turns, *self.in_hand)
            ]
        for runs in groups:
            pause_together(runs)

    def _work(self) -> None:
        while True:
            with self.ready:
                while not (self.starting or self.turns):
                    self.ready.wait()
                starting = bool(self.starting)
                group = (self.starting or self.turns).popleft()
                runs = [run for run in (ref() for ref in group) if run is not None]
                if not any(run.playing for run in runs):  # stopped: it leaves the pool
                    for run in runs:
                        run.in_pool = False
                    continue
                self.in_hand.append(group)
                groups = len(self.starting) + len(self.turns) + len(self.in_hand)
                turn = 0.0 if starting else turn_seconds(groups, len(self.threads))  # (0: one step)
            train_together(runs, turn)
            del runs  # no strong reference while it waits for its next turn
            with self.ready:
                self.in_hand.remove(group)
                self.turns.append(group)
                self.ready.notify()
