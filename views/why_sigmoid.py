"""Why sigmoid vanishes: its slope, the chain rule, and what batch norm changes."""

import numpy as np
import streamlit as st

from vangrad_core import ACTIVATIONS, ExperimentConfig, Trainer, at_initialization, figures
from vangrad_core.activations import ACTIVATION_TABLE, at, curves, curves_covering
from vangrad_core.lessons import ACTIVATION_WORDS, ACTIVATION_WORDS_OTHER, BATCHNORM_QUESTION
from vangrad_core.summary import at_step, factor_number, gradient_ratio, per_layer
from vangrad_core.writing import number, percent, power
from views.ui import charts, form, session
from views.ui.live import training_slots
from views.ui.state import WhySigmoidSliders, WhySigmoidState

state = session.page_state(WhySigmoidState)
st.title("Why sigmoid makes gradients vanish")
st.caption(
    "Backpropagation multiplies, layer after layer, the activation's slope by the weights. "
    "If the slope is small, the product shrinks with every layer."
)
charts.link_warnings(session.link_warnings(WhySigmoidState))

st.header("1. The activation and its slope")
# the widgets start where the page's state (its link, or the last visit) has them
SLIDERS = {"x": "why_x0", "change": "why_delta", "layers": "why_depth", "learning_rate": "why_lr", "layer": "why_layer"}
st.session_state.setdefault("why_activation", state.choice)
for name, key in SLIDERS.items():
    st.session_state.setdefault(key, getattr(state.sliders, name))
FIELDS = WhySigmoidSliders.FIELDS


def slider(name: str) -> float:
    """The page's slider for the state's field `name`: its label and range from the field."""
    field = FIELDS[name]
    low, high = field.cast(field.low), field.cast(field.high)
    key = SLIDERS[name]
    value_format = form.slider_format(field, st.session_state[key])
    return st.slider(field.label, low, high, step=field.step, format=value_format, key=key)


activation = (
    st.pills("Activation", ACTIVATIONS, format_func=lambda name: ACTIVATION_TABLE[name].label, key="why_activation")
    or state.choice
)
label = ACTIVATION_TABLE[activation].label
left, right = st.columns([3, 2])
with left:
    charts.show(figures.activation_and_slope(curves(activation), label), "why:curve")
with right:
    st.metric(f"Steepest slope of {label}", f"{ACTIVATION_TABLE[activation].max_derivative:.4g}")
    st.markdown(ACTIVATION_WORDS.get(activation, ACTIVATION_WORDS_OTHER))
charts.what_to_notice(
    "On the way back, each layer multiplies the gradient by the red curve (the slope) "
    "times its weights; where the slope is flat, the product is small whatever the weights."
)

st.header("2. A big change in, a small change out")
left, right = st.columns([3, 2])
with right:
    x0 = slider("x")
    delta = slider("change")
    out0, out1 = at(activation, [x0, x0 + delta])
    change = number(out1 - out0, 3)  # (the chart's legend writes it the same: ".4f" read 0.0000 beside 1.42e-07)
    st.metric("Output change", change, f"input changed by {delta:g}", delta_color="off", delta_arrow="off")
with left:
    # the curve out to x + change (x = 8, a change of 8: the change ran off a chart fixed at ±8)
    curve = curves_covering(activation, np.array([x0, x0 + delta]), least=8.0)
    charts.show(figures.input_change(curve, label, x0, delta, out0, out1, change), "why:change")
ratio = (out1 - out0) / delta
if ratio == 0:
    moved = "Here the output does not change at all. "
elif ratio > 0:
    moved = f"Here the output changes by {number(ratio, 3)}× the input's change. "
else:  # (GELU's dip: its output falls as the input rises; "4.69e−13×" beside an output change of −2.35e−13)
    moved = (
        f"Here the output changes by {number(-ratio, 3)}× the input's change, the other way: it falls as the "
        "input rises. "
    )
charts.what_to_notice(
    moved
    + (
        f"The {label} function has no flat part: everywhere the output moves as much as the input, and the gradient "
        "comes back whole."
        if ACTIVATION_TABLE[activation].flat_word == ""
        # (ReLU's flat part moves its output not at all; Leaky ReLU's, by 0.01 of the input's change)
        else f"Where the {label} curve is flat or nearly (its slope under a tenth of its peak), a large change of "
        "input moves the output little or not at all, so the gradient that comes back is tiny too; where it is "
        "steep, the change passes on."
    )
)

st.header("3. The chain rule through L layers")
if activation != "sigmoid":  # (the pills above choose the curve of sections 1 and 2 only)
    st.caption(f"This section and the next are about sigmoid, whichever activation is chosen above ({label}).")
