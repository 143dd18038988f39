"""Per-layer statistics, measured by hooks on the training step itself.

`Probe` keeps, for one forward and backward pass, every hidden activation's input
and output (forward hooks) and every Linear layer's output gradient dL/dz (a
backward hook on that tensor, installed by `retain_grad`). `LayerStatistics` turns those and the
weights, gradients and updates into one row per Linear layer.

Speed matters (training with statistics must keep >= 0.8x the speed of a bare
loop), so every statistic is one tensor op over all layers at once, never a loop
over layers: the Linear weights live as views in the rows of one zero-padded
matrix (`WeightRows`), their gradients likewise, and the hidden activations are
stacked into one (layers, batch, units) tensor.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import torch
from torch import nn

from .model import ACTIVATION_TABLE, Network

LAYER_COLUMNS = (
    "step",
    "layer",
    "weight_grad_norm",
    "weight_norm",
    "grad_data_ratio",
    "update_ratio",
    "distance_from_init",
    "delta_rms",
    "act_input_mean",
    "act_input_std",
    "act_input_p15",
    "act_input_p50",
    "act_input_p85",
    "act_mean",
    "act_std",
    "mean_derivative",
    "saturation",
    "dead_fraction",
    "norm_gamma_mean",
    "norm_beta_mean",
)
SATURATION_THRESHOLD = 0.1  # a derivative below 10% of its maximum counts as saturated
QUANTILES = (0.15, 0.50, 0.85)
QUANTILE_SAMPLE = 256  # percentiles are read off the batch's first examples, >= this many values
HISTOGRAM_SAMPLE = 2048  # activation inputs kept per layer for histograms


class Probe:
    """Hooks that keep what one pass's statistics need, while `active` is true."""

    def __init__(self, model: Network):
        depth = len(model.blocks)
        self.active = False
        self.act_inputs: list[torch.Tensor | None] = [None] * depth
        self.act_outputs: list[torch.Tensor | None] = [None] * depth
        self.linear_outputs: list[torch.Tensor | None] = [None] * (depth + 1)
        self.handles = [
            block.activation.register_forward_hook(functools.partial(self._on_activation, i))
            for i, block in enumerate(model.blocks)
        ] + [
            linear.register_forward_hook(functools.partial(self._on_linear, i))
            for i, linear in enumerate(model.linears)
        ]

    def _on_activation(self, i: int, module: nn.Module, inputs: tuple, output: torch.Tensor):
        if self.active:
            self.act_inputs[i] = inputs[0].detach()
            self.act_outputs[i] = output.detach()

    def _on_linear(self, i: int, module: nn.Module, inputs: tuple, output: torch.Tensor):
        if self.active and output.requires_grad:
            output.retain_grad()  # a backward hook that keeps dL/dz in output.grad
            self.linear_outputs[i] = output

    @property
    def deltas(self) -> list[torch.Tensor]:
        """dL/dz of every Linear layer's output z, after the backward pass."""
        return [z.grad for z in self.linear_outputs]

    def clear(self) -> None:
        for kept in (self.act_inputs, self.act_outputs, self.linear_outputs):
            kept[:] = [None] * len(kept)


def pack_rows(modules: list[nn.Module], name: str, grads: bool = False) -> tuple[torch.Tensor, ...]:
    """Make each module's parameter `name` a view into a row of one zero-padded
    matrix, and return (values, grads or None, counts).

    Row l holds module l's parameter, flattened, then zeros. Optimizers update the
    views in place, so `values` is always current and one op gives a statistic of
    every layer. With `grads`, the .grad of each parameter is a view into the rows
    of a second matrix likewise (autograd accumulates into an existing .grad in
    place: zero it, never set it to None)."""
    params = [getattr(m, name) for m in modules]
    counts = torch.tensor([p.numel() for p in params], dtype=torch.float64)
    values = torch.zeros(len(params), int(counts.max()))
    grad_rows = torch.zeros_like(values) if grads else None
    for row, (module, param) in enumerate(zip(modules, params, strict=False)):
        view = values[row, : param.numel()].view(param.shape)
        view.copy_(param.detach())
        setattr(module, name, nn.Parameter(view))
        if grad_rows is not None:
            getattr(module, name).grad = grad_rows[row, : param.numel()].view(param.shape)
    return values, grad_rows, counts


