"""/metrics (issue 23): the bearer token guards it, it counts requests, errors and jobs, reads the queues from the
database, sums the workers of a gunicorn server in multi-process mode; request ids and JSON log lines."""
from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from leadthe.extensions import db
from leadthe.models import Job, OutboxMail, WorkerHeartbeat, utcnow
from leadthe.ops import logs
from leadthe.worker import JOB_HANDLERS, run_due_jobs
from tests.conftest import ROOT, free_port, post_form

TOKEN = "metrics-token-for-the-tests-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def value(text: str, name: str, **labels) -> float:
    """The sample ``name{labels}`` of a scrape (labels not given may be anything: their values are summed); 0 if absent."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def scrape(client) -> str:
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def metered(app, make_app):
    """An app with the token set, on the test database (``app``: its rows are deleted after the test)."""
    return make_app(METRICS_TOKEN=TOKEN)


def test_metrics_do_not_exist_without_the_token_setting(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=BEARER).status_code == 404


def test_metrics_need_the_bearer_token(metered):
    client = metered.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": "Bearer"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "leadthe_" not in response.get_data(as_text=True)
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    assert "# TYPE leadthe_http_request_duration_seconds histogram" in response.get_data(as_text=True)


def test_a_scrape_with_a_session_cookie_touches_no_session(metered, companies):
    a, _ = companies
    client = metered.test_client()
    post_form(client, "/login", {"email": a.learner.email, "password": "velvet tuesday orbit lantern"})
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    # a POST is not a scrape (and has no CSRF token): refused before anything runs
    assert client.post("/metrics", headers=BEARER).status_code in (400, 405)


def test_requests_are_counted_by_endpoint_never_by_path(metered):
    client = metered.test_client()
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no-such-page/ann@example.com").status_code == 404
    assert client.get("/certificates/SECRETCODE123").status_code == 404
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("leadthe_http_requests_total", endpoint="core.healthz", method="GET", status="2xx") == 3
    assert delta("leadthe_http_request_duration_seconds_count", endpoint="core.healthz", method="GET") == 3
    assert delta("leadthe_http_request_duration_seconds_bucket", endpoint="core.healthz", method="GET", le="+Inf") == 3
    assert delta("leadthe_http_requests_total", endpoint="none", status="4xx") == 1  # no route matched
    assert delta("leadthe_http_requests_total", endpoint="assessments.certificate", status="4xx") == 1
    assert "ann@example.com" not in after and "SECRETCODE123" not in after and "no-such-page" not in after


def test_server_errors_are_counted(app, make_app):
    app = make_app(METRICS_TOKEN=TOKEN, TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.route("/test-boom")
    def boom():
        raise RuntimeError("boom")

    client = app.test_client()
    before = value(scrape(client), "leadthe_http_errors_total", endpoint="boom")
    assert client.get("/test-boom").status_code == 500
    after = scrape(client)
    assert value(after, "leadthe_http_errors_total", endpoint="boom") == before + 1
    assert value(after, "leadthe_http_requests_total", endpoint="boom", status="5xx") >= 1


def test_queue_depth_and_oldest_age_come_from_the_database(metered):
    now = utcnow()
    with metered.app_context():
        db.session.add_all([
            Job(kind="privacy.export", run_at=now - timedelta(minutes=10)),
            Job(kind="privacy.export", run_at=now - timedelta(minutes=2)),
            Job(kind="privacy.export", run_at=now + timedelta(hours=1)),
            Job(kind="privacy.export", status="running", run_at=now, locked_until=now + timedelta(minutes=5)),
            Job(kind="retention.daily", status="failed", run_at=now - timedelta(days=1)),
            OutboxMail(kind="test", to_addr="ann@example.com", subject="Hello", body_text="Hi",
                       next_attempt_at=now - timedelta(minutes=3)),
            OutboxMail(kind="test", to_addr="bob@example.com", subject="Hello", body_text="Hi",
                       next_attempt_at=now + timedelta(minutes=30)),
            OutboxMail(kind="test", to_addr="cy@example.com", subject="Hello", body_text="Hi", status="failed"),
        ])
        db.session.commit()
    text = scrape(metered.test_client())
    assert value(text, "leadthe_job_queue_depth", kind="privacy.export", state="due") == 2
    assert value(text, "leadthe_job_queue_depth", kind="privacy.export", state="scheduled") == 1
    assert value(text, "leadthe_job_queue_depth", kind="privacy.export", state="running") == 1
    assert value(text, "leadthe_job_queue_depth", kind="retention.daily", state="failed") == 1
    assert 600 <= value(text, "leadthe_job_oldest_due_age_seconds", kind="privacy.export") < 900
    assert value(text, "leadthe_job_oldest_due_age_seconds", kind="retention.daily") == 0
    assert value(text, "leadthe_mail_queue_depth", state="due") == 1
    assert value(text, "leadthe_mail_queue_depth", state="scheduled") == 1
    assert value(text, "leadthe_mail_queue_depth", state="failed") == 1
    assert 180 <= value(text, "leadthe_mail_oldest_due_age_seconds") < 600
    assert "example.com" not in text
    assert value(text, "leadthe_metrics_database_ok") == 1


def test_a_scrape_answers_while_the_database_is_down(make_app, tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/missing-dir/nothing/here.db", METRICS_TOKEN=TOKEN)
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    text = scrape(client)
    assert value(text, "leadthe_metrics_database_ok") == 0
    assert value(text, "leadthe_http_requests_total", endpoint="core.healthz", status="5xx") >= 1
    assert "leadthe_job_queue_depth{" not in text


def test_worker_heartbeat_ages(metered):
    """Each running worker's age since it was last seen; a worker that stopped cleanly (its row gone) is not listed."""
    client = metered.test_client()
    assert value(scrape(client), "leadthe_worker_heartbeat_age_seconds") == 0
    now = utcnow()
    with metered.app_context():
        db.session.add_all([
            WorkerHeartbeat(name=name, host=name.split(":")[0], pid=pid, started_at=now - timedelta(hours=1),
                            seen_at=now - ago, jobs_done=0, mails_sent=0)
            for name, pid, ago in (("box-1:100", 100, timedelta(seconds=20)), ("box-2:200", 200, timedelta(minutes=9)))])
        db.session.commit()
    text = scrape(client)
    assert 20 <= value(text, "leadthe_worker_heartbeat_age_seconds", worker="box-1:100") < 120
    assert 540 <= value(text, "leadthe_worker_heartbeat_age_seconds", worker="box-2:200") < 640
    with metered.app_context():
        db.session.execute(sa.delete(WorkerHeartbeat).where(WorkerHeartbeat.name == "box-1:100"))
        db.session.commit()
    assert 'worker="box-1:100"' not in scrape(client)


