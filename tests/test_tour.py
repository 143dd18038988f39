"""The lecture tour: every step runs, and its run shows what its text claims."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import finish_run, open_page, run_of
from vangrad_core.summary import headline


def tour(step: str | None) -> AppTest:
    return open_page("views/tour.py", {"step": step} if step is not None else None)


def run_to_the_end(at: AppTest):
    finish_run(at, page="tour")
    trainer = run_of(at, "tour").trainer
    return trainer, headline(trainer.metrics, trainer.layers)


def last(trainer):
    layers = trainer.layers
    return layers[layers["step"] == layers["step"].max()].set_index("layer")


def final_accuracy(trainer) -> float:
    return trainer.metrics["test_accuracy"].dropna().iloc[-1]


CLAIMS = {
    1: lambda t, h: h.gradient_ratio < 1e-10 and h.loss > 0.6,
    2: lambda t, h: h.most_saturated_fraction > 0.3,
    3: lambda t, h: (
        last(t)["update_ratio"][1] < 1e-6 * last(t)["update_ratio"][t.config.depth + 1]
        and last(t)["distance_from_init"][1] < 1e-6
    ),
    4: lambda t, h: last(t)["dead_fraction"].max() == 1.0,
    5: lambda t, h: h.loss > 0.6 and final_accuracy(t) < 0.6,
    6: lambda t, h: 1e-3 < h.gradient_ratio < 1e3 and final_accuracy(t) > 0.8,
    7: lambda t, h: last(t)["dead_fraction"].max() > 0.9,
    8: lambda t, h: t.layers["dead_fraction"].max() == 0 and final_accuracy(t) > 0.8,
    9: lambda t, h: final_accuracy(t) > 0.8,
    10: lambda t, h: 1e-2 < h.gradient_ratio < 1e2 and final_accuracy(t) > 0.8,
    11: lambda t, h: h.most_saturated_fraction > 0.5 and final_accuracy(t) < 0.8,
    12: lambda t, h: t.diverged_at is not None,
}


@pytest.mark.parametrize("step", sorted(CLAIMS))
def test_each_step_shows_its_claim(step):
    at = tour(str(step))
    assert at.header[0].value and f"Step {step} of {len(CLAIMS)}" in at.caption[0].value
    trainer, head = run_to_the_end(at)
    assert CLAIMS[step](trainer, head), (step, head)
    assert at.get("plotly_chart")


def test_batch_norm_step_is_far_closer_to_one_than_the_deep_sigmoid_step():
    _, stalled = run_to_the_end(tour("1"))
    _, rescued = run_to_the_end(tour("10"))
    assert abs(rescued.gradient_ratio - 1) < 100 and stalled.gradient_ratio < 1e-10


def test_next_and_previous_walk_the_tour_and_the_url_follows():
    at = tour(None)
    assert at.query_params["step"] in (["1"], "1")
    for expected in range(2, len(CLAIMS) + 1):
        next(b for b in at.button if b.label == "Next").click().run()
        assert not at.exception
        assert at.query_params["step"] in ([str(expected)], str(expected))
    assert next(b for b in at.button if b.label == "Next").disabled
    next(b for b in at.button if b.label == "Previous").click().run()
    assert at.query_params["step"] in ([str(len(CLAIMS) - 1)], str(len(CLAIMS) - 1))


@pytest.mark.parametrize("bad", ["0", "13", "abc", "<b>2</b>", "9" * 500])
def test_a_bad_step_in_the_link_warns_and_starts_at_one(bad):
    at = tour(bad)
    assert not at.exception
    assert at.warning and "<b>" not in at.warning[0].value
    assert "Step 1 of" in at.caption[0].value
