"""Through time: vanishing (and exploding) gradients in recurrent networks, two runs side by side."""

import math
import operator

import streamlit as st

from vangrad_core import figures
from vangrad_core.live import Snapshot
from vangrad_core.recurrent import GUESS_LOSS
from vangrad_core.summary import at_step, share_words, time_ratio
from views.ui import charts, classroom, pairs, run_charts
from views.ui.live import detail_seconds, pair_controls, pair_fragment
from views.ui.state import ThroughTimeState

FEW_DECADES = {"yaxis": {"nticks": 3}}  # presenting, the first chart's plot is a strip: 18-px decades overprinted
SHORT_TIME_TITLE = {"yaxis": {"title": {"text": "t, 1 = first input"}}}  # a map's axis in presenter mode
CARRIED_BY = {  # what carries the gradient at each step back, by cell (under "What carries the gradient back")
    "rnn": "Plain RNN: the factor measured at each step back (below 1 shrinks it), beside its Jacobian's typical "
    "gain (dotted), which the gradient's direction can beat",
    # (a gate is one path's factor, not the gradient's: an LSTM's forget gates at 0.95 beside a gradient
    # shrinking ×0.68 a step)
    "lstm": "LSTM: the forget gate, the share of the cell state, and of the gradient along it, that each step "
    "keeps (near 1: kept); the gradient reaching h also takes the other gates' paths, so the measured one above "
    "can fade while a gate stays near 1",
    "gru": "GRU: the update gate, the share of h that each step keeps as it was (near 1: kept); the other paths "
    "can still make the measured gradient above fade",
}

state, labels, runs = pairs.paired_runs(
    ThroughTimeState,
    "Through time: vanishing gradients in recurrent networks",
    "A recurrent network unrolled over T steps is a T-layer network whose layers share one weight matrix: "
    "the gradient of the loss, read after the last step, reaches the first inputs only through T − 1 "
    "multiplications by the same Jacobian. Here is dL/dh_t, the gradient reaching the hidden state at "
    "every step t, for two runs trained side by side.",
    forms=("ta", "tb"),
)
pair_controls(runs, same_batches=state.unshared() is None)


def bound_words(label: str, bound) -> str:
    """Pascanu et al.'s bound for a plain RNN at initialization (its dashed line), with its numbers."""
    gamma, norm, radius = (bound.attrs[k] for k in ("gamma", "spectral_norm", "spectral_radius"))
    return (
        f"{label}: at initialization, ‖W_hh‖₂ = {norm:.2f} (spectral radius {radius:.2f}), and the slope is at most "
        f"γ = {gamma:g}: each step back can multiply the gradient by at most γ‖W_hh‖₂ = {gamma * norm:.2f} "
        "(dashed, Pascanu et al. 2013)."
    )


def map_words(label: str, snap: Snapshot) -> str:
    """How to read a run's map of dL/dh_t, and what it shows now (it said "dark at the
    bottom: t = 1 gets no gradient" under an LSTM's map as even as its gradient)."""
    # (one colour scale for both maps: a gradient of 5e-16 showed orange beside a run reaching 1e-35)
    if (empty := charts.why_empty(snap)) is not None:  # (it said how to read a map it left empty)
        return f"{label}: {empty}"
    how = (
        f"{label}: each column is a training step, t = 1 at the bottom; the darker, the smaller the gradient "
        "(one colour scale for both maps: beside a run that explodes, a healthy one looks dark)."
    )
    rows = snap.time_gradients
    ratio = time_ratio(at_step(rows, "end")) if rows is not None and not rows.empty else math.nan
    if not math.isfinite(ratio):
        return how
    # (its step, not "now": while the runs train, the maps redraw less often than the numbers above them)
    last = f"In its last column, step {int(rows['step'].max()) + 1},"
    if ratio == 0:  # (as the headline beside it says it: "0 of what" read as a share)
        return f"{how} {last} t = 1 gets no gradient at all."
    return f"{how} {last} t = 1 gets {share_words(ratio)} t = {snap.config.length} gets."


def draw_headline(snaps: tuple[Snapshot, Snapshot]) -> None:
    for column, label, snap in zip(st.columns(2), labels, snaps, strict=True):
        with column:
            charts.run_heading(label, snap)  # (and its divergence)
            # presenting, the numbers only (what learning nothing scores is said under the loss): room for the charts
            presenting = classroom.presenting()
            charts.time_headline_metrics(snap, against_guessing=not presenting, in_words=not presenting, banner=False)


