"""The lesson, as data: every text the app teaches with, beside the run it describes.

Scenarios (the playground's presets), comparisons (the Compare page's pairs), the
lecture tour's steps, the batch-norm page's networks, and the classic experiments'
papers, findings and setups all live here, in one place, so that one test module
(tests/test_claims.py) can train every run and check every sentence against it.
Nothing here trains or draws: the pages read it, the engine runs it.
"""

from __future__ import annotations

import dataclasses

from .config import ExperimentConfig


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    config: ExperimentConfig
    notice: str  # one or two sentences: what this run shows and where to look


_DEEP = ExperimentConfig(depth=20, width=32, activation="sigmoid", dataset="moons", steps=500)
_DYING = ExperimentConfig(
    depth=8, width=16, activation="relu", init="he_normal", learning_rate=0.5, dataset="moons", steps=500
)
_THIRTY_RELU = ExperimentConfig(depth=30, width=32, activation="relu", dataset="moons", steps=500)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "Deep sigmoid stalls",
        _DEEP,
        "20 sigmoid layers: the gradient shrinks about 4x per layer on its way back, so layer 1 "
        "gets ~1e-17 of what the top gets. The loss sits at 0.69 (a coin flip) and the input-side "
        "layers never move.",
    ),
    Scenario(
        "Same, with ReLU (He init)",
        _DEEP.replace(activation="relu", init="he_normal"),
        "ReLU's slope is 1 where it is active, and He init keeps the signal's size: the gradient "
        "reaches layer 1 and the loss falls.",
    ),
    Scenario(
        "Sigmoid saturates (large init)",
        _DEEP.replace(init="large_normal"),
        "Weights drawn from N(0, 1) push the sigmoid's inputs far from 0, onto its flat tails: look "
        "at the saturation bars and the histogram of inputs on the derivative curve.",
    ),
    Scenario(
        "tanh suffers too",
        _DEEP.replace(activation="tanh"),
        "tanh's slope peaks at 1, not 0.25, yet with PyTorch's default init the gradient still "
        "fades with depth and the loss stalls.",
    ),
    Scenario(
        "Dying ReLU (learning rate too large)",
        _DYING,
        "A large learning rate knocks ReLU units to where they output 0 for every input: their "
        "gradient is exactly 0 and they never come back. Watch the dead-unit crosses climb.",
    ),
    Scenario(
        "Leaky ReLU never dies",
        _DYING.replace(activation="leaky_relu"),
        "The same run with a slope of 0.01 below 0: no unit is ever dead, and the network learns.",
    ),
    Scenario(
        "30 ReLU layers, Xavier init",
        _THIRTY_RELU.replace(init="xavier_normal"),
        "Xavier init assumes a symmetric activation; ReLU drops half the signal, so each layer "
        "halves its variance and 30 layers lose it: the network stalls (He et al. 2015).",
    ),
    Scenario(
        "30 ReLU layers, He init",
        _THIRTY_RELU.replace(init="he_normal"),
        "He init doubles the variance to make up for ReLU's half: the signal and the gradient keep "
        "their size through 30 layers and the network trains.",
    ),
    Scenario(
        "Batch norm rescues deep sigmoid",
        _DEEP.replace(norm="batchnorm_before"),
        "The first scenario with batch norm before each sigmoid: inputs are re-centred where the "
        "slope is steepest, the gradient ratio stays near 1 and the loss falls.",
    ),
    Scenario(
        "Batch norm, learning rate too large",
        _DEEP.replace(norm="batchnorm_before", learning_rate=10.0),
        "Batch norm guarantees nothing: with a learning rate of 10 the learned scale and shift push "
        "inputs back into saturation and training fails.",
    ),
    Scenario(
        "Exploding gradients",
        _DEEP.replace(activation="relu", init="large_normal", weight_scale=0.5),
        "The mirror image: each layer multiplies the signal by about 2, the loss overflows within "
        "a few steps and the run stops with NaN.",
    ),
)

SCENARIO_BY_NAME = {s.name: s for s in SCENARIOS}


@dataclasses.dataclass(frozen=True)
class Comparison:
    name: str
    a: tuple[str, ExperimentConfig]  # (label, config)
    b: tuple[str, ExperimentConfig]
    notice: str


COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "Sigmoid vs ReLU (20 layers)",
        ("sigmoid", _DEEP),
        ("ReLU, He init", _DEEP.replace(activation="relu", init="he_normal")),
        "Same depth, data and seed: the sigmoid network's gradient fades toward the input and its loss "
        "stays at 0.69; ReLU's reaches layer 1 and the loss falls.",
    ),
    Comparison(
        "Batch norm off vs on",
        ("no batch norm", _DEEP),
        ("batch norm before the sigmoid", _DEEP.replace(norm="batchnorm_before")),
        "Batch norm keeps each sigmoid's inputs centred where its slope is steepest: the gradient "
        "profile flattens and the network learns.",
    ),
    Comparison(
        "Batch norm before vs after the activation",
        ("before the sigmoid", _DEEP.replace(norm="batchnorm_before")),
        ("after the sigmoid", _DEEP.replace(norm="batchnorm_after")),
        "Before: the sigmoid receives standardized inputs. After: the sigmoid's own inputs are not "
        "standardized, only its outputs are passed on centred. Compare saturation and the gradient ratio.",
    ),
    Comparison(
        "Xavier vs He at 30 ReLU layers",
        ("Xavier init", _THIRTY_RELU.replace(init="xavier_normal")),
        ("He init", _THIRTY_RELU.replace(init="he_normal")),
        "Xavier's variance is half what ReLU needs: 30 layers later the signal is gone and units are "
        "dead. He's keeps it, and the network trains.",
    ),
    Comparison(
        "ReLU vs Leaky ReLU (large learning rate)",
        ("ReLU", _DYING),
        ("Leaky ReLU", _DYING.replace(activation="leaky_relu")),
        "The same large learning rate kills ReLU units (the crosses) but never Leaky ReLU's.",
    ),
    Comparison(
        "Default vs small init",
        ("PyTorch default", _DEEP.replace(activation="tanh")),
        ("small: N(0, 0.01²)", _DEEP.replace(activation="tanh", init="small_normal")),
        "Tiny weights shrink the signal and the gradient by about 100x per layer: nothing reaches the input.",
    ),
    Comparison(
        "Default vs large init",
        ("PyTorch default", _DEEP),
        ("large: N(0, 1)", _DEEP.replace(init="large_normal")),
        "Large weights push the sigmoid's inputs onto its flat tails: look at the saturation bars.",
    ),
)

COMPARISON_BY_NAME = {c.name: c for c in COMPARISONS}


# ---- the lecture tour ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TourStep:
    title: str
    text: str
    scenario: str  # a name from SCENARIOS
    charts: tuple[str, ...]  # the two charts that tell the step's story (the tour page draws them)
    notice: str


TOUR: tuple[TourStep, ...] = (
    TourStep(
        "What vanishing gradients are",
        "Training updates each weight by its gradient. In a deep network the gradient is computed "
        "from the output backwards, one layer at a time, and it can shrink on the way: the layers "
        "next to the input then get almost nothing, and barely learn.",
        "Deep sigmoid stalls",
        ("profile", "curves"),
        "The solid line falls steeply to the left: layer 1's gradient is about 1e-17 of the top's.",
    ),
    TourStep(
        "Why sigmoid causes them",
        "The sigmoid squashes any input into (0, 1). Its slope is at most 0.25, and nearly 0 for large "
        "inputs: a large change of input makes a small change of output. Backpropagation multiplies "
        "these slopes, layer after layer.",
        "Sigmoid saturates (large init)",
        ("derivative", "saturation"),
        "The inputs (blue) spread far onto the sigmoid's flat tails, where its slope (red) is near 0.",
    ),
    TourStep(
        "Symptom 1: upper layers change a lot, lower layers barely",
        "One way to spot vanishing gradients: look at how much each layer's weights change. The "
        "layers near the output move; those near the input do not.",
        "Deep sigmoid stalls",
        ("updates", "distance"),
        "The update ratio of the top layers sits near the 1e-3 line; the bottom layers' are many "
        "orders of magnitude below it, and they have hardly moved from their initial weights.",
    ),
    TourStep(
        "Symptom 2: gradients may become zero",
        "Sometimes the gradient is not just small but exactly zero: every unit of a layer gives 0 "
        "for every input, so nothing flows back through it.",
        "30 ReLU layers, Xavier init",
        ("heatmap", "saturation"),
        "Whole layers are dead (crosses at 100%) and the map shows no gradient below them.",
    ),
    TourStep(
        "Symptom 3: learning is slow or stalls early",
        "The loss of a network whose lower layers get no gradient falls slowly, or not at all.",
        "Deep sigmoid stalls",
        ("curves", "boundary"),
        "The loss stays at 0.69 (a coin flip for two classes) and the decision boundary stays flat.",
    ),
    TourStep(
        "Fix 1: ReLU",
        "ReLU's slope is exactly 1 wherever it is active, so the gradient passes through unchanged "
        "(with He initialization to keep the signal's size).",
        "Same, with ReLU (He init)",
        ("profile", "curves"),
        "The gradient profile is nearly flat and the loss falls to almost 0.",
    ),
    TourStep(
        "But: dying ReLU",
        "ReLU's slope is exactly 0 below zero. A large update can push a unit to where it outputs 0 "
        "for every input: then its gradient is 0 and it never recovers.",
        "Dying ReLU (learning rate too large)",
        ("saturation", "curves"),
        "The dead-unit crosses climb to 100% in some layers, and the loss stops falling.",
    ),
    TourStep(
        "Fix 2: Leaky ReLU",
        "Leaky ReLU keeps a small slope (0.01) below zero, so a unit always passes some gradient back.",
        "Leaky ReLU never dies",
        ("saturation", "curves"),
        "With the same learning rate, no unit is ever dead and the network learns.",
    ),
    TourStep(
        "Fix 3: initialization",
        "Initialize the weights so that each layer keeps the variance of its inputs, forwards and "
        "backwards: Glorot (Xavier) for symmetric activations, He (twice the variance) for ReLU. "
        "Step 4 showed 30 ReLU layers with Xavier init dying; here is He init.",
        "30 ReLU layers, He init",
        ("profile", "curves"),
        "The gradient keeps its size through 30 layers and the network trains.",
    ),
    TourStep(
        "Fix 4: batch normalization",
        "Batch norm standardizes each unit's input over the mini-batch (mean 0, std 1), then applies "
        "a learned scale and shift. Before a sigmoid, it keeps the inputs where the slope is steep.",
        "Batch norm rescues deep sigmoid",
        ("profile", "curves"),
        "The same 20-layer sigmoid network as step 1: now the gradient reaches layer 1 and the loss falls.",
    ),
    TourStep(
        "Batch norm guarantees nothing",
        "Batch norm makes saturation less likely; it does not clip anything. With too large a "
        "learning rate the learned scale and shift push inputs back onto the flat tails.",
        "Batch norm, learning rate too large",
        ("saturation", "curves"),
        "Saturation climbs in many layers and the loss does not settle: training fails despite batch norm.",
    ),
    TourStep(
        "The mirror image: exploding gradients",
        "If each layer multiplies the signal by more than 1, the gradient grows layer by layer "
        "instead, until the numbers overflow.",
        "Exploding gradients",
        ("profile", "curves"),
        "The run stops within a few steps with a clear message: the loss became Inf or NaN.",
    ),
)


