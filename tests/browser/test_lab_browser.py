"""The practice lab in a real browser, with JavaScript on (htmx: the answer appears as it is written) and off
(plain forms, the page refreshes itself): send a prompt, the answer arrives (the worker is simulated by writing
the run as the runner does), feedback, pass. axe on the lab page; nothing scrolls sideways at 375 px."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from leadthe.extensions import db
from tests.conftest import make_org, make_user

from .helpers import log_in

LONG_WORD = "https://example.com/" + "a-very-long-path-segment-without-spaces/" * 8
EXERCISE = {
    "task": "Summarise the meeting note for a customer in 5 bullet points.",
    "material": "Meeting note: the launch moves to May. " + LONG_WORD,
    "criteria": [{"check": "audience", "label": "Says who will read it"}, {"check": "format", "label": "Asks for bullets"}],
    "pass_mark": 100,
    "hints": ["Who reads the summary?"],
}
GOOD = "You write for a customer (audience). Give 5 bullet points (format)."


@pytest.fixture
def lab(live_app, monkeypatch):
    from leadthe.lab import checks, quotas
    from leadthe.models import Enrollment, Lesson, utcnow
    from leadthe.models.lab import LabSettings
    from tests.helpers import make_course

    def evaluate(exercise, prompt):
        results = tuple(checks.CheckResult(c.check, c.label, f"({c.check})" in prompt, f"Tip for {c.check}.")
                        for c in exercise.criteria)
        score = round(100 * sum(r.met for r in results) / len(results))
        return checks.Evaluation(results, score, score >= exercise.pass_mark)

    monkeypatch.setattr(checks, "evaluate", evaluate)
    monkeypatch.setattr(quotas, "refusal", lambda settings, user: None)
    org = make_org(live_app, "Example Ltd")
    learner = make_user(live_app, org, email="lea@example.com", name="Lea Learner")
    make_user(live_app, org, email="maria@example.com", name="Maria Schmidt")
    with live_app.test_request_context():
        course, module, _lesson, _quiz = make_course(None, "lab-course", "Lab course")
        db.session.add_all([
            Lesson(course_id=course.id, module_id=module.id, slug="ex1", title="Summarise for a customer", kind="exercise",
                   minutes=10, body_html="<p>Practise it.</p>", exercise=EXERCISE, position=1, seq=1),
            Lesson(course_id=course.id, module_id=module.id, slug="after", title="After the lab", kind="reading",
                   minutes=3, body_html="<p>Next.</p>", position=2, seq=2),
            LabSettings(org_id=org.id, provider="openai", base_url="http://127.0.0.1:9/v1", model="ok",
                        provider_name="Acme GPT", guard_mode="block"),
            Enrollment(user_id=learner.id, course_id=course.id, created_at=utcnow()),
        ])
        db.session.commit()
    return learner


def write_run(live_app, **values):
    """What the runner writes to the newest run as the model answers."""
    from leadthe.models import utcnow
    from leadthe.models.lab import LabRun

    with live_app.app_context():
        run_id = db.session.scalar(sa.select(sa.func.max(LabRun.id)))
        db.session.execute(sa.update(LabRun).where(LabRun.id == run_id).values(started_at=utcnow(), **values))
        db.session.commit()


def no_sideways_scroll(page):
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_the_lab_with_and_without_javascript(live_app, page, js, lab, axe_check):
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, "lea@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto("/courses/lab-course/lessons/ex1")
    expect(page.get_by_text("Answers come from Acme GPT")).to_be_visible()
    # block mode: a colleague's name is refused, the placeholders replace it
    page.get_by_label("Your prompt").fill("Summarise it for Maria Schmidt")
    page.get_by_role("button", name="Send to the model").click()
    expect(page.get_by_text("Your prompt was not sent: it contains personal data.")).to_be_visible()
    page.get_by_role("button", name="Replace them with placeholders").click()
    expect(page.get_by_label("Your prompt")).to_have_value("Summarise it for [NAME 1]")
    page.get_by_label("Your prompt").fill(GOOD)
    page.get_by_role("button", name="Send to the model").click()
    expect(page.get_by_text("Waiting for the model")).to_be_visible()
    write_run(live_app, status="running", answer="First bullets " + LONG_WORD)
    expect(page.get_by_text("First bullets")).to_be_visible(timeout=10_000)  # polled (js) or refreshed (no js)
    assert no_sideways_scroll(page)
    write_run(live_app, status="done", answer="First bullets and the rest.")
    expect(page.get_by_text("First bullets and the rest.")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("button", name="Stop the answer")).to_have_count(0)
    expect(page.get_by_label("Your prompt")).to_have_value(GOOD)
    page.get_by_role("button", name="Get feedback").click()
    expect(page.get_by_text("You passed this exercise: the lesson is complete.").first).to_be_visible()
    expect(page.get_by_role("link", name="Next lesson")).to_be_visible()
    expect(page.get_by_text("1 of 3 lessons done (33%)", exact=True)).to_be_visible()  # the progress bar too
    assert no_sideways_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    assert no_sideways_scroll(page)
    if js:
        axe_check(page, label="lab lesson page")


def test_the_answer_shows_as_it_arrives(live_app, page_js, lab):
    """The page polls the answer while it is written: text the runner stored appears without a reload (the
    time it takes is measured by bench/lab_load.py, not here)."""
    log_in(page_js, "lea@example.com")
    expect(page_js).to_have_url(re.compile(r"/dashboard$"))
    page_js.goto("/courses/lab-course/lessons/ex1")
    page_js.get_by_label("Your prompt").fill(GOOD)
    page_js.get_by_role("button", name="Send to the model").click()
    expect(page_js.get_by_text("Waiting for the model")).to_be_visible()
    write_run(live_app, status="running", answer="Token")
    expect(page_js.get_by_text("Token", exact=True)).to_be_visible(timeout=10_000)


def test_the_lab_page_is_valid_html_in_each_state(live_app, page_js, lab, tmp_path):
    """The Nu HTML checker on the lab lesson page as served: refused by the guard, waiting for the answer
    (with the no-JS refresh), answered with feedback and model feedback."""
    from . import nu
    from .test_sweep import require_nu

    require_nu()
    page = page_js
    log_in(page, "lea@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    url = "/courses/lab-course/lessons/ex1"
    page.goto(url)
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    files = []

    def save(name, response):
        assert response.status in (200, 422), response.status
        path = tmp_path / f"{name}.html"
        path.write_text(response.text(), encoding="utf-8")
        files.append(path)

    save("refused", page.request.post(url + "/lab/send", form={"csrf_token": token, "prompt": "Mail Maria Schmidt"}))
    assert page.request.post(url + "/lab/send", form={"csrf_token": token, "prompt": GOOD}, max_redirects=0).status == 303
    save("waiting", page.request.get(url))
    write_run(live_app, status="done", answer="Five bullets " + LONG_WORD)
    with live_app.app_context():
        from leadthe.models.lab import LabSettings
        db.session.execute(sa.update(LabSettings).values(model_feedback=True))
        db.session.commit()
    page.request.post(url + "/lab/feedback", form={"csrf_token": token, "prompt": GOOD}, max_redirects=0)
    save("feedback", page.request.get(url))
    sources = [f.read_text(encoding="utf-8") for f in files]
    assert "Your prompt was not sent" in sources[0] and 'http-equiv="refresh"' in sources[1]
    assert "Model feedback" in sources[2] and "Five bullets" in sources[2]
    messages = nu.check_files(files)
    assert not messages, "\n".join(f"{m.file}:{m.line}: {m.text} {m.extract}" for m in messages)
