"""A learner takes a quiz and the maturity self-assessment, with JavaScript on (htmx) and off; axe checks."""
from __future__ import annotations

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import Certificate, QuizAttempt
from tests.browser.helpers import log_in
from tests.conftest import make_org, make_user
from tests.helpers import write_quiz_course


def _setup(live_app, tmp_path):
    from leadthe.courses.content import load_content

    write_quiz_course(tmp_path / "content", lessons=1)
    with live_app.app_context():
        load_content(tmp_path / "content")
        db.session.commit()
    org = make_org(live_app, "Testers")
    return make_user(live_app, org, email="taker@example.com", name="Tara Taker")


def _answer_quiz(page, right=True):
    page.get_by_role("group", name="Which is right?").get_by_label("A" if right else "B", exact=True).check()
    multi = page.get_by_role("group", name="Pick the two right ones")
    multi.get_by_label("X", exact=True).check()
    multi.get_by_label("Y", exact=True).check()
    page.get_by_role("group", name="The sky is green.").get_by_label("False", exact=True).check()


def test_take_a_quiz_and_get_a_certificate(live_app, page, js, tmp_path):
    user = _setup(live_app, tmp_path)
    log_in(page, user.email)
    page.wait_for_url("**/dashboard")
    page.goto("/courses/tiny")
    page.get_by_role("button", name="Start this course").click()
    page.wait_for_url("**/lessons/l1")
    page.get_by_role("button", name="Mark as complete").click()
    page.get_by_text("Pass the final quiz to complete it.").wait_for()  # the last lesson leads to the quiz
    page.goto("/assessments")
    page.get_by_role("link", name="Tiny quiz").click()
    # a question left open: the error is shown beside it, answers kept
    page.get_by_role("group", name="Which is right?").get_by_label("A", exact=True).check()
    page.get_by_role("button", name="Submit my answers").click()
    page.get_by_text("Please answer every question: 2 still open.").wait_for()
    assert page.get_by_role("group", name="Which is right?").get_by_label("A", exact=True).is_checked()
    _answer_quiz(page)
    page.get_by_role("button", name="Submit my answers").click()
    page.get_by_text("Passed: 3 of 3 correct").wait_for()
    page.wait_for_url("**/attempts/*")
    assert "Because A is right." in page.locator("main").inner_text()
    if js:
        page.locator("#quiz-status").get_by_text("Attempts used: 1 of 2").wait_for()
    page.get_by_role("link", name="See your certificate").click()
    page.get_by_text("This certificate is valid.").wait_for()
    assert "Tara Taker" in page.locator("main").inner_text()
    with live_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizAttempt)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1


def test_maturity_self_assessment(live_app, page, js, tmp_path):
    user = _setup(live_app, tmp_path)
    log_in(page, user.email)
    page.wait_for_url("**/dashboard")
    page.goto("/maturity")
    page.get_by_role("link", name="Take the self-assessment").click()
    # .all() does not wait: without this, a slow machine lists the fieldsets of the page being left (none)
    page.wait_for_url("**/maturity/assessment")
    page.locator("fieldset").first.wait_for()
    for group in page.locator("fieldset").all():
        group.locator("input[type=radio]").first.check()
    page.get_by_role("button", name="See my level").click()
    page.wait_for_url("**/maturity/results/*")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Level ")
    assert page.get_by_role("img", name="Scores per dimension, 1 to 5").count() == 1


def test_assessment_pages_are_accessible(live_app, page_js, axe_check, tmp_path):
    user = _setup(live_app, tmp_path)
    log_in(page_js, user.email)
    page_js.wait_for_url("**/dashboard")
    axe_check(page_js, label="dashboard with recommendations")
    page_js.goto("/assessments")
    axe_check(page_js, label="assessments list")
    page_js.get_by_role("link", name="Tiny quiz").click()
    axe_check(page_js, label="quiz")
    page_js.get_by_role("button", name="Submit my answers").click()
    page_js.get_by_text("Please answer every question").wait_for()
    axe_check(page_js, label="quiz with errors")
    _answer_quiz(page_js, right=False)
    page_js.get_by_role("button", name="Submit my answers").click()
    page_js.get_by_text("Question by question").wait_for()
    axe_check(page_js, label="quiz result")
    page_js.goto("/maturity")
    axe_check(page_js, label="maturity")
    page_js.goto("/maturity/assessment")
    axe_check(page_js, label="maturity form")
    for group in page_js.locator("fieldset").all():
        group.locator("input[type=radio]").last.check()
    page_js.get_by_role("button", name="See my level").click()
    page_js.wait_for_url("**/maturity/results/*")
    axe_check(page_js, label="maturity result")
    page_js.goto("/maturity/assessment")
    for group in page_js.locator("fieldset").all():
        group.locator("input[type=radio]").first.check()
    page_js.get_by_role("button", name="See my level").click()
    page_js.wait_for_url("**/maturity/results/*")
    page_js.get_by_text("Change since").wait_for()
    axe_check(page_js, label="maturity result with change")
    # certificate page
    from leadthe.assessments.certificates import new_code
    from leadthe.models import Course, utcnow

    with live_app.app_context():
        course = db.session.scalar(sa.select(Course))
        code = new_code()
        db.session.add(Certificate(org_id=user.org_id, user_id=user.id, course_id=course.id, code=code, issued_at=utcnow()))
        db.session.commit()
    page_js.goto(f"/certificates/{code}")
    axe_check(page_js, label="certificate")


def test_admin_maturity_page_is_accessible(live_app, page_js, axe_check):
    org = make_org(live_app, "Admins")
    admin = make_user(live_app, org, role="admin", email="adm@example.com")
    log_in(page_js, admin.email)
    page_js.wait_for_url("**/dashboard")
    page_js.goto("/admin/maturity")
    axe_check(page_js, label="admin maturity")
    page_js.goto("/admin/assignments")
    axe_check(page_js, label="admin assignments")
