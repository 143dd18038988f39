"""Why sigmoid vanishes: its slope, the chain rule, and what batch norm changes."""

import streamlit as st

from vangrad_core import ACTIVATIONS, ExperimentConfig, Trainer, build_model, figures, layer_stats, make_dataset
from vangrad_core.activations import ACTIVATION_TABLE, at, curves, curves_covering
from vangrad_core.lessons import ACTIVATION_WORDS, ACTIVATION_WORDS_OTHER
from views.ui import charts, session
from views.ui.state import WhySigmoidState

state = session.page_state(WhySigmoidState)
st.title("Why sigmoid makes gradients vanish")
st.caption(
    "Backpropagation multiplies, layer after layer, the activation's slope by the weights. "
    "If the slope is small, the product shrinks with every layer."
)
charts.link_warnings(session.link_warnings(WhySigmoidState))

st.header("1. The activation and its slope")
st.session_state.setdefault("why_activation", state.choice)
activation = st.pills("Activation", ACTIVATIONS, key="why_activation") or state.choice
session.save(WhySigmoidState(activation, state.classroom))
left, right = st.columns([3, 2])
with left:
    charts.show(figures.activation_and_slope(curves(activation), activation), "why:curve")
with right:
    st.metric(f"Steepest slope of {activation}", f"{ACTIVATION_TABLE[activation].max_derivative:.4g}")
    st.markdown(ACTIVATION_WORDS.get(activation, ACTIVATION_WORDS_OTHER))
st.caption("What to notice: the red curve (the slope) is what each layer multiplies the gradient by.")

st.header("2. A big change in, a small change out")
left, right = st.columns([3, 2])
with right:
    x0 = st.slider("Input x", -8.0, 8.0, 3.0, 0.5, key="why_x0")
    delta = st.slider("Change of the input", 0.5, 8.0, 2.0, 0.5, key="why_delta")
    out0, out1 = at(activation, [x0, x0 + delta])
    st.metric(
        "Output change", f"{out1 - out0:.4f}", f"input changed by {delta:g}", delta_color="off", delta_arrow="off"
    )
with left:
    charts.show(figures.input_change(curves(activation), activation, x0, delta, out0, out1), "why:change")
st.caption(
    "What to notice: near x = 0 the output follows the input; far out on the flat part a large "
    "change of input barely moves the output, so the gradient that comes back is tiny too."
)

st.header("3. The chain rule through L layers")
depth = st.slider("Hidden layers L", 2, 40, 20, key="why_depth")


@st.cache_data(max_entries=64, show_spinner=False)
def gradient_at_init(depth: int, activation: str, norm: str) -> object:
    """Per-layer statistics of a network at initialization (one batch, no update)."""
    config = ExperimentConfig(depth=depth, width=32, activation=activation, norm=norm, dataset="moons")
    data = make_dataset(config)
    return layer_stats(build_model(config), data.x_train[:256], data.y_train[:256])


stats = gradient_at_init(depth, "sigmoid", "none")
hidden = stats[stats["saturation"].notna()]
measured = (hidden["delta_rms"].iloc[0] / hidden["delta_rms"].iloc[-1]) ** (1 / max(1, depth - 1))
left, right = st.columns([3, 2])
with left:
    charts.show(figures.chain_rule(stats), "why:chain")
with right:
    st.metric("Upper bound from the slope alone: 0.25 per layer", f"0.25^{depth - 1} = {0.25 ** (depth - 1):.1e}")
    st.metric("Measured, per layer (this network, at initialization)", f"× {measured:.3f}")
    st.markdown(
        "Each layer multiplies the backpropagated gradient by the sigmoid's slope (at most 0.25) "
        "*times* the weights. With PyTorch's default weights the product is about the measured "
        "factor per layer, so layer 1 receives it to the power L."
    )
st.caption(
    "What to notice: the measured line (blue) falls straight on a log scale, like the 0.25-per-layer "
    "bound (red): vanishing is exponential in depth."
)

st.header("4. After batch norm, won't the inputs still sit at the edges?")
st.markdown(
    "A question from the course: *batch norm standardizes each unit's input over the mini-batch; "
    "afterwards, won't values still sit near the flat edges of the sigmoid?* Train the same deep "
    "sigmoid network with and without batch norm before the activation, and look at the inputs "
    "its sigmoids actually receive."
)


@st.cache_data(max_entries=8, show_spinner="Training both networks…")
def trained(norm: str, learning_rate: float) -> object:
    config = ExperimentConfig(depth=10, width=32, norm=norm, dataset="moons", steps=300, learning_rate=learning_rate)
    trainer = Trainer(config)
    trainer.step(config.steps)
    return trainer.layers, trainer.activation_inputs()


learning_rate = st.select_slider("Learning rate", [0.1, 1.0, 10.0], value=1.0, key="why_lr")
layer = st.slider("Layer to look at", 1, 10, 5, key="why_layer")
for column, (norm, title) in zip(
    st.columns(2), (("none", "without batch norm"), ("batchnorm_before", "with batch norm")), strict=True
):
    layers, inputs = trained(norm, learning_rate)
    last = layers[layers["step"] == layers["step"].max()].set_index("layer")["saturation"].dropna()
    values = inputs.loc[inputs["layer"] == layer, "value"].to_numpy()
    with column:
        st.subheader(title)
        curve = curves_covering("sigmoid", values)
        charts.show(figures.derivative_with_inputs(curve, inputs, layer, "sigmoid"), f"why:bn:{norm}")
        cols = st.columns(2)
        cols[0].metric("Saturated inputs in this layer", f"{last[layer]:.1%}")
        cols[1].metric(
            "In the most saturated layer",
            f"{last.max():.1%}",
            f"layer {last.idxmax()}",
            delta_color="off",
            delta_arrow="off",
        )
st.caption(
    "What to notice: batch norm puts most inputs back where the slope is steep, but it only "
    "standardizes (mean 0, std 1, then a learned scale and shift); it does not clip them. With a "
    "learning rate of 10, the learned scale and shift push inputs onto the flat tails again."
)
