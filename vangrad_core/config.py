"""ExperimentConfig: the one serializable object that describes a feed-forward run.

Pages, the URL, the command line and the tests all build runs from it. Its fields are
described once, in `FIELDS` (what each is called, what it accepts, how a form offers
it); validation, the URL codec, the command line and the app's form all read that.
"""

from __future__ import annotations

import dataclasses

from .settings import Field, Rule, Settings

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "selu", "linear")
# how the pages write an activation's name, as the lecture does (a name not here as it is)
ACTIVATION_LABELS = {"relu": "ReLU", "leaky_relu": "Leaky ReLU", "elu": "ELU", "gelu": "GELU", "selu": "SELU"}
INITS = (
    "default",
    "small_normal",
    "large_normal",
    "xavier_uniform",
    "xavier_normal",
    "he_uniform",
    "he_normal",
    "lecun_normal",
    "orthogonal",
)
NORMS = ("none", "batchnorm_before", "batchnorm_after", "layernorm_before")
OPTIMIZERS = ("sgd", "momentum", "adam")
DATASETS_2D = ("spirals", "circles", "moons", "xor", "gaussians")
DATASETS = (*DATASETS_2D, "digits", "teacher")
MAX_SEED = 2**31 - 1
MAX_GRAD_CLIP = 1e6

# How a run trains: the same fields for every kind of network (RecurrentConfig reuses them).
TRAINING_FIELDS: tuple[Field, ...] = (
    Field(
        "grad_clip",
        "Gradient clipping (max norm; 0 = off)",
        "Training",
        "float",
        low=0.0,
        high=MAX_GRAD_CLIP,
        step=0.5,
        help="Rescales the whole gradient when its norm is above this (Pascanu et al. 2013): "
        "the fix for exploding gradients.",
    ),
    Field(
        "optimizer",
        "Optimizer",
        "Training",
        choices=OPTIMIZERS,
        labels={"sgd": "SGD", "momentum": "SGD + momentum 0.9", "adam": "Adam"},
    ),
    Field(
        "learning_rate",
        "Learning rate (log scale)",
        "Training",
        "float",
        low=1e-6,  # (a link's 1e-320 was taken, and its slider read 9.99989e-321)
        high=10.0,
        stops=(1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
    ),
    Field(
        "batch_size",
        "Batch size",
        "Training",
        "int",
        low=1,
        high=1024,
        stops=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
    ),
    Field("steps", "Steps", "Training", "int", low=1, high=20000, step=100),
)

FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("depth", "Hidden layers (depth)", "Network", "int", low=1, high=100),
        Field(
            "width",
            "Units per layer (width)",
            "Network",
            "int",
            low=2,
            high=512,
            stops=(2, 4, 8, 16, 32, 64, 128, 256, 512),
        ),
        Field("activation", "Activation", "Network", choices=ACTIVATIONS, labels=ACTIVATION_LABELS),
        Field(
            "init",
            "Initialization",
            "Network",
            choices=INITS,
            labels={
                "default": "PyTorch default",
                "small_normal": "small: N(0, 0.01²)",
                "large_normal": "large: N(0, 1)",
                "xavier_uniform": "Xavier (Glorot) uniform",
                "xavier_normal": "Xavier (Glorot) normal",
                "he_uniform": "He (Kaiming) uniform",
                "he_normal": "He (Kaiming) normal",
                "lecun_normal": "LeCun normal",
                "orthogonal": "orthogonal",
            },
        ),
        Field(
            "weight_scale",
            "Weight scale (multiplies the initial weights)",
            "Network",
            "float",
            low=0.1,
            high=10.0,
            step=0.1,
        ),
        Field(
            "norm",
            "Normalization",
            "Network",
            choices=NORMS,
            labels={
                "none": "off",
                "batchnorm_before": "batch norm before the activation",
                "batchnorm_after": "batch norm after the activation",
                "layernorm_before": "layer norm before the activation",
            },
        ),
        Field(
            "residual",
            "Residual connections",
            "Network",
            "bool",
            help="Each hidden block after the first adds its input to its output.",
        ),
        *TRAINING_FIELDS,
        Field("dataset", "Dataset", "Data", choices=DATASETS),
        Field("noise", "Noise", "Data", "float", low=0.0, high=1.0, step=0.05),
        Field("seed", "Seed", "Data", "int", low=0, high=MAX_SEED, step=1),
    )
}


@dataclasses.dataclass(frozen=True)
class ExperimentConfig(Settings):
    """Everything that decides a run; the same config gives the same numbers."""

    FIELDS = FIELDS
    RULES = (
        Rule(
            lambda c: c.batch_size >= 2 or not c.norm.startswith("batchnorm"),
            "batch norm needs at least 2 examples a batch: pick a batch size of 2 or more, or turn batch norm off",
            fallback="batch_size",
        ),
    )

    depth: int = 10
    width: int = 32
    activation: str = "sigmoid"
    init: str = "default"
    weight_scale: float = 1.0
    norm: str = "none"
    residual: bool = False
    grad_clip: float = 0.0
    optimizer: str = "sgd"
    learning_rate: float = 0.1
    batch_size: int = 64
    steps: int = 500
    dataset: str = "spirals"
    noise: float = 0.1
    seed: int = 0


def accepted(field: str) -> str:
    """Plain words for what a field accepts, as used in error messages and help."""
    return FIELDS[field].accepted()
