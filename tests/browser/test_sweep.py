"""Every page of the app, as every role, at a phone's and a desktop's width, light and dark, in English and
German: no page scrolls sideways, no table on a phone is wider than its box, axe-core finds no serious or critical
violation, the Nu HTML checker no error.

The pages are the GET rules of ``app.url_map`` (not a hand-kept list: a new page is swept without
touching this file), their parameters filled from a realistic company: the starter curriculum loaded
with ``leadthe load-content``, the demo company with its progress, quiz attempts, certificates and
maturity results (``leadthe seed-demo``), plus staff and DPO accounts, a company course, a support ticket,
privacy requests, an export, feedback, an invitation, a notice and links from real mails. The development
style guide (``/dev/styleguide``) is swept too when the app has it (the live server runs as development).

Each role visits every page; what the role may not see (403, 404 or a redirect, e.g. to the log-in)
is left out for that role, and at the end every page must have been seen by at least one role in each
language, so a gap in the data set cannot quietly shrink the sweep.

What is checked where (the sweep must stay quick: every page is loaded once per role and language):
- Each loaded page is looked at in four views without reloading it: 1280 px light, 1280 px dark, 375 px
  dark, 375 px light (``set_viewport_size`` and ``emulate_media`` change the live page; nothing the server
  sends depends on either).
- Sideways scroll (``scrollWidth > innerWidth``) is measured in all four views, in both languages.
- axe runs all its rules once per width: the width changes the layout and what is shown at all (menus,
  tables that stack). In the second colour scheme of a width it runs only the rules about colour
  (``COLOUR_RULES``): a colour scheme changes colours and nothing else, which
  ``test_dark_scheme_changes_only_colours`` holds the stylesheet to.
- German is a reload (the account's saved language for people who log in, Accept-Language for the others)
  and gets every check again: other words wrap and overflow differently, and some pages have German texts.
- The Nu checker reads what the server sent, which neither width nor colour scheme changes: it runs once,
  in one JVM, over the raw bodies of every page view, German ones included.

Every failure names the role, URL, width, colour scheme and language; a page that scrolls sideways names
the outermost elements whose right edge passes the window's. With ``LEADTHE_SWEEP_REPORT=<file>`` the list
of failures is also written to that file (grouped by page and problem), for whoever fixes them.
"""
from __future__ import annotations

import os
import re
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from tests.helpers import every_page_data_set

from . import nu
from .conftest import AXE_JS, BLOCKING_IMPACTS, browser_required
from .helpers import log_in, log_in_with_code

ROLES = ("anonymous", "learner", "manager", "admin", "staff", "dpo")
EMAILS = {
    "learner": "learner@acme.example",
    "manager": "manager@acme.example",
    "admin": "admin@acme.example",
    "staff": "sweep-staff@leadthe.example",
    "dpo": "sweep-dpo@leadthe.example",
}
DEMO_PASSWORD = "acme-demo-passphrase"
TABS = 2  # pages checked side by side, each tab with its own session: axe runs in one while the sweep works on another
# The platform accounts (with two-step verification, as they must have): made by build_data_set.
PLATFORM: dict = {}

HEIGHT = 800
LANGUAGES = ("en", "de")
# axe's rules about colour: the only ones a colour scheme can change the outcome of.
COLOUR_RULES = ("color-contrast", "link-in-text-block")  # as axe runs by default: AA, not AAA
# (width, colour scheme, axe rules: None = all) in the order one loaded page is seen; the next page walks
# them backwards, so it starts where the last one ended.
VIEWS = ((1280, "light", None), (1280, "dark", COLOUR_RULES), (375, "dark", None), (375, "light", COLOUR_RULES))

# Not pages: health check, static files, development tools, and downloads (CSV, ZIP, PDF, images).
SKIPPED_PREFIXES = ("/static/", "/dev/", "/healthz", "/metrics",  # /metrics: Prometheus text, with its token
                    "/scim/")  # SCIM: JSON for a company's identity provider, with its bearer token (tests/test_scim.py)
