"""The privacy centre: what we hold, export, erasure, processing choices, requests, retention."""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from leadthe.billing import accounts as billing_accounts
from leadthe.billing import dunning
from leadthe.billing.invoices import issue_invoice
from leadthe.extensions import db
from leadthe.models import AuditEvent, DataExport, Organization, OutboxMail, PrivacyRequest, User, UserSession, utcnow
from leadthe.models.billing import BillingMember
from leadthe.privacy.registry import CATEGORIES, personal_sources
from leadthe.worker import run_once
from tests.conftest import (PASSWORD, audit_actions, csrf_from, enable_2fa, fresh_code, login_with_code, make_staff, make_user,
                            outbox, post_form)
from tests.helpers import login, sqlite_file_bytes
from tests.privacy_data import all_text_in_database, populate_everything


def email_of(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id).email


def export_via_http(client, app, password=PASSWORD):
    response = post_form(client, "/privacy/export", {"password": password}, page="/privacy")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    status_url = response.headers["Location"]
    assert re.fullmatch(r"/privacy/exports/\d+", status_url)
    with app.app_context():
        run_once()
    page = client.get(status_url).get_data(as_text=True)
    link = re.search(r'href="(/privacy/exports/\d+/download\?token=[^"]+)"', page).group(1).replace("&amp;", "&")
    with client.get(link) as download:
        assert download.status_code == 200 and download.mimetype == "application/zip"
        data = download.get_data()
    return zipfile.ZipFile(io.BytesIO(data)), status_url, link


# --- what we hold and who sees it ----------------------------------------------------------------

def test_centre_shows_live_counts_viewers_and_requests(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    html = client.get("/privacy").get_data(as_text=True)
    for title in CATEGORIES.values():
        assert str(title) in html
    assert "Sign-in sessions" in html and "Admin A" in html and "Manager A" in html and "Manager of Team A" in html
    assert "Admin B" not in html  # nobody of another company
    assert client.get("/privacy").headers["Cache-Control"] == "no-store"


def test_centre_requires_login(client):
    assert client.get("/privacy").status_code == 302


# --- export --------------------------------------------------------------------------------------

def test_export_holds_every_declared_value_and_nothing_of_anyone_else(client, app, companies):
    a, b = companies
    mine = populate_everything(app, a.learner.id)
    theirs = populate_everything(app, a.manager.id).values() + populate_everything(app, b.learner.id).values()
    login(client, email_of(app, a.learner.id))
    zf, _, _ = export_via_http(client, app)
    names = set(zf.namelist())
    assert {"export.json", "report.html", "manifest.json", "photo.jpg"} <= names
    assert {f"csv/{s.table}.csv" for s in personal_sources()} <= names
    everything = "\n".join(zf.read(n).decode("utf-8", "replace") for n in names if n != "photo.jpg")
    missing = [m for m in mine.exported() if m not in everything]
    assert missing == []
    # what is deliberately not exported (secret hashes) is not in it either
    assert not [m for m in mine.values() if m not in mine.exported() and m in everything]
    leaked = [m for m in theirs if m in everything]
    assert leaked == []

    data = json.loads(zf.read("export.json"))
    assert data["format"] == "leadthe-export/1" and data["subject"]["id"] == a.learner.id
    assert set(data["categories"]) == set(CATEGORIES)
    assert data["categories"]["account"]["user_account"][0]["photo"] == "photo.jpg"
    assert "password_hash" not in data["categories"]["account"]["user_account"][0]

    manifest = json.loads(zf.read("manifest.json"))
    assert {s["table"] for s in manifest["sources"]} == {s.table for s in personal_sources()}
    assert all(s["rows"] >= 1 for s in manifest["sources"])
    import hashlib

    for entry in manifest["files"]:
        assert hashlib.sha256(zf.read(entry["file"])).hexdigest() == entry["sha256"]
        assert len(zf.read(entry["file"])) == entry["bytes"]


def test_export_manifest_lists_empty_sources_with_zero(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    zf, _, _ = export_via_http(client, app)
    rows = {s["table"]: s["rows"] for s in json.loads(zf.read("manifest.json"))["sources"]}
    assert rows["data_export"] >= 1 and rows["privacy_settings"] == 0


def test_an_export_asks_again_only_for_tables_that_hold_rows_and_writes_its_progress_rarely(client, app, companies, monkeypatch):
    """The worker builds a learner's export without asking again for the tables the count found empty (most of
    them), and writes the progress at most once a second, not once per table; the archive is complete anyway."""
    from leadthe.privacy import export as export_module
    from leadthe.privacy.registry import personal_sources
    from tests.helpers import statements_run

    a, _ = companies
    login(client, a.learner.email)
    assert post_form(client, "/privacy/export", {"password": PASSWORD}, page="/privacy").status_code == 303
    with app.app_context():
        [export] = db.session.scalars(sa.select(DataExport)).all()
        sources = {s.table for s in personal_sources()}
        counts = export_module.row_counts(db.session.get(User, a.learner.id))
        held = {t for t, n in counts.items() if n}
        db.session.remove()
    assert 0 < len(held) < len(sources) / 2
    with statements_run(app) as seen, app.app_context():
        export_module.run_export(export.id)
        db.session.commit()
    asked = {t for t in sources for sql in seen if sql.lstrip().upper().startswith("SELECT")
             and f"FROM {t}\n" in sql + "\n" and "count(" not in sql.lower()}
    assert asked <= held | {"user_account", "data_export", "privacy_request"}, asked - held
    progress_writes = [sql for sql in seen if sql.startswith("UPDATE data_export SET progress")]
    assert len(progress_writes) <= 1, progress_writes
    # and with a slow export, the progress still moves: one write per second of work
    monkeypatch.setattr(export_module, "PROGRESS_EVERY", 0)
    with statements_run(app) as seen, app.app_context():
        db.session.get(DataExport, export.id).status = "queued"
        db.session.commit()
        export_module.run_export(export.id)
        db.session.commit()
    assert len([sql for sql in seen if sql.startswith("UPDATE data_export SET progress")]) == len(sources)
    zf, _, _ = export_via_http(client, app)
    rows = {s["table"]: s["rows"] for s in json.loads(zf.read("manifest.json"))["sources"]}
    data = json.loads(zf.read("export.json"))["categories"]
    for category in data.values():
        for table, records in category.items():
            assert len(records) == rows[table], table
            assert len(list(csv.reader(io.StringIO(zf.read(f"csv/{table}.csv").decode())))) == rows[table] + 1, table


def test_export_needs_the_password_and_records_the_request(client, app, companies):
    a, _ = companies
    login(client, a.learner.email, step_up_window=False)
    wrong = post_form(client, "/privacy/export", {"password": "not-my-password"}, page="/privacy")
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DataExport)) == 0
    export_via_http(client, app)
    with app.app_context():
        req = db.session.scalar(sa.select(PrivacyRequest).where(PrivacyRequest.kind == "portability"))
        assert req.status == "completed" and req.self_service and req.completed_at is not None
    assert {"privacy.export_requested", "privacy.export_ready", "privacy.export_downloaded"} <= set(audit_actions(app))
    [mail] = outbox(app, kind="privacy")
    assert "is ready" in mail.subject and "/privacy/exports/" in mail.body_text


