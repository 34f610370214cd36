"""Time the team and company AI maturity computations on a large company (SQLite by default).

    .venv/bin/python bench/maturity_bench.py [--users 10000] [--teams 500] [--runs 20] [--db /tmp/maturity.db]

Creates one company with N users in T teams (each person in one team, about 85% with a maturity result,
a quarter of them with an older result too), then runs ``company_distribution`` + ``company_level`` and
``team_distributions`` (all teams) ``--runs`` times and prints median and p95. Target: p95 < 300 ms.
Until `leadthe seed-scale` exists (issue 8) this builds its own data with bulk inserts.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    path = args.db or os.path.join(tempfile.mkdtemp(), "maturity.db")
    os.environ.setdefault("LEADTHE_SECRET_KEY", "bench-" + "x" * 40)
    os.environ["LEADTHE_INSTANCE_PATH"] = tempfile.mkdtemp()
    os.environ["LEADTHE_INLINE_WORKER"] = "0"
    from cryptography.fernet import Fernet

    os.environ.setdefault("LEADTHE_DATA_KEY", Fernet.generate_key().decode())
    from flask_migrate import upgrade

    from leadthe import create_app
    from leadthe.assessments import maturity
    from leadthe.extensions import db
    from leadthe.models import MaturityResult, Organization, Team, TeamMembership, User, utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "TESTING": True})
    rng = random.Random(7)
    with app.app_context():
        upgrade(revision="heads")
        t0 = time.perf_counter()
        org = Organization(name="Scale Corp")
        db.session.add(org)
        db.session.flush()
        now = utcnow()
        db.session.execute(sa_insert(Team), [{"org_id": org.id, "name": f"Team {i:04d}", "created_at": now} for i in range(args.teams)])
        team_ids = [t for (t,) in db.session.execute(select(Team.id).where(Team.org_id == org.id))]
        db.session.execute(sa_insert(User), [
            {"org_id": org.id, "email": f"u{i}@scale.example", "name": f"Person {i}", "password_hash": "x", "role": "learner",
             "status": "active", "created_at": now} for i in range(args.users)])
        user_ids = [u for (u,) in db.session.execute(select(User.id).where(User.org_id == org.id))]
        db.session.execute(sa_insert(TeamMembership), [
            {"org_id": org.id, "team_id": team_ids[i % len(team_ids)], "user_id": uid, "is_manager": i < len(team_ids),
             "created_at": now} for i, uid in enumerate(user_ids)])
        results = []
        for uid in user_ids:
            if rng.random() < 0.85:
                if rng.random() < 0.25:
                    results.append(_row(org.id, uid, rng, False, now))
                results.append(_row(org.id, uid, rng, True, now))
        db.session.execute(sa_insert(MaturityResult), results)
        db.session.commit()
        print(f"built {args.users} users, {args.teams} teams, {len(results)} results in {time.perf_counter() - t0:.1f} s ({path})")

        def timed(fn):
            times = []
            for _ in range(args.runs):
                db.session.remove()
                start = time.perf_counter()
                fn()
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
            return statistics.median(times), p95

        company = timed(lambda: maturity.company_level(org.id))
        teams = timed(lambda: maturity.team_distributions(org.id))
        both = timed(lambda: (maturity.company_level(org.id), maturity.team_distributions(org.id)))
        level = maturity.company_level(org.id)
        print(f"company level (distribution + level): median {company[0]:.1f} ms, p95 {company[1]:.1f} ms "
              f"(workforce level {level.workforce}, {level.dist.assessed} assessed of {level.dist.people})")
        print(f"team distributions ({args.teams} teams): median {teams[0]:.1f} ms, p95 {teams[1]:.1f} ms")
        print(f"admin page computations together: median {both[0]:.1f} ms, p95 {both[1]:.1f} ms")
        ok = both[1] < 300
        print("within target (p95 < 300 ms)" if ok else "OVER TARGET")
        return 0 if ok else 1


def _row(org_id, uid, rng, latest, now):
    level = rng.choices([1, 2, 3, 4, 5], weights=[15, 30, 30, 18, 7])[0]
    scores = {d: max(1, min(5, level + rng.choice((-1, 0, 0, 1)))) for d in ("choosing", "prompting", "judging", "responsible", "practice")}
    return {"org_id": org_id, "user_id": uid, "rubric_version": "2025-1", "answers": {}, "scores": scores, "evidence": {},
            "self_level": level, "level": level, "is_latest": latest, "created_at": now}


def sa_insert(model):
    import sqlalchemy as sa

    return sa.insert(model)


def select(*cols):
    import sqlalchemy as sa

    return sa.select(*cols)


if __name__ == "__main__":
    sys.exit(main())
