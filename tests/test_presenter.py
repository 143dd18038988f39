"""Presenter mode reads from the back of a hall: every chart on every page, read from
the figure each page sends, sets every text it has (title, ticks, axis titles,
legend, colour bars, notes) to at least 18 px in a colour of at least 4.5:1 on white."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from tests.conftest import assert_clean, button, charts_shown, open_page
from vangrad_core.figures.compare import compare_curves
from vangrad_core.figures.recurrent import time_profiles
from vangrad_core.figures.style import LAYER_AXIS_TO_OUTPUT, value_axis
from vangrad_core.lessons import TOUR
from views.ui.charts import (
    HEATMAP_ROW_LABELS,
    LEGEND_LINE_CHARS,
    LEGEND_UNDER_TITLE_Y,
    PRESENTER_TEXT_PX,
    large_text,
    legend_rows,
    short,
    wrap_legend,
)

PAGES = (  # page, its link, the runs to train a little before looking, a button to press
    (None, {"scenario": "Deep sigmoid stalls"}, ("run:playground",), None),
    *(("views/tour.py", {"step": str(n)}, (f"run:tour:{step.scenario}",), None) for n, step in enumerate(TOUR, 1)),
    ("views/compare.py", {}, ("run:compare:a", "run:compare:b"), None),
    ("views/through_time.py", {}, ("run:through_time:a", "run:through_time:b"), None),
    ("views/batchnorm.py", {}, ("run:batchnorm",), None),
    ("views/why_sigmoid.py", {}, (), None),
    ("views/classics.py", {"experiment": "shattered"}, (), "Run"),
)


def contrast(color: str) -> float:
    """WCAG contrast ratio of a #rrggbb colour on white."""
    red, green, blue = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def small_text(spec: dict) -> list[str]:
    """Where a figure's text is under PRESENTER_TEXT_PX, pale, or left to the chart
    theme (which draws ticks at 12 px and axis titles at 14 px, in #808495)."""
    found = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("font") and isinstance(value, dict):
                    if value.get("size", PRESENTER_TEXT_PX) < PRESENTER_TEXT_PX:
                        found.append(f"{path}{key}.size={value['size']}")
                    color = value.get("color")
                    if isinstance(color, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", color) and contrast(color) < 4.5:
                        found.append(f"{path}{key}.color={color}")
                if key == "colorbar" and value.get("tickfont", {}).get("size", 0) < PRESENTER_TEXT_PX:
                    found.append(f"{path}colorbar.tickfont left to the theme")
                walk(value, f"{path}{key}.")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}{i}.")

    walk(spec, "")
    layout = spec["layout"]
    for name, axis in layout.items():
        if re.fullmatch(r"[xy]axis\d*", name) and axis.get("visible", True):
            for part in ("tickfont", "title.font"):
                node = axis
                for key in part.split("."):
                    node = node.get(key, {})
                if node.get("size", 0) < PRESENTER_TEXT_PX:
                    found.append(f"{name}.{part} left to the theme")
    if layout.get("legend", {}).get("font", {}).get("size", 0) < PRESENTER_TEXT_PX:
        found.append("legend.font left to the theme")
    return found


def row_labels(spec: dict) -> int:
    """How many rows a heatmap of the figure labels (0 if it has none labelled by dtick)."""
    axis = spec["layout"].get("yaxis", {})
    rows = max((len(trace.get("y", ())) for trace in spec["data"] if trace.get("type") == "heatmap"), default=0)
    return math.ceil(rows / axis["dtick"] / axis.get("ticklabelstep", 1)) if rows and "dtick" in axis else 0


