"""Everything the site's scripts keep in the browser is declared (issue 22), and nothing declared is stale.

The declaration is ``leadthe.consent.cookies.browser_storage()``; it is shown on the cookie settings page and
under the cookie policy. This test reads every script in leadthe/static/js/*.js and finds the names they use:

- localStorage / sessionStorage keys: the first argument of ``getItem``, ``setItem`` and ``removeItem`` on
  ``localStorage`` or ``sessionStorage`` (also as ``window.localStorage``);
- Cache Storage names: the first argument of ``caches.open``, ``caches.delete`` and ``caches.has``;
- the service worker: ``navigator.serviceWorker.register(...)`` needs a declared service worker whose file exists.

The convention, so the test can read the scripts without running them: a key or cache name is written as a
string literal, either right in the call or in a constant declared with ``var``/``let``/``const`` whose name
ends in ``_KEY`` (a storage key: ``var QUEUE_KEY = "leadthe.queue"``) or starts with ``CACHE``
(a cache name: ``var CACHE = "leadthe-offline-v1"``), and the call then names that constant. A call with any
other argument (a variable, an expression) fails the test, as does reading or writing storage as properties
(``localStorage.x``, ``localStorage["x"]``): then nobody could tell which names are used.
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from leadthe.consent.cookies import browser_storage, declaration, revision
from leadthe.extensions import db
from leadthe.legal import services
from leadthe.models import utcnow
from tests.conftest import make_user
from tests.helpers import login

JS = Path(__file__).resolve().parent.parent / "leadthe" / "static" / "js"
STRING = r"""(?:"([^"\\]+)"|'([^'\\]+)')"""
CALL = re.compile(r"\b(?:window\.)?(localStorage|sessionStorage)\s*\.\s*(?:getItem|setItem|removeItem)\s*\(\s*([^,)]*)")
CACHE_CALL = re.compile(r"\bcaches\s*\.\s*(?:open|delete|has)\s*\(\s*([^,)]*)")
CONSTANT = re.compile(r"\b(?:var|let|const)\s+([A-Z][A-Z0-9_]*_KEY|CACHE[A-Z0-9_]*)\s*=\s*" + STRING)
PROPERTY = re.compile(r"\b(?:localStorage|sessionStorage)\s*(?:\[|\.(?!getItem\b|setItem\b|removeItem\b|clear\b|key\b|length\b)[A-Za-z_$])")
REGISTER = re.compile(r"\bserviceWorker\s*\.\s*register\s*\(")
LITERAL = re.compile(r"^\s*" + STRING + r"\s*$")

# The names fixed in the shared protocol of issue 22 (OFFLINE.md), whose scripts another branch writes.


def _literal(arg: str) -> str | None:
    match = LITERAL.match(arg)
    return (match.group(1) or match.group(2)) if match else None


def storage_used(source: str, where: str = "script") -> tuple[dict[str, set[str]], list[str]]:
    """The names a script uses, by kind ("localStorage", "sessionStorage", "cache", "service worker"), and the
    problems found (uses the test cannot read)."""
    used: dict[str, set[str]] = {"localStorage": set(), "sessionStorage": set(), "cache": set(), "service worker": set()}
    problems: list[str] = []
    constants = {m.group(1): m.group(2) or m.group(3) for m in CONSTANT.finditer(source)}

    def name_of(arg: str) -> str | None:
        value = _literal(arg)
        if value is None and arg.strip() in constants:
            value = constants[arg.strip()]
        if value is None:
            problems.append(f"{where}: {arg.strip() or '(nothing)'} is neither a string literal nor a *_KEY/CACHE* constant")
        return value

    for match in CALL.finditer(source):
        name = name_of(match.group(2))
        if name:
            used[match.group(1)].add(name)
    for match in CACHE_CALL.finditer(source):
        name = name_of(match.group(1))
        if name:
            used["cache"].add(name)
    for name, value in constants.items():  # a constant declared by the convention is a use, even if only passed on
        used["cache" if name.startswith("CACHE") else "localStorage"].add(value)
    for match in PROPERTY.finditer(source):
        problems.append(f"{where}: storage used as a property ({source[match.start():match.end() + 20].splitlines()[0]}…); use getItem/setItem/removeItem")
    if REGISTER.search(source):
        used["service worker"].add("(registered)")
    return used, problems


def _scripts() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(JS.glob("*.js"))}


def _declared(app) -> dict[str, set[str]]:
    with app.test_request_context():
        items = browser_storage()
    declared: dict[str, set[str]] = {"localStorage": set(), "sessionStorage": set(), "cache": set(), "service worker": set()}
    for item in items:
        declared[item.kind].add(item.name)
    return declared


