"""Prometheus metrics: what the app servers and the worker count, and what is read from the database at scrape time.

Counted in the process (``prometheus_client``):

* ``leadthe_http_request_duration_seconds{endpoint,method}`` (histogram), ``leadthe_http_requests_total{endpoint,
  method,status}`` (status class ``2xx`` ...), ``leadthe_http_errors_total{endpoint}`` (5xx answers),
  ``leadthe_http_requests_in_progress``. The endpoint is Flask's endpoint name (``courses.lesson``), never the
  path: ids and tokens in URLs never become labels, and the number of series stays bounded.
* ``leadthe_job_duration_seconds{kind,outcome}`` (histogram; data exports are ``privacy.export``, evidence packs
  ``literacy.evidence``), ``leadthe_job_failures_total{kind}`` (a failed attempt: retried or given up).

With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn: deploy/gunicorn.conf.py), each process writes its values to
files there and a scrape of any worker sums those of all processes of the machine; otherwise one plain registry.

Read at scrape time (``QueueCollector``, a handful of aggregate queries, none per row):

* ``leadthe_job_queue_depth{kind,state}`` and ``leadthe_mail_queue_depth{state}``: state ``due`` (waiting to run
  now), ``scheduled`` (later, or backing off after a failed attempt), ``running`` / ``sending`` (leased) and
  ``failed`` (gave up);
* ``leadthe_job_oldest_due_age_seconds{kind}``, ``leadthe_mail_oldest_due_age_seconds``: how long the oldest
  due row has waited (0 when none);
* ``leadthe_worker_heartbeat_age_seconds{worker}`` from table ``worker_heartbeat``;
* ``leadthe_metrics_database_ok``: 0 when the database did not answer (the scrape still answers, without those).
"""
from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Flask, g, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.exc import SQLAlchemyError

from leadthe.extensions import db
from leadthe.models import Job, OutboxMail, WorkerHeartbeat, utcnow
from leadthe.models.enums import JobStatus, MailStatus
from leadthe.ops.logs import JOB_CONTEXT

log = logging.getLogger(__name__)

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
if MULTIPROC_DIR:
    os.makedirs(MULTIPROC_DIR, mode=0o700, exist_ok=True)

# The app's own registry (never the library's global one): several apps in one process (tests) share these objects.
REGISTRY = CollectorRegistry(auto_describe=True)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)

REQUEST_DURATION = Histogram("leadthe_http_request_duration_seconds", "Time to answer a request, by Flask endpoint",
                             ("endpoint", "method"), buckets=HTTP_BUCKETS, registry=REGISTRY)
REQUESTS = Counter("leadthe_http_requests_total", "Requests answered, by endpoint, method and status class",
                   ("endpoint", "method", "status"), registry=REGISTRY)
ERRORS = Counter("leadthe_http_errors_total", "Requests answered with a server error (5xx), by endpoint",
                 ("endpoint",), registry=REGISTRY)
IN_PROGRESS = Gauge("leadthe_http_requests_in_progress", "Requests being answered now",
                    registry=REGISTRY, multiprocess_mode="livesum")
JOB_DURATION = Histogram("leadthe_job_duration_seconds", "Time a job's handler ran, by kind and outcome (ok, error)",
                         ("kind", "outcome"), buckets=JOB_BUCKETS, registry=REGISTRY)
JOB_FAILURES = Counter("leadthe_job_failures_total", "Failed job attempts (retried later or given up), by kind",
                       ("kind",), registry=REGISTRY)


# --- requests -----------------------------------------------------------------------------------------------

def _labels() -> tuple[str, str]:
    method = request.method if request.method in METHODS else "other"
    return request.endpoint or "none", method  # "none": no route matched (a 404 for an unknown path)


def _observe(status: int) -> None:
    started = g.pop("_metrics_started", None)
    if started is None:
        return  # already counted (or started before the hooks existed)
    IN_PROGRESS.dec()
    endpoint, method = _labels()
    REQUEST_DURATION.labels(endpoint, method).observe(time.perf_counter() - started)
    REQUESTS.labels(endpoint, method, f"{status // 100}xx").inc()
    if status >= 500:
        ERRORS.labels(endpoint).inc()


def init_request_metrics(app: Flask) -> None:
    """Registered first (before every other hook): the time covers the other hooks, the commit among them."""

    @app.before_request
    def _start():
        g._metrics_started = time.perf_counter()
        IN_PROGRESS.inc()

    @app.after_request
    def _count(response):
        _observe(response.status_code)
        return response

    @app.teardown_request
    def _count_unanswered(exc):
        _observe(500)  # no-op when the answer was counted; otherwise the request ended in an error


# --- jobs -----------------------------------------------------------------------------------------------------