@pytest.mark.parametrize(("page", "query", "runs", "press"), PAGES, ids=[f"{p}-{q}" for p, q, *_ in PAGES])
def test_presenting_every_chart_text_is_large_and_dark(page, query, runs, press):
    at = open_page(page, query)
    at.toggle(key="presenter_toggle").set_value(True).run()
    for key in runs:
        at.session_state[key].step(12)
    if press:
        button(at, press).click()
    at.run()
    assert_clean(at)
    shown = charts_shown(at)
    assert shown
    for key, spec in shown.items():
        assert not small_text(spec), (key, small_text(spec))
        assert row_labels(spec) <= HEATMAP_ROW_LABELS  # (21 layers labelled one by one overprinted)
        assert not unoriented_layer_axes(spec), (key, unoriented_layer_axes(spec))
        assert not legend_against_axis_title(spec), key


def legend_against_axis_title(spec: dict) -> bool:
    """Whether a legend under the plot sits where an x axis' 18-px labels and title
    end: placed by the plot's height (paper) closer than LEGEND_UNDER_TITLE_Y. (A
    legend at the foot of the chart, `yref` "container", is laid out below them.)"""
    layout = spec["layout"]
    legend = layout.get("legend", {})
    titled = any(axis.get("title", {}).get("text") for name, axis in layout.items() if re.fullmatch(r"xaxis\d*", name))
    shown = layout.get("showlegend", True) and any(trace.get("showlegend", True) for trace in spec["data"])
    return bool(
        shown and titled and legend.get("yref", "paper") == "paper" and LEGEND_UNDER_TITLE_Y < legend.get("y", 1) < 0
    )


def unoriented_layer_axes(spec: dict) -> list[str]:
    """Layer and time-step axes whose title no longer says which end is the input
    (presenting drops "(1 = input side)" from "hidden layer (1 = input side)"), unless
    their ticks name it (the network picture's "input … output")."""
    return [
        axis["title"]["text"]
        for name, axis in spec["layout"].items()
        if name.startswith(("xaxis", "yaxis"))
        if re.match(r"(hidden |tanh |ReLU )?layer\b|time step", axis.get("title", {}).get("text", ""))
        if "input" not in axis["title"]["text"] and "input" not in axis.get("ticktext", ())
    ]


def test_the_checker_finds_the_themes_small_pale_text():
    spec = {
        "layout": {
            "xaxis": {"title": {"text": "layer"}},
            "font": {"size": 17},
            "legend": {"font": {"size": 18}},
            "coloraxis": {"colorbar": {"title": {"text": "log"}}},
        },
        "data": [{"marker": {"colorbar": {"tickfont": {"size": 18, "color": "#808495"}}}}],
    }
    assert set(small_text(spec)) == {
        "layout.font.size=17",
        "layout.coloraxis.colorbar.tickfont left to the theme",
        "data.0.marker.colorbar.tickfont.color=#808495",
        "xaxis.tickfont left to the theme",
        "xaxis.title.font left to the theme",
    }
    assert round(contrast("#808495"), 1) == 3.7 and contrast("#31333F") > 12


def test_short_legend_entries_and_axis_titles_drop_only_what_is_in_parentheses():
    assert short("step 1 (initial weights)") == "step 1"
    assert short("dead units: off (output 0) for every input") == "dead units: off for every input"
    # the network picture's key: one row presenting ("dead (stuck at 0 or 1, ...)" and "hollow: saturated
    # (for every ...)" took four, and the chart ran 80 px past a 1280×720 projector's screen)
    assert short("dead (off (output 0) for every input)") == "dead"
    assert short("exp(−t (1 − p)) at step 1") == "exp(−t (1 − p)) at step 1"  # a formula's groups stay
    assert short("hollow: saturated (for every example of the batch)") == "hollow: saturated"
    assert short("layer (1 = next to the input; last = output layer)") == "layer"
    assert short(LAYER_AXIS_TO_OUTPUT) == LAYER_AXIS_TO_OUTPUT  # the profile's: kept whole
    assert short("training step") == "training step" and short(None) is None
    bound = "A: RNN, bound (γ‖W_hh‖₂)<sup>T−t</sup> at step 1"
    assert short(bound) == bound
    assert short("B: small: N(0, 0.01²) (step 500)") == "B: small: N(0, 0.01²)"  # a run's name keeps its init
    facts = ("A: before the sigmoid, none saturated or dead", "dead units, none now: stuck at 0 or 1")
    for fact in (*facts, "this network, off the chart: σ_w² = 512"):
        assert short(fact) == fact  # Compare's sigmoid run drew no bar, and said why only in "(...)"