def test_export_status_polls_under_htmx_and_refreshes_without_js(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    response = post_form(client, "/privacy/export", {"password": PASSWORD}, page="/privacy")
    url = response.headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="3">' in page and 'data-hx-trigger="every 2s"' in page
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="export-progress"' in fragment
    # still preparing later on (a big file, or many at once): asked less and less often, at most every 10 s
    for waited, every in ((timedelta(seconds=13), 6), (timedelta(minutes=1), 10), (timedelta(hours=1), 10)):
        with app.app_context():
            export = db.session.get(DataExport, int(url.rstrip("/").rsplit("/", 1)[1]))
            export.created_at = utcnow() - waited
            db.session.commit()
        later = client.get(url).get_data(as_text=True)
        assert f'<meta http-equiv="refresh" content="{every}">' in later, waited
        assert f'data-hx-trigger="every {every}s"' in later, waited


def test_with_htmx_the_export_form_answers_with_its_progress_or_its_error_in_one_request(client, app, companies):
    """With scripts on, the form in the privacy centre is replaced by the export's progress (which polls), not
    redirected to a second page; a wrong password brings the form back with the error beside the field."""
    a, _ = companies
    login(client, a.learner.email, step_up_window=False)
    centre = client.get("/privacy").get_data(as_text=True)
    assert 'id="export-form"' in centre and 'data-hx-post="/privacy/export"' in centre
    htmx = {"HX-Request": "true"}
    wrong = post_form(client, "/privacy/export", {"password": "not-my-password"}, page="/privacy", headers=htmx)
    text = wrong.get_data(as_text=True)
    assert wrong.status_code == 200 and "<html" not in text and "Your privacy centre" not in text
    assert text.lstrip().startswith('<form id="export-form"') and 'id="export-password"' in text
    assert "not your current password" in text and 'aria-invalid="true"' in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DataExport)) == 0
    right = post_form(client, "/privacy/export", {"password": PASSWORD}, page="/privacy", headers=htmx)
    text = right.get_data(as_text=True)
    assert right.status_code == 200 and "Location" not in right.headers and "<html" not in text
    with app.app_context():
        [export] = db.session.scalars(sa.select(DataExport)).all()
    assert f'data-hx-get="/privacy/exports/{export.id}"' in text and 'data-hx-trigger="every 2s"' in text
    assert "Preparing your file" in text and 'id="export-form"' not in text
    assert 'tabindex="-1" autofocus' in text  # the focus moves to where the button was; not on every poll:
    poll = client.get(f"/privacy/exports/{export.id}", headers=htmx).get_data(as_text=True)
    assert "Preparing your file" in poll and "autofocus" not in poll


def test_an_export_far_back_in_a_queue_is_polled_less_often_and_says_why(client, app, companies):
    """After many people asked at once, the 100th in line asks every 10 s from the start (not every 2 s), and the
    page says the queue is long; once the ones before it are taken, it polls quickly again."""
    a, b = companies
    with app.app_context():
        others = [DataExport(user_id=b.learner.id) for _ in range(100)]  # queued before (anyone's count)
        db.session.add_all(others)
        db.session.commit()
        other_ids = [e.id for e in others]
    login(client, a.learner.email)
    url = post_form(client, "/privacy/export", {"password": PASSWORD}, page="/privacy").headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert 'data-hx-trigger="every 10s"' in page and "waits its turn in the queue" in page
    with app.app_context():  # the workers took 95 of them: five ahead, a quick poll again, no word of a queue
        db.session.execute(sa.update(DataExport).where(DataExport.id.in_(other_ids[:95])).values(status="ready"))
        db.session.commit()
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-hx-trigger="every 2s"' in fragment and "waits its turn" not in fragment


