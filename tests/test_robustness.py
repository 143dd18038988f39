"""A lecture hall: hostile links, sessions side by side, training beside many others."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.crowd import others_training
from vangrad_core import ExperimentConfig, Trainer, run_experiment

APP = Path(__file__).resolve().parent.parent / "app.py"

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
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_links_get_a_plain_warning_and_defaults(query):
    at = app(query)
    assert not at.exception
    assert at.warning, "a bad link must say so"
    text = " ".join(w.value for w in at.warning)
    for dangerous in ("<script", "<img", "javascript:", "](", "**bold**", "`code`"):
        assert dangerous not in text
    assert len(text) < 3000  # 60 unknown keys: a capped list, not a wall of text
    config = at.session_state["playground_run"].config
    defaults = ExperimentConfig()
    for key in query:
        if key in defaults.to_dict():
            assert getattr(config, key) == getattr(defaults, key), key


def test_two_sessions_never_see_each_others_state():
    sigmoid = app({"scenario": "Deep sigmoid stalls"})
    relu = app({"scenario": "Same, with ReLU (He init)"})
    for at in (sigmoid, relu):
        next(b for b in at.button if b.label == "Train").click().run()
    for _ in range(3):  # interleaved ticks of the two sessions
        sigmoid.run()
        relu.run()
    a, b = sigmoid.session_state["playground_run"].trainer, relu.session_state["playground_run"].trainer
    assert a.step_count > 0 and b.step_count > 0
    assert a is not b and a.model is not b.model
    assert a.config.activation == "sigmoid" and b.config.activation == "relu"
    for trainer in (a, b):
        alone = Trainer(trainer.config)
        alone.step(trainer.step_count)
        pd.testing.assert_frame_equal(trainer.layers, alone.layers)


def test_same_numbers_alone_or_beside_twenty_others():
    config = ExperimentConfig(depth=12, width=32, steps=60, seed=7, norm="batchnorm_before")
    alone = run_experiment(config)
    others = [ExperimentConfig(depth=4 + i % 5, width=16, seed=100 + i, steps=20000) for i in range(20)]
    with others_training(others, lambda other: other.step(2)):
        beside = run_experiment(config)
    pd.testing.assert_frame_equal(alone.layers, beside.layers)
    pd.testing.assert_frame_equal(alone.metrics, beside.metrics)


def test_a_waiting_session_says_so_and_does_not_train():
    from views.widgets import training_slots

    at = app({"scenario": "Deep sigmoid stalls"})
    slots = training_slots()
    taken = 0
    while slots.acquire(blocking=False):  # every training slot busy elsewhere
        taken += 1
    live = at.session_state["playground_run"]
    try:
        next(b for b in at.button if b.label == "Train").click().run()
        at.run()
        assert live.step_count == 0 and live.playing
        assert any("waiting for a free training slot" in m.value for m in at.markdown)
    finally:
        for _ in range(taken):
            slots.release()
    at.run()
    assert live.step_count > 0


def test_every_activation_init_and_norm_from_the_sidebar():
    """Each combination, set through the widgets, trains a tick with no traceback;
    a diverging one shows the divergence banner."""
    import itertools

    from vangrad_core import ACTIVATIONS, INITS, NORMS

    at = app({})
    at.session_state["cfg_depth"] = 3
    at.session_state["cfg_width"] = 8
    at.session_state["cfg_learning_rate"] = 10.0  # the largest: some of them explode
    for activation, init, norm in itertools.product(ACTIVATIONS, INITS, NORMS):
        at.session_state["cfg_activation"] = activation
        at.session_state["cfg_init"] = init
        at.session_state["cfg_norm"] = norm
        at.run()
        next(b for b in at.button if b.label == "Train").click().run()
        assert not at.exception, (activation, init, norm, [e.message for e in at.exception])
        live = at.session_state["playground_run"]
        assert live.config.activation == activation
        assert live.step_count > 0 or live.trainer.diverged_at is not None
        if live.trainer.diverged_at is not None:
            assert any("diverged" in e.value for e in at.error)
        live.pause()
