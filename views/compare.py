"""Compare: two networks on the same data with the same seed, trained in step."""

import streamlit as st

from vangrad_core import figures
from vangrad_core.activations import ACTIVATION_TABLE
from vangrad_core.lessons import Comparison
from vangrad_core.live import Snapshot
from vangrad_core.summary import dead_units_words, gradient_sentence, headline
from vangrad_core.writing import number
from views.ui import charts, classroom, pairs, run_charts
from views.ui.live import pair_controls, pair_fragment
from views.ui.state import CompareState

state, labels, runs = pairs.paired_runs(
    CompareState,
    "Compare two networks",
    "Two networks, the same data, the same seed, trained step for step. Change one thing and see "
    "what it does to the gradients.",
)
pair_controls(runs, same_batches=state.unshared() is None)
first = CompareState.PAIRS[state.pair].first if state.pair else Comparison.first  # (a custom pair: the default)


def draw_headline(snaps: tuple[Snapshot, Snapshot]) -> None:
    named = dict(zip(labels, snaps, strict=True))
    for column, (label, snap) in zip(st.columns(2), named.items(), strict=True):
        head = headline(snap.metrics, snap.layers, snap.config)
        with column:
            charts.run_heading(label, snap)
            presenting = classroom.presenting()  # the numbers only, the factor under the ratio: room for the charts
            cols = st.columns(3)
            cols[0].metric("Loss (batch)", number(head.loss, 3))  # (the loss chart's caption: the mean of 20)
            charts.test_accuracy_metric(cols[1], head, snap, compact=False)  # (a sixth of the page: the line under it)
            charts.gradient_ratio_metric(cols[2], head, snap.config.depth, with_factor=presenting, explained=False)
            if not presenting:
                st.caption(gradient_sentence(head, snap.config.depth))


def draw(snaps: tuple[Snapshot, Snapshot]) -> None:
    named = dict(zip(labels, snaps, strict=True))
    stamp = (labels, *(s.identity for s in snaps))  # (the labels name the runs in the legends)

    def profiles() -> None:
        charts.chart(
            "compare:profiles",
            snaps[0],
            lambda: figures.compare_profiles({k: v.layers for k, v in named.items()}),
            stamp,
        )
        st.caption(
            "RMS of dL/dz reaching each layer now. A line that falls to the left is a gradient that vanishes on its "
            "way to the input, one that rises a gradient that explodes (the numbers above say how far)."
        )

    def loss() -> None:
        # (the runs' whole names, where Through time keys its runs by letter: a pair's here fit one row)
        charts.chart("compare:loss", snaps[0], lambda: run_charts.compare_curves(named), stamp)
        words = {label: run_charts.loss_words(snap) for label, snap in named.items()}
        st.caption(" ".join(f"{label}: {said}" for label, said in words.items() if said))

    def saturation() -> None:
        flat_words = {label: ACTIVATION_TABLE[s.config.activation].flat_word or "flat" for label, s in named.items()}
        flat_word = " or ".join(sorted(set(flat_words.values())))
        charts.chart(
            "compare:saturation",
            snaps[0],
            lambda: figures.compare_saturation({k: v.layers for k, v in named.items()}, flat_words),
            stamp,
        )
        dead = [f"{label}: {words}" for label, snap in named.items() if (words := dead_units_words(snap.layers))]
        st.caption(
            f"Bars: inputs where the slope is under 10% of its peak ({flat_word}). Crosses: dead units, which "
            "pass no gradient for the whole batch." + (f" {'; '.join(dead)}." if dead else "")
        )

    # side by side first, the two the pair's notice points to (on a projector, its first screen); the third under them
    views = {"profiles": profiles, "loss": loss, "saturation": saturation}
    for column, name in zip(st.columns(2), first, strict=True):
        with column:
            views[name]()
    (rest,) = views.keys() - set(first)
    views[rest]()


pair_fragment(runs, draw, headline=draw_headline)
