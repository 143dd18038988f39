"""Figure builders on their own: frames in, Plotly figures out."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from vangrad_core import LAYER_COLUMNS, ExperimentConfig, Trainer, theory
from vangrad_core import figures as fig
from vangrad_core.activations import ACTIVATION_TABLE, curves, curves_covering
from vangrad_core.figures.live import UPDATE_GUIDE
from vangrad_core.trainer import METRIC_COLUMNS


@pytest.fixture(scope="module")
def trained() -> Trainer:
    trainer = Trainer(ExperimentConfig(depth=6, width=16, steps=60, dataset="moons"))
    trainer.step(60)
    return trainer


def empty_frames():
    import pandas as pd

    return pd.DataFrame(columns=list(LAYER_COLUMNS)), pd.DataFrame(columns=list(METRIC_COLUMNS))


def test_gradient_profile_is_log_scaled_with_the_initial_profile_and_ceiling(trained):
    figure = fig.gradient_profile(trained.layers, "sigmoid", "weight_grad_norm")
    assert isinstance(figure, go.Figure)
    assert figure.layout.yaxis.type == "log"
    names = [t.name for t in figure.data]
    assert names[0] == "step 1 (initial weights)" and names[-1] == "step 60 (now)"  # as the step counter says
    ceiling = next(t for t in figure.data if "0.25" in t.name)
    top = trained.layers.query("step == 59 and layer == 6")["weight_grad_norm"].iloc[0]
    # counted back from the last hidden layer, 0.25 per layer
    np.testing.assert_allclose(ceiling.y, top * 0.25 ** (6 - np.arange(1, 7)))
    assert "log" in figure.layout.yaxis.title.text
    relu = fig.gradient_profile(trained.layers, "relu")
    assert not any("0.25" in (t.name or "") for t in relu.data)


def test_heatmap_is_log10_of_the_gradient_layer_by_step(trained):
    figure = fig.gradient_heatmap(trained.layers)
    heat = figure.data[0]
    z = np.asarray(heat.z)
    assert z.shape == (7, 60)
    expected = np.log10(trained.layers.query("layer == 1")["delta_rms"].to_numpy())
    np.testing.assert_allclose(z[0], expected, rtol=1e-6)
    assert heat.zmin == pytest.approx(np.nanmin(z)) and heat.zmax == pytest.approx(np.nanmax(z))


def dead_below(layers, dead_layer: int):
    """A copy of `layers` in which every layer below `dead_layer` got exactly 0, and
    layer 1 an underflow (what a dead layer does to the gradient)."""
    cut = layers.copy()
    below = cut["layer"] < dead_layer
    cut.loc[below, ["delta_rms", "weight_grad_norm"]] = 0.0
    cut.loc[cut["layer"] == 1, "delta_rms"] = 1e-42
    return cut


def test_zero_gradients_are_drawn_as_zero_markers_and_do_not_set_the_colour_range(trained):
    cut = dead_below(trained.layers, 4)
    profile = fig.gradient_profile(cut, "relu")
    now = next(t for t in profile.data if t.name == "step 60 (now)")
    assert np.isnan(np.asarray(now.y[:3], dtype=float)).all()  # no 1e-45 point
    zeros = next(t for t in profile.data if t.name == "step 60: exactly 0")
    assert list(zeros.x) == [1, 2, 3] and set(zeros.text) == {"0"}
    drawn = [v for t in profile.data if t.name and "exactly 0" not in t.name for v in t.y if v == v]
    assert 0 < zeros.y[0] < min(drawn)  # on the floor, under every measured point
    heat = fig.gradient_heatmap(cut).data[0]
    smallest = np.log10(cut.loc[cut["delta_rms"] > 1e-38, "delta_rms"].min())  # the underflow counts as 0
    assert heat.zmin == pytest.approx(smallest, abs=1e-6)  # not -45
    assert "0 (no gradient)" in np.asarray(heat.customdata)[0]
    compared = fig.compare_profiles({"A": cut, "B": trained.layers})
    assert [t.name for t in compared.data if "exactly 0" in t.name] == ["A: exactly 0"]


def test_long_runs_are_thinned_but_keep_the_last_step():
    trainer = Trainer(ExperimentConfig(depth=2, width=4, steps=400))
    trainer.step(400)
    thinned = fig.thin_steps(trainer.layers, 50)
    assert thinned["step"].nunique() == 50 and thinned["step"].max() == 399
    assert len(fig.update_ratios(trainer.layers).data[0].x) == 150  # the charts keep 150 steps


def test_training_curves_have_train_and_test(trained):
    figure = fig.training_curves(trained.metrics)
    assert {t.name for t in figure.data} == {"train (batch, smoothed)", "test"}
    test = next(t for t in figure.data if t.name == "test")
    assert len(test.x) == trained.metrics["test_loss"].notna().sum()


def test_derivative_with_inputs_draws_the_activation_and_a_histogram(trained):
    inputs = trained.activation_inputs()
    curve = curves_covering("sigmoid", inputs.query("layer == 3")["value"])
    figure = fig.derivative_with_inputs(curve, inputs, 3, "sigmoid")
    curve = next(t for t in figure.data if isinstance(t, go.Scatter))
    assert max(curve.y) == pytest.approx(0.25, abs=1e-4)  # the sigmoid's ceiling
    histogram = next(t for t in figure.data if isinstance(t, go.Histogram))
    sample = trained.activation_inputs().query("layer == 3")["value"]
    assert len(histogram.x) == len(sample) > 0


def test_saturation_and_distance_and_updates(trained):
    layers = trained.layers
    bars = fig.saturation_by_layer(layers)
    assert list(bars.data[0].x) == [1, 2, 3, 4, 5, 6]  # hidden layers only
    for name, activation in ACTIVATION_TABLE.items():  # the words follow the activation, cause of death too
        named = fig.saturation_by_layer(layers, activation.flat_word, activation.dead_cause)
        assert activation.dead_cause in named.data[1].name, name
    sigmoid = ACTIVATION_TABLE["sigmoid"]
    assert "stuck at 0 or 1" in fig.saturation_by_layer(layers, "saturated", sigmoid.dead_cause).data[1].name
    relu = ACTIVATION_TABLE["relu"]
    assert fig.saturation_by_layer(layers, relu.flat_word, relu.dead_cause).layout.title.text.startswith("Inactive")
    updates = fig.update_ratios(layers)
    assert updates.layout.yaxis.type == "log"
    assert any(s.y0 == UPDATE_GUIDE for s in updates.layout.shapes)
    distance = fig.distance_from_init(layers)
    assert len(distance.data[0].x) == 7


def test_decision_boundary(trained):
    grid, points = trained.decision_grid(resolution=20)
    figure = fig.decision_boundary(grid, points)
    assert np.asarray(figure.data[0].z).shape == (20, 20)
    assert ((grid["p1"] >= 0) & (grid["p1"] <= 1)).all()


def test_every_builder_copes_with_no_data_yet():
    layers, metrics = empty_frames()
    for figure in (
        fig.gradient_profile(layers, "sigmoid"),
        fig.gradient_heatmap(layers),
        fig.training_curves(metrics),
        fig.saturation_by_layer(layers),
        fig.update_ratios(layers),
        fig.distance_from_init(layers),
        fig.forward_variance(layers, None),
    ):
        assert isinstance(figure, go.Figure) and "Press Train" in figure.layout.annotations[0].text
    empty_inputs = Trainer(ExperimentConfig(depth=2, width=4)).activation_inputs()
    assert isinstance(fig.derivative_with_inputs(curves("relu", 6.0), empty_inputs, 1, "relu"), go.Figure)


def test_layer_colours_run_from_input_to_output():
    colors = fig.layer_colors(5)
    assert len(colors) == 5 and len(set(colors)) == 5
    assert fig.layer_colors(1)


def test_zero_gradients_do_not_break_log_axes():
    trainer = Trainer(ExperimentConfig(depth=30, width=32, activation="relu", init="xavier_normal", steps=20))
    trainer.step(20)
    figure = fig.gradient_profile(trainer.layers, "relu")
    assert all(math.isfinite(v) and v > 0 for t in figure.data for v in t.y)


def test_gradient_profile_draws_the_theory_pinned_to_the_output_layer(trained):
    predicted = theory.predict_layers(trained.config)
    figure = fig.gradient_profile(trained.layers, "sigmoid", "delta_rms", predicted)
    assert "dL/dz" in figure.layout.yaxis.title.text and figure.layout.yaxis.type == "log"
    line = next(t for t in figure.data if t.name.startswith("theory"))
    output_delta = trained.layers.query("step == 0 and layer == 7")["delta_rms"].iloc[0]
    np.testing.assert_allclose(line.y, predicted["delta_rms_relative"] * output_delta)
    assert line.y[-1] == pytest.approx(output_delta)
    # without a prediction, or for the weights' gradient, no theory line
    for figure in (
        fig.gradient_profile(trained.layers, "sigmoid", "delta_rms"),
        fig.gradient_profile(trained.layers, "sigmoid"),
    ):
        assert not any(t.name.startswith("theory") for t in figure.data)


def test_forward_variance_shows_theory_rule_and_measurements():
    config = ExperimentConfig(depth=8, width=32, activation="relu", init="xavier_normal")
    trainer = Trainer(config)
    trainer.step(3)
    predicted = theory.predict_layers(config)
    figure = fig.forward_variance(trainer.layers, predicted, theory.variance_rule(config))
    names = [t.name for t in figure.data]
    assert names == [
        "theory at step 0 (mean field)",
        "He et al.: × n·Var(W)/2 per layer",
        "measured, step 0",
        "measured, step 2",
    ]
    np.testing.assert_allclose(figure.data[2].y, trainer.layers.query("step == 0 and layer <= 8")["act_input_std"] ** 2)
    # Xavier on square ReLU layers: He's rule halves the variance per layer, as does the theory without biases
    np.testing.assert_allclose(figure.data[1].y, figure.data[0].y, rtol=1e-9)
    assert figure.layout.yaxis.type == "log"
    sigmoid = fig.forward_variance(
        trainer.layers, predicted, theory.variance_rule(config.replace(activation="sigmoid"))
    )
    assert len(sigmoid.data) == 3  # no simple rule for sigmoid: its outputs are not centred


def test_phase_diagram_marks_the_network_and_the_critical_line():
    phases = theory.phase_diagram("tanh")
    figure = fig.phase_diagram(phases, "tanh", (1.0, 0.0))
    heatmap, contour, star = figure.data
    assert isinstance(heatmap, go.Heatmap) and heatmap.zmid == 0
    assert isinstance(contour, go.Contour) and contour.contours.start == 0 == contour.contours.end
    assert star.x == (1.0,) and star.y == (0.0,)
    assert len(fig.phase_diagram(phases, "tanh").data) == 2
    far = fig.phase_diagram(phases, "tanh", (512.0, 0.0)).data[-1]  # large_normal at width 512
    assert far.x == (4.0,) and "off the chart" in far.name
