"""The charts' common style: layout, colours, log axes' floor, thinning long runs.

Layers keep one colour everywhere: a sequential scale from the input (dark) to the
output (bright). Comparisons colour their runs A, B, ... the same way on every page."""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from ..writing import number, power

LAYER_SCALE = "Viridis"  # input layer dark purple ... output layer yellow
# tiny gradients dark, large bright; without Inferno's first colour (#000004), which
# Streamlit's chart frontend draws as if transparent
HEATMAP_SCALE = plotly.colors.sequential.Inferno[1:]
FONT_SIZE = 15
TINY = 1e-45  # below float32's smallest number: a gradient of exactly 0
# under float32's smallest normal number a gradient is 0 or an underflow: drawn as "0"
SMALLEST_NORMAL = float(np.finfo(np.float32).tiny)
# (float32 keeps such a number only roughly: two digits)
UNDERFLOW_WORDS = f"0, or under {number(SMALLEST_NORMAL)}"
# Plotly's default, "hide past div", measures every tick label in the browser at every
# redraw to hide those past the chart's edge (20% of the page's drawing while a run
# trained); with "allow" the profile, heatmap, saturation and ridgeline charts redraw
# 1.3-1.7x faster (python -m bench.render, docs/architecture.md).
TICK_LABEL_OVERFLOW = "allow"


# Then and now, the same in every chart: the first recorded step (the initial weights)
# grey and dotted, the latest step blue with its markers in the layers' colours.
THEN_COLOR = "rgba(128,128,128,0.7)"
NOW_COLOR = "#1f77b4"


def step_label(step: int, now: bool = False) -> str:
    """A recorded step as every chart names it: counted from 1, like the Step number."""
    return f"step {step + 1}" + (" (now)" if now else " (initial weights)" if step == 0 else "")


def counted(steps: pd.Series | pd.Index) -> pd.Series | pd.Index:
    """Recorded steps on a chart's axis as the Step number and `step_label` count them:
    row s is the (s+1)-th step (its batch, its gradient, the test right after its update),
    so a run's last point sits at 500 beside "step 500 / 500"."""
    return steps + 1


FEW_STEPS = 10  # a step axis shorter than this is labelled at every step


def batches_words(what: str, window: int, *more: str) -> str:
    """A smoothed loss's name, saying what each point is: "train (mean of 20 batches)"."""
    each = "batch" if window == 1 else f"mean of {window} batches"
    return f"{what} ({', '.join([each, *more])})"


def step_axis(steps: pd.Series | pd.Index | np.ndarray | list, **extra) -> dict:
    """An x axis of training steps (`counted`), labelled at whole steps while they are
    few: a 3-step run's axis read "1, 1.5, 2, 2.5, 3"."""
    few = len(steps) > 0 and np.nanmax(steps) < FEW_STEPS
    return {"title": "training step", **({"dtick": 1} if few else {}), **extra}


FEW_POINTS = 30  # a line over fewer points than this also marks them (one point alone draws no line)


def line_mode(n_points: int) -> str:
    """A line's Plotly mode: "lines", with markers while it has few points (a run's first
    step on the Compare page drew an empty loss chart)."""
    return "lines+markers" if n_points < FEW_POINTS else "lines"


def line_markers(values: pd.Series, size: int = 10) -> tuple[str, dict]:
    """A line's Plotly mode and marker: `line_mode`'s, and where a point has no drawable
    neighbour (a line draws nothing there), a marker on it alone (a recurrent run's
    t = 1, 1.3e-38 between exact zeros, was the headline's number and not on the chart)."""
    drawn = values.notna().to_numpy()
    alone = drawn & ~np.r_[False, drawn[:-1]] & ~np.r_[drawn[1:], False]
    mode = line_mode(int(drawn.sum()))
    if mode == "lines" and alone.any():
        return "lines+markers", {"size": np.where(alone, size, 0)}
    return mode, {"size": size}


def layer_colors(n_layers: int) -> list[str]:
    """One colour per layer, from the input (first) to the output (last)."""
    return list(_layer_colors(n_layers))


@functools.lru_cache(maxsize=256)
def _layer_colors(n_layers: int) -> tuple[str, ...]:  # (sampling a scale: ~1 ms, every chart, every redraw)
    return tuple(sample_colorscale(LAYER_SCALE, np.linspace(0, 0.92, max(n_layers, 2)).tolist())[:n_layers])