DEV_PAGES = ("/dev/styleguide",)  # development pages that are swept all the same (when the app has them)
NOT_HTML = {
    "admin.report_csv": "CSV download",
    "assessments.certificate_pdf_view": "PDF download",
    "privacy.export_download": "ZIP download",
    "literacy_admin.evidence_download": "ZIP download",
    "literacy_admin.overview_csv": "CSV download",
    "account.photo": "the profile photo (an image)",
    "auth.session_status": "JSON for the idle warning (static/js/session.js)",
    "sso.saml_metadata": "XML metadata for identity providers",
    "billing_admin.invoice_pdf": "PDF download",
    "billing_staff.invoice_pdf": "PDF download",
    "trust_admin.records_csv": "CSV download",
    "trust_admin.records_json": "JSON download",
    "trust_admin.dpa_pdf": "PDF download",
    "trust_staff.dpa_pdf": "PDF download",
    "trust_staff.records_csv": "CSV download",
    "trust_staff.records_json": "JSON download",
    "admin.audit_chain_head": "JSON download",
    "trust_admin.annex_pdf_download": "PDF download",
    "courses.offline_manifest": "JSON for saving a course for offline use (static/js/offline.js)",
    # a redirect to the company's identity provider, another site (tests/test_sso_oidc.py, test_sso_saml.py and
    # their browser tests follow it to the test suite's own identity providers)
    "sso.oidc_start": "a redirect to the identity provider",
    "sso.saml_start": "a redirect to the identity provider",
}
# The identity provider's way back without a log-in under way: the refusal page (403), swept as a page.
REFUSAL_PAGES = {"sso.oidc_callback", "sso.saml_finish"}
# One-time links: visited by the person they were mailed to (some are rate-limited per hour).
LINK_PAGES = {
    "auth.verify_email": "anonymous",
    "auth.reset_password": "anonymous",
    "invite.accept": "anonymous",
    "progress.unsubscribe": "anonymous",
    "privacy.cancel_erasure": "anonymous",
    "account.confirm_email_change": "learner",
    "auth.login_2fa": "half-logged-in",  # after the password, before the second factor: see the test
    "auth.keep_account": "leaving",
    "sso.verify_domain": "admin",  # mailed to an address at a domain; a signed-in admin of the company confirms  # after the password of an account whose deletion is scheduled: see the test
}
# Pages that only redirect somewhere already swept (checked: they must answer with a redirect).
REDIRECTS = {"courses.resume", "staff.index",
             "sso.welcome",  # a newcomer's first log-in through single sign-on only; else to the log-in
             "lab.run"}  # an answer's own address: htmx polls it; without htmx it leads to its lesson (swept)
# Mailed links whose token moves into the session: they redirect to the same page without it, which is checked.
PARKED_TOKEN_LINKS = {"auth.verify_email", "auth.reset_password", "invite.accept", "sso.verify_domain"}


# --- the data set ----------------------------------------------------------------------------------

def build_data_set(live_app) -> dict[str, str]:
    """The shared data set of every page (tests/helpers.py), and the platform accounts for signing in."""
    values, platform = every_page_data_set(live_app, EMAILS)
    PLATFORM.update(platform, app=live_app)
    return values


def pages(live_app, values: dict[str, str]) -> dict[str, tuple[str, str]]:
    """rule -> (endpoint, URL) for every GET rule that is a page."""
    found = {}
    for rule in live_app.url_map.iter_rules():
        skipped = rule.rule.startswith(SKIPPED_PREFIXES) and rule.rule not in DEV_PAGES
        if "GET" not in rule.methods or skipped or rule.endpoint in NOT_HTML:
            continue
        if "@" + rule.endpoint in values:
            url = values["@" + rule.endpoint]
        else:
            missing = [a for a in rule.arguments if a not in values]
            assert not missing, f"the sweep has no value for {missing} of {rule.rule}: add it to build_data_set"
            area = rule.endpoint.split(".")[0]
            url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values.get(f"{area}:{m.group(1)}", values[m.group(1)]),
                         rule.rule)
        found[rule.rule] = (rule.endpoint, url)
    return found


