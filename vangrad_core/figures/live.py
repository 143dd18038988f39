"""The playground's charts: what a run does, layer by layer, redrawn live."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..writing import number, percent
from .style import (
    HEATMAP_SCALE,
    LABEL_BACKGROUND,
    LAYER_AXIS_TO_OUTPUT,
    NOW_COLOR,
    SMALLEST_NORMAL,
    THEN_COLOR,
    TINY,
    batches_words,
    counted,
    darkest_words,
    decade_colorbar,
    decade_ticks,
    drawable,
    empty,
    layer_axis,
    layer_colors,
    layout,
    legend_entry,
    level_line,
    line_mode,
    new_figure,
    note_in_middle,
    plotted,
    step_axis,
    step_label,
    steps_of,
    thin_steps,
    tick,
    value_axis,
    zero_floor,
    zero_markers,
)

UPDATE_GUIDE = 1e-3  # Karpathy's rule of thumb for a healthy update:weight ratio
MAX_LEGEND_LAYERS = 12  # lines a layer listed in a legend up to this many; beyond, a colour key

GRADIENT_MEASURES = {  # column -> (what it is, axis title)
    "delta_rms": ("RMS of dL/dz", "RMS of dL/dz"),
    "weight_grad_norm": ("weights' gradient |dL/dW|", "|dL/dW|, Frobenius norm"),
}


def gradient_profile(
    layers: pd.DataFrame,
    activation: str,
    measure: str = "delta_rms",
    predicted: pd.DataFrame | None = None,
    slope_guide: float | None = None,
) -> go.Figure:
    """A gradient measure per layer (log axis), now and faded at the first step; with
    `slope_guide` (a factor a layer: the activation's steepest slope, for a network where
    it bounds the gradient), how small that factor a layer would make it, counted back
    from the top. With
    `predicted` (`theory.predict_layers`) and `delta_rms`, the theory's profile at
    initialization, pinned to the measured output layer at the first step."""
    what, axis_title = GRADIENT_MEASURES[measure]
    title = f"Gradient size per layer: {what}"
    if layers.empty:
        return empty(title, "Press Train to see the gradients")
    first_step, last_step = steps_of(layers)
    first = layers[layers["step"] == first_step]
    last = layers[layers["step"] == last_step]
    n = len(last)
    colors = layer_colors(n)
    traces = []
    then_drawn = last_step != first_step  # (after one step, "then" is "now": drawn once)
    if then_drawn:
        traces.append(
            {
                "type": "scatter",
                "x": first["layer"].to_numpy(),
                "y": drawable(first[measure]).to_numpy(),
                "name": step_label(first_step),
                "legendrank": 0,  # the legend's order: then, theory, guide, now (the theory is drawn last)
                "mode": "lines+markers",
                "line": {"color": THEN_COLOR, "width": 3, "dash": "dot"},
                "marker": {"size": 7},
            }
        )
    theory = []  # drawn last, over the measured lines it agrees with (the caption points to it)
    if predicted is not None and measure == "delta_rms" and first_step == 0:
        output_delta = first[measure].iloc[-1]
        theory.append(
            {
                "type": "scatter",
                "x": predicted["layer"].to_numpy(),
                "y": drawable(predicted["delta_rms_relative"] * output_delta).to_numpy(),
                "name": "theory at initialization (mean field)",
                "legendrank": 1,
                "mode": "lines",
                "line": {"color": "#2ca02c", "width": 4, "dash": "dash"},
                "hovertemplate": "layer %{x}: predicted %{y:.3g}<extra></extra>",
            }
        )
    if slope_guide is not None:
        top = last[last["layer"] == n - 1][measure].iloc[0]
        hidden = np.arange(1, n)
        traces.append(
            {
                "type": "scatter",
                "x": hidden,
                "y": drawable(pd.Series(top * slope_guide ** (n - 1 - hidden))).to_numpy(),  # (as the lines it guides)
                "name": f"×{slope_guide:g} a layer ({activation}'s steepest slope; weights left out)",
                "legendrank": 2,
                "mode": "lines",
                "line": {"color": "#d62728", "width": 2, "dash": "dash"},
            }
        )
    traces.append(
        {
            "type": "scatter",
            "x": last["layer"].to_numpy(),
            "y": drawable(last[measure]).to_numpy(),
            "name": step_label(last_step, now=True),
            "legendrank": 3,
            "mode": "lines+markers",
            "line": {"color": NOW_COLOR, "width": 3},
            "marker": {"size": 11, "color": colors, "line": {"width": 1, "color": "white"}},
            "hovertemplate": "layer %{x}<br>%{y:.3g}<extra></extra>",
        }
    )
    fig = new_figure(traces + theory)
    floor = zero_floor(*(trace.y for trace in fig.data))
    if then_drawn:
        zero_markers(fig, first["layer"], first[measure], floor, f"step {first_step + 1}", THEN_COLOR)
    zero_markers(fig, last["layer"], last[measure], floor, f"step {last_step + 1}", NOW_COLOR)
    return layout(
        fig,
        title,
        xaxis=layer_axis(LAYER_AXIS_TO_OUTPUT, n),
        yaxis=value_axis(axis_title, plotted(fig), log=True),
    )


def signal_variance(layers: pd.DataFrame, step: int) -> pd.Series:
    """Each hidden layer's pre-activation variance at `step`, by layer: the forward
    signal's dots, and what its caption reads."""
    rows = layers[(layers["step"] == step) & layers["act_input_std"].notna()]
    return rows.set_index("layer")["act_input_std"] ** 2


