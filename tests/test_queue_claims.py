"""Claiming queue rows at scale: several workers take disjoint batches (PostgreSQL: FOR UPDATE SKIP LOCKED;
SQLite: compare-and-set), an expired lease is taken over, a worker stops gracefully on SIGTERM, and its
heartbeat shows in /healthz."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from leadthe.extensions import db
from leadthe.mail import LEASE, _claim, deliver_due
from leadthe.models import Job, OutboxMail, WorkerHeartbeat, utcnow
from leadthe.worker import (JOB_BATCH, JOB_HANDLERS, JOB_LEASE, _claim_jobs, beat, enqueue_job, forget, heartbeats,
                            run_due_jobs)
from tests.conftest import PG_URL, ROOT, free_port


def add_mails(app, count: int, **values) -> list[int]:
    with app.app_context():
        rows = [{"to_addr": f"person{n}@example.com", "subject": f"Mail {n}", "body_text": "Hello", "kind": "test",
                 "headers": {}, **values} for n in range(count)]
        db.session.execute(sa.insert(OutboxMail), rows)
        db.session.commit()
        return list(db.session.scalars(sa.select(OutboxMail.id).order_by(OutboxMail.id)))


def add_jobs(app, kind: str, count: int) -> list[int]:
    with app.app_context():
        jobs = [enqueue_job(kind, {"n": n}) for n in range(count)]
        db.session.commit()
        return [job.id for job in jobs]


def claim_side_by_side(app, claim, threads: int = 4) -> list[list[int]]:
    """``threads`` workers, each with its own session, claim batches at the same moment until nothing is left."""
    start = threading.Barrier(threads)
    taken: list[list[int]] = [[] for _ in range(threads)]
    errors = []

    def worker(n):
        try:
            with app.app_context():
                start.wait()
                while batch := claim():
                    taken[n].extend(batch)
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(60)
    assert not errors, errors
    return taken


def test_workers_claiming_mail_at_once_never_get_the_same_row(app):
    ids = add_mails(app, 120)
    now = utcnow()
    taken = claim_side_by_side(app, lambda: _claim(now, 7))
    everything = [mail_id for batch in taken for mail_id in batch]
    assert sorted(everything) == ids  # each mail claimed exactly once, none left behind
    with app.app_context():
        assert set(db.session.scalars(sa.select(OutboxMail.status))) == {"sending"}


def test_workers_claiming_jobs_at_once_never_get_the_same_row(app):
    ids = add_jobs(app, "test.claims", 60)
    now = utcnow()
    taken = claim_side_by_side(app, lambda: _claim_jobs(now, 4))
    assert sorted(job_id for batch in taken for job_id in batch) == ids
    with app.app_context():
        assert set(db.session.execute(sa.select(Job.status, Job.attempts))) == {("running", 1)}


def test_a_claim_takes_a_batch_oldest_first_and_no_more(app):
    ids = add_mails(app, 25)
    jobs = add_jobs(app, "test.claims", JOB_BATCH + 3)
    now = utcnow()
    with app.app_context():
        assert _claim(now, 10) == ids[:10]
        assert _claim(now, 10) == ids[10:20]
        assert _claim_jobs(now) == jobs[:JOB_BATCH]
        assert _claim_jobs(now) == jobs[JOB_BATCH:]
        assert _claim_jobs(now) == []


def test_an_expired_lease_is_claimed_again(app):
    [mail_id] = add_mails(app, 1)
    [job_id] = add_jobs(app, "test.claims", 1)
    now = utcnow()
    with app.app_context():
        assert _claim(now, 10) == [mail_id] and _claim_jobs(now) == [job_id]  # ...and the worker dies
        assert _claim(now + LEASE - timedelta(seconds=1), 10) == []  # still leased
        assert _claim_jobs(now + JOB_LEASE - timedelta(seconds=1)) == []
        assert _claim(now + LEASE, 10) == [mail_id]  # the lease ran out: another worker takes it over
        assert _claim_jobs(now + JOB_LEASE) == [job_id]
        job = db.session.get(Job, job_id, populate_existing=True)
        assert job.status == "running" and job.attempts == 2 and job.locked_until == now + 2 * JOB_LEASE


def test_a_locked_row_is_skipped_not_waited_on(app, backend):
    """PostgreSQL: while another transaction holds the oldest due mail and job (a worker in the middle of its
    claim), a claim takes the next ones at once instead of queueing behind it."""
    if backend != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time")
    mails = add_mails(app, 3)
    jobs = add_jobs(app, "test.claims", 3)
    now = utcnow()
    with app.app_context():
        with db.engine.connect() as other:
            other.execute(sa.select(OutboxMail.id).where(OutboxMail.id == mails[0]).with_for_update())
            other.execute(sa.select(Job.id).where(Job.id == jobs[0]).with_for_update())
            # were it waiting for the lock, the claim would fail after 5 s instead of answering
            db.session.execute(sa.text("SET lock_timeout = '5s'"))
            assert _claim(now, 10) == mails[1:]
            assert _claim_jobs(now) == jobs[1:]
            db.session.execute(sa.text("RESET lock_timeout"))
            db.session.commit()
            other.rollback()
        assert _claim(now, 10) == mails[:1]  # free again: the next claim gets it
        assert _claim_jobs(now) == jobs[:1]


def test_a_stopping_worker_finishes_the_job_at_hand_and_hands_back_the_rest(app):
    stop = threading.Event()
    ran = []

    def handler(job):
        ran.append(job.id)
        stop.set()  # SIGTERM arrives while the first job of the batch runs

    JOB_HANDLERS["test.stop"] = handler
    try:
        ids = add_jobs(app, "test.stop", 3)
        with app.app_context():
            assert run_due_jobs(stop=stop) == {"done": 1, "retry": 0, "failed": 0}
            rows = db.session.execute(sa.select(Job.id, Job.status, Job.attempts, Job.locked_until).order_by(Job.id)).all()
        assert ran == ids[:1]
        assert [(r.status, r.attempts, r.locked_until) for r in rows] == [("done", 1, None), ("pending", 0, None),
                                                                          ("pending", 0, None)]
        with app.app_context():  # due at once for the next worker, not after a lease
            assert run_due_jobs() == {"done": 2, "retry": 0, "failed": 0}
    finally:
        JOB_HANDLERS.pop("test.stop")


def test_a_stopping_worker_hands_back_unsent_mail(app):
    add_mails(app, 4)
    stop = threading.Event()
    stop.set()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # never reached: nothing is sent after the stop
    try:
        with app.app_context():
            assert deliver_due(stop=stop) == {"sent": 0, "retry": 0, "failed": 0}
            rows = db.session.execute(sa.select(OutboxMail.status, OutboxMail.attempts)).all()
    finally:
        app.config["SMTP_URL"] = None
    assert rows == [("pending", 0)] * 4


# --- heartbeats and /healthz ---------------------------------------------------------------------------------------

def test_healthz_reports_alive_and_stale_workers(app, client):
    with app.app_context():
        beat("worker-a:1", started=True)
        beat("worker-b:2", started=True)
        beat("worker-a:1", mails_sent=5, jobs_done=2)
        beat("worker-a:1", mails_sent=1)
    body = client.get("/healthz").get_json()
    assert body == {"status": "ok", "database": "ok", "workers": {"alive": 2, "stale": []}}
    with app.app_context():
        db.session.execute(sa.update(WorkerHeartbeat).where(WorkerHeartbeat.name == "worker-b:2")
                           .values(seen_at=utcnow() - timedelta(minutes=6)))
        db.session.commit()
        rows = {row.name: row for row in heartbeats()}
    assert rows["worker-a:1"].mails_sent == 6 and rows["worker-a:1"].jobs_done == 2 and not rows["worker-a:1"].stale
    assert rows["worker-b:2"].stale and rows["worker-b:2"].host == "worker-b" and rows["worker-b:2"].pid == 2
    response = client.get("/healthz")
    assert response.status_code == 200  # a load balancer keeps the app server: the workers are another matter
    assert response.get_json() == {"status": "degraded", "database": "ok", "workers": {"alive": 1, "stale": ["worker-b:2"]}}
    with app.app_context():
        forget("worker-b:2")  # it stopped cleanly after all
    assert client.get("/healthz").get_json()["status"] == "ok"


def test_retention_removes_heartbeats_of_workers_gone_for_a_week(app):
    from leadthe.privacy.retention import apply_retention

    with app.app_context():
        beat("old:1", started=True)
        beat("new:2", started=True)
        db.session.execute(sa.update(WorkerHeartbeat).where(WorkerHeartbeat.name == "old:1")
                           .values(seen_at=utcnow() - timedelta(days=8)))
        db.session.commit()
        assert apply_retention()["worker_7d"] == 1
        assert [row.name for row in heartbeats()] == ["new:2"]


# --- real worker processes --------------------------------------------------------------------------------------

class CountingSMTP:
    """An SMTP server on loopback (aiosmtpd) that counts what it receives by Message-ID."""

    def __init__(self):
        self.ids = Counter()
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server, session, envelope):
        found = re.search(rb"^Message-ID:\s*(\S+)", envelope.content, re.I | re.M)
        with self._lock:
            self.ids[found.group(1).decode() if found else "?"] += 1
        return "250 OK"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.controller.port}"


def worker_env(url: str, tmp_path, smtp_url: str | None = None) -> dict:
    env = {**os.environ, "LEADTHE_ENV": "test", "LEADTHE_DATABASE_URL": url, "LEADTHE_INLINE_WORKER": "0",
           "LEADTHE_SECRET_KEY": "queue-secret-" + "k" * 30, "LEADTHE_INSTANCE_PATH": str(tmp_path),
           "PYTHONUNBUFFERED": "1"}
    env.pop("LEADTHE_SMTP_URL", None)
    if smtp_url:
        env["LEADTHE_SMTP_URL"] = smtp_url
    return env


def start_worker(env: dict, interval: float = 0.5) -> subprocess.Popen:
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    return subprocess.Popen([flask, "--app", "app", "leadthe", "worker", "--interval", str(interval)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(condition, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_sigterm_stops_the_worker_cleanly_and_removes_its_heartbeat(app, database_url, tmp_path):
    """``kill <pid>`` (systemd, Kubernetes): the worker process ends on its own, exit status 0, and /healthz does
    not call it stale afterwards."""
    proc = start_worker(worker_env(database_url, tmp_path))
    try:
        def running():
            with app.app_context():
                return [row.pid for row in heartbeats()] == [proc.pid]

        wait_for(running, what="the worker's heartbeat")
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output
    assert "worker stopped" in output
    with app.app_context():
        assert heartbeats() == []


@pytest.fixture
def drain_database(tmp_path):
    """A database of its own on the PostgreSQL server (the suite's is reset by other tests), migrated."""
    if not PG_URL:
        pytest.skip("needs PostgreSQL (LEADTHE_TEST_DATABASE_URL)")
    base = sa.engine.make_url(PG_URL)
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS leadthe_queue_drain_test WITH (FORCE)")
        conn.exec_driver_sql("CREATE DATABASE leadthe_queue_drain_test")
    url = base.set(database="leadthe_queue_drain_test").render_as_string(hide_password=False)
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    subprocess.run([flask, "--app", "app", "db", "upgrade", "heads"], cwd=ROOT, env=worker_env(url, tmp_path), check=True,
                   capture_output=True, timeout=300)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS leadthe_queue_drain_test WITH (FORCE)")
    admin.dispose()


def test_three_worker_processes_drain_the_outbox_each_mail_exactly_once(drain_database, tmp_path):
    engine = sa.create_engine(drain_database)
    total = 300
    with engine.begin() as conn:
        conn.execute(OutboxMail.__table__.insert(), [
            {"to_addr": f"person{n}@example.com", "subject": f"Mail {n}", "body_text": "Hello", "kind": "test",
             "headers": {}, "status": "pending", "attempts": 0, "next_attempt_at": utcnow(), "last_error": "",
             "created_at": utcnow()} for n in range(total)])
        ids = list(conn.scalars(sa.select(OutboxMail.id)))

    def left() -> int:
        with engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(OutboxMail).where(OutboxMail.status != "sent"))

    with CountingSMTP() as smtp:
        env = worker_env(drain_database, tmp_path, smtp.url)
        workers = [start_worker(env) for _ in range(3)]
        try:
            wait_for(lambda: left() == 0, timeout=180, what="the outbox to drain")

            def counted():
                with engine.connect() as conn:
                    return conn.execute(sa.select(WorkerHeartbeat.pid, WorkerHeartbeat.mails_sent)).all()

            wait_for(lambda: sum(sent for _, sent in counted()) >= total, what="the heartbeats' counts")
            beats = counted()
            for proc in workers:
                proc.send_signal(signal.SIGTERM)
            outputs = [proc.communicate(timeout=60)[0] for proc in workers]
        finally:
            for proc in workers:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    assert [proc.returncode for proc in workers] == [0, 0, 0], outputs
    assert len(smtp.ids) == total and set(smtp.ids.values()) == {1}  # every mail once: no duplicate, none missing
    assert {int(message_id.split("-")[1].split(".")[0]) for message_id in smtp.ids} == set(ids)
    assert sorted(pid for pid, _ in beats) == sorted(proc.pid for proc in workers)
    assert sum(sent for _, sent in beats) == total  # the heartbeats count what each sent
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(WorkerHeartbeat)) == 0  # all stopped cleanly
    engine.dispose()
