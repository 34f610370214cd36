"""The learning loop moves forward: resume opens the first lesson not yet completed, completing a lesson
opens the next one (plain POST and htmx), and the course page and dashboard say what is next."""
from __future__ import annotations

import re

from tests.helpers import complete, complete_lessons, enrol, load, login, write_course, write_quiz_course


def _four_lessons(app, client, companies, tmp_path):
    write_course(tmp_path, "loop", 4, modules=2)  # module 1: l1, l2; module 2: l3, l4
    load(app, tmp_path)
    login(client, companies[0].learner.email)
    enrol(client, "loop")


def _flash(html):
    return " ".join(re.findall(r'class="flash[^"]*"[^>]*>(.*?)</', html, re.S))


def test_resume_opens_the_first_lesson_not_yet_completed(app, client, companies, tmp_path):
    _four_lessons(app, client, companies, tmp_path)
    complete(client, "loop", "l1")
    complete(client, "loop", "l3")  # l2 skipped
    client.get("/courses/loop/lessons/l4")  # the last one opened
    assert client.get("/courses/loop/resume").headers["Location"].endswith("/courses/loop/lessons/l2")
    course_page = client.get("/courses/loop").get_data(as_text=True)
    assert "Next: <strong>Lesson 2</strong>" in course_page
    assert "Continue where you left off" in course_page
    dash = client.get("/dashboard").get_data(as_text=True)
    assert "Next:</span> <strong>Lesson 2</strong>" in dash and "/courses/loop/resume" in dash
    complete(client, "loop", "l2")
    complete(client, "loop", "l4")
    # every lesson done (no quiz): resume leads to the course page, which says the course is finished
    r = client.get("/courses/loop/resume")
    assert r.headers["Location"].endswith("/courses/loop")
    page = client.get("/courses/loop").get_data(as_text=True)
    assert "You finished every lesson of this course." in page and "Next:" not in page


def test_completing_a_lesson_goes_to_the_next_one_without_javascript(app, client, companies, tmp_path):
    _four_lessons(app, client, companies, tmp_path)
    r = complete(client, "loop", "l1")
    assert r.status_code == 303 and r.headers["Location"].endswith("/courses/loop/lessons/l2")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "<h1 id=\"lesson-title\" tabindex=\"-1\">Lesson 2</h1>" in page and "“Lesson 1” is done." in _flash(page)
    # across a module boundary, and past lessons already done, to the next open one
    complete(client, "loop", "l3")
    r = complete(client, "loop", "l2")
    assert r.headers["Location"].endswith("/courses/loop/lessons/l4")
    r = complete(client, "loop", "l4")  # the last open lesson: back to the course, finished
    assert r.status_code == 303 and r.headers["Location"].endswith("/courses/loop")
    assert "You finished every lesson of this course." in _flash(client.get("/courses/loop").get_data(as_text=True))


def test_completing_a_lesson_with_htmx_swaps_in_the_next_one(app, client, companies, tmp_path):
    _four_lessons(app, client, companies, tmp_path)
    r = complete(client, "loop", "l2", headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body
    assert "Lesson 3 of 4" in body and ">Lesson 3</h1>" in body and "“Lesson 2” is done." in body
    assert r.headers["HX-Push-Url"].endswith("/courses/loop/lessons/l3") and r.headers["HX-Trigger"] == "progress-changed"
    # the outline marks the lesson just done and the one now open (out of band)
    assert re.search(r'<li id="outline-\d+" class="done" data-hx-swap-oob="true">\s*<a href="/courses/loop/lessons/l2"', body)
    assert re.search(r'href="/courses/loop/lessons/l3" data-hx-get="[^"]+" aria-current="page"', body)
    assert "1 of 4 lessons done" in body
    assert len(r.data) <= 8 * 1024  # the htmx swap budget
    # the last lesson: htmx navigates to the course page
    for slug in ("l1", "l3"):
        complete(client, "loop", slug)
    r = complete(client, "loop", "l4", headers={"HX-Request": "true"})
    assert r.headers["HX-Redirect"].endswith("/courses/loop")


def test_after_the_last_lesson_the_final_quiz_is_next(app, client, companies, tmp_path):
    write_quiz_course(tmp_path / "content")
    load(app, tmp_path / "content")
    login(client, companies[0].learner.email)
    complete_lessons(client)  # enrols and completes l1 and l2
    r = client.get("/courses/tiny/resume")
    assert "/assessments/" in r.headers["Location"]
    quiz_page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Pass the final quiz to complete it." in _flash(quiz_page)
    dash = client.get("/dashboard").get_data(as_text=True)
    assert "Next: the final quiz." in dash and "Take the final quiz" in dash
