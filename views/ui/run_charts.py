"""A run's snapshot turned into the engine's figures: where the figures (which only
draw) meet what the engine computes beside the run (theory, activation curves).
The playground and the tour draw the same charts of a run from here."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from vangrad_core import figures, make_dataset, theory
from vangrad_core.activations import ACTIVATION_TABLE, curves_covering, flat_outputs, outputs_of
from vangrad_core.config import ExperimentConfig
from vangrad_core.figures.style import SMALLEST_NORMAL, steps_of
from vangrad_core.live import Snapshot
from vangrad_core.recurrent import TASK_ACCURACY_NAME, TASK_LOSS_NAME, RecurrentConfig
from vangrad_core.summary import (
    GRADIENT_MEASURE,
    at_step,
    dead_layers_sentence,
    factor_number,
    flat_extremes,
    flat_share_sentence,
    gradient_ratio,
    headline,
    loss_sentence,
    loss_window,
    units_sentence,
)
from vangrad_core.writing import number, outward, percent

PHASE_RANGE = {"sigmoid": 160.0}  # sigmoid's edge of chaos lies far out (σ_w² ≈ 100); others near 1 or 2
MEASURE_LABELS = {"delta_rms": "dL/dz, with theory", "weight_grad_norm": "dL/dW (weights)"}  # figures.GRADIENT_MEASURES


def _predicted(config: ExperimentConfig):
    """The theory's per-layer prediction for the run, or None where it does not apply."""
    return theory.predict_layers(config) if theory.applies(config) else None


SLOPE_GUIDE = ACTIVATION_TABLE["sigmoid"].max_derivative  # the red dashed line's factor a layer (0.25)


def slope_guide_drawn(config: ExperimentConfig, measure: str = "delta_rms") -> bool:
    """Whether the profile draws sigmoid's ×0.25 line: for dL/dz (what the slope scales on
    its way back; dL/dW also carries each layer's inputs), of sigmoid in a plain stack (the
    bound holds only for a plain chain: no norm, no skips) of two layers or more."""
    return measure == "delta_rms" and config.activation == "sigmoid" and theory.applies(config) and config.depth >= 2


def profile(snap: Snapshot, measure: str = "delta_rms") -> go.Figure:
    config = snap.config
    guide = SLOPE_GUIDE if slope_guide_drawn(config, measure) else None
    return figures.gradient_profile(snap.layers, config.activation, measure, _predicted(config), slope_guide=guide)


def unmoved_factor(then: pd.Series, now: pd.Series) -> float | None:
    """The largest change per layer between two steps' positive values, as a factor,
    where a chart of them cannot show it, on a log axis or a linear one (under a
    fiftieth of the decades they span, at least ×1.05, and under a fiftieth of the
    largest): the later step's marks cover the earlier's. None where it can be seen,
    or where a value is 0 or not finite."""
    if not ((then > 0) & (now > 0)).all() or not np.isfinite([then, now]).all():
        return None
    change = float(np.log10(now / then).abs().max())
    decades = math.log10(max(then.max(), now.max()) / min(then.min(), now.min()))
    largest = max(then.max(), now.max())
    seen = change > max(decades, 1) / 50 or float((now - then).abs().max()) > largest / 50
    return None if seen else 10**change


def at_most(factor: float) -> str:
    """An `unmoved_factor` as the bound a caption gives, rounded up, never down: layers
    changed by ×1.105 read "by no more than ×1.1"."""
    return number(outward(factor, 2), 3)


def then_and_now(frames: Iterable[pd.DataFrame], what: str) -> str:
    """`what` a chart draws at step 1 (dotted) and now (solid), in words; at step 1, the
    one line there is ("at step 1 (dotted) and now (solid)" stood beside a chart of one)."""
    steps = {step for frame in frames if not frame.empty for step in steps_of(frame)}
    if len(steps) == 1:
        later = "from the next step on, a dotted line keeps step 1 and the solid one is now"
        return f"{what} at step 1, the initial weights; {later}."
    return f"{what}, at step 1 (dotted) and now (solid)."


