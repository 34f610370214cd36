"""The app shell: navigation by role, the account menu, the staff's landing page, the error summary, the
confirmation step of destructive actions, the banners and the development style guide."""
from __future__ import annotations

import re

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import Invitation, TeamMembership, UserSession
from tests.conftest import PASSWORD, login_with_code, make_staff, make_user, post_form
from tests.helpers import signed_in

MAIN_NAV = re.compile(r'<nav class="nav" aria-label="Main">(.*?)</nav>', re.S)
ACCOUNT_MENU = re.compile(r'<details class="menu">(.*?)</details>', re.S)


def test_the_account_menu_works_without_javascript(app, companies):
    a, _ = companies
    html = signed_in(app, a.learner).get("/courses").get_data(as_text=True)
    menu = ACCOUNT_MENU.search(html).group(1)
    for href in ("/account/profile", "/account/security", "/account/preferences", "/privacy", "/support"):
        assert f'href="{href}"' in menu
    assert 'action="/logout"' in menu and "Log out" in menu
    assert re.search(r'href="/courses" aria-current="page">Courses<', MAIN_NAV.search(html).group(1))


def test_help_opens_a_page_with_the_same_name(app, companies):
    a, _ = companies
    client = signed_in(app, a.learner)
    label = re.search(r'href="/support"[^>]*>([^<]+)<', client.get("/dashboard").get_data(as_text=True)).group(1)
    page = client.get("/support").get_data(as_text=True)
    assert f"<title>{label} ·" in page and f"<h1>{label}</h1>" in page


def test_staff_land_on_their_console_with_their_own_navigation(app, client):
    staff = make_staff(app, "dpo")
    answer = login_with_code(client, app, staff)
    assert answer.status_code == 303 and answer.headers["Location"] == "/staff/console"
    html = client.get("/staff/console").get_data(as_text=True)
    main = MAIN_NAV.search(html).group(1)
    assert 'href="/staff/console" aria-current="page"' in main and 'href="/staff/privacy-requests"' in main
    assert 'href="/dashboard"' not in main and 'href="/courses"' not in main


def test_a_form_with_errors_links_each_error_to_its_field(app, companies):
    a, _ = companies
    client = signed_in(app, a.admin)
    answer = post_form(client, "/admin/invitations", {"email": "not an address", "role": "learner", "team_id": ""})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert 'href="#email"' in summary
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="email"|<input[^>]*id="email"[^>]*aria-invalid="true"', html)


def test_revoking_an_invitation_asks_first(app, companies):
    a, _ = companies
    client = signed_in(app, a.admin)
    post_form(client, "/admin/invitations", {"email": "new@a.example", "role": "learner", "team_id": ""})
    with app.app_context():
        inv_id = db.session.scalar(sa.select(Invitation.id).where(Invitation.email == "new@a.example"))
    page = client.get("/admin/invitations").get_data(as_text=True)
    assert f'action="/admin/invitations/{inv_id}/revoke" data-confirm=' in page  # the dialog with JavaScript
    asked = post_form(client, f"/admin/invitations/{inv_id}/revoke", {}, page="/admin/invitations")
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Revoke the invitation for new@a.example?" in html
    assert 'name="confirmed" value="yes"' in html and 'class="danger"' in html
    with app.app_context():
        assert db.session.get(Invitation, inv_id).status == "pending"
    done = post_form(client, f"/admin/invitations/{inv_id}/revoke", {"confirmed": "yes"}, page="/admin/invitations")
    assert done.status_code == 303
    with app.app_context():
        assert db.session.get(Invitation, inv_id).status == "revoked"


def test_removing_a_team_member_asks_first(app, companies):
    a, _ = companies
    client = signed_in(app, a.admin)
    url = f"/admin/teams/{a.team.id}/members/{a.learner.id}/remove"

    def still_member():
        with app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(TeamMembership).where(
                TeamMembership.team_id == a.team.id, TeamMembership.user_id == a.learner.id)) == 1

    asked = post_form(client, url, {}, page=f"/admin/teams/{a.team.id}")
    assert asked.status_code == 200 and 'name="confirmed" value="yes"' in asked.get_data(as_text=True)
    assert still_member()
    # the confirmation page's own form does it
    confirm_page = asked.get_data(as_text=True)
    assert f'action="{url}"' in confirm_page
    assert post_form(client, url, {"confirmed": "yes"}, page=f"/admin/teams/{a.team.id}").status_code == 303
    assert not still_member()


