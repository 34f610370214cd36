"""SQLite as a serious embedded database: WAL, foreign keys, busy timeout, secure_delete, BEGIN IMMEDIATE."""
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from leadthe.database import write_transaction
from leadthe.extensions import db
from leadthe.models import Organization, Team
from tests.helpers import sqlite_file_bytes


@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip("SQLite-specific behaviour")


def test_pragmas(app, sqlite_only):
    with app.app_context():
        pragma = lambda name: db.session.execute(sa.text(f"PRAGMA {name}")).scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") >= 5000
        assert pragma("secure_delete") == 1


def test_foreign_keys_are_enforced(app):
    with app.app_context():
        db.session.add(Team(org_id=987654, name="orphan"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_deleting_a_company_cascades_to_its_teams(app, companies):
    a, b = companies
    with app.app_context():
        db.session.delete(db.session.get(Organization, a.org.id))
        db.session.commit()
        assert db.session.scalars(sa.select(Team.name)).all() == ["Team B"]


def test_write_transactions_begin_immediate(app, sqlite_only):
    """Outside a GET request a transaction takes the write lock up front, so read-then-write can wait
    its turn instead of failing with "database is locked"."""
    statements = []
    with app.app_context():
        engine = db.engine

        def log(conn, cursor, statement, *args):
            statements.append(statement)

        sa.event.listen(engine, "before_cursor_execute", log)
        try:
            db.session.scalar(sa.select(Organization.id))
            db.session.rollback()
            with app.test_request_context("/", method="GET"):
                db.session.scalar(sa.select(Organization.id))
                db.session.rollback()
            with app.test_request_context("/", method="POST"):
                db.session.scalar(sa.select(Organization.id))
                db.session.rollback()
        finally:
            sa.event.remove(engine, "before_cursor_execute", log)
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN", "BEGIN IMMEDIATE"]


def test_concurrent_read_then_write_transactions_never_see_database_is_locked(app, companies):
    """Eight threads each read a counter and write it back, 25 times: with IMMEDIATE transactions every
    increment survives and none fails (a deferred read-then-write would fail at once under contention)."""
    a, _ = companies
    errors = []

    def work():
        try:
            for _ in range(25):
                with app.app_context():
                    org = db.session.get(Organization, a.org.id, with_for_update=True)
                    org.name = str(int(org.name) + 1) if org.name.isdigit() else "1"
                    db.session.commit()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    with app.app_context():
        db.session.get(Organization, a.org.id).name = "0"
        db.session.commit()
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        assert db.session.get(Organization, a.org.id).name == str(8 * 25)


def test_write_transaction_helper_commits(app, companies):
    a, _ = companies
    with app.app_context():
        with write_transaction() as conn:
            conn.execute(sa.update(Organization).where(Organization.id == a.org.id).values(name="Renamed"))
        db.session.remove()
        assert db.session.get(Organization, a.org.id).name == "Renamed"


def test_postgresql_page_views_reuse_the_servers_query_plans(app, client, companies, backend):
    """GET requests read in autocommit mode on PostgreSQL: no BEGIN/ROLLBACK per page, and psycopg keeps its
    prepared statements (a ROLLBACK would drop them), so the server plans the hot queries once per connection."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL-specific behaviour")
    from tests.conftest import PASSWORD, post_form

    post_form(client, "/login", {"email": companies[0].learner.email, "password": PASSWORD})
    seen = []

    def peek(response):
        from flask import request

        if request.path == "/dashboard":
            conn = db.session.connection()
            seen.append((conn.connection.driver_connection.autocommit, conn.exec_driver_sql(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%%FROM user_session%%'").scalar()))
        return response

    with app.app_context():
        db.engine.dispose()  # start from an empty pool: each connection then serves several of the pages
    app.after_request_funcs.setdefault(None, []).append(peek)
    try:
        for _ in range(20):
            assert client.get("/dashboard").status_code == 200
    finally:
        app.after_request_funcs[None].remove(peek)
    assert all(autocommit for autocommit, _ in seen)
    assert seen[-1][1] >= 1  # the session look-up of every request is a prepared statement by now


def test_a_connection_that_died_while_idle_is_replaced_not_handed_out(app, client, companies, backend, monkeypatch):
    """The server restarted (or a firewall dropped the link) while the pool's connections sat idle: the next
    page still works, because a connection idle for longer than IDLE_PING_SECONDS is checked first."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL-specific behaviour")
    import leadthe.database as database
    from tests.conftest import PASSWORD, post_form

    post_form(client, "/login", {"email": companies[0].learner.email, "password": PASSWORD})
    assert client.get("/dashboard").status_code == 200
    with app.app_context():
        with db.engine.connect() as conn:
            url = conn.engine.url
    import psycopg

    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True) as killer:
        killed = killer.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
    assert killed >= 1
    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 0.0)  # as if they had sat idle for a while
    for _ in range(3):
        assert client.get("/dashboard").status_code == 200
    with app.app_context():
        db.engine.dispose()  # other dead connections may still sit in the pool: none for the next test


