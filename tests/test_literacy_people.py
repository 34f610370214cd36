"""Where people see their required training: the learner's dashboard ("Required for your role"), the
catalogue's badge, the privacy centre's page on it, managers' team pages (and the works-council setting),
the data export; the statements a dashboard runs do not grow with the number of requirements."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from leadthe.extensions import db
from leadthe.models import AiPolicyAck, AiPolicyVersion, Organization, Requirement, RequirementRule, User, utcnow
from tests.conftest import make_team, make_user
from tests.helpers import login, make_course


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _course(app, org_id, slug, title):
    with app.test_request_context():
        course = make_course(org_id, slug, title)[0]
        db.session.commit()
        return course.id


def _require(app, user, course_id, *, field="everyone", operator="equals", value="", team_id=None, due_in=30,
             completed_days_ago=None, valid_for=365, ended=False):
    """A rule and the requirement it gave ``user`` (due in ``due_in`` days; negative: overdue)."""
    now = utcnow()
    with app.app_context():
        rule = RequirementRule(org_id=user.org_id, course_id=course_id, field=field, operator=operator, value=value,
                               team_id=team_id)
        db.session.add(rule)
        db.session.flush()
        completed = now - timedelta(days=completed_days_ago) if completed_days_ago is not None else None
        db.session.add(Requirement(
            org_id=user.org_id, user_id=user.id, course_id=course_id, rule_id=rule.id,
            due_on=(now + timedelta(days=due_in)).date(), completed_at=completed,
            valid_until=completed + timedelta(days=valid_for) if completed else None,
            ended_at=now if ended else None))
        db.session.commit()


def _acknowledged(app, user, number, title):
    """A published version of the company's AI-use policy, acknowledged by ``user``."""
    with app.app_context():
        version = AiPolicyVersion(org_id=user.org_id, version=number, title=title, published_at=utcnow())
        db.session.add(version)
        db.session.flush()
        db.session.add(AiPolicyAck(org_id=user.org_id, user_id=user.id, version_id=version.id, acknowledged_at=utcnow()))
        db.session.commit()


@pytest.fixture
def required(app, companies):
    """Learner A must complete four courses, one of each status, for four kinds of rule; one more ended."""
    a = companies[0]
    ids = {name: _course(app, None, slug, name) for slug, name in (
        ("late", "Late course"), ("soon", "Soon course"), ("later", "Later course"), ("done", "Done course"),
        ("gone", "Gone course"))}
    _require(app, a.learner, ids["Soon course"], field="job_title", operator="contains", value="Manager", due_in=5)
    _require(app, a.learner, ids["Done course"], completed_days_ago=10, due_in=355)
    _require(app, a.learner, ids["Late course"], field="department", value="Sales", due_in=-3)
    _require(app, a.learner, ids["Later course"], field="team", team_id=a.team.id, due_in=60)
    _require(app, a.learner, ids["Gone course"], field="role", value="learner", due_in=-30, ended=True)
    return ids


# --- the dashboard ----------------------------------------------------------------------------------

def test_dashboard_lists_required_courses_most_urgent_first_with_status_date_reason_and_next_step(client, companies, required):
    login(client, companies[0].learner.email)
    html = client.get("/dashboard").get_data(as_text=True)
    section = html[html.index('id="my-required"'):html.index("</section>", html.index('id="my-required"'))]
    text = _text(section)
    order = [text.index(t) for t in ("Late course", "Soon course", "Later course", "Done course")]
    assert order == sorted(order), text
    assert "Gone course" not in html  # no longer in scope
    assert "1 of 4 current · 1 overdue · 1 due soon · 1 not started" in text
    late = text[text.index("Late course"):text.index("Soon course")]
    assert "Overdue" in late and "overdue since" in late and "Required for everyone in department “Sales”" in late
    assert "Start the course" in late
    soon = text[text.index("Soon course"):text.index("Later course")]
    assert "Due soon" in soon and "due " in soon and "Required for job titles containing “Manager”" in soon
    later = text[text.index("Later course"):text.index("Done course")]
    assert "Not started" in later and "Required for team “Team A”" in later
    done = text[text.index("Done course"):]
    assert "Current" in done and "valid until" in done and "Required for everyone in the company" in done
    assert "Open the course" in done and "Start" not in done
    assert 'href="/privacy/required-training"' in section


def test_dashboard_says_continue_for_a_started_course_and_renew_for_an_expired_one(app, client, companies):
    a = companies[0]
    started = _course(app, None, "started", "Started course")
    expired = _course(app, None, "expired", "Expired course")
    _require(app, a.learner, started, due_in=40)
    _require(app, a.learner, expired, completed_days_ago=400, valid_for=365, due_in=-35)
    login(client, a.learner.email)
    from tests.helpers import enrol
    enrol(client, "started")
    text = _text(client.get("/dashboard").get_data(as_text=True))
    assert re.search(r"Expired course .*Overdue.*Renew", text)
    assert re.search(r"Started course .*Not started.*Continue", text)
    assert "/courses/started/resume" in client.get("/dashboard").get_data(as_text=True)