# --- looking at a page -----------------------------------------------------------------------------

# The outermost elements (and text) that pass the window's right edge, not counting what sits in a box that
# clips or scrolls its own overflow, or in a fixed-position box (neither widens the page): the culprits.
_SIDEWAYS = """() => {
    const vw = window.innerWidth, sw = document.documentElement.scrollWidth;
    if (sw <= vw) return null;
    const edge = vw + 0.5, x = window.scrollX;
    const contained = el => {  // an ancestor clips or scrolls it (only its containing blocks can), or it is fixed
        let position = getComputedStyle(el).position;
        for (let a = el.parentElement; position !== "fixed" && a && a !== document.body; a = a.parentElement) {
            const style = getComputedStyle(a);
            if (position === "absolute" && style.position === "static") continue;  // not its containing block
            if (style.overflowX !== "visible") return true;
            position = style.position;
        }
        return position === "fixed";
    };
    const name = el => {
        const tag = el.tagName.toLowerCase();
        if (el.id) return tag + "#" + el.id;
        const classes = [...el.classList].slice(0, 3).map(c => "." + c).join("");
        const twins = el.parentElement ? [...el.parentElement.children].filter(c => c.tagName === el.tagName) : [];
        return tag + classes + (twins.length > 1 ? `:nth-of-type(${twins.indexOf(el) + 1})` : "");
    };
    const path = el => {
        const parts = [];
        for (let e = el; e && e !== document.body; e = e.parentElement) {
            parts.unshift(name(e));
            if (e.id) break;
        }
        return parts.join(" > ");
    };
    const escaped = el => {  // an absolutely positioned element that a scrolling box would hold if it were positioned
        if (getComputedStyle(el).position !== "absolute") return "";
        for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
            const style = getComputedStyle(a);
            if (style.position !== "static") return "";
            if (style.overflowX !== "visible") return ` (position: absolute; escapes the overflow of ${name(a)}, which is not positioned)`;
        }
        return "";
    };
    const wide = new Map();  // element -> {right, text}
    for (const el of document.body.querySelectorAll("*")) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.right + x > edge && !contained(el)) wide.set(el, {right: r.right + x, width: r.width, text: false});
    }
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
        const el = t.parentElement;
        if (!el || wide.has(el) || !t.textContent.trim()) continue;
        range.selectNodeContents(t);
        const r = range.getBoundingClientRect();
        if (r.width > 0 && r.right + x > edge && !contained(el)) wide.set(el, {right: r.right + x, width: r.width, text: true});
    }
    const outermost = [...wide.entries()].filter(([el]) => !wide.has(el.parentElement));
    outermost.sort((a, b) => b[1].right - a[1].right);
    return {vw, sw, culprits: outermost.slice(0, 3).map(([el, box]) => ({
        path: path(el) + (box.text ? " (its text)" : escaped(el)), right: Math.round(box.right), width: Math.round(box.width),
    }))};
}"""

# Started without waiting (``window.__sweepAxe`` holds the promise), so that axe checks one tab while the
# sweep measures or loads another; the Playwright call that reads the promise waits for it.
_AXE_START = """([rules, impacts]) => {
    const options = {resultTypes: ["violations"]};
    if (rules) options.runOnly = {type: "rule", values: rules};
    window.__sweepAxe = axe.run(document, options).then(result => result.violations
        .filter(v => impacts.includes(v.impact))
        .map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html, summary: n.failureSummary || ""}))})));
}"""
_AXE_SOURCE: list[str] = []
_NEXT_FRAME = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def axe_source() -> str:
    if not _AXE_SOURCE:
        _AXE_SOURCE.append(AXE_JS.read_text(encoding="utf-8"))
    return _AXE_SOURCE[0]


