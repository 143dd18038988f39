"""Plotly figures: each takes DataFrames (the engine's tidy frames) and returns a figure.

Layers keep one colour everywhere: a sequential scale from the input (dark) to the
output (bright). Log axes say so in their titles. Nothing here imports Streamlit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go
import torch
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from .model import ACTIVATION_TABLE, LEAKY_SLOPE
from .stats import SATURATION_THRESHOLD

LAYER_SCALE = "Viridis"  # input layer dark purple ... output layer yellow
# tiny gradients dark, large bright; without Inferno's first colour (#000004), which
# Streamlit's chart frontend draws as if transparent
HEATMAP_SCALE = plotly.colors.sequential.Inferno[1:]
FONT_SIZE = 15
UPDATE_GUIDE = 1e-3  # Karpathy's rule of thumb for a healthy update:weight ratio
TINY = 1e-45  # below float32's smallest number: a gradient of exactly 0


def layer_colors(n_layers: int) -> list[str]:
    """One colour per layer, from the input (first) to the output (last)."""
    return sample_colorscale(LAYER_SCALE, np.linspace(0, 0.92, max(n_layers, 2)).tolist())[:n_layers]


def _layout(fig: go.Figure, title: str, height: int = 430, **layout: object) -> go.Figure:
    """The charts' common layout, plus `layout` (e.g. whole `xaxis`, `yaxis` dicts), on
    top of what `fig` has. One assignment, not update_layout: its path handling costs
    several milliseconds a call, and the live charts are rebuilt several times a second."""
    kept = {key: value for key, value in fig.layout.to_plotly_json().items() if key != "template"}
    fig.layout = {  # Plotly's default template goes: the page's theme styles the charts
        **kept,
        "title": {"text": title, "x": 0, "xanchor": "left"},
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 50, "b": 10},
        "font": {"size": FONT_SIZE},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left", "x": 0},
        "uirevision": "keep",  # keep zoom and hidden traces across live updates
        **layout,
    }
    return fig


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 18}, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title)


def thin_steps(frame: pd.DataFrame, max_steps: int = 150) -> pd.DataFrame:
    """At most `max_steps` evenly spaced steps of a long frame (always the last):
    a chart of 20000 steps shows no more than one of 150, and draws much faster."""
    steps = frame["step"].unique()
    if len(steps) <= max_steps:
        return frame
    keep = steps[np.unique(np.linspace(0, len(steps) - 1, max_steps).round().astype(int))]
    return frame[frame["step"].isin(keep)]


def _steps(layers: pd.DataFrame) -> tuple[int, int]:
    steps = layers["step"]
    return int(steps.iloc[0]), int(steps.iloc[-1])


GRADIENT_MEASURES = {  # column -> (what it is, axis title)
    "delta_rms": ("backpropagated gradient", "RMS of dL/dz, z = the layer's output (log scale)"),
    "weight_grad_norm": ("weight gradient", "|dL/dW|, Frobenius norm (log scale)"),
}


def gradient_profile(
    layers: pd.DataFrame,
    activation: str,
    measure: str = "weight_grad_norm",
    predicted: pd.DataFrame | None = None,
) -> go.Figure:
    """A gradient measure per layer (log axis), now and faded at the first step; for
    sigmoid, how small 0.25 per layer would make it, counted back from the top. With
    `predicted` (`theory.predict_layers`) and `delta_rms`, the theory's profile at
    initialization, pinned to the measured output layer at the first step."""
    what, axis_title = GRADIENT_MEASURES[measure]
    title = f"Gradient size per layer: {what}"
    if layers.empty:
        return _empty(title, "Press Train to see the gradients")
    first_step, last_step = _steps(layers)
    first = layers[layers["step"] == first_step]
    last = layers[layers["step"] == last_step]
    n = len(last)
    colors = layer_colors(n)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=first["layer"],
            y=first[measure].clip(lower=TINY),
            name=f"step {first_step}",
            mode="lines+markers",
            line={"color": "rgba(128,128,128,0.55)", "width": 3, "dash": "dot"},
            marker={"size": 7},
        )
    )
    if predicted is not None and measure == "delta_rms" and first_step == 0:
        output_delta = first[measure].iloc[-1]
        fig.add_trace(
            go.Scatter(
                x=predicted["layer"],
                y=(predicted["delta_rms_relative"] * output_delta).clip(lower=TINY),
                name="theory at step 0 (mean field)",
                mode="lines",
                line={"color": "#2ca02c", "width": 4, "dash": "dash"},
                hovertemplate="layer %{x}: predicted %{y:.3g}<extra></extra>",
            )
        )
    if activation == "sigmoid" and n > 2:
        top = last[last["layer"] == n - 1][measure].iloc[0]
        hidden = np.arange(1, n)
        fig.add_trace(
            go.Scatter(
                x=hidden,
                y=top * 0.25 ** (n - 1 - hidden),
                name="× 0.25 per layer (sigmoid's steepest slope)",
                mode="lines",
                line={"color": "#d62728", "width": 2, "dash": "dash"},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=last["layer"],
            y=last[measure].clip(lower=TINY),
            name=f"step {last_step}",
            mode="lines+markers",
            line={"color": "#1f77b4", "width": 3},
            marker={"size": 11, "color": colors, "line": {"width": 1, "color": "white"}},
            hovertemplate="layer %{x}<br>%{y:.3g}<extra></extra>",
        )
    )
    return _layout(
        fig,
        title,
        xaxis={"title": "layer (1 = next to the input; last = output layer)", "dtick": _tick(n)},
        yaxis={"title": axis_title, "type": "log", "exponentformat": "power"},
    )


VARIANCE_RULES = {  # activation -> (whose rule, its factor on n·Var(W) per layer)
    "linear": ("Glorot & Bengio: × n·Var(W) per layer", 1.0),
    "tanh": ("Glorot & Bengio (linear regime): × n·Var(W) per layer", 1.0),
    "relu": ("He et al.: × n·Var(W)/2 per layer", 0.5),
    "leaky_relu": ("He et al.: × n·Var(W)·(1+a²)/2 per layer", (1 + LEAKY_SLOPE**2) / 2),
}


def forward_variance(
    layers: pd.DataFrame, predicted: pd.DataFrame | None, activation: str, sigma_w2: float
) -> go.Figure:
    """Variance of what each layer's nonlinearity receives: measured at the first and
    latest steps, the mean-field prediction, and Glorot's or He's rule where it applies
    (`sigma_w2` = n·Var(W) of the hidden layers); no theory when `predicted` is None."""
    title = "Forward signal: variance of each layer's pre-activations"
    if layers.empty:
        return _empty(title, "Press Train to measure the forward signal")
    first_step, last_step = _steps(layers)
    hidden = layers[layers["act_input_std"].notna()]
    fig = go.Figure()
    if predicted is not None and not hidden.empty:
        theory = predicted[predicted["layer"] <= hidden["layer"].max()]
        fig.add_trace(
            go.Scatter(
                x=theory["layer"],
                y=theory["preact_var"].clip(lower=TINY),
                name="theory at step 0 (mean field)",
                mode="lines",
                line={"color": "#2ca02c", "width": 4, "dash": "dash"},
                hovertemplate="layer %{x}: predicted %{y:.3g}<extra></extra>",
            )
        )
        if activation in VARIANCE_RULES:
            name, factor = VARIANCE_RULES[activation]
            fig.add_trace(  # the rule from the same first layer, biases left out as the papers do
                go.Scatter(
                    x=theory["layer"],
                    y=(theory["preact_var"].iloc[0] * (factor * sigma_w2) ** (theory["layer"] - 1)).clip(lower=TINY),
                    name=name,
                    mode="lines",
                    line={"color": "#9467bd", "width": 2, "dash": "dot"},
                )
            )
    steps = [(last_step, "rgba(128,128,128,0.6)", 8)] if last_step != first_step else []
    for step, color, size in [(first_step, "#1f77b4", 11), *steps]:
        rows = hidden[hidden["step"] == step]
        fig.add_trace(
            go.Scatter(
                x=rows["layer"],
                y=(rows["act_input_std"] ** 2).clip(lower=TINY),
                name=f"measured, step {step}",
                mode="markers",
                marker={"color": color, "size": size},
                hovertemplate="layer %{x}: measured %{y:.3g}<extra></extra>",
            )
        )
    fig.update_xaxes(title="hidden layer (1 = input side)", dtick=_tick(len(hidden["layer"].unique())))
    fig.update_yaxes(title="Var of the nonlinearity's input (log scale)", type="log", exponentformat="power")
    return _layout(fig, title)


PHASE_SCALE = "RdBu_r"  # blue: ordered (gradients vanish), white: critical, red: chaotic (explode)


def phase_diagram(phases: pd.DataFrame, activation: str, point: tuple[float, float] | None = None) -> go.Figure:
    """χ₁ over weight scale σ_w² × bias scale σ_b² (`theory.phase_diagram`), the
    critical line χ₁ = 1, and the current network's point."""
    grid = phases.pivot(index="sigma_b2", columns="sigma_w2", values="chi1")
    log_chi = np.log10(grid.clip(lower=1e-3).to_numpy())
    ticks = [0.1, 0.3, 1, 3, 10]
    fig = go.Figure(
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
    if point is not None:
        # off the chart (huge weights): pinned to its edge, its value in the label
        x_max, y_max = float(grid.columns.max()), float(grid.index.max())
        inside = point[0] <= x_max and point[1] <= y_max
        fig.add_trace(
            go.Scatter(
                x=[min(point[0], x_max)],
                y=[min(point[1], y_max)],
                name="this network" if inside else f"this network (σ_w² = {point[0]:.3g}, off the chart)",
                mode="markers",
                marker={"symbol": "star", "size": 22, "color": "#ffd700", "line": {"width": 2, "color": "black"}},
                hovertemplate="this network: σ_w² = %{x:.3g}, σ_b² = %{y:.3g}<extra></extra>",
            )
        )
    for x, y, text in ((0.02, 0.97, "ordered: gradients vanish"), (0.98, 0.03, "chaotic: gradients explode")):
        fig.add_annotation(
            text=text,
            x=x,
            y=y,
            xref="paper",
            yref="paper",
            showarrow=False,
            xanchor="left" if x < 0.5 else "right",
            bgcolor="rgba(255,255,255,0.75)",
            font={"color": "black"},
        )
    fig.update_xaxes(title="σ_w² = n · Var(W)  (weight scale)", range=[0, float(grid.columns.max())])
    fig.update_yaxes(title="σ_b² = Var(b)  (bias scale)", range=[0, float(grid.index.max())])
    return _layout(fig, f"Order and chaos for {activation}: χ₁ by weight and bias scale")


def _tick(n_layers: int) -> int:
    return 1 if n_layers <= 25 else 5 if n_layers <= 60 else 10


def gradient_heatmap(layers: pd.DataFrame) -> go.Figure:
    """log10 of the gradient norm, layer by step: vanishing is a dark band at the input."""
    title = "Gradient size over training: log₁₀ |dL/dW|"
    if layers.empty:
        return _empty(title, "Press Train to fill the map")
    grid = thin_steps(layers).pivot(index="layer", columns="step", values="weight_grad_norm")
    z = np.log10(grid.clip(lower=TINY).to_numpy())
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=grid.columns,
            y=grid.index,
            colorscale=HEATMAP_SCALE,
            zmin=float(np.nanmin(z)),
            zmax=float(np.nanmax(z)),
            colorbar={"title": {"text": "log₁₀", "side": "right"}},
            hovertemplate="step %{x}, layer %{y}<br>log₁₀|dL/dW| = %{z:.1f}<extra></extra>",
        )
    )
    yaxis = {"title": "layer (1 = input side)", "dtick": _tick(len(grid))}
    return _layout(fig, title, xaxis={"title": "training step"}, yaxis=yaxis)


