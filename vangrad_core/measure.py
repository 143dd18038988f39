"""What every column of the per-layer statistics means, in plain PyTorch.

One forward and backward pass of the mean cross-entropy on a batch, then one line
per column, each read like its definition. This is the engine's reference:
`layer_stats` is this module, and the trainer's fast path (`measure_fast.py`, which
measures every training step at a fraction of the cost) is tested equal to it.

A "layer" is a Linear layer: 1 is the one next to the input, `depth` the last
hidden one, `depth + 1` the output layer (whose activation columns are NaN). z is
a Linear layer's output; the nonlinearity's input is z, or BN(z) when batch (or
layer) norm comes before the activation.
"""

from __future__ import annotations

import copy
import dataclasses
import math

import pandas as pd
import torch
from torch import nn

from .activations import ACTIVATION_TABLE
from .config import ExperimentConfig
from .data import make_dataset
from .model import Network, build_model

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
# One row per unit of every Linear layer (the network drawn unit by unit): the RMS of
# its dL/dz over the batch; for hidden layers' units also the share of its inputs
# saturated and whether it is dead (1.0 or 0.0), as the per-layer columns define them.
UNIT_COLUMNS = ("step", "layer", "unit", "delta_rms", "saturation", "dead")
QUANTILES = (0.15, 0.50, 0.85)
QUANTILE_SAMPLE = 256  # percentiles are read off the batch's first examples: at least this many values


@dataclasses.dataclass
class Pass:
    """What one forward and backward pass leaves to measure, per layer (lists from
    the input side): every Linear layer's weight W, dL/dW and dL/dz; every hidden
    layer's nonlinearity input and output."""

    weights: list[torch.Tensor]
    weight_grads: list[torch.Tensor]
    deltas: list[torch.Tensor]
    act_inputs: list[torch.Tensor]
    act_outputs: list[torch.Tensor]
    loss: float


def record_pass(model: Network, x: torch.Tensor, y: torch.Tensor) -> Pass:
    """Walk the network block by block, keeping what the statistics need, and ask
    autograd for dL/dW and dL/dz. Changes no weight and no .grad (but a batch norm's
    running statistics, as any training-mode pass does)."""
    h, zs, act_inputs, act_outputs = x, [], [], []
    for block in model.blocks:
        z = block.linear(h)
        into = z if block.norm_before is None else block.norm_before(z)
        out = block.activation(into)
        after = out if block.norm_after is None else block.norm_after(out)
        h = h + after if block.residual else after
        zs.append(z)
        act_inputs.append(into.detach())
        act_outputs.append(out.detach())
    logits = model.head(h)
    zs.append(logits)
    loss = nn.functional.cross_entropy(logits, y)
    weights = [linear.weight for linear in model.linears]
    grads = torch.autograd.grad(loss, weights + zs)
    return Pass(
        weights=[w.detach() for w in weights],
        weight_grads=list(grads[: len(weights)]),
        deltas=list(grads[len(weights) :]),
        act_inputs=act_inputs,
        act_outputs=act_outputs,
        loss=loss.item(),
    )


def _std(t: torch.Tensor) -> float:
    return t.std(correction=0).item()


def _rms(t: torch.Tensor) -> float:
    return t.double().pow(2).mean().sqrt().item()


