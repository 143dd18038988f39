"""Why runs train in worker processes: training beside drawing, in a thread and in a worker.

A depth-20 run ("Deep sigmoid stalls") trains for a few seconds in each of: the
server's thread pool with nothing else running; the thread pool while this process
builds the live view's four figures without pause (as a busy server does); the same
at a worker's switch interval (0.5 ms instead of Python's 5); a worker process while
this process draws the same way. Printed: steps a second in each, and
each against the first, measured side by side in one run (docs/architecture.md,
"Training beside drawing").

    python -m bench.convoy [--seconds 4]
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from vangrad_core.lessons import SCENARIO_BY_NAME
from vangrad_core.live import TrainingPool
from vangrad_core.workers import SWITCH_SECONDS, WorkerPool
from views.ui import run_charts

CONFIG = SCENARIO_BY_NAME["Deep sigmoid stalls"].config.replace(steps=20_000)


def steps_per_second(pool, seconds: float, draw: bool) -> float:
    """Steps a second of one run that plays in `pool` for `seconds`, while this thread
    draws the live view's figures from a snapshot (`draw`) or sleeps."""
    run = pool.new(CONFIG, "bench")
    run.step(1)  # built, and the kernels compiled
    snap = run.snapshot()
    start_steps, start = run.step_count, time.perf_counter()
    pool.play([run])
    while time.perf_counter() - start < seconds:
        if draw:
            for figure in (
                run_charts.network(snap),
                run_charts.profile(snap, "delta_rms"),
                run_charts.heatmap(snap),
                run_charts.curves(snap),
            ):
                figure.to_json()
        else:
            time.sleep(0.05)
    pool.pause([run])
    rate = (run.step_count - start_steps) / (time.perf_counter() - start)
    run.release()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    threads, workers = TrainingPool(1), WorkerPool(1)
    steps_per_second(workers, 1.0, draw=False)  # the worker started and warm
    rows = [
        ("thread, nothing else running", steps_per_second(threads, args.seconds, draw=False)),
        ("thread, while this process draws", steps_per_second(threads, args.seconds, draw=True)),
    ]
    python_switch = sys.getswitchinterval()  # (5 ms)
    sys.setswitchinterval(SWITCH_SECONDS)  # a worker's: would it rescue training in the server's threads?
    shorter = steps_per_second(threads, args.seconds, draw=True)
    rows.append((f"the same, switch interval {SWITCH_SECONDS * 1e3:g} ms", shorter))
    sys.setswitchinterval(python_switch)
    rows.append(("worker process, while this process draws", steps_per_second(workers, args.seconds, draw=True)))
    workers.stop()
    print(f"{time.strftime('%Y-%m-%d')}: depth-20 run, {args.seconds:.0f} s each, one torch thread")
    print(f"{'where the run trains':45} {'steps/s':>8} {'vs alone':>9}")
    for label, rate in rows:
        print(f"{label:45} {rate:8.1f} {rate / rows[0][1]:9.2f}")


if __name__ == "__main__":
    main()
