"""Headline numbers of a run, shared by the command line and the pages."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd


@dataclasses.dataclass(frozen=True)
class Headline:
    step: int  # optimizer steps taken
    loss: float  # the last batch's loss
    test_accuracy: float  # the last measured test accuracy (NaN before any)
    gradient_ratio: float  # first / last hidden layer's weight-gradient norm, last recorded step
    most_saturated_layer: int | None
    most_saturated_fraction: float
    most_dead_layer: int | None
    most_dead_fraction: float


def headline(metrics: pd.DataFrame, layers: pd.DataFrame) -> Headline:
    """The numbers a lecturer reads out: what the latest step looks like."""
    nan = math.nan
    if metrics.empty or layers.empty:
        return Headline(0, nan, nan, nan, None, nan, None, nan)
    tested = metrics["test_accuracy"].dropna()
    latest = layers[layers["step"] == layers["step"].iloc[-1]]
    hidden = latest[latest["saturation"].notna()]
    grads = hidden.set_index("layer")["weight_grad_norm"]
    ratio = grads.iloc[0] / grads.iloc[-1] if grads.iloc[-1] > 0 else nan
    saturated = hidden.set_index("layer")["saturation"]
    dead = hidden.set_index("layer")["dead_fraction"]
    return Headline(
        step=int(metrics["step"].iloc[-1]) + 1,
        loss=float(metrics["loss"].iloc[-1]),
        test_accuracy=float(tested.iloc[-1]) if len(tested) else nan,
        gradient_ratio=float(ratio),
        most_saturated_layer=int(saturated.idxmax()),
        most_saturated_fraction=float(saturated.max()),
        most_dead_layer=int(dead.idxmax()),
        most_dead_fraction=float(dead.max()),
    )


def summarize(result, seconds: float | None = None) -> str:
    """A few lines of plain text about a finished run (for the command line)."""
    config, layers = result.config, result.layers
    head = headline(result.metrics, layers)
    lines = [
        f"{config.depth} hidden layers x {config.width} units, {config.activation}, "
        f"init {config.init}, norm {config.norm}, {config.optimizer} lr {config.learning_rate:g}, "
        f"{config.dataset}",
    ]
    if result.diverged_at is not None:
        lines.append(f"DIVERGED: {result.divergence_reason}")
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    lines.append(f"{head.step} steps{took}: final loss {head.loss:.4f}, test accuracy {head.test_accuracy:.1%}")
    lines.append(
        f"first/last hidden layer gradient ratio: {head.gradient_ratio:.3g} "
        f"(1 = gradients keep their size; 1e-6 = the first layer gets a millionth)"
    )
    if not layers.empty:
        first = layers[layers["step"] == layers["step"].iloc[0]].set_index("layer")
        last = layers[layers["step"] == layers["step"].iloc[-1]].set_index("layer")
        table = pd.DataFrame(
            {
                "grad norm (start)": first["weight_grad_norm"],
                "grad norm (end)": last["weight_grad_norm"],
                "saturation": last["saturation"],
                "dead units": last["dead_fraction"],
                "moved from init": last["distance_from_init"],
            }
        )
        lines.append("\nper layer (1 = next to the input; the last is the output layer):")
        lines.append(table.to_string(float_format=lambda v: f"{v:.3g}", na_rep="-"))
    return "\n".join(lines)
