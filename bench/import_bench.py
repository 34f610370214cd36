"""CSV import of 5,000 people: upload and check (preview), then apply (invitations + mails, one transaction).

    .venv/bin/python bench/import_bench.py [--rows 5000] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Runs against a throwaway database per backend, through Flask's test client signed in as the admin.
"""
from __future__ import annotations

import argparse
import io
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

import sqlalchemy as sa  # noqa: E402


def run(url: str, rows: int) -> tuple[float, float, int]:
    from flask_migrate import upgrade

    from leadthe import create_app
    from leadthe.extensions import db
    from leadthe.models import Invitation, User
    from leadthe.scale import SCALE_PASSWORD, seed_scale

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "SMTP_URL": None})
    with app.app_context():
        upgrade()
        org = seed_scale(users=100, teams=10, echo=lambda *_: None)
        admin = db.session.scalar(sa.select(User.email).where(User.org_id == org.id, User.role == "admin"))
        db.session.remove()
    client = app.test_client()
    token = lambda html: re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # noqa: E731
    r = client.post("/login", data={"csrf_token": token(client.get("/login").get_data(as_text=True)), "email": admin,
                                     "password": SCALE_PASSWORD})
    assert r.status_code == 303
    body = "email,name,job_title,department,team,role\n" + "".join(
        f"new{i}@import.example,New Person {i},Analyst,Ops,Team {i % 10:03d},learner\n" for i in range(rows))
    page = client.get("/admin/users/import").get_data(as_text=True)
    t = time.perf_counter()
    r = client.post("/admin/users/import", data={"csrf_token": token(page), "file": (io.BytesIO(body.encode()), "people.csv")})
    check = time.perf_counter() - t
    html = r.get_data(as_text=True)
    assert r.status_code == 200, (r.status_code, html[:2000])
    action = re.search(r'action="(/admin/users/import/\d+)"', html).group(1)
    t = time.perf_counter()
    r = client.post(action, data={"csrf_token": token(html)})
    apply = time.perf_counter() - t
    assert r.status_code == 303
    with app.app_context():
        n = db.session.scalar(sa.select(sa.func.count()).select_from(Invitation))
        db.engine.dispose()
    return check, apply, n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--pg", default=os.environ.get("LEADTHE_BENCH_PG", ""))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        backends = [("sqlite", f"sqlite:///{tmp}/import.db")]
        if args.pg:
            base = sa.engine.make_url(args.pg)
            admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql("DROP DATABASE IF EXISTS leadthe_import_bench WITH (FORCE)")
                conn.exec_driver_sql("CREATE DATABASE leadthe_import_bench")
            backends.append(("postgresql", base.set(database="leadthe_import_bench").render_as_string(hide_password=False)))
        for name, url in backends:
            check, apply, n = run(url, args.rows)
            print(f"{name}: {args.rows} rows  check+preview {check:.2f}s  apply {apply:.2f}s  total {check + apply:.2f}s  ({n} invitations)")
        if args.pg:
            with admin.connect() as conn:
                conn.exec_driver_sql("DROP DATABASE IF EXISTS leadthe_import_bench WITH (FORCE)")
            admin.dispose()


if __name__ == "__main__":
    main()