def layer_rows(
    model: Network,
    recorded: Pass,
    step: int = 0,
    weights_after: list[torch.Tensor] | None = None,
    initial_weights: list[torch.Tensor] | None = None,
) -> pd.DataFrame:
    """The `layers` rows of one step from its recorded pass. `weights_after`: each
    Linear weight after the step's update (else update_ratio is NaN);
    `initial_weights`: before training (else distance_from_init is 0)."""
    activation = ACTIVATION_TABLE[model.config.activation]
    norms = model.norms
    rows = []
    for i, (w, grad, delta) in enumerate(zip(recorded.weights, recorded.weight_grads, recorded.deltas, strict=True)):
        w0 = initial_weights[i] if initial_weights is not None else w
        row = {
            "step": step,
            "layer": i + 1,
            "weight_grad_norm": grad.norm().item(),
            "weight_norm": w.norm().item(),
            "grad_data_ratio": _std(grad) / _std(w),
            "update_ratio": _std(weights_after[i] - w) / _std(w) if weights_after is not None else math.nan,
            "distance_from_init": ((w - w0).norm() / w0.norm()).item(),
            "delta_rms": _rms(delta),  # RMS of dL/dz over the batch and the layer's units
        }
        if i < len(recorded.act_inputs):  # a hidden layer: what its nonlinearity does
            x, y = recorded.act_inputs[i], recorded.act_outputs[i]  # (batch, units)
            slope = activation.derivative(x)
            sample = x[: math.ceil(QUANTILE_SAMPLE / x.shape[1])].flatten().double()
            p15, p50, p85 = torch.quantile(sample, torch.tensor(QUANTILES, dtype=torch.float64)).tolist()
            row |= {
                "act_input_mean": x.mean().item(),
                "act_input_std": _std(x),
                "act_input_p15": p15,
                "act_input_p50": p50,
                "act_input_p85": p85,
                "act_mean": y.mean().item(),
                "act_std": _std(y),
                "mean_derivative": slope.mean().item(),
                "saturation": (slope < activation.saturation_cutoff).double().mean().item(),
                # dead: no gradient passes for the whole batch, whichever the cause
                "dead_fraction": ((slope == 0).all(0) | (y == 0).all(0)).double().mean().item(),
                "norm_gamma_mean": norms[i].weight.mean().item() if norms else math.nan,
                "norm_beta_mean": norms[i].bias.mean().item() if norms else math.nan,
            }
        rows.append(row)
    return pd.DataFrame(rows, columns=list(LAYER_COLUMNS)).astype({"step": "int64", "layer": "int64"})


def unit_rows(model: Network, recorded: Pass, step: int = 0) -> pd.DataFrame:
    """The UNIT_COLUMNS rows of one recorded pass: every Linear layer's units, from
    the input side; the output layer's saturation and dead are NaN."""
    activation = ACTIVATION_TABLE[model.config.activation]
    frames = []
    for i, delta in enumerate(recorded.deltas):
        rows = {"step": step, "layer": i + 1, "unit": range(delta.shape[1])}
        rows["delta_rms"] = delta.double().pow(2).mean(0).sqrt().numpy()  # over the batch, per unit
        if i < len(recorded.act_inputs):
            x, y = recorded.act_inputs[i], recorded.act_outputs[i]
            slope = activation.derivative(x)
            rows["saturation"] = (slope < activation.saturation_cutoff).double().mean(0).numpy()
            rows["dead"] = ((slope == 0).all(0) | (y == 0).all(0)).double().numpy()
        frames.append(pd.DataFrame(rows, columns=list(UNIT_COLUMNS)))
    kinds = {"step": "int64", "layer": "int64", "unit": "int64", "saturation": "float64", "dead": "float64"}
    return pd.concat(frames, ignore_index=True).astype(kinds)


def layer_stats(model: Network, x: torch.Tensor, y: torch.Tensor) -> pd.DataFrame:
    """Per-layer statistics of one forward and backward pass of the mean
    cross-entropy on (x, y), in training mode (batch norm uses the batch's
    statistics). Changes no weight, gradient or running statistic of `model` (it
    measures a copy); `update_ratio` is NaN (there is no update) and
    `distance_from_init` is 0 (the weights are measured against themselves)."""
    return _measured(copy.deepcopy(model), x, y)  # the copy's batch norms' running statistics move


def at_initialization(config: ExperimentConfig, n_examples: int = 512) -> pd.DataFrame:
    """`layer_stats` of the config's untrained network on its first `n_examples`
    training examples. The network is built to be measured, so it is not copied (at
    depth 100 the copy took a quarter of the time)."""
    data = make_dataset(config)
    return _measured(build_model(config), data.x_train[:n_examples], data.y_train[:n_examples])


def _measured(model: Network, x: torch.Tensor, y: torch.Tensor) -> pd.DataFrame:
    model.train()
    with torch.enable_grad():
        return layer_rows(model, record_pass(model, x, y))
