#!/usr/bin/env bash
# The test suite, one pytest process per test folder (and per top-level test file).
# Why: in one long process, after many XLA compilations, a new compilation segfaulted
# inside jaxlib (libgcc_s unwinder) on this machine class, reproducibly at different
# tests; each part passes on its own. Extra arguments go to every pytest run; every part
# runs, and the script fails if any part failed (exit 5, "no tests collected", is fine).
# Each part lists its five slowest tests, to keep an eye on the suite's time.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
for target in tests/*/ tests/test_*.py; do
    echo "== pytest $target"
    .venv/bin/python -m pytest "$target" --durations=5 "$@"
    rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then
        status=$rc
    fi
done
exit "$status"
