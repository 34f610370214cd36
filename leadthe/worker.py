"""The background worker: sends due mail from the outbox and runs due jobs.

Jobs are rows of ``Job``; a handler is registered per kind with ``@job_handler("kind")``. A job is
leased while it runs, retried with back-off when its handler raises, and a job whose worker died is
picked up again when its lease runs out, so handlers must be safe to repeat.

A recurring job says so where it is registered, ``@job_handler("retention.daily", every=timedelta(days=1))``
(optionally ``at=time(6)``, a time of day in UTC): the worker plans one whenever none is pending or running,
and plans the next run when one finishes. The areas import this module; it imports none of them.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from time import monotonic
from typing import Callable

import sqlalchemy as sa

from leadthe.database import upsert
from leadthe.extensions import db
from leadthe.mail import deliver_due, lease_skip_locked, record_failure, skip_locked
from leadthe.models import Job, WorkerHeartbeat, utcnow
from leadthe.models.enums import JobStatus
from leadthe.ops.telemetry import observed

log = logging.getLogger(__name__)

JOB_HANDLERS: dict[str, Callable[[Job], None]] = {}
JOB_LEASE = timedelta(minutes=15)
JOB_MAX_ATTEMPTS = 8
JOB_BATCH = 10  # jobs claimed per round-trip
MAIL_BATCH = 100  # mails claimed per round-trip


@dataclass(frozen=True)
class Recurrence:
    every: timedelta
    at: time | None = None  # time of day (UTC) of the next run, e.g. 06:00

    def next_run(self, now: datetime) -> datetime:
        due = now + self.every
        if self.at is not None:
            due = due.replace(hour=self.at.hour, minute=self.at.minute, second=0, microsecond=0)
        return due


RECURRING: dict[str, Recurrence] = {}


def job_handler(kind: str, every: timedelta | None = None, at: time | None = None):
    def register(fn):
        JOB_HANDLERS[kind] = fn
        if every is not None:
            RECURRING[kind] = Recurrence(every, at)
        return fn

    return register


def enqueue_job(kind: str, payload: dict | None = None, run_at: datetime | None = None) -> Job:
    """Add a job to the current transaction."""
    job = Job(kind=kind, payload=payload or {}, run_at=run_at or utcnow())
    db.session.add(job)
    return job


def _job_due(now: datetime):
    return sa.or_(
        sa.and_(Job.status == JobStatus.PENDING, Job.run_at <= now),
        sa.and_(Job.status == JobStatus.RUNNING, Job.locked_until <= now),
    )


def _claim_jobs(now: datetime, limit: int = JOB_BATCH) -> list[int]:
    """Lease up to ``limit`` due jobs in one round-trip (oldest first), counting an attempt for each.

    PostgreSQL: one statement (``lease_skip_locked``: a ``FOR UPDATE SKIP LOCKED`` pick, then UPDATE … RETURNING), so
    workers claiming at the same moment take different rows instead of queueing on the same few. SQLite: a
    compare-and-set per candidate row (one writer at a time there)."""
    lease = {"status": JobStatus.RUNNING, "locked_until": now + JOB_LEASE, "attempts": Job.attempts + 1}
    if skip_locked():
        claimed = lease_skip_locked(Job, _job_due(now), (Job.run_at, Job.id), limit, lease)
    else:
        candidates = db.session.scalars(
            sa.select(Job.id).where(_job_due(now)).order_by(Job.run_at, Job.id).limit(limit)).all()
        claimed = []
        for job_id in candidates:
            res = db.session.execute(sa.update(Job).where(Job.id == job_id, _job_due(now)).values(**lease))
            if res.rowcount == 1:
                claimed.append(job_id)
    db.session.commit()
    if len(claimed) > 1:  # RETURNING keeps no order: run them oldest first
        order = {job_id: n for n, job_id in enumerate(db.session.scalars(
            sa.select(Job.id).where(Job.id.in_(claimed)).order_by(Job.run_at, Job.id)))}
        claimed.sort(key=order.__getitem__)
    return claimed


def _claim_job(now: datetime) -> Job | None:
    """Lease one due job (the oldest)."""
    claimed = _claim_jobs(now, 1)
    return db.session.get(Job, claimed[0]) if claimed else None


def _leased_jobs(now: datetime, limit: int, stop: threading.Event | None = None):
    """Claim due jobs a batch at a time and hand them out one by one, at most ``limit`` in all.

    A job waits in its batch while the ones before it run: its lease is renewed before it starts once a third
    of the lease has gone by, and a job whose lease ran out meanwhile (another worker took it over) is
    skipped. After ``stop`` is set, the jobs not started yet are handed back at once."""
    given = 0
    while given < limit:
        batch = _claim_jobs(now, min(JOB_BATCH, limit - given))
        if not batch:
            return
        claimed_at = monotonic()
        lease = now + JOB_LEASE
        for position, job_id in enumerate(batch):
            if stop is not None and stop.is_set():
                _release_jobs(batch[position:], lease, now)
                return
            waited = timedelta(seconds=monotonic() - claimed_at)
            if waited > JOB_LEASE / 3:
                renewed = now + waited + JOB_LEASE
                res = db.session.execute(sa.update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING,
                                                              Job.locked_until == lease)
                                         .values(locked_until=renewed).execution_options(synchronize_session=False))
                db.session.commit()
                if res.rowcount != 1:
                    continue  # its lease ran out and another worker has it
            job = db.session.get(Job, job_id, populate_existing=True)
            if job is None:
                continue
            given += 1
            yield job
        if len(batch) < JOB_BATCH:
            return


def _release_jobs(ids: list[int], lease: datetime, now: datetime) -> None:
    """Jobs claimed but not started, handed back by a worker that stops: due again, the attempt not counted."""
    if ids:
        db.session.execute(sa.update(Job).where(Job.id.in_(ids), Job.status == JobStatus.RUNNING, Job.locked_until == lease)
                           .values(status=JobStatus.PENDING, locked_until=None, run_at=now, attempts=Job.attempts - 1)
                           .execution_options(synchronize_session=False))
        db.session.commit()


def run_due_jobs(now: datetime | None = None, limit: int = 50, stop: threading.Event | None = None) -> dict:
    now = now or utcnow()
    counts = {"done": 0, "retry": 0, "failed": 0}
    for job in _leased_jobs(now, limit, stop):
        handler = observed(job, JOB_HANDLERS.get(job.kind))  # ops: duration and failures by kind, log fields
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            handler(job)
        except Exception as exc:  # noqa: BLE001 - a failing job must not stop the worker
            db.session.rollback()
            log.exception("job %s (%s) failed", job.id, job.kind)
            job = db.session.get(Job, job.id)
            counts[record_failure(job, exc, now, max_attempts=JOB_MAX_ATTEMPTS, due_field="run_at")] += 1
        else:
            job.status = JobStatus.DONE
            job.finished_at = utcnow()
            job.locked_until = None
            if job.kind in RECURRING:
                _plan_next(job)
            counts["done"] += 1
        db.session.commit()
    return counts


def _guarded(step: str, fn, *args):
    """Run one part of a worker round; its failure is logged and rolled back, and the other parts still run."""
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 - mail must go out even when a job step fails, and the other way round
        db.session.rollback()
        log.exception("worker: %s failed", step)
        return {"error": True}


def _planned(kind: str, statuses: tuple[str, ...], besides: int | None = None) -> bool:
    query = sa.select(Job.id).where(Job.kind == kind, Job.status.in_(statuses))
    if besides is not None:
        query = query.where(Job.id != besides)
    return db.session.scalar(query.limit(1)) is not None


def _plan_next(job: Job) -> None:
    """A recurring job that finished plans its next run, in the same transaction."""
    if not _planned(job.kind, ("pending",), besides=job.id):
        enqueue_job(job.kind, run_at=RECURRING[job.kind].next_run(utcnow()))


def schedule_due_jobs(kinds=None) -> None:
    """Plan each recurring job that has no run pending or running (idempotent; the worker calls this every
    round). ``kinds`` limits it to some of them."""
    for kind in RECURRING if kinds is None else kinds:
        if not _planned(kind, ("pending", "running")):
            enqueue_job(kind)
            db.session.commit()


def run_once(now: datetime | None = None, stop: threading.Event | None = None) -> dict:
    """Drain what is due now: mail, then jobs; a failure in one does not keep the other from running.
    ``stop``: once set, the item at hand is finished and the rest of a claimed batch handed back."""
    mail = _guarded("mail", deliver_due, now) if stop is None else _guarded("mail", deliver_due, now, MAIL_BATCH, stop)
    return {"mail": mail, "jobs": _guarded("jobs", run_due_jobs, now, 50, stop)}


# --- heartbeats: which worker processes run, for /healthz and the metrics ------------------------------------------

STALE_AFTER = timedelta(minutes=5)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(name: str, *, jobs_done: int = 0, mails_sent: int = 0, started: bool = False) -> None:
    """Upsert this worker's heartbeat row (one statement) and add the round's counts."""
    now = utcnow()
    host, _, pid = name.rpartition(":")
    stmt = upsert(WorkerHeartbeat).values(name=name, host=host[:255], pid=int(pid or 0), started_at=now, seen_at=now,
                                          jobs_done=jobs_done, mails_sent=mails_sent)
    if started:  # a new process under a name seen before (a pid reused): its counts start again
        changes = {"started_at": now, "seen_at": now, "jobs_done": jobs_done, "mails_sent": mails_sent}
    else:
        changes = {"seen_at": now, "jobs_done": WorkerHeartbeat.jobs_done + jobs_done,
                   "mails_sent": WorkerHeartbeat.mails_sent + mails_sent}
    db.session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=changes))
    db.session.commit()


def forget(name: str) -> None:
    """A worker that stops cleanly removes its row: it is gone, not stale."""
    db.session.execute(sa.delete(WorkerHeartbeat).where(WorkerHeartbeat.name == name))
    db.session.commit()


def heartbeats() -> list:
    """Every worker's heartbeat row, oldest sighting first: rows with ``name``, ``host``, ``pid``,
    ``started_at``, ``seen_at``, ``jobs_done``, ``mails_sent`` and ``stale`` (not seen for 5 minutes)."""
    cutoff = utcnow() - STALE_AFTER
    t = WorkerHeartbeat
    return list(db.session.execute(
        sa.select(t.name, t.host, t.pid, t.started_at, t.seen_at, t.jobs_done, t.mails_sent,
                  (t.seen_at < cutoff).label("stale")).order_by(t.seen_at, t.name)))


def worker_health() -> dict:
    """For /healthz: how many workers were seen in the last 5 minutes, and the names of those that were not."""
    rows = heartbeats()
    return {"alive": sum(1 for row in rows if not row.stale), "stale": [row.name for row in rows if row.stale]}


def _did(result: dict) -> tuple[int, int]:
    """(jobs done, mails sent) of a round's counts."""
    return result["jobs"].get("done", 0), result["mail"].get("sent", 0)


