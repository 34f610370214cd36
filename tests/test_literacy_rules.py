"""Requirement rules: required courses follow people as they join, move between departments and teams, and
change roles; completions count (and expire with the refresh period); the admin page of rules."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from leadthe.extensions import db
from tests.conftest import make_team, make_user, post_form
from tests.helpers import make_course, signed_in


def _rule(org_id, course_id, **fields):
    from leadthe.models import RequirementRule

    rule = RequirementRule(org_id=org_id, course_id=course_id, **fields)
    db.session.add(rule)
    db.session.flush()
    return rule


def _required(org_id, course_id):
    """{user_id: requirement} in force for the course."""
    from leadthe.models import Requirement

    return {r.user_id: r for r in db.session.scalars(sa.select(Requirement).where(
        Requirement.org_id == org_id, Requirement.course_id == course_id, Requirement.ended_at.is_(None)))}


def _requirement(user_id, course_id):
    from leadthe.models import Requirement

    return db.session.scalar(sa.select(Requirement).where(Requirement.user_id == user_id, Requirement.course_id == course_id))


@pytest.fixture
def sales(app, companies):
    """Company A with two people in Sales (one spelled differently), one in Support, and a course."""
    a = companies[0]
    s1 = make_user(app, a.org, email="sam@a.example", name="Sam Sales", department="Sales")
    s2 = make_user(app, a.org, email="sue@a.example", name="Sue Sales", department="  sales ")
    other = make_user(app, a.org, email="otto@a.example", name="Otto Support", department="Support")
    with app.app_context():
        course, *_ = make_course(a.org.id, "prompting", "Prompting", quiz=False)
        db.session.commit()
        return a, course.id, (s1, s2, other)


def test_a_department_rule_assigns_everyone_matching_and_follows_moves(app, sales):
    from leadthe.literacy.rules import apply_rules
    from leadthe.models import Certificate, User, utcnow
    from leadthe.models.enums import RuleField

    a, course_id, (s1, s2, other) = sales
    now = utcnow()
    with app.app_context():
        _rule(a.org.id, course_id, field=RuleField.DEPARTMENT, value="Sales", due_days=30)
        apply_rules(a.org.id, now=now)
        required = _required(a.org.id, course_id)
        assert set(required) == {s1.id, s2.id}
        assert required[s1.id].due_on == (now + timedelta(days=30)).date()
        # Sam completes the course; then he moves to Support and Otto to Sales
        db.session.add(Certificate(org_id=a.org.id, user_id=s1.id, course_id=course_id, code="C" * 20, issued_at=now))
        apply_rules(a.org.id, now=now)
        assert _requirement(s1.id, course_id).completed_at is not None
        db.session.get(User, s1.id).department = "Support"
        db.session.get(User, other.id).department = "Sales"
        apply_rules(a.org.id, [s1.id, other.id], now=now)
        assert set(_required(a.org.id, course_id)) == {s2.id, other.id}
        ended = _requirement(s1.id, course_id)
        assert ended.ended_at is not None and ended.completed_at is not None  # what he did stays his
        assert db.session.scalar(sa.select(Certificate.id).where(Certificate.user_id == s1.id)) is not None
        db.session.commit()
