"""Figure builders on their own: frames in, Plotly figures out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from vangrad_core import LAYER_COLUMNS, ExperimentConfig, Trainer, theory
from vangrad_core import figures as fig
from vangrad_core.activations import ACTIVATION_TABLE, curves, curves_covering, flat_outputs, outputs_of
from vangrad_core.figures.live import RIDGE_HEIGHT, UPDATE_GUIDE
from vangrad_core.figures.recurrent import EXPLAINED_TOP
from vangrad_core.figures.style import EMPTY_LINE, THEN_COLOR, plotted, value_axis
from vangrad_core.lessons import SCENARIO_BY_NAME
from vangrad_core.recurrent import RecurrentConfig, RecurrentTrainer
from vangrad_core.summary import flat_extremes
from vangrad_core.trainer import METRIC_COLUMNS


@pytest.fixture(scope="module")
def trained() -> Trainer:
    trainer = Trainer(ExperimentConfig(depth=6, width=16, steps=60, dataset="moons"))
    trainer.step(60)
    return trainer


def run_figures(layers: pd.DataFrame, metrics: pd.DataFrame) -> list[go.Figure]:
    """The live view's charts of a run's frames (and the detail charts made from them alone)."""
    return [
        fig.gradient_profile(layers, "sigmoid"),
        fig.gradient_heatmap(layers),
        fig.training_curves(metrics),
        fig.saturation_by_layer(layers),
        fig.update_ratios(layers),
        fig.distance_from_init(layers),
    ]


def empty_frames():
    return pd.DataFrame(columns=list(LAYER_COLUMNS)), pd.DataFrame(columns=list(METRIC_COLUMNS))


def test_gradient_profile_is_log_scaled_with_the_initial_profile_and_ceiling(trained):
    figure = fig.gradient_profile(trained.layers, "sigmoid", "delta_rms", slope_guide=0.25)
    assert isinstance(figure, go.Figure)
    assert figure.layout.yaxis.type == "log"
    names = [t.name for t in figure.data]
    assert names[0] == "step 1 (initial weights)" and names[-1] == "step 60 (now)"  # as the step counter says
    ceiling = next(t for t in figure.data if "0.25" in t.name)
    top = trained.layers.query("step == 59 and layer == 6")["delta_rms"].iloc[0]
    # counted back from the last hidden layer, 0.25 per layer
    np.testing.assert_allclose(ceiling.y, top * 0.25 ** (6 - np.arange(1, 7)))
    assert "log" in figure.layout.yaxis.title.text
    # (which runs get the line is the page's decision: test_playground_page)


def test_after_one_step_then_and_now_are_one_line(trained):
    """At step 1 the initial weights' profile is the current one: drawn once, not as
    two legend entries both called "step 1"."""
    first = trained.layers[trained.layers["step"] == 0]
    names = [t.name for t in fig.gradient_profile(first, "relu").data]
    assert names == ["step 1 (now)"]
    time = pd.DataFrame({"step": 0, "t": [1, 2, 3], "grad_rms": [1e-3, 1e-2, 1e-1]})
    assert [t.name for t in fig.time_profiles({"A": time}).data if t.showlegend is not False] == ["step 1 (now)"]


def test_the_time_profiles_legend_is_a_key_a_colour_per_run_a_dash_per_moment():
    """Two runs, each then, now and bounded: five lines, but a legend of five short
    entries (a projector's half-width chart has room for them), and each line's hover
    names its run and moment."""
    time = pd.DataFrame({"step": [0, 0, 9, 9], "t": [1, 2, 1, 2], "grad_rms": [1e-3, 1e-1, 1e-2, 1e-1]})
    bound = pd.DataFrame({"t": [1, 2], "bound": [0.5, 1.0]})
    figure = fig.time_profiles({"A: plain": time, "B: LSTM": time}, {"A: plain": bound, "B: LSTM": None})
    legend = [t.name for t in figure.data if t.showlegend is not False]
    assert legend == [
        "A: plain",
        "B: LSTM",
        "step 1 (initial weights)",
        "step 10 (now)",
        "bound (γ‖W_hh‖₂)<sup>T−t</sup>",
    ]
    lines = [t for t in figure.data if t.showlegend is False]
    assert len(lines) == 5 and all(t.legendgroup in ("A: plain", "B: LSTM") for t in lines)
    assert {t.line.dash for t in lines if t.legendgroup == "A: plain"} == {"dot", "solid", "dash"}
    assert all(t.hovertemplate.startswith(t.legendgroup) for t in lines)
    # runs at different steps (an exploding run stopped at 26, the clipped one at 600):
    # the key does not name one run's step for both
    stopped = time.replace({"step": {9: 25}})
    figure = fig.time_profiles({"A: plain": stopped, "B: LSTM": time})
    legend = [t.name for t in figure.data if t.showlegend is not False]
    assert legend[-1] == "now (each run's last step)" and "step 1 (initial weights)" in legend
    # the exploding run's last step: exactly 0 but at the last t, where it is 4.6e32 (a line of one
    # point drew nothing); its one drawable point is a marker
    exploded = stopped.assign(grad_rms=stopped["grad_rms"].where(stopped["step"] == 0, 0.0))
    exploded.loc[exploded.index[-1], "grad_rms"] = 4.6e32
    now = next(t for t in fig.time_profiles({"A: plain": exploded}).data if t.name == "A: plain, step 26 (now)")
    assert "markers" in now.mode and np.isfinite(np.asarray(now.y, dtype=float)).sum() == 1


def test_runs_of_different_lengths_are_drawn_by_steps_back_from_their_ends():
    """T = 10 beside T = 100 on one t axis was a blob in the chart's corner (a browser
    walk): runs of lengths twice apart or more are drawn against the steps back from
    their last input, ends aligned, the axis reversed so that the first inputs stay on
    the left; the hover still says t. Runs of one length keep the t axis."""

    def run(length: int) -> pd.DataFrame:
        t = np.arange(1, length + 1)
        return pd.DataFrame({"step": 0, "t": t, "grad_rms": 0.5 ** (length - t)})

    figure = fig.time_profiles({"A: T = 10": run(10), "B: T = 100": run(100)})
    short, long = (next(t for t in figure.data if t.name.startswith(run_name)) for run_name in ("A:", "B:"))
    assert list(short.x) == list(range(10, 0, -1)) and list(short.customdata) == list(range(1, 11))
    assert list(long.x) == list(range(100, 0, -1)) and "t = %{customdata}" in long.hovertemplate
    np.testing.assert_allclose(short.y, np.asarray(long.y)[-10:])  # one factor a step: one line at the end
    assert figure.layout.xaxis.autorange == "reversed" and "steps back" in figure.layout.xaxis.title.text
    same = fig.time_profiles({"A": run(50), "B": run(50)})
    assert list(same.data[0].x) == list(range(1, 51)) and same.layout.xaxis.autorange is None
    assert same.layout.xaxis.range == (0.5, 50.5)  # (no "0" under "t, 1 = the first input")
    # exact zeros at T = 100's first inputs: drawn at their steps back, named by their t
    cut = run(100).assign(grad_rms=lambda r: r["grad_rms"].where(r["t"] > 2, 0.0))
    drawn = fig.time_profiles({"A: T = 10": run(10), "B": cut}).data
    (zeros,) = (t for t in drawn if "exactly 0" in t.name and t.showlegend is False)  # (not the key's entry)
    assert list(zeros.x) == [100, 99] and list(zeros.hovertext) == ["1", "2"] and zeros.hovertemplate.startswith("t = ")
    # the chart beside it, what carries the gradient back, aligned the same way
    factors = {
        name: frame.assign(step=0, passed_back=0.5, jacobian_gain=0.4)
        for name, frame in (("A", run(10)), ("B", run(100)))
    }
    beside = fig.explained(factors, {"A": "rnn", "B": "rnn"})
    assert list(beside.data[0].x) == list(range(10, 0, -1)) and beside.layout.xaxis.autorange == "reversed"
    assert list(beside.data[0].customdata) == list(range(1, 11)) and "t = %{customdata}" in beside.data[0].hovertemplate


def test_a_time_profiles_point_between_exact_zeros_gets_a_marker_of_its_own():
    """A plain RNN's t = 1 at 1.3e-38 with exact zeros after it (the headline's number) drew
    nothing as a line; the points with drawable neighbours stay a line without markers."""
    t = np.arange(1, 51)
    grad = np.geomspace(1.3e-38, 1e-3, 50)
    grad[1:5] = 0.0
    time = pd.DataFrame({"step": 0, "t": t, "grad_rms": grad})
    line = next(tr for tr in fig.time_profiles({"A": time}).data if tr.name and tr.name.startswith("A, "))
    assert line.mode == "lines+markers"
    sizes = np.asarray(line.marker.size)
    assert sizes[0] > 0 and (sizes[1:] == 0).all()


def test_heatmap_is_log10_of_the_gradient_layer_by_step(trained):
    figure = fig.gradient_heatmap(trained.layers)
    heat = figure.data[0]
    z = np.asarray(heat.z)
    assert z.shape == (7, 60)
    expected = np.log10(trained.layers.query("layer == 1")["delta_rms"].to_numpy())
    np.testing.assert_allclose(z[0], expected, rtol=1e-6)
    assert heat.zmin == pytest.approx(np.nanmin(z)) and heat.zmax == pytest.approx(np.nanmax(z))


def test_every_step_axis_counts_as_the_step_counter_does(trained):
    """The headline says "step 60 / 60" and the profile's legend "step 60 (now)": a
    chart's last point over training sits at 60 too, its first at 1 (the initial weights)."""
    layers, metrics = trained.layers, trained.metrics
    step_axes = [
        fig.gradient_heatmap(layers).data[0].x,
        *(trace.x for trace in fig.training_curves(metrics).data),
        fig.update_ratios(layers).data[0].x,
        fig.compare_curves({"a": metrics}).data[0].x,
    ]
    for x in step_axes:
        assert x[-1] == trained.step_count == 60
    assert step_axes[0][0] == 1 and step_axes[1][0] == 1
    assert fig.gradient_profile(layers, "sigmoid").data[-1].name == "step 60 (now)"
    he = fig.he_comparison(metrics.assign(init="He"), layers[layers["step"] == 0].assign(init="He"))
    assert he.data[0].x[-1] == 60 and he.data[0].hovertemplate.startswith("%{fullData.name}, after step %{x}")
    tests = next(t for t in fig.training_curves(metrics).data if t.name == "test (after the step's update)")
    assert tests.hovertemplate.startswith("after step %{x}")  # (measured after the step's update)
    one_step = layers[layers["step"] == 0]
    norms = Trainer(ExperimentConfig(depth=2, width=4, steps=5, norm="batchnorm_before"))
    norms.step(5)
    assert fig.norm_parameters(norms.layers, "norm_gamma_mean", "γ", "γ").data[0].x[-1] == 5
    # a run of a few steps (one that blew up at its 4th) on whole steps, not 1, 1.5, 2, 2.5
    short = [
        fig.gradient_heatmap(one_step).layout.xaxis,
        *(axis.layout[name] for axis in [fig.training_curves(norms.metrics)] for name in ("xaxis", "xaxis2")),
        fig.update_ratios(norms.layers).layout.xaxis,
        fig.compare_curves({"a": norms.metrics}).layout.xaxis,
        fig.norm_parameters(norms.layers, "norm_gamma_mean", "γ", "γ").layout.xaxis,
    ]
    assert [axis.dtick for axis in short] == [1] * 6
    assert [axis.title.text for axis in short] == ["training step"] * 6
    assert fig.update_ratios(layers).layout.xaxis.dtick is None  # 60 steps: Plotly's own ticks
    # ... and their points marked: a line through one point draws nothing (Compare's loss after one Step was empty)
    first = fig.compare_curves({"a": norms.metrics.iloc[:1]}).data[0]
    assert first.mode == "lines+markers" and first.marker.color == first.line.color
    assert {trace.mode for trace in fig.update_ratios(norms.layers).data} == {"lines+markers"}
    assert {trace.mode for trace in fig.update_ratios(layers).data} == {"lines"}  # (60 points)


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
    # layer 1's 1e-42 is a number a headline prints: the legend does not call it exactly 0
    zeros = next(t for t in profile.data if t.name == "step 60: 0, or under 1.2e−38")
    assert list(zeros.x) == [1, 2, 3] and list(zeros.text) == ["≈0", "0", "0"]
    assert "under float32's smallest normal" in zeros.customdata[0] and "no gradient" in zeros.customdata[1]
    drawn = [v for t in profile.data if t.name and ": 0, or under" not in t.name for v in t.y if v == v]
    assert 0 < zeros.y[0] < min(drawn)  # on the floor, under every measured point
    heat = fig.gradient_heatmap(cut).data[0]
    smallest = np.log10(cut.loc[cut["delta_rms"] > 1e-38, "delta_rms"].min())  # the underflow drawn as 0
    assert heat.zmin == pytest.approx(smallest, abs=1e-6)  # not -45
    assert "0 (no gradient)" in np.asarray(heat.customdata)[1] and "1e-42" in np.asarray(heat.customdata)[0]
    exact = cut.assign(delta_rms=cut["delta_rms"].where(cut["delta_rms"] > 1e-38, 0.0))
    assert any(t.name == "step 60: exactly 0" for t in fig.gradient_profile(exact, "relu").data)
    compared = fig.compare_profiles({"A": exact, "B": trained.layers})
    # A's markers, and one grey key for every run's zeros (the hover names the run)
    assert [(t.name, t.showlegend) for t in compared.data if "exactly 0" in t.name] == [
        ("A: exactly 0", False),
        ("exactly 0", None),
    ]
    # beside another run, markers only: A's "0"s were written over B's line (the legend says it)
    zeros = next(t for t in compared.data if t.name == "A: exactly 0")
    assert zeros.mode == "markers" and zeros.text is None
    alone = next(t for t in fig.compare_profiles({"A": exact}).data if t.name == "A: exactly 0")
    assert set(alone.text) == {"0"}


