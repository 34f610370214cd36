"""Requirements, rules and an acknowledged AI-use policy for a company made by ``leadthe seed-scale``, for
the overview's benchmark and its statement-count test: bulk inserts, no rules engine, a fixed mix of
statuses (half current, some expired, due soon, overdue, not started)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import AiPolicyAck, AiPolicyVersion, Course, Requirement, RequirementRule, User, utcnow
from leadthe.models.enums import RuleField
from leadthe.scale import _bulk


def _status_columns(i: int, now) -> dict:
    """Requirement columns giving person ``i`` a status by ``i % 10``."""
    kind = i % 10
    if kind < 5:  # current
        done = now - timedelta(days=30 + i % 300)
        return {"completed_at": done, "valid_until": done + timedelta(days=365), "due_on": (done + timedelta(days=365)).date()}
    if kind == 5:  # completed, then expired: overdue again
        done = now - timedelta(days=400)
        return {"completed_at": done, "valid_until": done + timedelta(days=365), "due_on": (done + timedelta(days=365)).date()}
    if kind == 8:
        return {"due_on": (now + timedelta(days=7)).date()}  # due soon
    if kind == 9:
        return {"due_on": (now - timedelta(days=1 + i % 60)).date()}  # overdue
    return {"due_on": (now + timedelta(days=30 + i % 60)).date()}  # not started


def seed_requirements(org_id: int) -> int:
    """Two rules (everyone: the first course; one department: the second) and their requirements, plus a
    published material policy version asked of everyone (seven in ten acknowledged). How many requirements."""
    now = utcnow()
    courses = list(db.session.scalars(sa.select(Course.id).where(Course.org_id == org_id).order_by(Course.id).limit(2)))
    everyone = RequirementRule(org_id=org_id, name="Everyone: AI basics", course_id=courses[0], field=RuleField.EVERYONE)
    dept = RequirementRule(org_id=org_id, name="Dept 1: AI in practice", course_id=courses[1], field=RuleField.DEPARTMENT,
                           value="Dept 1")
    policy = AiPolicyVersion(org_id=org_id, version=1, title="How we use AI", published_at=now - timedelta(days=60))
    db.session.add_all([everyone, dept, policy])
    db.session.flush()
    people = db.session.execute(sa.select(User.id, User.department).where(User.org_id == org_id).order_by(User.id)).all()
    rows, acks = [], []
    for i, (uid, department) in enumerate(people):
        assigned = now - timedelta(days=20 + i % 400)
        rows.append({"org_id": org_id, "user_id": uid, "course_id": courses[0], "rule_id": everyone.id, "assigned_at": assigned,
                     "completed_at": None, "valid_until": None, **_status_columns(i, now)})
        if department == "Dept 1":
            rows.append({"org_id": org_id, "user_id": uid, "course_id": courses[1], "rule_id": dept.id, "assigned_at": assigned,
                         "completed_at": None, "valid_until": None, **_status_columns(i + 3, now)})
        acks.append({"org_id": org_id, "user_id": uid, "version_id": policy.id, "asked_at": now - timedelta(days=60),
                     "acknowledged_at": now - timedelta(days=50) if i % 10 < 7 else None})
    _bulk(Requirement.__table__, rows)
    _bulk(AiPolicyAck.__table__, acks)
    return len(rows)
