"""Engine set-up: SQLite as a serious embedded database, and the unit-of-work helpers.

SQLite: WAL (readers never block the writer), foreign keys on, a busy timeout, secure_delete (erased
values are overwritten, not left in free pages), and transactions that will write begin with
``BEGIN IMMEDIATE``. A busy timeout alone does not help a *deferred* transaction that read first and
then tries to write while another connection committed in between: SQLite answers "database is
locked" at once. Taking the write lock up front makes such a transaction wait its turn instead.

Which transactions write is decided per context: requests with an unsafe method (POST, …), the CLI and
the worker begin IMMEDIATE; GET/HEAD requests begin deferred and do their rare writes (touching a
session's last-seen time) in a separate short ``write_transaction()``.

PostgreSQL: GET/HEAD requests read in autocommit mode (``read_request_mode``). Under READ COMMITTED every
statement takes its own snapshot anyway, so a read-only transaction adds nothing but two round trips
(BEGIN, ROLLBACK), and psycopg forgets its prepared statements on every ROLLBACK; without them the
server plans each query again on every page, which costs more than running it.
"""
from __future__ import annotations

import functools
import os
import time
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, aliased

from leadthe.extensions import db

_force_mode: ContextVar[str | None] = ContextVar("leadthe_sqlite_begin", default=None)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _begin_statement() -> str:
    forced = _force_mode.get()
    if forced:
        return forced
    if has_request_context() and request.method in SAFE_METHODS:
        return "BEGIN"
    return "BEGIN IMMEDIATE"


# A pooled connection that sat unused this long is checked with a round trip before a request gets it
# (the server may have restarted or a firewall dropped it meanwhile); one in steady use is not, which
# saves a round trip on every request under load. A dead connection is replaced, not handed out.
IDLE_PING_SECONDS = 10.0


def _ping_after_idle(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connected(_dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record):
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy):
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # noqa: BLE001 - any failure means: do not use this connection
            # the pool discards this connection and checks out (or opens) another, up to three times
            raise DisconnectionError(str(exc)) from exc


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        _ping_after_idle(engine)  # a database file cannot drop a connection: no pings for SQLite
        return
    _create_private_file(engine.url.database)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take over transaction control from the sqlite3 module, so BEGIN is ours to emit.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=10000",
            "PRAGMA secure_delete=ON",
            "PRAGMA synchronous=NORMAL",
        ):
            cur.execute(pragma)
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql(_begin_statement())


def _create_private_file(path: str | None) -> None:
    """A new SQLite database file is readable by its owner only (0600, whatever the umask); SQLite gives its
    -wal and -shm files the same mode. A missing folder is left to fail on connect (the 503 page)."""
    if not path or path == ":memory:" or path.startswith("file:") or not os.path.isdir(os.path.dirname(path) or "."):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


@functools.cache
def shared_alias(entity, name: str):
    """``aliased(entity, name=name)``, built once. Building an alias copies every column of the table (for a wide
    one such as ``Course``, a good part of a millisecond), and pages that build the same statement on every
    request paid that each time. Safe wherever the alias appears once in a statement (or in separate subqueries of
    it); a statement that needs two different copies of a table asks for two names."""
    return aliased(entity, name=name)


def upsert(table, conn=None):
    """``INSERT`` with ``ON CONFLICT`` (``on_conflict_do_nothing`` / ``on_conflict_do_update``, ``excluded``) for
    the database in use, SQLite or PostgreSQL; ``conn`` is a Connection or Session (default: ``db.session``)."""
    conn = db.session if conn is None else conn
    dialect = conn.get_bind().dialect if hasattr(conn, "get_bind") else conn.dialect
    return (postgresql.insert if dialect.name == "postgresql" else sqlite.insert)(table)


@contextmanager
def write_transaction():
    """A short transaction of its own that begins as a write, committed on exit.

    Only for bookkeeping of read requests (last-seen times, resume points, time estimates, search and page
    view counts): on PostgreSQL its commit does not wait for the WAL flush (``synchronous_commit = off``),
    so a crash of the database server may lose the last fraction of a second of such updates, never
    corrupt anything; a page view then does not wait for a disk flush."""
    token = _force_mode.set("BEGIN IMMEDIATE")
    try:
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            yield conn
    finally:
        _force_mode.reset(token)


@contextmanager
def reading_only():
    """Transactions begun inside only read (the worker's look for queued work): on SQLite a plain BEGIN,
    which takes no write lock; elsewhere nothing changes."""
    token = _force_mode.set("BEGIN")
    try:
        yield
    finally:
        _force_mode.reset(token)


_QUEUED = "leadthe_write_apart"  # g: writes waiting for the end of the request's transaction
_REFUSED = "leadthe_request_refused"  # g: the request was refused although it answers below 400
_COMMITTED = "leadthe_request_committed"  # g: the request's transaction was committed