def _mean_std(sums: np.ndarray, norms: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation from sums and Euclidean norms over `counts` values.

    Two passes over the data (a sum and a norm), not three: the variance is
    E[x²] - E[x]², exact enough in float64 unless |mean| is 1e6 times the std."""
    mean = sums / counts
    return mean, np.sqrt(np.clip(norms**2 / counts - mean**2, 0, None))


class LayerStatistics:
    """Computes the rows of the `layers` frame for one training step of a model.

    Building it packs the model's Linear weights (and norm scales and shifts) into
    row matrices (same values, same Parameters' data): build it before the model's
    optimizer. Per step: the probe records the pass, `before_update()` measures
    the weights and gradient, the optimizer steps, `rows()` measures the update and
    the activations.

    `sgd_learning_rate`: for plain SGD (no momentum, no clipping) the update is
    exactly -lr * gradient, so its size needs no copy of the weights.
    """

    def __init__(self, model: Network, sgd_learning_rate: float | None = None):
        self.model = model
        self.depth = len(model.blocks)
        self.probe = Probe(model)
        self.activation = ACTIVATION_TABLE[model.config.activation]
        self.values, self.grads, counts = pack_rows(model.linears, "weight", grads=True)
        self.weights = [linear.weight for linear in model.linears]
        self.counts = counts.numpy()
        norms = model.norms
        self._gamma = pack_rows(norms, "weight")[0] if norms else None
        self._beta = pack_rows(norms, "bias")[0] if norms else None
        self.sgd_learning_rate = sgd_learning_rate
        self.initial = self.values.clone()
        self.initial_norm = torch.linalg.vector_norm(self.initial, dim=1).double().numpy()
        # Work buffers the size of all the weights, made once: a fresh multi-MB
        # tensor each step costs page faults that outweigh the arithmetic.
        self._before = torch.empty_like(self.values) if sgd_learning_rate is None else None
        self._scratch = torch.empty_like(self.values)
        self._buffers: tuple[torch.Tensor, ...] | None = None
        self._weight_stats: np.ndarray | None = None
        self._norm_means: tuple[torch.Tensor, torch.Tensor] | None = None
        self.last_act_inputs: torch.Tensor | None = None  # a sample, for histograms

    @torch.no_grad()
    def before_update(self) -> np.ndarray:
        """Measure the weights and the gradient (before clipping and the update);
        returns the per-layer measurements (all finite unless the run diverged)."""
        values, grads, norm = self.values, self.grads, torch.linalg.vector_norm
        distance = torch.sub(values, self.initial, out=self._scratch)
        self._weight_stats = (
            torch.stack([values.sum(1), grads.sum(1), norm(values, dim=1), norm(grads, dim=1), norm(distance, dim=1)])
            .double()
            .numpy()
        )
        if self._before is not None:
            self._before.copy_(values)
        self._norm_means = self._norm_parameters()  # the gamma and beta this step used
        return self._weight_stats

    @torch.no_grad()
    def rows(self, step: int, updated: bool = True) -> np.ndarray:
        """One row per Linear layer (float64, columns as LAYER_COLUMNS), from the
        probe's pass, `before_update`'s measurements, and the change of the weights
        since (NaN when `updated` is false).

        The big tensors are reduced to per-layer sums and norms by a few torch ops
        on whole stacks of layers; the rest is arithmetic on a few dozen numbers,
        done in NumPy.
        """
        depth = self.depth
        weight_sum, grad_sum, weight_norm, grad_norm, distance = self._weight_stats
        _, weight_std = _mean_std(weight_sum, weight_norm, self.counts)
        _, grad_std = _mean_std(grad_sum, grad_norm, self.counts)
        if not updated:
            update_std = np.full(depth + 1, np.nan)
        elif self.sgd_learning_rate is not None:
            update_std = self.sgd_learning_rate * grad_std
        else:
            change = torch.sub(self.values, self._before, out=self._scratch)
            _, update_std = _mean_std(
                change.sum(1).double().numpy(),
                torch.linalg.vector_norm(change, dim=1).double().numpy(),
                self.counts,
            )

        probe = self.probe
        batch, width = probe.act_inputs[0].shape
        acts, derivative, flags, hidden_delta = self._activation_buffers(batch, width)
        # (2 * depth, batch * units): the nonlinearity's inputs, then its outputs
        torch.stack(probe.act_inputs + probe.act_outputs, out=acts.view(2 * depth, batch, width))
        act_in, act_out = acts[:depth], acts[depth:]
        self.activation.derivative_into(act_in, act_out, derivative)
        cutoff = SATURATION_THRESHOLD * self.activation.max_derivative
        # mean(sign(d - c)) = P(d > c) - P(d < c) = 1 - 2 P(d < c): three passes, where a
        # bool mean takes longer (ties, d == c exactly, would count half: the
        # piecewise-constant derivatives never equal c, the smooth ones almost never)
        above_minus_below = torch.sub(derivative, cutoff, out=flags).sign_().mean(1)
        per_unit = (derivative.view(depth, batch, width), act_out.view(depth, batch, width))
        dead = per_unit[0].amax(1) == 0  # derivatives are >= 0
        if not self.activation.zero_output_has_zero_derivative:
            dead |= (per_unit[1].amax(1) == 0) & (per_unit[1].amin(1) == 0)
        deltas = probe.deltas
        torch.stack(deltas[:depth], out=hidden_delta.view(depth, batch, width))
        act_in_per_unit = act_in.view(depth, batch, width)
        # for histograms: the batch's first examples, HISTOGRAM_SAMPLE values a layer (a
        # view: the buffer holds the last recorded step until the next one)
        self.last_act_inputs = act_in_per_unit[:, : max(1, HISTOGRAM_SAMPLE // width)]

        per_layer = (
            torch.cat(  # everything per hidden layer, in one tensor
                [
                    acts.sum(1),
                    torch.linalg.vector_norm(acts, dim=1),
                    derivative.mean(1),
                    (1 - above_minus_below) / 2,
                    dead.mean(1, dtype=torch.float32),
                    torch.linalg.vector_norm(hidden_delta, dim=1),
                    *self._norm_means,
                ]
            )
            .numpy()
            .astype(np.float64)
        )
        p15, p50, p85 = _sample_quantiles(act_in_per_unit)
        sums, norms, mean_derivative, saturation, dead_fraction, delta_norm, gamma, beta = (
            per_layer[: 2 * depth],
            per_layer[2 * depth : 4 * depth],
            *per_layer[4 * depth :].reshape(-1, depth),
        )
        act_means, act_stds = _mean_std(sums, norms, act_in.shape[1])
        output_delta = deltas[-1]
        delta_rms = np.append(
            delta_norm / math.sqrt(hidden_delta.shape[1]),
            float(torch.linalg.vector_norm(output_delta)) / math.sqrt(output_delta.numel()),
        )

        table = np.full((depth + 1, len(LAYER_COLUMNS)), np.nan)
        table[:, 0] = step
        table[:, 1] = np.arange(1, depth + 2)
        table[:, 2] = grad_norm
        table[:, 3] = weight_norm
        table[:, 4] = grad_std / weight_std
        table[:, 5] = update_std / weight_std
        table[:, 6] = distance / self.initial_norm
        table[:, 7] = delta_rms
        hidden = (
            act_means[:depth],
            act_stds[:depth],
            p15,
            p50,
            p85,
            act_means[depth:],
            act_stds[depth:],
            mean_derivative,
            saturation,
            dead_fraction,
            gamma,
            beta,
        )
        table[:-1, 8:] = np.stack(hidden, 1)
        return table

    def _activation_buffers(self, batch: int, width: int) -> tuple[torch.Tensor, ...]:
        """Reused (layers, batch * units) buffers: stacked activations (inputs, then
        outputs), the derivative, saturation flags and dL/dz."""
        shape = (self.depth, batch * width)
        if self._buffers is None or self._buffers[1].shape != shape:
            self._buffers = (
                torch.empty(2 * self.depth, batch * width),
                torch.empty(shape),
                torch.empty(shape),
                torch.empty(shape),
            )
        return self._buffers

    def _norm_parameters(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per layer, the mean learned scale (gamma) and shift (beta) of its norm (copies)."""
        if self._gamma is None:
            nan = torch.full((self.depth,), math.nan)
            return nan, nan
        return self._gamma.mean(1), self._beta.mean(1)  # new tensors: the update won't change them


def _sample_quantiles(act_in: torch.Tensor) -> np.ndarray:
    """(3, layers): the 15th, 50th and 85th percentiles (linear interpolation, as
    numpy.quantile) of each layer's inputs, from a (layers, batch, units) tensor,
    read off the batch's first examples, at least QUANTILE_SAMPLE values (the whole
    batch when it is smaller): sorting every value each step would cost more than
    the training step itself."""
    n_examples = max(1, math.ceil(QUANTILE_SAMPLE / act_in.shape[2]))
    sample = act_in[:, :n_examples].reshape(len(act_in), -1).numpy()
    ordered = np.sort(sample, axis=1)  # NumPy sorts small rows ~8x faster than torch here
    position = np.array(QUANTILES) * (ordered.shape[1] - 1)
    below, fraction = np.floor(position).astype(int), position % 1
    above = np.minimum(below + 1, ordered.shape[1] - 1)
    return (ordered[:, below] * (1 - fraction) + ordered[:, above] * fraction).T


def rows_to_frame(rows: np.ndarray) -> pd.DataFrame:
    """The tidy `layers` frame from stacked rows."""
    frame = pd.DataFrame(rows, columns=list(LAYER_COLUMNS))
    return frame.astype({"step": "int64", "layer": "int64"})


def layer_stats(model: Network, x: torch.Tensor, y: torch.Tensor) -> pd.DataFrame:
    """Per-layer statistics of one forward and backward pass of the mean
    cross-entropy on (x, y), in training mode (batch norm uses the batch's
    statistics). Changes no weight, gradient or running statistic of `model`
    (it measures a copy); `update_ratio` is NaN (there is no update) and
    `distance_from_init` is 0 (the weights are measured against themselves)."""
    import copy

    twin = copy.deepcopy(model)  # measuring packs the weights; leave the original be
    twin.train()
    twin.zero_grad(set_to_none=True)
    stats = LayerStatistics(twin)
    stats.probe.active = True
    with torch.enable_grad():
        loss = nn.functional.cross_entropy(twin(x), y)
        loss.backward()
    stats.probe.active = False
    stats.before_update()
    return rows_to_frame(stats.rows(0, updated=False))
