"""The practice lab end to end (issue 18): a starter exercise from the shipped curriculum, the company's model
(a fake OpenAI-compatible server on loopback), the worker's runner, the real rubric checks and the real
personal-data guard; completed with JavaScript off (forms, 303, the page's refresh) and on (htmx fragments)."""
from __future__ import annotations

import html
import re
import time

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from tests.conftest import csrf_from
from tests.fake_openai import ANSWER, start_fake_model
from tests.helpers import enrol, login

KEY = "sk-end-to-end-key"
URL = "/courses/ai-foundations/lessons/exercise-summarise-for-a-customer"
HX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def fake():
    server = start_fake_model(api_key=KEY)
    yield server
    server.stop()


@pytest.fixture
def lab(app, companies, fake):
    """The starter curriculum loaded, company A's model connected (model feedback allowed), its learner enrolled."""
    from leadthe.courses.content import load_content
    from leadthe.models.lab import LabSettings

    app.config.update(LAB_READ_TIMEOUT=2.0, LAB_TOTAL_TIMEOUT=10.0, LAB_ALLOW_PRIVATE_URLS=True)
    a, _ = companies
    with app.app_context():
        load_content()
        db.session.add(LabSettings(org_id=a.org.id, provider="openai", base_url=fake.base_url, model="ok",
                                   provider_name="Acme's model", api_key=KEY, model_feedback=True, guard_mode="block"))
        db.session.commit()
    return a


def strong_prompt(app) -> str:
    """A prompt that meets the exercise's rubric: a role, the reader, the note itself, 5 bullets, limits."""
    from leadthe.models import Lesson

    with app.app_context():
        material = db.session.scalar(sa.select(Lesson).where(Lesson.slug == "exercise-summarise-for-a-customer")).exercise["material"]
    return ("You are an account manager writing to our customer Brightwater Logistics, who was not in the meeting. "
            "Summarise the internal meeting note below for them in exactly 5 bullet points of at most 20 words each. "
            "Do not mention anything marked internal, and keep every date exactly as written.\n\n" + material)


def send(client, url, data, page=URL, headers=None):
    html = client.get(page).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_from(html), **data}, headers=headers or {})


def drain(app) -> int:
    """What the worker does: run the queued generations."""
    from leadthe.lab import runner

    with app.app_context():
        return runner.run_pending()


def runs(app, user_id):
    from leadthe.models.lab import LabRun

    with app.app_context():
        return list(db.session.scalars(sa.select(LabRun).where(LabRun.user_id == user_id).order_by(LabRun.id)))


def completed(app, user_id) -> bool:
    from leadthe.models import Lesson, LessonCompletion

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(LessonCompletion).join(
            Lesson, Lesson.id == LessonCompletion.lesson_id).where(
            LessonCompletion.user_id == user_id, Lesson.slug == "exercise-summarise-for-a-customer")) == 1


def test_an_exercise_is_completed_on_the_companys_model_without_javascript(app, client, lab, fake):
    login(client, lab.learner.email)
    enrol(client, "ai-foundations")
    page = client.get(URL).get_data(as_text=True)
    assert "Acme&#39;s model" in page or "Acme's model" in page
    prompt = strong_prompt(app)
    response = send(client, f"{URL}/lab/send", {"prompt": prompt})
    assert response.status_code == 303
    waiting = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'http-equiv="refresh"' in waiting  # the page refreshes itself until the answer is complete
    assert drain(app) == 1
    [run] = runs(app, lab.learner.id)
    assert run.status == "done" and run.answer == ANSWER and run.tokens_out > 0
    sent = fake.requests[-1]
    assert sent["headers"]["Authorization"] == f"Bearer {KEY}" and sent["body"]["messages"][-1]["content"] == prompt
    done = client.get(f"{URL}?run={run.id}").get_data(as_text=True)
    assert "The delivery moves to Friday." in done and 'http-equiv="refresh"' not in done
    # feedback: the checks pass it (the lesson is complete); the model's own feedback follows, shown apart
    response = send(client, f"{URL}/lab/feedback", {"prompt": prompt})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You passed this exercise" in page and completed(app, lab.learner.id)
    assert drain(app) == 1  # the grading run
    grading = [r for r in runs(app, lab.learner.id) if r.kind == "grading"]
    assert len(grading) == 1 and grading[0].status == "done"
    assert "[role]" in fake.requests[-1]["body"]["messages"][-1]["content"] or any(
        "[role]" in m["content"] for m in fake.requests[-1]["body"]["messages"])
    page = client.get(f"{URL}?run={run.id}").get_data(as_text=True)
    assert "Model feedback" in page