def unmoved_words(snap: Snapshot) -> str:
    """Why the profile's dotted line (the first step) cannot be seen, where it lies under
    the solid one (now): `unmoved_factor` of dL/dz; "" otherwise. Deep sigmoid's run: ×1.1
    in 500 steps."""
    layers = snap.layers
    if layers.empty:
        return ""
    first_step, last_step = steps_of(layers)  # the two steps the chart draws
    if first_step == last_step:
        return ""
    then, now = (layers[layers["step"] == step].set_index("layer")["delta_rms"] for step in (first_step, last_step))
    unmoved = unmoved_factor(then, now)
    if unmoved is None:
        return ""
    return (
        f"Since step 1 no layer's gradient has changed by more than ×{at_most(unmoved)}: "
        "the solid line covers the dotted one."
    )


def slope_guide_words(snap: Snapshot) -> str:
    """The profile's red dashed line (sigmoid in a plain stack of two layers or more)
    against the run's own factor a layer now, the headline's; "" where no line is drawn
    or nothing is measured yet. A gradient falling slower than the line can only be the
    weights' doing: no sigmoid slope passes on more than 0.25."""
    config = snap.config
    if not slope_guide_drawn(config):
        return ""
    factor = headline(snap.metrics, snap.layers, config).per_layer
    if not math.isfinite(factor):
        return ""
    line = (
        f"Red dashed: ×{SLOPE_GUIDE:g} a layer back from layer {config.depth}, the most a sigmoid's slope passes on "
        "(the weights left out)"
    )
    now = f"×{factor_number(factor, steps=config.depth - 1)} a layer"
    if factor < SLOPE_GUIDE * 0.95:
        return f"{line}; this run's gradient falls faster, {now}."
    if factor <= SLOPE_GUIDE * 1.05:
        return f"{line}; this run's gradient falls at about that rate, {now}."
    if factor < 1:
        return f"{line}; this run's gradient falls slower, {now}: its weights make up part of what the slopes take."
    return f"{line}; this run's gradient does not fall ({now}): its weights make up more than the slopes take."


def heatmap(snap: Snapshot) -> go.Figure:
    return figures.gradient_heatmap(snap.layers)


def curves(snap: Snapshot) -> go.Figure:
    window = loss_window(len(snap.metrics))  # (the loss sentence's: its number is the line's last point)
    if isinstance(snap.config, RecurrentConfig):
        task = snap.config.task
        return figures.training_curves(snap.metrics, TASK_LOSS_NAME[task], TASK_ACCURACY_NAME[task], window)
    return figures.training_curves(snap.metrics, window=window)


def compare_curves(
    snaps: dict[str, Snapshot], nothing_learned: float | None = None, compact: bool = False
) -> go.Figure:
    """Several runs' losses, overlaid, each point the mean of as many batches as the loss
    sentence's (and a line at `nothing_learned`, if given); `compact`, keyed by letter."""
    window = loss_window(max(len(snap.metrics) for snap in snaps.values()))
    losses = {label: snap.metrics for label, snap in snaps.items()}
    return figures.compare_curves(losses, window, nothing_learned, compact)


def loss_words(snap: Snapshot) -> str:
    """Where the loss is now, against the loss of guessing."""
    return loss_sentence(snap.metrics, make_dataset(snap.config).n_classes)


def derivative(snap: Snapshot, layer: int) -> go.Figure:
    inputs = snap.activation_inputs
    values = inputs.loc[inputs["layer"] == layer, "value"].to_numpy()
    curve = curves_covering(snap.config.activation, values)
    return figures.derivative_with_inputs(curve, inputs, layer, ACTIVATION_TABLE[snap.config.activation].label)


