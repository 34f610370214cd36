"""The German interface: every user-visible string of the code has a German translation."""
from __future__ import annotations


from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from leadthe.extensions import db
from leadthe.i18n import TRANSLATIONS
from tests.conftest import ROOT, PASSWORD, outbox, post_form

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
METHODS = [("leadthe/**.py", "python"), ("leadthe/templates/**.html", "jinja2"), ("leadthe/templates/**.txt", "jinja2")]


def extracted_messages() -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS, options_map={"leadthe/templates/**": {"trimmed": "false"}}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return {m for m in found if m}


def german_catalog():
    with (TRANSLATIONS / "de/LC_MESSAGES/messages.po").open("rb") as fh:
        return read_po(fh, locale="de")


def test_every_string_has_a_german_translation():
    catalog = german_catalog()
    missing = []
    for msgid in sorted(extracted_messages()):
        entry = catalog.get(msgid)
        text = entry.string if entry else ""
        if isinstance(text, tuple):
            text = text[0]
        if not text or (entry and entry.fuzzy):
            missing.append(msgid)
    assert not missing, f"{len(missing)} strings without German translation (run `make translations`, then translate):\n" + "\n".join(missing[:40])


def test_placeholders_survive_translation():
    import re

    catalog = german_catalog()
    for entry in catalog:
        if not entry.id or not entry.string:
            continue
        source = entry.id[0] if isinstance(entry.id, tuple) else entry.id
        target = entry.string[0] if isinstance(entry.string, tuple) else entry.string
        assert sorted(re.findall(r"%\((\w+)\)s", source)) == sorted(re.findall(r"%\((\w+)\)s", target)), source


def test_german_is_served_by_choice_and_by_browser(client, companies):
    html = client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(as_text=True)
    assert '<html lang="de"' in html and "Anmelden" in html
    a, _ = companies
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    post_form(client, "/account/preferences", {"language": "de", "theme": "system", "density": "comfortable"})
    assert '<html lang="de"' in client.get("/dashboard").get_data(as_text=True)


# Pages of the learner's own areas: in German, none of these English phrases may be left.
GERMAN_PAGES = {
    "/dashboard": ["Skip to main content", "Log out", "Your week", "Continue learning"],
    "/courses": ["All topics", "All levels", "Under 1 hour", "Show courses"],
    "/account/profile": ["Save profile", "Job title", "New e-mail address"],
    "/account/password": ["Current password", "Save new password"],
    "/account/security": ["Two-step verification", "Recent security events", "Unknown browser", "Sign out here"],
    "/account/preferences": ["Follow my device", "High contrast", "Save preferences"],
    "/privacy": ["What we hold", "Account information", "Your account", "While the account is active",
                 "Needed to provide the service", "Who can see it", "Company admin"],
    "/privacy/processing": ["Leave me out of leaderboards", "Save my choices"],
    "/privacy/requests": ["Access: a copy of my data", "Under which law?", "Send request"],
    "/support": ["My account or log-in", "Subject", "Send"],
    "/consent": ["Every cookie we use", "Keeps you signed in", "12 months", "essential"],
    "/no-such-page": ["We can't find that page", "Go to the start page"],
}


def _visible(html: str) -> str:
    import re

    html = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    labels = " ".join(re.findall(r'(?:aria-label|title|alt|placeholder)="([^"]*)"', html))
    return re.sub(r"<[^>]+>", " ", html) + " " + labels


def test_pages_have_no_english_left_in_german(client, companies):
    import re

    a, _ = companies
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    response = post_form(client, "/account/preferences", {"language": "de", "theme": "system", "density": "comfortable"},
                         follow=True)
    assert "Ihre Einstellungen sind gespeichert." in response.get_data(as_text=True)  # already in the new language
    for url, english in GERMAN_PAGES.items():
        text = _visible(client.get(url).get_data(as_text=True))
        assert '<html lang="de"' not in text  # tags are stripped; the language is checked below
        for phrase in english:
            assert not re.search(r"(?<![\w-])" + re.escape(phrase) + r"(?![\w-])", text), f"{url}: {phrase!r} is still English"
    html = client.get("/privacy").get_data(as_text=True)
    assert '<html lang="de"' in html and "Was wir über Sie speichern" in html and "Kontodaten" in html


