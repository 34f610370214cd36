"""The route security matrix (issue 10): every route of the URL map, for every role, against the answer it
must give: the page, a redirect to log-in, 403 or 404, and 404 for another company's objects.

``MATRIX`` below is the single table of expectations. A route without an entry fails
``test_every_route_is_in_the_matrix``, so a new route cannot skip the matrix.

Roles: anonymous, learner, manager, admin (company A) and staff (platform role "staff", no company).
For routes that take an object id the matrix asks for three objects where they make sense:

* ``own``     - company A's object (or the acting person's own object: their ticket, export, attempt...)
* ``sibling`` - an object of company A outside the viewer's reach: a person or team the manager does not
                manage, or another person's own object in the same company
* ``other``   - company B's object

POST routes are checked for their guard only: a POST with a valid CSRF token and no data must give the
guard's answer to the wrong people (log-in, 403, 404) and something other than a guard answer (and never a
server error) to the right people. POSTs without a CSRF token are covered in tests/test_security.py.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from tests.conftest import PASSWORD, csrf_from, login_with_code, make_staff, make_team, make_user
from tests.helpers import close_step_up_window, make_course

ROLES = ("anonymous", "staff", "learner", "manager", "admin")  # admin last: its allowed POSTs may change data
COMPANY_ROLES = ("learner", "manager", "admin")
FORGED = "forged.token-that-is-not-signed"

# --- the table -----------------------------------------------------------------------------------------
# auth:    public  - everyone, signed in or not
#          login   - every signed-in person (anonymous: redirect to log-in)
#          member  - people of a company (platform staff: ``deny``)
#          manager - company managers and admins (others: 403)
#          admin   - company admins (others: 403)
#          staff   - platform staff (everyone else, anonymous included: 404, as if the area did not exist)
#          token   - a signed link: a forged token is 400 or 404 for everyone
# obj:     the object resolver (see RESOLVERS) for routes with ids; None for routes without
# get:     the answer to an allowed role for its own object on GET (default 200)
# roles:   per-role answers that differ from the rule (GET, own object)
# sibling: "404" (default: nobody outside the owner sees it) or "admin" (company admins see it, managers 404)
# cross:   True when company does not matter for the allowed role (staff routes: staff see every company)
# post:    the answer to an allowed role's empty POST when it is a fixed code (default: any non-guard answer)

MATRIX: dict[str, dict] = {
    # core
    "core.home": {"auth": "public", "roles": {r: 302 for r in ("staff",) + COMPANY_ROLES}},
    "core.dashboard": {"auth": "login"},
    "core.healthz": {"auth": "public"},
    # Prometheus metrics (issue 23): without LEADTHE_METRICS_TOKEN (as here) the route does not exist for anyone; with
    # it, a bearer token and never a session (tests/test_metrics.py: 401 signed in or not, 200 with the token)
    "ops.metrics": {"auth": "public", "get": 404},
    # sign-up, log-in and signed links
    "auth.signup": {"auth": "public", "roles": {r: 302 for r in ("staff",) + COMPANY_ROLES}},
    "auth.login": {"auth": "public", "roles": {r: 302 for r in ("staff",) + COMPANY_ROLES}},
    # no log-in waiting for its second step: back to the log-in page (signed-in people: the dashboard)
    "auth.login_2fa": {"auth": "public", "get": 302, "post": {"anonymous": 303, **{r: 302 for r in ("staff",) + COMPANY_ROLES}}},
    "auth.logout": {"auth": "public", "post": {r: 303 for r in ROLES}},
    # no log-in waiting to keep an account in its deletion grace period: like the second step
    "auth.keep_account": {"auth": "public", "get": 302, "post": {"anonymous": 303, **{r: 302 for r in ("staff",) + COMPANY_ROLES}}},
    # the idle warning: how long the session has left, and "Stay signed in"
    "auth.session_status": {"auth": "login"},
    "auth.session_refresh": {"auth": "login"},
    "auth.forgot_password": {"auth": "public"},
    "auth.resend_verification": {"auth": "login"},
    "auth.reset_password": {"auth": "token", "obj": "token"},
    "auth.verify_email": {"auth": "token", "obj": "token"},
    "account.confirm_email_change": {"auth": "token", "obj": "token"},
    "invite.accept": {"auth": "token", "obj": "token"},
    "privacy.cancel_erasure": {"auth": "token", "obj": "token"},
    "progress.unsubscribe": {"auth": "token", "obj": "token"},
    # the person's own account
    "account.change_email": {"auth": "login"},
    "account.change_password": {"auth": "login"},
    "account.photo": {"auth": "login", "get": 404},  # nobody in the matrix has a photo
    "account.preferences": {"auth": "public"},
    "account.profile": {"auth": "login"},
    "account.revoke_other_sessions": {"auth": "login"},
    # revoking one's own (only) session signs out: to the log-in
    "account.revoke_session": {"auth": "login", "obj": "session", "post": {r: 303 for r in ("staff",) + COMPANY_ROLES}},
    "account.security_page": {"auth": "login"},
    # the confirmation page of turning 2FA off (staff have 2FA); people without it go back to the security page
    "account.twofa_disable": {"auth": "login", "get": 303, "roles": {"staff": 200}},
    "account.twofa_enable": {"auth": "login"},
    "account.twofa_regenerate": {"auth": "login"},
    "account.twofa_setup": {"auth": "login", "roles": {"staff": 302}},  # staff have 2FA on: to the security page
    "account.twofa_start": {"auth": "login"},
    "consent.consent": {"auth": "public"},
    # privacy centre
    "privacy.centre": {"auth": "login"},
    "privacy.contact": {"auth": "public"},
    "privacy.delete": {"auth": "login"},
    "privacy.deleted": {"auth": "public"},
    "privacy.export": {"auth": "login"},
    "privacy.export_download": {"auth": "login", "obj": "export", "get": 404},  # without a valid download token
    "privacy.export_status": {"auth": "login", "obj": "export"},
    "privacy.processing": {"auth": "login"},
    "privacy.requests": {"auth": "login"},
    "privacy.required_training": {"auth": "login"},
    "privacy.practice_lab": {"auth": "login"},
    # policies
    "legal.acknowledge": {"auth": "login", "obj": "policy", "cross": True},
    "legal.policy": {"auth": "public", "obj": "policy_kind", "cross": True},
    "legal.policy_history": {"auth": "public", "obj": "policy_kind", "cross": True},
    "legal.policy_version": {"auth": "public", "obj": "policy_version", "cross": True},
    "legal.privacy_policy": {"auth": "public"},
    "legal.privacy_policy_history": {"auth": "public"},
    "legal.privacy_policy_version": {"auth": "public", "obj": "policy_number", "cross": True},
    # courses
    "courses.catalogue": {"auth": "login"},
    "courses.saved": {"auth": "login"},  # "Saved for offline": the list is built in the browser (issue 22)
    "courses.search_page": {"auth": "login"},
    "courses.heartbeat": {"auth": "login"},
    "courses.course": {"auth": "login", "obj": "course"},
    "courses.enroll": {"auth": "login", "obj": "course"},
    "courses.resume": {"auth": "login", "obj": "course", "get": 302},  # to the lesson to continue with
    "courses.lesson": {"auth": "login", "obj": "lesson"},
    "courses.complete": {"auth": "login", "obj": "lesson"},
    "courses.answer": {"auth": "login", "obj": "lesson"},
    # the practice lab on an exercise lesson (people of a company, enrolled; the run is the person's own)
    "lab.send": {"auth": "member", "obj": "lab_lesson"},
    "lab.feedback": {"auth": "member", "obj": "lab_lesson"},
    "lab.run": {"auth": "member", "obj": "lab_run", "get": 302},  # without htmx: to the lesson page
    "lab.cancel": {"auth": "member", "obj": "lab_run"},
    # assessments, maturity, certificates
    "assessments.index": {"auth": "login"},
    "assessments.quiz": {"auth": "login", "obj": "quiz"},
    "assessments.submit": {"auth": "login", "obj": "quiz"},
    "assessments.result": {"auth": "login", "obj": "attempt"},
    "assessments.maturity": {"auth": "login"},
    "assessments.maturity_form": {"auth": "login"},
    "assessments.maturity_submit": {"auth": "login"},
    "assessments.maturity_result": {"auth": "login", "obj": "maturity_result"},
    # public verification by code: anyone with the code, whatever their company
    "assessments.certificate": {"auth": "public", "obj": "certificate", "cross": True},
    "assessments.certificate_pdf_view": {"auth": "public", "obj": "certificate", "cross": True},
    # leaderboard: company people only
    "leaderboard.leaderboard": {"auth": "member", "deny": 404},
    # the AI-literacy programme: AI tools and the company's AI-use policy (platform staff have no company: 404)
    "literacy.ai_tools": {"auth": "member", "deny": 404},
    "literacy.ai_policy": {"auth": "member", "deny": 404},
    "literacy_admin.ai_tools": {"auth": "admin"},
    "literacy_admin.ai_tools_new": {"auth": "admin"},
    "literacy_admin.ai_tools_edit": {"auth": "admin", "obj": "ai_tool"},
    "literacy_admin.ai_tools_delete": {"auth": "admin", "obj": "ai_tool"},
    "literacy_admin.ai_policy": {"auth": "admin"},
    "literacy_admin.ai_policy_preview": {"auth": "admin", "obj": "ai_policy_draft"},
    "literacy_admin.ai_policy_publish": {"auth": "admin"},  # company A's draft: an empty POST answers the confirmation page
    "literacy_admin.ai_policy_version": {"auth": "admin", "obj": "ai_policy_version"},
    # support
    "support.index": {"auth": "login"},
    "support.ticket": {"auth": "login", "obj": "ticket"},
    "support.feedback": {"auth": "login"},
    # company admin area: managers see their teams only
    "admin.dashboard_page": {"auth": "manager"},
    "admin.usage_page": {"auth": "manager"},
    "admin.report_csv": {"auth": "manager", "get": 404},  # no ?report=: no such report
    "admin.users": {"auth": "manager"},
    "admin.user_detail": {"auth": "manager", "obj": "person", "sibling": "admin"},
    "admin.user_role": {"auth": "admin-in-manager-area", "obj": "person", "sibling": "admin"},
    "admin.user_deactivate": {"auth": "admin-in-manager-area", "obj": "person", "sibling": "admin"},
    "admin.user_reactivate": {"auth": "admin-in-manager-area", "obj": "person", "sibling": "admin"},
    "admin.user_close": {"auth": "admin-in-manager-area", "obj": "person", "sibling": "admin"},
    "admin.report_minor_view": {"auth": "admin", "obj": "person", "sibling": "admin"},
    "admin.invitations": {"auth": "admin-in-manager-area"},
    "admin.invitation_resend": {"auth": "admin-in-manager-area", "obj": "invitation"},
    "admin.invitation_revoke": {"auth": "admin-in-manager-area", "obj": "invitation"},
    "admin.users_import": {"auth": "admin-in-manager-area"},
    "admin.users_import_apply": {"auth": "admin-in-manager-area", "obj": "import_batch"},
    "admin.teams_page": {"auth": "manager", "post": {"manager": 403}},  # creating teams is for admins
    "admin.team_detail": {"auth": "manager", "obj": "team", "sibling": "admin"},
    "admin.team_rename": {"auth": "admin-in-manager-area", "obj": "team", "sibling": "admin"},
    "admin.team_delete": {"auth": "admin-in-manager-area", "obj": "team", "sibling": "admin"},
    "admin.team_add_member": {"auth": "admin-in-manager-area", "obj": "team", "sibling": "admin"},
    "admin.team_remove_member": {"auth": "admin-in-manager-area", "obj": "team_member", "sibling": "admin"},
    "admin.team_set_manager": {"auth": "admin-in-manager-area", "obj": "team_member", "sibling": "admin"},
    "admin.assignments": {"auth": "manager"},
    "admin.create_assignment": {"auth": "manager"},
    "admin.settings": {"auth": "admin"},
    # the AI-literacy programme overview: managers see their teams (the CSV too)
    "literacy_admin.overview": {"auth": "manager"},
    "literacy_admin.overview_csv": {"auth": "manager"},
    "admin.dismiss_onboarding": {"auth": "admin"},
    "admin.audit_log": {"auth": "admin"},
    "admin.feedback": {"auth": "admin"},
    "admin.maturity": {"auth": "admin"},
    "admin.maturity_organisation": {"auth": "admin"},
    # requirements by role (AI-literacy programme)
    "literacy_admin.requirements": {"auth": "admin"},
    "literacy_admin.requirements_new": {"auth": "admin"},
    "literacy_admin.requirements_edit": {"auth": "admin", "obj": "requirement_rule"},
    "literacy_admin.requirements_active": {"auth": "admin", "obj": "requirement_rule"},
    "literacy_admin.requirements_delete": {"auth": "admin", "obj": "requirement_rule"},
    # the AI-literacy evidence pack (company admins; the POST asks for step-up, so an empty one is a 422)
    "literacy_admin.evidence": {"auth": "admin", "post": {"admin": 422}},
    "literacy_admin.evidence_status": {"auth": "admin", "obj": "evidence_pack"},
    "literacy_admin.evidence_download": {"auth": "admin", "obj": "evidence_pack"},
    # the practice lab's settings (company admins; saving asks for step-up, so an empty POST is a 422; an empty
    # "test connection" POST with no model saved redirects back to the settings)
    "lab_admin.settings": {"auth": "admin", "post": {"admin": 422}},
    "lab_admin.test_connection": {"auth": "admin"},
    # a company's private courses (authoring)
    "admin_authoring.courses": {"auth": "admin"},
    "admin_authoring.new_course": {"auth": "admin"},
    "admin_authoring.preview_markdown": {"auth": "admin"},
    "admin_authoring.edit_course": {"auth": "admin", "obj": "private_course"},
    "admin_authoring.publish_course": {"auth": "admin", "obj": "private_course"},
    "admin_authoring.new_module": {"auth": "admin", "obj": "private_course"},
    "admin_authoring.new_lesson": {"auth": "admin", "obj": "private_course"},
    "admin_authoring.edit_module": {"auth": "admin", "obj": "private_module"},
    "admin_authoring.move_module": {"auth": "admin", "obj": "private_module"},
    "admin_authoring.edit_lesson": {"auth": "admin", "obj": "private_lesson"},
    "admin_authoring.move_lesson": {"auth": "admin", "obj": "private_lesson"},
    # the staff console
    "staff.index": {"auth": "staff", "get": 302},
    "staff.console": {"auth": "staff"},
    "staff.privacy_requests": {"auth": "staff"},
    "staff.privacy_request": {"auth": "staff", "obj": "privacy_request", "cross": True},
    "staff.report_minor_view": {"auth": "staff", "obj": "person", "cross": True},
    "staff.close_organization": {"auth": "staff", "obj": "organization", "cross": True},
    "staff.support_queue": {"auth": "staff"},
    "staff.support_ticket": {"auth": "staff", "obj": "company_ticket", "cross": True},
    "staff.user_view": {"auth": "staff", "obj": "person", "cross": True},
    "staff.request_access": {"auth": "staff", "obj": "person", "cross": True},
    "staff.notices": {"auth": "staff"},
    "staff.feedback": {"auth": "staff"},
    "staff.policies": {"auth": "staff"},
    "staff_authoring.courses": {"auth": "staff"},
    "staff_authoring.new_course": {"auth": "staff"},
    "staff_authoring.preview_markdown": {"auth": "staff"},
    # platform courses: a company's private course is not the staff's to edit
    "staff_authoring.edit_course": {"auth": "staff", "obj": "platform_course"},
    "staff_authoring.publish_course": {"auth": "staff", "obj": "platform_course"},
    "staff_authoring.new_module": {"auth": "staff", "obj": "platform_course"},
    "staff_authoring.new_lesson": {"auth": "staff", "obj": "platform_course"},
    "staff_authoring.edit_module": {"auth": "staff", "obj": "platform_module"},
    "staff_authoring.move_module": {"auth": "staff", "obj": "platform_module"},
    "staff_authoring.edit_lesson": {"auth": "staff", "obj": "platform_lesson"},
    "staff_authoring.move_lesson": {"auth": "staff", "obj": "platform_lesson"},
}

# Single sign-on and SCIM (issue 19): each part keeps its entries, object resolvers and the objects it needs in
# the world in a module of its own (``MATRIX``, ``RESOLVERS``, ``build(w, app, companies)``).
# Billing (issue 20) likewise.
SSO_PARTS = [importlib.import_module(f"tests.matrix_{part}") for part in (
    "sso_admin", "sso_oidc", "sso_saml", "sso_login", "scim",
    "billing_admin", "billing_staff", "billing_hooks", "billing_invoices",
    "trust_access", "trust_hold", "trust_records", "audit_chain",
    "trust_dpa", "trust_annex", "trust_subprocessors", "ownership", "offline", "security_alerts")]
for _part in SSO_PARTS:
    MATRIX.update(_part.MATRIX)

# Who passes the role guard, and what everyone else gets.
ALLOWED = {
    "public": set(ROLES),
    "login": {"staff", *COMPANY_ROLES},
    "member": set(COMPANY_ROLES),
    "manager": {"manager", "admin"},
    # behind the manager-or-admin guard, then an admin check after the object lookup: a manager gets 404 for
    # what they cannot see and 403 for what they can
    "admin-in-manager-area": {"admin"},
    "admin": {"admin"},
    "staff": {"staff"},
    "bearer": set(),  # SCIM: a company's bearer token, never a session (tests/test_scim*.py check the tokens)
}
DENY = {"public": None, "login": None, "member": 403, "manager": 403, "admin-in-manager-area": 403, "admin": 403,
        "staff": 404, "bearer": 401}


# --- the world: two companies and one of every object --------------------------------------------------

@dataclass
class World:
    ids: dict = field(default_factory=dict)  # object name -> id; "mine": role -> the person's own objects
    people: dict = field(default_factory=dict)  # role (company A), "staff", "a_learner2", "b_learner" -> user id
    staff: object = None  # the staff account (with two-step verification: its secret logs it in)


def build_world(app, companies, lab_runs: bool = False) -> World:
    from leadthe.admin import people
    from leadthe.assessments.certificates import issue_certificate
    from leadthe.assessments.maturity import save_result
    from leadthe.assessments import rubric as R
    from leadthe.models import Enrollment, ImportBatch, QuizAttempt, User, UserSession, utcnow
    from leadthe.privacy.export import start_export
    from leadthe.privacy.services import record_request
    from leadthe.support.services import open_ticket

    a, b = companies
    w = World()
    # one person in company A outside the manager's team, in a team of their own
    a2 = make_user(app, a.org, email="learner2@a.example", name="Learner A2")
    team_a2 = make_team(app, a.org, "Team A2", members=[a2])
    staff = make_staff(app, email="staff@leadthe.example", name="Sam Staff")
    w.staff = staff
    with app.test_request_context():
        users = {k: db.session.get(User, u.id) for k, u in {
            "learner": a.learner, "manager": a.manager, "admin": a.admin, "staff": staff, "a_learner2": a2,
            "b_learner": b.learner, "b_admin": b.admin}.items()}
        w.people = {k: u.id for k, u in users.items()}
        platform, p_module, p_lesson, p_quiz = make_course(None, "platform-course", "Platform course", quiz=True)
        own_course, own_module, own_lesson, _q = make_course(a.org.id, "a-private", "A private")
        b_course, b_module, b_lesson, b_quiz = make_course(b.org.id, "b-private", "B private", quiz=True)
        w.ids.update(platform_course=platform.id, platform_module=p_module.id, platform_lesson=p_lesson.id,
                     platform_quiz=p_quiz.id, a_course=own_course.id, a_module=own_module.id, a_lesson=own_lesson.id,
                     b_course=b_course.id, b_module=b_module.id, b_lesson=b_lesson.id, b_quiz=b_quiz.id,
                     team_a=a.team.id, team_a2=team_a2.id, team_b=b.team.id, org_a=a.org.id, org_b=b.org.id)
        answers = {question["slug"]: 1 for question in R.RUBRICS[R.CURRENT]["questions"]}
        mine = {}
        for key, user in users.items():
            row = {}
            for course in (platform, own_course if user.org_id == a.org.id else b_course if user.org_id == b.org.id else None):
                if course is not None:
                    db.session.add(Enrollment(user_id=user.id, course_id=course.id, created_at=utcnow()))
            row["ticket"] = open_ticket(user, "Help", "other", "Please help").id
            row["export"] = start_export(user).id
            request_row = record_request(user, "access")
            db.session.flush()
            row["request"] = request_row.id
            # a session of another browser of this person (their own current session is looked up later)
            db.session.add(UserSession(user_id=user.id, token_hash=f"{user.id:064d}", expires_at=utcnow() + timedelta(days=1)))
            db.session.flush()
            row["session"] = db.session.scalar(sa.select(UserSession.id).where(UserSession.user_id == user.id))
            if user.org_id is not None:
                quiz = p_quiz
                attempt = QuizAttempt(org_id=user.org_id, user_id=user.id, quiz_id=quiz.id, number=1, score=100,
                                      correct_count=1, question_count=1, passed=True)
                db.session.add(attempt)
                db.session.flush()
                row["attempt"] = (quiz.id, attempt.id)
                row["maturity_result"] = save_result(user, answers).id
                row["certificate"] = issue_certificate(user, platform).code
            mine[key] = row
        w.ids["mine"] = mine
        for tag, company, team in (("a", a, a.team), ("b", b, b.team)):
            admin = db.session.get(User, company.admin.id)
            inv = people.create_invitation(admin, email=f"new@{tag}.example", role="learner", team_id=None)
            batch = ImportBatch(org_id=company.org.id, created_by_id=admin.id, created_at=utcnow(),
                                expires_at=utcnow() + timedelta(days=1),
                                rows=[{"email": f"imported@{tag}.example", "name": "Imported", "job_title": "",
                                       "department": "", "team_id": None, "team": "", "role": "learner"}])
            db.session.add(batch)
            db.session.flush()
            w.ids[f"invitation_{tag}"] = inv.id
            w.ids[f"batch_{tag}"] = batch.id
            from leadthe.models import RequirementRule
            rule = RequirementRule(org_id=company.org.id, course_id=platform.id, due_days=30)
            db.session.add(rule)
            db.session.flush()
            w.ids[f"rule_{tag}"] = rule.id
            w.ids[f"evidence_{tag}"] = _ready_evidence_pack(company.org.id, admin.id)
        from leadthe.models import AiPolicyVersion, AiTool

        for tag, company in (("a", a), ("b", b)):
            tool = AiTool(org_id=company.org.id, name=f"Tool {tag}", status="approved")
            version = AiPolicyVersion(org_id=company.org.id, version=1, title=f"Policy {tag}", body_md="Rules.",
                                      body_html="<p>Rules.</p>", change="minor", published_at=utcnow())
            db.session.add_all([tool, version])
            db.session.flush()
            draft = AiPolicyVersion(org_id=company.org.id, version=0, title=f"Draft {tag}", body_md="New rules.", change="minor")
            db.session.add(draft)
            db.session.flush()
            w.ids[f"ai_tool_{tag}"], w.ids[f"ai_policy_version_{tag}"], w.ids[f"ai_policy_draft_{tag}"] = tool.id, version.id, draft.id
        _lab_world(w, users, {"platform-course": platform, "a-private": own_course, "b-private": b_course}, a.org.id,
                   lab_runs)
        from leadthe.legal.services import current_policy

        w.ids["policy"] = current_policy("privacy").id
        db.session.commit()
    for part in SSO_PARTS:
        part.build(w, app, companies)
    return w


def _lab_world(w, users, courses, org_a, runs: bool):
    """An exercise lesson in every course, and (for the lab's own routes: the rest of the matrix does not
    need them) a lab run of each company person on their company's course."""
    from leadthe.models import Lesson
    from leadthe.models.lab import LabRun

    lessons = {}
    for slug, course in courses.items():
        module_id = db.session.scalar(sa.select(Lesson.module_id).where(Lesson.course_id == course.id).limit(1))
        lessons[slug] = lesson = Lesson(course_id=course.id, module_id=module_id, slug="exercise", title="Exercise",
                                        kind="exercise", exercise={"task": "Write a prompt."}, position=9, seq=9)
        db.session.add(lesson)
    db.session.flush()
    for key, user in users.items():
        if user.org_id is None or not runs:
            continue
        slug = "a-private" if user.org_id == org_a else "b-private"
        run = LabRun(org_id=user.org_id, user_id=user.id, lesson_id=lessons[slug].id, prompt="Hello", status="queued")
        db.session.add(run)
        db.session.flush()
        w.ids["mine"].setdefault(key, {})["lab_run"] = (slug, run.id)