def test_long_legend_entries_are_wrapped_into_lines():
    """At 18 px Plotly ran a long entry past the chart's edge: "...where the slope is 0 in floa"."""
    figure = go.Figure([go.Scatter(name="dead units, none now: stuck on a flat tail, where the slope is 0 in float32")])
    figure.add_trace(go.Scatter(name="step 500 (now)"))
    wrap_legend(figure)
    lines = figure.data[0].name.split("<br>")
    assert len(lines) == 2 and max(map(len, lines)) <= LEGEND_LINE_CHARS and figure.data[1].name == "step 500 (now)"


def test_presenting_labels_a_log_axis_by_its_decades_unless_it_spans_too_few():
    """Presenting drops a log axis's small in-between labels (2 ... 9), but an axis of a
    decade or two keeps its 0.05, 0.1, 0.2 (`value_axis`): presented, the forward
    signal's variances from 0.05 to 0.6 were labelled "10⁻¹" alone."""
    short_span, decades = (
        large_text(go.Figure(layout={"yaxis": value_axis("variance", values)})).layout.yaxis
        for values in ([0.05, 0.6], [1e-9, 1.0])
    )
    assert short_span.minorloglabels == "complete" and short_span.dtick == "D2"
    assert decades.minorloglabels == "none"


def test_presenting_a_paired_run_that_diverged_says_so_in_its_heading(monkeypatch):
    """On a projector a paired run's divergence is one line in its heading, no banner: when
    (counted as the step counter counts), and why where its charts are empty for it ("the
    run diverged on its first step, before any update (above: why)")."""
    from types import SimpleNamespace

    from views.ui import charts

    said = []
    monkeypatch.setattr(charts.classroom, "presenting", lambda: True)
    monkeypatch.setattr(charts.st, "markdown", said.append)
    monkeypatch.setattr(charts.st, "error", lambda *a, **k: said.append(("banner", a)))
    reason = "the loss became infinite; the updates had grown the weights"
    for at, step_count in ((26, 26), (0, 0)):
        snap = SimpleNamespace(diverged_at=at, config=SimpleNamespace(steps=600), step_count=step_count)
        charts.run_heading("A: spectral radius 3", SimpleNamespace(**vars(snap), divergence_reason=reason))
    assert said == [
        "**A: spectral radius 3**: :red-background[**diverged** after 26 of 600 steps]",
        "**A: spectral radius 3**: :red-background[**diverged** on its first step: the loss became infinite]",
    ]


def test_presenting_a_log_axis_of_ticks_given_one_by_one_keeps_four(monkeypatch):
    """A short span of tiny values gets its 1, 2 and 5 times the powers of ten as ticks
    given one by one, where Plotly does not heed `nticks`: on a projector's first screen,
    at most PRESENTER_LOG_TICKS of them (six ran together in the plot's strip)."""
    from views.ui import charts

    monkeypatch.setattr(charts.classroom, "presenting", lambda: True)
    axis = value_axis("RMS of dL/dz", [1e-6, 9.9e-5], log=True)
    assert axis["ticktext"] == ["1e−6", "2e−6", "5e−6", "1e−5", "2e−5", "5e−5"]
    presented = charts.for_presenter(go.Figure(go.Scatter(x=[1, 2], y=[1e-6, 9.9e-5]), layout={"yaxis": axis}))
    assert list(presented.layout.yaxis.ticktext) == ["1e−6", "5e−6", "2e−5"]  # every other one
    assert len(presented.layout.yaxis.tickvals) == 3