def derivative_words(snap: Snapshot, layer: int) -> str:
    """What the derivative chart shows, and how many of the inspected layer's inputs sit
    on the flat part now (it said "where the histogram sits under the flat part ... the
    gradient is cut" beside a deep sigmoid's inputs, none of them there: that run's
    gradient shrinks by the slope at its peak times the weights)."""
    activation = ACTIVATION_TABLE[snap.config.activation]
    if not activation.flat_word:
        return f"{activation.label}'s slope has no flat part: no input is cut off from the gradient."
    said = (
        "Where the blue histogram sits under the flat part of the red curve (its slope under the dotted line, "
        "10% of its peak), the derivative is tiny and the gradient is cut"
    )
    now = at_step(snap.layers, "end")
    share = now.loc[now["layer"] == layer, "saturation"]
    if share.empty or not math.isfinite(share.iloc[0]):
        return f"{said}."
    share = float(share.iloc[0])
    if share > 0:
        return f"{said}: now {percent(share)} of layer {layer}'s inputs in this batch are there{sampled(snap, layer)}."
    return (
        f"{said}. Now none of layer {layer}'s inputs is there: at this layer the gradient is scaled by the slope "
        f"where they sit (at most {activation.max_derivative:g}) times the weights."
    )


def sampled(snap: Snapshot, layer: int) -> str:
    """ " (the histogram draws its first 8 examples)" where the histogram draws a part of
    the batch (`measure_fast.HISTOGRAM_SAMPLE` values a layer), and the share beside it
    counts all of it; "" where it draws the whole batch."""
    drawn = (
        int((snap.activation_inputs["layer"] == layer).sum()) // snap.config.width if len(snap.activation_inputs) else 0
    )
    batch = min(snap.config.batch_size, len(make_dataset(snap.config).x_train))
    return f" (the histogram draws its first {drawn} examples)" if 0 < drawn < batch else ""


def saturation(snap: Snapshot) -> go.Figure:
    activation = ACTIVATION_TABLE[snap.config.activation]
    return figures.saturation_by_layer(snap.layers, activation.flat_word, activation.dead_cause)


def network(snap: Snapshot) -> go.Figure:
    activation = ACTIVATION_TABLE[snap.config.activation]
    n_inputs = make_dataset(snap.config).n_inputs
    return figures.network_picture(snap.units, n_inputs, activation.flat_word, activation.dead_cause)


def network_words(snap: Snapshot) -> str:
    """What the network picture shows, with the run's numbers."""
    return units_sentence(snap.units, ACTIVATION_TABLE[snap.config.activation].flat_word)


def ridges(snap: Snapshot) -> go.Figure:
    name = snap.config.activation
    shares = at_step(snap.layers, "end").set_index("layer")["saturation"]
    outputs = outputs_of(name, snap.activation_inputs)
    activation = ACTIVATION_TABLE[name]
    return figures.activation_ridges(
        outputs, shares, activation.label, activation.flat_word, flat_outputs(name), named=flat_extremes(shares)
    )


def ridges_words(snap: Snapshot) -> str:
    """What the ridgeline shows for this activation, and the run's least and most
    saturated (or inactive) layers now."""
    name = snap.config.activation
    activation = ACTIVATION_TABLE[name]
    word, label = activation.flat_word, activation.label
    if not word:
        return f"Each layer's outputs, layer 1 at the bottom, each scaled to its tallest bar: {label} has no flat part."
    bands = flat_outputs(name)
    where = (
        " The dotted line marks the output those inputs give."
        if bands and all(low == high for low, high in bands)
        else " The pink shading marks the outputs those inputs give."
        if bands
        else ""
    )
    return (
        f"Each layer's outputs, layer 1 at the bottom, each scaled to its tallest bar that is not red: red where "
        f"{label}'s slope is under 10% of its peak ({word}), a red bar cut where it is taller.{where} Beside each "
        f"layer: its share of {word} inputs over the whole batch, as in the bars below. "
        + flat_share_sentence(snap.layers, word)
    )


def updates(snap: Snapshot) -> go.Figure:
    return figures.update_ratios(snap.layers)


# a layer whose update is this many times under the guide barely moves
HARDLY_MOVING = 100


