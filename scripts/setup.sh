#!/usr/bin/env bash
# Creates .venv and installs BayesMMM with its test tools. Safe to run again.
# Usage: bash scripts/setup.sh            (BENCH=1 builds .venv-bench instead: the same
#                                          install plus the peers, PyMC-Marketing + nutpie)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "BayesMMM needs Python >= 3.11")'
venv=.venv
extras="dev"
if [ "${BENCH:-0}" = "1" ]; then venv=.venv-bench; extras="dev,bench"; fi
[ -x "$venv/bin/python" ] || "$PY" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e ".[${extras}]"
echo "BayesMMM installed in $venv (try: $venv/bin/bayesmmm --help)"