def training_curves(metrics: pd.DataFrame) -> go.Figure:
    """Loss and accuracy over steps, train (per batch, smoothed) and test."""
    if metrics.empty:
        return _empty("Loss and accuracy", "Press Train to see learning curves")
    window = max(1, len(metrics) // 40)
    smooth = metrics[["loss", "train_accuracy"]].rolling(window, min_periods=1).mean()
    test = metrics.dropna(subset=["test_loss"])
    kept = thin_steps(metrics, 300).index
    metrics, smooth = metrics.loc[kept], smooth.loc[kept]
    series = (  # name, steps, style, legend group, column per panel
        ("train (batch, smoothed)", metrics["step"], smooth, "lines", "#1f77b4", ("loss", "train_accuracy")),
        ("test", test["step"], test, "lines+markers", "#ff7f0e", ("test_loss", "test_accuracy")),
    )
    fig = go.Figure()
    for panel, fmt in ((0, ".3f"), (1, ".1%")):  # two panels side by side: axes x, y and x2, y2
        for name, steps, frame, mode, color, columns in series:
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=frame[columns[panel]],
                    xaxis=f"x{panel + 1}",
                    yaxis=f"y{panel + 1}",
                    name=name,
                    mode=mode,
                    line={"color": color, "width": 3},
                    showlegend=panel == 0,
                    legendgroup=name,
                    hovertemplate=f"step %{{x}}: %{{y:{fmt}}}<extra>{name}</extra>",
                )
            )
    panel_titles = [
        {"text": text, "x": x, "y": 1.0, "xref": "paper", "yref": "paper", "yanchor": "bottom", "showarrow": False}
        for text, x in (("Loss (cross-entropy)", 0.225), ("Accuracy", 0.775))
    ]
    return _layout(
        fig,
        "Loss and accuracy",
        xaxis={"title": "training step", "domain": [0, 0.45]},
        xaxis2={"title": "training step", "domain": [0.55, 1], "anchor": "y2"},
        yaxis={"rangemode": "tozero"},
        yaxis2={"range": [0, 1.02], "tickformat": ".0%", "anchor": "x2"},
        annotations=panel_titles,
        showlegend=True,
    )


