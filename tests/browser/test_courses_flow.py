"""A learner walks a course from the catalogue to completion, with JavaScript on (htmx) and off."""
from __future__ import annotations

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import LessonCompletion
from tests.browser.helpers import log_in
from tests.conftest import make_org, make_user


def _setup(live_app, tmp_path):
    from leadthe.courses.content import load_content

    course = tmp_path / "content" / "walk"
    (course / "01-start").mkdir(parents=True)
    (course / "course.md").write_text("---\nslug: walk\ntitle: A short walk\nsummary: Three small lessons.\ntopic: testing\nlevel: beginner\n---\nAbout the walk.\n")
    (course / "01-start" / "module.md").write_text("---\nslug: start\ntitle: Getting started\n---\n")
    for n, kind in ((1, "reading"), (2, "practice"), (3, "reading")):
        extra = "prompt: Write a prompt for a summary.\n" if kind == "practice" else ""
        (course / "01-start" / f"0{n}-step{n}.md").write_text(
            f"---\nslug: step-{n}\ntitle: Step {n}\nkind: {kind}\nminutes: 2\n{extra}---\n## Part {n}\n\nText of step {n}.\n")
    with live_app.app_context():
        load_content(tmp_path / "content")
        db.session.commit()
    org = make_org(live_app, "Walkers")
    return make_user(live_app, org, email="walker@example.com", name="Wanda Walker")


def test_walk_a_course_to_completion(live_app, page, js, tmp_path):
    user = _setup(live_app, tmp_path)
    log_in(page, user.email)
    page.get_by_role("link", name="Courses", exact=True).first.click()
    page.get_by_role("link", name="A short walk").click()
    page.get_by_role("button", name="Start this course").click()
    page.wait_for_url("**/courses/walk/lessons/step-1")
    assert page.get_by_role("heading", level=1).inner_text() == "Step 1"
    if js:
        page.evaluate("window.stayedOnPage = true")  # survives only if no full page load happens
    page.get_by_role("button", name="Mark as complete").click()
    if js:
        # htmx swapped the next lesson into the pane: progress bar updated, address pushed, no page load
        page.get_by_role("heading", level=1, name="Step 2").wait_for()
        page.wait_for_url("**/lessons/step-2")
        page.get_by_text("“Step 1” is done.").wait_for()
        assert "1 of 3 lessons done" in page.locator("#course-progress").inner_text()
        assert page.evaluate("window.stayedOnPage === true")
        assert page.evaluate("document.activeElement.id") == "lesson-title"  # focus moved to the new lesson
        assert page.locator("nav.outline a[aria-current=page]").inner_text() == "Step 2"
        # the outline's links swap the pane too (their target and history settings come from the outline)
        page.locator("nav.outline").get_by_role("link", name="Step 1").click()
        page.wait_for_url("**/lessons/step-1")
        page.get_by_role("heading", level=1, name="Step 1").wait_for()
        page.locator("nav.outline").get_by_role("link", name="Step 2").click()
        page.wait_for_url("**/lessons/step-2")
        assert page.evaluate("window.stayedOnPage === true")
    else:
        page.wait_for_url("**/lessons/step-2")
    assert page.get_by_role("heading", level=1).inner_text() == "Step 2"
    page.get_by_label("Your prompt").fill("Summarise this report for a busy manager in five bullets.")
    page.get_by_role("button", name="Save my answer").click()
    page.get_by_text("Your answer is saved").wait_for()
    page.get_by_role("button", name="Mark as complete").click()
    page.wait_for_url("**/lessons/step-3")
    page.get_by_role("heading", level=1, name="Step 3").wait_for()
    page.get_by_role("button", name="Mark as complete").click()
    # the last lesson: back to the course page, which says the course is finished
    page.wait_for_url("**/courses/walk")
    page.get_by_text("You completed this course on").wait_for()
    page.get_by_text("You finished every lesson of this course.").first.wait_for()
    with live_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LessonCompletion)) == 3
    page.goto("/dashboard")
    assert "A short walk" in page.locator("main").inner_text()


def test_course_pages_are_accessible(live_app, page_js, axe_check, tmp_path):
    user = _setup(live_app, tmp_path)
    log_in(page_js, user.email)
    page_js.wait_for_url("**/dashboard")
    page_js.goto("/courses")
    axe_check(page_js, label="catalogue")
    page_js.goto("/courses/walk")
    axe_check(page_js, label="course page")
    page_js.get_by_role("button", name="Start this course").click()
    page_js.wait_for_url("**/lessons/step-1")
    axe_check(page_js, label="lesson page")
    page_js.goto("/courses/walk/lessons/step-2")
    axe_check(page_js, label="practice lesson")
    page_js.goto("/search?q=step")
    assert page_js.locator("mark").count() >= 1
    axe_check(page_js, label="search")
    page_js.goto("/dashboard")
    axe_check(page_js, label="dashboard")
