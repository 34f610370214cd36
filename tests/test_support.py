"""Support tickets, feedback, the staff console, and staff access to user data only with a recorded reason."""
from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import AuditEvent, utcnow
from leadthe.models.support import Feedback, SupportTicket
from leadthe.worker import run_once
from tests.conftest import login_with_code, make_staff, outbox, post_form
from tests.helpers import count_statements, login, statements_run


@pytest.fixture
def staff_client(app):
    staff = make_staff(app, email="helper@leadthe.example", name="Sam Staff")
    client = app.test_client()
    assert login_with_code(client, app, staff).status_code == 303
    client.staff = staff
    return client


def open_ticket(client, subject="Cannot see my certificate", body="It says 404 when I open it."):
    response = post_form(client, "/support", {"subject": subject, "category": "courses", "body": body})
    assert response.status_code == 303
    return int(re.search(r"/support/(\d+)", response.headers["Location"]).group(1))


def test_ticket_thread_reply_and_mail(app, companies, staff_client):
    a, b = companies
    learner = app.test_client()
    login(learner, a.learner.email)
    ticket_id = open_ticket(learner)
    assert outbox(app, kind="support_staff")[0].to_addr == "support@leadthe.ai"
    assert "Cannot see my certificate" in learner.get("/support").get_data(as_text=True)

    queue = staff_client.get("/staff/support").get_data(as_text=True)
    assert "Cannot see my certificate" in queue
    assert "Learner A" not in queue and a.learner.email not in queue  # no personal data in the queue
    reply = post_form(staff_client, f"/staff/support/{ticket_id}", {"reply-body": "Fixed: please try again."})
    assert reply.status_code == 303
    mail = outbox(app, kind="support")[-1]
    assert mail.to_addr == a.learner.email and "Fixed: please try again." in mail.body_text
    thread = learner.get(f"/support/{ticket_id}").get_data(as_text=True)
    assert "Fixed: please try again." in thread and "Answered" in thread
    assert post_form(learner, f"/support/{ticket_id}", {"body": "Works now, thanks!"}).status_code == 303
    with app.app_context():
        assert db.session.get(SupportTicket, ticket_id).status == "open"
    # someone else's ticket is a 404
    other = app.test_client()
    login(other, b.learner.email)
    assert other.get(f"/support/{ticket_id}").status_code == 404