def new_figure(traces: Iterable = ()) -> go.Figure:
    """A figure of `traces` with an empty template: Plotly copies its default template
    (Streamlit's) into every new figure and again at every read of the layout; `layout`
    sets it once, at the end (the playground's charts about 10% faster, same JSON).
    Charts redrawn live pass their traces here at once, as dicts of NumPy arrays: a
    go.Scatter is validated by itself and again by the figure, a pandas Series goes
    through Plotly's dataframe layer, and each add_trace copies the figure's traces
    (the update chart 41 -> 25 ms at depth 20, the same JSON)."""
    return go.Figure(data=list(traces), layout={"template": {}})


def plain_layout(fig: go.Figure) -> dict:
    """`fig`'s layout as plain dicts to change and set back in one assignment, without
    its template: Plotly copies its default one in again when the layout is set, and
    validating a template given back is most of that assignment's cost."""
    return {key: value for key, value in fig.layout.to_plotly_json().items() if key != "template"}


def layout(fig: go.Figure, title: str, height: int = 430, **extra: object) -> go.Figure:
    """The charts' common layout, plus `extra` (e.g. whole `xaxis`, `yaxis` dicts), on
    top of what `fig` has (an axis given whole replaces the figure's). One assignment,
    not update_layout or update_xaxes: their path handling costs a millisecond or more
    a call, and the live charts are rebuilt several times a second."""
    kept = plain_layout(fig)
    spec = {  # Plotly's default template goes: the page's theme styles the charts
        "xaxis": {},
        "yaxis": {},
        **kept,
        "title": {"text": title, "x": 0, "xanchor": "left"},
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 50, "b": 10},
        "font": {"size": FONT_SIZE},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left", "x": 0},
        "uirevision": "keep",  # keep zoom and hidden traces across live updates
        **extra,
    }
    for name, axis in spec.items():
        if name.startswith(("xaxis", "yaxis")):
            spec[name] = {"ticklabeloverflow": TICK_LABEL_OVERFLOW, **axis}
    fig.layout = spec
    return fig


EMPTY_LINE = 32  # characters: a chart half a 1280-px screen wide beside an open sidebar fits this


EMPTY_NOTE = "nothing to draw"  # the name of an empty chart's note


def empty(title: str, message: str) -> go.Figure:
    """A chart with nothing to draw yet: its title and `message` in the middle (broken
    into lines: Plotly does not wrap a text, it lets it run past the chart's edge)."""
    fig = new_figure()
    note_in_middle(fig, _wrapped(message), name=EMPTY_NOTE, font={"size": 18})
    return layout(fig, title, xaxis={"visible": False}, yaxis={"visible": False})


def empty_because(fig: go.Figure, message: str) -> go.Figure:
    """`fig`, if it is an empty chart (`empty`), saying `message` instead: why there is
    nothing to draw, where only the page knows (a run that diverged before its first
    step, whose charts said "Press Train" beside a disabled Train)."""
    return fig.update_annotations(selector={"name": EMPTY_NOTE}, text=_wrapped(message))


def _wrapped(message: str) -> str:
    return "<br>".join(textwrap.wrap(message, EMPTY_LINE))


def note_in_middle(fig: go.Figure, text: str, **style: object) -> None:
    """`text` in the middle of the plot: where every value is 0, an empty chart looks broken."""
    fig.add_annotation(text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, **style)


def thin_steps(frame: pd.DataFrame, max_steps: int = 150) -> pd.DataFrame:
    """At most `max_steps` evenly spaced steps of a long frame (always the last):
    a chart of 20000 steps shows no more than one of 150, and draws much faster."""
    steps = frame["step"].unique()
    if len(steps) <= max_steps:
        return frame
    keep = steps[np.unique(np.linspace(0, len(steps) - 1, max_steps).round().astype(int))]
    return frame[frame["step"].isin(keep)]


def steps_of(layers: pd.DataFrame) -> tuple[int, int]:
    steps = layers["step"]
    return int(steps.iloc[0]), int(steps.iloc[-1])


# the axis of a chart by layer whose last point is the output layer (kept whole when presenting)
LAYER_AXIS_TO_OUTPUT = "layer, 1 = input side, last = output"


def tick(n_layers: int) -> int:
    return 1 if n_layers <= 25 else 5 if n_layers <= 60 else 10


def layer_axis(title: str, n_layers: int) -> dict:
    """An x axis of layers 1..n: labelled every `tick` layers, over the layers' own
    extent (a line's markers alone padded it out to a layer 0 and a layer n + 1, which
    do not exist)."""
    return {"title": title, "dtick": tick(n_layers), "range": [0.5, n_layers + 0.5]}


