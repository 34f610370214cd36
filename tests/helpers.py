"""Helpers the test modules share: signing in, courses and quizzes written to a folder and loaded, a course
made through authoring, maturity answers, the sign-up form and an SMTP inbox. Factories and fixtures are in
``conftest.py``; no test module imports from another."""
from __future__ import annotations

import re
import subprocess
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from aiosmtpd.handlers import Message

from leadthe.extensions import db
from sqlalchemy import event

from tests.conftest import PASSWORD, csrf_from, make_staff, post_form

SIGNUP = {
    "name": "Ann Example",
    "email": "Ann.Example@Example.COM",
    "password": PASSWORD,
    "organization": "Example Ltd",
    "job_title": "Head of Learning",
    "department": "People",
    "age_confirm": "y",
    "accept_policy": "y",
}


# --- the SQLite files as bytes --------------------------------------------------------------------

def sqlite_file_bytes(database_url: str) -> bytes:
    """The raw bytes of a SQLite database with its -wal and -shm files (is an erased value still on disk?), read
    by a child process. Opening and closing one of those files in this process would drop every lock this
    process's SQLite connections hold on it (POSIX record locks belong to the process, not to a descriptor): the
    next other process to open the database (a worker the test starts) would then take it for unused, truncate the
    -shm file under this process's mapping (SIGBUS) and, on closing, delete the WAL this process still writes to."""
    path = Path(database_url.removeprefix("sqlite:///"))
    files = sorted(str(p) for p in path.parent.glob(path.name + "*"))
    return subprocess.run(["cat", *files], capture_output=True, check=True, timeout=60).stdout


# --- signing in ------------------------------------------------------------------------------------

def login(client, who, password=PASSWORD, headers=None, *, step_up_window=True):
    """Sign in with the password; ``who`` is an e-mail address or a person. The answer must be the
    redirect of an accepted password (to the page asked for, or to a second step or set-up).

    A password sign-in opens the re-authentication window (an export right after it does not ask for the password
    again); ``step_up_window=False`` closes it at once, as if the person signed in more than five minutes ago: for
    tests of the step-up itself."""
    email = getattr(who, "email", who)
    response = post_form(client, "/login", {"email": email, "password": password}, headers=headers)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    if not step_up_window:
        close_step_up_window(client.application, email)
    return response


def close_step_up_window(app, email: str) -> None:
    """As if the person's last password entry (sign-in or step-up) was more than five minutes ago."""
    from leadthe.models import User, UserSession

    with app.app_context():
        person = sa.select(User.id).where(User.email == email.strip().lower()).scalar_subquery()
        db.session.execute(sa.update(UserSession).where(UserSession.user_id == person).values(reauth_at=None))
        db.session.commit()


def signed_in(app, who, password=PASSWORD, *, step_up_window=True):
    """A new client signed in as ``who`` (``step_up_window``: see ``login``)."""
    client = app.test_client()
    login(client, who, password, step_up_window=step_up_window)
    return client


# --- courses ---------------------------------------------------------------------------------------

def load(app, path=None):
    """Load the content folder ``path`` (default: the starter curriculum) as the CLI does."""
    from leadthe.courses.content import load_content

    with app.app_context():
        report = load_content(path)
        db.session.commit()
        return report


