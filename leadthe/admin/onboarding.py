"""A new company's first steps: the checklist on its admin's dashboard until every step is done or an admin
hides it. One query answers every step (no query per step)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from leadthe.extensions import db
from leadthe.models import Assignment, Invitation, Organization, Team, User, utcnow
from leadthe.models.enums import Role


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    hint: str
    done: bool
    url: str
    action: str


def _facts(org_id: int) -> sa.Row:
    """Whether the company has a team, an invitation, a second person and an assignment: one query."""
    def exists(model) -> sa.ScalarSelect:
        return sa.exists().where(model.org_id == org_id).select()
    return db.session.execute(sa.select(
        exists(Team).scalar_subquery().label("team"),
        exists(Invitation).scalar_subquery().label("invitation"),
        sa.select(sa.func.count()).where(User.org_id == org_id).scalar_subquery().label("people"),
        exists(Assignment).scalar_subquery().label("assignment"),
    )).one()


def onboarding_steps(user) -> list[Step] | None:
    """The checklist for a company admin, or None: not an admin, hidden, or every step done."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.ADMIN or user.org_id is None:
        return None
    org = user.organization
    if org is None or org.onboarding_dismissed_at is not None:
        return None
    facts = _facts(org.id)
    steps = [
        Step("email", _l("Confirm your e-mail address"), _l("Open the link we mailed you, so invitations and reports reach you."),
             user.email_verified_at is not None, url_for("account.profile"), _l("Your profile")),
        Step("team", _l("Create a team"), _l("Teams group people for reports and assignments."),
             bool(facts.team), url_for("admin.teams_page"), _l("Create a team")),
        Step("invite", _l("Invite your colleagues"), _l("One by one, or many at once from a CSV file."),
             bool(facts.invitation) or facts.people > 1, url_for("admin.invitations"), _l("Invite people")),
        Step("assign", _l("Assign a first course"), _l("Ask a team or a person to take a course, with a date if you like."),
             bool(facts.assignment), url_for("admin.assignments"), _l("Assign a course")),
        Step("twofa", _l("Decide on two-step verification"), _l("Require a code from an authenticator app for everyone, or leave it to each person."),
             org.require_2fa or org.twofa_decided_at is not None, url_for("admin.settings"), _l("Company settings")),
    ]
    if all(step.done for step in steps):
        return None
    return steps


def dismiss(org: Organization) -> None:
    if org.onboarding_dismissed_at is None:
        org.onboarding_dismissed_at = utcnow()