def test_staff_queue_search_status_and_assignment(app, companies, staff_client):
    a, _ = companies
    learner = app.test_client()
    login(learner, a.learner.email)
    first = open_ticket(learner, subject="Password reset mail missing")
    open_ticket(learner, subject="Quiz shows wrong answer")
    answer = staff_client.get("/staff/support?q=quiz")
    found = answer.get_data(as_text=True)
    assert answer.status_code == 200  # the status filter once leaked into the HTTP status ("0 active")
    assert "Quiz shows wrong answer" in found and "Password reset" not in found
    fragment = staff_client.get("/staff/support?q=quiz", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="support-results"' in fragment
    response = post_form(staff_client, f"/staff/support/{first}", {"ticket-status": "closed", "ticket-assign": str(staff_client.staff.id)})
    assert response.status_code == 303
    with app.app_context():
        ticket = db.session.get(SupportTicket, first)
        assert ticket.status == "closed" and ticket.assigned_to_id == staff_client.staff.id
    assert "Password reset" not in staff_client.get("/staff/support").get_data(as_text=True)  # closed ones leave the queue


def test_ticket_form_errors_keep_input(client, companies):
    a, _ = companies
    login(client, a.learner.email)
    response = post_form(client, "/support", {"subject": "", "category": "bug", "body": "Details kept"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "short subject" in html and "Details kept" in html


def staff_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/staff"):
            yield rule, re.sub(r"<[^>]+>", "1", rule.rule)


def test_every_staff_route_is_404_for_company_people(app, companies):
    a, _ = companies
    routes = list(staff_routes(app))
    assert len(routes) >= 10
    for who in (a.learner, a.manager, a.admin):
        client = app.test_client()
        login(client, who.email)
        for rule, path in routes:
            if "GET" in rule.methods:
                assert client.get(path).status_code == 404, (who.role, path)
            if "POST" in rule.methods:
                assert post_form(client, path, {}, page="/dashboard").status_code == 404, (who.role, path)
    anonymous = app.test_client()
    for rule, path in routes:
        if "GET" in rule.methods:
            assert anonymous.get(path).status_code == 404, path


def test_console_shows_organisations_with_counts_only(app, companies, staff_client):
    a, b = companies
    html = staff_client.get("/staff/console").get_data(as_text=True)
    assert "Company A" in html and "Company B" in html
    assert a.learner.email not in html and "Learner A" not in html
    assert re.search(r"Company A</th><td class=\"num\"[^>]*>3</td><td class=\"num\"[^>]*>1</td>", html)



def test_the_console_finds_companies_by_name_and_status_a_page_at_a_time(app, companies, staff_client):
    from leadthe.models import Organization, Team, User
    from leadthe.models.enums import OrgStatus

    with app.app_context():
        db.session.add_all(Organization(name=f"Zeta {n:02d}") for n in range(55))
        closed = Organization(name="Omega Closed", status=OrgStatus.CLOSED)
        db.session.add(closed)
        db.session.flush()
        db.session.add_all(User(org_id=closed.id, email=f"p{n}@omega.example", name=f"P {n}", role="learner",
                                password_hash="x")
                           for n in range(4))
        db.session.add(Team(org_id=closed.id, name="Ops"))
        db.session.commit()
    html = staff_client.get("/staff/console").get_data(as_text=True)
    assert "58 companies" in html and 'rel="next"' in html and "Page 1 of 2" in html
    assert "Company A" in html and "Zeta 46" in html and "Zeta 47" not in html  # by name: A, B, Omega, Zeta 00-46
    second = staff_client.get("/staff/console?page=2").get_data(as_text=True)
    assert "Zeta 54" in second and "Company A" not in second and 'rel="prev"' in second
    found = staff_client.get("/staff/console?q=omega&status=closed").get_data(as_text=True)
    assert "1 company" in found and re.search(r"Omega Closed</th><td class=\"num\"[^>]*>4</td><td class=\"num\"[^>]*>1</td>", found)
    assert "Close…" not in found.split('id="orgs-results"')[1]  # already closed
    none = staff_client.get("/staff/console?q=nothing-like-it").get_data(as_text=True)
    assert "No company matches these filters." in none and 'href="/staff/console"' in none
    # the queues are links; with htmx, only the results
    assert 'href="/staff/privacy-requests"><strong>0</strong> <span>open privacy requests' in html
    fragment = staff_client.get("/staff/console?q=zeta", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "55 companies" in fragment
    # the statements do not grow with the companies on the page
    few = count_statements(app, staff_client, "/staff/console?q=company")
    many = count_statements(app, staff_client, "/staff/console")
    assert many == few

def test_staff_need_a_recorded_reason_and_the_grant_expires_after_an_hour(app, companies, staff_client):
    a, _ = companies
    page = staff_client.get(f"/staff/users/{a.learner.id}").get_data(as_text=True)
    assert a.learner.email not in page and "Learner A" not in page and "record why" in page
    refused = post_form(staff_client, f"/staff/users/{a.learner.id}/access", {"reason": "", "reference": ""},
                        page=f"/staff/users/{a.learner.id}")
    assert refused.status_code == 422
    granted = post_form(staff_client, f"/staff/users/{a.learner.id}/access",
                        {"reason": "Certificate missing", "reference": "#42"}, page=f"/staff/users/{a.learner.id}")
    assert granted.status_code == 303
    page = staff_client.get(f"/staff/users/{a.learner.id}").get_data(as_text=True)
    assert a.learner.email in page and "Learner A" in page and "Certificate missing" in page
    # visible to the person (their security events) and to their company's admin (audit log)
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "staff.access_granted"))
        assert event.subject_id == a.learner.id and event.org_id == a.org.id and event.details["reason"] == "Certificate missing"
    admin = app.test_client()
    login(admin, a.admin.email)
    audit_page = admin.get("/admin/audit").get_data(as_text=True)
    assert "LeadThe.AI staff opened the account" in audit_page and "staff.access_granted" not in audit_page and "Certificate missing" in audit_page and "#42" in audit_page
    # an hour later the data is hidden again
    later = utcnow() + timedelta(hours=1, minutes=1)
    with mock.patch("leadthe.support.services.utcnow", return_value=later):
        page = staff_client.get(f"/staff/users/{a.learner.id}").get_data(as_text=True)
    assert a.learner.email not in page and "record why" in page


def test_feedback_aggregates_for_staff_and_company_admins(app, companies, staff_client):
    a, b = companies
    for who, rating, comment in ((a.learner, 5, "Great course"), (a.manager, 3, ""), (b.learner, 1, "Too long")):
        c = app.test_client()
        login(c, who.email)
        assert post_form(c, "/feedback", {"rating": str(rating), "comment": comment}).status_code == 303
    staff_page = staff_client.get("/staff/feedback").get_data(as_text=True)
    assert ">3<" in staff_page and "Great course" in staff_page and "Too long" in staff_page
    admin = app.test_client()
    login(admin, a.admin.email)
    company_page = admin.get("/admin/feedback").get_data(as_text=True)
    assert "Great course" in company_page and "Too long" not in company_page and ">4.0<" in company_page
    assert "Learner A" not in company_page
    bad = app.test_client()
    login(bad, a.learner.email)
    response = post_form(bad, "/feedback", {"rating": "9"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Feedback)) == 3


def test_notice_is_shown_and_mailed_to_everyone_once(app, companies, staff_client):
    a, _ = companies
    response = post_form(staff_client, "/staff/notices", {"title": "LeadThe.AI has a new owner", "body": "Nothing changes for your data."})
    assert response.status_code == 303
    with app.app_context():
        run_once()
        run_once()
    mails = [m.to_addr for m in outbox(app, kind="notice")]
    assert len(mails) == len(set(mails)) and a.learner.email in mails and a.admin.email in mails
    # the subject is fixed words, never what staff typed; the title and the text are in the body
    assert {m.subject for m in outbox(app, kind="notice")} == {"Notice from LeadThe.AI"}
    assert "LeadThe.AI has a new owner" in outbox(app, kind="notice")[0].body_text
    learner = app.test_client()
    login(learner, a.learner.email)
    assert "LeadThe.AI has a new owner" in learner.get("/dashboard").get_data(as_text=True)
    # kept per process: the next dashboards ask the database nothing for it
    with statements_run(app) as statements:
        assert "LeadThe.AI has a new owner" in learner.get("/dashboard").get_data(as_text=True)
    assert statements and [s for s in statements if "FROM notice" in s] == []


def test_course_survey_is_counted_per_course(app, companies, staff_client):
    a, _ = companies
    assert app.test_cli_runner().invoke(args=["leadthe", "load-content"]).exit_code == 0
    learner = app.test_client()
    login(learner, a.learner.email)
    page = learner.get("/feedback?course=ai-foundations").get_data(as_text=True)
    assert "How was AI foundations for everyone?" in page
    response = post_form(learner, "/feedback?course=ai-foundations", {"rating": "4", "course": "ai-foundations"})
    assert response.status_code == 303 and response.headers["Location"] == "/courses/ai-foundations"
    summary = staff_client.get("/staff/feedback").get_data(as_text=True)
    assert "AI foundations for everyone" in summary
    assert learner.get("/feedback?course=no-such-course").status_code == 404
