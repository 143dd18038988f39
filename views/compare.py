"""Compare: two networks on the same data with the same seed, trained in step."""

import math

import streamlit as st

from vangrad_core import figures
from vangrad_core.activations import ACTIVATION_TABLE
from vangrad_core.lessons import COMPARISON_BY_NAME
from vangrad_core.live import Snapshot
from vangrad_core.summary import gradient_sentence, headline, number
from views.ui import charts, classroom, form, run_charts, session
from views.ui.live import LiveRun, pair_controls, pair_fragment
from views.ui.state import SHARED_FIELDS, CompareState

CUSTOM = "Custom (your own settings)"

state = session.page_state(CompareState)
if classroom.shown("settings"):  # what the forms below say now, so that the pair picker shows "Custom" at once
    state = state.with_configs(form.read("a", state.a)[0], form.read("b", state.b)[0])

st.title("Compare two networks")
st.caption(
    "Two networks, the same data, the same seed, trained step for step. Change one thing and see "
    "what it does to the gradients."
)
charts.link_warnings(session.link_warnings(CompareState))


def pick_pair() -> None:
    name, current = st.session_state["pair"], session.page_state(CompareState)
    if name in COMPARISON_BY_NAME:
        comparison = COMPARISON_BY_NAME[name]
        form.fill("a", comparison.a[1])
        form.fill("b", comparison.b[1])
        session.save(CompareState(comparison.a[1], comparison.b[1], name, current.classroom))
    else:
        session.save(CompareState(current.a, current.b, None, current.classroom))


if classroom.shown("scenario"):
    st.session_state["pair"] = state.pair or CUSTOM
    st.selectbox("Comparison", [CUSTOM, *COMPARISON_BY_NAME], key="pair", on_change=pick_pair)
labels = ("A", "B")
if state.pair is not None:
    comparison = COMPARISON_BY_NAME[state.pair]
    labels = (f"A: {comparison.a[0]}", f"B: {comparison.b[0]}")
    st.info(comparison.notice, icon=":material/lightbulb:")

a, b, problem_a, problem_b = state.a, state.b, None, None
if classroom.shown("settings"):
    with st.expander("Settings of A and B", expanded=state.pair is None):
        left, right = st.columns(2)
        with left:
            st.markdown("**Run A** (its data, seed, steps and batch size are used by both)")
            a, problem_a = form.settings_form("a", state.a)
        with right:
            st.markdown("**Run B**")
            b, problem_b = form.settings_form(
                "b", state.b, tuple(name for name in state.b.FIELDS if name not in SHARED_FIELDS)
            )
for side, problem in (("A", problem_a), ("B", problem_b)):
    if problem:
        st.error(f"Run {side}'s settings cannot train: {problem}. Its last valid settings stay.")
state = state.with_configs(a, b)
session.save(state)

runs = (LiveRun("run:compare:a"), LiveRun("run:compare:b"))
if any([run.ensure(config) for run, config in zip(runs, (state.a, state.b), strict=True)]):
    st.toast("Settings changed: both runs start again from step 0.")
pair_controls(runs)


def draw(snaps: tuple[Snapshot, Snapshot]) -> None:
    named = dict(zip(labels, snaps, strict=True))
    for column, (label, snap) in zip(st.columns(2), named.items(), strict=True):
        head = headline(snap.metrics, snap.layers, snap.config)
        with column:
            st.markdown(f"**{label}**: {snap.step_count} / {snap.config.steps} steps")
            if snap.diverged_at is not None:
                st.error(f"Diverged at step {snap.diverged_at}: the loss overflowed.", icon=":material/error:")
            cols = st.columns(3)
            cols[0].metric("Loss", number(head.loss, 3))
            cols[1].metric("Test accuracy", "–" if math.isnan(head.test_accuracy) else f"{head.test_accuracy:.1%}")
            cols[2].metric("dL/dz: layer 1 ÷ last", number(head.gradient_ratio))
            st.caption(gradient_sentence(head, snap.config.depth))
    stamp = tuple(s.stamp for s in snaps)
    left, right = st.columns(2)
    with left:
        charts.chart(
            "compare:profiles",
            snaps[0],
            lambda: figures.compare_profiles({k: v.layers for k, v in named.items()}),
            stamp,
        )
        st.caption("RMS of dL/dz reaching each layer now. The line that falls to the left is the one that vanishes.")
    with right:
        charts.chart(
            "compare:loss", snaps[0], lambda: figures.compare_curves({k: v.metrics for k, v in named.items()}), stamp
        )
        st.caption(" ".join(f"{label}: {run_charts.loss_words(snap)}" for label, snap in named.items()))
    words = {ACTIVATION_TABLE[snap.config.activation].flat_word or "flat" for snap in snaps}
    flat_word = " or ".join(sorted(words))
    charts.chart(
        "compare:saturation",
        snaps[0],
        lambda: figures.compare_saturation({k: v.layers for k, v in named.items()}, flat_word),
        stamp,
    )
    st.caption(
        f"Bars: inputs where the slope is under 10% of its peak ({flat_word}). Crosses: dead units, which "
        "pass no gradient for the whole batch."
    )


pair_fragment(runs, draw)
