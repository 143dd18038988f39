"""The teaching page's charts: an activation, its slope, and the chain rule."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .style import TINY, layer_axis, layout, level_line, new_figure, plotted, value_axis


def _function_trace(curve: pd.DataFrame, activation: str) -> go.Scatter:
    """The activation itself, drawn the same on every teaching chart."""
    return go.Scatter(x=curve["x"], y=curve["y"], name=f"{activation}(x)", line={"color": "#1f77b4", "width": 4})


def activation_and_slope(curve: pd.DataFrame, activation: str) -> go.Figure:
    """An activation function and its derivative (`activations.curves`), with the
    derivative's peak marked."""
    peak = curve.attrs["max_derivative"]
    fig = new_figure()
    fig.add_trace(_function_trace(curve, activation))
    fig.add_trace(
        go.Scatter(
            x=curve["x"], y=curve["slope"], name=f"{activation}'(x), its slope", line={"color": "#d62728", "width": 4}
        )
    )
    slope_line = {"dash": "dot", "color": "#d62728"}
    level_line(fig, peak, f"steepest slope: {peak:.4g}", slope_line, log_axis=False, side="left")
    fig.update_xaxes(title="input x", zeroline=True)
    fig.update_yaxes(title="value", zeroline=True)
    return layout(fig, f"{activation} and its derivative")


def input_change(
    curve: pd.DataFrame, activation: str, x0: float, delta: float, y0: float, y1: float, written: str
) -> go.Figure:
    """How much the output moves (y0 to y1) when the input moves from x0 to x0 + delta;
    `written`: that change as the page's number writes it (3.9e−7, not 3.87e-07)."""
    fig = new_figure()
    fig.add_trace(_function_trace(curve, activation))
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
            name=f"output change {written}",
            line={"color": "#d62728", "width": 5},
            marker={"size": 12},
        )
    )
    fig.update_xaxes(title="input x", range=[curve["x"].iloc[0], curve["x"].iloc[-1]])
    fig.update_yaxes(title=f"{activation}(x)")
    return layout(fig, "A change of input, and the change of output it makes")


def chain_rule(layers: pd.DataFrame) -> go.Figure:
    """Backpropagated gradient per layer relative to the last hidden layer (log),
    measured, beside 0.25 per layer, the most a sigmoid's slope can pass back."""
    hidden = layers[layers["saturation"].notna()]
    depth = len(hidden)
    top = hidden["delta_rms"].iloc[-1]
    distance = depth - hidden["layer"].to_numpy()
    fig = new_figure()
    fig.add_trace(
        go.Scatter(
            x=hidden["layer"],
            y=(hidden["delta_rms"] / top).clip(lower=TINY),
            name="measured: RMS of dL/dz, relative to the last hidden layer",  # the one measure
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
    fig.update_xaxes(layer_axis("hidden layer, 1 = input side", int(hidden["layer"].max())))
    fig.update_yaxes(value_axis("relative gradient, top layer = 1", plotted(fig), log=True))
    return layout(fig, "The chain rule: one factor per layer")
