#!/usr/bin/env bash
# Set up on a fresh machine and run every test: lint, engine, pages, real browser.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 || ! [ -x "$(command -v nginx || echo /usr/sbin/nginx)" ]; then
  # Debian's Chromium drives the browser tests (Playwright's own download can't be used
  # here); nginx fronts the replicas of scripts/serve.sh (tests/test_serve.py)
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium fonts-dejavu-core nginx-light >/dev/null
fi
bash scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# Let Python write its bytecode caches (__pycache__, ignored by git) where the
# environment turns them off: else pytest rewrites every test module and plugin
# (hypothesis whole) in each worker, and every server and worker process a test starts
# compiles the app again. With them the non-browser tests took 170 s instead of 183
# (2 cores, one round each, the same hour).
unset PYTHONDONTWRITEBYTECODE
# The engine and page tests on both cores; then the browser tests one at a time (each
# drives a live app whose timing a second test beside it would disturb).
# --dist loadgroup: the tests of one xdist group run in one process, so that what they
# share is computed once (the claims' runs, the classic experiments: tests/conftest.py).
# (Exit code 5: a selection that holds no test of that kind.)
.venv/bin/python -m pytest --timeout 900 -m "not browser" -n 2 --dist loadgroup "$@" || [ $? = 5 ]
.venv/bin/python -m pytest --timeout 900 -m browser "$@" || [ $? = 5 ]