def test_dashboard_shows_nothing_of_it_without_requirements(client, companies):
    login(client, companies[0].learner.email)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Required for your role" not in html and "my-required" not in html


def test_dashboard_in_german(app, client, companies, required):
    with app.app_context():
        db.session.get(User, companies[0].learner.id).locale = "de"
        db.session.commit()
    login(client, companies[0].learner.email)
    text = _text(client.get("/dashboard").get_data(as_text=True))
    assert "Pflicht für Ihre Rolle" in text
    assert "Überfällig" in text and "Bald fällig" in text and "Nicht begonnen" in text and "Aktuell" in text
    assert "Pflicht für alle in der Abteilung „Sales“" in text and "Pflicht für das Team „Team A“" in text
    assert "überfällig seit" in text and "Kurs beginnen" in text


def _statements(app, client, url) -> int:
    seen = []
    with app.app_context():
        engine = db.engine
    client.get(url)  # warm per-process tables and the session's last-seen touch

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_dashboard_statements_do_not_grow_with_the_number_of_requirements(app, client, companies):
    a = companies[0]
    login(client, a.learner.email)
    first = _course(app, None, "c0", "Course 0")
    _require(app, a.learner, first, due_in=-2)
    one = _statements(app, client, "/dashboard")
    for n in range(1, 8):
        _require(app, a.learner, _course(app, None, f"c{n}", f"Course {n}"), due_in=n * 3 - 5,
                 completed_days_ago=5 if n % 3 == 0 else None)
    assert _statements(app, client, "/dashboard") == one
    assert _statements(app, client, "/courses") == _statements(app, client, "/courses")


def test_catalogue_marks_required_courses(client, companies, required):
    login(client, companies[0].learner.email)
    html = client.get("/courses").get_data(as_text=True)
    cards = re.findall(r'<li class="card">(.*?)</li>', html, flags=re.S)
    flagged = {re.search(r">([^<]+)</a></h2>", c).group(1) for c in cards if "Required for you" in c}
    assert flagged == {"Late course", "Soon course", "Later course", "Done course"}


# --- the privacy centre ------------------------------------------------------------------------------

def test_privacy_centre_page_lists_what_applies_why_who_sees_it_and_policy_acknowledgements(app, client, companies, required):
    a, b = companies
    _acknowledged(app, a.learner, 2, "Using AI at Company A")
    _require(app, b.learner, _course(app, None, "bees", "Company B course"), due_in=-1)
    login(client, a.learner.email)
    assert 'href="/privacy/required-training"' in client.get("/privacy").get_data(as_text=True)
    text = _text(client.get("/privacy/required-training").get_data(as_text=True))
    assert "Training your company requires of you" in text
    assert "Late course Required for everyone in department “Sales” Overdue" in text
    assert "Required for team “Team A”" in text and "Gone course" not in text and "Company B course" not in text
    assert "Manager A" in text and "Admin A" in text and "Admin B" not in text  # who sees it, by name
    assert "Article 4 of the EU AI Act" in text and "evidence of AI-literacy measures" in text
    assert "compliant" not in text.lower() and "compliance" not in text.lower()
    assert "Version 2: Using AI at Company A" in text


def test_privacy_page_in_works_council_mode_says_only_team_figures_are_shown(app, client, companies, required):
    with app.app_context():
        db.session.get(Organization, companies[0].org.id).literacy_team_figures_only = True
        db.session.commit()
    login(client, companies[0].learner.email)
    text = _text(client.get("/privacy/required-training").get_data(as_text=True))
    assert "team figures only" in text and "never your individual status" in text
    assert "Manager A" not in text  # nobody is named as seeing it


def test_privacy_page_without_requirements_says_so(client, companies):
    login(client, companies[0].learner.email)
    text = _text(client.get("/privacy/required-training").get_data(as_text=True))
    assert "No training is required of you right now." in text


def test_export_report_holds_requirements_and_acknowledgements_in_words(app, companies, required):
    import io
    from datetime import datetime, timezone

    from leadthe.privacy.registry import personal_sources
    from leadthe.privacy.report import write_report

    a = companies[0]
    _acknowledged(app, a.learner, 3, "Policy")
    with app.test_request_context():
        user = db.session.get(User, a.learner.id)
        sources = [s for s in personal_sources() if s.table in ("requirement", "ai_policy_ack")]
        out = io.StringIO()
        write_report(out, user, sources, {"requirement": 5, "ai_policy_ack": 1}, datetime.now(timezone.utc))
    text = _text(out.getvalue())
    assert "Training required for your role" in text and "Late course" in text and "Required since" in text
    assert "Valid until" in text and "AI-use policy version 3" in text and "Acknowledged" in text


