"""The memoised url_for and gettext of the templates (leadthe.template_speed) give the same pages as the
plain ones: the right links under any mount point, the right language on every request."""
from __future__ import annotations

from flask import render_template_string

from tests.conftest import PASSWORD, post_form


def test_links_follow_the_mount_point_of_each_request(client):
    under = client.get("/login", base_url="http://localhost/learn").get_data(as_text=True)
    plain = client.get("/login").get_data(as_text=True)
    again = client.get("/login", base_url="http://localhost/learn").get_data(as_text=True)
    assert 'href="/learn/signup"' in under and 'href="/learn/signup"' in again
    assert 'href="/signup"' in plain and "/learn/" not in plain


def test_links_with_arguments_are_built_per_argument(app, client, companies, tmp_path):
    from tests.test_courses import enrol, load, write_course

    write_course(tmp_path, "small", 3)
    load(app, tmp_path)
    a, _ = companies
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    enrol(client, "small")
    for lesson in ("l1", "l2"):  # the outline links each lesson to its own page, on every page of the course
        html = client.get(f"/courses/small/lessons/{lesson}").get_data(as_text=True)
        assert all(f'href="/courses/small/lessons/l{n}"' in html for n in (1, 2, 3))
        assert 'href="/courses/small/lessons/l2" data-hx-get="/courses/small/lessons/l2"' in html


def test_languages_alternate_without_mixing(client):
    for _ in range(2):
        german = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
        english = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "Anmelden" in german and "Skip to main content" not in german
        assert "Skip to main content" in english and "Anmelden" not in english


def test_messages_are_formatted_and_escaped_like_jinja_does(app):
    template = '{{ _("100%% sure") }}|{{ _("Hello %(name)s", name=who) }}|{{ ngettext("%(num)s lesson", "%(num)s lessons", n) }}'
    with app.test_request_context("/"):
        for _ in range(2):  # the second time from the memo
            out = render_template_string(template, who="<b>Ann</b>", n=3)
            assert out == "100% sure|Hello &lt;b&gt;Ann&lt;/b&gt;|3 lessons"



def test_imported_macros_follow_the_request_language_and_force_locale(app):
    from flask_babel import force_locale

    template = '{% from "courses/_macros.html" import progress_bar %}{{ progress_bar(1, 2) }}'
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        german = render_template_string(template)
        with force_locale("en"):  # as mails are rendered, in English, during a German request
            english = render_template_string(template)
        again = render_template_string(template)
    assert "1 of 2 lessons done (50%)" in english
    assert "1 von 2 Lektionen" in german and again == german
