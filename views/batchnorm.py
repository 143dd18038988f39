"""Batch norm from the inside: what it does to one layer, what it learns, and its limits."""

import math

import streamlit as st

from vangrad_core import figures
from vangrad_core.lessons import BATCHNORM_NETWORKS
from vangrad_core.live import Snapshot
from views.ui import charts, session
from views.ui.live import LiveRun, live_fragment, run_controls, run_status
from views.ui.state import BatchNormState

state = session.page_state(BatchNormState)
st.title("Batch norm from the inside")
st.caption(
    "Batch norm standardizes each unit's input with the mini-batch's mean and standard deviation, "
    "then applies a learned scale (gamma) and shift (beta). Here is each of those steps on a network "
    "trained live."
)
charts.link_warnings(session.link_warnings(BatchNormState))
st.session_state.setdefault("bn_network", state.choice)
network = st.selectbox("Network", list(BATCHNORM_NETWORKS), key="bn_network")
state = BatchNormState(network, state.classroom)
session.save(state)
config = BATCHNORM_NETWORKS[network]
st.caption(
    f"{config.depth} hidden layers of {config.width} {config.activation} units, "
    f"{config.FIELDS['norm'].labels[config.norm]}, learning rate {config.learning_rate:g}, two moons."
)
run = LiveRun("run:batchnorm")
run.ensure(config)
run_controls(run)


def draw(snap: Snapshot) -> None:
    run_status(run, snap)
    charts.headline_metrics(snap)

    st.header("1. One layer, step by step")
    layer = st.slider("Layer", 1, snap.config.depth, 5, key="bn_layer")
    charts.chart(
        "bn:stages",
        snap,
        lambda: figures.norm_stages(run.live.inspect(lambda t: t.norm_stages(layer)), layer),
        layer,
    )
    st.caption(
        "What to notice: standardizing always gives mean 0 and std 1 over the batch, but it does not "
        "clip anything: the shape of the distribution stays, only its centre and spread change. "
        "Gamma and beta then move and stretch it again."
    )

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
    st.caption(
        "What to notice: gamma starts at 1 and beta at 0 (plain standardization); training moves them. "
        "With a learning rate of 10, gamma grows and pushes the inputs back onto the sigmoid's flat tails."
    )

    st.header("3. Batch statistics vs running statistics")
    running, batch = run.live.inspect(lambda t: t.test_accuracy_modes())
    cols = st.columns(2)
    cols[0].metric("Test accuracy, running statistics (eval mode)", f"{running:.1%}")
    cols[1].metric("Test accuracy, the test set's own batch statistics", f"{batch:.1%}")
    st.caption(
        "While training, batch norm uses each mini-batch's mean and std; for predictions it uses running "
        "averages of them. Early in training, or with a large learning rate, the two disagree."
    )

    if snap.config.activation == "relu":
        st.header("4. ReLU after batch norm: are half the units dead?")
        last = snap.layers[snap.layers["step"] == snap.layers["step"].max()]
        hidden = last[last["saturation"].notna()]
        cols = st.columns(3)
        cols[0].metric("Inputs below 0 (ReLU outputs 0)", f"{hidden['saturation'].mean():.0%}")
        cols[1].metric("Units dead for the whole batch", f"{hidden['dead_fraction'].mean():.0%}")
        beta = hidden["norm_beta_mean"].mean()
        cols[2].metric("Mean learned beta", "–" if math.isnan(beta) else f"{beta:+.3f}")
        st.markdown(
            "Standardized inputs are centred at 0, so about half of them are negative and ReLU passes "
            "0 for those. That is not a dead unit: a unit dies only if it is negative for **every** "
            "example. Per unit, beta can shift the centre and change that share; watch whether it does."
        )
    else:
        st.header("4. Before or after the activation?")
        st.markdown(
            "Before: the nonlinearity receives standardized inputs, where the sigmoid is steep. After: it "
            "receives raw inputs, and only its outputs are standardized. Compare the two side by side:"
        )
        st.page_link(
            "views/compare.py",
            label="Compare batch norm before vs after the activation",
            icon=":material/compare:",
            query_params={"pair": "Batch norm before vs after the activation"},
        )


live_fragment(run, draw)
