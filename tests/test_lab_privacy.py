"""The practice lab's personal data (issue 18): the person's export holds their prompts, answers and both
kinds of feedback; erasure leaves none of it in any table or in the SQLite file's bytes; retention keeps
each company's days; the privacy centre names the recipient; analytics and the admins' pages never see a
prompt. Runs are made directly with the models: this file does not depend on the lab's pages or worker."""
from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import PageView, User, utcnow
from leadthe.models.lab import LabRun, LabSettings, LabUsage
from leadthe.worker import run_once
from tests.conftest import csrf_from, make_org, make_user
from tests.helpers import enrol, login, make_course, sqlite_file_bytes
from tests.privacy_data import all_text_in_database
from tests.test_privacy import export_via_http, request_deletion


def distinct(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex}"


@pytest.fixture
def lesson_id(app, companies):
    a, _ = companies
    with app.app_context():
        _course, _module, lesson, _quiz = make_course(a.org.id, "lab-course", "Prompting practice")
        db.session.commit()
        return lesson.id


def add_run(app, user, lesson_id, *, prompt, answer="", kind="answer", parent_id=None, created_at=None, status="done",
            checks=None, score=None, passed=None, org_id=None):
    with app.app_context():
        run = LabRun(org_id=org_id or user.org_id, user_id=user.id, lesson_id=lesson_id, kind=kind, parent_id=parent_id,
                     prompt=prompt, answer=answer, status=status, model="fake-model", tokens_in=12, tokens_out=34,
                     checks=checks, score=score, passed=passed, created_at=created_at or utcnow(),
                     finished_at=(created_at or utcnow()) + timedelta(seconds=5) if status == "done" else None)
        db.session.add(run)
        db.session.commit()
        return run.id


def add_usage(app, user, day: date, **counts):
    with app.app_context():
        db.session.add(LabUsage(org_id=user.org_id, user_id=user.id, day=day, tokens=counts.get("tokens", 500),
                                calls=counts.get("calls", 3), exercises_passed=counts.get("exercises_passed", 1),
                                best_score=counts.get("best_score", 80)))
        db.session.commit()


def set_lab(app, org, **fields):
    with app.app_context():
        settings = db.session.scalar(sa.select(LabSettings).where(LabSettings.org_id == org.id))
        if settings is None:
            settings = LabSettings(org_id=org.id)
            db.session.add(settings)
        for key, value in fields.items():
            setattr(settings, key, value)
        db.session.commit()


def practise(app, user, lesson_id, tag="P"):
    """A person's lab history: an answer run with its rubric checks, the model's feedback on it, a day of use."""
    prompt, answer, feedback = distinct(f"prompt{tag}"), distinct(f"answer{tag}"), distinct(f"feedback{tag}")
    checks = [{"check": "audience", "met": True}, {"check": "format", "met": False}]
    run_id = add_run(app, user, lesson_id, prompt=prompt, answer=answer, checks=checks, score=80, passed=True)
    add_run(app, user, lesson_id, prompt=f"Grade this prompt: {prompt}", answer=feedback, kind="grading", parent_id=run_id)
    add_usage(app, user, utcnow().date(), calls=7, best_score=80)
    return prompt, answer, feedback


def members_text(archive) -> dict[str, str]:
    return {name: archive.read(name).decode("utf-8", "replace") for name in archive.namelist()}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- export ----------------------------------------------------------------------------------------

