"""Playground: set up a network, train it live, and watch every layer."""

import streamlit as st

from vangrad_core.live import Snapshot
from vangrad_core.scenarios import SCENARIO_BY_NAME
from views import widgets

widgets.limit_torch_threads()
widgets.initial_config()
widgets.mark_custom_if_changed()

st.title("Playground: watch gradients vanish")
st.caption(
    "Pick a scenario or set up your own network in the sidebar, press Train, and watch what "
    "reaches each layer. Layer 1 is next to the input; colours run from the input (dark) to "
    "the output (yellow) in every chart."
)
widgets.show_url_warnings()
scenario = widgets.scenario_picker() if widgets.shown("scenario") else st.session_state["cfg_scenario"]
if scenario in SCENARIO_BY_NAME:
    st.info(SCENARIO_BY_NAME[scenario].notice, icon=":material/lightbulb:")

with st.sidebar:
    config = widgets.config_controls() if widgets.shown("settings") else widgets.controlled_config()
widgets.sync_url(config, scenario)

run = widgets.LiveRun("playground_run")
if run.ensure(config):
    st.toast("Settings changed: a new run starts from step 0.")
widgets.run_controls(run)


def draw_live(snap: Snapshot) -> None:
    """What tells the story, redrawn several times a second while training."""
    widgets.run_status(run, snap)
    widgets.headline_metrics(snap)
    left, right = st.columns(2)
    with left:
        widgets.show_chart("profile", snap, widgets.gradient_measure("gradient_measure"))
        st.caption(widgets.theory_summary(snap.config))
    with right:
        widgets.show_chart("heatmap", snap)
    widgets.show_chart("curves", snap)


def draw_details(snap: Snapshot) -> None:
    """The detailed views, redrawn every few seconds while training."""
    left, right = st.columns(2)
    with left:
        widgets.show_chart("derivative", snap, widgets.layer_picker(snap, "inspect_layer"))
    with right:
        widgets.show_chart("saturation", snap)
    left, right = st.columns(2)
    with left:
        widgets.show_chart("updates", snap)
    with right:
        widgets.show_chart("distance", snap)
    left, right = st.columns(2)
    with left:
        widgets.show_chart("variance", snap)
    with right:
        widgets.show_chart("phase", snap)
    left, _ = st.columns(2)
    with left:
        widgets.show_chart("boundary", snap)


widgets.live_fragment(run, draw_live)
if widgets.shown("details"):
    st.subheader("Inside the layers")
    widgets.live_fragment(run, draw_details, every=widgets.DETAIL_SECONDS, trains=False, decision=True)
if widgets.shown("downloads"):
    st.divider()
    widgets.downloads(run)
