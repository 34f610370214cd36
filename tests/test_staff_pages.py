"""Every staff page reachable by GET answers 200, with privacy requests of every kind and status, support tickets
of every status, open and closed companies, and people of every role (issue 14: an erasure request's page was a 500)."""
from __future__ import annotations

import re

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import Organization, PrivacyRequest, User, utcnow
from leadthe.models.privacy import REQUEST_KINDS
from leadthe.models.support import TICKET_STATUSES, SupportTicket
from tests.conftest import PASSWORD, login_with_code, make_staff, make_user, post_form
from tests.helpers import make_course

REQUEST_STATUSES = ("open", "scheduled", "in_progress", "completed", "rejected", "cancelled", "error")


def staff_login(app, role="dpo"):
    """A signed-in platform staff member (the one place to adapt when staff log-in needs more steps)."""
    person = make_staff(app, role, email=f"{role}@leadthe.example", name=f"Staff {role}")
    client = app.test_client()
    assert login_with_code(client, app, person).status_code == 303
    return client


def _world(app, companies):
    from leadthe.privacy.services import record_request
    from leadthe.support.services import open_ticket

    a, b = companies
    with app.app_context():
        learner = db.session.get(User, a.learner.id)
        erased = db.session.get(User, b.learner.id)
        for kind in REQUEST_KINDS:
            for status in REQUEST_STATUSES:
                req = record_request(learner, kind, "gdpr", details=f"{kind} {status}", status=status)
                if status in ("completed", "rejected", "cancelled"):
                    req.completed_at, req.response = utcnow(), "Done."
                if status == "error":
                    req.last_error = "step 3 (delete personal rows): OSError: disk full"
                if kind == "erasure":
                    req.scheduled_for = utcnow()
        # requests whose person has since been erased (pseudonym only)
        for kind in ("erasure", "access"):
            req = record_request(erased, kind, "ccpa", details="", status="completed")
            req.user_id, req.subject_ref = None, "f" * 64
        for status in TICKET_STATUSES:
            open_ticket(learner, f"Ticket {status}", "account", "Help me.").status = status
        make_course(None, "staff-pages", "Staff pages course")
        db.session.get(Organization, b.org.id).status = "closed"
        db.session.get(Organization, b.org.id).closed_at = utcnow()
        db.session.commit()


def _urls(app) -> list[str]:
    """Every GET route of the staff area, once per object of the kind its ids name."""
    with app.app_context():
        ids = {
            "request_id": db.session.scalars(sa.select(PrivacyRequest.id)).all(),
            "ticket_id": db.session.scalars(sa.select(SupportTicket.id)).all(),
            "user_id": db.session.scalars(sa.select(User.id)).all(),
            "org_id": db.session.scalars(sa.select(Organization.id)).all(),
        }
        from leadthe.models import Course, CourseModule, Lesson

        course = db.session.scalar(sa.select(Course).where(Course.slug == "staff-pages"))
        module = db.session.scalar(sa.select(CourseModule).where(CourseModule.course_id == course.id))
        lesson = db.session.scalar(sa.select(Lesson).where(Lesson.course_id == course.id))
        fixed = {"course_id": course.id, "module_id": module.id, "lesson_id": lesson.id}
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("staff.") or "GET" not in rule.methods:
            continue
        args = set(rule.arguments)
        many = [name for name in args if name in ids]
        assert len(many) <= 1 and not (args - set(ids) - set(fixed)), f"no objects for {rule.rule}"
        base = {name: fixed[name] for name in args if name in fixed}
        with app.test_request_context():
            from flask import url_for

            if many:
                urls += [url_for(rule.endpoint, **base, **{many[0]: value}) for value in ids[many[0]]]
            else:
                urls.append(url_for(rule.endpoint, **base))
            if rule.endpoint in ("staff.privacy_requests", "staff.support_queue"):
                urls += [url_for(rule.endpoint, show="all"), url_for(rule.endpoint, page=2)]
                urls += [url_for(rule.endpoint, status=status) for status in TICKET_STATUSES]
    return urls


def test_every_staff_page_answers_for_every_kind_and_status(app, companies):
    _world(app, companies)
    for role in ("dpo", "staff"):
        client = staff_login(app, role)
        urls = _urls(app)
        pages = [u for u in urls if re.fullmatch(r"/staff/privacy-requests/\d+", u)]
        assert len(pages) == len(REQUEST_KINDS) * len(REQUEST_STATUSES) + 2
        assert len([u for u in urls if re.fullmatch(r"/staff/support/\d+", u)]) == len(TICKET_STATUSES)
        failed = {}
        for url in urls:
            response = client.get(url)
            if _not_applicable(url, response.status_code):
                continue
            if response.status_code not in (200, 302):
                failed[url] = response.status_code
            elif response.status_code == 302:
                assert url == "/staff", url  # the only redirect: to the console
        assert failed == {}


def _not_applicable(url: str, status: int) -> bool:
    """Confirmation pages of destructive actions answer only for people and companies they apply to: a
    closed company's close page goes back to the console (303), a staff or inactive person's
    report-as-under-18 page is a 404."""
    if re.fullmatch(r"/staff/organizations/\d+/close", url):
        return status == 303
    return bool(re.fullmatch(r"/staff/users/\d+/report-minor", url)) and status == 404