def _ready_evidence_pack(org_id: int, admin_id: int) -> int:
    """A ready evidence pack with a (tiny) file, so its download answers 200 to its company's admins."""
    from leadthe.literacy.evidence import evidence_dir
    from leadthe.models import EvidencePack, utcnow

    name = f"evidence-matrix-{org_id}.zip"
    (evidence_dir() / name).write_bytes(b"PK\x05\x06" + bytes(18))  # an empty ZIP
    pack = EvidencePack(org_id=org_id, requested_by_id=admin_id, status="ready", progress=100, file_name=name,
                        size_bytes=22, ready_at=utcnow(), expires_at=utcnow() + timedelta(days=7))
    db.session.add(pack)
    db.session.flush()
    return pack.id


# --- object resolvers: (world, role, which) -> URL values, or None when the case does not apply -----------

def _mine(kind):
    def resolve(w, role, which):
        if role == "anonymous":
            role = "learner"  # an anonymous visitor asks for someone's object
        owner = {"own": role, "sibling": "a_learner2" if role != "staff" else "learner", "other": "b_learner"}[which]
        if role == "staff" and which == "sibling":
            owner = "learner"
        value = w.ids["mine"].get(owner, {}).get(kind)
        return value
    return resolve


def _session(w, role, which):
    if which == "own":
        return {"session_id": "CURRENT"}  # filled in from the database when the request is made
    value = _mine("session")(w, role, which)
    return None if value is None else {"session_id": value}


