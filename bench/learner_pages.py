"""The cluster run's learner pages, one request at a time, with the seed-scale company: where their time goes.

    .venv/bin/python bench/learner_pages.py [--users 10000] [--requests 30] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--profile PAGE]

Seeds the seed-scale company (and the cluster run's extra course) into a throwaway database (a temporary SQLite
file, or a database `leadthe_learner_bench` created and dropped on the PostgreSQL server), signs in as one of its
learners with Flask's test client, and reports per page p50/p95 in ms, SQL statements and the time spent in the
database. ``--profile dashboard`` prints cProfile's top functions for that page instead.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
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
os.environ.setdefault("LEADTHE_ENV", "development")  # keys generated under the instance folder; pages as served

import sqlalchemy as sa  # noqa: E402

PAGES = {"dashboard": "/dashboard", "courses": "/courses", "search": "/search?q=lesson",
         "lesson": "/courses/{course}/lessons/c0", "lesson (htmx)": "/courses/{course}/lessons/c1"}


def setup(url: str, users: int):
    from flask_migrate import upgrade

    from bench.cluster.setup_data import add_course

    from leadthe import create_app
    from leadthe.extensions import db
    from leadthe.models import User
    from leadthe.scale import SCALE_PASSWORD, seed_scale

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "TESTING": False, "SMTP_URL": None})
    with app.app_context():
        upgrade()
        org = seed_scale(users=users, teams=min(500, max(users // 2, 1)), echo=lambda *_: None)
        add_course(org, 60)
        db.session.commit()
        learner = db.session.scalar(sa.select(User.email).where(User.org_id == org.id, User.role == "learner")
                                    .order_by(User.id).offset(users // 3).limit(1))
        db.session.remove()
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    answer = client.post("/login", data={"csrf_token": token, "email": learner, "password": SCALE_PASSWORD})
    assert answer.status_code == 303, answer.status_code
    html = client.get("/courses/cluster-run").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    assert client.post("/courses/cluster-run/enroll", data={"csrf_token": token}).status_code == 303
    return app, client


def measure(app, client, n: int) -> dict:
    from leadthe.extensions import db

    sql = {"count": 0, "seconds": 0.0}

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["t0"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        sql["count"] += 1
        sql["seconds"] += time.perf_counter() - conn.info.pop("t0", time.perf_counter())

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    results = {}
    for label, path in PAGES.items():
        path = path.format(course="cluster-run")
        headers = {"HX-Request": "true"} if "htmx" in label else {}
        client.get(path, headers=headers)  # warm-up
        times, statements, in_db = [], [], []
        for _ in range(n):
            sql.update(count=0, seconds=0.0)
            t = time.perf_counter()
            response = client.get(path, headers=headers)
            times.append((time.perf_counter() - t) * 1000)
            statements.append(sql["count"])
            in_db.append(sql["seconds"] * 1000)
            assert response.status_code == 200, (path, response.status_code)
        times.sort()
        results[label] = (statistics.median(times), times[max(int(round(0.95 * len(times))) - 1, 0)],
                          statistics.median(statements), statistics.median(in_db))
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--pg", default=os.environ.get("LEADTHE_BENCH_PG", ""))
    parser.add_argument("--profile", choices=sorted(PAGES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.pg:
            admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql("DROP DATABASE IF EXISTS leadthe_learner_bench")
                conn.exec_driver_sql("CREATE DATABASE leadthe_learner_bench")
            url = args.pg.rsplit("/", 1)[0] + "/leadthe_learner_bench"
        else:
            url = f"sqlite:///{tmp}/bench.db"
        app = None
        try:
            app, client = setup(url, args.users)
            if args.profile:
                path = PAGES[args.profile].format(course="cluster-run")
                client.get(path)
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(args.requests):
                    client.get(path)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
                return
            results = measure(app, client, args.requests)
            print(f"{'page':<16} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>5} {'in DB ms':>9}   ({args.users} people, "
                  f"{'PostgreSQL' if args.pg else 'SQLite'}, {args.requests} requests each)")
            for label, (p50, p95, statements, in_db) in results.items():
                print(f"{label:<16} {p50:>8.1f} {p95:>8.1f} {statements:>5.0f} {in_db:>9.1f}")
        finally:
            if args.pg:
                from leadthe.extensions import db
                if app is not None:
                    with app.app_context():
                        db.engine.dispose()
                with admin.connect() as conn:
                    conn.exec_driver_sql("DROP DATABASE IF EXISTS leadthe_learner_bench")


if __name__ == "__main__":
    main()
