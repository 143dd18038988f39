"""Datasets: five 2-D toy sets, real 8x8 handwritten digits, and a deep teacher.

Everything is drawn from a `torch.Generator` seeded by the config, so the same
config gives the same data whatever else the process does.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path

import numpy as np
import torch

from .config import DATASETS_2D, ExperimentConfig

TRAIN_SIZE_2D, TEST_SIZE_2D = 1000, 500
TEACHER_DIM, TEACHER_CLASSES = 20, 10
TEACHER_TRAIN, TEACHER_TEST = 2000, 1000
DIGITS_FILE = Path(__file__).parent / "assets" / "digits.npz"


@dataclasses.dataclass(frozen=True)
class Dataset:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    name: str
    # The standardization applied to the inputs (decision-boundary plots undo it).
    mean: torch.Tensor
    std: torch.Tensor

    @property
    def n_inputs(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_classes(self) -> int:
        return int(torch.cat([self.y_train, self.y_test]).max()) + 1


def make_dataset(config: ExperimentConfig) -> Dataset:
    """The train and test split for a config: float32 inputs standardized with the
    training set's mean and std, int64 labels."""
    return _make_dataset(config.dataset, config.noise, config.seed)


@functools.lru_cache(maxsize=32)  # datasets are small and immutable; share them
def _make_dataset(name: str, noise: float, seed: int) -> Dataset:
    gen = torch.Generator().manual_seed(seed + 7919)  # apart from the model's stream
    if name in DATASETS_2D:
        n = TRAIN_SIZE_2D + TEST_SIZE_2D
        x, y = _TWO_D[name](n, noise, gen)
        n_train = TRAIN_SIZE_2D
    elif name == "digits":
        x, y = _digits()
        x = x + noise * x.std() * torch.randn(x.shape, generator=gen)
        n_train = int(0.7 * len(x))
    else:
        x, y = _teacher(noise, gen)
        n_train = TEACHER_TRAIN
    order = torch.randperm(len(x), generator=gen)
    x, y = x[order], y[order]
    x_train, x_test = x[:n_train], x[n_train:]
    mean = x_train.mean(0)
    std = x_train.std(0).clamp_min(1e-6)  # some digit pixels are always blank
    for tensor in (x_train, x_test, mean, std):
        tensor.requires_grad_(False)
    return Dataset(
        x_train=((x_train - mean) / std).float().contiguous(),
        y_train=y[:n_train].long().contiguous(),
        x_test=((x_test - mean) / std).float().contiguous(),
        y_test=y[n_train:].long().contiguous(),
        name=name,
        mean=mean.float(),
        std=std.float(),
    )


def _two_classes(n: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randint(0, 2, (n,), generator=gen)


def _spirals(n: int, noise: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    y = _two_classes(n, gen)
    t = torch.rand(n, generator=gen)
    radius = 0.1 + 0.9 * t
    angle = 1.75 * 2 * math.pi * t + math.pi * y
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], 1)
    return x + 0.1 * noise * torch.randn(n, 2, generator=gen), y


def _circles(n: int, noise: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    y = _two_classes(n, gen)
    angle = 2 * math.pi * torch.rand(n, generator=gen)
    radius = torch.where(y == 1, 0.5, 1.0)
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], 1)
    return x + 0.2 * noise * torch.randn(n, 2, generator=gen), y


def _moons(n: int, noise: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    y = _two_classes(n, gen)
    angle = math.pi * torch.rand(n, generator=gen)
    upper = torch.stack([torch.cos(angle), torch.sin(angle)], 1)
    lower = torch.stack([1 - torch.cos(angle), 0.5 - torch.sin(angle)], 1)
    x = torch.where((y == 1)[:, None], lower, upper)
    return x + 0.3 * noise * torch.randn(n, 2, generator=gen), y


def _xor(n: int, noise: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    x = 2 * torch.rand(n, 2, generator=gen) - 1
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).long()
    return x + 0.2 * noise * torch.randn(n, 2, generator=gen), y


def _gaussians(n: int, noise: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    y = _two_classes(n, gen)
    centre = torch.where((y == 1)[:, None], torch.tensor([1.0, 1.0]), torch.tensor([-1.0, -1.0]))
    return centre + (0.3 + 1.2 * noise) * torch.randn(n, 2, generator=gen), y


_TWO_D = {
    "spirals": _spirals,
    "circles": _circles,
    "moons": _moons,
    "xor": _xor,
    "gaussians": _gaussians,
}


def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    """The UCI 8x8 handwritten digits, shipped with the engine (assets/README.md)."""
    with np.load(DIGITS_FILE) as digits:
        return torch.from_numpy(digits["images"]).float(), torch.from_numpy(digits["labels"]).long()


def _teacher(noise: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian inputs labelled by the argmax of a random deep tanh network."""
    n = TEACHER_TRAIN + TEACHER_TEST
    x = torch.randn(n, TEACHER_DIM, generator=gen)
    h = x
    for fan_in, fan_out in ((TEACHER_DIM, 64), (64, 64), (64, 64), (64, TEACHER_CLASSES)):
        weight = torch.randn(fan_in, fan_out, generator=gen) * (1.5 / math.sqrt(fan_in))
        h = h @ weight
        if fan_out != TEACHER_CLASSES:
            h = torch.tanh(h)
    logits = h + noise * h.std() * torch.randn(h.shape, generator=gen)
    return x, logits.argmax(1)