def test_download_link_is_only_for_the_signed_in_owner_and_expires(client, app, companies):
    a, b = companies
    login(client, a.learner.email)
    _, status_url, link = export_via_http(client, app)
    other = app.test_client()
    login(other, b.learner.email)
    assert other.get(link).status_code == 404
    assert other.get(status_url).status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(link).status_code == 302  # to log-in
    assert client.get(link.split("?")[0] + "?token=forged").status_code == 404
    # after 7 days the link and the file are gone
    with app.app_context():
        from leadthe.privacy.retention import apply_retention

        export = db.session.scalar(sa.select(DataExport))
        path = Path(app.config["EXPORT_DIR"]) / export.file_name
        assert path.exists()
        apply_retention(now=utcnow() + timedelta(days=8))
        assert not path.exists()
        assert db.session.get(DataExport, export.id).status == "expired"
    assert client.get(link).status_code == 404


def test_a_crashed_export_leaves_nothing_to_download_and_completes_on_retry(client, app, companies, monkeypatch):
    a, _ = companies
    login(client, a.learner.email)
    response = post_form(client, "/privacy/export", {"password": PASSWORD}, page="/privacy")
    import leadthe.privacy.export as export_module

    real = export_module._write_report

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(export_module, "_write_report", crash)
    with app.app_context():
        run_once()
        export = db.session.scalar(sa.select(DataExport))
        assert export.status == "running" and export.file_name == ""
    assert "Download my data" not in client.get(response.headers["Location"]).get_data(as_text=True)
    assert list(Path(app.config["EXPORT_DIR"]).glob(f"leadthe-export-{export.id}-*.zip")) == []
    monkeypatch.setattr(export_module, "_write_report", real)
    with app.app_context():
        run_once(utcnow() + timedelta(minutes=5))
        assert db.session.get(DataExport, export.id).status == "ready"
    assert "Download my data" in client.get(response.headers["Location"]).get_data(as_text=True)


# --- erasure -------------------------------------------------------------------------------------

def request_deletion(client, email, password=PASSWORD):
    return post_form(client, "/privacy/delete", {"password": password, "confirm_email": email}, page="/privacy")


def test_deletion_signs_out_everywhere_at_once_and_mails_a_cancel_link(app, companies):
    a, _ = companies
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, a.learner.email)
    login(phone, a.learner.email)
    response = request_deletion(laptop, a.learner.email)
    assert response.status_code == 303 and response.headers["Location"] == "/privacy/deleted"
    assert laptop.get("/dashboard").status_code == 302 and phone.get("/dashboard").status_code == 302
    # logging in again offers to keep the account (tests/test_keep_account.py), it does not sign in
    again = post_form(app.test_client(), "/login", {"email": a.learner.email, "password": PASSWORD})
    assert again.status_code == 303 and again.headers["Location"] == "/login/keep-account"
    with app.app_context():
        assert db.session.get(User, a.learner.id).status == "erasure_pending"
    # gone from what others see
    admin = app.test_client()
    login(admin, a.admin.email)
    login(app.test_client(), a.manager.email)
    mail = [m for m in outbox(app) if m.kind == "privacy"][-1]
    assert "will be deleted" in mail.subject and "/privacy/delete/cancel/" in mail.body_text


def test_deletion_needs_password_and_the_right_email(client, app, companies):
    a, _ = companies
    login(client, a.learner.email, step_up_window=False)
    assert request_deletion(client, a.learner.email, password="wrong password!").status_code == 422
    response = request_deletion(client, "someone-else@a.example")
    assert response.status_code == 422 and "not the e-mail address" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 200


