"""Shared fixtures.

The whole suite runs on SQLite and, when LEADTHE_TEST_DATABASE_URL is set (CI: PostgreSQL), once more
on that database: the session-scoped ``database_url`` fixture is parametrised over the backends.

Each test gets a clean database (rows deleted after the test) with the migrations applied once per
backend. Test code talks to the database inside ``with app.app_context():`` blocks (or through the
factories below), never in an app context held open across requests, which would share ``g`` and the
session with the requests under test.
"""
from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

# Settings for every app the tests create; set before leadthe reads them.
os.environ["LEADTHE_ENV"] = "test"
os.environ.setdefault("LEADTHE_SECRET_KEY", "test-secret-key-" + "x" * 32)
os.environ.setdefault("LEADTHE_DATA_KEY", Fernet.generate_key().decode())
os.environ.pop("LEADTHE_SMTP_URL", None)
os.environ["LEADTHE_INLINE_WORKER"] = "0"

from leadthe import create_app  # noqa: E402
from leadthe.extensions import db, limiter  # noqa: E402

PASSWORD = "velvet tuesday orbit lantern"  # a passphrase of unrelated words (the famous xkcd one is refused as common)
PG_URL = os.environ.get("LEADTHE_TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


# --- shards: the CI runs the suite as separate pytest processes side by side (tests/shards.py) -----------

SHARDS = ("sqlite", "postgresql", "browser", "sweep")


def shard_of(item) -> str:
    """The shard a test belongs to: the browser sweep of every page (tests/browser/test_sweep.py, by far the
    longest module); the other browser tests; the tests on PostgreSQL (the ``postgresql`` parameter of
    ``database_url``); everything else (SQLite, and the tests that use no database). Every test is in exactly
    one, so the shards together run the whole suite, each test once."""
    if item.get_closest_marker("browser"):
        return "sweep" if Path(item.path).name == "test_sweep.py" else "browser"
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("database_url") == "postgresql":
        return "postgresql"
    return "sqlite"


@pytest.hookimpl(trylast=True)  # after tests/browser/conftest.py has marked the browser tests
def pytest_collection_modifyitems(config, items):
    wanted = os.environ.get("LEADTHE_TEST_SHARD", "").strip()
    if not wanted:
        return
    if wanted not in SHARDS:
        raise pytest.UsageError(f"LEADTHE_TEST_SHARD={wanted!r}: expected one of {', '.join(SHARDS)}")
    keep, drop = [], []
    for item in items:
        (keep if shard_of(item) == wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def reset_postgres_schema(url: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    reset_postgres_schema(PG_URL)
    return PG_URL


def app_config(database_url: str, **extra) -> dict:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "BCRYPT_ROUNDS": 4,
        "SMTP_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_BASE_URL": "http://localhost",
        "DPA_REQUIRED": False,  # the DPA gate on admin pages and sign-up: on in tests/test_dpa.py and its browser test
    }
    config.update(extra)
    return config


@pytest.fixture(scope="session")
def _session_app(database_url, tmp_path_factory):
    os.environ["LEADTHE_INSTANCE_PATH"] = str(tmp_path_factory.mktemp("instance"))
    app = create_app(app_config(database_url))
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(revision="heads")
    yield app
    with app.app_context():
        db.engine.dispose()


def wipe_database(app) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            tables = reversed(db.metadata.sorted_tables)
            if conn.dialect.name == "postgresql":  # one round trip instead of 87 (about a minute of a CI run)
                conn.exec_driver_sql("; ".join(f'DELETE FROM "{table.name}"' for table in tables))
            else:
                for table in tables:
                    conn.execute(table.delete())
        db.session.remove()
    from leadthe.process_tables import invalidate_all

    invalidate_all()  # the per-process tables (policy versions, outlines): the rows went without the ORM


@pytest.fixture
def app(_session_app):
    limiter.reset()
    yield _session_app
    wipe_database(_session_app)
    limiter.reset()
    export_dir = Path(_session_app.config["EXPORT_DIR"])
    if export_dir.exists():
        for leftover in export_dir.iterdir():
            leftover.unlink()


@pytest.fixture
def make_app(database_url):
    """Build an extra app (other settings, test-only routes); its connections are closed afterwards."""
    made = []

    def factory(url: str | None = None, **extra):
        app = create_app(app_config(url or database_url, **extra))
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def backend(database_url) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


# --- CSRF-aware form posting -------------------------------------------------------------------

_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    if match:
        return match.group(1) or match.group(2)
    header = re.search(r'"X-CSRFToken": "([^"]+)"', html)  # every page carries it for htmx
    assert header, "no CSRF token in the page"
    return header.group(1)


def post_form(client, url: str, data: dict, *, page: str | None = None, headers=None, follow=False):
    """GET ``page`` (default: ``url``) for a CSRF token, then POST ``data`` with it, as a browser does."""
    html = client.get(page or url, follow_redirects=True).get_data(as_text=True)
    payload = {"csrf_token": csrf_from(html), **data}
    return client.post(url, data=payload, headers=headers or {}, follow_redirects=follow)


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD, **kwargs):
        return post_form(self.client, "/login", {"email": email, "password": password}, **kwargs)

    def logout(self):
        return post_form(self.client, "/logout", {}, page="/dashboard")


@pytest.fixture
def auth(client):
    return AuthActions(client)


# --- factories -----------------------------------------------------------------------------------

def make_org(app, name="Org"):
    from leadthe.models import Organization

    with app.app_context():
        org = Organization(name=name)
        db.session.add(org)
        db.session.commit()
        return org


def make_user(app, org=None, *, email=None, role="learner", name="Test Person", password=PASSWORD, verified=True, **fields):
    from leadthe.auth.passwords import hash_password
    from leadthe.models import User, utcnow

    with app.app_context():
        user = User(
            org_id=getattr(org, "id", org),
            email=(email or f"user{os.urandom(4).hex()}@example.com").lower(),
            name=name,
            role=role,
            password_hash=hash_password(password),
            password_changed_at=utcnow(),
            email_verified_at=utcnow() if verified else None,
            **fields,
        )
        db.session.add(user)
        db.session.commit()
        return user


def enable_2fa(app, user) -> tuple[str, list[str]]:
    """Turn two-step verification on for ``user`` directly; returns the secret and the recovery codes."""
    from datetime import datetime, timezone

    import pyotp

    from leadthe.auth import twofactor
    from leadthe.models import User

    with app.app_context():
        person = db.session.get(User, user.id)
        person.totp_secret = secret = pyotp.random_base32()
        person.totp_enabled_at = datetime.now(timezone.utc)
        codes = twofactor.new_recovery_codes(person)
        db.session.commit()
    return secret, codes


def make_staff(app, role="staff", *, email=None, name="Sam Staff", **fields):
    """A platform staff (or DPO) account with two-step verification on, as every such account must have.
    ``user.otp_secret`` is the authenticator app's secret; log in with ``login_with_code``."""
    user = make_user(app, None, email=email or f"{role}{os.urandom(3).hex()}@leadthe.example", role=role, name=name, **fields)
    user.otp_secret, user.recovery_codes = enable_2fa(app, user)
    return user


def fresh_code(app, user) -> str:
    """A code from ``user``'s authenticator app that was not used yet. A code works once per 30-second step;
    instead of waiting for the next step, the test forgets which step was used last."""
    import pyotp

    from leadthe.models import User

    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == user.id).values(totp_last_step=0))
        db.session.commit()
    return pyotp.TOTP(user.otp_secret).now()