def test_a_run_with_nothing_to_draw_is_named_in_a_comparisons_legend(trained):
    """A diverged on its first step: B's line alone, and Plotly hid the legend of a lone
    trace, so no chart said whose line it was (a browser walk)."""
    layers, metrics = trained.layers, trained.metrics
    for figure in (
        fig.compare_profiles({"A": layers.iloc[:0], "B": layers}),
        fig.compare_curves({"A": metrics.iloc[:0], "B": metrics}),
        fig.compare_saturation({"A": layers.iloc[:0], "B": layers}),
    ):
        names = [trace.name for trace in figure.data]
        assert figure.layout.showlegend and "A: no step to draw" in names and any(n.startswith("B") for n in names)
    recurrent = RecurrentTrainer(RecurrentConfig(length=5, hidden=4, steps=2))
    recurrent.step(2)
    rows = recurrent.time_gradients
    names = [trace.name for trace in fig.time_profiles({"A": rows.iloc[:0], "B": rows}).data]
    assert "A: no step to draw" in names and "B" in names  # (one run alone: no key of runs)
    assert not [n for n in fig.time_profiles({"B": rows}).data if n.name in ("B", "A: no step to draw")]


def test_long_runs_are_thinned_but_keep_the_last_step():
    trainer = Trainer(ExperimentConfig(depth=2, width=4, steps=400))
    trainer.step(400)
    thinned = fig.thin_steps(trainer.layers, 50)
    assert thinned["step"].nunique() == 50 and thinned["step"].max() == 399
    assert len(fig.update_ratios(trainer.layers).data[0].x) == 150  # the charts keep 150 steps


def test_training_curves_have_train_and_test(trained):
    figure = fig.training_curves(trained.metrics)
    assert {t.name for t in figure.data} == {"train (batch)", "test (after the step's update)"}
    test = next(t for t in figure.data if t.name == "test (after the step's update)")
    assert len(test.x) == trained.metrics["test_loss"].notna().sum()
    # each panel's title centred over its own panel (anchored left, the loss's ran into the accuracy's)
    assert [(a.text, a.x, a.xanchor) for a in figure.layout.annotations] == [
        ("Loss (cross-entropy)", 0.225, "center"),
        ("Accuracy", 0.775, "center"),
    ]
    # a task whose "accuracy" is something else is named so (the adding problem's near-enough sums)
    adding = fig.training_curves(trained.metrics, "squared error", "sums within ±0.04")
    assert adding.layout.title.text == "Loss and sums within ±0.04"
    assert [a.text for a in adding.layout.annotations] == ["Loss (squared error)", "Sums within ±0.04"]


