"""Load test of the service: many clients submit small fits at once; every task must end.

Starts ``bayesmmm serve`` (embedded Dask cluster) in a temporary home, submits ``--n``
fits of the bundled example from ``--clients`` concurrent clients, polls until every task
is final, then checks that all are accounted for: one task per accepted submission, no
duplicate ids, every task completed, every fit file present, a sample of summaries
readable. Prints submission latency (p50/p99), submission throughput and fit throughput.

    .venv/bin/python benchmarks/service_load.py                 # 200 submissions, 20 clients
    .venv/bin/python benchmarks/service_load.py --n 40 --workers 1
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bayesmmm.datasets import example_path

FORM = {"date_column": "date_week", "y_column": "y", "channel_columns": "x1,x2",
        "control_columns": "event_1,event_2,t"}
FINAL = {"completed", "failed", "cancelled"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(home: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "BAYESMMM_HOME": str(home), "BAYESMMM_DASK_WORKERS": str(workers)}
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "bayesmmm", "serve", "--port", str(port),
                             "--log-level", "warning"], env=env, stdout=log, stderr=log,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit(f"server did not start; see {home / 'server.log'}")


def _submit_all(url: str, n: int, clients: int, sampler: dict[str, str]
                ) -> tuple[list[str], list[float], list[str], float]:
    data = example_path().read_bytes()
    ids: list[str] = []
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(n))

    def client(seed: int) -> None:
        with httpx.Client(timeout=120) as http:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                form = {**FORM, **sampler, "seed": str(i)}
                start = time.perf_counter()
                r = http.post(f"{url}/v1/tasks", files={"file": ("example.csv", data)},
                              data=form)
                took = time.perf_counter() - start
                with lock:
                    latencies.append(took)
                    if r.status_code == 202:
                        ids.append(r.json()["task_id"])
                    else:
                        errors.append(f"{r.status_code}: {r.text[:200]}")

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ids, latencies, errors, time.perf_counter() - start


def _wait_all(url: str, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    wanted = set(ids)
    seen: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=60) as http:
        while time.monotonic() < deadline:
            seen = {}
            offset = 0
            while True:
                page = http.get(f"{url}/v1/tasks", params={"limit": 200,
                                                           "offset": offset}).json()
                for task in page["tasks"]:
                    seen[task["task_id"]] = task
                offset += len(page["tasks"])
                if offset >= page["total"] or not page["tasks"]:
                    break
            done = sum(seen.get(i, {}).get("status") in FINAL for i in wanted)
            print(f"\r  {done}/{len(wanted)} final", end="", flush=True)
            if done == len(wanted):
                print()
                return seen
            time.sleep(2)
    print()
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="submissions (200)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (20)")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (2)")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--draws", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds for all to end")
    args = parser.parse_args()
    sampler = {"chains": "1", "warmup": str(args.warmup), "draws": str(args.draws)}

    with tempfile.TemporaryDirectory(prefix="bayesmmm-load-") as tmp:
        home = Path(tmp)
        proc, url = _start(home, args.workers)
        try:
            print(f"server {url}: {args.n} submissions from {args.clients} clients, "
                  f"{args.workers} Dask workers, fits of chains=1 warmup={args.warmup} "
                  f"draws={args.draws} on the bundled example (179 weeks)")
            started = time.perf_counter()
            ids, latencies, errors, submit_s = _submit_all(url, args.n, args.clients, sampler)
            tasks = _wait_all(url, ids, args.timeout)
            total_s = time.perf_counter() - started
            completed = [i for i in ids if tasks.get(i, {}).get("status") == "completed"]
            with httpx.Client(timeout=120) as http:
                missing = [i for i in completed
                           if http.get(f"{url}/v1/tasks/{i}/fit").status_code != 200]
                sample = random.Random(0).sample(completed, min(10, len(completed)))
                unreadable = [i for i in sample
                              if len(http.get(f"{url}/v1/tasks/{i}/summary").json().get(
                                  "summary", [])) == 0]
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    lat = np.array(latencies) * 1000
    statuses = {s: sum(t.get("status") == s for t in tasks.values()) for s in
                ("pending", "running", "completed", "failed", "cancelled")}
    print(f"accepted {len(ids)}/{args.n} (refused {len(errors)}), unique ids "
          f"{len(set(ids))}, tasks in the store {len(tasks)}, statuses {statuses}")
    print(f"submission latency: p50 {np.percentile(lat, 50):.0f} ms, "
          f"p99 {np.percentile(lat, 99):.0f} ms, max {lat.max():.0f} ms")
    print(f"submission throughput: {len(latencies) / submit_s:.1f} submissions/s "
          f"({submit_s:.1f} s for all)")
    print(f"all final after {total_s:.0f} s: {len(completed) / total_s * 60:.1f} fits/min")
    print(f"fit files missing: {len(missing)}; sampled summaries unreadable: {len(unreadable)}")
    ok = (len(ids) == args.n and len(set(ids)) == len(ids) and len(completed) == len(ids)
          and len(tasks) == len(ids) and not missing and not unreadable and not errors)
    print("ALL ACCOUNTED FOR" if ok else "PROBLEMS FOUND")
    if errors:
        print("first refusal:", errors[0])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
