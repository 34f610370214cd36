"""The demo organisation for `make run` and `leadthe seed-demo`; later areas add their demo data here."""
from __future__ import annotations

from datetime import timedelta

import pyotp
import sqlalchemy as sa
from flask import current_app

from leadthe.assessments.maturity import seed_demo_maturity
from leadthe.assessments.services import seed_passing_attempt
from leadthe.auth.passwords import hash_password
from leadthe.auth.twofactor import provisioning_uri
from leadthe.billing import accounts, manual
from leadthe.billing.invoices import mark_paid
from leadthe.billing.plans import ensure_default_plans, latest_version
from leadthe.courses.services import complete_lesson, enroll
from leadthe.extensions import db
from leadthe.trust.dpa import seed_acceptance
from leadthe.literacy.policy_demo import seed_demo_literacy_policy
from leadthe.literacy.rules import apply_rules
from leadthe.models import (ActivityDay, Course, Enrollment, Lesson, Organization, RequirementRule, Team, TeamMembership, User,
                            utcnow)
from leadthe.models.billing import Plan
from leadthe.models.enums import BillingInterval, BillingStatus

DEMO_PASSWORD = "acme-demo-passphrase"
DEMO_SEATS = 50  # comfortably above the demo's people, so inviting and importing work in the demo
DEMO_ORG = "Acme Corp"

PEOPLE = [
    # email, name, role, job title, department, team, manages team
    ("admin@acme.example", "Ada Admin", "admin", "Head of People", "People", None, False),
    ("manager@acme.example", "Max Manager", "manager", "Sales Lead", "Sales", "Sales", True),
    ("learner@acme.example", "Lea Learner", "learner", "Account Executive", "Sales", "Sales", False),
    ("sam@acme.example", "Sam Seller", "learner", "Sales Development Rep", "Sales", "Sales", False),
    ("erin@acme.example", "Erin Engineer", "learner", "Software Engineer", "Engineering", "Engineering", False),
    ("omar@acme.example", "Omar Ops", "learner", "Operations Analyst", "Engineering", "Engineering", False),
]


def seed_demo() -> list[tuple[str, str]]:
    org = db.session.scalar(sa.select(Organization).where(Organization.name == DEMO_ORG))
    if org is None:
        org = Organization(name=DEMO_ORG)
        db.session.add(org)
        db.session.flush()
    teams = {t.name: t for t in db.session.scalars(sa.select(Team).where(Team.org_id == org.id))}
    password_hash = None
    for email, name, role, title, dept, team_name, manages in PEOPLE:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            user = User(org_id=org.id, email=email, name=name, role=role, job_title=title, department=dept,
                        password_hash=password_hash, password_changed_at=utcnow(), email_verified_at=utcnow())
            db.session.add(user)
            db.session.flush()
        if team_name:
            team = teams.get(team_name)
            if team is None:
                team = teams[team_name] = Team(org_id=org.id, name=team_name)
                db.session.add(team)
                db.session.flush()
            exists = db.session.scalar(
                sa.select(TeamMembership.id).where(TeamMembership.team_id == team.id, TeamMembership.user_id == user.id)
            )
            if exists is None:
                db.session.add(TeamMembership(org_id=org.id, team_id=team.id, user_id=user.id, is_manager=manages))
    seed_demo_staff(password_hash)
    seed_demo_literacy_policy(org)
    seed_demo_billing(org)
    seed_demo_dpa(org)
    db.session.commit()
    seed_demo_progress()
    seed_demo_rules()
    return [(role, email) for email, _n, role, *_ in PEOPLE]


def seed_demo_billing(org: Organization) -> None:
    """The demo company pays by invoice: its billing details, an active manual subscription to the Team plan,
    monthly, with seats to spare (not a trial that would end and make the demo read-only), and its first
    invoice, paid. Left alone once it is subscribed."""
    account = accounts.lock_account(org.id)
    if account.status != BillingStatus.TRIALING:
        return
    ensure_default_plans()
    team = db.session.scalar(sa.select(Plan).where(Plan.code == "team"))
    version = latest_version(team.id) if team is not None else None
    if version is None:
        return
    account.legal_name, account.address_line1, account.postcode, account.city, account.country = (
        "Acme Europe GmbH", "Hafenstraße 12", "20457", "Hamburg", "DE")
    account.vat_id, account.vat_id_valid = "DE136695976", True
    admin = db.session.scalar(sa.select(User).where(User.org_id == org.id, User.role == "admin").order_by(User.id))
    invoice = manual.start_period(account, version, BillingInterval.MONTH, DEMO_SEATS, admin)
    account.trial_ends_at = None
    mark_paid(invoice, actor=admin)


def seed_demo_dpa(org: Organization) -> None:
    """The demo company has accepted the current data processing agreement (its admin, with the billing details'
    legal name), so the DPA gate (DPA_REQUIRED) does not stop the demo admin."""
    seed_acceptance(org.id)


# LeadThe.AI's own people, outside any company: development and test databases only. Staff must use two-step
# verification, so these come with it on; `leadthe demo-code <email>` prints their current code.
DEMO_STAFF = [
    ("staff@leadthe.example", "Stella Staff", "staff"),
    ("dpo@leadthe.example", "Dana Protection", "dpo"),
]


def demo_staff_allowed() -> bool:
    return current_app.config["LEADTHE_ENV"] in ("development", "test")


def seed_demo_staff(password_hash: str | None = None) -> None:
    if not demo_staff_allowed():
        return
    for email, name, role in DEMO_STAFF:
        if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
            continue
        password_hash = password_hash or hash_password(DEMO_PASSWORD)
        db.session.add(User(org_id=None, email=email, name=name, role=role, password_hash=password_hash,
                            password_changed_at=utcnow(), email_verified_at=utcnow(),
                            totp_secret=pyotp.random_base32(), totp_enabled_at=utcnow()))
    db.session.flush()


