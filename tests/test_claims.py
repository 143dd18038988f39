"""Every sentence the lesson says about a run, checked on that run.

Each scenario, comparison and tour step in `vangrad_core.lessons` carries claims;
here every one of them is trained to the end (once per config, shared) and every
claim checked on it. An item without a claim fails too: a sentence nobody checks
is how the app once said "×4 a layer" beside a run measuring ×7."""

from __future__ import annotations

import functools

import pytest

from vangrad_core import lessons, run_experiment
from vangrad_core.config import ExperimentConfig
from vangrad_core.recurrent import RecurrentConfig, RecurrentTrainer
from vangrad_core.summary import RunFacts, TimeFacts

# One worker trains every run here (`facts` is cached per process): split between
# pytest-xdist's two workers, runs that several items share were trained in both.
pytestmark = pytest.mark.xdist_group("claims")


@functools.cache
def facts(config: ExperimentConfig | RecurrentConfig) -> RunFacts | TimeFacts:
    if isinstance(config, RecurrentConfig):
        trainer = RecurrentTrainer(config)
        trainer.step(config.steps)
        return TimeFacts.of(trainer)
    return RunFacts.of(run_experiment(config))


def check(claims: tuple[lessons.Claim, ...], *runs: ExperimentConfig) -> None:
    trained = [facts(config) for config in runs]
    failed = [claim.says for claim in claims if not claim.holds(*trained, *(facts(c) for c in claim.also))]
    assert not failed, failed


@pytest.mark.parametrize("scenario", lessons.SCENARIOS, ids=lambda s: s.name)
def test_each_scenario_shows_what_it_says(scenario):
    check(scenario.claims, scenario.config)


@pytest.mark.parametrize("comparison", lessons.COMPARISONS, ids=lambda c: c.name)
def test_each_comparison_shows_what_it_says(comparison):
    check(comparison.claims, comparison.a[1], comparison.b[1])


@pytest.mark.parametrize("answer", lessons.BATCHNORM_QUESTION.values(), ids=lambda c: c.name)
def test_the_batch_norm_question_is_answered_by_runs_that_differ(answer):
    check(answer.claims, answer.a[1], answer.b[1])


@pytest.mark.parametrize("comparison", lessons.TIME_COMPARISONS, ids=lambda c: c.name)
def test_each_recurrent_pair_shows_what_it_says(comparison):
    check(comparison.claims, comparison.a[1], comparison.b[1])


@pytest.mark.parametrize("scenario", lessons.TIME_SCENARIOS, ids=lambda s: s.name)
def test_each_recurrent_run_shows_what_it_says(scenario):
    check(scenario.claims, scenario.config)


@pytest.mark.parametrize("step", lessons.TOUR, ids=lambda s: s.title)
def test_each_tour_step_shows_what_it_says(step):
    check(step.claims, lessons.TOUR_RUNS[step.scenario].config)


def test_every_text_has_claims():
    items = [*lessons.SCENARIOS, *lessons.COMPARISONS, *lessons.TOUR, *lessons.BATCHNORM_QUESTION.values()]
    items += [*lessons.TIME_COMPARISONS, *lessons.TIME_SCENARIOS]
    assert [item for item in items if not item.claims] == []
    assert {step.scenario for step in lessons.TOUR} <= set(lessons.TOUR_RUNS)


def test_the_runs_here_are_shared_by_one_process(request):
    """`facts` is cached per process: only if pytest-xdist keeps this module's group in
    one worker is each run trained once (pytest 9.2's node ids made it drop the group
    silently, and the shared runs were trained in both workers)."""
    # (pytest-xdist sets `loadgroup` in each worker's options under `--dist loadgroup`)
    if not request.config.getoption("loadgroup", False):
        pytest.skip("the tests run in one process")
    assert request.node.nodeid.endswith("@claims")
