"""`leadthe seed-scale`: a large demo company for benchmarks (bulk inserts with executemany, in batches).

10,000 people by default in 500 teams (one manager each), enrolled in the platform courses and a set of
generated private courses, with about a million rows of lesson progress (lesson completions plus the
activity days that go with them) spread over the last 120 days. Deterministic (seeded random numbers).
"""
from __future__ import annotations

import random
import time
from datetime import timedelta

import click
import sqlalchemy as sa

from leadthe.assessments.rubric import CURRENT, RUBRICS, compute
from leadthe.auth.passwords import hash_password
from leadthe.extensions import db
from leadthe.trust.dpa import seed_acceptance
from leadthe.models import (ActivityDay, Course, CourseModule, Enrollment, Lesson, LessonCompletion, Organization, Team,
                            TeamMembership, User, utcnow)
from leadthe.models.assessment import MaturityResult

SCALE_PASSWORD = "scale-demo-passphrase"
BATCH = 5000


def _bulk(table, rows: list[dict]) -> None:
    for i in range(0, len(rows), BATCH):
        db.session.execute(sa.insert(table), rows[i:i + BATCH])


def seed_scale(users: int = 10_000, teams: int = 500, org_name: str | None = None, echo=click.echo) -> Organization:
    started = time.monotonic()
    rnd = random.Random(42)
    now = utcnow()
    org = Organization(name=org_name or f"Scale Corp {now:%Y%m%d%H%M%S}", leaderboard_enabled=True)
    db.session.add(org)
    db.session.flush()
    tag = f"o{org.id}"
    lesson_ids = _seed_courses(org.id, tag)
    echo(f"courses: {len(lesson_ids)} with {sum(len(v) for v in lesson_ids.values())} lessons")
    people = _seed_people(org.id, tag, users, teams, rnd, now)
    ids = list(db.session.scalars(sa.select(User.id).where(User.org_id == org.id).order_by(User.id)))
    echo(f"people: {len(ids)}  ({time.monotonic() - started:.1f}s)")
    team_count, member_count = _seed_teams(org.id, ids, teams, now)
    echo(f"teams: {team_count}, memberships: {member_count}")
    total = _seed_progress(ids, lesson_ids, rnd, now,
                           lambda total: echo(f"  progress rows: {total:,}  ({time.monotonic() - started:.1f}s)"))
    _seed_maturity(org.id, ids, rnd, now)
    seed_acceptance(org.id)  # the company's admin accepted the current data processing agreement
    db.session.commit()
    echo(f"maturity results: about {int(len(ids) * 0.7):,}  ({time.monotonic() - started:.1f}s)")
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    echo(f"done: {total:,} progress rows in {time.monotonic() - started:.1f}s")
    echo(f"admin log-in: {people[0]['email']} / {SCALE_PASSWORD}")
    return org


def _seed_courses(org_id: int, tag: str) -> dict[int, list[int]]:
    """Private courses so every person can have ~100 completed lessons: their lesson ids in order, by course id."""
    course_rows = []
    for c in range(12):
        course = Course(org_id=org_id, slug=f"{tag}-scale-course-{c}", title=f"Scale course {c + 1}", published=True,
                        lesson_count=12, minutes=60, position=100 + c)
        db.session.add(course)
        db.session.flush()
        module = CourseModule(course_id=course.id, slug="m1", title="Module", position=0)
        db.session.add(module)
        db.session.flush()
        lessons = [{"course_id": course.id, "module_id": module.id, "slug": f"l{i}", "title": f"Lesson {i + 1}", "position": i,
                    "seq": i, "body_md": "", "body_html": "", "kind": "reading", "minutes": 5} for i in range(12)]
        db.session.execute(sa.insert(Lesson), lessons)
        course_rows.append(course.id)
    return {cid: list(db.session.scalars(sa.select(Lesson.id).where(Lesson.course_id == cid).order_by(Lesson.seq)))
            for cid in course_rows}


