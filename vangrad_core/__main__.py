"""Command line: train one config and print what happened to every layer.

    python -m vangrad_core --depth 20 --activation sigmoid
    python -m vangrad_core --depth 20 --activation sigmoid --norm batchnorm_before

Writes the `metrics` and `layers` frames as CSV to --out (default: ./vangrad-run).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import torch

from .config import _CHOICES, ExperimentConfig, accepted
from .summary import summarize
from .trainer import run_experiment


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vangrad_core",
        description="Train a small network and report its per-layer gradients.",
    )
    defaults = ExperimentConfig()
    for field in dataclasses.fields(ExperimentConfig):
        flag = "--" + field.name.replace("_", "-")
        default = getattr(defaults, field.name)
        help_text = f"{accepted(field.name)} (default {default})"
        if field.type == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        elif field.name in _CHOICES:
            parser.add_argument(flag, choices=_CHOICES[field.name], default=default, help=help_text)
        else:
            kind = int if field.type == "int" else float
            parser.add_argument(flag, type=kind, default=default, help=help_text)
    parser.add_argument("--out", type=Path, default=Path("vangrad-run"), help="folder for the CSV files")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = vars(_parser().parse_args(argv))
    out, threads = args.pop("out"), args.pop("threads")
    try:
        config = ExperimentConfig(**args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    torch.set_num_threads(max(1, threads))
    start = time.perf_counter()
    result = run_experiment(config)
    elapsed = time.perf_counter() - start
    print(summarize(result, elapsed))
    out.mkdir(parents=True, exist_ok=True)
    result.metrics.to_csv(out / "metrics.csv", index=False)
    result.layers.to_csv(out / "layers.csv", index=False)
    print(f"\nwrote {out / 'metrics.csv'} and {out / 'layers.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
