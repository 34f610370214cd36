"""The demo company's AI tools and AI-use policy (``leadthe seed-demo``), so that its pages and its evidence
pack show something real: five tools (approved, under review, not allowed) and a material version 1 of the
policy, published ten days ago, acknowledged by most people (two have not yet, and were reminded)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from leadthe.courses.content import render_markdown
from leadthe.extensions import db
from leadthe.literacy.policy import ask_everyone
from leadthe.literacy.policy_template import STARTER
from leadthe.models import AiPolicyAck, AiPolicyVersion, AiTool, Organization, Team, User, utcnow
from leadthe.models.enums import AiToolStatus, PolicyChange

TOOLS = [
    # name, vendor, purpose, status, personal data, confidential, departments, teams, risk note, owner
    ("Microsoft 365 Copilot", "Microsoft", "Drafting and summarising e-mails, documents and meeting notes in our Microsoft 365 tenant.",
     AiToolStatus.APPROVED, True, True, [], [], "Check every figure and name before you send a draft.", "admin@acme.example"),
    ("ChatGPT Enterprise", "OpenAI", "Research, brainstorming and first drafts of texts that contain no customer data.",
     AiToolStatus.APPROVED, False, False, [], [], "Answers can be wrong or out of date: verify facts and sources.", "IT service desk"),
    ("GitHub Copilot", "GitHub", "Code suggestions in our repositories.", AiToolStatus.APPROVED, False, True, ["Engineering"], ["Engineering"],
     "Review every suggestion like a colleague's code; never paste secrets.", "erin@acme.example"),
    ("Otter.ai meeting notes", "Otter.ai", "Transcribing customer calls (requested by Sales).", AiToolStatus.UNDER_REVIEW, False, False,
     ["Sales"], [], "Data protection review running: recording customers needs their consent.", "IT service desk"),
    ("Free AI browser extensions", "Various", "Writing aids and page summarisers installed in the browser.", AiToolStatus.NOT_ALLOWED,
     False, False, [], [], "They read every page you open, including customer records.", "IT service desk"),
]
ACKNOWLEDGED = ("admin@acme.example", "manager@acme.example", "learner@acme.example", "erin@acme.example")


def seed_demo_literacy_policy(org: Organization) -> None:
    """Idempotent: tools are matched by name; the policy is created once."""
    people = {u.email: u for u in db.session.scalars(sa.select(User).where(User.org_id == org.id))}
    teams = {t.name: t.id for t in db.session.scalars(sa.select(Team).where(Team.org_id == org.id))}
    existing = set(db.session.scalars(sa.select(AiTool.name).where(AiTool.org_id == org.id)))
    today = utcnow().date()
    for n, (name, vendor, purpose, status, personal, confidential, departments, team_names, risk, owner) in enumerate(TOOLS):
        if name in existing:
            continue
        owner_user = people.get(owner)
        db.session.add(AiTool(org_id=org.id, name=name, vendor=vendor, purpose=purpose, status=status,
                              personal_data_allowed=personal, confidential_data_allowed=confidential, departments=departments,
                              team_ids=[teams[t] for t in team_names if t in teams], risk_note=risk,
                              owner_id=owner_user.id if owner_user else None, owner_note="" if owner_user else owner,
                              added_on=today - timedelta(days=90 - 15 * n)))
    if db.session.scalar(sa.select(AiPolicyVersion.id).where(AiPolicyVersion.org_id == org.id)) is None:
        _publish_demo_policy(org, people)
    db.session.flush()


def _publish_demo_policy(org: Organization, people: dict) -> None:
    admin = people.get("admin@acme.example")
    title, body = STARTER["en"]
    body = body.replace("[Company]", org.name).replace("[owner or team]", "the IT service desk").replace(
        "[name, role, e-mail]", "Ada Admin, Head of People, admin@acme.example").replace(
        "[data protection contact]", "privacy@acme.example").replace("[contact]", "the IT service desk (it@acme.example)")
    published = utcnow() - timedelta(days=10)
    version = AiPolicyVersion(org_id=org.id, version=1, title=title, summary="First version.", body_md=body,
                              body_html=render_markdown(body), change=PolicyChange.MATERIAL, created_by_id=getattr(admin, "id", None),
                              published_by_id=getattr(admin, "id", None), published_at=published, created_at=published)
    db.session.add(version)
    db.session.flush()
    ask_everyone(version, published)
    # the demo's mail went out when it was published, and the reminder three days later
    db.session.execute(sa.update(AiPolicyAck).where(AiPolicyAck.version_id == version.id).values(
        mailed_at=published, reminded_at=published + timedelta(days=7)))
    done = [people[e].id for e in ACKNOWLEDGED if e in people]
    db.session.execute(sa.update(AiPolicyAck).where(AiPolicyAck.version_id == version.id, AiPolicyAck.user_id.in_(done))
                       .values(acknowledged_at=published + timedelta(days=1), reminded_at=None))
