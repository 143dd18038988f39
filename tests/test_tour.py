"""The lecture tour: every step runs, and its run shows what its text claims."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import assert_clean, chart_of, charts_shown, finish_run, open_page, run_of
from vangrad_core.lessons import TOUR, TOUR_RUNS
from vangrad_core.live import LiveTrainer
from vangrad_core.summary import factor_number, gradient_sentence, headline, time_sentence
from views.ui.run_charts import profile_words


def progress_text(at: AppTest) -> str:
    return at.get("progress")[0].proto.text


def tour(step: str | None) -> AppTest:
    return open_page("views/tour.py", {"step": step} if step is not None else None)


def step_run(at: AppTest, number: int) -> LiveTrainer:
    """The run of tour step `number` (one per scenario)."""
    return run_of(at, f"tour:{TOUR[number - 1].scenario}")


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert_clean(at)
    return at


@pytest.mark.parametrize("number", range(1, len(TOUR) + 1))
def test_each_step_shows_its_text_and_runs_its_scenario(number):
    """What each step says is checked on its scenario's run in test_claims.py; here,
    that the page shows that text beside that very run."""
    at = tour(str(number))
    step = TOUR[number - 1]
    assert at.header[0].value == f"{number}. {step.title}" and progress_text(at) == f"Step {number} of {len(TOUR)}"
    assert step.notice in at.info[0].value
    assert step_run(at, number).config == TOUR_RUNS[step.scenario].config


@pytest.mark.parametrize("number", [1, 12])
def test_a_step_trained_through_the_page_says_what_its_run_did(number):
    at = tour(str(number))
    finish_run(at, page=f"tour:{TOUR[number - 1].scenario}")
    assert_clean(at)
    trainer = step_run(at, number).trainer
    head = headline(trainer.metrics, trainer.layers, trainer.config)
    sentence = next(m.value for m in at.markdown if m.value.startswith("Now layer 1 gets"))
    assert sentence == gradient_sentence(head, trainer.config.depth)
    assert len(charts_shown(at)) == 2
    # under step 1's profile, its lines in words (sigmoid's red dashed line among them); step 12's
    # ReLU run draws no such line and its profile moves
    words = [c.value for c in at.caption if "Red dashed" in c.value or c.value.startswith("Since step 1")]
    assert words == ([profile_words(step_run(at, number).snapshot())] if number == 1 else [])
    assert number != 1 or words[0].endswith(f"falls faster, ×{factor_number(head.per_layer, steps=19)} a layer.")


def test_next_and_previous_walk_the_tour_and_the_url_follows():
    at = tour(None)
    assert at.query_params["step"] in (["1"], "1")
    for expected in range(2, len(TOUR) + 1):
        next(b for b in at.button if b.label == "Next").click().run()
        assert not at.exception
        assert at.query_params["step"] in ([str(expected)], str(expected))
    assert next(b for b in at.button if b.label == "Next").disabled
    next(b for b in at.button if b.label == "Previous").click().run()
    assert at.query_params["step"] in ([str(len(TOUR) - 1)], str(len(TOUR) - 1))


@pytest.mark.parametrize("bad", ["0", str(len(TOUR) + 1), "abc", "<b>2</b>", "9" * 500])
def test_a_bad_step_in_the_link_warns_and_starts_at_one(bad):
    at = tour(bad)
    assert not at.exception
    assert at.warning and "<b>" not in at.warning[0].value
    assert progress_text(at).startswith("Step 1 of")


def test_a_recurrent_step_trained_through_the_page_says_what_its_run_did():
    at = tour(str(len(TOUR)))  # exploding through time, clipped
    # 40 steps: the sentence follows its run at any step (test_claims trains the run to the end)
    finish_run(at, page=f"tour:{TOUR[-1].scenario}", steps=40)
    assert_clean(at)
    rows = step_run(at, len(TOUR)).trainer.time_gradients
    expected = time_sentence(rows[rows["step"] == rows["step"].max()])
    assert expected and any(m.value.startswith(expected) for m in at.markdown)
    assert len(charts_shown(at)) == 2
    # the curves' panels name the numbers above them (the adding task: "sums within ±0.04", not "accuracy")
    panels = [a.text for a in chart_of(at, "tour:curves").layout.annotations]
    tested = [m.label.removeprefix("Test ") for m in at.metric if m.label.startswith("Test ")]
    assert [panel.lower() for panel in panels] == [f"loss ({tested[0]})", tested[1]], (panels, tested)


def test_presenting_the_tour_keeps_the_run_controls_between_previous_and_next():
    at = tour("3")
    at.toggle(key="presenter_toggle").set_value(True).run()
    assert_clean(at)
    labels = [b.label for b in at.button]
    assert labels[:5] == ["Previous", "Train", "Step", "Reset", "Next"]  # one row, at the top
    assert not at.title and at.header[0].value.startswith("3. ")
    next(b for b in at.button if b.label == "Next").click().run()
    assert at.header[0].value.startswith("4. ")


def test_previous_finds_the_run_as_it_was_left_and_steps_sharing_a_scenario_share_it():
    """Step 1's run, trained 20 steps, is the same run at steps 3 and 5 (the same
    scenario) and when the lecturer comes back with Previous; the runs of scenarios
    visited longer ago than the last KEPT_RUNS are let go."""
    at = tour("1")
    first = step_run(at, 1)
    first.step(20)
    at.run()
    for _ in range(6):  # to step 7: five other scenarios seen on the way
        click(at, "Next")
    assert at.header[0].value.startswith("7. ")
    assert step_run(at, 5) is first and first.step_count == 20  # step 5 was Deep sigmoid stalls again
    gone = f"run:tour:{TOUR[1].scenario}"  # step 2's, three scenarios ago: let go with its snapshots
    assert gone not in at.session_state
    assert not [key for key in at.session_state["drawings"]["snapshots"] if key.startswith(gone)]
    assert first.trainer is not None
    for _ in range(2):
        click(at, "Previous")
    assert at.header[0].value.startswith("5. ") and step_run(at, 5) is first and first.step_count == 20
    assert at.metric[0].value.startswith("20 / ")  # the page shows it, not a new run


def test_a_step_left_while_training_keeps_its_run_paused():
    at = tour("1")
    click(at, "Train")
    first = step_run(at, 1)
    assert first.playing
    click(at, "Next")
    assert not first.playing and step_run(at, 1) is first  # paused, kept for Previous