def update_words(snap: Snapshot) -> str:
    """What the update chart shows at the latest recorded step: its smallest and
    largest update against the weights, and what that means against the 10⁻³ guide
    (a fixed "far below the line: not learning" stood beside an exploding run whose
    updates were 10¹⁶ times its weights)."""
    how = "Size of each step's change relative to the weights; the dashed line, 10⁻³, is a healthy rate."
    layers = snap.layers
    if layers is None or layers.empty:
        return f"{how} Far below it, a layer barely moves; above 1, a step changes its weights by more than their size."
    depth, step = snap.config.depth, int(layers["step"].max()) + 1
    ratio = at_step(layers, "end").set_index("layer")["update_ratio"]
    # not finite at a recorded step: its sums overflowed float32 (an exploding run's last steps)
    overflowed, ratio = ratio.index[~np.isfinite(ratio)], ratio[np.isfinite(ratio)]
    said = []
    if len(overflowed):
        which = "every layer" if ratio.empty else layer_list(overflowed, depth)
        said.append(f"the update of {which} was too large to measure in float32")
    if not ratio.empty:
        low, high = int(ratio.idxmin()), int(ratio.idxmax())
        # (three digits just above 1: the output layer's 1.04 read "1" beside "Above 1, ...")
        largest = number(ratio[high], 3 if 1 < ratio[high] < 10 else 2)
        if ratio[high] < SMALLEST_NORMAL:
            said.append("no " + ("other " if len(overflowed) else "") + "layer's weights changed at all")
        elif ratio[low] == ratio[high]:
            said.append(f"{'every layer' if len(ratio) > 1 else layer_name(low, depth)}'s update is {largest}")
        else:
            smallest = "0 (under half a float32 step of its weights)" if ratio[low] < SMALLEST_NORMAL else None
            said.append(
                f"{layer_name(low, depth)}'s update is {smallest or number(ratio[low])}, "
                f"{layer_name(high, depth)}'s {largest}"
            )
    words = f"{how} At step {step}, {'; '.join(said)}."
    if len(overflowed) or (not ratio.empty and ratio[high] > 1 and largest != "1"):
        words += " Above 1, one step changes the weights by more than their own size."
    elif not ratio.empty and SMALLEST_NORMAL <= ratio[low] < figures.UPDATE_GUIDE / HARDLY_MOVING:
        below = number(figures.UPDATE_GUIDE / ratio[low])
        words += f" {layer_name(low, depth).capitalize()}'s is {below} times below the line: its weights barely move"
        # (a network that has learned moves little everywhere: "layer 1's ... barely move" alone read as vanishing
        # beside an output layer's 2.5e-5)
        words += "; every other layer's update is below the line too." if ratio[high] < figures.UPDATE_GUIDE else "."
    return words


def layer_name(layer: int, depth: int) -> str:
    """A Linear layer as the charts by layer number it, where the output layer is `depth + 1`:
    "layer 3", "output layer 21"."""
    return f"output layer {layer}" if layer == depth + 1 else f"layer {layer}"


def layer_list(layers: Iterable[int], depth: int) -> str:
    """ "layers 3, 15 and 21 (the output layer)"; "layer 3" alone."""
    names = [str(layer) + (" (the output layer)" if layer == depth + 1 else "") for layer in layers]
    return f"layer {names[0]}" if len(names) == 1 else f"layers {', '.join(names[:-1])} and {names[-1]}"


def distance(snap: Snapshot) -> go.Figure:
    return figures.distance_from_init(snap.layers)


