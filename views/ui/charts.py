"""Showing figures and numbers: cached charts, presenter sizing, the headline numbers,
link warnings, downloads."""

from __future__ import annotations

import collections
import concurrent.futures
import json
import math
import re
import textwrap
import threading
from collections.abc import Callable, Sequence

import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from vangrad_core import figures
from vangrad_core.live import Snapshot
from vangrad_core.recurrent import ALPHABET, GUESS_LOSS, TASK_ACCURACY_NAME, TASK_LOSS_NAME, RecurrentConfig
from vangrad_core.summary import (
    GRADIENT_NAME,
    Headline,
    at_step,
    diverged_when,
    divergence_advice,
    divergence_cause,
    divergence_words,
    factor_number,
    gradient_sentence,
    headline,
    per_layer,
    time_divergence_advice,
    time_ratio,
    time_sentence,
)
from vangrad_core.workers import WorkerGone
from vangrad_core.writing import number, percent
from views.ui import classroom
from views.ui.chart_in_place import chart_in_place, figure_json
from views.ui.live import LiveRun, drawings, training_pool

MAX_WARNINGS = 12


# Presenter mode: text that reads from the back of a hall. Every text of a chart at
# least PRESENTER_TEXT_PX (Streamlit's chart theme sets ticks to 12 px and axis titles
# to 14 px, in #808495: 3.7:1 on white), in Streamlit's text colour (12.6:1).
PRESENTER_TEXT_PX = 18
PRESENTER_TEXT = {"size": PRESENTER_TEXT_PX, "color": "#31333F"}
# two of these side by side fit a 720-px screen under the headline; the legend in rows
# under the plot (inside it, at 18 px, it covered the data or squeezed the plot away)
PRESENTER_CHART = {
    "height": 300,
    "margin": {"l": 70, "r": 20, "t": 40, "b": 10},
    "legend": {"orientation": "h", "x": 0, "xanchor": "left", "yref": "container", "y": 0, "yanchor": "bottom"},
}
# a presented legend's entries at 18 px, in rows under a half-page chart (estimated: the
# chart's width is the browser's; "layer 10": 4 a row, as drawn in Chromium at 1280 px)
LEGEND_ROW_WIDTH_PX, LEGEND_ENTRY_PX, LEGEND_CHAR_PX = 500, 40, 9.5
LEGEND_ROW_PX = 60  # a further row of them: what it takes from the plot, and some back
LEGEND_UNDER_TITLE_Y = -0.3  # (of the plot's height, about 300 px) a legend under the plot clears the x axis' title
PANEL_TITLES_TOP_PX = 85  # above the plot, below the first screen: the figure's title, then its panels' (18 px each)
MANY_LABELS = 12  # a layer axis with more labelled ticks than this labels every other one
HEATMAP_ROW_LABELS = 8  # 18-px labels that fit a presented heatmap's rows (about 180 px high)
# the playground's decision boundary, below the first screen: square, as wide as half the screen
BOUNDARY_PRESENTER = {"height": 560}


def ridges_presenter(n_ridges: int) -> dict:
    """The ridgeline keeps the height its labels need (it sits below the first screen)."""
    return {"height": figures.ridges_height(n_ridges) + 60}


