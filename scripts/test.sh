#!/usr/bin/env bash
# The test suite in two processes: the service tests (Dask, uvicorn, database drivers in
# the test process) run in their own pytest process. After them, a fresh XLA compilation
# in the same process segfaulted inside jaxlib (libgcc_s unwinder) on this machine class;
# apart, both halves pass. Extra arguments go to both pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest --ignore=tests/service "$@"
.venv/bin/python -m pytest tests/service "$@"