def _person(w, role, which):
    key = {"own": "learner", "sibling": "a_learner2", "other": "b_learner"}[which]
    return {"user_id": w.people[key]}


def _team(w, role, which):
    return {"team_id": w.ids[{"own": "team_a", "sibling": "team_a2", "other": "team_b"}[which]]}


def _team_member(w, role, which):
    team = _team(w, role, which)
    return {**team, **_person(w, role, which)}


def _course_of(w, role, which):
    if which == "sibling":
        return None
    if role == "staff":
        return "platform_course" if which == "own" else "b_course"
    return "a_course" if which == "own" else "b_course"


def _course_slug(w, role, which):
    key = _course_of(w, role, which)
    if key is None:
        return None
    return {"slug": {"platform_course": "platform-course", "a_course": "a-private", "b_course": "b-private"}[key]}


def _lesson(w, role, which):
    slug = _course_slug(w, role, which)
    return None if slug is None else {**slug, "lesson": "practice"}


def _lab_lesson(w, role, which):
    slug = _course_slug(w, role, which)
    return None if slug is None else {**slug, "lesson": "exercise"}


def _lab_run(w, role, which):
    value = _mine("lab_run")(w, role, which)
    return None if value is None else {"slug": value[0], "lesson": "exercise", "run_id": value[1]}


