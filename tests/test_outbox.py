"""The transactional outbox: mail is written with its cause and survives an SMTP outage."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from leadthe.extensions import db
from leadthe.mail import backoff, deliver_due, queue_mail
from leadthe.models import Job, OutboxMail, utcnow
from leadthe.worker import JOB_HANDLERS, enqueue_job, job_handler, run_due_jobs, run_once
from tests.conftest import PASSWORD, free_port, outbox
from tests.helpers import Inbox


class SMTPServer:
    """A real SMTP server on loopback (aiosmtpd), started and stopped at will."""

    def __init__(self, port):
        self.port = port
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(app):
    server = SMTPServer(free_port())
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{server.port}"
    yield server
    server.stop()
    app.config["SMTP_URL"] = None


def add_mail(app, to="someone@example.com", subject="Hello"):
    with app.test_request_context():
        mail = queue_mail(to, subject, "password_changed", kind="test", name="Someone")
        db.session.commit()
        return mail.id


def test_mail_is_delivered_over_smtp(app, smtp):
    smtp.start()
    mail_id = add_mail(app)
    with app.app_context():
        assert deliver_due() == {"sent": 1, "retry": 0, "failed": 0}
    [message] = smtp.inbox.messages
    assert message["To"] == "someone@example.com" and message["Subject"] == "Hello"
    assert message["Message-ID"].startswith(f"<outbox-{mail_id}.")
    assert "password of your LeadThe.AI account was just changed" in message.get_payload()
    [row] = outbox(app)
    assert row.status == "sent" and row.sent_at is not None


def test_mail_survives_an_smtp_outage_and_is_delivered_once_smtp_is_back(app, smtp):
    add_mail(app)
    now = utcnow()
    with app.app_context():
        assert deliver_due(now) == {"sent": 0, "retry": 1, "failed": 0}  # server down
    [row] = outbox(app)
    assert row.status == "pending" and row.attempts == 1 and "Error" in row.last_error
    assert row.next_attempt_at >= now + backoff(1) - timedelta(seconds=1)

    smtp.start()
    with app.app_context():
        assert deliver_due(now)["sent"] == 0  # not due yet: back-off is respected
        assert deliver_due(now + timedelta(minutes=5))["sent"] == 1
        assert deliver_due(now + timedelta(hours=1))["sent"] == 0  # never twice
    assert len(smtp.inbox.messages) == 1
    assert outbox(app)[0].status == "sent"


def test_worker_cli_once_delivers(app, smtp):
    smtp.start()
    add_mail(app)
    result = app.test_cli_runner().invoke(args=["leadthe", "worker", "--once"])
    assert result.exit_code == 0 and "'sent': 1" in result.output
    assert len(smtp.inbox.messages) == 1


def test_a_crash_after_claiming_is_retried_after_the_lease(app, smtp):
    """A worker that died mid-send leaves the row leased; another worker picks it up later."""
    smtp.start()
    add_mail(app)
    now = utcnow()
    with app.app_context():
        from leadthe.mail import _claim

        assert len(_claim(now, 10)) == 1  # ...and then the worker dies
        assert deliver_due(now)["sent"] == 0  # still leased
        assert deliver_due(now + timedelta(minutes=11))["sent"] == 1
    assert len(smtp.inbox.messages) == 1


def test_mail_gives_up_after_many_attempts(app, smtp):
    add_mail(app)
    now = utcnow()
    with app.app_context():
        for _ in range(30):
            now += timedelta(hours=7)
            deliver_due(now)
        row = db.session.scalar(sa.select(OutboxMail))
    assert row.status == "failed" and row.attempts == 12


def test_mail_is_part_of_its_transaction(app):
    with app.test_request_context():
        queue_mail("a@example.com", "Never sent", "password_changed", kind="test", name="A")
        db.session.rollback()  # the change that caused it failed
    assert outbox(app) == []


def test_without_smtp_mail_stays_in_the_outbox(app):
    add_mail(app)
    with app.app_context():
        assert deliver_due() == {"sent": 0, "retry": 0, "failed": 0}
    assert outbox(app)[0].status == "pending"


def test_jobs_run_retry_and_finish(app):
    calls = []

    @job_handler("test.flaky")
    def flaky(job):
        calls.append(job.id)
        if len(calls) == 1:
            raise RuntimeError("first try fails")

    try:
        with app.app_context():
            enqueue_job("test.flaky", {"x": 1})
            db.session.commit()
            now = utcnow()
            assert run_due_jobs(now) == {"done": 0, "retry": 1, "failed": 0}
            assert run_due_jobs(now) == {"done": 0, "retry": 0, "failed": 0}  # backing off
            assert run_due_jobs(now + timedelta(minutes=5)) == {"done": 1, "retry": 0, "failed": 0}
            job = db.session.scalar(sa.select(Job))
            assert job.status == "done" and job.attempts == 2 and job.last_error.startswith("RuntimeError")
    finally:
        JOB_HANDLERS.pop("test.flaky")


def test_job_of_a_dead_worker_is_resumed_after_its_lease(app):
    done = []
    JOB_HANDLERS["test.resume"] = lambda job: done.append(job.id)
    try:
        with app.app_context():
            enqueue_job("test.resume")
            db.session.commit()
            from leadthe.worker import _claim_job

            now = utcnow()
            assert _claim_job(now) is not None  # the worker dies holding it
            assert run_due_jobs(now)["done"] == 0
            assert run_due_jobs(now + timedelta(minutes=16))["done"] == 1
        assert len(done) == 1
    finally:
        JOB_HANDLERS.pop("test.resume")


def test_run_once_reports_both(app):
    with app.app_context():
        assert run_once() == {"mail": {"sent": 0, "retry": 0, "failed": 0}, "jobs": {"done": 0, "retry": 0, "failed": 0}}


def worker_round_with_a_job(app):
    """One worker round with a job due; returns the round's counts and the ids of the jobs that ran."""
    ran = []
    job_handler("test.in_the_round")(lambda job: ran.append(job.id))
    try:
        with app.app_context():
            enqueue_job("test.in_the_round")
            db.session.commit()
            return run_once(), ran
    finally:
        JOB_HANDLERS.pop("test.in_the_round")


