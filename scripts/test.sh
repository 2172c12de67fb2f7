#!/usr/bin/env bash
# The test suite, one pytest process per test folder (and per top-level test file), two
# at a time (BAYESMMM_TEST_JOBS; the machines have 2 cores, and most of a part's time is
# XLA compiling its models, one core each).
# Why one process per part: in one long process, after many XLA compilations, a new
# compilation segfaulted inside jaxlib (libgcc_s unwinder) on this machine class,
# reproducibly at different tests; each part passes on its own. Extra arguments go to
# every pytest run; every part runs, and the script fails if any part failed (exit 5,
# "no tests collected", is fine). A part's output is printed whole when it ends, with
# its five slowest tests, to keep an eye on the suite's time.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${BAYESMMM_TEST_JOBS:-2}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

run_part() {  # target, log folder, pytest arguments...
    local target=$1 dir=$2 name
    shift 2
    name=$(echo "$target" | tr '/.' '__')
    .venv/bin/python -m pytest "$target" --durations=5 "$@" > "$dir/$name.log" 2>&1
    echo $? > "$dir/$name.rc"
    # one part's output at a time, whole
    flock "$dir/.print" bash -c 'echo "== pytest $1"; cat "$2"' _ "$target" "$dir/$name.log" >&2
}
export -f run_part

# the longest parts first, so that two at a time end together
targets=(tests/model/ tests/analysis/ tests/service/)
for t in tests/*/ tests/test_*.py; do
    case " ${targets[*]} " in *" $t "*) ;; *) targets+=("$t") ;; esac
done
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_part "$@"' _ {} "$logs" "$@" 2>&1

status=0
if [ "$(ls "$logs"/*.rc 2>/dev/null | wc -l)" -ne "${#targets[@]}" ]; then
    echo "FAILED: only $(ls "$logs"/*.rc 2>/dev/null | wc -l) of ${#targets[@]} parts ended"
    status=1
fi
for rc_file in "$logs"/*.rc; do
    rc=$(cat "$rc_file")
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then
        echo "FAILED: $(basename "$rc_file" .rc) (exit $rc)"
        status=$rc
    fi
done
exit "$status"
