"""Leaderboards: points, ranks (own rank outside the top), exclusions from the computation, switch-off."""
from __future__ import annotations

from datetime import timedelta

from leadthe.extensions import db
from tests.conftest import make_user, post_form
from tests.helpers import signed_in


def activity(app, user, days_ago=0, lessons=1, seconds=300):
    from leadthe.models import ActivityDay, utcnow

    with app.app_context():
        db.session.add(ActivityDay(user_id=user.id, day=utcnow().date() - timedelta(days=days_ago), seconds=seconds,
                                   lessons_completed=lessons))
        db.session.commit()


def object_to_leaderboard(app, user, **choice):
    from leadthe.models import PrivacySettings

    with app.app_context():
        db.session.add(PrivacySettings(user_id=user.id, **choice))
        db.session.commit()


def test_ranks_points_and_own_rank_outside_the_top(app, companies):
    a, b = companies
    people = [make_user(app, a.org, name=f"Runner {i:02d}") for i in range(12)]
    for i, p in enumerate(people):
        activity(app, p, lessons=i + 1)  # Runner 11 leads with 12 lessons
    activity(app, a.learner, days_ago=30, lessons=0, seconds=120)  # one old active day: 5 points
    activity(app, b.learner, lessons=50)  # another company never shows
    client = signed_in(app, a.learner.email)
    html = client.get("/leaderboard?scope=org&period=all").get_data(as_text=True)
    assert html.index("Runner 11") < html.index("Runner 10")
    assert "Runner 11" in html and "125" in html  # 12 lessons * 10 + 1 day * 5
    assert "Learner B" not in html
    assert "Your rank: 13 with 5 points." in html  # outside the top 10, still told
    week = client.get("/leaderboard?scope=org&period=week").get_data(as_text=True)
    assert "Your rank:" in week and "with 0 points" in week


def test_team_scope(app, companies):
    a, _ = companies
    outsider = make_user(app, a.org, name="Other Team Star")
    activity(app, outsider, lessons=40)
    activity(app, a.learner, lessons=1)
    client = signed_in(app, a.learner.email)
    html = client.get("/leaderboard?scope=team&period=all").get_data(as_text=True)
    assert "Other Team Star" not in html and "Your rank: 1" in html
    fragment = client.get("/leaderboard?scope=org", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Other Team Star" in fragment


def test_objectors_are_left_out_of_the_computation(app, companies):
    a, _ = companies
    objector = make_user(app, a.org, name="Private Pat")
    restricted = make_user(app, a.org, name="Restricted Rita")
    gone = make_user(app, a.org, name="Closed Carl", status="closed")
    for p in (objector, restricted, gone):
        activity(app, p, lessons=100)
    object_to_leaderboard(app, objector, object_leaderboard=True)
    object_to_leaderboard(app, restricted, restrict_processing=True)
    activity(app, a.learner, lessons=1)
    client = signed_in(app, a.learner.email)
    html = client.get("/leaderboard").get_data(as_text=True)
    assert "Private Pat" not in html and "Restricted Rita" not in html and "Closed Carl" not in html
    assert "Your rank: 1 " in html  # nobody excluded pushes anyone down
    pat = signed_in(app, objector.email)
    html = pat.get("/leaderboard").get_data(as_text=True)
    assert "You are not on the leaderboard" in html and "Your rank" not in html and "Learner A" in html


def test_switched_off_by_the_company(app, companies):
    a, _ = companies
    admin = signed_in(app, a.admin.email)
    post_form(admin, "/admin/settings", {"require_2fa": "", "leaderboard_enabled": ""})
    html = admin.get("/leaderboard").get_data(as_text=True)
    assert "switched leaderboards off" in html and "Your rank" not in html
