"""Playground: set up a network, train it live, and watch every layer."""

import math

import streamlit as st

from vangrad_core import figures as fig
from vangrad_core.live import Snapshot
from vangrad_core.scenarios import SCENARIO_BY_NAME
from vangrad_core.summary import headline
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
scenario = widgets.scenario_picker()
if scenario in SCENARIO_BY_NAME:
    st.info(SCENARIO_BY_NAME[scenario].notice, icon=":material/lightbulb:")

with st.sidebar:
    config = widgets.config_controls()
widgets.sync_url(config, scenario)

run = widgets.LiveRun("playground_run")
if run.ensure(config):
    st.toast("Settings changed: a new run starts from step 0.")
widgets.run_controls(run)


def draw_live(snap: Snapshot) -> None:
    """What tells the story, redrawn several times a second while training."""
    widgets.run_status(run, snap)
    metrics, layers = snap.metrics, snap.layers
    head = headline(metrics, layers)
    if snap.diverged_at is not None:
        st.error(
            f"**The run diverged at step {snap.diverged_at}**: {snap.divergence_reason}. "
            "Exploding gradients: each layer multiplied the signal up until the numbers overflowed. "
            "Try a smaller learning rate, a smaller weight scale, gradient clipping or batch norm.",
            icon=":material/error:",
        )
    cols = st.columns(5)
    cols[0].metric("Step", f"{head.step} / {snap.config.steps}")
    cols[1].metric("Loss (batch)", "–" if math.isnan(head.loss) else f"{head.loss:.3f}")
    cols[2].metric("Test accuracy", "–" if math.isnan(head.test_accuracy) else f"{head.test_accuracy:.1%}")
    cols[3].metric(
        "Gradient, layer 1 ÷ last hidden",
        "–" if math.isnan(head.gradient_ratio) else f"{head.gradient_ratio:.1e}",
        help="1 means the first layer gets as much gradient as the last; 1e-6 a millionth of it.",
    )
    saturated = head.most_saturated_layer is not None and head.most_saturated_fraction >= 0.01
    cols[4].metric(
        "Most saturated layer",
        f"{head.most_saturated_layer}" if saturated else "none",
        f"{head.most_saturated_fraction:.0%} saturated" if saturated else None,
        delta_color="off",
        delta_arrow="off",
    )

    left, right = st.columns(2)
    with left:
        widgets.chart("grad_profile", snap, lambda: fig.gradient_profile(layers, snap.config.activation))
        st.caption(
            "Gradient reaching each layer, now (solid) and at step 0 (dotted). A line falling "
            "to the left means the layers near the input learn slowest: vanishing gradients."
        )
    with right:
        widgets.chart("grad_heatmap", snap, lambda: fig.gradient_heatmap(layers))
        st.caption(
            "Each column is a step. A dark band at the bottom (input side) that stays dark: "
            "those layers get no gradient."
        )
    widgets.chart("curves", snap, lambda: fig.training_curves(metrics))
    st.caption("A loss stuck near its start (0.69 for two classes) means learning has stalled.")


def draw_details(snap: Snapshot) -> None:
    """The detailed views, redrawn once a second while training."""
    layers = snap.layers
    left, right = st.columns(2)
    with left:
        depth = snap.config.depth
        layer = st.slider("Layer to inspect", 1, depth, max(1, depth // 2), key="inspect_layer") if depth > 1 else 1
        widgets.chart(
            "derivative",
            snap,
            lambda: fig.derivative_with_inputs(snap.config.activation, snap.activation_inputs, layer),
            layer,
        )
        st.caption(
            "Where the blue histogram sits under the flat part of the red curve, the derivative "
            "is tiny and the gradient is cut."
        )
    with right:
        widgets.chart("saturation", snap, lambda: fig.saturation_by_layer(layers))
        st.caption(
            "Bars: share of inputs where the derivative is under 10% of its peak. "
            "Crosses: units that are 0 for the whole batch (dead)."
        )

    left, right = st.columns(2)
    with left:
        widgets.chart("updates", snap, lambda: fig.update_ratios(layers))
        st.caption(
            "Size of each step's change relative to the weights. Far below the 1e-3 line: that layer is not learning."
        )
    with right:
        widgets.chart("distance", snap, lambda: fig.distance_from_init(layers))
        st.caption(
            "How far each layer's weights have moved from where they started: "
            "lower layers barely move when gradients vanish."
        )
    if snap.decision is not None:
        left, _ = st.columns(2)
        with left:
            widgets.chart("boundary", snap, lambda: fig.decision_boundary(*snap.decision))
            st.caption("What the network predicts over the plane. A flat colour means it has learned nothing.")


widgets.live_fragment(run, draw_live)
st.subheader("Inside the layers")
widgets.live_fragment(run, draw_details, every=widgets.DETAIL_SECONDS, trains=False, decision=True)
st.divider()
widgets.downloads(run)
