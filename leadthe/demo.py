"""The demo organisation for `make run` and `leadthe seed-demo`; later areas add their demo data here."""
from __future__ import annotations

import sqlalchemy as sa

from leadthe.auth.passwords import hash_password
from leadthe.extensions import db
from leadthe.models import Organization, Team, TeamMembership, User, utcnow

DEMO_PASSWORD = "acme-demo-passphrase"
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
    db.session.commit()
    return [(role, email) for email, _n, role, *_ in PEOPLE]


def demo_people() -> list[tuple[str, str]]:
    emails = [p[0] for p in PEOPLE]
    found = set(db.session.scalars(sa.select(User.email).where(User.email.in_(emails))))
    return [(role, email) for email, _n, role, *_ in PEOPLE if email in found]
