"""Exercise lessons in the content format (issue 18): ``kind: exercise`` with task, material, rubric, pass mark
and hints is stored as ``Lesson.exercise``; a bad exercise is refused naming its file before any row changes; a
translation gives task, material, hints and criterion labels to a German reader; authoring keeps the exercise."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from leadthe.courses.content import ContentError, load_content
from leadthe.extensions import db
from leadthe.lab import exercise as exercise_mod
from leadthe.lab.checks import evaluate
from leadthe.models import Course, Lesson
from tests.conftest import make_staff, login_with_code, post_form
from tests.helpers import load, write_course

CONTENT = Path(__file__).resolve().parent.parent / "leadthe" / "content"

EXERCISE = """---
slug: ex1
title: Summarise for a customer
kind: exercise
minutes: 10
task: "Summarise this meeting note for a customer in 5 bullet points."
material: |
  Weekly call with Quillfeather Ltd about the zebrafish rollout.
  New date agreed: 24 March.
rubric:
  - check: role
    label: "Says who the model should be"
  - check: audience
  - format
pass_mark: 60
hints:
  - "Who will read it?"
  - "How many bullet points?"
---
Write the prompt.
"""

EXERCISE_DE = """---
title: Für einen Kunden zusammenfassen
task: "Fassen Sie diese Besprechungsnotiz für einen Kunden in 5 Stichpunkten zusammen."
material: |
  Wöchentlicher Termin mit Quillfeather Ltd zur Zebrafisch-Einführung.
rubric:
  - "Sagt, wer das Modell sein soll"
  - label: "Sagt, für wen"
hints:
  - "Wer liest es?"
---
Schreiben Sie den Prompt.
"""


def course_with(tmp_path: Path, text: str, name: str = "01-ex1.md", translation: str | None = None) -> Path:
    root = tmp_path / "content"
    course = write_course(root, "lab-course", 1)
    module = course / "01-mod1"
    (module / name).write_text(text, encoding="utf-8")
    if translation is not None:
        (module / name.replace(".md", ".de.md")).write_text(translation, encoding="utf-8")
    return root


def lesson_row(app, slug: str) -> Lesson:
    return db.session.scalar(sa.select(Lesson).where(Lesson.slug == slug))


def test_an_exercise_is_stored_as_its_json_and_found_by_search(app, tmp_path):
    report = load(app, course_with(tmp_path, EXERCISE))
    assert report.created["lesson"] == 2
    with app.app_context():
        lesson = lesson_row(app, "ex1")
        assert lesson.kind == "exercise"
        assert lesson.exercise == {
            "task": "Summarise this meeting note for a customer in 5 bullet points.",
            "material": "Weekly call with Quillfeather Ltd about the zebrafish rollout.\nNew date agreed: 24 March.",
            "pass_mark": 60,
            "criteria": [{"check": "role", "label": "Says who the model should be"}, {"check": "audience", "label": ""},
                         {"check": "format", "label": ""}],
            "hints": ["Who will read it?", "How many bullet points?"]}
        ex = exercise_mod.of(lesson)
        assert ex.pass_mark == 60 and [c.check for c in ex.criteria] == ["role", "audience", "format"]
        assert "zebrafish rollout" in lesson.search_text and "5 bullet points" in lesson.search_text
        assert lesson_row(app, "l1").exercise is None  # other kinds have none
    again = load(app, course_with(tmp_path / "again", EXERCISE))
    assert again.updated["lesson"] == 0  # reloading the same exercise changes nothing


def test_an_exercise_that_changes_kind_loses_its_exercise(app, tmp_path):
    load(app, course_with(tmp_path, EXERCISE))
    load(app, course_with(tmp_path / "b", EXERCISE.replace("kind: exercise", "kind: reading")))
    with app.app_context():
        lesson = lesson_row(app, "ex1")
        assert lesson.kind == "reading" and lesson.exercise is None and exercise_mod.of(lesson) is None


@pytest.mark.parametrize("broken, message", [
    (EXERCISE.replace('task: "Summarise this meeting note for a customer in 5 bullet points."\n', ""), "needs a task"),
    (EXERCISE.replace("  - check: audience\n", "  - check: vibes\n"), "unknown check 'vibes'"),
    (EXERCISE.split("rubric:")[0] + "pass_mark: 60\n---\nBody.\n", "needs a rubric"),
    (EXERCISE.replace("rubric:\n", "rubric: role\n").replace("  - check: role\n    label: \"Says who the model should be\"\n  - check: audience\n  - format\n", ""),
     "needs a rubric"),
    (EXERCISE.replace("pass_mark: 60", "pass_mark: 180"), "pass_mark"),
    (EXERCISE.replace("pass_mark: 60", "pass_mark: lots"), "pass_mark"),
    (EXERCISE.replace('  - "Who will read it?"\n  - "How many bullet points?"\n', "    nested: [1]\n"), "hints"),
])
def test_a_bad_exercise_is_refused_naming_the_file_before_any_row_changes(app, tmp_path, broken, message):
    root = course_with(tmp_path, broken, name="07-broken-exercise.md")
    with app.app_context():
        with pytest.raises(ContentError) as caught:
            load_content(root)
        db.session.rollback()
        assert "07-broken-exercise.md" in str(caught.value) and message in str(caught.value)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0


def test_the_cli_refuses_a_bad_exercise_with_its_file_name(app, tmp_path):
    root = course_with(tmp_path, EXERCISE.replace("  - check: audience\n", "  - check: vibes\n"), name="03-ex.md")
    result = app.test_cli_runner().invoke(args=["leadthe", "load-content", str(root)])
    assert result.exit_code != 0 and "03-ex.md" in result.output and "vibes" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Lesson)) == 0


def read_as(app, slug: str, language: str | None):
    """The lesson's exercise as a reader with ``language`` (None: no preference, English) sees it."""
    headers = {"Accept-Language": language} if language else {}
    with app.test_request_context("/courses/lab-course", headers=headers):
        db.session.remove()  # a fresh session: the row loads (and is translated) for this reader
        lesson = lesson_row(app, slug)
        ex = exercise_mod.of(lesson)
        labels = [r.label for r in evaluate(ex, "You are an editor. Write it for our customers as bullet points.").results]
        db.session.remove()
        return ex, labels


