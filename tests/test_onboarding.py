"""A new company's admin sees a checklist of first steps on the dashboard, each with its state and link, until
all are done or it is hidden; empty admin lists say what to do next."""
import re

from tests.conftest import make_org, make_user, post_form
from tests.helpers import SIGNUP, login


def checklist(html):
    match = re.search(r'<section class="card onboarding".*?</section>', html, re.S)
    return match.group(0) if match else None


def todo(html):
    return re.findall(r'<li class="todo">\s*<strong>([^<]+)</strong>', checklist(html) or "")


def test_a_new_company_admin_gets_the_checklist_until_it_is_done(client, app):
    response = post_form(client, "/signup", SIGNUP)
    assert response.status_code == 303
    page = client.get("/dashboard").get_data(as_text=True)
    box = checklist(page)
    assert box and "0 of 5 steps done" in box
    assert todo(page) == ["Confirm your e-mail address", "Create a team", "Invite your colleagues",
                          "Assign a first course", "Decide on two-step verification"]
    for link in ("/admin/teams", "/admin/invitations", "/admin/assignments", "/admin/settings"):
        assert f'href="{link}"' in box

    assert post_form(client, "/admin/teams", {"name": "Finance"}).status_code == 303
    assert post_form(client, "/admin/settings", {"leaderboard_enabled": "y"}).status_code == 303  # 2FA left off: decided
    page = client.get("/dashboard").get_data(as_text=True)
    assert "2 of 5 steps done" in checklist(page)
    assert "Create a team" not in todo(page) and "Decide on two-step verification" not in todo(page)
    assert "Create a team" in checklist(page)  # still listed, as done


def test_the_checklist_can_be_hidden(client, app):
    post_form(client, "/signup", SIGNUP)
    assert checklist(client.get("/dashboard").get_data(as_text=True))
    assert post_form(client, "/admin/onboarding/dismiss", {}, page="/dashboard").status_code == 303
    assert checklist(client.get("/dashboard").get_data(as_text=True)) is None


def test_an_established_company_and_learners_see_no_checklist(app, companies):
    a, _ = companies
    for who in (a.learner, a.manager):
        client = app.test_client()
        login(client, who)
        assert checklist(client.get("/dashboard").get_data(as_text=True)) is None
    # the admin of a company with people, a team, an assignment... still has open steps: it shows those only
    admin = app.test_client()
    login(admin, a.admin)
    page = admin.get("/dashboard").get_data(as_text=True)
    assert "Invite your colleagues" not in todo(page) and "Create a team" not in todo(page)
    assert "Assign a first course" in todo(page)


def test_the_checklist_goes_when_every_step_is_done(app):
    from leadthe.extensions import db
    from leadthe.models import Assignment, Course, Organization, utcnow

    org = make_org(app, "Done Ltd")
    admin = make_user(app, org, role="admin", email="boss@done.example")
    learner = make_user(app, org, email="pat@done.example")
    with app.app_context():
        course = Course(org_id=org.id, slug="c", title="C", summary="", topic="t", level="beginner", published=True)
        db.session.add(course)
        db.session.flush()
        db.session.add(Assignment(org_id=org.id, user_id=learner.id, course_id=course.id))
        db.session.get(Organization, org.id).require_2fa = False
        db.session.get(Organization, org.id).twofa_decided_at = utcnow()
        db.session.commit()
    client = app.test_client()
    login(client, admin)
    assert post_form(client, "/admin/teams", {"name": "All"}).status_code == 303
    assert checklist(client.get("/dashboard").get_data(as_text=True)) is None


def test_empty_admin_lists_say_what_to_do_next(client, app):
    post_form(client, "/signup", SIGNUP)
    expectations = {
        "/admin/teams": ('href="#new-team"', 'id="new-team"'),
        "/admin/invitations": ('href="/admin/users#invite-h"',),
        "/admin/assignments": ('href="/courses"',),
        "/admin/feedback": ('href="/admin/assignments"',),
        "/admin/maturity": ('href="/admin/teams"', 'href="/maturity"'),
        "/admin/users?role=manager": ('href="/admin/users"',),
    }
    for url, links in expectations.items():
        response = client.get(url)
        assert response.status_code == 200, url
        empty = re.findall(r'<p class="empty">.*?</p>', response.get_data(as_text=True), re.S)
        assert empty, f"{url} has no empty state"
        for link in links:
            assert link in response.get_data(as_text=True), (url, link)
