"""The AI-literacy programme overview (/admin/literacy and its CSV): figures, filters, scope (admins,
managers, other companies), the works-council setting "team figures only", and a constant number of SQL
statements whatever the size of the company."""
from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from tests.conftest import audit_actions, make_team, make_user, post_form
from tests.helpers import add_requirement, count_statements, make_course, scale_company, signed_in


@pytest.fixture
def programme(app, companies):
    """Company A: a rule with a course; the manager's team (manager, learner, Ines Insider) and another team
    (Olga Outsider); statuses: learner overdue, Ines due soon, Olga current, manager not started, and one
    requirement that ended (counts nowhere). Company B: Bert Beyond, overdue."""
    from leadthe.models import RequirementRule

    a, b = companies
    with app.app_context():
        course, *_ = make_course(a.org.id, "ai-basics", "AI basics for everyone")
        other_course, *_ = make_course(b.org.id, "b-course", "B course")
        rule = RequirementRule(org_id=a.org.id, name="Everyone", course_id=course.id)
        db.session.add(rule)
        db.session.commit()
        ids = {"course": course.id, "rule": rule.id, "b_course": other_course.id}
    ines = make_user(app, a.org, name="Ines Insider", email="ines@a.example", department="Sales")
    olga = make_user(app, a.org, name="Olga Outsider", email="olga@a.example", department="Finance")
    gone = make_user(app, a.org, name="Gus Gone", email="gus@a.example")
    bert = make_user(app, b.org, name="Bert Beyond", email="bert@b.example")
    with app.app_context():
        from leadthe.models import TeamMembership

        db.session.add(TeamMembership(org_id=a.org.id, team_id=a.team.id, user_id=ines.id))
        db.session.commit()
    other_team = make_team(app, a.org, "Finance team", members=[olga])
    add_requirement(app, a.org, a.learner, ids["course"], status="overdue", rule_id=ids["rule"])
    add_requirement(app, a.org, ines, ids["course"], status="due_soon", rule_id=ids["rule"])
    add_requirement(app, a.org, olga, ids["course"], status="current", rule_id=ids["rule"])
    add_requirement(app, a.org, a.manager, ids["course"], status="not_started", rule_id=ids["rule"])
    from leadthe.models import utcnow

    add_requirement(app, a.org, gone, ids["course"], status="overdue", rule_id=ids["rule"], ended_at=utcnow())
    add_requirement(app, b.org, bert, ids["b_course"], status="overdue")
    ids.update(a=a, b=b, other_team=other_team)
    return ids


def test_learners_get_403(app, companies):
    learner = signed_in(app, companies[0].learner.email)
    assert learner.get("/admin/literacy").status_code == 403
    assert learner.get("/admin/literacy.csv").status_code == 403


def test_admin_sees_the_whole_company_figures_groups_and_overdue_people(app, programme):
    a = programme["a"]
    admin = signed_in(app, a.admin.email)
    response = admin.get("/admin/literacy")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    kpis = html.split('class="kpis"')[1].split("</dl>")[0]
    # four people in scope (Gus's requirement ended): one current, one due soon, one overdue, one not started
    assert "<dd>4</dd>" in kpis and "25%" in kpis
    assert "Team A" in html and "Finance team" in html and "Sales" in html and "Finance" in html
    assert "Everyone (AI basics for everyone)" in html
    overdue = html.split('id="lit-overdue"')[1].split("</table>")[0]
    assert "Learner A" in overdue and "9" in overdue and "Ines Insider" not in overdue
    assert "Gus Gone" not in html and "Bert Beyond" not in html
    assert "Version" not in html.split('id="lit-policy-h"')[1] or "No change of the AI-use policy" in html
    # the navigation marks the programme's overview
    assert 'aria-current="page">Overview</a>' in html.split('class="subnav-sub"')[1]