@dataclass(frozen=True)
class Where:
    role: str
    url: str
    language: str
    width: int | None = None
    scheme: str | None = None

    def at(self, width: int, scheme: str) -> Where:
        return Where(self.role, self.url, self.language, width, scheme)

    def view(self) -> str:
        return f"{self.role} {self.language}" + (f" {self.width}px {self.scheme}" if self.width else "")


@dataclass
class Sweep:
    root: Path
    files: dict[str, Where] = field(default_factory=dict)  # saved file name -> the page view
    failures: dict[tuple[str, str, str], list[Where]] = field(default_factory=lambda: defaultdict(list))
    seen: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))  # rule -> (role, language)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # where the time goes

    @contextmanager
    def timed(self, what: str):
        started = time.perf_counter()
        yield
        self.seconds[what] += time.perf_counter() - started

    def fail(self, kind: str, where: Where, detail: str) -> None:
        self.failures[(kind, where.url, detail)].append(where)

    def save(self, where: Where, html: str) -> None:
        label = f"{where.role}-{where.language}-{where.url}"
        name = f"{len(self.files):04d}-{re.sub(r'[^A-Za-z0-9]+', '-', label).strip('-')[:80]}.html"
        (self.root / name).write_text(html, encoding="utf-8")
        self.files[name] = where


class Tab:
    """A browser tab (with its own session), shown at a width and in a colour scheme without reloading."""

    def __init__(self, page):
        self.page, self.width, self.scheme = page, None, None
        self.where: Where | None = None  # the page it shows, ready to be checked

    def show(self, width: int, scheme: str) -> None:
        if (width, scheme) == (self.width, self.scheme):
            return
        if width != self.width:
            self.page.set_viewport_size({"width": width, "height": HEIGHT})
            self.width = width
        if scheme != self.scheme:
            self.page.emulate_media(color_scheme=scheme)
            self.scheme = scheme
        # as for a person, the page's resize and media-change handlers run before anything is looked at (they
        # are dispatched in the next rendering step, which comes before the next animation frame)
        self.page.evaluate(_NEXT_FRAME)


# Tables wider than their own scrolling box on a phone. The page stays put, but a table to swipe through sideways
# hides its columns: on a phone a table stacks (``table.stack``), keeps its first columns (``.wide``) or has
# headings short enough to fit. Named by caption, else the first heading.
_BOXED = """() => [...document.querySelectorAll('.scroll, .table-wrap')]
  .filter(box => box.scrollWidth > box.clientWidth + 1)
  .map(box => { const t = box.querySelector('caption, th'); return t ? t.textContent.trim().slice(0, 60) : box.className; })"""


def measure_sideways(sweep: Sweep, tab: Tab, here: Where) -> None:
    sideways = tab.page.evaluate(_SIDEWAYS)
    sweep.counts["sideways"] += 1
    if sideways:
        culprits = "; ".join(f"{c['path']} (right edge {c['right']} px, {c['width']} px wide)"
                             for c in sideways["culprits"]) or "no element found (a pseudo-element?)"
        sweep.fail("scroll", here, f"scrollWidth {sideways['sw']} > innerWidth {sideways['vw']}: {culprits}")
    if here.width < 600:
        for name in tab.page.evaluate(_BOXED):
            sweep.fail("swipe", here, f"a table wider than its box: {name!r}")


def axe_failures(sweep: Sweep, here: Where, violations: list[dict]) -> None:
    for violation in violations:
        for node in violation["nodes"]:
            summary = " ".join(node["summary"].split())[:300]
            sweep.fail("axe", here, f"{violation['id']} ({violation['impact']}): {violation['help']}\n"
                                    f"      at {node['target']}: {' '.join(node['html'].split())[:200]}\n"
                                    f"      {summary}")


