"""Reminders of required training (the AI-literacy programme): a mail 7 days before a requirement is due,
one when it is overdue, and the managers' weekly digest of the overdue people in their teams.

Each reminder is sent once per due date: the requirement row is marked (``reminded_due_at``,
``reminded_overdue_at``) in the same transaction as the mail is queued, by a bulk UPDATE that only takes
rows still unmarked (a second worker, or a re-run, finds nothing left). A completion or a refresh moves
the due date and clears the marks (leadthe.literacy.rules), so the next due date is reminded again.
The digest is once per manager and ISO week (a ``progress_mail`` row, like the progress digest). Both run
in the daily worker job ``literacy.daily`` (leadthe.literacy.jobs).

These mails are about training the employer requires, not marketing, and they say so. The person may
still switch them off (preference ``email_required``, one-click unsubscribe, RFC 8058): the requirement
and its notice on their dashboard stay, and their manager's digest still lists them when overdue.

Every run is a fixed number of statements, however many people are due (a batch per query).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from leadthe.courses.translation import translations
from leadthe.database import upsert
from leadthe.extensions import db
from leadthe.labels import ROLE
from leadthe.mail import header_value, long_date, mail_values, queue_mails
from leadthe.models import (Course, Organization, ProgressMail, Requirement, RequirementRule, Team, TeamMembership, User,
                            UserPreference, utcnow)
from leadthe.models.enums import OrgStatus, Role, RuleField, RuleOperator, UserStatus
from leadthe.net import absolute_url
from leadthe.progress.services import iso_week, unsubscribe_token

REMIND_BEFORE_DAYS = 7
PREFERENCE = "email_required"
DIGEST_KIND = "literacy_digest"  # progress_mail.kind of the managers' weekly digest (ref: the ISO week)
BATCH = 5000  # requirements per query and transaction
SUBJECT_TITLE_MAX = 60  # characters of a course title in a subject line


def subject_text(value: str, limit: int = SUBJECT_TITLE_MAX) -> str:
    """A title for a subject line: one line, without control characters, and short (a company's course title
    is its own free text)."""
    text = header_value(value or "")
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


# --- why a requirement applies: the rule in words, written in the mail's language ------------------------

class _Why:
    """The rule behind a requirement as a sentence, rendered when the mail is written (in its language)."""

    def __init__(self, field: str | None, operator: str | None, value: str, team: str | None):
        self.field, self.operator, self.value, self.team = field, operator, value, team

    def __str__(self) -> str:
        value, contains = self.value, self.operator == RuleOperator.CONTAINS
        if self.field == RuleField.EVERYONE:
            return str(_l("It is required for everyone in your company."))
        if self.field == RuleField.TEAM and self.team:
            return str(_l("It is required for everyone in the team “%(team)s”.", team=self.team))
        if self.field == RuleField.DEPARTMENT:
            return str(_l("It is required for everyone whose department contains “%(value)s”.", value=value) if contains
                       else _l("It is required for everyone in the department “%(value)s”.", value=value))
        if self.field == RuleField.JOB_TITLE:
            return str(_l("It is required for everyone whose job title contains “%(value)s”.", value=value) if contains
                       else _l("It is required for everyone with the job title “%(value)s”.", value=value))
        if self.field == RuleField.ROLE:
            return str(_l("It is required for everyone with the role “%(role)s”.", role=ROLE.get(value, value)))
        return str(_l("It is part of your company's AI-literacy programme."))


def _course_title(course_id: int, title: str, locale: str) -> str:
    """The course's title in the recipient's language where the curriculum has a translation."""
    if locale == "en":
        return title
    return translations(locale).get(("course", course_id), {}).get("title", title)


def _first_name(name: str, email: str) -> str:
    return name.split()[0] if name and name.strip() else email.split("@")[0]


# --- the person's reminders ----------------------------------------------------------------------------

def _mailable():
    """People who get mail: active, in an active company, reminders not switched off."""
    opted_out = sa.select(UserPreference.user_id).where(UserPreference.email_required.is_(False))
    active_orgs = sa.select(Organization.id).where(Organization.status == OrgStatus.ACTIVE)
    return sa.and_(User.status == UserStatus.ACTIVE, User.org_id.in_(active_orgs), User.id.not_in(opted_out))


def _not_current(now: datetime):
    return sa.not_(sa.and_(Requirement.completed_at.is_not(None),
                           sa.or_(Requirement.valid_until.is_(None), Requirement.valid_until > now)))


def _candidates(kind: str, now: datetime):
    """One batch of requirements to remind of (``kind`` "due" or "overdue"), with what the mail needs."""
    today = now.date()
    mark = Requirement.reminded_due_at if kind == "due" else Requirement.reminded_overdue_at
    window = (Requirement.due_on.between(today, today + timedelta(days=REMIND_BEFORE_DAYS)) if kind == "due"
              else Requirement.due_on < today)
    return (sa.select(Requirement.id, Requirement.due_on, User.id, User.email, User.name, User.locale, Course.id, Course.slug,
                      Course.title, RequirementRule.field, RequirementRule.operator, RequirementRule.value, Team.name)
            .join(User, User.id == Requirement.user_id).join(Course, Course.id == Requirement.course_id)
            .outerjoin(RequirementRule, RequirementRule.id == Requirement.rule_id)
            .outerjoin(Team, Team.id == RequirementRule.team_id)
            .where(Requirement.ended_at.is_(None), mark.is_(None), window, _not_current(now), _mailable())
            .order_by(Requirement.id).limit(BATCH))


def _claim(kind: str, ids: list[int], now: datetime) -> set[int]:
    """Mark the rows still unmarked; the ids returned are this run's to mail (set-based, one statement)."""
    mark = Requirement.reminded_due_at if kind == "due" else Requirement.reminded_overdue_at
    return set(db.session.scalars(sa.update(Requirement).where(Requirement.id.in_(ids), mark.is_(None))
                                  .values({mark: now}).returning(Requirement.id)))


