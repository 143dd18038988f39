"""Per-layer statistics, measured on the training step itself.

A `Recording` (see model.py) keeps, for one forward and backward pass, every
hidden activation's input and output and every Linear layer's output gradient
dL/dz. `LayerStatistics` turns those and the weights, gradients and updates into
one row per Linear layer.

Speed matters (training with statistics must keep >= 0.8x the speed of a bare
loop, DESIGN.md §5), so nothing loops over layers in Python: the Linear weights
live as views in the rows of one zero-padded matrix (`pack_rows`), their gradients
likewise, and one compiled pass over them gives every layer's sums and norms
(kernels.py); another reads every layer's activations and dL/dz where they lie.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import kernels
from .model import ACTIVATION_TABLE, Network, Recording

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
SAMPLE_BYTES = 2**20  # the samples kept for percentiles until they are sorted together, at most
MAX_SAMPLED_STEPS = 64
HISTOGRAM_SAMPLE = 2048  # activation inputs kept per layer for histograms


def pack_rows(slots: list[tuple[nn.Module, str]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Make each (module, parameter name)'s parameter a view into a row of one
    zero-padded matrix, and its .grad a view into the same row of a second one;
    returns (values, grads, counts).

    Row l holds slot l's parameter, flattened, then zeros. Optimizers update the
    views in place, so `values` is always current and one pass over it measures
    every layer. Autograd accumulates into an existing .grad in place: zero the
    gradients, never set them to None. (Two matrices, not one: an in-place change to
    any view bumps the version of the whole matrix, and autograd would take the
    accumulated gradients for changed weights.)"""
    params = [getattr(module, name) for module, name in slots]
    counts = torch.tensor([p.numel() for p in params], dtype=torch.float64)
    values = torch.zeros(len(params), int(counts.max()))
    grads = torch.zeros_like(values)
    for row, ((module, name), param) in enumerate(zip(slots, params, strict=True)):
        view = values[row, : param.numel()].view(param.shape)
        view.copy_(param.detach())
        setattr(module, name, nn.Parameter(view))
        getattr(module, name).grad = grads[row, : param.numel()].view(param.shape)
    return values, grads, counts


