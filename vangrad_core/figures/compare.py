"""Two (or more) runs overlaid, coloured A, B, ... alike on every page."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .style import TINY, empty, layout, started, thin_steps


def compare_profiles(runs: dict[str, pd.DataFrame]) -> go.Figure:
    """Gradient per layer at the latest step of several runs, overlaid (log)."""
    fig = go.Figure()
    for name, layers, color in started(runs):
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
        return empty("Gradient size per layer", "Press Train to compare")
    fig.update_xaxes(title="layer (1 = next to the input; last = output layer)")
    fig.update_yaxes(title="|dL/dW| (log scale)", type="log", exponentformat="power")
    return layout(fig, "Gradient size per layer")


def compare_curves(runs: dict[str, pd.DataFrame]) -> go.Figure:
    """Training loss of several runs, overlaid (smoothed)."""
    fig = go.Figure()
    for name, metrics, color in started(runs):
        kept = thin_steps(metrics, 300)
        smooth = metrics["loss"].rolling(max(1, len(metrics) // 40), min_periods=1).mean().loc[kept.index]
        fig.add_trace(go.Scatter(x=kept["step"], y=smooth, name=name, mode="lines", line={"color": color, "width": 4}))
    if not fig.data:
        return empty("Loss", "Press Train to compare")
    fig.update_xaxes(title="training step")
    fig.update_yaxes(title="loss (batch, smoothed)", rangemode="tozero")
    return layout(fig, "Loss")


def compare_saturation(runs: dict[str, pd.DataFrame]) -> go.Figure:
    """Saturated inputs and dead units per hidden layer of several runs, side by side."""
    fig = go.Figure()
    for name, layers, color in started(runs):
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
        return empty("Saturation and dead units", "Press Train to compare")
    fig.update_layout(barmode="group")
    fig.update_xaxes(title="hidden layer (1 = input side)")
    fig.update_yaxes(title="fraction", range=[0, 1.05], tickformat=".0%")
    return layout(fig, "Saturated inputs (bars) and dead units (crosses)")