def test_filters_narrow_the_figures_keep_the_csv_link_and_answer_a_fragment(app, programme):
    a = programme["a"]
    admin = signed_in(app, a.admin.email)
    html = admin.get("/admin/literacy?department=Finance").get_data(as_text=True)
    assert 'href="/admin/literacy.csv?department=Finance"' in html
    assert "Olga Outsider" not in html.split("<main")[1]  # current: not in the overdue list
    assert "Team A" not in html.split('id="literacy-results"')[1]
    fragment = admin.get("/admin/literacy?status=overdue", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Learner A" in fragment and 'href="/admin/literacy.csv?status=overdue"' in fragment
    body = admin.get("/admin/literacy.csv?status=overdue").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["person", "email", "teams"] and [r[0] for r in rows[1:]] == ["Learner A"]
    assert rows[1][7] == "overdue" and rows[1][2] == "Team A"


def test_csv_has_one_row_per_person_and_course_in_view(app, programme):
    a = programme["a"]
    response = signed_in(app, a.admin.email).get("/admin/literacy.csv")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(r["person"] for r in rows) == ["Ines Insider", "Learner A", "Manager A", "Olga Outsider"]
    olga = next(r for r in rows if r["person"] == "Olga Outsider")
    assert olga["status"] == "current" and olga["completed_at"] and olga["valid_until"] and olga["department"] == "Finance"
    assert olga["rule"] == "Everyone" and olga["course"] == "AI basics for everyone"


def test_a_manager_sees_only_their_teams_and_never_another_company(app, programme):
    a, b = programme["a"], programme["b"]
    manager = signed_in(app, a.manager.email)
    html = manager.get("/admin/literacy").get_data(as_text=True)
    results = html.split('id="literacy-results"')[1]
    assert "Team A" in results and "Finance team" not in results and "Finance team" not in html
    assert "Learner A" in results and "Olga Outsider" not in html and "Bert Beyond" not in html
    assert "<dd>3</dd>" in results  # the manager, the learner and Ines
    people = [r["person"] for r in csv.DictReader(io.StringIO(manager.get("/admin/literacy.csv").get_data(as_text=True)))]
    assert sorted(people) == ["Ines Insider", "Learner A", "Manager A"]
    # a team outside their view, or of another company, is a 404 (page and CSV)
    for url in (f"/admin/literacy?team={programme['other_team'].id}", f"/admin/literacy?team={b.team.id}",
                f"/admin/literacy.csv?team={b.team.id}", f"/admin/literacy?course={programme['b_course']}"):
        assert manager.get(url).status_code == 404, url
    admin = signed_in(app, a.admin.email)
    assert admin.get(f"/admin/literacy?team={b.team.id}").status_code == 404
    assert admin.get(f"/admin/literacy?team={programme['other_team'].id}").status_code == 200
    # the learner of company B sees nothing; B's admin sees only Bert
    b_admin = signed_in(app, b.admin.email)
    b_html = b_admin.get("/admin/literacy").get_data(as_text=True)
    assert "Bert Beyond" in b_html and "Learner A" not in b_html and "Olga" not in b_html


def test_a_manager_of_no_team_sees_an_empty_overview(app, companies):
    lonely = make_user(app, companies[0].org, role="manager", name="Lonely Manager", email="lonely@a.example")
    html = signed_in(app, lonely.email).get("/admin/literacy").get_data(as_text=True)
    assert "Nobody has required training yet." in html


def test_the_policy_acknowledgement_rate_per_material_version(app, programme):
    from leadthe.models import AiPolicyAck, AiPolicyVersion, utcnow

    a = programme["a"]
    with app.app_context():
        v1 = AiPolicyVersion(org_id=a.org.id, version=1, title="First rules", published_at=utcnow(), change="material")
        v2 = AiPolicyVersion(org_id=a.org.id, version=2, title="Typo fixed", published_at=utcnow(), change="minor")
        db.session.add_all([v1, v2])
        db.session.flush()
        for person, done in ((a.admin, True), (a.manager, True), (a.learner, False)):
            db.session.add(AiPolicyAck(org_id=a.org.id, user_id=person.id, version_id=v1.id,
                                       acknowledged_at=utcnow() if done else None))
        db.session.commit()
    html = signed_in(app, a.admin.email).get("/admin/literacy").get_data(as_text=True)
    policy = html.split('id="lit-policy-h"')[1].split("</section>")[0]
    assert "First rules" in policy and "Typo fixed" not in policy
    assert '<td class="num" data-label="Asked">3</td>' in policy and "67%" in policy


def test_trend_shows_the_share_current_at_each_month_end(app, programme):
    html = signed_in(app, programme["a"].admin.email).get("/admin/literacy").get_data(as_text=True)
    trend = html.split('id="lit-trend-caption"')[1].split("</figure>")[0]
    # the last bar is this month: one of four requirements current; earlier months had none completed
    table = trend.split("<tbody>")[1]
    assert table.count("<tr>") == 12 and table.rstrip().split("<tr>")[-1].count("25%") == 1
    assert table.split("<tr>")[1].count(">0%<") == 1


# --- the works-council setting ---------------------------------------------------------------------

def test_the_setting_is_explained_saved_and_audited(app, companies):
    from leadthe.models import AuditEvent, Organization

    a = companies[0]
    admin = signed_in(app, a.admin.email)
    html = admin.get("/admin/settings").get_data(as_text=True)
    assert "Team figures only" in html and "their own evidence stays in their personal data export" in html
    response = post_form(admin, "/admin/settings", {"literacy_team_figures_only": "y", "leaderboard_enabled": "y"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Organization, a.org.id).literacy_team_figures_only is True
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "org.settings_changed").order_by(AuditEvent.id.desc()))
        assert event.details.get("literacy_team_figures_only") is True
    assert "org.settings_changed" in audit_actions(app)


