#!/usr/bin/env bash
# Make .venv with everything the app (and, with --dev, the tests) need.
# Safe to run again: pip skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
# --retries 0: where PyTorch's CPU index cannot be reached (this sandbox), don't
# wait on it; pip then takes torch from PyPI or a local wheel.
pip_install() { .venv/bin/pip install --quiet --disable-pip-version-check --retries 0 "$@"; }
if [ "${1:-}" = "--dev" ]; then
  pip_install -r requirements-dev.txt
else
  pip_install -r requirements.txt
fi
