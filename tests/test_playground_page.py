"""The playground page through Streamlit's AppTest: scenarios, extremes, bad URLs."""

from __future__ import annotations

import io
import json
import re
import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from tests.conftest import (
    assert_clean,
    button,
    chart_of,
    charts_shown,
    downloads_hold,
    drawn_at_step,
    drawn_charts,
    finish_run,
    open_page,
    play_out,
    run_of,
    train_for,
)
from vangrad_core import ExperimentConfig, Trainer, figures, theory
from vangrad_core import live as live_module
from vangrad_core.figures.style import FONT_SIZE
from vangrad_core.lessons import SCENARIO_BY_NAME, SCENARIOS
from vangrad_core.live import LiveTrainer
from vangrad_core.summary import (
    at_step,
    dead_layers_sentence,
    factor_number,
    flat_share_sentence,
    headline,
    units_sentence,
)
from vangrad_core.writing import number, percent
from views.ui import charts, run_charts
from views.ui.charts import PRESENTER_CHART, data_files
from views.ui.live import LOST, training_pool
from views.ui.run_charts import (
    SLOPE_GUIDE,
    distance_words,
    then_and_now,
    theory_summary,
    update_words,
    variance_words,
)


def app(query: dict[str, str] | None = None):
    return open_page(None, query)


def trainer(at):
    return run_of(at).trainer


def test_default_page_loads_ready_to_train():
    at = app()
    assert_clean(at)
    assert at.title[0].value.startswith("Playground")
    assert trainer(at).step_count == 0
    assert any("press Train" in m.value for m in at.markdown)


def test_a_run_set_going_says_its_charts_are_on_their_way():
    """Not "Press Train to see ..." while it trains (its first step came after the view's wait)."""
    live = LiveTrainer(ExperimentConfig(depth=2, width=4, steps=3))
    assert charts.why_empty(live.snapshot()) is None  # (not playing: "Press Train" is true)
    live.play()
    assert charts.why_empty(live.snapshot()) == charts.SETTING_OFF


def test_a_run_that_diverges_on_its_first_step_says_why_its_charts_are_empty():
    """Its charts said "Press Train to see ..." beside a disabled Train ("Stopped"), under
    a banner saying the run had diverged on its first step (a browser walk)."""
    at = app({"depth": "30", "activation": "relu", "init": "large_normal", "weight_scale": "10", "steps": "3"})
    train_for(at)
    assert_clean(at)
    assert trainer(at).diverged_at == 0 and any("on its first step" in e.value for e in at.error)
    notes = [n.text.replace("<br>", " ") for key in drawn_charts(at) for n in chart_of(at, key).layout.annotations]
    assert not any("Press Train" in text for text in notes)
    assert any(text.startswith("Nothing to draw: the run diverged") for text in notes)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_every_scenario_trains_a_few_ticks(scenario):
    at = app({"scenario": scenario.name})
    assert_clean(at)
    assert at.selectbox(key="scenario").value == scenario.name
    assert trainer(at).config == scenario.config
    train_for(at, 30)
    assert_clean(at)
    run = trainer(at)
    assert run.step_count > 0 or run.diverged_at is not None
    assert len(charts_shown(at)) >= 8
    if run.diverged_at is not None:
        assert any("diverged" in e.value for e in at.error)
        # over, and unable to go on: the first button does not offer to resume it
        assert button(at, "Stopped").disabled and not [b for b in at.button if b.label in ("Train", "Resume")]
        # its test accuracy says when it was measured (the last test can be many steps back)
        tested = run.metrics["step"][run.metrics["test_accuracy"].notna()]
        accuracy = next(m for m in at.metric if m.label == "Test accuracy")
        assert accuracy.delta == f"at step {int(tested.iloc[-1]) + 1}"
        at.toggle(key="presenter_toggle").set_value(True).run()  # presenting, no line under it: its label says it
        assert any(m.label == f"Test accuracy, step {int(tested.iloc[-1]) + 1}" for m in at.metric)


def test_a_resting_run_is_snapshotted_again_only_once_it_moved(monkeypatch):
    """A rerun of the page of a paused run (a widget outside the views, a scenario's
    notice, another tab's Train: the server reruns pages often) draws the snapshots it
    has; a Step, a Reset or new settings take new ones, and the page shows them."""
    at = app({"scenario": "Deep sigmoid stalls"})
    button(at, "Step").click().run()
    taken = []
    take = live_module.snapshot_together
    monkeypatch.setattr(live_module, "snapshot_together", lambda runs, *a, **k: taken.append(a) or take(runs, *a, **k))
    at.run()
    assert_clean(at)
    assert taken == [] and any(m.value.startswith("**1 / 500 steps**") for m in at.markdown)
    button(at, "Step").click().run()
    assert len(taken) == 2  # the live view's, the details' (with the decision grid)
    assert any(m.value.startswith("**2 / 500 steps**") for m in at.markdown)
    assert chart_of(at, "heatmap") is not None and drawn_at_step(at, "heatmap") == 2
    button(at, "Reset").click().run()
    assert len(taken) == 4 and any(m.value.startswith("**0 / 500 steps**") for m in at.markdown)
    at.session_state["cfg.steps"] = 40
    at.selectbox(key="cfg.norm").set_value("batchnorm_before").run()
    assert len(taken) == 6 and trainer(at).config == SCENARIOS[0].config.replace(norm="batchnorm_before", steps=40)
    train_for(at)  # played to its end: the views' snapshots taken while it played are from before it
    assert any(m.value.startswith("**40 / 40 steps**, finished") for m in at.markdown)
    assert drawn_at_step(at, "heatmap") == 40
    taken.clear()
    at.run()
    assert taken == [] and any(m.value.startswith("**40 / 40 steps**, finished") for m in at.markdown)


def test_a_kept_chart_is_sent_again_as_a_figure_made_anew_would_be():
    """A rerun sends the kept charts again as their JSON made once (`charts.chart`):
    what it sends is what the first send was, without Streamlit's Plotly template."""
    at = app({"scenario": "Deep sigmoid stalls"})
    button(at, "Step").click().run()
    first = charts_shown(at)
    at.run()
    assert charts_shown(at) == first
    kept = drawn_charts(at)
    assert len(kept) >= 8
    sent = list(first.values())
    for _, spec in kept.values():
        assert json.loads(spec) in sent
        assert "template" not in json.loads(spec)["layout"]  # (the page applies the theme: chart_in_place.js)


