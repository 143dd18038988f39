"""A run that is trained a little at a time, between redraws of a live view.

`LiveTrainer` wraps a `Trainer` (or, for a `RecurrentConfig`, a `RecurrentTrainer`)
with what a live page needs: playing or paused, `advance(seconds)` that trains for a
time budget only when it gets one of a server's training slots (a shared semaphore
bounds how many runs train at the same moment), and `Snapshot`s of the run to draw
from. `advance_together` trains two
runs in step within one slot and one time budget (the Compare page). A step that
raises stops its run and keeps why (`failure`): the page says so once, and nothing
trains again until the run is reset. Nothing here knows about Streamlit.

Training runs in the caller's thread, between redraws. (A training thread per run
was tried: Python's GIL makes a thread that releases it at every tensor op wait on
the thread that draws, and a 500-step run took twice as long.)
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence

import pandas as pd

from .config import DATASETS_2D, ExperimentConfig
from .recurrent import RecurrentConfig, RecurrentTrainer
from .trainer import Trainer

SNAPSHOT_QUEUE_SECONDS = 2.0  # a snapshot waits this long for a training slot, then goes ahead


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

    @property
    def stamp(self) -> tuple:
        """Changes whenever the run has moved on (for caching what is drawn from it)."""
        return (self.config, self.step_count, self.diverged_at, self.failure)


class LiveTrainer:
    """A Trainer with play / pause, slot-bounded `advance`, and snapshots.

    `slots`: a semaphore shared by every LiveTrainer of a server; `advance` trains
    only with a slot (`waiting` tells whether the last call found none free).
    """

    def __init__(self, config: ExperimentConfig | RecurrentConfig, slots: threading.Semaphore | None = None):
        self.trainer = RecurrentTrainer(config) if isinstance(config, RecurrentConfig) else Trainer(config)
        self.slots = slots or threading.Semaphore(1)
        self.lock = threading.Lock()  # snapshots may be taken from another thread
        self.waiting = False
        self.playing = False
        self.failure: str | None = None  # what a step raised; the run stops for good

    @property
    def config(self) -> ExperimentConfig:
        return self.trainer.config

    @property
    def step_count(self) -> int:
        return self.trainer.step_count

    @property
    def done(self) -> bool:
        return self.trainer.done or self.failure is not None

    def play(self) -> None:
        self.playing = not self.done

    def pause(self) -> None:
        self.playing = self.waiting = False

    def step(self, n: int = 1) -> int:
        """n steps now, whatever the slots say (a click on Step)."""
        return sum(self._train_one() for _ in range(n))

    def _train_one(self) -> int:
        """One step under the lock (0 if the run is done). Whatever a step raises ends
        the run, not the page: it stops playing and keeps the error as `failure`."""
        with self.lock:
            if self.done:
                return 0
            try:
                ran = self.trainer.step(1)
            except Exception as error:
                self.failure = f"{type(error).__name__}: {error}"
                ran = 0
        if self.done:
            self.playing = False
        return ran

    def advance(self, seconds: float, max_steps: int = 10_000, queue_seconds: float = 0.0) -> int:
        """While playing: train for about `seconds` with a training slot (at least one
        step, at most `max_steps`); stop playing when the run is done. Waits up to
        `queue_seconds` for a slot: a run in the queue then costs no CPU, where
        redrawing it without news would."""
        return advance_together((self,), seconds, max_steps, queue_seconds)

    def inspect(self, look):
        """look(trainer), between two training steps (for views a Snapshot lacks)."""
        with self.lock:
            return look(self.trainer)

    def snapshot(self, decision: bool = False) -> Snapshot:
        """Copies of the run's frames (and, for 2-D data if asked, the decision grid).
        Waits up to SNAPSHOT_QUEUE_SECONDS for a training slot, then the lock (as training
        does): a large model's frames, histograms and grid cost as much as training, and
        count against the same cores; a page is never stuck longer than that wait."""
        slot = self.slots.acquire(timeout=SNAPSHOT_QUEUE_SECONDS)
        try:
            return self._snapshot(decision)
        finally:
            if slot:
                self.slots.release()

    def _snapshot(self, decision: bool) -> Snapshot:
        with self.lock:
            trainer = self.trainer
            recurrent = isinstance(trainer, RecurrentTrainer)
            grid = None
            if decision and not recurrent and trainer.config.dataset in DATASETS_2D:
                grid = trainer.decision_grid()
            return Snapshot(
                config=trainer.config,
                step_count=trainer.step_count,
                done=self.done,
                diverged_at=trainer.diverged_at,
                divergence_reason=trainer.divergence_reason,
                failure=self.failure,
                metrics=trainer.metrics,
                layers=pd.DataFrame() if recurrent else trainer.layers,
                activation_inputs=pd.DataFrame() if recurrent else trainer.activation_inputs(),
                decision=grid,
                time_gradients=trainer.time_gradients if recurrent else None,
                units=None if recurrent else trainer.units(),
            )


def advance_together(
    runs: Sequence[LiveTrainer], seconds: float, max_steps: int = 10_000, queue_seconds: float = 0.0
) -> int:
    """Train the playing runs one step each in turn, with one training slot (that of
    the first run) and one time budget for all: two runs of different sizes stay in
    step, and together cost what one run costs. Returns the rounds trained."""
    playing = [run for run in runs if run.playing]
    if not playing:
        return 0
    slots = playing[0].slots
    acquired = slots.acquire(timeout=queue_seconds) if queue_seconds > 0 else slots.acquire(False)
    for run in playing:
        run.waiting = not acquired
    if not acquired:
        return 0
    rounds, start = 0, time.perf_counter()
    try:
        while rounds < max_steps and any(run.playing for run in playing):
            for run in playing:
                if run.playing:
                    run._train_one()
            rounds += 1
            if time.perf_counter() - start >= seconds:
                break
    finally:
        slots.release()
    return rounds
