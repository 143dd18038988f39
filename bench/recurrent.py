"""RecurrentTrainer (dL/dh_t recorded at every step) vs a bare PyTorch loop on nn.RNN / nn.LSTM / nn.GRU.

Both loops train the same cell on the same batches with the same optimizer, one
thread. The bare loop calls the fused module (`output, _ = module(x)`), which gives no
dL/dh_t; the trainer also measures dL/dh_t for every t and what explains it, at every
step, and evaluates the test split every 50 steps. Timed interleaved in rounds (the
median of the rounds' ratios); thread CPU time, as bench/engine.py. Also timed: an
unrolled loop of nn.LSTMCell / nn.GRUCell / nn.RNNCell with the same parameters, the
obvious way to get every h_t as a graph node.

    python -m bench.recurrent [--steps 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from bench.engine import plain_optimizer
from vangrad_core.recurrent import (
    RecurrentConfig,
    RecurrentTrainer,
    make_task,
    task_loss,
    training_batches,
)

CLOCK = time.thread_time  # the training thread's CPU time, not a shared machine's wall clock

CASES = {
    "rnn tanh": RecurrentConfig(cell="rnn", activation="tanh"),
    "lstm": RecurrentConfig(cell="lstm"),
    "gru": RecurrentConfig(cell="gru"),
    "rnn sigmoid (bare: tanh, no fused sigmoid)": RecurrentConfig(cell="rnn", activation="sigmoid"),
}
MODULES = {"rnn": (nn.RNN, nn.RNNCell), "lstm": (nn.LSTM, nn.LSTMCell), "gru": (nn.GRU, nn.GRUCell)}


def _modules(config: RecurrentConfig, unrolled: bool) -> tuple[nn.Module, nn.Linear, list[torch.Tensor]]:
    task = make_task(config)
    kind = MODULES[config.cell][1 if unrolled else 0]
    extra = {"nonlinearity": "tanh"} if config.cell == "rnn" else {}
    module = kind(task.input_size, config.hidden, **extra)
    head = nn.Linear(config.hidden, task.output_size)
    return module, head, [*module.parameters(), *head.parameters()]


def bare_loop(config: RecurrentConfig, steps: int, unrolled: bool = False) -> float:
    """Steps per second of the plainest training loop: the fused module, or (unrolled)
    a Python loop over its cell keeping every h_t."""
    module, head, parameters = _modules(config, unrolled)
    optimizer = plain_optimizer(config, parameters)
    batches = training_batches(config)
    start = CLOCK()
    for _ in range(steps):
        x, y = next(batches)
        if unrolled:
            h = torch.zeros(x.shape[1], config.hidden)
            state = (h, h) if config.cell == "lstm" else h
            states = []
            for x_t in x:
                state = module(x_t, state)
                states.append(state[0] if config.cell == "lstm" else state)
            last = states[-1]
        else:
            last = module(x)[0][-1]
        loss = task_loss(config.task, head(last), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()
    return steps / (CLOCK() - start)


def trainer_loop(config: RecurrentConfig, steps: int) -> float:
    """Steps per second of RecurrentTrainer, every step's dL/dh_t recorded."""
    trainer = RecurrentTrainer(config)
    assert trainer.record_every == 1
    start = CLOCK()
    trainer.step(steps)
    frame = trainer.time_gradients  # made when asked for: count it too
    elapsed = CLOCK() - start
    assert len(frame) == steps * config.length
    return steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(
        f"T = {args.length}, hidden {args.hidden}, batch 32, Adam, one thread; steps/s (median of {args.rounds} rounds)"
    )
    print(f"{'case':44} {'bare fused':>10} {'unrolled':>9} {'trainer':>8} {'trainer/bare':>13} {'unrolled/bare':>14}")
    for name, config in CASES.items():
        config = config.replace(length=args.length, hidden=args.hidden, steps=args.steps)
        bare_loop(config, 5), bare_loop(config, 5, unrolled=True), trainer_loop(config.replace(steps=5), 5)
        bare, unrolled, trainer = [], [], []
        for _ in range(args.rounds):  # interleaved, so drift hits all alike; the ratios are per round
            bare.append(bare_loop(config, args.steps))
            unrolled.append(bare_loop(config, args.steps, unrolled=True))
            trainer.append(trainer_loop(config, args.steps))
        ratio = statistics.median(t / b for b, t in zip(bare, trainer, strict=True))
        unrolled_ratio = statistics.median(u / b for b, u in zip(bare, unrolled, strict=True))
        speeds = f"{statistics.median(bare):10.1f} {statistics.median(unrolled):9.1f} {statistics.median(trainer):8.1f}"
        print(f"{name:44} {speeds} {ratio:13.2f} {unrolled_ratio:14.2f}")


if __name__ == "__main__":
    main()