def test_the_parser_finds_every_kind_of_use():
    used, problems = storage_used("""
        var QUEUE_KEY = "leadthe.queue";
        const CACHE = 'leadthe-offline-v1';
        localStorage.getItem(QUEUE_KEY); window.localStorage.setItem("leadthe.owner", key);
        sessionStorage.removeItem('leadthe.tab');
        caches.open(CACHE).then(function (c) {}); caches.delete("old-cache");
        navigator.serviceWorker.register(url, {scope: "/"});
        localStorage.setItem(someKey, 1); localStorage.theme = "dark"; localStorage.clear();
    """)
    assert used["localStorage"] == {"leadthe.queue", "leadthe.owner"}
    assert used["sessionStorage"] == {"leadthe.tab"}
    assert used["cache"] == {"leadthe-offline-v1", "old-cache"}
    assert used["service worker"] == {"(registered)"}
    assert len(problems) == 2 and "someKey" in problems[0] and "property" in problems[1]


def test_every_storage_name_a_script_uses_is_declared(app):
    declared = _declared(app)
    undeclared, problems = [], []
    for filename, source in _scripts().items():
        used, found = storage_used(source, filename)
        problems += found
        for kind in ("localStorage", "sessionStorage", "cache"):
            undeclared += [f"{filename}: {kind} {name!r}" for name in sorted(used[kind] - declared[kind])]
        if used["service worker"] and not declared["service worker"]:
            undeclared.append(f"{filename}: registers a service worker")
    assert not problems, "storage used in a way this test cannot read (see its docstring):\n" + "\n".join(problems)
    assert not undeclared, ("declare these in leadthe/consent/cookies.py browser_storage() (purpose and lifetime), "
                            "or stop using them:\n" + "\n".join(undeclared))


def test_every_declared_storage_name_is_used(app):
    declared = _declared(app)
    used: dict[str, set[str]] = {kind: set() for kind in declared}
    for filename, source in _scripts().items():
        for kind, names in storage_used(source, filename)[0].items():
            used[kind] |= names
    stale = [f"{kind} {name!r}" for kind in ("localStorage", "sessionStorage", "cache")
             for name in sorted(declared[kind] - used[kind])]
    for name in sorted(declared["service worker"]):
        if not (JS.parent / name.removeprefix("/static/")).exists() or not used["service worker"]:
            stale.append(f"service worker {name!r} (its file, or a script registering it, is missing)")
    assert not stale, "declared in browser_storage() but used by no script (remove them):\n" + "\n".join(stale)


def test_browser_storage_is_essential_and_separate_from_cookies(app):
    with app.test_request_context():
        items, cookies = browser_storage(), declaration()
    assert {item.category for item in items} == {"essential"}
    assert all(item.purpose and item.lifetime for item in items)
    assert not {item.name for item in items} & {c.name for c in cookies}  # set_declared_cookie cannot set them
    # the banner does not come back for it: the revision is the cookie declaration's alone
    with app.app_context():
        assert revision() == revision.__wrapped__()


def test_settings_page_and_cookie_policy_list_the_browser_storage(client):
    for url in ("/consent", "/legal/cookies"):
        page = client.get(url).get_data(as_text=True)
        assert "Stored in your browser at your request" in page, url
        for name in ("leadthe.queue", "leadthe.owner", "leadthe-offline-v1", "/static/js/sw.js"):
            assert f"<code>{name}</code>" in page, (url, name)
        assert "needs no consent" in page and "logging out removes all of it" in page


def test_an_earlier_cookie_policy_version_shows_only_its_own_text(client, app):
    with app.test_request_context():
        staff = make_user(app, None, email="pub@leadthe.example", role="staff")
        services.current_policy("cookies")
        services.publish("cookies", title="Cookie policy", body="Fewer cookies.", summary="Shorter.",
                         effective_at=utcnow() - timedelta(seconds=1), material=False, categories_changed=False,
                         staff_user=staff)
        db.session.commit()
    assert "Stored in your browser" not in client.get("/legal/cookies/1").get_data(as_text=True)
    assert "Stored in your browser" in client.get("/legal/cookies").get_data(as_text=True)


def test_the_privacy_centre_says_what_is_on_this_device(client, app, companies):
    login(client, companies[0].learner.email)
    page = client.get("/privacy").get_data(as_text=True)
    section = page[page.index('<section id="device"'):]
    section = section[:section.index("</section>")]
    assert "On this device" in section and "Logging out removes all of it" in section
    assert 'href="/consent#browser-storage"' in section
    # the saved-courses page is linked once it exists (courses.saved, issue 22), never as a dead link
    assert ('href="/courses/saved"' in section) == ("courses.saved" in app.view_functions)