def test_a_get_that_leaves_orm_changes_fails(app, make_app):  # app: the migrated database, emptied after
    """A GET reads; on PostgreSQL it runs in autocommit mode, so a write through the request's session would be
    committed statement by statement. Under tests such a request fails loudly (writes go through
    ``write_transaction()``), whether it flushed or only left a change pending."""
    import pytest
    import sqlalchemy as sa

    from leadthe.database import WriteInReadRequest, write_transaction
    from leadthe.models import Organization

    app = make_app()  # an app of its own, for the test-only routes

    @app.route("/_flushes")
    def _flushes():
        db.session.add(Organization(name="Written by a GET"))
        db.session.flush()
        return "ok"

    @app.route("/_pending")
    def _pending():
        db.session.add(Organization(name="Left pending by a GET"))
        return "ok"

    @app.route("/_apart")
    def _apart():
        with write_transaction() as conn:
            conn.execute(sa.insert(Organization).values(name="Written apart"))
        return "ok"

    client = app.test_client()
    for url in ("/_flushes", "/_pending"):
        with pytest.raises(WriteInReadRequest):
            client.get(url)
    assert client.get("/_apart").get_data(as_text=True) == "ok"
    with app.app_context():
        names = set(db.session.scalars(sa.select(Organization.name)))
    # what was only pending is dropped; a flush in a PostgreSQL GET (autocommit) is stored at once, which is
    # exactly why a GET must not write through its session
    assert "Written apart" in names and "Left pending by a GET" not in names


# Another process asks the kernel who holds the byte of the -shm file that every SQLite connection keeps a read lock
# on while it is open (UNIX_SHM_DMS, offset 128): with none held, the next process to open the database takes itself
# for the first and truncates the file.
_WHO_LOCKS = """
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
kind = struct.unpack("hhqqi", fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 128, 1, 0)))[0]
print({fcntl.F_UNLCK: "none", fcntl.F_RDLCK: "read", fcntl.F_WRLCK: "write"}[kind])
"""


def _shm_lock_seen_from_outside(shm: str) -> str:
    return subprocess.run([sys.executable, "-c", _WHO_LOCKS, shm], capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip()


def test_reading_the_database_files_leaves_this_processs_locks_in_place(app, sqlite_only, database_url, tmp_path):
    """The tests that look for erased values in the raw SQLite files (tests.helpers.sqlite_file_bytes) must not
    take this process's locks away: a worker process started afterwards on the same database would truncate the
    -shm file under this process's mapping (the suite died of SIGBUS that way) and delete the WAL it writes to."""
    shm = database_url.removeprefix("sqlite:///") + "-shm"
    with app.app_context():
        db.session.scalar(sa.select(Organization.id))  # an open connection: the -shm file mapped, its lock held
        assert _shm_lock_seen_from_outside(shm) == "read"
        raw = sqlite_file_bytes(database_url)
        assert raw.startswith(b"SQLite format 3\x00")
        assert _shm_lock_seen_from_outside(shm) == "read"
    # why the helper reads in a child process: the same read done here drops the lock (on a database of its own)
    own = tmp_path / "own.db"
    conn = sqlite3.connect(own, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
        assert _shm_lock_seen_from_outside(f"{own}-shm") == "read"
        Path(f"{own}-shm").read_bytes()
        assert _shm_lock_seen_from_outside(f"{own}-shm") == "none"
    finally:
        conn.close()