def test_job_durations_and_failures_by_kind(metered, monkeypatch):
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logs.JsonFormatter())
    for name in ("tests.jobs", "leadthe.worker"):
        logging.getLogger(name).addHandler(handler)
    logging.getLogger("tests.jobs").setLevel(logging.INFO)

    def works(job):
        logging.getLogger("tests.jobs").info("exporting for ann@example.com")

    def fails(job):
        raise RuntimeError("disk full")

    monkeypatch.setitem(JOB_HANDLERS, "test.works", works)
    monkeypatch.setitem(JOB_HANDLERS, "test.fails", fails)
    client = metered.test_client()
    before = scrape(client)
    with metered.app_context():
        ok = Job(kind="test.works", run_at=utcnow() - timedelta(seconds=1))
        db.session.add_all([ok, Job(kind="test.fails", run_at=utcnow() - timedelta(seconds=1))])
        db.session.commit()
        ok_id = ok.id
        assert run_due_jobs() == {"done": 1, "retry": 1, "failed": 0}
    for name in ("tests.jobs", "leadthe.worker"):
        logging.getLogger(name).removeHandler(handler)
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("leadthe_job_duration_seconds_count", kind="test.works", outcome="ok") == 1
    assert delta("leadthe_job_duration_seconds_count", kind="test.fails", outcome="error") == 1
    assert delta("leadthe_job_failures_total", kind="test.fails") == 1
    assert delta("leadthe_job_failures_total", kind="test.works") == 0
    written = [json.loads(line) for line in lines.getvalue().splitlines()]
    line = next(line for line in written if line["logger"] == "tests.jobs")
    assert line["job_id"] == ok_id and line["job_kind"] == "test.works" and "request_id" not in line
    assert line["message"] == "exporting for [email]"
    failure = next(line for line in written if line["logger"] == "leadthe.worker")  # logged after the handler ended
    assert failure["job_kind"] == "test.fails" and failure["level"] == "ERROR" and "disk full" in failure["exception"]


