"""What theory predicts for a network at initialization, layer by layer.

Mean-field theory (Poole et al. 2016; Schoenholz et al. 2017) treats a wide random
network's pre-activations as Gaussian. With weights of variance Var(W) and biases of
variance Var(b), the pre-activations' variance q follows the *length map*

    q[l+1] = fan_in · Var(W) · E[φ(√q[l] z)²] + Var(b),      z ~ N(0, 1),

which for ReLU is He et al.'s rule (× fan_in·Var(W)/2 per layer) and near 0 for tanh
Glorot & Bengio's linear-regime rule (× fan_in·Var(W)). Backwards, the mean square of
the backpropagated gradient dL/dz is multiplied at each layer by

    fan_out · Var(W) · E[φ'(√q z)²],

which at the length map's fixed point q* on square layers is χ₁ = σ_w² E[φ'(√q* z)²]
(σ_w² = width · Var(W)): gradients vanish when χ₁ < 1 and explode when χ₁ > 1, by √χ₁
per layer. Expectations over z are midpoint sums on a fine grid; the activations are the
network's own (`ACTIVATION_TABLE`). Nothing here trains: these are pure functions.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd
import torch

from .activations import ACTIVATION_TABLE, LEAKY_SLOPE
from .config import ExperimentConfig
from .data import make_dataset
from .summary import factor_number

Q_MAX = 1e250  # exploding unbounded activations: stop the length map short of float64's overflow
Z_RANGE = 9.0  # N(0, 1) beyond ±9 weighs under 1e-18


T = TypeVar("T")


def computed_once(maxsize: int) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """`functools.lru_cache`, with one caller computing at a time: a caller that waited
    finds the result cached. (lru_cache alone lets every caller compute until the first
    has finished: a class opening the playground at once computed the same phase
    diagrams from forty threads, 53% of the server's profile.) The results are shared:
    read them, do not change them."""

    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        cached, lock = functools.lru_cache(maxsize)(function), threading.RLock()

        @functools.wraps(function)
        def once(*args, **kwargs) -> T:
            with lock:
                return cached(*args, **kwargs)

        once.cache_info = cached.cache_info  # type: ignore[attr-defined]
        return once

    return decorate


def _z_grid(q_max: float, step: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A symmetric midpoint grid over z with normal weights. Midpoint sums of smooth
    Gaussian-weighted functions converge exponentially; kinks (ELU's derivative at 0,
    |x|) cost O(step²): a step of 0.1 in z, and of 0.2 in x = √q z where activations
    bend, keeps those under ~2e-3 and smooth ones under 1e-6. No node sits at 0, so
    ReLU's jump there costs nothing."""
    if step is None:
        step = min(0.1, 0.2 / math.sqrt(max(q_max, 1e-12)))
    # at most 20k nodes: beyond q ~ 5e4 the activation's bend (width ~1 in x) is a
    # sliver of the Gaussian, and the half-lines either side of it decide the mean
    step = max(step, Z_RANGE / 10_000)
    half = math.ceil(Z_RANGE / step)
    z = (torch.arange(-half, half, dtype=torch.float64) + 0.5) * step
    weights = torch.exp(-0.5 * z * z)
    return z, weights / weights.sum()


def gaussian_mean(function, q: torch.Tensor | float, step: float | None = None) -> torch.Tensor:
    """E[function(√q z)] for z ~ N(0, 1), for each entry of q; the grid is chosen
    for each group of similar q (sorted), so one huge q does not make all slow."""
    # q → 0 is a limit (tanh at the edge of chaos, ReLU below it): keep ReLU's slope
    # there 1/2, not the 0 it has at exactly x = 0
    q = torch.as_tensor(q, dtype=torch.float64).clamp_min(1e-300)
    flat = q.reshape(-1)
    out = torch.empty_like(flat)
    for group in flat.argsort().split(128):
        z, weights = _z_grid(float(flat[group].max()), step)
        out[group] = (function(flat[group].sqrt().unsqueeze(-1) * z) * weights).sum(-1)
    return out.reshape(q.shape)


def weight_variance(init: str, fan_in: int, fan_out: int, weight_scale: float = 1.0) -> float:
    """Var of one weight of a (fan_out × fan_in) Linear layer under `init`."""
    variance = {
        # PyTorch's default: kaiming_uniform(a=√5) = U(-1/√fan_in, 1/√fan_in)
        "default": 1 / (3 * fan_in),
        "small_normal": 0.01**2,
        "large_normal": 1.0,
        "xavier_uniform": 2 / (fan_in + fan_out),
        "xavier_normal": 2 / (fan_in + fan_out),
        "he_uniform": 2 / fan_in,
        "he_normal": 2 / fan_in,
        "lecun_normal": 1 / fan_in,
        # orthonormal rows (or columns): each of the longer side's entries has 1/length
        "orthogonal": 1 / max(fan_in, fan_out),
    }[init]
    return variance * weight_scale**2


def bias_variance(init: str, fan_in: int) -> float:
    """Var of one bias: PyTorch's default draws U(-1/√fan_in, 1/√fan_in); every other init zeros it."""
    return 1 / (3 * fan_in) if init == "default" else 0.0


def mean_field_point(config: ExperimentConfig) -> tuple[float, float]:
    """Where the config sits on the phase diagram: (σ_w², σ_b²) of its
    hidden-to-hidden layers, width · Var(W) and Var(b)."""
    width = config.width
    return (
        width * weight_variance(config.init, width, width, config.weight_scale),
        bias_variance(config.init, width),
    )


def length_map(
    activation: str, q: torch.Tensor, sigma_w2: torch.Tensor, sigma_b2: torch.Tensor, step: float | None = None
) -> torch.Tensor:
    """The next layer's pre-activation variance from this layer's (square layers)."""
    phi = ACTIVATION_TABLE[activation].function
    return (sigma_w2 * gaussian_mean(lambda x: phi(x) ** 2, q, step) + sigma_b2).clamp_max(Q_MAX)


# The fixed point is iterated on one grid for all q: E[φ²] is smooth enough (or
# dominated by its tails when q is huge) for a step of 0.1 in z.
FIXED_POINT_STEP = 0.1


def fixed_point(activation: str, sigma_w2, sigma_b2, iterations: int = 300) -> torch.Tensor:
    """q*, the variance the length map settles at (from q = 1), elementwise: each entry
    iterated until a step changes it by under 1e-7 of itself (or 1e-12: a q* of 0 is
    approached, not reached), or for `iterations` steps. On a phase diagram most entries
    settle in a few steps; those near the edge of chaos, and an unbounded activation's
    exploding ones, take them all."""
    sigma_w2, sigma_b2 = torch.broadcast_tensors(
        torch.as_tensor(sigma_w2, dtype=torch.float64), torch.as_tensor(sigma_b2, dtype=torch.float64)
    )
    shape, sigma_w2, sigma_b2 = sigma_w2.shape, sigma_w2.flatten(), sigma_b2.flatten()
    q = torch.ones(sigma_w2.shape, dtype=torch.float64)
    moving = torch.arange(len(q))  # the entries not yet settled
    for _ in range(iterations):
        previous = q[moving]
        q[moving] = length_map(activation, previous, sigma_w2[moving], sigma_b2[moving], FIXED_POINT_STEP)
        moving = moving[~torch.isclose(q[moving], previous, rtol=1e-7, atol=1e-12)]
        if len(moving) == 0:
            break
    return q.reshape(shape)


def chi1(activation: str, sigma_w2, sigma_b2, iterations: int = 300) -> torch.Tensor:
    """χ₁ = σ_w² E[φ'(√q* z)²]: the factor by which each layer multiplies the
    backpropagated gradient's mean square, deep in the network."""
    derivative = ACTIVATION_TABLE[activation].derivative
    q_star = fixed_point(activation, sigma_w2, sigma_b2, iterations)
    return torch.as_tensor(sigma_w2, dtype=torch.float64) * gaussian_mean(lambda x: derivative(x) ** 2, q_star)


@computed_once(maxsize=256)
def chi1_at(config: ExperimentConfig) -> float:
    """χ₁ at the config's point on the phase diagram (`mean_field_point`)."""
    return float(chi1(config.activation, *mean_field_point(config)))


def gradient_in_words(chi: float) -> str:
    """What χ₁ means for a student, on the gradient's RMS (√χ₁ a layer): the factor a
    layer, and every how many layers that makes tenfold."""
    if not math.isfinite(chi) or chi <= 0:
        return "each layer cuts the gradient to zero"
    per_layer = math.sqrt(chi)  # the gradient's size, not its mean square
    if abs(math.log10(per_layer)) < 1e-3:
        return "each layer passes the gradient on at its size (critical)"
    layers_per_tenfold = 1 / abs(math.log10(per_layer))
    change = "smaller" if per_layer < 1 else "larger"
    count = f"{layers_per_tenfold:.0f}" if layers_per_tenfold >= 10 else f"{layers_per_tenfold:.2g}"
    if layers_per_tenfold >= 1.05:
        every = f"tenfold {change} every {count} layers"
    elif layers_per_tenfold > 0.95:  # (×0.107 is not "more than tenfold")
        every = f"about tenfold {change} at every layer"
    else:
        every = f"more than tenfold {change} at every layer"
    return f"each layer multiplies the gradient by ×{factor_number(per_layer, 3)}: {every}"


def batchnorm_gradient_growth(activation: str) -> float:
    """The factor by which each layer of Linear, batch norm, φ multiplies the backpropagated
    gradient's RMS at initialization, in the limit of a wide network and a large batch:
    √(E[φ'(z)²] / Var φ(z)), z ~ N(0, 1). Batch norm hands φ standardized inputs and divides
    the gradient by the standard deviation over the batch of what it normalizes, W φ(z) from
    the layer below: the gradient's mean square is multiplied by n·Var(W)·E[φ'²] on its way
    down through W and φ, and divided by n·Var(W)·Var φ (so no init can change the ratio).
    For ReLU it is √(π/(π−1)) ≈ 1.21, Yang et al.'s (2019) rate; by the Gaussian Poincaré
    inequality it is at least 1 for every φ, and 1 only for a linear one."""
    phi = ACTIVATION_TABLE[activation]
    mean = float(gaussian_mean(phi.function, 1.0))
    variance = float(gaussian_mean(lambda x: phi.function(x) ** 2, 1.0)) - mean**2
    slope_square = float(gaussian_mean(lambda x: phi.derivative(x) ** 2, 1.0))
    return math.sqrt(slope_square / variance)


def relu_jacobian_log_variance(width: int) -> float:
    """Var of ln of the factor by which one He-initialized ReLU layer of `width` units
    (zero biases) multiplies |J u|², J the input-output Jacobian and u a direction: the
    factor is (2/fan_in)·χ²_K with K ~ Binomial(width, ½) units on, independent from layer
    to layer (a sign flip of a weight row turns a unit off without changing its share), so
    the variances add up over the layers. Given K ≥ 1 (K = 0 cuts the gradient to 0, a
    chance of 2^-width): E[ψ'(K/2)] + Var[ψ(K/2)], about 4/width + 1/width for wide layers,
    so that a network's spread is ≈ 5β, β = Σ 1/width (the sum Hanin 2018 found it grows with)."""
    k = torch.arange(1, width + 1, dtype=torch.float64)
    n = torch.tensor(float(width), dtype=torch.float64)
    log_choose = torch.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)  # in logs: no overflow
    weights = torch.exp(log_choose - log_choose.logsumexp(0))
    trigamma, digamma = torch.polygamma(1, k / 2), torch.digamma(k / 2)
    spread_within = (weights * trigamma).sum()
    spread_between = (weights * digamma**2).sum() - (weights * digamma).sum() ** 2
    return float(spread_within + spread_between)


