"""Pages, static files, compression, the development outbox page and the command line."""
import re
import subprocess
import sys

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import AuditEvent, Organization, Team, TeamMembership, User
from tests.conftest import PASSWORD, ROOT, make_org, make_user, post_form


def test_home_for_visitors_and_redirect_for_members(client, companies):
    a, _ = companies
    assert "Create your company" in client.get("/").get_data(as_text=True)
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"


def test_dashboard_requires_login_and_remembers_where_to_go(client, companies):
    response = client.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/dashboard"


def test_static_urls_are_fingerprinted_and_cached_for_a_year(client):
    html = client.get("/login").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert any("app.css?v=" in u for u in urls) and any("htmx-2.0.11.min.js?v=" in u for u in urls)
    for url in urls:
        with client.get(url) as response:
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert "Expires" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
    # a changed file gets a new URL: the fingerprint is the content's hash
    import hashlib

    css = (ROOT / "leadthe/static/css/app.css").read_bytes()
    assert f"app.css?v={hashlib.sha256(css).hexdigest()[:12]}" in html


def test_responses_are_compressed(client):
    html = client.get("/signup").get_data()
    br = client.get("/signup", headers={"Accept-Encoding": "gzip, deflate, br"})
    gz = client.get("/signup", headers={"Accept-Encoding": "gzip"})
    assert br.headers["Content-Encoding"] == "br" and gz.headers["Content-Encoding"] == "gzip"
    assert len(br.get_data()) < len(html) / 2 and len(gz.get_data()) < len(html) / 2
    assert "Accept-Encoding" in br.headers["Vary"]
    import gzip as gzip_module

    assert b"Create account" in gzip_module.decompress(gz.get_data())
    htmx_url = re.search(r'src="(/static/vendor/htmx[^"]+)"', html.decode()).group(1)
    with client.get(htmx_url, headers={"Accept-Encoding": "br"}) as js:
        assert js.headers["Content-Encoding"] == "br" and len(js.get_data()) < 17_000



def test_the_stylesheet_travels_without_its_comments(client):
    """The comments in app.css are notes for us: compressed, the browser gets the rules only (a seventh less)."""
    import brotli

    url = re.search(r'href="(/static/css/app\.css\?v=[^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    source = (ROOT / "leadthe/static/css/app.css").read_bytes()
    with client.get(url, headers={"Accept-Encoding": "br"}) as response:
        served = brotli.decompress(response.get_data())
    assert b"/*" not in served and b"*/" not in served and b"/*" in source
    rules = re.sub(rb"/\*.*?\*/\n?", b"", source, flags=re.S)
    assert served == rules  # every rule is there, only the comments went
    with client.get(url, headers={"Accept-Encoding": "br"}) as again:  # from the cache, the same
        assert brotli.decompress(again.get_data()) == served

def test_vendored_htmx_is_2_0_11_with_its_licence():
    js = (ROOT / "leadthe/static/vendor/htmx-2.0.11.min.js").read_text()
    assert 'version:"2.0.11"' in js.replace(" ", "")
    assert "Zero-Clause BSD" in (ROOT / "leadthe/static/vendor/htmx-2.0.11.LICENSE").read_text() or \
        "BSD" in (ROOT / "leadthe/static/vendor/htmx-2.0.11.LICENSE").read_text()


def test_htmx_fragment_only_for_plain_htmx_requests(client):
    full = client.get("/login").get_data(as_text=True)
    fragment = client.get("/login", headers={"HX-Request": "true"}).get_data(as_text=True)
    boosted = client.get("/login", headers={"HX-Request": "true", "HX-Boosted": "true"}).get_data(as_text=True)
    restore = client.get("/login", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}).get_data(as_text=True)
    assert "<html" in full and "<html" in boosted and "<html" in restore
    assert "<html" not in fragment and 'id="login-form"' in fragment


def test_dev_mail_only_in_development(client, make_app, monkeypatch):
    assert client.get("/dev/mail").status_code == 404
    monkeypatch.setenv("LEADTHE_ENV", "development")
    dev = make_app()
    c = dev.test_client()
    post_form(c, "/signup", {"name": "Dev Person", "email": "dev@example.com", "password": PASSWORD,
                             "organization": "Dev Co", "age_confirm": "y", "accept_policy": "y"})
    page = c.get("/dev/mail").get_data(as_text=True)
    assert "Confirm your e-mail address for LeadThe.AI" in page and "dev@example.com" in page


def test_seed_demo_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["leadthe", "seed-demo"])
    assert first.exit_code == 0 and "admin@acme.example" in first.output and "acme-demo-passphrase" in first.output

    def tally():
        with app.app_context():
            return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Organization, User, Team, TeamMembership))

    once = tally()
    assert once == (1, 8, 2, 5)  # six company people and the demo staff and DPO accounts
    assert runner.invoke(args=["leadthe", "seed-demo"]).exit_code == 0
    assert tally() == once
    assert "manager@acme.example" in runner.invoke(args=["leadthe", "seed-demo", "--print-only"]).output
    # the demo log-ins really work
    client = app.test_client()
    assert post_form(client, "/login", {"email": "manager@acme.example", "password": "acme-demo-passphrase"}).status_code == 303


def test_has_data(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["leadthe", "has-data"]).exit_code == 1
    make_org(app)
    assert runner.invoke(args=["leadthe", "has-data"]).exit_code == 0


def test_create_staff_is_the_only_way_to_a_platform_role(app, monkeypatch):
    runner = app.test_cli_runner()
    monkeypatch.setenv("LEADTHE_NEW_PASSWORD", "a long staff passphrase")
    result = runner.invoke(args=["leadthe", "create-staff", "Dana@LeadThe.ai", "--role", "dpo"])
    assert result.exit_code == 0 and "created dpo account dana@leadthe.ai" in result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "dana@leadthe.ai"))
        assert user.role == "dpo" and user.org_id is None
        assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.subject_id == user.id)) == "staff.granted"
    monkeypatch.setenv("LEADTHE_NEW_PASSWORD", "short")
    assert runner.invoke(args=["leadthe", "create-staff", "x@leadthe.ai"]).exit_code != 0
    # a company account cannot be turned into staff
    org = make_org(app)
    member = make_user(app, org)
    monkeypatch.setenv("LEADTHE_NEW_PASSWORD", "a long staff passphrase")
    assert runner.invoke(args=["leadthe", "create-staff", member.email]).exit_code != 0


def test_python_dash_m_leadthe_runs_the_cli(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "LEADTHE_ENV": "test", "LEADTHE_SECRET_KEY": "k" * 40,
           "LEADTHE_DATA_KEY": "x", "LEADTHE_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"}
    result = subprocess.run([sys.executable, "-m", "leadthe", "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "seed-demo" in result.stdout and "worker" in result.stdout
