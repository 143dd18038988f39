"""The run budget's estimate (vangrad_core.cost) beside measured runs.

For each case, a fresh process builds a Trainer (or RecurrentTrainer), trains a few
steps, and reports one core's seconds a step (the thread's CPU time, so that a busy
machine's waiting is not counted) and the memory the run added (peak RSS minus RSS
before the trainer was built); the estimate is printed beside it, with the ratios.

    python -m bench.cost
"""

from __future__ import annotations

import json
import subprocess
import sys

from vangrad_core import ExperimentConfig
from vangrad_core.cost import run_cost
from vangrad_core.recurrent import RecurrentConfig

CASES = {
    "depth 20 x 64, batch 128": ExperimentConfig(depth=20, width=64, batch_size=128),
    "depth 30 x 256, batch 256": ExperimentConfig(depth=30, width=256, batch_size=256),
    "depth 100 x 256, batch 512": ExperimentConfig(depth=100, width=256, batch_size=512),
    "depth 10 x 512, batch 1024": ExperimentConfig(depth=10, width=512, batch_size=1024),
    "depth 50 x 512, batch 256, adam": ExperimentConfig(depth=50, width=512, batch_size=256, optimizer="adam"),
    "depth 100 x 512, batch 32": ExperimentConfig(depth=100, width=512, batch_size=32),
    "depth 100 x 512, batch 1024": ExperimentConfig(depth=100, width=512, batch_size=1024),
    "depth 100 x 512, batch 1024, BN, adam": ExperimentConfig(
        depth=100, width=512, batch_size=1024, norm="batchnorm_before", optimizer="adam"
    ),
    "LSTM T 200 x 64, batch 32": RecurrentConfig(cell="lstm", length=200, hidden=64, batch_size=32),
    "RNN T 100 x 256, batch 128": RecurrentConfig(cell="rnn", length=100, hidden=256, batch_size=128),
}

CHILD = """
import json, resource, sys, time
import psutil, torch
torch.set_num_threads(1)
from vangrad_core import ExperimentConfig, Trainer
from vangrad_core.recurrent import RecurrentConfig, RecurrentTrainer
kind, values = sys.argv[1], json.loads(sys.argv[2])
config = (RecurrentConfig if kind == "recurrent" else ExperimentConfig)(**values)
before = psutil.Process().memory_info().rss
trainer = (RecurrentTrainer if kind == "recurrent" else Trainer)(config)
trainer.step(2)
start, steps = time.thread_time(), 0
while (time.thread_time() - start < 3 or steps < 3) and steps < 200:
    trainer.step(1)
    steps += 1
seconds = (time.thread_time() - start) / steps
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds_per_step": seconds, "megabytes": (peak - before) / 2**20}))
"""


def measure(config: ExperimentConfig | RecurrentConfig) -> dict[str, float]:
    kind = "recurrent" if isinstance(config, RecurrentConfig) else "feedforward"
    values = json.dumps({**config.to_dict(), "steps": 20000})
    out = subprocess.run([sys.executable, "-c", CHILD, kind, values], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    header = ("case", "s/step est", "measured", "ratio", "MB est", "measured", "ratio")
    print("{:40s} {:>10s} {:>9s} {:>6s}   {:>7s} {:>9s} {:>6s}".format(*header))
    for name, config in CASES.items():
        estimate, measured = run_cost(config), measure(config)
        time_ratio = estimate.seconds_per_step / measured["seconds_per_step"]
        memory_ratio = estimate.megabytes / measured["megabytes"]
        print(
            f"{name:40s} {estimate.seconds_per_step:10.4f} {measured['seconds_per_step']:9.4f} {time_ratio:6.2f}"
            f"   {estimate.megabytes:7.0f} {measured['megabytes']:9.0f} {memory_ratio:6.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