def test_deactivating_a_person_asks_first(app, companies):
    a, _ = companies
    client = signed_in(app, a.admin)
    url = f"/admin/users/{a.learner.id}/deactivate"
    asked = post_form(client, url, {}, page=f"/admin/users/{a.learner.id}")
    assert asked.status_code == 200 and "Deactivate" in asked.get_data(as_text=True)
    with app.app_context():
        from leadthe.models import User
        assert db.session.get(User, a.learner.id).status == "active"
    assert post_form(client, url, {"confirmed": "yes"}, page=f"/admin/users/{a.learner.id}").status_code == 303
    with app.app_context():
        assert db.session.get(User, a.learner.id).status == "deactivated"


def test_signing_out_other_devices_asks_in_a_dialog_and_works_in_one_click_without_script(app, companies):
    a, _ = companies
    phone = signed_in(app, a.learner)
    laptop = signed_in(app, a.learner)

    def active_sessions():
        with app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(UserSession).where(
                UserSession.user_id == a.learner.id, UserSession.revoked_at.is_(None)))

    html = laptop.get("/account/security").get_data(as_text=True)
    form = re.search(r'<form[^>]*action="/account/sessions/revoke-others"[^>]*>', html).group(0)
    assert 'data-confirm="Sign out everywhere else?"' in form  # app.js asks in a <dialog> first
    assert active_sessions() == 2
    assert post_form(laptop, "/account/sessions/revoke-others", {}, page="/account/security").status_code == 303
    assert active_sessions() == 1 and phone.get("/dashboard").status_code != 200


def test_turning_off_2fa_is_a_confirmation_page_not_an_inline_form(app, companies):
    from tests.conftest import enable_2fa, fresh_code

    a, _ = companies
    person = make_user(app, a.org, email="twofa@a.example")
    person.otp_secret, _codes = enable_2fa(app, person)
    client = app.test_client()
    login_with_code(client, app, person)
    security = client.get("/account/security").get_data(as_text=True)
    assert 'action="/account/2fa/disable"' not in security and 'href="/account/2fa/disable"' in security
    page = client.get("/account/2fa/disable").get_data(as_text=True)
    assert "Turn off two-step verification?" in page and 'name="password"' in page and 'class="danger"' in page
    done = post_form(client, "/account/2fa/disable", {"password": PASSWORD, "code": fresh_code(app, person)})
    assert done.status_code == 303


def test_banners_are_one_compact_region(app, client):
    html = client.get("/login").get_data(as_text=True)
    region = re.search(r'<div class="banners">(.*?)</div>\s*<main', html, re.S).group(1)
    assert 'id="cookie-banner"' in region and 'name="action" value="reject_all"' in region
    assert 'name="preferences"' in region  # the per-category choice still works without JavaScript


def test_the_style_guide_exists_only_in_development(app, client, make_app, monkeypatch):
    assert client.get("/dev/styleguide").status_code == 404
    monkeypatch.setenv("LEADTHE_ENV", "development")
    dev = make_app().test_client()
    html = dev.get("/dev/styleguide").get_data(as_text=True)
    for component in ('class="error-summary"', 'aria-invalid="true"', 'class="kpis"', 'class="table-wrap"',
                      'class="alert', 'class="badge', "<progress", 'class="empty"', 'class="danger"', "data-confirm="):
        assert component in html, component
    asked = post_form(dev, "/dev/styleguide", {})
    assert asked.status_code == 200 and 'name="confirmed" value="yes"' in asked.get_data(as_text=True)


def test_an_htmx_answer_with_errors_carries_the_summary_inside_the_form(app, companies):
    a, _ = companies
    client = signed_in(app, a.admin)
    answer = post_form(client, "/admin/invitations", {"email": "", "role": "learner", "team_id": ""},
                       headers={"HX-Request": "true"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<html" not in html
    assert re.match(r'\s*<form id="invite-form"[^>]*>\s*<div class="error-summary"', html)
    assert 'href="#email"' in html


def test_the_lesson_page_leaves_out_the_shell_script(app, companies):
    """A lesson stays within its request budget: the shell's script (tables, dialogs, menu) is not needed there."""
    from tests.helpers import make_course

    a, _ = companies
    with app.app_context():
        make_course(None, "walk", "A short walk")
        db.session.commit()
    client = signed_in(app, a.learner)
    assert "js/app.js" in client.get("/courses").get_data(as_text=True)
    post_form(client, "/courses/walk/enroll", {}, page="/courses/walk")
    lesson = client.get("/courses/walk/lessons/practice")
    assert lesson.status_code == 200
    html = lesson.get_data(as_text=True)
    assert "js/app.js" not in html and 'id="confirm-dialog"' not in html