def test_cancel_link_keeps_the_account(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    request_deletion(client, a.learner.email)
    body = [m for m in outbox(app) if m.kind == "privacy"][-1].body_text
    path = re.search(r"http://localhost(/privacy/delete/cancel/\S+)", body).group(1)
    fresh = app.test_client()
    assert fresh.get(path).status_code == 200
    assert post_form(fresh, path, {}).status_code == 303
    login(fresh, a.learner.email)
    with app.app_context():
        run_once(utcnow() + timedelta(days=8))  # the scheduled job finds nothing to do
        assert db.session.get(User, a.learner.id).status == "active"
    assert fresh.get(path).status_code == 400  # used


MAIL_TEMPLATES = {p.name.removesuffix(".txt") for p in (Path(__file__).parent.parent / "leadthe/templates/mail").glob("*.txt")
                  if not p.name.startswith("_")}  # "_name": a part included by mails
# the one kind of mail a person who joined by invitation cannot get: the link to confirm the address of a new
# company's sign-up (an invitation link proves the address, so their account starts confirmed)
# company's sign-up (an invitation link proves the address, so their account starts confirmed); and the link that
# proves a company's e-mail domain, mailed to a role address there (postmaster@…), not to a person's account (a
# person whose address it is has it erased by the outbox's address match like any other mail to them)
# the third: to staff mailboxes; the fourth: to company admins only (an outbox row like any other mail to them)
NOT_TO_INVITED_PEOPLE = {"verify_email", "sso_verify_domain", "audit_chain_broken", "subprocessors_changed",
                         "security_alert"}  # issue 23: to the staff alert mailbox only


def join_by_invitation_and_live(app, company):
    """A person invited (twice: the first invitation revoked) to ``company``, who joins through the link and
    then gets mail of every kind, files a support ticket and a privacy request, changes their address and
    has a new one pending. Returns their id, their current password and every value of theirs."""
    import pyotp
    from flask import template_rendered

    from leadthe.admin import people
    from leadthe.assessments.certificates import issue_certificate, send_recertification_reminders
    from leadthe.auth import services as auth
    from leadthe.auth import twofactor
    from leadthe.auth.services import _fingerprint
    from leadthe.account.profile import confirm_email_change, request_email_change
    from leadthe.courses import authoring
    from leadthe.legal.services import publish
    from leadthe.literacy.reminders import send_overdue_digests, send_requirement_reminders
    from leadthe.models import (ActivityDay, Enrollment, ImportBatch, Invitation, LessonCompletion, Notice, Requirement,
                                SupportTicket, Team, TeamMembership)
    from leadthe.privacy.services import answer_request
    from leadthe.progress import services as progress
    from leadthe.staff.services import close_company
    from leadthe.support.services import add_reply
    from leadthe.worker import enqueue_job
    from tests.privacy_data import marker
    from tests.helpers import make_course

    first, second, pending = (f"{marker('adr')}@example.com" for _n in range(3))
    invited_name, title, department, own_name = marker("inv"), marker("job"), marker("dep"), f"{marker('nam')} Person"
    subject, body, details = marker("tsub"), marker("tbody"), marker("pdet")
    rendered = set()

    def record(sender, template, context, **extra):
        rendered.add(template.name.removeprefix("mail/").removesuffix(".txt"))

    template_rendered.connect(record, app)
    staff = make_user(app, None, email="dpo-erasure@leadthe.example", role="dpo", name="Staff Member")
    admin = app.test_client()
    login(admin, company.admin.email)
    # before any account: someone tries the address at the log-in (only its fingerprint is recorded)
    assert post_form(app.test_client(), "/login", {"email": first, "password": "not the password"}).status_code == 422
    with app.app_context():
        inviter = db.session.get(User, company.admin.id)
        inv = people.create_invitation(inviter, email=first, role="learner", team_id=company.team.id, name=invited_name,
                                       job_title=title, department=department)
        # an admin's checked import naming the address, not applied yet
        db.session.add(ImportBatch(org_id=company.org.id, created_by_id=inviter.id, expires_at=utcnow() + timedelta(days=1),
                                   rows=[{"email": first, "name": invited_name, "role": "learner"}]))
        db.session.commit()
        inv_id = inv.id
    assert post_form(admin, f"/admin/invitations/{inv_id}/revoke", {"confirmed": "yes"}, page="/admin/invitations").status_code == 303
    assert post_form(admin, "/admin/invitations", {"email": first, "role": "learner", "team_id": ""}).status_code == 303
    with app.app_context():
        inv_id = db.session.scalar(sa.select(sa.func.max(Invitation.id)))
    assert post_form(admin, f"/admin/invitations/{inv_id}/resend", {}, page="/admin/invitations").status_code == 303
    link = re.search(r"http://localhost(/invite/\S+)", outbox(app, kind="invitation")[-1].body_text).group(1)
    person = app.test_client()
    joined = post_form(person, link, {"name": own_name, "password": PASSWORD, "age_confirm": "y", "accept_policy": "y"})
    assert joined.status_code == 303, joined.get_data(as_text=True)[:2000]
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.email == first))
    # a sign-in from another browser
    assert post_form(app.test_client(), "/login", {"email": first, "password": PASSWORD},
                     headers={"User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7; rv:120.0) Gecko/20100101 Firefox/120.0"}
                     ).status_code == 303
    # a support ticket and a privacy request, answered by staff
    assert post_form(person, "/support", {"subject": subject, "category": "account", "body": body}).status_code == 303
    assert post_form(person, "/privacy/requests", {"kind": "access", "jurisdiction": "gdpr", "details": details}).status_code == 303
    with app.app_context():
        user, staff_user = db.session.get(User, user_id), db.session.get(User, staff.id)
        add_reply(db.session.scalar(sa.select(SupportTicket).where(SupportTicket.user_id == user_id)), staff_user,
                  "We had a look.", from_staff=True)
        answer_request(db.session.scalar(sa.select(PrivacyRequest).where(PrivacyRequest.user_id == user_id)), staff_user,
                       "Here is what we hold.", "completed")
        # password reset, two-step verification on, a recovery code, off again
        auth.request_password_reset(user.email)
        auth.reset_password(user, PASSWORD)
        codes = twofactor.enable(user, pyotp.TOTP(twofactor.start_setup(user)).now())
        assert twofactor.use_recovery_code(user, codes[0])
        twofactor.disable(user)
        # learning: enrolled, halfway, completed, a certificate to renew, a quiet spell on another course
        course, module, lesson, _quiz = make_course(None, "erasure-course", "Erasure course")
        authoring.save_lesson(course, None, {"title": "Second", "slug": "second", "module_id": module.id, "kind": "practice",
                                             "minutes": 5, "body": "Text", "prompt": "Try", "video_url": "", "transcript": ""})
        course.certificate_months = 1
        db.session.add(Enrollment(user_id=user_id, course_id=course.id))
        progress.on_enrolled(user, course)
        db.session.add(LessonCompletion(user_id=user_id, lesson_id=lesson.id, course_id=course.id))
        db.session.flush()
        progress.on_lesson_completed(user, course)
        db.session.scalar(sa.select(Enrollment).where(Enrollment.user_id == user_id)).completed_at = utcnow()
        progress.on_lesson_completed(user, course)
        issue_certificate(user, course)
        quiet = make_course(None, "quiet-course", "Quiet course")[0]
        db.session.add(Enrollment(user_id=user_id, course_id=quiet.id))
        db.session.add(ActivityDay(user_id=user_id, day=utcnow().date() - timedelta(days=progress.INACTIVE_DAYS + 1), seconds=60))
        # the person manages a team of their own
        team = Team(org_id=company.org.id, name="Erasure team")
        db.session.add(team)
        db.session.flush()
        db.session.add(TeamMembership(org_id=company.org.id, team_id=team.id, user_id=user_id, is_manager=True))
        db.session.get(User, user_id).role = "manager"  # the digest goes to managers (and admins) only
        # required training (AI-literacy programme): one due in 5 days, one overdue, and an overdue colleague
        for who, course_id, days in ((user_id, quiet.id, 5), (user_id, course.id, -5), (company.learner.id, quiet.id, -5)):
            db.session.add(Requirement(org_id=company.org.id, user_id=who, course_id=course_id,
                                       due_on=utcnow().date() + timedelta(days=days)))
        db.session.add(TeamMembership(org_id=company.org.id, team_id=team.id, user_id=company.learner.id))
        db.session.commit()
        progress.send_inactivity_reminders()
        progress.send_manager_digests()
        send_requirement_reminders()
        send_overdue_digests()
        send_recertification_reminders(utcnow() + timedelta(days=40))
        # a billing contact: an invoice addressed and mailed to them (kept after their erasure, naming their role)
        # (then no longer one: ``populate_everything`` adds their billing_member row of its own)
        contact = BillingMember(org_id=company.org.id, user_id=user_id, receives_mail=True)
        db.session.add(contact)
        billing_account = billing_accounts.account_for(company.org.id)
        issue_invoice(billing_account, lines=[{"description": "Seats", "quantity": 1, "unit_cents": 800}])
        for kind in dunning.KINDS:  # and every billing mail (trial ending, payment failed, card expiring, read-only)
            dunning.notify(billing_account, kind, key="privacy-test")
        db.session.delete(contact)
        # a new address, and another one waiting for confirmation
        request_email_change(user, second)
        confirm_email_change(user, second)
        request_email_change(user, pending)
        # a notice and a policy change for everyone
        notice = Notice(title="Maintenance", body="Tonight.", created_by_id=staff.id)
        db.session.add(notice)
        db.session.flush()
        enqueue_job("notice.mail", {"notice_id": notice.id})
        publish("privacy", title="Privacy policy", body="# New\n\nChanged.", summary="We changed it.", effective_at=utcnow(),
                material=True, categories_changed=False, staff_user=staff_user)
        # the company's AI-use policy: a material version everyone is asked to acknowledge (mailed), then reminded
        from leadthe.literacy.policy import publish as publish_ai_policy, save_draft
        from leadthe.literacy.policy import send_reminders as remind_ai_policy

        company_admin = db.session.get(User, company.admin.id)
        publish_ai_policy(company_admin, save_draft(company_admin, {"title": "AI rules", "body_md": "Use approved tools.",
                                                                     "summary": "", "change": "material"}))
        # works-council mode turned on: everyone in the company is told (leadthe/admin/jobs.py)
        from leadthe.admin.works_council import change_mode
        change_mode(db.session.get(Organization, company.org.id), company_admin, True)
        db.session.commit()
        run_once()
        remind_ai_policy(utcnow() + timedelta(days=8))
    login(person, second)  # the password reset signed them out
    export_via_http(person, app)
    assert request_deletion(person, second).status_code == 303
    with app.app_context():  # and during the grace period, the company leaves
        close_company(db.session.get(Organization, company.org.id), db.session.get(User, staff.id), "Contract ended")
        db.session.commit()
    template_rendered.disconnect(record, app)
    assert rendered >= MAIL_TEMPLATES - NOT_TO_INVITED_PEOPLE, sorted(MAIL_TEMPLATES - NOT_TO_INVITED_PEOPLE - rendered)
    with app.app_context():
        kinds = {m.kind for m in outbox(app) if m.user_id == user_id or m.to_addr in (first, second, pending)}
    assert {"invitation", "privacy", "support", "security_notice", "email_change", "reset_password", "progress_enrolled",
            "progress_halfway", "progress_completed", "progress_inactive", "progress_digest", "learning", "notice",
            "policy", "literacy_due", "literacy_overdue", "literacy_digest"} <= kinds
    values = [first, second, pending, invited_name, title, department, own_name, subject, body, details, _fingerprint(first)]
    text = all_text_in_database(app)
    assert [v for v in values if v not in text] == []  # all there before the erasure
    return user_id, values


