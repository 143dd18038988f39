#!/usr/bin/env bash
# Make .venv with everything the app (and, with --dev, the tests) need.
# Safe to run again: pip skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
# Python 3.11 or later (pyproject.toml): say so, rather than fail later in pip
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "vangrad needs Python 3.11 or later; python3 is $(python3 --version 2>&1)" >&2
  exit 1
fi
python3 -m venv .venv
# --retries 0: where PyTorch's page of CPU wheels cannot be reached (this sandbox),
# don't wait on it; pip then takes torch 2.13.0+cpu from a local wheel folder.
pip_install() { .venv/bin/pip install --quiet --disable-pip-version-check --retries 0 "$@"; }
if [ "${1:-}" = "--dev" ]; then
  pip_install -r requirements-dev.txt
else
  pip_install -r requirements.txt
fi
