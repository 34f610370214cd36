"""Progress e-mails through the outbox, each at most once per person and event.

The idempotency key is a ``progress_mail`` row (person, kind, event reference) inserted with ON CONFLICT
DO NOTHING in the same transaction as the mail: whoever inserts the row queues the mail, and a repeat
(double submit, a re-run job, a worker crash before commit) finds the row and does nothing.

Event mails (enrolled, halfway, completed) are queued where the event happens; the inactivity reminder
runs daily and the managers' digest weekly, as worker jobs (``progress.daily``).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from leadthe.database import upsert
from leadthe.extensions import db
from leadthe.mail import queue_mail
from leadthe.models import (ActivityDay, Course, Enrollment, Lesson, LessonCompletion, Organization, ProgressMail, TeamMembership,
                            Team, User, UserPreference, utcnow)
from leadthe.models.enums import Role, UserStatus
from leadthe.net import absolute_url
from leadthe.signals import course_completed, course_enrolled, lesson_completed
from leadthe.tenancy import unscoped
from leadthe.trust.works_council import too_small

INACTIVE_DAYS = 14
# kind of mail -> the preference that switches it off
PREFERENCE = {"enrolled": "email_progress", "halfway": "email_progress", "completed": "email_progress",
              "inactive": "email_progress", "digest": "email_digest"}
# the preferences a signed unsubscribe link may switch off, and what the page calls them
TOPICS = {"email_progress": _l("progress e-mails"), "email_digest": _l("the weekly team digest"),
          "email_required": _l("reminders of training your company requires")}


def claim(user_id: int, kind: str, ref: str, now: datetime | None = None) -> bool:
    """True for the one caller that records this event first."""
    stmt = (upsert(ProgressMail).values(user_id=user_id, kind=kind, ref=str(ref)[:40], created_at=now or utcnow())
            .on_conflict_do_nothing(index_elements=["user_id", "kind", "ref"]).returning(ProgressMail.id))
    return db.session.execute(stmt).scalar() is not None


def claim_many(kind: str, keys: list[tuple[int, object]], now: datetime | None = None, chunk: int = 500) -> set[tuple[int, str]]:
    """``claim`` for many (person, event reference) pairs of one kind: one statement per ``chunk`` pairs, not one
    per person. Returns the pairs (reference as stored, a string) this caller recorded first."""
    now, won = now or utcnow(), set()
    for start in range(0, len(keys), chunk):
        values = [{"user_id": user_id, "kind": kind, "ref": str(ref)[:40], "created_at": now}
                  for user_id, ref in keys[start:start + chunk]]
        stmt = (upsert(ProgressMail).values(values).on_conflict_do_nothing(index_elements=["user_id", "kind", "ref"])
                .returning(ProgressMail.user_id, ProgressMail.ref))
        won.update((user_id, ref) for user_id, ref in db.session.execute(stmt))
    return won


def wants(user_id: int, kind: str) -> bool:
    pref = db.session.get(UserPreference, user_id)
    return getattr(pref, PREFERENCE[kind]) if pref is not None else True


# --- unsubscribe ---------------------------------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="leadthe.unsubscribe")


def unsubscribe_token(user_id: int, preference: str) -> str:
    return _serializer().dumps({"u": user_id, "p": preference})


def read_unsubscribe_token(token: str) -> tuple[User, str] | None:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    user = db.session.scalar(unscoped(sa.select(User).where(User.id == data.get("u")),
                                      reason="the signed link names the person, whoever is signed in here"))
    if user is None or data.get("p") not in TOPICS:
        return None
    return user, data["p"]


def unsubscribe(user: User, preference: str) -> None:
    pref = db.session.get(UserPreference, user.id)
    if pref is None:
        pref = UserPreference(user_id=user.id)
        db.session.add(pref)
    setattr(pref, preference, False)


def _send(user_id: int, email: str, kind: str, subject, template: str, *, locale: str, **context) -> None:
    """One progress mail, in ``locale`` (the recipient's language, selected with the rows that lead here)."""
    link = absolute_url("progress.unsubscribe", token=unsubscribe_token(user_id, PREFERENCE[kind]))
    queue_mail(email, subject, template, kind=f"progress_{kind}", user_id=user_id, locale=locale, unsubscribe=link,
               headers={"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}, **context)


# --- events ------------------------------------------------------------------------------------------

def on_enrolled(user: User, course) -> None:
    if user.status == UserStatus.ACTIVE and wants(user.id, "enrolled") and claim(user.id, "enrolled", course.id):
        _send(user.id, user.email, "enrolled", _l("You started “%(course)s”", course=course.title), "progress_enrolled", name=user.first_name,
              locale=user.locale, course=course.title, link=absolute_url("courses.course", slug=course.slug))


def on_lesson_completed(user: User, course, now: datetime | None = None) -> None:
    """After a newly recorded lesson: the halfway mail, or the completed mail once the course counts as
    completed (lessons done, and the quiz passed where the course has one). Each once per course."""
    total = course.lesson_count or 0
    if total < 1 or user.status != UserStatus.ACTIVE or not wants(user.id, "completed"):
        return
    done, completed_at = db.session.execute(
        sa.select(
            sa.select(sa.func.count()).select_from(LessonCompletion).join(Lesson, Lesson.id == LessonCompletion.lesson_id)
            .where(LessonCompletion.user_id == user.id, LessonCompletion.course_id == course.id, Lesson.archived.is_(False))
            .scalar_subquery(),
            sa.select(Enrollment.completed_at).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
            .scalar_subquery())).one()
    link = absolute_url("courses.course", slug=course.slug)
    if completed_at is not None:
        _completed(user.id, user.email, user.first_name, course, user.locale)
    elif total >= 2 and done * 2 >= total and done < total and claim(user.id, "halfway", course.id):
        _send(user.id, user.email, "halfway", _l("Halfway through “%(course)s”", course=course.title), "progress_halfway",
              locale=user.locale, name=user.first_name, course=course.title, done=done, total=total, link=link)


def on_course_completed(user: User, course, now: datetime | None = None) -> None:
    """The completed mail as soon as the course counts as completed, also when the quiz passed last."""
    if user.status == UserStatus.ACTIVE and wants(user.id, "completed"):
        _completed(user.id, user.email, user.first_name, course, user.locale)


def connect_signals() -> None:
    """At app start-up: the event mails follow what happens in courses and assessments."""
    course_enrolled.connect(on_enrolled)
    lesson_completed.connect(on_lesson_completed)
    course_completed.connect(on_course_completed)


def _completed(user_id: int, email: str, first_name: str, course, locale: str) -> bool:
    if claim(user_id, "completed", course.id):
        claim(user_id, "halfway", course.id)  # no halfway mail after the course is done
        _completed_mail(user_id, email, first_name, course, locale)
        return True
    return False


def _completed_mail(user_id: int, email: str, first_name: str, course, locale: str) -> None:
    _send(user_id, email, "completed", _l("You completed “%(course)s”", course=course.title), "progress_completed",
          locale=locale, name=first_name, course=course.title, link=absolute_url("courses.course", slug=course.slug))


def send_missed_completions(now: datetime | None = None) -> int:
    """Courses completed elsewhere (e.g. by passing the final quiz after the lessons) in the last two
    days whose completed mail was not queued yet."""
    now = now or utcnow()
    opted_out = sa.select(UserPreference.user_id).where(UserPreference.email_progress.is_(False))
    sent_already = sa.select(ProgressMail.id).where(ProgressMail.user_id == Enrollment.user_id, ProgressMail.kind == "completed",
                                                   ProgressMail.ref == sa.cast(Enrollment.course_id, sa.String))
    rows = db.session.execute(
        sa.select(User.id, User.email, User.name, User.locale, Course).join(Enrollment, Enrollment.user_id == User.id)
        .join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.completed_at >= now - timedelta(days=2), User.status == UserStatus.ACTIVE, User.id.not_in(opted_out),
               ~sa.exists(sent_already))).all()
    keys = [(uid, str(course.id)) for uid, _, _, _, course in rows]
    won = claim_many("completed", keys, now)
    claim_many("halfway", [key for key in keys if key in won], now)  # no halfway mail after the course is done
    sent = 0
    for uid, email, name, locale, course in rows:
        if (uid, str(course.id)) in won:
            _completed_mail(uid, email, name.split()[0] if name.strip() else email.split("@")[0], course, locale)
            sent += 1
    db.session.commit()
    return sent


# --- periodic: inactivity reminders and the managers' digest -----------------------------------------

def send_inactivity_reminders(today: date | None = None, batch: int = 500) -> int:
    """People with an unfinished course whose last learning day was INACTIVE_DAYS ago or more (within
    the last 60 days, so nobody is nagged forever): one reminder per quiet spell (the key is the last
    active day, so a new spell after learning again gets a new one)."""
    today = today or utcnow().date()
    last = (sa.select(ActivityDay.user_id, sa.func.max(ActivityDay.day).label("last_day"))
            .group_by(ActivityDay.user_id).subquery())
    unfinished = sa.select(Enrollment.user_id).where(Enrollment.completed_at.is_(None))
    opted_out = sa.select(UserPreference.user_id).where(UserPreference.email_progress.is_(False))
    rows = db.session.execute(
        sa.select(User.id, User.email, User.name, User.locale, last.c.last_day).join(last, last.c.user_id == User.id)
        .where(User.status == UserStatus.ACTIVE, User.org_id.is_not(None), last.c.last_day <= today - timedelta(days=INACTIVE_DAYS),
               last.c.last_day > today - timedelta(days=60), User.id.in_(unfinished), User.id.not_in(opted_out),
               User.id.not_in(sa.select(ProgressMail.user_id).where(ProgressMail.kind == "inactive",
                                                                   ProgressMail.ref == sa.cast(last.c.last_day, sa.String))))).all()
    sent = 0
    for start in range(0, len(rows), batch):  # each batch's claims and mails commit together
        part = rows[start:start + batch]
        won = claim_many("inactive", [(user_id, last_day.isoformat()) for user_id, _, _, _, last_day in part])
        for user_id, email, name, locale, last_day in part:
            if (user_id, last_day.isoformat()) in won:
                first = name.split()[0] if name.strip() else email.split("@")[0]
                _send(user_id, email, "inactive", _l("Pick up where you left off"), "progress_inactive", locale=locale, name=first,
                      days=(today - last_day).days, link=absolute_url("core.dashboard"))
                sent += 1
        db.session.commit()
    return sent


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def send_manager_digests(today: date | None = None) -> int:
    """Each manager gets one digest per ISO week: per team they manage, members, active people, lessons
    and minutes in the last 7 days. Two aggregate statements for all managers together."""
    today = today or utcnow().date()
    week = iso_week(today)
    since = today - timedelta(days=7)
    tm = TeamMembership
    opted_out = sa.select(UserPreference.user_id).where(UserPreference.email_digest.is_(False))
    done = sa.select(ProgressMail.user_id).where(ProgressMail.kind == "digest", ProgressMail.ref == week)
    managers = db.session.execute(
        sa.select(User.id, User.email, User.name, Team.id, Team.name, User.locale, Organization.works_council_mode)
        .join(tm, tm.user_id == User.id).join(Team, Team.id == tm.team_id).join(Organization, Organization.id == User.org_id)
        .where(tm.is_manager.is_(True), User.role.in_((Role.MANAGER, Role.ADMIN)), User.status == UserStatus.ACTIVE, User.id.not_in(opted_out),
               User.id.not_in(done))
        .order_by(User.id, Team.name)).all()
    if not managers:
        return 0
    team_ids = list({r[3] for r in managers})
    figures = {}
    for chunk in range(0, len(team_ids), 900):
        part = team_ids[chunk:chunk + 900]
        members = dict(db.session.execute(
            sa.select(tm.team_id, sa.func.count()).join(User, User.id == tm.user_id)
            .where(tm.team_id.in_(part), User.status == UserStatus.ACTIVE).group_by(tm.team_id)).all())
        for team_id, active, lessons, secs in db.session.execute(
                sa.select(tm.team_id, sa.func.count(sa.distinct(ActivityDay.user_id)), sa.func.sum(ActivityDay.lessons_completed),
                          sa.func.sum(ActivityDay.seconds)).join(ActivityDay, ActivityDay.user_id == tm.user_id)
                .where(tm.team_id.in_(part), ActivityDay.day > since).group_by(tm.team_id)):
            figures[team_id] = (active, int(lessons or 0), int(secs or 0) // 60)
        for team_id, n in members.items():
            figures.setdefault(team_id, (0, 0, 0))
            figures[team_id] = (n,) + figures[team_id]
    by_manager: dict[int, dict] = {}
    for user_id, email, name, team_id, team_name, locale, council in managers:
        entry = by_manager.setdefault(user_id, {"email": email, "name": name, "locale": locale, "teams": []})
        members, active, lessons, minutes = (figures.get(team_id, (0, 0, 0, 0)) + (0, 0, 0, 0))[:4]
        entry["teams"].append({"name": team_name, "members": members, "active": active, "lessons": lessons, "minutes": minutes,
                               "link": absolute_url("admin.team_detail", team_id=team_id),
                               "hidden": bool(council) and too_small(members)})  # works-council mode: no small team's figures
    sent = 0
    won = claim_many("digest", [(user_id, week) for user_id in by_manager])
    for user_id, entry in by_manager.items():
        if (user_id, week) in won:
            first = entry["name"].split()[0] if entry["name"].strip() else entry["email"].split("@")[0]
            _send(user_id, entry["email"], "digest", _l("Your teams this week (%(week)s)", week=week), "manager_digest",
                  locale=entry["locale"], name=first, teams=entry["teams"], week=week)
            sent += 1
    db.session.commit()
    return sent