def _mean_std(sums: np.ndarray, norms: np.ndarray, counts: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation from sums and Euclidean norms over `counts` values
    (the variance is E[x²] - E[x]², exact enough unless |mean| is 1e6 times the std)."""
    mean = sums / counts
    with np.errstate(invalid="ignore", over="ignore"):  # an exploding run's Inf gives NaN
        return mean, np.sqrt(np.clip(norms**2 / counts - mean**2, 0, None))


class LayerStatistics:
    """Measures a model's training steps, layer by layer.

    Building it packs the model's parameters into row matrices (same values, same
    Parameters' data; `packed_parameters` are the matrices, for the optimizer):
    build it before the model's optimizer.

    Per recorded step: `start()` before the forward pass makes the model record it,
    `stop()` after the backward pass; `measure_weights(row)` measures the weights
    and gradient before the update; the optimizer steps; `measure_pass(row, step)`
    measures the recorded pass and the update. They write into `row`, one row of a
    float32 matrix of raw measurements (`raw_width` numbers: per-layer sums and
    norms); `table(raw)` turns any number of such rows into the rows of the `layers`
    frame at once, when the frame is asked for.

    Why raw rows: per step, measuring is two compiled passes (kernels.py) that write
    sums and norms straight into the row. The NumPy arithmetic that turns them into
    means, standard deviations and ratios costs as much per call as a tensor op,
    whatever the size: it runs once over many steps, when the frame is asked for.

    `sgd_learning_rate`: for plain SGD (no momentum, no clipping) the update is
    exactly -lr * gradient, so its size needs no copy of the weights.
    """

    def __init__(self, model: Network, sgd_learning_rate: float | None = None):
        self.model = model
        self.depth = depth = len(model.blocks)
        n_linear = depth + 1
        self.activation = ACTIVATION_TABLE[model.config.activation]
        self.values, self.grads, counts = pack_rows([(linear, "weight") for linear in model.linears])
        self.counts = counts.numpy()
        packed = [(self.values, self.grads), pack_rows([(linear, "bias") for linear in model.linears])[:2]]
        norms = model.norms
        self._norm_rows = None  # scales (gamma), then shifts (beta): one op gives both means
        if norms:
            self._norm_rows, norm_grads, _ = pack_rows([(n, "weight") for n in norms] + [(n, "bias") for n in norms])
            packed.append((self._norm_rows, norm_grads))
        # Every parameter of the model, packed: an optimizer over these few matrices
        # updates all the layers in one op each, where one over the layers' own
        # tensors pays Python and dispatch per tensor (same arithmetic: the
        # optimizers are elementwise, and the padding's gradient is always 0).
        self.packed_parameters: list[nn.Parameter] = []
        for rows, grads in packed:
            parameter = nn.Parameter(rows)
            parameter.grad = grads
            self.packed_parameters.append(parameter)
        self.sgd_learning_rate = sgd_learning_rate
        self.initial = self.values.clone()
        self.initial_norm = torch.linalg.vector_norm(self.initial, dim=1).double().numpy()

        # The raw row: where each measurement goes (see `table` for what they become).
        fields = {
            "step": 1,
            "activations": 8 * depth,  # as kernels.activation_sums writes them
            "output_delta_norm": 1,
            "weights": 5 * n_linear,  # as kernels.weight_sums writes them
            "update": 2 * n_linear,  # sum, norm of the update (unless plain SGD)
            "norm_means": 2 * depth,  # mean gamma, mean beta
            "quantiles": 3 * depth,
        }
        ends = np.cumsum(list(fields.values()))
        self.fields = {name: slice(end - size, end) for (name, size), end in zip(fields.items(), ends, strict=True)}
        self.raw_width = int(ends[-1])

        self.recording: Recording | None = None
        # Reused buffers (a fresh multi-MB tensor each step costs page faults that
        # outweigh the arithmetic).
        self._before = torch.empty_like(self.values) if sgd_learning_rate is None else None
        self._scratch = torch.empty_like(self.values) if sgd_learning_rate is None else None
        self._weight_arrays = (self.values.numpy(), self.grads.numpy(), self.initial.numpy(), counts.long().numpy())
        # what activation_sums needs to know of the activation, worked out once
        self._slope_in_y = np.array(self.activation.slope_in_y or (0,) * 6, np.float64)
        self._saturation_cutoff = SATURATION_THRESHOLD * self.activation.max_derivative
        self._zero_output_is_dead = not self.activation.zero_output_has_zero_derivative
        self._samples: np.ndarray | None = None  # activation inputs kept for percentiles
        self._sampled: list[np.ndarray] = []  # where their percentiles go
        self._pass_sizes = (1, 1)  # numbers per hidden layer of a pass, and in the output's dL/dz
        self._last_act_inputs: list[torch.Tensor] | None = None

    def zero_grad(self) -> None:
        """Zero every gradient (in place: they are views into the packed matrices)."""
        for packed in self.packed_parameters:
            packed.grad.zero_()

    def start(self) -> None:
        """Record the model's next forward pass (and keep dL/dz in its backward pass)."""
        self.recording = self.model.recording = Recording()

    def stop(self) -> None:
        """Stop recording (after the backward pass)."""
        self.model.recording = None

    def discard(self) -> None:
        """Forget the recorded pass (the run diverged at it)."""
        self.recording = None

    def finite(self, row: torch.Tensor | None = None) -> bool:
        """Whether every weight and weight gradient is finite: from the norms
        `measure_weights` wrote into `row`, or measured now."""
        if row is not None:  # the weights' and the gradients' norms
            n_linear = self.depth + 1
            return bool(np.isfinite(row.numpy()[self.fields["weights"]][2 * n_linear : 4 * n_linear]).all())
        norm = torch.linalg.vector_norm
        return math.isfinite(norm(self.values) + norm(self.grads))

    @torch.no_grad()
    def measure_weights(self, row: torch.Tensor) -> None:
        """Into `row`: the weights and gradient (before clipping and the update), and
        the norms' mean gamma and beta this step used."""
        f, n_linear = self.fields, self.depth + 1
        kernels.weight_sums(*self._weight_arrays, row.numpy()[f["weights"]].reshape(5, n_linear))
        if self._norm_rows is not None:
            torch.mean(self._norm_rows, 1, out=row[f["norm_means"]])
        if self._before is not None:
            self._before.copy_(self.values)

    @torch.no_grad()
    def measure_pass(self, row: torch.Tensor, step: int, updated: bool = True) -> None:
        """Into `row`: the recorded pass of optimizer step `step`, and (when `updated`
        and not plain SGD) the update just applied."""
        f, depth, recording = self.fields, self.depth, self.recording
        self.recording = None
        batch, width = recording.act_inputs[0].shape
        deltas = recording.deltas
        self._pass_sizes = (batch * width, deltas[-1].numel())
        # The kernel reads every layer's tensors where they lie: contiguous ones (all
        # are, as autograd makes them; a copy otherwise), kept alive by `tensors`.
        tensors = [t if t.is_contiguous() else t.contiguous() for t in (*recording.act_inputs, *recording.act_outputs)]
        tensors += [t if t.is_contiguous() else t.contiguous() for t in deltas[:depth]]
        addresses = np.zeros((4, depth), np.int64)
        addresses[:3] = np.array([t.data_ptr() for t in tensors], np.int64).reshape(3, depth)
        if self.activation.slope_in_y is None:  # GELU: its derivative by torch (erf)
            slopes = self.activation.derivative(torch.stack(tensors[:depth]).view(depth, -1))
            addresses[3] = slopes.data_ptr() + slopes.stride(0) * slopes.element_size() * np.arange(depth)
        numbers = row.numpy()
        n_examples = min(batch, math.ceil(QUANTILE_SAMPLE / width))
        kernels.activation_sums(
            addresses,
            batch * width,
            width,
            self._slope_in_y,
            self._saturation_cutoff,
            self._zero_output_is_dead,
            numbers[f["activations"]].reshape(8, depth),
            self._next_sample((depth, n_examples * width), numbers[f["quantiles"]]),
        )
        output_delta = deltas[-1].numpy().ravel()  # a few numbers: NumPy is quicker
        numbers[f["output_delta_norm"]] = math.sqrt(output_delta @ output_delta)
        if self._before is not None and updated:
            n_linear = depth + 1
            change, update = torch.sub(self.values, self._before, out=self._scratch), row[f["update"]]
            torch.sum(change, 1, out=update[:n_linear])
            torch.linalg.vector_norm(change, dim=1, out=update[n_linear:])
        numbers[f["step"]] = step
        self._last_act_inputs = recording.act_inputs  # for histograms, when asked for

    @torch.no_grad()
    def histogram_sample(self) -> torch.Tensor | None:
        """(layers, examples, units): what each hidden layer's nonlinearity received at
        the last measured step, for the batch's first examples, about HISTOGRAM_SAMPLE
        values a layer (None before the first)."""
        if self._last_act_inputs is None:
            return None
        n_examples = max(1, HISTOGRAM_SAMPLE // self._last_act_inputs[0].shape[1])
        return torch.stack([inputs[:n_examples] for inputs in self._last_act_inputs])

    def _next_sample(self, shape: tuple[int, int], quantiles: np.ndarray) -> np.ndarray:
        """Where to keep the next step's sample of activation inputs (layers, values),
        whose percentiles go into `quantiles` (a row's field) when `sort_samples` runs:
        sorting every value each step would cost more than the training step itself,
        and one sort of many steps' samples costs about what one step's does."""
        if self._samples is None or self._samples.shape[1:] != shape:
            self.sort_samples()
            room = max(1, min(MAX_SAMPLED_STEPS, SAMPLE_BYTES // (4 * shape[0] * shape[1])))
            self._samples = np.empty((room, *shape), np.float32)
        elif len(self._sampled) == len(self._samples):
            self.sort_samples()
        self._sampled.append(quantiles)
        return self._samples[len(self._sampled) - 1]

    def sort_samples(self) -> None:
        """Write the percentiles of the samples kept since the last call into their rows."""
        if not self._sampled:
            return
        samples = self._samples[: len(self._sampled)]
        below, above, fraction = _interpolation(samples.shape[2])
        ordered = np.sort(samples, axis=2)  # NumPy sorts small rows ~8x faster than torch
        quantiles = ordered[:, :, below] * (1 - fraction) + ordered[:, :, above] * fraction  # (steps, layers, 3)
        for row, values in zip(self._sampled, quantiles.transpose(0, 2, 1), strict=True):
            row[:] = values.ravel()
        self._sampled.clear()

    def new_rows(self, n: int) -> torch.Tensor:
        """n raw rows to measure into (NaN where a step has nothing to say)."""
        return torch.full((n, self.raw_width), math.nan)

    def table(self, raw: np.ndarray) -> np.ndarray:
        """The rows of the `layers` frame, (steps, layers, LAYER_COLUMNS) float64, from
        raw rows (steps, raw_width), after `sort_samples`."""
        f, n_linear = self.fields, self.depth + 1
        raw = raw.astype(np.float64)
        n_steps, (batch_values, output_values) = len(raw), self._pass_sizes

        def per_layer(name: str, parts: int) -> np.ndarray:  # (parts, steps, layers)
            return raw[:, f[name]].reshape(n_steps, parts, -1).transpose(1, 0, 2)

        # as the kernels wrote them
        x_sum, x_norm, y_sum, y_norm, delta_norm, slope_sum, saturation, dead = per_layer("activations", 8)
        act_mean, act_std = _mean_std(np.stack([x_sum, y_sum]), np.stack([x_norm, y_norm]), batch_values)
        weight_sum, grad_sum, weight_norm, grad_norm, distance = per_layer("weights", 5)
        sums, norms = np.stack([weight_sum, grad_sum]), np.stack([weight_norm, grad_norm])
        _, (weight_std, grad_std) = _mean_std(sums, norms, self.counts)
        if self.sgd_learning_rate is not None:
            update_std = self.sgd_learning_rate * grad_std
        else:
            update = per_layer("update", 2)
            update_std = _mean_std(update[0], update[1], self.counts)[1]

        table = np.full((n_steps, n_linear, len(LAYER_COLUMNS)), np.nan)
        table[:, :, 0] = raw[:, f["step"]]
        table[:, :, 1] = np.arange(1, n_linear + 1)
        table[:, :, 2] = grad_norm
        table[:, :, 3] = weight_norm
        table[:, :, 4] = grad_std / weight_std
        table[:, :, 5] = update_std / weight_std
        table[:, :, 6] = distance / self.initial_norm
        table[:, :-1, 7] = delta_norm / math.sqrt(batch_values)
        table[:, -1, 7] = raw[:, f["output_delta_norm"]][:, 0] / math.sqrt(output_values)
        hidden = table[:, :-1]
        hidden[:, :, 8], hidden[:, :, 9] = act_mean[0], act_std[0]
        hidden[:, :, 10:13] = per_layer("quantiles", 3).transpose(1, 2, 0)
        hidden[:, :, 13], hidden[:, :, 14] = act_mean[1], act_std[1]
        hidden[:, :, 15] = slope_sum / batch_values
        hidden[:, :, 16] = saturation
        hidden[:, :, 17] = dead
        hidden[:, :, 18:20] = per_layer("norm_means", 2).transpose(1, 2, 0)
        return table


@functools.lru_cache
def _interpolation(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the QUANTILES of n sorted numbers: the positions below and above each, and
    how far between them it lies (linear interpolation, as numpy.quantile)."""
    position = np.array(QUANTILES) * (n - 1)
    below = np.floor(position).astype(int)
    return below, np.minimum(below + 1, n - 1), position - below


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
    stats.start()
    with torch.enable_grad():
        loss = nn.functional.cross_entropy(twin(x), y)
        loss.backward()
    stats.stop()
    row = stats.new_rows(1)
    stats.measure_weights(row[0])
    stats.measure_pass(row[0], 0, updated=False)
    stats.sort_samples()
    return rows_to_frame(stats.table(row.numpy())[0])