depth = slider("layers")


@st.cache_data(max_entries=64, show_spinner=False)
def gradient_at_init(depth: int, activation: str, norm: str) -> object:
    """Per-layer statistics of a network at initialization (one batch, no update)."""
    config = ExperimentConfig(depth=depth, width=32, activation=activation, norm=norm, dataset="moons")
    return at_initialization(config, 256)


stats = gradient_at_init(depth, "sigmoid", "none")
measured = per_layer(gradient_ratio(stats), depth)
left, right = st.columns([3, 2])
with left:
    charts.show(figures.chain_rule(stats), "why:chain")
with right:
    st.metric(
        "Upper bound from the slope alone: 0.25 per layer",
        f"{power('0.25', depth - 1)} = {number(0.25 ** (depth - 1))}",
    )
    st.metric("Measured, per layer (this network, at initialization)", f"×{factor_number(measured, steps=depth - 1)}")
    st.markdown(
        "Each layer multiplies the backpropagated gradient by the sigmoid's slope (at most 0.25) "
        "*times* the weights. The measured factor is that product for PyTorch's default weights, "
        "about the same at every layer: layer 1 receives about its (L − 1)-th power."
    )
charts.what_to_notice(
    "The measured line (blue) falls straight on a log scale, like the 0.25-per-layer "
    "bound (red): vanishing is exponential in depth."
)

st.header("4. After batch norm, won't the inputs still sit at the edges?")
st.markdown(
    "A question from the course: *batch norm standardizes each unit's input over the mini-batch; "
    "afterwards, won't values still sit near the flat edges of the sigmoid?* Train the same deep "
    "sigmoid network, with large weights, without and with batch norm before each sigmoid, and look "
    "at the inputs its sigmoids actually receive."
)


@st.cache_data(max_entries=8, show_spinner="Training both networks…")
def trained(config: ExperimentConfig) -> object:
    """The run trained to its end, once per server, with one of the training slots (as
    the classic experiments: a class opening this page at once waits, not slows down)."""
    with training_slots():
        trainer = Trainer(config)
        trainer.step(config.steps)
        return trainer.layers, trainer.activation_inputs(), trainer.metrics


# two rates, both named on their buttons (a slider of two stops showed only the one chosen)
learning_rate = st.segmented_control(
    FIELDS["learning_rate"].label, list(BATCHNORM_QUESTION), format_func="{:g}".format, required=True, key="why_lr"
)
answer = BATCHNORM_QUESTION[learning_rate]
layer = slider("layer")  # (its range: the question's networks' depth, WhySigmoidSliders)
saturated = {}
runs = {title: trained(config) for title, config in (answer.a, answer.b)}
# one x range for both charts, covering both runs' inputs: side by side, one scale
received = [inputs.loc[inputs["layer"] == layer, "value"].to_numpy() for _, inputs, _ in runs.values()]
curve = curves_covering("sigmoid", np.concatenate(received))
share_top = max(figures.largest_input_share(curve, inputs, layer) for _, inputs, _ in runs.values())  # one share axis
for column, (title, config) in zip(st.columns(2), (answer.a, answer.b), strict=True):
    layers, inputs, metrics = runs[title]
    last = at_step(layers, "end").set_index("layer")["saturation"].dropna()
    tested = metrics["test_accuracy"].dropna()
    saturated[title] = last[layer]
    with column:
        st.subheader(title)
        charts.show(figures.derivative_with_inputs(curve, inputs, layer, "sigmoid", share_top), f"why:bn:{config.norm}")
        cols = st.columns(3)
        cols[0].metric(f"Saturated, layer {layer}", percent(last[layer]))
        cols[1].metric("Saturated, all layers", percent(last.mean()))
        cols[2].metric("Test accuracy", percent(tested.iloc[-1]) if len(tested) else "–")
(without, without_share), (with_bn, with_share) = saturated.items()
st.caption(
    f"{config.depth} sigmoid layers, weights N(0, {number(config.weight_scale)}²), "
    f"{config.steps} steps at learning rate {learning_rate:g}. "
    f"Here, {percent(without_share)} of layer {layer}'s inputs are saturated {without} and "
    f"{percent(with_share)} {with_bn}. {answer.notice} (Saturated: the slope is under 10% of its peak.)"
)

# the page's state, for its link and the next visit: every widget as it is now
sliders = WhySigmoidSliders(x0, delta, depth, learning_rate, layer)
session.save(WhySigmoidState(activation, state.classroom, sliders))
