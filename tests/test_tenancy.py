"""Tenancy: another company's rows are invisible, and an id from another company is a 404."""
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
        return ",".join(t.name for t in db.session.scalars(sa.select(Team)))

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
