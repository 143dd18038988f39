"""vangrad_core: train a small network and measure every layer (no Streamlit here)."""

import os

# One run, the same numbers on every Intel processor with AVX2: Intel's MKL, which does
# torch's matrix products, takes its AVX-512 code where the processor has it, and those
# sums, added in another order, send a chaotic run elsewhere (a dying-ReLU network's
# layer died on one machine and not on another, where its lesson and its tests say it
# dies). MKL reads this at its first product: import vangrad_core before any (a value
# already set is kept). On other processors MKL takes its own branch.
os.environ.setdefault("MKL_CBWR", "AVX2")

from . import theory
from .activations import ACTIVATION_TABLE, Activation
from .config import (
    ACTIVATIONS,
    DATASETS,
    DATASETS_2D,
    FIELDS,
    INITS,
    NORMS,
    OPTIMIZERS,
    ExperimentConfig,
)
from .data import Dataset, make_dataset
from .measure import LAYER_COLUMNS, at_initialization, layer_stats
from .model import Network, build_model
from .trainer import (
    METRIC_COLUMNS,
    ExperimentResult,
    Optimizer,
    Trainer,
    batch_indices,
    run_experiment,
)

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_TABLE",
    "DATASETS",
    "DATASETS_2D",
    "FIELDS",
    "INITS",
    "LAYER_COLUMNS",
    "METRIC_COLUMNS",
    "NORMS",
    "OPTIMIZERS",
    "Activation",
    "Dataset",
    "ExperimentConfig",
    "ExperimentResult",
    "Network",
    "Optimizer",
    "Trainer",
    "at_initialization",
    "batch_indices",
    "build_model",
    "layer_stats",
    "make_dataset",
    "run_experiment",
    "theory",
]
