"""The per-layer reductions behind the trainer's statistics, one pass over their data
each, compiled by Numba.

Measuring a training step means reading every activation, dL/dz and weight once
more. With tensor ops each statistic is its own pass over memory (a sum, a norm, a
derivative, a comparison, a maximum, ...), and those passes, not the arithmetic,
cost the time. Here one loop reads each number once and updates every statistic
(sums in float64).

The boundary is checked: the signatures take only C-contiguous float32 arrays (a
half- or double-precision or strided array raises TypeError before any code runs),
and each kernel checks its arrays' shapes against each other (ValueError). A broken
invariant is a Python exception, never a read out of bounds.
"""

from __future__ import annotations

import math

import numba
import numpy as np

# What `activation_sums` writes for each layer, in this order (`out[layer, X_SUM]`, ...).
ACTIVATION_SUMS = ("x_sum", "x_norm", "y_sum", "y_norm", "delta_norm", "slope_sum", "saturated", "dead")
X_SUM, X_NORM, Y_SUM, Y_NORM, DELTA_NORM, SLOPE_SUM, SATURATED, DEAD = range(len(ACTIVATION_SUMS))
# What `activation_sums` writes for each unit of each layer (`units_out[layer, UNIT_DELTA_RMS, unit]`, ...):
# the RMS of its dL/dz over the batch, the share of its inputs saturated, 1 if it is dead.
UNIT_SUMS = ("delta_rms", "saturation", "dead")
UNIT_DELTA_RMS, UNIT_SATURATION, UNIT_DEAD = range(len(UNIT_SUMS))
# What `weight_sums` writes for each packed row, in this order (`out[W_SUM, row]`, ...).
WEIGHT_SUMS = ("w_sum", "grad_sum", "w_norm", "grad_norm", "distance")
W_SUM, GRAD_SUM, W_NORM, GRAD_NORM, DISTANCE = range(len(WEIGHT_SUMS))

# Reassociation lets LLVM vectorize the sums; the other fast-math flags would let it
# assume there is no NaN or Inf, and a diverging run has them.
_FAST = {"reassoc", "contract"}


@numba.njit(inline="always")
def _slope(x: np.float32, y: np.float32, coefficients: np.ndarray) -> np.float32:
    """An activation's derivative from its output y (activations.Activation.slope_in_y),
    in float32 like the network's own arithmetic: where the derivative underflows to
    exactly 0 (a unit stuck on a flat tail), it is 0 here too. Both sides computed,
    one kept: a select, not a branch, so that the loop vectorizes."""
    above = coefficients[0] + y * (coefficients[1] + coefficients[2] * y)
    below = coefficients[3] + y * (coefficients[4] + coefficients[5] * y)
    return above if x > 0 else below


