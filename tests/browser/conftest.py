"""Browser tests: Playwright (sync API) driving Debian's Chromium against a live server.

The live server is its own app on its own SQLite file, independent of the parametrised ``database_url``
of the main suite: what a browser sees does not depend on the database backend, and one backend keeps
these tests quick. Rows are wiped and rate limits reset between tests, as in the main suite.

Chromium comes from the system (``/usr/bin/chromium``); never ``playwright install``. Without it the
tests skip, except in CI (``CI=true``) or with ``LEADTHE_REQUIRE_BROWSER=1``, where they fail: CI must
never go green by silently skipping the browser.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

# The requests a service worker makes go through the context's routes too (tests/browser/test_offline_browser.py
# takes the page offline that way: context.set_offline alone may not stop them, microsoft/playwright#2311).
# Read when Playwright starts its driver, so before sync_playwright() below.
os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")

from playwright.sync_api import sync_playwright  # a test extra: missing means a broken install, not a skip
from werkzeug.serving import make_server

from leadthe import create_app
from leadthe.extensions import db, limiter
from tests.conftest import wipe_database

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_JS = HERE / "vendor" / "axe-4.14.1.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
TIMEOUT_MS = 10_000  # Playwright's 30 s default only makes a broken test slow to report


def pytest_collection_modifyitems(config, items):
    # Conftest hooks see every collected item, not just this folder's: mark only ours.
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


def browser_required() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true" or os.environ.get("LEADTHE_REQUIRE_BROWSER") == "1"


# --- the live server -------------------------------------------------------------------------------

def live_config(database_url: str) -> dict:
    """Like the main suite's test settings (kept here so the two can evolve separately)."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "BCRYPT_ROUNDS": 4,  # the minimum: hashing speed is not under test here
        "SMTP_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        # development: the development pages are served (loopback only), so the sweep checks the style guide
        "LEADTHE_ENV": "development",
        "DPA_REQUIRED": False,  # the DPA gate: on in tests/browser/test_dpa_browser.py only
    }


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app behind the live server; use it in ``with live_app.app_context():`` to check the database."""
    from flask_migrate import upgrade

    db_file = tmp_path_factory.mktemp("browser-sqlite") / "browser.db"
    # create_app reads the instance path from the environment; keep ours from leaking to other apps.
    previous = os.environ.get("LEADTHE_INSTANCE_PATH")
    os.environ["LEADTHE_INSTANCE_PATH"] = str(tmp_path_factory.mktemp("browser-instance"))
    try:
        app = create_app(live_config(f"sqlite:///{db_file}"))
    finally:
        if previous is None:
            os.environ.pop("LEADTHE_INSTANCE_PATH", None)
        else:
            os.environ["LEADTHE_INSTANCE_PATH"] = previous
    with app.app_context():
        upgrade(revision="heads")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app):
    """Serve ``live_app`` on 127.0.0.1 from a background thread; yields the base URL (no trailing slash)."""
    # Port 0: the OS picks a free port while binding, so there is no window for another process to take it.
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    live_app.config["SERVER_BASE_URL"] = base_url  # links in mails point at this server
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(autouse=True)
def _clean_live_database(live_app):
    """Every browser test starts with empty tables and fresh rate limits.

    Set up before (so torn down after) the page fixtures: the browser contexts are closed before the
    rows are deleted, so no request of the test is still running against them.
    """
    limiter.reset()
    yield
    wipe_database(live_app)
    limiter.reset()


# --- Playwright ------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def playwright():
    manager = sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture(scope="session")
def browser(playwright):
    if not CHROMIUM.exists():
        _browser_unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _browser_unavailable(reason: str):
    if browser_required():
        pytest.fail(f"browser tests cannot run: {reason}. They are required here (CI=true or LEADTHE_REQUIRE_BROWSER=1).", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture
def new_page(browser, live_server):
    """Factory: ``new_page(js=True, color_scheme="light")`` opens a page in a fresh context (own cookies).

    Relative URLs resolve against the live server. The page runs under the app's real CSP (no
    ``bypass_csp``). Uncaught page errors and CSP violations fail the test at teardown: htmx runs with
    ``allowEval: false`` under ``script-src 'self'``, and a violation there would break it silently.
    """
    contexts, problems = [], []

    def factory(*, js: bool = True, color_scheme: str = "light"):
        context = browser.new_context(base_url=live_server, java_script_enabled=js, color_scheme=color_scheme)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda msg: problems.append(f"console: {msg.text}")
                if msg.type == "error" and "Content Security Policy" in msg.text else None)
        return page

    yield factory
    for context in contexts:
        context.close()
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


@pytest.fixture
def page_js(new_page):
    return new_page(js=True)


@pytest.fixture
def page_nojs(new_page):
    return new_page(js=False)


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def js(request) -> bool:
    """Parametrises a test over JavaScript on (the htmx path) and off (plain HTML forms)."""
    return request.param


@pytest.fixture
def page(new_page, js):
    """A page with JavaScript on or off, per the ``js`` parameter."""
    return new_page(js=js)


# --- axe-core --------------------------------------------------------------------------------------

_RUN_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ["violations"]});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html, summary: n.failureSummary})),
    }));
}"""


def axe_check(page, *, label: str | None = None) -> list[dict]:
    """Run axe-core on the page as it is now; fail on any "serious" or "critical" violation.

    Returns all violations (minor and moderate ones included) for tests that want to look closer.

    axe is injected with ``page.evaluate`` of its source, not ``add_script_tag``: the app's CSP
    (``script-src 'self'``) blocks inline script elements, while evaluation through the DevTools
    protocol is not subject to the page's CSP, so the page is checked exactly as it is served.
    axe needs timers, which do not run in a context created with ``java_script_enabled=False``: check
    pages from a JS-enabled context (for the no-JS rendering, block htmx instead, see the tests).
    """
    _require_scripting(page)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    violations = page.evaluate(_RUN_AXE)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        pytest.fail(_describe(label or page.url, blocking), pytrace=False)
    if violations:  # minor/moderate: not failures, but visible with -s or -rP
        print(_describe(label or page.url, violations).replace("serious/critical", "minor/moderate"))
    return violations


def _require_scripting(page) -> None:
    """Fail fast, instead of hanging in axe.run(), when the page cannot run timers."""
    page.evaluate("() => { window.__axeTimerProbe = false; setTimeout(() => { window.__axeTimerProbe = true; }, 0); }")
    for _ in range(40):
        if page.evaluate("() => window.__axeTimerProbe"):
            return
        page.wait_for_timeout(25)
    raise AssertionError("axe_check needs a page with JavaScript enabled (timers do not run in this one)")


def _describe(where: str, violations: list[dict]) -> str:
    lines = [f"axe found {len(violations)} serious/critical accessibility violation(s) on {where}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    at {node['target']}: {node['html']}")
            if node["summary"]:
                lines.extend(f"      {line}" for line in node["summary"].splitlines())
    return "\n".join(lines)


@pytest.fixture(name="axe_check")
def axe_check_fixture():
    """``axe_check(page)`` for the tests (see :func:`axe_check`)."""
    return axe_check
