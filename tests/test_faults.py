"""Faults: the database going away under a signed-in person, a worker killed in the middle of an export,
and many learners completing lessons at the same moment. (SMTP outages: tests/test_outbox.py; the database
unreachable from the start and /healthz: tests/test_security.py.)"""
from __future__ import annotations

import io
import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage

from leadthe.extensions import db
from leadthe.models import ActivityDay, Course, DataExport, Enrollment, Lesson, LessonCompletion, utcnow
from leadthe.worker import run_once
from tests.conftest import PASSWORD, csrf_from, free_port, make_org, make_user, post_form
from tests.helpers import login


# --- the database goes away ------------------------------------------------------------------------

def test_database_going_away_under_a_signed_in_person_gives_503_in_the_layout(app, client, companies, make_app):
    login(client, companies[0].learner.email)
    assert client.get("/dashboard").status_code == 200
    # The same site (same secret key, same session cookie) whose database now refuses connections: a
    # PostgreSQL address where nothing listens.
    gone = make_app(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    other = gone.test_client()
    other.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    for method, path in (("get", "/dashboard"), ("get", "/courses"), ("get", "/account/profile"), ("get", "/")):
        response = getattr(other, method)(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 503, (path, response.status_code, html[:500])
        assert "briefly unavailable" in html and '<main id="main"' in html and "<footer" in html, html[:800]
        assert "Traceback" not in html and "OperationalError" not in html and "psycopg" not in html
    for asker in (other, gone.test_client()):  # with the person's cookie, and as a load balancer asks (none)
        health = asker.get("/healthz")
        assert health.status_code == 503 and health.get_json() == {"status": "error", "database": "error"}
    # a form post while it is down: the CSRF token is still in the cookie session, the write fails cleanly
    token = csrf_from(client.get("/support").get_data(as_text=True))
    response = other.post("/support", data={"csrf_token": token, "subject": "Hi", "category": "courses", "body": "x"})
    assert response.status_code == 503 and '<main id="main"' in response.get_data(as_text=True)
    # and when it is back, the person is still signed in
    assert client.get("/dashboard").status_code == 200


# --- uploads --------------------------------------------------------------------------------------

def test_multipart_upload_over_the_limit_is_413(app, client, companies):
    login(client, companies[0].learner.email)
    token = csrf_from(client.get("/account/profile").get_data(as_text=True))
    # encoded here, in memory: the test client would spool a body this size to a temporary file that a
    # refused (unread) request leaves open
    from werkzeug.test import encode_multipart

    boundary, body = encode_multipart({"csrf_token": token, "name": "Big",
                                       "photo": FileStorage(io.BytesIO(os.urandom(6 * 1024 * 1024)), "big.jpg", content_type="image/jpeg")})
    response = client.post("/account/profile", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "too large" in html and '<main id="main"' in html


def test_upload_is_judged_by_content_a_jpeg_named_exe_works_and_text_named_jpg_does_not(app, client, companies):
    from leadthe.models import User

    login(client, companies[0].learner.email)

    def upload(content, name):
        token = csrf_from(client.get("/account/profile").get_data(as_text=True))
        return client.post("/account/profile", data={"csrf_token": token, "name": "Lee", "photo": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")

    jpeg = io.BytesIO()
    Image.new("RGB", (30, 30), (200, 10, 10)).save(jpeg, format="JPEG")
    assert upload(jpeg.getvalue(), "holiday.exe").status_code == 303
    with app.app_context():
        stored = db.session.get(User, companies[0].learner.id).photo
        assert stored and stored[:3] == b"\xff\xd8\xff"  # re-encoded JPEG
    refused = upload(b"just some text, not a picture\n" * 50, "photo.jpg")
    assert refused.status_code == 422 and "not a picture we can read" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, companies[0].learner.id).photo == stored  # unchanged


# --- a worker dies in the middle of an export -------------------------------------------------------

def _request_export(client, email):
    login(client, email)
    response = post_form(client, "/privacy/export", {"password": PASSWORD}, page="/privacy")
    assert response.status_code == 303
    return response.headers["Location"]


def _leftovers(app):
    folder = Path(app.config["EXPORT_DIR"])
    return sorted(p.name for p in folder.glob("leadthe-export-*")) if folder.exists() else []


class _DyingCsv:
    """csv.writer stand-in for the export module: writes the first rows, then the worker dies."""

    def __init__(self, die):
        import csv

        self.csv, self.die, self.rows = csv, die, 0

    def writer(self, out):
        real = self.csv.writer(out)
        outer = self

        class Writer:
            def writerow(self, row):
                real.writerow(row)
                outer.rows += 1
                if outer.rows == 3:  # a few rows in: the .part file is open and has content
                    out.flush()
                    outer.die()

        return Writer()


def test_export_failing_inside_the_zip_loop_leaves_nothing_and_the_retry_completes(client, app, companies, monkeypatch):
    import leadthe.privacy.export as export_module

    status_page = _request_export(client, companies[0].learner.email)

    def crash():
        raise OSError("disk went away")

    monkeypatch.setattr(export_module, "csv", _DyingCsv(crash))
    with app.app_context():
        run_once()
        export = db.session.scalar(sa.select(DataExport))
        assert export.status == "running" and export.file_name == ""
        db.session.remove()
    assert _leftovers(app) == []  # neither .zip nor .part
    page = client.get(status_page).get_data(as_text=True)
    assert "Download my data" not in page and "/download" not in page
    monkeypatch.undo()
    with app.app_context():
        run_once(utcnow() + timedelta(minutes=5))
        assert db.session.get(DataExport, export.id).status == "ready"
    assert "Download my data" in client.get(status_page).get_data(as_text=True)
    assert [name.endswith(".zip") for name in _leftovers(app)] == [True]


def test_worker_killed_mid_write_leaves_nothing_to_download_and_the_job_completes_on_restart(client, app, companies):
    """A real kill: the worker process ends at once (no except/finally runs), with the .part half written."""
    import leadthe.privacy.export as export_module

    status_page = _request_export(client, companies[0].learner.email)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # the child must not share the parent's connections
    pid = os.fork()
    if pid == 0:  # the worker process
        try:
            export_module.csv = _DyingCsv(lambda: os._exit(9))
            with app.app_context():
                run_once()
        finally:
            os._exit(1)  # not reached when killed mid-write
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 9, "the worker was not killed in the middle of the export"
    left = _leftovers(app)
    assert len(left) == 1 and left[0].endswith(".zip.part")  # what a killed process leaves behind
    with app.app_context():
        export = db.session.scalar(sa.select(DataExport))
        assert export.status == "running" and export.file_name == ""
        db.session.remove()
    page = client.get(status_page).get_data(as_text=True)
    assert "Download my data" not in page and "/download" not in page
    # the restarted worker takes the job up once its lease has run out, and clears the half-written file
    from leadthe.worker import JOB_LEASE

    with app.app_context():
        run_once(utcnow() + JOB_LEASE + timedelta(minutes=1))
        assert db.session.get(DataExport, export.id).status == "ready"
    assert "Download my data" in client.get(status_page).get_data(as_text=True)
    left = _leftovers(app)
    assert len(left) == 1 and left[0].endswith(".zip"), left


# --- many learners at once ------------------------------------------------------------------------

LEARNERS, LESSONS = 50, 3


@pytest.fixture
def crowd(app, tmp_path):
    from tests.helpers import load, write_course

    write_course(tmp_path, "crowd", LESSONS)
    load(app, tmp_path)
    org = make_org(app, "Crowd Inc")
    users = [make_user(app, org, email=f"learner{n}@crowd.example", name=f"Learner {n}") for n in range(LEARNERS)]
    from leadthe.courses import services
    from leadthe.models import User

    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.slug == "crowd"))
        for user in users:
            services.enroll(db.session.get(User, user.id), course)
        db.session.commit()
        lessons = list(db.session.scalars(sa.select(Lesson.slug).where(Lesson.course_id == course.id).order_by(Lesson.seq)))
    assert len(lessons) == LESSONS
    return users, lessons


@pytest.fixture
def patient_sqlite(app):
    """Let a SQLite writer wait up to 60 s for its turn instead of the product's 10 s, for one test.

    The 50 learners below are 50 threads in one interpreter, so the one holding the write lock shares the GIL with
    the 49 waiting for it, and the last in the queue waits for all 150 completions (about 3 s on a quiet machine,
    over 10 s beside CI's other shards). Fifty gunicorn processes would not queue like that. What the test guards
    is that writers queue instead of failing (``BEGIN IMMEDIATE``: a deferred transaction that read first gets
    "database is locked" at once, whatever the busy timeout) and that nothing is lost."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        yield
        return

    def wait_longer(dbapi_conn, _record):  # runs after the product's own PRAGMAs
        dbapi_conn.execute("PRAGMA busy_timeout=60000")

    def reconnect():  # connections opened so far take the setting now in force
        with app.app_context():
            db.session.remove()
            engine.dispose()

    sa.event.listen(engine, "connect", wait_longer)
    reconnect()
    try:
        yield
    finally:
        sa.event.remove(engine, "connect", wait_longer)
        reconnect()


def test_fifty_learners_completing_lessons_at_once_lose_no_update(app, crowd, patient_sqlite):
    users, lessons = crowd
    clients = []
    for n, user in enumerate(users):  # log in and take a CSRF token before the threads start: the race is the completions
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.{n}.1"  # 50 people on 50 machines (the log-in limit is per address)
        login(client, user.email)
        clients.append((user, client, csrf_from(client.get(f"/courses/crowd/lessons/{lessons[0]}").get_data(as_text=True))))
    barrier = threading.Barrier(LEARNERS)
    answers, errors = [], []

    def learner(client, token):
        try:
            barrier.wait(timeout=30)
            for slug in lessons:
                response = client.post(f"/courses/crowd/lessons/{slug}/complete", data={"csrf_token": token})
                answers.append((response.status_code, "database is locked" in response.get_data(as_text=True)))
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=learner, args=(client, token)) for _, client, token in clients]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.perf_counter() - started
    assert errors == [] and not any(t.is_alive() for t in threads)
    assert len(answers) == LEARNERS * LESSONS
    assert {code for code, _ in answers} <= {303}, sorted({code for code, _ in answers})
    assert not any(locked for _, locked in answers)
    ids = [user.id for user in users]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LessonCompletion)) == LEARNERS * LESSONS
        per_user = dict(db.session.execute(sa.select(LessonCompletion.user_id, sa.func.count()).group_by(LessonCompletion.user_id)).all())
        assert per_user == {uid: LESSONS for uid in ids}
        done = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(Enrollment.completed_at.is_not(None)))
        assert done == LEARNERS
        counters = dict(db.session.execute(sa.select(ActivityDay.user_id, sa.func.sum(ActivityDay.lessons_completed))
                                           .group_by(ActivityDay.user_id)).all())
        assert counters == {uid: LESSONS for uid in ids}
    # each learner sees their own progress
    user, client, _ = clients[7]
    assert f"{LESSONS} of {LESSONS} lessons done" in client.get("/courses/crowd").get_data(as_text=True)
    print(f"{LEARNERS * LESSONS} completions by {LEARNERS} learners in {elapsed:.2f}s")
