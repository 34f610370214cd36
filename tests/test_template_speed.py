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
    from tests.helpers import enrol, load, write_course

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


def test_url_for_gives_flasks_own_answers_for_values_that_compare_equal(app):
    """``True == 1`` in Python, yet Flask builds ``recovery=True`` and ``recovery=1`` differently."""
    from flask import url_for as flask_url_for

    from leadthe.template_speed import url_for

    with app.test_request_context("/"):
        for value in (True, 1, "1", 1, True, False, 0):
            assert url_for("auth.login_2fa", recovery=value) == flask_url_for("auth.login_2fa", recovery=value)


def test_each_app_keeps_its_own_urls(make_app):
    """Two apps in one process, one mounted under another script root by its settings: no shared memo."""
    from leadthe.template_speed import url_for

    plain, mounted = make_app(), make_app(APPLICATION_ROOT="/learn")
    with mounted.test_request_context("/", base_url="http://localhost/learn"):
        assert url_for("auth.signup") == "/learn/signup"
    with plain.test_request_context("/"):
        assert url_for("auth.signup") == "/signup"
    assert plain.extensions["leadthe.url_memo"] is not mounted.extensions["leadthe.url_memo"]


def test_an_app_with_url_defaults_gets_flasks_url_for(make_app):
    """The memo's key cannot hold what a url_defaults function adds (here: a language from ``g``): such an
    app is checked at start-up and its templates build every URL through Flask."""
    from flask import Blueprint, g, render_template_string

    from leadthe import template_speed

    app = make_app()
    bp = Blueprint("demo", __name__)
    bp.add_url_rule("/demo/<lang>", "page", lambda lang: lang)
    app.register_blueprint(bp)
    app.url_defaults(lambda endpoint, values: values.setdefault("lang", g.lang) if endpoint == "demo.page" else None)
    assert not template_speed.url_memo_is_safe(app)
    template_speed.init_template_speed(app)  # as create_app does last
    for lang in ("de", "en"):
        with app.test_request_context("/"):
            g.lang = lang
            assert render_template_string("{{ url_for('demo.page') }}") == f"/demo/{lang}"