def large_text(figure: go.Figure) -> go.Figure:
    """Every text of `figure` (title, axes, ticks, legend, colour bars, notes) at least
    PRESENTER_TEXT_PX, in a dark colour, and axis titles `short`. Explicit, axis by
    axis: the page's chart theme sets the axes' own sizes, which a figure-wide font
    does not override."""
    text = PRESENTER_TEXT
    # the layout changed as plain dicts and set once: each of Plotly's own updates walks
    # the layout (five of them: docs/performance.md, "the projector's charts"). The
    # figure gets the default template back, as every figure has it (`style.layout`).
    spec = figures.style.plain_layout(figure)
    _merge(spec, {"font": text, "title": {"font": text}, "legend": {"font": text}})
    y_axes = [axis.plotly_name for axis in figure.select_yaxes()]
    for name in (*(axis.plotly_name for axis in figure.select_xaxes()), *y_axes):
        axis = _merge(spec.setdefault(name, {}), {"tickfont": text, "title": {"font": text}})
        if "text" in axis["title"]:
            axis["title"]["text"] = short(axis["title"]["text"])  # at 18 px long titles clip
        # a log axis's in-between labels, 2 ... 9, are drawn smaller: decades only (unless the axis spans too
        # few decades for that and labels 0.05, 0.1, 0.2 whole: `figures.style.value_axis`)
        axis.setdefault("minorloglabels", "none")
    for coloraxis in figure.select_coloraxes():
        _merge(spec.setdefault(coloraxis.plotly_name, {}), {"colorbar": {"tickfont": text, "title": {"font": text}}})
    for note in spec.get("annotations", ()):
        note.setdefault("font", {})["size"] = text["size"]
    # a heatmap's rows labelled by `dtick`: at most HEATMAP_ROW_LABELS (21 layers one by one overprinted)
    dtick = spec.get("yaxis", {}).get("dtick")
    for heatmap in figure.select_traces(selector={"type": "heatmap"}):
        labels = len(heatmap.y) / dtick if dtick and heatmap.y is not None else 0
        if labels > HEATMAP_ROW_LABELS:
            for name in y_axes:
                spec[name]["ticklabelstep"] = math.ceil(labels / HEATMAP_ROW_LABELS)
    figure.layout = spec
    for trace in figure.data:  # colour bars a trace has (touching one that is not there draws it)
        drawn = trace.to_plotly_json()
        for owner, part in ((trace, drawn), (trace["marker"] if "marker" in drawn else None, drawn.get("marker", {}))):
            if "colorbar" in part:
                owner.colorbar.tickfont = text
                owner.colorbar.title.font = text
    return figure


