"""Benchmark: the data export of a person with a long history.

Creates a throw-away database, a person with N activity records (security events and sign-in sessions:
the activity tables that exist today; later areas add theirs to the same registry-driven export), then
times the export job and reports its peak memory.

    .venv/bin/python bench/export_bench.py                 # SQLite, 50,000 records
    .venv/bin/python bench/export_bench.py --records 100000
    LEADTHE_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/export_bench.py

Goal (issue 3): 50,000 records exported in under 10 s with peak memory under 200 MB.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=50_000)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="leadthe-bench-"))
    os.environ.update({"LEADTHE_ENV": "test", "LEADTHE_SECRET_KEY": "b" * 40, "LEADTHE_DATA_KEY": "x",
                       "LEADTHE_INSTANCE_PATH": str(tmp)})
    url = os.environ.get("LEADTHE_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from leadthe import create_app
    from leadthe.extensions import db
    from leadthe.models import AuditEvent, DataExport, Organization, User, UserSession, utcnow
    from leadthe.privacy.export import write_export
    from leadthe.storage import storage

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "BCRYPT_ROUNDS": 4, "EXPORT_DIR": str(tmp / "exports")})
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade(revision="heads")
        org = Organization(name="Bench Co")
        db.session.add(org)
        db.session.flush()
        user = User(org_id=org.id, email="bench@example.com", name="Bench Person", password_hash="x")
        db.session.add(user)
        db.session.flush()
        now = utcnow()
        events = args.records * 9 // 10
        sessions = args.records - events
        t0 = time.perf_counter()
        for start in range(0, events, 5000):
            db.session.execute(sa.insert(AuditEvent), [
                {"action": "login.success", "actor_id": user.id, "subject_id": user.id, "org_id": org.id,
                 "ip": f"10.0.{i % 250}.{i % 200}", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0",
                 "details": {"n": i}, "created_at": now - timedelta(minutes=i), "actor_ref": "", "subject_ref": ""}
                for i in range(start, min(start + 5000, events))])
        db.session.execute(sa.insert(UserSession), [
            {"user_id": user.id, "token_hash": f"{i:064x}", "created_at": now - timedelta(hours=i), "last_seen_at": now,
             "expires_at": now - timedelta(hours=i - 12), "ip": "10.1.2.3", "user_agent": "Mozilla/5.0 Firefox/140.0"}
            for i in range(sessions)])
        export = DataExport(user_id=user.id)
        db.session.add(export)
        db.session.commit()
        print(f"seeded {args.records:,} records in {time.perf_counter() - t0:.1f} s ({db.engine.dialect.name})")

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        written = write_export(export)
        elapsed = time.perf_counter() - t0
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # a second run under tracemalloc for the allocation peak (tracemalloc slows it down, so not timed)
        tracemalloc.start()
        storage().delete(write_export(export).key)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"export: {elapsed:.2f} s, file {written.size / 1e6:.1f} MB ({storage().name} storage)")
        print(f"peak Python allocations during export: {peak / 1e6:.1f} MB")
        print(f"process peak RSS: {rss_after:.0f} MB (before export: {rss_before:.0f} MB)")
        ok = elapsed < 10 and rss_after < 200
        print("goal (< 10 s, < 200 MB):", "met" if ok else "NOT met")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
