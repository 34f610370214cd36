"""Teams: create, rename, delete, members and managers; the team view with each member's progress."""
from __future__ import annotations

import sqlalchemy as sa

from leadthe.extensions import db
from tests.conftest import PASSWORD, make_user, post_form
from tests.helpers import signed_in


def test_create_rename_add_manage_remove_delete(app, companies):
    from leadthe.models import Team, TeamMembership, User

    a, b = companies
    admin = signed_in(app, a.admin.email)
    r = post_form(admin, "/admin/teams", {"name": "Finance"})
    assert r.status_code == 303
    team_url = r.headers["Location"]
    assert post_form(admin, "/admin/teams", {"name": "finance"}).status_code == 422  # names are unique
    team_id = int(team_url.rsplit("/", 1)[1])
    assert post_form(admin, f"{team_url}/rename", {"name": "Finance & Legal"}, page=team_url).status_code == 303
    person = make_user(app, a.org, name="Fay Finance", email="fay@a.example")
    assert post_form(admin, f"{team_url}/members", {"email": "fay@a.example", "manager": "y"}, page=team_url).status_code == 303
    r = post_form(admin, f"{team_url}/members", {"email": b.learner.email}, page=team_url)
    assert r.status_code == 422 and "Nobody in your company" in r.get_data(as_text=True)
    html = admin.get(team_url).get_data(as_text=True)
    assert "Finance &amp; Legal" in html and "Fay Finance" in html and "manager" in html
    with app.app_context():
        assert db.session.get(User, person.id).role == "manager"  # managing a team gives the manager pages
    # the same person may manage a second team
    assert post_form(admin, f"/admin/teams/{a.team.id}/members", {"email": "fay@a.example", "manager": "y"},
                     page=f"/admin/teams/{a.team.id}").status_code == 303
    fay = signed_in(app, "fay@a.example")
    assert fay.get(team_url).status_code == 200 and fay.get(f"/admin/teams/{a.team.id}").status_code == 200
    post_form(admin, f"{team_url}/members/{person.id}/manager", {"manager": "0"}, page=team_url)
    assert fay.get(team_url).status_code == 404
    post_form(admin, f"{team_url}/members/{person.id}/remove", {"confirmed": "yes"}, page=team_url)
    assert "Fay Finance" not in admin.get(team_url).get_data(as_text=True)
    assert admin.get(f"{team_url}/delete").status_code == 200  # confirm page
    assert post_form(admin, f"{team_url}/delete", {}).status_code == 303
    with app.app_context():
        assert db.session.get(Team, team_id) is None
        assert db.session.get(User, person.id) is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TeamMembership).where(TeamMembership.team_id == team_id)) == 0


def test_team_view_shows_member_progress(app, companies):
    from leadthe.models import ActivityDay, utcnow

    a, _ = companies
    with app.app_context():
        db.session.add(ActivityDay(user_id=a.learner.id, day=utcnow().date(), seconds=1200, lessons_completed=2))
        db.session.commit()
    manager = signed_in(app, a.manager.email)
    html = manager.get(f"/admin/teams/{a.team.id}").get_data(as_text=True)
    assert "Learner A" in html and "20 min" in html and "Lessons completed" in html
    assert "Rename" not in html  # managers see, admins edit
    assert post_form(manager, f"/admin/teams/{a.team.id}/rename", {"name": "Mine"}, page="/dashboard").status_code == 403
    teams = manager.get("/admin/teams").get_data(as_text=True)
    assert "Team A" in teams and "Team B" not in teams


def test_admin_sees_team_against_team(app, companies):
    a, _ = companies
    from tests.conftest import make_team

    make_team(app, a.org, "Second team", members=[make_user(app, a.org)])
    admin = signed_in(app, a.admin.email)
    html = admin.get("/admin/teams").get_data(as_text=True)
    assert "Team against team" in html and "Team A" in html and "Second team" in html and "Team B" not in html


def test_a_manager_made_learner_loses_the_teams_they_managed(app, companies):
    from leadthe.models import TeamMembership

    a, _ = companies
    manager = signed_in(app, a.manager.email)
    assert manager.get("/admin/assignments").status_code == 200
    admin = signed_in(app, a.admin.email)
    r = post_form(admin, f"/admin/users/{a.manager.id}/role", {"role": "learner", "password": PASSWORD},
                  page=f"/admin/users/{a.manager.id}")
    assert r.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(TeamMembership.is_manager).where(TeamMembership.user_id == a.manager.id)) is False
    assert manager.get("/admin/assignments").status_code == 403
    assert post_form(manager, "/admin/assignments", {"course_id": "1", "team_id": str(a.team.id)}, page="/dashboard").status_code == 403
    # made manager again, they manage nothing until an admin says which team
    post_form(admin, f"/admin/users/{a.manager.id}/role", {"role": "manager", "password": PASSWORD}, page=f"/admin/users/{a.manager.id}")
    assert manager.get(f"/admin/teams/{a.team.id}").status_code == 404


def test_a_left_over_team_flag_gives_a_learner_no_manager_rights(app, companies):
    from leadthe.models import TeamMembership, User

    a, _ = companies
    with app.app_context():  # as rows written before role changes cleared the flag
        db.session.get(User, a.manager.id).role = "learner"
        assert db.session.scalar(sa.select(TeamMembership.is_manager).where(TeamMembership.user_id == a.manager.id)) is True
        db.session.commit()
    former = signed_in(app, a.manager.email)
    assert former.get("/admin/assignments").status_code == 403
    assert former.get(f"/admin/teams/{a.team.id}").status_code == 403


def test_a_name_outside_ascii_given_twice_is_refused_beside_the_field(app, companies):
    """SQLite's lower() folds ASCII letters only: "Équipe Ä" a second time must still be found taken (it was a
    500 from the unique constraint, found by the bad-input property test)."""
    a, _ = companies
    admin = signed_in(app, a.admin.email)
    assert post_form(admin, "/admin/teams", {"name": "Équipe Ä"}).status_code == 303
    again = post_form(admin, "/admin/teams", {"name": "Équipe Ä"})
    assert again.status_code == 422 and "There is already a team with this name." in again.get_data(as_text=True)
