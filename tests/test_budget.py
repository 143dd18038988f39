"""A budget per run: its cost estimated before it trains, refused with what to change."""

from __future__ import annotations

import pytest

from tests.conftest import assert_clean, button, open_page, run_of
from vangrad_core import ExperimentConfig
from vangrad_core.cost import Budget, duration, held_megabytes, run_cost
from vangrad_core.lessons import COMPARISONS, SCENARIOS, TIME_COMPARISONS, TOUR_RUNS
from vangrad_core.recurrent import RecurrentConfig

MAXIMAL = ExperimentConfig(depth=100, width=512, batch_size=1024, steps=20000)
LESSON_RUNS = [
    *[[s.config] for s in SCENARIOS],
    *[[s.config] for s in TOUR_RUNS.values()],
    *[[c.a[1], c.b[1]] for c in COMPARISONS],
    *[[c.a[1], c.b[1]] for c in TIME_COMPARISONS],
]


def test_the_estimate_grows_with_every_dimension_and_time_with_steps():
    base = ExperimentConfig(depth=20, width=64, batch_size=128)
    cost = run_cost(base)
    for bigger in (base.replace(depth=40), base.replace(width=128), base.replace(batch_size=256)):
        assert run_cost(bigger).seconds_per_step > cost.seconds_per_step
        assert run_cost(bigger).megabytes > cost.megabytes
    assert run_cost(base.replace(steps=1000)).seconds == pytest.approx(2 * run_cost(base.replace(steps=500)).seconds)
    assert run_cost(base.replace(steps=1000)).megabytes == cost.megabytes
    assert run_cost(base.replace(optimizer="adam")).megabytes > cost.megabytes  # two more copies of the weights
    assert run_cost(base.replace(norm="batchnorm_before")).megabytes > cost.megabytes
    lstm = RecurrentConfig(cell="lstm", length=100)
    assert run_cost(lstm).seconds_per_step > run_cost(lstm.replace(cell="rnn")).seconds_per_step
    assert run_cost(lstm.replace(length=200)).megabytes > run_cost(lstm).megabytes


def test_a_maximal_network_trains_alone_for_a_while_but_not_for_hours():
    budget = Budget()
    short = MAXIMAL.replace(steps=50)
    assert 500 < run_cost(short).megabytes < budget.tab_mb  # one maximal run fits a tab
    assert budget.refusal([run_cost(short)]) is None
    said = budget.refusal([run_cost(MAXIMAL)])
    steps = run_cost(MAXIMAL).steps_within(budget.run_seconds)
    assert said is not None and "h of a processor core" in said and f"at most {steps:,} steps" in said
    assert 50 < steps < 1000
    busy = budget.refusal([run_cost(short)], training=9)  # ten training: 60 s each
    assert busy is not None and "with 10 people training" in busy and "1 min" in busy


def test_two_maximal_runs_on_one_page_or_a_full_class_hold_less():
    budget = Budget()
    short = run_cost(MAXIMAL.replace(steps=10))
    said = budget.refusal([short, short])
    assert said is not None and said.startswith("These runs would hold about 2.1 GB") and "narrower" in said
    assert budget.refusal([short], held_elsewhere_mb=400) is not None  # the tab's other pages count
    middle = run_cost(ExperimentConfig(depth=100, width=256, batch_size=512, steps=100))
    assert budget.refusal([middle]) is None
    crowded = budget.refusal([middle], tabs=40)
    assert crowded is not None and "with 40 tabs open" in crowded and "100 MB" in crowded


@pytest.mark.parametrize("runs", LESSON_RUNS, ids=range(len(LESSON_RUNS)))
def test_every_lesson_run_fits_even_a_full_class(runs):
    costs = [run_cost(config) for config in runs]
    assert Budget().refusal(costs) is None
    assert Budget().refusal(costs, tabs=80, training=79) is None


def test_the_playground_refuses_a_run_over_budget_and_says_what_to_change():
    query = {"depth": "100", "width": "512", "batch_size": "1024", "steps": "20000"}
    at = open_page(None, query)
    assert_clean(at)
    warnings = [w.value for w in at.warning if "processor core" in w.value]
    assert len(warnings) == 1 and "Fewer steps (at most" in warnings[0]
    assert button(at, "Train").disabled and button(at, "Step").disabled
    assert run_of(at).step_count == 0
    status = " ".join(m.value for m in at.markdown if "steps**" in m.value)
    assert "over this server's budget" in status and "press Train" not in status  # (Train is off)
    fits = open_page(None, query | {"steps": "20", "depth": "10"})
    assert not button(fits, "Train").disabled and not [w for w in fits.warning if "processor core" in w.value]


def test_a_page_left_on_a_network_too_large_to_train_does_not_stop_the_tab_training_elsewhere():
    """The playground opened on a refused network holds its step-0 snapshot only: the
    Compare page of the same tab said its two small runs "would hold about 2 MB of memory
    (1.2 GB more on other pages of this tab)" and refused them."""
    at = open_page(None, {"depth": "100", "width": "512", "batch_size": "1024", "optimizer": "adam", "steps": "20000"})
    assert button(at, "Train").disabled and run_of(at).resting
    at.switch_page("views/compare.py").run()
    assert_clean(at)
    assert not button(at, "Train both").disabled and not [w for w in at.warning if "memory" in w.value]
    small = ExperimentConfig()
    assert held_megabytes(MAXIMAL, 0) == 0 < held_megabytes(small, 0) < held_megabytes(small, 1)  # once trained
    assert held_megabytes(MAXIMAL, 1) == run_cost(MAXIMAL).megabytes


def test_compare_refuses_two_maximal_runs():
    query = {"a.depth": "100", "a.width": "512", "a.batch_size": "1024", "b.depth": "100", "b.width": "512"}
    at = open_page("views/compare.py", query | {"a.steps": "10"})
    assert_clean(at)
    assert any("These runs would hold about" in w.value for w in at.warning)
    assert button(at, "Train both").disabled and button(at, "Step").disabled


def test_a_long_run_says_how_long_before_it_starts():
    """depth 100 x width 512 trained 500 steps in about 4 min with nothing said of it
    (a browser walk, 2026-12-05): the estimate is shown under Train before it starts."""
    query = {"depth": "100", "width": "512", "steps": "500"}
    at = open_page(None, query)
    assert_clean(at)
    estimate = run_cost(ExperimentConfig(depth=100, width=512)).seconds
    assert 120 < estimate < 360  # (measured in a browser: about 2 steps a second here)
    (said,) = [c.value for c in at.caption if "A long run" in c.value]
    assert f"about {duration(estimate)} of training" in said and "Fewer or narrower layers" in said
    short = open_page(None, {"depth": "10", "width": "32"})
    assert not [c for c in short.caption if "A long run" in c.value]
    recurrent = open_page("views/through_time.py", {"a.length": "150", "b.length": "150"})  # two runs: in turn
    estimate = sum(run_cost(run_of(recurrent, f"through_time:{side}").config).seconds for side in "ab")
    (said,) = [c.value for c in recurrent.caption if "A long run" in c.value]
    assert f"about {duration(estimate)} of training" in said and "A shorter sequence, fewer hidden units" in said
