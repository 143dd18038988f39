"""The per-layer reductions behind the statistics, one pass over their data each,
compiled by Numba.

Measuring a training step means reading every activation, dL/dz and weight once
more. With tensor ops each statistic is its own pass over memory (a sum, a norm, a
comparison, a maximum, ...), and those passes, not the arithmetic, cost the time:
~20 of them over the activations took more than half as long as the training step
itself. Here one loop reads each number once and updates every statistic (sums in
float64).
"""

from __future__ import annotations

import math

import numba
import numpy as np

# Reassociation lets LLVM vectorize the sums; the other fast-math flags would let it
# assume there is no NaN or Inf, and a diverging run has them.
_FAST = {"reassoc", "contract"}


# Signatures given, so the kernels compile on import (or load from Numba's cache),
# not on the first training step a student starts.
@numba.njit("void(float32[:, ::1], int64, float64, boolean, float32[:, ::1])", cache=True, nogil=True, fastmath=_FAST)
def activation_sums(stacked: np.ndarray, width: int, cutoff: float, zero_output_is_dead: bool, out: np.ndarray) -> None:
    """Per hidden layer, from `stacked` (4 x layers, batch x width): each layer's
    activation inputs, then outputs, then dL/dz, then the activation's derivative,
    one row per layer (its (batch, width) values, flattened).

    Writes into `out` (8, layers), per layer: the inputs' sum and norm, the outputs'
    sum and norm, the norm of dL/dz, the derivative's sum, the fraction of
    derivatives below `cutoff` (saturated), and the fraction of units dead for the
    whole batch: derivative 0 for every example (or, with `zero_output_is_dead`,
    output 0 for every example)."""
    depth, n = stacked.shape[0] // 4, stacked.shape[1]
    alive = np.empty(width, np.bool_)
    for layer in range(depth):
        x, y = stacked[layer], stacked[depth + layer]
        delta, slope = stacked[2 * depth + layer], stacked[3 * depth + layer]
        x_sum = x_squares = y_sum = y_squares = delta_squares = slope_sum = below = 0.0
        for i in range(n):  # a plain loop over everything: LLVM vectorizes it
            xi, yi, di, si = np.float64(x[i]), np.float64(y[i]), np.float64(delta[i]), np.float64(slope[i])
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
                if slope[start + unit] != 0 or (zero_output_is_dead and y[start + unit] != 0):
                    alive[unit] = True
        out[0, layer] = x_sum
        out[1, layer] = math.sqrt(x_squares)
        out[2, layer] = y_sum
        out[3, layer] = math.sqrt(y_squares)
        out[4, layer] = math.sqrt(delta_squares)
        out[5, layer] = slope_sum
        out[6, layer] = below / n
        out[7, layer] = 1.0 - alive.sum() / width


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
