"""Recurrent runs: the gradient through time, t by t, and what explains it."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import (
    KEY_GREY,
    RUN_COLORS,
    drawable,
    empty,
    layout,
    legend_entry,
    letter,
    level_line,
    line_markers,
    name_the_unstarted,
    new_figure,
    plotted,
    series_lines,
    started,
    step_label,
    value_axis,
    zero_floor,
    zero_key,
    zero_markers,
)

EXPLAINED_BY = {  # cell -> its lines: (time_gradients column, what it is, dash)
    # the measured factor, which multiplies out to the first chart's, and the Jacobian's typical
    # gain, which explains it only roughly: the gradient turns toward the directions the
    # Jacobians stretch (a sigmoid RNN: ×0.49 a step measured, a typical gain of 0.17)
    "rnn": (
        ("passed_back", "dL/dh_(t−1) ÷ dL/dh_t, measured", "solid"),
        ("jacobian_gain", "‖∂h_t/∂h_(t−1)‖, RMS over directions", "dot"),
    ),
    # a gate's mean hides the few units that keep their memory and carry the gradient
    "lstm": (
        ("most_open_gate", "forget gate f_t, most open unit", "solid"),
        ("forget_gate", "forget gate f_t, mean of the units", "dot"),
    ),
    "gru": (
        ("most_open_gate", "update gate z_t (1 keeps h), most open unit", "solid"),
        ("update_gate", "update gate z_t, mean of the units", "dot"),
    ),
}


ALIGN_LENGTHS = 2  # runs this many times longer than another: drawn by steps back from their ends (`steps_back`)
DASH_ORDER = ("dot", "solid", "dash")  # then, now, the bound: in the key in this order
MOMENT_WORDS = {"dot": "first step", "solid": "now (each run's last step)"}


def steps_back(runs: dict[str, pd.DataFrame]) -> bool:
    """Whether runs of these lengths are drawn against the steps back from their last
    input, their ends aligned (one ALIGN_LENGTHS times longer than another): on one t
    axis, T = 10 beside T = 100 was a blob in a corner; aligned, its line lies along
    the longer run's last steps, where each step back multiplies by the same factor."""
    lengths = sequence_lengths(runs)
    return len(lengths) > 1 and max(lengths) >= ALIGN_LENGTHS * min(lengths)


def sequence_lengths(runs: dict[str, pd.DataFrame]) -> set[int]:
    """The sequence lengths T of the runs that have rows."""
    return {int(rows["t"].max()) for rows in runs.values() if len(rows)}


def longest_sequence(runs: dict[str, pd.DataFrame]) -> int | None:
    """The longest sequence among the runs that have rows (None if none has)."""
    return max(sequence_lengths(runs), default=None)


def time_x(t: pd.Series, length: int, aligned: bool) -> pd.Series:
    """Where time step t of a run of `length` steps is drawn: at t, or (`aligned`) at
    its count of steps back from the last input, 1 for the last."""
    return length - t + 1 if aligned else t


def time_axis(aligned: bool, after_last: str = "", length: int | None = None) -> dict:
    """The x axis of t or (`aligned`) of steps back, reversed so that the first inputs
    stay on the left. `after_last`: what happens after the last input. A t axis over
    t = 1 ... `length` (if given) and no further: markers padded it out to a "0" under
    the title "1 = the first input". (Each its own uirevision: under the charts' one,
    kept across redraws, a chart first drawn on a t axis stayed unreversed when its runs
    came to be drawn by steps back.)"""
    if aligned:
        where = f", where {after_last}" if after_last else ""
        return {
            "title": f"steps back from the last input{where} (1 = the last)",
            "autorange": "reversed",
            "uirevision": "steps back",
        }
    after = f" ({after_last} after the last)" if after_last else ""
    extent = {} if length is None else {"range": [0.5, length + 0.5]}
    return {"title": f"time step t, 1 = the first input{after}", "uirevision": "t", **extent}


