"""The German interface is complete: no page holds an English interface string, a role or a status as stored.

As every role (anonymous, learner, manager, admin, staff with two-step verification) with the interface in
German, every GET page of ``app.url_map`` is opened with the test client, its ids filled from a seeded company
(the starter curriculum, the demo company, a ticket, a privacy request, an export, a company course, …). The
visible text (text nodes and the labels people read: aria-label, title, alt, placeholder; not scripts, styles,
code or what people typed) is matched against the catalogue: a text node that *is* an English msgid whose
German translation differs (placeholders match anything) is English left over; a stored role or status
(``learner``, ``in_progress``, …) as a whole word is an internal name shown to people.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import sqlalchemy as sa
from babel.messages.pofile import read_po

from leadthe.extensions import db
from leadthe.i18n import TRANSLATIONS
from leadthe.models import enums
from tests.conftest import login_with_code, post_form
from tests.helpers import every_page_data_set

DEMO_PASSWORD = "acme-demo-passphrase"
EMAILS = {"learner": "learner@acme.example", "manager": "manager@acme.example", "admin": "admin@acme.example"}
SKIPPED_PREFIXES = ("/static/", "/dev/", "/healthz", "/metrics")
NOT_HTML = {"admin.report_csv", "assessments.certificate_pdf_view", "privacy.export_download", "literacy_admin.evidence_download", "account.photo",
            "trust_admin.records_csv", "trust_admin.records_json", "trust_staff.records_csv", "trust_staff.records_json",
            "trust_admin.annex_pdf_download", "courses.offline_manifest"}
# one-time links from mails: opened once, in the anonymous pass (they would end the session of a signed-in role)
ONE_TIME = {"sso.verify_domain", "auth.verify_email", "auth.reset_password", "invite.accept", "progress.unsubscribe", "privacy.cancel_erasure",
            "account.confirm_email_change", "auth.login_2fa"}
# text that is not the interface's: what people or authors wrote (names, subjects, course content)
SKIPPED_TAGS = {"script", "style", "code", "pre", "textarea", "kbd"}
# content in another language says so (lang="en" on an English lesson body); its words are not the interface's
OTHER_LANGUAGE = re.compile(r"^(?!de\b)")

# stored values of roles and states: shown to people only through leadthe/labels.py
RAW_VALUES = sorted({member.value for enum in (enums.Role, enums.UserStatus, enums.OrgStatus, enums.InvitationStatus,
                                               enums.TicketStatus, enums.ExportStatus, enums.JobStatus,
                                               enums.MailStatus, enums.RequestStatus)
                     for member in enum} | {"erasure_pending", "in_progress"})
# words of English sentences that German never uses: an interface string that bypassed the catalogue
ENGLISH_WORDS = re.compile(r"(?<![\w'’-])(the|your|you|with|and|this|that|for|are|has|have|will|not|from|of|to|is)(?![\w'’-])")
# names whose German form is the English one (the country list of the billing details)
GERMAN_AS_IN_ENGLISH = {"Isle of Man"}
RAW = re.compile(r"(?<![\w@./:-])(" + "|".join(map(re.escape, RAW_VALUES)) + r")(?![\w@-])")


class Text(HTMLParser):
    """The text nodes a person sees, and the labels they read."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self.skip: list[str] = []  # open tags whose content is skipped

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        other_language = tag != "html" and attrs.get("lang") is not None and OTHER_LANGUAGE.match(attrs["lang"] or "x")
        if tag not in self.VOID and (self.skip or tag in SKIPPED_TAGS or "hidden" in attrs or other_language):
            self.skip.append(tag)
            return
        if not self.skip:
            for name in ("aria-label", "title", "alt", "placeholder"):
                if attrs.get(name):
                    self.nodes.append(attrs[name])
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.nodes.append(attrs["value"])

    def handle_endtag(self, tag):
        if self.skip and self.skip[-1] == tag:
            self.skip.pop()

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.nodes.append(data)


def visible_nodes(html: str, skip_article: bool = False) -> list[str]:
    parser = Text()
    if skip_article:
        html = re.sub(r"<article\b.*?</article>", " ", html, flags=re.S)
    parser.feed(html)
    out = []
    for node in parser.nodes:
        text = re.sub(r"\s+", " ", node).strip()
        # a line of facts joined by separators ("Einsteiger · Grundlagen · 5 Lektionen") is several nodes
        out.extend(part.strip() for part in re.split(r"\s[·|]\s", text) if part.strip())
    return out