def forward_variance(
    layers: pd.DataFrame, predicted: pd.DataFrame | None, rule: tuple[str, float] | None = None
) -> go.Figure:
    """Variance of what each layer's nonlinearity receives: measured at the first and
    latest steps, the mean-field prediction (`theory.predict_layers`), and Glorot's or
    He's rule where it applies (`theory.variance_rule`: its name and its factor per
    layer); no theory when `predicted` is None."""
    title = "Forward signal: variance of each layer's pre-activations"
    if layers.empty:
        return empty(title, "Press Train to measure the forward signal")
    first_step, last_step = steps_of(layers)
    hidden = layers[layers["act_input_std"].notna()]
    if hidden.empty:  # (an overflowed first step measured nothing finite)
        return empty(title, "Nothing finite to draw: the signal overflowed")
    traces = []
    if predicted is not None:
        theory = predicted[predicted["layer"] <= hidden["layer"].max()]

        def theory_line(color: str, width: int, dash: str) -> dict:
            """A theory's line; over one layer, which draws no line, a short bar at its value."""
            if len(theory) > 1:
                return {"mode": "lines", "line": {"color": color, "width": width, "dash": dash}}
            return {
                "mode": "markers",
                "marker": {"symbol": "line-ew", "size": 40, "line": {"color": color, "width": width}},
            }

        traces.append(
            {
                "type": "scatter",
                "x": theory["layer"].to_numpy(),
                "y": theory["preact_var"].clip(lower=TINY).to_numpy(),
                "name": "theory at initialization (mean field)",
                **theory_line("#2ca02c", 4, "dash"),
                "hovertemplate": "layer %{x}: predicted %{y:.3g}<extra></extra>",
            }
        )
        if rule is not None:
            name, factor = rule
            traces.append(  # the rule from the same first layer, biases left out as the papers do
                {
                    "type": "scatter",
                    "x": theory["layer"].to_numpy(),
                    # (ends where it underflows float32: held at 1e-45 it ran flat along the floor)
                    "y": drawable(theory["preact_var"].iloc[0] * factor ** (theory["layer"] - 1)).to_numpy(),
                    "name": name,
                    **theory_line("#9467bd", 2, "dot"),
                }
            )
    # the theory is for the initial weights: step 1's measurements are what it predicts
    latest = [(last_step, True)] if last_step != first_step else []
    for step, now in [(first_step, False), *latest]:
        variance = signal_variance(layers, step)
        traces.append(
            {
                "type": "scatter",
                "x": variance.index.to_numpy(),
                "y": variance.clip(lower=TINY).to_numpy(),
                "name": f"measured, {step_label(step, now)}",
                "mode": "markers",
                "marker": {"color": layer_colors(len(variance)) if now else THEN_COLOR, "size": 11 if now else 9},
                "hovertemplate": "layer %{x}: measured %{y:.3g}<extra></extra>",
            }
        )
    fig = new_figure(traces)
    # (the title says of what) linear when every point lies within a decade: layer norm's variances near 1
    yaxis = value_axis("variance", np.concatenate([np.asarray(trace["y"], float) for trace in traces]))
    return layout(fig, title, xaxis=layer_axis("hidden layer, 1 = input side", int(hidden["layer"].max())), yaxis=yaxis)


PHASE_SCALE = "RdBu_r"  # blue: ordered (gradients vanish), white: critical, red: chaotic (explode)


def phase_diagram(phases: pd.DataFrame, activation: str, point: tuple[float, float] | None = None) -> go.Figure:
    """χ₁ over weight scale σ_w² × bias scale σ_b² (`theory.phase_diagram`), the
    critical line χ₁ = 1, and the current network's point."""
    grid = phases.pivot(index="sigma_b2", columns="sigma_w2", values="chi1")
    log_chi = np.log10(grid.clip(lower=1e-3).to_numpy())
    columns = grid.columns.to_numpy()  # the cells' centres (theory.phase_diagram): they tile [0, x_edge]
    x_edge = float(columns[-1] + (columns[-1] - columns[-2]) / 2) if len(columns) > 1 else float(columns[-1])
    ticks = [0.1, 0.3, 1, 3, 10]
    fig = new_figure(
        [
            go.Heatmap(
                x=grid.columns,
                y=grid.index,
                z=log_chi,
                colorscale=PHASE_SCALE,
                zmid=0,
                zmin=-1,
                zmax=1,
                colorbar={
                    "title": {"text": "χ₁", "side": "right"},
                    "tickvals": np.log10(ticks).tolist(),
                    "ticktext": [str(t) for t in ticks],
                },
                customdata=grid.to_numpy(),
                hovertemplate="σ_w² = %{x:.2f}, σ_b² = %{y:.2f}<br>χ₁ = %{customdata:.3f}<extra></extra>",
            )
        ]
    )
    fig.add_trace(
        go.Contour(
            x=grid.columns,
            y=grid.index,
            z=log_chi,
            contours={"start": 0, "end": 0, "size": 1, "coloring": "none"},
            line={"color": "black", "width": 3},
            showscale=False,
            name="critical: χ₁ = 1",
            showlegend=True,
            hoverinfo="skip",
        )
    )
    star = None
    if point is not None:
        # off the chart (huge weights): pinned to its edge, its value in the label (no "(...)": presenting drops it)
        y_max = float(grid.index.max())
        inside = point[0] <= x_edge and point[1] <= y_max
        star = (min(point[0], x_edge), min(point[1], y_max))
        fig.add_trace(
            go.Scatter(
                x=[star[0]],
                y=[star[1]],
                name="this network" if inside else f"this network, off the chart: σ_w² = {number(point[0], 3)}",
                mode="markers",
                marker={"symbol": "star", "size": 22, "color": "#ffd700", "line": {"width": 2, "color": "black"}},
                cliponaxis=False,  # whole, on the axis where σ_b² = 0
                hovertemplate="this network: σ_w² = %{x:.3g}, σ_b² = %{y:.3g}<extra></extra>",
            )
        )
    for text, x, y, anchor, vertical in phase_labels(grid, log_chi, star):
        fig.add_annotation(
            text=text,
            x=x,
            y=y,
            showarrow=False,
            xanchor=anchor,
            yanchor=vertical,
            bgcolor=LABEL_BACKGROUND,
            font={"color": "black"},
        )
    return layout(
        fig,
        f"Order and chaos for {activation}: χ₁ by weight and bias scale",
        xaxis={"title": "σ_w² = n · Var(W)  (weight scale)", "range": [0, x_edge]},
        yaxis={"title": "σ_b² = Var(b)  (bias scale)", "range": [0, float(grid.index.max())]},
    )


def consecutive(columns: np.ndarray) -> list[np.ndarray]:
    """Sorted column indices split into their runs of consecutive ones."""
    return np.split(columns, np.flatnonzero(np.diff(columns) > 1) + 1)


