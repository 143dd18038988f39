"""LiveTrainer: play / pause, slot-bounded advance, snapshots."""

from __future__ import annotations

import threading

import pandas as pd

from vangrad_core import ExperimentConfig, run_experiment
from vangrad_core.live import LiveTrainer

CONFIG = ExperimentConfig(depth=4, width=8, steps=40)


def test_advance_trains_only_while_playing_and_stops_when_done():
    live = LiveTrainer(CONFIG)
    assert live.advance(1.0) == 0  # paused
    live.play()
    while live.playing:
        live.advance(0.01)
    assert live.done and live.step_count == 40
    pd.testing.assert_frame_equal(live.snapshot().layers, run_experiment(CONFIG).layers)


def test_no_free_slot_means_waiting_not_training():
    slots = threading.Semaphore(1)
    live = LiveTrainer(CONFIG, slots=slots)
    live.play()
    slots.acquire()
    assert live.advance(1.0) == 0 and live.waiting
    slots.release()
    assert live.advance(0.01) >= 1 and not live.waiting
    assert slots.acquire(blocking=False)  # advance gave its slot back


def test_advance_respects_its_time_budget_but_always_takes_a_step():
    live = LiveTrainer(CONFIG.replace(steps=20000))
    live.play()
    assert live.advance(0.0) == 1
    assert 1 < live.advance(0.05) < 20000


def test_snapshot_is_a_consistent_copy():
    live = LiveTrainer(CONFIG.replace(dataset="moons", steps=20000))
    live.play()
    live.advance(0.05)
    snap = live.snapshot(decision=True)
    assert snap.step_count == len(snap.metrics) == snap.layers["step"].nunique()
    assert snap.decision is not None and len(snap.decision[0]) == 60 * 60
    before = snap.stamp
    live.step(1)
    assert live.snapshot().stamp != before and snap.step_count == before[1]
    assert LiveTrainer(CONFIG.replace(dataset="digits")).snapshot(decision=True).decision is None