def distance_words(snap: Snapshot) -> str:
    """What the distance chart shows now, from the run: layer 1, the last hidden layer,
    and the layer that moved most when it is neither (a general "lower layers barely
    move" stood beside a run whose layer 1 had moved the most; "layer 1 less than layer
    40" beside one whose middle layers had moved twenty times more than both)."""
    how = "How far each layer's weights have moved from where they started."
    layers = snap.layers
    if layers is None or layers.empty:
        return how
    depth = snap.config.depth
    moved = at_step(layers, "end").set_index("layer")["distance_from_init"]  # the output layer's too: a bar
    if not np.isfinite(moved).all():
        return how
    step = int(layers["step"].max()) + 1
    if step == 1:  # (beside the update chart's first update: "not moved at all" read as a contradiction)
        return (
            f"{how} At step 1 every layer's weights are still the initial ones: a step's distance is measured "
            "before its update, as its gradient is."
        )
    said = [f"layer 1 {_moved(moved[1])}"] + ([f"layer {depth} {_moved(moved[depth])}"] if depth > 1 else [])
    most = int(moved.idxmax())
    if most not in (1, depth):
        said.append(f"the most, {layer_name(most, depth)}, {_moved(moved[most])}")
    # (before the step's update, as its gradient: beside an exploding run's step-3 update of 6.8e15×, "moved 55×")
    return f"{how} At step {step}, before its update, {'; '.join(said)}."


def _moved(share: float) -> str:
    """A distance moved, as a share of the initial weights' size (0.26: a quarter of it, not shrunk to it)."""
    return "has not moved at all" if share == 0 else f"has moved by {number(share)}× its initial size"


def boundary(snap: Snapshot) -> go.Figure:
    return figures.decision_boundary(*snap.decision)


def variance(snap: Snapshot) -> go.Figure:
    return figures.forward_variance(snap.layers, _predicted(snap.config), theory.variance_rule(snap.config))


# why the mean-field lines are not drawn for a network with normalization or skips
NO_THEORY_WHY = (
    "mean-field theory here describes plain stacks of layers, and normalization (which rescales the signal at "
    "every layer) or residual connections (which add each layer's input to its output) change the recursion."
)


def saturation_words(snap: Snapshot) -> str:
    """What the bars and crosses mean, and which layers are dead now, since when."""
    return " ".join(
        filter(
            None,
            (
                "Bars: share of inputs where the slope is under 10% of its peak (saturated on sigmoid's or tanh's "
                "flat tails, inactive on ReLU's off side). Crosses: dead units, which pass no gradient for the "
                "whole batch; the legend says what kills a unit of this activation.",
                dead_layers_sentence(snap.layers, snap.config.residual),
            ),
        )
    )


def boundary_words(snap: Snapshot) -> str:
    said = "What the network predicts over the plane. A flat colour means it has learned nothing."
    if snap.diverged_at is not None:  # (its outputs are NaN where they overflowed: drawn as 0.5)
        said += " The run blew up: where its outputs are no longer numbers, the map shows 50/50 (pale)."
    return said


ON_THEORY = 1.25  # step 1's variance this close to the theory's at every layer: "on the line"


# What the initialization rules say of a plain stack of layers with this activation (it
# named He's, Xavier's and tanh's under every run, a sigmoid's or a batch-normed one's too)
VARIANCE_RULES = {
    "relu": "In theory He's init keeps a ReLU network's variance flat; Xavier's halves it at every layer.",
    "leaky_relu": "In theory He's init keeps a ReLU network's variance flat (Leaky ReLU's is nearly ReLU's).",
    "linear": "In theory Xavier's init keeps a linear network's variance flat.",
    # (a rule of the theory, said as one: read as this run's, it described a default-init run whose line
    # falls fast, then levels off)
    "tanh": "In theory tanh bends below linear, so even Xavier's init lets a tanh network's variance fall, slowly.",
}


def variance_words(snap: Snapshot) -> str:
    """What the forward signal's chart shows, from the run: how far step 1's dots lie
    from the theory's line, and whether the dots of now cover them."""
    predicted = _predicted(snap.config)
    said = []
    if snap.layers["act_input_std"].notna().any():  # (else the chart says why it is empty)
        first_step, last_step = steps_of(snap.layers)
        then = figures.signal_variance(snap.layers, first_step)
        now_words = " Coloured dots: now." if last_step != first_step else ""  # (at step 1 there are none)
        said.append(_theory_gap_words(then, predicted, snap.config.width) + now_words)
        now = figures.signal_variance(snap.layers, last_step)
        unmoved = unmoved_factor(then, now) if last_step != first_step else None
        if unmoved is not None:
            said.append(
                f"Since step 1 no layer's variance has changed by more than ×{at_most(unmoved)}: "
                "the coloured dots cover the grey ones."
            )
    if predicted is None:
        said.append(f"No theory line: {NO_THEORY_WHY}")
    said.append(
        "A line falling (or rising) by a constant factor per layer is the forward half of vanishing (or exploding)."
    )
    if snap.config.norm == "none" and not snap.config.residual:  # (the rules are for plain stacks of layers)
        said.append(VARIANCE_RULES.get(snap.config.activation, ""))
    return " ".join(filter(None, said))