BOUND = operator.attrgetter("bound")


def draw(snaps: tuple[Snapshot, Snapshot]) -> None:
    named = dict(zip(labels, snaps, strict=True))
    stamp = (labels, *(s.identity for s in snaps))  # (the labels name the runs in the legends)
    times = {label: snap.time_gradients for label, snap in named.items() if snap.time_gradients is not None}
    # Pascanu et al.'s bound, fixed when a run is made (from its initial W_hh): asked of
    # the run once per config (a worker's round trip), not at every redraw
    bounds = {
        label: charts.cached(f"time:bound:{label}", snap.config, lambda run=run: run.live.inspect(BOUND))
        for label, run, snap in zip(labels, runs, snaps, strict=True)
    }
    left, right = st.columns(2)
    with left:
        charts.chart(
            "time:profiles",
            snaps[0],
            lambda: figures.time_profiles(times, bounds, compact=classroom.presenting()),
            stamp,
            presenter=FEW_DECADES,
        )
        st.caption(
            run_charts.then_and_now(times.values(), "The gradient reaching each time step")
            + " A line falling to the left: the first inputs get almost nothing, so the network cannot learn what "
            "depends on them (rising: the gradient explodes on its way back). "
            # (of a run with a line to draw: it described B's dashed line beside "B: no step to draw")
            + " ".join(
                bound_words(label, bound)
                for label, bound in bounds.items()
                if bound is not None and label in times and not times[label].empty
            )
        )
    with right:
        guess = GUESS_LOSS[snaps[0].config.task]
        charts.chart(
            "time:loss", snaps[0], lambda: run_charts.compare_curves(named, guess, classroom.presenting()), stamp
        )
        # (the adding task's loss falls from about 4 as a run learns the average answer: falling is not learning)
        st.caption(
            "Training loss. A run whose loss gets no lower than what learning nothing scores (the dotted line) has "
            f"learned nothing of the task: {charts.guess_words(snaps[0].config)}."
        )


def run_map(letter: str, snap: Snapshot, span: tuple[float, float] | None) -> object:
    """Run `letter`'s map of dL/dh_t over training, its title naming the run (the two
    maps, side by side on a projector, had the same title and only their captions named
    them)."""
    fig = figures.gradient_heatmap(
        snap.time_gradients, "t", "grad_rms", "RMS of dL/dh_t", "time step t, 1 = the first input", span
    )
    return fig.update_layout(title_text=f"{letter}: {fig.layout.title.text}")


def draw_details(snaps: tuple[Snapshot, Snapshot]) -> None:
    """The maps and the gates, redrawn every few seconds while training."""
    named = dict(zip(labels, snaps, strict=True))
    times = {label: snap.time_gradients for label, snap in named.items() if snap.time_gradients is not None}
    span = figures.log_span(list(times.values()), "grad_rms")  # one colour scale: a colour is one size in both
    for column, (label, snap) in zip(st.columns(2), named.items(), strict=True):
        with column:
            charts.chart(
                f"time:heatmap:{label[0]}",
                snap,
                lambda label=label, snap=snap: run_map(label[0], snap, span),
                span,
                presenter=SHORT_TIME_TITLE,  # the long title, in large text, is taller than the map
            )
            st.caption(map_words(label, snap))
    cells = {label: snap.config.cell for label, snap in named.items()}
    charts.chart(
        "time:explained", snaps[0], lambda: figures.explained(times, cells), labels, *(s.identity for s in snaps)
    )
    shown = dict.fromkeys(cells.values())  # the cells on the chart, in order, once each
    gates = " A gate's solid line: its most open unit; dotted: the mean of the units."
    st.caption(
        f"What carries the gradient at each step back, now. {'; '.join(CARRIED_BY[cell] for cell in shown)}."
        + (gates if any(cell != "rnn" for cell in shown) else "")
    )


pair_fragment(runs, draw, headline=draw_headline)
pair_fragment(runs, draw_details, pace=detail_seconds)
if classroom.shown("downloads"):
    st.divider()
    charts.downloads(*runs, names="AB")
