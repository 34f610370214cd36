"""Tenancy: another company's rows are invisible, and an id from another company is a 404."""
import ast
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from leadthe.extensions import db
from leadthe.models import AuditEvent, Base, Team, TeamMembership, TenantScoped, User
from leadthe.tenancy import NoTenant, get_or_404, scoped, tenant


def test_scoped_and_get_or_404(app, companies):
    a, b = companies
    with app.app_context():
        assert [t.name for t in db.session.scalars(scoped(Team, a.org.id))] == ["Team A"]
        with tenant(a.org.id):
            assert get_or_404(Team, a.team.id).name == "Team A"
            with pytest.raises(NotFound):
                get_or_404(Team, b.team.id)  # exists, but in another company: same answer as missing
            with pytest.raises(NotFound):
                get_or_404(Team, 999999)
            with pytest.raises(NotFound):
                get_or_404(Team, "not-a-number")


def test_a_forgotten_filter_is_scoped_anyway(app, companies):
    """Even a hand-written select without org_id only sees the current company's rows."""
    a, b = companies
    with app.app_context():
        with tenant(b.org.id):
            assert [t.name for t in db.session.scalars(sa.select(Team))] == ["Team B"]
            assert {u.email for u in db.session.scalars(sa.select(User))} == {"admin@b.example", "manager@b.example", "learner@b.example"}
            # joins and relationship loads are filtered too
            members = db.session.scalars(sa.select(TeamMembership).join(Team)).all()
            assert {m.org_id for m in members} == {b.org.id}
            assert db.session.get(Team, a.team.id) is None or db.session.get(Team, a.team.id).org_id == b.org.id
        # without a tenant (CLI, worker) everything is visible, and scoped() insists on a company
        assert len(db.session.scalars(sa.select(Team)).all()) == 2
        with pytest.raises(NoTenant):
            scoped(Team)


def test_a_statement_built_once_is_scoped_to_each_company_in_turn(app, companies):
    """A statement kept at module level (``functools.cache``) is scoped afresh on every execution:
    switching companies never hands one company's rows to the other."""
    a, b = companies
    statement = sa.select(Team.name).join(TeamMembership, TeamMembership.team_id == Team.id, isouter=True)
    with app.app_context():
        for org, expected in ((a, "Team A"), (b, "Team B"), (a, "Team A"), (b, "Team B")):
            with tenant(org.org.id):
                assert set(db.session.scalars(statement)) == {expected}
        assert set(db.session.scalars(statement)) == {"Team A", "Team B"}  # no tenant: everything


def test_bulk_update_and_delete_touch_only_the_current_companys_rows(app, companies):
    a, b = companies
    with app.app_context():
        with tenant(a.org.id):
            db.session.execute(sa.update(Team).values(name="Renamed"))
            db.session.execute(sa.delete(TeamMembership))
            db.session.commit()
        names = dict(db.session.execute(sa.select(Team.org_id, Team.name)).all())
        assert names == {a.org.id: "Renamed", b.org.id: "Team B"}
        assert {m.org_id for m in db.session.scalars(sa.select(TeamMembership))} == {b.org.id}


def test_bulk_writes_never_reach_platform_courses(app, companies):
    """Reads see platform-wide courses (org_id NULL) beside the company's own; writes do not."""
    from leadthe.models import Course

    a, _ = companies
    with app.app_context():
        db.session.add_all([Course(slug="platform-course", title="Platform", org_id=None),
                            Course(slug="own-course", title="Own", org_id=a.org.id)])
        db.session.commit()
        with tenant(a.org.id):
            assert len(db.session.scalars(sa.select(Course)).all()) == 2
            db.session.execute(sa.update(Course).values(title="Changed"))
            db.session.commit()
        assert dict(db.session.execute(sa.select(Course.slug, Course.title)).all()) == {
            "platform-course": "Platform", "own-course": "Changed"}


def test_going_around_the_boundary_needs_a_reason(app, companies):
    from leadthe.tenancy import unscoped

    a, _ = companies
    with pytest.raises(ValueError):
        unscoped(sa.select(Team), reason=" ")
    with app.app_context(), tenant(a.org.id):
        assert len(db.session.scalars(unscoped(sa.select(Team), reason="test: every company")).all()) == 2


def test_tenant_is_set_from_the_signed_in_user(make_app, companies):
    from tests.conftest import PASSWORD, post_form

    a, b = companies
    app = make_app()

    @app.route("/_teams")
    def _teams():
        return ",".join(t.name for t in db.session.scalars(sa.select(Team).order_by(Team.name)))

    client = app.test_client()
    assert client.get("/_teams").get_data(as_text=True) == "Team A,Team B"  # nobody signed in: no tenant
    post_form(client, "/login", {"email": b.learner.email, "password": PASSWORD})
    assert client.get("/_teams").get_data(as_text=True) == "Team B"