# ---- the batch-norm page's networks ------------------------------------------------

_BN_BASE = ExperimentConfig(depth=10, width=32, norm="batchnorm_before", dataset="moons", steps=500)
BATCHNORM_NETWORKS: dict[str, ExperimentConfig] = {
    "Sigmoid, batch norm before it": _BN_BASE,
    "Sigmoid, batch norm after it": _BN_BASE.replace(norm="batchnorm_after"),
    "ReLU after batch norm (the follow-up question)": _BN_BASE.replace(activation="relu", init="he_normal"),
    "Sigmoid, batch norm, learning rate 10": _BN_BASE.replace(learning_rate=10.0),
}


# ---- the activations, in words (the "Why sigmoid vanishes" page) ---------------------

ACTIVATION_WORDS: dict[str, str] = {
    "sigmoid": "The sigmoid squashes every input into (0, 1). Its slope is at most **0.25**, "
    "at x = 0, and almost 0 once |x| > 5: there the neuron is *saturated*.",
    "tanh": "tanh squashes into (-1, 1). Its slope reaches 1 at x = 0 but is just as flat "
    "in the tails: tanh saturates too.",
    "relu": "ReLU's slope is exactly 1 for x > 0: gradients pass unchanged. For x < 0 it is "
    "exactly 0: a unit that only sees negative inputs is *dead*.",
    "leaky_relu": "Leaky ReLU keeps a small slope (0.01) below 0, so a unit can always recover.",
}
ACTIVATION_WORDS_OTHER = "Compare its slope with the sigmoid's 0.25: the flatter, the more it shrinks gradients."


# ---- the classic experiments: what each paper found, and the runs that re-do it -------
# (vangrad_core.experiments measures them and decides from the numbers)

GLOROT_SIGMOID = ExperimentConfig(
    depth=4,
    width=256,
    activation="sigmoid",
    init="default",
    learning_rate=0.3,
    batch_size=10,
    steps=1500,
    dataset="digits",
)
GLOROT_TANH = ExperimentConfig(depth=5, width=256, activation="tanh", init="default", dataset="digits")
HE_30 = ExperimentConfig(
    depth=30, width=64, activation="relu", init="xavier_normal", learning_rate=0.01, steps=1500, dataset="digits"
)
IOFFE = ExperimentConfig(
    depth=3,
    width=100,
    activation="sigmoid",
    init="xavier_normal",
    learning_rate=0.5,
    batch_size=60,
    steps=2000,
    dataset="digits",
)
IOFFE_CHECKPOINTS = 20
DYING_DEPTH = 50
DYING_TRIALS = 200
SELU_NET = ExperimentConfig(depth=40, width=256, activation="selu", init="lecun_normal", dataset="teacher")