def test_request_ids_are_kept_when_safe_and_made_otherwise(client):
    kept = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a.9:x_1"})
    assert kept.headers["X-Request-Id"] == "lb-7f3a.9:x_1"
    for unsafe in ("ann@example.com", "a b", "x" * 129, "<script>", ""):
        answer = client.get("/healthz", headers={"X-Request-Id": unsafe})
        assert re.fullmatch(r"[0-9a-f]{16}", answer.headers["X-Request-Id"]), unsafe
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]
    stylesheet = client.get("/static/css/app.css")  # files weigh on every cold page: no id there
    stylesheet.close()
    assert stylesheet.status_code == 200 and "X-Request-Id" not in stylesheet.headers


def test_scrubbing_takes_out_personal_data_and_tokens():
    text = logs.scrub("mail to Ann.Lee+x@mail.example.co.uk from 203.0.113.9 and 2001:db8::1 failed; "
                      "GET /privacy/exports/7/download?token=abc Authorization: Bearer eyJhbGciOi.J9eyJz.dWIiOiIx; "
                      "password=hunter2 reset IjEiLjZ4c3Rva2VuLWlzLWxvbmctZW5vdWdo at 12:30:45 in leadthe_http_requests_total")
    for secret in ("Ann.Lee", "mail.example", "203.0.113", "2001:db8", "token=abc", "eyJhbGciOi", "hunter2", "IjEiLjZ4"):
        assert secret not in text, secret
    assert "12:30:45" in text and "leadthe_http_requests_total" in text and "/privacy/exports/7/download?[query]" in text


def test_json_log_lines_carry_the_request_id_and_no_email(app, make_app, companies):
    a, _ = companies
    root = logging.getLogger()
    saved = list(root.handlers), root.level  # put back afterwards: the app installs its JSON handler on the root logger
    lines = io.StringIO()
    try:
        app = make_app(LOG_FORMAT="json")
        assert [h.name for h in root.handlers] == [logs.HANDLER_NAME]
        log = logging.getLogger("tests.view")

        @app.route("/test-logs")
        def logs_something():
            log.warning("could not reach %s with key %s", "ann@example.com", "sk-live-0123456789abcdefABCDEF")
            return "ok"

        logs.install_json_handler(lines)  # the same handler, writing where the test reads
        client = app.test_client()
        answer = client.get("/test-logs?email=ann@example.com", headers={"X-Request-Id": "req-1234"})
        post_form(client, "/login", {"email": a.learner.email, "password": "wrong password for the test"})
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    assert answer.headers["X-Request-Id"] == "req-1234"
    parsed = [json.loads(line) for line in lines.getvalue().splitlines()]
    mine = [line for line in parsed if line.get("request_id") == "req-1234"]
    assert {line["logger"] for line in mine} >= {"tests.view", "leadthe.request"}
    for line in mine:
        assert {"time", "level", "logger", "message", "request_id", "endpoint"} <= set(line)
        assert line["endpoint"] == "logs_something"
    request_line = next(line for line in mine if line["logger"] == "leadthe.request")
    assert request_line["status"] == 200 and request_line["method"] == "GET" and "test-logs" not in request_line["message"]
    text = lines.getvalue()
    assert "@" not in text and "sk-live" not in text and a.learner.email not in text
    assert any(line.get("endpoint") == "auth.login" and line.get("status") == 422 for line in parsed)


# --- gunicorn with two workers in multi-process mode ----------------------------------------------------------

def _get(port: int, path: str, headers=None) -> tuple[int, str, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), dict(err.headers)