def test_english_stays_english(client, companies):
    a, _ = companies
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    html = client.get("/privacy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en"' in html and "Account information" in html and "While the account is active" in html


def test_dates_use_the_interface_language(app):
    """One format per kind, in the interface language: a date, a date with time, a weekday, a count."""
    from datetime import date, datetime

    from flask_babel import force_locale

    from leadthe.i18n import format_count, format_day, format_weekday, format_when

    when = datetime(2026, 3, 2, 9, 5)
    with app.test_request_context("/"):
        assert (format_day(when), format_when(when), format_weekday(when), format_count(10000)) == (
            "2 Mar 2026", "2 Mar 2026, 09:05", "Monday", "10,000")
        with force_locale("de"):
            assert (format_day(date(2026, 12, 31)), format_when(when), format_weekday(when, "abbreviated"),
                    format_count(10000)) == ("31.12.2026", "02.03.2026, 09:05", "Mo.", "10.000")
        assert format_day(None) == "" and format_when(None) == ""
        from leadthe.i18n import format_percent

        assert format_percent(67) == "67%" and format_percent(66.7) == "66.7%"
        with force_locale("de"):
            assert format_percent(66.7) == "66,7\xa0%"


def test_no_template_formats_dates_by_hand():
    """Dates reach people through the |date and |datetime filters only (machine-readable attributes stay ISO)."""
    import re

    offenders = []
    for path in (ROOT / "leadthe" / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r'datetime="[^"]*"', "", text)
        if re.search(r"\.strftime\(|\|ldate\b|\.isoformat\(", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders


def test_every_stored_role_and_status_has_words(app):
    """Each value of the closed sets in leadthe/models/enums.py has a label in both languages (privacy requests'
    kinds and statuses have theirs in the privacy area)."""
    from flask_babel import force_locale

    from leadthe import labels
    from leadthe.models import enums

    kinds = {enums.Role: "role", enums.UserStatus: "user_status", enums.OrgStatus: "org_status",
             enums.InvitationStatus: "invitation", enums.TicketStatus: "ticket", enums.ExportStatus: "export",
             enums.JobStatus: "job", enums.MailStatus: "mail", enums.AiToolStatus: "ai_tool",
             enums.PolicyChange: "policy_change", enums.RuleField: "rule_field", enums.RuleOperator: "rule_operator",
             enums.RequirementStatus: "requirement", enums.EvidenceStatus: "evidence",
             enums.LabProvider: "lab_provider", enums.GuardMode: "guard_mode", enums.LabRunKind: "lab_run_kind",
             enums.LabRunStatus: "lab_run", enums.SsoProtocol: "sso_protocol", enums.DomainMethod: "domain_method",
             enums.BillingStatus: "billing_status", enums.BillingProviderKind: "billing_provider",
             enums.BillingInterval: "billing_interval", enums.InvoiceStatus: "invoice",
             enums.BillingEventStatus: "billing_event", enums.BillingRequestKind: "billing_request_kind",
             enums.BillingRequestStatus: "billing_request", enums.BillingAdjustmentKind: "billing_adjustment",
             enums.NoticeKind: "notice_kind"}
    enum_classes = {obj for obj in vars(enums).values() if isinstance(obj, type) and issubclass(obj, enums.StrEnum)
                    and obj is not enums.StrEnum}
    assert enum_classes - set(kinds) == {enums.RequestKind, enums.RequestStatus}, "a new enum needs labels"
    with app.test_request_context("/"):
        for enum, kind in kinds.items():
            for member in enum:
                english = labels.label(member.value, kind)
                with force_locale("de"):
                    german = labels.label(member.value, kind)
                assert member in labels.KINDS[kind], f"{enum.__name__}.{member.name} has no label"
                assert english != member.value and german and german != member.value
        assert labels.label("responsible-ai", "topic") == "Responsible AI"
        assert labels.label("our-own-topic", "topic") == "our own topic"  # an author's topic, as written
        with force_locale("de"):
            assert labels.label("learner", "role") == "Lernende Person"
            assert labels.label("beginner", "level") == "Einsteiger"


def test_every_mail_and_feedback_kind_has_words(app):
    """What a mail is about, as the export's report names it: one label per mail template, in both languages."""
    from flask_babel import force_locale

    from leadthe import labels

    templates = {path.stem for path in (ROOT / "leadthe" / "templates" / "mail").glob("*.txt")
                 if not path.stem.startswith("_")}  # "_name": a part included by mails, not a mail
    assert templates == set(labels.MAIL_KIND), "a new mail template needs words in leadthe.labels.MAIL_KIND"
    with app.test_request_context("/"):
        for kind in sorted(templates) + ["general", "course"]:
            table = "mail_kind" if kind in templates else "feedback"
            english = labels.label(kind, table)
            with force_locale("de"):
                german = labels.label(kind, table)
            assert english != kind and german != english, kind


def test_cookie_revision_does_not_depend_on_the_language_and_mails_follow_the_recipients(client, app, companies):
    from flask_babel import force_locale

    from leadthe.consent.cookies import declaration, revision

    with app.test_request_context("/"):
        english = revision()
        with force_locale("de"):
            assert revision() == english
            assert "Hält Sie angemeldet" in declaration()[0].purpose
    a, _ = companies
    # a mail is in the language of the person it goes to, not of the browser that caused it
    post_form(client, "/password/forgot", {"email": a.learner.email}, headers={"Accept-Language": "de"})
    mail = outbox(app, to_addr=a.learner.email)[-1]
    assert "password" in mail.subject.lower() and "Passwort" not in mail.body_text
    from leadthe.models import User

    with app.app_context():
        db.session.get(User, a.manager.id).locale = "de"
        db.session.commit()
    post_form(app.test_client(), "/password/forgot", {"email": a.manager.email}, headers={"Accept-Language": "en"})
    mail = outbox(app, to_addr=a.manager.email)[-1]
    assert "Passwort" in mail.subject and mail.body_text.startswith("Hallo Manager,")
