"""The trainer's statistics, measured on every training step at a fraction of the cost.

The columns mean what `measure.py` says (that module is the reference; the tests
hold this one equal to it). Here speed matters: training with statistics must keep
at least 0.8x the speed of a bare loop (docs/architecture.md, "Budgets"). So:

- the training pass keeps what it computes (`backprop.TrainingPass`: each hidden layer's
  nonlinearity input and output, every Linear layer's dL/dz), rather than being
  walked again;
- per step, compiled passes (`kernels.py`: the activations, the weights, the
  update, the output layer's dL/dz) write sums and norms into one raw record (a NumPy
  structured array, one record a step, fields by name), and make the copies a step
  keeps while the numbers are in cache;
- the NumPy arithmetic that turns sums into means, standard deviations and ratios
  runs once over many records, when the frame is asked for (`table`): per call it
  costs as much as a tensor op, whatever the size;
- percentiles are sorted many steps at a time (`sort_samples`).

The weights are measured from the packed parameter matrices (`packing.py`), one
compiled pass over all layers.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from . import kernels
from .activations import ACTIVATION_TABLE
from .backprop import TrainingPass
from .kernels import ACTIVATION_SUMS, UNIT_SUMS, WEIGHT_SUMS
from .measure import QUANTILE_SAMPLE, QUANTILES
from .model import Network
from .packing import PackedParameters

SAMPLE_BYTES = 2**20  # the samples kept for percentiles until they are sorted together, at most
MAX_SAMPLED_STEPS = 64
HISTOGRAM_SAMPLE = 2048  # activation inputs kept per layer for histograms
CHUNK_BYTES = 2**21  # the most the layers stacked for one compiled pass take (one layer, if larger)
_EMPTY = np.empty((0, 0, 0), np.float32)  # "compute the derivative in the kernel"


def raw_dtype(depth: int) -> np.dtype:
    """One raw record: what one recorded step measured, by name."""
    n_linear = depth + 1
    return np.dtype(
        [
            ("step", np.float64),
            ("activations", np.float32, (depth, len(ACTIVATION_SUMS))),  # kernels.activation_sums, per layer
            ("output_delta_norm", np.float32),  # of the output layer's dL/dz
            ("weights", np.float32, (len(WEIGHT_SUMS), n_linear)),  # kernels.weight_sums
            ("update_sum", np.float32, (n_linear,)),  # of the step's change of W, as applied
            ("update_norm", np.float32, (n_linear,)),
            ("gamma_mean", np.float32, (depth,)),  # the norms' learned scale and shift this step used
            ("beta_mean", np.float32, (depth,)),
            ("quantiles", np.float32, (depth, len(QUANTILES))),
        ]
    )


def _mean_std(sums: np.ndarray, norms: np.ndarray, counts: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation from sums and Euclidean norms over `counts` values
    (the variance is E[x²] - E[x]², exact enough unless |mean| is 1e6 times the std)."""
    mean = sums / counts
    with np.errstate(invalid="ignore", over="ignore"):  # an exploding run's Inf gives NaN
        return mean, np.sqrt(np.clip(norms**2 / counts - mean**2, 0, None))


