"""Small cases the engine's tests share: a batch of a config's data, and a network
with one weight poisoned (NaN or Inf)."""

from __future__ import annotations

import torch

from vangrad_core import ExperimentConfig, build_model, make_dataset


def batch(config: ExperimentConfig, n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `n` training examples of `config`'s dataset, and their labels."""
    data = make_dataset(config)
    return data.x_train[:n], data.y_train[:n]


def poisoned(
    poison: float, norm: str = "none", at: tuple[int, int] = (0, 0)
) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A tanh network (depth 4, width 8, `norm`) with the weight `at` of layer 2 set to
    `poison` (NaN or Inf), and a batch of 16."""
    config = ExperimentConfig(depth=4, width=8, activation="tanh", norm=norm)
    model = build_model(config)
    with torch.no_grad():
        model.blocks[1].linear.weight[at] = poison
    return (model, *batch(config, 16))
