"""Every page of the app, as every role, through axe-core and the Nu HTML checker.

The pages are the GET rules of ``app.url_map`` (not a hand-kept list: a new page is swept without
touching this file), their parameters filled from a realistic company: the starter curriculum loaded
with ``leadthe load-content``, the demo company with its progress, quiz attempts, certificates and
maturity results (``leadthe seed-demo``), plus a staff account, a company course, a support ticket,
privacy requests, an export, feedback, an invitation, a notice and links from real mails.

Each role visits every page; what the role may not see (403, 404 or a redirect, e.g. to the log-in)
is left out for that role, and at the end every page must have been seen by at least one role, so a
gap in the data set cannot quietly shrink the sweep. axe runs on the live DOM (after htmx has run);
the Nu checker runs once, over the raw response bodies of all the pages, in one JVM.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from tests.conftest import make_staff

from . import nu
from .conftest import axe_check, browser_required
from .helpers import log_in, log_in_with_code

ROLES = ("anonymous", "learner", "manager", "admin", "staff")
EMAILS = {
    "learner": "learner@acme.example",
    "manager": "manager@acme.example",
    "admin": "admin@acme.example",
    "staff": "sweep-staff@leadthe.example",
}
DEMO_PASSWORD = "acme-demo-passphrase"
# The staff account (with two-step verification, as staff accounts must have): made by build_data_set.
STAFF: dict = {}

# Not pages: health check, static files, development tools, and downloads (CSV, ZIP, PDF, images).
SKIPPED_PREFIXES = ("/static/", "/dev/", "/healthz")
NOT_HTML = {
    "admin.report_csv": "CSV download",
    "assessments.certificate_pdf_view": "PDF download",
    "privacy.export_download": "ZIP download",
    "account.photo": "the profile photo (an image)",
}
# One-time links: visited once, by the person they were mailed to (some are rate-limited per hour).
LINK_PAGES = {
    "auth.verify_email": "anonymous",
    "auth.reset_password": "anonymous",
    "invite.accept": "anonymous",
    "progress.unsubscribe": "anonymous",
    "privacy.cancel_erasure": "anonymous",
    "account.confirm_email_change": "learner",
    "auth.login_2fa": "half-logged-in",  # after the password, before the second factor: see the test
}
# Pages that only redirect somewhere already swept (checked: they must answer with a redirect).
REDIRECTS = {"courses.resume", "staff.index"}
# Mailed links whose token moves into the session: they redirect to the same page without it, which is checked.
PARKED_TOKEN_LINKS = {"auth.verify_email", "auth.reset_password", "invite.accept"}

# Subsets seen again in the dark colour scheme and in the German interface.
DARK = {
    "anonymous": ["/", "/login", "/signup"],
    "learner": ["/dashboard", "/courses", "{lesson}", "{maturity_result}", "{quiz_result}", "/leaderboard"],
    "admin": ["/admin", "/admin/maturity", "/admin/users"],
    "staff": ["/staff/console", "/staff/support"],
}
GERMAN = {
    "anonymous": ["/", "/login", "/signup", "/privacy/policy"],
    "learner": ["/dashboard", "/courses", "{lesson}", "{quiz}", "/maturity/assessment", "/privacy", "/account/security"],
    "admin": ["/admin", "/admin/usage", "/admin/teams"],
}


@dataclass
class Sweep:
    root: Path
    files: dict[str, str] = field(default_factory=dict)  # saved file name -> "role page" label
    axe: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seen: dict[str, set[str]] = field(default_factory=dict)  # rule -> roles that saw it

    def save(self, label: str, html: str) -> None:
        name = f"{len(self.files):03d}-{re.sub(r'[^A-Za-z0-9]+', '-', label).strip('-')[:80]}.html"
        (self.root / name).write_text(html, encoding="utf-8")
        self.files[name] = label

    def check(self, page, label: str, response) -> None:
        self.save(label, response.text())
        try:
            axe_check(page, label=label)
        except pytest.fail.Exception as exc:
            self.axe.append(str(exc))


# --- the data set ----------------------------------------------------------------------------------

def build_data_set(live_app) -> dict[str, str]:
    """Fill the database; returns the values for URL parameters, and a few ready-made URLs."""
    from leadthe.models import (Certificate, Course, Lesson, MaturityResult, Notice, Organization, OutboxMail,
                                QuizAttempt, Team, User, utcnow)

    runner = live_app.test_cli_runner()
    for args in (["leadthe", "load-content"], ["leadthe", "seed-demo"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    staff = STAFF["user"] = make_staff(live_app, email=EMAILS["staff"], name="Sam Staff")
    STAFF["app"] = live_app
    values: dict[str, str] = {}
    with live_app.test_request_context():
        from leadthe.admin.people import create_invitation
        from leadthe.account.profile import request_email_change
        from leadthe.auth.services import request_password_reset, send_verification
        from leadthe.courses.authoring import save_course, save_lesson, save_module
        from leadthe.privacy.erasure import request_erasure
        from leadthe.privacy.export import start_export
        from leadthe.privacy.services import record_request
        from leadthe.progress.services import unsubscribe_token
        from leadthe.support.services import add_reply, grant_access, open_ticket, record_feedback

        users = {u.email: u for u in db.session.scalars(sa.select(User))}
        learner, admin, manager = users[EMAILS["learner"]], users[EMAILS["admin"]], users[EMAILS["manager"]]
        staff = db.session.get(User, staff.id)
        org = db.session.get(Organization, learner.org_id)
        team = db.session.scalar(sa.select(Team).where(Team.org_id == org.id).order_by(Team.id))

        ticket = open_ticket(learner, "My certificate link shows an error", "technical",
                             "When I open my certificate I get a page that says it cannot be found.")
        add_reply(ticket, staff, "Thanks! We fixed the link; please try again.", from_staff=True)
        record_feedback(learner, 4, "Clear and practical.", None)
        privacy_request = record_request(learner, "access", details="Which data do you hold about me?")
        export = start_export(learner)
        grant_access(staff, learner, "Ticket about a certificate", f"#{ticket.id}")

        course = save_course(None, org.id, {"title": "Our AI policy", "slug": "", "summary": "How we use AI here.",
                                            "topic": "policy", "level": "beginner", "audience": "everyone",
                                            "body": "Read this before you use AI tools at work."})
        module = save_module(course, None, {"title": "The rules", "summary": ""})
        lesson = save_lesson(course, None, {"title": "What you may share", "slug": "", "module_id": module.id,
                                            "kind": "reading", "minutes": 5, "body": "## Customer data\n\nNever.",
                                            "prompt": "", "video_url": "", "transcript": ""})
        db.session.add(Notice(title="Planned maintenance", body="The service is down on Sunday 06:00-07:00 UTC.",
                              created_by_id=staff.id, finished_at=utcnow()))

        # Links from real mails: the same tokens a person would click.
        create_invitation(admin, email="new.hire@acme.example", role="learner", team_id=team.id, name="Nia New")
        send_verification(manager)
        request_password_reset(manager.email)
        request_email_change(learner, "lea.new@acme.example")
        import pyotp

        two_factor = users["erin@acme.example"]
        two_factor.totp_secret, two_factor.totp_enabled_at = pyotp.random_base32(), utcnow()
        leaver = users["omar@acme.example"]
        request_erasure(leaver, reason="I am leaving the company.")
        db.session.commit()

        platform = db.session.scalar(sa.select(Course).where(Course.org_id.is_(None), Course.slug == "ai-foundations"))
        platform_lesson = db.session.scalar(sa.select(Lesson).where(Lesson.course_id == platform.id).order_by(Lesson.seq))
        attempt = db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.user_id == learner.id).order_by(QuizAttempt.id))
        maturity = db.session.scalar(sa.select(MaturityResult).where(MaturityResult.user_id == learner.id)
                                     .order_by(MaturityResult.id.desc()))
        certificate = db.session.scalar(sa.select(Certificate).where(Certificate.user_id == learner.id))
        assert attempt and maturity and certificate, "seed-demo no longer gives the learner an attempt, a result and a certificate"
        mails = "\n".join(db.session.scalars(sa.select(OutboxMail.body_text)))
        values.update({
            "course_id": str(course.id), "module_id": str(module.id), "lesson_id": str(lesson.id),
            "slug": platform.slug, "lesson": platform_lesson.slug, "kind": "terms", "number": "1",
            "team_id": str(team.id), "user_id": str(learner.id), "quiz_id": str(attempt.quiz_id),
            "attempt_id": str(attempt.id), "result_id": str(maturity.id), "code": certificate.code,
            "ticket_id": str(ticket.id), "request_id": str(privacy_request.id), "export_id": str(export.id),
            "org_id": str(org.id),
        })
        # staff author platform courses, admins their company's: the same routes (the authoring blueprint
        # registered as staff_authoring and admin_authoring) take other ids
        staff_module = db.session.get(Lesson, platform_lesson.id).module_id
        values.update({"staff_authoring:course_id": str(platform.id), "staff_authoring:module_id": str(staff_module),
                       "staff_authoring:lesson_id": str(platform_lesson.id)})
        values["@staff.user_view"] = f"/staff/users/{learner.id}"
        tokens = {"auth.verify_email": r"/verify-email/[^\s\"<>]+", "auth.reset_password": r"/password/reset/[^\s\"<>]+",
                  "invite.accept": r"/invite/[^\s\"<>]+", "privacy.cancel_erasure": r"/privacy/delete/cancel/[^\s\"<>]+",
                  "account.confirm_email_change": r"/account/email/confirm/[^\s\"<>]+"}
        for endpoint, pattern in tokens.items():
            found = re.search(pattern, mails)
            assert found, f"no mail carries a link for {endpoint}"
            values["@" + endpoint] = found.group(0)
        values["@progress.unsubscribe"] = f"/email/unsubscribe/{unsubscribe_token(learner.id, 'email_progress')}"
        values["{lesson}"] = f"/courses/{platform.slug}/lessons/{platform_lesson.slug}"
        values["{quiz}"] = f"/assessments/{attempt.quiz_id}"
        values["{quiz_result}"] = f"/assessments/{attempt.quiz_id}/attempts/{attempt.id}"
        values["{maturity_result}"] = f"/maturity/results/{maturity.id}"
    return values


def pages(live_app, values: dict[str, str]) -> dict[str, tuple[str, str]]:
    """rule -> (endpoint, URL) for every GET rule that is a page."""
    found = {}
    for rule in live_app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(SKIPPED_PREFIXES) or rule.endpoint in NOT_HTML:
            continue
        if "@" + rule.endpoint in values:
            url = values["@" + rule.endpoint]
        else:
            missing = [a for a in rule.arguments if a not in values]
            assert not missing, f"the sweep has no value for {missing} of {rule.rule}: add it to build_data_set"
            area = rule.endpoint.split(".")[0]
            url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values.get(f"{area}:{m.group(1)}", values[m.group(1)]),
                         rule.rule)
        found[rule.rule] = (rule.endpoint, url)
    return found


# --- the sweep -------------------------------------------------------------------------------------

def open_as(new_page, role: str, *, color_scheme="light", locale: str | None = None):
    page = new_page(js=True, color_scheme=color_scheme)
    if role == "staff":
        log_in_with_code(page, STAFF["app"], STAFF["user"])
        page.wait_for_url("**/dashboard")
    elif role != "anonymous":
        log_in(page, EMAILS[role], DEMO_PASSWORD)
        page.wait_for_url("**/dashboard")
    if locale:  # after logging in: the log-in helper finds the fields by their English labels
        page.context.set_extra_http_headers({"Accept-Language": locale})
    return page


def set_language(live_app, emails: list[str], locale: str) -> None:
    from leadthe.models import User

    with live_app.app_context():
        db.session.execute(sa.update(User).where(User.email.in_(emails)).values(locale=locale))
        db.session.commit()


def visit(page, sweep: Sweep, role: str, rule: str, endpoint: str, url: str) -> None:
    response = page.goto(url)
    status = response.status
    if status >= 500:
        sweep.problems.append(f"{role} {url}: HTTP {status}")
        return
    redirected = response.request.redirected_from is not None
    if endpoint in REDIRECTS:
        if redirected:
            sweep.seen.setdefault(rule, set()).add(role)
        elif status not in (403, 404):
            sweep.problems.append(f"{role} {url}: expected a redirect, got HTTP {status}")
        return
    if (redirected and endpoint not in PARKED_TOKEN_LINKS) or status in (401, 403, 404, 410):
        return  # not for this role
    if status != 200 or not response.headers.get("content-type", "").startswith("text/html"):
        sweep.problems.append(f"{role} {url}: HTTP {status} {response.headers.get('content-type')}")
        return
    page.wait_for_load_state("load")
    sweep.seen.setdefault(rule, set()).add(role)
    sweep.check(page, f"{role} {url}", response)


def test_every_page_as_every_role(live_app, new_page, tmp_path):
    started = time.monotonic()
    try:
        nu.vnu_jar(), nu.java()  # before the slow part: skip (or fail in CI) at once if it cannot run
    except nu.Unavailable as exc:
        if browser_required():
            pytest.fail(f"the Nu HTML checker cannot run: {exc}. It is required here (CI=true or LEADTHE_REQUIRE_BROWSER=1).",
                        pytrace=False)
        pytest.skip(f"the Nu HTML checker cannot run: {exc}")

    values = build_data_set(live_app)
    all_pages = pages(live_app, values)
    sweep = Sweep(tmp_path / "html")
    sweep.root.mkdir()

    for role in ROLES:
        page = open_as(new_page, role)
        for rule, (endpoint, url) in sorted(all_pages.items()):
            if LINK_PAGES.get(endpoint, role) != role:
                continue
            visit(page, sweep, role, rule, endpoint, url)
        if role in ("anonymous", "learner"):
            response = page.goto("/no-such-page")
            assert response.status == 404
            sweep.check(page, f"{role} not-found page", response)
        page.context.close()

    # The second step of a log-in with two-factor authentication: password given, code still to come.
    page = new_page(js=True)
    log_in(page, "erin@acme.example", DEMO_PASSWORD)
    page.wait_for_url("**/login/2fa")
    endpoint, url = all_pages["/login/2fa"]
    visit(page, sweep, "half-logged-in", "/login/2fa", endpoint, url)
    page.context.close()

    for variants, options in ((DARK, {"color_scheme": "dark"}), (GERMAN, {"locale": "de"})):
        tag = "dark" if "color_scheme" in options else "de"
        if tag == "de":  # the account's language for people who log in, the browser's for the others
            set_language(live_app, [EMAILS[role] for role in GERMAN if role != "anonymous"], "de")
        for role, urls in variants.items():
            page = open_as(new_page, role, **options)
            for url in urls:
                url = values.get(url, url)
                response = page.goto(url)
                if response.status != 200:
                    sweep.problems.append(f"{role} {url} ({tag}): HTTP {response.status}")
                    continue
                if tag == "de" and page.locator("html").get_attribute("lang") != "de":
                    sweep.problems.append(f"{role} {url} ({tag}): not in German")
                sweep.check(page, f"{role} {url} ({tag})", response)
            page.context.close()

    unseen = sorted(rule for rule in all_pages if rule not in sweep.seen)
    if unseen:
        sweep.problems.append(f"no role could open these pages (fix the data set or the page): {unseen}")

    messages = nu.check_files([sweep.root / name for name in sweep.files])
    report = [f"{sweep.files[m.file]} ({m.file}) {m}" for m in messages]
    seconds = time.monotonic() - started
    print(f"\nswept {len(sweep.files)} page views ({len(all_pages)} pages, roles: "
          f"{', '.join(f'{r} {sum(r in s for s in sweep.seen.values())}' for r in ROLES)}) in {seconds:.0f} s")
    failures = []
    if sweep.problems:
        failures.append("pages that failed:\n" + "\n".join(sweep.problems))
    if sweep.axe:
        failures.append("\n\n".join(sweep.axe))
    if report:
        failures.append(f"the Nu HTML checker (vnu {nu.VNU_VERSION}) found {len(report)} error(s):\n" + "\n".join(report))
    assert not failures, "\n\n".join(failures)
