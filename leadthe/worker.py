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
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Callable

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.mail import deliver_due, record_failure
from leadthe.models import Job, utcnow
from leadthe.models.enums import JobStatus
from leadthe.ops.telemetry import observed

log = logging.getLogger(__name__)

JOB_HANDLERS: dict[str, Callable[[Job], None]] = {}
JOB_LEASE = timedelta(minutes=15)
JOB_MAX_ATTEMPTS = 8


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


def _claim_job(now: datetime) -> Job | None:
    candidates = db.session.scalars(
        sa.select(Job.id)
        .where(
            sa.or_(
                sa.and_(Job.status == JobStatus.PENDING, Job.run_at <= now),
                sa.and_(Job.status == JobStatus.RUNNING, Job.locked_until <= now),
            )
        )
        .order_by(Job.run_at, Job.id)
        .limit(5)
    ).all()
    for job_id in candidates:
        res = db.session.execute(
            sa.update(Job)
            .where(
                Job.id == job_id,
                sa.or_(
                    sa.and_(Job.status == JobStatus.PENDING, Job.run_at <= now),
                    sa.and_(Job.status == JobStatus.RUNNING, Job.locked_until <= now),
                ),
            )
            .values(status="running", locked_until=now + JOB_LEASE, attempts=Job.attempts + 1)
        )
        if res.rowcount == 1:
            db.session.commit()
            return db.session.get(Job, job_id)
    db.session.commit()
    return None


def run_due_jobs(now: datetime | None = None, limit: int = 50) -> dict:
    now = now or utcnow()
    counts = {"done": 0, "retry": 0, "failed": 0}
    for _ in range(limit):
        job = _claim_job(now)
        if job is None:
            break
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


def run_once(now: datetime | None = None) -> dict:
    """Drain what is due now: mail, then jobs; a failure in one does not keep the other from running."""
    return {"mail": _guarded("mail", deliver_due, now), "jobs": _guarded("jobs", run_due_jobs, now)}


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


def run_forever(app, interval: float = 5.0, stop: threading.Event | None = None, companions: bool = True) -> None:
    stop = stop or threading.Event()
    if companions:
        for companion in COMPANIONS.values():
            companion.start(app, stop)
    while not stop.is_set():
        try:
            with app.app_context():
                _guarded("scheduling", schedule_due_jobs)
                run_once()
        except Exception:  # noqa: BLE001 - keep the loop alive; the next round retries
            log.exception("worker round failed")
        finally:
            with app.app_context():
                db.session.remove()
        stop.wait(interval)


def start_inline_worker(app, interval: float = 5.0) -> threading.Thread:
    thread = threading.Thread(target=run_forever, args=(app, interval), name="leadthe-worker", daemon=True)
    thread.start()
    return thread