def _quiz(w, role, which):
    if which == "sibling":
        return None
    return {"quiz_id": w.ids["platform_quiz" if which == "own" else "b_quiz"]}


def _attempt(w, role, which):
    value = _mine("attempt")(w, role, which)
    return None if value is None else {"quiz_id": value[0], "attempt_id": value[1]}


def _keyed(kind, arg):
    def resolve(w, role, which):
        value = _mine(kind)(w, role, which)
        return None if value is None else {arg: value}
    return resolve


def _company_object(prefix, arg):
    def resolve(w, role, which):
        if which == "sibling":
            return None
        return {arg: w.ids[f"{prefix}_{'a' if which == 'own' else 'b'}"]}
    return resolve


def _private(kind):
    def resolve(w, role, which):
        if which == "sibling":
            return None
        tag = "a" if which == "own" else "b"
        values = {"course_id": w.ids[f"{tag}_course"]}
        if kind in ("module", "lesson"):
            values[f"{kind}_id"] = w.ids[f"{tag}_{kind}"]
        return values
    return resolve


def _platform(kind):
    def resolve(w, role, which):
        if which == "sibling":
            return None
        if which == "own":
            values = {"course_id": w.ids["platform_course"]}
            if kind in ("module", "lesson"):
                values[f"{kind}_id"] = w.ids[f"platform_{kind}"]
        else:  # a company's private course through the staff console
            values = {"course_id": w.ids["b_course"]}
            if kind in ("module", "lesson"):
                values[f"{kind}_id"] = w.ids[f"b_{kind}"]
        return values
    return resolve