def test_every_table_with_org_id_is_tenant_scoped():
    """A new company-owned model must use the OrgOwned mixin, or the automatic filter would miss it."""
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if "org_id" in mapper.columns:
            assert issubclass(cls, TenantScoped), f"{cls.__name__} has org_id but is not TenantScoped"
    assert issubclass(User, TenantScoped) and issubclass(AuditEvent, TenantScoped)


def test_scoped_get_answers_for_the_current_company_only_where_session_get_would_not(app, companies):
    """``session.get`` answers from the identity map without SQL, so the tenant hook never sees it: another
    company's row loaded earlier in the session comes back. ``scoped_get`` always asks the database."""
    from leadthe.tenancy import scoped_get

    a, b = companies
    with app.app_context():
        loaded = db.session.get(Team, b.team.id)  # e.g. loaded before the tenant was known
        with tenant(a.org.id):
            assert db.session.get(Team, b.team.id) is loaded  # the hole: no SQL, no tenant filter
            assert scoped_get(Team, b.team.id) is None and scoped_get(Team, "x") is None
            assert scoped_get(Team, a.team.id).name == "Team A"
        assert scoped_get(Team, b.team.id) is loaded  # no tenant (anonymous, staff, worker): any company's


# --- source scans: the ways around the tenant filter are few, named, and say why ----------------------

PACKAGE = Path(__file__).resolve().parent.parent / "leadthe"


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE.parent).as_posix(), ast.parse(path.read_text(encoding="utf-8"), str(path))


def test_all_tenants_is_spelled_only_in_the_tenancy_module():
    """Going around the tenant filter is ``unscoped(statement, reason=...)``; its execution option is private."""
    found = [name for name, tree in _modules() if name != "leadthe/tenancy.py"
             and any(isinstance(node, ast.keyword) and node.arg == "all_tenants"
                     or isinstance(node, ast.Constant) and node.value == "all_tenants" for node in ast.walk(tree))]
    assert found == []


# Modules that may look up company-owned rows with session.get: they run without a tenant.
SESSION_GET_ALLOWED = {
    "leadthe/staff/console.py": "platform staff: no tenant, every company's rows on purpose",
    "leadthe/staff/views.py": "platform staff: no tenant, every company's rows on purpose",
    "leadthe/privacy/erasure.py": "the erasure job (worker, no tenant); the cancel link uses scoped_get",
    "leadthe/privacy/export.py": "the export job (worker, no tenant)",
    "leadthe/literacy/evidence.py": "the evidence pack job (worker, no tenant); the pages use get_or_404",
    "leadthe/literacy/evidence_pack.py": "the evidence pack job (worker, no tenant)",
}


def test_company_rows_are_not_fetched_with_session_get_where_a_tenant_may_be_active():
    scoped_models = {m.class_.__name__ for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)}
    found = []
    for name, tree in _modules():
        if name in SESSION_GET_ALLOWED:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                    and (isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "session"
                         or isinstance(node.func.value, ast.Name) and node.func.value.id == "session")
                    and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in scoped_models):
                found.append(f"{name}:{node.lineno} session.get({node.args[0].id}, …): use get_or_404 or scoped_get")
    assert found == []