def test_derivative_with_inputs_draws_the_activation_and_a_histogram(trained):
    inputs = trained.activation_inputs()
    curve = curves_covering("sigmoid", inputs.query("layer == 3")["value"])
    figure = fig.derivative_with_inputs(curve, inputs, 3, "sigmoid")
    assert figure.layout.xaxis.exponentformat == "power"  # an exploded run's inputs: 5×10¹³, not "50T"
    curve = next(t for t in figure.data if isinstance(t, go.Scatter))
    assert max(curve.y) == pytest.approx(0.25, abs=1e-4)  # the sigmoid's ceiling
    histogram = next(t for t in figure.data if isinstance(t, go.Histogram))
    sample = trained.activation_inputs().query("layer == 3")["value"]
    assert len(histogram.x) == len(sample) > 0
    # the threshold named in the legend: written on the chart, its words hid the bars under them
    threshold = figure.data[-1]
    assert threshold.name == "saturated: slope below 0.025" and set(threshold.y) == {0.025}
    assert not figure.layout.annotations
    # each its own legend group: Plotly.js packs grouped entries by their own widths, two rows
    # under a presented plot where, ungrouped, each took the widest one's width (three rows)
    assert [trace.legendgroup for trace in figure.data] == [trace.name for trace in figure.data]


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
    dying = layers.copy()  # crosses only where units are dead, and the legend says when none are
    dying["dead_fraction"] = 0.0
    crosses = fig.saturation_by_layer(dying).data[1]
    assert np.isnan(np.asarray(crosses.y, dtype=float)).all() and crosses.name.startswith("dead units, none now: ")
    dying["saturation"] *= 0  # nothing to draw (the output layer still unmeasured): the chart says so
    empty_bars = fig.saturation_by_layer(dying)
    assert "0% in every layer" in empty_bars.layout.annotations[0].text
    assert list(empty_bars.layout.xaxis.range) == [0.5, 6.5]  # layers 1-6 however tall their bars: not 0, not 7
    dying.loc[dying["layer"] == 2, "dead_fraction"] = 0.25
    crosses = fig.saturation_by_layer(dying).data[1]
    drawn = ~np.isnan(np.asarray(crosses.y, dtype=float))
    assert list(np.asarray(crosses.x)[drawn]) == [2] and not crosses.name.startswith("dead units, none now: ")
    # Compare names what a network shows none of, in words that presenting keeps (test_presenter), in one
    # legend entry a run for its bars and its crosses (an entry each took a projector's chart 180 px too tall)
    calm = dying.assign(saturation=0.0, dead_fraction=0.0)
    compared = fig.compare_saturation({"A": calm, "B": layers.assign(saturation=0.3, dead_fraction=0.1)})
    assert [t.name for t in compared.data if t.showlegend is not False] == ["A, none saturated or dead", "B"]
    assert [t.legendgroup for t in compared.data] == ["A", "A", "B", "B"]
    assert not fig.compare_saturation({"A": calm, "B": layers.assign(saturation=0.3)}).layout.annotations
    # each run's bars in its own word (tanh's "inactive or saturated" stood for a run that can only saturate)
    worded = fig.compare_saturation({"A": calm, "B": layers}, {"A": "saturated", "B": "inactive"})
    assert worded.data[0].name == "A, none saturated or dead"
    assert worded.data[2].hovertemplate.endswith(" inactive<extra></extra>")
    assert worded.layout.title.text.startswith("Inactive or saturated inputs")
    both_calm = fig.compare_saturation({"A": calm, "B": calm})  # a chart of nothing looked broken: it says why
    assert both_calm.layout.annotations[0].text.startswith("0% in every layer of every run")
    updates = fig.update_ratios(layers)
    assert updates.layout.yaxis.type == "log"
    assert any(s.y0 == UPDATE_GUIDE for s in updates.layout.shapes)
    distance = fig.distance_from_init(layers)
    assert len(distance.data[0].x) == 7
    unmoved = layers.copy()  # float32 weights whose updates were too small to change them
    unmoved.loc[unmoved["layer"] <= 2, "distance_from_init"] = 0.0
    markers = fig.distance_from_init(unmoved).data[1]
    assert list(markers.x) == [1, 2] and list(markers.text) == ["0", "0"] and "not moved" in markers.name
    assert fig.distance_from_init(unmoved).layout.yaxis.type == "log"  # (the "0"s sit on its floor)
    # within a decade of each other, a log axis drew 0.26 as a sliver beside 0.29 (a browser walk)
    last = layers["step"] == layers["step"].max()
    close = layers.assign(distance_from_init=np.where(last, 0.26 + 0.01 * layers["layer"], 0.1))
    linear = fig.distance_from_init(close).layout.yaxis
    assert linear.type != "log" and linear.rangemode == "tozero" and "log" not in linear.title.text
    spread = layers.assign(distance_from_init=np.where(last, 10.0 ** -layers["layer"], 0.1))
    assert fig.distance_from_init(spread).layout.yaxis.type == "log"


def test_decision_boundary(trained):
    grid, points = trained.decision_grid(resolution=20)
    figure = fig.decision_boundary(grid, points)
    assert np.asarray(figure.data[0].z).shape == (20, 20)
    assert ((grid["p1"] >= 0) & (grid["p1"] <= 1)).all()


def test_every_chart_carries_the_default_template_and_cheap_tick_labels_once_built(trained):
    """Figures are built from an empty template (Plotly copied the default into every
    new figure and again at each read of its layout) and get the default, Streamlit's
    chart theme on a page, when `layout` finishes them: none may reach a page without.
    Every axis, a subplot's too, lets its tick labels be (the browser's default measures
    each of them at every redraw)."""
    layers, metrics, other = trained.layers, trained.metrics, trained.layers.assign(delta_rms=1e-3)
    built = [
        *run_figures(layers, metrics),
        fig.forward_variance(layers, theory.predict_layers(trained.config)),
        fig.decision_boundary(*trained.decision_grid(resolution=10)),
        fig.network_picture(trained.units(), 2),
        fig.phase_diagram(theory.phase_diagram("tanh", 3.0, 0.5, 9), "tanh", (1.0, 0.05)),
        fig.compare_profiles({"A": layers, "B": other}),
        fig.compare_curves({"A": metrics, "B": metrics}),
        fig.compare_saturation({"A": layers, "B": other}),
        fig.gradient_profile(layers.iloc[:0], "sigmoid"),  # (empty: "Press Train")
    ]
    default = pio.templates[pio.templates.default]
    for figure in built:
        assert figure.layout.template == default, figure.layout.title.text
        axes = [*figure.select_xaxes(), *figure.select_yaxes()]
        assert axes and all(axis.ticklabeloverflow == "allow" for axis in axes), figure.layout.title.text


def test_every_builder_copes_with_no_data_yet():
    layers, metrics = empty_frames()
    for figure in (
        *run_figures(layers, metrics),
        fig.forward_variance(layers, None),
        fig.network_picture(Trainer(ExperimentConfig(depth=2, width=4)).units(), 2),
    ):
        message = figure.layout.annotations[0].text
        assert isinstance(figure, go.Figure) and message.startswith("Press Train")
        assert max(len(line) for line in message.split("<br>")) <= EMPTY_LINE, message  # Plotly would not wrap it
    assert fig.network_picture(Trainer(ExperimentConfig(depth=2, width=4)).units(), 2).layout.annotations[0].text == (
        "Press Train to see the gradient<br>reach each unit"
    )
    empty_inputs = Trainer(ExperimentConfig(depth=2, width=4)).activation_inputs()
    assert isinstance(fig.derivative_with_inputs(curves("relu", 6.0), empty_inputs, 1, "relu"), go.Figure)


def test_layer_colours_are_one_distinct_colour_a_layer():  # (their order: test_colours.py)
    colors = fig.layer_colors(5)
    assert len(colors) == 5 and len(set(colors)) == 5
    assert len(fig.layer_colors(1)) == 1


def test_a_share_reads_100_or_0_percent_only_when_it_is_all_or_none():
    """A ridge labelled "6 · 100%" at 99.8% read as a dead layer beside the one that was (a
    browser walk); captions and the ridges' labels write a share the same way."""
    from vangrad_core.writing import percent

    shares = [0.0, 0.001, 0.00537, 0.01, 0.195, 0.5, 0.905, 0.99, 0.996, 1.0, float("nan")]
    # under a per cent is "<1%", as the headline's "all <1%" (0.54% read "1%" on a ridge); halves go up (0.905: 91%)
    expected = ["0%", "<1%", "<1%", "1%", "20%", "50%", "91%", "99%", ">99%", "100%", "–"]
    assert [percent(s) for s in shares] == expected


def test_zero_gradients_do_not_break_log_axes(trained):
    """Exact zeros (layers below a dead one) never reach a log axis as 0: every point
    drawn is a positive number, or a gap."""
    figure = fig.gradient_profile(dead_below(trained.layers, 4), "relu")
    drawn = np.concatenate([np.asarray(t.y, dtype=float) for t in figure.data])
    assert np.isnan(drawn).any() and (drawn[~np.isnan(drawn)] > 0).all()


