"""Batch norm from the inside: what it does to one layer, what it learns, and its limits."""

import math
import operator

import pandas as pd
import streamlit as st

from vangrad_core import figures
from vangrad_core.activations import ACTIVATION_TABLE
from vangrad_core.lessons import BATCHNORM_NETWORKS, BATCHNORM_PLACEMENT
from vangrad_core.live import Snapshot
from vangrad_core.summary import at_step, range_words
from vangrad_core.writing import fixed, number, percent
from views.ui import charts, classroom, session
from views.ui.live import LiveRun, live_fragment, run_controls, run_status
from views.ui.state import BatchNormState

# steps after which batch norm's running averages (momentum 0.1) hold 99.5% of the batches' (1 - 0.9^50)
CAUGHT_UP_STEPS = 50


def modes_in_words(gap: float, step_count: int) -> str:
    """Batch vs running statistics: why they differ, and whether they do here (the
    two test accuracies `gap` apart, after `step_count` steps)."""
    said = (
        "While training, batch norm uses each mini-batch's mean and std; for predictions it uses running "
        "averages of them, which lag behind while the layers below still change. "
    )
    if step_count == 0:
        said += "Before the first step they hold their starting values, mean 0 and variance 1. "
    if gap > 0:  # (by a tenth of a point or more: one test example; the numbers above may round alike)
        return said + f"Here the two differ by {100 * gap:.1f} percentage points."
    if step_count >= CAUGHT_UP_STEPS:
        return said + "Here they agree: the running averages have caught up with the batches."
    return said + "Here they agree."


def stages_in_words(stages: pd.DataFrame) -> str:
    """What the three histograms show, from their numbers."""
    values = {name: part["value"] for name, part in stages.groupby("stage")}
    standardized, out = values["standardized"], values["scaled and shifted"]
    return (
        "Standardizing gives each unit mean 0 and std 1 over the batch, one unit at a time, so the "
        "histogram of the whole layer can change shape; it does not clip anything: the standardized "
        f"values reach {number(standardized.min())} and {number(standardized.max())}, and "
        f"{percent((standardized.abs() > 2).mean())} of them lie beyond ±2. Gamma and beta then scale and "
        f"shift each unit again: {figures.mean_and_std(out)} now."
    )


def parameters_in_words(snap: Snapshot) -> str:
    """Where gamma and beta are now, against where they started."""
    last = at_step(snap.layers, "end")
    gamma, beta = last["norm_gamma_mean"].dropna(), last["norm_beta_mean"].dropna()
    start = "Gamma starts at 1 and beta at 0 (plain standardization); training moves them."
    if gamma.empty:
        return start
    step = int(last["step"].iloc[0]) + 1
    if (gamma == 1).all() and (beta == 0).all():  # (step 1 said "runs from 1 to 1 and ... from 0 to 0")
        return f"{start} At step {step} they have not moved yet: a step's are read before its update."
    gammas, betas = range_words(gamma.min(), gamma.max(), 3), range_words(beta.min(), beta.max())
    return f"{start} At step {step} the layers' mean gamma is {gammas}, their mean beta {betas}."


state = session.page_state(BatchNormState)
# presenting, the screen is for the run: the network's name is the title, its picker waits in the sidebar
presenting = classroom.presenting()
title = st.empty()
aside = st.sidebar if presenting else st
aside.caption(
    "Batch norm standardizes each unit's input with the mini-batch's mean and standard deviation, "
    "then applies a learned scale (gamma) and shift (beta). Here is each of those steps on a network "
    "trained live."
)
charts.link_warnings(session.link_warnings(BatchNormState))
st.session_state.setdefault("bn_network", state.choice)
network = aside.selectbox("Network", list(BATCHNORM_NETWORKS), key="bn_network")
state = BatchNormState(network, state.classroom)
session.save(state)
title.title(f"Batch norm: {network}" if presenting else "Batch norm from the inside")
config = BATCHNORM_NETWORKS[network]
aside.caption(
    f"{config.depth} hidden layers of {config.width} {ACTIVATION_TABLE[config.activation].label} units, "
    f"{config.FIELDS['norm'].labels[config.norm]}, learning rate {config.learning_rate:g}, two moons."
)
run = LiveRun("run:batchnorm")
run.ensure(config)
run_controls(run)