def phase_labels(
    grid: pd.DataFrame, log_chi: np.ndarray, star: tuple[float, float] | None
) -> list[tuple[str, float, float, str, str]]:
    """Where to write "ordered" and "chaotic" (text, x, y, xanchor, yanchor), on two
    short lines: on the longest stretch of that phase along any row (of the longest,
    the row farthest from this network's star), away from the top and bottom edges,
    centred on it, or from the chart's edge where it reaches one, so that the words
    start in their phase, not across the critical line (a phase the chart does not show
    gets no label: sigmoid has no chaotic region; tanh's chaotic wedge narrows above
    the row its words stand on). The words hang below a row in the chart's upper half
    and stand on one in its lower half, inside the chart: centred on a row near the
    top, two lines at 18 px (a third of a presented chart's plot) were cut at its edge."""
    x, y = np.meshgrid(grid.columns.to_numpy(float), grid.index.to_numpy(float))
    up = y / y.max()
    star_up = star[1] / y.max() if star else -1.0
    labels = []
    phases = (("ordered:<br>gradients vanish", log_chi < -0.1), ("chaotic:<br>gradients explode", log_chi > 0.1))
    last = x.shape[1] - 1
    for text, cells in phases:
        cells = cells & (up > 0.08) & (up < 0.92)
        stretches = [  # (its length, how far from the star, row, its columns)
            (len(stretch), abs(up[row, 0] - star_up), row, stretch)
            for row in np.flatnonzero(cells.any(axis=1))
            for stretch in consecutive(np.flatnonzero(cells[row]))
        ]
        if stretches:
            _, _, row, stretch = max(stretches, key=lambda s: s[:2])
            if stretch[0] == 0:  # from the chart's edge: centred, half the words would be off it
                column, anchor = stretch[0], "left"
            elif stretch[-1] == last:
                column, anchor = stretch[-1], "right"
            else:
                column, anchor = stretch[len(stretch) // 2], "center"
            vertical = "top" if up[row, column] > 0.5 else "bottom"
            labels.append((text, float(x[row, column]), float(y[row, column]), anchor, vertical))
    return labels


# a colour scale spans at least this many decades: units that all got the same gradient
# drew a colour bar ticked -2.105133451, -2.1051334515
MIN_COLOUR_DECADES = 1.0


def log_span(frames: list[pd.DataFrame], value: str) -> tuple[float, float]:
    """The colour scale of `value` over `frames` (several runs: one scale for heatmaps
    drawn side by side), `values_span` of them."""
    return values_span(np.concatenate([frame[value].to_numpy(dtype=float) for frame in frames]) if frames else [])


def values_span(values: np.ndarray) -> tuple[float, float]:
    """log10 of the smallest and largest finite non-zero values, widened about their
    middle to at least MIN_COLOUR_DECADES. (-1, 0) if there is none."""
    values = np.asarray(values, dtype=float)
    shown = values[(values >= SMALLEST_NORMAL) & np.isfinite(values)]  # (NaN compares False)
    if not len(shown):
        return -1.0, 0.0
    low, high = float(np.log10(shown.min())), float(np.log10(shown.max()))
    widen = max(0.0, MIN_COLOUR_DECADES - (high - low)) / 2
    return low - widen, high + widen


def gradient_heatmap(
    layers: pd.DataFrame,
    index: str = "layer",
    value: str = "delta_rms",
    what: str = "RMS of dL/dz",
    index_title: str = "layer, 1 = input side",
    span: tuple[float, float] | None = None,
) -> go.Figure:
    """log10 of a gradient (by default the RMS of dL/dz), `index` (layer, or time step
    t) by training step: vanishing is a dark band at the input (or at t = 1). The
    colours span the non-zero values (or `span`, in log10: `log_span` of the runs drawn
    side by side, so that one colour means one size in both); exact zeros take the
    darkest colour."""
    title = f"Gradient over training: {what}"
    if layers.empty:
        return empty(title, "Press Train to fill the map")
    grid = thin_steps(layers).pivot(index=index, columns="step", values=value)
    steps = counted(grid.columns)
    values = grid.to_numpy()
    z = np.log10(np.where(values >= SMALLEST_NORMAL, values, np.nan))
    low, high = span if span is not None else log_span([layers], value)
    zero = values < SMALLEST_NORMAL  # NaN compares False: a missing value stays blank
    fig = new_figure(
        [
            go.Heatmap(
                z=np.where(zero, low, z),
                x=steps,
                y=grid.index,
                colorscale=HEATMAP_SCALE,
                zmin=low,
                zmax=max(high, low + 1e-9),
                # (an underflow's hover gives its number: a headline may print it)
                customdata=np.where(values == 0, "0 (no gradient)", np.char.mod("%.2g", values)),
                colorbar=decade_colorbar(low, high),
                hovertemplate=f"step %{{x}}, {index} %{{y}}<br>{what} = %{{customdata}}<extra></extra>",
            )
        ]
    )
    yaxis = {"title": index_title, "dtick": tick(len(grid))}
    return layout(fig, title + darkest_words(values[zero]), xaxis=step_axis(steps), yaxis=yaxis)


def training_curves(
    metrics: pd.DataFrame, loss_name: str = "cross-entropy", accuracy_name: str = "accuracy", window: int = 1
) -> go.Figure:
    """Loss (`loss_name`) and accuracy (`accuracy_name`: the adding task's is the share of
    sums near enough) over steps, train (each point the mean of the last `window`
    batches) and test."""
    title = f"Loss and {accuracy_name}"
    if metrics.empty:
        return empty(title, "Press Train to see learning curves")
    smooth = metrics[["loss", "train_accuracy"]].rolling(window, min_periods=1).mean()
    window = min(window, len(metrics))  # (a 3-step run's points are means of 3 batches, not "of 20")
    test = metrics.dropna(subset=["test_loss"])
    kept = thin_steps(metrics, 300).index
    metrics, smooth = metrics.loc[kept], smooth.loc[kept]
    losses = metrics["loss"][np.isfinite(metrics["loss"])]
    # the test's losses too: after one step of Exploding gradients the test's 8000 put the batch's 6.3 on 0
    largest = pd.concat([losses, test["test_loss"][np.isfinite(test["test_loss"])]]).max()
    blew_up = len(losses) > 0 and largest > 1e3 * max(losses.iloc[0], 1e-12)
    series = (  # name, steps, frame, mode, colour, column per panel, when (a test comes after its step's update)
        (
            batches_words("train", window),
            counted(metrics["step"]),
            smooth,
            line_mode(len(metrics)),  # (a run that diverged early: its few steps as points)
            "#1f77b4",
            ("loss", "train_accuracy"),
            "step",
        ),
        (  # (its point at step s: the weights after s updates, the batch's before the s-th)
            "test (after the step's update)",
            counted(test["step"]),
            test,
            "lines+markers",
            "#ff7f0e",
            ("test_loss", "test_accuracy"),
            "after step",
        ),
    )
    fig = new_figure(
        {
            "type": "scatter",
            "x": steps.to_numpy(),
            "y": frame[columns[panel]].to_numpy(),
            "xaxis": f"x{panel + 1}",
            "yaxis": f"y{panel + 1}",
            "name": name,
            "mode": mode,
            "line": {"color": color, "width": 3},
            "showlegend": panel == 0,
            "legendgroup": name,
            "hovertemplate": f"{when} %{{x}}: %{{y:{fmt}}}<extra>{name}</extra>",
        }
        # two panels: axes x, y and x2, y2 (".3g": a loss of 3.7e-5 is not "0.000")
        for panel, fmt in ((0, ".3g"), (1, ".1%"))
        for name, steps, frame, mode, color, columns, when in series
    )
    # over each panel's middle (Plotly's "auto" anchored the loss's title left, into the other)
    panel_titles = [
        {
            "text": text,
            "x": x,
            "y": 1.0,
            "xref": "paper",
            "yref": "paper",
            "xanchor": "center",
            "yanchor": "bottom",
            "showarrow": False,
        }
        for text, x in ((f"Loss ({loss_name})", 0.225), (accuracy_name.capitalize(), 0.775))
    ]
    steps = counted(metrics["step"])
    return layout(
        fig,
        title,
        xaxis=step_axis(steps, domain=[0, 0.45]),
        xaxis2=step_axis(steps, domain=[0.55, 1], anchor="y2"),
        # a loss that grew by orders of magnitude (exploding gradients) on a log axis
        # (at most 4 ticks: presenting, 10^20 to 1 every 5 decades touched each other in its short panel)
        yaxis={"type": "log", "exponentformat": "power", "nticks": 4} if blew_up else {"rangemode": "tozero"},
        yaxis2={"range": [0, 1.02], "tickformat": ".0%", "anchor": "x2"},
        annotations=panel_titles,
        showlegend=True,
        margin={"l": 70, "r": 20, "t": 75, "b": 10},  # the panels' titles under the chart's own
    )


INPUT_BINS = 60  # histogram bins over the derivative curve's range


def _layer_inputs(inputs: pd.DataFrame, layer: int) -> np.ndarray:
    values = inputs.loc[inputs["layer"] == layer, "value"].to_numpy()
    return values[np.isfinite(values)]


def largest_input_share(curve: pd.DataFrame, inputs: pd.DataFrame, layer: int) -> float:
    """The tallest bar `derivative_with_inputs` draws for these inputs over `curve`: the
    largest share of the layer's inputs in one of its bins (0 if it has none)."""
    values = _layer_inputs(inputs, layer)
    if not len(values):
        return 0.0
    counts, _ = np.histogram(values, bins=INPUT_BINS, range=(float(curve["x"].iloc[0]), float(curve["x"].iloc[-1])))
    return float(counts.max() / len(values))


def derivative_with_inputs(
    curve: pd.DataFrame, inputs: pd.DataFrame, layer: int, activation: str, share_top: float | None = None
) -> go.Figure:
    """The activation's derivative (`activations.curves`, over the inputs' range), and a
    histogram of what one layer's nonlinearity actually receives: inputs where the
    derivative is tiny pass no gradient back. The bins divide the curve's range into
    INPUT_BINS: two charts drawn over one curve share their bins, and a bar's height
    means the same share in both; given the larger of their `largest_input_share` as
    `share_top`, they share the share axis too, so that equal heights look equal."""
    title = f"{activation}'(x) and the inputs layer {layer} receives"
    values = _layer_inputs(inputs, layer)
    cutoff = curve.attrs["cutoff"]
    start, end = float(curve["x"].iloc[0]), float(curve["x"].iloc[-1])
    # The histogram on a second y axis over the first, as make_subplots(secondary_y) lays
    # it out, built directly (make_subplots and add_hline took 10 of this chart's 16 ms)
    histogram = {
        "type": "histogram",
        "x": values,
        "xbins": {"start": start, "end": end, "size": (end - start) / INPUT_BINS},
        "name": f"inputs to layer {layer}'s {activation}",
        "marker": {"color": "rgba(31,119,180,0.45)"},
        "histnorm": "probability",
        "xaxis": "x",
        "yaxis": "y2",
    }
    slope = {
        "type": "scatter",
        "x": curve["x"].to_numpy(),
        "y": curve["slope"].to_numpy(),
        "name": f"{activation}'(x)",
        "mode": "lines",
        "line": {"color": "#d62728", "width": 4},
        "xaxis": "x",
        "yaxis": "y",
    }
    # the threshold in the legend, not written on the chart, where its words hid the bars under them
    threshold = {
        "type": "scatter",
        "x": [start, end],
        "y": [cutoff, cutoff],
        "name": f"{curve.attrs['flat_word'] or 'flat'}: slope below {cutoff:.3g}",
        "mode": "lines",
        "line": {"dash": "dot", "color": "gray", "width": 2},
        "hoverinfo": "skip",
        "xaxis": "x",
        "yaxis": "y",
    }
    # each its own legend group: Plotly.js then packs the entries by their own widths
    # (ungrouped, once they wrap, each takes the widest one's: three rows, the plot a strip)
    traces = [histogram, slope, threshold] if len(values) else [slope, threshold]
    fig = new_figure([trace | {"legendgroup": trace["name"]} for trace in traces])
    return layout(
        fig,
        title,
        xaxis={
            "anchor": "y",
            "domain": [0.0, 0.94],
            "title": "input to the nonlinearity, x",
            "range": [start, end],
            "exponentformat": "power",
        },
        # (the slope's name alone: "derivative sigmoid'(x)" ran past a presented plot into the chart's title)
        yaxis={"anchor": "x", "domain": [0.0, 1.0], "title": f"{activation}'(x)", "rangemode": "tozero"},
        yaxis2={
            "anchor": "x",
            "overlaying": "y",
            "side": "right",
            "title": "share of inputs",
            "showgrid": False,
            "tickformat": ".0%",
            # round shares of its own (the page's theme synced them to the left axis's grid,
            # rounded to 2, 3, 5, 7, 9, 10%: even steps labelled unevenly)
            "tickmode": "auto",
            **({"range": [0, 1.05 * share_top]} if share_top else {}),
        },
    )


def saturation_by_layer(
    layers: pd.DataFrame, flat_word: str = "saturated", dead_cause: str = "no gradient for the whole batch"
) -> go.Figure:
    """Inputs on the activation's flat part (`flat_word`: "saturated" for sigmoid's
    tails, "inactive" for ReLU's off side) and dead units per hidden layer, at the
    latest step; the legend says what makes this activation's units dead."""
    title = f"{flat_word.capitalize() or 'Flat'} inputs and dead units per layer"
    if layers.empty:
        return empty(title, "Press Train to measure")
    last = layers[(layers["step"] == layers["step"].iloc[-1]) & layers["saturation"].notna()]
    fig = new_figure()
    fig.add_trace(
        go.Bar(
            x=last["layer"],
            y=last["saturation"],
            name=f"{flat_word or 'flat'} inputs (slope under 10% of its peak)",
            marker={"color": layer_colors(len(last) + 1)[:-1]},
            hovertemplate=f"layer %{{x}}: %{{y:.1%}} {flat_word or 'flat'}<extra></extra>",
        )
    )
    dead = last["dead_fraction"]
    fig.add_trace(
        go.Scatter(  # crosses only where units are dead: a row of red crosses at 0% reads as an alarm
            x=last["layer"],
            y=dead.where(dead > 0),
            name=("dead units" if (dead > 0).any() else "dead units, none now") + f": {dead_cause}",
            mode="markers",
            marker={"symbol": "x", "size": 14, "color": "#d62728"},
            hovertemplate="layer %{x}: %{y:.1%} dead<extra></extra>",
        )
    )
    if not (last["saturation"] > 0).any() and not (dead > 0).any():  # (an empty chart looks broken: say it)
        note_in_middle(fig, f"0% in every layer: no {flat_word or 'flat'} input, no dead unit")
    return layout(
        fig,
        title,
        # (with every bar at 0, Plotly also padded the axis out to 0 and past the last layer)
        xaxis=layer_axis("hidden layer, 1 = input side", int(last["layer"].max())),
        yaxis={"title": "share", "range": [0, 1.05], "tickformat": ".0%"},
    )


FLOOR_LABEL_ROOM = 0.14  # room under the update chart's "0" line for its label: this share of the span above it


def update_ratios(layers: pd.DataFrame) -> go.Figure:
    """Update size / weight size per layer over time (log): lower layers barely move.
    A step that left a layer's weights as they were (its update under half a float32
    step of them) is a 0, drawn on the axis floor under a line that says so."""
    title = "Update size per layer: std(ΔW) / std(W)"
    if layers.empty:
        return empty(title, "Press Train to see the updates")
    layers = thin_steps(layers)
    layer_ids = sorted(layers["layer"].unique())
    colors = layer_colors(len(layer_ids))
    unchanged = layers["update_ratio"] < SMALLEST_NORMAL  # (NaN, a step not taken, is neither)
    floor = min(zero_floor(layers["update_ratio"]), UPDATE_GUIDE / 10)  # (nothing drawable: not on the guide)
    traces = []
    for color, (layer, rows) in zip(colors, layers.groupby("layer"), strict=True):
        ratio = rows["update_ratio"]
        zero = unchanged[rows.index].to_numpy()
        traces.append(
            {
                "type": "scatter",
                "x": counted(rows["step"]).to_numpy(),
                "y": ratio.where(~zero, floor).to_numpy(),
                "text": np.where(zero, "0 (not changed)", ratio.map(number)),
                "name": f"layer {layer}",
                "mode": line_mode(len(rows)),
                "line": {"color": color, "width": 2},
                "marker": {"color": color, "size": 5},
                "hovertemplate": f"layer {layer}, step %{{x}}: %{{text}}<extra></extra>",
            }
        )
    shown_in_legend = len(layer_ids) <= MAX_LEGEND_LAYERS
    if not shown_in_legend:  # a line a layer, too many to list: their colours keyed by layer beside the plot
        traces.append(layer_color_key(layer_ids, colors))
    fig = new_figure(traces)
    guide = {"dash": "dash", "color": "gray", "width": 2}
    level_line(fig, UPDATE_GUIDE, "10⁻³: a healthy rate", guide, log_axis=True, above=False)
    if unchanged.any():  # labelled under its line, in room kept below it: above, it covered the lowest lines
        line = {"dash": "dot", "color": THEN_COLOR, "width": 1}
        level_line(fig, floor, "0: too small to change a float32 weight", line, log_axis=True, side="left", above=False)
    yaxis = {"title": "update : weight ratio (log scale)", "type": "log", "exponentformat": "power"}
    drawn = np.log10(layers["update_ratio"].where(~unchanged, floor).to_numpy(dtype=float))
    drawn = np.append(drawn[np.isfinite(drawn)], math.log10(UPDATE_GUIDE))  # the guide, which the caption names, on it
    # up to a whole decade, which a tick labels: a projector's 3-decade ticks left 0.1 unlabelled
    top = math.ceil(drawn.max() + 0.05)
    below = FLOOR_LABEL_ROOM if unchanged.any() else 0.05  # (of the axis's span)
    yaxis["range"] = [drawn.min() - below * (top - drawn.min()), top]
    yaxis |= decade_ticks(10.0 ** np.array(yaxis["range"]))
    return layout(fig, title, xaxis=step_axis(counted(layers["step"])), yaxis=yaxis, showlegend=shown_in_legend)


def layer_color_key(layer_ids: list[int], colors: list[str]) -> dict:
    """A colour bar that keys lines coloured by layer (`layer_colors`), drawn by a trace
    with no point of its own."""
    first, last = int(layer_ids[0]), int(layer_ids[-1])
    return {
        "type": "scatter",
        "x": [None],
        "y": [None],
        "mode": "markers",
        "showlegend": False,
        "hoverinfo": "skip",
        "marker": {
            "color": [first],
            "cmin": first,
            "cmax": last,
            "colorscale": [[i / (len(colors) - 1), color] for i, color in enumerate(colors)],
            "showscale": True,
            "colorbar": {"title": {"text": "layer"}, "tickvals": [first, (first + last) // 2, last], "len": 0.9},
        },
    }


def distance_from_init(layers: pd.DataFrame) -> go.Figure:
    """How far each layer's weights have moved from where they started (log, or linear
    when every layer moved and within a decade of the others); a layer that has not
    moved at all (its updates too small to change a float32 weight) as a "0" on the
    floor, not a missing bar."""
    title = "How far each layer has moved from its initial weights"
    if layers.empty:
        return empty(title, "Press Train to see the weights move")
    last = layers[layers["step"] == layers["step"].iloc[-1]]
    moved = last["distance_from_init"].where(last["distance_from_init"] > 0)
    fig = new_figure(
        [
            go.Bar(
                x=last["layer"],
                y=moved,
                marker={"color": layer_colors(len(last))},
                hovertemplate="layer %{x}: moved by %{y:.2g}× its initial size<extra></extra>",
                showlegend=False,
            )
        ]
    )
    # every layer at 0 (at step 1, measured before its update): on a linear axis, said in the chart, where a
    # log axis with nothing to span put the markers at 10⁻³ and read "every layer moved 0.1%"
    still = not moved.notna().any()
    zero_markers(
        fig,
        last["layer"],
        last["distance_from_init"],
        0.0 if still else zero_floor(moved),
        "not moved",
        THEN_COLOR,
        "not moved at all: its updates were too small to change a float32 weight",
    )
    if still:
        note_in_middle(fig, "0 in every layer: no weight has moved yet")
        yaxis = {"title": "|W − W₀| / |W₀|", "range": [-0.05, 1], "tickvals": [0]}
    else:  # (a "not moved" marker sits on a log axis's floor)
        yaxis = value_axis("|W − W₀| / |W₀|", moved, log=(last["distance_from_init"] == 0).any())
    return layout(fig, title, xaxis=layer_axis(LAYER_AXIS_TO_OUTPUT, int(last["layer"].max())), yaxis=yaxis)


def decision_boundary(grid: pd.DataFrame, points: pd.DataFrame) -> go.Figure:
    """The network's probability of class 1 over the plane, with the test points."""
    side = round(np.sqrt(len(grid)))
    fig = new_figure(
        [
            go.Heatmap(
                x=grid["x1"].to_numpy()[:side],
                y=grid["x2"].to_numpy()[::side],
                z=grid["p1"].to_numpy().reshape(side, side),
                colorscale="RdBu",
                zmin=0,
                zmax=1,
                opacity=0.75,
                zsmooth="best",  # a large network's grid has as few as 20 points a side (cost.grid_resolution)
                colorbar={"title": {"text": "P(class 1)", "side": "right"}},
                hoverinfo="skip",
            )
        ]
    )
    for label, color in ((0, "#b2182b"), (1, "#2166ac")):
        subset = points[points["label"] == label]
        fig.add_trace(
            go.Scatter(
                x=subset["x1"],
                y=subset["x2"],
                mode="markers",
                name=f"class {label}",
                marker={"color": color, "size": 6, "line": {"width": 0.5, "color": "white"}},
            )
        )
    return layout(
        fig,
        "Decision boundary (test points)",
        height=420,
        # square cells: the plot shrinks to fit its chart, and keeps right, beside its colour bar
        xaxis={"title": "x₁ (standardized)", "constrain": "domain", "constraintoward": "right"},
        yaxis={"title": "x₂ (standardized)", "scaleanchor": "x", "scaleratio": 1, "constrain": "domain"},
    )


MAX_UNITS_DRAWN = 16  # a wider layer is drawn as this many of its units, picked by rank
DEAD_COLOR = "#d62728"  # the dead units' crosses, as in the saturation chart


def network_picture(
    units: pd.DataFrame,
    n_inputs: int,
    flat_word: str = "saturated",
    dead_cause: str = "no gradient for the whole batch",
    max_units: int = MAX_UNITS_DRAWN,
) -> go.Figure:
    """The network as columns of units, input on the left, output on the right, each
    unit coloured by the RMS of dL/dz it gets over the batch (`Trainer.units`; log₁₀,
    the heatmap's colours, spanning the non-zero values; exact zeros take the darkest
    colour). Dead units carry a red cross; units `flat_word` for every example of the
    batch (yet not dead) are hollow. A layer wider than `max_units` is drawn as
    `max_units` of its units picked evenly by rank (largest gradient at the top): each
    stands for an equal share of the layer, so the crosses drawn show its dead share
    to within one in `max_units` (the exact shares are in the hover).

    Drawn every tick: its arrays are numeric (sent as compact binary), the hidden
    layers and the output layer one trace each, sharing one colour axis."""
    title = "The network, unit by unit: RMS of dL/dz"
    if units.empty:
        return empty(title, "Press Train to see the gradient reach each unit")
    layer = units["layer"].to_numpy()
    values = units["delta_rms"].to_numpy(float)
    dead = units["dead"].to_numpy(float) == 1
    every_flat = units["saturation"].to_numpy(float) == 1
    n_layers = int(layer.max())  # the output layer's number
    counts = np.bincount(layer, minlength=n_layers + 1)
    starts = np.concatenate([[0], np.cumsum(counts)])
    by_rank = np.lexsort((values, layer))  # by layer, then by gradient (NaN last)
    picked, ys = [], []
    for layer_number in range(1, n_layers + 1):
        count, start = counts[layer_number], starts[layer_number]
        if count <= max_units:  # every unit, in its own place
            rows = np.arange(start, start + count)
        else:  # the unit in the middle of each of max_units equal shares
            rows = by_rank[start + ((np.arange(max_units) + 0.5) * count / max_units).astype(int)][::-1]
        picked.append(rows)
        ys.append((len(rows) - 1) / 2 - np.arange(len(rows)))
    rows, y = np.concatenate(picked), np.concatenate(ys)
    x, drawn = layer[rows], values[rows]
    zero, missing = drawn < SMALLEST_NORMAL, np.isnan(drawn)  # (NaN compares False)
    low, high = values_span(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        color = np.where(zero, low, np.log10(drawn))
    share = np.maximum(counts, 1)
    layer_dead = np.bincount(layer, weights=dead, minlength=n_layers + 1) / share
    layer_flat = np.bincount(layer, weights=every_flat & ~dead, minlength=n_layers + 1) / share
    # per unit: its number, its gradient; its layer's size, dead share, flat share (for the hover)
    about = np.column_stack([units["unit"].to_numpy()[rows] + 1, drawn, counts[x], layer_dead[x], layer_flat[x]])
    hollow = every_flat[rows] & ~dead[rows]
    size = int(np.clip(360 / (n_layers + 1), 4, 10))  # apart at 16 units a column in 300 px, and at depth 100

    def units_trace(where: np.ndarray, hover: str) -> go.Scatter:
        # a symbol and an outline per unit only if some are hollow: the browser styles
        # each point on its own then (a fifth of the chart's redraw)
        some_hollow = hollow[where].any()
        return go.Scatter(
            x=x[where],
            y=y[where],
            mode="markers",
            marker={
                "size": size,
                "color": color[where],
                "coloraxis": "coloraxis",
                "symbol": np.where(hollow[where], 100, 0) if some_hollow else 0,  # 100: "circle-open"
                "line": {"width": np.where(hollow[where], 2, 0) if some_hollow else 0},
            },
            showlegend=False,
            customdata=about[where].astype(np.float32),
            hovertemplate=hover + "<extra></extra>",
        )

    hidden, output = ~missing & (x < n_layers), ~missing & (x == n_layers)
    unit = "unit %{customdata[0]} of %{customdata[2]}: RMS of dL/dz %{customdata[1]:.2g}"
    input_y = (min(n_inputs, max_units) - 1) / 2 - np.arange(min(n_inputs, max_units))
    traces = [  # built together: Figure.add_trace costs a few milliseconds a call
        go.Scatter(
            x=np.zeros(len(input_y)),
            y=input_y,
            mode="markers",
            marker={"size": size, "color": "#c8c8c8", "line": {"width": 1, "color": "#808080"}},
            showlegend=False,
            hovertemplate=f"input: {n_inputs} features<extra></extra>",
        ),
        units_trace(
            hidden,
            f"layer %{{x}}, {unit}<br>the layer: %{{customdata[3]:.0%}} dead, "
            f"%{{customdata[4]:.0%}} {flat_word or 'flat'} for every example",
        ),
        units_trace(output, f"output layer, {unit}"),
    ]
    marks = (
        (missing, "NaN (the numbers overflowed)", {"symbol": "circle-open", "color": "#7f7f7f", "size": size}),
        (
            dead[rows],
            f"dead ({dead_cause})",  # (presenting, "dead": the explanation in parentheses goes)
            {"symbol": "x", "color": DEAD_COLOR, "size": size + 2, "line": {"width": 1, "color": "white"}},
        ),
    )
    traces += [
        go.Scatter(x=x[where], y=y[where], mode="markers", marker=marker, name=name, hoverinfo="skip")
        for where, name, marker in marks
        if where.any()
    ]
    if hollow.any():  # its legend entry only: the hollow units are drawn above, in their colour
        traces.append(
            legend_entry(
                f"hollow: {flat_word or 'flat'} (for every example of the batch)",
                mode="markers",
                marker={"symbol": "circle-open", "color": "#7f7f7f", "size": 10, "line": {"width": 2}},
            )
        )
    # few labels, clear of "input" and "output": at 18 px in a half-width chart they stay level and apart
    # (every layer up to 7: from 8 in a presented chart, "input" and "1" ran into "input1")
    every = 1 if n_layers <= 7 else 2 if n_layers <= 14 else 5 if n_layers <= 40 else 10 if n_layers <= 70 else 20
    ticks = [t for t in range(0, n_layers, every) if every == 1 or n_layers - t > every / 2]
    labels = ["input", *map(str, ticks[1:])]
    wide = counts[1:n_layers].max() > max_units
    return layout(
        new_figure(traces),
        title + darkest_words(drawn[zero]),
        height=330,
        coloraxis={
            "colorscale": HEATMAP_SCALE,
            "cmin": low,
            "cmax": max(high, low + 1e-9),
            "colorbar": decade_colorbar(low, high, thickness=15),
        },
        xaxis={
            "title": "layer" + (f": {max_units} of its {counts[1]} units drawn, by rank" if wide else ""),
            "tickvals": [*ticks, n_layers],
            "ticktext": [*labels, "output"],
            "tickangle": 0,
            "range": [-0.8, n_layers + 0.8],
            "showgrid": False,
            "zeroline": False,
        },
        yaxis={"visible": False, "range": [-max_units / 2 - 0.3, max_units / 2 + 0.3]},
        legend={"orientation": "h", "yanchor": "top", "y": -0.25, "xanchor": "left", "x": 0},
        showlegend=True,
    )


# a deeper network shows this many of its layers, evenly spaced (always the first and the last,
# and those the caption names)
MAX_RIDGES = 20
RIDGE_BINS = 60
RIDGE_HEIGHT = 0.9  # a ridge's tallest bin, in ridge spacings: the ridges do not overlap
# the shared axis spans these quantiles of all the layers' outputs (beyond, counted in the edge bins): a
# trained He-ReLU run's 99.8th percentile was 22 where most outputs lay under 3
RIDGE_QUANTILES = (0.01, 0.99)
FLAT_FILL = "rgba(214,39,40,0.85)"
# Layers whose outputs lie at scales this many times apart go on a log axis: an exploding
# run's reach 10¹⁹ at its last layer (×144 from layer 1 to 20 already at step 1), and on a
# linear axis every other layer sat in the first bin. (The lecture's other runs: ×1-31.)
LOG_RIDGES_SPAN = 100
LOG_RIDGES_FROM = 100  # ... and reach this far (the axis' first labelled power: 10²)
LOG_RIDGES_TICKS = 8  # at most this many powers of ten labelled, both sides of 0 together


def ridges_height(n_ridges: int) -> int:
    """The ridgeline's height for `n_ridges` ridges: room for each one's label."""
    return max(430, 150 + 24 * n_ridges)


def _spaced_with(layer_ids: np.ndarray, n: int, named: list[int]) -> np.ndarray:
    """n of `layer_ids`, evenly spaced from the first to the last, each of `named` in
    place of the nearest pick between them (the caption named layer 21, the most
    saturated, beside a chart that showed 19 and 22)."""
    picked = layer_ids[np.unique(np.linspace(0, len(layer_ids) - 1, n).round().astype(int))]
    for layer in named:
        if layer in picked or layer not in layer_ids:
            continue
        inner = np.flatnonzero(~np.isin(picked, [picked[0], picked[-1], *named]))
        if len(inner):
            picked[inner[np.abs(picked[inner] - layer).argmin()]] = layer
    return np.sort(picked)


def spans_decades(values: np.ndarray, layers: np.ndarray) -> bool:
    """Whether the layers' outputs lie at scales more than LOG_RIDGES_SPAN apart (each
    layer's 99th percentile of |output|) and reach LOG_RIDGES_FROM: below it `signed_log`
    is nearly linear, and a vanishing run's outputs (all under 1) got a "log scale" axis
    labelled "0" alone."""
    sizes = pd.Series(np.abs(values)).where(values != 0)
    tops = sizes.groupby(layers).quantile(0.99).dropna()
    return bool(len(tops) and tops.max() >= LOG_RIDGES_FROM and tops.max() > LOG_RIDGES_SPAN * tops.min())


def signed_log(values: np.ndarray | float) -> np.ndarray:
    """sign(v) · log10(1 + |v|): a log axis that keeps 0 and the sign (10ᵏ at about k)."""
    return np.sign(values) * np.log10(1 + np.abs(values))


def unsigned_log(positions: np.ndarray) -> np.ndarray:
    """The output at each position of a `signed_log` axis."""
    return np.sign(positions) * (10 ** np.abs(positions) - 1)


def log_ticks(low: float, high: float) -> dict:
    """A `signed_log` axis' ticks: 0 and the powers of ten between `low` and `high`, at
    most LOG_RIDGES_TICKS of them."""
    below, above = int(max(-low, 0)), int(max(high, 0))  # the powers of ten each side reaches
    every = max(1, math.ceil((below + above) / LOG_RIDGES_TICKS))
    values = [-(10.0**k) for k in reversed(range(every, below + 1, every))] + [0.0]
    values += [10.0**k for k in range(every, above + 1, every)]
    values = [v for v in values if low <= signed_log(v) <= high]
    names = {0.0: "0"} | {v: f"{'−' if v < 0 else ''}10<sup>{round(math.log10(abs(v)))}</sup>" for v in values if v}
    return {"tickvals": [float(signed_log(v)) for v in values], "ticktext": [names[v] for v in values]}


def activation_ridges(
    outputs: pd.DataFrame,
    shares: pd.Series,
    activation: str,
    flat_word: str = "saturated",
    flat_bands: tuple[tuple[float, float], ...] = (),
    max_ridges: int = MAX_RIDGES,
    named: list[int] | tuple[int, ...] = (),
) -> go.Figure:
    """Each hidden layer's activation outputs as a histogram, stacked from layer 1 at
    the bottom (a ridgeline): `outputs` has columns `layer`, `value`, `flat`
    (`activations.outputs_of`); the values whose slope is under the cutoff are red,
    and `flat_bands` (`activations.flat_outputs`) shade where those outputs lie. Each
    ridge is scaled to its own tallest bin of outputs off the flat part (its shape, not
    its height, compares; a taller bar of flat ones is cut at the ridge's height);
    its label carries `shares` (the layer's `saturation` column, by layer). All
    layers share one axis, from the 1st to the 99th percentile of all values
    (values beyond it counted in the edge bins). A deeper network shows `max_ridges`
    layers, `named` among them (those its caption names: `summary.flat_extremes`)."""
    title = f"What each layer's {activation} gives out (its outputs, layer by layer)"
    values = outputs["value"].to_numpy(float) if len(outputs) else np.empty(0)
    finite = np.isfinite(values)
    if not finite.any():
        return empty(title, "Press Train to see each layer's outputs")
    outputs, values = outputs[finite], values[finite]
    layer_ids = np.unique(outputs["layer"].to_numpy())
    if len(layer_ids) > max_ridges:
        layer_ids = _spaced_with(layer_ids, max_ridges, list(named))
    kept = np.isin(outputs["layer"].to_numpy(), layer_ids)
    layer, values, flat = outputs["layer"].to_numpy()[kept], values[kept], outputs["flat"].to_numpy(bool)[kept]
    log_axis = spans_decades(values, layer)
    if log_axis:  # each value at its signed log, 0 in the middle: the bins, the bands and the axis in that
        values = signed_log(values)
        flat_bands = tuple((float(signed_log(lo)), float(signed_log(hi))) for lo, hi in flat_bands)
    low, high = np.quantile(values, RIDGE_QUANTILES)
    bounded = [edge for band in flat_bands for edge in band if np.isfinite(edge)]
    low, high = min([low, *bounded]), max([high, *bounded])
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, RIDGE_BINS + 1)
    clipped = (values < low) | (values > high)
    position = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, RIDGE_BINS - 1)
    ridge = np.searchsorted(layer_ids, layer)
    n_ridges, per_ridge = len(layer_ids), np.bincount(ridge, minlength=len(layer_ids))[:, None]
    total = np.bincount(ridge * RIDGE_BINS + position, minlength=n_ridges * RIDGE_BINS).reshape(n_ridges, -1)
    on_flat = np.bincount((ridge * RIDGE_BINS + position)[flat], minlength=n_ridges * RIDGE_BINS)
    total, on_flat = total / per_ridge, on_flat.reshape(n_ridges, -1) / per_ridge
    # each ridge to its own tallest bin of outputs not on the flat part (a bar of flat ones taller than
    # that cut at the ridge's height): ReLU's spike of zeros, 50-80% of a layer, had squashed the rest
    # of every ridge flat; a ridge with nothing else, to its tallest bin
    active = (total - on_flat).max(axis=1, keepdims=True)
    scale = RIDGE_HEIGHT / np.where(active > 0, active, total.max(axis=1, keepdims=True))

    def outlines(bins: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every ridge's histogram (`bins`: shares, ridges x bins) as a closed outline of
        steps, NaN between ridges: x, y, and (layer, share) for the hover."""
        gap = np.full((n_ridges, 1), np.nan)
        steps = np.repeat(bins, 2, axis=1)
        share = np.hstack([np.zeros((n_ridges, 1)), steps, np.zeros((n_ridges, 1)), gap])
        x = np.tile(np.r_[edges[0], np.repeat(edges, 2)[1:-1], edges[-1], np.nan], n_ridges)
        y = (np.arange(n_ridges)[:, None] + np.minimum(share * scale, RIDGE_HEIGHT)).ravel()
        at = unsigned_log(x) if log_axis else x  # the output the hover names
        hover = np.column_stack([np.repeat(layer_ids, share.shape[1]), share.ravel(), at])
        return x, y, hover

    traces = []  # two traces in all, the ridges NaN-separated: a trace a ridge cost 3 ms each to build
    for part, fill, line, what in (
        (total, "rgba(31,119,180,0.45)", "#1f77b4", "of its outputs are near"),
        (on_flat, FLAT_FILL, FLAT_FILL, f"of its outputs are {flat_word}, near"),
    ):
        if part is on_flat and not (flat_word and on_flat.any()):
            continue
        x, y, hover = outlines(part)
        traces.append(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                fill="toself",
                fillcolor=fill,
                line={"color": line, "width": 1 if part is total else 0},
                customdata=hover,
                hovertemplate=f"layer %{{customdata[0]}}: %{{customdata[1]:.1%}} {what} %{{customdata[2]:.3g}}"
                "<extra></extra>",
                name=what,
            )
        )
    shapes = []  # (as layout shapes: Figure.add_vrect costs more than the whole chart)
    for band_low, band_high in flat_bands:
        band_low, band_high = max(band_low, low), min(band_high, high)
        if band_high > band_low:
            shapes.append({"type": "rect", "x0": band_low, "x1": band_high, "fillcolor": "rgba(214,39,40,0.10)"})
        elif band_high == band_low:
            shapes.append({"type": "line", "x0": band_low, "x1": band_low, "line": {"color": FLAT_FILL, "dash": "dot"}})
    for shape in shapes:
        shape.update(xref="x", yref="paper", y0=0, y1=1, layer="below")
        shape.setdefault("line", {"width": 0})
    labels = [f"{n} · {percent(shares.get(n, np.nan))}" for n in layer_ids]
    flat_label = f"% {flat_word}" if flat_word else ""
    axis = "the activation's output" + (", log scale" if log_axis else "")
    axis += " (values beyond the axis counted at its edges)" if clipped.any() else ""
    # one parenthesis: "(its outputs, layer by layer; 20 of 100 layers)", not two in a row
    subtitle = f"; {len(layer_ids)} of {outputs['layer'].nunique()} layers" if (~kept).any() else ""
    legend_note = f"; red: {flat_word} (slope under 10% of its peak)" if flat_word else ""
    return layout(
        new_figure(traces),
        title.removesuffix(")") + subtitle + ")",
        height=ridges_height(len(layer_ids)),
        shapes=shapes,
        xaxis={
            "title": axis + legend_note,
            "range": [low, high],
            "showgrid": False,
            "zeroline": False,
            "exponentformat": "power",
            **(log_ticks(low, high) if log_axis else {}),
        },
        yaxis={
            "title": f"layer, 1 = input side{' · ' + flat_label if flat_label else ''}",
            "tickvals": np.arange(len(layer_ids)) + 0.2,
            "ticktext": labels if flat_word else [str(n) for n in layer_ids],
            "range": [-0.1, len(layer_ids)],
            "showgrid": False,
            "zeroline": False,
        },
        showlegend=False,
    )
