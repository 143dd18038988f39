"""Runs trained in worker processes (vangrad_core.workers) are the runs trained here.

A real worker process: the same run trained there and in this process gives the same
frames; pause, a pair in step, inspect and release behave as LiveTrainer's; a worker
that dies fails its runs with a message and the next run starts a new worker.
"""

from __future__ import annotations

import concurrent.futures
import gc
import operator
import os
import pickle
import time

import pandas as pd
import pytest

from vangrad_core import ExperimentConfig
from vangrad_core import workers as vangrad_workers
from vangrad_core.live import TrainingPool
from vangrad_core.workers import STOPPED, Worker, WorkerGone, WorkerPool
from views.ui.live import SessionRuns

CONFIG = ExperimentConfig(depth=6, width=16, activation="sigmoid", steps=40, batch_size=32)


@pytest.fixture(scope="module")
def pool():
    workers = WorkerPool(1)
    yield workers
    workers.stop()


def wait_until(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_a_run_trained_in_a_worker_is_the_run_trained_here(pool):
    there = pool.new(CONFIG, "session")
    pool.play([there])
    wait_until(lambda: there.done)
    here = TrainingPool(1).new(CONFIG)
    here.step(CONFIG.steps)
    a, b = here.snapshot(decision=True), there.snapshot(decision=True)
    assert b.step_count == CONFIG.steps and not there.playing and there.failure is None
    pd.testing.assert_frame_equal(a.layers, b.layers)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    pd.testing.assert_frame_equal(a.units, b.units)
    pd.testing.assert_frame_equal(a.decision[0], b.decision[0])
    assert there.inspect(operator.methodcaller("test_accuracy_modes")) == here.inspect(
        operator.methodcaller("test_accuracy_modes")
    )
    there.release()


def test_pause_is_final_and_a_pair_stays_in_step(pool):
    long = CONFIG.replace(steps=20_000)
    a, b = pool.new(long, "pair"), pool.new(long.replace(width=8), "pair")
    assert a.worker is b.worker  # one session's runs share a worker
    pool.play([a, b])
    wait_until(lambda: a.step_count >= 20)
    pool.pause([a, b])
    count = a.step_count
    time.sleep(0.3)
    assert a.step_count == b.step_count == count and not a.playing and not b.playing
    assert a.step(3) == 3 and a.step_count == count + 3
    a.release()
    b.release()


def test_a_pair_is_snapshotted_at_the_same_step_while_it_trains(pool):
    """Two sizes trained in step: each snapshot of the pair shows one step count for both
    (taken one run after the other, the pair showed A 82 / B 83 on a busy server)."""
    a, b = pool.new(CONFIG.replace(steps=20_000), "pair"), pool.new(CONFIG.replace(steps=20_000, depth=2), "pair")
    pool.play([a, b])
    counts = set()
    for _ in range(30):
        snap_a, snap_b = pool.snapshot([a, b])
        assert snap_a.step_count == snap_b.step_count
        assert snap_a.config.depth == 6 and snap_b.config.depth == 2
        counts.add(snap_a.step_count)
    pool.pause([a, b])
    assert len(counts) > 1  # it trained between the snapshots
    a.release()
    b.release()


def test_a_finished_run_trains_on_in_its_worker(pool):
    run = pool.new(CONFIG, "session")
    run.step(CONFIG.steps)
    assert run.done and run.can_train_on()
    assert run.train_on(10) == 10 and not run.done  # (the statuses are asked again after a change)
    pool.play([run])
    wait_until(lambda: run.done)
    assert run.step_count == CONFIG.steps + 10 and run.can_train_on()
    run.release()


@pytest.mark.timeout(120)  # (a lost answer would leave its caller waiting for good)
def test_many_sessions_asking_at_once_each_get_their_own_answer(pool):
    """Many threads share the worker's one connection: each caller gets the answer to
    its own request, with a request that does not pickle and one that fails in the
    worker among them (a version that sent requests as they came, tried on 2026-12-03,
    handed every answer after an unpicklable request to the wrong caller)."""
    runs = [pool.new(CONFIG.replace(seed=seed), "crowd") for seed in range(4)]  # (one worker: one connection)

    def ask(i: int) -> object:
        if i % 25 == 0:
            with pytest.raises((pickle.PicklingError, AttributeError)):
                runs[0].inspect(lambda trainer: trainer)
            return "refused"
        if i % 25 == 1:
            with pytest.raises(IndexError):
                runs[1].inspect(operator.methodcaller("norm_stages", 99))
            return "raised"
        return runs[i % 4].inspect(operator.attrgetter("config.seed"))

    with concurrent.futures.ThreadPoolExecutor(16) as threads:
        answers = list(threads.map(ask, range(200)))
    expected = ["refused" if i % 25 == 0 else "raised" if i % 25 == 1 else i % 4 for i in range(200)]
    assert answers == expected
    for run in runs:
        run.release()


def test_errors_come_back_from_the_worker_as_they_were_raised_there(pool):
    run = pool.new(CONFIG, "session")
    with pytest.raises((pickle.PicklingError, AttributeError)):
        run.inspect(lambda trainer: trainer.step_count)  # a lambda does not pickle: attrgetter does
    assert run.inspect(operator.attrgetter("step_count")) == 0
    with pytest.raises(IndexError, match="out of range"):  # raised in the worker, as it is here
        run.inspect(operator.methodcaller("norm_stages", 99))
    assert run.step(1) == 1  # and the worker serves on
    run.release()


def test_released_and_dropped_runs_leave_the_worker(pool):
    before = pool.count()
    kept, dropped = pool.new(CONFIG, "s"), pool.new(CONFIG, "s")
    assert pool.count() == before + 2
    kept.release()
    assert kept.released and kept.done and kept.step_count == 0
    del dropped  # a session dropped without a release: the next call frees it
    gc.collect()
    assert pool.count() == before


def test_a_worker_that_dies_fails_its_runs_and_the_next_run_gets_a_new_one(pool):
    run = pool.new(CONFIG, "doomed")
    worker = run.worker
    worker.process.kill()
    worker.process.wait()
    assert run.done and not run.playing and run.failure == STOPPED and run.lost
    with pytest.raises(WorkerGone):
        run.snapshot()
    run.release()  # (nothing to release: no error)
    fresh = pool.new(CONFIG, "doomed")
    assert fresh.worker is not worker and fresh.step(2) == 2
    fresh.worker.process.kill()  # its tab closes, its worker dies: nothing has asked it since
    fresh.worker.process.wait()
    closed = SessionRuns()  # the server's sweeper pauses the closed tab's run, then releases it
    closed.keep("closed tab", "run:playground", fresh, {})
    assert fresh.gone is None and closed.sweep(lambda session: False, now=0.0) == 0
    assert closed.sweep(lambda session: False, now=1e6) == 1 and fresh.released and not fresh.lost


def test_a_server_started_anywhere_has_workers_that_leave_no_folder_behind(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # `streamlit run ~/vangrad/app.py`: the package is not in the working folder
    elsewhere = WorkerPool(1)
    try:
        run = elsewhere.new(CONFIG, "folders")  # connected: the worker removed its socket's folder
        assert run.step(1) == 1 and not os.path.exists(run.worker.folder)
    finally:
        elsewhere.stop()
    unconnected = Worker()  # stopped before it ever listened: the server removes it
    unconnected.stop()
    assert not os.path.exists(unconnected.folder)


def test_the_machine_is_read_where_the_system_tells_less(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)  # macOS
    cores, megabytes = vangrad_workers.machine_limits()
    assert 0 < cores <= os.cpu_count() and megabytes > 0
    monkeypatch.delattr(os, "sysconf")  # Windows: the memory is unknown, so no worker
    assert vangrad_workers.machine_limits()[1] == 0
    assert vangrad_workers.default_workers() == 0


@pytest.mark.parametrize(
    ("cores", "megabytes", "workers"),
    [(1.0, 24_000, 0), (2.0, 24_000, 1), (2.0, 2_700, 1), (2.0, 690, 0), (0.5, 2_700, 0), (16.0, 64_000, 1)],
)
def test_a_worker_by_default_only_where_a_core_and_its_memory_are_spare(monkeypatch, cores, megabytes, workers):
    monkeypatch.setattr(vangrad_workers, "machine_limits", lambda: (cores, megabytes))
    assert vangrad_workers.default_workers() == workers