def derivative_with_inputs(activation: str, inputs: pd.DataFrame, layer: int) -> go.Figure:
    """The activation's derivative, and a histogram of what one layer's nonlinearity
    actually receives: inputs where the derivative is tiny pass no gradient back."""
    act = ACTIVATION_TABLE[activation]
    title = f"{activation}'(x) and the inputs layer {layer} receives"
    values = inputs.loc[inputs["layer"] == layer, "value"].to_numpy()
    values = values[np.isfinite(values)]
    reach = max(6.0, float(np.quantile(np.abs(values), 0.995)) * 1.1) if len(values) else 6.0
    x = torch.linspace(-reach, reach, 601)
    slope = act.derivative(x).numpy()
    cutoff = SATURATION_THRESHOLD * act.max_derivative
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    if len(values):
        fig.add_trace(
            go.Histogram(
                x=values,
                nbinsx=60,
                name=f"inputs to layer {layer}'s {activation}",
                marker={"color": "rgba(31,119,180,0.45)"},
                histnorm="probability",
            ),
            secondary_y=True,
        )
    fig.add_trace(
        go.Scatter(
            x=x.numpy(),
            y=slope,
            name=f"{activation}'(x)",
            mode="lines",
            line={"color": "#d62728", "width": 4},
        ),
        secondary_y=False,
    )
    fig.add_hline(
        y=cutoff,
        line={"dash": "dot", "color": "gray"},
        annotation_text=f"saturated below {cutoff:.3g}",
        annotation_position="top left",
    )
    fig.update_xaxes(title="input to the nonlinearity, x", range=[-reach, reach])
    fig.update_yaxes(title=f"derivative {activation}'(x)", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title="share of inputs", secondary_y=True, showgrid=False, tickformat=".0%")
    return _layout(fig, title)


