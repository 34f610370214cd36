"""Requirement rules for 10,000 people: ``apply_rules`` for the whole company with five rules (everyone,
a department, a job title contains, a team, a role), first run (all rows new), a second run (nothing to do),
after 2,000 certificates, and for one person (what a join or a move costs); then the /admin/requirements page.

    .venv/bin/python bench/rules_bench.py [--users 10000] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Runs against a throwaway database per backend (the PostgreSQL one is emptied first). Goal: a few seconds for
the whole company, milliseconds for one person.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LEADTHE_SECRET_KEY", "bench-secret-key-" + "x" * 32)
os.environ.setdefault("LEADTHE_INSTANCE_PATH", tempfile.mkdtemp(prefix="leadthe-bench-"))
os.environ["LEADTHE_INLINE_WORKER"] = "0"
os.environ.setdefault("LEADTHE_ENV", "development")

import sqlalchemy as sa  # noqa: E402


def _timed(app, fn) -> float:
    from leadthe.extensions import db

    with app.app_context():
        t = time.perf_counter()
        fn()
        db.session.commit()
        return time.perf_counter() - t


def run(url: str, users: int) -> dict[str, float]:
    from flask_migrate import upgrade

    from leadthe import create_app
    from leadthe.extensions import db
    from leadthe.literacy.rules import apply_rules
    from leadthe.models import Certificate, Course, Requirement, RequirementRule, Team, User
    from leadthe.scale import SCALE_PASSWORD, seed_scale

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "SMTP_URL": None})
    with app.app_context():
        upgrade()
        org = seed_scale(users=users, teams=max(users // 20, 1), echo=lambda *_: None)
        courses = list(db.session.scalars(sa.select(Course.id).where(Course.org_id == org.id).order_by(Course.id)))
        team = db.session.scalar(sa.select(Team.id).where(Team.org_id == org.id).order_by(Team.id))
        for course, fields in zip(courses, [dict(field="everyone", refresh_months=12), dict(field="department", value="Dept 3"),
                                            dict(field="job_title", operator="contains", value="a"),
                                            dict(field="team", team_id=team), dict(field="role", value="manager")]):
            db.session.add(RequirementRule(org_id=org.id, course_id=course, **fields))
        ids = list(db.session.scalars(sa.select(User.id).where(User.org_id == org.id).order_by(User.id)))
        admin = db.session.scalar(sa.select(User.email).where(User.org_id == org.id, User.role == "admin"))
        db.session.commit()
        org_id = org.id
    figures = {"first run (all new)": _timed(app, lambda: apply_rules(org_id)),
               "second run (no change)": _timed(app, lambda: apply_rules(org_id))}
    with app.app_context():
        db.session.execute(sa.insert(Certificate), [dict(org_id=org_id, user_id=uid, course_id=courses[0], code=f"B{uid:019d}")
                                                    for uid in ids[:2000]])
        db.session.commit()
    figures["after 2,000 certificates"] = _timed(app, lambda: apply_rules(org_id))
    figures["one person"] = _timed(app, lambda: apply_rules(org_id, [ids[len(ids) // 2]]))
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"csrf_token": token, "email": admin, "password": SCALE_PASSWORD})
    client.get("/admin/requirements")
    times = []
    for _ in range(10):
        t = time.perf_counter()
        assert client.get("/admin/requirements").status_code == 200
        times.append(time.perf_counter() - t)
    figures["/admin/requirements (max of 10)"] = max(times)
    with app.app_context():
        figures["requirement rows"] = db.session.scalar(sa.select(sa.func.count()).select_from(Requirement).where(
            Requirement.org_id == org_id))
        db.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--pg")
    args = parser.parse_args()
    targets = [("SQLite", f"sqlite:///{tempfile.mkdtemp(prefix='leadthe-rules-')}/bench.db")]
    if args.pg:
        engine = sa.create_engine(args.pg)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        targets.append(("PostgreSQL", args.pg))
    for name, url in targets:
        for label, value in run(url, args.users).items():
            shown = f"{value:,}" if label == "requirement rows" else f"{value * 1000:.0f} ms"
            print(f"{name:10} {label:32} {shown}")


if __name__ == "__main__":
    main()