def test_gradient_profile_draws_the_theory_pinned_to_the_output_layer(trained):
    predicted = theory.predict_layers(trained.config)
    figure = fig.gradient_profile(trained.layers, "sigmoid", "delta_rms", predicted)
    assert "dL/dz" in figure.layout.yaxis.title.text and figure.layout.yaxis.type == "log"
    line = next(t for t in figure.data if t.name.startswith("theory"))
    output_delta = trained.layers.query("step == 0 and layer == 7")["delta_rms"].iloc[0]
    np.testing.assert_allclose(line.y, predicted["delta_rms_relative"] * output_delta)
    assert line.y[-1] == pytest.approx(output_delta)
    # drawn over the measured lines it agrees with (deep sigmoid's hid it, "the green dashed line"),
    # listed second in the legend, after step 1
    lines = [t for t in figure.data if "exactly 0" not in t.name]
    assert lines[-1] is line and [t.name for t in sorted(lines, key=lambda t: t.legendrank)][:2] == [
        "step 1 (initial weights)",
        line.name,
    ]
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
        "theory at initialization (mean field)",
        "He et al.: × n·Var(W)/2 per layer",
        "measured, step 1 (initial weights)",  # grey, as step 1 is in every chart
        "measured, step 3 (now)",
    ]
    assert figure.data[2].marker.color == THEN_COLOR and len(figure.data[3].marker.color) == 8
    np.testing.assert_allclose(figure.data[2].y, trainer.layers.query("step == 0 and layer <= 8")["act_input_std"] ** 2)
    # Xavier on square ReLU layers: He's rule halves the variance per layer, as does the theory without biases
    np.testing.assert_allclose(figure.data[1].y, figure.data[0].y, rtol=1e-9)
    assert figure.layout.yaxis.type == "log"
    sigmoid = fig.forward_variance(
        trainer.layers, predicted, theory.variance_rule(config.replace(activation="sigmoid"))
    )
    assert len(sigmoid.data) == 3  # no simple rule for sigmoid: its outputs are not centred
    # layer norm keeps every variance near 1: a log axis within one decade piled its labels (1, 0.9, 0.8)
    normed = Trainer(config.replace(norm="layernorm_before"))
    normed.step(3)
    variances = normed.layers["act_input_std"].dropna() ** 2
    assert variances.max() < 10 * variances.min()
    linear = fig.forward_variance(normed.layers, None).layout.yaxis
    assert linear.type != "log" and linear.rangemode == "tozero" and "log" not in linear.title.text
    # one layer: a line through one point draws nothing, and the caption speaks of "the dashed line"
    one = Trainer(config.replace(depth=1, width=2))
    one.step(2)
    single = fig.forward_variance(one.layers, theory.predict_layers(one.config), theory.variance_rule(one.config))
    for line in single.data[:2]:
        assert len(line.x) == 1 and line.mode == "markers" and line.marker.symbol == "line-ew"


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
    assert star.cliponaxis is False  # whole on the edge, where σ_b² = 0


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_phase_labels_sit_in_their_own_phase_away_from_the_star(activation):
    phases = theory.phase_diagram(activation)
    grid = phases.pivot(index="sigma_b2", columns="sigma_w2", values="chi1")
    star = (1.0, 0.0)
    figure = fig.phase_diagram(phases, activation, star)
    labels = {a.text.split(":")[0]: (a.x, a.y) for a in figure.layout.annotations}
    anchors = {a.text.split(":")[0]: a.xanchor for a in figure.layout.annotations}
    # the two lines inside the chart: hanging below a row in its upper half, standing on one in its lower
    # half (centred on a row near the top, they were cut at its edge when presenting)
    for label in figure.layout.annotations:
        assert label.yanchor == ("top" if label.y > grid.index.max() / 2 else "bottom"), label
    chi = {(w, b): grid.loc[b, w] for b in grid.index for w in grid.columns}
    assert "ordered" in labels  # every activation has an ordered region
    assert ("chaotic" in labels) == (max(chi.values()) > 10**0.1)  # sigmoid has none
    for name, (x, y) in labels.items():
        assert (chi[(x, y)] < 1) == (name == "ordered"), (name, chi[(x, y)])
        assert abs(x - star[0]) / grid.columns.max() + abs(y - star[1]) / grid.index.max() > 0.3
        # on the longest stretch of its phase, centred, or from the chart's edge where the stretch
        # reaches it: the words stay in their phase and in the chart (sigmoid's "ordered",
        # right-anchored at the phase's edge, ran across the critical line)
        log_chi = np.log10(grid.loc[y].to_numpy())  # (a phase: a tenth of a decade from the line)
        row = log_chi < -0.1 if name == "ordered" else log_chi > 0.1
        at = list(grid.columns).index(x)
        left, right = at, at
        while left > 0 and row[left - 1]:
            left -= 1
        while right < len(row) - 1 and row[right + 1]:
            right += 1
        if anchors[name] == "left":
            assert at == left == 0
        elif anchors[name] == "right":
            assert at == right == len(row) - 1
        else:
            assert anchors[name] == "center" and abs((at - left) - (right - at)) <= 1, (name, left, at, right)
        assert right - left + 1 >= len(row) // 6  # (tanh's chaotic wedge: 7 of 41 columns; all others more)


# ---- the network drawn unit by unit, and every layer's outputs -------------------------


def units_frame(depth: int, width: int, n_out: int = 2, seed: int = 0) -> pd.DataFrame:
    """Per-unit rows as Trainer.units gives them: each layer's gradient ten times the
    one below it, with some spread over its units."""
    rng = np.random.default_rng(seed)
    layer = np.r_[np.repeat(np.arange(1, depth + 1), width), np.full(n_out, depth + 1)]
    unit = np.r_[np.tile(np.arange(width), depth), np.arange(n_out)]
    hidden = depth * width
    return pd.DataFrame(
        {
            "step": 7,
            "layer": layer,
            "unit": unit,
            "delta_rms": 10.0 ** (layer - depth - 2) * rng.uniform(0.5, 2.0, len(layer)),
            "saturation": np.r_[np.zeros(hidden), np.full(n_out, np.nan)],
            "dead": np.r_[np.zeros(hidden), np.full(n_out, np.nan)],
        }
    )


class Drawn:
    """The units a network picture draws in colour, as arrays: the hidden layers' trace
    then the output layer's, which share the figure's colour axis."""

    def __init__(self, figure: go.Figure):
        traces = [t for t in figure.data if t.marker.coloraxis == "coloraxis"]
        assert len(traces) == 2

        def per_point(value, trace) -> np.ndarray:  # (a property given once for the whole trace: each point's)
            value = np.asarray(value)
            return np.full(len(trace.x), value) if value.ndim == 0 else value

        def joined(get) -> np.ndarray:
            return np.concatenate([per_point(get(t), t) for t in traces])

        self.x, self.y = joined(lambda t: t.x), joined(lambda t: t.y)
        self.color, self.symbol = joined(lambda t: t.marker.color), joined(lambda t: t.marker.symbol)
        self.customdata, self.axis = joined(lambda t: t.customdata), figure.layout.coloraxis


def test_network_picture_draws_every_layer_coloured_by_log_gradient():
    units = units_frame(depth=4, width=3)
    figure = fig.network_picture(units, n_inputs=2)
    drawn = Drawn(figure)
    assert sorted(set(drawn.x)) == [1, 2, 3, 4, 5] and len(drawn.x) == 4 * 3 + 2  # every unit, output layer too
    np.testing.assert_allclose(drawn.color, np.log10(units["delta_rms"]))  # in the frame's order
    assert drawn.axis.cmin == pytest.approx(np.log10(units["delta_rms"].min()))
    assert drawn.axis.cmax == pytest.approx(np.log10(units["delta_rms"].max()))
    inputs = figure.data[0]
    assert list(inputs.x) == [0, 0] and "2 features" in inputs.hovertemplate
    assert list(figure.layout.xaxis.ticktext) == ["input", "1", "2", "3", "4", "output"]
    ten = fig.network_picture(units_frame(depth=10, width=3), n_inputs=2)  # presented, "input1" ran together
    assert list(ten.layout.xaxis.ticktext) == ["input", "2", "4", "6", "8", "output"]
    assert figure.layout.xaxis.title.text == "layer"  # every unit drawn
    assert not [t for t in figure.data if t.name and (t.name or "").startswith("dead")]  # nothing dead: no crosses