def test_after_the_grace_period_nothing_of_the_person_remains(app, companies, backend, database_url):
    """A person who joined by invitation and got every kind of mail: after the grace period none of their
    values is left in any table, nor (SQLite) in the bytes of the database files."""
    a, _ = companies
    person_id, theirs = join_by_invitation_and_live(app, a)
    mine = populate_everything(app, person_id)
    with app.app_context():
        assert run_once(utcnow() + timedelta(days=6))["jobs"]["done"] == 0  # still in the grace period
    runner = app.test_cli_runner()
    assert runner.invoke(args=["leadthe", "retention", "--now", (utcnow() + timedelta(days=7, minutes=1)).isoformat()]).exit_code == 0
    with app.app_context():
        run_once(utcnow() + timedelta(days=7, minutes=2))
        assert db.session.get(User, person_id) is None
        req = db.session.scalar(sa.select(PrivacyRequest).where(PrivacyRequest.kind == "erasure"))
        assert req.status == "completed" and req.user_id is None and len(req.subject_ref) == 64
        # the audit trail is kept, with the person replaced by a keyed hash
        refs = db.session.scalars(sa.select(AuditEvent.actor_ref).where(AuditEvent.actor_ref != "")).all()
        assert refs and set(refs) == {req.subject_ref}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            sa.or_(AuditEvent.actor_id == person_id, AuditEvent.subject_id == person_id))) == 0
    text = all_text_in_database(app)
    left = [m for m in mine.erasable() + theirs if m in text]
    assert left == []
    assert list(Path(app.config["EXPORT_DIR"]).glob("*")) == []
    if backend == "sqlite":
        raw = sqlite_file_bytes(database_url)
        still = [m for m in mine.erasable() + theirs if m.encode() in raw]
        assert still == [], "erased values are still recoverable from the SQLite files"
    # others are untouched
    with app.app_context():
        assert db.session.get(User, a.manager.id) is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail).where(OutboxMail.to_addr == a.manager.email))


