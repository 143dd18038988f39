#!/usr/bin/env bash
# Does what Streamlit Community Cloud does with requirements.txt (`uv pip install -r
# requirements.txt` first, pip as the fallback) against loopback stand-ins for PyTorch's CPU
# index and for PyPI, for the committed requirements.txt and for the mechanisms it was chosen
# from, and prints what each resolved to. Exits non-zero unless requirements.txt gives torch
# 2.13.0+cpu from PyTorch's CPU index and its pinned numpy, under uv AND under pip.
# See docs/deployment.md.
#
#   bash scripts/deploy/check_install.sh              # every mechanism
#   bash scripts/deploy/check_install.sh --repo-only  # requirements.txt only (what CI needs)
#
# Needs Python 3.11 and PyPI (no pip config and no local mirror is used: only the CPU torch
# wheel and the stand-in's older wheels come from this machine's disk). Works in a temporary
# folder on /dev/shm (or $SIM_TMPDIR), removed at the end with the server it starts.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
REQ=$ROOT/requirements.txt
SIM=$ROOT/scripts/deploy/sim.py
ONLY_REPO=0
case "${1:-}" in
  --repo-only) ONLY_REPO=1 ;;
  "") ;;
  *) echo "usage: $0 [--repo-only]"; exit 2 ;;
esac