# Signatures given, so the kernels compile on import (or load from Numba's cache),
# not on the first training step a student starts.
@numba.njit(
    "void(float32[:, :, ::1], float32[:, :, ::1], float32[:, :, ::1], float32[:, :, ::1], float32[::1], float32,"
    " float32[:, ::1], float32[:, ::1], float32[:, :, ::1], float32[:, ::1])",
    cache=True,
    nogil=True,
    fastmath=_FAST,
)
def activation_sums(
    x: np.ndarray,
    y: np.ndarray,
    delta: np.ndarray,
    slope: np.ndarray,
    slope_in_y: np.ndarray,
    cutoff: float,
    out: np.ndarray,
    sample: np.ndarray,
    units_out: np.ndarray,
    histogram: np.ndarray,
) -> None:
    """Hidden layers' passes, stacked: x the nonlinearities' inputs, y their outputs,
    delta dL/dz, each (layers, batch, units); `slope` the derivatives at x, or an
    empty array to compute them here from y with `slope_in_y`. Writes, per layer,
    ACTIVATION_SUMS into `out` (layers, len(ACTIVATION_SUMS)): sums and norms of x, y
    and delta, the derivative's sum, the fraction of inputs whose derivative is below
    `cutoff` (saturated), and the fraction of units dead for the whole batch:
    derivative 0 for every example, or output 0 for every example. Writes the same
    per unit, UNIT_SUMS into `units_out` (layers, len(UNIT_SUMS), units): the RMS of
    its dL/dz over the batch, the share of its inputs saturated, 1.0 if it is dead
    (else 0.0). Copies each layer's first inputs into `sample` (layers, m), for
    percentiles, and into `histogram` (layers, n), for the histograms a view draws."""
    layers, batch, units = x.shape
    given = slope.size > 0
    if y.shape != x.shape or delta.shape != x.shape or (given and slope.shape != x.shape):
        raise ValueError("activation_sums: x, y, delta (and a given slope) must have the same shape")
    if out.shape[0] != layers or out.shape[1] != len(ACTIVATION_SUMS) or slope_in_y.size != 6:
        raise ValueError("activation_sums: out or slope_in_y has the wrong size")
    for kept in (sample, histogram):
        if kept.shape[0] != layers or kept.shape[1] > batch * units:
            raise ValueError("activation_sums: sample and histogram must be (layers, at most batch x units)")
    if units_out.shape[0] != layers or units_out.shape[1] != len(UNIT_SUMS) or units_out.shape[2] != units:
        raise ValueError("activation_sums: units_out must be (layers, len(UNIT_SUMS), units)")
    passes_slope = np.empty(units, np.bool_)  # some example has a non-zero derivative
    passes_output = np.empty(units, np.bool_)  # some example has a non-zero output
    row_slopes = np.empty(units, np.float32)  # a row's derivatives, when computed here
    unit_squares = np.empty(units, np.float64)  # of dL/dz, per unit: float64, as a tiny gradient's square underflows
    unit_below = np.empty(units, np.float32)  # saturated inputs, per unit
    for layer in range(layers):
        passes_slope[:] = False
        passes_output[:] = False
        unit_squares[:] = 0.0
        unit_below[:] = 0.0
        x_sum = x_squares = y_sum = y_squares = delta_squares = slope_sum = below = 0.0
        for example in range(batch):  # one example's units at a time: plain loops LLVM vectorizes
            xs, ys, ds = x[layer, example], y[layer, example], delta[layer, example]
            # The given row read where it lies, or the row computed first (outside the loop
            # below: a branch inside one keeps it from vectorizing). With the given row
            # copied into `row_slopes` instead, this kernel took a fifth longer, whichever
            # way its derivatives came (docs/performance.md).
            if given:
                slopes = slope[layer, example]
            else:
                slopes = row_slopes
                for unit in range(units):
                    row_slopes[unit] = _slope(xs[unit], ys[unit], slope_in_y)
            row_x = row_xx = row_y = row_yy = row_dd = 0.0
            row_slope = row_below = np.float32(0)  # float32 within a row: twice as many a vector
            for unit in range(units):
                xi, yi, di, si = xs[unit], ys[unit], ds[unit], slopes[unit]
                row_x += np.float64(xi)
                row_xx += np.float64(xi) * xi
                row_y += np.float64(yi)
                row_yy += np.float64(yi) * yi
                squared = np.float64(di) * di
                row_dd += squared
                unit_squares[unit] += squared
                saturated = np.float32(1) if si < cutoff else np.float32(0)
                row_slope += si
                row_below += saturated
                unit_below[unit] += saturated
                passes_slope[unit] |= si != 0
                passes_output[unit] |= yi != 0
            x_sum += row_x
            x_squares += row_xx
            y_sum += row_y
            y_squares += row_yy
            delta_squares += row_dd
            slope_sum += row_slope
            below += row_below
        alive = 0
        for unit in range(units):
            passes = passes_slope[unit] and passes_output[unit]
            alive += passes
            units_out[layer, UNIT_DELTA_RMS, unit] = math.sqrt(unit_squares[unit] / batch)
            units_out[layer, UNIT_SATURATION, unit] = unit_below[unit] / batch
            units_out[layer, UNIT_DEAD, unit] = 0.0 if passes else 1.0
        out[layer, X_SUM] = x_sum
        out[layer, X_NORM] = math.sqrt(x_squares)
        out[layer, Y_SUM] = y_sum
        out[layer, Y_NORM] = math.sqrt(y_squares)
        out[layer, DELTA_NORM] = math.sqrt(delta_squares)
        out[layer, SLOPE_SUM] = slope_sum
        out[layer, SATURATED] = below / (batch * units)
        out[layer, DEAD] = 1.0 - alive / units
        sample[layer, :] = x[layer].reshape(batch * units)[: sample.shape[1]]
        histogram[layer, :] = x[layer].reshape(batch * units)[: histogram.shape[1]]


