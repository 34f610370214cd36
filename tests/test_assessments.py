"""Quizzes: content loading, the quiz page, scoring, attempt limits, hostile answers, course completion."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import Certificate, Enrollment, Quiz, QuizAttempt, QuizChoice, QuizQuestion, QuizResponse
from tests.conftest import make_org, make_user
from tests.helpers import answers, complete_lessons, load, login, submit, write_quiz_course

@pytest.fixture
def tiny(app, tmp_path):
    write_quiz_course(tmp_path / "content")
    load(app, tmp_path / "content")
    with app.app_context():
        quiz = db.session.scalar(sa.select(Quiz))
        qs = {q.slug: q for q in db.session.scalars(sa.select(QuizQuestion))}
        ch = {(c.question_id, c.text): c.id for c in db.session.scalars(sa.select(QuizChoice))}
        ids = {
            "quiz": quiz.id,
            "single": qs["q-single"].id, "multi": qs["q-multi"].id, "tf": qs["q-tf"].id,
            "A": ch[(qs["q-single"].id, "A")], "B": ch[(qs["q-single"].id, "B")],
            "X": ch[(qs["q-multi"].id, "X")], "Y": ch[(qs["q-multi"].id, "Y")], "Z": ch[(qs["q-multi"].id, "Z")],
            "T": ch[(qs["q-tf"].id, "True")], "F": ch[(qs["q-tf"].id, "False")],
        }
    return ids


@pytest.fixture
def learner(app):
    org = make_org(app, "Quizzers")
    return make_user(app, org, email="quiz@example.com", name="Quinn Quizzer")


# --- content ---------------------------------------------------------------------------------------

def test_starter_quizzes_load_with_at_least_ten_questions_each(app):
    from leadthe.courses.content import load_content

    with app.app_context():
        report = load_content()
        db.session.commit()
        assert report.quizzes["created"] == 5
        counts = db.session.execute(sa.select(Quiz.slug, sa.func.count(QuizQuestion.id)).join(QuizQuestion)
                                    .group_by(Quiz.slug)).all()
        assert len(counts) == 5 and all(n >= 10 for _s, n in counts)


def test_reloading_keeps_attempts_and_archives_removed_questions(app, client, tiny, learner, tmp_path):
    login(client, learner.email)
    assert submit(client, tiny, answers(tiny)).status_code == 303
    text = (tmp_path / "content" / "tiny" / "quiz.yaml").read_text()
    # drop the true/false question and rename a choice
    text = text.split("  - slug: q-tf")[0].replace('"B"', '"B, reworded"')
    (tmp_path / "content" / "tiny" / "quiz.yaml").write_text(text)
    report = load(app, tmp_path / "content")
    assert report.quizzes["questions_archived"] == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizResponse)) == 3
        assert db.session.get(QuizChoice, tiny["B"]).text == "B, reworded"  # same id: updated in place
        assert db.session.get(QuizQuestion, tiny["tf"]).archived
    assert "The sky is green" not in client.get(f"/assessments/{tiny['quiz']}").get_data(as_text=True)


# --- taking a quiz -----------------------------------------------------------------------------------

def test_list_and_quiz_page(client, tiny, learner):
    login(client, learner.email)
    page = client.get("/assessments").get_data(as_text=True)
    assert "Tiny quiz" in page and "Not taken" in page
    page = client.get(f"/assessments/{tiny['quiz']}").get_data(as_text=True)
    assert f'name="q{tiny["multi"]}"' in page and 'type="checkbox"' in page and 'type="radio"' in page
    assert "Pass mark: 60%" in page


def test_scoring_and_feedback_with_explanations(app, client, tiny, learner):
    login(client, learner.email)
    r = submit(client, tiny, answers(tiny, multi=("X",)))  # multi needs both X and Y: 2 of 3 right = 67%
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "67%" in page and "Passed: 2 of 3 correct" in page
    assert "X and Y are right." in page and "Because A is right." in page and "Wrong" in page  # passed: all revealed
    with app.app_context():
        attempt = db.session.scalar(sa.select(QuizAttempt))
        assert (attempt.score, attempt.correct_count, attempt.passed) == (67, 2, True)
        responses = {r.question_id: r for r in db.session.scalars(sa.select(QuizResponse))}
        assert responses[tiny["multi"]].choice_ids == [tiny["X"]] and not responses[tiny["multi"]].correct


def test_failing_then_attempt_limit(app, client, tiny, learner):
    login(client, learner.email)
    r = submit(client, tiny, answers(tiny, single="B", multi=("Z",), tf="T"))
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Not passed: 0 of 3" in page and "1 attempt left" in page
    assert submit(client, tiny, answers(tiny, single="B")).status_code == 303
    r = submit(client, tiny, answers(tiny))
    assert r.status_code == 409
    assert "You have used all 2 attempts" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizAttempt)) == 2


def test_unanswered_question_is_shown_beside_it(client, tiny, learner):
    login(client, learner.email)
    r = submit(client, tiny, answers(tiny, multi=None))
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert f'id="q{tiny["multi"]}-error"' in page and "Choose an answer." in page
    assert re.search(rf'value="{tiny["A"]}" id="c{tiny["A"]}" checked', page)  # earlier answers kept
    r = submit(client, tiny, answers(tiny, multi=None), headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.get_data(as_text=True)


def _hostile(ids, other):
    good = answers(ids)
    return [
        {**good, "q999999": ids["A"]},                           # unknown question
        {**good, "qabc": ids["A"]},                              # non-numeric question id
        {**good, f"q{ids['single']}": "abc"},                    # non-numeric choice
        {**good, f"q{ids['single']}": "99999999"},               # unknown choice
        {**good, f"q{ids['single']}": ids["X"]},                 # a choice of another question
        {**good, f"q{ids['single']}": other},                    # a choice of another quiz
        {**good, f"q{ids['multi']}": [ids["X"], ids["X"]]},      # the same choice twice
        {**good, f"q{ids['single']}": [ids["A"], ids["B"]]},     # two answers to a single-choice question
        {**good, f"q{ids['tf']}": "1" * 40},                     # absurdly long number
        {**good, f"q{ids['single']}": "¹"},                      # a digit to str.isdigit(), not a number to int()
        {**good, f"q{ids['single']}": "٣"},                      # an Arabic-Indic digit
    ]


def test_hostile_answers_are_a_clear_400(app, client, tiny, learner, tmp_path):
    write_quiz_course(tmp_path / "other", slug="other")
    load(app, tmp_path / "other")
    with app.app_context():
        other_quiz = db.session.scalar(sa.select(Quiz).where(Quiz.slug == "other"))
        other_choice = db.session.scalar(sa.select(QuizChoice.id).join(QuizQuestion).where(QuizQuestion.quiz_id == other_quiz.id).limit(1))
    login(client, learner.email)
    for data in _hostile(tiny, other_choice):
        r = submit(client, tiny, data)
        assert r.status_code == 400, data
        assert "do not match the questions of this quiz" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizAttempt)) == 0


def test_htmx_submit_returns_feedback_block_and_trigger(client, tiny, learner):
    login(client, learner.email)
    r = submit(client, tiny, answers(tiny), headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert r.headers["HX-Trigger"] == "progress-changed"
    assert "/attempts/" in r.headers["HX-Push-Url"]
    body = r.get_data(as_text=True)
    assert "<html" not in body and "Question by question" in body


def test_shuffle_is_stable_per_attempt_and_changes_between_attempts(app, client, tmp_path, learner):
    write_quiz_course(tmp_path / "c", slug="shuf", shuffle=True)
    load(app, tmp_path / "c")
    from leadthe.assessments.services import attempt_seed, live_questions, ordered

    with app.app_context():
        quiz = db.session.scalar(sa.select(Quiz))
        qs = live_questions(quiz.id)
        orders = {n: [q.id for q, _c in ordered(qs, attempt_seed(learner.id, quiz.id, n), True)] for n in range(1, 8)}
        assert orders[1] == [q.id for q, _c in ordered(qs, attempt_seed(learner.id, quiz.id, 1), True)]
        assert len({tuple(o) for o in orders.values()}) > 1
    login(client, learner.email)
    first = client.get(f"/assessments/{quiz.id}").get_data(as_text=True)
    again = client.get(f"/assessments/{quiz.id}").get_data(as_text=True)
    strip = lambda html: re.findall(r'id="(c\d+)"', html)  # noqa: E731
    assert strip(first) == strip(again)


def test_another_company_cannot_see_a_private_quiz(app, client, learner, tmp_path):
    from leadthe.models import Course

    write_quiz_course(tmp_path / "c", slug="private")
    load(app, tmp_path / "c")
    other = make_org(app, "Other")
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.slug == "private"))
        course.org_id = other.id
        db.session.commit()
        quiz_id = db.session.scalar(sa.select(Quiz.id))
    login(client, learner.email)
    assert client.get(f"/assessments/{quiz_id}").status_code == 404
    assert client.get("/assessments/abc").status_code == 404


def test_results_of_another_person_are_404(client, tiny, learner, app):
    login(client, learner.email)
    r = submit(client, tiny, answers(tiny))
    url = r.headers["Location"]
    other = make_user(app, learner.org_id, email="other@example.com")
    client2 = app.test_client()
    login(client2, other.email)
    assert client2.get(url).status_code == 404


# --- completion ----------------------------------------------------------------------------------------

def test_course_completion_needs_lessons_and_quiz(app, client, tiny, learner):
    login(client, learner.email)
    complete_lessons(client)
    with app.app_context():
        assert db.session.scalar(sa.select(Enrollment.completed_at)) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0
    page = client.get("/courses/tiny").get_data(as_text=True)
    assert "Take the final quiz" in page
    r = submit(client, tiny, answers(tiny))
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "You completed the course." in page and "See your certificate" in page
    with app.app_context():
        assert db.session.scalar(sa.select(Enrollment.completed_at)) is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1
    assert "You completed this course on" in client.get("/courses/tiny").get_data(as_text=True)


def test_quiz_first_then_lessons_also_completes(app, client, tiny, learner):
    login(client, learner.email)
    submit(client, tiny, answers(tiny))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0
    complete_lessons(client)
    with app.app_context():
        assert db.session.scalar(sa.select(Enrollment.completed_at)) is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1


def test_responses_are_in_the_export_registry():
    from leadthe.privacy.registry import BY_TABLE

    assert BY_TABLE["quiz_response"].category == "usage" and BY_TABLE["quiz_attempt"].subject == ("user_id",)
    assert BY_TABLE["certificate"].erasure == "delete" and BY_TABLE["certificate"].columns["code"].export


# --- what a result reveals ------------------------------------------------------------------------

def _feedback_items(page):
    """Each question's feedback block (text between the <li> of the feedback list and its end)."""
    block = page.split('<ol class="feedback">', 1)[1].split("</ol>", 1)[0]
    return block


