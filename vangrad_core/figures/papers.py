"""The classic experiments (vangrad_core.experiments), re-drawn like the papers' figures."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import (
    RUN_COLORS,
    TINY,
    counted,
    layer_axis,
    layer_colors,
    layout,
    legend_entry,
    new_figure,
    plotted,
    series_lines,
    step_axis,
    thin_steps,
    value_axis,
)


def glorot_saturation(activations: pd.DataFrame) -> go.Figure:
    """Glorot & Bengio's Figure 2: each sigmoid layer's mean output (± one std) over training."""
    fig = new_figure()
    layer_ids = sorted(activations["layer"].unique())
    for color, layer in zip(layer_colors(len(layer_ids) + 1), layer_ids, strict=False):
        rows = thin_steps(activations[activations["layer"] == layer], 100)
        band = np.concatenate([rows["act_mean"] + rows["act_std"], (rows["act_mean"] - rows["act_std"])[::-1]])
        steps = counted(rows["step"])
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([steps, steps[::-1]]),
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
                x=steps,
                y=rows["act_mean"],
                name=f"layer {layer}" + (" (top)" if layer == layer_ids[-1] else ""),
                mode="lines",
                line={"color": color, "width": 3},
                hovertemplate=f"layer {layer}, step %{{x}}: mean %{{y:.3f}}<extra></extra>",
            )
        )
    fig.update_xaxes(step_axis(counted(activations["step"])))
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
    fig.update_xaxes(layer_axis("tanh layer, 1 = input side", int(profiles["layer"].max())))
    fig.update_yaxes(value_axis("RMS of dL/dz", profiles["delta_rms"], log=True), row=1, col=1)
    fig.update_yaxes(value_axis("|dL/dW|", profiles["weight_grad_norm"], log=True), row=1, col=2)
    return layout(fig, "tanh at initialization: gradients per layer")


def he_comparison(metrics: pd.DataFrame, profiles: pd.DataFrame) -> go.Figure:
    """He et al.'s Figure 3 (error over training, 30 layers, both inits) beside the
    backpropagated gradient per layer at step 1 (the initial weights)."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Test error during training", "Backpropagated gradient at step 1"),
        horizontal_spacing=0.12,
    )
    tested = metrics.dropna(subset=["test_accuracy"]).assign(test_error=lambda f: 1 - f["test_accuracy"])
    series_lines(
        fig,
        tested.assign(step=counted(tested["step"])),
        "init",
        "step",
        "test_error",
        col=1,
        hovertemplate="%{fullData.name}, after step %{x}: test error %{y:.0%}<extra></extra>",
    )
    hidden = profiles[profiles["layer"] <= profiles["layer"].max() - 1]
    series_lines(fig, hidden.assign(delta=hidden["delta_rms"].clip(lower=TINY)), "init", "layer", "delta", col=2)
    fig.update_xaxes(step_axis(counted(tested["step"])), row=1, col=1)
    fig.update_yaxes(title="test error", range=[0, 1], tickformat=".0%", row=1, col=1)
    fig.update_xaxes(layer_axis("ReLU layer, 1 = input side", int(hidden["layer"].max())), row=1, col=2)
    fig.update_yaxes(value_axis("RMS of dL/dz", hidden["delta_rms"].clip(lower=TINY), log=True), row=1, col=2)
    return layout(fig, "30 ReLU layers: Xavier vs He initialization")


PERCENTILE_COLUMNS = ("p15", "p50", "p85")


def ioffe_figure(curves: pd.DataFrame, percentiles: pd.DataFrame) -> go.Figure:
    """Ioffe & Szegedy's Figure 1: test accuracy with and without batch norm, and the
    15th/50th/85th percentiles of one last-layer sigmoid's input over training (a run's
    `unit`, numbered from 1 on the chart)."""
    runs = list(dict.fromkeys(percentiles["run"]))
    units = percentiles.groupby("run", sort=False)["unit"].first()
    fig = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=("Test accuracy", *(f"Unit {units[run] + 1}'s input, {run}" for run in runs)),
        horizontal_spacing=0.07,
    )
    series_lines(fig, curves, "run", "step", "test_accuracy", col=1)
    for col, run in enumerate(runs, start=2):
        rows = percentiles[percentiles["run"] == run]
        for p, dash in zip(PERCENTILE_COLUMNS, ("dot", "solid", "dash"), strict=True):  # (one look each, as the legend)
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
    fig.update_xaxes(step_axis(curves["step"]))
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
    fig.update_xaxes(layer_axis("layer, 1 = input side", int(profiles["layer"].max())))
    fig.update_yaxes(value_axis("variance", profiles["act_var"].clip(lower=TINY), log=True), row=1, col=2)
    return layout(fig, "Activations through the layers at initialization")


