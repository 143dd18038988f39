"""Command line: train one config and print what happened to every layer.

    python -m vangrad_core --depth 20 --activation sigmoid
    python -m vangrad_core --depth 20 --activation sigmoid --norm batchnorm_before

Writes the `metrics` and `layers` frames as CSV to --out (default: ./vangrad-run).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from .config import FIELDS, ExperimentConfig
from .summary import summarize
from .trainer import run_experiment


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vangrad_core",
        description="Train a small network and report its per-layer gradients.",
    )
    defaults = ExperimentConfig()
    for name, field in FIELDS.items():  # the same table the URL codec and the app's form read
        flag = "--" + name.replace("_", "-")
        default = getattr(defaults, name)
        help_text = f"{field.label}: {field.accepted()} (default {default})"
        if field.kind == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=help_text)
        elif field.kind == "choice":
            parser.add_argument(flag, choices=field.choices, default=default, help=help_text)
        else:
            parser.add_argument(flag, type=int if field.kind == "int" else float, default=default, help=help_text)
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