def saturation_by_layer(layers: pd.DataFrame) -> go.Figure:
    """Saturated inputs and dead units per hidden layer, at the latest step."""
    title = "Saturated inputs and dead units per layer"
    if layers.empty:
        return _empty(title, "Press Train to measure saturation")
    last = layers[(layers["step"] == layers["step"].iloc[-1]) & layers["saturation"].notna()]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=last["layer"],
            y=last["saturation"],
            name="inputs in the flat part (derivative < 10% of max)",
            marker={"color": layer_colors(len(last) + 1)[:-1]},
            hovertemplate="layer %{x}: %{y:.1%} saturated<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=last["layer"],
            y=last["dead_fraction"],
            name="dead units (zero for the whole batch)",
            mode="markers",
            marker={"symbol": "x", "size": 14, "color": "#d62728"},
            hovertemplate="layer %{x}: %{y:.1%} dead<extra></extra>",
        )
    )
    fig.update_xaxes(title="hidden layer (1 = input side)", dtick=_tick(len(last)))
    fig.update_yaxes(title="fraction", range=[0, 1.05], tickformat=".0%")
    return _layout(fig, title)


def update_ratios(layers: pd.DataFrame) -> go.Figure:
    """Update size / weight size per layer over time (log): lower layers barely move."""
    title = "Update size per layer: std(ΔW) / std(W)"
    if layers.empty:
        return _empty(title, "Press Train to see the updates")
    fig = go.Figure()
    layers = thin_steps(layers)
    layer_ids = sorted(layers["layer"].unique())
    colors = layer_colors(len(layer_ids))
    for color, (layer, rows) in zip(colors, layers.groupby("layer"), strict=True):
        ratio = rows["update_ratio"].where(rows["update_ratio"] > 0)
        fig.add_trace(
            go.Scatter(
                x=rows["step"],
                y=ratio,
                name=f"layer {layer}",
                mode="lines",
                line={"color": color, "width": 2},
                hovertemplate=f"layer {layer}, step %{{x}}: %{{y:.2g}}<extra></extra>",
            )
        )
    fig.add_hline(
        y=UPDATE_GUIDE,
        line={"dash": "dash", "color": "gray", "width": 2},
        annotation_text="1e-3: a healthy rate",
        annotation_position="bottom right",
    )
    fig.update_xaxes(title="training step")
    fig.update_yaxes(title="update : weight ratio (log scale)", type="log", exponentformat="power")
    fig.update_layout(showlegend=len(layer_ids) <= 12)
    return _layout(fig, title)


