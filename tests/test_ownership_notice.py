"""The change-of-ownership notice (issue 21; the privacy policy's promise on business transfers).

Staff fill in the new owner, the date, what happens to the data and a contact, see a preview of the banner and the
mail, confirm, and send. Every active person of every company gets exactly one mail, with a fixed subject in their
language, even when the worker dies half-way and another resumes; the banner is on every page for every signed-in
person until they close it (a plain form without JS, an empty answer under htmx); people of a company cannot send.
"""
from __future__ import annotations

import html
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import AuditEvent, User, utcnow
from leadthe.models.support import Notice, NoticeDismissal
from leadthe.worker import run_once
from tests.conftest import csrf_from, login_with_code, make_org, make_staff, make_user, outbox, post_form
from tests.helpers import login

FORM = {"new_owner": "Northwind Learning GmbH", "transfer_on": "2027-02-01",
        "body": "Northwind keeps running the platform from the same data centres in Frankfurt.",
        "contact": "privacy@leadthe.ai"}
BANNER = 'id="ownership-notice"'


@pytest.fixture
def staff_client(app):
    staff = make_staff(app, email="owner-desk@leadthe.example", name="Olga Owner")
    client = app.test_client()
    assert login_with_code(client, app, staff).status_code == 303
    client.staff = staff
    return client


def send(staff_client, **changes):
    """Preview, then confirm and send; returns the answer to the send."""
    data = {**FORM, **changes}
    preview = post_form(staff_client, "/staff/notices/ownership", {**data, "action": "preview"})
    assert preview.status_code == 200
    token = csrf_from(preview.get_data(as_text=True))
    return staff_client.post("/staff/notices/ownership", data={**data, "csrf_token": token, "action": "send", "confirm": "y"})


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_preview_then_confirm_then_send(app, companies, staff_client):
    page = text(staff_client.get("/staff/notices"))
    assert "/staff/notices/ownership" in page
    preview = post_form(staff_client, "/staff/notices/ownership", {**FORM, "action": "preview"})
    shown = text(preview)
    # the preview shows the banner and the mail as people will get them; nothing is stored or mailed yet
    assert preview.status_code == 200 and "Preview" in shown and "Northwind Learning GmbH" in shown
    assert "Subject: LeadThe.AI is changing owner" in " ".join(html.unescape(shown.replace("<strong>", "").replace("</strong>", "")).split())
    assert "delete your account" in shown and "/privacy#export" in shown and "privacy@leadthe.ai" in shown
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice)) == 0
    # sending without the confirmation: the same form with its error, still nothing stored
    token = csrf_from(preview.get_data(as_text=True))
    unconfirmed = staff_client.post("/staff/notices/ownership", data={**FORM, "csrf_token": token, "action": "send"})
    assert unconfirmed.status_code == 422 and "confirm that the notice goes to everyone" in text(unconfirmed)
    assert "Northwind Learning GmbH" in text(unconfirmed)  # nothing typed is lost
    missing = post_form(staff_client, "/staff/notices/ownership", {"action": "preview", "new_owner": "X"})
    assert missing.status_code == 422 and "Give the date of the transfer" in text(missing)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice)) == 0
    response = staff_client.post("/staff/notices/ownership", data={**FORM, "csrf_token": token, "action": "send", "confirm": "y"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/notices")
    with app.app_context():
        notice = db.session.scalar(sa.select(Notice))
        assert (notice.kind, notice.new_owner, notice.transfer_on) == ("ownership", "Northwind Learning GmbH", date(2027, 2, 1))
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "staff.ownership_notice_sent"))
        assert event is not None and event.actor_id == staff_client.staff.id
    assert "Change of ownership: Northwind Learning GmbH" in text(staff_client.get("/staff/notices"))


def test_every_active_user_of_every_company_gets_exactly_one_mail_even_after_a_restart(app, companies, staff_client,
                                                                                        monkeypatch):
    import leadthe.staff.jobs as jobs

    a, b = companies
    third = make_org(app, "Company C")
    for n in range(3):
        make_user(app, third, email=f"person{n}@c.example", name=f"Person {n}")
    gone = make_user(app, third, email="gone@c.example", status="closed")
    monkeypatch.setattr(jobs, "NOTICE_BATCH", 2)
    assert send(staff_client).status_code == 303
    real_commit = db.session.commit
    calls = {"n": 0}

    def crash_after_first_batch():
        real_commit()
        calls["n"] += 1
        if calls["n"] == 3:  # the job's claim, the first batch, then the worker dies
            raise SystemExit("worker killed")

    with app.app_context():
        monkeypatch.setattr(db.session, "commit", crash_after_first_batch)
        with pytest.raises(SystemExit):
            run_once()
        monkeypatch.setattr(db.session, "commit", real_commit)
        db.session.rollback()
        assert 0 < len(outbox(app, kind="notice")) < 8  # half-way
        run_once(utcnow() + timedelta(minutes=20))  # the job's lease ran out: another worker resumes it
        run_once(utcnow() + timedelta(minutes=40))  # and once more: nothing new
        active = db.session.scalars(sa.select(User.email).where(User.status == "active")).all()
        notice = db.session.scalar(sa.select(Notice))
        assert notice.finished_at is not None and notice.mailed == len(active)
    mails = outbox(app, kind="notice")
    assert sorted(m.to_addr for m in mails) == sorted(active) and len(mails) == len({m.to_addr for m in mails})
    assert gone.email not in {m.to_addr for m in mails}
    assert {b.learner.email, a.admin.email, "person2@c.example", staff_client.staff.email} <= {m.to_addr for m in mails}
    # a fixed subject: nothing staff typed is in it; the body carries the facts and the privacy centre's address
    assert {m.subject for m in mails} == {"LeadThe.AI is changing owner"}
    body = mails[0].body_text
    assert "Northwind Learning GmbH" in body and "privacy@leadthe.ai" in body and "/privacy" in body
    assert "delete your account" in body


