"""Compare: two networks on the same data with the same seed, trained in step."""

import math

import streamlit as st

from vangrad_core import figures as fig
from vangrad_core.live import Snapshot
from vangrad_core.scenarios import COMPARISON_BY_NAME
from vangrad_core.summary import headline
from views import widgets

widgets.limit_torch_threads()
widgets.initial_pair()

st.title("Compare two networks")
st.caption(
    "Two networks, the same data, the same seed, trained step for step. Change one thing and see "
    "what it does to the gradients."
)
widgets.show_url_warnings("pair_")
pair = widgets.pair_picker() if widgets.shown("scenario") else st.session_state["pair_scenario"]
labels = ("A", "B")
if pair in COMPARISON_BY_NAME:
    comparison = COMPARISON_BY_NAME[pair]
    labels = (f"A: {comparison.a[0]}", f"B: {comparison.b[0]}")
    st.info(comparison.notice, icon=":material/lightbulb:")

if widgets.shown("settings"):
    with st.expander("Settings of A and B", expanded=pair not in COMPARISON_BY_NAME):
        left, right = st.columns(2)
        with left:
            st.markdown("**Run A** (its data, seed, steps and batch size are used by both)")
            widgets.config_controls("a_")
        with right:
            st.markdown("**Run B**")
            widgets.config_controls("b_", tuple(f for f in widgets.FIELDS if f not in widgets.SHARED_FIELDS))
config_a = widgets.controlled_config("a_")
config_b = widgets.controlled_config("b_").replace(**{f: getattr(config_a, f) for f in widgets.SHARED_FIELDS})
widgets.sync_url_pair(config_a, config_b, pair)

runs = (widgets.LiveRun("compare_a"), widgets.LiveRun("compare_b"))
if any([run.ensure(config) for run, config in zip(runs, (config_a, config_b), strict=True)]):
    st.toast("Settings changed: both runs start again from step 0.")
widgets.pair_controls(runs)


def draw(snaps: tuple[Snapshot, Snapshot]) -> None:
    named = dict(zip(labels, snaps, strict=True))
    for column, (label, snap) in zip(st.columns(2), named.items(), strict=True):
        head = headline(snap.metrics, snap.layers)
        with column:
            st.markdown(f"**{label}**: {snap.step_count} / {snap.config.steps} steps")
            if snap.diverged_at is not None:
                st.error(f"Diverged at step {snap.diverged_at}: exploding gradients.", icon=":material/error:")
            cols = st.columns(3)
            cols[0].metric("Loss", "–" if math.isnan(head.loss) else f"{head.loss:.3f}")
            cols[1].metric("Test accuracy", "–" if math.isnan(head.test_accuracy) else f"{head.test_accuracy:.1%}")
            cols[2].metric(
                "Layer 1 ÷ last hidden", "–" if math.isnan(head.gradient_ratio) else f"{head.gradient_ratio:.1e}"
            )
    stamp = tuple(s.stamp for s in snaps)
    left, right = st.columns(2)
    with left:
        widgets.chart(
            "cmp_profiles", snaps[0], lambda: fig.compare_profiles({k: v.layers for k, v in named.items()}), stamp
        )
        st.caption("Gradient reaching each layer now. The line that falls to the left is the one that vanishes.")
    with right:
        widgets.chart("cmp_loss", snaps[0], lambda: fig.compare_curves({k: v.metrics for k, v in named.items()}), stamp)
        st.caption("The run whose loss stays flat has stalled.")
    widgets.chart(
        "cmp_saturation", snaps[0], lambda: fig.compare_saturation({k: v.layers for k, v in named.items()}), stamp
    )
    st.caption(
        "Where the bars differ, one activation sits on its flat part and the other does not; crosses are dead units."
    )


widgets.pair_fragment(runs, draw)