def _mail(kind: str, row, today: date) -> dict:
    (_rid, due_on, user_id, email, name, locale, course_id, slug, title, field, operator, value, team) = row
    locale = locale if locale in ("en", "de") else "en"
    course = _course_title(course_id, title, locale)
    when = long_date(datetime.combine(due_on, time()))
    if kind == "due":
        subject = _l("%(course)s is due on %(date)s", course=subject_text(course), date=when)
    else:
        subject = _l("Overdue: %(course)s (due on %(date)s)", course=subject_text(course), date=when)
    link = absolute_url("progress.unsubscribe", token=unsubscribe_token(user_id, PREFERENCE))
    return mail_values(email, subject, f"literacy_{kind}", kind=f"literacy_{kind}", user_id=user_id, locale=locale,
                       headers=_unsubscribe_headers(link), unsubscribe=link, name=_first_name(name, email), course=course,
                       date=when, days=(due_on - today).days, why=_Why(field, operator, value or "", team),
                       link=absolute_url("courses.course", slug=slug), dashboard=absolute_url("core.dashboard"))


def _unsubscribe_headers(link: str) -> dict:
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def send_requirement_reminders(now: datetime | None = None) -> dict[str, int]:
    """The reminders due at ``now``: 7 days (or less, for a run that was missed) before the due date, and
    once overdue. Only requirements in force and not current; one mail per requirement and due date."""
    now = now or utcnow()
    sent = {"due": 0, "overdue": 0}
    for kind in ("overdue", "due"):
        while True:
            rows = db.session.execute(_candidates(kind, now)).all()
            claimed = _claim(kind, [r[0] for r in rows], now) if rows else set()
            queue_mails([_mail(kind, row, now.date()) for row in rows if row[0] in claimed])
            sent[kind] += len(claimed)
            db.session.commit()
            if len(rows) < BATCH:
                break
    return sent


# --- the managers' weekly digest -----------------------------------------------------------------------