def test_a_failing_step_leaves_an_error_the_next_run_resumes(app, companies, monkeypatch):
    a, _ = companies
    client = app.test_client()
    login(client, a.learner.email)
    request_deletion(client, a.learner.email)
    import leadthe.privacy.erasure as erasure

    def disk_full(user_id):
        raise OSError("disk full")

    monkeypatch.setattr(erasure, "_delete_rows", disk_full)
    later = utcnow() + timedelta(days=8)
    with app.app_context():
        run_once(later)
        req = db.session.scalar(sa.select(PrivacyRequest).where(PrivacyRequest.kind == "erasure"))
        assert req.status == "error" and req.step == 2 and "disk full" in req.last_error
        assert db.session.get(User, a.learner.id) is not None  # not half-erased and looking done
    staff = make_staff(app, "dpo", email="dpo@leadthe.example")
    s = app.test_client()
    login_with_code(s, app, staff)
    assert "disk full" in s.get("/staff/privacy-requests").get_data(as_text=True)
    monkeypatch.undo()
    with app.app_context():
        run_once(later + timedelta(hours=1))
        req = db.session.get(PrivacyRequest, req.id)
        assert req.status == "completed" and db.session.get(User, a.learner.id) is None


def test_last_admin_is_told_what_to_do_first(client, app, companies):
    a, _ = companies
    login(client, a.admin.email)
    html = client.get("/privacy").get_data(as_text=True)
    assert "only admin of your company" in html
    response = request_deletion(client, a.admin.email)
    assert response.status_code == 422 and "only admin" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, a.admin.id).status == "active"


def test_sole_member_deletion_removes_the_company_too(app):
    client = app.test_client()
    from tests.helpers import SIGNUP

    post_form(client, "/signup", SIGNUP)
    request_deletion(client, SIGNUP["email"].lower())
    with app.app_context():
        run_once(utcnow() + timedelta(days=8))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


# --- processing choices ----------------------------------------------------------------------------