def test_export_holds_prompts_answers_both_kinds_of_feedback_and_use_per_day(app, client, companies, lesson_id):
    a, _ = companies
    prompt, answer, feedback = practise(app, a.learner, lesson_id)
    other_prompt, _a, _f = practise(app, a.manager, lesson_id, tag="M")
    set_lab(app, a.org, provider="openai", base_url="https://llm.example/v1", model="m", api_key="sk-" + "k" * 30,
            updated_by_id=a.admin.id)
    login(client, a.learner.email)
    archive, _status, _link = export_via_http(client, app)
    files = members_text(archive)

    data = json.loads(files["export.json"])
    runs = data["categories"]["usage"]["lab_run"]
    assert {(r["kind"], r["prompt"].endswith(prompt), r["answer"]) for r in runs} == {("answer", True, answer),
                                                                                     ("grading", True, feedback)}
    answer_run = next(r for r in runs if r["kind"] == "answer")
    assert answer_run["status"] == "done" and answer_run["score"] == 80 and answer_run["passed"] is True
    assert answer_run["checks"] == [{"check": "audience", "met": True}, {"check": "format", "met": False}]
    usage = data["categories"]["usage"]["lab_usage"]
    assert [(u["day"], u["calls"], u["best_score"]) for u in usage] == [(utcnow().date().isoformat(), 7, 80)]

    # the CSV holds the checks as JSON (not Python's repr), readable by any tool
    rows = list(csv.DictReader(io.StringIO(files["csv/lab_run.csv"])))
    assert len(rows) == 2 and "prompt" in rows[0] and "api_key" not in rows[0]
    checks_cell = next(r["checks"] for r in rows if r["kind"] == "answer")
    assert json.loads(checks_cell) == [{"check": "audience", "met": True}, {"check": "format", "met": False}]
    assert next(r["checks"] for r in rows if r["kind"] == "grading") == ""
    assert list(csv.DictReader(io.StringIO(files["csv/lab_usage.csv"])))[0]["calls"] == "7"

    # report.html: the same in words
    report = _text(files["report.html"])
    for words in ("Your practice-lab prompts and answers", "Your prompt", prompt, "The model's answer", answer,
                  "The model's feedback on your prompt", feedback, "Rubric checks of your prompt",
                  "Score of your prompt 80 %", "Passed the exercise Yes", "Status of the answer Complete",
                  "Your practice-lab use per day", "Prompts sent 7", "Best score 80 %", "Exercise Practice",
                  "Your company keeps them 30 days."):
        assert words in report, words
    assert "Says who the result is for: met" in files["report.html"] and "Asks for an output format: not met" in files["report.html"]
    # nobody else's prompts, and never the company's API key
    everything = "\n".join(files.values())
    assert other_prompt not in everything
    assert "sk-" + "k" * 30 not in everything and "llm.example" not in everything


def test_the_admin_who_set_the_key_never_gets_it_in_their_export(app, client, companies):
    a, _ = companies
    key = "sk-" + uuid.uuid4().hex
    set_lab(app, a.org, provider="openai", base_url="https://llm.example/v1", model="m", api_key=key, updated_by_id=a.admin.id)
    login(client, a.admin.email)
    archive, _s, _l = export_via_http(client, app)
    assert all(key not in text for text in members_text(archive).values())


def _catalogue():
    from babel.messages.pofile import read_po
    with open("leadthe/translations/de/LC_MESSAGES/messages.po", "rb") as po:
        return read_po(po)


def test_report_html_is_in_german_for_a_german_person(app, client, companies, lesson_id):
    a, _ = companies
    with app.app_context():
        db.session.get(User, a.learner.id).locale = "de"
        db.session.commit()
    prompt, _answer, feedback = practise(app, a.learner, lesson_id)
    login(client, a.learner.email)
    archive, _s, _l = export_via_http(client, app)
    report = _text(archive.read("report.html").decode())
    assert "Ihr Prompt" in report and prompt in report and "Rückmeldung des Modells zu Ihrem Prompt" in report
    german_label = [m.string for m in _catalogue() if m.id == "Says who the result is for"][0]
    assert f"{german_label}: erfüllt" in report and "Punktzahl Ihres Prompts 80 %" in report


# --- erasure ---------------------------------------------------------------------------------------

def test_after_erasure_no_prompt_answer_or_feedback_is_left_in_any_table_or_the_files(app, companies, lesson_id, backend,
                                                                                     database_url):
    a, b = companies
    mine = list(practise(app, a.learner, lesson_id))
    # a long answer that arrived in pieces, each piece committed (as the worker stores tokens)
    streamed = distinct("streamedanswer")
    run_id = add_run(app, a.learner, lesson_id, prompt=distinct("secondprompt"), answer="", status="running")
    with app.app_context():
        run = db.session.get(LabRun, run_id)
        mine.append(run.prompt)
        for piece in range(6):
            run.answer += f"{streamed} part {piece} " + "lorem ipsum " * 200
            db.session.commit()
        run.status = "done"
        db.session.commit()
    mine.append(streamed)
    theirs = practise(app, a.manager, lesson_id, tag="M")
    others = practise(app, b.learner, lesson_id, tag="B")

    client = app.test_client()
    login(client, a.learner.email)
    assert request_deletion(client, a.learner.email).status_code == 303
    runner = app.test_cli_runner()
    later = utcnow() + timedelta(days=7, minutes=1)
    assert runner.invoke(args=["leadthe", "retention", "--now", later.isoformat()]).exit_code == 0
    with app.app_context():
        run_once(later + timedelta(minutes=1))
        assert db.session.get(User, a.learner.id) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LabRun).where(LabRun.user_id == a.learner.id)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LabUsage).where(LabUsage.user_id == a.learner.id)) == 0
    text = all_text_in_database(app)
    assert [m for m in mine if m in text] == []
    # another person's runs stay
    assert all(m in text for m in theirs) and all(m in text for m in others)
    if backend == "sqlite":
        raw = sqlite_file_bytes(database_url)
        assert [m for m in mine if m.encode() in raw] == [], "erased prompts are still recoverable from the SQLite files"
        assert all(m.encode() in raw for m in theirs)  # the check can see text that is there