def _busy(result: dict) -> bool:
    """Whether a round did any work: then the next round starts at once instead of after the interval."""
    return any(v for part in result.values() for k, v in part.items() if k != "error")


@dataclass(frozen=True)
class Companion:
    """Work that runs beside the worker's loop with threads of its own (the practice lab's runner polls for
    queued generations every 0.2 s, far more often than the loop's rounds). An area registers it, as it
    registers its jobs, so this module still imports no area."""

    start: Callable  # start(app, stop_event): start its threads; they end when stop_event is set
    drain: Callable  # drain(now=None) -> int: do what is due now in the calling thread (``worker --once``)


COMPANIONS: dict[str, Companion] = {}


def worker_companion(name: str, start: Callable, drain: Callable) -> None:
    COMPANIONS[name] = Companion(start, drain)


def drain_companions(now: datetime | None = None) -> dict[str, int]:
    return {name: companion.drain(now=now) for name, companion in COMPANIONS.items()}


def run_forever(app, interval: float = 5.0, stop: threading.Event | None = None, companions: bool = True,
                name: str | None = None, heartbeat: bool = True) -> None:
    """Rounds until ``stop`` is set: a round that found work is followed at once by the next, an idle one
    waits ``interval`` seconds. The heartbeat row (``name``, default "host:pid") is written at the start and
    after every round, and removed when the loop ends; the inline worker of a web process keeps none."""
    stop = stop or threading.Event()
    name = name or worker_name()
    if companions:
        for companion in COMPANIONS.values():
            companion.start(app, stop)
    if heartbeat:
        with app.app_context():
            _guarded("heartbeat", lambda: beat(name, started=True))
            db.session.remove()
    while not stop.is_set():
        busy = False
        try:
            with app.app_context():
                _guarded("scheduling", schedule_due_jobs)
                result = run_once(stop=stop)
                busy = _busy(result)
                jobs_done, mails_sent = _did(result)
                if heartbeat:
                    _guarded("heartbeat", lambda: beat(name, jobs_done=jobs_done, mails_sent=mails_sent))
        except Exception:  # noqa: BLE001 - keep the loop alive; the next round retries
            log.exception("worker round failed")
        finally:
            with app.app_context():
                db.session.remove()
        if not busy:
            stop.wait(interval)
    if heartbeat:
        with app.app_context():
            _guarded("heartbeat", forget, name)
            db.session.remove()


def stop_on_sigterm(stop: threading.Event) -> None:
    """SIGTERM (systemd, Kubernetes, ``kill``) and a first Ctrl+C: finish the item at hand, hand the rest of
    the claimed batch back, remove the heartbeat, stop. A second Ctrl+C interrupts at once.

    The handler runs in the main thread, possibly while that thread holds the event's own lock (inside
    ``stop.wait``): it must not take that lock itself, so a short thread sets the event."""
    def handler(signum, frame):
        if signum == signal.SIGINT and stop.is_set():
            raise KeyboardInterrupt
        threading.Thread(target=stop.set, name="leadthe-worker-stop", daemon=True).start()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def start_inline_worker(app, interval: float = 5.0) -> threading.Thread:
    thread = threading.Thread(target=run_forever, args=(app, interval), kwargs={"heartbeat": False},
                              name="leadthe-worker", daemon=True)
    thread.start()
    return thread