def write_apart(write, *, only_if_refused: bool = False) -> None:
    """Run ``write(conn)`` in a short transaction of its own (``write_transaction()``) that is kept whatever
    becomes of the request's: the audit event of a refused log-in, a refused step-up, a lock-out.

    A GET/HEAD (which never writes through its session), the worker and the CLI run it at once. An unsafe
    request (POST, ...) queues it for ``one_transaction_per_request``, which runs it after the request's own
    transaction has ended (committed or rolled back): on SQLite that transaction began ``BEGIN IMMEDIATE``
    and holds the write lock until then, so a second connection writing meanwhile would wait for it in vain.

    ``only_if_refused``: the same change is also made through the request's session and is needed apart only
    when the request is rolled back (a step-up that succeeded inside a request refused for another reason);
    outside an unsafe request there is no such rollback, and nothing is written."""
    if has_request_context() and request.method not in SAFE_METHODS:
        g.setdefault(_QUEUED, []).append((write, only_if_refused))
        return
    if only_if_refused:
        return
    with write_transaction() as conn:
        write(conn)


def refuse_request() -> None:
    """Mark the request as refused (a form answered with errors under htmx, which swaps only 2xx and so gets a
    200): its changes are rolled back like those of a 4xx answer."""
    g.setdefault(_REFUSED, True)


def _write_queued(committed: bool) -> None:
    queued = [write for write, only_if_refused in g.pop(_QUEUED, ()) if not (committed and only_if_refused)]
    if queued:
        with write_transaction() as conn:
            for write in queued:
                write(conn)


def one_transaction_per_request(app) -> None:
    """A request is one unit of work (Indico's ``RH.process``): views and services only flush; an unsafe
    request (POST, ...) commits once, here, when it succeeded, and rolls back otherwise.

    Succeeded: the answer is below 400 (a 303 after a save, an htmx fragment or ``HX-Redirect``, a 204, the
    page showing new recovery codes) and not marked with ``refuse_request()``. A 4xx is a refused request (a
    form re-rendered with errors as 422, ``abort(400/403/404)``, 409, a rate limit's 429) and a 5xx a failed
    one (an exception the error handlers answered): nothing either of them flushed is kept, so a view may
    flush and then refuse; what must survive a refusal goes through ``write_apart``.

    The hook runs after the view, before the answer is sent (an ``after_request`` hook; the cookie with a new
    session is written after it): a commit that fails becomes the 500 page, never a write lost behind a 303
    already sent. Then the writes queued by ``write_apart`` run in their own short transaction. GET/HEAD
    requests never write through their session (``guard_read_requests``), so there is nothing to commit.

    The worker and the CLI commands are units of work of their own and commit explicitly (per job, per batch
    of rows); services called both from views and from the worker only flush."""

    @app.after_request
    def _end_unit_of_work(response):
        committed = response.status_code < 400 and not g.pop(_REFUSED, False)
        if request.method not in SAFE_METHODS and db.session.registry.has():
            if committed:
                db.session.commit()
                g.setdefault(_COMMITTED, True)
            else:
                db.session.rollback()
        _write_queued(committed)
        return response

    @app.teardown_request
    def _unfinished(_exc):
        # the after_request hook did not run (an exception escaped the error handlers, e.g. a failed commit
        # under tests) or a later hook queued more: end the request's transaction, then write what is queued
        if g.get(_QUEUED):
            if db.session.registry.has():
                db.session.rollback()
            _write_queued(committed=g.get(_COMMITTED, False))


def read_request_mode(session) -> None:
    """Called before a GET/HEAD request's first query: on PostgreSQL its reads run in autocommit mode (see
    the module's docstring). Writes in such a request belong in ``write_transaction()``."""
    if has_request_context() and request.method in SAFE_METHODS and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


_WROTE_IN_READ = "leadthe.wrote_in_read_request"


@event.listens_for(Session, "after_flush")
def _flushed_in_read_request(session, _context) -> None:
    if has_request_context() and request.method in SAFE_METHODS:
        session.info[_WROTE_IN_READ] = request.path


def in_read_request(session) -> bool:
    """A GET/HEAD request whose session has written nothing: its writes belong in ``write_transaction()``."""
    return (has_request_context() and request.method in SAFE_METHODS and not session.info.get(_WROTE_IN_READ)
            and not (session.new or session.dirty or session.deleted))


class WriteInReadRequest(RuntimeError):
    """A GET/HEAD/OPTIONS request flushed or left ORM changes: they belong in ``write_transaction()``."""


def guard_read_requests(app) -> None:
    """A safe request must not write through the request's session: on PostgreSQL it reads in autocommit
    mode, so a flush would be committed statement by statement, and on SQLite it began deferred. Under
    tests and in development such a request fails loudly; in production the changes are discarded and
    the mistake logged."""
    @app.after_request
    def _nothing_written(response):
        if request.method not in SAFE_METHODS or not db.session.registry.has():
            return response
        session = db.session()
        flushed = session.info.pop(_WROTE_IN_READ, None)
        if flushed or session.new or session.dirty or session.deleted:
            session.rollback()
            message = f"{request.method} {request.path} wrote through the request's session; use write_transaction()"
            if app.testing or app.debug:
                raise WriteInReadRequest(message)
            app.logger.error(message)
        return response