def _company_ticket(w, role, which):
    if which == "sibling":
        return None
    return {"ticket_id": w.ids["mine"]["learner" if which == "own" else "b_learner"]["ticket"]}


def _privacy_request(w, role, which):
    if which == "sibling":
        return None
    return {"request_id": w.ids["mine"]["learner" if which == "own" else "b_learner"]["request"]}


def _only_own(values):
    def resolve(w, role, which):
        return values(w) if which == "own" else None
    return resolve


RESOLVERS = {
    "token": _only_own(lambda w: {"token": FORGED}),
    "session": _session,
    "export": _keyed("export", "export_id"),
    "ticket": _keyed("ticket", "ticket_id"),
    "maturity_result": _keyed("maturity_result", "result_id"),
    "attempt": _attempt,
    "certificate": lambda w, role, which: None if which == "sibling" else {
        "code": w.ids["mine"]["learner" if which == "own" else "b_learner"]["certificate"]},
    "policy": _only_own(lambda w: {"document_id": w.ids["policy"]}),
    "policy_kind": _only_own(lambda w: {"kind": "privacy"}),
    "policy_version": _only_own(lambda w: {"kind": "privacy", "number": 1}),
    "policy_number": _only_own(lambda w: {"number": 1}),
    "course": _course_slug,
    "lesson": _lesson,
    "lab_lesson": _lab_lesson,
    "lab_run": _lab_run,
    "quiz": _quiz,
    "person": _person,
    "team": _team,
    "team_member": _team_member,
    "invitation": _company_object("invitation", "invitation_id"),
    "import_batch": _company_object("batch", "batch_id"),
    "requirement_rule": _company_object("rule", "rule_id"),
    "evidence_pack": _company_object("evidence", "pack_id"),
    "organization": _company_object("org", "org_id"),
    "ai_tool": _company_object("ai_tool", "tool_id"),
    "ai_policy_version": _company_object("ai_policy_version", "version_id"),
    "ai_policy_draft": _company_object("ai_policy_draft", "draft_id"),
    "company_ticket": _company_ticket,
    "privacy_request": _privacy_request,
    "private_course": _private("course"),
    "private_module": _private("module"),
    "private_lesson": _private("lesson"),
    "platform_course": _platform("course"),
    "platform_module": _platform("module"),
    "platform_lesson": _platform("lesson"),
}
for _part in SSO_PARTS:
    RESOLVERS.update(_part.RESOLVERS)


