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


# POSTs that carry no CSRF token on purpose, each checked its own way: the one-click unsubscribe of a mail
# program (RFC 8058; a signed token in the URL), the SAML identity provider's cross-site POST (a signed assertion
# answering a request of ours), SCIM (a bearer token, no cookie) and Stripe's webhooks (signed with the webhook
# secret, checked on every call; no cookie and no session is involved).
CSRF_EXEMPT = {"progress.unsubscribe", "sso.saml_acs", "billing_hooks.stripe"}
CSRF_EXEMPT_BLUEPRINTS = {"scim", "billing_hooks"}


def csrf_exempt(app, rule) -> bool:
    from leadthe.extensions import csrf

    view = app.view_functions[rule.endpoint]
    return (f"{view.__module__}.{view.__name__}" in csrf._exempt_views
            or rule.endpoint.split(".")[0] in {getattr(bp, "name", bp) for bp in csrf._exempt_blueprints})


def post_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and rule.endpoint not in CSRF_EXEMPT and not csrf_exempt(app, rule):
            yield fill(rule.rule)


def test_only_the_known_routes_skip_the_csrf_check(app):
    exempt = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods and csrf_exempt(app, rule)}
    assert {e for e in exempt if not e.startswith("scim.")} == CSRF_EXEMPT
    assert {e.split(".")[0] for e in exempt} - {"progress", "sso"} <= CSRF_EXEMPT_BLUEPRINTS


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
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "workers": {"alive": 0, "stale": []}}


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


# --- issue 14: links in mail, trusted hosts, development mode ----------------------------------------

def reset_links(app):
    from tests.conftest import outbox

    return [re.search(r"https?://\S+", m.body_text).group(0) for m in outbox(app, kind="reset_password")]


def test_a_forged_host_header_never_reaches_a_link_in_mail(client, app, companies, make_app, monkeypatch):
    from tests.conftest import csrf_from

    a, _ = companies
    # a host that is not LEADTHE_BASE_URL's: refused before any page or mail is made
    page = client.get("/password/forgot", base_url="http://evil.example")
    assert page.status_code == 400 and "csrf_token" not in page.get_data(as_text=True)
    forged = client.post("/password/forgot", base_url="http://evil.example", data={"email": a.learner.email})
    assert forged.status_code == 400 and reset_links(app) == []
    # the other loopback name is let in (development), but the link still comes from the base URL
    html = client.get("/password/forgot", base_url="http://127.0.0.1:5321").get_data(as_text=True)
    client.post("/password/forgot", base_url="http://127.0.0.1:5321", data={"csrf_token": csrf_from(html), "email": a.learner.email})
    assert [link.split("/password/")[0] for link in reset_links(app)] == ["http://localhost"]
    # behind a proxy, X-Forwarded-Host is not believed either
    monkeypatch.setenv("LEADTHE_PROXY_HOPS", "1")
    proxied = make_app().test_client()
    html = proxied.get("/password/forgot").get_data(as_text=True)
    proxied.post("/password/forgot", headers={"X-Forwarded-Host": "evil.example"},
                 data={"csrf_token": csrf_from(html), "email": a.learner.email})
    links = reset_links(app)
    assert len(links) == 2 and all(link.startswith("http://localhost/password/reset/") for link in links)


def test_only_the_base_urls_host_is_trusted(make_app):
    site = make_app(SERVER_BASE_URL="https://leadthe.example.com")
    assert site.config["TRUSTED_HOSTS"] == ["leadthe.example.com"]
    client = site.test_client()
    assert client.get("/login", base_url="https://leadthe.example.com").status_code == 200
    assert client.get("/login", base_url="https://evil.example").status_code == 400
    assert client.get("/login").status_code == 400  # localhost is no name of this site