# --- retention -------------------------------------------------------------------------------------

def test_retention_keeps_each_companys_days_and_gradings_go_with_their_run(app, companies, lesson_id, backend,
                                                                          database_url):
    a, b = companies
    c_org = make_org(app, "Company C")
    c = make_user(app, c_org, email="learner@c.example", name="Learner C")
    set_lab(app, b.org, retention_days=7)
    set_lab(app, c_org, retention_days=0)
    now = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.utc)

    def at(days, hours=0):
        return now - timedelta(days=days, hours=hours)

    texts = {name: distinct(f"retention{name}") for name in ("a31", "a29", "b8", "b6", "b29", "c1h")}

    runs = {
        # company A: no settings saved, the default 30 days
        "a31": add_run(app, a.learner, lesson_id, prompt=texts["a31"], created_at=at(31)),
        "a29": add_run(app, a.learner, lesson_id, prompt=texts["a29"], created_at=at(29)),
        # company B: 7 days; a grading made a day after its run (younger than 7 days) goes with it
        "b8": add_run(app, b.learner, lesson_id, prompt=texts["b8"], created_at=at(8)),
        "b6": add_run(app, b.learner, lesson_id, prompt=texts["b6"], created_at=at(6)),
        "b29": add_run(app, b.learner, lesson_id, prompt=texts["b29"], created_at=at(29)),
        # company C: 0 days, every finished run goes; one still being generated is left for the worker
        "c1h": add_run(app, c, lesson_id, prompt=texts["c1h"], created_at=at(0, 1)),
        "c_running": add_run(app, c, lesson_id, prompt="crun", created_at=at(0, 1), status="running"),
        "c_stuck": add_run(app, c, lesson_id, prompt="cstuck", created_at=at(2), status="running"),
    }
    runs["b8_grading"] = add_run(app, b.learner, lesson_id, prompt="grade b8", kind="grading", parent_id=runs["b8"],
                                 created_at=at(2))
    runs["a29_grading"] = add_run(app, a.learner, lesson_id, prompt="grade a29", kind="grading", parent_id=runs["a29"],
                                  created_at=at(28))
    add_usage(app, a.learner, (now - timedelta(days=400)).date())
    add_usage(app, a.learner, (now - timedelta(days=380)).date())
    add_usage(app, b.learner, (now - timedelta(days=1)).date())

    runner = app.test_cli_runner()
    dry = runner.invoke(args=["leadthe", "retention", "--now", now.isoformat(), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "practice-lab prompts and answers past their company's days deleted: 6" in dry.output
    assert "practice-lab use per day older than 13 months deleted: 1" in dry.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LabRun)) == len(runs)  # nothing changed

    result = runner.invoke(args=["leadthe", "retention", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    assert "practice-lab prompts and answers past their company's days deleted: 6" in result.output
    with app.app_context():
        left = set(db.session.scalars(sa.select(LabRun.id)).all())
        days_left = sorted(db.session.scalars(sa.select(LabUsage.day)).all())
    gone = {name for name, run_id in runs.items() if run_id not in left}
    assert gone == {"a31", "b8", "b8_grading", "b29", "c1h", "c_stuck"}
    assert days_left == [(now - timedelta(days=380)).date(), (now - timedelta(days=1)).date()]
    # what retention removed is not recoverable from the SQLite files either
    if backend == "sqlite":
        raw = sqlite_file_bytes(database_url)
        assert [n for n in ("a31", "b8", "b29", "c1h") if texts[n].encode() in raw] == []
        assert all(texts[n].encode() in raw for n in ("a29", "b6"))
    # idempotent
    again = runner.invoke(args=["leadthe", "retention", "--now", now.isoformat()])
    assert "practice-lab prompts and answers past their company's days deleted: 0" in again.output


# --- the privacy centre ----------------------------------------------------------------------------

def test_privacy_centre_names_the_recipient_and_the_days(app, client, companies):
    a, _ = companies
    login(client, a.learner.email)
    centre = _text(client.get("/privacy").get_data(as_text=True))
    assert "Your prompts in the practice lab" in centre and "no model connected" in centre
    page = _text(client.get("/privacy/practice-lab").get_data(as_text=True))
    assert "No model connected" in page and "keeps prompts, answers and feedback for 30 days" in page
    assert "never read your prompts" in page and "counts and scores only" in page
    assert "in your data download" in page and "erased with it" in page

    set_lab(app, a.org, provider="openai", base_url="https://eu.llm.example/v1", model="gpt-test-1", retention_days=7,
            provider_name="")
    page = _text(client.get("/privacy/practice-lab").get_data(as_text=True))
    assert "eu.llm.example, model gpt-test-1" in page and "for 7 days" in page and "No model connected" not in page
    set_lab(app, a.org, provider_name="Azure OpenAI, EU", retention_days=0)
    page = _text(client.get("/privacy/practice-lab").get_data(as_text=True))
    assert "Azure OpenAI, EU, model gpt-test-1" in page and "keeps no prompts" in page
    assert "Azure OpenAI, EU" in _text(client.get("/privacy").get_data(as_text=True))
    # htmx gets the page too (no fragment of its own), and another company's settings never show
    assert client.get("/privacy/practice-lab", headers={"HX-Request": "true"}).status_code == 200


def test_practice_lab_privacy_page_in_german(app, client, companies):
    a, _ = companies
    with app.app_context():
        db.session.get(User, a.learner.id).locale = "de"
        db.session.commit()
    set_lab(app, a.org, provider="openai", base_url="https://eu.llm.example/v1", model="gpt-test-1", provider_name="Acme KI")
    login(client, a.learner.email)
    page = _text(client.get("/privacy/practice-lab").get_data(as_text=True))
    assert "Ihre Prompts im Übungslabor" in page and "Acme KI" in page and "30 Tage" in page


def test_staff_without_a_company_are_told_they_have_no_lab_data(app):
    from tests.conftest import login_with_code, make_staff

    staff = make_staff(app, "dpo", email="dpo@leadthe.example")
    client = app.test_client()
    login_with_code(client, app, staff)
    page = _text(client.get("/privacy/practice-lab").get_data(as_text=True))
    assert "not part of a company" in page and "No model connected" not in page


def test_another_companys_model_is_not_named(app, client, companies):
    a, b = companies
    set_lab(app, b.org, provider="openai", base_url="https://b-only.example/v1", model="b-model", provider_name="B's model")
    login(client, a.learner.email)
    page = client.get("/privacy/practice-lab").get_data(as_text=True)
    assert "B&#39;s model" not in page and "b-only.example" not in page and "No model connected" in page


# --- analytics --------------------------------------------------------------------------------------

def test_lab_polls_and_refreshes_are_no_page_views_and_store_no_ids_or_prompts(make_app, companies, lesson_id):
    """Page views record the URL rule of GET pages; the lab's polling (a run id in the path, every second
    while an answer arrives) would flood them. The lab blueprint's routes are not recorded; pages are."""
    from flask import request

    from leadthe.analytics import not_a_page_view

    app = make_app()
    a, _ = companies
    secret = distinct("analyticsprompt")

    def poll(slug, lesson, run_id):  # stands for the lab's answer fragment, polled while it grows
        return f"<p>answer so far for {request.args.get('q', '')}</p>"

    def refreshing(slug, lesson):  # a no-JavaScript refresh of a page while an answer arrives
        not_a_page_view()
        return "<p>still arriving</p>"

    # a route of the lab blueprint (the endpoint names it) at an address of its own: the real poll route is taken
    app.add_url_rule("/test-lab/<slug>/<lesson>/runs/<int:run_id>", endpoint="lab.test_poll", view_func=poll)
    app.add_url_rule("/courses/<slug>/lessons/<lesson>/refreshing", endpoint="courses.test_refreshing", view_func=refreshing)
    client = app.test_client()
    login(client, a.learner.email)
    html = client.get("/privacy/contact").get_data(as_text=True)
    assert client.post("/consent", data={"csrf_token": csrf_from(html), "source": "banner", "action": "accept_all",
                                        "next": "/"}).status_code == 303

    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(PageView))
    for _ in range(20):
        response = client.get(f"/test-lab/lab-course/practice/runs/4242?q={secret}", headers={"HX-Request": "true"})
        assert response.status_code == 200 and response.mimetype == "text/html"
    assert client.get("/courses/lab-course/lessons/practice/refreshing").status_code == 200
    assert client.get("/dashboard").status_code == 200  # a page is still counted
    with app.app_context():
        views = db.session.scalars(sa.select(PageView).order_by(PageView.id)).all()
        assert len(views) == before + 1 and views[-1].route == "/dashboard"
        assert all("/lab" not in v.route and v.feature != "lab" for v in views)
    text = all_text_in_database(app)
    assert secret not in text and "4242" not in "".join(v.route for v in views)


# --- admins and managers never read prompts ----------------------------------------------------------------

def _crawl(app, client, values: dict[str, list]):
    """Every GET page of the URL map whose arguments we can fill: none, or a person, a team, the exercise's
    course and lesson, the learner's run (the lab's own pages, when they exist: another's run is a 404)."""
    pages = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith(("/dev", "/scim", "/metrics")):
            continue
        if not set(rule.arguments) <= set(values):
            continue
        urls = [rule.rule]
        for name in rule.arguments:
            pattern = re.compile(r"<(?:[a-z]+:)?" + name + r">")
            urls = [pattern.sub(str(value), url) for url in urls for value in values[name]]
        pages.update(urls)
    seen = {}
    for page in sorted(pages - {"/logout"}):
        response = client.get(page)
        # (a PDF, e.g. the works-council annex, is bytes: read as text with its binary parts replaced)
        seen[page] = (response.status_code, response.get_data().decode("utf-8", "replace"))
    return seen


@pytest.mark.parametrize("role", ["admin", "manager", "colleague"])
def test_admins_and_managers_get_no_page_with_a_learners_prompt(app, companies, lesson_id, role):
    a, _ = companies
    prompt, answer, feedback = practise(app, a.learner, lesson_id)
    set_lab(app, a.org, provider="openai", base_url="https://llm.example/v1", model="m", model_feedback=True)
    client = app.test_client()
    if role == "colleague":  # a learner of the same company: the AI tools list, leaderboards, their own pages
        viewer = make_user(app, a.org, email="colleague@a.example", name="Colleague A")
    else:
        viewer = getattr(a, role)
    login(client, viewer.email)
    enrol(client, "lab-course")  # so the exercise's own page (where the lab lives) is crawled too
    with app.app_context():
        run_ids = db.session.scalars(sa.select(LabRun.id).where(LabRun.user_id == a.learner.id)).all()
    seen = _crawl(app, client, {"user_id": [a.learner.id], "team_id": [a.team.id], "slug": ["lab-course"],
                                "lesson": ["practice"], "run_id": run_ids})
    # the crawl reached the pages that matter: the person's page, the team, usage and the literacy overview
    ok = {page for page, (status, _body) in seen.items() if status == 200}
    if role == "colleague":
        assert {"/dashboard", "/ai-tools", "/privacy", "/courses/lab-course/lessons/practice"} <= ok
    else:
        assert {f"/admin/users/{a.learner.id}", f"/admin/teams/{a.team.id}", "/admin",
                "/courses/lab-course/lessons/practice"} <= ok
    if role == "admin":
        assert {"/admin/usage", "/admin/literacy", "/admin/ai-tools", "/admin/audit"} <= ok
    leaks = [page for page, (_status, body) in seen.items() if any(text in body for text in (prompt, answer, feedback))]
    assert leaks == []


def test_the_learner_themself_is_the_only_reader(app, companies, lesson_id):
    """The control for the crawl above: the same prompt is readable in the learner's own export, so the
    crawl's check would see it if a page showed it."""
    a, _ = companies
    prompt, _answer, _feedback = practise(app, a.learner, lesson_id)
    client = app.test_client()
    login(client, a.learner.email)
    archive, _s, _l = export_via_http(client, app)
    assert prompt in archive.read("export.json").decode()