PY=$(command -v python3.11 || command -v python3)
PY=$("$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11); print(sys.executable)') \
  || { echo "needs Python 3.11 (the torch wheel is cp311)"; exit 2; }

START=$(date +%s)
# tmpfs: this disk is mounted with `discard`, where deleting the ~12,000 files of each
# unpacked torch takes minutes. Peak use here: 2.8 GB.
TMPBASE=${SIM_TMPDIR:-/dev/shm}
[ -d "$TMPBASE" ] && [ "$(df -Pk "$TMPBASE" | awk 'NR==2 {print $4}')" -gt 4000000 ] || TMPBASE=/tmp
WORK=$(mktemp -d "$TMPBASE/vangrad-deploy-check.XXXXXX")
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every installer runs in an empty environment: no pip.conf (so none of /etc/xdg/pip's
# constraints, local indexes or find-links), no PIP_* or UV_* variable but these, caches in
# $WORK. Only the machine's CA bundle is passed on (this network re-signs TLS).
CA=${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
clean() {
  env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$WORK/home" LANG=C.UTF-8 \
    PIP_CERT="$CA" SSL_CERT_FILE="$CA" \
    PIP_CONFIG_FILE=/dev/null PIP_CACHE_DIR="$WORK/pip-cache" PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off \
    UV_CACHE_DIR="$WORK/uv-cache" UV_NO_CONFIG=1 UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1 "$@"
}
mkdir -p "$WORK/home" "$WORK/logs"
fail_log() { echo "--- $1"; tail -20 "$1"; }

echo "== uv and pip from PyPI, in a throwaway venv"
"$PY" -m venv "$WORK/tools"
clean "$WORK/tools/bin/pip" install --quiet --upgrade pip "uv${UV_SPEC:-}" >"$WORK/logs/tools.log" 2>&1 \
  || { fail_log "$WORK/logs/tools.log"; exit 2; }
UV=$WORK/tools/bin/uv
PIP=$WORK/tools/bin/pip
NEWEST_UV=$(clean "$PIP" index versions uv 2>/dev/null | sed -n 's/^uv (\(.*\))$/\1/p' || true)
echo "   $("$UV" --version) (newest on PyPI: ${NEWEST_UV:-?}); $("$PIP" --version | cut -d' ' -f1-2)"

echo "== stand-in indexes"
"$PY" "$SIM" build "$WORK/idx"
"$PY" "$SIM" serve "$WORK/idx" "$WORK/port" "$WORK/logs/server.log" &
SERVER_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || { echo "the index server did not start"; exit 2; }
PORT=$(cat "$WORK/port")
PYPI_URL=http://127.0.0.1:$PORT/pypi/simple
echo "   https://download.pytorch.org -> http://127.0.0.1:$PORT    https://pypi.org/simple -> $PYPI_URL"

NUMPY=${INTENDED_NUMPY:-$("$PY" "$SIM" intended-numpy "$REQ")}
VENV_NUMPY=""
if [ -x "$ROOT/.venv/bin/python" ]; then
  VENV_NUMPY=$("$ROOT/.venv/bin/python" -c 'import importlib.metadata as m; print(m.version("numpy"))' 2>/dev/null || true)
fi
if [ -z "$NUMPY" ]; then
  [ -n "$VENV_NUMPY" ] || { echo "requirements.txt pins no numpy==X and there is no .venv to take it from"; exit 2; }
  NUMPY=$VENV_NUMPY
  echo "   requirements.txt pins no numpy: the intended one is .venv's"
fi
echo "   intended: torch 2.13.0+cpu, numpy $NUMPY${VENV_NUMPY:+ (.venv has numpy $VENV_NUMPY)}"
if [ -n "$VENV_NUMPY" ] && [ "$VENV_NUMPY" != "$NUMPY" ]; then
  echo "   WARNING: .venv's numpy is not the pinned one: run bash scripts/setup.sh"
fi

ROWS=$WORK/rows.jsonl
: >"$ROWS"
row() { "$PY" "$SIM" row --rows "$ROWS" "$@"; }
first_error() { grep -m1 -E "$2" "$1" | sed 's/^ *//' | cut -c1-160 || true; }
import_check() {
  "$1/bin/python" -c 'import torch, numpy; print(f"import: torch {torch.__version__}, torch.version.cuda={torch.version.cuda}, numpy {numpy.__version__}")' 2>&1 | tail -1
}

# uv, as Community Cloud runs it: `uv pip install -r requirements.txt` with the default index
# strategy; --index-url only swaps PyPI for its stand-in. For the candidates, resolution only
# (`uv pip compile`, the same resolver); pylock.toml records where each package came from.
run_uv() {  # id title reqfile install?
  local id=$1 title=$2 req=$3 install=$4 venv=$WORK/venv-uv-$1 ok=1 note="" check="" t0=$SECONDS
  local log=$WORK/logs/uv-$id.log mode=resolve
  "$PY" -m venv --without-pip "$venv"
  if [ "$install" = 1 ]; then
    mode=install
    clean "$UV" pip install --python "$venv/bin/python" --index-url "$PYPI_URL" -r "$req" >"$log" 2>&1 || ok=0
  fi
  if [ "$ok" = 1 ]; then
    clean "$UV" pip compile --python "$venv/bin/python" --index-url "$PYPI_URL" --format pylock.toml \
      -o "$WORK/pylock.$id.toml" "$req" >>"$log" 2>&1 || ok=0
  fi
  if [ "$ok" = 1 ]; then
    [ "$install" = 1 ] && check=$(import_check "$venv")
  else
    note=$(first_error "$log" 'cause:|╰─▶')
    [ -n "$note" ] || note=$(first_error "$log" 'error|×')
  fi
  row --id "$id" --mechanism "$title" --installer uv --mode "$mode" --kind pylock --resolved "$WORK/pylock.$id.toml" \
    --python "$venv/bin/python" --ok "$ok" --chosen "$install" --note "$note" --import-check "$check" \
    --seconds $((SECONDS - t0))
  rm -rf "$venv"
}

# pip, Community Cloud's fallback: `pip install -r requirements.txt`; a dry run with --report
# for the candidates.
run_pip() {  # id title reqfile install?
  local id=$1 title=$2 req=$3 install=$4 venv=$WORK/venv-pip-$1 ok=1 note="" check="" t0=$SECONDS
  local log=$WORK/logs/pip-$id.log mode=install dry=()
  [ "$install" = 1 ] || { dry=(--dry-run --ignore-installed); mode=resolve; }
  # pip retries an unreachable find-links page 5 times for every package it looks up (6 min
  # here); one try shows the same outcome.
  case $id in G | H) dry+=(--retries 0) ;; esac
  "$PY" -m venv --without-pip "$venv"
  clean "$PIP" --python "$venv/bin/python" install --no-compile "${dry[@]}" --report "$WORK/report.$id.json" \
    --index-url "$PYPI_URL" -r "$req" >"$log" 2>&1 || ok=0
  if [ "$ok" = 1 ]; then
    [ "$install" = 1 ] && check=$(import_check "$venv")
  else
    note=$(first_error "$log" 'ERROR|error')
  fi
  row --id "$id" --mechanism "$title" --installer pip --mode "$mode" --kind pip --resolved "$WORK/report.$id.json" \
    --python "$venv/bin/python" --ok "$ok" --chosen "$install" --note "$note" --import-check "$check" \
    --seconds $((SECONDS - t0))
  rm -rf "$venv"
}

echo "== R: requirements.txt as committed (installed for real, then import torch)"
"$PY" "$SIM" render repo "$REQ" "$PORT" "$NUMPY" "$WORK/req-R.txt"
run_uv R "requirements.txt" "$WORK/req-R.txt" 1
run_pip R "requirements.txt" "$WORK/req-R.txt" 1

if [ "$ONLY_REPO" = 0 ]; then
  # A loopback port that nothing listens on, for "PyTorch's page unreachable".
  CLOSED=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  for id in A B C D E F G H; do
    title=$("$PY" "$SIM" title "$id")
    echo "== $id: $title"
    "$PY" "$SIM" render "$id" "$REQ" "$PORT" "$NUMPY" "$WORK/req-$id.txt" --closed-port "$CLOSED"
    run_uv "$id" "$title" "$WORK/req-$id.txt" 0
    run_pip "$id" "$title" "$WORK/req-$id.txt" 0
  done

  title="uv.lock; explicit CPU index in [tool.uv.sources]"
  echo "== U: $title (uv lock, then uv sync --locked --dry-run)"
  proj=$WORK/proj ok=1 note="" t0=$SECONDS
  "$PY" "$SIM" pyproject "$REQ" "$PORT" "$NUMPY" "$proj"
  (cd "$proj" && clean "$UV" lock --python "$PY" && clean "$UV" sync --locked --dry-run --python "$PY") \
    >"$WORK/logs/uv-U.log" 2>&1 || { ok=0; note=$(first_error "$WORK/logs/uv-U.log" 'error|×'); }
  row --id U --mechanism "$title" --installer uv --mode resolve --kind uvlock --resolved "$proj/uv.lock" \
    --ok "$ok" --note "$note" --seconds $((SECONDS - t0))
  row --id U --mechanism "$title" --installer pip --mode n/a --ok 0 --note "pip reads neither uv.lock nor [tool.uv.sources]"
fi

if [ -s "$WORK/report.R.json" ]; then
  "$PY" - "$WORK/report.R.json" <<'EOF'
import json, sys
for i in json.load(open(sys.argv[1]))["install"]:
    if i["metadata"]["name"].lower() == "numba":
        deps = [r for r in i["metadata"].get("requires_dist", []) if r.startswith("numpy")]
        print(f"   numba {i['metadata']['version']} asks for {', '.join(deps)}")
EOF
fi

echo
echo "== results (PyTorch idx = stand-in for https://download.pytorch.org/whl/cpu; PyPI = PyPI via its stand-in; s = seconds)"
status=0
"$PY" "$SIM" table "$ROWS" "$NUMPY" || status=$?
for f in "$WORK"/logs/*-R.log; do [ "$status" = 0 ] || fail_log "$f"; done
echo "   took $(($(date +%s) - START)) s"
exit $status