# Modules that may run SQL text, statements on a connection, or Core statements on tables: none of these
# pass the tenant filter, so each says why it needs no filter or filters itself.
CORE_SQL_ALLOWED = {
    "leadthe/trust/access_log.py": "who looked at a person's data, recorded apart from the request through write_apart (the views are GETs, which write nothing through their session)",
    "leadthe/scim/auth.py": "the SCIM token's last use, stamped apart from the request through write_apart (GET requests write nothing through their session)",
    "leadthe/sso/oidc.py": "an identity provider's rotated keys (JWKS) kept for the next log-ins, through write_transaction in the callback (a GET)",
    "leadthe/database.py": "the engine's own set-up: BEGIN, PRAGMAs, SET LOCAL",
    "leadthe/core/services.py": "the health check's SELECT 1",
    "leadthe/mail.py": "each sent mail's mark on a connection of its own in autocommit mode without waiting for the WAL flush (PostgreSQL); outbox rows belong to no company",
    "leadthe/models/course.py": "the predicate of the platform courses' unique index",
    "leadthe/courses/search.py": "full-text search SQL, with the course rule compiled in; search counts through write_transaction",
    "leadthe/courses/services.py": "the outline (no company-owned table); a read's bookkeeping through write_transaction",
    "leadthe/auth/sessions.py": "last-seen bookkeeping of the session's own person through write_transaction",
    "leadthe/analytics.py": "page view counts through write_transaction",
    "leadthe/audit.py": "audit events written apart, through write_transaction",
    "leadthe/alerts/detect.py": "signs of attack checked on the connection that wrote the audit event apart (write_apart); the alerts and their counters are platform-wide, and the credential's networks are selected by the credential's own id",
    "leadthe/audit_chain.py": "the audit-chain sealer (worker, CLI): every chain in id order under one lock, through write_transaction; verify reads every chain",
    "leadthe/auth/reauth.py": "a step-up's window on the person's own session row, kept apart when the request is refused",
    "leadthe/auth/twofactor.py": "the person's own used-code marker, kept apart when the request is refused",
    "leadthe/legal/services.py": "platform-wide policy documents, written through write_transaction",
    "leadthe/trust/dpa.py": "the data processing agreement's first version (platform-wide), created once through write_transaction by a read request",
    "leadthe/trust/subprocessors.py": "the sub-processor list's first version (platform-wide), created once through write_transaction by a read request",
    "leadthe/privacy/services.py": "the privacy centre counts one person's rows, table by table from the registry",
    "leadthe/lab/runner.py": "the worker's lab runner (no tenant): compare-and-set claims and the answer-so-far writes of one run by id, each in a short transaction of its own",
    "leadthe/privacy/export.py": "the export job (worker) reads one person's rows from the registry; the download mark through write_transaction",
    "leadthe/privacy/report.py": "the export job (worker) reads one person's rows from the registry for report.html, with the titles of the courses and lessons they point at",
    "leadthe/privacy/erasure.py": "the erasure job (worker) deletes one person's rows from the registry; SQLite's WAL checkpoint",
    "leadthe/privacy/key_rotation.py": "the key rotation command (CLI) re-encrypts every company's rows",
    "leadthe/scale.py": "the benchmark data generator (CLI)",
    "leadthe/literacy/rules.py": "set-based INSERT…SELECT and UPDATE…FROM over requirement rows; every statement filters the company itself",
    "leadthe/literacy/sample.py": "the benchmark data generator's AI-literacy rows (bench and statement-count tests), bulk inserts for one company",
}


def _core_sql(tree) -> list[tuple[int, str]]:
    text_names = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                  and node.module == "sqlalchemy" for alias in node.names if alias.name == "text"}
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr == "text" and isinstance(func.value, ast.Name)
                    and func.value.id in ("sa", "sqlalchemy")) or (isinstance(func, ast.Name) and func.id in text_names):
                hits.append((node.lineno, "SQL text"))
            elif isinstance(func, ast.Attribute) and func.attr in ("execute", "exec_driver_sql") and not (
                    isinstance(func.value, ast.Attribute) and func.value.attr == "session"
                    or isinstance(func.value, ast.Name) and func.value.id == "session"):
                hits.append((node.lineno, f"{func.attr} on a connection"))
        elif isinstance(node, ast.Attribute) and node.attr in ("__table__", "tables", "sorted_tables") and (
                node.attr == "__table__" or isinstance(node.value, ast.Attribute) and node.value.attr == "metadata"):
            hits.append((node.lineno, f"Core table ({node.attr})"))
    return hits


def test_sql_text_and_core_statements_only_in_modules_that_say_why():
    found = [f"{name}:{line} {what}" for name, tree in _modules() if name not in CORE_SQL_ALLOWED
             for line, what in _core_sql(tree)]
    assert found == []
    # the scan itself finds what it looks for
    assert [what for _line, what in _core_sql(ast.parse(
        "import sqlalchemy as sa\nfrom sqlalchemy import text as t\nsa.text('x'); t('y'); conn.execute(s)\n"
        "db.session.connection().execute(s); User.__table__; db.metadata.tables['user_account']; db.session.execute(s)"))] == [
        "SQL text", "SQL text", "execute on a connection", "execute on a connection", "Core table (__table__)", "Core table (tables)"]


@pytest.mark.parametrize("raw", ["99999999999999999999999", str(2**31), "-1", "0", "1e3", None])
def test_an_id_no_row_can_have_is_a_404_not_a_database_error(app, companies, raw):
    """PostgreSQL refuses an integer out of range with an error (a 500): such an id is missing, like any other."""
    from leadthe.tenancy import scoped_get

    a, _ = companies
    with app.app_context(), tenant(a.org.id):
        with pytest.raises(NotFound):
            get_or_404(Team, raw)
        assert scoped_get(Team, raw) is None