def distance_from_init(layers: pd.DataFrame) -> go.Figure:
    """How far each layer's weights have moved from where they started (log)."""
    title = "How far each layer has moved from its initial weights"
    if layers.empty:
        return _empty(title, "Press Train to see the weights move")
    last = layers[layers["step"] == layers["step"].iloc[-1]]
    moved = last["distance_from_init"].where(last["distance_from_init"] > 0)
    fig = go.Figure(
        go.Bar(
            x=last["layer"],
            y=moved,
            marker={"color": layer_colors(len(last))},
            hovertemplate="layer %{x}: moved %{y:.2g} of its initial size<extra></extra>",
        )
    )
    fig.update_xaxes(title="layer (1 = input side; last = output layer)", dtick=_tick(len(last)))
    fig.update_yaxes(title="|W − W₀| / |W₀| (log scale)", type="log", exponentformat="power")
    return _layout(fig, title)


def decision_boundary(grid: pd.DataFrame, points: pd.DataFrame) -> go.Figure:
    """The network's probability of class 1 over the plane, with the test points."""
    side = round(np.sqrt(len(grid)))
    fig = go.Figure(
        go.Heatmap(
            x=grid["x1"].to_numpy()[:side],
            y=grid["x2"].to_numpy()[::side],
            z=grid["p1"].to_numpy().reshape(side, side),
            colorscale="RdBu",
            zmin=0,
            zmax=1,
            opacity=0.75,
            colorbar={"title": {"text": "P(class 1)", "side": "right"}},
            hoverinfo="skip",
        )
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
    fig.update_xaxes(title="x₁ (standardized)", constrain="domain")
    fig.update_yaxes(title="x₂ (standardized)", scaleanchor="x", scaleratio=1)
    return _layout(fig, "Decision boundary (test points)", height=420)


# ---- teaching pages ---------------------------------------------------------------


def _function_trace(activation: str, x: torch.Tensor) -> go.Scatter:
    """The activation itself over x, drawn the same on every teaching chart."""
    y = ACTIVATION_TABLE[activation].function(x)
    return go.Scatter(x=x.numpy(), y=y.numpy(), name=f"{activation}(x)", line={"color": "#1f77b4", "width": 4})


def activation_and_slope(activation: str, reach: float = 8.0) -> go.Figure:
    """An activation function and its derivative, with the derivative's peak marked."""
    act = ACTIVATION_TABLE[activation]
    x = torch.linspace(-reach, reach, 801)
    fig = go.Figure()
    fig.add_trace(_function_trace(activation, x))
    fig.add_trace(
        go.Scatter(
            x=x.numpy(),
            y=act.derivative(x).numpy(),
            name=f"{activation}'(x), its slope",
            line={"color": "#d62728", "width": 4},
        )
    )
    fig.add_hline(
        y=act.max_derivative,
        line={"dash": "dot", "color": "#d62728"},
        annotation_text=f"steepest slope: {act.max_derivative:.4g}",
        annotation_position="top left",
    )
    fig.update_xaxes(title="input x", zeroline=True)
    fig.update_yaxes(title="value", zeroline=True)
    return _layout(fig, f"{activation} and its derivative")


def input_change(activation: str, x0: float, delta: float, reach: float = 8.0) -> go.Figure:
    """How much the output moves when the input moves from x0 to x0 + delta."""
    act = ACTIVATION_TABLE[activation]
    x = torch.linspace(-reach, reach, 801)
    ends = torch.tensor([x0, x0 + delta])
    y0, y1 = act.function(ends).tolist()
    fig = go.Figure()
    fig.add_trace(_function_trace(activation, x))
    fig.add_trace(
        go.Scatter(
            x=[x0, x0 + delta],
            y=[y0, y0],
            mode="lines+markers",
            name=f"input change {delta:g}",
            line={"color": "#2ca02c", "width": 5},
            marker={"size": 12},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[x0 + delta, x0 + delta],
            y=[y0, y1],
            mode="lines+markers",
            name=f"output change {y1 - y0:.3g}",
            line={"color": "#d62728", "width": 5},
            marker={"size": 12},
        )
    )
    fig.update_xaxes(title="input x", range=[-reach, reach])
    fig.update_yaxes(title=f"{activation}(x)")
    return _layout(fig, "A change of input, and the change of output it makes")


def chain_rule(layers: pd.DataFrame) -> go.Figure:
    """Backpropagated gradient per layer relative to the last hidden layer (log),
    measured, beside 0.25 per layer, the most a sigmoid's slope can pass back."""
    hidden = layers[layers["saturation"].notna()]
    depth = len(hidden)
    top = hidden["delta_rms"].iloc[-1]
    distance = depth - hidden["layer"].to_numpy()
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=hidden["layer"],
            y=(hidden["delta_rms"] / top).clip(lower=TINY),
            name="measured: |dL/dz| relative to the last hidden layer",
            mode="lines+markers",
            line={"color": "#1f77b4", "width": 4},
            marker={"size": 10},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=hidden["layer"],
            y=0.25**distance,
            name="0.25 per layer (sigmoid's steepest slope)",
            mode="lines",
            line={"color": "#d62728", "width": 3, "dash": "dash"},
        )
    )
    fig.update_xaxes(title="layer (1 = next to the input)", dtick=_tick(depth))
    fig.update_yaxes(title="gradient relative to the top (log scale)", type="log", exponentformat="power")
    return _layout(fig, "The chain rule: one factor per layer")


