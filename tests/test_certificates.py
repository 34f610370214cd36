"""Certificates: issued on completion, public verification, PDF, expiry and the recertification reminder."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import Certificate, User, utcnow
from tests.conftest import make_org, make_user, outbox
from tests.helpers import answers, complete_lessons, load, login, submit, write_quiz_course


def _certified(app, client, tmp_path, months=0):
    write_quiz_course(tmp_path / "content", months=months)
    load(app, tmp_path / "content")
    from leadthe.models import Quiz, QuizChoice, QuizQuestion

    with app.app_context():
        quiz = db.session.scalar(sa.select(Quiz))
        qs = {q.slug: q.id for q in db.session.scalars(sa.select(QuizQuestion))}
        ch = {(c.question_id, c.text): c.id for c in db.session.scalars(sa.select(QuizChoice))}
    ids = {"quiz": quiz.id, "single": qs["q-single"], "multi": qs["q-multi"], "tf": qs["q-tf"],
           "A": ch[(qs["q-single"], "A")], "X": ch[(qs["q-multi"], "X")], "Y": ch[(qs["q-multi"], "Y")],
           "F": ch[(qs["q-tf"], "False")]}
    org = make_org(app, "Certs")
    person = make_user(app, org, email="cert@example.com", name="Cora Certified", job_title="Secret job title")
    login(client, person.email)
    complete_lessons(client)
    submit(client, ids, answers(ids))
    with app.app_context():
        return db.session.scalar(sa.select(Certificate)), person


def test_public_verification_shows_only_name_course_date_status(app, client, tmp_path):
    cert, person = _certified(app, client, tmp_path)
    assert len(cert.code) >= 16 and cert.code.isalnum()
    anonymous = app.test_client()
    r = anonymous.get(f"/certificates/{cert.code}")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["X-Robots-Tag"] == "noindex"
    assert "Cora Certified" in page and "Tiny tiny" in page and "This certificate is valid." in page
    assert "cert@example.com" not in page and "Secret job title" not in page and "Certs" not in page
    assert anonymous.get(f"/certificates/{cert.code.lower()}").status_code == 200
    assert anonymous.get("/certificates/AAAAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    assert anonymous.get("/certificates/../../etc").status_code == 404


def _pdf_text(body: bytes) -> tuple[int, str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(body))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_is_a_valid_one_page_pdf(app, client, tmp_path):
    cert, _person = _certified(app, client, tmp_path)
    with app.test_client().get(f"/certificates/{cert.code}/pdf") as r:
        body = r.data
        assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    pages, text = _pdf_text(body)
    assert pages == 1
    assert "Cora Certified" in text and "Tiny tiny" in text and "Certificate of completion" in text
    assert f"Certificate code {cert.code}" in text and f"/certificates/{cert.code}" in text


@pytest.mark.parametrize("name", ["Łucja Żółć 李雷", "Γιώργος Παπαδόπουλος", "Анна Кузнецова", "山田 花子 (やまだ はなこ)"])
def test_pdf_prints_any_name_as_written(app, client, tmp_path, name):
    cert, person = _certified(app, client, tmp_path)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == person.id).values(name=name))
        db.session.commit()
    body = app.test_client().get(f"/certificates/{cert.code}/pdf").data
    _pages, text = _pdf_text(body)
    assert name in text.splitlines()
    assert len(body) < 200_000  # the fonts are embedded as subsets, not whole


def test_revoked_certificate_shows_revoked(app, client, tmp_path):
    cert, _p = _certified(app, client, tmp_path)
    with app.app_context():
        db.session.get(Certificate, cert.id).revoked_at = utcnow()
        db.session.commit()
    assert "has been revoked" in app.test_client().get(f"/certificates/{cert.code}").get_data(as_text=True)


def test_expiry_reminder_once_and_expired_status(app, client, tmp_path):
    from leadthe.assessments.certificates import send_recertification_reminders

    cert, person = _certified(app, client, tmp_path, months=12)
    assert cert.expires_at is not None and 364 <= (cert.expires_at - cert.issued_at).days <= 366
    with app.app_context():
        assert send_recertification_reminders(utcnow()) == 0  # a year away: nothing yet
        later = cert.expires_at - timedelta(days=10)
        assert send_recertification_reminders(later) == 1
        db.session.commit()
        assert send_recertification_reminders(later + timedelta(days=1)) == 0  # only one reminder
        db.session.commit()
    mails = outbox(app, kind="learning")
    assert len(mails) == 1 and "Tiny tiny" in mails[0].subject and "renew" in mails[0].body_text
    with app.app_context():
        db.session.get(Certificate, cert.id).expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
    assert "has expired" in app.test_client().get(f"/certificates/{cert.code}").get_data(as_text=True)


def test_reminder_job_runs_and_plans_the_next_day(app, client, tmp_path):
    from leadthe.models import Job
    from leadthe.worker import run_due_jobs, schedule_due_jobs

    with app.app_context():
        schedule_due_jobs(kinds=["certificates.daily"])
        schedule_due_jobs(kinds=["certificates.daily"])
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(Job.kind == "certificates.daily")) == 1
        run_due_jobs()
        jobs = db.session.execute(sa.select(Job.status, Job.run_at).where(Job.kind == "certificates.daily").order_by(Job.id)).all()
        assert jobs[0][0] == "done" and jobs[1][0] == "pending" and jobs[1][1] > utcnow() + timedelta(hours=23)


def test_certificate_goes_with_erasure_and_is_exported(app, client, tmp_path):
    cert, person = _certified(app, client, tmp_path)
    from leadthe.privacy.registry import BY_TABLE

    assert BY_TABLE["certificate"].erasure == "delete" and BY_TABLE["certificate"].category == "usage"
    with app.app_context():
        from leadthe.models import User

        db.session.get(User, person.id).status = "erasure_pending"
        db.session.commit()
    # a person being erased disappears from the public page at once
    assert app.test_client().get(f"/certificates/{cert.code}").status_code == 404


def test_passing_the_final_quiz_last_sends_the_completed_mail_at_once(app, client, tmp_path):
    """Completing a course is a signal that the progress mails listen to: when the quiz is passed after the
    lessons, the "you completed" mail goes out with it, not only with the next daily job."""
    _cert, person = _certified(app, client, tmp_path)
    mails = [m for m in outbox(app, to_addr=person.email) if m.kind == "progress_completed"]
    assert [m.subject for m in mails] == ["You completed “Tiny tiny”"]


def test_your_certificates_on_the_dashboard_and_the_profile(app, client, tmp_path):
    cert, _person = _certified(app, client, tmp_path)
    for url in ("/dashboard", "/account/profile"):
        page = client.get(url).get_data(as_text=True)
        section = page.split('id="my-certificates"', 1)[1].split("</section>", 1)[0]
        assert "Your certificates" in section and "Tiny tiny" in section and "issued on" in section
        assert f'href="/certificates/{cert.code}"' in section and f'href="/certificates/{cert.code}/pdf"' in section
    with app.app_context():
        db.session.execute(sa.update(Certificate).values(revoked_at=utcnow()))
        db.session.commit()
    assert "revoked" in client.get("/account/profile").get_data(as_text=True).split('id="my-certificates"', 1)[1]


def test_no_certificate_yet_says_how_to_get_one(app, client):
    org = make_org(app, "Fresh")
    person = make_user(app, org, email="fresh@example.com")
    login(client, person.email)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "No certificate yet: finish a course and pass its final quiz to get one." in page