def look(sweep: Sweep, tabs: list[Tab], views) -> None:
    """The loaded pages in every view: sideways scroll in each, axe as VIEWS says, one tab's axe running
    while the next tab is measured."""
    for width, scheme, rules in views:
        for tab in tabs:
            tab.show(width, scheme)
            measure_sideways(sweep, tab, tab.where.at(width, scheme))
            tab.page.evaluate(_AXE_START, [list(rules) if rules else None, list(BLOCKING_IMPACTS)])
            sweep.counts["axe (all rules)" if rules is None else "axe (colour rules)"] += 1
        for tab in tabs:
            axe_failures(sweep, tab.where.at(width, scheme), tab.page.evaluate("() => window.__sweepAxe"))


def visit(tab: Tab, sweep: Sweep, where: Where, rule: str | None, endpoint: str | None) -> bool:
    """Load the page; True when it is one to check (the role may see it), which then waits in the tab."""
    sweep.counts["page loads"] += 1
    with sweep.timed("page loads"):
        response = tab.page.goto(where.url)
    status = response.status
    if rule is None:  # the not-found page
        return status == 404 and ready(tab, sweep, where, response)
    if status >= 500:
        sweep.fail("page", where, f"HTTP {status}")
        return False
    redirected = response.request.redirected_from is not None
    if endpoint in REDIRECTS:
        if redirected:
            sweep.seen[rule].add((where.role, where.language))
        elif status not in (403, 404):
            sweep.fail("page", where, f"expected a redirect, got HTTP {status}")
        return False
    if endpoint in REFUSAL_PAGES and status == 403 and not redirected:
        sweep.seen[rule].add((where.role, where.language))
        return ready(tab, sweep, where, response)
    if (redirected and endpoint not in PARKED_TOKEN_LINKS) or status in (401, 403, 404, 410):
        return False  # not for this role
    if status != 200 or not response.headers.get("content-type", "").startswith("text/html"):
        sweep.fail("page", where, f"HTTP {status} {response.headers.get('content-type')}")
        return False
    sweep.seen[rule].add((where.role, where.language))
    return ready(tab, sweep, where, response)


def ready(tab: Tab, sweep: Sweep, where: Where, response) -> bool:
    with sweep.timed("page loads"):
        tab.page.wait_for_load_state("load")
    sweep.save(where, response.text())
    with sweep.timed("checking"):
        # axe, in the documents that are checked only (not in the ~half of the loads that a role may not see):
        # evaluated through the DevTools protocol, so the page's CSP does not apply and the page is checked as
        # served (see conftest.axe_check)
        tab.page.evaluate(axe_source())
    if where.language == "de" and tab.page.locator("html").get_attribute("lang") != "de":
        sweep.fail("page", where, "not in German (html lang is not de)")
    tab.where = where
    return True


def check_all(sweep: Sweep, tabs: list[Tab], jobs: list[tuple[Where, str | None, str | None]]) -> None:
    """Visit every job, ``len(tabs)`` pages at a time: each tab loads pages until one is for it to check."""
    pending, rounds = iter(jobs), 0
    while True:
        loaded = [tab for tab in tabs if any(visit(tab, sweep, *job) for job in pending)]
        if not loaded:
            return
        with sweep.timed("checking"):
            look(sweep, loaded, VIEWS if rounds % 2 == 0 else VIEWS[::-1])  # starting in the view the last ended in
        rounds += 1


# --- who is looking --------------------------------------------------------------------------------

def open_as(new_page, role: str) -> Tab:
    page = new_page(js=True)  # axe is added to each page to check when it is loaded (see ready)
    if role in PLATFORM:
        log_in_with_code(page, PLATFORM["app"], PLATFORM[role])
        page.wait_for_url(re.compile(r"/(dashboard|staff/console)$"))
    elif role != "anonymous":
        log_in(page, EMAILS[role], DEMO_PASSWORD)
        page.wait_for_url("**/dashboard")
    return Tab(page)


