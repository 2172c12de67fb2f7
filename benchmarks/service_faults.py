"""Fault run of the service under load: kill the worker, the scheduler and the API while
many small fits are queued and running, and account for every job.

Starts a Dask scheduler, one ``bayesmmm worker`` and ``bayesmmm serve`` pointed at them
(``--mode separate``, the default; ``--mode embedded`` uses the server's own cluster and
has no scheduler to kill) in a temporary home, submits ``--n`` fits of the bundled
example (1 chain, 50 warm-up, 50 draws) from ``--clients`` concurrent clients, and while
they run:

1. SIGKILL the worker mid-fit (it is restarted, as a supervisor would);
2. SIGKILL the scheduler (restarted on the same port, with the worker if it gave up);
3. SIGTERM the API's process group (a graceful stop, as systemd sends it), restart it;
4. SIGKILL the API, restart it.

Between kills it waits for a few more fits to complete. A submission refused (503) or
cut off by a kill is retried by its client; each request carries its own seed, so a
retried submission that had in fact been accepted shows as a second task with that seed.

It reports: submissions accepted, tasks in the store, jobs lost (accepted, not final, or
missing), duplicated (two tasks for one submission, two fit files for one task), failed
(with their messages), jobs that ran more than once and why, and per kill the seconds
until health answered 200 again and until the next fit completed.

    .venv/bin/python benchmarks/service_faults.py                # 200 fits, 10 clients
    .venv/bin/python benchmarks/service_faults.py --mode embedded --pace 8  # submit during kills

Outside CI: it takes ~15-25 minutes on two shared cores.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
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

from bayesmmm.datasets import example_path

FORM = {"date_column": "date_week", "y_column": "y", "channel_columns": "x1,x2",
        "control_columns": "event_1,event_2,t", "chains": "1", "warmup": "50", "draws": "50"}
FINAL = {"completed", "failed", "cancelled"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    """A child process in its own process group, logging to ``home/<name>.log``."""

    def __init__(self, name: str, args: list[str], home: Path, env: dict[str, str]) -> None:
        self.name, self.args, self.home, self.env = name, args, home, env
        self.p: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        log = (self.home / f"{self.name}.log").open("ab")
        self.p = subprocess.Popen(self.args, env=self.env, stdout=log, stderr=log,
                                  start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.p is not None and self.p.poll() is None

    def signal(self, sig: int, wait: float = 60) -> None:
        if self.p is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.p.pid, sig)
        try:
            self.p.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):  # children left in the group
            os.killpg(self.p.pid, signal.SIGKILL)


class Cluster:
    """Scheduler, worker and API of one fault run."""

    def __init__(self, home: Path, mode: str) -> None:
        self.home, self.mode = home, mode
        self.port, self.sched_port = _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.address = f"tcp://127.0.0.1:{self.sched_port}"
        env = {**os.environ, "BAYESMMM_HOME": str(home), "BAYESMMM_MAX_ATTEMPTS": "6",
               "BAYESMMM_LEASE_SECONDS": "15"}
        if mode == "separate":
            env["BAYESMMM_DASK_SCHEDULER"] = self.address
        py = sys.executable
        self.scheduler = Proc("scheduler", [py, "-m", "distributed.cli.dask_scheduler",
                                            "--host", "127.0.0.1", "--port",
                                            str(self.sched_port), "--dashboard-address",
                                            "127.0.0.1:0"], home, env)
        self.worker = Proc("worker", [py, "-m", "bayesmmm", "worker", self.address], home, env)
        self.api = Proc("api", [py, "-m", "bayesmmm", "serve", "--port", str(self.port),
                                "--log-level", "warning"], home, env)

    def start(self) -> None:
        if self.mode == "separate":
            self.scheduler.start()
            time.sleep(3)
            self.worker.start()
        self.start_api()

    def start_api(self) -> float:
        self.api.start()
        return self.wait_healthy()

    def wait_healthy(self, timeout: float = 180) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=3).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"the API did not become healthy; see {self.home}/api.log")

    def worker_pids(self) -> list[int]:
        import psutil

        root = self.worker if self.mode == "separate" else self.api
        assert root.p is not None
        out = []
        for child in psutil.Process(root.p.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                cmd = " ".join(child.cmdline())
                if "spawn_main" in cmd or "forkserver" in cmd or self.mode == "separate":
                    out.append(child.pid)
        return out

    def stop(self) -> None:
        for proc in (self.api, self.worker, self.scheduler):
            proc.signal(signal.SIGKILL, wait=10)


class Load:
    """Clients submitting ``n`` fits, each with its own seed, retrying refusals."""

    def __init__(self, url: str, n: int, clients: int, pace: float = 0.0) -> None:
        self.url, self.n, self.clients, self.pace = url, n, clients, pace
        self.data = example_path().read_bytes()
        self.accepted: dict[int, list[str]] = collections.defaultdict(list)
        self.retries = collections.Counter[str]()
        self.lock = threading.Lock()
        self.todo = iter(range(n))
        self.threads = [threading.Thread(target=self._client, daemon=True)
                        for _ in range(clients)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def done(self) -> bool:
        return not any(t.is_alive() for t in self.threads)

    def _client(self) -> None:
        with httpx.Client(timeout=120) as http:
            while True:
                with self.lock:
                    seed = next(self.todo, None)
                if seed is None:
                    return
                time.sleep(self.pace)
                while True:
                    try:
                        r = http.post(f"{self.url}/v1/tasks", data={**FORM, "seed": str(seed)},
                                      files={"file": ("example.csv", self.data)})
                    except httpx.HTTPError as exc:
                        with self.lock:
                            self.retries[type(exc).__name__] += 1
                        time.sleep(1)
                        continue
                    if r.status_code == 202:
                        with self.lock:
                            self.accepted[seed].append(r.json()["task_id"])
                        break
                    with self.lock:
                        self.retries[f"HTTP {r.status_code}"] += 1
                    time.sleep(1)


def _tasks(url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = httpx.get(f"{url}/v1/tasks", params={"limit": 200, "offset": offset},
                         timeout=60).json()
        out += page["tasks"]
        offset += 200
        if offset >= page["total"]:
            return out


def _completed(url: str) -> int:
    """Fits that ended (completed or failed) so far."""
    total = 0
    for status in ("completed", "failed"):
        while True:
            try:
                total += int(httpx.get(f"{url}/v1/tasks", params={"status": status, "limit": 1},
                                       timeout=30).json()["total"])
                break
            except (httpx.HTTPError, KeyError, ValueError):
                time.sleep(1)
    return total


def _wait_completions(url: str, more: int, total: int, timeout: float = 900) -> float:
    """Seconds until ``more`` further fits have ended (of ``total`` in all)."""
    start, base = time.monotonic(), _completed(url)
    goal = min(base + more, total)
    while time.monotonic() - start < timeout:
        if _completed(url) >= goal:
            return time.monotonic() - start
        time.sleep(1)
    return float("nan")


def _running(url: str, timeout: float = 300) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
            page = httpx.get(f"{url}/v1/tasks", params={"status": "running", "limit": 5},
                             timeout=30).json()
            if any(t["phase"] in ("warmup", "sampling") for t in page["tasks"]):
                return
        time.sleep(0.3)


def run(n: int, clients: int, mode: str, home: Path, pace: float = 0.0) -> dict[str, Any]:
    cluster = Cluster(home, mode)
    try:
        return _run(cluster, n, clients, mode, home, pace)
    finally:
        cluster.stop()


def _run(cluster: Cluster, n: int, clients: int, mode: str, home: Path,
         pace: float) -> dict[str, Any]:
    cluster.start()
    load = Load(cluster.url, n, clients, pace)
    t0 = time.monotonic()
    load.start()
    kills: list[dict[str, Any]] = []

    def kill(name: str, action: Any) -> None:
        _running(cluster.url)
        started = time.monotonic()
        action()
        healthy = cluster.wait_healthy()
        next_fit = _wait_completions(cluster.url, 1, n)
        kills.append({"kill": name, "at_s": round(started - t0, 1),
                      "health_ok_after_s": round(healthy, 1),
                      "next_fit_ended_after_s": round(time.monotonic() - started
                                                      if next_fit == next_fit else next_fit, 1)})
        print(f"  {name}: health ok after {healthy:.1f} s, next fit "
              f"{kills[-1]['next_fit_ended_after_s']} s after the kill", flush=True)
        _wait_completions(cluster.url, max(2, n // 40), n)

    def kill_worker() -> None:
        pids = cluster.worker_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if mode == "separate" and not cluster.worker.alive():
            cluster.worker.start()

    def kill_scheduler() -> None:
        cluster.scheduler.signal(signal.SIGKILL)
        cluster.scheduler.start()
        # a worker that lost its scheduler gives up after a while; a supervisor restarts
        # it (as it would restart a crashed worker): wait for either to happen
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if not cluster.worker.alive():
                cluster.worker.start()
                return
            with contextlib.suppress(httpx.HTTPError, ValueError):
                if httpx.get(f"{cluster.url}/v1/health", timeout=10).json().get(
                        "executor", {}).get("workers", 0) > 0:
                    return
            time.sleep(1)
        cluster.worker.signal(signal.SIGKILL, wait=5)
        cluster.worker.start()

    def term_api() -> None:
        cluster.api.signal(signal.SIGTERM)
        cluster.api.start()

    def kill_api() -> None:
        cluster.api.signal(signal.SIGKILL)
        cluster.api.start()

    print(f"fault run: {n} fits, {clients} clients, mode {mode}, home {home}", flush=True)
    _wait_completions(cluster.url, max(2, n // 40), n)
    kill("SIGKILL worker", kill_worker)
    if mode == "separate":
        kill("SIGKILL scheduler", kill_scheduler)
    kill("SIGTERM API (process group)", term_api)
    kill("SIGKILL API", kill_api)
    while not load.done():
        time.sleep(1)
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        tasks = _tasks(cluster.url)
        if all(t["status"] in FINAL for t in tasks):
            break
        time.sleep(3)
    wall = time.monotonic() - t0
    tasks = {t["task_id"]: t for t in _tasks(cluster.url)}
    accepted = {task: seed for seed, ids in load.accepted.items() for task in ids}
    lost = [t for t in accepted if t not in tasks or tasks[t]["status"] not in FINAL]
    unknown = [t for t in tasks if t not in accepted]  # accepted, but the answer was cut off
    fit_files = {p.parent.name for p in (home / "artifacts").glob("*/fit.nc")}
    statuses = collections.Counter(t["status"] for t in tasks.values())
    attempts = collections.Counter(t["attempts"] for t in tasks.values())
    failed = {t["task_id"]: t["error"]["message"][:200] for t in tasks.values()
              if t["status"] == "failed"}
    missing_fits = [t for t, s in tasks.items() if s["status"] == "completed"
                    and t not in fit_files]
    return {
        "n": n, "clients": clients, "mode": mode, "pace_s": pace, "wall_s": round(wall, 1),
        "submissions_accepted": len(accepted), "tasks_in_store": len(tasks),
        "seeds_submitted": n, "seeds_accepted": len(load.accepted),
        "client_retries": dict(load.retries),
        "tasks_without_an_acknowledged_submission": len(unknown),
        "jobs_lost": len(lost), "duplicated_submissions": sum(
            1 for seed, ids in load.accepted.items() if len(ids) > 1) + len(unknown),
        "duplicated_runs_or_fit_files": 0 if len(fit_files) <= len(tasks) else
        len(fit_files) - len(tasks),
        "completed_without_fit_file": len(missing_fits),
        "statuses": dict(statuses), "attempts": dict(sorted(attempts.items())),
        "failed": failed, "kills": kills,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--mode", choices=["separate", "embedded"], default="separate")
    parser.add_argument("--pace", type=float, default=0.0,
                        help="Seconds each client waits before each submission (spread the "
                        "submissions over the kills).")
    parser.add_argument("--home", type=Path, default=None,
                        help="State folder (default: a temporary one, removed at the end).")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bayesmmm-faults-") as tmp:
        home = args.home or Path(tmp)
        home.mkdir(parents=True, exist_ok=True)
        figures = run(args.n, args.clients, args.mode, home, args.pace)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    ok = figures["jobs_lost"] == 0 and figures["duplicated_runs_or_fit_files"] == 0 \
        and figures["completed_without_fit_file"] == 0
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