def _demo_staff_user(email: str) -> User | None:
    if not demo_staff_allowed() or email not in {e for e, _n, _r in DEMO_STAFF}:
        return None
    user = db.session.scalar(sa.select(User).where(User.email == email, User.org_id.is_(None)))
    return user if user is not None and user.has_2fa else None


def demo_staff() -> list[tuple[str, str, str]]:
    """(role, e-mail, otpauth URI) of the demo staff accounts that exist (development and test only)."""
    found = [_demo_staff_user(email) for email, _n, _r in DEMO_STAFF]
    return [(u.role, u.email, provisioning_uri(u)) for u in found if u is not None]


def demo_code(email: str) -> str | None:
    """The current two-step code of a demo staff account; None for any other account, or in production."""
    user = _demo_staff_user(email)
    return pyotp.TOTP(user.totp_secret).now() if user is not None else None


# email -> (course slug, lessons completed; None = the whole course)
DEMO_PROGRESS = {
    "learner@acme.example": [("ai-foundations", None), ("prompting-that-works", 5)],
    "sam@acme.example": [("ai-foundations", 7)],
    "erin@acme.example": [("prompting-that-works", 3), ("using-ai-safely", 2)],
    "manager@acme.example": [("leading-ai-adoption", 4)],
}


def seed_demo_progress() -> None:
    """Enrolments, completed lessons and activity days for the demo learners (idempotent; needs the
    curriculum, which `make run` loads first)."""
    courses = {c.slug: c for c in db.session.scalars(sa.select(Course).where(Course.org_id.is_(None), Course.slug.in_(
        {slug for plans in DEMO_PROGRESS.values() for slug, _ in plans})))}
    if not courses:
        return
    users = {u.email: u for u in db.session.scalars(sa.select(User).where(User.email.in_(DEMO_PROGRESS)))}
    now = utcnow()
    for email, plans in DEMO_PROGRESS.items():
        user = users.get(email)
        if user is None:
            continue
        for slug, count in plans:
            course = courses.get(slug)
            if course is None:
                continue
            enroll(user, course)
            lessons = db.session.scalars(sa.select(Lesson).where(Lesson.course_id == course.id, Lesson.archived.is_(False))
                                         .order_by(Lesson.seq)).all()
            todo = lessons if count is None else lessons[:count]
            for i, lesson in enumerate(todo):
                # spread over the last days, so the streak and the week chart have something to show
                complete_lesson(user, course, lesson, now=now - timedelta(days=max(len(todo) - 1 - i, 0) // 2))
            if todo:
                db.session.execute(sa.update(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
                                   .values(last_lesson_id=todo[-1].id, last_seen_at=now))
            if count is None:
                # a whole course: pass its final quiz too, which completes it and issues the certificate
                seed_passing_attempt(user, course, now)

        seed_demo_maturity(user)
        for back in range(6):
            day = (now - timedelta(days=back)).date()
            db.session.execute(sa.update(ActivityDay).where(ActivityDay.user_id == user.id, ActivityDay.day == day,
                                                            ActivityDay.seconds == 0)
                               .values(seconds=600 + 240 * ((user.id + back) % 5)))
    db.session.commit()


# Acme's requirement rules: (name, course slug, field, operator, value or team name, due days, refresh months,
# days ago the rule came). The older rules' requirements are overdue for those who did nothing, the newer ones due soon.
DEMO_RULES = [
    ("Everyone: AI foundations", "ai-foundations", "everyone", "equals", "", 30, 12, 45),
    ("Engineering: AI safety", "using-ai-safely", "team", "equals", "Engineering", 14, 0, 45),
    ("Sales: prompting", "prompting-that-works", "department", "equals", "Sales", 30, None, 20),
    ("Leads: AI adoption", "leading-ai-adoption", "job_title", "contains", "Lead", 30, 12, 20),
]


def seed_demo_rules() -> None:
    """Acme's starter requirement rules, applied as of the day each came, so the programme's pages show
    current, due-soon and overdue people out of the box (idempotent: rules are found by name)."""
    org = db.session.scalar(sa.select(Organization).where(Organization.name == DEMO_ORG))
    courses = {c.slug: c.id for c in db.session.scalars(sa.select(Course).where(Course.org_id.is_(None)))}
    if org is None or not courses:
        return
    teams = {t.name: t.id for t in db.session.scalars(sa.select(Team).where(Team.org_id == org.id))}
    existing = set(db.session.scalars(sa.select(RequirementRule.name).where(RequirementRule.org_id == org.id)))
    now = utcnow()
    for name, slug, field, operator, value, due_days, refresh, days_ago in DEMO_RULES:
        if name in existing or slug not in courses:
            continue
        came = now - timedelta(days=days_ago)
        db.session.add(RequirementRule(org_id=org.id, name=name, course_id=courses[slug], field=field, operator=operator,
                                       value="" if field == "team" else value, team_id=teams.get(value) if field == "team" else None,
                                       due_days=due_days, refresh_months=refresh, created_at=came, updated_at=came))
        db.session.flush()
        apply_rules(org.id, now=came)
    apply_rules(org.id, now=now)
    db.session.commit()


def demo_people() -> list[tuple[str, str]]:
    emails = [p[0] for p in PEOPLE]
    found = set(db.session.scalars(sa.select(User.email).where(User.email.in_(emails))))
    return [(role, email) for email, _n, role, *_ in PEOPLE if email in found]
