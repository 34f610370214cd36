"""Admin dashboard, a team view and the leaderboard with the seed-scale company, on SQLite and PostgreSQL.

    .venv/bin/python bench/admin_bench.py [--users 10000] [--requests 40] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Seeds once into a throwaway database per backend (a temporary SQLite file; a database `leadthe_bench`
created and dropped on the PostgreSQL server), signs in as the company admin with Flask's test client
and reports p50/p95 per page. Without --pg only SQLite runs.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LEADTHE_SECRET_KEY", "bench-secret-key-" + "x" * 32)
os.environ.setdefault("LEADTHE_INSTANCE_PATH", tempfile.mkdtemp(prefix="leadthe-bench-"))
os.environ["LEADTHE_INLINE_WORKER"] = "0"

import sqlalchemy as sa  # noqa: E402


def pages(team_id: int) -> dict[str, str]:
    return {"/admin": "/admin", "/admin/teams/<id>": f"/admin/teams/{team_id}",
            "/leaderboard (org, all)": "/leaderboard?scope=org&period=all",
            "/leaderboard (org, week)": "/leaderboard?scope=org&period=week",
            "/admin/users": "/admin/users", "/admin/teams": "/admin/teams", "/admin/maturity": "/admin/maturity"}


def run(url: str, users: int, n: int) -> dict:
    from flask_migrate import upgrade

    from leadthe import create_app
    from leadthe.extensions import db
    from leadthe.models import Team, User
    from leadthe.scale import SCALE_PASSWORD, seed_scale

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "TESTING": False, "SMTP_URL": None})
    with app.app_context():
        upgrade()
        t0 = time.monotonic()
        org = seed_scale(users=users, echo=lambda *_: None)
        seeded = time.monotonic() - t0
        admin = db.session.scalar(sa.select(User.email).where(User.org_id == org.id, User.role == "admin"))
        team_id = db.session.scalar(sa.select(Team.id).where(Team.org_id == org.id).order_by(Team.id).offset(7).limit(1))
        db.session.remove()
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    answer = client.post("/login", data={"csrf_token": token, "email": admin, "password": SCALE_PASSWORD})
    assert answer.status_code == 303, answer.status_code
    results = {"seed_seconds": seeded}
    for label, path in pages(team_id).items():
        client.get(path)  # warm-up
        times = []
        for _ in range(n):
            t = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        times.sort()
        results[label] = (statistics.median(times), times[max(int(round(0.95 * len(times))) - 1, 0)])
    with app.app_context():
        db.engine.dispose()
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--pg", default=os.environ.get("LEADTHE_BENCH_PG", ""))
    args = parser.parse_args()
    backends = []
    with tempfile.TemporaryDirectory() as tmp:
        backends.append(("sqlite", f"sqlite:///{tmp}/bench.db"))
        if args.pg:
            base = sa.engine.make_url(args.pg)
            admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql("DROP DATABASE IF EXISTS leadthe_bench WITH (FORCE)")
                conn.exec_driver_sql("CREATE DATABASE leadthe_bench")
            backends.append(("postgresql", base.set(database="leadthe_bench").render_as_string(hide_password=False)))
        for name, url in backends:
            results = run(url, args.users, args.requests)
            print(f"\n{name}: {args.users} people, seeded in {results.pop('seed_seconds'):.1f}s; {args.requests} requests each")
            print(f"  {'page':<28} {'p50 ms':>8} {'p95 ms':>8}")
            for label, (p50, p95) in results.items():
                print(f"  {label:<28} {p50:8.1f} {p95:8.1f}")
        if args.pg:
            with admin.connect() as conn:
                conn.exec_driver_sql("DROP DATABASE IF EXISTS leadthe_bench WITH (FORCE)")
            admin.dispose()


if __name__ == "__main__":
    main()