RUN_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")  # run A, run B, run C... in comparisons


def started(runs: dict[str, pd.DataFrame]):
    """(name, frame, colour) of each run that has taken a step."""
    return [
        (name, frame, color) for (name, frame), color in zip(runs.items(), RUN_COLORS, strict=False) if not frame.empty
    ]


def legend_entry(name: str, mode: str = "lines", **style: object) -> go.Scatter:
    """A trace with nothing to draw, for the legend alone: `name` beside a sample of
    `style` (its line or marker), for what the chart draws otherwise (a shape, lines
    named elsewhere) or not at all."""
    return go.Scatter(x=[None], y=[None], name=name, mode=mode, **style)


def letter(name: str) -> str:
    """A pair's run by its letter: "A: plain tanh RNN" → "A"."""
    return name.split(":")[0]


def name_the_unstarted(fig: go.Figure, runs: dict[str, pd.DataFrame], compact: bool = False) -> None:
    """A legend entry, in its colour, for each run with nothing to draw (one that
    diverged on its first step), and the legend shown: with one run drawn Plotly hid
    it, and the chart no longer said whose line it was. `compact`: the run by its letter."""
    for (name, frame), color in zip(runs.items(), RUN_COLORS, strict=False):
        if frame.empty:
            who = letter(name) if compact else name
            fig.add_trace(legend_entry(f"{who}: no step to draw", line={"color": color, "width": 4}))
    fig.update_layout(showlegend=True)


RUN_DASHES = ("solid", "dash", "dot", "dashdot")


def run_dash(i: int) -> str:
    """The dash of the comparison's `i`-th run (0: A, solid; 1: B, dashed; ...): in greyscale, its lines differ."""
    return RUN_DASHES[i % len(RUN_DASHES)]


def series_lines(fig: go.Figure, frame: pd.DataFrame, by: str, x: str, y: str, col: int = 1, **scatter) -> None:
    """One line per value of `by`, coloured like the comparison pages' runs, in the
    legend from the first panel; `scatter` adds to (or overrides) each trace's settings."""
    for i, (name, rows) in enumerate(frame.groupby(by, sort=False)):
        trace = {
            "name": str(name),
            "legendgroup": str(name),
            "showlegend": col == 1,
            "mode": "lines+markers",
            "line": {"color": RUN_COLORS[i % len(RUN_COLORS)], "width": 3, "dash": run_dash(i)},
        }
        fig.add_trace(go.Scatter(x=rows[x], y=rows[y], **(trace | scatter)), row=1, col=col)


def drawable(values: pd.Series) -> pd.Series:
    """What a log axis can draw: exact zeros and float32 underflows become gaps
    (`zero_markers` draws them on the axis floor)."""
    return values.where(values >= SMALLEST_NORMAL)


def zero_floor(*series: pd.Series) -> float:
    """Where a log chart puts its zeros: a decade under the smallest drawable value."""
    values = pd.concat([drawable(pd.Series(s, dtype=float)) for s in series]).dropna()
    values = values[np.isfinite(values)]
    return float(values.min()) / 10 if len(values) else 1e-3


def hline(y: float, line: dict) -> dict:
    """A horizontal line across the chart at `y`, as the shape add_hline makes, without
    add_hline's search of the figure's subplots (6 ms a call, at every redraw). Under the
    traces: an LSTM's most open forget gate runs along "1: passed on whole", and a line
    drawn over it hid the gate's. (Under the grid lines too: "between", which plotly.js
    documents for that, fails to draw in its cartesian bundle that the charts load.)"""
    return {
        "type": "line",
        "layer": "below",
        "xref": "x domain",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": y,
        "y1": y,
        "line": line,
    }


# a level line's label this far off its line: clear of a 4-px line along it (tour step 14's LSTM gate at 0.99
# ran under the edge of "1: passed on whole")
LABEL_CLEARANCE_PX = 3
# a label over the lines: readable (at 0.5, tour step 3's bundle of lines ran through its text), the lines under it seen
LABEL_BACKGROUND = "rgba(255, 255, 255, 0.8)"


