"""LiveTrainer and TrainingPool: play / pause, turns in the background, snapshots."""

from __future__ import annotations

import dataclasses
import gc
import math
import operator
import os
import pickle
import time

import pandas as pd
import pytest

from vangrad_core import ExperimentConfig, cost, run_experiment
from vangrad_core import live as live_module
from vangrad_core.live import LiveTrainer, TrainingPool, give_memory_back, train_together
from vangrad_core.recurrent import RecurrentConfig, RecurrentTrainer
from vangrad_core.summary import at_step, headline, time_ratio
from vangrad_core.trainer import Trainer

CONFIG = ExperimentConfig(depth=4, width=8, steps=40)


def wait_until(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_pool_trains_a_playing_run_to_the_end_as_a_plain_run_would():
    pool = TrainingPool(threads=1)
    live = LiveTrainer(CONFIG)
    time.sleep(0.05)
    assert live.step_count == 0  # not playing: not in the pool
    pool.play((live,))
    wait_until(lambda: not live.playing)
    assert live.done and live.step_count == 40
    wait_until(lambda: len(pool) == 0)  # a run that stopped leaves the pool
    pd.testing.assert_frame_equal(live.snapshot().layers, run_experiment(CONFIG).layers)


def test_a_run_that_starts_playing_takes_one_step_ahead_of_the_round_then_joins_it(monkeypatch):
    """When a class presses Train at once, a run played behind thirty others does not
    wait a round for its first step: it gets a turn of one step (0 s) next, then turns
    at the back of the round like the rest."""
    turns = []  # (run, seconds) as the pool hands them out

    def train(runs, seconds):
        turns.append((runs[0], seconds))
        time.sleep(0.002)
        return 1

    monkeypatch.setattr(live_module, "train_together", train)
    pool = TrainingPool(threads=1)
    early = [LiveTrainer(CONFIG.replace(seed=seed)) for seed in range(4)]
    for run in early:
        pool.play((run,))
    wait_until(lambda: len(turns) >= 12)
    late = LiveTrainer(CONFIG.replace(seed=9))
    before = len(turns)
    pool.play((late,))
    wait_until(lambda: sum(run is late for run, _ in turns) >= 3)
    mine = [i for i, (run, _) in enumerate(turns) if run is late]
    assert mine[0] - before <= 2  # at most the turn in hand (and one taken as it was played) first; a round is 4
    assert turns[mine[0]][1] == 0.0 and all(turns[i][1] > 0 for i in mine[1:])
    assert all(turns[i][0] is not late for i in range(mine[0] + 1, mine[0] + 5))  # then the back of the round
    pool.pause_all()
    wait_until(lambda: len(pool) == 0)


def test_the_pool_gives_every_playing_run_its_turn_and_pause_stops_one():
    pool = TrainingPool(threads=1)
    runs = [LiveTrainer(CONFIG.replace(steps=20000, seed=seed)) for seed in range(4)]
    for run in runs:
        pool.play((run,))
    wait_until(lambda: all(run.step_count >= 3 for run in runs))  # round-robin: nobody starves
    runs[0].pause()
    time.sleep(0.3)  # its turn comes, and it leaves
    paused_at = runs[0].step_count
    others = [run.step_count for run in runs[1:]]
    wait_until(lambda: all(run.step_count > count for run, count in zip(runs[1:], others, strict=True)))
    assert runs[0].step_count == paused_at and not runs[0].waiting
    pool.play((runs[0],))
    pool.play((runs[0],))  # played twice: still one place in the turns
    assert len(pool) <= 4
    for run in runs:
        run.pause()


def test_with_many_playing_every_run_gets_a_turn_within_a_round(monkeypatch):
    """Forty runs at turns of QUANTUM_SECONDS would each wait two seconds for the next,
    as long as the slowest live view's refresh: the turns shorten so that a round of
    them fits in ROUND_SECONDS, and each run's turn comes once a round. (Here ten runs
    in a round of 0.1 s, as forty in one of 1 s, with fewer networks to build.)"""
    turns = []

    def recorded(runs, seconds, *args):
        turns.append((runs[0], seconds))
        return train_together(runs, seconds, *args)

    monkeypatch.setattr(live_module, "train_together", recorded)
    monkeypatch.setattr(live_module, "ROUND_SECONDS", 0.1)
    pool = TrainingPool(threads=1)
    runs = [LiveTrainer(CONFIG.replace(steps=20000, seed=seed)) for seed in range(10)]
    for run in runs:
        pool.play((run,))
    joined = len(turns) + 1  # (the turn under way began before the last run joined)
    wait_until(lambda: all(run.step_count >= 2 for run in runs) and len(turns) >= joined + 30)
    # (as runs leave, once paused, the others' turns lengthen; the first steps come first, at 0 s)
    playing = [turn for turn in turns[joined:] if turn[1] > 0]
    pool.pause_all()
    assert max(seconds for _, seconds in playing) <= 0.1 / 10 < live_module.QUANTUM_SECONDS
    for start in range(len(playing) - 9):  # every run once in any 10 turns in a row
        assert len({id(run) for run, _ in playing[start : start + 10]}) == 10
    turns.clear()
    alone = LiveTrainer(CONFIG.replace(steps=20000))  # (not runs[0]: the first pool may still hold it)
    TrainingPool(threads=1).play((alone,))
    wait_until(lambda: len(turns) >= 2)
    alone.pause()
    assert turns[:2] == [(alone, 0.0), (alone, live_module.QUANTUM_SECONDS)]  # alone: the long turn, fewer switches


def test_a_snapshot_says_when_a_run_is_set_going_before_its_first_step(monkeypatch):
    """A class's first steps can come after a view's wait for them: its charts then said
    "Press Train to see ..." while the run trained. A snapshot of a run that plays and
    has taken no step says so (and its stamp differs, so the charts are drawn anew),
    whether its network rests or not."""
    for resting_mb in (math.inf, 0.0):
        monkeypatch.setattr(cost, "RESTING_MB", resting_mb)
        live = LiveTrainer(CONFIG)
        paused = live.snapshot()
        live.play()
        set_going = live.snapshot()
        assert not paused.setting_off and set_going.setting_off and set_going.stamp != paused.stamp
        assert set_going.latest().setting_off
        live._train_one()
        assert not live.snapshot().setting_off


def test_a_run_at_rest_is_tested_where_it_stopped():
    """Stepped by hand or paused between two test evaluations, a run's last row holds
    the test loss and accuracy of its weights as they stand."""
    live = LiveTrainer(CONFIG.replace(steps=400))  # tested at steps 0, 50, 100, ...
    for _ in range(7):
        live._train_one()  # as the pool trains: step 6 has no test of its own
    training = live.snapshot()
    live.pause()
    at_rest = live.snapshot()
    assert at_rest.step_count == training.step_count == 7 and at_rest.stamp != training.stamp  # (charts redraw)
    tested = at_rest.metrics.dropna()
    assert tested["step"].tolist() == [0, 6]
    assert tuple(tested.iloc[-1][["test_loss", "test_accuracy"]]) == live.trainer.evaluate()
    live.step(2)  # stepped by hand
    assert live.snapshot().metrics.dropna()["step"].tolist() == [0, 6, 8]
    pool = TrainingPool(threads=1)
    pool.play((live,))
    wait_until(lambda: live.step_count >= 60)
    live.pause()
    metrics = live.snapshot().metrics
    assert metrics["test_accuracy"].iloc[-1] == live.trainer.evaluate()[1]


@pytest.mark.parametrize(
    "config",
    [ExperimentConfig(depth=20, width=8, steps=20_000), RecurrentConfig(length=20, hidden=8, steps=20_000)],
    ids=["feed-forward", "recurrent"],
)
def test_a_step_taken_by_hand_is_what_the_charts_show_on_a_run_recorded_every_few_steps(config):
    """A 20000-step run keeps one step in a few: stepped by hand, its charts said "step 4819
    (now)" beside a counter at 4820 (a browser walk). The steps taken by hand are recorded;
    the grid's are kept, and training resumes on the grid."""
    live = LiveTrainer(config)
    every = live.trainer.record_every
    assert every > 1
    for _ in range(every + 2):
        live._train_one()  # as the pool trains
    recorded = "layers" if isinstance(config, ExperimentConfig) else "time_gradients"
    steps = lambda: sorted(set(getattr(live.snapshot(), recorded)["step"]))  # noqa: E731
    assert steps() == [0, every]  # the grid's steps only: the charts' "now" is behind the counter
    for _ in range(3):
        live.step(1)  # by hand
        assert steps()[-1] == live.step_count - 1
    live.step(4)  # four at once: the last is recorded
    assert steps()[-1] == live.step_count - 1
    by_hand = [live.step_count - 5, live.step_count - 6, live.step_count - 7, live.step_count - 1]
    assert set(by_hand) <= set(steps())
    while live.step_count % every:
        live._train_one()
    live._train_one()
    assert steps()[-1] == live.step_count - 1 and steps()[-1] % every == 0  # on the grid again
    # Pause pressed: where the run stopped off the grid, it takes one more step, recorded
    pool = TrainingPool(threads=1)
    for _ in range(4):
        pool.play((live,))
        wait_until(lambda: live.step_count % every not in (0, 1))  # (off the grid)
        pool.pause((live,), on_recorded_step=True)
        assert steps()[-1] == live.step_count - 1 and not live.charts_behind_counter()
    # the steps recorded off the grid take no room from the grid's: a run recorded every k-th
    # step, stepped by hand at every step up to its second grid step, trains to its end
    kind = Trainer if isinstance(config, ExperimentConfig) else RecurrentTrainer
    short = kind(config.replace(steps=3 * every + 1), record_every=every)
    for _ in range(every + 1):
        short.step(1, record_last=True)
    short.step(short.config.steps)
    assert short.done
    assert sorted(set(getattr(short, recorded)["step"])) == [*range(every + 1), 2 * every, 3 * every]
    if kind is Trainer:  # every record whole: percentiles pending when the records grew were kept
        assert short.layers.dropna(subset=["act_input_std"])["act_input_p50"].notna().all()


@pytest.mark.parametrize("threads", [1, 2])
def test_pause_all_stops_the_runs_in_a_threads_hands_too(threads):
    """A group leaves the turns while a thread trains it: pause_all (after each page
    test, so that no run trains on beside the next tests) pauses those as well. Before,
    with as many threads as runs, it nearly always missed them."""
    pool = TrainingPool(threads=threads)
    runs = [LiveTrainer(CONFIG.replace(steps=20000, seed=seed)) for seed in range(threads)]
    for run in runs:
        pool.play((run,))
    wait_until(lambda: all(run.step_count >= 3 for run in runs))
    for _ in range(5):  # whichever moment it comes
        for run in runs:
            pool.play((run,))
        time.sleep(0.02)
        pool.pause_all()
        assert not any(run.playing for run in runs)
        counts = [run.step_count for run in runs]
        time.sleep(0.1)
        assert [run.step_count for run in runs] == counts


def test_a_pair_is_snapshotted_at_the_same_step_while_it_trains():
    pool = TrainingPool(threads=1)
    pair = [LiveTrainer(CONFIG.replace(steps=20000, depth=depth), slots=pool.slots) for depth in (8, 1)]
    pool.play(pair)
    counts = set()
    for _ in range(30):
        a, b = pool.snapshot(pair)
        assert a.step_count == b.step_count and (a.config.depth, b.config.depth) == (8, 1)
        counts.add(a.step_count)
        time.sleep(0.005)
    pool.pause(pair)
    assert len(counts) > 1


def test_a_run_that_nothing_else_holds_leaves_the_pool():
    pool = TrainingPool(threads=1)
    live = LiveTrainer(CONFIG.replace(steps=20000))
    pool.play((live,))
    while live.step_count == 0:
        time.sleep(0.01)
    del live  # its session is gone: the pool holds it only weakly
    gc.collect()
    wait_until(lambda: len(pool) == 0)


def test_a_run_not_trained_for_a_while_is_waiting():
    live = LiveTrainer(CONFIG)
    live.play()
    assert not live.waiting
    live.trained_at -= 5
    assert live.waiting
    live.step(1)
    assert not live.waiting


def test_train_together_respects_its_time_budget_but_always_takes_a_step():
    live = LiveTrainer(CONFIG.replace(steps=20000))
    assert train_together((live,), 1.0) == 0  # paused
    live.play()
    assert train_together((live,), 0.0) == 1
    assert 1 < train_together((live,), 0.05) < 20000


def test_snapshot_is_a_consistent_copy():
    live = LiveTrainer(CONFIG.replace(dataset="moons", steps=20000))
    live.play()
    train_together((live,), 0.05)
    snap = live.snapshot(decision=True)
    assert snap.step_count == len(snap.metrics) == snap.layers["step"].nunique()
    assert snap.decision is not None and len(snap.decision[0]) == 60 * 60
    before = snap.stamp
    live.step(1)
    assert live.snapshot().stamp != before and snap.step_count == before[1]
    assert LiveTrainer(CONFIG.replace(dataset="digits")).snapshot(decision=True).decision is None


def test_a_released_run_trains_no_more_and_holds_no_model():
    live = LiveTrainer(CONFIG)
    live.play()
    live.step(3)
    live.release()
    assert live.released and live.done and not live.playing and live.trainer is None
    assert live.step(1) == 0 and live.config == CONFIG


def test_a_heavy_run_rests_on_its_first_snapshot_and_trains_as_if_it_had_kept_its_network(monkeypatch):
    config = CONFIG.replace(dataset="moons", depth=3, steps=8, norm="batchnorm_before")
    monkeypatch.setattr(cost, "RESTING_MB", math.inf)
    kept = LiveTrainer(config)
    kept_at_start = kept.snapshot(decision=True)
    monkeypatch.setattr(cost, "RESTING_MB", 0.0)  # every run is heavy
    resting = LiveTrainer(config)
    at_start = resting.snapshot(decision=True)
    assert resting.resting and not kept.resting and not resting.done
    for snap in (at_start, resting.snapshot(), resting.snapshot(latest=True), resting.snapshot(decision=True)):
        assert snap.stamp == kept_at_start.stamp
    for a, b in [(at_start.units, kept_at_start.units), *zip(at_start.decision, kept_at_start.decision, strict=True)]:
        pd.testing.assert_frame_equal(a, b)
    assert resting.snapshot().decision is None and resting.snapshot(latest=True).units is None
    look = operator.methodcaller("test_accuracy_modes")
    assert resting.inspect(look) == kept.inspect(look) and resting.resting  # looked at, and at rest again
    resting.pause()  # (nothing to test at step 0)
    assert resting.resting
    assert resting.step(3) == kept.step(3) == 3 and not resting.resting  # trained: it keeps its network
    ahead, behind = resting.snapshot(decision=True), kept.snapshot(decision=True)
    for name in ("metrics", "layers", "units", "activation_inputs"):
        pd.testing.assert_frame_equal(getattr(ahead, name), getattr(behind, name))
    resting.release()
    assert resting.released and not resting.resting and resting.trainer is None


def test_a_heavy_run_played_from_rest_trains_in_the_pool_as_a_plain_run(monkeypatch):
    monkeypatch.setattr(cost, "RESTING_MB", 0.0)
    resting = LiveTrainer(CONFIG)
    resting.snapshot()
    assert resting.resting
    TrainingPool(threads=1).play((resting,))
    wait_until(lambda: resting.done)
    pd.testing.assert_frame_equal(resting.snapshot().layers, run_experiment(CONFIG).layers)


def test_a_heavy_run_that_diverges_or_fails_at_its_first_step_says_so_and_does_not_rest(monkeypatch):
    monkeypatch.setattr(cost, "RESTING_MB", 0.0)
    overflowing = LiveTrainer(
        CONFIG.replace(depth=30, width=32, activation="relu", init="large_normal", weight_scale=10)
    )
    overflowing.snapshot()
    overflowing.step(1)
    for _ in range(2):  # (a resting run's step-0 snapshot would say it never diverged)
        snap = overflowing.snapshot()
        assert snap.diverged_at == 0 and snap.done and overflowing.done and not overflowing.resting
    overflowing.play()
    assert not overflowing.playing

    unbuildable = LiveTrainer(CONFIG)
    unbuildable.snapshot()

    def out_of_memory(config):
        raise MemoryError("no room for the network")

    monkeypatch.setattr(live_module, "Trainer", out_of_memory)
    assert unbuildable.step(1) == 0 and unbuildable.done
    for _ in range(2):
        snap = unbuildable.snapshot()
        assert snap.failure == "MemoryError: no room for the network" and snap.done and snap.step_count == 0


def test_a_page_opened_on_the_largest_network_holds_a_snapshot_not_the_network():
    """Depth 100 x width 512 x batch 1024 held 300 MB a run at rest (its weights and
    their copies): seven tabs opened on it filled the largest Community Cloud server."""
    largest = ExperimentConfig(depth=100, width=512, batch_size=1024, optimizer="adam", steps=20000)
    warm = LiveTrainer(largest.replace(depth=2))  # (torch's own first allocations)
    warm.snapshot()

    def rss_mb() -> float:
        give_memory_back()
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    before = rss_mb()
    runs = [LiveTrainer(largest.replace(seed=seed)) for seed in range(3)]
    for run in runs:
        run.snapshot(decision=True)
    assert all(run.resting for run in runs)
    assert rss_mb() - before < 150  # 900 MB when each run kept its network


def test_a_finished_run_trains_on_in_the_pool_from_where_it_stopped():
    pool = TrainingPool(threads=1)
    live = LiveTrainer(CONFIG, slots=pool.slots)
    assert not live.can_train_on()  # not finished yet
    live.step(40)
    assert live.done and live.can_train_on()
    assert live.train_on(40) == 40 and not live.done and live.config.steps == 40  # its settings stay
    pool.play((live,))
    wait_until(lambda: not live.playing)
    assert live.step_count == 80 and live.snapshot().config.steps == 80
    pd.testing.assert_frame_equal(live.snapshot().layers, run_experiment(CONFIG.replace(steps=80)).layers)


@pytest.mark.parametrize(
    "config",
    [
        ExperimentConfig(depth=6, width=16, steps=60),
        ExperimentConfig(depth=6, width=16, activation="elu", optimizer="momentum", learning_rate=10, steps=60),
        RecurrentConfig(length=10, hidden=8, steps=60),
    ],
    ids=["plain", "diverging", "recurrent"],
)
def test_the_newest_moment_alone_gives_the_same_headline_in_a_fraction_of_the_bytes(config):
    """What a live view's numbers redraw from at every refresh (`Snapshot.latest`)."""
    live = LiveTrainer(config)
    for steps in (0, 1, 37, 60):
        live.step(steps - live.step_count)
        whole, newest = live.snapshot(), live.snapshot(latest=True)
        assert newest.stamp == whole.stamp and newest.done == whole.done
        assert newest.diverged_at == whole.diverged_at and newest.divergence_reason == whole.divergence_reason
        if isinstance(config, RecurrentConfig):
            if steps:
                assert time_ratio(at_step(newest.time_gradients, "end")) == time_ratio(
                    at_step(whole.time_gradients, "end")
                )
        else:
            assert_same_headline(
                headline(newest.metrics, newest.layers, config), headline(whole.metrics, whole.layers, config)
            )
        tested = [frame.metrics.dropna(subset=["test_loss"]).tail(1) for frame in (newest, whole)]
        pd.testing.assert_frame_equal(*tested)
    assert len(pickle.dumps(newest)) < len(pickle.dumps(whole)) / 10


def assert_same_headline(a, b) -> None:
    """Headlines equal, NaN equal to NaN."""
    for x, y in zip(dataclasses.astuple(a), dataclasses.astuple(b), strict=True):
        assert x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y)), (a, b)


def test_runs_of_one_config_at_one_step_are_one_run_only_if_they_kept_the_same_steps():
    """`Snapshot.identity`, which a chart shared by the tabs is keyed by: two runs of one
    config that stand at the same step are the same run, unless one came to rest on the
    way (a test where it paused) and the other did not."""
    straight, again, paused = LiveTrainer(CONFIG), LiveTrainer(CONFIG), LiveTrainer(CONFIG)
    straight.step(30), again.step(30)
    paused.step(11), paused.step(19)  # tested at rest at step 11, then at 30
    assert straight.snapshot().identity == again.snapshot().identity
    assert paused.snapshot().stamp == straight.snapshot().stamp
    assert paused.snapshot().identity != straight.snapshot().identity