def speak(live_app, tabs: list[Tab], email: str | None, language: str) -> None:
    """The interface language from now on: the account's saved language wins over the browser's (which the
    people who are not logged in have). Set after logging in: the log-in helper finds fields by English labels."""
    from leadthe.models import User

    if email:
        with live_app.app_context():
            db.session.execute(sa.update(User).where(User.email == email).values(locale=language))
            db.session.commit()
    for tab in tabs:
        tab.page.context.set_extra_http_headers({"Accept-Language": language})


def sweep_role(live_app, new_page, sweep: Sweep, role: str, all_pages: dict) -> None:
    tabs = [open_as(new_page, role) for _ in range(TABS)]
    for language in LANGUAGES:
        speak(live_app, tabs, EMAILS.get(role), language)
        jobs = [(Where(role, url, language), rule, endpoint) for rule, (endpoint, url) in sorted(all_pages.items())
                if LINK_PAGES.get(endpoint, role) == role]
        if role in ("anonymous", "learner"):
            jobs.append((Where(role, "/no-such-page", language), None, None))
        check_all(sweep, tabs, jobs)
    for tab in tabs:
        tab.page.context.close()


def sweep_half_log_in(live_app, new_page, sweep: Sweep, all_pages: dict, who: str, email: str, path: str) -> None:
    """A page seen between the password and being signed in: the second step of a log-in with two-factor
    authentication ("half-logged-in", Erin), and the offer to keep an account whose deletion is in its grace
    period ("leaving", Omar, whose deletion the data set schedules)."""
    tab = open_as(new_page, "anonymous")
    log_in(tab.page, email, DEMO_PASSWORD)
    tab.page.wait_for_url(f"**{path}")
    endpoint, url = all_pages[path]
    for language in LANGUAGES:
        speak(live_app, [tab], email, language)
        check_all(sweep, [tab], [(Where(who, url, language), path, endpoint)])
    tab.page.context.close()


# --- the report ------------------------------------------------------------------------------------

KINDS = {"page": "Pages that failed", "scroll": "Pages that scroll sideways",
         "swipe": "Tables to swipe through on a phone", "axe": "axe: serious or critical violations",
         "nu": "The Nu HTML checker: errors"}


def report(sweep: Sweep) -> str:
    """The failures, grouped by kind, then page and problem, each with the views where it was seen."""
    lines = []
    for kind, title in KINDS.items():
        found = sorted((url, detail, wheres) for (k, url, detail), wheres in sweep.failures.items() if k == kind)
        if not found:
            continue
        lines.append(f"== {title}: {len(found)} ({sum(len(w) for *_, w in found)} page views)")
        for url, detail, wheres in found:
            views = sorted({w.view() for w in wheres})
            lines.append(f"{url}\n    {detail}\n    seen as: {', '.join(views)}")
        lines.append("")
    return "\n".join(lines)


def nu_failures(sweep: Sweep) -> None:
    for message in nu.check_files([sweep.root / name for name in sweep.files]):
        where = sweep.files[message.file]
        extract = " ".join(message.extract.split())[:160]
        line = f" (line {message.line})" if message.line else ""
        sweep.fail("nu", where, f"{message.text}{line}" + (f"\n      {extract}" if extract else ""))


def require_nu() -> None:
    try:
        nu.vnu_jar(), nu.java()  # before the slow part: skip (or fail in CI) at once if it cannot run
    except nu.Unavailable as exc:
        if browser_required():
            pytest.fail(f"the Nu HTML checker cannot run: {exc}. It is required here (CI=true or LEADTHE_REQUIRE_BROWSER=1).",
                        pytrace=False)
        pytest.skip(f"the Nu HTML checker cannot run: {exc}")


