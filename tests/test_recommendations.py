"""Dashboard recommendations with reasons; personas; objections; assignments and their permissions."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import Assignment, Course, Enrollment, PrivacySettings, utcnow
from tests.conftest import make_org, make_team, make_user, post_form
from tests.helpers import answers_for, login


@pytest.fixture
def curriculum(app):
    from leadthe.courses.content import load_content

    with app.app_context():
        load_content()
        db.session.commit()
        return {c.slug: c.id for c in db.session.scalars(sa.select(Course))}


def top3(app, user):
    from leadthe.assessments.recommendations import recommendations_for
    from leadthe.models import User

    with app.test_request_context():
        result = recommendations_for(db.session.get(User, user.id))
        return result, [(r.course.slug, r.reason) for r in result.items]


def test_persona_new_hire(app, curriculum):
    org = make_org(app)
    newbie = make_user(app, org, job_title="Marketing assistant")
    _result, items = top3(app, newbie)
    assert items[0] == ("ai-foundations", "A good place to start")
    assert [s for s, _r in items] == ["ai-foundations", "prompting-that-works", "using-ai-safely"]


def test_persona_sales_manager_low_on_responsible_use(app, curriculum):
    from leadthe.assessments import maturity
    from leadthe.models import User

    org = make_org(app)
    manager = make_user(app, org, role="manager", job_title="Sales manager", department="Sales")
    with app.app_context():
        maturity.save_result(db.session.get(User, manager.id), answers_for(
            {"choosing": 3, "prompting": 4, "judging": 4, "responsible": 1, "practice": 4}))
        db.session.commit()
    _result, items = top3(app, manager)
    assert items == [
        ("using-ai-safely", "Your score for using it responsibly is 1 of 5"),
        ("ai-in-your-role", "For your role in Sales"),
        ("leading-ai-adoption", "For your role as a manager"),
    ]


def test_persona_engineer_who_finished_everything(app, client, curriculum):
    org = make_org(app)
    engineer = make_user(app, org, job_title="Software engineer", email="eng@example.com")
    with app.app_context():
        for cid in curriculum.values():
            db.session.add(Enrollment(user_id=engineer.id, course_id=cid, created_at=utcnow(), completed_at=utcnow()))
        db.session.commit()
    result, items = top3(app, engineer)
    assert items == [] and result.all_done
    login(client, engineer.email)
    assert "You have completed every course available to you" in client.get("/dashboard").get_data(as_text=True)


def test_continue_and_assigned_come_first_with_reasons(app, client, curriculum):
    org = make_org(app)
    boss = make_user(app, org, role="manager", name="Mira Manager")
    learner = make_user(app, org, email="l@example.com")
    with app.app_context():
        db.session.add(Enrollment(user_id=learner.id, course_id=curriculum["prompting-that-works"], created_at=utcnow()))
        db.session.add(Assignment(org_id=org.id, user_id=learner.id, course_id=curriculum["using-ai-safely"],
                                  assigned_by_id=boss.id, due_on=(utcnow() - timedelta(days=2)).date()))
        db.session.commit()
    _r, items = top3(app, learner)
    assert items[0][0] == "using-ai-safely" and items[0][1].startswith("Assigned by Mira Manager, overdue since")
    assert items[1] == ("prompting-that-works", "Continue where you left off")
    login(client, learner.email)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Assigned to you" in page and "overdue: was due" in page and "Why:" in page
    assert "Continue learning" in page  # the existing dashboard content is kept


def test_popular_in_team_ignores_colleagues_who_object(app, curriculum):
    org = make_org(app)
    me = make_user(app, org)
    mates = [make_user(app, org) for _ in range(3)]
    make_team(app, org, "Crew", members=[me, *mates])
    with app.app_context():
        for m in mates:
            db.session.add(Enrollment(user_id=m.id, course_id=curriculum["leading-ai-adoption"], created_at=utcnow()))
        db.session.add(Enrollment(user_id=me.id, course_id=curriculum["ai-foundations"], created_at=utcnow()))
        db.session.commit()
    _r, items = top3(app, me)
    assert ("leading-ai-adoption", "Popular in your team (3 colleagues)") in items
    with app.app_context():
        for m in mates[:2]:
            db.session.add(PrivacySettings(user_id=m.id, object_recommendations=True))
        db.session.commit()
    _r, items = top3(app, me)
    assert not any(reason.startswith("Popular") for _s, reason in items)


@pytest.mark.parametrize("choice", ["object_recommendations", "restrict_processing"])
def test_objection_gives_catalogue_order_and_a_note(app, client, curriculum, choice):
    from leadthe.assessments import maturity
    from leadthe.models import User

    org = make_org(app)
    person = make_user(app, org, job_title="Sales rep", email="obj@example.com")
    with app.app_context():
        maturity.save_result(db.session.get(User, person.id), answers_for(
            {"choosing": 1, "prompting": 1, "judging": 1, "responsible": 1, "practice": 1}))
        db.session.add(Enrollment(user_id=person.id, course_id=curriculum["leading-ai-adoption"], created_at=utcnow()))
        db.session.add(PrivacySettings(user_id=person.id, **{choice: True}))
        db.session.commit()
    result, items = top3(app, person)
    assert not result.personalised
    assert [s for s, _r in items] == ["ai-foundations", "prompting-that-works", "using-ai-safely"]
    assert {r for _s, r in items} == {"In the catalogue's order"}
    login(client, person.email)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "none of your data is used for them" in page


# --- assignments -------------------------------------------------------------------------------------

def test_manager_assigns_to_own_team_only(app, client, companies, curriculum):
    a, b = companies
    outsider = make_user(app, a.org, email="outsider@a.example")
    other_team = make_team(app, a.org, "Other team", members=[outsider])
    login(client, a.manager.email)
    page = "/admin/assignments"
    due = (utcnow() + timedelta(days=7)).date().isoformat()
    r = post_form(client, page, {"course_id": curriculum["using-ai-safely"], "team_id": a.team.id, "due_on": due})
    assert r.status_code == 303
    with app.app_context():
        assert set(db.session.scalars(sa.select(Assignment.user_id))) == {a.manager.id, a.learner.id}
    # another team of the same company, its member, and another company's team: 404
    assert post_form(client, page, {"course_id": curriculum["ai-foundations"], "team_id": other_team.id}).status_code == 404
    assert post_form(client, page, {"course_id": curriculum["ai-foundations"], "user_id": outsider.id}).status_code == 404
    assert post_form(client, page, {"course_id": curriculum["ai-foundations"], "team_id": b.team.id}).status_code == 404
    assert post_form(client, page, {"course_id": curriculum["ai-foundations"], "user_id": b.learner.id}).status_code == 404
    # neither or both targets: the form explains
    r = post_form(client, page, {"course_id": curriculum["ai-foundations"]})
    assert r.status_code == 422 and "Choose a team or one person" in r.get_data(as_text=True)


def test_learner_cannot_assign_and_admin_can_assign_anyone(app, client, companies, curriculum):
    a, _b = companies
    # a learner who manages no team (the fixture's learner is marked as a manager of Team A: UserMixin's
    # __eq__ compares get_id(), which is None for both people in make_team's `user in managers`)
    plain = make_user(app, a.org, email="plain@a.example")
    login(client, plain.email)
    assert client.get("/admin/assignments").status_code == 403
    admin_client = app.test_client()
    login(admin_client, a.admin.email)
    r = post_form(admin_client, "/admin/assignments", {"course_id": curriculum["ai-foundations"], "user_id": a.learner.id})
    assert r.status_code == 303
    assert "Learner A" in admin_client.get("/admin/assignments").get_data(as_text=True)


def test_assignments_for_team_service(app, companies, curriculum):
    from leadthe.assessments.assignments import assignments_for_team

    a, b = companies
    with app.app_context():
        db.session.add(Assignment(org_id=a.org.id, user_id=a.learner.id, course_id=curriculum["ai-foundations"],
                                  due_on=(utcnow() - timedelta(days=1)).date()))
        db.session.add(Assignment(org_id=b.org.id, user_id=b.learner.id, course_id=curriculum["ai-foundations"]))
        db.session.commit()
        rows = assignments_for_team([a.team.id])
        assert [(r.person, r.overdue) for r in rows] == [("Learner A", True)]