def _counts_per_process(directory) -> dict[int, float]:
    """Each process's own count of /healthz answers, read from its file alone."""
    counts = {}
    for name in os.listdir(directory):
        match = re.fullmatch(r"counter_(\d+)\.db", name)
        if not match:
            continue
        alone = directory / f"only-{match.group(1)}"
        alone.mkdir(exist_ok=True)
        shutil.copy(directory / name, alone / name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        total = sum(s.value for m in registry.collect() for s in m.samples
                    if s.name == "leadthe_http_requests_total" and s.labels.get("endpoint") == "core.healthz")
        counts[int(match.group(1))] = total
    return counts


@pytest.fixture
def gunicorn_server(tmp_path):
    bin_dir = os.path.dirname(sys.executable)
    metrics_dir = tmp_path / "prometheus"
    env = {**os.environ, "LEADTHE_ENV": "test", "LEADTHE_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
           "LEADTHE_INSTANCE_PATH": str(tmp_path / "instance"), "LEADTHE_INLINE_WORKER": "0",
           "LEADTHE_METRICS_TOKEN": TOKEN, "LEADTHE_LOG_FORMAT": "json", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
           "GUNICORN_WORKERS": "2"}
    env.pop("LEADTHE_TEST_DATABASE_URL", None)
    subprocess.run([os.path.join(bin_dir, "flask"), "--app", "app", "db", "upgrade", "heads"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=180)
    port = free_port()
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log_file:
        server = subprocess.Popen([os.path.join(bin_dir, "gunicorn"), "-c", "deploy/gunicorn.conf.py", "app:app"],
                                  cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            try:
                if _get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("gunicorn did not start: " + log_path.read_text())
        yield port, metrics_dir, log_path, env
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_scrape_sums_both_gunicorn_workers(gunicorn_server):
    port, metrics_dir, log_path, env = gunicorn_server
    # the health checks of the start (one may have timed out while the workers booted, and been answered later)
    before = value(_get(port, "/metrics", BEARER)[1], "leadthe_http_requests_total", endpoint="core.healthz")
    sent = 0
    per_process: dict[int, float] = {}
    for _round in range(20):  # sync workers take connections as they are free: parallel requests reach both
        answers = []

        def ask(i):
            answers.append(_get(port, "/healthz?email=ann@example.com", {"X-Request-Id": f"test-{i}"})[0])

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [200] * 16
        sent += 16
        per_process = _counts_per_process(metrics_dir)
        if len([pid for pid, count in per_process.items() if count > 0]) >= 2:
            break
    assert len([count for count in per_process.values() if count > 0]) == 2, per_process

    assert _get(port, "/metrics")[0] == 401
    status, text, headers = _get(port, "/metrics", BEARER)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    total = value(text, "leadthe_http_requests_total", endpoint="core.healthz", method="GET", status="2xx")
    assert total - before == sent and total == sum(per_process.values())
    assert value(text, "leadthe_http_request_duration_seconds_count", endpoint="core.healthz") == total
    assert value(text, "leadthe_http_requests_total", endpoint="ops.metrics", status="2xx") >= 1
    assert value(text, "leadthe_job_queue_depth") == 0 and "leadthe_mail_queue_depth" in text

    # JSON log lines: one object per line, with the request's id, and no e-mail address (it was in every query)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    ids = {line.get("request_id") for line in lines if line.get("logger") == "leadthe.request"}
    assert {"test-0", "test-15"} <= ids
    assert "ann@example.com" not in log_path.read_text()

    # a `leadthe worker` sharing the folder: its job figures appear in the app server's /metrics
    engine = sa.create_engine(env["LEADTHE_DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(sa.insert(Job).values(kind="test.unknown", payload={}, run_at=utcnow() - timedelta(seconds=5)))
    engine.dispose()
    bin_dir = os.path.dirname(sys.executable)
    worker = subprocess.run([os.path.join(bin_dir, "flask"), "--app", "app", "leadthe", "worker", "--once"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=180)
    assert worker.returncode == 0, worker.stderr
    failure = next(json.loads(line) for line in worker.stderr.splitlines() if '"leadthe.worker"' in line)
    assert failure["job_kind"] == "test.unknown" and failure["level"] == "ERROR"
    text = _get(port, "/metrics", BEARER)[1]
    assert value(text, "leadthe_job_failures_total", kind="test.unknown") == 1
    assert value(text, "leadthe_job_duration_seconds_count", kind="test.unknown", outcome="error") == 1
    assert value(text, "leadthe_job_queue_depth", kind="test.unknown", state="scheduled") == 1  # backing off