def test_without_leadthe_env_the_app_is_production(make_app, monkeypatch):
    from leadthe import create_app
    from leadthe.config import ConfigError

    monkeypatch.delenv("LEADTHE_ENV")
    monkeypatch.delenv("LEADTHE_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="LEADTHE_BASE_URL"):
        create_app()  # production needs to know its own address
    monkeypatch.setenv("LEADTHE_BASE_URL", "https://leadthe.example.com")
    monkeypatch.setenv("LEADTHE_SINGLE_PROCESS", "1")  # in-memory rate limits: one process serves here
    app = make_app(SERVER_BASE_URL="https://leadthe.example.com")
    assert app.config["LEADTHE_ENV"] == "production" and app.config["SESSION_COOKIE_SECURE"] is True
    assert app.test_client().get("/dev/mail", base_url="https://leadthe.example.com").status_code == 404


def test_dev_mail_answers_only_on_loopback(make_app, monkeypatch):
    monkeypatch.setenv("LEADTHE_ENV", "development")
    client = make_app().test_client()
    assert client.get("/dev/mail").status_code == 200
    assert client.get("/dev/mail", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 404
    assert client.get("/dev/mail", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


# --- issue 14: control characters in one-line fields ------------------------------------------------

def test_a_line_break_in_a_one_line_field_is_an_error_beside_it(client, app, companies):
    from tests.conftest import outbox

    a, _ = companies
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    bad = post_form(client, "/support", {"subject": "Help\r\nBcc: everyone@example.com", "category": "other", "body": "x"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "without line breaks or other control characters" in html
    assert outbox(app) == []
    for name in ("Eve\nAdmin", "Eve\x1b[31m", "Eve\u2028Admin", "Eve\x85Admin"):
        r = post_form(client, "/account/profile", {"name": name, "job_title": "", "department": ""})
        assert r.status_code == 422 and "without line breaks" in r.get_data(as_text=True), repr(name)
    # a text area keeps its line breaks and tabs
    ok = post_form(client, "/support", {"subject": "Help", "category": "other", "body": "line one\r\n\tline two"})
    assert ok.status_code == 303


def test_every_form_gets_the_control_character_check():
    """Every form class of the app derives from leadthe.forms.FlaskForm (whose Meta adds the check)."""
    import importlib
    import pkgutil

    import flask_wtf

    import leadthe
    from leadthe.forms import FlaskForm

    for module in pkgutil.walk_packages(leadthe.__path__, "leadthe."):
        importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    assert "bind_field" in vars(FlaskForm.Meta)  # the base adds the check to each field it binds
    outside = [f"{c.__module__}.{c.__qualname__}" for c in subclasses(flask_wtf.FlaskForm)
               if c.__module__.startswith("leadthe.") and not issubclass(c, FlaskForm)]
    assert outside == []


def test_gunicorns_access_log_holds_no_tokens(monkeypatch, tmp_path):
    import runpy
    from datetime import timedelta
    from types import SimpleNamespace

    from tests.conftest import ROOT

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))  # the file sets up its metrics folder
    conf = runpy.run_path(str(ROOT / "deploy/gunicorn.conf.py"))
    assert conf["logger_class"] is conf["TokenFreeAccessLog"]
    logger = conf["TokenFreeAccessLog"].__new__(conf["TokenFreeAccessLog"])
    lines = []
    for raw in ("/password/reset/IjEi.abc.def", "/invite/tok3n", "/privacy/exports/7/download?token=s3cret", "/courses/ai?x=1"):
        path, _, query = raw.partition("?")
        environ = {"REQUEST_METHOD": "GET", "RAW_URI": raw, "PATH_INFO": path, "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1"}
        atoms = logger.atoms(SimpleNamespace(status="200 OK", sent=10, headers=[]), SimpleNamespace(headers=[]), environ,
                             timedelta(milliseconds=5))
        lines.append(conf["access_log_format"] % atoms + " " + atoms["r"])
    text = "\n".join(lines)
    assert "/password/reset/[token]" in text and "/invite/[token]" in text and "/courses/ai" in text
    assert not any(secret in text for secret in ("IjEi", "tok3n", "s3cret", "x=1"))