def test_a_german_reader_gets_the_translated_exercise_and_others_the_original(app, tmp_path):
    report = load(app, course_with(tmp_path, EXERCISE, translation=EXERCISE_DE))
    assert report.translations["written"] == 1
    german, labels = read_as(app, "ex1", "de")
    assert german.task == "Fassen Sie diese Besprechungsnotiz für einen Kunden in 5 Stichpunkten zusammen."
    assert german.material.startswith("Wöchentlicher Termin") and german.hints == ("Wer liest es?",)
    # labels by position: the third criterion has no translated label, so the check's own (German) label shows
    assert labels[:2] == ["Sagt, wer das Modell sein soll", "Sagt, für wen"]
    assert labels[2] == "Verlangt ein Ausgabeformat"
    assert german.pass_mark == 60 and [c.check for c in german.criteria] == ["role", "audience", "format"]

    english, labels = read_as(app, "ex1", None)
    assert english.task.startswith("Summarise this meeting note") and english.hints == ("Who will read it?", "How many bullet points?")
    assert labels == ["Says who the model should be", "Says who the result is for", "Asks for an output format"]
    with app.app_context():  # nothing translated was written over the original
        assert lesson_row(app, "ex1").exercise["task"].startswith("Summarise")
        assert "Zebrafisch" in lesson_row(app, "ex1").search_text  # a German search finds it too
    assert load(app, course_with(tmp_path / "again", EXERCISE, translation=EXERCISE_DE)).translations == {"written": 0, "removed": 0}


def test_a_translation_with_more_labels_than_criteria_is_refused(app, tmp_path):
    too_many = EXERCISE_DE.replace('  - label: "Sagt, für wen"\n', '  - "a"\n  - "b"\n  - "c"\n')
    with app.app_context():
        with pytest.raises(ContentError, match=r"01-ex1\.de\.md.*labels"):
            load_content(course_with(tmp_path, EXERCISE, translation=too_many))
        db.session.rollback()


def test_editing_an_exercise_in_authoring_keeps_its_exercise(app, tmp_path):
    load(app, course_with(tmp_path, EXERCISE))
    staff = make_staff(app)
    client = app.test_client()
    login_with_code(client, app, staff)
    with app.app_context():
        lesson = lesson_row(app, "ex1")
        course_id, lesson_id, module_id, stored = lesson.course_id, lesson.id, lesson.module_id, lesson.exercise
    url = f"/staff/courses/{course_id}/lessons/{lesson_id}"
    page = client.get(url)
    assert page.status_code == 200 and "<option selected value=\"exercise\">" in page.get_data(as_text=True)
    r = post_form(client, url, {"title": "Summarise for a customer (new title)", "slug": "ex1", "module_id": str(module_id),
                                "kind": "exercise", "minutes": "12", "body": "A new body.", "prompt": "", "video_url": "",
                                "transcript": ""})
    assert r.status_code == 303, r.get_data(as_text=True)[:600]
    with app.app_context():
        lesson = lesson_row(app, "ex1")
        assert lesson.title == "Summarise for a customer (new title)" and lesson.minutes == 12
        assert lesson.kind == "exercise" and lesson.exercise == stored
    # a new lesson cannot be made an exercise here (it would have no rubric)
    new = f"/staff/courses/{course_id}/lessons/new"
    assert 'value="exercise"' not in client.get(new).get_data(as_text=True)
    r = post_form(client, new, {"title": "Sneaky", "module_id": str(module_id), "kind": "exercise", "minutes": "5", "body": "x"})
    assert r.status_code == 422  # the form is shown again with an error; nothing created
    with app.app_context():
        assert lesson_row(app, "sneaky") is None


def test_the_starter_exercises_load_and_the_first_is_in_german(app):
    load(app)
    with app.app_context():
        rows = db.session.execute(sa.select(Course.slug, Course.position, Lesson).join(Lesson, Lesson.course_id == Course.id)
                                  .where(Lesson.kind == "exercise", Course.org_id.is_(None))
                                  .order_by(Course.position, Lesson.seq)).all()
        assert len(rows) >= 12
        assert len({slug for slug, _, _ in rows}) >= 4  # across the curriculum
        for _slug, _pos, lesson in rows:
            ex = exercise_mod.of(lesson)
            assert ex is not None and 10 <= lesson.minutes <= 15, lesson.slug
            assert 4 <= len(ex.criteria) <= 6 and 2 <= len(ex.hints) <= 3 and ex.material, lesson.slug
        first = rows[0][2]
        assert first.slug == "exercise-summarise-for-a-customer"
        checks = {c.check for _s, _p, lesson in rows for c in exercise_mod.of(lesson).criteria}
        assert {"no_personal_data", "verify", "uncertainty", "examples"} <= checks
    german, labels = read_as(app, "exercise-summarise-for-a-customer", "de")
    assert german.task.startswith("Schreiben Sie einen Prompt") and "Brightwater" in german.material
    assert labels[0] == "Gibt dem Modell eine Rolle" and len(german.hints) == 3