def test_processing_choices_are_saved_recorded_and_enforced(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    response = post_form(client, "/privacy/processing", {"restrict_processing": "y", "object_leaderboard": "y"})
    assert response.status_code == 303
    with app.app_context():
        from leadthe.privacy.services import may_personalise, may_rank, may_record_analytics

        user = db.session.get(User, a.learner.id)
        assert not may_record_analytics(user) and not may_rank(user) and not may_personalise(user)
        kinds = db.session.scalars(sa.select(PrivacyRequest.kind).where(PrivacyRequest.user_id == user.id)).all()
        assert sorted(kinds) == ["objection", "restriction"]
    # a restricted person keeps every learning feature
    for path in ("/dashboard", "/account/profile", "/privacy"):
        assert client.get(path).status_code == 200
    html = client.get("/privacy/processing").get_data(as_text=True)
    assert re.search(r'id="restrict_processing"[^>]*checked|checked[^>]*id="restrict_processing"', html)


def test_global_privacy_control_counts_as_opt_out(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    page = client.get("/privacy/processing", headers={"Sec-GPC": "1"}).get_data(as_text=True)
    assert "Global Privacy Control" in page
    html = client.get("/privacy/processing", headers={"Sec-GPC": "1"}).get_data(as_text=True)
    client.post("/privacy/processing", data={"csrf_token": csrf_from(html)}, headers={"Sec-GPC": "1"})
    with app.app_context():
        from leadthe.privacy.services import settings_for

        assert settings_for(a.learner.id).do_not_sell_share is True


# --- requests and the DPO queue ---------------------------------------------------------------------

def test_request_goes_to_the_dpo_queue_sorted_by_due_date_and_is_answered(app, companies):
    a, b = companies
    learner = app.test_client()
    login(learner, a.learner.email)
    r1 = post_form(learner, "/privacy/requests", {"kind": "question", "jurisdiction": "ccpa", "details": "What do you know about me?"})
    assert r1.status_code == 303
    other = app.test_client()
    login(other, b.learner.email)
    post_form(other, "/privacy/requests", {"kind": "objection", "jurisdiction": "gdpr", "details": "I object to X."})
    with app.app_context():
        reqs = db.session.scalars(sa.select(PrivacyRequest).order_by(PrivacyRequest.id)).all()
        assert (reqs[0].due_at - reqs[0].received_at).days == 45 and (reqs[1].due_at - reqs[1].received_at).days == 30
        reqs[0].received_at -= timedelta(days=50)
        reqs[0].due_at -= timedelta(days=50)
        db.session.commit()
        first_id = reqs[0].id
    assert outbox(app, kind="privacy_staff")[0].to_addr == "dpo@leadthe.ai"
    # only platform staff see the queue; everyone else gets a 404
    for who in (a.learner, a.manager, a.admin):
        c = app.test_client()
        login(c, who.email)
        assert c.get("/staff/privacy-requests").status_code == 404
        assert c.get(f"/staff/privacy-requests/{first_id}").status_code == 404
    dpo = make_staff(app, "dpo", email="dpo@leadthe.example")
    staff = app.test_client()
    login_with_code(staff, app, dpo)
    queue = staff.get("/staff/privacy-requests").get_data(as_text=True)
    assert queue.index(f"#{first_id}<") < queue.index(f"#{first_id + 1}<")  # by due date
    assert "overdue" in queue
    answered = post_form(staff, f"/staff/privacy-requests/{first_id}", {"response": "We hold your profile and progress.", "outcome": "completed"})
    assert answered.status_code == 303
    mail = outbox(app, kind="privacy")[-1]
    assert mail.to_addr == a.learner.email and "We hold your profile" in mail.body_text
    assert "(A question about my data, completed):" in mail.body_text  # the kind and outcome in words
    assert "A question about my data" in queue and ">question<" not in queue and ">open<" not in queue
    assert "We hold your profile" in learner.get("/privacy/requests").get_data(as_text=True)


def test_request_form_errors_keep_input(client, companies):
    a, _ = companies
    login(client, a.learner.email)
    response = post_form(client, "/privacy/requests", {"kind": "", "jurisdiction": "gdpr", "details": "Keep me"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Choose what you would like" in html and "Keep me" in html


def test_contact_page_names_the_contacts(client):
    html = client.get("/privacy/contact").get_data(as_text=True)
    assert "privacy@leadthe.ai" in html and "dpo@leadthe.ai" in html and "eu-privacy@leadthe.ai" in html


# --- minors and companies that leave ------------------------------------------------------------------

def test_admin_reports_a_minor_locked_at_once_and_erased_without_grace(app, companies):
    a, b = companies
    victim = app.test_client()
    login(victim, a.learner.email)
    admin = app.test_client()
    login(admin, a.admin.email)
    assert post_form(admin, f"/admin/users/{b.learner.id}/report-minor", {"password": PASSWORD}, page="/dashboard").status_code == 404
    assert post_form(admin, f"/admin/users/{a.learner.id}/report-minor", {"password": PASSWORD}).status_code == 303
    assert victim.get("/dashboard").status_code == 302
    assert "privacy.minor_reported" in audit_actions(app)
    with app.app_context():
        assert db.session.get(User, a.learner.id).status == "locked"
        run_once(utcnow() + timedelta(seconds=10))
        assert db.session.get(User, a.learner.id) is None
        assert db.session.get(User, b.learner.id) is not None


def _status(app, user_id):
    with app.app_context():
        person = db.session.get(User, user_id)
        return person.status if person is not None else None


def test_admin_report_as_minor_asks_for_confirmation_and_the_password(app, companies):
    """A CSRF token alone erases nobody: a confirmation page says it cannot be undone, the POST needs the
    admin's password (and code, with two-step verification), and only the company's active people qualify."""
    a, b = companies
    admin = app.test_client()
    login(admin, a.admin.email)
    page = admin.get(f"/admin/users/{a.learner.id}/report-minor")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "cannot be undone" in html and 'name="password"' in html and "Learner A" in html
    assert f'href="/admin/users/{a.learner.id}/report-minor"' in admin.get(f"/admin/users/{a.learner.id}").get_data(as_text=True)

    only_csrf = post_form(admin, f"/admin/users/{a.learner.id}/report-minor", {})
    assert only_csrf.status_code == 422 and 'id="password-error"' in only_csrf.get_data(as_text=True)
    wrong = post_form(admin, f"/admin/users/{a.learner.id}/report-minor", {"password": "not the password"})
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    assert _status(app, a.learner.id) == "active" and "privacy.minor_reported" not in audit_actions(app)

    # not a listed active person of this company: another company's, a deactivated one, the admin themself
    deactivated = make_user(app, a.org, email="gone@a.example", status="deactivated")
    for user_id in (b.learner.id, deactivated.id, a.admin.id):
        assert admin.get(f"/admin/users/{user_id}/report-minor").status_code == 404
        assert post_form(admin, f"/admin/users/{user_id}/report-minor", {"password": PASSWORD},
                         page="/dashboard").status_code == 404
    assert {_status(app, b.learner.id), _status(app, deactivated.id)} == {"active", "deactivated"}

    # with two-step verification the code is asked for too, every time
    a.admin.otp_secret, _codes = enable_2fa(app, a.admin)
    admin = app.test_client()
    assert login_with_code(admin, app, a.admin).status_code == 303
    no_code = post_form(admin, f"/admin/users/{a.learner.id}/report-minor", {"password": PASSWORD})
    assert no_code.status_code == 422 and 'id="code-error"' in no_code.get_data(as_text=True)
    assert _status(app, a.learner.id) == "active"
    done = post_form(admin, f"/admin/users/{a.learner.id}/report-minor", {"password": PASSWORD, "code": fresh_code(app, a.admin)})
    assert done.status_code == 303 and _status(app, a.learner.id) == "locked"


def test_staff_lock_and_erase_and_closing_a_company_need_password_and_code(app, companies):
    a, b = companies
    staff_user = make_staff(app, email="ops@leadthe.example")
    staff = app.test_client()
    login_with_code(staff, app, staff_user)

    page = staff.get(f"/staff/users/{a.learner.id}/report-minor").get_data(as_text=True)
    assert "cannot be undone" in page and 'name="password"' in page and 'name="code"' in page
    url = f"/staff/users/{a.learner.id}/report-minor"
    for data in ({"reason": "Said they are 15"}, {"reason": "Said they are 15", "password": PASSWORD},
                 {"reason": "Said they are 15", "password": PASSWORD, "code": "000000"}):
        assert post_form(staff, url, data).status_code == 422
    assert _status(app, a.learner.id) == "active" and "privacy.minor_reported" not in audit_actions(app)
    # only active company accounts: not a deactivated one, not a staff account
    deactivated = make_user(app, b.org, email="gone@b.example", status="deactivated")
    other_staff = make_staff(app, "dpo")
    for user_id in (deactivated.id, other_staff.id):
        assert staff.get(f"/staff/users/{user_id}/report-minor").status_code == 404
        assert post_form(staff, f"/staff/users/{user_id}/report-minor", {"reason": "x", "password": PASSWORD,
                                                                         "code": fresh_code(app, staff_user)},
                         page="/staff/console").status_code == 404
    assert _status(app, deactivated.id) == "deactivated"
    done = post_form(staff, url, {"reason": "Said they are 15", "password": PASSWORD, "code": fresh_code(app, staff_user)})
    assert done.status_code == 303 and _status(app, a.learner.id) == "locked"

    close = f"/staff/organizations/{b.org.id}/close"
    assert "cannot be undone" in staff.get(close).get_data(as_text=True)
    assert f'href="{close}"' in staff.get("/staff/console").get_data(as_text=True)
    for data in ({"reason": "Contract ended"}, {"reason": "Contract ended", "password": PASSWORD}):
        assert post_form(staff, close, data).status_code == 422
    with app.app_context():
        assert db.session.get(Organization, b.org.id).status != "closed"
    assert "reauth.failed" in audit_actions(app)


def test_staff_close_a_company_and_retention_erases_it_later(app, companies):
    a, b = companies
    member = app.test_client()
    login(member, a.learner.email)
    staff_user = make_staff(app, email="ops@leadthe.example")
    staff = app.test_client()
    login_with_code(staff, app, staff_user)
    assert post_form(staff, f"/staff/organizations/{a.org.id}/close",
                     {"reason": "Contract ended", "password": PASSWORD, "code": fresh_code(app, staff_user)}).status_code == 303
    assert member.get("/dashboard").status_code == 302
    mails = {m.to_addr for m in outbox(app) if "has left LeadThe.AI" in m.subject}
    assert mails == {a.admin.email, a.manager.email, a.learner.email}
    with app.app_context():
        from leadthe.privacy.retention import apply_retention

        assert apply_retention(now=utcnow() + timedelta(days=30))["company_lifetime"] == 0
        assert apply_retention(now=utcnow() + timedelta(days=91))["company_lifetime"] == 1
        assert db.session.get(Organization, a.org.id) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.org_id == a.org.id)) == 0
        assert db.session.get(Organization, b.org.id) is not None


# --- retention ----------------------------------------------------------------------------------------

def test_retention_rules_dry_run_and_idempotence(app, companies):
    a, _ = companies
    unverified = make_user(app, a.org, email="never@a.example", verified=False)
    with app.app_context():
        db.session.get(User, unverified.id).created_at = utcnow() - timedelta(days=31)
        db.session.add(UserSession(user_id=a.learner.id, token_hash="x" * 64, expires_at=utcnow() - timedelta(days=40),
                                   created_at=utcnow() - timedelta(days=41), last_seen_at=utcnow() - timedelta(days=41)))
        db.session.add(OutboxMail(to_addr="x@a.example", subject="s", body_text="b", kind="k", status="sent",
                                  sent_at=utcnow() - timedelta(days=100)))
        db.session.commit()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["leadthe", "retention", "--dry-run"])
    assert dry.exit_code == 0 and "dry run" in dry.output
    assert re.search(r"never-verified sign-ups removed: 1", dry.output)
    with app.app_context():
        assert db.session.get(User, unverified.id) is not None
    real = runner.invoke(args=["leadthe", "retention"])
    assert re.search(r"ended sessions .*: 1", real.output) and re.search(r"old e-mails deleted: 1", real.output)
    with app.app_context():
        assert db.session.get(User, unverified.id) is None
    again = runner.invoke(args=["leadthe", "retention"])
    assert all(line.endswith(": 0") for line in again.output.strip().splitlines()[1:])


def test_closed_account_is_erased_after_90_days(app, companies):
    a, _ = companies
    with app.app_context():
        user = db.session.get(User, a.learner.id)
        user.status, user.closed_at = "closed", utcnow()
        db.session.commit()
    runner = app.test_cli_runner()
    soon = runner.invoke(args=["leadthe", "retention", "--now", (utcnow() + timedelta(days=89)).isoformat()])
    assert "closed accounts erased: 0" in soon.output
    late = runner.invoke(args=["leadthe", "retention", "--now", (utcnow() + timedelta(days=91)).isoformat()])
    assert "closed accounts erased: 1" in late.output
    with app.app_context():
        assert db.session.get(User, a.learner.id) is None


def test_export_archives_and_the_development_database_are_private(client, app, companies, make_app, tmp_path):
    import os
    import stat

    a, _ = companies
    old = os.umask(0o022)  # the usual umask: what the process would otherwise create is world-readable
    try:
        login(client, a.learner.email)
        export_via_http(client, app)
        with app.app_context():
            name = db.session.scalar(sa.select(DataExport.file_name))
        folder = Path(app.config["EXPORT_DIR"])
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
        fresh = make_app(f"sqlite:///{tmp_path}/leadthe.db")
        with fresh.app_context():
            db.session.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            db.session.commit()
        assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()} == \
            {"leadthe.db": 0o600, "leadthe.db-wal": 0o600, "leadthe.db-shm": 0o600}
    finally:
        os.umask(old)