def test_an_exercise_is_completed_with_htmx_and_the_answer_arrives_in_the_polled_fragment(app, client, lab):
    login(client, lab.learner.email)
    enrol(client, "ai-foundations")
    prompt = strong_prompt(app)
    fragment = send(client, f"{URL}/lab/send", {"prompt": prompt}, headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and "every 400ms" in fragment
    [run] = runs(app, lab.learner.id)
    drain(app)
    polled = client.get(f"{URL}/lab/runs/{run.id}", headers=HX).get_data(as_text=True)
    assert "The delivery moves to Friday." in polled and "every 400ms" not in polled  # complete: polling stops
    response = send(client, f"{URL}/lab/feedback", {"prompt": prompt}, headers=HX)
    assert response.status_code == 200 and "You passed this exercise" in response.get_data(as_text=True)
    assert completed(app, lab.learner.id)


def test_a_weak_prompt_gets_the_rubric_tips_and_does_not_pass(app, client, lab):
    login(client, lab.learner.email)
    enrol(client, "ai-foundations")
    response = send(client, f"{URL}/lab/feedback", {"prompt": "Summarise this."})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You passed this exercise" not in page and not completed(app, lab.learner.id)
    assert "Gives the model a role" in page and "Says who the result is for" in page


def test_block_mode_keeps_a_colleagues_name_from_reaching_the_model(app, client, lab, fake):
    login(client, lab.learner.email)
    enrol(client, "ai-foundations")
    before = len(fake.requests)
    colleague = lab.manager.name
    response = send(client, f"{URL}/lab/send", {"prompt": f"Write to {colleague} about the delivery, in 5 bullets."})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and colleague in page
    assert re.search(r"\[NAME 1\]", page) or "placeholder" in page.lower()
    assert runs(app, lab.learner.id) == [] and drain(app) == 0 and len(fake.requests) == before


def test_a_stalled_model_ends_with_a_message_and_the_prompt_kept(app, client, lab, fake):
    from leadthe.models.lab import LabSettings

    app.config.update(LAB_READ_TIMEOUT=1.0)
    fake.stall_seconds = 30  # the model sends one piece, then nothing for 30 s: the read timeout ends the wait
    with app.app_context():
        db.session.execute(sa.update(LabSettings).where(LabSettings.org_id == lab.org.id).values(model="stall"))
        db.session.commit()
    login(client, lab.learner.email)
    enrol(client, "ai-foundations")
    prompt = strong_prompt(app)
    send(client, f"{URL}/lab/send", {"prompt": prompt})
    started = time.monotonic()
    drain(app)
    assert time.monotonic() - started < 20  # the worker's thread is not held for the model's 30 s
    [run] = runs(app, lab.learner.id)
    assert run.status == "failed" and run.error_code == "timeout"
    page = client.get(f"{URL}?run={run.id}").get_data(as_text=True)
    assert "took too long to answer" in page
    assert run.answer == "" or run.answer in ANSWER  # what came before the stall, if anything, is kept
    box = re.search(r'<textarea[^>]*name="prompt"[^>]*>(.*?)</textarea>', page, re.S)
    assert box and html.unescape(box.group(1)).strip() == prompt.strip()  # the prompt is still in the text box