def _seed_people(org_id: int, tag: str, users: int, teams: int, rnd: random.Random, now) -> list[dict]:
    """The people (the first an admin, one manager per team), as inserted."""
    password_hash = hash_password(SCALE_PASSWORD)
    people = []
    for i in range(users):
        role = "admin" if i == 0 else ("manager" if i % (users // teams or 1) == 1 else "learner")
        last = now - timedelta(days=rnd.randint(0, 40), hours=rnd.randint(0, 23)) if rnd.random() < 0.9 else None
        people.append({"org_id": org_id, "email": f"user{i}@{tag}.scale.example", "name": f"Person {i:05d} {rnd.choice('ABCDEFGH')}",
                       "job_title": "", "department": f"Dept {i % 20}", "password_hash": password_hash, "role": role,
                       "status": "active", "locale": "en", "email_verified_at": now, "password_changed_at": now,
                       "last_seen_at": last, "created_at": now, "totp_last_step": 0})
    _bulk(User.__table__, people)
    return people


def _seed_teams(org_id: int, ids: list[int], teams: int, now) -> tuple[int, int]:
    """The teams, with everyone but the admin in one (the first of each its manager): how many teams and memberships."""
    team_rows = [{"org_id": org_id, "name": f"Team {t:03d}", "created_at": now} for t in range(teams)]
    _bulk(Team.__table__, team_rows)
    team_ids = list(db.session.scalars(sa.select(Team.id).where(Team.org_id == org_id).order_by(Team.id)))
    per_team = max(len(ids) // len(team_ids), 1)
    members = []
    for n, uid in enumerate(ids[1:]):
        t = team_ids[min(n // per_team, len(team_ids) - 1)]
        members.append({"org_id": org_id, "team_id": t, "user_id": uid, "is_manager": n % per_team == 0, "created_at": now})
    _bulk(TeamMembership.__table__, members)
    return len(team_ids), len(members)


def _seed_progress(ids: list[int], lesson_ids: dict[int, list[int]], rnd: random.Random, now, progress) -> int:
    """Enrolments, lesson completions and activity days for everyone, committed about every 100,000 rows
    (``progress`` is told the running total); how many completions and days."""
    enrol, completions, days = [], [], []
    total = 0
    for uid in ids:
        _person_progress(uid, lesson_ids, rnd, now, enrol, completions, days)
        if len(completions) >= 100_000:
            total += _flush_progress(enrol, completions, days)
            progress(total)
            enrol, completions, days = [], [], []
    return total + _flush_progress(enrol, completions, days)


def _person_progress(uid: int, lesson_ids: dict[int, list[int]], rnd: random.Random, now,
                     enrol: list, completions: list, days: list) -> None:
    # how far along: most people moderately, some a lot, a few nothing
    course_rows = list(lesson_ids)
    share = min(max(rnd.gauss(0.6, 0.25), 0.0), 1.0)
    courses = rnd.sample(course_rows, k=max(1, round(share * len(course_rows))))
    active_days = sorted(rnd.sample(range(120), k=rnd.randint(5, 40)))
    per_day: dict[int, int] = {}
    for cid in courses:
        lessons = lesson_ids[cid]
        done = lessons if rnd.random() < share else lessons[:rnd.randint(0, len(lessons))]
        enrol.append({"user_id": uid, "course_id": cid, "created_at": now - timedelta(days=120),
                      "completed_at": now - timedelta(days=rnd.randint(0, 100)) if len(done) == len(lessons) else None,
                      "last_seen_at": now})
        for lid in done:
            back = rnd.choice(active_days)
            per_day[back] = per_day.get(back, 0) + 1
            completions.append({"user_id": uid, "lesson_id": lid, "course_id": cid, "completed_at": now - timedelta(days=back)})
    today = now.date()
    for back in active_days:
        days.append({"user_id": uid, "day": today - timedelta(days=back), "seconds": rnd.randint(60, 3600),
                     "lessons_completed": per_day.get(back, 0), "last_ping_at": now - timedelta(days=back)})


def _flush_progress(enrol: list, completions: list, days: list) -> int:
    _bulk(Enrollment.__table__, enrol)
    _bulk(LessonCompletion.__table__, completions)
    _bulk(ActivityDay.__table__, days)
    db.session.commit()
    return len(completions) + len(days)


def _seed_maturity(org_id: int, user_ids: list[int], rnd: random.Random, now) -> None:
    """A self-assessment for about 70% of the people, spread over the levels, for the maturity views."""
    rubric = RUBRICS[CURRENT]
    rows = []
    for user_id in user_ids:
        if rnd.random() > 0.7:
            continue
        skill = rnd.random()
        answers = {q["slug"]: min(len(q["options"]) - 1, max(0, int(skill * len(q["options"]) + rnd.choice((-1, 0, 0, 1)))))
                   for q in rubric["questions"]}
        outcome = compute(CURRENT, answers)
        rows.append({"org_id": org_id, "user_id": user_id, "rubric_version": CURRENT, "answers": answers,
                     "scores": outcome.scores, "evidence": {}, "self_level": outcome.self_level, "level": outcome.level,
                     "is_latest": True, "created_at": now})
    _bulk(MaturityResult.__table__, rows)