def _theory_gap_words(then: pd.Series, predicted: pd.DataFrame | None, width: int) -> str:
    """Step 1's variances (by layer) against the theory's: on its line, how far off, or
    where the signal died out."""
    if predicted is None:
        return "Grey dots: step 1."
    expected = predicted.set_index("layer")["preact_var"].reindex(then.index)
    silent = then.index[(then == 0) & (expected > 0)]
    if len(silent):  # drawn on the axis floor, where no factor measures how far off they are
        where = f"layer {silent[0]}" + (" and every layer above it" if len(silent) > 1 else "")
        return f"Grey dots (step 1): no signal at all from {where} (variance 0), where the theory has some."
    gap = np.exp(np.log(then / expected).abs())  # a factor, either way
    gap = gap[np.isfinite(gap)]
    if gap.empty:
        return "Grey dots: step 1."
    widest = float(gap.max())
    if widest <= ON_THEORY:
        return (
            f"Grey dots (step 1) on the dashed line: at every layer the signal's variance is within "
            f"×{factor_number(widest)} of what the initialization's theory says."
        )
    return (
        f"Grey dots (step 1) beside the dashed line: up to ×{factor_number(widest)} from it, at layer "
        f"{int(gap.idxmax())}. The theory describes infinitely wide layers, on average over initializations; "
        f"one network of {width} units a layer strays from it."
    )


def phase(snap: Snapshot) -> go.Figure:
    config = snap.config
    point = theory.mean_field_point(config) if theory.applies(config) else None
    reach = PHASE_RANGE.get(config.activation, 4.0)
    if point is not None and point[0] > reach:  # widen to show the network, up to 16×, in powers of 2
        reach = min(reach * 2 ** math.ceil(math.log2(1.1 * point[0] / reach)), 16 * reach)
    label = ACTIVATION_TABLE[config.activation].label
    return figures.phase_diagram(theory.phase_diagram(config.activation, reach), label, point)


def phase_words(snap: Snapshot) -> str:
    """How to read the phase diagram, and why this network is not on it where it is not
    (a batch-normed run's diagram had no star, and nothing said why)."""
    said = (
        "Each point is a way to initialize. Blue: every layer shrinks the gradient (χ₁ < 1, ordered); "
        "red: every layer grows it (χ₁ > 1, chaotic). Deep networks train near the black line, the edge "
        "of chaos."
    )
    if not theory.applies(snap.config):
        said += f" This network is not marked on it: {NO_THEORY_WHY}"
    return said


def profile_words(snap: Snapshot) -> str:
    """What the dL/dz profile's lines say beyond its legend: why the dotted line cannot
    be seen (`unmoved_words`), and the red dashed line against the run (`slope_guide_words`)."""
    return " ".join(filter(None, (unmoved_words(snap), slope_guide_words(snap))))


def flattest_layer(snap: Snapshot) -> int:
    """The hidden layer with the most inputs on the activation's flat part now (1 if none)."""
    return headline(snap.metrics, snap.layers, snap.config).flat_layer or 1


