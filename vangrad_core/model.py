"""The network: input -> `depth` hidden blocks -> a Linear output layer.

A block is Linear, then the activation, with an optional normalization before or
after the activation and an optional residual connection. Weights come from the
config's own `torch.Generator`, never the global one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import torch
from torch import nn

from .config import ExperimentConfig
from .data import make_dataset

LEAKY_SLOPE = 0.01
SELU_SCALE = 1.0507009873554805
SELU_ALPHA = 1.6732632423543772


@dataclasses.dataclass(frozen=True)
class Activation:
    """An activation function, its derivative and the derivative's maximum.

    `slope_in_y`: the derivative as a function of the output y, one quadratic for
    x > 0 and one for x <= 0, (c, b, a) each: f'(x) = c + b y + a y². Every
    activation here has one but GELU, whose derivative needs erf of x
    (`exact_derivative`). The statistics' compiled pass computes it this way too
    (kernels.activation_sums)."""

    name: str
    module: Callable[[], nn.Module]
    function: Callable[[torch.Tensor], torch.Tensor]
    max_derivative: float
    slope_in_y: tuple[float, float, float, float, float, float] | None
    exact_derivative: Callable[[torch.Tensor], torch.Tensor] | None = None

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        """The derivative at x (as autograd takes it: ReLU's is 0 at 0)."""
        if self.slope_in_y is None:
            return self.exact_derivative(x)
        y = self.function(x)
        c1, b1, a1, c0, b0, a0 = self.slope_in_y
        return torch.where(x > 0, c1 + y * (b1 + a1 * y), c0 + y * (b0 + a0 * y))

    @property
    def zero_output_has_zero_derivative(self) -> bool:
        """Whether an output of exactly 0 implies a derivative of 0 (ReLU below 0,
        sigmoid underflowing), so dead units need only the derivative to find."""
        return self.name in ("relu", "sigmoid")


def _gelu_derivative(x: torch.Tensor) -> torch.Tensor:
    normal_cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    normal_pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return normal_cdf + x * normal_pdf


ACTIVATION_TABLE: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", nn.Sigmoid, torch.sigmoid, 0.25, (0, 1, -1, 0, 1, -1)),  # y - y²
        Activation("tanh", nn.Tanh, torch.tanh, 1.0, (1, 0, -1, 1, 0, -1)),  # 1 - y²
        Activation("relu", nn.ReLU, torch.relu, 1.0, (1, 0, 0, 0, 0, 0)),
        Activation(
            "leaky_relu",
            lambda: nn.LeakyReLU(LEAKY_SLOPE),
            lambda x: nn.functional.leaky_relu(x, LEAKY_SLOPE),
            1.0,
            (1, 0, 0, LEAKY_SLOPE, 0, 0),
        ),
        Activation("elu", nn.ELU, nn.functional.elu, 1.0, (1, 0, 0, 1, 1, 0)),  # below 0: y = exp(x) - 1
        # The exact (erf) GELU's derivative peaks at 1.1289 near x = 1.4142.
        Activation("gelu", nn.GELU, nn.functional.gelu, 1.1289, None, _gelu_derivative),
        Activation(  # below 0: y = scale alpha (exp(x) - 1)
            "selu",
            nn.SELU,
            nn.functional.selu,
            SELU_SCALE * SELU_ALPHA,
            (SELU_SCALE, 0, 0, SELU_SCALE * SELU_ALPHA, 1, 0),
        ),
        Activation("linear", nn.Identity, lambda x: x, 1.0, (1, 0, 0, 1, 0, 0)),
    )
}


class Recording:
    """What one forward pass keeps for the per-layer statistics, while a network's
    `recording` is set: each hidden layer's activation input and output, and every
    Linear layer's output z, whose gradient dL/dz the backward pass then keeps
    (`retain_grad`). Kept by the forward pass itself rather than by module hooks:
    a hooked module takes PyTorch's slow call path, which cost more than the
    statistics."""

    def __init__(self) -> None:
        self.act_inputs: list[torch.Tensor] = []
        self.act_outputs: list[torch.Tensor] = []
        self.linear_outputs: list[torch.Tensor] = []

    def keep_linear(self, z: torch.Tensor) -> None:
        if z.requires_grad:
            z.retain_grad()
        self.linear_outputs.append(z)

    @property
    def deltas(self) -> list[torch.Tensor]:
        """dL/dz of every Linear layer's output z, after the backward pass."""
        return [z.grad for z in self.linear_outputs]


class Block(nn.Module):
    """Linear, [norm], activation, [norm], [+ input]."""

    def __init__(self, n_in: int, n_out: int, config: ExperimentConfig, residual: bool):
        super().__init__()
        self.linear = nn.utils.skip_init(nn.Linear, n_in, n_out)  # init comes later
        norm = config.norm
        self.norm_before = _norm(norm, n_out) if norm.endswith("_before") else None
        self.activation = ACTIVATION_TABLE[config.activation].module()
        self.norm_after = _norm(norm, n_out) if norm.endswith("_after") else None
        self.residual = residual

    def forward(self, x: torch.Tensor, recording: Recording | None = None) -> torch.Tensor:
        z = self.linear(x)
        into = z if self.norm_before is None else self.norm_before(z)
        h = self.activation(into)
        if recording is not None:
            recording.keep_linear(z)
            recording.act_inputs.append(into)
            recording.act_outputs.append(h)
        if self.norm_after is not None:
            h = self.norm_after(h)
        return x + h if self.residual else h


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
        self.head = nn.utils.skip_init(nn.Linear, config.width, n_classes)
        self.config = config
        self.recording: Recording | None = None  # set: the next passes are recorded into it

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
        recording = self.recording
        for block in self.blocks:
            x = block(x, recording)
        z = self.head(x)
        if recording is not None:
            recording.keep_linear(z)
        return z


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
