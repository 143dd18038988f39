"""The per-layer reductions behind the statistics, one pass over their data each,
compiled by Numba.

Measuring a training step means reading every activation, dL/dz and weight once
more. With tensor ops each statistic is its own pass over memory (a copy into one
stack, a sum, a norm, a derivative, a comparison, a maximum, ...), and those passes,
not the arithmetic, cost the time: ~20 of them over the activations took more than
half as long as the training step itself. Here one loop reads each number once, where
it lies, and updates every statistic (sums in float64).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

# Reassociation lets LLVM vectorize the sums; the other fast-math flags would let it
# assume there is no NaN or Inf, and a diverging run has them.
_FAST = {"reassoc", "contract"}


@intrinsic
def _float32_pointer(typingctx, address):
    """The int64 `address` as a pointer to float32 numbers."""

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(types.CPointer(types.float32)))

    return types.CPointer(types.float32)(types.int64), codegen


@numba.njit(inline="always")
def _slope(x: float, y: float, c1: float, b1: float, a1: float, c0: float, b0: float, a0: float) -> float:
    """An activation's derivative from its output y (model.Activation.slope_in_y)."""
    above = c1 + y * (b1 + a1 * y)
    below = c0 + y * (b0 + a0 * y)
    return above if x > 0 else below


# Signatures given, so the kernels compile on import (or load from Numba's cache),
# not on the first training step a student starts.
@numba.njit(
    "void(int64[:, ::1], int64, int64, float64[::1], float64, boolean, float32[:, ::1], float32[:, ::1])",
    cache=True,
    nogil=True,
    fastmath=_FAST,
)
def activation_sums(
    addresses: np.ndarray,
    n: int,
    width: int,
    slope_in_y: np.ndarray,
    cutoff: float,
    zero_output_is_dead: bool,
    out: np.ndarray,
    sample: np.ndarray,
) -> None:
    """Per hidden layer, read where `addresses` (4, layers) say: the layer's
    activation inputs x, outputs y, dL/dz and derivatives, each n contiguous float32
    numbers (a (batch, width) tensor; address 0 for the derivatives: computed here
    from y with `slope_in_y`). Reading the tensors where they are spares a copy of
    them all. The caller keeps them alive and checks that they are contiguous.

    Writes into `out` (8, layers), per layer: the inputs' sum and norm, the outputs'
    sum and norm, the norm of dL/dz, the derivative's sum, the fraction of
    derivatives below `cutoff` (saturated), and the fraction of units dead for the
    whole batch: derivative 0 for every example (or, with `zero_output_is_dead`,
    output 0 for every example). Copies each layer's first inputs into `sample`
    (layers, m), for percentiles."""
    c1, b1, a1, c0, b0, a0 = slope_in_y[0], slope_in_y[1], slope_in_y[2], slope_in_y[3], slope_in_y[4], slope_in_y[5]
    alive = np.empty(width, np.bool_)
    for layer in range(addresses.shape[1]):
        x = numba.carray(_float32_pointer(addresses[0, layer]), n)
        y = numba.carray(_float32_pointer(addresses[1, layer]), n)
        delta = numba.carray(_float32_pointer(addresses[2, layer]), n)
        given = addresses[3, layer] != 0
        slope = numba.carray(_float32_pointer(addresses[3, layer] if given else addresses[0, layer]), n)
        x_sum = x_squares = y_sum = y_squares = delta_squares = slope_sum = below = 0.0
        for i in range(n):  # a plain loop over everything: LLVM vectorizes it
            xi, yi, di = np.float64(x[i]), np.float64(y[i]), np.float64(delta[i])
            si = np.float64(slope[i]) if given else _slope(xi, yi, c1, b1, a1, c0, b0, a0)
            x_sum += xi
            x_squares += xi * xi
            y_sum += yi
            y_squares += yi * yi
            delta_squares += di * di
            slope_sum += si
            below += 1.0 if si < cutoff else 0.0
        alive[:] = False
        for example in range(n // width):
            start = example * width
            for unit in range(width):
                i = start + unit
                si = slope[i] if given else _slope(np.float64(x[i]), np.float64(y[i]), c1, b1, a1, c0, b0, a0)
                if si != 0 or (zero_output_is_dead and y[i] != 0):
                    alive[unit] = True
        out[0, layer] = x_sum
        out[1, layer] = math.sqrt(x_squares)
        out[2, layer] = y_sum
        out[3, layer] = math.sqrt(y_squares)
        out[4, layer] = math.sqrt(delta_squares)
        out[5, layer] = slope_sum
        out[6, layer] = below / n
        out[7, layer] = 1.0 - alive.sum() / width
        sample[layer, :] = x[: sample.shape[1]]


@numba.njit(
    "void(float32[:, ::1], float32[:, ::1], float32[:, ::1], int64[::1], float32[:, ::1])",
    cache=True,
    nogil=True,
    fastmath=_FAST,
)
def weight_sums(
    values: np.ndarray, grads: np.ndarray, initial: np.ndarray, counts: np.ndarray, out: np.ndarray
) -> None:
    """Per row of the packed (layers, P) weights, their gradients and the initial
    weights, over the row's first counts[row] numbers: into `out` (5, layers) the
    weights' sum, the gradients' sum, the weights' norm, the gradients' norm and the
    distance of the weights from the initial ones."""
    for row in range(values.shape[0]):
        w, g, w0 = values[row], grads[row], initial[row]
        w_sum = g_sum = w_squares = g_squares = distance_squares = 0.0
        for i in range(counts[row]):
            wi, gi = np.float64(w[i]), np.float64(g[i])
            moved = wi - np.float64(w0[i])
            w_sum += wi
            g_sum += gi
            w_squares += wi * wi
            g_squares += gi * gi
            distance_squares += moved * moved
        out[0, row] = w_sum
        out[1, row] = g_sum
        out[2, row] = math.sqrt(w_squares)
        out[3, row] = math.sqrt(g_squares)
        out[4, row] = math.sqrt(distance_squares)
