"""A lecture hall: hostile links, sessions side by side, training beside many others."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import button, open_page, run_of
from tests.crowd import others_training
from vangrad_core import ExperimentConfig, Trainer, run_experiment

HOSTILE = [
    {"depth": "<script>alert(1)</script>"},
    {"activation": "<img src=x onerror=alert(1)>"},
    {"dataset": "[click](javascript:alert(1))"},
    {"init": "**bold** _it_ `code` # heading"},
    {"width": "1e308", "steps": "-0", "seed": "99999999999999999999999"},
    {"learning_rate": "0x10", "noise": "1/2", "batch_size": "64.5"},
    {"norm": "none" * 3000},
    {"weight_scale": "", "grad_clip": " ", "residual": "TRUE!!"},
    {f"unknown{i}": "x" for i in range(60)},
    {"scenario": "<script>alert(1)</script>"},
    {"depth": ["3", "<b>4</b>"]},
]


def app(query: dict) -> AppTest:
    return open_page(None, query)


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_links_get_a_plain_warning_and_defaults(query):
    at = app(query)
    assert not at.exception
    assert at.warning, "a bad link must say so"
    text = " ".join(w.value for w in at.warning)
    for dangerous in ("<script", "<img", "javascript:", "](", "**bold**", "`code`"):
        assert dangerous not in text
    assert len(text) < 3000  # 60 unknown keys: a capped list, not a wall of text
    config = run_of(at).config
    defaults = ExperimentConfig()
    for key in query:
        if key in defaults.to_dict():
            assert getattr(config, key) == getattr(defaults, key), key


def test_two_sessions_never_see_each_others_state():
    sigmoid = app({"scenario": "Deep sigmoid stalls"})
    relu = app({"scenario": "Same, with ReLU (He init)"})
    for at in (sigmoid, relu):
        button(at, "Train").click().run()
    for _ in range(3):  # interleaved ticks of the two sessions
        sigmoid.run()
        relu.run()
    a, b = run_of(sigmoid).trainer, run_of(relu).trainer
    assert a.step_count > 0 and b.step_count > 0
    assert a is not b and a.model is not b.model
    assert a.config.activation == "sigmoid" and b.config.activation == "relu"
    for trainer in (a, b):
        alone = Trainer(trainer.config)
        alone.step(trainer.step_count)
        pd.testing.assert_frame_equal(trainer.layers, alone.layers)


def test_same_numbers_alone_or_beside_ten_others():
    config = ExperimentConfig(depth=12, width=32, steps=40, seed=7, norm="batchnorm_before")
    alone = run_experiment(config)
    others = [ExperimentConfig(depth=4 + i % 5, width=16, seed=100 + i, steps=20000) for i in range(10)]
    with others_training(others, lambda other: other.step(2)):
        beside = run_experiment(config)
    pd.testing.assert_frame_equal(alone.layers, beside.layers)
    pd.testing.assert_frame_equal(alone.metrics, beside.metrics)


def test_a_waiting_session_says_so_and_does_not_train():
    from views.ui.live import training_slots

    at = app({"scenario": "Deep sigmoid stalls"})
    slots = training_slots()
    taken = 0
    while slots.acquire(blocking=False):  # every training slot busy elsewhere
        taken += 1
    live = run_of(at)
    try:
        button(at, "Train").click().run()
        at.run()
        assert live.step_count == 0 and live.playing
        assert any("waiting for a free training slot" in m.value for m in at.markdown)
    finally:
        for _ in range(taken):
            slots.release()
    at.run()
    assert live.step_count > 0