# --- expectations --------------------------------------------------------------------------------------

LOGIN = "login"  # a redirect (302 or 303) to the log-in page


def expected(spec: dict, role: str, which: str, method: str):
    """The answer (an int, a set of ints, LOGIN, or "pass": anything but a guard answer or an error)."""
    auth = spec["auth"]
    if auth == "token":
        return {400, 404}
    if auth == "bearer":
        return 401  # signed in or not: a session is no SCIM token
    allowed = role in ALLOWED[auth]
    if role == "anonymous" and not allowed:
        return 404 if auth == "staff" else LOGIN
    if not allowed:
        deny = spec.get("deny", DENY[auth])
        if auth == "admin-in-manager-area" and role == "manager":
            # the object is looked up first: what the manager cannot see is 404, what they can is 403
            return 403 if which == "own" else 404
        return deny if which == "own" else {deny, 404}
    if which == "other" and not spec.get("cross"):
        return 404
    if which == "sibling" and not spec.get("cross"):
        if spec.get("sibling") == "admin" and role == "admin":
            pass  # a company admin sees the whole company
        else:
            return 404
    if method == "POST":
        return spec.get("post", {}).get(role, "pass")
    return spec.get("roles", {}).get(role, spec.get("get", 200))


def check(response, want, label):
    code = response.status_code
    body = response.get_data(as_text=True)[:400] if code >= 500 else ""
    assert code < 500, f"{label}: server error {code} {body}"
    if want == LOGIN:
        assert code in (302, 303) and "/login" in response.headers.get("Location", ""), \
            f"{label}: expected a redirect to log-in, got {code} {response.headers.get('Location')}"
    elif want == "pass":
        location = response.headers.get("Location", "") + response.headers.get("HX-Redirect", "")
        assert code not in (401, 403, 404) and "/login" not in location.split("?")[0], \
            f"{label}: the guard refused an allowed role: {code} {location}"
    elif isinstance(want, set):
        assert code in want, f"{label}: expected one of {sorted(want)}, got {code}"
    else:
        assert code == want, f"{label}: expected {want}, got {code}"