def test_every_page_as_every_role(live_app, new_page, tmp_path):
    started = time.monotonic()
    require_nu()
    values = build_data_set(live_app)
    all_pages = pages(live_app, values)
    sweep = Sweep(tmp_path / "html")
    sweep.root.mkdir()
    prepared = time.monotonic()

    for role in ROLES:
        sweep_role(live_app, new_page, sweep, role, all_pages)
    sweep_half_log_in(live_app, new_page, sweep, all_pages, "half-logged-in", "erin@acme.example", "/login/2fa")
    sweep_half_log_in(live_app, new_page, sweep, all_pages, "leaving", "omar@acme.example", "/login/keep-account")
    browsed = time.monotonic()

    for language in LANGUAGES:
        unseen = sorted(rule for rule in all_pages if not any(lang == language for _, lang in sweep.seen[rule]))
        if unseen:
            sweep.fail("page", Where("nobody", "(several)", language),
                       f"no role could open these pages (fix the data set or the page): {unseen}")
    nu_failures(sweep)

    done, counts, spent = time.monotonic(), sweep.counts, sweep.seconds
    per_role = ", ".join(f"{r} {sum(any(role == r for role, _ in s) for s in sweep.seen.values())}" for r in ROLES)
    summary = (f"swept {len(all_pages)} pages (pages per role: {per_role}) as {len(sweep.files)} page views: "
               f"{counts['page loads']} page loads ({spent['page loads']:.0f} s); {counts['sideways']} sideways measurements, "
               f"{counts['axe (all rules)']} axe runs with all rules and {counts['axe (colour rules)']} with the colour rules "
               f"({spent['checking']:.0f} s, {TABS} tabs); data set {prepared - started:.0f} s, browser {browsed - prepared:.0f} s, "
               f"Nu checker {done - browsed:.0f} s; {done - started:.0f} s in all")
    print("\n" + summary)
    text = report(sweep)
    if os.environ.get("LEADTHE_SWEEP_REPORT"):
        Path(os.environ["LEADTHE_SWEEP_REPORT"]).write_text(
            f"{summary}\n{time.strftime('%Y-%m-%d %H:%M:%S')}\n\n{text or 'No failures.'}\n", encoding="utf-8")
    assert not sweep.failures, text


def _media_blocks(css: str, feature: str) -> list[str]:
    """The bodies of the ``@media`` rules whose query names ``feature``."""
    blocks = []
    for match in re.finditer(r"@media[^{]*" + re.escape(feature) + r"[^{]*\{", css):
        depth, start = 1, match.end()
        for index in range(start, len(css)):
            depth += {"{": 1, "}": -1}.get(css[index], 0)
            if depth == 0:
                blocks.append(css[start:index])
                break
    return blocks


COLOUR_PROPERTY = re.compile(r"--[\w-]+|color-scheme|color|background(-color|-image)?|(border|outline|text-decoration"
                             r"|caret|accent)(-\w+)?-color|fill|stroke|box-shadow|text-shadow")


def test_dark_scheme_changes_only_colours():
    """The sweep runs only axe's colour rules in the second colour scheme of a width: that holds while the
    dark scheme changes colours and nothing else (no size, no display, no position)."""
    stylesheets = sorted((Path(__file__).resolve().parents[2] / "leadthe" / "static").rglob("*.css"))
    found, declared = [], 0
    for path in stylesheets:
        for block in _media_blocks(path.read_text(encoding="utf-8"), "prefers-color-scheme"):
            for body in re.findall(r"\{([^{}]*)\}", block):
                for declaration in filter(str.strip, body.split(";")):
                    name = declaration.split(":", 1)[0].strip()
                    declared += 1
                    if not COLOUR_PROPERTY.fullmatch(name):
                        found.append(f"{path.name}: {declaration.strip()}")
    assert declared, "no prefers-color-scheme rule found: the stylesheet lost its dark scheme, or this test its way to it"
    assert not found, ("the dark colour scheme changes more than colours; the sweep runs all axe rules in one scheme "
                       "per width only (VIEWS in test_sweep.py): " + "; ".join(found))