def level_line(
    fig: go.Figure, y: float, text: str, line: dict, *, log_axis: bool, side: str = "right", above: bool = True
) -> None:
    """A horizontal line at `y`, labelled at one `side`, just `above` it (or under), the
    label on LABEL_BACKGROUND. Not add_hline's own label: Plotly.js reads an
    annotation's y on a log axis as log10, so "1e-3: a healthy rate" sat at 10^0.001,
    the top of the chart."""
    fig.add_shape(hline(y, line))
    fig.add_annotation(
        text=text,
        x=1 if side == "right" else 0,
        xref="paper",
        xanchor=side,
        y=math.log10(y) if log_axis else y,
        yref="y",
        yanchor="bottom" if above else "top",
        yshift=LABEL_CLEARANCE_PX if above else -LABEL_CLEARANCE_PX,
        showarrow=False,
        bgcolor=LABEL_BACKGROUND,
    )


MAX_ZERO_LABELS = 12  # zero markers labelled "0" one by one up to this many (the legend says it for more)
# ... and on an axis of at most this many points: at t = 1 ... 11 of 50 the labels ran together, "00000000000"
MAX_LABELLED_POINTS = 30


LOG_SPAN = 10  # values this many times apart, or more, drawn on a log axis
SHORT_LOG_SPAN = 100  # values less far apart: a log axis labelled 1, 2, 5 in plain decimals
MAX_COLORBAR_TICKS = 5  # a colour bar's labels (a sixth, at its end, where they divide evenly)
DECADES_LABELLED_ALONE = 1e6  # values less far apart (and not short): each decade labelled, nothing between


def plotted(fig: go.Figure) -> np.ndarray:
    """Every y value the figure's traces draw (NaN where they draw none)."""
    return np.concatenate([np.asarray(trace.y, dtype=float) for trace in fig.data if trace.y is not None])


def value_axis(title: str, values: object, log: bool = False) -> dict:
    """A y axis for positive values: a log one, unless they all lie within a factor of
    LOG_SPAN (and not `log`): within a decade, bars on a log axis mislead (0.26 drawn
    as a sliver beside 0.29) and its labels pile up (1, 0.9, 0.8 on a presented chart)."""
    values = np.asarray(values, dtype=float)
    on_floor = (np.isfinite(values) & (values < SMALLEST_NORMAL)).any()  # zeros drawn at TINY: decades on
    values = values[np.isfinite(values) & (values >= SMALLEST_NORMAL)]
    if not log and len(values) and values.max() < LOG_SPAN * values.min():
        return {"title": title, "rangemode": "tozero"}
    axis = {"title": f"{title} (log scale)", "type": "log", "exponentformat": "power"}
    return axis if on_floor else axis | decade_ticks(values)


