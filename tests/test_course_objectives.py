"""Course learning objectives: ``objectives:`` in a course's content file (and its translation), shown on the
course page as "What you will be able to do", and edited one per line in the authoring form."""
from __future__ import annotations

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import Course
from tests.conftest import post_form
from tests.helpers import admin_creates_private_course, load, signed_in, write_course


def test_every_starter_course_has_three_to_five_objectives(app):
    load(app)
    with app.app_context():
        found = dict(db.session.execute(sa.select(Course.slug, Course.objectives).where(Course.org_id.is_(None))).all())
    assert found and all(3 <= len(objectives) <= 5 for objectives in found.values()), found
    assert found["ai-foundations"][0] == "Explain in plain words what an AI assistant is and what it is not."


def test_the_loader_reads_objectives_and_their_translation(app, tmp_path):
    course = write_course(tmp_path, "obj-course", 1, title="Objectives course")
    text = (course / "course.md").read_text()
    (course / "course.md").write_text(text.replace("order: 1\n", "order: 1\nobjectives:\n  - Write a clear prompt.\n"
                                                   "  - \"Check an answer: against a source.\"\n  -   \n"))
    (course / "course.de.md").write_text("---\ntitle: Zielkurs\nobjectives:\n  - Einen klaren Prompt schreiben.\n"
                                         "  - Eine Antwort an einer Quelle prüfen.\n---\n")
    load(app, tmp_path)
    with app.app_context():
        row = db.session.scalar(sa.select(Course).where(Course.slug == "obj-course"))
        assert row.objectives == ["Write a clear prompt.", "Check an answer: against a source."]  # the empty one dropped
    # reloading unchanged content changes nothing; a changed list is written
    assert load(app, tmp_path).updated["course"] == 0
    (course / "course.md").write_text((course / "course.md").read_text().replace("Write a clear prompt.", "Write a prompt."))
    assert load(app, tmp_path).updated["course"] == 1


def test_course_page_shows_objectives_in_english_and_german(app, companies):
    load(app)
    a, _ = companies
    client = signed_in(app, a.learner.email)
    page = client.get("/courses/ai-foundations").get_data(as_text=True)
    assert "What you will be able to do" in page
    assert "<li>Give a model the context it needs to produce useful work.</li>" in page
    post_form(client, "/account/preferences", {"language": "de", "theme": "system", "density": "comfortable"})
    page = client.get("/courses/ai-foundations").get_data(as_text=True)
    assert "Das können Sie danach" in page
    assert "<li>Einem Modell den Kontext geben, den es für brauchbare Ergebnisse braucht.</li>" in page
    assert "Give a model the context" not in page
    # an untranslated course: its objectives in English, marked as such for screen readers
    page = client.get("/courses/prompting-that-works").get_data(as_text=True)
    assert '<ul class="objectives" lang="en">' in page and "<li>Use examples to get consistent results.</li>" in page


def test_company_authors_write_objectives_one_per_line(app, companies):
    a, _ = companies
    client = signed_in(app, a.admin.email)
    url = admin_creates_private_course(client, title="Acme onboarding").replace("http://localhost", "")
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.org_id == a.org.id))
    form = client.get(url).get_data(as_text=True)
    assert 'name="objectives"' in form
    r = post_form(client, url, {"title": "Acme onboarding", "summary": "", "topic": "general", "level": "beginner",
                                "audience": "everyone", "body": "About", "objectives": "Find our AI rules.\r\n\r\n- Ask the right person.\r\n"})
    assert r.status_code == 303
    with app.app_context():
        assert db.session.get(Course, course.id).objectives == ["Find our AI rules.", "Ask the right person."]
    assert "Find our AI rules.\nAsk the right person." in client.get(url).get_data(as_text=True)
    learner = signed_in(app, a.learner.email)
    assert "<li>Ask the right person.</li>" in learner.get(f"/courses/{course.slug}").get_data(as_text=True)