def write_course(root: Path, slug: str, lessons: int, *, title="Course", org_text="", modules=1):
    course = root / slug
    course.mkdir(parents=True)
    (course / "course.md").write_text(f"---\nslug: {slug}\ntitle: {title}\nsummary: A test course {org_text}\ntopic: testing\nlevel: beginner\norder: 1\n---\nAbout it.\n")
    per = max(1, lessons // modules)
    n = 0
    for m in range(1, modules + 1):
        mdir = course / f"{m:02d}-mod{m}"
        mdir.mkdir()
        (mdir / "module.md").write_text(f"---\nslug: mod{m}\ntitle: Module {m}\norder: {m}\n---\n")
        count = per if m < modules else lessons - n
        for i in range(1, count + 1):
            n += 1
            (mdir / f"{i:03d}-l{n}.md").write_text(f"---\nslug: l{n}\ntitle: Lesson {n}\nkind: reading\nminutes: 3\n---\nBody of lesson {n}.\n")
    return course


def enrol(client, slug):
    page = client.get(f"/courses/{slug}").get_data(as_text=True)
    return client.post(f"/courses/{slug}/enroll", data={"csrf_token": csrf_from(page)})


def complete(client, slug, lesson, headers=None):
    page = client.get(f"/courses/{slug}/lessons/{lesson}").get_data(as_text=True)
    return client.post(f"/courses/{slug}/lessons/{lesson}/complete", data={"csrf_token": csrf_from(page)}, headers=headers or {})


def admin_creates_private_course(client, title="Acme onboarding"):
    r = post_form(client, "/admin/courses/new", {"title": title, "topic": "onboarding", "level": "beginner", "audience": "staff",
                                                  "summary": "Only for us", "body": "Welcome **aboard**."})
    assert r.status_code == 303, r.get_data(as_text=True)[:800]
    course_url = r.headers["Location"]
    r = post_form(client, course_url.replace("http://localhost", "").rstrip("/") + "/modules/new", {"title": "Start"}, page=course_url)
    assert r.status_code == 303
    new_lesson = course_url + "/lessons/new"
    r = post_form(client, new_lesson, {"title": "Our tools", "kind": "reading", "minutes": "4", "body": "Use the zebrafish tool.",
                                        "module_id": first_option(client.get(new_lesson).get_data(as_text=True))})
    assert r.status_code == 303, r.get_data(as_text=True)[:800]
    r = post_form(client, course_url + "/publish", {"publish": "1"}, page=course_url)
    assert r.status_code == 303
    return course_url


def first_option(html):
    import re

    return re.search(r'<select[^>]*name="module_id"[^>]*>\s*<option[^>]*value="(\d+)"', html).group(1)


def make_course(org_id, slug, title, quiz=False):
    """A published course of ``org_id`` (None: the platform's) with one practice lesson, and a quiz if asked,
    made through authoring inside an app context."""
    from leadthe.courses import authoring
    from leadthe.models import Quiz, QuizChoice, QuizQuestion

    course = authoring.save_course(None, org_id, {"title": title, "slug": slug, "summary": "s", "topic": "general",
                                                  "level": "beginner", "audience": "everyone", "body": "Body"})
    module = authoring.save_module(course, None, {"title": "Module", "body": ""})
    lesson = authoring.save_lesson(course, None, {"title": "Practice", "slug": "practice", "module_id": module.id,
                                                  "kind": "practice", "minutes": 5, "body": "Text", "prompt": "Try it",
                                                  "video_url": "", "transcript": ""})
    authoring.set_published(course, True)
    quiz_row = None
    if quiz:
        quiz_row = Quiz(course_id=course.id, slug=f"{slug}-quiz", title="Quiz", pass_mark=50, max_attempts=0)
        question = QuizQuestion(slug="q1", kind="single", text="Which?", position=0)
        question.choices = [QuizChoice(text="A", correct=True, position=0), QuizChoice(text="B", correct=False, position=1)]
        quiz_row.questions = [question]
        db.session.add(quiz_row)
        db.session.flush()
    return course, module, lesson, quiz_row


# --- quizzes ---------------------------------------------------------------------------------------

QUIZ_YAML = """title: "Tiny quiz"
pass_mark: 60
max_attempts: 2
shuffle: {shuffle}
questions:
  - slug: q-single
    kind: single
    text: "Which is right?"
    explanation: "Because A is right."
    choices:
      - text: "A"
        correct: true
      - text: "B"
        correct: false
      - text: "C"
        correct: false
  - slug: q-multi
    kind: multiple
    text: "Pick the two right ones"
    explanation: "X and Y are right."
    choices:
      - text: "X"
        correct: true
      - text: "Y"
        correct: true
      - text: "Z"
        correct: false
  - slug: q-tf
    kind: true_false
    text: "The sky is green."
    explanation: "It is not."
    choices:
      - text: "True"
        correct: false
      - text: "False"
        correct: true
"""


def write_quiz_course(root: Path, slug="tiny", lessons=2, quiz=True, shuffle=False, months=0):
    course = root / slug
    (course / "01-m").mkdir(parents=True)
    extra = f"certificate_months: {months}\n" if months else ""
    (course / "course.md").write_text(f"---\nslug: {slug}\ntitle: Tiny {slug}\nsummary: s\ntopic: t\n{extra}---\nBody\n")
    (course / "01-m" / "module.md").write_text("---\nslug: m\ntitle: M\n---\n")
    for n in range(1, lessons + 1):
        (course / "01-m" / f"0{n}-l{n}.md").write_text(f"---\nslug: l{n}\ntitle: L{n}\n---\nText {n}\n")
    if quiz:
        (course / "quiz.yaml").write_text(QUIZ_YAML.format(shuffle="true" if shuffle else "false"))
    return course


def answers(ids, *, single="A", multi=("X", "Y"), tf="F"):
    data = {}
    if single:
        data[f"q{ids['single']}"] = ids[single]
    if multi:
        data[f"q{ids['multi']}"] = [ids[m] for m in multi]
    if tf:
        data[f"q{ids['tf']}"] = ids[tf]
    return data


def submit(client, ids, data, headers=None):
    page = client.get(f"/assessments/{ids['quiz']}").get_data(as_text=True)
    return client.post(f"/assessments/{ids['quiz']}/attempts", data={"csrf_token": csrf_from(page), **data},
                       headers=headers or {})


def complete_lessons(client, slug="tiny", n=2):
    page = client.get(f"/courses/{slug}").get_data(as_text=True)
    client.post(f"/courses/{slug}/enroll", data={"csrf_token": csrf_from(page)})
    for i in range(1, n + 1):
        page = client.get(f"/courses/{slug}/lessons/l{i}").get_data(as_text=True)
        client.post(f"/courses/{slug}/lessons/l{i}/complete", data={"csrf_token": csrf_from(page)})


# --- the maturity self-assessment --------------------------------------------------------------------

def answers_for(scores: dict[str, int]) -> dict[str, int]:
    """Option indexes giving each dimension exactly the wanted score (searched over the 4^4 combinations
    of its four questions, closest answers first)."""
    from itertools import product

    from leadthe.assessments import rubric

    questions = rubric.RUBRICS[rubric.CURRENT]["questions"]
    out = {}
    for dim, want in scores.items():
        qs = [q for q in questions if q["dimension"] == dim]
        combos = sorted(product(range(4), repeat=len(qs)),
                        key=lambda c: sum(abs(q["options"][i]["score"] - want) for q, i in zip(qs, c)))
        for combo in combos:
            mean = sum(q["options"][i]["score"] for q, i in zip(qs, combo)) / len(qs)
            if int(mean + 0.5) == want:
                out.update({q["slug"]: i for q, i in zip(qs, combo)})
                break
    return out


# --- mail ------------------------------------------------------------------------------------------

class Inbox(Message):
    """What an SMTP server (aiosmtpd) received."""

    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


# --- one of everything: the data set of the tests that open every page ----------------------------

def add_required_training(org, team, course) -> None:
    """Required training for the sweep (leadthe.literacy.people's pages): every member of ``team`` must
    complete ``course`` (a department rule; the first member overdue, the others due soon, later or done),
    the learner a platform course too (current), and an acknowledged AI-use policy version. Adds only what
    another area's demo data (seed-demo's rules and policy) has not made already."""
    from datetime import timedelta

    from leadthe.models import (AiPolicyAck, AiPolicyVersion, Course, Requirement, RequirementRule, TeamMembership, User,
                                utcnow)

    now = utcnow()
    members = list(db.session.scalars(sa.select(User).join(TeamMembership, TeamMembership.user_id == User.id)
                                      .where(TeamMembership.team_id == team.id).order_by(User.id)))
    rule = RequirementRule(org_id=org.id, name="Sales: our AI policy", course_id=course.id, field="department",
                           operator="equals", value=members[0].department or "Sales", due_days=30)
    everyone = RequirementRule(org_id=org.id, course_id=course.id, field="team", team_id=team.id, due_days=30)
    db.session.add_all([rule, everyone])
    db.session.flush()
    have = {tuple(row) for row in db.session.execute(sa.select(Requirement.user_id, Requirement.course_id))}
    for i, person in enumerate(members):
        done = i % 4 == 3
        if (person.id, course.id) not in have:
            db.session.add(Requirement(org_id=org.id, user_id=person.id, course_id=course.id, rule_id=rule.id if i % 2 else everyone.id,
                                       due_on=(now + timedelta(days=(-12, 6, 40, 300)[i % 4])).date(),
                                       completed_at=now - timedelta(days=20) if done else None,
                                       valid_until=now + timedelta(days=300) if done else None))
    platform = db.session.scalar(sa.select(Course).where(Course.org_id.is_(None)).order_by(Course.position, Course.id))
    learner = next((m for m in members if m.role == "learner"), members[-1])
    if platform is not None and (learner.id, platform.id) not in have:
        db.session.add(Requirement(org_id=org.id, user_id=learner.id, course_id=platform.id, rule_id=everyone.id,
                                   due_on=(now + timedelta(days=330)).date(), completed_at=now - timedelta(days=35),
                                   valid_until=now + timedelta(days=330)))
    version = db.session.scalar(sa.select(AiPolicyVersion).where(AiPolicyVersion.org_id == org.id,
                                                                 AiPolicyVersion.published_at.is_not(None))
                                .order_by(AiPolicyVersion.version.desc()).limit(1))
    if version is None:
        version = AiPolicyVersion(org_id=org.id, version=1, title="Using AI at work", summary="First version.",
                                  body_md="Use approved tools only.", body_html="<p>Use approved tools only.</p>",
                                  published_at=now - timedelta(days=40))
        db.session.add(version)
        db.session.flush()
    for person in members:
        if db.session.scalar(sa.select(AiPolicyAck.id).where(AiPolicyAck.user_id == person.id,
                                                             AiPolicyAck.version_id == version.id)) is None:
            db.session.add(AiPolicyAck(org_id=org.id, user_id=person.id, version_id=version.id,
                                       asked_at=now - timedelta(days=40), acknowledged_at=now - timedelta(days=38)))
    db.session.flush()


def every_page_data_set(app, emails: dict[str, str]) -> tuple[dict[str, str], dict]:
    """One of everything a page may show, for the tests that open every page (the browser sweep, the German
    pages): the starter curriculum, the demo company (``leadthe seed-demo``), a staff and a DPO account with
    two-step verification (``emails["staff"]``, ``emails["dpo"]``), a company course, a support ticket, a privacy
    request, an export, feedback, an invitation, a notice, a scheduled deletion (Omar's), two-step verification
    for Erin, and links from real mails. Returns the values for URL parameters (``@endpoint``: a ready-made URL)
    and the platform accounts ({"staff": user, "dpo": user})."""
    from leadthe.models import (Certificate, Course, Lesson, MaturityResult, Notice, Organization, OutboxMail,
                                QuizAttempt, Team, User, utcnow)

    runner = app.test_cli_runner()
    for args in (["leadthe", "load-content"], ["leadthe", "seed-demo"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    staff = make_staff(app, email=emails["staff"], name="Sam Staff")
    accounts = {"staff": staff, "dpo": make_staff(app, "dpo", email=emails["dpo"], name="Dana Dpo")}
    values: dict[str, str] = {}
    with app.test_request_context():
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
        learner, admin, manager = users[emails["learner"]], users[emails["admin"]], users[emails["manager"]]
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
        _literacy_requirements(org, course, utcnow())
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
        add_required_training(org, team, course)
        db.session.commit()
        # a ready evidence pack of the demo company, built by its job as the worker would
        from leadthe.literacy.evidence import run_pack, start_pack

        pack = start_pack(admin)
        db.session.commit()
        run_pack(pack.id)
        values["pack_id"] = str(pack.id)

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
        values.update(_lab_data(org, learner, admin, platform))
        values.update(_sso_data(org, admin))
        values.update(_billing_data(org, admin, staff))
        from leadthe.models import RequirementRule
        rule = db.session.scalar(sa.select(RequirementRule).where(RequirementRule.org_id == org.id).order_by(RequirementRule.id))
        assert rule is not None, "seed-demo no longer gives Acme requirement rules"
        values["rule_id"] = str(rule.id)
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
        # the AI-use policy: the demo's published version 1, and a draft of version 2 to preview
        from leadthe.literacy.policy import save_draft
        from leadthe.models import AiPolicyVersion, AiTool

        draft = save_draft(db.session.get(User, admin.id), {"title": "AI-use policy", "body_md": "## Rules\n\nNew: meeting transcription is approved.",
                                                     "summary": "Meeting transcription approved.", "change": "material"})
        db.session.commit()
        values["draft_id"] = str(draft.id)
        values["tool_id"] = str(db.session.scalar(sa.select(AiTool.id).where(AiTool.org_id == org.id).order_by(AiTool.id)))
        values["version_id"] = str(db.session.scalar(sa.select(AiPolicyVersion.id).where(
            AiPolicyVersion.org_id == org.id, AiPolicyVersion.version == 1)))
        values["@progress.unsubscribe"] = f"/email/unsubscribe/{unsubscribe_token(learner.id, 'email_progress')}"
        values["{lesson}"] = f"/courses/{platform.slug}/lessons/{platform_lesson.slug}"
        values["{quiz}"] = f"/assessments/{attempt.quiz_id}"
        values["{quiz_result}"] = f"/assessments/{attempt.quiz_id}/attempts/{attempt.id}"
        values["{maturity_result}"] = f"/maturity/results/{maturity.id}"
    return values, accounts


def _sso_data(org, admin) -> dict[str, str]:
    """Single sign-on for the demo company: acme.example verified by DNS, a second domain waiting for its mailed link,
    OpenID Connect set up (the provider's discovery stored as if fetched; nothing is called), a SCIM token."""
    from leadthe.models import utcnow
    from leadthe.models.sso import SsoDomain
    from leadthe.scim import tokens
    from leadthe.sso.settings import for_org
    from tests.matrix_sso_admin import sweep_values

    now = utcnow()
    settings = for_org(org.id)
    issuer = "https://login.acme.example"
    settings.protocol, settings.oidc_issuer, settings.oidc_client_id = "oidc", issuer, "leadthe-acme"
    settings.oidc_client_secret, settings.oidc_secret_set_at, settings.oidc_fetched_at = "s" * 32, now, now
    settings.oidc_metadata = {"issuer": issuer, "authorization_endpoint": issuer + "/authorize",
                              "token_endpoint": issuer + "/token", "jwks_uri": issuer + "/keys",
                              "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"]}
    settings.oidc_jwks = {"keys": []}
    verified = SsoDomain(org_id=org.id, domain="acme.example", token="t" * 32, verified_domain="acme.example",
                         verified_at=now, method="dns", checked_at=now, created_by_id=admin.id)
    db.session.add(verified)
    tokens.issue(org.id, admin)
    db.session.flush()
    return {"key": settings.public_key, **sweep_values(org.id, admin)}  # a domain waiting for its mailed link


def _billing_data(org, admin, staff) -> dict[str, str]:
    """Billing (issue 20) and trust (issue 21): each part's URL values (tests/matrix_*.py ``sweep_values``)."""
    import importlib

    values: dict[str, str] = {}
    for part in ("billing_admin", "billing_staff", "billing_hooks", "billing_invoices", "trust_access", "trust_hold",
                 "trust_records", "audit_chain", "trust_dpa",
                 "trust_subprocessors", "ownership", "security_alerts"):
        values.update(importlib.import_module(f"tests.matrix_{part}").sweep_values(org.id, admin, staff))
    db.session.flush()
    return values


def _lab_data(org, learner, admin, platform) -> dict[str, str]:
    """The practice lab: the company's model connected (nothing is called: the answers are written here as the
    worker would), the learner's answered exercise with the rubric checks and the model's feedback, and use
    per day for the admin's table. The swept lesson is the exercise (its page holds a reading lesson's parts
    and the lab); the answer's own address only redirects to it."""
    from leadthe.lab import checks, exercise as exercises
    from leadthe.models import Enrollment, Lesson, utcnow
    from leadthe.models.lab import LabRun, LabSettings, LabUsage

    now = utcnow()
    lesson = db.session.scalar(sa.select(Lesson).where(Lesson.course_id == platform.id, Lesson.kind == "exercise"))
    assert lesson is not None, "the starter curriculum no longer has an exercise in ai-foundations"
    if db.session.scalar(sa.select(Enrollment).where(Enrollment.user_id == learner.id, Enrollment.course_id == platform.id)) is None:
        db.session.add(Enrollment(user_id=learner.id, course_id=platform.id, last_seen_at=now))
    db.session.add(LabSettings(org_id=org.id, provider="openai", base_url="https://models.acme.example/v1", model="acme-gpt-4o-mini",
                               provider_name="Acme's Azure OpenAI (EU)", api_key="sk-sweep-" + "x" * 24, key_set_at=now,
                               model_feedback=True, guard_mode="warn", updated_by_id=admin.id))
    prompt = ("You are an account manager. Summarise the meeting note below for our customer in 5 bullet points, "
              "at most 20 words each; leave out anything marked internal.\n\n" + lesson.exercise["material"])
    evaluation = checks.evaluate(exercises.from_json(lesson.exercise), prompt)
    answer = LabRun(org_id=org.id, user_id=learner.id, lesson_id=lesson.id, prompt=prompt, status="done", model="acme-gpt-4o-mini",
                    answer="- The new scanner app is live in two of your four warehouses; scan errors fell from about 40 to 9 a day.\n"
                           "- Riverside follows on 24 March, after your IT updates the handheld devices by 21 March.\n"
                           "- Night-shift training: 18 and 19 March at 22:00, 45 minutes each, online.\n"
                           "- A daily spreadsheet of scan errors is planned for the April release.\n"
                           "- Please tell us by 19 March who signs off the rollout at Hillcrest.",
                    tokens_in=420, tokens_out=96, checks=evaluation.as_json(), score=evaluation.score, passed=evaluation.passed,
                    created_at=now, started_at=now, finished_at=now)
    db.session.add(answer)
    db.session.flush()
    db.session.add(LabRun(org_id=org.id, user_id=learner.id, lesson_id=lesson.id, kind="grading", parent_id=answer.id,
                          prompt=prompt, status="done", model="acme-gpt-4o-mini", created_at=now, started_at=now, finished_at=now,
                          answer='{"criteria": [{"check": "role", "met": true, "comment": "A clear role."}], '
                                 '"summary": "Clear and complete; you could ask the model to flag anything it is unsure of."}'))
    db.session.add(LabUsage(org_id=org.id, user_id=learner.id, day=now.date(), tokens=516, calls=2, exercises_passed=1,
                            best_score=evaluation.score))
    db.session.flush()
    return {"lesson": lesson.slug, "@lab.run": f"/courses/{platform.slug}/lessons/{lesson.slug}/lab/runs/{answer.id}"}


def _literacy_requirements(org, course, now) -> None:
    """The AI-literacy overview's rows: a rule requiring ``course`` of everyone in the company, with each
    status (current, due soon, overdue, not started) among the people. Pairs the demo's own rules already
    cover are left as they are."""
    from leadthe.models import Requirement, RequirementRule, User

    rule = RequirementRule(org_id=org.id, name="Everyone: our AI policy", course_id=course.id)
    db.session.add(rule)
    db.session.flush()
    taken = set(db.session.scalars(sa.select(Requirement.user_id).where(Requirement.course_id == course.id)))
    people = db.session.scalars(sa.select(User.id).where(User.org_id == org.id).order_by(User.id))
    for i, user_id in enumerate(p for p in people if p not in taken):
        kind = i % 4
        done = now - timedelta(days=40) if kind == 0 else None
        due = {0: now + timedelta(days=325), 1: now + timedelta(days=5), 2: now - timedelta(days=12)}.get(kind, now + timedelta(days=30))
        db.session.add(Requirement(org_id=org.id, user_id=user_id, course_id=course.id, rule_id=rule.id,
                                   assigned_at=now - timedelta(days=60), completed_at=done,
                                   valid_until=done + timedelta(days=365) if done else None, due_on=due.date()))


def add_requirement(app, org, person, course_id, *, status="not_started", rule_id=None, **extra):
    """A requirement of ``person`` with the given status (as the rules engine would leave it)."""
    from leadthe.models import Requirement, utcnow

    now = utcnow()
    columns = {
        "current": {"completed_at": now - timedelta(days=10), "valid_until": now + timedelta(days=300),
                    "due_on": (now + timedelta(days=300)).date()},
        "overdue": {"due_on": (now - timedelta(days=9)).date()},
        "due_soon": {"due_on": (now + timedelta(days=3)).date()},
        "not_started": {"due_on": (now + timedelta(days=40)).date()},
    }[status]
    with app.app_context():
        db.session.add(Requirement(org_id=org.id, user_id=person.id, course_id=course_id, rule_id=rule_id,
                                   assigned_at=now - timedelta(days=20), **{**columns, **extra}))
        db.session.commit()


# --- SQL statement budgets ---------------------------------------------------------------------------

@contextmanager
def statements_run(app):
    """The SQL statements run inside the ``with`` block: a list that fills as they run."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def listener(conn, cursor, statement, *rest):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def count_statements(app, client, url):
    seen = []
    with app.app_context():
        engine = db.engine
    client.get(url)  # warm: per-process tables (policy versions) and the session's last-seen touch

    def listener(*_args):
        seen.append(1)

    counts = []
    for _ in range(2):  # the smaller of two: bookkeeping that runs by the clock (the session's last-seen touch once
        seen.clear()    # a minute) can fall on one request of a slow run; a query per row shows in both
        event.listen(engine, "before_cursor_execute", listener)
        try:
            response = client.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert response.status_code == 200, (url, response.status_code)
        counts.append(len(seen))
    return min(counts)


def scale_company(app, users):
    from leadthe.models import Team, User
    from leadthe.scale import SCALE_PASSWORD, seed_scale

    with app.app_context():
        org = seed_scale(users=users, teams=max(users // 20, 1), echo=lambda *_: None)
        admin = db.session.scalar(sa.select(User.email).where(User.org_id == org.id, User.role == "admin"))
        team = db.session.scalar(sa.select(Team.id).where(Team.org_id == org.id).order_by(Team.id).limit(1))
    client = app.test_client()
    login(client, admin, SCALE_PASSWORD)
    return client, team
# --- the AI-literacy evidence pack -----------------------------------------------------------------

def plant_literacy_programme(org_id: int, user_ids: list[int], admin_id: int, course=None, quiz=None) -> dict:
    """Inside an app context: an AI tool, a published AI-use policy version asked of ``user_ids`` (the first
    acknowledged it), a rule requiring ``course`` (made here when not given, with a quiz) and a requirement per
    person (the first completed, with a certificate, a quiz attempt and a maturity level). Returns the rows."""
    from leadthe.assessments.certificates import issue_certificate
    from leadthe.models import (AiPolicyAck, AiPolicyVersion, AiTool, MaturityResult, QuizAttempt, Requirement,
                                RequirementRule, User, utcnow)

    now = utcnow()
    if course is None:
        course, _module, _lesson, quiz = make_course(org_id, f"required-{org_id}", "Working with AI safely", quiz=True)
    course.objectives = ["Recognise what may not go into an AI tool", "Check an AI answer before using it"]
    tool = AiTool(org_id=org_id, name="ChatAssist", vendor="Example AI Inc.", purpose="Drafting texts",
                  status="approved", risk_note="No customer data.", owner_id=admin_id)
    version = AiPolicyVersion(org_id=org_id, version=1, title="Our AI rules", summary="First version", body_md="Be careful.",
                              body_html="<p>Be careful.</p>", change="material", published_at=now, published_by_id=admin_id)
    rule = RequirementRule(org_id=org_id, name="Everyone: safe AI use", course_id=course.id, due_days=30, refresh_months=12,
                           created_by_id=admin_id)
    db.session.add_all([tool, version, rule])
    db.session.flush()
    for n, user_id in enumerate(user_ids):
        db.session.add(AiPolicyAck(org_id=org_id, user_id=user_id, version_id=version.id, asked_at=now,
                                   acknowledged_at=now if n == 0 else None))
        requirement = Requirement(org_id=org_id, user_id=user_id, course_id=course.id, rule_id=rule.id,
                                  assigned_at=now, due_on=(now + timedelta(days=30 - 40 * (n % 2))).date())
        if n == 0:
            issue_certificate(db.session.get(User, user_id), course, now)
            requirement.completed_at, requirement.valid_until = now, now + timedelta(days=365)
            requirement.due_on = requirement.valid_until.date()
            db.session.add(MaturityResult(org_id=org_id, user_id=user_id, rubric_version="v1", self_level=3, level=3))
            if quiz is not None:
                db.session.add(QuizAttempt(org_id=org_id, user_id=user_id, quiz_id=quiz.id, number=1, score=80,
                                           correct_count=4, question_count=5, passed=True))
        db.session.add(requirement)
    db.session.flush()
    return {"course": course, "quiz": quiz, "tool": tool, "version": version, "rule": rule}


def give_seats(app, org, seats: int, status: str = "active", **fields):
    """The company pays for ``seats`` seats (an active manual subscription unless ``status`` says otherwise):
    for tests that need more people than a trial's 25, and for the seat and read-only tests."""
    from leadthe.billing import accounts

    with app.app_context():
        account = accounts.account_for(getattr(org, "id", org))
        account.seats, account.status = seats, status
        for name, value in fields.items():
            setattr(account, name, value)
        db.session.commit()