def test_network_picture_marks_dead_units_and_zeros_take_the_darkest_colour():
    units = units_frame(depth=3, width=4)
    killed = (units["layer"] == 2) & units["unit"].isin([0, 3])
    units.loc[killed, ["delta_rms", "dead", "saturation"]] = (0.0, 1.0, 1.0)
    units.loc[(units["layer"] == 1) & (units["unit"] == 1), "delta_rms"] = 1e-42  # an underflow counts as 0
    stuck = (units["layer"] == 3) & (units["unit"] == 2)
    units.loc[stuck, "saturation"] = 1.0  # every input saturated, yet some gradient passes
    figure = fig.network_picture(units, n_inputs=2, dead_cause="stuck at 0 or 1")
    drawn = Drawn(figure)
    nonzero = units.loc[units["delta_rms"] > 1e-38, "delta_rms"]
    assert drawn.axis.cmin == pytest.approx(np.log10(nonzero.min()))  # the range from non-zero values
    colours = drawn.color
    assert (colours[units.index[killed]] == drawn.axis.cmin).all() and colours[1] == drawn.axis.cmin
    assert figure.layout.title.text.endswith("(darkest: ≈0)")  # (layer 1's 1e-42 only underflowed)
    exact = units.assign(delta_rms=units["delta_rms"].where(units["delta_rms"] > 1e-38, 0.0))
    assert fig.network_picture(exact, n_inputs=2).layout.title.text.endswith("(darkest: 0)")
    crosses = next(t for t in figure.data if t.name == "dead (stuck at 0 or 1)")
    positions = dict(zip(zip(drawn.x, drawn.y, strict=True), range(len(drawn.x)), strict=True))
    assert sorted(positions[p] for p in zip(crosses.x, crosses.y, strict=True)) == list(units.index[killed])
    hollow = drawn.symbol == 100  # "circle-open"
    assert list(np.flatnonzero(hollow)) == list(units.index[stuck])  # every input saturated, not the dead
    assert any(t.name == "hollow: saturated (for every example of the batch)" for t in figure.data)


def test_a_wide_layer_is_drawn_as_units_picked_by_rank_that_show_its_dead_share():
    units = units_frame(depth=3, width=512, n_out=10)
    layer2 = units.index[units["layer"] == 2]
    units.loc[layer2[:128], ["delta_rms", "dead"]] = (0.0, 1.0)  # a quarter of layer 2 dead
    units.loc[units.index[units["layer"] == 3][:256], "delta_rms"] = np.nan  # half the layer overflowed
    figure = fig.network_picture(units, n_inputs=64, max_units=16)
    drawn = Drawn(figure)
    x = drawn.x
    assert [(x == n).sum() for n in (1, 2, 3, 4)] == [16, 16, 8, 10]  # 16 of 512; the NaN units apart
    assert list(next(t for t in figure.data if (t.name or "").startswith("NaN")).x) == [3] * 8
    crosses = next(t for t in figure.data if (t.name or "").startswith("dead"))
    assert list(crosses.x) == [2] * 4  # a quarter of the 16 drawn
    gradient = drawn.customdata[x == 1, 1]
    assert (np.diff(gradient) <= 0).all()  # by rank, the largest at the top
    assert figure.layout.xaxis.title.text == "layer: 16 of its 512 units drawn, by rank"
    assert len(figure.data[0].x) == 16  # 64 inputs: 16 drawn
    assert (drawn.customdata[x == 2, 3] == 0.25).all()  # the layer's exact dead share, in the hover
    assert "%{customdata[3]:.0%} dead" in figure.data[1].hovertemplate


def test_network_picture_reads_at_depth_100():
    figure = fig.network_picture(units_frame(depth=100, width=512, n_out=10), n_inputs=2)
    drawn = Drawn(figure)
    assert len(drawn.x) == 100 * 16 + 10 and figure.data[1].marker.size >= 4
    labels = list(figure.layout.xaxis.ticktext)
    assert labels == ["input", "20", "40", "60", "80", "output"]  # apart at 18 px in half a projector's width


def test_network_picture_of_a_real_run_matches_its_per_layer_gradient(trained):
    units = trained.units()
    figure = fig.network_picture(units, n_inputs=2)
    drawn = Drawn(figure)
    assert len(drawn.x) == 6 * 16 + 2
    by_layer = units.groupby("layer")["delta_rms"].apply(lambda r: np.sqrt((r**2).mean()))
    latest = trained.layers.query("step == 59").set_index("layer")["delta_rms"]
    np.testing.assert_allclose(by_layer, latest, rtol=1e-5)


def outputs_frame(values_by_layer: dict[int, np.ndarray], activation: str = "sigmoid") -> pd.DataFrame:
    inputs = pd.DataFrame(
        {"layer": np.concatenate([[n] * len(v) for n, v in values_by_layer.items()]),
         "value": np.concatenate(list(values_by_layer.values()))}
    )  # fmt: skip
    return outputs_of(activation, inputs)


def share_by_layer(trace) -> pd.Series:
    """A ridgeline trace's hover data summed per layer: each bin is two points of its outline."""
    data = pd.DataFrame(np.asarray(trace.customdata, dtype=float)[:, :2], columns=["layer", "share"]).dropna()
    return data.groupby("layer")["share"].sum() / 2


def test_ridges_draw_each_layer_with_its_saturated_outputs_in_red():
    rng = np.random.default_rng(1)
    wide, narrow = rng.normal(0, 6, 2000), rng.normal(0, 0.5, 2000)  # layer 2 mostly saturated, layer 1 not
    outputs = outputs_frame({1: narrow, 2: wide})
    shares = pd.Series({1: 0.0, 2: 0.6})
    figure = fig.activation_ridges(outputs, shares, "sigmoid", "saturated", flat_outputs("sigmoid"))
    outline, red = figure.data
    assert "saturated" in red.name and share_by_layer(outline).tolist() == pytest.approx([1, 1])
    expected = (np.abs(wide) > 3.6).mean()  # sigmoid'(x) < 0.025 for |x| > 3.64
    assert share_by_layer(red)[2] == pytest.approx(expected, abs=0.01) and share_by_layer(red)[1] == 0
    y = np.asarray(outline.y, dtype=float)
    assert np.nanmin(y) == 0 and np.nanmax(y) < 2  # layer 1 at the bottom, layer 2 above; no overlap
    assert list(figure.layout.yaxis.ticktext) == ["1 · 0%", "2 · 60%"]
    assert figure.layout.xaxis.range == (0.0, 1.0)  # sigmoid's whole range, its flat tails included
    bands = [(s.x0, s.x1) for s in figure.layout.shapes]
    assert bands[0][0] == 0 and bands[0][1] == pytest.approx(0.0257, abs=1e-3)
    assert bands[1] == (pytest.approx(0.9743, abs=1e-3), 1.0)


def test_ridges_of_relu_mark_the_off_side_and_of_linear_nothing():
    rng = np.random.default_rng(2)
    outputs = outputs_frame({1: rng.normal(0, 1, 1000)}, "relu")
    figure = fig.activation_ridges(outputs, pd.Series({1: 0.5}), "relu", "inactive", flat_outputs("relu"))
    red = next(t for t in figure.data if "inactive" in t.name)
    assert share_by_layer(red)[1] == pytest.approx((outputs["value"] == 0).mean())
    assert any(s.type == "line" and s.x0 == 0 for s in figure.layout.shapes)  # ReLU's off side is the value 0
    # the ridge scaled to its tallest bin of active outputs, the spike of zeros (half of them) cut at that height:
    # scaled to the spike, the rest of every ReLU ridge had been squashed flat (a browser walk)
    outline = next(t for t in figure.data if "inactive" not in t.name)
    x, y = np.asarray(outline.x, dtype=float), np.asarray(outline.y, dtype=float)
    zero_bin_edge = np.unique(x[np.isfinite(x)])[1]
    assert np.nanmax(y) == pytest.approx(RIDGE_HEIGHT)
    assert np.nanmax(y[x > zero_bin_edge]) == pytest.approx(RIDGE_HEIGHT)
    linear = fig.activation_ridges(
        outputs_frame({1: rng.normal(0, 1, 100)}, "linear"), pd.Series({1: 0.0}), "linear", ""
    )
    assert len(linear.data) == 1 and not linear.layout.shapes


def test_ridges_at_depth_100_show_twenty_evenly_spaced_layers_with_their_numbers():
    rng = np.random.default_rng(3)
    outputs = outputs_frame({n: rng.normal(0, 1, 200) for n in range(1, 101)}, "tanh")
    shares = pd.Series(np.linspace(0, 1, 100), index=range(1, 101))
    figure = fig.activation_ridges(outputs, shares, "tanh", "saturated", flat_outputs("tanh"))
    labels = list(figure.layout.yaxis.ticktext)
    assert len(labels) == 20 and labels[0] == "1 · 0%" and labels[-1] == "100 · 100%"
    assert "20 of 100 layers" in figure.layout.title.text
    assert figure.layout.height >= 20 * 24


def test_ridges_show_the_layers_their_caption_names():
    """At depth 50 the caption named layer 21, the most saturated (98%), beside a
    ridgeline of 20 evenly spaced layers that showed 19 and 22 (a browser walk)."""
    rng = np.random.default_rng(0)
    outputs = outputs_frame({n: rng.normal(0, 1, 200) for n in range(1, 51)}, "tanh")
    shares = pd.Series(0.5, index=range(1, 51)).where(lambda s: s.index != 21, 0.98).where(lambda s: s.index != 34, 0.1)
    named = flat_extremes(shares)  # what the caption names
    figure = fig.activation_ridges(outputs, shares, "tanh", "saturated", flat_outputs("tanh"), named=named)
    shown = [int(label.split(" · ")[0]) for label in figure.layout.yaxis.ticktext]
    assert len(shown) == 20 and {1, 21, 34, 50} <= set(shown) and shown == sorted(shown)
    assert "20 of 50 layers" in figure.layout.title.text