def test_train_redraws_no_chart_until_the_first_tick_draws_the_run_moving():
    """The full rerun that Train starts (forty at once, in a class) builds no chart: the
    live view and the details keep what they drew at rest for one more pace, and the
    step count is the run's newest; the view's first tick draws the run moving."""
    at = app({"scenario": "Deep sigmoid stalls"})
    button(at, "Step").click().run()
    at_rest = dict(drawn_charts(at))  # chart -> (stamp, figure), as drawn at step 1
    button(at, "Resume").click().run()
    assert all(drawn_charts(at)[chart] is drawn for chart, drawn in at_rest.items())
    # the first tick that comes once the charts' pace has passed redraws the live view
    # from the moving run: tick until then (the pace is 0.15 s alone, longer when this
    # process has measured costly redraws, and it can grow between two ticks)
    live_view = {"network", "profile", "heatmap", "curves"}
    deadline = time.monotonic() + 60
    while True:
        time.sleep(0.05)
        at.run()
        redrawn = {chart for chart, drawn in at_rest.items() if drawn_charts(at)[chart] is not drawn}
        if live_view <= redrawn or time.monotonic() > deadline:
            break
    assert live_view <= redrawn
    assert drawn_at_step(at, "heatmap") > 1


def test_deep_sigmoid_vanishes_and_batch_norm_recovers():
    at = app({"scenario": "Deep sigmoid stalls"})
    train_for(at, 20)  # the live view ticks
    finish_run(at)
    assert trainer(at).done and any("finished" in m.value for m in at.markdown)
    stalled = trainer(at).layers
    last = stalled[stalled["step"] == stalled["step"].max()].set_index("layer")["delta_rms"]
    assert last[1] / last[20] < 1e-10
    at.selectbox(key="cfg.norm").set_value("batchnorm_before").run()
    assert trainer(at).config.norm == "batchnorm_before" and trainer(at).step_count == 0
    finish_run(at)
    rescued = trainer(at).layers
    last = rescued[rescued["step"] == rescued["step"].max()].set_index("layer")["delta_rms"]
    assert 1e-2 < last[1] / last[20] < 1e2
    assert_clean(at)


def test_the_details_say_when_they_come_while_a_run_trains_from_rest_and_keep_the_chosen_layer():
    """Drawn every few seconds, they would show the snapshot from before Train, whose
    charts say "Press Train to ...", while the run trains."""
    at = app({"steps": "3000"})
    at.slider(key="inspect_layer").set_value(3).run()
    button(at, "Train").click().run()
    shown = list(charts_shown(at))
    assert any("these views are redrawn every 5 s" in c.value for c in at.caption) and run_of(at).playing
    assert "ridges" not in shown and "saturation" not in shown and "profile" in shown
    button(at, "Pause").click().run()
    assert at.slider(key="inspect_layer").value == 3
    assert "ridges" in charts_shown(at)
    assert not any("drawn every" in c.value for c in at.caption)


def test_before_the_first_step_the_most_saturated_layer_is_not_yet_measured():
    """It said "none" (no layer saturated) beside the other numbers' "–" before anything was measured."""
    at = app({"scenario": "Sigmoid saturates (large init)"})
    most = lambda: next(m.value for m in at.metric if m.label.startswith("Most "))  # noqa: E731
    assert most() == "–"
    button(at, "Step").click().run()
    assert most() not in ("–", "none")  # large initial weights: saturated from the first step


def test_url_carries_the_settings():
    at = app()
    at.slider(key="cfg.depth").set_value(7).run()
    assert at.query_params["depth"] == ["7"] or at.query_params["depth"] == "7"
    again = app({k: v for k, v in ExperimentConfig(depth=7).to_query_params().items()})
    assert trainer(again).config.depth == 7
    assert not again.warning


def test_every_scenarios_sliders_show_its_values_as_the_run_has_them():
    """A slider writes its value to as many decimals as the value has: the exploding
    scenario's weight scale 0.32 read "0.3" on a slider of steps of 0.1, where the
    theory beside it squares 0.32 (σ_w² = 3.28); the default's 1.0 still reads "1.0"."""
    for scenario in SCENARIOS:
        at = app({"scenario": scenario.name})
        for slider in at.slider:
            if slider.proto.format and slider.proto.format.startswith("%."):
                assert float(slider.proto.format % slider.value) == slider.value, (scenario.name, slider.label)
    exploding = app({"scenario": "Exploding gradients"}).slider(key="cfg.weight_scale")
    assert (exploding.value, exploding.proto.format % exploding.value) == (0.32, "0.32")
    assert app().slider(key="cfg.weight_scale").proto.format % 1.0 == "1.0"
    tiny = app({"noise": "2.5e-05"}).slider(key="cfg.noise")  # (a link's: "2.5e-05" has no "." to count by)
    assert tiny.proto.format % tiny.value == "0.000025"


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
        {"cfg.depth": 1, "cfg.width": 2},
        {"cfg.depth": 100, "cfg.width": 512, "cfg.batch_size": 1},
        {"cfg.learning_rate": 10.0, "cfg.init": "large_normal", "cfg.activation": "relu"},
        {"cfg.batch_size": 1024, "cfg.dataset": "digits", "cfg.steps": 1},
        {"cfg.weight_scale": 10.0, "cfg.activation": "linear", "cfg.norm": "layernorm_before"},
        {"cfg.weight_scale": 0.1, "cfg.noise": 1.0, "cfg.dataset": "teacher", "cfg.grad_clip": 1e6},
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


def test_the_runs_data_downloads_as_it_stands_when_asked():
    at = app({"scenario": "Deep sigmoid stalls"})
    button(at, "Step").click().run()
    button(at, "Step").click().run()
    button(at, "Download the data").click().run()
    assert_clean(at)
    run = trainer(at)
    assert any(c.value == f"The run at step 2 of {run.config.steps}: a file for each button." for c in at.caption)
    files = data_files(run_of(at).snapshot())
    assert downloads_hold(at, files)
    assert [(label, name) for label, _, name, _ in files] == [
        ("Per-layer statistics (CSV)", "vangrad-layers.csv"),
        ("Loss and accuracy (CSV)", "vangrad-metrics.csv"),
        ("Settings (JSON)", "vangrad-config.json"),
    ]
    layers = pd.read_csv(io.StringIO(files[0][1]))
    pd.testing.assert_frame_equal(layers, run.layers.reset_index(drop=True), check_dtype=False)
    assert len(layers) and (layers.groupby("step").size() == run.config.depth + 1).all()  # each layer, output too
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(files[1][1])), run.metrics, check_dtype=False)
    assert ExperimentConfig(**json.loads(files[2][1])) == run.config
    button(at, "Resume").click().run()  # the page's next full run: the buttons go with their files
    assert not at.get("download_button")
    assert button(at, "Download the data").disabled  # (while the run trains: the files would be gone at its end)
    training_pool().pause([run_of(at)])


