"""Packing a model's parameters into a few zero-padded matrices: a step the trainer
opts into, for speed.

`pack_parameters(model)` makes each Linear weight a view into one row of a matrix
(and likewise the biases, and the norms' gammas and betas), with each .grad a view
into the same row of a second matrix. The model computes exactly as before. What it
buys, measured by `bench/engine.py`: one compiled pass measures every layer's weights
and gradients at once (`kernels.weight_sums`), and an optimizer over the 2-3 packed
matrices updates every layer in one op, where one over the layers' own tensors pays
Python and dispatch per tensor. The optimizers are elementwise and the padding's
gradient is always 0, so the arithmetic is the same (a test checks the trainer
against a plain `torch.optim` loop on the unpacked model).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch import nn

from .model import Network


@dataclasses.dataclass(frozen=True)
class PackedRows:
    """Parameters as the rows of `values` (their .grad the rows of `grads`): row l
    holds parameter l flattened, then zeros; `counts[l]` is its size."""

    values: torch.Tensor
    grads: torch.Tensor
    counts: np.ndarray
    parameter: nn.Parameter  # the whole matrix as one Parameter (with its gradient), for an optimizer


def pack_rows(slots: list[tuple[nn.Module, str]]) -> PackedRows:
    """Make each (module, parameter name)'s parameter a view into a row of one
    zero-padded matrix, and its .grad a view into the same row of a second one.

    Optimizers update the views in place, so `values` is always current. The
    trainer's backward pass (`backprop.py`) writes each gradient into its .grad in
    place: never set them to None. The padding's gradient is 0 and stays 0 (nothing
    writes it: a backward pass fills each row's first counts[l] numbers), so the
    optimizers leave the padding at 0. (Two matrices, not one: an in-place change to
    any view bumps the version of the whole matrix, and an autograd pass over a packed
    model, as a test's reference takes, would take the accumulated gradients for
    changed weights.)"""
    params = [getattr(module, name) for module, name in slots]
    counts = np.array([p.numel() for p in params], dtype=np.int64)
    values = torch.zeros(len(params), int(counts.max()))
    grads = torch.zeros_like(values)
    for row, ((module, name), param) in enumerate(zip(slots, params, strict=True)):
        view = values[row, : param.numel()].view(param.shape)
        view.copy_(param.detach())
        view = nn.Parameter(view)
        view.grad = grads[row, : param.numel()].view(param.shape)
        setattr(module, name, view)
    parameter = nn.Parameter(values)
    parameter.grad = grads
    return PackedRows(values, grads, counts, parameter)


@dataclasses.dataclass(frozen=True)
class PackedParameters:
    """Every parameter of a network, packed: Linear weights, Linear biases, and (with
    normalization) the norms' gammas then betas."""

    weights: PackedRows
    biases: PackedRows
    norm_rows: PackedRows | None

    @property
    def _rows(self) -> list[PackedRows]:
        return [rows for rows in (self.weights, self.biases, self.norm_rows) if rows is not None]

    @property
    def matrices(self) -> list[nn.Parameter]:
        """The packed matrices as Parameters, for the optimizer and gradient clipping."""
        return [rows.parameter for rows in self._rows]


def pack_parameters(model: Network) -> PackedParameters:
    """Pack every parameter of `model` (see the module's docstring); build the
    optimizer after this, over `.matrices`."""
    norms = model.norms
    return PackedParameters(
        weights=pack_rows([(linear, "weight") for linear in model.linears]),
        biases=pack_rows([(linear, "bias") for linear in model.linears]),
        norm_rows=pack_rows([(n, "weight") for n in norms] + [(n, "bias") for n in norms]) if norms else None,
    )