def test_a_line_break_in_a_subject_neither_stops_delivery_nor_the_jobs(app, smtp, companies):
    """A name with CR/LF (e.g. from a CSV import or SCIM) is mailed on one line; a row that still has one
    (written before the fix) fails alone: the other mail of its batch goes out and the jobs still run."""
    from tests.conftest import post_form

    a, _ = companies
    smtp.start()
    with app.app_context():
        admin = db.session.get(type(a.admin), a.admin.id)
        admin.name = "Eve\r\nBcc: everyone@example.com"
        db.session.commit()
    client = app.test_client()
    post_form(client, "/login", {"email": a.admin.email, "password": PASSWORD})
    post_form(client, "/admin/invitations", {"email": "new@a.example", "role": "learner", "team_id": ""})
    [invitation] = outbox(app, kind="invitation")
    assert "\r" not in invitation.subject and "\n" not in invitation.subject
    with app.app_context():
        db.session.add(OutboxMail(to_addr="old@example.com", subject="Broken\r\nsubject", body_text="x", kind="test", headers={}))
        db.session.commit()
    add_mail(app)
    result, ran = worker_round_with_a_job(app)
    assert result["mail"] == {"sent": 2, "retry": 1, "failed": 0} and result["jobs"]["done"] == 1 and len(ran) == 1
    assert sorted(m["Subject"] for m in smtp.inbox.messages) == sorted([invitation.subject, "Hello"])
    assert all(m["Bcc"] is None for m in smtp.inbox.messages)
    [broken] = outbox(app, kind="test", to_addr="old@example.com")
    assert broken.status == "pending" and broken.attempts == 1 and "ValueError" in broken.last_error


