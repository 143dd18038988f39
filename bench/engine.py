"""Instrumented Trainer vs a bare PyTorch loop on the same model and batches.

DESIGN.md §5: training with full per-layer statistics must run at >= 0.8x the
steps per second of a bare loop (one thread). Both are timed in this one run,
interleaved in rounds, because these machines are noisy: the ratio is what counts
(the median of the rounds' ratios, each a bare run and a trainer run back to back).

    python -m bench.engine [--steps 200] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from vangrad_core import ExperimentConfig, Trainer, batch_indices, build_model, make_dataset, make_optimizer

# The thread's CPU time, not the wall clock: on a shared machine, time the thread
# spends waiting for a core (another process, the VM's neighbours) is not the code's.
# One thread trains; both loops are timed the same way.
CLOCK = time.thread_time

CASES = {
    "depth 20 x width 64, sigmoid": ExperimentConfig(depth=20, width=64, steps=20000),
    "depth 50 x width 128, batchnorm_before": ExperimentConfig(
        depth=50, width=128, norm="batchnorm_before", steps=20000
    ),
}


def bare_loop(config: ExperimentConfig, steps: int) -> float:
    """Steps per second of the plainest training loop on the same model and batches."""
    data = make_dataset(config)
    model = build_model(config)
    optimizer = make_optimizer(config, model.parameters())
    batches = batch_indices(config, len(data.x_train))
    model.train()
    start = CLOCK()
    for _ in range(steps):
        idx = next(batches)
        loss = nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()  # a real loop reads its loss; the trainer does too
    return steps / (CLOCK() - start)


def instrumented(config: ExperimentConfig, steps: int) -> float:
    """Steps per second of the Trainer, recording every layer's statistics each step."""
    trainer = Trainer(config)
    assert trainer.record_every == 1
    start = CLOCK()
    trainer.step(steps)
    layers = trainer.layers  # the per-layer frame is made when asked for: count that too
    elapsed = CLOCK() - start
    assert trainer.step_count == steps and len(layers) == steps * (config.depth + 1)
    return steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'case':42} {'bare steps/s':>13} {'trainer steps/s':>16} {'ratio':>6} {'(range)':>12}  budget >= 0.80")
    for name, config in CASES.items():
        config = config.replace(steps=max(args.steps, 1))  # every step recorded
        bare_loop(config, 20), instrumented(config, 20)  # warm up
        bare, inst = [], []
        for _ in range(args.rounds):  # interleaved, so drift hits both alike; the ratio is per round
            bare.append(bare_loop(config, args.steps))
            inst.append(instrumented(config, args.steps))
        ratios = [i / b for b, i in zip(bare, inst, strict=True)]
        ratio = statistics.median(ratios)
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        verdict = "ok" if ratio >= 0.8 else "BELOW"
        speeds = f"{statistics.median(bare):13.1f} {statistics.median(inst):16.1f}"
        print(f"{name:42} {speeds} {ratio:6.2f} {spread:>12}  {verdict}")


if __name__ == "__main__":
    main()