def login_with_code(client, app, user, password: str = PASSWORD):
    """Log in as a person with two-step verification (``make_staff``): the password, then the code."""
    first = post_form(client, "/login", {"email": user.email, "password": password})
    assert first.status_code == 303 and first.headers["Location"].endswith("/login/2fa"), "no second step was asked for"
    return post_form(client, "/login/2fa", {"code": fresh_code(app, user)})


def make_team(app, org, name="Team", members=(), managers=()):
    from leadthe.models import Team, TeamMembership

    with app.app_context():
        team = Team(org_id=org.id, name=name)
        db.session.add(team)
        db.session.flush()
        for user in members:
            db.session.add(TeamMembership(org_id=org.id, team_id=team.id, user_id=user.id, is_manager=user.id in {m.id for m in managers}))
        db.session.commit()
        return team


@dataclass
class Company:
    org: object
    admin: object
    manager: object
    learner: object
    team: object


@pytest.fixture
def companies(app) -> tuple[Company, Company]:
    """Two companies, each with an admin, a manager and a learner in one team: for isolation tests."""
    result = []
    for tag in ("a", "b"):
        org = make_org(app, f"Company {tag.upper()}")
        admin = make_user(app, org, email=f"admin@{tag}.example", role="admin", name=f"Admin {tag.upper()}")
        manager = make_user(app, org, email=f"manager@{tag}.example", role="manager", name=f"Manager {tag.upper()}")
        learner = make_user(app, org, email=f"learner@{tag}.example", role="learner", name=f"Learner {tag.upper()}")
        team = make_team(app, org, f"Team {tag.upper()}", members=[manager, learner], managers=[manager])
        result.append(Company(org, admin, manager, learner, team))
    return tuple(result)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def outbox(app, **filters):
    from leadthe.models import OutboxMail

    with app.app_context():
        stmt = sa.select(OutboxMail).order_by(OutboxMail.id)
        for name, value in filters.items():
            stmt = stmt.where(getattr(OutboxMail, name) == value)
        return list(db.session.scalars(stmt))


def audit_actions(app) -> list[str]:
    from leadthe.models import AuditEvent

    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


ROOT = Path(__file__).resolve().parent.parent