RUN_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")  # run A, run B, run C... in comparisons


def _started(runs: dict[str, pd.DataFrame]):
    """(name, frame, colour) of each run that has taken a step."""
    return [
        (name, frame, color) for (name, frame), color in zip(runs.items(), RUN_COLORS, strict=False) if not frame.empty
    ]


def compare_profiles(runs: dict[str, pd.DataFrame]) -> go.Figure:
    """Gradient per layer at the latest step of several runs, overlaid (log)."""
    fig = go.Figure()
    for name, layers, color in _started(runs):
        last = layers[layers["step"] == layers["step"].iloc[-1]]
        fig.add_trace(
            go.Scatter(
                x=last["layer"],
                y=last["weight_grad_norm"].clip(lower=TINY),
                name=f"{name} (step {int(last['step'].iloc[0])})",
                mode="lines+markers",
                line={"color": color, "width": 4},
                marker={"size": 9},
            )
        )
    if not fig.data:
        return _empty("Gradient size per layer", "Press Train to compare")
    fig.update_xaxes(title="layer (1 = next to the input; last = output layer)")
    fig.update_yaxes(title="|dL/dW| (log scale)", type="log", exponentformat="power")
    return _layout(fig, "Gradient size per layer")


def compare_curves(runs: dict[str, pd.DataFrame]) -> go.Figure:
    """Training loss of several runs, overlaid (smoothed)."""
    fig = go.Figure()
    for name, metrics, color in _started(runs):
        kept = thin_steps(metrics, 300)
        smooth = metrics["loss"].rolling(max(1, len(metrics) // 40), min_periods=1).mean().loc[kept.index]
        fig.add_trace(go.Scatter(x=kept["step"], y=smooth, name=name, mode="lines", line={"color": color, "width": 4}))
    if not fig.data:
        return _empty("Loss", "Press Train to compare")
    fig.update_xaxes(title="training step")
    fig.update_yaxes(title="loss (batch, smoothed)", rangemode="tozero")
    return _layout(fig, "Loss")


def compare_saturation(runs: dict[str, pd.DataFrame]) -> go.Figure:
    """Saturated inputs and dead units per hidden layer of several runs, side by side."""
    fig = go.Figure()
    for name, layers, color in _started(runs):
        last = layers[(layers["step"] == layers["step"].iloc[-1]) & layers["saturation"].notna()]
        fig.add_trace(go.Bar(x=last["layer"], y=last["saturation"], name=f"{name}: saturated", marker={"color": color}))
        fig.add_trace(
            go.Scatter(
                x=last["layer"],
                y=last["dead_fraction"],
                name=f"{name}: dead units",
                mode="markers",
                marker={"symbol": "x", "size": 13, "color": color, "line": {"width": 1, "color": "black"}},
            )
        )
    if not fig.data:
        return _empty("Saturation and dead units", "Press Train to compare")
    fig.update_layout(barmode="group")
    fig.update_xaxes(title="hidden layer (1 = input side)")
    fig.update_yaxes(title="fraction", range=[0, 1.05], tickformat=".0%")
    return _layout(fig, "Saturated inputs (bars) and dead units (crosses)")


def norm_stages(stages: pd.DataFrame, layer: int) -> go.Figure:
    """Histograms of one layer's values before batch norm, standardized, and after
    the learned scale and shift."""
    names = ("input", "standardized", "scaled and shifted")
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, subplot_titles=names)
    for col, (name, color) in enumerate(zip(names, ("#7f7f7f", "#1f77b4", "#2ca02c"), strict=True), start=1):
        values = stages.loc[stages["stage"] == name, "value"]
        fig.add_trace(
            go.Histogram(
                x=values,
                nbinsx=50,
                histnorm="probability",
                marker={"color": color},
                showlegend=False,
                hovertemplate="%{x}: %{y:.1%}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        mean, std = values.mean(), values.std(ddof=0)
        fig.add_annotation(
            text=f"mean {mean:.2f}, std {std:.2f}",
            x=0.5,
            y=1.0,
            xref="x domain" if col == 1 else f"x{col} domain",
            yref="paper",
            showarrow=False,
            yshift=-28,
            font={"size": 13},
        )
    fig.update_yaxes(title="share of values", tickformat=".0%", row=1, col=1)
    fig.update_xaxes(title="value")
    return _layout(fig, f"Layer {layer}: batch norm, step by step")


def norm_parameters(layers: pd.DataFrame, column: str, title: str, axis: str) -> go.Figure:
    """A norm parameter's mean per layer over training, one line per layer."""
    rows = thin_steps(layers[layers[column].notna()])
    if rows.empty:
        return _empty(title, "This network has no batch norm" if not layers.empty else "Press Train")
    fig = go.Figure()
    layer_ids = sorted(rows["layer"].unique())
    for color, (layer, part) in zip(layer_colors(len(layer_ids) + 1), rows.groupby("layer"), strict=False):
        fig.add_trace(
            go.Scatter(
                x=part["step"], y=part[column], name=f"layer {layer}", mode="lines", line={"color": color, "width": 3}
            )
        )
    fig.update_xaxes(title="training step")
    fig.update_yaxes(title=axis)
    return _layout(fig, title)


# ---- the classic experiments (vangrad_core.experiments), re-drawn like the papers ----

RUN_DASHES = ("solid", "dash", "dot", "dashdot")


def _series_lines(fig: go.Figure, frame: pd.DataFrame, by: str, x: str, y: str, col: int = 1, **scatter) -> None:
    """One line per value of `by`, coloured like the comparison pages' runs."""
    for i, (name, rows) in enumerate(frame.groupby(by, sort=False)):
        fig.add_trace(
            go.Scatter(
                x=rows[x],
                y=rows[y],
                name=str(name),
                legendgroup=str(name),
                showlegend=col == 1,
                mode="lines+markers",
                line={"color": RUN_COLORS[i % len(RUN_COLORS)], "width": 3, "dash": RUN_DASHES[i % 4]},
                **scatter,
            ),
            row=1,
            col=col,
        )


def glorot_saturation(activations: pd.DataFrame) -> go.Figure:
    """Glorot & Bengio's Figure 2: each sigmoid layer's mean output (± one std) over training."""
    fig = go.Figure()
    layer_ids = sorted(activations["layer"].unique())
    for color, layer in zip(layer_colors(len(layer_ids) + 1), layer_ids, strict=False):
        rows = thin_steps(activations[activations["layer"] == layer], 100)
        band = np.concatenate([rows["act_mean"] + rows["act_std"], (rows["act_mean"] - rows["act_std"])[::-1]])
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([rows["step"], rows["step"][::-1]]),
                y=band,
                fill="toself",
                fillcolor=color,
                opacity=0.18,
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=rows["step"],
                y=rows["act_mean"],
                name=f"layer {layer}" + (" (top)" if layer == layer_ids[-1] else ""),
                mode="lines",
                line={"color": color, "width": 3},
                hovertemplate=f"layer {layer}, step %{{x}}: mean %{{y:.3f}}<extra></extra>",
            )
        )
    fig.update_xaxes(title="training step")
    fig.update_yaxes(title="sigmoid output: mean ± std", range=[0, 1])
    return _layout(fig, "Sigmoid layers' outputs during training (standard init)")


def glorot_gradients(profiles: pd.DataFrame) -> go.Figure:
    """Glorot & Bengio's Figures 6-8 as lines: per layer at initialization, the
    backpropagated gradient and the weight gradient, for each initialization."""
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("Backpropagated: RMS of dL/dz", "Weights: |dL/dW|"), horizontal_spacing=0.12
    )
    _series_lines(fig, profiles, "init", "layer", "delta_rms", col=1)
    _series_lines(fig, profiles, "init", "layer", "weight_grad_norm", col=2)
    fig.update_xaxes(title="tanh layer (1 = input side)", dtick=1)
    fig.update_yaxes(type="log", exponentformat="power", title="log scale")
    return _layout(fig, "tanh at initialization: gradients per layer")