class FastMeasure:
    """Measures a model's training steps, layer by layer, into raw records.

    Per step, after the training pass (`backprop.Backprop`):
    `measure_weights(record)` measures the weights and gradients before the update
    (and says whether they are finite); the optimizer steps; `measure_pass(record,
    recorded, step)` measures the pass and the update. A step not recorded asks
    `weights_finite()`. `table(records)` turns any number of records into
    the `layers` frame's columns, when the frame is asked for.

    The update is the change the step made to W, measured on a copy of the weights
    taken before it, for every optimizer: plain SGD's -lr x gradient is what it asks
    for, and where that is under half a float32 step of a weight, the weight does
    not change.
    """

    def __init__(self, model: Network, packed: PackedParameters):
        self.depth = len(model.blocks)
        self.activation = ACTIVATION_TABLE[model.config.activation]
        self.weights = packed.weights
        self.norm_rows = packed.norm_rows  # gammas, then betas: one mean gives both
        self.counts = packed.weights.counts
        self.initial = packed.weights.values.clone()
        self.initial_norm = torch.linalg.vector_norm(self.initial, dim=1).double().numpy()
        self.dtype = raw_dtype(self.depth)
        # Reused buffers (a fresh multi-MB tensor each step costs page faults that
        # outweigh the arithmetic); NumPy views of the packed matrices, made once.
        self._weight_arrays = (
            self.weights.values.numpy(),
            self.weights.grads.numpy(),
            self.initial.numpy(),
            self.counts.astype(np.int64),
        )
        self._before = np.zeros_like(self._weight_arrays[0])  # the weights before a step (weight_sums copies them)
        self._unrecorded_sums = np.empty((len(WEIGHT_SUMS), len(self.counts)), np.float32)  # (weights_finite)
        self._slope_in_y = np.array(self.activation.slope_in_y or (0,) * 6, np.float32)
        self._cutoff = np.float32(self.activation.saturation_cutoff)
        self._exact_slope = self.activation.slope_in_y is None
        self._values_per_layer = self._values_per_output = 0  # numbers a hidden layer has in a pass; the output
        self._buffers: list[torch.Tensor | None] = [None, None, None]  # stacked x, y, dL/dz
        self._samples: np.ndarray | None = None  # activation inputs kept for percentiles
        self._sampled: list[np.ndarray] = []  # where their percentiles go
        self._histogram: np.ndarray | None = None  # the last pass's first inputs, (layers, examples, units)
        self._units: np.ndarray | None = None  # the last pass's UNIT_SUMS, (layers, len(UNIT_SUMS), units)
        self._output_delta: np.ndarray | None = None  # the last pass's dL/dz of the output layer, (batch, classes)
        self._units_step = -1  # the optimizer step the last pass belongs to

    def new_records(self, n: int) -> np.ndarray:
        """n raw records to measure into (NaN where a step has nothing to say)."""
        records = np.zeros(n, self.dtype)
        for name in self.dtype.names:
            records[name] = np.nan
        return records

    @torch.no_grad()
    def measure_weights(self, record: np.void) -> bool:
        """Into `record`: the weights and their gradients (before clipping and the
        update), and the mean gamma and beta this step used. Returns whether every
        weight and weight gradient is finite (from their norms, which must not overflow
        float32 either)."""
        finite = kernels.weight_sums(*self._weight_arrays, record["weights"], self._before)
        if self.norm_rows is not None:
            means = self.norm_rows.values.mean(1).numpy()
            record["gamma_mean"], record["beta_mean"] = means[: self.depth], means[self.depth :]
        return finite

    def weights_finite(self) -> bool:
        """Whether every weight and weight gradient is finite, for a step not recorded:
        decided as `measure_weights` decides it (the same compiled pass, its sums
        thrown away), so that a run diverges at the same step however often it records."""
        return kernels.weight_sums(*self._weight_arrays, self._unrecorded_sums, self._before)

    @torch.no_grad()
    def measure_pass(self, record: np.void, recorded: TrainingPass, step: int, updated: bool = True) -> None:
        """Into `record`: the pass of optimizer step `step` (forward and backward), and
        (when `updated`) the update just applied. The hidden layers' tensors are
        stacked, a chunk of layers at a time, for one compiled pass per chunk: a Python
        call per layer cost more than the copy."""
        inputs, outputs, deltas = recorded.act_inputs, recorded.act_outputs, recorded.deltas
        batch, width = inputs[0].shape
        self._values_per_layer, self._values_per_output = batch * width, deltas[-1].numel()
        n_examples = min(batch, math.ceil(QUANTILE_SAMPLE / width))
        samples = self._next_sample((self.depth, n_examples * width), record["quantiles"])
        sums = record["activations"]
        per_chunk = max(1, CHUNK_BYTES // (4 * batch * width))
        n_histogram = min(batch, max(1, HISTOGRAM_SAMPLE // width))
        if self._histogram is None or self._histogram.shape != (self.depth, n_histogram, width):
            self._histogram = np.empty((self.depth, n_histogram, width), np.float32)
        if self._units is None or self._units.shape != (self.depth, len(UNIT_SUMS), width):
            self._units = np.empty((self.depth, len(UNIT_SUMS), width), np.float32)
        for start in range(0, self.depth, per_chunk):
            layers = slice(start, min(self.depth, start + per_chunk))
            x, y, delta = (self._stacked(i, tensors[layers]) for i, tensors in enumerate((inputs, outputs, deltas)))
            kernels.activation_sums(
                x.numpy(),
                y.numpy(),
                delta.numpy(),
                self.activation.derivative(x).numpy() if self._exact_slope else _EMPTY,  # GELU's needs erf: torch's
                self._slope_in_y,
                self._cutoff,
                sums[layers],
                samples[layers],
                self._units[layers],
                self._histogram[layers].reshape(len(x), -1),  # (a view) the kernel copies in: the pass's tensors go now
            )
        output_delta = deltas[-1].numpy()
        if self._output_delta is None or self._output_delta.shape != output_delta.shape:
            self._output_delta = np.empty_like(output_delta)
        # its norm, and a copy (per unit, it is asked for only when a view is drawn)
        record["output_delta_norm"] = kernels.output_norm(output_delta, self._output_delta)
        self._units_step = step
        if updated:
            values, _, _, counts = self._weight_arrays
            kernels.update_sums(values, self._before, counts, record["update_sum"], record["update_norm"])
        record["step"] = step

    def _stacked(self, which: int, tensors: list[torch.Tensor]) -> torch.Tensor:
        """`tensors` (all (batch, width)) stacked into a buffer kept for `which` of
        the three kinds (reused: a fresh multi-MB tensor each step costs page faults)."""
        shape = (len(tensors), *tensors[0].shape)
        buffer = self._buffers[which]
        if buffer is None or buffer.shape[0] < shape[0] or buffer.shape[1:] != shape[1:]:
            buffer = self._buffers[which] = torch.empty(shape)
        return torch.stack(tensors, out=buffer if len(buffer) == shape[0] else buffer[: shape[0]])

    @torch.no_grad()
    def histogram_sample(self) -> torch.Tensor | None:
        """(layers, examples, units): what each hidden layer's nonlinearity received at
        the last measured step, for the batch's first examples, about HISTOGRAM_SAMPLE
        values a layer (None before the first)."""
        return None if self._histogram is None else torch.from_numpy(self._histogram.copy())

    def units(self) -> dict[str, np.ndarray] | None:
        """`measure.UNIT_COLUMNS` of the last measured step: every hidden unit's RMS of
        dL/dz over the batch, saturated share and dead flag (from the compiled pass),
        then the output layer's units' RMS of dL/dz; None before the first step."""
        if self._units is None:
            return None
        depth, _, width = self._units.shape
        n_out = self._output_delta.shape[1]
        with np.errstate(over="ignore", invalid="ignore"):  # an exploding run's Inf gives Inf or NaN
            output = np.sqrt(np.mean(np.square(self._output_delta, dtype=np.float64), axis=0))
        nan = np.full(n_out, np.nan)

        def column(k: int, output_values: np.ndarray) -> np.ndarray:
            return np.concatenate([self._units[:, k].ravel().astype(np.float64), output_values])

        layer = np.concatenate([np.repeat(np.arange(1, depth + 1), width), np.full(n_out, depth + 1)])
        return {
            "step": np.full(len(layer), self._units_step, np.int64),
            "layer": layer,
            "unit": np.concatenate([np.tile(np.arange(width), depth), np.arange(n_out)]),
            "delta_rms": column(kernels.UNIT_DELTA_RMS, output),
            "saturation": column(kernels.UNIT_SATURATION, nan),
            "dead": column(kernels.UNIT_DEAD, nan),
        }

    def _next_sample(self, shape: tuple[int, int], quantiles: np.ndarray) -> np.ndarray:
        """Where to keep the next step's sample of activation inputs (layers, values),
        whose percentiles go into `quantiles` (a record's field) when `sort_samples`
        runs: sorting every value each step would cost more than the training step
        itself, and one sort of many steps' samples costs about what one step's does."""
        if self._samples is None or self._samples.shape[1:] != shape:
            self.sort_samples()
            room = max(1, min(MAX_SAMPLED_STEPS, SAMPLE_BYTES // (4 * shape[0] * shape[1])))
            self._samples = np.empty((room, *shape), np.float32)
        elif len(self._sampled) == len(self._samples):
            self.sort_samples()
        self._sampled.append(quantiles)
        return self._samples[len(self._sampled) - 1]

    def sort_samples(self) -> None:
        """Write the percentiles of the samples kept since the last call into their records."""
        if not self._sampled:
            return
        samples = self._samples[: len(self._sampled)]
        below, above, fraction = _interpolation(samples.shape[2])
        ordered = np.sort(samples, axis=2)  # NumPy sorts small rows ~8x faster than torch
        quantiles = ordered[:, :, below] * (1 - fraction) + ordered[:, :, above] * fraction  # (steps, layers, 3)
        quantiles[np.isnan(ordered[:, :, -1])] = np.nan  # NaN sorts last: a sample with one has no percentiles
        for field, values in zip(self._sampled, quantiles, strict=True):
            field[:] = values
        self._sampled.clear()

    def table(self, records: np.ndarray) -> dict[str, np.ndarray]:
        """The `layers` frame's columns, each (steps, layers) float64, from raw records
        (after `sort_samples`). Every formula here is the one in measure.py, written
        for sums and norms instead of tensors."""
        n_steps, n_linear = len(records), self.depth + 1
        per_layer, per_output = self._values_per_layer, self._values_per_output
        act = {name: records["activations"][:, :, k].astype(np.float64) for k, name in enumerate(ACTIVATION_SUMS)}
        weight = {name: records["weights"][:, k, :].astype(np.float64) for k, name in enumerate(WEIGHT_SUMS)}
        _, weight_std = _mean_std(weight["w_sum"], weight["w_norm"], self.counts)
        _, grad_std = _mean_std(weight["grad_sum"], weight["grad_norm"], self.counts)
        update_std = _mean_std(records["update_sum"], records["update_norm"], self.counts)[1]
        input_mean, input_std = _mean_std(act["x_sum"], act["x_norm"], per_layer)
        output_mean, output_std = _mean_std(act["y_sum"], act["y_norm"], per_layer)
        output_delta_rms = records["output_delta_norm"].astype(np.float64)[:, None] / math.sqrt(per_output)
        quantiles = records["quantiles"].astype(np.float64)

        def hidden(values: np.ndarray) -> np.ndarray:  # NaN for the output layer
            return np.concatenate([values, np.full((n_steps, 1), np.nan)], axis=1)

        return {
            "step": np.repeat(records["step"][:, None], n_linear, axis=1),
            "layer": np.broadcast_to(np.arange(1, n_linear + 1, dtype=np.float64), (n_steps, n_linear)),
            "weight_grad_norm": weight["grad_norm"],
            "weight_norm": weight["w_norm"],
            "grad_data_ratio": grad_std / weight_std,
            "update_ratio": update_std / weight_std,
            "distance_from_init": weight["distance"] / self.initial_norm,
            "delta_rms": np.concatenate([act["delta_norm"] / math.sqrt(per_layer), output_delta_rms], axis=1),
            "act_input_mean": hidden(input_mean),
            "act_input_std": hidden(input_std),
            "act_input_p15": hidden(quantiles[:, :, 0]),
            "act_input_p50": hidden(quantiles[:, :, 1]),
            "act_input_p85": hidden(quantiles[:, :, 2]),
            "act_mean": hidden(output_mean),
            "act_std": hidden(output_std),
            "mean_derivative": hidden(act["slope_sum"] / per_layer),
            "saturation": hidden(act["saturated"]),
            "dead_fraction": hidden(act["dead"]),
            "norm_gamma_mean": hidden(records["gamma_mean"].astype(np.float64)),
            "norm_beta_mean": hidden(records["beta_mean"].astype(np.float64)),
        }


@functools.lru_cache
def _interpolation(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the QUANTILES of n sorted numbers: the positions below and above each, and
    how far between them it lies (linear interpolation, as torch.quantile)."""
    position = np.array(QUANTILES) * (n - 1)
    below = np.floor(position).astype(int)
    return below, np.minimum(below + 1, n - 1), position - below