def test_a_failing_mail_step_does_not_keep_the_jobs_from_running(app, monkeypatch):
    import leadthe.worker

    def broken(now=None):
        raise RuntimeError("SMTP settings unreadable")

    monkeypatch.setattr(leadthe.worker, "deliver_due", broken)
    result, ran = worker_round_with_a_job(app)
    assert result["mail"] == {"error": True} and result["jobs"]["done"] == 1 and ran


def test_a_recurring_job_is_planned_by_the_worker_from_its_registration(app):
    """``@job_handler(kind, every=...)`` is all a recurring job needs: the worker plans one when none is
    pending or running, and a finished run plans the next."""
    from leadthe.worker import RECURRING, schedule_due_jobs

    ran = []
    job_handler("test.hourly", every=timedelta(hours=1))(lambda job: ran.append(job.id))
    try:
        with app.app_context():
            schedule_due_jobs()
            schedule_due_jobs()
            jobs = db.session.scalars(sa.select(Job).where(Job.kind == "test.hourly")).all()
            assert [j.status for j in jobs] == ["pending"]
            run_due_jobs()
            jobs = db.session.scalars(sa.select(Job).where(Job.kind == "test.hourly").order_by(Job.id)).all()
            assert ran == [jobs[0].id] and [j.status for j in jobs] == ["done", "pending"]
            assert utcnow() + timedelta(minutes=55) < jobs[1].run_at <= utcnow() + timedelta(hours=1)
    finally:
        JOB_HANDLERS.pop("test.hourly")
        RECURRING.pop("test.hourly")


def test_every_body_arrives_as_written_and_no_line_on_the_wire_is_longer_than_78(app, smtp):
    """Short lines go as they are; a paragraph on one line (most of our mails), umlauts, trailing spaces, a line
    that starts with a dot or with "From " arrive exactly as written, and no line on the wire passes 78 bytes."""
    import email
    import email.policy

    from leadthe.mail import _build_message, _wire_message

    smtp.start()
    bodies = {
        "short ascii": "Hello Ada,\n\nYour export is ready.\n\nLeadThe.AI\n",
        "short umlauts": "Hallo Jörg,\n\nIhr Export ist fertig: Größe 12 KB.\n",
        "long paragraph": "Hello,\n\n" + "Acme published version 3 of its AI-use policy and asks everyone to read it. " * 4 + "\n",
        "long umlauts": "Grüße,\n\n" + "Die Firma Müller & Söhne hat ihre KI-Richtlinie geändert; bitte lesen und bestätigen. " * 3 + "\n",
        "awkward": "line with trailing spaces   \n.a line that starts with a dot\nFrom the start of a line\n"
                   + "x" * 200 + "\n=equals= and tab\there " + "é" * 100 + "\n",
    }
    with app.test_request_context():
        ids = {}
        for label, body in bodies.items():
            mail = queue_mail("someone@example.com", "Hello", "password_changed", kind="test", name="Someone")
            mail.body_text = body
            db.session.flush()
            ids[mail.id] = label
            wire = _wire_message(mail)
            assert isinstance(wire, tuple), label  # the direct way, not the e-mail package's
            assert all(len(line) <= 78 for line in wire[2].split(b"\r\n")), label
            # the same text as the e-mail package's own message would carry
            built = email.message_from_bytes(_build_message(mail).as_bytes(), policy=email.policy.default)
            assert built.get_content() == body, label
        db.session.commit()
        assert deliver_due()["sent"] == len(bodies)
    for raw in smtp.inbox.messages:
        message = email.message_from_bytes(raw.as_bytes(), policy=email.policy.default)
        label = ids[int(message["Message-ID"].split("-")[1].split(".")[0])]
        assert message.get_content() == bodies[label], label
        assert message.get_content_charset() == "utf-8"
