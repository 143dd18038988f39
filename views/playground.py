"""Playground: set up a network, train it live, and watch every layer."""

import streamlit as st

from vangrad_core import figures
from vangrad_core.lessons import SCENARIO_BY_NAME
from vangrad_core.live import Snapshot
from views.ui import charts, classroom, form, run_charts, session
from views.ui.live import LiveRun, detail_seconds, live_fragment, run_controls, run_status
from views.ui.state import CUSTOM, PlaygroundState

FORM = "cfg"

state = session.page_state(PlaygroundState)
problem = None
if classroom.shown("settings"):  # the sidebar: the network's settings
    with st.sidebar:
        config, problem = form.settings_form(FORM, state.config)
    state = state.with_config(config)
session.save(state)

st.title(state.scenario if classroom.presenting() and state.scenario else "Playground: watch gradients vanish")
if not classroom.presenting():
    st.caption(
        "Pick a scenario or set up your own network in the sidebar, press Train, and watch what "
        "reaches each layer. Layer 1 is next to the input; in the charts by layer, colours run from "
        "the input (dark) to the output (yellow)."
    )
charts.link_warnings(session.link_warnings(PlaygroundState))


def pick_scenario() -> None:
    name, current = st.session_state["scenario"], session.page_state(PlaygroundState)
    if name in SCENARIO_BY_NAME:
        form.fill(FORM, SCENARIO_BY_NAME[name].config)
        session.save(PlaygroundState(SCENARIO_BY_NAME[name].config, name, current.classroom))
    else:  # "Custom": the same settings, now the student's own
        session.save(PlaygroundState(current.config, None, current.classroom))


if classroom.shown("scenario"):
    st.session_state["scenario"] = state.scenario or CUSTOM
    # presenting, the picker waits in the (collapsed) sidebar: the screen is for the run
    (st.sidebar if classroom.presenting() else st).selectbox(
        "Scenario",
        [CUSTOM, *SCENARIO_BY_NAME],
        key="scenario",
        on_change=pick_scenario,
        help="Ready-made settings that follow the lecture. Changing any control makes it your own.",
    )
if state.scenario is not None:
    st.info(SCENARIO_BY_NAME[state.scenario].notice, icon=":material/lightbulb:")
if problem:
    st.error(f"These settings cannot train: {problem}. The last valid settings stay.", icon=":material/block:")


run = LiveRun("run:playground")
if run.ensure(state.config, keep_playing=True):
    st.toast("Settings changed: a new run starts from step 0" + (", training." if run.playing else "."))
run_controls(
    run, None if classroom.presenting() else "Changing a setting starts a new run from step 0 (training, if it was)."
)


def draw_network(snap: Snapshot) -> None:
    charts.chart("network", snap, lambda: run_charts.network(snap))
    st.caption(
        "Each dot is a unit, coloured by the gradient it gets (RMS of dL/dz over the batch, log scale): "
        "bright gets much, dark little. When gradients vanish, the colour drains from the output (right) "
        "towards the input (left). " + run_charts.network_words(snap)
    )


def draw_heatmap(snap: Snapshot) -> None:
    charts.chart("heatmap", snap, lambda: run_charts.heatmap(snap))
    st.caption(
        "Each column is a step. A dark band at the bottom (input side) that stays dark: those layers get no gradient."
    )


def draw_headline(snap: Snapshot) -> None:
    """The step count, what the run is doing and its numbers: at every refresh."""
    presenting = classroom.presenting()
    status = run_status(run, snap, line=not presenting)
    charts.headline_metrics(snap, status if presenting else None)


