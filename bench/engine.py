"""Instrumented Trainer vs a bare PyTorch loop on the same model and batches.

The budget (docs/architecture.md, "Budgets"): training with full per-layer
statistics runs at >= 0.8x the steps per second of a bare loop (one thread). Both
are timed in this one run, in alternating blocks, because these machines are noisy:
the ratio is what counts (the median of the blocks' ratios, each a bare block and a
trainer block back to back).

    python -m bench.engine [--steps 50] [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterable

import torch
from torch import nn

from vangrad_core import ExperimentConfig, Trainer, batch_indices, build_model, make_dataset
from vangrad_core.recurrent import RecurrentConfig
from vangrad_core.trainer import MOMENTUM, layer_record_every

# The thread's CPU time, not the wall clock: on a shared machine, time the thread
# spends waiting for a core (another process, the VM's neighbours) is not the code's.
# One thread trains; both loops are timed the same way.
CLOCK = time.thread_time

CASES = {
    "depth 20 x width 64, sigmoid": ExperimentConfig(depth=20, width=64),
    "depth 50 x width 128, batchnorm_before": ExperimentConfig(depth=50, width=128, norm="batchnorm_before"),
}


def plain_optimizer(
    config: ExperimentConfig | RecurrentConfig, params: Iterable[torch.Tensor]
) -> torch.optim.Optimizer:
    """The config's optimizer as a plain loop makes it: torch.optim's class (foreach, as
    the trainer's update)."""
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.learning_rate, foreach=True)
    momentum = MOMENTUM if config.optimizer == "momentum" else 0.0
    return torch.optim.SGD(params, lr=config.learning_rate, momentum=momentum, foreach=True)


class BareLoop:
    """The plainest training loop on the same model and batches: forward, loss,
    zero_grad, backward, step, read the loss."""

    def __init__(self, config: ExperimentConfig):
        self.data = make_dataset(config)
        self.model = build_model(config)
        self.optimizer = plain_optimizer(config, self.model.parameters())
        self.batches = batch_indices(config, len(self.data.x_train))
        self.model.train()

    def step(self, n: int) -> None:
        x, y = self.data.x_train, self.data.y_train
        for _ in range(n):
            idx = next(self.batches)
            loss = nn.functional.cross_entropy(self.model(x[idx]), y[idx])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            loss.item()  # a real loop reads its loss; the trainer does too


def timed(step, n: int) -> float:
    start = CLOCK()
    step(n)
    return CLOCK() - start


WARM_UP_STEPS = 20


def run_config(config: ExperimentConfig, steps: int, rounds: int) -> ExperimentConfig:
    """The case's config, long enough for the warm-up and every round."""
    return config.replace(steps=WARM_UP_STEPS + rounds * steps)


def compare(config: ExperimentConfig, steps: int, rounds: int) -> tuple[float, float, list[float]]:
    """Bare loop and Trainer, each built once and warmed up, then run in alternating
    blocks of `steps` steps (so that the machine's drift hits both alike); the
    trainer's time includes making its `layers` frame at the end, spread over the
    rounds. Returns the two speeds (median steps/s) and each round's ratio."""
    config = run_config(config, steps, rounds)
    bare, trainer = BareLoop(config), Trainer(config)
    bare.step(WARM_UP_STEPS), trainer.step(WARM_UP_STEPS)  # warm up: allocations, caches
    bare_times, trainer_times = [], []
    for _ in range(rounds):
        bare_times.append(timed(bare.step, steps))
        trainer_times.append(timed(trainer.step, steps))
    frame = timed(lambda _: trainer.layers, 0)
    assert len(trainer.layers) == trainer.step_count * (config.depth + 1)
    trainer_times = [t + frame / rounds for t in trainer_times]
    ratios = [b / t for b, t in zip(bare_times, trainer_times, strict=True)]
    return steps / statistics.median(bare_times), steps / statistics.median(trainer_times), ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="steps per block")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    for name, config in CASES.items():  # every step must be measured, as in a run of the lecture's length
        every = layer_record_every(run_config(config, max(args.steps, 1), args.rounds))
        if every > 1:
            parser.error(
                f"{name}: a run of --steps x --rounds this long keeps one step in {every} "
                "(the trainer's memory budget, HISTORY_BYTES); ask for fewer steps or rounds"
            )
    torch.set_num_threads(1)
    print(f"{'case':42} {'bare steps/s':>13} {'trainer steps/s':>16} {'ratio':>6} {'(range)':>12}  budget >= 0.80")
    for name, config in CASES.items():
        bare, inst, ratios = compare(config, max(args.steps, 1), args.rounds)
        ratio = statistics.median(ratios)
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        verdict = "ok" if ratio >= 0.8 else "BELOW"
        print(f"{name:42} {bare:13.1f} {inst:16.1f} {ratio:6.2f} {spread:>12}  {verdict}")


if __name__ == "__main__":
    main()