# --- clients -------------------------------------------------------------------------------------------

def signed_in_clients(app, world) -> dict:
    from leadthe.models import User

    clients = {"anonymous": app.test_client()}
    with app.app_context():
        emails = {role: db.session.get(User, world.people[role]).email for role in ("staff",) + COMPANY_ROLES}
    for role, email in emails.items():
        client = app.test_client()
        if role == "staff":  # staff accounts have two-step verification
            response = login_with_code(client, app, world.staff)
        else:
            token = csrf_from(client.get("/login").get_data(as_text=True))
            response = client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
        assert response.status_code == 303, f"{role} could not log in"
        clients[role] = client
    # signed in long ago: a sign-in counts as the step-up for five minutes, and the matrix's empty POSTs to
    # step-up routes must meet the step-up (a 422), not act
    for email in emails.values():
        close_step_up_window(app, email)
    for role, client in clients.items():
        client.csrf = csrf_from(client.get("/privacy/contact").get_data(as_text=True))
    return clients


def current_session_id(app, world, role):
    from leadthe.models import UserSession

    with app.app_context():
        return db.session.scalar(sa.select(UserSession.id).where(
            UserSession.user_id == world.people[role], UserSession.revoked_at.is_(None))
            .order_by(UserSession.id.desc()).limit(1))