def time_profiles(
    runs: dict[str, pd.DataFrame], bounds: dict[str, pd.DataFrame | None] | None = None, compact: bool = False
) -> go.Figure:
    """RMS of dL/dh_t against t (log) for each run, at its first recorded step
    (dotted) and now (solid); exact zeros as "0" markers on the floor. `bounds`
    (`recurrent.pascanu_bound` of a run's untrained weights): Pascanu et al.'s bound,
    dashed, pinned to the run's dL/dh_T at its first step. The legend is a key, short
    enough for a projector: a colour per run, a dash per moment (each line's hover
    says both), one grey marker for every run's zeros (`zero_key`; a click on a run's
    entry leaves its zeros, which the marker's own entry hides). `compact` (a projector's
    first screen): each run keyed by its letter ("A: plain tanh RNN" is the heading
    above), so that the key keeps to two rows (in three, the chart ran past a 1280×720
    screen's bottom)."""
    title = "Gradient through time: RMS of dL/dh_t"
    fig = new_figure()
    kept, dashes = [], {}  # (name, x, rows, colour) of each line drawn; dash -> what it means
    drawn = started(runs)
    aligned = steps_back(runs)
    for name, rows, color in drawn:
        length = int(rows["t"].max())
        first, last = rows["step"].min(), rows["step"].max()
        lines = [(first, "dot", step_label(first))] if last != first else []  # one step: then is now
        lines.append((last, "solid", step_label(last, now=True)))
        bound = (bounds or {}).get(name)
        if bound is not None and first == 0:
            start = rows[rows["step"] == 0]
            dashes["dash"] = "bound (γ‖W_hh‖₂)<sup>T−t</sup>"  # of the untrained weights
            fig.add_trace(
                go.Scatter(
                    x=time_x(bound["t"], length, aligned),
                    y=drawable(bound["bound"] * start["grad_rms"].iloc[-1]),
                    customdata=bound["t"],
                    name=f"{name}, {dashes['dash']}",
                    legendgroup=name,
                    showlegend=False,
                    mode="lines",
                    line={"color": color, "width": 2, "dash": "dash"},
                    opacity=0.6,
                    hovertemplate=f"{name}: at most %{{y:.3g}} at t = %{{customdata}}<extra></extra>",
                )
            )
        for step, dash, label in lines:
            part = rows[rows["step"] == step]
            x = time_x(part["t"], length, aligned)
            kept.append((letter(name) if compact else f"{name}, {label}", x, part, color))
            # the key names a moment by its step only when every run is at that step
            # (an exploding run stopped at step 26 while the clipped one went on to 600)
            dashes[dash] = label if dashes.get(dash, label) == label else MOMENT_WORDS[dash]
            shown = drawable(part["grad_rms"])
            # markers where few points can be drawn, or a point stands alone: an exploding run's last
            # step, 4.6e32 at t = 50 and exactly 0 before it, drew nothing as a line of one point
            mode, marker = line_markers(shown)
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=shown,
                    customdata=part["t"],
                    name=f"{name}, {label}",
                    legendgroup=name,
                    showlegend=False,
                    mode=mode,
                    line={"color": color, "width": 4 if dash == "solid" else 2, "dash": dash},
                    marker=marker,
                    hovertemplate=f"{name}, {label}: %{{y:.3g}} at t = %{{customdata}}<extra></extra>",
                )
            )
    if not fig.data:
        return empty(title, "Press Train to see the gradient through time")
    floor = zero_floor(*(part["grad_rms"] for _, _, part, _ in kept))
    zeros = [
        zero_markers(fig, x, part["grad_rms"], floor, name, color, position="t =", named_x=part["t"], legendgroup="0")
        for name, x, part, color in kept
    ]
    one = len(runs) == 1  # one run: its colour needs no key (a pair's run with nothing to draw is named below)
    key_color = drawn[0][2] if one else KEY_GREY
    runs_key = [] if one else [(letter(name) if compact else name, color, "solid", name) for name, _, color in drawn]
    moments = [(dashes[dash], key_color, dash, f"moment:{dash}") for dash in DASH_ORDER if dash in dashes]
    for name, color, dash, group in runs_key + moments:  # legend entries only
        fig.add_trace(legend_entry(name, legendgroup=group, line={"color": color, "dash": dash}))
    zero_key(fig, zeros, "0", key_color)  # (a key a line: "A: exactly 0" and B's took a third row on a projector)
    if not one:
        name_the_unstarted(fig, runs, compact)
    fig.update_xaxes(time_axis(aligned, "the loss is read", longest_sequence(runs)))
    fig.update_yaxes(value_axis("RMS of dL/dh_t", plotted(fig), log=True))
    return layout(fig, title)