def test_a_run_whose_training_process_died_starts_again_and_says_why():
    """A worker killed under a run (out of memory) loses the run: the page says so and
    starts it again at step 0; a Train pressed on the page drawn before trains the new run."""
    at = app({"scenario": "Deep sigmoid stalls"})
    lost = run_of(at)
    lost.step(3)
    lost.lost = True  # (as a WorkerRun's, once its worker is gone)
    button(at, "Train").click().run()
    assert_clean(at)
    assert run_of(at) is not lost and lost.released and run_of(at).config == lost.config
    assert run_of(at).playing and [t.value for t in at.toast] == [LOST]
    button(at, "Pause").click().run()


def test_changing_a_control_mid_run_restarts_it_playing():
    at = app({"scenario": "Deep sigmoid stalls"})
    # a run still playing when the control changes: the scenario's 500 steps now train in
    # 0.4 s, and in one fresh-clone CI run they had finished (nothing left to restart playing)
    at.session_state["cfg.steps"] = 20000
    button(at, "Train").click().run()
    at.slider(key="cfg.depth").set_value(5).run()
    assert_clean(at)
    assert trainer(at).config.depth == 5 and run_of(at).playing  # the new run plays at once
    assert at.selectbox(key="scenario").value.startswith("Custom")
    button(at, "Pause").click().run()
    at.slider(key="cfg.depth").set_value(6).run()  # paused: the new run waits for Train
    assert trainer(at).config.depth == 6 and trainer(at).step_count == 0 and not run_of(at).playing


def test_a_finished_run_trains_on_past_its_steps_until_paused():
    at = app({"depth": "3", "width": "8", "steps": "30"})
    finish_run(at)
    assert not [b for b in at.button if b.label in ("Train", "Resume")]
    assert not button(at, "Train on").help  # under the pointer that pressed Train, a tooltip covered the title
    button(at, "Train on").click().run()
    live = run_of(at)
    while live.playing and live.step_count <= 30:
        at.run()
    assert live.step_count > 30 and live.config.steps == 30  # the settings (and the link) stay
    play_out(at, live)
    assert live.step_count == 60 and at.metric[0].value == "60 / 60"
    assert_clean(at)


def test_presenter_link_hides_chosen_controls_and_keeps_its_flags():
    at = app({"scenario": "Deep sigmoid stalls", "presenter": "1", "hide": "scenario,settings,downloads,bogus"})
    assert_clean(at)
    assert at.toggle(key="presenter_toggle").value is True
    assert not [s for s in at.selectbox if s.key == "scenario"]  # hidden scenario picker
    assert not [s for s in at.slider if s.key == "cfg.depth"]  # hidden settings
    assert "Download the data" not in [b.label for b in at.button]
    assert trainer(at).config.depth == 20  # the scenario still applies
    params = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert params.get("presenter") == "1" and params.get("hide") == "downloads,scenario,settings"
    train_for(at, 20)
    assert_clean(at)
    figure = chart_of(at, "profile")
    # larger text, at the height that keeps both charts on a 1280x720 screen (checked in the browser)
    assert figure.layout.height == PRESENTER_CHART["height"] >= 300 and figure.layout.font.size > FONT_SIZE


def test_presenter_mode_puts_the_run_first():
    at = app({"scenario": "Deep sigmoid stalls"})
    at.toggle(key="presenter_toggle").set_value(True).run()
    assert_clean(at)
    assert chart_of(at, "profile").layout.font.size > FONT_SIZE
    assert at.title[0].value == "Deep sigmoid stalls"  # the scenario's name, not the page's
    assert "scenario" in [s.key for s in at.sidebar.selectbox]  # the picker waits in the sidebar
    assert not [c for c in at.get("segmented_control")]  # one gradient measure, room for the charts
    labels = [m.label for m in at.metric]
    assert labels[0].startswith("Step · ")  # the run's status lives in the step count


def test_theory_beside_the_measured_gradients():
    at = app({"depth": "12", "activation": "tanh", "init": "xavier_normal"})
    train_for(at, 5)
    assert_clean(at)
    assert at.segmented_control(key="gradient_measure").value == "delta_rms"
    theory_line = next(c.value for c in at.caption if "χ₁" in c.value)
    assert "χ₁ = 0.997" in theory_line and "at its size (critical)" in theory_line
    profile = chart_of(at, "profile")
    assert any(t.name.startswith("theory") for t in profile.data)
    variance = chart_of(at, "variance")
    assert variance.data[0].name.startswith("theory") and variance.data[1].name.startswith("Glorot")
    phase = chart_of(at, "phase")
    assert phase.data[-1].name == "this network" and phase.data[-1].x == (1.0,)
    at.segmented_control(key="gradient_measure").set_value("weight_grad_norm").run()
    assert_clean(at)
    profile = chart_of(at, "profile")
    assert "dL/dW" in profile.layout.yaxis.title.text
    # the caption's numbers are the chart's, and its theory says which gradient it is about (no line drawn)
    line = next(t for t in profile.data if t.name.endswith("(now)"))
    now = dict(zip(line.x, line.y, strict=True))
    caption = next(c.value for c in at.caption if c.value.startswith("Gradient of each layer's weights"))
    assert f"Now layer 1's dL/dW is {number(now[1] / now[12])} of layer 12's" in caption
    assert any(c.value.startswith("**Theory (mean field), at initialization for dL/dz:**") for c in at.caption)
    # with batch norm the mean-field theory does not apply, and the page says so
    at.selectbox(key="cfg.norm").set_value("batchnorm_before").run()
    assert_clean(at)
    assert any("Theory line hidden" in c.value for c in at.caption)


