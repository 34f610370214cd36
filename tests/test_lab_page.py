"""The practice lab on an exercise lesson (issue 18): the page, sending a prompt through the personal-data
guard, the answer as it arrives, cancel, feedback against the rubric and the pass that completes the lesson;
with JavaScript off (forms, 303, the page's refresh) and on (htmx fragments).

The rubric checks (``leadthe.lab.checks.evaluate``) and the quotas are other parts of the issue: replaced here
by small stand-ins. The worker is simulated by writing the run as the runner would."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from tests.conftest import csrf_from, make_user
from tests.helpers import enrol, login, make_course

HX = {"HX-Request": "true"}
EXERCISE = {
    "task": "Summarise the meeting note for a customer in 5 bullet points.",
    "material": "Meeting note:\n- the launch moves to May\n- " + "averyveryverylongwordwithoutanyspaces" * 4,
    "criteria": [{"check": "audience", "label": "Says who will read it"}, {"check": "format", "label": "Asks for bullets"}],
    "pass_mark": 100,
    "hints": ["Who reads the summary?"],
}
GOOD = "You write for a customer (audience). Give 5 bullet points (format)."
HALF = "Summarise this for a customer (audience)."


@pytest.fixture
def lab(app, companies, monkeypatch):
    """Company A's learner enrolled in a platform course whose second lesson is an exercise; company A has
    a model connected (guard: warn). Returns a namespace with the URLs and helpers."""
    from leadthe.lab import checks, quotas
    from leadthe.models import Lesson
    from leadthe.models.lab import LabSettings

    def evaluate(exercise, prompt):
        results = tuple(checks.CheckResult(c.check, c.label, f"({c.check})" in prompt, f"Tip for {c.check}.")
                        for c in exercise.criteria)
        score = round(100 * sum(r.met for r in results) / len(results))
        return checks.Evaluation(results, score, score >= exercise.pass_mark)

    monkeypatch.setattr(checks, "evaluate", evaluate)
    monkeypatch.setattr(quotas, "refusal", lambda settings, user: None)
    passes = []
    monkeypatch.setattr(quotas, "record_pass", lambda user, score: passes.append((user.id, score)), raising=False)
    a, b = companies
    with app.test_request_context():
        course, module, practice, _quiz = make_course(None, "lab-course", "Lab course")
        db.session.add_all([
            Lesson(course_id=course.id, module_id=module.id, slug="ex1", title="Summarise for a customer", kind="exercise",
                   minutes=10, body_html="<p>Practise it.</p>", exercise=EXERCISE, position=1, seq=1),
            Lesson(course_id=course.id, module_id=module.id, slug="after", title="After the lab", kind="reading",
                   minutes=3, body_html="<p>Next.</p>", position=2, seq=2),
        ])
        for org, model in ((a.org, "ok"), (b.org, "ok")):
            db.session.add(LabSettings(org_id=org.id, provider="openai", base_url="http://127.0.0.1:9/v1", model=model,
                                       provider_name=f"Acme GPT {org.id}", guard_mode="warn", retention_days=30))
        db.session.commit()

    class Lab:
        url = "/courses/lab-course/lessons/ex1"
        send = url + "/lab/send"
        feedback = url + "/lab/feedback"
        passed = passes

        @staticmethod
        def settings(**values):
            with app.app_context():
                db.session.execute(sa.update(LabSettings).where(LabSettings.org_id == a.org.id).values(**values))
                db.session.commit()

        @staticmethod
        def runs(user=None):
            from leadthe.models.lab import LabRun

            with app.app_context():
                stmt = sa.select(LabRun).order_by(LabRun.id)
                if user is not None:
                    stmt = stmt.where(LabRun.user_id == user.id)
                return list(db.session.scalars(stmt))

        @staticmethod
        def finish(run_id, answer="Here are 5 bullets.", status="done", error_code=""):
            """What the runner writes when the model answered (or failed)."""
            from leadthe.models import utcnow
            from leadthe.models.lab import LabRun

            with app.app_context():
                db.session.execute(sa.update(LabRun).where(LabRun.id == run_id).values(
                    status=status, answer=answer, error_code=error_code, started_at=utcnow(), finished_at=utcnow(),
                    model="ok"))
                db.session.commit()

        @staticmethod
        def completed(user) -> bool:
            from leadthe.models import LessonCompletion

            with app.app_context():
                return db.session.scalar(sa.select(sa.func.count()).select_from(LessonCompletion).join(
                    Lesson, Lesson.id == LessonCompletion.lesson_id).where(
                    LessonCompletion.user_id == user.id, Lesson.slug == "ex1")) == 1

    return Lab


@pytest.fixture
def learner(client, companies):
    login(client, companies[0].learner.email)
    enrol(client, "lab-course")
    return companies[0].learner


def post(client, url, data, page, headers=None):
    html = client.get(page).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_from(html), **data}, headers=headers or {})


def text(response) -> str:
    return response.get_data(as_text=True)


def textarea(html: str) -> str:
    match = re.search(r'<textarea[^>]*name="prompt"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, "no prompt text box"
    import html as h

    return h.unescape(match.group(1)).strip()


def test_the_exercise_page_shows_task_material_rubric_hints_and_the_model(client, lab, learner):
    page = text(client.get(lab.url))
    assert EXERCISE["task"] in page
    assert "the launch moves to May" in page and 'class="lab-material"' in page
    assert "<li>Says who will read it</li>" in page and "<li>Asks for bullets</li>" in page
    assert "<details class=\"lab-hints\"><summary>Hints</summary>" in page and "Who reads the summary?" in page
    assert "Answers come from Acme GPT" in page and "prompts are kept 30 days" in page
    assert "Send to the model" in page and "Get feedback" in page
    assert 'name="prompt"' in page and 'for="prompt"' in page
    assert "Mark as complete" not in page  # an exercise is completed by passing it
    assert 'http-equiv="refresh"' not in page  # nothing is being written


def test_an_exercise_completed_without_javascript(client, app, lab, learner):
    response = post(client, lab.send, {"prompt": HALF}, lab.url)
    assert response.status_code == 303
    [run] = lab.runs(learner)
    assert run.status == "queued" and run.prompt == HALF and run.kind == "answer"
    assert response.headers["Location"].endswith(f"{lab.url}?run={run.id}#lab")
    waiting = text(client.get(f"{lab.url}?run={run.id}"))
    assert (f'<noscript><meta http-equiv="refresh" content="2; url={lab.url}?poll=1&amp;run={run.id}#lab"></noscript>'
            in waiting)  # a new URL each time: a refresh to the same URL with #lab would only scroll
    assert f"?poll=2&amp;run={run.id}#lab" in text(client.get(f"{lab.url}?run={run.id}&poll=1"))
    assert "Waiting for the model" in waiting and "Stop the answer" in waiting
    assert textarea(waiting) == HALF
    lab.finish(run.id, answer="<b>Five</b> bullets:\n- one")
    done = text(client.get(f"{lab.url}?run={run.id}"))
    assert 'http-equiv="refresh"' not in done and "Stop the answer" not in done
    assert '<pre class="lab-text">&lt;b&gt;Five&lt;/b&gt; bullets:\n- one</pre>' in done  # escaped
    assert 'aria-live="polite"' in done
    # feedback on a prompt that misses a criterion: the tip, no pass
    response = post(client, lab.feedback, {"prompt": HALF}, lab.url)
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "50% of the criteria met" in page and "Tip for format." in page and "not met yet" in page
    assert not lab.completed(learner)
    # revise, ask again: a pass completes the lesson and offers the next one
    response = post(client, lab.feedback, {"prompt": GOOD}, lab.url)
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "100% of the criteria met" in page and "You passed this exercise" in page
    assert 'href="/courses/lab-course/lessons/after">Next lesson</a>' in page
    assert lab.completed(learner) and lab.passed == [(learner.id, 100)]
    assert textarea(page) == GOOD
    runs = lab.runs(learner)
    assert runs[0].checks is not None and runs[0].score == 50  # stored on the answer run of that prompt
    assert runs[-1].prompt == GOOD and runs[-1].passed and runs[-1].status == "done"  # checked, never sent
    assert "it was not sent to a model" in page


def test_an_exercise_completed_with_htmx(client, lab, learner):
    response = post(client, lab.send, {"prompt": GOOD}, lab.url, headers=HX)
    assert response.status_code == 200
    fragment = text(response)
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="lab"')
    [run] = lab.runs(learner)
    run_url = f"{lab.url}/lab/runs/{run.id}"
    assert f'data-hx-get="{run_url}" data-hx-trigger="every 400ms"' in fragment
    polled = client.get(run_url, headers=HX)
    assert polled.status_code == 200 and 'id="lab-answer"' in text(polled) and "every 400ms" in text(polled)
    assert "<html" not in text(polled)
    from leadthe.models.lab import LabRun
    from leadthe.extensions import db as _db
    with client.application.app_context():
        _db.session.execute(sa.update(LabRun).where(LabRun.id == run.id).values(status="running", answer="Partial"))
        _db.session.commit()
    partial = text(client.get(run_url, headers=HX))
    assert "Partial" in partial and "every 400ms" in partial and "The model is writing" in partial
    lab.finish(run.id, answer="Partial and the rest")
    finished = text(client.get(run_url, headers=HX))
    assert "Partial and the rest" in finished and "every 400ms" not in finished  # the polling stops
    response = post(client, lab.feedback, {"prompt": GOOD}, lab.url, headers=HX)
    assert response.status_code == 200 and response.headers.get("HX-Trigger") == "progress-changed"
    fragment = text(response)
    assert "<html" not in fragment and "You passed this exercise" in fragment and "Next lesson" in fragment
    # the lesson's body, with the progress bar and the outline updated out of band
    assert response.headers["HX-Retarget"] == "#lesson-body" and response.headers["HX-Reswap"] == "innerHTML"
    assert "hx-swap-oob" in fragment and "2 of 3 lessons done" not in fragment and "1 of 3 lessons done" in fragment
    assert lab.completed(learner)
    # without htmx the run's URL leads to the lesson page
    plain = client.get(run_url)
    assert plain.status_code == 302 and plain.headers["Location"].endswith(f"?run={run.id}#lab")


def test_the_prompt_is_checked_beside_the_field(client, lab, learner):
    response = post(client, lab.send, {"prompt": "   "}, lab.url)
    assert response.status_code == 422 and "Write your prompt first." in text(response)
    long = "x" * 4001
    response = post(client, lab.send, {"prompt": long}, lab.url)
    assert response.status_code == 422 and "Keep your prompt under 4,000 characters." in text(response)
    assert textarea(text(response)) == long  # nothing lost
    response = post(client, lab.send, {"prompt": ""}, lab.url, headers=HX)
    assert response.status_code == 200 and "Write your prompt first." in text(response)
    assert lab.runs() == []


def test_block_mode_refuses_a_colleagues_name_and_offers_placeholders(client, app, companies, lab, learner):
    make_user(app, companies[0].org, name="Maria Schmidt", email="maria@a.example")
    lab.settings(guard_mode="block")
    prompt = "Summarise the note for maria schmidt (audience), mail her at maria@a.example"
    response = post(client, lab.send, {"prompt": prompt, "confirm": "y"}, lab.url)
    assert response.status_code == 422
    page = text(response)
    assert "Your prompt was not sent: it contains personal data." in page
    assert "Name of a colleague: <q>maria schmidt</q> → [NAME 1]" in page
    assert "E-mail address: <q>maria@a.example</q> → [EMAIL 1]" in page
    assert textarea(page) == prompt and lab.runs() == []
    # the placeholders replace the findings in the text box; nothing is sent
    response = post(client, lab.send, {"prompt": prompt, "placeholders": "1"}, lab.url)
    assert response.status_code == 200 and lab.runs() == []
    replaced = textarea(text(response))
    assert replaced == "Summarise the note for [NAME 1] (audience), mail her at [EMAIL 1]"
    assert post(client, lab.send, {"prompt": replaced}, lab.url).status_code == 303
    assert [r.prompt for r in lab.runs()] == [replaced]
    # another company's people are not in this company's directory
    make_user(app, companies[1].org, name="Otto Fremd", email="otto@b.example")
    assert post(client, lab.send, {"prompt": "Write to Otto Fremd"}, lab.url).status_code == 303


def test_warn_mode_asks_to_confirm_then_sends(client, app, companies, lab, learner):
    make_user(app, companies[0].org, name="Maria Schmidt", email="maria@a.example")
    prompt = "Draft a reply to Maria Schmidt, phone +49 30 1234567"
    response = post(client, lab.send, {"prompt": prompt}, lab.url, headers=HX)
    assert response.status_code == 200
    fragment = text(response)
    assert "Your prompt contains what looks like personal data." in fragment
    assert "Phone number: <q>+49 30 1234567</q> → [PHONE 1]" in fragment
    assert "I checked: send it anyway" in fragment and "Replace them with placeholders" in fragment
    assert lab.runs() == []
    response = post(client, lab.send, {"prompt": prompt, "confirm": "y"}, lab.url)
    assert response.status_code == 303 and [r.prompt for r in lab.runs()] == [prompt]


def test_a_failed_run_shows_its_message_and_keeps_the_prompt(client, lab, learner):
    post(client, lab.send, {"prompt": HALF}, lab.url)
    [run] = lab.runs()
    lab.finish(run.id, answer="", status="failed", error_code="timeout")
    page = text(client.get(lab.url))
    assert "The company&#39;s AI model took too long to answer." in page and 'role="alert"' in page
    assert textarea(page) == HALF and 'http-equiv="refresh"' not in page


def test_cancel_stops_a_queued_run_at_once_and_asks_a_running_one(client, app, lab, learner):
    post(client, lab.send, {"prompt": HALF}, lab.url)
    [run] = lab.runs()
    response = post(client, f"{lab.url}/lab/runs/{run.id}/cancel", {}, lab.url)
    assert response.status_code == 303
    [run] = lab.runs()
    assert run.status == "cancelled"
    assert "You cancelled this answer." in text(client.get(lab.url))
    post(client, lab.send, {"prompt": GOOD}, lab.url)
    second = lab.runs()[-1]
    from leadthe.models.lab import LabRun
    with app.app_context():
        db.session.execute(sa.update(LabRun).where(LabRun.id == second.id).values(status="running"))
        db.session.commit()
    response = post(client, f"{lab.url}/lab/runs/{second.id}/cancel", {}, lab.url, headers=HX)
    assert response.status_code == 200 and 'id="lab-answer"' in text(response)
    assert lab.runs()[-1].cancel_requested


def test_another_persons_run_is_404(app, client, companies, lab, learner):
    post(client, lab.send, {"prompt": HALF}, lab.url)
    [run] = lab.runs()
    colleague = make_user(app, companies[0].org, name="Col League", email="col@a.example")
    other = app.test_client()
    login(other, colleague.email)
    enrol(other, "lab-course")
    assert other.get(f"{lab.url}/lab/runs/{run.id}", headers=HX).status_code == 404
    assert post(other, f"{lab.url}/lab/runs/{run.id}/cancel", {}, lab.url).status_code == 404
    outsider = app.test_client()
    login(outsider, companies[1].learner.email)
    enrol(outsider, "lab-course")
    assert outsider.get(f"{lab.url}/lab/runs/{run.id}", headers=HX).status_code == 404
    assert "Waiting for the model" not in text(outsider.get(f"{lab.url}?run={run.id}"))
    assert lab.runs()[0].status == "queued"


def test_not_enrolled_or_not_an_exercise_is_404(client, companies, lab):
    login(client, companies[0].learner.email)
    page = "/courses/lab-course"
    assert post(client, lab.send, {"prompt": GOOD}, page).status_code == 404  # not enrolled
    enrol(client, "lab-course")
    assert post(client, "/courses/lab-course/lessons/practice/lab/send", {"prompt": GOOD}, page).status_code == 404


def test_no_model_connected_the_page_says_so_and_feedback_still_works(client, lab, learner):
    lab.settings(provider="none", base_url="", model="")
    page = text(client.get(lab.url))
    assert "Your company has not connected an AI model yet." in page
    assert "Send to the model" not in page and "Get feedback" in page
    response = post(client, lab.send, {"prompt": GOOD}, lab.url)
    assert response.status_code == 422 and "prompts are not sent" in text(response) and lab.runs() == []
    response = post(client, lab.feedback, {"prompt": GOOD}, lab.url)
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "You passed this exercise" in page and lab.completed(learner)
    [run] = lab.runs()
    assert run.status == "done" and run.passed and run.answer == ""


def test_quota_and_pause_refuse_with_a_message_and_keep_the_prompt(client, lab, learner, monkeypatch):
    from datetime import timedelta

    from leadthe.lab import quotas
    from leadthe.models import utcnow

    monkeypatch.setattr(quotas, "refusal", lambda settings, user: "You have used today's 20,000 tokens.")
    response = post(client, lab.send, {"prompt": GOOD}, lab.url)
    assert response.status_code == 422 and "You have used today&#39;s 20,000 tokens." in text(response)
    assert textarea(text(response)) == GOOD and lab.runs() == []
    monkeypatch.setattr(quotas, "refusal", lambda settings, user: None)
    lab.settings(paused_until=utcnow() + timedelta(minutes=1))
    response = post(client, lab.send, {"prompt": GOOD}, lab.url)
    assert response.status_code == 422 and "paused for a minute" in text(response) and lab.runs() == []


def test_model_feedback_is_a_grading_run_shown_apart_and_never_the_pass(client, lab, learner):
    lab.settings(model_feedback=True)
    response = post(client, lab.feedback, {"prompt": HALF}, lab.url)
    assert response.status_code == 303
    runs = lab.runs()
    grading = [r for r in runs if r.kind == "grading"]
    assert len(grading) == 1 and grading[0].parent_id == runs[0].id and grading[0].status == "queued"
    page = text(client.get(response.headers["Location"]))
    assert "Model feedback" in page and "whether you pass is decided by the checks above" in page
    assert '<noscript><meta http-equiv="refresh"' in page
    lab.finish(grading[0].id, answer="Great prompt, all criteria met!")
    page = text(client.get(response.headers["Location"]))
    assert "Great prompt, all criteria met!" in page and not lab.completed(learner)  # the checks decide


def test_staff_see_the_exercise_without_the_lab(app, lab):
    from tests.conftest import login_with_code, make_staff

    staff = make_staff(app, email="staff@leadthe.example")
    client = app.test_client()
    login_with_code(client, app, staff)
    enrol(client, "lab-course")
    page = text(client.get(lab.url))
    assert EXERCISE["task"] in page and "The practice lab is for people of a company" in page
    assert post(client, lab.send, {"prompt": GOOD}, lab.url).status_code == 403


def test_model_feedback_is_shown_per_criterion_in_the_rubrics_words(client, lab, learner):
    lab.settings(model_feedback=True)
    response = post(client, lab.feedback, {"prompt": HALF}, lab.url)
    grading = [r for r in lab.runs() if r.kind == "grading"][0]
    lab.finish(grading.id, answer='Here is my grading: {"summary": "Clear, but say the format.", "criteria": ['
                                  '{"check": "audience", "met": true, "comment": "Customer named."}, '
                                  '{"check": "format", "met": "no", "comment": "No format."}]}')
    fragment = text(client.get(f"{lab.url}/lab/runs/{grading.id}", headers=HX))
    assert "<html" not in fragment and "Model feedback" in fragment and "every 400ms" not in fragment
    assert "<strong>Says who will read it</strong>: met<br><span class=\"meta\">Customer named.</span>" in fragment
    assert "<strong>Asks for bullets</strong>: not met yet" in fragment and "Clear, but say the format." in fragment
    assert response.status_code == 303 and not lab.completed(learner)


def test_model_feedback_is_not_asked_for_a_prompt_with_personal_data(client, app, companies, lab, learner):
    make_user(app, companies[0].org, name="Maria Schmidt", email="maria@a.example")
    lab.settings(model_feedback=True, guard_mode="block")
    prompt = "Summarise for Maria Schmidt (audience) in bullets (format)"
    response = post(client, lab.feedback, {"prompt": prompt, "confirm": "y"}, lab.url)
    assert response.status_code == 303
    assert [r.kind for r in lab.runs()] == ["answer"]  # checked, but nothing for the model
    page = text(client.get(response.headers["Location"]))
    assert "Model feedback was not asked for: your prompt contains personal data." in page
    assert "You passed this exercise" in page  # the checks still decide


def test_a_company_that_never_saved_lab_settings_sees_the_lab_without_a_model(client, app, lab, learner):
    from leadthe.models.lab import LabSettings

    with app.app_context():
        db.session.execute(sa.delete(LabSettings))
        db.session.commit()
    response = client.get(lab.url)  # a GET writes nothing (the defaults are not saved)
    assert response.status_code == 200 and "Your company has not connected an AI model yet." in text(response)
    assert client.get(lab.url, headers={**HX, "HX-Target": "lesson-body"}).status_code == 200


def test_the_lab_in_german(client, app, lab, learner):
    from leadthe.models import User

    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == learner.id).values(locale="de"))
        db.session.commit()
    page = text(client.get(lab.url))
    assert "Übungslabor" in page and "An das Modell senden" in page and "Feedback erhalten" in page
    assert "Die Antworten kommen von Acme GPT" in page and "30 Tage aufbewahrt" in page
    response = post(client, lab.send, {"prompt": "x" * 4001}, lab.url)
    assert "Ihr Prompt darf höchstens 4.000 Zeichen lang sein." in text(response)


def test_the_mark_as_complete_address_does_not_complete_an_exercise(client, lab, learner):
    """The button is not shown on an exercise; a hand-made POST to the lesson's complete address is refused
    too, with a word on what completes it (passing the exercise)."""
    response = post(client, f"{lab.url}/complete", {}, lab.url)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{lab.url}#lab")
    assert "Pass the exercise to complete this lesson" in text(client.get(lab.url))
    assert not lab.completed(learner)