def _overdue_by_manager(now: datetime, week: str):
    """(manager id, email, name, locale, team figures only, team id, team name, person name, course title) of
    every overdue requirement of people in the teams of every manager who gets the digest this week: one query."""
    manages, member, person = aliased(TeamMembership), aliased(TeamMembership), aliased(User)
    opted_out = sa.select(UserPreference.user_id).where(UserPreference.email_digest.is_(False))
    done = sa.select(ProgressMail.user_id).where(ProgressMail.kind == DIGEST_KIND, ProgressMail.ref == week)
    return db.session.execute(
        sa.select(User.id, User.email, User.name, User.locale,  # works-council mode implies team figures only
                  sa.or_(Organization.literacy_team_figures_only, Organization.works_council_mode), Team.id, Team.name,
                  person.name, person.email, Course.id, Course.title)
        .join(Organization, Organization.id == User.org_id)
        .join(manages, manages.user_id == User.id).join(Team, Team.id == manages.team_id)
        .join(member, member.team_id == Team.id).join(person, person.id == member.user_id)
        .join(Requirement, Requirement.user_id == person.id).join(Course, Course.id == Requirement.course_id)
        .where(manages.is_manager.is_(True), User.role.in_((Role.MANAGER, Role.ADMIN)), User.status == UserStatus.ACTIVE,
               Organization.status == OrgStatus.ACTIVE, User.id.not_in(opted_out), User.id.not_in(done),
               person.id != User.id, person.status == UserStatus.ACTIVE, Requirement.ended_at.is_(None),
               Requirement.due_on < now.date(), _not_current(now))
        .order_by(User.id, Team.name, Team.id, person.name, person.id, Course.title)).all()


def _digests(rows) -> dict[int, dict]:
    """The digest of each manager: per team, the overdue people and their courses (or only their number
    where the company chose team figures only)."""
    by_manager: dict[int, dict] = {}
    for user_id, email, name, locale, figures_only, team_id, team_name, person, person_email, course_id, title in rows:
        locale = locale if locale in ("en", "de") else "en"
        entry = by_manager.setdefault(user_id, {"email": email, "name": _first_name(name, email), "locale": locale,
                                                "figures_only": figures_only, "teams": {}})
        team = entry["teams"].setdefault(team_id, {"name": team_name, "people": {},
                                                   "link": absolute_url("admin.team_detail", team_id=team_id)})
        team["people"].setdefault(person or person_email, []).append(_course_title(course_id, title, locale))
    return by_manager


def send_overdue_digests(now: datetime | None = None) -> int:
    """Each manager with overdue people in their teams gets one digest per ISO week (none when nothing is
    overdue). One query for all managers together."""
    now = now or utcnow()
    week = iso_week(now.date())
    digests = _digests(_overdue_by_manager(now, week))
    mine = _claim_digests(list(digests), week, now)
    queue_mails([_digest_mail(user_id, entry, week) for user_id, entry in digests.items() if user_id in mine])
    db.session.commit()
    return len(mine)


def _digest_mail(user_id: int, entry: dict, week: str) -> dict:
    link = absolute_url("progress.unsubscribe", token=unsubscribe_token(user_id, "email_digest"))
    teams = [{"name": t["name"], "link": t["link"], "count": len(t["people"]),
              "people": [] if entry["figures_only"] else sorted(t["people"].items())} for t in entry["teams"].values()]
    return mail_values(entry["email"], _l("Overdue required training in your teams (%(week)s)", week=week), "literacy_digest",
                       kind="literacy_digest", user_id=user_id, locale=entry["locale"], headers=_unsubscribe_headers(link),
                       unsubscribe=link, name=entry["name"], teams=teams, week=week, figures_only=entry["figures_only"])


def _claim_digests(user_ids: list[int], week: str, now: datetime) -> set[int]:
    """The managers whose digest of ``week`` this run records first (the progress mails' once-only rows, all
    in one statement)."""
    if not user_ids:
        return set()
    stmt = (upsert(ProgressMail).values([{"user_id": u, "kind": DIGEST_KIND, "ref": week, "created_at": now} for u in user_ids])
            .on_conflict_do_nothing(index_elements=["user_id", "kind", "ref"]).returning(ProgressMail.user_id))
    return set(db.session.scalars(stmt))