def url_for_rule(app, endpoint, values):
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


# --- tests ---------------------------------------------------------------------------------------------

def test_every_route_is_in_the_matrix(app):
    missing = sorted({r.endpoint for r in rules(app)} - set(MATRIX))
    assert not missing, ("routes without an entry in MATRIX (tests/test_route_matrix.py); add each with the answer "
                         f"every role must get: {', '.join(missing)}")
    stale = sorted(set(MATRIX) - {r.endpoint for r in rules(app)})
    assert not stale, f"MATRIX names routes that no longer exist: {', '.join(stale)}"
    for endpoint, spec in MATRIX.items():
        params = set().union(*(r.arguments for r in rules(app) if r.endpoint == endpoint))
        assert bool(params) == bool(spec.get("obj")), f"{endpoint}: takes {sorted(params) or 'no ids'}; set 'obj' accordingly"


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_route_matrix(app, companies, endpoint):
    spec = MATRIX.get(endpoint)
    if spec is None:
        pytest.fail(f"{endpoint} has no entry in MATRIX")
    world = build_world(app, companies, lab_runs=endpoint.startswith("lab."))
    clients = signed_in_clients(app, world)
    methods = sorted({m for r in rules(app) if r.endpoint == endpoint for m in r.methods} & {"GET", "POST"})
    resolve = RESOLVERS[spec["obj"]] if spec.get("obj") else (lambda w, role, which: {} if which == "own" else None)
    checked = 0
    for role in ROLES:
        client = clients[role]
        for method in methods:
            for which in ("other", "sibling", "own"):  # the own object last: an allowed POST may change it
                values = resolve(world, role, which)
                if values is None:
                    continue
                if values.get("session_id") == "CURRENT":
                    if role == "anonymous":
                        continue
                    values = {"session_id": current_session_id(app, world, role)}
                url = url_for_rule(app, endpoint, values)
                want = expected(spec, role, which, method)
                label = f"{method} {url} as {role} ({which})"
                if method == "GET":
                    with client.get(url) as response:
                        check(response, want, label)
                else:
                    with client.post(url, data={"csrf_token": client.csrf}) as response:
                        check(response, want, label)
                checked += 1
    assert checked, endpoint


def test_forged_tokens_never_reach_an_object(app, companies):
    """Signed links with a token signed for another purpose are refused too (not only random strings)."""
    from itsdangerous import URLSafeTimedSerializer

    world = build_world(app, companies)
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="not-the-right-salt")
    wrong = serializer.dumps({"i": world.ids["invitation_a"], "u": world.people["learner"], "p": "email_progress"})
    client = app.test_client()
    for endpoint in [e for e, s in MATRIX.items() if s["auth"] == "token"]:
        url = url_for_rule(app, endpoint, {"token": wrong})
        with client.get(url) as response:
            assert response.status_code in (400, 404), f"{endpoint}: {response.status_code}"