def _team_figures_only(app, org, on=True):
    from leadthe.models import Organization

    with app.app_context():
        db.session.get(Organization, org.id).literacy_team_figures_only = on
        db.session.commit()


def test_team_figures_only_shows_no_person_and_no_small_group(app, programme):
    a = programme["a"]
    # a department of six people (large enough) and the small teams of the fixture
    planted = [make_user(app, a.org, name=f"Zyx Planted{i}", email=f"zyx.planted{i}@a.example", department="Research")
               for i in range(6)]
    for i, person in enumerate(planted):
        add_requirement(app, a.org, person, programme["course"], status="overdue" if i % 2 else "current", rule_id=programme["rule"])
    _team_figures_only(app, a.org)
    for who in (a.admin, a.manager):
        client = signed_in(app, who.email)
        html = client.get("/admin/literacy").get_data(as_text=True)
        body = client.get("/admin/literacy.csv").get_data(as_text=True)
        for person in [*planted, a.learner]:
            for text in (html.split("<main")[1], body):
                assert person.name not in text and person.email not in text
        assert "Ines Insider" not in html.split("<main")[1] and 'id="lit-overdue"' not in html
        if who is a.admin:
            assert "Research" in html and "team figures only is on" in html.lower()
            # teams of fewer than 5 people are left out, and the page says so
            assert "Team A" not in html.split('id="literacy-results"')[1] and "Finance team" not in html.split('id="literacy-results"')[1]
            assert "fewer than 5 people are not shown" in html
            rows = list(csv.DictReader(io.StringIO(body)))
            assert rows and all(int(r["people"]) >= 5 for r in rows)
            assert {"department", "rule"} <= {r["grouped_by"] for r in rows} and "Research" in {r["group"] for r in rows}
        else:
            # the manager's teams hold three people: no figure at all
            assert "Fewer than 5 people match" in html and "<dd>" not in html.split('id="literacy-results"')[1]
            assert body.strip() == "grouped_by,group,people,required,current_percent,due_soon,overdue"
    # a filter narrowing to fewer than five people shows no figure either
    html = signed_in(app, a.admin.email).get("/admin/literacy?department=Sales").get_data(as_text=True)
    assert "Fewer than 5 people match" in html


# --- SQL statements do not grow with the company ----------------------------------------------------

def test_statements_do_not_grow_with_the_company(app):
    from leadthe.literacy.sample import seed_requirements
    from leadthe.models import Organization, User

    counts = {}
    for users in (10, 1000):
        client, team = scale_company(app, users)
        with app.app_context():
            org_id = db.session.scalar(sa.select(User.org_id).where(User.email == f"user0@o{_last_org(app)}.scale.example"))
            assert seed_requirements(org_id) >= users
            db.session.commit()
        urls = ("/admin/literacy", f"/admin/literacy?team={team}&department=Dept+1", "/admin/literacy.csv")
        counts[users] = [count_statements(app, client, url) for url in urls]
        with app.app_context():
            db.session.get(Organization, org_id).literacy_team_figures_only = True
            db.session.commit()
        counts[users] += [count_statements(app, client, url) for url in ("/admin/literacy", "/admin/literacy.csv")]
    assert counts[10] == counts[1000], counts


def _last_org(app) -> int:
    from leadthe.models import Organization

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(Organization.id)))


def test_many_teams_show_the_weakest_first_and_all_on_request(app, programme, monkeypatch):
    from leadthe.literacy import overview as ov

    a = programme["a"]
    monkeypatch.setattr(ov, "TEAM_ROWS", 1)
    admin = signed_in(app, a.admin.email)
    teams = admin.get("/admin/literacy").get_data(as_text=True).split('id="lit-teams"')[1].split("</table>")[0]
    # Team A (none of three current) before the Finance team (its one person current); only one shown
    assert "Team A" in teams and "Finance team" not in teams
    html = admin.get("/admin/literacy?teams=all").get_data(as_text=True)
    assert "Finance team" in html.split('id="lit-teams"')[1].split("</table>")[0] and "All 2 teams" in html