# activation -> (whose rule, its factor on σ_w² = n·Var(W) per layer)
_VARIANCE_RULES = {
    "linear": ("Glorot & Bengio: × n·Var(W) per layer", 1.0),
    "tanh": ("Glorot & Bengio (linear regime): × n·Var(W) per layer", 1.0),
    "relu": ("He et al.: × n·Var(W)/2 per layer", 0.5),
    "leaky_relu": ("He et al.: × n·Var(W)·(1+a²)/2 per layer", (1 + LEAKY_SLOPE**2) / 2),
}


def variance_rule(config: ExperimentConfig) -> tuple[str, float] | None:
    """Glorot's or He's rule for the forward signal, where one applies: its name, and
    the factor by which it says each hidden layer multiplies the pre-activations'
    variance (biases left out, as the papers do)."""
    if config.activation not in _VARIANCE_RULES or not applies(config):
        return None
    name, factor = _VARIANCE_RULES[config.activation]
    return name, factor * mean_field_point(config)[0]


def applies(config: ExperimentConfig) -> bool:
    """The mean-field recursions describe plain stacks: no normalization, no skips."""
    return config.norm == "none" and not config.residual


@computed_once(maxsize=64)
def predict_layers(config: ExperimentConfig) -> pd.DataFrame:
    """The prediction at initialization, one row per Linear layer (as in `layers`):
    `preact_var` (variance of what the activation receives), `act_mean` and `act_var`
    (of its outputs), `grad_gain` (the factor from the mean square of dL/dz one layer
    up to this layer's) and `delta_rms_relative` (RMS of dL/dz, 1 at the output layer)."""
    data = make_dataset(config)
    activation = ACTIVATION_TABLE[config.activation]
    fans = [data.n_inputs] + [config.width] * config.depth + [data.n_classes]
    variances = [
        weight_variance(config.init, fan_in, fan_out, config.weight_scale)
        for fan_in, fan_out in itertools.pairwise(fans)
    ]
    biases = [bias_variance(config.init, fan_in) for fan_in in fans[:-1]]
    # what the first layer sees: Σ_i E[x_i²] of the standardized inputs
    signal = float((data.x_train.double() ** 2).sum(1).mean())
    rows = []
    for layer in range(1, config.depth + 2):
        q = min(variances[layer - 1] * signal + biases[layer - 1], Q_MAX)
        if layer == config.depth + 1:
            rows.append({"layer": layer, "preact_var": q, "act_mean": math.nan, "act_var": math.nan, "grad_gain": 1.0})
            break
        mean = float(gaussian_mean(activation.function, q))
        mean_square = float(gaussian_mean(lambda x: activation.function(x) ** 2, q))
        slope_square = float(gaussian_mean(lambda x: activation.derivative(x) ** 2, q))
        rows.append(
            {
                "layer": layer,
                "preact_var": q,
                "act_mean": mean,
                "act_var": max(mean_square - mean**2, 0.0),
                "grad_gain": slope_square * fans[layer + 1] * variances[layer],
            }
        )
        signal = fans[layer] * mean_square  # Σ over the layer's units of E[φ²]
    frame = pd.DataFrame(rows)
    # from the output layer down: each layer's mean square is the one above times its gain
    # in logs: 100 layers of gains ~1e3 overflow a product
    with np.errstate(divide="ignore"):
        log_gains = np.log(frame["grad_gain"].to_numpy())
    frame["delta_rms_relative"] = np.exp(np.clip(0.5 * np.cumsum(log_gains[::-1])[::-1], -745, 709))
    return frame


@computed_once(maxsize=16)
def phase_diagram(
    activation: str, sigma_w2_max: float = 4.0, sigma_b2_max: float = 0.5, points: int = 41
) -> pd.DataFrame:
    """χ₁ over a grid of σ_w² (weights) × σ_b² (biases): one row per grid point (the
    same frame for the same arguments: read it, do not change it). 0.03-1.2 s."""
    # the cells' centres, so that the cells tile [0, max]: a network left of the first one (a default
    # sigmoid's 0.33 on sigmoid's grid to 160) sat on blank background
    sigma_w2 = (torch.arange(points, dtype=torch.float64) + 0.5) * (sigma_w2_max / points)
    sigma_b2 = torch.linspace(0, sigma_b2_max, points, dtype=torch.float64)
    grid_w, grid_b = torch.meshgrid(sigma_w2, sigma_b2, indexing="xy")
    chi = chi1(activation, grid_w, grid_b, iterations=120)  # colours: near-critical q* need not settle
    return pd.DataFrame(
        {"sigma_w2": grid_w.flatten().numpy(), "sigma_b2": grid_b.flatten().numpy(), "chi1": chi.flatten().numpy()}
    )