def test_a_failed_attempt_with_attempts_left_shows_which_were_wrong_but_not_the_right_answers(app, client, tiny, learner):
    login(client, learner.email)
    r = submit(client, tiny, answers(tiny, single="B", multi=("X",), tf="T"))  # 0 of 3, one attempt left
    first = r.headers["Location"]
    page = client.get(first).get_data(as_text=True)
    feedback = _feedback_items(page)
    assert "Not passed: 0 of 3" in page and "1 attempt left" in page
    assert feedback.count("Wrong") == 3 and "B <strong>(your answer)</strong>" in feedback
    # the right option "A" is listed, but not marked right; no explanation gives it away
    assert "<li>A</li>" in feedback and "right answer" not in feedback and "✓" not in feedback
    assert "Because A is right." not in page and "X and Y are right." not in page and "It is not." not in page
    assert "once you pass or have used your last attempt" in page
    # the last attempt: now the right answers and explanations appear, on the old attempt's page too
    r = submit(client, tiny, answers(tiny, single="B", multi=("Z",), tf="T"))
    last = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "No attempts left" in last or "no attempts left" in last
    assert "A <span class=\"status-done\">✓ right answer</span>" in _feedback_items(last)
    assert "Because A is right." in last and "X and Y are right." in last and "It is not." in last
    assert "Because A is right." in client.get(first).get_data(as_text=True)


def test_a_pass_reveals_the_right_answers(client, tiny, learner):
    login(client, learner.email)
    r = submit(client, tiny, answers(tiny, multi=("X",)))  # 2 of 3: passed with an attempt left
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Passed" in page and "✓ right answer" in page and "X and Y are right." in page


def test_quiz_page_says_select_all_once_and_separates_its_figures(app, client, tiny, learner, tmp_path):
    yaml_file = tmp_path / "content" / "tiny" / "quiz.yaml"
    yaml_file.write_text(yaml_file.read_text().replace('"Pick the two right ones"', '"Pick the two right ones. Select all that apply."'))
    load(app, tmp_path / "content")
    login(client, learner.email)
    page = client.get(f"/assessments/{tiny['quiz']}").get_data(as_text=True)
    assert page.lower().count("select all that apply") == 1
    submit(client, tiny, answers(tiny, single="B"))
    page = client.get(f"/assessments/{tiny['quiz']}").get_data(as_text=True)
    facts = page.split('<ul class="quiz-facts meta">', 1)[1].split("</ul>", 1)[0]
    assert "<li>Attempts used: 1 of 2</li>" in facts and "<li>Your best score: 67%</li>" in facts
    assert 'class="question"' in page  # legends sit inside their box (see app.css)
