"""The playground page through Streamlit's AppTest: scenarios, extremes, bad URLs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from vangrad_core import ExperimentConfig
from vangrad_core.scenarios import SCENARIOS

TIMEOUT = 120
APP = Path(__file__).resolve().parent.parent / "app.py"


def app(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def live(at: AppTest):
    return at.session_state["playground_run"]


def trainer(at: AppTest):
    return live(at).trainer


def train_for(at: AppTest, steps: int, seconds: float = 60) -> AppTest:
    """Press Train, then redraw until the run has `steps` steps (or stopped)."""
    button(at, "Train").click().run()  # each run of the page is one tick of the live view
    deadline = time.monotonic() + seconds
    while trainer(at).step_count < steps and live(at).playing and time.monotonic() < deadline:
        at.run()
    if live(at).playing:
        button(at, "Pause").click().run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def test_default_page_loads_ready_to_train():
    at = app()
    assert_clean(at)
    assert at.title[0].value.startswith("Playground")
    assert trainer(at).step_count == 0
    assert any("press Train" in m.value for m in at.markdown)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_every_scenario_trains_a_few_ticks(scenario):
    at = app({"scenario": scenario.name})
    assert_clean(at)
    assert at.selectbox(key="cfg_scenario").value == scenario.name
    assert trainer(at).config == scenario.config
    train_for(at, 30)
    assert_clean(at)
    run = trainer(at)
    assert run.step_count > 0 or run.diverged_at is not None
    assert len(at.get("plotly_chart")) >= 8
    if run.diverged_at is not None:
        assert any("diverged" in e.value for e in at.error)


def test_deep_sigmoid_vanishes_and_batch_norm_recovers():
    at = app({"scenario": "Deep sigmoid stalls"})
    train_for(at, 500)
    assert trainer(at).done and any("finished" in m.value for m in at.markdown)
    stalled = trainer(at).layers
    last = stalled[stalled["step"] == stalled["step"].max()].set_index("layer")["weight_grad_norm"]
    assert last[1] / last[20] < 1e-10
    at.selectbox(key="cfg_norm").set_value("batchnorm_before").run()
    assert trainer(at).config.norm == "batchnorm_before" and trainer(at).step_count == 0
    train_for(at, 500)
    rescued = trainer(at).layers
    last = rescued[rescued["step"] == rescued["step"].max()].set_index("layer")["weight_grad_norm"]
    assert 1e-2 < last[1] / last[20] < 1e2
    assert_clean(at)


def test_url_carries_the_settings():
    at = app()
    at.slider(key="cfg_depth").set_value(7).run()
    assert at.query_params["depth"] == ["7"] or at.query_params["depth"] == "7"
    again = app({k: v for k, v in ExperimentConfig(depth=7).to_query_params().items()})
    assert trainer(again).config.depth == 7
    assert not again.warning


@pytest.mark.parametrize(
    "query",
    [
        {"depth": "abc"},
        {"depth": "1000", "activation": "<b>x</b>", "colour": "red"},
        {"scenario": "no such scenario"},
        {"learning_rate": "nan", "seed": "-5", "residual": "perhaps"},
        {"dataset": "x" * 5000},
    ],
)
def test_bad_url_shows_a_warning_and_uses_defaults(query):
    at = app(query)
    assert_clean(at)
    assert at.warning, "a bad link must say so"
    text = at.warning[0].value
    assert "<b>" not in text and "x" * 100 not in text
    defaults = ExperimentConfig()
    config = trainer(at).config
    for key in query:
        if key in defaults.to_dict():
            assert getattr(config, key) == getattr(defaults, key)


@pytest.mark.parametrize(
    "changes",
    [
        {"cfg_depth": 1, "cfg_width": 2},
        {"cfg_depth": 100, "cfg_width": 512, "cfg_batch_size": 1},
        {"cfg_learning_rate": 10.0, "cfg_init": "large_normal", "cfg_activation": "relu"},
        {"cfg_batch_size": 1024, "cfg_dataset": "digits", "cfg_steps": 1},
        {"cfg_weight_scale": 10.0, "cfg_activation": "linear", "cfg_norm": "layernorm_before"},
        {"cfg_weight_scale": 0.1, "cfg_noise": 1.0, "cfg_dataset": "teacher", "cfg_grad_clip": 1e6},
    ],
    ids=["smallest", "largest", "lr10", "big-batch-one-step", "scale10", "scale0.1"],
)
def test_widgets_at_their_extremes(changes):
    at = app()
    for key, value in changes.items():
        at.session_state[key] = value
    at.run()
    assert_clean(at)
    train_for(at, 2, seconds=120)
    assert_clean(at)
    run = trainer(at)
    assert run.step_count >= 1 or run.diverged_at is not None
    if run.diverged_at is not None:
        assert any("diverged" in e.value for e in at.error)


def test_pause_step_reset():
    at = app({"scenario": "Deep sigmoid stalls"})
    button(at, "Train").click().run()
    at.run()
    button(at, "Pause").click().run()
    paused_at = trainer(at).step_count
    at.run()
    assert trainer(at).step_count == paused_at  # paused: no training on reruns
    button(at, "Step").click().run()
    assert trainer(at).step_count == paused_at + 1
    button(at, "Reset").click().run()
    assert trainer(at).step_count == 0
    assert_clean(at)


def test_changing_a_control_mid_run_restarts_it():
    at = app({"scenario": "Deep sigmoid stalls"})
    button(at, "Train").click().run()
    at.slider(key="cfg_depth").set_value(5).run()
    assert_clean(at)
    assert trainer(at).config.depth == 5 and trainer(at).step_count == 0
    assert at.selectbox(key="cfg_scenario").value.startswith("Custom")


def test_presenter_link_hides_chosen_controls_and_keeps_its_flags():
    at = app({"scenario": "Deep sigmoid stalls", "presenter": "1", "hide": "scenario,settings,downloads,bogus"})
    assert_clean(at)
    assert at.toggle(key="presenter").value is True
    assert not [s for s in at.selectbox if s.key == "cfg_scenario"]  # hidden scenario picker
    assert not [s for s in at.slider if s.key == "cfg_depth"]  # hidden settings
    assert not [b for b in at.get("download_button")]
    assert trainer(at).config.depth == 20  # the scenario still applies
    params = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert params.get("presenter") == "1" and params.get("hide") == "downloads,scenario,settings"
    train_for(at, 20)
    assert_clean(at)
    figure = at.session_state["_chart_profile"][1]
    assert figure.layout.height >= 560 and figure.layout.font.size >= 20


def test_presenter_toggle_enlarges_the_charts():
    at = app()
    at.toggle(key="presenter").set_value(True).run()
    assert_clean(at)
    assert at.session_state["_chart_profile"][1].layout.font.size >= 20


def test_theory_beside_the_measured_gradients():
    at = app({"depth": "12", "activation": "tanh", "init": "xavier_normal"})
    train_for(at, 5)
    assert_clean(at)
    assert at.segmented_control(key="gradient_measure").value == "delta_rms"
    theory_line = next(c.value for c in at.caption if "χ₁" in c.value)
    assert "χ₁ = 0.997" in theory_line and "critical" in theory_line and "depth scale" in theory_line
    profile = at.session_state["_chart_profile"][1]
    assert any(t.name.startswith("theory") for t in profile.data)
    variance = at.session_state["_chart_variance"][1]
    assert variance.data[0].name.startswith("theory") and variance.data[1].name.startswith("Glorot")
    phase = at.session_state["_chart_phase"][1]
    assert phase.data[-1].name == "this network" and phase.data[-1].x == (1.0,)
    at.segmented_control(key="gradient_measure").set_value("weight_grad_norm").run()
    assert_clean(at)
    profile = at.session_state["_chart_profile"][1]
    assert "dL/dW" in profile.layout.yaxis.title.text
    # with batch norm the mean-field theory does not apply, and the page says so
    at.selectbox(key="cfg_norm").set_value("batchnorm_before").run()
    assert_clean(at)
    assert any("Theory line hidden" in c.value for c in at.caption)