def test_ridges_of_an_overflowed_run_draw_what_is_finite():
    outputs = outputs_frame({1: np.array([np.nan, np.inf, 0.3, -0.2]), 2: np.array([np.nan, np.nan])}, "tanh")
    figure = fig.activation_ridges(outputs, pd.Series({1: 0.0, 2: np.nan}), "tanh", "saturated")
    outline, red = figure.data  # tanh(inf) = 1: saturated
    assert share_by_layer(outline).to_dict() == {1: pytest.approx(1)}  # layer 2 had nothing finite
    assert share_by_layer(red)[1] == pytest.approx(1 / 3)
    # an exploded run's outputs reach 5e19: powers of ten on the axis, not SI's "50E" (a browser walk)
    assert figure.layout.xaxis.exponentformat == "power"
    assert (
        "Press Train"
        in fig.activation_ridges(outputs.iloc[:0], pd.Series(dtype=float), "tanh").layout.annotations[0].text
    )


def test_ridges_of_outputs_spanning_many_decades_go_on_a_log_axis():
    """ "Exploding gradients" at its last step: layer k's outputs around 10^k (layer 20's
    reached 10¹⁹); on a linear axis every layer but the last sat in its first bin (a
    browser walk). On a signed log axis each layer's ridge sits a decade right of the last."""
    rng = np.random.default_rng(4)
    inputs = {k: 10.0**k * rng.lognormal(0, 1, 400) * rng.choice([-1, 1], 400) for k in range(1, 21)}
    figure = fig.activation_ridges(outputs_frame(inputs, "relu"), pd.Series(0.5, index=range(1, 21)), "ReLU")
    axis = figure.layout.xaxis
    assert "log scale" in axis.title.text
    assert axis.ticktext[0] == "0" and "10<sup>3</sup>" in axis.ticktext and len(axis.ticktext) <= 1 + 8
    powers = [int(text.removeprefix("10<sup>").removesuffix("</sup>")) for text in axis.ticktext[1:]]
    np.testing.assert_allclose(axis.tickvals, [0] + [np.log10(1 + 10.0**k) for k in powers])  # 10ᵏ where it is drawn
    drawn = pd.DataFrame(np.asarray(figure.data[0].customdata, dtype=float), columns=["layer", "share", "value"])
    drawn = drawn[drawn["value"] > 3]  # (ReLU's half at 0, in the first bin, aside)
    tallest = np.log10(drawn.loc[drawn.groupby("layer")["share"].idxmax(), "value"].to_numpy())
    assert np.all(np.abs(tallest[:19] - np.arange(1, 20)) < 1)  # each layer's tallest bin at its decade
    assert (fig.activation_ridges(outputs_frame({1: rng.normal(0, 1, 400)}, "relu"), pd.Series({1: 0.5}), "ReLU")
            .layout.xaxis.tickvals is None)  # fmt: skip
    # outputs that vanish span decades too, all under 1: there a log axis is nearly linear (and was labelled "0" alone)
    vanishing = {k: 10.0**-k * rng.lognormal(0, 1, 400) for k in range(1, 9)}
    small = fig.activation_ridges(outputs_frame(vanishing, "relu"), pd.Series(0.5, index=range(1, 9)), "ReLU")
    assert small.layout.xaxis.tickvals is None and "log" not in small.layout.xaxis.title.text
    # a signed one (Leaky ReLU's negative side), powers of ten either side of 0, eight labelled in all
    leaky = fig.activation_ridges(outputs_frame(inputs, "leaky_relu"), pd.Series(0.0, index=range(1, 21)), "Leaky")
    assert leaky.layout.xaxis.ticktext[0].startswith("−10<sup>") and "0" in leaky.layout.xaxis.ticktext
    assert len(leaky.layout.xaxis.ticktext) <= 1 + 8


@pytest.mark.parametrize(
    "scenario, log",
    [("Exploding gradients", True), ("Deep sigmoid stalls", False), ("Leaky ReLU never dies", False),
     ("30 ReLU layers, Xavier init", False), ("Dying ReLU (learning rate too large)", False)],
)  # fmt: skip
def test_the_lectures_runs_ridges_go_on_a_log_axis_only_where_their_layers_lie_decades_apart(scenario, log):
    """At step 1 of "Exploding gradients" layer 20's outputs are ×144 layer 1's; the other
    runs' layers lie within ×31 of each other, or (vanishing) all under 1."""
    config = SCENARIO_BY_NAME[scenario].config
    trainer = Trainer(config)
    trainer.step(1)
    outputs = outputs_of(config.activation, trainer.activation_inputs())
    figure = fig.activation_ridges(outputs, pd.Series(dtype=float), config.activation)
    assert ("log scale" in figure.layout.xaxis.title.text) == log


def test_an_update_that_left_the_weights_as_they_were_is_a_0_on_the_floor():
    """Float32 rounds a step too small away: the weights do not change, the update is 0,
    drawn on the axis floor (a log axis cannot show 0) under a line that says so."""
    steps = pd.DataFrame({"step": np.repeat([0, 1, 2], 2), "layer": [1, 2] * 3})
    layers = steps.assign(update_ratio=[0.0, 1e-3, 0.0, 2e-3, 1e-9, 1e-3])
    figure = fig.update_ratios(layers)
    bottom = next(t for t in figure.data if t.name == "layer 1")
    assert list(bottom.y[:2]) == [1e-10, 1e-10] and bottom.y[2] == 1e-9  # a decade under the smallest
    assert list(bottom.text) == ["0 (not changed)", "0 (not changed)", "1e\u22129"]
    labels = {a.text: a.y for a in figure.layout.annotations}
    # on a log axis an annotation's y is log10 (add_hline's own label sat at 10^0.001)
    assert labels == {"10⁻³: a healthy rate": -3, "0: too small to change a float32 weight": -10}
    moving = fig.update_ratios(layers.assign(update_ratio=1e-3))
    assert not [a for a in moving.layout.annotations if "float32" in a.text]


def test_two_histograms_over_one_curve_share_their_bins():
    """Why sigmoid draws a run without and with batch norm over one curve: a bar's height
    must mean the same share in both, so the bins are the curve's, not each one's own."""
    curve = curves_covering("sigmoid", np.array([-50.0, 50.0]))
    wide = pd.DataFrame({"layer": 1, "value": np.linspace(-50, 50, 500)})
    narrow = pd.DataFrame({"layer": 1, "value": np.linspace(-4, 4, 500)})
    bins = [fig.derivative_with_inputs(curve, inputs, 1, "sigmoid").data[0].xbins for inputs in (wide, narrow)]
    assert bins[0] == bins[1] and bins[0].start == curve["x"].iloc[0] and bins[0].end == curve["x"].iloc[-1]
    # and one share axis, up to the taller one's tallest bar: the narrow inputs fill 5 of the
    # 60 bins (the curve spans -55 to 55), about a quarter in each, where the wide ones spread
    # over all 60; drawn each on its own axis, both filled the chart's height
    tops = [fig.largest_input_share(curve, inputs, 1) for inputs in (wide, narrow)]
    assert tops[0] < 0.03 and 0.15 < tops[1] < 0.3
    bin_edges = np.linspace(bins[0].start, bins[0].end, 61)
    assert tops[1] == np.histogram(narrow["value"], bins=bin_edges)[0].max() / len(narrow)
    drawn = [fig.derivative_with_inputs(curve, inputs, 1, "sigmoid", max(tops)) for inputs in (wide, narrow)]
    ranges = [figure.layout.yaxis2.range for figure in drawn]
    assert ranges[0] == ranges[1] and ranges[0][1] > tops[1]


def test_the_isometry_legend_gives_each_network_its_own_colour_and_each_accuracy_line_its_histograms():
    inits = ["tanh, Gaussian", "tanh, orthogonal", "ReLU, Gaussian (He)", "ReLU, orthogonal ×√2"]
    spectra = pd.DataFrame({"log10_singular_value": np.tile([-3.0, -1.0, 0.0], 4), "init": np.repeat(inits, 3)})
    curves = pd.DataFrame({"step": [0, 10] * 2, "test_accuracy": [0.1, 0.5, 0.2, 0.9], "init": np.repeat(inits[:2], 2)})
    figure = fig.isometry_figure(spectra, curves, target=0.9)
    bars = {trace.name: trace.marker.color for trace in figure.data if isinstance(trace, go.Histogram)}
    assert list(bars) == inits and len(set(bars.values())) == 4  # ReLU's bars had tanh's two colours
    lines = [trace for trace in figure.data if isinstance(trace, go.Scatter)]
    assert [(line.name, line.line.color) for line in lines] == [(name, bars[name]) for name in inits[:2]]


