"""Lecture tour: the lecture's slides in order, each claim shown on a live run."""

import dataclasses

import streamlit as st

from vangrad_core.live import Snapshot
from vangrad_core.scenarios import SCENARIO_BY_NAME
from views import widgets


@dataclasses.dataclass(frozen=True)
class Step:
    title: str
    text: str
    scenario: str  # a name from vangrad_core.scenarios
    charts: tuple[str, ...]  # names from widgets.CHARTS
    notice: str


STEPS = (
    Step(
        "What vanishing gradients are",
        "Training updates each weight by its gradient. In a deep network the gradient is computed "
        "from the output backwards, one layer at a time, and it can shrink on the way: the layers "
        "next to the input then get almost nothing, and barely learn.",
        "Deep sigmoid stalls",
        ("profile", "curves"),
        "The solid line falls steeply to the left: layer 1's gradient is about 1e-17 of the top's.",
    ),
    Step(
        "Why sigmoid causes them",
        "The sigmoid squashes any input into (0, 1). Its slope is at most 0.25, and nearly 0 for large "
        "inputs: a large change of input makes a small change of output. Backpropagation multiplies "
        "these slopes, layer after layer.",
        "Sigmoid saturates (large init)",
        ("derivative", "saturation"),
        "The inputs (blue) spread far onto the sigmoid's flat tails, where its slope (red) is near 0.",
    ),
    Step(
        "Symptom 1: upper layers change a lot, lower layers barely",
        "One way to spot vanishing gradients: look at how much each layer's weights change. The "
        "layers near the output move; those near the input do not.",
        "Deep sigmoid stalls",
        ("updates", "distance"),
        "The update ratio of the top layers sits near the 1e-3 line; the bottom layers' are many "
        "orders of magnitude below it, and they have hardly moved from their initial weights.",
    ),
    Step(
        "Symptom 2: gradients may become zero",
        "Sometimes the gradient is not just small but exactly zero: every unit of a layer gives 0 "
        "for every input, so nothing flows back through it.",
        "30 ReLU layers, Xavier init",
        ("heatmap", "saturation"),
        "Whole layers are dead (crosses at 100%) and the map shows no gradient below them.",
    ),
    Step(
        "Symptom 3: learning is slow or stalls early",
        "The loss of a network whose lower layers get no gradient falls slowly, or not at all.",
        "Deep sigmoid stalls",
        ("curves", "boundary"),
        "The loss stays at 0.69 (a coin flip for two classes) and the decision boundary stays flat.",
    ),
    Step(
        "Fix 1: ReLU",
        "ReLU's slope is exactly 1 wherever it is active, so the gradient passes through unchanged "
        "(with He initialization to keep the signal's size).",
        "Same, with ReLU (He init)",
        ("profile", "curves"),
        "The gradient profile is nearly flat and the loss falls to almost 0.",
    ),
    Step(
        "But: dying ReLU",
        "ReLU's slope is exactly 0 below zero. A large update can push a unit to where it outputs 0 "
        "for every input: then its gradient is 0 and it never recovers.",
        "Dying ReLU (learning rate too large)",
        ("saturation", "curves"),
        "The dead-unit crosses climb to 100% in some layers, and the loss stops falling.",
    ),
    Step(
        "Fix 2: Leaky ReLU",
        "Leaky ReLU keeps a small slope (0.01) below zero, so a unit always passes some gradient back.",
        "Leaky ReLU never dies",
        ("saturation", "curves"),
        "With the same learning rate, no unit is ever dead and the network learns.",
    ),
    Step(
        "Fix 3: initialization",
        "Initialize the weights so that each layer keeps the variance of its inputs, forwards and "
        "backwards: Glorot (Xavier) for symmetric activations, He (twice the variance) for ReLU. "
        "Step 4 showed 30 ReLU layers with Xavier init dying; here is He init.",
        "30 ReLU layers, He init",
        ("profile", "curves"),
        "The gradient keeps its size through 30 layers and the network trains.",
    ),
    Step(
        "Fix 4: batch normalization",
        "Batch norm standardizes each unit's input over the mini-batch (mean 0, std 1), then applies "
        "a learned scale and shift. Before a sigmoid, it keeps the inputs where the slope is steep.",
        "Batch norm rescues deep sigmoid",
        ("profile", "curves"),
        "The same 20-layer sigmoid network as step 1: now the gradient reaches layer 1 and the loss falls.",
    ),
    Step(
        "Batch norm guarantees nothing",
        "Batch norm makes saturation less likely; it does not clip anything. With too large a "
        "learning rate the learned scale and shift push inputs back onto the flat tails.",
        "Batch norm, learning rate too large",
        ("saturation", "curves"),
        "Saturation climbs in many layers and the loss does not settle: training fails despite batch norm.",
    ),
    Step(
        "The mirror image: exploding gradients",
        "If each layer multiplies the signal by more than 1, the gradient grows layer by layer "
        "instead, until the numbers overflow.",
        "Exploding gradients",
        ("profile", "curves"),
        "The run stops within a few steps with a clear message: the loss became Inf or NaN.",
    ),
)

widgets.limit_torch_threads()
step = widgets.tour_step(len(STEPS))
current = STEPS[step]

st.title("Lecture tour")
st.caption(f"Step {step + 1} of {len(STEPS)}")
st.progress((step + 1) / len(STEPS))
st.header(current.title)
st.markdown(current.text)
st.info(f"**What to notice:** {current.notice}", icon=":material/visibility:")

run = widgets.LiveRun("tour_run")
run.ensure(SCENARIO_BY_NAME[current.scenario].config)
widgets.run_controls(run)


def draw(snap: Snapshot) -> None:
    widgets.run_status(run, snap)
    widgets.headline_metrics(snap)
    for column, name in zip(st.columns(len(current.charts)), current.charts, strict=True):
        with column:
            layer = widgets.most_saturated_layer(snap) if name == "derivative" else None
            widgets.show_chart(name, snap, layer, prefix="tour_")


widgets.live_fragment(run, draw, decision="boundary" in current.charts)
st.caption(f"Run: scenario “{current.scenario}”, open it in the Playground to change anything.")
widgets.tour_navigation(step, len(STEPS))