def draw_live(snap: Snapshot) -> None:
    """What tells the story, redrawn several times a second while training (less
    often on a busy server). The network drawn unit by unit goes first, across the
    page; presenting, beside the gradient profile, so that both fit the projector's
    first screen."""
    presenting = classroom.presenting()
    if not presenting:
        draw_network(snap)
    left, right = st.columns(2)
    with left:
        measure = "delta_rms"  # presenting: the one measure, and room for the charts
        if not presenting:
            measure = st.segmented_control(
                "Gradient shown",
                list(figures.GRADIENT_MEASURES),
                format_func=run_charts.MEASURE_LABELS.get,
                default="delta_rms",
                required=True,
                key="gradient_measure",
                help="dL/dz: the gradient passed back into each layer's output (what theory predicts). "
                "dL/dW: the gradient of the layer's weights, which also scales with the layer's input.",
            )
        charts.chart("profile", snap, lambda: run_charts.profile(snap, measure), measure)
        weights_shown = measure == "weight_grad_norm"
        st.caption(
            run_charts.then_and_now(
                [snap.layers],
                "Gradient of each layer's weights"
                if weights_shown
                else "Gradient reaching each layer (z: the layer's output)",
            )
            + " A line falling to the left means the layers near the input learn slowest: vanishing gradients "
            "(rising: exploding ones). "
            + (run_charts.weight_gradient_words(snap) if weights_shown else run_charts.profile_words(snap))
        )
        theory_words = run_charts.theory_summary(snap.config, not weights_shown, run_charts.theory_pin(snap))
        st.caption(theory_words)
    with right:
        (draw_network if presenting else draw_heatmap)(snap)
    if presenting:
        draw_heatmap(snap)
    charts.chart("curves", snap, lambda: run_charts.curves(snap))
    st.caption(run_charts.loss_words(snap))


# The inspected layer, kept where the slider's own state goes while it is not drawn (the
# views wait for a run's first step). Not `persist_state`: its kept value, past a smaller
# network's last layer, raises (StreamlitValueAboveMaxError); this one is clamped.
INSPECTED = "inspect_layer:chosen"


def draw_details(snap: Snapshot) -> None:
    """The detailed views, redrawn every few seconds while training."""
    ridges = min(snap.config.depth, figures.MAX_RIDGES)
    charts.chart("ridges", snap, lambda: run_charts.ridges(snap), presenter=charts.ridges_presenter(ridges))
    st.caption(run_charts.ridges_words(snap))
    left, right = st.columns(2)
    with left:
        depth = snap.config.depth
        layer = 1
        if depth > 1:
            chosen = min(st.session_state.get(INSPECTED, max(1, depth // 2)), depth)
            layer = st.session_state[INSPECTED] = st.slider("Layer to inspect", 1, depth, chosen, key="inspect_layer")
        charts.chart("derivative", snap, lambda: run_charts.derivative(snap, layer), layer)
        st.caption(run_charts.derivative_words(snap, layer))
    with right:
        charts.chart("saturation", snap, lambda: run_charts.saturation(snap))
        st.caption(run_charts.saturation_words(snap))
    left, right = st.columns(2)
    with left:
        charts.chart("updates", snap, lambda: run_charts.updates(snap))
        st.caption(run_charts.update_words(snap))
    with right:
        charts.chart("distance", snap, lambda: run_charts.distance(snap))
        st.caption(run_charts.distance_words(snap))
    left, right = st.columns(2)
    with left:
        charts.chart("variance", snap, lambda: run_charts.variance(snap))
        st.caption(run_charts.variance_words(snap))
    with right:
        charts.chart("phase", snap, lambda: run_charts.phase(snap))
        st.caption(run_charts.phase_words(snap))
    if snap.decision is not None:
        left, _ = st.columns(2)
        with left:
            charts.chart("boundary", snap, lambda: run_charts.boundary(snap), presenter=charts.BOUNDARY_PRESENTER)
            st.caption(run_charts.boundary_words(snap))


live_fragment(run, draw_live, headline=draw_headline)
if classroom.shown("details"):
    st.subheader("Inside the layers")
    live_fragment(run, draw_details, pace=detail_seconds, decision=True)
if classroom.shown("downloads"):
    st.divider()
    charts.downloads(run)