EXPLAINED_TOP = 1.2  # the factor axis's top when no factor passes 1: room for the line's label above it


def explained(runs: dict[str, pd.DataFrame], cells: dict[str, str]) -> go.Figure:
    """What each run's gradient is multiplied by at each t, now: the plain RNN's
    measured factor and its Jacobian's typical gain; the LSTM's forget gate, the GRU's update gate, each in its most
    open unit (solid) and as the mean of the units (dotted)."""
    title = "What carries the gradient back, step by step"
    fig = new_figure()
    aligned = steps_back(runs)
    for name, rows, color in started(runs):
        last = rows[rows["step"] == rows["step"].max()].sort_values("t")
        length = int(last["t"].max())
        size = drawable(last["grad_rms"])  # (a float32 underflow's ratio is no measurement)
        last = last.assign(passed_back=size.shift(1) / size)  # at t: what the step back to t − 1 kept
        for column, what, dash in EXPLAINED_BY[cells[name]]:
            fig.add_trace(
                go.Scatter(
                    x=time_x(last["t"], length, aligned),
                    y=last[column],
                    customdata=last["t"],
                    name=f"{name}: {what}",
                    mode="lines",
                    line={"color": color, "width": 4 if dash == "solid" else 3, "dash": dash},
                    hovertemplate="t = %{customdata}: %{y:.3g}<extra></extra>",
                )
            )
    if not fig.data:
        return empty(title, "Press Train to see it")
    # An LSTM's most open forget gate runs along 1: labelled under the line, its label
    # covered that gate's line, and with the axis topped at 1 the line lay on the frame.
    # So where nothing passes more than whole, the axis goes on above 1 and the label
    # sits there; else (a factor over 1 lies above it) under the line, as before.
    above = not (plotted(fig) > 1).any()
    line = {"dash": "dot", "color": "gray"}
    level_line(fig, 1, "1: passed on whole", line, log_axis=False, side="left", above=above)
    fig.update_xaxes(time_axis(aligned, length=longest_sequence(runs)))
    fig.update_yaxes(title="factor at step t", rangemode="tozero", range=[0, EXPLAINED_TOP] if above else None)
    return layout(fig, title)


def memory_figure(accuracy: pd.DataFrame, gradients: pd.DataFrame, success: float) -> go.Figure:
    """The LSTM classic: test squared error by sequence length for each network (with the
    success line), and dL/dh_t relative to dL/dh_T at step 1 for the longest T (log)."""
    longest = int(gradients["T"].max())
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Test squared error after training (lower is better)", f"dL/dh_t ÷ dL/dh_{longest} at step 1"),
    )
    for i, (cell, rows) in enumerate(accuracy.groupby("cell", sort=False)):
        fig.add_trace(
            go.Bar(
                x=rows["T"].astype(str),
                y=rows["test_loss"],
                name=str(cell),
                legendgroup=str(cell),
                marker={"color": RUN_COLORS[i % len(RUN_COLORS)]},
                hovertemplate="T = %{x}: %{y:.3g}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    # labelled over the shortest T, which both networks solve (on the right the unsolved bars ran through it)
    fig.add_hline(
        y=success,
        line={"dash": "dot", "color": "gray"},
        annotation_text="solved",
        annotation_position="top left",
        row=1,
        col=1,
    )
    longest_rows = gradients[gradients["T"] == longest]
    series_lines(fig, longest_rows.assign(shown=drawable(longest_rows["relative_grad"])), "cell", "t", "shown", col=2)
    # the lengths as categories, side by side: as numbers Plotly spread 5, 10 and 50 along a line,
    # the first two crowded under the label at the left
    fig.update_xaxes(title="sequence length T", type="category", row=1, col=1)
    fig.update_yaxes(title="test mean squared error", rangemode="tozero", row=1, col=1)
    fig.update_xaxes(title="time step t, 1 = the first input", row=1, col=2)
    fig.update_yaxes(title="relative gradient (log scale)", type="log", exponentformat="power", row=1, col=2)
    fig.update_layout(barmode="group")
    return layout(fig, "Remembering across time: plain RNN vs LSTM on the adding problem")