def english_catalogue() -> tuple[set[str], re.Pattern | None]:
    """(exact English strings, a pattern of those with placeholders) whose German differs."""
    with (TRANSLATIONS / "de/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="de")
    exact, patterns = set(), []
    for entry in catalog:
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for msgid in ids:
            if msgid in strings or len(re.sub(r"%\(\w+\)[sd]|\W", "", msgid)) < 3:
                continue  # the same in German, or too short to tell ("OK", "%(n)s")
            if "%(" in msgid:
                literal = re.split(r"%\(\w+\)[sd]", msgid)
                if sum(len(part.strip(" .,:;()")) for part in literal) >= 6:
                    patterns.append(".+?".join(re.escape(part) for part in literal))
            else:
                exact.add(re.sub(r"\s+", " ", msgid).strip())
    return exact, (re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None)


def build_data_set(app) -> tuple[dict[str, str], object]:
    """The shared data set of every page (tests/helpers.py), the policies' first versions, and every account in
    German; returns the URL values and the staff account."""
    from leadthe.legal.services import ensure_initial_policies
    from leadthe.models import User

    values, platform = every_page_data_set(app, {**EMAILS, "staff": "sam.staff@leadthe.example",
                                                 "dpo": "dana.dpo@leadthe.example"})
    with app.test_request_context():
        ensure_initial_policies()
        db.session.execute(sa.update(User).values(locale="de"))
        db.session.commit()
    return values, platform["staff"]


def pages(app, values: dict[str, str]) -> dict[str, tuple[str, str]]:
    found = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(SKIPPED_PREFIXES) or rule.endpoint in NOT_HTML:
            continue
        if "@" + rule.endpoint in values:
            url = values["@" + rule.endpoint]
        else:
            if any(a not in values for a in rule.arguments):
                continue
            area = rule.endpoint.split(".")[0]
            url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values.get(f"{area}:{m.group(1)}", values[m.group(1)]), rule.rule)
        found[rule.rule] = (rule.endpoint, url)
    return found


def signed_in_client(app, role: str, staff):
    client = app.test_client()
    headers = {"Accept-Language": "de-DE,de;q=0.9"}
    if role == "staff":
        login_with_code(client, app, staff)
    elif role != "anonymous":
        response = post_form(client, "/login", {"email": EMAILS[role], "password": DEMO_PASSWORD}, headers=headers)
        assert response.status_code == 303, f"{role} could not log in: " + re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))[-3000:]
    return client


def entered_text(app) -> list[str]:
    """What people and authors wrote (names, team names, course content in its original language, policy
    documents): not the interface, longest first so that a node can have them cut out."""
    from leadthe.models import (Course, CourseModule, Feedback, Lesson, Notice, Organization, PolicyDocument, Quiz,
                                QuizChoice, QuizQuestion, SupportMessage, SupportTicket, Team, User)

    columns = (User.name, User.department, Team.name, Organization.name, Course.title, Course.summary, CourseModule.title, Lesson.title,
               Quiz.title, QuizQuestion.text, QuizChoice.text, SupportTicket.subject, SupportMessage.body,
               Feedback.comment, Notice.title, Notice.body, Notice.new_owner, Notice.contact, PolicyDocument.title,
               PolicyDocument.summary)
    from leadthe.models import AiPolicyVersion, AiTool

    # what a company wrote for its AI-literacy programme: its AI tools and its AI-use policy (each node of the text)
    columns += (AiTool.name, AiTool.vendor, AiTool.purpose, AiTool.risk_note, AiTool.owner_note, AiPolicyVersion.title,
                AiPolicyVersion.summary)
    with app.app_context():
        found = {re.sub(r"\s+", " ", value).strip() for column in columns for value in db.session.scalars(sa.select(column))
                 if value}
        found |= {node for body in db.session.scalars(sa.select(AiPolicyVersion.body_html)) for node in visible_nodes(body or "")}
    return sorted((v for v in found if len(v) > 2), key=len, reverse=True)


# forms not sent empty: they end the session or change what the other pages show
NOT_POSTED = ("logout", "delete", "close", "revoke", "disable", "erase", "lock", "remove", "leave", "preferences",
              "email/confirm")  # confirming the learner's pending address change would change their log-in


def self_posting_forms(url: str, html: str) -> list[tuple[str, str]]:
    """(url, CSRF token) for each POST form of the page that sends to the page itself."""
    found = []
    for form in re.finditer(r"<form\b[^>]*>", html):
        tag = form.group(0)
        action = re.search(r'action="([^"]*)"', tag)
        if 'method="post"' not in tag.lower() or (action and action.group(1) not in ("", url)):
            continue
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html[form.end():])
        if token and not any(word in url for word in NOT_POSTED):
            found.append((url, token.group(1)))
    return found