# --- managers' team pages -----------------------------------------------------------------------------

def test_manager_sees_their_teams_required_training_but_not_another_teams(app, companies, required):
    a, b = companies
    client = app.test_client()
    login(client, a.manager.email)
    text = _text(client.get(f"/admin/teams/{a.team.id}").get_data(as_text=True))
    assert "Required training" in text
    row = text[text.index("Learner A"):]
    assert "1 of 4 current · 1 overdue · 1 due soon · 1 not started" in row and "Overdue: Late course" in row
    assert "0 of 1 person has all required training current · 1 person overdue" in text
    listing = _text(client.get("/admin/teams").get_data(as_text=True))
    assert "Required training: 0 of 1 person current · 1 overdue" in listing
    fragment = client.get("/admin/teams?q=Team", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Required training: 0 of 1 person current · 1 overdue" in _text(fragment)
    assert client.get(f"/admin/teams/{b.team.id}").status_code == 404
    other = make_team(app, a.org, "Other team", members=[a.admin])
    assert client.get(f"/admin/teams/{other.id}").status_code == 404


def test_team_statuses_cover_only_the_teams_asked_for(app, companies, required):
    from leadthe.literacy.people import team_requirement_figures, team_requirement_statuses

    a, b = companies
    _require(app, b.learner, _course(app, None, "bee", "B course"), due_in=-1)
    with app.test_request_context():
        statuses = team_requirement_statuses([a.team.id])
        figures = team_requirement_figures([a.team.id, b.team.id])
    assert set(statuses) == {a.learner.id}
    assert statuses[a.learner.id].counts == {"overdue": 1, "due_soon": 1, "not_started": 1, "current": 1}
    assert statuses[a.learner.id].overdue_courses == ["Late course"]
    assert (figures[a.team.id].people, figures[a.team.id].people_overdue, figures[a.team.id].total) == (1, 1, 4)
    assert (figures[b.team.id].people, figures[b.team.id].count("overdue")) == (1, 1)


def _big_team(app, org, manager, n):
    people = [make_user(app, org, email=f"p{i}@a.example", name=f"Person {i}") for i in range(n)]
    team = make_team(app, org, "Big team", members=[manager, *people], managers=[manager])
    return team, people


def test_works_council_mode_shows_only_team_figures_and_only_for_large_enough_teams(app, companies):
    a = companies[0]
    with app.app_context():
        db.session.get(Organization, a.org.id).literacy_team_figures_only = True
        db.session.commit()
    course = _course(app, None, "wc", "Council course")
    small_team = a.team
    _require(app, a.learner, course, due_in=-1)
    big, people = _big_team(app, a.org, a.manager, 5)
    for i, person in enumerate(people):
        _require(app, person, course, due_in=-1 if i < 2 else 20)
    client = app.test_client()
    login(client, a.manager.email)
    small = _text(client.get(f"/admin/teams/{small_team.id}").get_data(as_text=True))
    assert "fewer than 5 people" in small and "overdue" not in small.lower().replace("overdue:", "")
    large = _text(client.get(f"/admin/teams/{big.id}").get_data(as_text=True))
    assert "0 of 5 people have all required training current · 2 people overdue" in large
    assert "Overdue:" not in large and "Council course" not in large  # no per-person status
    listing = _text(client.get("/admin/teams").get_data(as_text=True))
    assert "not shown: fewer than 5 people" in listing and "0 of 5 people current · 2 overdue" in listing


def test_rule_reason_words_every_kind_of_rule(app):
    from leadthe.literacy.people import rule_reason

    cases = [(RequirementRule(field="everyone", operator="equals", value=""), None, "Required for everyone in the company"),
             (RequirementRule(field="department", operator="equals", value="Sales"), None, "Required for everyone in department “Sales”"),
             (RequirementRule(field="department", operator="contains", value="Sal"), None, "Required for departments containing “Sal”"),
             (RequirementRule(field="job_title", operator="contains", value="Manager"), None, "Required for job titles containing “Manager”"),
             (RequirementRule(field="job_title", operator="equals", value="CTO"), None, "Required for the job title “CTO”"),
             (RequirementRule(field="team", operator="equals", value=""), "Platform", "Required for team “Platform”"),
             (RequirementRule(field="role", operator="equals", value="manager"), None, "Required for the role Manager"),
             (None, None, "Required by your company")]
    with app.test_request_context():
        assert [rule_reason(rule, team) for rule, team, _ in cases] == [want for *_, want in cases]


def test_every_personal_table_has_words_in_the_privacy_centre_summary():
    from leadthe.privacy.registry import personal_sources
    from leadthe.privacy.services import COUNT_WORDS

    assert {s.table for s in personal_sources()} - set(COUNT_WORDS) == set()
