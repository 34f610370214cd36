"""Loads the cluster run's data (run by run.py in a subprocess with the cluster's environment):
the seed-scale company (``leadthe.scale.seed_scale``, as ``leadthe seed-scale --users N``) and one more course of
that company, "Cluster run", with ``--lessons`` reading lessons that nobody has started, so that every lesson a
learner client completes during the run is a new row (a lost completion cannot hide behind an old one).
Prints one JSON line: the company, the people's e-mail addresses in id order, the course's slug and lessons.
"""
from __future__ import annotations

import argparse
import json

import sqlalchemy as sa


def add_course(org, lessons: int):
    """The run's course of ``org``: "Cluster run" (slug cluster-run), ``lessons`` reading lessons c0, c1, …"""
    from leadthe.extensions import db
    from leadthe.models import Course, CourseModule, Lesson

    course = Course(org_id=org.id, slug="cluster-run", title="Cluster run", published=True,
                    lesson_count=lessons, minutes=lessons * 5, position=300)
    db.session.add(course)
    db.session.flush()
    module = CourseModule(course_id=course.id, slug="m1", title="Module", position=0)
    db.session.add(module)
    db.session.flush()
    db.session.execute(sa.insert(Lesson), [
        {"course_id": course.id, "module_id": module.id, "slug": f"c{i}", "title": f"Cluster lesson {i + 1}",
         "position": i, "seq": i, "body_md": "A short reading.", "body_html": "<p>A short reading.</p>",
         "kind": "reading", "minutes": 5} for i in range(lessons)])
    return course


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--lessons", type=int, default=60)
    args = parser.parse_args()

    from app import app
    from leadthe.extensions import db
    from leadthe.models import User
    from leadthe.scale import SCALE_PASSWORD, seed_scale

    with app.app_context():
        org = seed_scale(users=args.users, teams=min(500, max(args.users // 2, 1)), org_name="Cluster Corp",
                         echo=lambda line: print(f"  seed-scale: {line}", flush=True))
        course = add_course(org, args.lessons)
        db.session.commit()
        emails = list(db.session.scalars(sa.select(User.email).where(User.org_id == org.id).order_by(User.id)))
        print("SETUP " + json.dumps({"org_id": org.id, "emails": emails, "password": SCALE_PASSWORD,
                                     "course": course.slug, "lessons": [f"c{i}" for i in range(args.lessons)]}))


if __name__ == "__main__":
    main()