def weight_gradient_words(snap: Snapshot) -> str:
    """What the dL/dW profile adds to dL/dz's, with this run's numbers: what layer 1 gets
    of the last hidden layer's, in each measure (it said dL/dW "can stay level" beside a
    run whose dL/dW fell to 2e−17 of the output's)."""
    latest = at_step(snap.layers, "end")
    ratios = [gradient_ratio(latest, measure) for measure in ("weight_grad_norm", GRADIENT_MEASURE)]
    said = (
        "dL/dW, the weights' gradient, is dL/dz times what comes into the layer: it also scales with that input's size."
    )
    if not all(map(math.isfinite, ratios)):
        return said
    depth = snap.config.depth
    weights, delta = (number(ratio) for ratio in ratios)
    return f"{said} Now layer 1's dL/dW is {weights} of layer {depth}'s; its dL/dz, {delta} of layer {depth}'s."


def theory_pin(snap: Snapshot) -> float:
    """Where the profile pins the theory's line: the output layer's RMS of dL/dz at the
    first step (NaN before it)."""
    first = at_step(snap.layers, "start")
    return float(first[GRADIENT_MEASURE].iloc[-1]) if len(first) and first["step"].iloc[0] == 0 else math.nan


# The line's ratio over the layers differs from the rate a layer multiplied out by more
# than this where its first layers have not settled: a deep sigmoid's first step is
# ×0.131 against ×0.141 after it, ×6.4e−17 over 19 layers where 0.141¹⁹ is 6.8e−17 (7%, of
# which the printed rate's rounding is 1.5%: a lecturer who multiplies it out should read why).
UNSETTLED_BEYOND = 1.03


def theory_summary(config: ExperimentConfig, line_drawn: bool = True, pinned_to: float = math.nan) -> str:
    """What mean-field theory predicts for the config's gradient at initialization, on
    the RMS a student reads off the chart; χ₁ (on the mean square) as the detail. With
    `pinned_to` (`theory_pin`), where the drawn line stops if it falls under float32's
    smallest number, as the chart cuts it (a depth-100 sigmoid's: at layer 60, while the
    sentence gave layer 1's ×2.4e−86 as "the green dashed line")."""
    if not theory.applies(config):
        return f"Theory line hidden: {NO_THEORY_WHY}"
    sigma_w2, sigma_b2 = theory.mean_field_point(config)
    chi = theory.chi1_at(config)
    # the dashed line's own ratio: its first layers, where the signal's scale has not yet
    # settled, differ from χ₁'s rate (at depth 10, 2.05e-8 where 0.141⁹ says 2.2e-8)
    line = theory.predict_layers(config).set_index("layer")["delta_rms_relative"]
    ratio = number(line[1] / line[config.depth])
    drawn = line[line * pinned_to >= SMALLEST_NORMAL] if math.isfinite(pinned_to) else line
    lowest = int(drawn.index.min()) if len(drawn) else config.depth
    cut = (
        f", down to layer {lowest}: below it, under {number(SMALLEST_NORMAL)}, float32's smallest number"
        if lowest > 1
        else ""
    )
    where = f" (the green dashed line{cut})" if line_drawn else ""
    # the rate a layer is the settled signal's; near the input the line's steps differ (a saturated
    # sigmoid's: ×1.48 a layer, yet ×2746 over 19 layers where 1.48¹⁹ is 1700, its first step ×2.4)
    settled = math.sqrt(chi) ** (config.depth - 1) if chi > 0 else math.nan  # (NaN: no rate to multiply out)
    off_by = line[1] / line[config.depth] / settled if settled > 0 else math.nan
    unsettled = 0 < off_by < math.inf and abs(math.log10(off_by)) > math.log10(UNSETTLED_BEYOND)
    differ = ": the layers near the input, where the signal has not settled yet, differ" if unsettled else ""
    overall = f"; from layer {config.depth} back to layer 1, ×{ratio}{where}{differ}" if config.depth > 1 else ""
    which = "" if line_drawn else " for dL/dz"  # (the chart shows dL/dW: no line drawn)
    return (
        f"**Theory (mean field), at initialization{which}:** {theory.gradient_in_words(chi)}{overall}. "
        f"(χ₁ = {number(chi, 3)} is that factor squared, on the mean square; "
        f"σ_w² = {number(sigma_w2, 3)}, σ_b² = {number(sigma_b2, 3)})."  # (not "= 0.)", read as a decimal)
    )