def observed(job, handler):
    """``handler`` (or, when the kind has none, one that says so) timed and counted, with the job's id and kind
    in the log lines it writes. Used by ``leadthe.worker.run_due_jobs``."""
    kind = job.kind

    def run(this_job):
        context = {"job_id": this_job.id, "job_kind": kind}
        token = JOB_CONTEXT.set(context)
        started = time.perf_counter()
        outcome = "error"
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {kind!r}")
            result = handler(this_job)
            outcome = "ok"
            return result
        except Exception as exc:
            exc.leadthe_job = context  # the worker logs the failure after this returns: its line still names the job
            raise
        finally:
            JOB_DURATION.labels(kind, outcome).observe(time.perf_counter() - started)
            if outcome == "error":
                JOB_FAILURES.labels(kind).inc()
            JOB_CONTEXT.reset(token)

    return run


# --- read at scrape time --------------------------------------------------------------------------------------

def _age(now: datetime, then: datetime | None) -> float:
    if then is None:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    return max(0.0, (now - then).total_seconds())


def _state(status: str, due: bool, leased: str) -> str:
    if status == "pending":
        return "due" if due else "scheduled"
    return leased if status != "failed" else "failed"


def _job_families(now: datetime) -> list:
    due = Job.run_at <= now
    rows = db.session.execute(
        sa.select(Job.kind, Job.status, due.label("due"), sa.func.count(), sa.func.min(Job.run_at))
        .where(Job.status.in_((JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED)))
        .group_by(Job.kind, Job.status, due)
    ).all()
    depth = GaugeMetricFamily("leadthe_job_queue_depth", "Jobs by kind and state (due, scheduled, running, failed)",
                              labels=("kind", "state"))
    oldest = GaugeMetricFamily("leadthe_job_oldest_due_age_seconds", "Seconds the oldest due job has waited, by kind",
                               labels=("kind",))
    counts: dict[tuple[str, str], int] = {}
    ages: dict[str, float] = {}
    for kind, status, is_due, count, first in rows:
        key = (kind, _state(status, bool(is_due), "running"))
        counts[key] = counts.get(key, 0) + count
        ages.setdefault(kind, 0.0)
        if status == "pending" and is_due:
            ages[kind] = max(ages[kind], _age(now, first))
    for (kind, state), count in sorted(counts.items()):
        depth.add_metric((kind, state), count)
    for kind, age in sorted(ages.items()):
        oldest.add_metric((kind,), age)
    return [depth, oldest]


def _mail_families(now: datetime) -> list:
    due = OutboxMail.next_attempt_at <= now
    rows = db.session.execute(
        sa.select(OutboxMail.status, due.label("due"), sa.func.count(), sa.func.min(OutboxMail.next_attempt_at))
        .where(OutboxMail.status.in_((MailStatus.PENDING, MailStatus.SENDING, MailStatus.FAILED)))
        .group_by(OutboxMail.status, due)
    ).all()
    depth = GaugeMetricFamily("leadthe_mail_queue_depth", "Outbox mails by state (due, scheduled, sending, failed)",
                              labels=("state",))
    counts = {state: 0 for state in ("due", "scheduled", "sending", "failed")}
    age = 0.0
    for status, is_due, count, first in rows:
        counts[_state(status, bool(is_due), "sending")] += count
        if status == "pending" and is_due:
            age = max(age, _age(now, first))
    for state, count in counts.items():
        depth.add_metric((state,), count)
    return [depth, GaugeMetricFamily("leadthe_mail_oldest_due_age_seconds", "Seconds the oldest due mail has waited",
                                     value=age)]


def _heartbeat_families(now: datetime) -> list:
    """Seconds since each running worker was last seen (table worker_heartbeat, the workers' own rows)."""
    family = GaugeMetricFamily("leadthe_worker_heartbeat_age_seconds", "Seconds since each worker was last seen",
                               labels=("worker",))
    for name, seen_at in db.session.execute(sa.select(WorkerHeartbeat.name, WorkerHeartbeat.seen_at)).all():
        family.add_metric((name,), _age(now, seen_at))
    return [family]


class QueueCollector:
    """Gauges computed from the database when /metrics is scraped (inside the request's app context). When the
    database does not answer, the scrape still answers (the request figures matter most then), with
    ``leadthe_metrics_database_ok 0`` instead of the queue figures."""

    def collect(self):
        now = utcnow()
        try:
            families = _job_families(now) + _mail_families(now) + _heartbeat_families(now)
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("metrics: the database did not answer; queue figures left out")
            families = []
        yield from families
        yield GaugeMetricFamily("leadthe_metrics_database_ok", "1 when the queue figures of this scrape were read, else 0",
                                value=1 if families else 0)


class _Registry:
    """The process's own metrics, for a registry that has no multi-process directory."""

    def collect(self):
        yield from REGISTRY.collect()


def exposition() -> bytes:
    """The text a scrape answers: the counted metrics (of every process of the machine in multi-process mode)
    and the gauges read from the database now."""
    registry = CollectorRegistry(auto_describe=False)
    if MULTIPROC_DIR:
        MultiProcessCollector(registry, path=MULTIPROC_DIR)
    else:
        registry.register(_Registry())
    registry.register(QueueCollector())
    return generate_latest(registry)
