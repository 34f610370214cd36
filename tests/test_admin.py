"""Admin area: dashboard, people, invitations, CSV import, roles, reports; isolation and SQL budgets."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from leadthe.extensions import db
from tests.conftest import PASSWORD, audit_actions, make_team, make_user, outbox, post_form


def login(client, email, password=PASSWORD):
    r = post_form(client, "/login", {"email": email, "password": password})
    assert r.status_code == 303, r.status_code
    return client


@pytest.fixture
def admin_a(app, companies):
    return login(app.test_client(), companies[0].admin.email)


def count_statements(app, client, url):
    seen = []
    with app.app_context():
        engine = db.engine
    client.get(url)  # warm: per-process tables (policy versions) and the session's last-seen touch

    def listener(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200, (url, response.status_code)
    return len(seen)


def scale_company(app, users):
    from leadthe.models import Team, User
    from leadthe.scale import SCALE_PASSWORD, seed_scale

    with app.app_context():
        org = seed_scale(users=users, teams=max(users // 20, 1), echo=lambda *_: None)
        admin = db.session.scalar(sa.select(User.email).where(User.org_id == org.id, User.role == "admin"))
        team = db.session.scalar(sa.select(Team.id).where(Team.org_id == org.id).order_by(Team.id).limit(1))
    client = app.test_client()
    login(client, admin, SCALE_PASSWORD)
    return client, team


def test_statements_per_page_do_not_grow_with_the_company(app):
    counts = {}
    for users in (10, 1000):
        client, team = scale_company(app, users)
        counts[users] = [count_statements(app, client, url) for url in
                         ("/admin", f"/admin/teams/{team}", "/leaderboard?scope=org&period=all",
                          "/leaderboard?scope=team&period=week", "/admin/users", "/admin/teams", "/admin/usage")]
    assert counts[10] == counts[1000], counts


def test_dashboard_shows_figures_charts_and_tables(app, companies, admin_a):
    html = admin_a.get("/admin").get_data(as_text=True)
    assert "Adoption" in html and 'role="img"' in html and "<title" in html and "<desc" in html
    assert "Active learners per day" in html and "style=" not in html.split("<main")[1]
    fragment = admin_a.get("/admin/users", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Admin A" in fragment


def test_learners_get_403_and_managers_see_only_their_teams(app, companies):
    a, _b = companies
    learner = login(app.test_client(), a.learner.email)
    for url in ("/admin", "/admin/users", "/admin/teams", "/admin/reports.csv?report=people"):
        assert learner.get(url).status_code == 403
    other_team = make_team(app, a.org, "Elsewhere", members=[make_user(app, a.org, name="Outsider Olga")])
    manager = login(app.test_client(), a.manager.email)
    html = manager.get("/admin/users").get_data(as_text=True)
    assert "Learner A" in html and "Outsider Olga" not in html and "Admin A" not in html
    assert manager.get(f"/admin/teams/{a.team.id}").status_code == 200
    assert manager.get(f"/admin/teams/{other_team.id}").status_code == 404
    assert manager.get(f"/admin/users?team={other_team.id}").status_code == 404
    assert manager.get(f"/admin/users/{a.admin.id}").status_code == 404
    assert manager.get(f"/admin/users/{a.learner.id}").status_code == 200
    with manager.get("/admin/reports.csv?report=people") as r:
        assert "Learner A" in r.get_data(as_text=True) and "Outsider" not in r.get_data(as_text=True)


def issue_routes(app):
    prefixes = ("/admin/users", "/admin/teams", "/admin/invitations", "/admin/reports", "/admin/usage", "/leaderboard")
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "admin.report_minor_view":  # the privacy area's admin-only action (403 for managers)
            continue
        if rule.rule == "/admin" or rule.rule.startswith(prefixes):
            yield rule


def test_every_route_is_404_for_another_companys_ids(app, companies):
    from leadthe.models import ImportBatch, Invitation, utcnow

    a, b = companies
    with app.app_context():
        now = utcnow()
        inv = Invitation(org_id=b.org.id, email="x@b.example", role="learner", nonce="n", sent_at=now, expires_at=now, created_at=now)
        batch = ImportBatch(org_id=b.org.id, created_by_id=b.admin.id, rows=[], expires_at=now, created_at=now)
        db.session.add_all([inv, batch])
        db.session.commit()
        ids = {"user_id": b.learner.id, "team_id": b.team.id, "invitation_id": inv.id, "batch_id": batch.id}
    checked = 0
    for who in (a.admin, a.manager):
        client = login(app.test_client(), who.email)
        token = re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/dashboard").get_data(as_text=True)).group(1)
        for rule in issue_routes(app):
            if not rule.arguments:
                continue
            url = rule.rule
            for name in rule.arguments:
                url = re.sub(rf"<(int:)?{name}>", str(ids[name]), url)
            for method in sorted(rule.methods & {"GET", "POST"}):
                response = client.open(url, method=method, data={"csrf_token": token})
                assert response.status_code == 404, (who.role, method, url, response.status_code)
                checked += 1
    assert checked >= 20


def test_manager_gets_404_for_people_outside_their_teams_on_every_person_route(app, companies):
    a, _b = companies
    outsider = make_user(app, a.org, name="Outside Oscar")
    manager = login(app.test_client(), a.manager.email)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', manager.get("/dashboard").get_data(as_text=True)).group(1)
    for rule in issue_routes(app):
        if rule.arguments == {"user_id"}:
            url = rule.rule.replace("<int:user_id>", str(outsider.id))
            for method in sorted(rule.methods & {"GET", "POST"}):
                assert manager.open(url, method=method, data={"csrf_token": token}).status_code == 404, url
    # and the admin-only actions on their own member are forbidden, not hidden
    assert post_form(manager, f"/admin/users/{a.learner.id}/deactivate", {}, page="/dashboard").status_code == 403


def test_people_search_filters_and_pagination(app, companies, admin_a):
    a, _ = companies
    for i in range(55):
        make_user(app, a.org, name=f"Zed {i:02d}", email=f"zed{i}@a.example")
    html = admin_a.get("/admin/users?q=zed").get_data(as_text=True)
    assert "55 people" in html and "Zed 00" in html and "Zed 54" not in html and "Page 1 of 2" in html
    assert "Zed 54" in admin_a.get("/admin/users?q=zed&page=2").get_data(as_text=True)
    html = admin_a.get(f"/admin/users?team={a.team.id}&role=manager").get_data(as_text=True)
    assert "Manager A" in html and "Learner A" not in html
    assert "Learner B" not in admin_a.get("/admin/users?q=learner").get_data(as_text=True)


def test_invitation_accept_resend_revoke(app, companies, admin_a):
    a, _ = companies
    r = post_form(admin_a, "/admin/invitations", {"email": "New.Person@A.example", "role": "manager", "team_id": str(a.team.id)})
    assert r.status_code == 303
    mail = outbox(app, kind="invitation")[-1]
    assert mail.to_addr == "new.person@a.example"
    link = re.search(r"http://localhost(/invite/\S+)", mail.body_text).group(1)
    # a resend replaces the link
    from leadthe.models import Invitation
    with app.app_context():
        inv_id = db.session.scalar(sa.select(Invitation.id))
    post_form(admin_a, f"/admin/invitations/{inv_id}/resend", {}, page="/admin/invitations")
    new_link = re.search(r"http://localhost(/invite/\S+)", outbox(app, kind="invitation")[-1].body_text).group(1)
    invitee = app.test_client()
    assert invitee.get(link).status_code == 404
    assert invitee.get(new_link, follow_redirects=True).status_code == 200
    r = post_form(invitee, new_link, {"name": "New Person", "password": PASSWORD, "age_confirm": "y", "accept_policy": "y"})
    assert r.status_code == 303 and r.headers["Location"] == "/dashboard"
    assert invitee.get("/dashboard").status_code == 200
    from leadthe.models import TeamMembership, User
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "new.person@a.example"))
        assert user.role == "manager" and user.org_id == a.org.id and user.email_verified_at is not None
        assert db.session.scalar(sa.select(TeamMembership.team_id).where(TeamMembership.user_id == user.id)) == a.team.id
    assert app.test_client().get(new_link).status_code == 404  # used
    # revoke
    post_form(admin_a, "/admin/invitations", {"email": "later@a.example", "role": "learner", "team_id": ""})
    later = re.search(r"http://localhost(/invite/\S+)", outbox(app, kind="invitation")[-1].body_text).group(1)
    with app.app_context():
        later_id = db.session.scalar(sa.select(Invitation.id).where(Invitation.email == "later@a.example"))
    post_form(admin_a, f"/admin/invitations/{later_id}/revoke", {}, page="/admin/invitations")
    assert app.test_client().get(later).status_code == 404
    # an address with an account cannot be invited
    r = post_form(admin_a, "/admin/invitations", {"email": a.learner.email, "role": "learner", "team_id": ""})
    assert r.status_code == 422 and "already has an account" in r.get_data(as_text=True)


def upload(client, text, url="/admin/users/import"):
    return post_form(client, url, {"file": (io.BytesIO(text.encode()), "people.csv")}, page="/admin/users/import")


def test_import_with_errors_writes_nothing(app, companies, admin_a):
    from leadthe.models import ImportBatch, Invitation, OutboxMail

    a, _ = companies
    csv_text = ("email,name,job_title,department,team,role\n"
                "ok@a.example,Ok Person,,,Team A,learner\n"
                "not-an-address,Bad Mail,,,Team A,learner\n"
                "ok@a.example,Twice,,,,learner\n"
                f"{a.learner.email},Existing,,,,learner\n"
                "new@a.example,Unknown Team,,,Nowhere,learner\n"
                "role@a.example,Bad Role,,,,boss\n")
    r = upload(admin_a, csv_text)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    for problem in ("not a valid e-mail address", "the same address is on line 2", "already has an account",
                    "no team called", "unknown role"):
        assert problem in html
    with app.app_context():
        for model in (Invitation, ImportBatch, OutboxMail):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_import_preview_then_one_transaction(app, companies, admin_a):
    from leadthe.models import ImportBatch, Invitation

    rows = "".join(f"p{i}@a.example,Person {i},Analyst,Ops,Team A,learner\n" for i in range(30))
    r = upload(admin_a, "email,name,job_title,department,team,role\n" + rows)
    assert r.status_code == 200 and "30 people will be invited" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0
        batch_id = db.session.scalar(sa.select(ImportBatch.id))
    r = post_form(admin_a, f"/admin/users/import/{batch_id}", {}, page="/admin/users/import")
    assert r.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 30
    assert len(outbox(app, kind="invitation")) == 30
    assert post_form(admin_a, f"/admin/users/import/{batch_id}", {}, page="/admin/users/import").status_code == 404


def test_role_change_needs_password_and_is_audited(app, companies, admin_a):
    a, _ = companies
    url = f"/admin/users/{a.learner.id}/role"
    r = post_form(admin_a, url, {"role": "manager", "password": "wrong"}, page=f"/admin/users/{a.learner.id}")
    assert r.status_code == 422 and "not your current password" in r.get_data(as_text=True)
    r = post_form(admin_a, url, {"role": "manager", "password": PASSWORD}, page=f"/admin/users/{a.learner.id}")
    assert r.status_code == 303
    assert "role.changed" in audit_actions(app)


def test_deactivate_signs_out_everywhere_and_close_starts_retention(app, companies, admin_a):
    a, _ = companies
    learner = login(app.test_client(), a.learner.email)
    assert learner.get("/dashboard").status_code == 200
    post_form(admin_a, f"/admin/users/{a.learner.id}/deactivate", {}, page=f"/admin/users/{a.learner.id}")
    assert learner.get("/dashboard").status_code in (302, 303)
    assert "user.deactivated" in audit_actions(app)
    post_form(admin_a, f"/admin/users/{a.learner.id}/close", {"confirm": "yes"}, page=f"/admin/users/{a.learner.id}")
    from leadthe.models import User
    with app.app_context():
        user = db.session.get(User, a.learner.id)
        assert user.status == "closed" and user.closed_at is not None
    assert admin_a.get(f"/admin/users/{a.learner.id}").status_code == 404
    assert "Learner A" not in admin_a.get("/admin/users?status=deactivated").get_data(as_text=True)


def test_csv_reports(app, companies, admin_a):
    for report in ("people", "teams", "activity", "courses"):
        with admin_a.get(f"/admin/reports.csv?report={report}") as r:
            assert r.status_code == 200 and r.mimetype == "text/csv"
            assert "attachment" in r.headers["Content-Disposition"]
    with admin_a.get("/admin/reports.csv?report=people") as r:
        text = r.get_data(as_text=True)
        assert text.startswith("name,email,role,teams") and "Learner A" in text and "Learner B" not in text
    assert admin_a.get("/admin/reports.csv?report=nope").status_code == 404


def test_usage_k_anonymity_for_managers(app, companies):
    from leadthe.models import PageView, utcnow

    a, _ = companies
    with app.app_context():
        db.session.add_all([PageView(org_id=a.org.id, user_id=a.learner.id, feature="courses", route="/courses",
                                     browser="Firefox", device="desktop", created_at=utcnow()) for _ in range(3)])
        db.session.commit()
    admin = login(app.test_client(), a.admin.email)
    assert "Firefox" in admin.get("/admin/usage").get_data(as_text=True)
    manager = login(app.test_client(), a.manager.email)
    html = manager.get("/admin/usage").get_data(as_text=True)
    assert "fewer than 5 people" in html and "Firefox" not in html


def test_dashboard_maturity_distribution_per_dimension(app, companies, admin_a):
    from leadthe.models.assessment import MaturityResult

    a, _ = companies
    with app.app_context():
        db.session.add(MaturityResult(org_id=a.org.id, user_id=a.learner.id, rubric_version="1", level=3, self_level=3,
                                      scores={"choosing": 4, "prompting": 2, "judging": 3, "responsible": 5, "practice": 1}))
        db.session.commit()
    html = admin_a.get("/admin").get_data(as_text=True)
    section = html.split('id="maturity-h"')[1]
    assert "Overall level" in section and "Choosing what to hand to AI" in section
    row = re.search(r"Describing the task \(prompting\)</th>(.*?)</tr>", section).group(1)
    assert re.findall(r"<td>(\d+)</td>", row) == ["0", "1", "0", "0", "0"]