def test_the_chain_rule_chart_draws_the_one_gradient_measure_and_keeps_its_axis_when_presented(trained):
    """Its line is RMS of dL/dz relative to the last hidden layer, and says so (its
    legend said "|dL/dz|"); its axis says where the input is after presenting drops "(...)"."""
    figure = fig.chain_rule(trained.layers)
    hidden = trained.layers[trained.layers["saturation"].notna()]
    measured = figure.data[0]
    assert "RMS of dL/dz" in measured.name
    assert np.allclose(measured.y, hidden["delta_rms"] / hidden["delta_rms"].iloc[-1])
    assert figure.layout.xaxis.title.text == "hidden layer, 1 = input side"  # no "(...)" to drop


def test_every_chart_by_layer_spans_the_layers_that_exist(trained):
    """Layers 1..n, and no further: a line's markers alone padded the axis out to a
    layer 0 and a layer n + 1, which a student reads as layers of the network."""
    layers = trained.layers
    last = layers[layers["step"] == layers["step"].max()]
    shallower = layers[layers["layer"] != 6].assign(layer=lambda f: f["layer"].where(f["layer"] < 7, 6))
    charts = {
        "profile": (fig.gradient_profile(layers, "sigmoid"), 7),
        "variance": (fig.forward_variance(layers, None), 6),
        "saturation": (fig.saturation_by_layer(layers), 6),
        "distance": (fig.distance_from_init(layers), 7),
        "chain rule": (fig.chain_rule(last), 6),
        "compare profiles": (fig.compare_profiles({"A": shallower, "B": layers}), 7),
        "compare saturation": (fig.compare_saturation({"A": shallower, "B": layers}), 6),
    }
    for name, (figure, n_layers) in charts.items():
        assert list(figure.layout.xaxis.range) == [0.5, n_layers + 0.5], name


def test_a_run_that_blew_up_beside_one_that_learns_puts_the_loss_on_a_log_axis(trained):
    """The exploding RNN's loss reached 5e35 beside the clipped run's 0.2: on a linear
    axis the clipped run was a flat line on 0."""
    metrics = trained.metrics
    alone = fig.compare_curves({"A": metrics, "B": metrics})
    assert alone.layout.yaxis.type != "log" and alone.layout.yaxis.rangemode == "tozero"
    blown = metrics.assign(loss=metrics["loss"] * 10.0 ** np.linspace(0, 35, len(metrics)))
    both = fig.compare_curves({"A": blown, "B": metrics})
    assert both.layout.yaxis.type == "log" and "log scale" in both.layout.yaxis.title.text


def test_zeros_close_together_are_not_labelled_one_by_one():
    """t = 1 ... 11 of 50 got exactly 0: their "0" labels ran together into one number."""
    time = pd.DataFrame({"step": 0, "t": range(1, 51), "grad_rms": [0.0] * 11 + [1e-3] * 39})
    zeros = next(t for t in fig.time_profiles({"B": time}).data if t.name.endswith("exactly 0"))
    assert list(zeros.x) == list(range(1, 12)) and zeros.text is None and zeros.mode == "markers"
    short = time[time["t"] <= 20]
    assert set(next(t for t in fig.time_profiles({"B": short}).data if t.name.endswith("exactly 0")).text) == {"0"}


def test_units_that_all_got_the_same_gradient_keep_a_colour_scale_a_decade_wide():
    """Only the output layer got a gradient, every unit the same: the colour bar was
    ticked -2.105133451, -2.1051334515 (a span of 1e-9)."""
    units = pd.DataFrame(
        {
            "step": 0,
            "layer": [1, 1, 2, 2],
            "unit": [0, 1, 0, 1],
            "delta_rms": [0.0, 0.0, 0.00785, 0.00785],
            "saturation": [0.0, 0.0, np.nan, np.nan],
            "dead": [1.0, 1.0, np.nan, np.nan],
        }
    )
    axis = fig.network_picture(units, 2).layout.coloraxis
    middle = np.log10(0.00785)
    assert axis.cmax - axis.cmin == pytest.approx(1) and (axis.cmin + axis.cmax) / 2 == pytest.approx(middle)


def test_the_memory_charts_solved_line_is_labelled_over_the_shortest_sequences():
    """Over the longest T, the plain RNN's unsolved bar ran through the label."""
    accuracy = pd.DataFrame(
        {"T": [5, 10, 50] * 2, "cell": ["RNN"] * 3 + ["LSTM"] * 3, "test_loss": [0.01, 0.1, 0.17, 0.01, 0.01, 0.01]}
    )
    gradients = pd.DataFrame({"T": 50, "cell": ["RNN", "LSTM"], "t": [1, 1], "relative_grad": [1e-10, 1e-5]})
    figure = fig.memory_figure(accuracy, gradients, 0.04)
    (solved,) = [a for a in figure.layout.annotations if a.text == "solved"]
    assert solved.xanchor == "left" and solved.x == 0 and solved.xref == "x domain" and solved.y == 0.04
    # the lengths evenly spaced as categories (as numbers, 5 and 10 crowded under the label, far from 50)
    assert figure.layout.xaxis.type == "category" and list(figure.data[0].x) == ["5", "10", "50"]


def test_ioffe_percentiles_are_told_apart_by_their_lines():
    """The 15th, 50th and 85th percentiles each have their own line, as the legend shows them."""
    steps = [0, 100]
    percentiles = pd.DataFrame(
        {"run": [run for run in ("without BN", "with BN") for _ in steps], "step": steps * 2}
    ).assign(p15=-1.0, p50=0.0, p85=1.0, unit=[6, 6, 41, 41])
    curves = pd.DataFrame({"run": ["without BN", "with BN"], "step": [100, 100], "test_accuracy": [0.5, 0.9]})
    figure = fig.ioffe_figure(curves, percentiles)
    # each panel names the unit it draws (counted from 1)
    titles = [a.text for a in figure.layout.annotations]
    assert "Unit 7's input, without BN" in titles and "Unit 42's input, with BN" in titles
    lines = {trace.name: trace.line.dash for trace in figure.data if trace.name.endswith("percentile")}
    assert lines == {"15th percentile": "dot", "50th percentile": "solid", "85th percentile": "dash"}


def test_what_carries_an_rnns_gradient_multiplies_out_to_what_reaches_t_1():
    """A sigmoid RNN's gradient shrank ×0.49 a step while the chart showed only its
    Jacobian's typical gain, 0.17 (a browser walk): the solid line is the measured factor,
    whose product over the steps back is dL/dh_1 ÷ dL/dh_T; the gain is dotted beside it."""

    trainer = RecurrentTrainer(RecurrentConfig(activation="sigmoid", length=12, steps=2))
    trainer.step(2)
    rows = trainer.time_gradients
    figure = fig.explained({"A": rows}, {"A": "rnn"})
    measured, gain = figure.data
    # labelled at t = 1, above the line with room for it where no factor passes 1 (an LSTM's most open
    # forget gate runs along 1, and its label under the line covered it); else under the line
    (whole,) = figure.layout.annotations  # this sigmoid RNN passes back ×0.5 a step, its gain 0.17: under 1
    assert not (plotted(figure) > 1).any()
    assert (whole.text, whole.xanchor, whole.yanchor) == ("1: passed on whole", "left", "bottom")
    assert whole.yshift > 0  # clear of a thick line along 1 (an LSTM's most open gate at 0.99 ran under its edge)
    assert figure.layout.yaxis.range == (0, EXPLAINED_TOP)
    # a factor over 1 (an exploding RNN's): the label under the line, the axis Plotly's
    exploding = rows.assign(jacobian_gain=rows["jacobian_gain"] * 10)
    over = fig.explained({"A": exploding}, {"A": "rnn"})
    assert over.layout.annotations[0].yanchor == "top" and over.layout.yaxis.range is None
    assert over.layout.annotations[0].yshift < 0  # (under the line: below it)
    lstm = RecurrentTrainer(RecurrentConfig(cell="lstm", length=12, steps=2))
    lstm.step(2)
    gates = fig.explained({"A": lstm.time_gradients}, {"A": "lstm"})
    assert gates.layout.annotations[0].yanchor == "bottom" and gates.layout.yaxis.range == (0, EXPLAINED_TOP)
    assert "measured" in measured.name and measured.line.dash == "solid" and gain.line.dash == "dot"
    last = rows[rows["step"] == 1].set_index("t")["grad_rms"]
    assert np.prod(np.asarray(measured.y, dtype=float)[1:]) == pytest.approx(last[1] / last[12], rel=1e-9)
    assert np.isnan(measured.y[0])  # nothing before t = 1