@numba.njit(
    "boolean(float32[:, ::1], float32[:, ::1], float32[:, ::1], int64[::1], float32[:, ::1], float32[:, ::1])",
    cache=True,
    nogil=True,
    fastmath=_FAST,
)
def weight_sums(
    values: np.ndarray, grads: np.ndarray, initial: np.ndarray, counts: np.ndarray, out: np.ndarray, before: np.ndarray
) -> bool:
    """Per row of the packed (layers, P) weights, their gradients and the initial
    weights, over the row's first counts[row] numbers: WEIGHT_SUMS into out[:, row]
    (the weights' sum, the gradients' sum, the weights' norm, the gradients' norm,
    the distance of the weights from the initial ones). Copies the weights into
    `before`, for `update_sums` after the step. Returns whether every norm written is
    finite (no weight or gradient is Inf or NaN, and no norm overflows float32)."""
    rows, width = values.shape
    shapes_agree = grads.shape == values.shape and initial.shape == values.shape and before.shape == values.shape
    if not shapes_agree or counts.size != rows:
        raise ValueError("weight_sums: values, grads, initial, before and counts must agree in shape")
    if out.shape[0] != len(WEIGHT_SUMS) or out.shape[1] != rows:
        raise ValueError("weight_sums: out must be (len(WEIGHT_SUMS), rows)")
    finite = True
    for row in range(rows):
        if not 0 <= counts[row] <= width:
            raise ValueError("weight_sums: a count is larger than the row")
        w, g, w0, w_before = values[row], grads[row], initial[row], before[row]
        w_sum = g_sum = w_squares = g_squares = distance_squares = 0.0
        for i in range(counts[row]):
            w_before[i] = w[i]
            wi, gi = np.float64(w[i]), np.float64(g[i])
            moved = wi - np.float64(w0[i])
            w_sum += wi
            g_sum += gi
            w_squares += wi * wi
            g_squares += gi * gi
            distance_squares += moved * moved
        out[W_SUM, row] = w_sum
        out[GRAD_SUM, row] = g_sum
        out[W_NORM, row] = math.sqrt(w_squares)
        out[GRAD_NORM, row] = math.sqrt(g_squares)
        out[DISTANCE, row] = math.sqrt(distance_squares)
        finite = finite and math.isfinite(out[W_NORM, row]) and math.isfinite(out[GRAD_NORM, row])
    return finite


@numba.njit(
    "void(float32[:, ::1], float32[:, ::1], int64[::1], float32[::1], float32[::1])",
    cache=True,
    nogil=True,
    fastmath=_FAST,
)
def update_sums(
    values: np.ndarray, before: np.ndarray, counts: np.ndarray, sums: np.ndarray, norms: np.ndarray
) -> None:
    """Per row of the packed (layers, P) weights, the change a step made to them (the
    weights now minus `before`, a copy taken before the step), over the row's first
    counts[row] numbers: its sum into sums[row], its norm into norms[row]."""
    rows, width = values.shape
    if before.shape != values.shape or counts.size != rows or sums.size != rows or norms.size != rows:
        raise ValueError("update_sums: values, before, counts, sums and norms must agree in shape")
    for row in range(rows):
        if not 0 <= counts[row] <= width:
            raise ValueError("update_sums: a count is larger than the row")
        w, w_before = values[row], before[row]
        total = squares = 0.0
        for i in range(counts[row]):
            change = np.float64(w[i]) - np.float64(w_before[i])
            total += change
            squares += change * change
        sums[row] = total
        norms[row] = math.sqrt(squares)


@numba.njit("float64(float32[:, ::1], float32[:, ::1])", cache=True, nogil=True, fastmath=_FAST)
def output_norm(delta: np.ndarray, copy: np.ndarray) -> float:
    """The output layer's dL/dz (batch, classes): copied into `copy`; returns its norm."""
    if copy.shape != delta.shape:
        raise ValueError("output_norm: delta and copy must have the same shape")
    squares = 0.0
    for example in range(delta.shape[0]):
        for unit in range(delta.shape[1]):
            value = delta[example, unit]
            copy[example, unit] = value
            squares += np.float64(value) * value
    return math.sqrt(squares)