def empty_posts(client, forms):
    """Each form sent with nothing filled in: the error messages, in German."""
    for url, token in dict(forms).items():
        response = client.post(url, data={"csrf_token": token}, headers={"Accept-Language": "de-DE,de;q=0.9"})
        if response.status_code in (200, 400, 422) and response.content_type.startswith("text/html"):
            yield url, response.get_data(as_text=True)


def english_left(html: str, exact: set[str], pattern, entered: list[str] = (), url: str = "") -> list[str]:
    found = []
    for node in visible_nodes(html):
        for text in entered:
            if text in node:
                node = node.replace(text, " ").strip()
        if not node or node in GERMAN_AS_IN_ENGLISH:
            continue
        if node in exact or (pattern is not None and pattern.fullmatch(node)):
            found.append(f"English: {node!r}")
        words = re.sub(r"\S+@\S+|https?://\S+|/\S+", " ", node)
        raw = RAW.search(words)
        if raw:
            found.append(f"internal value {raw.group(1)!r} in {node!r}")
        elif ENGLISH_WORDS.search(words):
            found.append(f"English words in {node!r}")
    return found


def sweep_role(app, role: str, staff, all_pages, catalogue, problems: dict, seen: set) -> int:
    """Every page as ``role``, then each self-posting form sent empty; how many forms were sent."""
    client = signed_in_client(app, role, staff)
    forms: list[tuple[str, str]] = []
    entered = entered_text(app)  # again for each role: some rows (the policies) appear as pages are first seen

    def check(label: str, url: str, html: str) -> None:
        for problem in english_left(html, *catalogue, entered, url):
            problems.setdefault(f"{role} {label}", []).append(problem)

    for rule, (endpoint, url) in sorted(all_pages.items()):
        if endpoint in ONE_TIME and role != "anonymous":
            continue
        response = client.get(url, headers={"Accept-Language": "de-DE,de;q=0.9"}, follow_redirects=endpoint in ONE_TIME)
        if response.status_code != 200 or not response.content_type.startswith("text/html"):
            continue
        html = response.get_data(as_text=True)
        assert '<html lang="de"' in html, f"{role} {url} is not in German"
        seen.add(rule)
        forms.extend(self_posting_forms(url, html))
        check(url, url, html)
    posted = 0
    for url, html in empty_posts(client, forms):
        posted += 1
        check(f"POST {url} (empty)", url, html)
    if role in ("anonymous", "learner"):
        check("/no-such-page", "/no-such-page", client.get("/no-such-page", headers={"Accept-Language": "de"}).get_data(as_text=True))
    return posted


def test_german_pages_hold_no_english_and_no_internal_names(app):
    values, staff_account = build_data_set(app)
    all_pages = pages(app, values)
    catalogue = english_catalogue()
    problems: dict[str, list[str]] = {}
    seen: set[str] = set()
    posted = sum(sweep_role(app, role, staff_account, all_pages, catalogue, problems, seen)
                 for role in ("anonymous", "learner", "manager", "admin", "staff"))
    unseen = sorted(set(all_pages) - seen)
    print(f"{len(seen)} of {len(all_pages)} pages opened, {posted} forms sent empty; not opened: {unseen}")
    assert len(seen) > 0.8 * len(all_pages) and posted > 20, f"only {len(seen)} of {len(all_pages)} pages could be opened: {unseen}"
    report = "\n".join(f"{page}:\n  " + "\n  ".join(sorted(set(found))) for page, found in sorted(problems.items()))
    assert not problems, f"English or internal names on {len(problems)} German pages:\n{report}"


def test_the_check_finds_english_and_internal_names():
    exact, pattern = english_catalogue()
    english = '<main><h1>Dashboard</h1><p>Sie sind als learner angemeldet</p><button aria-label="Log out">x</button></main>'
    found = english_left(english, exact, pattern)
    assert any("'Log out'" in f for f in found) and any("'learner'" in f for f in found)
    assert english_left("<p>Save the form before you go.</p>", exact, pattern)  # not in the catalogue, still English
    german = '<main><h1>Übersicht</h1><p>Ihre Rolle: Lernende Person</p><code>status: open</code><p>admin@acme.example</p></main>'
    assert english_left(german, exact, pattern) == []
