"""Headers on every response, CSRF on every POST, and error pages in the layout without stack traces."""
import re

import pytest

from tests.conftest import PASSWORD, post_form


def fill(rule: str) -> str:
    """A concrete URL for a rule: 1 for integer parameters, x for the others."""
    return re.sub(r"<[^>]+>", "x", re.sub(r"<int:[^>]+>", "1", rule))


def get_routes(app):
    """Every GET route (parameters get a dummy value)."""
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static":
            yield fill(rule.rule)


def post_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods:
            yield fill(rule.rule)


def assert_security_headers(response):
    h = response.headers
    csp = h["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                      "form-action 'self'", "base-uri 'none'", "object-src 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"
    assert "camera=()" in h["Permissions-Policy"]
    assert h["X-Frame-Options"] == "DENY"


def test_headers_on_every_page_signed_out_and_in(client, app, companies):
    a, _ = companies
    for signed_in in (False, True):
        if signed_in:
            post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
        for path in list(get_routes(app)) + ["/no-such-page"]:
            response = client.get(path)
            assert_security_headers(response)
            if response.mimetype == "text/html":
                assert response.headers["Cache-Control"] == "no-store"
                assert "HX-Request" in response.headers["Vary"]


def test_headers_on_static_files_errors_and_posts(client, app):
    html = client.get("/login").get_data(as_text=True)
    css = re.search(r'href="(/static/css/app\.css\?v=\w+)"', html).group(1)
    for response in (client.get(css), client.post("/login", data={}), client.get("/static/nope.css"),
                     client.delete("/login")):
        with response:
            assert_security_headers(response)


def test_no_inline_script_or_style_and_htmx_locked_down(client):
    html = client.get("/signup").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline <script> found"
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html), "on*= handler found"
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', html).group(1)
    import json

    settings = json.loads(config)
    assert settings["includeIndicatorStyles"] is False
    assert settings["allowEval"] is False
    assert settings["allowScriptTags"] is False
    assert settings["historyCacheSize"] == 0  # nothing of a page is kept in localStorage
    # the CSRF token travels with every htmx request
    assert re.search(r'<body data-hx-headers=\'\{"X-CSRFToken": "[^"]+"\}\'', html)


def test_signed_in_pages_are_kept_out_of_htmx_history(client, companies):
    a, _ = companies
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    assert 'data-hx-history="false"' in client.get("/dashboard").get_data(as_text=True)


def test_every_post_without_csrf_token_is_400(client, app, companies):
    a, _ = companies
    routes = list(post_routes(app))
    assert "/login" in routes and "/signup" in routes and "/logout" in routes
    for signed_in in (False, True):
        if signed_in:
            post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
        for path in routes:
            response = client.post(path, data={"email": a.learner.email, "password": PASSWORD})
            assert response.status_code == 400, path
            assert "This form expired" in response.get_data(as_text=True)
            # htmx requests without the header are refused too
            assert client.post(path, headers={"HX-Request": "true"}).status_code == 400, path


def test_csrf_token_accepted_from_the_htmx_header(client, companies):
    a, _ = companies
    token = re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": a.learner.email, "password": PASSWORD},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/dashboard"


def test_csrf_token_from_another_session_is_refused(app, companies):
    a, _ = companies
    victim, attacker = app.test_client(), app.test_client()
    from tests.conftest import csrf_from

    attackers_token = csrf_from(attacker.get("/login").get_data(as_text=True))
    victim.get("/login")
    response = victim.post("/login", data={"csrf_token": attackers_token, "email": a.learner.email, "password": PASSWORD})
    assert response.status_code == 400


@pytest.mark.parametrize("path, code", [("/no-such-page", 404), ("/logout", 405)])
def test_error_pages_are_in_the_layout(client, path, code):
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert '<main id="main"' in html and '<a class="skip"' in html and "Traceback" not in html


def test_500_shows_a_page_not_a_stack_trace(make_app):
    app = make_app()

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    response = app.test_client().get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and '<main id="main"' in html
    assert "secret internals" not in html and "Traceback" not in html and "RuntimeError" not in html


def test_413_for_oversized_bodies(client):
    response = client.post("/login", data={"email": "x" * (6 * 1024 * 1024)})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_database_unreachable_gives_503_page_and_healthz_says_so(make_app, tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/missing-dir/nothing/here.db")
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json() == {"status": "error", "database": "error"}
    page = client.post("/login", data={})  # CSRF check fails first: still no 500
    assert page.status_code == 400
    home = client.get("/dev/mail")
    assert home.status_code == 404


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("code, words", [(400, "not right"), (403, "don't have access"), (404, "can't find"),
                                          (413, "too large"), (429, "Too many attempts"), (500, "went wrong")])
def test_each_error_page_is_in_the_layout(make_app, code, words):
    from flask import abort

    app = make_app()

    @app.route("/_abort")
    def _abort():
        abort(code)

    response = app.test_client().get("/_abort")
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == code
    assert words in html and '<main id="main"' in html and "<footer" in html and "Traceback" not in html
