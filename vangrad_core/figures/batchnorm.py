"""Batch norm from the inside: one layer's stages, and gamma and beta over training."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..writing import fixed
from .style import counted, empty, layer_colors, layout, line_mode, new_figure, step_axis, thin_steps


def mean_and_std(values: pd.Series) -> str:
    """ "mean 0.00, std 1.00": a stage's histogram's heading, and what its caption says."""
    # (rounded first: a mean of -0.001 reads "0.00", not "−0.00")
    return f"mean {fixed(round(values.mean(), 2) + 0.0)}, std {fixed(values.std(ddof=0))}"


def norm_stages(stages: pd.DataFrame, layer: int) -> go.Figure:
    """Histograms of one layer's values before batch norm, standardized, and after
    the learned scale and shift."""
    names = ("input", "standardized", "scaled and shifted")
    parts = {name: stages.loc[stages["stage"] == name, "value"] for name in names}
    titles = [f"{name}<br>{mean_and_std(values)}" for name, values in parts.items()]
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, subplot_titles=titles)
    for col, (values, color) in enumerate(zip(parts.values(), ("#7f7f7f", "#1f77b4", "#2ca02c"), strict=True), start=1):
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
    fig.update_yaxes(title="share of values", tickformat=".0%", row=1, col=1)
    fig.update_xaxes(title="value")
    # room for the panels' two-line titles under the chart's own
    return layout(fig, f"Layer {layer}: batch norm, step by step", margin={"l": 70, "r": 20, "t": 110, "b": 10})


def norm_parameters(layers: pd.DataFrame, column: str, title: str, axis: str) -> go.Figure:
    """A norm parameter's mean per layer over training, one line per layer."""
    rows = thin_steps(layers[layers[column].notna()])
    if rows.empty:
        return empty(title, "This network has no batch norm" if not layers.empty else "Press Train")
    fig = new_figure()
    layer_ids = sorted(rows["layer"].unique())
    for color, (layer, part) in zip(layer_colors(len(layer_ids) + 1), rows.groupby("layer"), strict=False):
        fig.add_trace(
            go.Scatter(
                x=counted(part["step"]),
                y=part[column],
                name=f"layer {layer}",
                mode=line_mode(len(part)),
                line={"color": color, "width": 3},
                marker={"color": color, "size": 6},
                hovertemplate=f"layer {layer}, step %{{x}}: %{{y:.3g}}<extra></extra>",
            )
        )
    fig.update_xaxes(step_axis(counted(rows["step"])))
    fig.update_yaxes(title=axis)
    return layout(fig, title)