def bn_by_depth(depths: pd.DataFrame, prediction: pd.DataFrame) -> go.Figure:
    """Yang et al.: ReLU with batch norm at initialization, the RMS of dL/dz relative to
    the top hidden layer, by how far below the top, for each depth; the theory's rate dashed."""
    fig = make_subplots(rows=1, cols=1)
    series_lines(fig, depths, "series", "below_top", "relative", marker={"size": 4})
    rate = float(prediction["relative"].iloc[1] / prediction["relative"].iloc[0])
    fig.add_trace(
        go.Scatter(
            x=prediction["below_top"],
            y=prediction["relative"],
            name=f"theory: ×{rate:.2f} a layer",
            mode="lines",
            line={"color": "gray", "width": 2, "dash": "dash"},
        )
    )
    # the input on the left, as in every other profile (bn_variants beside it): the top at the right
    fig.update_xaxes(title="← toward the input · layers below the top hidden layer", autorange="reversed")
    fig.update_yaxes(value_axis("RMS of dL/dz ÷ top layer's", plotted(fig), log=True))
    return layout(fig, "ReLU with batch norm at initialization: the gradient grows toward the input")


def bn_variants(variants: pd.DataFrame) -> go.Figure:
    """Yang et al.: the same depth with other activations, and with residual connections."""
    fig = make_subplots(rows=1, cols=1)
    series_lines(fig, variants, "run", "layer", "relative", marker={"size": 4})
    depth = int(variants["layer"].max())
    fig.update_xaxes(layer_axis("layer, 1 = input side", depth))
    fig.update_yaxes(value_axis("RMS of dL/dz ÷ top layer's", plotted(fig), log=True))
    return layout(fig, f"{depth} layers with batch norm: each activation, and ReLU with residual connections")