def test_the_banner_is_on_every_page_until_closed_without_js(app, companies, staff_client):
    a, _ = companies
    assert send(staff_client).status_code == 303
    client = app.test_client()
    login(client, a.admin.email)
    for url in ("/dashboard", "/courses", "/account/profile", "/privacy", "/support", "/admin", "/admin/users"):
        page = text(client.get(url))
        assert BANNER in page and "Northwind Learning GmbH" in page and 'href="/privacy#export"' in page, url
    assert BANNER in text(staff_client.get("/staff/console"))  # staff are people too
    with app.app_context():
        notice_id = db.session.scalar(sa.select(Notice.id))
    # without JS: a plain form, back to the page it was on, and gone from every page
    closed = post_form(client, f"/notices/{notice_id}/dismiss", {"next": "/courses"}, page="/courses")
    assert closed.status_code == 303 and closed.headers["Location"] == "/courses"
    for url in ("/dashboard", "/courses", "/privacy", "/admin"):
        assert BANNER not in text(client.get(url)), url
    # closing again changes nothing; the dismissal is recorded for this person only
    assert post_form(client, f"/notices/{notice_id}/dismiss", {"next": "/dashboard"}, page="/dashboard").status_code == 303
    with app.app_context():
        assert db.session.scalars(sa.select(NoticeDismissal.user_id)).all() == [a.admin.id]
    learner = app.test_client()
    login(learner, a.learner.email)
    assert BANNER in text(learner.get("/dashboard"))
    # an outside address in "next" is not followed
    response = post_form(learner, f"/notices/{notice_id}/dismiss", {"next": "https://evil.example/"}, page="/dashboard")
    assert response.headers["Location"] == "/dashboard"


def test_the_banner_closes_under_htmx(app, companies, staff_client):
    a, _ = companies
    assert send(staff_client).status_code == 303
    client = app.test_client()
    login(client, a.learner.email)
    page = text(client.get("/courses"))
    assert 'data-hx-post="/notices/' in page and 'data-hx-target="#ownership-notice"' in page
    with app.app_context():
        notice_id = db.session.scalar(sa.select(Notice.id))
    response = client.post(f"/notices/{notice_id}/dismiss", data={"csrf_token": csrf_from(page), "next": "/courses"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.get_data(as_text=True) == ""  # the banner removes itself
    assert BANNER not in text(client.get("/courses"))
    # a general notice cannot be "closed" through this address, and an unknown one is 404
    with app.app_context():
        general = Notice(title="Maintenance", body="Tonight.")
        db.session.add(general)
        db.session.commit()
        general_id = general.id
    assert post_form(client, f"/notices/{general_id}/dismiss", {}, page="/courses").status_code == 404
    assert post_form(client, "/notices/999999/dismiss", {}, page="/courses").status_code == 404


def test_people_of_a_company_cannot_send(app, companies):
    a, _ = companies
    for who in (a.learner, a.admin):
        client = app.test_client()
        login(client, who.email)
        assert client.get("/staff/notices/ownership").status_code == 404
        response = post_form(client, "/staff/notices/ownership", {**FORM, "action": "send", "confirm": "y"}, page="/dashboard")
        assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice)) == 0
    assert outbox(app, kind="notice") == []


def test_a_german_user_gets_german_mail_and_banner(app, companies, staff_client):
    a, _ = companies
    with app.app_context():
        db.session.get(User, a.learner.id).locale = "de"
        db.session.commit()
    assert send(staff_client).status_code == 303
    with app.app_context():
        run_once()
    mail = next(m for m in outbox(app, kind="notice") if m.to_addr == a.learner.email)
    english = next(m for m in outbox(app, kind="notice") if m.to_addr == a.admin.email)
    assert mail.subject != english.subject and "changing owner" not in mail.subject
    assert "Datenschutz" in mail.body_text and "01.02.2027" in mail.body_text and "Northwind Learning GmbH" in mail.body_text
    assert "What happens to your data" not in mail.body_text
    client = app.test_client()
    login(client, a.learner.email)
    page = text(client.get("/dashboard"))
    assert BANNER in page and "changing owner" not in page and "Close this notice" not in page
    assert "Datenschutz" in page and "01.02.2027" in page