@pytest.mark.parametrize(
    "pair, first",
    [
        ("Sigmoid vs ReLU (20 layers)", ["compare:profiles", "compare:loss"]),
        ("ReLU vs Leaky ReLU (large learning rate)", ["compare:saturation", "compare:loss"]),
        ("Default vs large init", ["compare:profiles", "compare:saturation"]),
    ],
)
def test_a_compared_pair_shows_first_the_charts_its_notice_points_to(pair, first):
    """Side by side at the top, the projector's first screen: a notice about the crosses
    (dead units) had pointed to a chart below the fold."""
    at = open_page("views/compare.py", {"pair": pair, "presenter": "1"})
    button(at, "Step").click().run()
    assert_clean(at)
    assert list(charts_shown(at))[:2] == first and len(charts_shown(at)) == 3


def test_a_presented_pairs_gradient_through_time_keeps_its_key_to_two_rows():
    """Through time at 1280×720: once the plain RNN's first inputs got exactly 0, the key
    took a third row ("A: plain tanh RNN, step 600: exactly 0" beside the runs, moments and
    bound) and the chart ran past the screen's bottom. Presented, the runs are keyed by
    their letters and their zeros by the run alone."""
    t = np.arange(1, 51)
    first = pd.DataFrame({"step": 0, "t": t, "grad_rms": 0.5 ** (50 - t)})
    runs = {
        "A: plain tanh RNN": pd.concat(
            [first, first.assign(step=599, grad_rms=np.where(t <= 5, 0.0, 0.5 ** (50 - t)))]
        ),
        "B: LSTM, forget bias 1": pd.concat([first, first.assign(step=599)]),
    }
    bounds = {"A: plain tanh RNN": pd.DataFrame({"t": t, "bound": 1.0}), "B: LSTM, forget bias 1": None}

    def presented_rows(compact: bool) -> int:
        figure = time_profiles(runs, bounds, compact=compact)
        for trace in figure.data:
            trace.name = short(trace.name)
        wrap_legend(figure)
        return legend_rows(figure)

    assert presented_rows(compact=False) == 3  # (the page at full width has room for it)
    assert presented_rows(compact=True) == 2
    # both runs' first inputs at exactly 0 (orthogonal weights beside the default, trained): one key
    # for the zeros, grey, where "A: exactly 0" and "B: exactly 0" took a third row
    runs["B: LSTM, forget bias 1"] = runs["A: plain tanh RNN"]
    assert presented_rows(compact=True) == 2
    figure = time_profiles(runs, bounds, compact=True)
    zeros = [trace for trace in figure.data if trace.legendgroup == "0"]
    keyed = [trace for trace in zeros if trace.showlegend is not False]
    assert len(zeros) == 3 and [(t.name, t.marker.color) for t in keyed] == [("exactly 0", "#7f7f7f")]
    assert sorted(t.hovertemplate.split("<extra>")[1] for t in zeros if t not in keyed) == ["A</extra>", "B</extra>"]


def test_a_presented_pairs_loss_is_keyed_by_letter():
    """The runs' names are the headings above the charts: "A: spectral radius 3" and "B:
    spectral radius 3, clipped at 1" beside "learning nothing" took three rows of key, and
    the chart ran past a 1280×720 screen; presented, "A" and "B", the hover naming the run."""
    loss = pd.DataFrame({"step": range(30), "loss": np.linspace(2, 1, 30)})
    runs = {"A: spectral radius 3": loss.iloc[:5].assign(loss=[2, 10, 1e3, 1e20, 2.5e34]), "B: clipped": loss}
    figure = compare_curves(runs, nothing_learned=0.167, compact=True)
    lines = [trace for trace in figure.data if trace.hovertemplate and "step" in trace.hovertemplate]
    assert [t.name for t in lines] == ["A", "B"] and lines[0].hovertemplate.startswith("A: spectral radius 3, step")
    off_chart = [a.text for a in figure.layout.annotations if "off the chart" in a.text]
    assert off_chart == ["A rises to 2.5e34, off the chart"]
    assert [t.name for t in compare_curves(runs, nothing_learned=0.167).data][:2] == list(runs)
