"""The classic experiments (vangrad_core.experiments), re-drawn like the papers' figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import TINY, layer_colors, layout, series_lines, thin_steps


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
    return layout(fig, "Sigmoid layers' outputs during training (standard init)")


def glorot_gradients(profiles: pd.DataFrame) -> go.Figure:
    """Glorot & Bengio's Figures 6-8 as lines: per layer at initialization, the
    backpropagated gradient and the weight gradient, for each initialization."""
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("Backpropagated: RMS of dL/dz", "Weights: |dL/dW|"), horizontal_spacing=0.12
    )
    series_lines(fig, profiles, "init", "layer", "delta_rms", col=1)
    series_lines(fig, profiles, "init", "layer", "weight_grad_norm", col=2)
    fig.update_xaxes(title="tanh layer (1 = input side)", dtick=1)
    fig.update_yaxes(type="log", exponentformat="power", title="log scale")
    return layout(fig, "tanh at initialization: gradients per layer")


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
    series_lines(fig, tested, "init", "step", "test_error", col=1)
    hidden = profiles[profiles["layer"] <= profiles["layer"].max() - 1]
    series_lines(fig, hidden.assign(delta=hidden["delta_rms"].clip(lower=TINY)), "init", "layer", "delta", col=2)
    fig.update_xaxes(title="training step", row=1, col=1)
    fig.update_yaxes(title="test error", range=[0, 1], tickformat=".0%", row=1, col=1)
    fig.update_xaxes(title="ReLU layer (1 = input side)", row=1, col=2)
    fig.update_yaxes(title="RMS of dL/dz (log scale)", type="log", exponentformat="power", row=1, col=2)
    return layout(fig, "30 ReLU layers: Xavier vs He initialization")


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
    series_lines(fig, curves, "run", "step", "test_accuracy", col=1)
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
    return layout(fig, "Three sigmoid layers on digits, with and without batch norm")


def dying_figure(dead: pd.DataFrame) -> go.Figure:
    """Lu et al.: the share of networks dead at initialization, by depth."""
    fig = make_subplots(rows=1, cols=1)
    series_lines(
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
    return layout(fig, "Born dead: share of random networks whose output ignores the input")


def selu_figure(profiles: pd.DataFrame) -> go.Figure:
    """Klambauer et al.: each layer's activation mean and variance at initialization."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Mean of the activations", "Variance of the activations"),
        horizontal_spacing=0.12,
    )
    series_lines(fig, profiles, "run", "layer", "act_mean", col=1, marker={"size": 5})
    series_lines(
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
    return layout(fig, "Activations through the layers at initialization")