def he_comparison(metrics: pd.DataFrame, profiles: pd.DataFrame) -> go.Figure:
    """He et al.'s Figure 3 (error over training, 30 layers, both inits) beside the
    backpropagated gradient per layer at step 0."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Test error during training", "Backpropagated gradient at step 0"),
        horizontal_spacing=0.12,
    )
    tested = metrics.dropna(subset=["test_accuracy"]).assign(test_error=lambda f: 1 - f["test_accuracy"])
    _series_lines(fig, tested, "init", "step", "test_error", col=1)
    hidden = profiles[profiles["layer"] <= profiles["layer"].max() - 1]
    _series_lines(fig, hidden.assign(delta=hidden["delta_rms"].clip(lower=TINY)), "init", "layer", "delta", col=2)
    fig.update_xaxes(title="training step", row=1, col=1)
    fig.update_yaxes(title="test error", range=[0, 1], tickformat=".0%", row=1, col=1)
    fig.update_xaxes(title="ReLU layer (1 = input side)", row=1, col=2)
    fig.update_yaxes(title="RMS of dL/dz (log scale)", type="log", exponentformat="power", row=1, col=2)
    return _layout(fig, "30 ReLU layers: Xavier vs He initialization")


PERCENTILE_COLUMNS = ("p15", "p50", "p85")


def ioffe_figure(curves: pd.DataFrame, percentiles: pd.DataFrame) -> go.Figure:
    """Ioffe & Szegedy's Figure 1: test accuracy with and without batch norm, and the
    15th/50th/85th percentiles of one last-layer sigmoid's input over training."""
    runs = list(dict.fromkeys(percentiles["run"]))
    fig = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=("Test accuracy", *(f"Sigmoid input, {run}" for run in runs)),
        horizontal_spacing=0.07,
    )
    _series_lines(fig, curves, "run", "step", "test_accuracy", col=1)
    for col, run in enumerate(runs, start=2):
        rows = percentiles[percentiles["run"] == run]
        for p, dash in zip(PERCENTILE_COLUMNS, ("dot", "solid", "dot"), strict=True):
            fig.add_trace(
                go.Scatter(
                    x=rows["step"],
                    y=rows[p],
                    name=f"{p[1:]}th percentile",
                    legendgroup=p,
                    showlegend=col == 2,
                    mode="lines",
                    line={"color": "#444" if p == "p50" else "#888", "width": 3, "dash": dash},
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title="training step")
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    # the same scale for both runs' inputs, so that drift and stability compare by eye
    values = percentiles[list(PERCENTILE_COLUMNS)].to_numpy()
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    pad = 0.05 * (high - low or 1)
    fig.update_yaxes(range=[low - pad, high + pad], row=1, col=2)
    fig.update_yaxes(range=[low - pad, high + pad], row=1, col=3)
    return _layout(fig, "Three sigmoid layers on digits, with and without batch norm")


def dying_figure(dead: pd.DataFrame) -> go.Figure:
    """Lu et al.: the share of networks dead at initialization, by depth."""
    fig = make_subplots(rows=1, cols=1)
    _series_lines(
        fig,
        dead,
        "series",
        "depth",
        "dead",
        hovertemplate="depth %{x}: %{y:.0%} dead<extra></extra>",
        marker={"size": 4},
    )
    fig.update_xaxes(title="depth (hidden layers)")
    fig.update_yaxes(title="networks dead at initialization", range=[-0.02, 1.02], tickformat=".0%")
    return _layout(fig, "Born dead: share of random networks whose output ignores the input")


def selu_figure(profiles: pd.DataFrame) -> go.Figure:
    """Klambauer et al.: each layer's activation mean and variance at initialization."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Mean of the activations", "Variance of the activations"),
        horizontal_spacing=0.12,
    )
    _series_lines(fig, profiles, "run", "layer", "act_mean", col=1, marker={"size": 5})
    _series_lines(
        fig,
        profiles.assign(act_var=profiles["act_var"].clip(lower=TINY)),
        "run",
        "layer",
        "act_var",
        col=2,
        marker={"size": 5},
    )
    fig.add_hline(y=0, line={"color": "gray", "dash": "dash"}, row=1, col=1)
    fig.add_hline(y=1, line={"color": "gray", "dash": "dash"}, row=1, col=2)
    fig.update_xaxes(title="layer (1 = input side)")
    fig.update_yaxes(title="variance (log scale)", type="log", exponentformat="power", row=1, col=2)
    return _layout(fig, "Activations through the layers at initialization")