def _merge(into: dict, changes: dict) -> dict:
    """`into` with `changes` written over it, nested dicts key by key (as Plotly's updates do)."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = _merge({}, value) if isinstance(value, dict) else value  # (a copy: never the caller's dicts)
    return into


def short(text: str | None) -> str | None:
    """A legend entry or axis title without its explanations in parentheses: "step 1
    (initial weights)" → "step 1" (what fits a projector's chart at 18 px); one within
    another goes whole ("dead (off (output 0) for every input)" → "dead")."""
    # (a group of one level of groups, after a space and before a space, a stop or the end:
    # not a formula's "(γ‖W‖)^" or "exp(−t (1 − p))")
    return text if not text else re.sub(r"\s+\((?:[^()]|\([^()]*\))*\)(?=[\s,;:.]|$)", "", text)


def legend_rows(figure: go.Figure) -> int:
    """How many rows the legend of a presented chart takes (0 when it is hidden): its
    entries (a legend group's once), packed by the width of their text."""
    if figure.layout.showlegend is False:
        return 0
    names = {}
    for trace in figure.data:
        if trace.showlegend is not False and trace.name:
            names.setdefault(trace.legendgroup or trace.name, trace.name)
    rows, used = 0, LEGEND_ROW_WIDTH_PX
    for name in names.values():
        lines = name.split("<br>")  # (`wrap_legend`'s: each further line counted as a row)
        shown = [re.sub(r"<[^>]+>", "", line) for line in lines]  # what is drawn: "<sup>T−t</sup>" is three letters
        width = LEGEND_ENTRY_PX + LEGEND_CHAR_PX * max(map(len, shown))
        if used + width > LEGEND_ROW_WIDTH_PX:
            rows, used = rows + 1, 0
        rows, used = rows + len(lines) - 1, used + width
    return rows


def panel_titles(figure: go.Figure) -> bool:
    """Whether `figure` has titles above its panels (`make_subplots`' subplot titles:
    notes anchored by their bottom at a panel's top)."""
    return any(
        note.yref == "paper" and note.yanchor == "bottom" and (note.y or 0) >= 0.9 for note in figure.layout.annotations
    )


def first_screen_text(figure: go.Figure) -> None:
    """Short legend entries, and every other layer labelled on a crowded layer axis
    (upright labels at 18 px, where Plotly would rotate them)."""
    points = max((len(trace.x) for trace in figure.data if getattr(trace, "x", None) is not None), default=0)
    for trace in figure.data:
        trace.name = short(trace.name)
    if points > MANY_LABELS:
        figure.update_xaxes(ticklabelstep=2, selector={"dtick": 1})


LEGEND_LINE_CHARS = 45  # a legend entry's line at 18 px in a chart half a 1280-px screen wide


def wrap_legend(figure: go.Figure) -> None:
    """Long legend entries in lines (Plotly runs an entry past the chart's edge, where
    "...where the slope is 0 in float32" was cut to "...0 in floa")."""
    for trace in figure.data:
        if trace.name and len(trace.name) > LEGEND_LINE_CHARS and "<br>" not in trace.name:
            trace.name = "<br>".join(textwrap.wrap(trace.name, LEGEND_LINE_CHARS))


PRESENTER_LOG_TICKS = 4  # the most labels a first-screen chart's log axis gets on a projector


def for_presenter(figure: go.Figure, presenter: dict | None = None, first_screen: bool = True) -> go.Figure:
    """In presenter mode, larger text for the back of a lecture hall (`large_text`); for
    a chart of the first screen, also a height that keeps the two charts of the story
    there, short legend entries in rows under the plot (`first_screen_text`).
    `presenter`: what a chart sets otherwise in presenter mode."""
    if classroom.presenting():
        if first_screen:
            top = figure.layout.margin.t or 0
            figure.update_layout(**PRESENTER_CHART)
            first_screen_text(figure)
            wrap_legend(figure)
            # a legend of many rows under the plot (a line per layer): the chart grows by them,
            # where the plot shrank to a strip (11 layers: 70 px)
            figure.update_layout(height=PRESENTER_CHART["height"] + LEGEND_ROW_PX * max(0, legend_rows(figure) - 2))
            if top > PRESENTER_CHART["margin"]["t"] + 10:  # room a figure asked for above its plot (panel titles)
                figure.update_layout(margin_t=top)
            yaxis = figure.layout.yaxis
            if yaxis.type == "log" and yaxis.tickmode == "array" and len(yaxis.tickvals) > PRESENTER_LOG_TICKS:
                # (ticks given one by one, where nticks is not heeded: 1e−6 ... 5e−5, seven of them)
                every = math.ceil(len(yaxis.tickvals) / PRESENTER_LOG_TICKS)
                figure.update_yaxes(tickvals=yaxis.tickvals[::every], ticktext=yaxis.ticktext[::every])
            elif yaxis.type == "log" and yaxis.dtick in (None, 1):
                # (the plot a strip: tour step 1's 1 ... 10⁻²⁰ ran together in 110 px of large text;
                # six decades, each labelled, would too)
                figure.update_yaxes(dtick=None, nticks=PRESENTER_LOG_TICKS)
        else:
            if panel_titles(figure):  # its title and the panels' titles under it, each a line of 18 px
                figure.update_layout(margin_t=max(figure.layout.margin.t or 0, PANEL_TITLES_TOP_PX))
            if (figure.layout.legend.y or 0) < 0:  # under the plot: below the x axis' 18-px labels and title
                figure.update_layout(legend_y=min(figure.layout.legend.y, LEGEND_UNDER_TITLE_Y))
            wrap_legend(figure)
        large_text(figure)
        if presenter:
            figure.update_layout(**presenter)
    return figure


def show(figure: go.Figure, key: str, first_screen: bool = True) -> None:
    """A figure, sized for the room (`for_presenter`)."""
    chart_in_place(figure_json(for_presenter(figure, first_screen=first_screen)), key)


def cached(key: str, stamp: object, build: Callable[[], object]) -> object:
    """`build()`, kept in the session's `drawings` under `key` until `stamp` changes."""
    cache = drawings("charts")
    kept = cache.get(key)
    if kept is None or kept[0] != stamp:
        kept = cache[key] = (stamp, build())
    return kept[1]


class SharedCharts:
    """Charts' JSON kept for every session of the server, the least recently used let go
    beyond `max_bytes`. A run is the same for everyone who trains its config (its seed
    draws the weights and the batches), so one chart of it at one step is the same
    chart in every tab: a class that trains one scenario builds it once at the moments
    when every tab draws at once (Train pressed together, the runs finishing together,
    each finished page laid out anew), which is when the server's one interpreter is
    the class's queue. A key must name everything its chart is drawn from (`chart`)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._specs: collections.OrderedDict[tuple, str] = collections.OrderedDict()
        self._building: dict[tuple, concurrent.futures.Future] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.waiting = 0  # tabs waiting for another's build now

    def spec(self, key: tuple, build: Callable[[], str]) -> str:
        """The JSON kept under `key`, or `build()`'s, kept; a tab that asks for a key
        another is building waits for that one (they came together) instead of building
        it too, and builds its own if that one fails or takes longer than WAIT_SECONDS."""
        with self._lock:
            if (kept := self._specs.get(key)) is not None:
                self._specs.move_to_end(key)
                return kept
            pending = self._building.get(key)
            mine = pending is None
            if mine:
                pending = self._building[key] = concurrent.futures.Future()
            else:
                self.waiting += 1
        if not mine:
            try:
                return pending.result(timeout=WAIT_SECONDS)
            except Exception:  # (its build raised, or took too long): build it here
                return build()
            finally:
                with self._lock:
                    self.waiting -= 1
        try:
            built = build()
        except BaseException as error:
            with self._lock:
                del self._building[key]
            pending.set_exception(error)
            raise
        with self._lock:
            del self._building[key]
            self._specs[key] = built
            self._bytes += len(built)
            while self._bytes > self.max_bytes and len(self._specs) > 1:
                self._bytes -= len(self._specs.popitem(last=False)[1])
        pending.set_result(built)
        return built

    def __len__(self) -> int:
        return len(self._specs)

    def clear(self) -> None:
        with self._lock:
            self._specs.clear()
            self._bytes = 0


SHARED_CHART_BYTES = 32 * 2**20  # about a class's charts at the moments they are drawn together
WAIT_SECONDS = 5.0  # a tab waits this long for another's build of a chart (builds take 5-40 ms)


@st.cache_resource
def shared_charts() -> SharedCharts:
    return SharedCharts(SHARED_CHART_BYTES)


def chart(
    key: str,
    snap: Snapshot,
    build: Callable[[], go.Figure],
    *variant: object,
    presenter: dict | None = None,
    shared: bool = True,
) -> None:
    """The chart of `build()` (`chart_in_place`), rebuilt only when the run has moved on (or
    `variant` changed): a session that waits for a training slot, or redraws a
    paused run, costs the server almost nothing; and, if `shared`, built once for every
    tab that draws the same run at the same step (`SharedCharts`). So `build()` may
    depend on nothing but `snap` and `variant` (and presenter mode); a chart drawn from
    something else read from the run is not `shared`. `presenter`: as for `for_presenter`."""
    stamp = (snap.identity, variant, classroom.presenting(), repr(presenter))

    def spec() -> str:
        figure, why = build(), why_empty(snap)
        return figure_json(for_presenter(figures.empty_because(figure, why) if why else figure, presenter))

    # kept as the JSON sent, made once: every full rerun sends every chart again
    made = cached(key, stamp, (lambda: shared_charts().spec((key, stamp), spec)) if shared else spec)
    chart_in_place(made, key)


NOTHING_RECORDED = "Nothing to draw: the run diverged on its first step, before any update (above: why)"
SETTING_OFF = "Training: its first step is on its way, and this chart with it"


def why_empty(snap: Snapshot) -> str | None:
    """Why a chart of `snap` with nothing to draw is empty, where its "Press Train to
    see ..." would not be true: the run diverged on its first step, or plays and has not
    taken it yet."""
    if snap.diverged_at == 0:
        return NOTHING_RECORDED
    return SETTING_OFF if snap.setting_off else None


def what_to_notice(text: str, when: str = "") -> None:
    """What a chart shows, in a box read from the back of a hall (a grey caption was not):
    "**What to notice`when`:** `text`"."""
    st.info(f"**What to notice{when}:** {text}", icon=":material/visibility:")


def link_warnings(warnings: list[str], what: str = "Some settings in the link could not be used") -> None:
    """What was wrong with the link, as a list (each warning is safe Markdown)."""
    if warnings:
        more = "\n- …" if len(warnings) > MAX_WARNINGS else ""
        st.warning(f"{what}:\n\n" + "\n".join(f"- {w}" for w in warnings[:MAX_WARNINGS]) + more)


def factor_words(factor: float, unit: str, steps: int) -> str | None:
    """The average factor a `unit`, over `steps` of them, as a metric's second line ("×0.14
    a layer"); None if unknown."""
    return None if math.isnan(factor) else f"×{factor_number(factor, steps=steps)} a {unit}"


STEP_COLUMN = {4: 1.35, 5: 1.75}  # digits of the run's steps: the step column's width (the others' 1)


def test_accuracy_metric(column: DeltaGenerator, head: Headline, snap: Snapshot, compact: bool) -> None:
    """The run's last test accuracy in `column`, with the step it was measured at when
    the run blew up between two tests: its last was many steps before (53% "now" was
    step 1's). `compact` (presenting, no line under the number): the label says it."""
    stale = snap.diverged_at is not None and bool(head.test_step)
    column.metric(
        f"Test accuracy, step {head.test_step}" if stale and compact else "Test accuracy",
        percent(head.test_accuracy),
        f"at step {head.test_step}" if stale and not compact else None,
        delta_color="off",
        delta_arrow="off",
    )


def gradient_ratio_metric(
    column: DeltaGenerator, head: Headline, depth: int, with_factor: bool, explained: bool = True
) -> None:
    """How much of the last hidden layer's gradient reaches layer 1, in `column`; with
    `with_factor`, the average factor a layer under it; `explained`: with a help icon (in
    a sixth of the page, Compare's, the icon cut the label to "dL/dz: layer 1 ÷ l…")."""
    column.metric(
        f"dL/dz: layer 1 ÷ layer {depth}",  # (the last hidden layer: the profile's last point is the output)
        number(head.gradient_ratio),
        factor_words(head.per_layer, "layer", depth - 1) if with_factor else None,
        delta_color="off",
        delta_arrow="off",
        help=f"The {GRADIENT_NAME} reaching layer 1, divided by the last hidden layer's. 1: the first layer "
        "gets as much as the last; 1e-6: a millionth of it. Below it, the average factor per layer."
        if explained
        else None,
    )


def divergence_banner(snap: Snapshot, whole_reason: bool = True, advice: bool = True) -> None:
    """If the run diverged: when, why and (`advice`) what to change. Not `whole_reason`
    (on a projector), why in a few words: the whole of it, in four lines of a half-width
    column, pushed the charts off the first screen."""
    if snap.diverged_at is None:
        return
    reason = snap.divergence_reason or ""
    why = (
        divergence_words(snap.diverged_at, reason)
        if whole_reason
        else f"{diverged_when(snap.diverged_at)}: {divergence_cause(reason)}"
    )
    first_loss = snap.metrics["loss"].iloc[0] if len(snap.metrics) else math.nan
    config = snap.config
    what_to_change = (
        time_divergence_advice(config, snap.diverged_at, first_loss)
        if isinstance(config, RecurrentConfig)
        else divergence_advice(config, snap.diverged_at, first_loss)
    )
    st.error(f"**The run diverged** {why}." + (f" {what_to_change}" if advice else ""), icon=":material/error:")


def run_heading(label: str, snap: Snapshot) -> None:
    """A paired run's heading, "**A: PyTorch default**: 120 / 600 steps", and if the run
    diverged, when and why (`divergence_banner`). On a projector a run that diverged says
    so in its heading, in one line, instead of a banner under it (the banner pushed an
    exploding pair's charts 60 px past a 1280×720 screen); why, only where its charts are
    empty and say "(above: why)": it diverged on its first step."""
    presenting = classroom.presenting()
    if presenting and (at := snap.diverged_at) is not None:
        when = (
            f"after {at} of {snap.config.steps} steps"
            if at
            else f"{diverged_when(at)}: " + divergence_cause(snap.divergence_reason or "")
        )
        st.markdown(f"**{label}**: :red-background[**diverged** {when}]")
        return
    st.markdown(f"**{label}**: {snap.step_count} / {snap.config.steps} steps")
    divergence_banner(snap, whole_reason=not presenting, advice=not presenting)


def headline_metrics(snap: Snapshot, status: str | None = None) -> None:
    """The numbers a lecturer reads out, the sentence that says what the gradient does,
    and the divergence banner; `status` (what the run is doing) under the step count."""
    config = snap.config
    head = headline(snap.metrics, snap.layers, config)
    # presenting: one line of banner, no second lines under the numbers (the sentence below says the factor a layer)
    compact = classroom.presenting()
    divergence_banner(snap, whole_reason=not compact)
    # the step count's column wider for longer runs: "20000 / 20000" did not fit a fifth of a 1440-px page
    cols = st.columns([STEP_COLUMN.get(len(str(config.steps)), 1.0), 1, 1, 1, 1])
    cols[0].metric(f"Step · {status}" if status else "Step", f"{head.step} / {config.steps}")
    cols[1].metric("Loss (batch)", number(head.loss, 3))
    test_accuracy_metric(cols[2], head, snap, compact)
    gradient_ratio_metric(cols[3], head, config.depth, with_factor=not compact)
    word = head.flat_word or "flat"
    flat = head.flat_layer is not None and head.flat_fraction >= 0.01
    dead = f"{head.dead_layers} dead layer{'s' if head.dead_layers > 1 else ''}" if head.dead_layers else ""
    # (the badge holds about 22 characters: with dead layers "100% · 1 dead layer", the label saying what 100% is)
    share = (percent(head.flat_fraction) + ("" if dead else f" {word}")) if flat else ""
    badge = " · ".join(part for part in (share, dead) if part)
    cols[4].metric(
        f"Most {word} layer",
        (f"{head.flat_layer} ({percent(head.flat_fraction)})" if compact else f"{head.flat_layer}")
        if flat
        else "–"
        if snap.step_count == 0  # nothing measured yet (as the other numbers say)
        else "all <1%"  # (the ridgeline's caption names the most, with its "<1%")
        if head.flat_fraction > 0
        else "none",
        None if compact else badge or None,
        delta_color="off",
        delta_arrow="off",
        help=f"{word.capitalize()}: inputs where the activation's slope is under 10% of its peak. "
        "Dead layers: every unit passes no gradient for the whole batch.",
    )
    sentence = gradient_sentence(head, config.depth)
    if sentence and not (compact and snap.diverged_at is not None):  # (presenting, the banner says it)
        st.markdown(sentence)


GUESS_WORDS = {"adding": "answering the average, 1,", "first_symbol": f"guessing among {ALPHABET} symbols"}


def guess_words(config: RecurrentConfig) -> str:
    """What a network that learned nothing scores on the run's task."""
    loss = TASK_LOSS_NAME[config.task]
    return f"{GUESS_WORDS[config.task]} every time scores a test {loss} of {number(GUESS_LOSS[config.task], 3)}"


def time_headline_metrics(
    snap: Snapshot,
    against_guessing: bool = True,
    in_words: bool = True,
    status: str | None = None,
    banner: bool = True,
) -> None:
    """A recurrent run's numbers: test loss and accuracy (in the task's words), what t = 1
    gets of the last t's gradient now, and the same in words; `against_guessing`, the test loss beside
    what learning nothing scores. On a projector, room for the charts: not `in_words`,
    the factor a time step under the ratio instead; with `status` (what the run is
    doing), the step count as a number beside the others; not `banner`, no divergence banner
    (`run_heading` said it)."""
    tested = snap.metrics.dropna(subset=["test_loss"])
    rows = snap.time_gradients
    now = at_step(rows, "end") if rows is not None and len(rows) else None
    if banner:
        divergence_banner(snap, whole_reason=not classroom.presenting(), advice=not classroom.presenting())
    cols = st.columns(4 if status else 3)
    if status:
        cols.pop(0).metric(f"Step · {status}", f"{snap.step_count} / {snap.config.steps}")
    loss, accuracy = TASK_LOSS_NAME[snap.config.task], TASK_ACCURACY_NAME[snap.config.task]
    # a run that diverged was last tested some steps before (the exploding RNN's 0.925 was step 1's)
    when = f"at step {int(tested['step'].iloc[-1]) + 1}" if snap.diverged_at is not None and len(tested) else None
    for column, name, value in (
        (cols[0], loss, number(tested["test_loss"].iloc[-1], 3) if len(tested) else "–"),
        (cols[1], accuracy, percent(tested["test_accuracy"].iloc[-1]) if len(tested) else "–"),
    ):
        column.metric(f"Test {name}", value, when, delta_color="off", delta_arrow="off")
    ratio = time_ratio(now) if now is not None else math.nan
    length = int(now["t"].max()) if now is not None else 0
    factor = per_layer(ratio, length)  # (NaN without a ratio)
    cols[2].metric(
        # presenting, without the sentence "Now t = 1 gets ...": "now" (a lesson's notice may speak of step 1's)
        f"dL/dh{'' if in_words else ' now'}: t = 1 ÷ t = {snap.config.length}",
        number(ratio),
        None if in_words else factor_words(factor, "time step", length - 1),
        delta_color="off",
        delta_arrow="off",
    )
    if now is not None and len(tested):
        error = f"Test {loss} {when or 'now'}: {number(tested['test_loss'].iloc[-1], 3)}; {guess_words(snap.config)}."
        said = [time_sentence(now) if in_words else "", error if against_guessing else ""]
        if any(said):  # as the feed-forward pages' gradient sentence: text, not a grey caption
            st.markdown(" ".join(part for part in said if part))


def data_files(snap: Snapshot, name: str = "") -> list[tuple[str, str, str, str]]:
    """A run's data as files: its statistics (per layer, or per time step for a
    recurrent run) and its loss curves as CSV, its settings as JSON; each as (label,
    text, file name, MIME type); `name` tells two runs apart."""
    recurrent = isinstance(snap.config, RecurrentConfig)
    prefix, infix = (f"{name}: ", f"{name.lower()}-") if name else ("", "")
    statistics = (
        ("Gradient through time (CSV)", snap.time_gradients, "time.csv")
        if recurrent
        else ("Per-layer statistics (CSV)", snap.layers, "layers.csv")
    )
    files = [
        (label, frame.to_csv(index=False), file_name, "text/csv")
        for label, frame, file_name in (statistics, ("Loss and accuracy (CSV)", snap.metrics, "metrics.csv"))
    ]
    files.append(("Settings (JSON)", json.dumps(snap.config.to_dict(), indent=2), "config.json", "application/json"))
    return [(prefix + label, text, f"vangrad-{infix}{file_name}", mime) for label, text, file_name, mime in files]


def downloads(*runs: LiveRun, names: str = "") -> None:
    """A button that makes the runs' data files (`data_files`; `names`: a letter for
    each run, "" for a page's one run) from one snapshot of them as they stand, and
    their download buttons, in a fragment of its own; off while they train. Streamlit
    keeps a file made this way while its button is on the page (until the page's next
    full run starts: pressing Train, Reset or a setting); a deferred button's file
    (data=callable) is dropped at the second script run to end anywhere on the server,
    which with a class training is before most browsers fetch it (docs/architecture.md)."""
    st.fragment(lambda: _download_buttons(runs, names or ("",)))()


def _download_buttons(runs: tuple[LiveRun, ...], names: Sequence[str]) -> None:
    playing = any(run.playing for run in runs)
    asked = st.button(
        "Download the data",
        icon=":material/download:",
        disabled=playing,
        help="Pause first (or let the run finish)"
        if playing
        else "The statistics and loss curves as CSV and the settings as JSON, as the run stands now",
        key="download:" + "+".join(run.key for run in runs),
    )
    if not asked:
        return
    try:
        snaps = training_pool().snapshot([run.live for run in runs])
        files = [data_files(snap, name) for name, snap in zip(names, snaps, strict=True)]
    except WorkerGone:  # the page's next run replaces the runs (`LiveRun.live`)
        st.rerun(scope="app")
    except Exception as error:  # (shown, and the runs are left as they are)
        st.error(f"The files could not be made: {error}", icon=":material/error:")
        return
    where = ", ".join(
        f"{name or 'The run'} at step {snap.step_count} of {snap.config.steps}"
        for name, snap in zip(names, snaps, strict=True)
    )
    st.caption(f"{where}: a file for each button.")
    for run, run_files in zip(runs, files, strict=True):
        for column, (label, text, file_name, mime) in zip(st.columns(len(run_files)), run_files, strict=True):
            column.download_button(
                label,
                data=text,
                file_name=file_name,
                mime=mime,
                icon=":material/download:",
                on_click="ignore",
                width="stretch",
                key=f"download:{run.key}:{file_name}",
            )
