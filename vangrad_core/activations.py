"""The activation functions, their derivatives, and the words the app uses for them.

Each `Activation` knows its function, its derivative (as autograd takes it: ReLU's
is 0 at 0), the derivative's largest value, and what to call an input where the
derivative is near 0: "saturated" where the function flattens out (sigmoid, tanh,
the negative tails of ELU, SELU and GELU), "inactive" where it is cut off (ReLU's
x < 0, Leaky ReLU's leaky side). `curves` gives an activation and its slope as a
DataFrame, for charts.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from .config import ACTIVATION_LABELS

LEAKY_SLOPE = 0.01
SELU_SCALE = 1.0507009873554805
SELU_ALPHA = 1.6732632423543772
SATURATION_THRESHOLD = 0.1  # a derivative below 10% of its maximum counts as near 0
_aten = torch.ops.aten


@dataclasses.dataclass(frozen=True)
class Activation:
    """An activation function, its derivative and the derivative's maximum.

    `slope_in_y`: the derivative as a function of the output y, one quadratic for
    x > 0 and one for x <= 0, (c, b, a) each: f'(x) = c + b y + a y². Every
    activation here has one but GELU, whose derivative needs erf of x
    (`exact_derivative`). The compiled statistics compute the derivative this way,
    from the output they read anyway.

    `backward(grad, x, y)`: dL/dx from dL/dy, the input x and the output y, by the
    op autograd's own backward of `function` calls, so the same numbers bit for bit
    (`backprop.py`, the trainer's backward pass written out)."""

    name: str
    function: Callable[[torch.Tensor], torch.Tensor]
    max_derivative: float
    slope_in_y: tuple[float, float, float, float, float, float] | None
    backward: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
    exact_derivative: Callable[[torch.Tensor], torch.Tensor] | None = None
    flat_word: str = "saturated"  # an input where the slope is near 0 is ... ("" if none is)
    flat_where: str = ""  # where that happens, in words
    # why a unit of this activation can pass no gradient for a whole batch ("dead")
    dead_cause: str = "stuck on a flat tail, where the slope is 0 in float32"

    @property
    def label(self) -> str:
        """Its name as the pages write it: "ReLU", "Leaky ReLU", "sigmoid"."""
        return ACTIVATION_LABELS.get(self.name, self.name)

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        """The derivative at x (as autograd takes it: ReLU's is 0 at 0)."""
        if self.slope_in_y is None:
            return self.exact_derivative(x)
        y = self.function(x)
        c1, b1, a1, c0, b0, a0 = self.slope_in_y
        return torch.where(x > 0, c1 + y * (b1 + a1 * y), c0 + y * (b0 + a0 * y))

    @property
    def saturation_cutoff(self) -> float:
        """The derivative below which an input counts as saturated (or inactive)."""
        return SATURATION_THRESHOLD * self.max_derivative


def _gelu_derivative(x: torch.Tensor) -> torch.Tensor:
    normal_cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    normal_pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return normal_cdf + x * normal_pdf


ACTIVATION_TABLE: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "sigmoid",
            torch.sigmoid,
            0.25,
            (0, 1, -1, 0, 1, -1),  # y - y²
            lambda grad, x, y: _aten.sigmoid_backward(grad, y),
            flat_where="both tails (|x| > 3.6): the output is stuck near 0 or 1",
            dead_cause="stuck at 0 or 1, where the slope is 0 in float32",
        ),
        Activation(
            "tanh",
            torch.tanh,
            1.0,
            (1, 0, -1, 1, 0, -1),  # 1 - y²
            lambda grad, x, y: _aten.tanh_backward(grad, y),
            flat_where="both tails (|x| > 1.8): the output is stuck near −1 or 1",
            dead_cause="stuck at −1 or 1, where the slope is 0 in float32",
        ),
        Activation(
            "relu",
            torch.relu,
            1.0,
            (1, 0, 0, 0, 0, 0),
            lambda grad, x, y: _aten.threshold_backward(grad, y, 0),
            flat_word="inactive",
            flat_where="x < 0: output 0",
            dead_cause="off (output 0) for every input",
        ),
        Activation(
            "leaky_relu",
            lambda x: nn.functional.leaky_relu(x, LEAKY_SLOPE),
            1.0,
            (1, 0, 0, LEAKY_SLOPE, 0, 0),
            lambda grad, x, y: _aten.leaky_relu_backward(grad, x, LEAKY_SLOPE, False),
            flat_word="inactive",
            flat_where=f"x < 0, where the slope is {LEAKY_SLOPE} (never 0)",
            dead_cause="the slope is never 0, so none can be",
        ),
        Activation(
            "elu",
            nn.functional.elu,
            1.0,
            (1, 0, 0, 1, 1, 0),  # below 0: y = exp(x) - 1
            lambda grad, x, y: _aten.elu_backward(grad, 1.0, 1, 1, False, x),
            flat_where="the negative tail (x < -2.3): the output is stuck near -1",
        ),
        # The exact (erf) GELU's derivative peaks at 1.1289 near x = 1.4142.
        Activation(
            "gelu",
            nn.functional.gelu,
            1.1289,
            None,
            lambda grad, x, y: _aten.gelu_backward(grad, x),
            _gelu_derivative,
            flat_where="x < -0.53: the output is stuck near its floor, between -0.17 and 0",
        ),
        Activation(  # below 0: y = scale alpha (exp(x) - 1)
            "selu",
            nn.functional.selu,
            SELU_SCALE * SELU_ALPHA,
            (SELU_SCALE, 0, 0, SELU_SCALE * SELU_ALPHA, 1, 0),
            lambda grad, x, y: _aten.elu_backward(grad, SELU_ALPHA, SELU_SCALE, 1, False, x),
            flat_where="the negative tail (x < -2.3): the output is stuck near -1.76",
        ),
        Activation(
            "linear",
            lambda x: x,
            1.0,
            (1, 0, 0, 1, 0, 0),
            lambda grad, x, y: grad,
            flat_word="",
            flat_where="nowhere",
            dead_cause="output 0 for every input, so its weights get no gradient",
        ),
    )
}


