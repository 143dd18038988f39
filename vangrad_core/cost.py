"""What a run will cost before it starts: one core's seconds and the memory it holds.

A server shares its cores and memory between a class, so a page asks before a run
trains (views/ui/live.py refuses the runs over its budget and says what to change).
The estimate is a model, not a measurement: a step is its matrix products
(6 × depth × width² × batch multiply-adds, forward and backward, at ~60 GFLOP/s on
one core), a few passes over the weights (statistics, update) and over the
activations (statistics, nonlinearity), and a fixed cost per layer; memory is the
weights with their copies (gradient, initial weights, packed rows, the update's measure,
optimizer state)
and the activations the backward pass and the statistics keep. `python -m
bench.cost` prints it beside measured runs: it errs on the high side, 1.7–2.6 times
the time measured at depth 50–100 × width 512 on the project's machine in a fast
phase (2026-12-06), a margin its slow phases (up to twice as slow) can use up.
(Before a run's steps flushed subnormal numbers to 0, a deep sigmoid network's
fading gradient ran up to 5.6 times slower than this: docs/performance.md.)
"""

from __future__ import annotations

import dataclasses
import math

from .config import ExperimentConfig
from .recurrent import RecurrentConfig

FLOPS_PER_SECOND = 60e9  # float32 matrix products on one core (bench.cost)
SECONDS_PER_WEIGHT = 8e-9  # statistics and update: ~10 passes over each weight a step
SECONDS_PER_ACTIVATION = 1.6e-8  # nonlinearity, dL/dz, statistics: ~20 passes a value a step
SECONDS_PER_LAYER = 60e-6  # Python and op dispatch, per layer a step
SECONDS_PER_TIME_STEP = 1e-4  # a recurrent cell's dispatch, per time step a step
BYTES = 4  # float32
WEIGHT_COPIES = {"sgd": 4, "momentum": 5, "adam": 6}  # weights, gradient, initial, packed; + optimizer state
MEASURE_COPIES = 1  # a feed-forward run's weights before a step (the update's measure)
ACTIVATION_COPIES = 3  # z, the activation and dL/dz for every example of the batch
NORM_COPIES = 2  # batch or layer norm keeps the standardized values and their gradient too
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


GRID_SECONDS = 0.02  # what a snapshot's decision grid may cost: one forward pass of its points
GRID_RESOLUTION = (20, 60)  # points a side of the decision grid: the fewest, the most


@dataclasses.dataclass(frozen=True)
class RunCost:
    seconds_per_step: float  # of one core
    megabytes: float  # held while the run trains
    steps: int
    untrained_megabytes: float = 0.0  # held before its first step: the weights and their copies

    @property
    def seconds(self) -> float:
        return self.seconds_per_step * self.steps

    def steps_within(self, seconds: float) -> int:
        """How many steps fit in `seconds` of one core."""
        return int(seconds / self.seconds_per_step)


def run_cost(config: ExperimentConfig | RecurrentConfig) -> RunCost:
    """The estimated cost of training `config` to its last step."""
    if isinstance(config, RecurrentConfig):
        return _recurrent_cost(config)
    weights = config.depth * config.width**2
    activations = config.depth * config.width * config.batch_size
    seconds = (
        6 * weights * config.batch_size / FLOPS_PER_SECOND
        + weights * SECONDS_PER_WEIGHT
        + activations * SECONDS_PER_ACTIVATION
        + config.depth * SECONDS_PER_LAYER
    )
    copies = ACTIVATION_COPIES + (NORM_COPIES if config.norm != "none" else 0)
    held = weights * (WEIGHT_COPIES[config.optimizer] + MEASURE_COPIES) + activations * copies
    return RunCost(seconds, held * BYTES / 2**20, config.steps, _untrained_megabytes(weights))


def _untrained_megabytes(weights: int) -> float:
    """What a run holds before its first step: its weights and their copies, no optimizer
    state, no activations, and not the update's copy, first written at the first step
    (depth 100 x width 512: 400 MB estimated, ~300 MB measured)."""
    return weights * WEIGHT_COPIES["sgd"] * BYTES / 2**20


def grid_resolution(config: ExperimentConfig) -> int:
    """Points a side of a snapshot's decision grid: 60 where its forward pass (2 × depth ×
    width² flops a point) takes at most GRID_SECONDS, fewer for a large network, never
    under 20 (depth 100 × width 512: 3600 points took 3.0 s, 12 of its training steps at
    batch 64; 400 points, 0.32 s)."""
    fewest, most = GRID_RESOLUTION
    points = GRID_SECONDS * FLOPS_PER_SECOND / (2 * config.depth * config.width**2)
    return max(fewest, min(most, math.isqrt(int(points))))