def profile_caption(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Gradient reaching each layer"))


def slope_line(at):
    """The profile's red dashed ×0.25 line, or None."""
    return next((t for t in chart_of(at, "profile").data if t.name.startswith("×0.25")), None)


def test_the_caption_reads_the_red_line_against_the_runs_own_factor():
    """Sigmoid's ×0.25 line, in words beside the run's factor a layer (the headline's, as
    the profile's solid line draws it): deep sigmoid's gradient falls faster than the
    line (and its profile has not moved, which hides the dotted line); with large
    weights it first grows, then falls slower; no line, no words."""

    def factor_now(at) -> float:
        snap = run_of(at).snapshot()
        return headline(snap.metrics, snap.layers, snap.config).per_layer

    at = app({"scenario": "Deep sigmoid stalls"})
    finish_run(at, steps=10)
    factor = factor_now(at)
    solid = next(t for t in chart_of(at, "profile").data if t.name == "step 10 (now)")
    assert (solid.y[0] / solid.y[19]) ** (1 / 19) == pytest.approx(factor) and factor < SLOPE_GUIDE
    assert profile_caption(at).endswith(
        "Red dashed: ×0.25 a layer back from layer 20, the most a sigmoid's slope passes on (the weights left "
        f"out); this run's gradient falls faster, ×{factor_number(factor, steps=19)} a layer."
    )
    # its profile has not moved since step 1: the caption says why the dotted line cannot be seen
    then = next(t for t in chart_of(at, "profile").data if t.name == "step 1 (initial weights)")
    moved = np.abs(np.log10(np.asarray(solid.y) / np.asarray(then.y))).max()
    assert moved < 0.05 and (
        f"Since step 1 no layer's gradient has changed by more than ×{run_charts.at_most(10**moved)}: the solid line "
        "covers the dotted one. Red dashed"
    ) in profile_caption(at)
    line = slope_line(at)
    assert line.line.color == "#d62728" and line.line.dash == "dash"
    assert line.y[0] / line.y[-1] == pytest.approx(SLOPE_GUIDE ** (len(line.y) - 1))

    at = app({"scenario": "Sigmoid saturates (large init)"})
    finish_run(at, steps=1)
    factor = factor_now(at)
    assert factor > 1 and f"does not fall (×{factor_number(factor, steps=19)} a layer): its weights make up more" in (
        profile_caption(at)
    )
    finish_run(at, steps=59)
    factor = factor_now(at)
    assert (
        SLOPE_GUIDE < factor < 1
        and f"falls slower, ×{factor_number(factor, steps=19)} a layer: its weights make up part"
        in (profile_caption(at))
    )
    assert "Since step 1" not in profile_caption(at)  # large weights: the profile moved by orders of magnitude

    for query in ({"scenario": "Batch norm rescues deep sigmoid"}, {"activation": "relu"}):
        at = app(query)
        finish_run(at, steps=3)
        assert slope_line(at) is None and "Red dashed" not in profile_caption(at)


def drawn_units(figure) -> tuple[np.ndarray, np.ndarray]:
    """Layer and colour (log10 RMS of dL/dz) of each unit the network picture draws."""
    traces = [t for t in figure.data if t.marker.coloraxis == "coloraxis"]
    return np.concatenate([t.x for t in traces]), np.concatenate([t.marker.color for t in traces])


def test_the_network_drawn_unit_by_unit_drains_towards_the_input_and_every_layers_outputs_are_shown():
    at = app({"scenario": "Deep sigmoid stalls"})
    finish_run(at)
    run = trainer(at)
    units = run.units()
    network = chart_of(at, "network")
    x, colour = drawn_units(network)
    assert sorted(set(x)) == list(range(1, 22)) and len(x) == 20 * 16 + 2  # 16 of 32 units a layer; 2 outputs
    # the colour drains: layer 1's units get a ten-billionth of layer 20's, or less (log10 colours)
    assert colour[x == 1].max() < colour[x == 20].min() - 10
    caption = next(c.value for c in at.caption if c.value.startswith("Each dot is a unit"))
    assert caption.endswith(units_sentence(units, "saturated")) and units_sentence(units, "saturated")
    ridges = chart_of(at, "ridges")
    shares = run.layers.query(f"step == {run.layers['step'].max()}").set_index("layer")["saturation"]
    assert list(ridges.layout.yaxis.ticktext) == [f"{n} · {shares[n]:.0%}" for n in range(1, 21)]
    assert any(c.value.endswith(flat_share_sentence(run.layers, "saturated")) for c in at.caption)
    assert ridges.layout.xaxis.range == (0.0, 1.0)  # sigmoid's outputs, both flat tails shaded
    assert len(ridges.layout.shapes) == 2


def test_the_network_marks_the_dead_and_saturated_units_the_caption_counts():
    at = app({"scenario": "Sigmoid saturates (large init)"})
    finish_run(at)
    units = trainer(at).units()
    hidden = units[units["layer"] <= 20]
    dead, stuck = int(hidden["dead"].sum()), int(((hidden["saturation"] == 1) & (hidden["dead"] == 0)).sum())
    assert dead > 0 and stuck > 0
    caption = next(c.value for c in at.caption if c.value.startswith("Each dot is a unit"))
    assert f"Dead (red ✕): {dead} of the 640 hidden units" in caption
    assert f"Saturated for every example of the batch (hollow): {stuck}." in caption
    network = chart_of(at, "network")
    crosses = next(t for t in network.data if (t.name or "").startswith("dead (stuck at 0 or 1"))
    assert 0 < len(crosses.x) <= 20 * 16
    # the distance chart's caption, from the run: here layer 1 moved most (it said "lower layers barely move")
    moved = at_step(trainer(at).layers, "end").set_index("layer")["distance_from_init"]
    assert moved[1] > 1 > 0.05 > moved[20]
    caption = next(c.value for c in at.caption if c.value.startswith("How far each layer's weights have moved"))
    step = trainer(at).layers["step"].max() + 1
    assert caption.endswith(
        f"At step {step}, before its update, layer 1 has moved by {number(moved[1])}× its initial size; "
        f"layer 20 has moved by {number(moved[20])}× its initial size."
    )


def finished_snapshot(config: ExperimentConfig) -> live_module.Snapshot:
    """A snapshot of `config` trained to its end (or until it diverged), as a page holds one (the frames,
    no pictures)."""
    trainer = Trainer(config)
    trainer.step(config.steps)
    return live_module.Snapshot(
        config=config,
        step_count=trainer.step_count,
        done=True,
        diverged_at=trainer.diverged_at,
        divergence_reason=trainer.divergence_reason,
        failure=None,
        metrics=trainer.metrics,
        layers=trainer.layers,
        activation_inputs=pd.DataFrame(),
        decision=None,
    )


def test_the_forward_signal_caption_reads_step_1_against_the_theory_line():
    """How far step 1's dots lie from the theory's line, read off the chart's own traces (a
    browser walk found "Grey dots (step 1) on the dashed line" beside He's ReLU dots, ×4.6
    off it at width 32: the theory is for infinitely wide layers)."""
    at = app({"scenario": "Same, with ReLU (He init)"})
    finish_run(at, steps=10)
    figure = chart_of(at, "variance")
    line = next(t for t in figure.data if t.name == "theory at initialization (mean field)")
    dots = next(t for t in figure.data if t.name == "measured, step 1 (initial weights)")
    assert list(line.x) == list(dots.x)
    gap = np.exp(np.abs(np.log(np.asarray(dots.y) / np.asarray(line.y))))
    caption = next(c.value for c in at.caption if c.value.startswith("Grey dots"))
    assert gap.max() > 4 and caption.startswith(
        f"Grey dots (step 1) beside the dashed line: up to ×{factor_number(gap.max())} from it, at layer "
        f"{dots.x[gap.argmax()]}. The theory describes infinitely wide layers, on average over initializations; "
        "one network of 32 units a layer strays from it. Coloured dots: now."
    )

    # wide tanh layers at Xavier's scale sit on the line; the next step's batch moves them ×1.09
    config = ExperimentConfig(depth=4, width=512, activation="tanh", init="xavier_normal", steps=2)
    snap = finished_snapshot(config)
    hidden = snap.layers[snap.layers["act_input_std"].notna()]
    then, now = (hidden[hidden["step"] == step].set_index("layer")["act_input_std"] ** 2 for step in (0, 1))
    predicted = theory.predict_layers(config).set_index("layer")["preact_var"].loc[then.index]
    widest = float(np.exp(np.abs(np.log(then / predicted))).max())
    moved = float(np.exp(np.abs(np.log(now / then))).max())
    assert widest < 1.25 and moved > 1.05
    words = variance_words(snap)
    assert words.startswith(
        f"Grey dots (step 1) on the dashed line: at every layer the signal's variance is within "
        f"×{factor_number(widest)} of what the initialization's theory says. Coloured dots: now. A line"
    )
    # the same dots at the step after: nothing moved, the coloured dots hide the grey ones
    snap.layers.loc[snap.layers["step"] == 1, "act_input_std"] = snap.layers.loc[
        snap.layers["step"] == 0, "act_input_std"
    ].to_numpy()
    assert "Since step 1 no layer's variance has changed by more than ×1: the coloured dots cover" in (
        variance_words(snap)
    )
    # ×1.04 near the top of a linear axis (these variances lie within ×10) is seen: nothing said
    latest = snap.layers["step"] == 1
    snap.layers.loc[latest, "act_input_std"] *= np.sqrt(1.04)
    assert "cover" not in variance_words(snap)
    # a layer with no signal at all is drawn on the floor, not measured by a factor
    snap.layers.loc[(snap.layers["layer"] >= 3) & snap.layers["act_input_std"].notna(), "act_input_std"] = 0.0
    assert variance_words(snap).startswith(
        "Grey dots (step 1): no signal at all from layer 3 and every layer above it (variance 0), where the "
        "theory has some. Coloured dots: now."
    )
    # the initialization rules' sentence is this activation's only (it named He's, Xavier's and tanh's
    # under every run), and none under a batch-normed network, which the rules do not describe
    assert variance_words(snap).endswith("even Xavier's init lets a tanh network's variance fall, slowly.")
    for activation, norm, ending in (
        ("relu", "none", "Xavier's halves it at every layer."),
        ("sigmoid", "none", "is the forward half of vanishing (or exploding)."),
        ("relu", "batchnorm_before", "is the forward half of vanishing (or exploding)."),
    ):
        other = finished_snapshot(ExperimentConfig(depth=3, width=8, steps=1, activation=activation, norm=norm))
        assert variance_words(other).endswith(ending)


def test_the_phase_caption_says_why_a_network_is_not_marked():
    plain = finished_snapshot(ExperimentConfig(depth=3, width=8, steps=1))
    normed = finished_snapshot(ExperimentConfig(depth=3, width=8, steps=1, norm="batchnorm_before"))
    assert "not marked" not in run_charts.phase_words(plain)
    assert run_charts.phase_words(normed).endswith(f"This network is not marked on it: {run_charts.NO_THEORY_WHY}")
    assert "this network" in [trace.name for trace in run_charts.phase(plain).data]
    assert "this network" not in [trace.name for trace in run_charts.phase(normed).data]


def test_the_distance_caption_names_a_middle_layer_that_moved_most():
    """SELU at depth 40 (a browser walk): "layer 1: 3.4 times ... layer 40: 4.9 times (less
    near the input)" beside layers 5-15 that had moved 30-100 times."""
    snap = finished_snapshot(ExperimentConfig(depth=6, width=8, steps=3, dataset="moons"))
    last = snap.layers["step"] == 2
    moved = {1: 3.4, 2: 30.0, 3: 95.0, 4: 40.0, 5: 8.0, 6: 4.9, 7: 1.0}  # (7: the output layer)
    snap.layers.loc[last, "distance_from_init"] = snap.layers.loc[last, "layer"].map(moved)
    assert distance_words(snap).endswith(
        "At step 3, before its update, layer 1 has moved by 3.4× its initial size; layer 6 has moved by 4.9× its "
        "initial size; the most, layer 3, has moved by 95× its initial size."
    )
    snap.layers.loc[last & (snap.layers["layer"] == 1), "distance_from_init"] = 0.0
    snap.layers.loc[last & snap.layers["layer"].between(2, 5), "distance_from_init"] = 1.0
    assert distance_words(snap).endswith(
        "At step 3, before its update, layer 1 has not moved at all; layer 6 has moved by 4.9× its initial size."
    )
    snap.layers.loc[last & (snap.layers["layer"] == 7), "distance_from_init"] = 8.0  # the output layer's bar, tallest
    assert distance_words(snap).endswith("; the most, output layer 7, has moved by 8× its initial size.")
    # after one step, every distance is 0, measured before the update that the update chart shows (a browser walk)
    first = finished_snapshot(ExperimentConfig(depth=6, width=8, steps=1, dataset="moons"))
    assert (first.layers["distance_from_init"] == 0).all() and (first.layers["update_ratio"] > 0).all()
    assert distance_words(first).endswith(
        "At step 1 every layer's weights are still the initial ones: a step's distance is measured before its "
        "update, as its gradient is."
    )


def test_the_update_caption_reads_the_runs_smallest_and_largest_update_against_the_line():
    """It said "Far below the 10⁻³ line: that layer is not learning" beside every run,
    also beside "Exploding gradients", whose updates were 10¹⁶ times its weights; both
    updates are written to two digits (it read "6.8e15, layer 10's 7.27e16")."""
    exploding = finished_snapshot(SCENARIO_BY_NAME["Exploding gradients"].config)
    assert exploding.diverged_at is not None
    words = update_words(exploding)
    last = at_step(exploding.layers, "end").set_index("layer")["update_ratio"]
    overflowed = [str(layer) for layer in last.index[last.isna()]]  # its float32 sums overflowed
    measured = last.dropna()
    assert len(overflowed) > 1 and measured.min() > 1
    assert words.endswith(
        f"At step {exploding.layers['step'].max() + 1}, the update of layers {', '.join(overflowed[:-1])} and "
        f"{overflowed[-1]} was too large to measure in float32; layer {measured.idxmin()}'s update is "
        f"{number(measured.min())}, layer {measured.idxmax()}'s {number(measured.max())}. Above 1, one step "
        "changes the weights by more than their own size."
    )
    deeper = finished_snapshot(SCENARIO_BY_NAME["Exploding gradients"].config.replace(depth=22))
    assert at_step(deeper.layers, "end")["update_ratio"].isna().all()  # (it said "Far below it ... not learning")
    assert "the update of every layer was too large to measure in float32. Above 1" in update_words(deeper)
    stalled = finished_snapshot(SCENARIO_BY_NAME["Deep sigmoid stalls"].config.replace(steps=5))
    assert at_step(stalled.layers, "end").set_index("layer").loc[1, "update_ratio"] == 0  # under a float32 step
    assert update_words(stalled).endswith(
        "At step 5, layer 1's update is 0 (under half a float32 step of its weights), output layer 21's "
        f"{number(at_step(stalled.layers, 'end').set_index('layer').loc[21, 'update_ratio'])}."
    )
    end = stalled.layers["step"] == stalled.layers["step"].max()
    stalled.layers.loc[end, "update_ratio"] = np.where(stalled.layers.loc[end, "layer"] == 1, 5e-6, 5e-3)
    assert update_words(stalled).endswith(
        "At step 5, layer 1's update is 5e−6, layer 2's 5e−3. Layer 1's is 200 times below the line: its "
        "weights barely move."
    )
    # every layer below the line (a network that has learned): not layer 1's alone
    stalled.layers.loc[end, "update_ratio"] = np.where(stalled.layers.loc[end, "layer"] == 1, 5e-6, 5e-4)
    assert update_words(stalled).endswith(
        "At step 5, layer 1's update is 5e−6, layer 2's 5e−4. Layer 1's is 200 times below the line: its "
        "weights barely move; every other layer's update is below the line too."
    )
    stalled.layers.loc[end, "update_ratio"] = np.where(stalled.layers.loc[end, "layer"] == 21, 1.04, 0.06)
    assert update_words(stalled).endswith(
        "layer 1's update is 0.06, output layer 21's 1.04. Above 1, one step changes the weights by more than "
        "their own size."
    )
    stalled.layers.loc[end & (stalled.layers["layer"] == 21), "update_ratio"] = 1.0004  # (printed "1": not "above")
    assert update_words(stalled).endswith("layer 1's update is 0.06, output layer 21's 1.")
    stalled.layers.loc[end, "update_ratio"] = 5e-4
    assert update_words(stalled).endswith("At step 5, every layer's update is 5e−4.")
    stalled.layers.loc[end, "update_ratio"] = 0.0
    assert update_words(stalled).endswith("At step 5, no layer's weights changed at all.")


@pytest.mark.parametrize("steps", [7, 500, 1000])
def test_the_loss_sentence_is_the_last_point_of_the_loss_line(steps):
    """The sentence under the curves said "mean of the last 20 batches" beside a line that
    averaged 12 at 500 steps (a 40th of the run): both now average the same batches
    (20, or a 40th of a longer run; all of them so far in the first 20 steps)."""
    snap = finished_snapshot(ExperimentConfig(depth=2, width=8, steps=steps, dataset="moons", learning_rate=0.5))
    line = next(t for t in run_charts.curves(snap).data if t.name.startswith("train"))
    window = min(steps, max(20, steps // 40))
    # (a 7-step run's points are means of 7 batches: its legend said "of 20" beside the sentence's 7)
    assert line.name == ("train (batch)" if steps == 1 else f"train (mean of {window} batches)")
    said = re.search(
        r"Loss now (\S+) \((?:mean of the (?:last )?(\d+) batches|its first batch)", run_charts.loss_words(snap)
    )
    assert int(said[2]) == window
    assert said[1] == number(line.y[-1], 3) == number(snap.metrics["loss"].iloc[-window:].mean(), 3)


def test_the_phase_diagram_colours_the_cell_under_a_default_sigmoid():
    """A default sigmoid's σ_w² = 1/3 sat left of the first column of sigmoid's grid (to
    160, from 3.9): a star on blank background beside "blue: every layer shrinks it"."""
    snap = finished_snapshot(ExperimentConfig(depth=3, width=8, steps=1, dataset="moons"))
    chart = run_charts.phase(snap)
    heat = chart.data[0]
    star = next(t for t in chart.data if (t.name or "").startswith("this network"))
    cell = heat.x[1] - heat.x[0]
    assert star.name == "this network" and heat.x[0] - cell / 2 <= 0 < star.x[0] < heat.x[0] + cell / 2
    assert chart.layout.xaxis.range[0] == 0 and heat.z[0][0] < 0  # on the first cell, coloured ordered (χ₁ < 1)


def test_the_red_line_is_drawn_only_where_sigmoids_bound_holds():
    """Sigmoid's ×0.25 a layer bounds what its slope passes on of dL/dz in a plain stack:
    not for dL/dW (which also carries each layer's inputs; the line was drawn against it,
    and its caption never named it), ReLU, a norm between the layers, skips, or one layer."""

    def has_line(config: ExperimentConfig, measure: str = "delta_rms") -> bool:
        return any(t.name.startswith("×0.25") for t in run_charts.profile(finished_snapshot(config), measure).data)

    sigmoid = ExperimentConfig(depth=4, width=8, steps=2, dataset="moons")
    assert has_line(sigmoid)
    assert not has_line(sigmoid, "weight_grad_norm")
    for other in (
        sigmoid.replace(activation="relu"),
        sigmoid.replace(norm="batchnorm_before"),
        sigmoid.replace(residual=True),
        sigmoid.replace(depth=1),
    ):
        assert not has_line(other), other


def test_a_chart_of_then_and_now_says_at_step_1_that_it_has_one_line():
    """After one Step the profile caption read "now (solid) and at step 1 (dotted)" beside
    one solid line, "step 1 (now)" (a browser walk)."""
    one = finished_snapshot(ExperimentConfig(depth=3, width=8, steps=1, dataset="moons"))
    chart = run_charts.profile(one, "delta_rms")
    assert [trace.name for trace in chart.data if trace.name.startswith("step")] == ["step 1 (now)"]
    assert then_and_now([one.layers], "Gradient") == (
        "Gradient at step 1, the initial weights; from the next step on, a dotted line keeps step 1 and the "
        "solid one is now."
    )
    three = finished_snapshot(ExperimentConfig(depth=3, width=8, steps=3, dataset="moons"))
    assert [t.name for t in run_charts.profile(three, "delta_rms").data if t.name.startswith("step")] == [
        "step 1 (initial weights)",
        "step 3 (now)",
    ]
    assert then_and_now([three.layers, three.layers], "Gradient") == "Gradient, at step 1 (dotted) and now (solid)."
    assert "Coloured dots: now." not in variance_words(one) and "Coloured dots: now." in variance_words(three)


def test_with_batch_norm_the_network_keeps_its_colour():
    at = app({"scenario": "Batch norm rescues deep sigmoid"})
    train_for(at, 30)
    x, colour = drawn_units(chart_of(at, "network"))
    assert abs(np.median(colour[x == 1]) - np.median(colour[x == 20])) < 2  # within a hundredfold
    assert_clean(at)


def test_a_wide_deep_network_is_drawn_sixteen_units_a_layer():
    at = app()
    for key, value in {"cfg.depth": 100, "cfg.width": 512, "cfg.batch_size": 16}.items():
        at.session_state[key] = value
    at.run()
    finish_run(at, steps=2)
    x, _ = drawn_units(chart_of(at, "network"))
    assert len(x) == 100 * 16 + 2
    assert len(chart_of(at, "ridges").layout.yaxis.ticktext) == 20


def test_presenting_the_new_charts_use_large_text_and_the_network_sits_beside_the_profile():
    at = app({"scenario": "Deep sigmoid stalls", "presenter": "1"})
    finish_run(at)
    for key in ("network", "ridges"):
        assert chart_of(at, key).layout.font.size >= 18
    network = chart_of(at, "network")
    assert network.layout.height == PRESENTER_CHART["height"]  # beside the profile, on the first screen
    # 20 layers: the update sizes' legend is hidden (a line a layer), and the chart keeps its height
    assert chart_of(at, "updates").layout.height == PRESENTER_CHART["height"] == chart_of(at, "profile").layout.height
    order = list(charts_shown(at))
    assert order[:2] == ["profile", "network"]
    at.toggle(key="presenter_toggle").set_value(False).run()  # not presenting: the network first, across the page
    assert list(charts_shown(at))[:2] == ["network", "profile"]
    assert chart_of(at, "network").layout.font.size == FONT_SIZE


def test_presenting_a_chart_grows_by_the_legend_rows_under_its_plot():
    """11 layers: a legend entry a layer, in three rows under the update sizes, which
    left the plot a 70-px strip; the first screen's charts keep their height."""
    at = app({"depth": "11", "presenter": "1"})
    finish_run(at, steps=3)
    updates = chart_of(at, "updates")
    assert charts.legend_rows(updates) == 3
    assert updates.layout.height == PRESENTER_CHART["height"] + charts.LEGEND_ROW_PX
    assert all(chart_of(at, key).layout.height == PRESENTER_CHART["height"] for key in ("profile", "network", "curves"))
    # an entry's width is its drawn text: a power's <sup> tags took Through time's legend to a row too many
    tagged = go.Figure([go.Scatter(name="x" * 19 + "<sup>T−t</sup>"), go.Scatter(name="y" * 20)])  # 22 + 20 drawn
    assert charts.legend_rows(tagged) == 1 < charts.legend_rows(go.Figure([go.Scatter(name=n * 27) for n in "xy"]))


@pytest.mark.parametrize("depth", [10, 20])
def test_the_theory_caption_says_what_its_dashed_line_shows(depth):
    """It said "from layer 10 back to layer 1, ×2.2e-8" (0.141⁹, the settled rate)
    beside a dashed line falling 2.05e-8 over those layers (its first layers differ)."""
    config = ExperimentConfig(depth=depth, steps=1)
    trainer = Trainer(config)
    trainer.step(1)
    profile = figures.gradient_profile(trainer.layers, "sigmoid", predicted=theory.predict_layers(config))
    line = next(t for t in profile.data if t.name.startswith("theory"))
    said = re.search(r"back to layer 1, ×(\S+) \(the green dashed line\)", theory_summary(config))[1]
    assert said == number(line.y[0] / line.y[depth - 1])
    assert "dashed" not in theory_summary(config, line_drawn=False)  # (dL/dW shown: no theory line to name)


def test_the_theory_caption_says_when_its_line_is_not_its_rate_a_layer_over_and_over():
    """ "each layer ×1.48 … from layer 20 back to layer 1, ×2746" (1.48¹⁹ ≈ 1700): near the
    input, where the signal has not settled, the line's steps differ (a walk of the scenarios);
    so do a deep sigmoid's, by 7% ("×0.141 … ×6.4e−17" where 0.141¹⁹ is 6.8e−17: a walk
    of the pages). A ReLU network's line, at its rate from the first layer, says nothing."""
    unsettled = "where the signal has not settled yet, differ"
    for name, off_by in (
        ("Sigmoid saturates (large init)", 1.69),
        ("Deep sigmoid stalls", 0.93),
        ("Same, with ReLU (He init)", 1.0),
    ):
        config = SCENARIO_BY_NAME[name].config
        line = theory.predict_layers(config).set_index("layer")["delta_rms_relative"]
        settled = theory.chi1_at(config) ** ((config.depth - 1) / 2)
        assert line[1] / line[config.depth] / settled == pytest.approx(off_by, abs=0.005)
        assert (unsettled in theory_summary(config)) == (off_by != 1.0)


def test_the_theory_caption_says_where_its_line_leaves_the_chart():
    """A depth-100 sigmoid's line falls under float32's smallest number at layer 60, and
    the chart cuts it there (as it cuts the measured lines, and the red ×0.25 one): the
    caption said "from layer 100 back to layer 1, ×2.4e−86 (the green dashed line)"."""
    run = LiveTrainer(ExperimentConfig(depth=100, width=2, steps=1))
    run.step(1)
    snap = run.snapshot()
    profile = run_charts.profile(snap)
    lowest = {t.name: int(np.min(np.asarray(t.x)[~np.isnan(np.asarray(t.y, dtype=float))])) for t in profile.data}
    theory_line = next(name for name in lowest if name.startswith("theory"))
    guide = next(name for name in lowest if name.startswith("×0.25"))
    assert lowest[theory_line] > 1 and lowest[guide] > 1
    said = theory_summary(snap.config, True, run_charts.theory_pin(snap))
    assert f"(the green dashed line, down to layer {lowest[theory_line]}: below it, under 1.2e−38" in said
    shallow = LiveTrainer(ExperimentConfig(depth=20, steps=1))
    shallow.step(1)
    snap = shallow.snapshot()
    assert "(the green dashed line)" in theory_summary(snap.config, True, run_charts.theory_pin(snap))


def test_the_most_inactive_layer_badge_counts_dead_layers_in_words():
    """It said "100% inactive · 1 dead", read as one dead unit beside a caption counting
    103 of them; "1 dead layer" in full did not fit the badge."""
    at = app({"scenario": "Dying ReLU (learning rate too large)"})
    finish_run(at)
    run = trainer(at)
    head = headline(run.metrics, run.layers, run.config)
    metric = next(m for m in at.metric if m.label == "Most inactive layer")
    n = head.dead_layers
    assert n >= 1 and metric.delta == f"{percent(head.flat_fraction)} · {n} dead layer{'s' if n > 1 else ''}"
    assert len(metric.delta) <= 22
    # the caption under the crosses says which layer and since when
    said = dead_layers_sentence(run.layers)
    assert said.startswith(("Layer ", f"{n} layers are dead"))
    assert any(c.value.startswith("Bars: share of inputs") and c.value.endswith(said) for c in at.caption)


def test_activations_are_named_as_the_lecture_names_them():
    """The sidebar and the charts say "ReLU" and "Leaky ReLU" (the scenarios and the
    tour did), not their keys in a link, "relu" and "leaky_relu"."""
    at = app({"activation": "leaky_relu", "depth": "4", "steps": "20"})
    options = at.sidebar.selectbox(key="cfg.activation").options
    assert {"ReLU", "Leaky ReLU", "sigmoid"} <= set(options) and "leaky_relu" not in options
    finish_run(at)
    assert chart_of(at, "ridges").layout.title.text.startswith("What each layer's Leaky ReLU gives out")
    assert any("red where Leaky ReLU's slope" in c.value for c in at.caption)


def test_the_derivative_caption_says_how_many_of_the_layers_inputs_sit_on_the_flat_part():
    """It said the gradient is cut "where the blue histogram sits under the flat part"
    beside a deep sigmoid whose inputs never go there (a browser walk): it now says how
    many of the inspected layer's inputs do, as the saturation bars count them."""
    sigmoid = LiveTrainer(ExperimentConfig(depth=20, steps=3))
    sigmoid.step(3)
    snap = sigmoid.snapshot()
    assert at_step(snap.layers, "end").set_index("layer")["saturation"][10] == 0
    assert "Now none of layer 10's inputs is there" in run_charts.derivative_words(snap, 10)
    relu = LiveTrainer(ExperimentConfig(depth=3, activation="relu", steps=3))
    relu.step(3)
    snap = relu.snapshot()
    share = at_step(snap.layers, "end").set_index("layer")["saturation"][2]
    assert 0 < share < 1
    assert run_charts.derivative_words(snap, 2).endswith(
        f"now {percent(share)} of layer 2's inputs in this batch are there."  # (the histogram draws all 64)
    )
    # a wide layer: the histogram draws the batch's first examples, the share counts all of it
    wide = LiveTrainer(ExperimentConfig(depth=3, width=256, activation="relu", steps=3))
    wide.step(3)
    snap = wide.snapshot()
    drawn = (snap.activation_inputs["layer"] == 2).sum()
    assert drawn == 8 * 256
    assert run_charts.derivative_words(snap, 2).endswith(
        "in this batch are there (the histogram draws its first 8 examples)."
    )


def test_two_tabs_on_the_same_run_at_the_same_step_share_its_charts_and_a_projector_gets_its_own():
    """A run is the same for everyone who trains its config: a second tab at the same
    step draws the first tab's charts (`charts.SharedCharts`), the same JSON, not built
    again; a tab in presenter mode (larger text) and a tab at another step draw their own."""
    first, second = app({"scenario": "Deep sigmoid stalls"}), app({"scenario": "Deep sigmoid stalls"})
    button(first, "Step").click().run()
    button(second, "Step").click().run()
    mine, theirs = drawn_charts(first), drawn_charts(second)
    assert len(mine) >= 8 and mine.keys() == theirs.keys()
    assert all(theirs[chart][1] is mine[chart][1] for chart in mine)
    presenting = app({"scenario": "Deep sigmoid stalls", "presenter": "1"})
    button(presenting, "Step").click().run()
    assert all(drawn[1] is not mine[chart][1] for chart, drawn in drawn_charts(presenting).items())
    button(second, "Step").click().run()  # step 2
    assert all(theirs[1] is not mine[chart][1] for chart, theirs in drawn_charts(second).items())
    assert_clean(second)


def test_the_factor_a_layer_multiplies_out_to_the_ratio_beside_it():
    """The exploding run's step 1: layer 1 gets 87 times layer 20's, which the badge
    under that number and the sentence gave as ×1.3 a layer (1.3¹⁹ is 146): both now
    say ×1.27, with the digits that multiply back out to it (`factor_number`'s steps)."""
    at = app({"scenario": "Exploding gradients"})
    finish_run(at, steps=1)
    metric = next(m for m in at.metric if m.label.startswith("dL/dz: layer 1"))
    assert metric.value == "87" and metric.delta == "×1.27 a layer"
    assert any("grows ×1.27 a layer on average" in m.value for m in at.markdown)