@dataclasses.dataclass(frozen=True)
class Paper:
    key: str
    title: str
    paper: str  # authors, year, title
    finding: str  # what the paper found, in our words
    setup: str  # what this run does, and how it is smaller than the paper's


PAPERS: tuple[Paper, ...] = (
    Paper(
        "glorot",
        "Saturation and the normalized initialization",
        "Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks",
        "With the then-standard initialization, a deep sigmoid network's top hidden layer is driven to 0, "
        "where its derivative is small, early in training. With tanh, the gradient passed back shrinks "
        "toward the input while the weights' gradients stay about level; their normalized (Xavier) "
        "initialization keeps the backpropagated gradient level too.",
        f"{GLOROT_SIGMOID.depth} sigmoid layers of {GLOROT_SIGMOID.width} units on 8×8 digits, "
        f"{GLOROT_SIGMOID.steps} steps of SGD in batches of {GLOROT_SIGMOID.batch_size} (the paper: 1000 units, "
        f"Shapeset, millions of examples); PyTorch's default init, whose weights are the paper's "
        f"U[−1/√n, 1/√n] (its biases are small uniform values, not zero). Gradients: {GLOROT_TANH.depth} tanh "
        f"layers of {GLOROT_TANH.width} at initialization, on 512 examples.",
    ),
    Paper(
        "he",
        "30 ReLU layers: Xavier stalls, He trains",
        "He, Zhang, Ren & Sun (2015), Delving deep into rectifiers",
        "Xavier's initialization assumes a linear activation; ReLU zeroes half its inputs, so the signal "
        "halves at every layer and a 30-layer ReLU network does not learn. Doubling the weights' "
        "variance (std √(2/n)) keeps it, and the same network trains.",
        f"{HE_30.depth} ReLU layers of {HE_30.width} units on 8×8 digits, {HE_30.steps} steps of SGD "
        f"(learning rate {HE_30.learning_rate}) for each init (the paper: a 30-layer convolutional network on "
        "ImageNet).",
    ),
    Paper(
        "ioffe",
        "Batch normalization keeps the inputs to a sigmoid steady",
        "Ioffe & Szegedy (2015), Batch normalization, Figure 1",
        "In a network of three sigmoid layers of 100 units, batch norm makes test accuracy rise faster, "
        "and the distribution of what a last-layer sigmoid receives (its 15th, 50th and 85th "
        "percentiles) stays put; without it, that distribution drifts as the layers below learn.",
        f"The paper's network ({IOFFE.depth} × {IOFFE.width} sigmoid) on 8×8 digits instead of MNIST, "
        f"{IOFFE.steps} steps in batches of {IOFFE.batch_size} instead of 50000, learning rate "
        f"{IOFFE.learning_rate}; percentiles over the test set (batch norm with the test set's own batch "
        "statistics, as in training), every "
        f"{IOFFE.steps // IOFFE_CHECKPOINTS} steps.",
    ),
    Paper(
        "dying",
        "Narrow, deep ReLU networks are born dead",
        "Lu, Shin, Su & Karniadakis (2019), Dying ReLU and initialization",
        "A ReLU network is dead when some layer outputs 0 for every input: its output is then constant "
        "and no gradient reaches the layers below. At initialization, the chance of that grows with "
        "depth and falls with width; Leaky ReLU never outputs exactly 0, so it never dies.",
        f"{DYING_TRIALS} networks per width (He init, zero biases), depths 1 to {DYING_DEPTH}, checked on the "
        "spirals' training inputs (the paper: on the whole input space, with proofs).",
    ),
    Paper(
        "selu",
        "SELU normalizes itself",
        "Klambauer, Unterthiner, Mayr & Hochreiter (2017), Self-normalizing neural networks",
        "With SELU and LeCun's initialization (variance 1/n), the mean and variance of each layer's "
        "activations are drawn to 0 and 1, so they stay there through many layers, without batch norm.",
        f"{SELU_NET.depth} layers of {SELU_NET.width} units at initialization, on 512 Gaussian inputs of the "
        "teacher dataset, beside ReLU and tanh with the same init (the paper: up to 32 layers, trained on 121 "
        "tasks).",
    ),
)
PAPER_BY_KEY = {p.key: p for p in PAPERS}
