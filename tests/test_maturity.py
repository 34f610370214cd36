"""AI maturity: rubric scoring, gates, evidence, versioning, the self-assessment pages, team and company levels."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from leadthe.assessments import rubric as R
from leadthe.extensions import db
from leadthe.models import MaturityResult
from tests.conftest import csrf_from, make_org, make_team, make_user, post_form
from tests.helpers import answers_for, login

QUESTIONS = R.RUBRICS[R.CURRENT]["questions"]


def form_for(answers: dict[str, int]) -> dict[str, str]:
    return {f"m-{slug}": str(i) for slug, i in answers.items()}


def uniform(value):
    return {d: value for d in R.DIMENSIONS}


# --- the rubric -------------------------------------------------------------------------------------

def test_rubric_shape():
    assert len(QUESTIONS) == 20
    per_dim = {d: sum(1 for q in QUESTIONS if q["dimension"] == d) for d in R.DIMENSIONS}
    assert set(per_dim.values()) == {4}
    for q in QUESTIONS:
        assert len(q["options"]) == 4 and all(1 <= o["score"] <= 5 for o in q["options"])
        assert max(o["score"] for o in q["options"]) == 5 and min(o["score"] for o in q["options"]) == 1


def test_dimension_scores_are_rounded_means():
    rubric = R.RUBRICS[R.CURRENT]
    best = {q["slug"]: max(range(4), key=lambda i: q["options"][i]["score"]) for q in QUESTIONS}
    worst = {q["slug"]: min(range(4), key=lambda i: q["options"][i]["score"]) for q in QUESTIONS}
    assert R.dimension_scores(rubric, best) == uniform(5)
    assert R.dimension_scores(rubric, worst) == uniform(1)
    # two best and two worst answers in "judging": mean 3.0
    mixed = dict(worst)
    judging = [q["slug"] for q in QUESTIONS if q["dimension"] == "judging"]
    for slug in judging[:2]:
        mixed[slug] = best[slug]
    assert R.dimension_scores(rubric, mixed)["judging"] == 3


@pytest.mark.parametrize("scores,level", [
    (uniform(1), 1),
    (uniform(2), 2),
    (uniform(3), 3),
    (uniform(4), 4),
    (uniform(5), 5),
    # a high average but judging output at 2: gated below 4
    ({"choosing": 5, "prompting": 5, "judging": 2, "responsible": 5, "practice": 5}, 3),
    # responsible use at 1: gated below 3 whatever the rest
    ({"choosing": 5, "prompting": 5, "judging": 5, "responsible": 1, "practice": 5}, 2),
    # level 5 needs every dimension at 4 or more
    ({"choosing": 5, "prompting": 5, "judging": 5, "responsible": 5, "practice": 3}, 4),
])
def test_levels_and_gates(scores, level):
    outcome = R.compute(R.CURRENT, answers_for(scores))
    assert outcome.scores == scores
    assert outcome.level == level


def test_evidence_raises_by_one_but_never_past_the_gates():
    rich = {"courses_completed": 3, "quizzes_passed": 3}
    assert R.compute(R.CURRENT, answers_for(uniform(2)), rich).level == 3
    assert R.compute(R.CURRENT, answers_for(uniform(2)), {"courses_completed": 1}).level == 2
    # gated at 3 by judging output: evidence cannot lift it to 4
    gated = {"choosing": 5, "prompting": 5, "judging": 2, "responsible": 5, "practice": 5}
    out = R.compute(R.CURRENT, answers_for(gated), rich)
    assert (out.self_level, out.level, out.raised) == (3, 3, False)
    assert R.compute(R.CURRENT, answers_for(uniform(5)), rich).level == 5


def test_a_result_is_recomputed_under_its_own_rubric_version(app, monkeypatch):
    from leadthe.assessments import maturity

    org = make_org(app)
    user = make_user(app, org)
    with app.app_context():
        person = db.session.get(type(user), user.id)
        result = maturity.save_result(person, answers_for(uniform(3)))
        db.session.commit()
        assert result.rubric_version == R.CURRENT and result.level == 3
        # a stricter new version becomes current: old results keep their level under their own version
        strict = dict(R.RUBRICS[R.CURRENT], version="2099-1", thresholds={2: 3.5, 3: 4.5, 4: 4.8, 5: 5.0})
        monkeypatch.setitem(R.RUBRICS, "2099-1", strict)
        monkeypatch.setattr(R, "CURRENT", "2099-1")
        assert maturity.recompute(result).level == result.level == 3
        assert R.compute("2099-1", result.answers, result.evidence).level == 1


# --- pages -------------------------------------------------------------------------------------------

def test_take_and_retake_with_change_chart(app, client):
    org = make_org(app)
    user = make_user(app, org, email="m@example.com")
    login(client, user.email)
    assert "Take the self-assessment" in client.get("/maturity").get_data(as_text=True)
    r = post_form(client, "/maturity/assessment", form_for(answers_for(uniform(2))))
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Level 2: Exploring" in page and 'role="img"' in page and 'class="hchart' in page and "style=" not in page
    r = post_form(client, "/maturity/assessment", form_for(answers_for(uniform(4))))
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Level 4: Adoptive" in page and "Change since" in page and "+2" in page and "Previous result" in page
    # a value scale from 0 to 5 under the bars
    assert re.search(r'<span class="hchart-ticks">(<span>\d</span>){6}</span>', page)
    with app.app_context():
        rows = db.session.execute(sa.select(MaturityResult.level, MaturityResult.is_latest).order_by(MaturityResult.id)).all()
        assert rows == [(2, False), (4, True)]
    assert "Your level: 4 of 5" in client.get("/maturity").get_data(as_text=True)


def test_unanswered_and_hostile_maturity_answers(app, client):
    org = make_org(app)
    user = make_user(app, org)
    login(client, user.email)
    partial = form_for(answers_for(uniform(3)))
    partial.pop(f"m-{QUESTIONS[0]['slug']}")
    r = post_form(client, "/maturity/assessment", partial)
    assert r.status_code == 422 and "Choose an answer." in r.get_data(as_text=True)
    for bad in ("9", "abc", "-1", "¹"):  # "¹" is a digit to str.isdigit(), not a number to int()
        data = form_for(answers_for(uniform(3)))
        data[f"m-{QUESTIONS[1]['slug']}"] = bad
        assert post_form(client, "/maturity/assessment", data).status_code == 400
    page = client.get("/maturity/assessment").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), **form_for(answers_for(uniform(3)))}
    data[f"m-{QUESTIONS[2]['slug']}"] = ["0", "1"]
    assert client.post("/maturity/assessment", data=data).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MaturityResult)) == 0


def test_someone_elses_result_is_404(app, client):
    from leadthe.assessments import maturity

    org = make_org(app)
    owner = make_user(app, org)
    other = make_user(app, org)
    with app.app_context():
        rid = maturity.save_result(db.session.get(type(owner), owner.id), answers_for(uniform(3))).id
        db.session.commit()
    login(client, other.email)
    assert client.get(f"/maturity/results/{rid}").status_code == 404


# --- teams and company ------------------------------------------------------------------------------

def _people_with_levels(app, org, levels, team_name=None):
    from leadthe.assessments import maturity

    people = [make_user(app, org) for _ in levels]
    with app.app_context():
        for person, level in zip(people, levels):
            if level is not None:
                maturity.save_result(db.session.get(type(person), person.id), answers_for(uniform(level)))
        db.session.commit()
    if team_name:
        make_team(app, org, team_name, members=people)
    return people


def test_team_distribution_median_and_shares(app):
    from leadthe.assessments import maturity

    org = make_org(app)
    _people_with_levels(app, org, [1, 1, 3, 4, None], "Alpha")
    _people_with_levels(app, org, [2, 3], "Beta")
    with app.app_context():
        teams = {t.name: t.dist for t in maturity.team_distributions(org.id)}
        alpha = teams["Alpha"]
        assert (alpha.people, alpha.assessed, alpha.not_assessed) == (5, 4, 1)
        assert alpha.median == 2.0  # levels 1, 1, 3, 4
        assert alpha.share_at_least(3) == 0.5 and alpha.share_at(1) == 0.5
        assert teams["Beta"].median == 2.5


def test_workforce_level_definition():
    # 10 active people: 5 at level >= 3 is exactly half: level 3
    assert R.workforce_level({3: 5}, 10) == 3
    assert R.workforce_level({3: 4}, 10) == 1  # the other six are not assessed: level 1
    assert R.workforce_level({2: 2, 3: 4}, 10) == 2
    assert R.workforce_level({4: 6, 5: 4}, 10) == 4
    assert R.workforce_level({}, 0) == 1


def test_org_answer_level():
    assert R.org_answer_level({a: 4 for a in R.ORG_AREAS}) == 4
    # one weak area (governance 1) caps the organisational level at 2
    assert R.org_answer_level({**{a: 5 for a in R.ORG_AREAS}, "governance": 1}) == 2


def test_company_level_is_the_minimum(app, client):
    org = make_org(app)
    admin = make_user(app, org, role="admin", email="boss@example.com")
    _people_with_levels(app, org, [3, 3, 4, 1], "Team")  # 5 active incl. the admin: 3 of 5 at >= 3: workforce 3
    login(client, admin.email)
    page = client.get("/admin/maturity").get_data(as_text=True)
    assert "Workforce level 3" in page and "Answer the organisational questionnaire" in page
    r = post_form(client, "/admin/maturity/organisation", {a: "5" for a in R.ORG_AREAS}, page="/admin/maturity")
    assert r.status_code == 303
    page = client.get("/admin/maturity").get_data(as_text=True)
    assert "Level 3: Capable" in page and "organisational answers (level 5)" in page
    r = post_form(client, "/admin/maturity/organisation", {**{a: "5" for a in R.ORG_AREAS}, "governance": "1"}, page="/admin/maturity")
    page = client.get("/admin/maturity").get_data(as_text=True)
    assert "Level 2: Exploring" in page and "Governance" in page


def test_admin_maturity_is_for_admins_and_isolated(app, client, companies):
    a, b = companies
    login(client, a.learner.email)
    assert client.get("/admin/maturity").status_code == 403
    _people_with_levels(app, b.org, [5, 5, 5], "Secret team B")
    client2 = app.test_client()
    login(client2, a.admin.email)
    page = client2.get("/admin/maturity").get_data(as_text=True)
    assert "Secret team B" not in page and "Team A" in page


def test_team_view_uses_a_fixed_number_of_queries(app, client):
    from sqlalchemy import event

    org = make_org(app)
    admin = make_user(app, org, role="admin", email="counter@example.com")
    for n in range(6):
        _people_with_levels(app, org, [1, 2, 3], f"T{n}")
    login(client, admin.email)
    client.get("/admin/maturity")
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get("/admin/maturity").status_code == 200
        small = len(statements)
        for n in range(6, 12):
            _people_with_levels(app, org, [4, 5], f"T{n}")
        statements.clear()
        client.get("/admin/maturity")
        assert len(statements) == small
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def test_the_result_leads_to_the_courses_that_follow_from_it(app, client):
    from tests.helpers import load

    load(app)
    org = make_org(app)
    user = make_user(app, org, email="weak@example.com")
    login(client, user.email)
    scores = {"choosing": 4, "prompting": 3, "judging": 4, "responsible": 1, "practice": 5}
    r = post_form(client, "/maturity/assessment", form_for(answers_for(scores)))
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    section = page.split('id="next-courses"', 1)[1].split("</section>", 1)[0]
    links = re.findall(r'<a href="/courses/([\w-]+)">', section)
    assert links == ["using-ai-safely", "prompting-that-works"]  # the weakest first; 4 and 5 need no course
    assert "Because your score for using it responsibly is 1 of 5." in section
    assert "Because your score for describing the task (prompting) is 3 of 5." in section
    assert 'href="#next-courses"' in page  # the top of the result points down to them
    # strong everywhere: no gap to close, said in words
    r = post_form(client, "/maturity/assessment", form_for(answers_for({d: 4 for d in R.DIMENSIONS})))
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "no course is needed to close a gap" in page


def test_no_recommendations_from_the_result_after_an_objection(app, client):
    from leadthe.models import PrivacySettings
    from tests.helpers import load

    load(app)
    org = make_org(app)
    user = make_user(app, org, email="objector@example.com")
    with app.app_context():
        db.session.add(PrivacySettings(user_id=user.id, object_recommendations=True))
        db.session.commit()
    login(client, user.email)
    r = post_form(client, "/maturity/assessment", form_for(answers_for(uniform(1))))
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    section = page.split('id="next-courses"', 1)[1].split("</section>", 1)[0]
    assert "You objected to personalised recommendations" in section and "/courses/" not in section