def decade_ticks(values: object) -> dict:
    """A log axis's ticks for positive `values` (all drawn, none on a floor far below):
    within a decade or two, 0.05, 0.1, 0.2 in plain decimals where Plotly labels every
    digit small ("6 5 4 3 2 10⁻¹ 9 8"); over two to six decades, the decades alone where
    it labels 5 and 2 between them ("10⁻², 5, 2, 10⁻³", read as 5 and 2); else its own."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if not len(values):
        return {}
    low, high = values.min(), values.max()
    if high < SHORT_LOG_SPAN * low:
        if 1e-3 <= low and high < 1e4:
            return {"dtick": "D2", "tickformat": "~g", "minorloglabels": "complete"}
        # too small (or large) for plain decimals, and a decade's ticks would label nothing: 1, 2 and 5
        # times each power of ten, written out ("2e−5"), where Plotly labelled the digits between two
        # decades alone, at 8 px ("2 3 4 ... 9": the "2" was 2e−5)
        ticks = round_ticks(math.log10(low), math.log10(high))
        return {"tickmode": "array", "tickvals": [10.0**tick for tick in ticks], "ticktext": list(ticks.values())}
    return {"dtick": 1} if high < DECADES_LABELLED_ALONE * low else {}


def round_ticks(low: float, high: float) -> dict[float, str]:
    """Ticks from 10^`low` to 10^`high`, by their log₁₀: 1, 2 and 5 times the powers of
    ten in the span, each written as the captions write numbers ("5e−3", "0.01", "0.02"),
    and its ends where fewer than two of those are (between 3e−4 and 4.5e−4 there is none)."""
    round_ones = {
        tick: number(mantissa * 10.0**exponent, 1)
        for exponent in range(math.floor(low), math.ceil(high) + 1)
        for mantissa in (1, 2, 5)
        if low <= (tick := exponent + math.log10(mantissa)) <= high
    }
    if len(round_ones) < 2:
        round_ones = {low: number(10.0**low), **round_ones, high: number(10.0**high)}
    at: dict[str, float] = {}
    for tick in sorted(round_ones):
        at.setdefault(round_ones[tick], tick)  # a label once (ends that round alike)
    return {tick: label for label, tick in at.items()}


def decade_colorbar(low: float, high: float, **extra) -> dict:
    """A colour bar for log₁₀ values from `low` to `high`, labelled as the powers of ten
    they stand for (10⁻⁵, not −5 under "log₁₀": its "0", a gradient of 1, sat beside a
    title's "darkest: 0", a gradient of 0); where no two whole decades fit, as numbers
    written as the captions write them: 1, 2 and 5 times the powers of ten in the span,
    and its ends where fewer than two of those are."""
    first, last = math.ceil(low), math.floor(high)
    if last - first < 1:
        ticks = round_ticks(low, high)
        return {"tickvals": list(ticks), "ticktext": list(ticks.values()), **extra}
    ticks = list(range(first, last + 1, math.ceil((last - first) / MAX_COLORBAR_TICKS)))
    return {"tickvals": ticks, "ticktext": [power("10", tick) for tick in ticks], **extra}


def darkest_words(zeros: np.ndarray) -> str:
    """A colour map's note on its darkest colour, for the values drawn in it (those under
    float32's smallest normal number): "0", or "≈0" when some only underflowed, as
    `zero_markers` labels them (a hover may print such a number: 1e-42)."""
    if not len(zeros):
        return ""
    return " (darkest: 0)" if (zeros == 0).all() else " (darkest: ≈0)"


def zero_markers(
    fig: go.Figure,
    x: pd.Series,
    values: pd.Series,
    floor: float,
    name: str,
    color: str,
    meaning: str = "no gradient at all",
    position: str = "layer",
    labelled: bool = True,
    named_x: pd.Series | None = None,
    legendgroup: str | None = None,
) -> str | None:
    """Points whose value is 0 (or under float32's smallest normal), as labelled "0"
    markers on the axis floor: a log axis cannot show 0, and 1e-45 is not a number
    anyone measured. `meaning`: what a 0 says, and `position` what x is, in the hover
    (`named_x`, if given, the x it names: a chart drawn by steps back still names t);
    `labelled=False`: markers only, the legend saying it ("exactly 0", or
    UNDERFLOW_WORDS when some only underflowed: a headline prints those, e.g. 2e-41).
    With a `legendgroup`, no entry of their own: one key for the group (`zero_key`).
    Returns what the markers mean ("exactly 0" or UNDERFLOW_WORDS), None if none is drawn."""
    values = np.asarray(values, dtype=float)
    zero = values < SMALLEST_NORMAL
    # (many "0"s read as a row of rings; close together they run into one number)
    written = labelled and zero.sum() <= MAX_ZERO_LABELS and len(zero) <= MAX_LABELLED_POINTS
    if zero.any():
        exact = values[zero] == 0  # the rest underflowed: a number the headline may print, not 0
        named = "x" if named_x is None else "hovertext"
        words = "exactly 0" if exact.all() else UNDERFLOW_WORDS
        whose = "" if legendgroup is None else name  # (under one key, the hover names the run)
        fig.add_trace(
            go.Scatter(
                x=np.asarray(x)[zero],
                y=np.full(zero.sum(), floor),
                name=f"{name}: {words}",
                legendgroup=legendgroup,
                showlegend=legendgroup is None,
                mode="markers+text" if written else "markers",
                text=np.where(exact, "0", "≈0").tolist() if written else None,
                textposition="top center",
                textfont={"color": color},
                marker={"symbol": "triangle-down", "size": 12, "color": color},
                customdata=np.where(exact, f"0 ({meaning})", "under float32's smallest normal number"),
                hovertext=None if named_x is None else np.asarray(named_x)[zero].tolist(),
                hovertemplate=f"{position} %{{{named}}}: %{{customdata}}<extra>{whose}</extra>",
            )
        )
        return words
    return None


KEY_GREY = "#7f7f7f"  # a key's sample of what every run draws in its own colour


def zero_key(fig: go.Figure, words: list[str | None], legendgroup: str, color: str = KEY_GREY) -> None:
    """One legend entry, a marker in `color`, for the zero markers that `zero_markers`
    drew in `legendgroup` (`words`: what each call returned), where an entry a run ("A: 0,
    or under 1.2e-38", "B: ...") took a row of a projector's key."""
    said = {w for w in words if w is not None}
    if said:
        name = UNDERFLOW_WORDS if UNDERFLOW_WORDS in said else "exactly 0"
        marker = {"symbol": "triangle-down", "size": 12, "color": color}
        fig.add_trace(legend_entry(name, mode="markers", legendgroup=legendgroup, marker=marker))
