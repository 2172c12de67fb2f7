#!/usr/bin/env bash
# Creates .venv and installs BayesMMM with every extra (service, postgres, parquet,
# notebook, mcp) and its test tools. Safe to run again.
# Usage: bash scripts/setup.sh            (BENCH=1 builds .venv-bench instead: the same
#                                          install plus the peers, PyMC-Marketing + nutpie;
#                                          CORE=1 builds .venv-core: the core library
#                                          alone, no extras, plus pytest)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "BayesMMM needs Python >= 3.11")'
venv=.venv
target=".[all,dev]"
if [ "${BENCH:-0}" = "1" ]; then venv=.venv-bench; target=".[all,dev,bench]"; fi
if [ "${CORE:-0}" = "1" ]; then venv=.venv-core; target=". pytest"; fi
[ -x "$venv/bin/python" ] || "$PY" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
if [ "${CORE:-0}" = "1" ]; then
    # a real (non-editable) install: what `pip install bayesmmm` gives a user
    "$venv/bin/python" -m pip install --quiet $target
else
    "$venv/bin/python" -m pip install --quiet -e "$target"
fi
echo "BayesMMM installed in $venv (try: $venv/bin/bayesmmm --help)"