def draw(snap: Snapshot) -> None:
    status = run_status(run, snap, line=not classroom.presenting())
    charts.headline_metrics(snap, status if classroom.presenting() else None)

    heading, picker = st.columns([2, 1], vertical_alignment="bottom")  # (one row: the chart higher up)
    heading.header("1. One layer, step by step")
    layer = picker.slider("Layer", 1, snap.config.depth, 5, key="bn_layer")
    # one forward pass through the layers below, only when the run has moved on
    stages = charts.cached(
        "bn:stages:values", (snap.stamp, layer), lambda: run.live.inspect(operator.methodcaller("norm_stages", layer))
    )
    # (not shared: the stages are read from the run as it is now, which may be past the snapshot)
    charts.chart("bn:stages", snap, lambda: figures.norm_stages(stages, layer), layer, shared=False)
    st.caption(stages_in_words(stages))

    st.header("2. What it learns: gamma and beta of every layer")
    left, right = st.columns(2)
    with left:
        charts.chart(
            "bn:gamma",
            snap,
            lambda: figures.norm_parameters(snap.layers, "norm_gamma_mean", "Scale gamma", "mean gamma"),
        )
    with right:
        charts.chart(
            "bn:beta", snap, lambda: figures.norm_parameters(snap.layers, "norm_beta_mean", "Shift beta", "mean beta")
        )
    st.caption(parameters_in_words(snap))

    st.header("3. Batch statistics vs running statistics")
    # two passes over the test set, only when the run has moved on (at rest, the first is
    # the headline's test accuracy: a run that stops is tested where it stands)
    running, batch = charts.cached(
        "bn:accuracy_modes", snap.stamp, lambda: run.live.inspect(operator.methodcaller("test_accuracy_modes"))
    )
    cols = st.columns(2)
    # (untrained, beside the headline's "–": no test measured yet, where these are measured now)
    when = "before training" if snap.step_count == 0 else None
    for column, label, accuracy in (
        (cols[0], "Test accuracy, running statistics (eval mode)", running),
        (cols[1], "Test accuracy, the test set's own batch statistics", batch),
    ):
        column.metric(label, percent(accuracy), when, delta_color="off", delta_arrow="off")
    gap = abs(running - batch)
    st.caption(modes_in_words(gap, snap.step_count))

    if snap.config.activation == "relu":
        st.header("4. ReLU after batch norm: are half the units dead?")
        last = at_step(snap.layers, "end")
        hidden = last[last["saturation"].notna()]
        cols = st.columns(3)
        cols[0].metric("Inputs below 0 (ReLU outputs 0)", percent(hidden["saturation"].mean()))
        cols[1].metric("Units dead for the whole batch", percent(hidden["dead_fraction"].mean()))
        beta = hidden["norm_beta_mean"].mean()
        cols[2].metric("Mean learned beta", "–" if math.isnan(beta) else fixed(beta, 3, signed=True))
        st.markdown(
            "Standardized inputs are centred at 0, so about half of them are negative and ReLU passes "
            "0 for those. That is not a dead unit: a unit dies only if it is negative for **every** "
            "example. Per unit, beta can shift the centre and change that share; watch whether it does."
        )
    else:
        st.header("4. Before or after the activation?")
        st.markdown(
            "Before: the nonlinearity receives standardized inputs, then scaled and shifted by the learned gamma "
            "and beta (at the start, gamma 1 and beta 0: where the sigmoid is steep; the charts above show where "
            "training took them). After: it receives raw inputs, and only its outputs are standardized. Compare "
            "the two side by side:"
        )
        st.page_link(
            "views/compare.py",
            label=f"Compare: {BATCHNORM_PLACEMENT.name.lower()}",
            icon=":material/compare:",
            query_params={"pair": BATCHNORM_PLACEMENT.name},
        )


live_fragment(run, draw)