def _recurrent_cost(config: RecurrentConfig) -> RunCost:
    gates = GATES[config.cell]
    weights = 2 * gates * config.hidden**2  # input and recurrent weights of every gate
    values = config.length * config.batch_size * config.hidden * gates  # kept for backprop through time
    seconds = (
        6 * weights * config.batch_size * config.length / FLOPS_PER_SECOND
        + values * SECONDS_PER_ACTIVATION
        + config.length * SECONDS_PER_TIME_STEP
    )
    held = weights * WEIGHT_COPIES[config.optimizer] + values * ACTIVATION_COPIES
    return RunCost(seconds, held * BYTES / 2**20, config.steps, _untrained_megabytes(weights))


# A run whose untrained network is estimated to hold more (RunCost.untrained_megabytes)
# keeps only its step-0 snapshot until it first trains (live.LiveTrainer): a page opened
# on a network too large to train held its weights (depth 100 x width 512: 300 MB a
# tab; seven such tabs fill the largest Community Cloud server).
RESTING_MB = 50.0


def rests_untrained(config: ExperimentConfig | RecurrentConfig) -> bool:
    """Whether a run of `config` keeps only its step-0 snapshot until it trains (`RESTING_MB`)."""
    return run_cost(config).untrained_megabytes > RESTING_MB


def held_megabytes(config: ExperimentConfig | RecurrentConfig, step_count: int) -> float:
    """What a run of `config` holds after `step_count` steps, by `run_cost`'s estimates:
    once it has trained, what training holds; before, its untrained network, or nothing
    if that rests (`rests_untrained`)."""
    cost = run_cost(config)
    if step_count > 0:
        return cost.megabytes
    return 0.0 if rests_untrained(config) else cost.untrained_megabytes


@dataclasses.dataclass(frozen=True)
class Budget:
    """What a server lets one page's runs cost: `run_seconds` of one core for a run
    that trains alone (shared out when several train, never under
    `run_seconds_floor`), and `tab_mb` for what a tab's runs hold together (shared out
    of `server_mb` when many tabs are open, never under `tab_mb_floor`)."""

    run_seconds: float = 600.0
    run_seconds_floor: float = 60.0
    tab_mb: float = 1200.0
    server_mb: float = 2000.0
    tab_mb_floor: float = 100.0

    def refusal(
        self, costs: list[RunCost], held_elsewhere_mb: float = 0.0, tabs: int = 1, training: int = 0
    ) -> str | None:
        """Why runs of these costs may not start, with what to change; None if they may.
        `held_elsewhere_mb`: the tab's other runs; `tabs`: tabs with runs on the server;
        `training`: tabs training now, besides this one."""
        what = "This run" if len(costs) == 1 else "These runs"
        held = sum(cost.megabytes for cost in costs)
        tab_mb = min(self.tab_mb, max(self.tab_mb_floor, self.server_mb / max(tabs, 1)))
        if held + held_elsewhere_mb > tab_mb:
            where = (
                f" ({megabytes(held_elsewhere_mb)} more on other pages of this tab)" if held_elsewhere_mb >= 1 else ""
            )
            busy = f" with {tabs} tabs open," if tabs > 1 else ""
            return (
                f"{what} would hold about {megabytes(held)} of memory{where};{busy} a tab may hold "
                f"{megabytes(tab_mb)}. A narrower or shallower network, or a smaller batch, would fit."
            )
        allowed = max(self.run_seconds_floor, self.run_seconds / (training + 1))
        seconds = sum(cost.seconds for cost in costs)
        if seconds > allowed:
            busy = f"with {training + 1} people training, " if training else ""
            steps = min(cost.steps_within(allowed / len(costs)) for cost in costs)
            fewer = f"at most {steps:,} steps" if steps >= 1 else "a smaller network"
            return (
                f"{what} would take about {duration(seconds)} of a processor core; {busy}the server gives a run "
                f"{duration(allowed)}. Fewer steps ({fewer}), a smaller batch or a smaller network would fit."
            )
        return None


def megabytes(mb: float) -> str:
    return f"{mb / 1024:.1f} GB" if mb >= 1000 else f"{mb:.0f} MB"  # ("1.1 GB … 1000 MB" in one sentence)


def duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"
