"""Named presets that follow the lecture, each with what to look at.

Each was checked by training it (see tests/test_scenarios.py, which asserts the
effect the description claims).
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
