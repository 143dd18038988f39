"""The network: input -> `depth` hidden blocks -> a Linear output layer.

A block is Linear, then the activation, with an optional normalization before or
after the activation and an optional residual connection. Weights come from the
config's own `torch.Generator`, never the global one.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .activations import ACTIVATION_TABLE
from .config import ExperimentConfig
from .data import make_dataset


class Block(nn.Module):
    """Linear, [norm], activation, [norm], [+ input]. (`activation` is a function,
    `activations.Activation.function`.)"""

    def __init__(self, n_in: int, n_out: int, config: ExperimentConfig, residual: bool):
        super().__init__()
        self.linear = uninitialized_linear(n_in, n_out)
        norm = config.norm
        self.norm_before = _norm(norm, n_out) if norm.endswith("_before") else None
        self.activation = ACTIVATION_TABLE[config.activation].function
        self.norm_after = _norm(norm, n_out) if norm.endswith("_after") else None
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The Linear layer's function and the activation's, not modules called: at these
        # sizes a module's call costs about what its op does (docs/performance.md). (Training
        # passes are backprop.py's; this one evaluates, and draws the decision grid.)
        linear = self.linear
        z = nn.functional.linear(x, linear.weight, linear.bias)
        into = z if self.norm_before is None else self.norm_before(z)
        h = self.activation(into)
        if self.norm_after is not None:
            h = self.norm_after(h)
        return x + h if self.residual else h


class UndrawnLinear(nn.Linear):
    """nn.Linear without its own random draw, which `initialize` would replace.
    (`nn.utils.skip_init`'s way, built on the meta device and then moved, costs 10 times
    as much a layer, and its first use in a process imports torch's symbolic shapes:
    0.45 s of every server's, worker's and test process's first run.)"""

    def reset_parameters(self) -> None:
        pass


def uninitialized_linear(n_in: int, n_out: int) -> nn.Linear:
    """A Linear layer whose weights `initialize` draws later (its memory left as found)."""
    return UndrawnLinear(n_in, n_out)


def _norm(kind: str, width: int) -> nn.Module:
    return nn.LayerNorm(width) if kind.startswith("layernorm") else nn.BatchNorm1d(width)


class Network(nn.Module):
    """The whole model; `linears` lists the Linear layers from input to output."""

    def __init__(self, n_inputs: int, n_classes: int, config: ExperimentConfig):
        super().__init__()
        widths = [n_inputs] + [config.width] * config.depth
        self.blocks = nn.ModuleList(
            Block(widths[i], widths[i + 1], config, residual=config.residual and i > 0) for i in range(config.depth)
        )
        self.head = uninitialized_linear(config.width, n_classes)
        self.config = config

    @property
    def linears(self) -> list[nn.Linear]:
        return [block.linear for block in self.blocks] + [self.head]

    @property
    def norms(self) -> list[nn.Module]:
        return [
            block.norm_before if block.norm_before is not None else block.norm_after
            for block in self.blocks
            if block.norm_before is not None or block.norm_after is not None
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def build_model(config: ExperimentConfig) -> Network:
    """The network for a config, its weights drawn from the config's seed."""
    data = make_dataset(config)
    model = Network(data.n_inputs, data.n_classes, config)
    reinitialize(model, config.seed)
    return model


def reinitialize(model: Network, seed: int) -> None:
    """Draw all of a network's weights again from `seed` (what `build_model` does
    after building it: cheaper than building many networks that differ in seed)."""
    config = model.config
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for linear in model.linears:
            initialize(linear, config.init, gen)
            linear.weight.mul_(config.weight_scale)


def initialize(linear: nn.Linear, init: str, gen: torch.Generator) -> None:
    """Fill a Linear layer's weight and bias the way `init` says, from `gen`."""
    weight, bias = linear.weight, linear.bias
    init_ = nn.init
    if init == "default":  # what nn.Linear.reset_parameters does, from our generator
        init_.kaiming_uniform_(weight, a=math.sqrt(5), generator=gen)
        bound = 1 / math.sqrt(weight.shape[1])
        init_.uniform_(bias, -bound, bound, generator=gen)
        return
    if init == "small_normal":
        init_.normal_(weight, 0.0, 0.01, generator=gen)
    elif init == "large_normal":
        init_.normal_(weight, 0.0, 1.0, generator=gen)
    elif init == "xavier_uniform":
        init_.xavier_uniform_(weight, generator=gen)
    elif init == "xavier_normal":
        init_.xavier_normal_(weight, generator=gen)
    elif init == "he_uniform":
        init_.kaiming_uniform_(weight, nonlinearity="relu", generator=gen)
    elif init == "he_normal":
        init_.kaiming_normal_(weight, nonlinearity="relu", generator=gen)
    elif init == "lecun_normal":
        init_.normal_(weight, 0.0, 1 / math.sqrt(weight.shape[1]), generator=gen)
    elif init == "orthogonal":
        init_.orthogonal_(weight, generator=gen)
    else:
        raise ValueError(f"unknown init {init!r}")
    init_.zeros_(bias)
