"""vangrad_core: train a small network and measure every layer (no Streamlit here)."""

from . import theory
from .config import (
    ACTIVATIONS,
    DATASETS,
    DATASETS_2D,
    INITS,
    NORMS,
    OPTIMIZERS,
    ExperimentConfig,
)
from .data import Dataset, make_dataset
from .model import ACTIVATION_TABLE, Activation, Network, build_model
from .stats import LAYER_COLUMNS, layer_stats
from .trainer import (
    METRIC_COLUMNS,
    ExperimentResult,
    Trainer,
    batch_indices,
    make_optimizer,
    run_experiment,
)

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_TABLE",
    "DATASETS",
    "DATASETS_2D",
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
    "Trainer",
    "batch_indices",
    "build_model",
    "layer_stats",
    "make_dataset",
    "make_optimizer",
    "run_experiment",
    "theory",
]
