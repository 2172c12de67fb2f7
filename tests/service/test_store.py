"""The job store on SQLite and PostgreSQL: schema, claims, leases, and that every state
change happens once."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa

from bayesmmm.service import JobStore
from bayesmmm.service.store._migrate import current_revision
from bayesmmm.service.store._schema import VERSION_TABLE, metadata


def _new(store: JobStore, owner: str = "", **kw: Any) -> str:
    spec = {"date_column": "d", "channel_columns": ["tv", "радио"], "priors": {
        "intercept": {"dist": "Normal", "params": {"loc": 0.0, "scale": 2.0}}}}
    return store.create(owner=owner, spec=spec, sampler={"chains": 1}, input_name="x.csv",
                        input_key="k/input", **kw).id


def test_migrations_match_the_model(store: JobStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    assert current_revision(store.engine) == "0003"
    store.migrate()  # idempotent
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(ctx, metadata)
                if not (d[0] == "remove_table" and d[1].name == VERSION_TABLE)]
    assert diff == []


def test_create_get_list(store: JobStore) -> None:
    a = _new(store, "alice", data_warnings=[{"code": "few_rows"}])
    b = _new(store, "bob")
    c = _new(store, "alice")
    job = store.get(a)
    assert job is not None and job.status == "pending" and job.attempts == 0
    assert job.spec["channel_columns"] == ["tv", "радио"]  # JSON round trip, unicode
    assert job.data_warnings == [{"code": "few_rows"}]
    assert store.get(a, owner="bob") is None
    jobs, total = store.list_jobs("alice")
    assert total == 2 and [j.id for j in jobs] == [c, a]  # newest first
    assert store.list_jobs("alice", limit=1, offset=1)[0][0].id == a
    assert store.list_jobs(status="pending")[1] == 3
    assert store.counts() == {"pending": 3}
    assert b in {j.id for j in store.list_jobs()[0]}


def test_a_run_goes_through_once(store: JobStore) -> None:
    task = _new(store)
    [job] = store.claim("server-1", 10, 30)
    assert job.id == task and job.lease_owner == "server-1" and job.lease_token
    token = job.lease_token
    assert store.claim("server-2", 10, 30) == []  # claimed jobs are not handed out twice
    assert store.mark_running(task, token, "tcp://w1")
    assert not store.mark_running(task, token)  # only once
    assert store.set_progress(task, token, "sampling", 0.5)
    assert not store.set_progress(task, "stale-token", "sampling", 0.9)
    running = store.get(task)
    assert running is not None and (running.status, running.attempts) == ("running", 1)
    assert (running.phase, running.progress, running.worker) == ("sampling", 0.5, "tcp://w1")
    assert not store.complete(task, "stale-token", "k/fit.nc", {})
    assert store.complete(task, token, f"{task}/fit.nc", {"warnings": ["w"]})
    assert not store.complete(task, token, "again", {})  # finished once
    assert not store.fail(task, token, "x", "y")
    done = store.get(task)
    assert done is not None and done.status == "completed" and done.result == {"warnings": ["w"]}
    assert done.lease_owner is None and done.finished_at is not None


def test_the_estimate_is_kept_until_a_rerun(store: JobStore) -> None:
    task = _new(store)
    [job] = store.claim("s", 1, 30)
    token = job.lease_token
    assert token is not None and store.mark_running(task, token)
    guess = {"low": 1.5, "expected": 3.0, "high": 9.0, "note": "from a pilot"}
    assert not store.set_estimate(task, "stale-token", {"note": "late"})
    assert store.set_estimate(task, token, guess)
    running = store.get(task)
    assert running is not None and running.estimate == guess
    assert store.complete(task, token, "k/fit.nc", {}, estimate={**guess, "expected": 4.0})
    done = store.get(task)
    assert done is not None and done.estimate is not None and done.estimate["expected"] == 4.0
    assert store.mark_damaged(task, "fit_missing", "gone") and store.rerun(task)
    again = store.get(task)
    assert again is not None and again.estimate is None


def test_cancel(store: JobStore) -> None:
    pending, running = _new(store), _new(store)
    claimed = {j.id: j for j in store.claim("s", 10, 30)}
    token = claimed[running].lease_token
    assert token is not None and store.mark_running(running, token)
    assert not store.cancel(pending, owner="somebody-else")
    assert store.cancel(pending) and store.cancel(running)
    assert not store.cancel(running)  # already ended
    assert not store.complete(running, token, "k", {})  # a late result is dropped
    assert store.counts() == {"cancelled": 2}
    assert store.renew("s", 30) == {}


def test_requeue_and_fail(store: JobStore) -> None:
    task = _new(store)
    [job] = store.claim("s", 1, 30)
    assert job.lease_token is not None
    assert store.requeue(task, job.lease_token)
    again = store.get(task)
    assert again is not None and again.status == "pending" and again.lease_owner is None
    [job] = store.claim("s", 1, 30)
    assert job.lease_token is not None
    assert store.fail(task, job.lease_token, "invalid_data", "fix it", {"validation": {}})
    failed = store.get(task)
    assert failed is not None and (failed.error_code, failed.error_message) == (
        "invalid_data", "fix it")


def test_leases_renew_expire_and_release(store: JobStore) -> None:
    a, b, c = _new(store), _new(store), _new(store)
    held = {j.id: j.lease_token for j in store.claim("dead", 3, lease_seconds=-1)}
    for task in (a, b):
        token = held[task]
        assert token is not None and store.mark_running(task, token)
    store.mark_running(b, str(held[b]))
    with store.engine.begin() as conn:  # b has used up its runs
        conn.execute(sa.text("UPDATE bayesmmm_jobs SET attempts = 3 WHERE id = :i"), {"i": b})
    assert store.renew("alive", 30) == {}
    moved = store.recover_expired(max_attempts=3)
    assert sorted(moved) == sorted([a, b, c])
    states = {t: store.get(t) for t in (a, b, c)}
    assert states[a].status == "pending" and states[a].attempts == 1  # type: ignore[union-attr]
    assert states[c].status == "pending"  # type: ignore[union-attr]
    lost = states[b]
    assert lost is not None and lost.status == "failed" and lost.error_code == "lost"
    assert "3 runs in a row" in str(lost.error_message) and "Fix:" in str(lost.error_message)
    # A restarted server takes back its own jobs at once, lease or not.
    held = {j.id: j.lease_token for j in store.claim("me", 5, lease_seconds=300)}
    assert set(held) == {a, c}
    assert set(store.renew("me", 300)) == {a, c}
    assert store.recover_expired(3) == []  # leases still valid
    assert sorted(store.release("me", 3)) == sorted([a, c])
    assert store.counts() == {"pending": 2, "failed": 1}


def test_concurrent_claims_never_overlap(store: JobStore) -> None:
    tasks = {_new(store) for _ in range(30)}
    claimed: dict[str, list[str]] = {}

    def claim(name: str) -> None:
        got: list[str] = []
        while True:
            batch = store.claim(name, 3, 30)
            if not batch:
                break
            got += [j.id for j in batch]
        claimed[name] = got

    threads = [threading.Thread(target=claim, args=(f"s{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [t for got in claimed.values() for t in got]
    assert sorted(everything) == sorted(tasks)  # each job exactly once


def test_rows_survive_a_new_connection(store: JobStore) -> None:
    task = _new(store)
    [job] = store.claim("s", 1, 30)
    assert job.lease_token and store.mark_running(task, job.lease_token)
    store.complete(task, job.lease_token, f"{task}/fit.nc", {"fit_metrics": {"r2": 0.9}})
    again = JobStore(sa.create_engine(store.engine.url, **_connect_args(store)))
    done = again.get(task)
    assert done is not None and done.status == "completed" and done.fit_key == f"{task}/fit.nc"
    again.dispose()


def _connect_args(store: JobStore) -> dict[str, Any]:
    if store.engine.dialect.name != "postgresql":
        return {}
    with store.engine.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    return {"connect_args": {"options": f"-csearch_path={schema}"}}
