"""Admin area: dashboard, people, invitations, CSV import, roles, reports; isolation and SQL budgets."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from tests.conftest import PASSWORD, audit_actions, fresh_code, login_with_code, make_staff, make_team, make_user, outbox, post_form
from tests.helpers import close_step_up_window, count_statements, give_seats, scale_company, signed_in


@pytest.fixture
def admin_a(app, companies):
    return signed_in(app, companies[0].admin.email)


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
    # nobody has learned yet: the charts say so and what to do, instead of drawing empty frames
    assert "Adoption" in html and "Active learners per day" in html and "style=" not in html.split("<main")[1]
    assert "Nobody has learned in the last 30 days yet." in html and 'class="cchart' not in html
    fragment = admin_a.get("/admin/users", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Admin A" in fragment


def test_learners_get_403_and_managers_see_only_their_teams(app, companies):
    a, _b = companies
    learner = signed_in(app, a.learner.email)
    for url in ("/admin", "/admin/users", "/admin/teams", "/admin/reports.csv?report=people"):
        assert learner.get(url).status_code == 403
    other_team = make_team(app, a.org, "Elsewhere", members=[make_user(app, a.org, name="Outsider Olga")])
    manager = signed_in(app, a.manager.email)
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
        client = signed_in(app, who.email)
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
    manager = signed_in(app, a.manager.email)
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
    post_form(admin_a, f"/admin/invitations/{later_id}/revoke", {"confirmed": "yes"}, page="/admin/invitations")
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

    give_seats(app, companies[0].org, 50)  # 30 more people than a trial's 25 seats
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
    close_step_up_window(app, a.admin.email)
    url = f"/admin/users/{a.learner.id}/role"
    r = post_form(admin_a, url, {"role": "manager", "password": "wrong"}, page=f"/admin/users/{a.learner.id}")
    assert r.status_code == 422 and "not your current password" in r.get_data(as_text=True)
    r = post_form(admin_a, url, {"role": "manager", "password": PASSWORD}, page=f"/admin/users/{a.learner.id}")
    assert r.status_code == 303
    assert "role.changed" in audit_actions(app)


def test_deactivate_signs_out_everywhere_and_close_starts_retention(app, companies, admin_a):
    a, _ = companies
    learner = signed_in(app, a.learner.email)
    assert learner.get("/dashboard").status_code == 200
    post_form(admin_a, f"/admin/users/{a.learner.id}/deactivate", {"confirmed": "yes"}, page=f"/admin/users/{a.learner.id}")
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
    admin = signed_in(app, a.admin.email)
    assert "Firefox" in admin.get("/admin/usage").get_data(as_text=True)
    manager = signed_in(app, a.manager.email)
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
    assert re.findall(r"<td class=\"num\">(\d+)</td>", row) == ["0", "1", "0", "0", "0"]


# --- issue 14: invitations cannot be abused for mail, or to learn about other companies ---------------

def invitation_count(app) -> int:
    from leadthe.models import Invitation

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Invitation))


def test_an_unconfirmed_admin_cannot_invite_import_or_resend(app, companies):
    from leadthe.models import Invitation, User

    a, _ = companies
    with app.app_context():
        db.session.get(User, a.admin.id).email_verified_at = None
        db.session.commit()
    admin = signed_in(app, a.admin.email)
    page = admin.get("/admin/invitations").get_data(as_text=True)
    assert "Confirm your own e-mail address" in page and "/account/verify-email/resend" in page
    r = post_form(admin, "/admin/invitations", {"email": "victim@elsewhere.example", "role": "learner", "team_id": ""})
    assert r.status_code == 422 and "Confirm your own e-mail address" in r.get_data(as_text=True).split('id="email-error"')[1]
    r = upload(admin, "email,name,job_title,department,team,role\nvictim@elsewhere.example,V,,,,learner\n")
    assert r.status_code == 422 and "Confirm your own e-mail address" in r.get_data(as_text=True).split('id="file-error"')[1]
    with app.app_context():
        now = sa.func.now()
        inv = Invitation(org_id=a.org.id, email="old@a.example", role="learner", nonce="n", sent_at=now,
                         expires_at=utcnow_plus_days(7), created_at=now)
        db.session.add(inv)
        db.session.commit()
        inv_id = inv.id
    post_form(admin, f"/admin/invitations/{inv_id}/resend", {}, page="/admin/invitations")
    assert outbox(app, kind="invitation") == [] and invitation_count(app) == 1
    # the way out: a new confirmation link
    assert post_form(admin, "/account/verify-email/resend", {}, page="/admin/invitations").status_code == 303
    assert [m.to_addr for m in outbox(app, kind="verify_email")] == [a.admin.email]


def utcnow_plus_days(days):
    from datetime import timedelta

    from leadthe.models import utcnow

    return utcnow() + timedelta(days=days)


def test_invitation_mails_per_company_and_day_are_limited(app, companies, monkeypatch):
    from leadthe.models import Invitation

    monkeypatch.setitem(app.config, "INVITATIONS_PER_DAY", 3)
    a, b = companies
    admin = signed_in(app, a.admin.email)
    for i in range(2):
        assert post_form(admin, "/admin/invitations", {"email": f"n{i}@a.example", "role": "learner", "team_id": ""}).status_code == 303
    with app.app_context():
        first = db.session.scalar(sa.select(Invitation.id).where(Invitation.email == "n0@a.example"))
    post_form(admin, f"/admin/invitations/{first}/resend", {}, page="/admin/invitations")  # the third mail today
    assert len(outbox(app, kind="invitation")) == 3
    r = post_form(admin, "/admin/invitations", {"email": "n9@a.example", "role": "learner", "team_id": ""})
    assert r.status_code == 422 and "3 invitations a day" in r.get_data(as_text=True).split('id="email-error"')[1]
    r = post_form(admin, f"/admin/invitations/{first}/resend", {}, page="/admin/invitations", follow=True)
    assert "3 invitations a day" in r.get_data(as_text=True)
    r = upload(admin, "email,name,job_title,department,team,role\nx@a.example,X,,,,learner\n")
    assert r.status_code == 422 and "3 invitations a day" in r.get_data(as_text=True).split('id="file-error"')[1]
    assert len(outbox(app, kind="invitation")) == 3 and invitation_count(app) == 2
    # another company has its own allowance
    other = signed_in(app, b.admin.email)
    assert post_form(other, "/admin/invitations", {"email": "n0@b.example", "role": "learner", "team_id": ""}).status_code == 303


def test_an_import_larger_than_what_is_left_today_is_refused_before_and_at_the_go_ahead(app, companies, monkeypatch):
    from leadthe.models import ImportBatch

    monkeypatch.setitem(app.config, "INVITATIONS_PER_DAY", 5)
    a, _ = companies
    admin = signed_in(app, a.admin.email)
    rows = "".join(f"p{i}@a.example,Person {i},,,,learner\n" for i in range(6))
    r = upload(admin, "email,name,job_title,department,team,role\n" + rows)
    assert r.status_code == 422 and "has 5 left today (this would send 6)" in r.get_data(as_text=True)
    r = upload(admin, "email,name,job_title,department,team,role\n" + rows[: rows.index("p4@")])
    assert r.status_code == 200 and "4 people will be invited" in r.get_data(as_text=True)
    with app.app_context():
        batch_id = db.session.scalar(sa.select(ImportBatch.id))
    for i in range(2):  # meanwhile, two single invitations
        post_form(admin, "/admin/invitations", {"email": f"single{i}@a.example", "role": "learner", "team_id": ""})
    r = post_form(admin, f"/admin/users/import/{batch_id}", {}, page="/admin/users/import", follow=True)
    assert "has 3 left today (this would send 4)" in r.get_data(as_text=True)
    assert invitation_count(app) == 2 and len(outbox(app, kind="invitation")) == 2


def test_invitation_mail_keeps_customer_text_out_of_the_subject_and_unlinked(app):
    from tests.conftest import make_org

    org = make_org(app, "Prize desk: claim at http://evil.example/win")
    make_user(app, org, email="boss@evil.example", role="admin", name="Support www.evil.example\nCall now")
    admin = signed_in(app, "boss@evil.example")
    assert post_form(admin, "/admin/invitations", {"email": "target@c.example", "role": "learner", "team_id": ""}).status_code == 303
    r = upload(admin, "email,name,job_title,department,team,role\nother@c.example,Visit bank-login.example now,,,,learner\n")
    assert r.status_code == 200
    with app.app_context():
        from leadthe.models import ImportBatch

        batch_id = db.session.scalar(sa.select(ImportBatch.id))
    assert post_form(admin, f"/admin/users/import/{batch_id}", {}, page="/admin/users/import").status_code == 303
    mails = outbox(app, kind="invitation")
    assert len(mails) == 2
    for mail in mails:
        assert mail.subject == "You are invited to LeadThe.AI"
        links = re.findall(r"(?:https?://|www\.)\S+|\b[\w-]+\.example\b", mail.body_text)
        assert all(link.startswith("http://localhost/invite/") for link in links), links
        assert "Support www[.]evil[.]example Call now invited you to join Prize desk: claim at http[:]//evil[.]example/win" \
            in mail.body_text
    assert "Hello Visit bank-login[.]example now," in mails[1].body_text


def test_invitations_and_import_say_nothing_about_other_companies(app, companies):
    from leadthe.models import Invitation, User

    a, b = companies
    staff = make_user(app, None, email="ops@leadthe.example", role="staff")
    admin = signed_in(app, a.admin.email)
    # one address: the same answer whether it belongs to another company, to our staff, or to nobody
    for email in (b.learner.email, staff.email, "nobody@c.example"):
        r = post_form(admin, "/admin/invitations", {"email": email, "role": "learner", "team_id": ""}, follow=True)
        assert r.status_code == 200 and f"Invitation sent to {email}." in r.get_data(as_text=True)
    # the company's own people are still reported
    r = post_form(admin, "/admin/invitations", {"email": a.learner.email, "role": "learner", "team_id": ""})
    assert r.status_code == 422 and "already has an account" in r.get_data(as_text=True)
    # a file: rows of other companies' people look like any new person's
    r = upload(admin, "email,name,job_title,department,team,role\n"
                      f"{b.admin.email},B,,,,learner\n{b.manager.email},M,,,,learner\nfresh@c.example,F,,,,learner\n")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "3 people will be invited" in html and "already has an account" not in html
    with app.app_context():
        from leadthe.models import ImportBatch

        batch_id = db.session.scalar(sa.select(ImportBatch.id))
    assert post_form(admin, f"/admin/users/import/{batch_id}", {}, page="/admin/users/import").status_code == 303
    # accepting creates no second account: the invitee is told to log in
    mail = [m for m in outbox(app, kind="invitation") if m.to_addr == b.learner.email][-1]
    link = re.search(r"http://localhost(/invite/\S+)", mail.body_text).group(1)
    invitee = app.test_client()
    r = post_form(invitee, link, {"name": "Learner B", "password": PASSWORD, "age_confirm": "y", "accept_policy": "y"})
    assert r.status_code == 422 and "already exists. Log in instead." in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(User.org_id).where(User.email == b.learner.email)) == b.org.id
        assert db.session.scalar(sa.select(Invitation.status).where(Invitation.email == b.learner.email)) == "pending"


def test_import_file_that_is_not_csv_is_an_error_beside_the_file_field(app, companies, admin_a):
    header = "email,name,job_title,department,team,role\n"
    for text, message in ((header + "big@a.example," + "x" * (129 * 1024) + ",,,,learner\n", "Line 2 has a cell longer than 128 KiB"),
                          (header + 'open@a.example,"never closed\n' + "y" * (140 * 1024) + "\n", "Line 3 has a cell longer than 128 KiB"),
                          ("email," + "h" * (130 * 1024) + "\n", "Line 1 has a cell longer than 128 KiB")):
        r = upload(admin_a, text)
        assert r.status_code == 422, message
        assert message in r.get_data(as_text=True).split('id="file-error"')[1], message
    # a bare carriage return ends a line, as in old Mac files; inside quotes it is part of the cell
    r = upload(admin_a, header.replace("\n", "\r") + "cr1@a.example,One,,,,learner\rcr2@a.example,\"Two\rLines\",,,,learner\r")
    assert r.status_code == 200 and "2 people will be invited" in r.get_data(as_text=True)
    r = upload(admin_a, header + "cr3@a.example,Half\rway,,,,learner\n")
    assert r.status_code == 422 and "“way” is not a valid e-mail address" in r.get_data(as_text=True)


def test_closing_a_company_ends_its_pending_invitations(app, companies):
    from leadthe.models import Invitation, Organization, User

    a, b = companies
    admin = signed_in(app, a.admin.email)
    post_form(admin, "/admin/invitations", {"email": "late@a.example", "role": "admin", "team_id": ""})
    link = re.search(r"http://localhost(/invite/\S+)", outbox(app, kind="invitation")[-1].body_text).group(1)
    other = signed_in(app, b.admin.email)
    post_form(other, "/admin/invitations", {"email": "kept@b.example", "role": "learner", "team_id": ""})
    staff_user = make_staff(app, email="ops@leadthe.example")
    staff = app.test_client()
    login_with_code(staff, app, staff_user)
    assert post_form(staff, f"/staff/organizations/{a.org.id}/close",
                     {"reason": "Contract ended", "password": PASSWORD, "code": fresh_code(app, staff_user)}).status_code == 303
    invitee = app.test_client()
    assert invitee.get(link).status_code == 404
    r = post_form(invitee, link, {"name": "Late", "password": PASSWORD, "age_confirm": "y", "accept_policy": "y"},
                  page="/login")
    assert r.status_code == 404
    with app.app_context():
        assert dict(db.session.execute(sa.select(Invitation.email, Invitation.status)).all()) == {
            "late@a.example": "revoked", "kept@b.example": "pending"}
        assert db.session.scalar(sa.select(User.id).where(User.email == "late@a.example")) is None
        # and an invitation that escaped the revocation (closed another way) is refused on acceptance too
        db.session.execute(sa.update(Invitation).where(Invitation.email == "late@a.example").values(status="pending"))
        db.session.commit()
        assert db.session.get(Organization, a.org.id).status == "closed"
    assert invitee.get(link).status_code == 404


def test_people_lists_show_a_manager_only_the_teams_they_manage(app, companies):
    a, _ = companies
    make_team(app, a.org, "Secret Project", members=[a.learner])
    manager = signed_in(app, a.manager.email)
    with manager.get("/admin/reports.csv?report=people") as r:
        text = r.get_data(as_text=True)
    assert "Learner A" in text and "Team A" in text and "Secret Project" not in text
    for url in ("/admin/users", f"/admin/users/{a.learner.id}"):
        html = manager.get(url).get_data(as_text=True)
        assert "Team A" in html and "Secret Project" not in html, url
    admin = signed_in(app, a.admin.email)
    with admin.get("/admin/reports.csv?report=people") as r:
        assert "Secret Project; Team A" in r.get_data(as_text=True)


def test_an_address_in_use_is_a_code_not_an_english_sentence(app, companies):
    """email_in_use answers with a code; the page shows its translated sentence beside the field."""
    from leadthe.admin.people import InUse, email_in_use

    a, _b = companies
    with app.app_context():
        assert email_in_use(a.org.id, a.learner.email) is InUse.ACCOUNT
        assert email_in_use(a.org.id, "nobody@example.com") is None
