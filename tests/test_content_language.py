"""Courses in the reader's language: the loader reads ``*.<lang>.md`` / ``quiz.<lang>.yaml`` beside the originals,
a German reader sees the German version where there is one and the English original everywhere else."""
from __future__ import annotations

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import ContentTranslation, Course, Lesson
from tests.conftest import PASSWORD, login_with_code, make_staff, post_form
from tests.helpers import enrol, load, login, write_course


def german(client, who):
    login(client, who)
    post_form(client, "/account/preferences", {"language": "de", "theme": "system", "density": "comfortable"})


def test_the_first_starter_course_is_complete_in_german(app):
    report = load(app)
    assert report.translations["written"] > 0
    with app.app_context():
        rows = db.session.execute(sa.select(ContentTranslation.entity, sa.func.count()).where(ContentTranslation.lang == "de")
                                  .group_by(ContentTranslation.entity)).all()
        counts = dict(rows)
        lessons = db.session.scalar(sa.select(sa.func.count()).select_from(Lesson).where(
            Lesson.archived.is_(False), Lesson.course_id == sa.select(Course.id).where(
                Course.slug == "ai-foundations", Course.org_id.is_(None)).scalar_subquery()))
    # every lesson, module, question and choice of the course, the course and its quiz (and one more lesson: the
    # "Your company's AI rules" lesson of using-ai-safely, which is in German too)
    assert counts == {"course": 1, "module": 3, "lesson": lessons + 1, "quiz": 1, "question": 13, "choice": 46}
    again = load(app)  # reloading changes nothing
    assert again.translations == {"written": 0, "removed": 0}


def test_a_german_reader_sees_german_and_others_english(app, client, companies):
    load(app)
    a, _ = companies
    german(client, a.learner.email)
    catalogue = client.get("/courses").get_data(as_text=True)
    assert "KI-Grundlagen für alle" in catalogue and "AI foundations for everyone" not in catalogue
    # an untranslated course: the original, marked as English (for people and for screen readers)
    assert '<h2 lang="en"><a href="/courses/prompting-that-works">' in catalogue and "auf Englisch" in catalogue
    assert catalogue.count("auf Englisch") == 4  # the other four starter courses
    assert enrol(client, "ai-foundations").status_code == 303
    lesson = client.get("/courses/ai-foundations/lessons/what-generative-ai-is").get_data(as_text=True)
    assert "Eine andere Art von Software" in lesson and "A different kind of software" not in lesson
    assert "So funktioniert generative KI" in lesson  # the module's title in the outline
    course = client.get("/courses/ai-foundations").get_data(as_text=True)
    assert "Tokens und die Vorhersage des nächsten Tokens" in course
    quizzes = client.get("/assessments").get_data(as_text=True)
    assert "KI-Grundlagen: Abschlussquiz" in quizzes

    english = app.test_client()
    login(english, a.manager.email)
    page = english.get("/courses/ai-foundations").get_data(as_text=True)
    assert "AI foundations for everyone" in page and "KI-Grundlagen" not in page
    with app.app_context():  # nothing translated was written over the original
        lesson_row = db.session.scalar(sa.select(Lesson).where(Lesson.slug == "what-generative-ai-is"))
        assert "A different kind of software" in lesson_row.body_html


def test_quiz_questions_and_choices_in_german(app, client, companies):
    load(app)
    a, _ = companies
    german(client, a.learner.email)
    quizzes = client.get("/assessments").get_data(as_text=True)
    import re

    quiz_url = re.search(r'href="(/assessments/\d+)"', quizzes).group(1)
    page = client.get(quiz_url).get_data(as_text=True)
    assert "Wie erzeugt ein großes Sprachmodell seine Antwort?" in page and "Etwa 750 Wörter" in page
    assert "How does a large language model produce its answer?" not in page


def test_authoring_always_edits_the_original(app, client, companies):
    load(app)
    staff = make_staff(app)
    login_with_code(client, app, staff, PASSWORD)
    post_form(client, "/account/preferences", {"language": "de", "theme": "system", "density": "comfortable"})
    with app.app_context():
        course_id = db.session.scalar(sa.select(Course.id).where(Course.slug == "ai-foundations", Course.org_id.is_(None)))
    from flask import url_for

    with app.test_request_context():
        url = url_for("staff_authoring.edit_course", course_id=course_id)
    page = client.get(url).get_data(as_text=True)
    assert "AI foundations for everyone" in page and "KI-Grundlagen für alle" not in page


def test_a_lesson_without_translation_falls_back_and_stale_translations_go(app, client, companies, tmp_path):
    course = write_course(tmp_path, "mini", 2)
    (course / "course.de.md").write_text("---\ntitle: Minikurs\n---\nÜber den Kurs.\n")
    (course / "01-mod1" / "001-l1.de.md").write_text("---\ntitle: Lektion eins\n---\nText der ersten Lektion.\n")
    load(app, tmp_path)
    a, _ = companies
    german(client, a.learner.email)
    enrol(client, "mini")
    assert "Text der ersten Lektion." in client.get("/courses/mini/lessons/l1").get_data(as_text=True)
    second = client.get("/courses/mini/lessons/l2").get_data(as_text=True)
    assert "Body of lesson 2." in second and "Lektion eins" in second and "Minikurs" in second
    (course / "01-mod1" / "001-l1.de.md").unlink()
    report = load(app, tmp_path)
    assert report.translations["removed"] == 1
    assert "Body of lesson 1." in client.get("/courses/mini/lessons/l1").get_data(as_text=True)


def test_titles_chosen_as_columns_are_translated_too(app, client, companies):
    """Reports and pick lists select the title rather than the course: a German admin still reads German."""
    load(app)
    a, _ = companies
    login(client, a.learner.email)
    enrol(client, "ai-foundations")
    admin = app.test_client()
    german(admin, a.admin.email)
    assert "KI-Grundlagen für alle" in admin.get("/admin").get_data(as_text=True)
    assert "KI-Grundlagen für alle" in admin.get("/admin/assignments").get_data(as_text=True)
    assert "KI-Grundlagen für alle" in admin.get(f"/admin/users/{a.learner.id}").get_data(as_text=True)


def test_search_finds_translated_lessons_under_their_own_title(app, client, companies):
    load(app)
    a, _ = companies
    german(client, a.learner.email)
    page = client.get("/search?q=Halluzinationen").get_data(as_text=True)
    assert "Halluzinationen: selbstsicher und falsch" in page and "Hallucinations: confident and wrong" not in page
    english = app.test_client()
    login(english, a.manager.email)
    page = english.get("/search?q=hallucinations").get_data(as_text=True)
    assert "Hallucinations: confident and wrong" in page