def isometry_figure(spectra: pd.DataFrame, curves: pd.DataFrame, target: float) -> go.Figure:
    """Pennington et al.: histograms of the input-output Jacobian's singular values (log)
    for tanh and for ReLU, Gaussian vs orthogonal weights; test accuracy of the tanh pair,
    up to the `target` accuracy."""
    fig = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=("tanh: Jacobian's singular values", "ReLU: Jacobian's singular values", "tanh: test accuracy"),
        horizontal_spacing=0.08,
    )
    low = float(np.floor(spectra["log10_singular_value"].min()))
    high = float(np.ceil(spectra["log10_singular_value"].max()))
    # one colour per legend entry (ReLU's bars had tanh's two colours); tanh's come first,
    # as in `series_lines`, so that each accuracy line has its histogram's colour
    colors = itertools.cycle(RUN_COLORS)
    for col, activation in ((1, "tanh"), (2, "ReLU")):
        shown = spectra[spectra["init"].str.startswith(activation)]
        for name, rows in shown.groupby("init", sort=False):
            fig.add_trace(
                go.Histogram(
                    x=rows["log10_singular_value"],
                    name=str(name),
                    legendgroup=str(name),
                    histnorm="probability",
                    xbins={"start": low, "end": high, "size": 0.25},
                    marker={"color": next(colors)},
                    hovertemplate="10^%{x}: %{y:.0%}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    # side by side in each bin: overlaid, ReLU's translucent green and red mixed into a brown of neither
    fig.update_layout(barmode="group", bargap=0.1)
    series_lines(fig, curves, "init", "step", "test_accuracy", col=3, showlegend=False, marker={"size": 4})
    fig.add_hline(y=target, line={"dash": "dot", "color": "gray"}, annotation_text=f"{target:.0%}", row=1, col=3)
    fig.update_xaxes(title="log₁₀ singular value", range=[low, high], row=1, col=1)
    fig.update_xaxes(title="log₁₀ singular value", range=[low, high], row=1, col=2)
    fig.update_yaxes(title="share of singular values", tickformat=".0%", row=1, col=1)
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
    fig.update_xaxes(step_axis(curves["step"]), row=1, col=3)
    fig.update_yaxes(tickformat=".0%", range=[0, 1], row=1, col=3)
    return layout(fig, "Deep networks at initialization: Gaussian vs orthogonal weights", height=470)


def shattered_figure(correlation: pd.DataFrame, gradients: pd.DataFrame) -> go.Figure:
    """Balduzzi et al.: the gradient along a line of inputs for a deep plain and a deep
    residual network, and the correlation between neighbouring inputs' gradients by depth."""
    runs = list(dict.fromkeys(gradients["run"]))
    depth = int(correlation["depth"].max())
    fig = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=(*(f"{r.capitalize()}, {depth} layers: the gradient" for r in runs), "Neighbours' correlation"),
        horizontal_spacing=0.08,
    )
    for i, run in enumerate(runs):
        rows = gradients[gradients["run"] == run]
        fig.add_trace(
            go.Scatter(
                x=rows["position"],
                y=rows["gradient"],
                name=run,
                legendgroup=run,
                showlegend=False,
                mode="lines",
                line={"color": RUN_COLORS[i], "width": 1.5},
            ),
            row=1,
            col=i + 1,
        )
        fig.update_xaxes(title="position along the line of inputs", row=1, col=i + 1)
    series_lines(fig, correlation, "run", "depth", "correlation", col=3, showlegend=True, marker={"size": 4})
    fig.add_hline(y=0, line={"color": "gray", "dash": "dash"}, row=1, col=3)
    fig.update_yaxes(title="d output / d position (÷ its std)", row=1, col=1)
    fig.update_xaxes(title="depth (hidden layers)", row=1, col=3)
    fig.update_yaxes(range=[-0.2, 1.02], row=1, col=3)
    return layout(fig, "Gradients with respect to the input: plain vs residual (both with batch norm)", height=450)


def width_figure(spread: pd.DataFrame) -> go.Figure:
    """Hanin: the variance of ln |J u|² over random networks, by depth for each width,
    and against β = Σ 1/width, where every width falls near one line; the theory dotted."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("By depth, for each width", "Against β = depth ÷ width"),
        horizontal_spacing=0.1,
    )
    shown = spread.assign(series=spread["width"].map(lambda w: f"width {w}"))
    for col, x in ((1, "depth"), (2, "beta")):
        series_lines(fig, shown, "series", x, "spread", col=col, mode="markers", marker={"size": 5})
        for i, (_, rows) in enumerate(shown.groupby("series", sort=False)):
            fig.add_trace(
                go.Scatter(
                    x=rows[x],
                    y=rows["predicted"],
                    name=f"theory, {rows['series'].iat[0]}",
                    legendgroup="theory",
                    showlegend=False,
                    mode="lines",
                    line={"color": RUN_COLORS[i % len(RUN_COLORS)], "width": 2, "dash": "dot"},
                    hoverinfo="skip",
                ),
                row=1,
                col=col,
            )
    fig.add_trace(  # the theory's legend entry, in no width's colour (in the first width's, it named that line only)
        legend_entry(
            "theory: dotted, in its width's colour",
            legendgroup="theory",
            line={"color": "#31333F", "width": 2, "dash": "dot"},
        ),
        row=1,
        col=1,
    )
    beta = np.linspace(0, float(spread["beta"].max()), 50)
    fig.add_trace(
        go.Scatter(
            x=beta,
            y=5 * beta,
            name="5β (wide layers)",
            mode="lines",
            line={"color": "gray", "width": 2, "dash": "dash"},
        ),
        row=1,
        col=2,
    )
    fig.update_xaxes(title="depth (hidden layers)", row=1, col=1)
    fig.update_xaxes(title="β = Σ 1/width", row=1, col=2)
    fig.update_yaxes(title="variance of ln |J u|²", rangemode="tozero")
    return layout(fig, "ReLU, He init: how much |J u|² varies from one random network to the next")
