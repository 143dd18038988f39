"""Two (or more) runs overlaid, coloured A, B, ... alike on every page."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from ..writing import number
from .style import (
    KEY_GREY,
    LABEL_BACKGROUND,
    LAYER_AXIS_TO_OUTPUT,
    batches_words,
    counted,
    decade_ticks,
    drawable,
    empty,
    hline,
    layer_axis,
    layout,
    legend_entry,
    letter,
    line_mode,
    name_the_unstarted,
    new_figure,
    note_in_middle,
    run_dash,
    started,
    step_axis,
    thin_steps,
    zero_floor,
    zero_key,
    zero_markers,
)


def compare_profiles(runs: dict[str, pd.DataFrame]) -> go.Figure:
    """RMS of dL/dz per layer at the latest step of several runs, overlaid (log);
    exact zeros as "0" markers on the axis floor."""
    title = "Gradient per layer now: RMS of dL/dz"
    fig = new_figure()
    lasts = [(name, layers[layers["step"] == layers["step"].iloc[-1]], color) for name, layers, color in started(runs)]
    for name, last, color in lasts:
        fig.add_trace(
            go.Scatter(
                x=last["layer"],
                y=drawable(last["delta_rms"]),
                name=f"{name} (step {int(last['step'].iloc[0]) + 1})",
                mode="lines+markers",
                line={"color": color, "width": 4},
                marker={"size": 9},
            )
        )
    if not fig.data:
        return empty(title, "Press Train to compare")
    name_the_unstarted(fig, runs)
    floor = zero_floor(*(last["delta_rms"] for _, last, _ in lasts))
    zeros = [  # (labels of one run's zeros were written over another run's line)
        zero_markers(
            fig, last["layer"], last["delta_rms"], floor, name, color, labelled=len(lasts) == 1, legendgroup="0"
        )
        for name, last, color in lasts
    ]
    zero_key(fig, zeros, "0", lasts[0][2] if len(lasts) == 1 else KEY_GREY)  # (one key for every run's zeros)
    fig.update_xaxes(layer_axis(LAYER_AXIS_TO_OUTPUT, max(int(last["layer"].max()) for _, last, _ in lasts)))
    fig.update_yaxes(title="RMS of dL/dz (log scale)", type="log", exponentformat="power")
    return layout(fig, title)


LOG_LOSS_SPAN = 1e3  # losses this many times apart (a run that blew up beside one that learns): a log axis
# a run whose loss passes the others' largest this many times leaves the chart at its top (an exploding
# RNN's 2.5e34 pressed its clipped partner's whole curve, about 0.2, flat onto the "learning nothing" line)
OFF_CHART_SPAN = 1e6
OFF_CHART_ROOM = 100  # the axis's top: this many times the largest loss of the runs that stay on it


def compare_curves(
    runs: dict[str, pd.DataFrame], window: int = 1, nothing_learned: float | None = None, compact: bool = False
) -> go.Figure:
    """Training loss of several runs, overlaid (each point the mean of the last `window`
    batches), B's line dashed (where the runs' losses are the same, B's solid line hid
    A's); on a log axis when they span LOG_LOSS_SPAN or more, where a linear one drew
    the learning run flat on 0; with a line at `nothing_learned`, what a network that
    learned nothing scores, if given. `compact` (a projector's first screen): each run
    keyed by its letter, its name the heading above (the key of "A: spectral radius 3"
    and "B: spectral radius 3, clipped at 1" took three rows, past a 1280×720 screen)."""
    fig, drawn = new_figure(), {}  # run -> its loss as drawn
    dashes = {name: run_dash(i) for i, name in enumerate(runs)}
    for name, metrics, color in started(runs):
        kept = thin_steps(metrics, 300)
        smooth = metrics["loss"].rolling(window, min_periods=1).mean().loc[kept.index]
        drawn[name] = smooth
        fig.add_trace(
            go.Scatter(
                x=counted(kept["step"]),
                y=smooth,
                name=letter(name) if compact else name,
                mode=line_mode(len(kept)),
                line={"color": color, "width": 4, "dash": dashes[name]},
                marker={"color": color, "size": 8},
                hovertemplate=f"{name}, step %{{x}}: %{{y:.3g}}<extra></extra>",
            )
        )
    if not fig.data:
        return empty("Loss", "Press Train to compare")
    fig.update_xaxes(step_axis([max(trace.x) for trace in fig.data]))
    name_the_unstarted(fig, runs, compact)
    off_chart = off_the_chart(drawn, nothing_learned)
    losses = pd.concat([line for name, line in drawn.items() if name not in off_chart])
    positive = losses[losses > 0]
    log_axis = bool(len(positive) and positive.max() >= LOG_LOSS_SPAN * positive.min()) or bool(off_chart)
    window = min(window, max(len(frame) for frame in runs.values()))  # (3 steps: means of 3 batches, not "of 20")
    if log_axis:
        axis = {"type": "log", "exponentformat": "power"} | decade_ticks(positive)
        if off_chart:  # (ticks for the whole axis: labelled 1, 2, 5 for the runs' span, they ran together)
            top = OFF_CHART_ROOM * max(positive.max(), nothing_learned or 0)
            bottom = min(positive.min(), nothing_learned or math.inf)  # (the dotted line on the chart, its label too)
            axis |= decade_ticks([bottom, top]) | {"range": [math.log10(bottom) - 0.1, math.log10(top)]}
            fig.add_annotation(
                text="; ".join(
                    f"{letter(name) if compact else name} rises to {number(peak)}, off the chart"
                    for name, peak in off_chart.items()
                ),
                x=1,
                xref="paper",
                xanchor="right",
                y=1,
                yref="paper",
                yanchor="top",
                showarrow=False,
                bgcolor=LABEL_BACKGROUND,
            )
        fig.update_yaxes(title=batches_words("loss", window, "log scale"), **axis)
    else:
        fig.update_yaxes(title=batches_words("loss", window), rangemode="tozero")
    if nothing_learned is not None:  # named in the legend: runs that learn nothing ran along it, through a label on it
        line = {"dash": "dot", "color": "gray", "width": 2}
        fig.add_shape(hline(nothing_learned, line))
        name = f"learning nothing: {number(nothing_learned, 3)}"
        fig.add_trace(legend_entry(name, line=line))
    return layout(fig, "Loss")


def off_the_chart(drawn: dict[str, pd.Series], nothing_learned: float | None) -> dict[str, float]:
    """Of the runs' losses as drawn, those (by name: their largest loss) that pass
    OFF_CHART_SPAN times the largest of every other run's (and of learning nothing),
    while some run stays under it."""
    peaks = {name: float(line.max()) for name, line in drawn.items()}
    off = {}
    for name, peak in peaks.items():
        others = [p for other, p in peaks.items() if other != name] + ([nothing_learned] if nothing_learned else [])
        if others and math.isfinite(peak) and peak > OFF_CHART_SPAN * max(others):
            off[name] = peak
    return off if len(off) < len(peaks) else {}


def compare_saturation(runs: dict[str, pd.DataFrame], flat_words: dict[str, str] | None = None) -> go.Figure:
    """Inputs on the flat part and dead units per hidden layer of several runs, side by
    side; each run's flat part named by its own word (`flat_words`, by run: "saturated"
    for tanh, "inactive" for ReLU; "saturated" where not given)."""
    flat_words = flat_words or {}
    flat_word = " or ".join(sorted({flat_words.get(name, "saturated") for name in runs}))  # (the title's)
    fig, n_hidden, anything = new_figure(), 0, False
    for name, layers, color in started(runs):
        own_word = flat_words.get(name, "saturated")
        last = layers[(layers["step"] == layers["step"].iloc[-1]) & layers["saturation"].notna()]
        n_hidden = max(n_hidden, int(last["layer"].max()))
        flat, dead = last["saturation"], last["dead_fraction"]
        shows = {own_word: bool((flat > 0).any()), "dead": bool((dead > 0).any())}
        anything = anything or any(shows.values())
        # one legend entry a run, in its colour, for its bars and its crosses (the title says which is
        # which), saying what the run shows none of: an entry for each, in rows on a projector, took the
        # chart 170 px past a 1280x720 screen
        nothing = [word for word, shown in shows.items() if not shown]
        fig.add_trace(
            go.Bar(
                x=last["layer"],
                y=flat,
                name=name + (f", none {' or '.join(nothing)}" if nothing else ""),
                legendgroup=name,
                marker={"color": color},
                hovertemplate=f"{name}, layer %{{x}}: %{{y:.1%}} {own_word}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(  # crosses only where units are dead (saturation_by_layer)
                x=last["layer"],
                y=dead.where(dead > 0),
                name=f"{name}: dead units",
                legendgroup=name,
                showlegend=False,
                mode="markers",
                marker={"symbol": "x", "size": 13, "color": color, "line": {"width": 1, "color": "black"}},
                hovertemplate=f"{name}, layer %{{x}}: %{{y:.1%}} of its units dead<extra></extra>",
            )
        )
    if not fig.data:
        return empty(f"{flat_word.capitalize()} inputs and dead units", "Press Train to compare")
    name_the_unstarted(fig, runs)
    if not anything:
        note_in_middle(fig, f"0% in every layer of every run: no {flat_word} input, no dead unit")
    fig.update_layout(barmode="group")
    fig.update_xaxes(layer_axis("hidden layer, 1 = input side", n_hidden))
    fig.update_yaxes(title="share", range=[0, 1.05], tickformat=".0%")
    return layout(fig, f"{flat_word.capitalize()} inputs (bars) and dead units (crosses)")