def test_a_log_axis_over_a_decade_or_two_is_labelled_in_decimals():
    """The forward signal's variances from 0.05 to 0.6 (a browser walk): Plotly labelled every
    digit of that span, small ("6 5 4 3 2 10⁻¹ 9 8"); now 0.05, 0.1, 0.2, 0.5."""
    assert value_axis("variance", [0.05, 0.1, 0.6]) == {
        "title": "variance (log scale)",
        "type": "log",
        "exponentformat": "power",
        "dtick": "D2",
        "tickformat": "~g",
        "minorloglabels": "complete",  # (presenting keeps it: its charts label decades only otherwise)
    }
    assert "dtick" not in value_axis("variance", [1e-9, 0.1])  # decades: powers of ten
    # too small for plain decimals: 1, 2 and 5 times the powers of ten, written out (Plotly labelled the
    # digits between decades alone, at 8 px: "2 3 4 ... 9" on Glorot's gradients, the "2" meaning 2e−5)
    small = value_axis("variance", [1e-6, 3e-5])
    assert small["tickmode"] == "array" and "dtick" not in small
    assert small["ticktext"] == ["1e−6", "2e−6", "5e−6", "1e−5", "2e−5"]
    np.testing.assert_allclose(small["tickvals"], [1e-6, 2e-6, 5e-6, 1e-5, 2e-5])
    # a span with no round number in it: its ends (Plotly's own labels, before, at least labelled it)
    assert value_axis("gradient", [3e-4, 4.5e-4], log=True)["ticktext"] == ["3e−4", "4.5e−4"]
    assert "dtick" not in value_axis("variance", [0.05, 0.6, 1e-45])  # a 0 drawn on the floor: 45 decades
    # two to four decades: each labelled, nothing between ("10⁻², 5, 2, 10⁻³" read as 5 and 2)
    assert value_axis("gradient", [1e-3, 0.5], log=True)["dtick"] == 1
    assert "dtick" not in value_axis("gradient", [1e-9, 0.5], log=True)  # more: Plotly's own choice
    # within a decade or two but too small for plain decimals (a dtick of a decade would label
    # nothing between 10^-3.7 and 10^-3.2): its 1, 2 and 5 times the powers of ten
    assert value_axis("gradient", [2e-4, 6e-4], log=True)["ticktext"] == ["2e−4", "5e−4"]
    assert value_axis("variance", [0.5, 0.6]) == {"title": "variance", "rangemode": "tozero"}  # within ×10: linear


def test_gradient_colour_bars_are_labelled_in_powers_of_ten():
    """Under "log₁₀" a colour bar's "0" (a gradient of 1) sat beside the title's "darkest: 0"
    (a gradient of 0): the bars now say 10⁰, 10⁻⁵, ..."""
    from vangrad_core.figures.style import decade_colorbar

    bar = decade_colorbar(-17.3, -1.2)
    assert bar["tickvals"] == [-17, -14, -11, -8, -5, -2] and bar["ticktext"][:2] == ["10⁻¹⁷", "10⁻¹⁴"]
    assert decade_colorbar(-2.0, 0.0)["ticktext"] == ["10⁻²", "10⁻¹", "10⁰"]
    # under two whole decades: numbers, as the captions write them (a network whose hidden units all got 0
    # had "−2, −2.5" under "log₁₀" beside "darkest: 0")
    assert decade_colorbar(-2.61, -1.61)["ticktext"] == ["5e−3", "0.01", "0.02"]
    assert decade_colorbar(-1.6, -1.1) == {
        "tickvals": [-1.6, np.log10(0.05), -1.1],
        "ticktext": ["0.025", "0.05", "0.079"],
    }
    assert decade_colorbar(-2.0, -1.99)["ticktext"] == ["0.01"]
    layers = pd.DataFrame({"step": np.repeat([0, 1], 3), "layer": [1, 2, 3] * 2, "delta_rms": [1e-9, 1e-5, 1e-1] * 2})
    heat = fig.gradient_heatmap(layers).data[0]
    assert heat.colorbar.ticktext[-1] == "10⁻¹" and heat.colorbar.ticktext[0] == "10⁻⁹"


def test_the_update_chart_labels_whole_decades_and_its_zero_line_under_it():
    """Over a few decades its axis read "1, 5, 2, 10⁻¹, 5, 2, ..." (a browser walk); its
    "0" line's label sat over the lowest layers' lines (tour step 3 points to that line)."""
    ratios = np.geomspace(1e-4, 1e-1, 21)
    layers = pd.DataFrame(
        {"step": np.repeat([0, 1], 21), "layer": list(range(1, 22)) * 2, "update_ratio": [*ratios] * 2}
    )
    assert fig.update_ratios(layers).layout.yaxis.dtick == 1
    layers.loc[layers["layer"] <= 3, "update_ratio"] = 0.0  # weights left as they were: drawn on a floor line
    figure = fig.update_ratios(layers)
    zero = next(a for a in figure.layout.annotations if a.text.startswith("0: too small"))
    low, _ = figure.layout.yaxis.range
    assert zero.yanchor == "top" and low < zero.y - 0.1 * (figure.layout.yaxis.range[1] - low)  # room kept under it


def test_update_lines_too_many_for_a_legend_are_keyed_by_a_colour_bar():
    """21 lines (depth 20 and the output layer) and no legend: which colour is which layer
    was nowhere on the chart (a browser walk)."""
    layers = pd.DataFrame({"step": np.repeat([0, 1], 21), "layer": list(range(1, 22)) * 2, "update_ratio": 1e-3})
    figure = fig.update_ratios(layers)
    assert figure.layout.showlegend is False
    key = next(t for t in figure.data if t.marker.showscale)
    lines = [t for t in figure.data if t.mode.startswith("lines")]
    assert (
        len(lines) == 21
        and key.marker.colorbar.tickvals == (1, 11, 21)
        and (key.marker.cmin, key.marker.cmax) == (1, 21)
    )
    assert key.marker.colorscale[0][1] == lines[0].line.color and key.marker.colorscale[-1][1] == lines[-1].line.color
    few = fig.update_ratios(layers[layers["layer"] <= 12])  # a legend lists them: no key
    assert few.layout.showlegend and not any(t.marker.showscale for t in few.data if t.marker)


def test_a_loss_that_explodes_leaves_the_chart_at_its_top_and_the_other_run_stays_readable():
    """An exploding RNN's loss (to 2.5e34) beside its clipped partner's (about 0.2) pressed the
    partner's whole curve flat onto the "learning nothing" line: the axis now ends two decades
    above the runs that stay on it, and says where the other went."""
    from vangrad_core.figures.compare import compare_curves

    steps = np.arange(30)
    exploding = pd.DataFrame({"step": steps, "loss": np.r_[0.2 * 10.0 ** np.arange(27), [np.nan] * 3]})
    clipped = pd.DataFrame({"step": steps, "loss": np.linspace(1.0, 0.2, 30)})
    figure = compare_curves({"A: unclipped": exploding, "B: clipped": clipped}, 1, 0.167)
    assert figure.layout.yaxis.type == "log" and figure.layout.yaxis.range[1] == pytest.approx(2.0)  # 100 × 1.0
    assert "A: unclipped rises to 2e25, off the chart" in [a.text for a in figure.layout.annotations]
    # runs within a millionfold of each other keep the axis Plotly fits to them
    figure = compare_curves({"A": clipped, "B": clipped.assign(loss=clipped["loss"] * 1e3)}, 1, 0.167)
    assert figure.layout.yaxis.range is None and not any("off the chart" in a.text for a in figure.layout.annotations)


def test_learning_nothing_is_named_in_the_legend_where_no_run_covers_its_name():
    """Through time's loss charts: runs that learn nothing run along the "learning
    nothing" line, and through a label put on it (a browser walk): the line is named in
    the legend instead, a line across the whole chart however many steps the runs took
    (one, or none for a run that diverged on its first)."""
    steps = np.arange(600)
    stuck = pd.DataFrame({"step": steps, "loss": 0.17 + 0.5 * np.exp(-steps / 30)})
    for runs in (
        {"A": stuck, "B": stuck.assign(loss=0.01)},
        {"A": stuck.iloc[:1], "B": stuck.iloc[:1]},
        {"A": stuck, "B": stuck.iloc[:0]},
    ):
        figure = fig.compare_curves(runs, nothing_learned=0.167)
        (line,) = figure.layout.shapes
        assert (line.y0, line.y1, line.xref, line.x0, line.x1, line.line.dash) == (
            0.167,
            0.167,
            "x domain",
            0,
            1,
            "dot",
        )
        legend = [t for t in figure.data if t.name == "learning nothing: 0.167"]
        assert len(legend) == 1 and legend[0].line.dash == "dot" and not figure.layout.annotations