def curves(activation: str, reach: float = 8.0, points: int = 801) -> pd.DataFrame:
    """The activation over [-reach, reach]: columns x, y (its value), slope (its
    derivative); `attrs` carry the derivative's maximum and the saturation cutoff."""
    act = ACTIVATION_TABLE[activation]
    x = torch.linspace(-reach, reach, points, dtype=torch.float64)
    frame = pd.DataFrame({"x": x.numpy(), "y": act.function(x).numpy(), "slope": act.derivative(x).numpy()})
    frame.attrs.update(max_derivative=act.max_derivative, cutoff=act.saturation_cutoff, flat_word=act.flat_word)
    return frame


def curves_covering(activation: str, values: np.ndarray, least: float = 6.0) -> pd.DataFrame:
    """`curves` over a range that covers 99.5% of `values` (the inputs a layer
    received), and at least [-least, least]."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    reach = max(least, float(np.quantile(np.abs(values), 0.995)) * 1.1) if len(values) else least
    return curves(activation, reach, points=601)


def at(activation: str, x: list[float]) -> list[float]:
    """The activation's values at a few points."""
    return ACTIVATION_TABLE[activation].function(torch.tensor(x, dtype=torch.float64)).tolist()


def outputs_of(activation: str, inputs: pd.DataFrame) -> pd.DataFrame:
    """What the nonlinearity gives out for a sample of its inputs (columns `layer`,
    `value`, as `Trainer.activation_inputs`): columns `layer`, `value` (its output,
    computed in float32 as the network does) and `flat` (the slope there is under
    the saturation cutoff: the input is saturated, or inactive; the same test as the
    `saturation` column)."""
    act = ACTIVATION_TABLE[activation]
    x = torch.as_tensor(inputs["value"].to_numpy(np.float32))
    return pd.DataFrame(
        {
            "layer": inputs["layer"].to_numpy(),
            "value": act.function(x).double().numpy(),
            "flat": (act.derivative(x) < act.saturation_cutoff).numpy(),
        }
    )


@functools.lru_cache(maxsize=16)
def flat_outputs(activation: str) -> tuple[tuple[float, float], ...]:
    """Where the activation's output lies when its slope is under the saturation
    cutoff, as (low, high) intervals of output values (±inf for a tail that has no
    bound; low == high for a single value, as ReLU's 0). Empty for an activation
    without a flat part, or whose output is not monotone (GELU: a flat input and a
    steep one can give the same output)."""
    act = ACTIVATION_TABLE[activation]
    x = torch.linspace(-60, 60, 24001, dtype=torch.float64)
    y, flat = act.function(x).numpy(), (act.derivative(x) < act.saturation_cutoff).numpy()
    if not flat.any() or (np.diff(y) < 0).any():
        return ()
    far = act.function(torch.tensor([-1e4, 1e4], dtype=torch.float64)).numpy()  # the tails' limits, if any
    # a tail that no longer moves has a bound (sigmoid's 0 and 1); one that still moves has none
    bound = (
        float(far[0]) if abs(far[0] - y[0]) < 1e-9 else -math.inf,
        float(far[1]) if abs(far[1] - y[-1]) < 1e-9 else math.inf,
    )
    edges = np.flatnonzero(np.diff(flat.astype(np.int8)))  # the last index of each run of equal flags
    starts, ends = np.r_[0, edges + 1], np.r_[edges, len(x) - 1]
    intervals = []
    for start, end in zip(starts, ends, strict=True):
        if flat[start]:
            low = bound[0] if start == 0 else float(y[start])
            high = bound[1] if end == len(x) - 1 else float(y[end])
            intervals.append((low, high))
    return tuple(intervals)
