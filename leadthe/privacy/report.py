"""The export's report.html: a document a person can read and print, in their language.

It shows every source of the registry with human labels, one record at a time as a list of labelled
values, localised dates and words for stored codes. It leaves out what the registry declares as
internal (ids, links between records, bookkeeping) or secret (not exported at all), and says so once:
export.json and the CSV files hold the internal values. The CSS is inside the file: it is opened from
the person's disk, not served by us.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import sqlalchemy as sa
from babel.dates import format_date, format_time
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape

from leadthe import audit
from leadthe.extensions import db
from leadthe.lab.checks import check_words
from leadthe.lab.provider import ERRORS
from leadthe.lab.settings import for_org
from leadthe.labels import ROLE as ROLE_WORDS
from leadthe.labels import label
from leadthe.labels import USER_STATUS as USER_STATUS_WORDS
from leadthe.models.privacy import JURISDICTIONS, REQUEST_KINDS
from leadthe.privacy import labels
from leadthe.privacy.registry import CATEGORIES, LEGAL_BASES, RETENTION_RULES
from leadthe.privacy.services import subject_clause

HTML_ROWS = 500  # records shown per kind; the CSV files hold all of them

# What an internal link column stands for, shown by its title instead of its number.
REFERENCES = {
    "course_id": ("course", "title", _l("Course")),
    "lesson_id": ("lesson", "title", _l("Lesson")),
    "last_lesson_id": ("lesson", "title", _l("Last lesson")),
    "team_id": ("team", "name", _l("Team")),
    "quiz_id": ("quiz", "title", _l("Quiz")),
    "question_id": ("quiz_question", "text", _l("Question")),
    "version_id": ("ai_policy_version", "version", _l("AI-use policy version")),
    "rule_id": ("requirement_rule", "name", _l("Rule that requires it")),
}

COLUMN_LABELS = {
    "accepted_at": _l("Accepted"), "acknowledged_at": _l("Acknowledged"), "action": _l("Event"),
    "analytics": _l("Analytics allowed"), "answer": _l("Your answer"), "answers": _l("Your answers"),
    "applied_at": _l("Invitations sent"), "body": _l("Message"), "body_text": _l("Message"), "browser": _l("Browser"),
    "category": _l("Topic"), "closed_at": _l("Closed"), "code": _l("Verification code"), "comment": _l("Comment"),
    "completed_at": _l("Completed"), "correct": _l("Correct"), "correct_count": _l("Correct answers"),
    "country": _l("Country"), "created_at": _l("Recorded"), "day": _l("Day"), "density": _l("Density"),
    "department": _l("Department"), "details": _l("Details"), "device": _l("Device"),
    "do_not_sell_share": _l("Opted out of sale and sharing"), "downloaded_at": _l("Downloaded"),
    "due_at": _l("Due by"), "due_on": _l("Due by"), "email": _l("E-mail address"),
    "email_digest": _l("Weekly team digest"), "email_required": _l("Reminders of required training"), "email_product": _l("E-mails about new courses"),
    "email_progress": _l("E-mails about your progress"), "email_verified_at": _l("E-mail address confirmed"),
    "evidence": _l("Evidence"), "expires_at": _l("Expires"), "feature": _l("Part of the platform"),
    "from_staff": _l("Written by our support team"), "ip": _l("IP address"), "ip_prefix": _l("IP address (shortened)"),
    "is_latest": _l("Current result"), "is_manager": _l("Manager of the team"), "issued_at": _l("Issued"),
    "job_title": _l("Job title"), "jurisdiction": _l("Law"), "kind": _l("Kind"), "last_ping_at": _l("Last activity"),
    "last_seen_at": _l("Last active"), "lessons_completed": _l("Lessons completed"), "level": _l("Level"),
    "locale": _l("Language"), "low_data": _l("Low-data mode"), "method": _l("How you decided"), "name": _l("Name"),
    "number": _l("Attempt"), "object_analytics": _l("Objection to analytics"),
    "object_leaderboard": _l("Left out of leaderboards"),
    "object_recommendations": _l("Objection to personalised recommendations"), "os": _l("Operating system"),
    "passed": _l("Passed"), "password_changed_at": _l("Password last changed"), "pending_email": _l("New address waiting"),
    "photo": _l("Photo"), "photo_updated_at": _l("Photo changed"), "policy_version": _l("Privacy policy version"),
    "preferences": _l("Preference cookies allowed"), "progress": _l("Progress"), "query": _l("Search"),
    "question_count": _l("Questions"), "rating": _l("Rating"), "ready_at": _l("Ready"), "reason": _l("Reason"),
    "reauth_at": _l("Identity last confirmed"), "received_at": _l("Received"), "ref": _l("About"),
    "reference": _l("Reference"), "referrer": _l("Came from"), "reminder_sent_at": _l("Reminder sent"),
    "response": _l("Our answer"), "restrict_processing": _l("Processing restricted"), "results": _l("Results found"),
    "revoked_at": _l("Ended"), "role": _l("Role"), "route": _l("Page"), "rows": _l("Rows of the file"),
    "rubric_version": _l("Questionnaire version"), "scheduled_for": _l("Scheduled for"), "score": _l("Score"),
    "scores": _l("Scores"), "seconds": _l("Time spent learning"), "self_level": _l("Level from your answers"),
    "self_service": _l("Done by yourself"), "sent_at": _l("Sent"), "signal": _l("Browser privacy signal"),
    "size_bytes": _l("Size"), "status": _l("Status"), "subject": _l("Subject"), "theme": _l("Theme"),
    "to_addr": _l("Sent to"), "totp_enabled_at": _l("Two-step verification turned on"), "updated_at": _l("Last changed"),
    "used_at": _l("Used"), "user_agent": _l("Browser and system"),
    # the AI-literacy programme: required training and AI-use policy acknowledgements
    "assigned_at": _l("Required since"), "valid_until": _l("Valid until"), "ended_at": _l("No longer required since"),
    "reminded_due_at": _l("Reminded of the due date"), "reminded_overdue_at": _l("Told it was overdue"),
    "asked_at": _l("Asked to read it"), "mailed_at": _l("E-mailed about it"), "reminded_at": _l("Reminded"),
}

# A column whose words differ by table (a quiz answer is yours; a lab answer is the model's).
TABLE_COLUMN_LABELS = {
    ("lab_run", "ref_lesson_id"): _l("Exercise"), ("lab_run", "kind"): _l("What it is"), ("lab_run", "prompt"): _l("Your prompt"),
    ("lab_run", "answer"): _l("The model's answer"), ("lab_run", "status"): _l("Status of the answer"),
    ("lab_run", "error_code"): _l("Why the answer failed"), ("lab_run", "model"): _l("Model"),
    ("lab_run", "tokens_in"): _l("Length of the prompt (tokens)"), ("lab_run", "tokens_out"): _l("Length of the answer (tokens)"),
    ("lab_run", "tokens_estimated"): _l("Token counts are our estimate"), ("lab_run", "checks"): _l("Rubric checks of your prompt"),
    ("lab_run", "score"): _l("Score of your prompt"), ("lab_run", "passed"): _l("Passed the exercise"),
    ("lab_run", "cancel_requested"): _l("Cancelled by you"), ("lab_run", "created_at"): _l("Sent"),
    ("lab_run", "started_at"): _l("The model started"), ("lab_run", "finished_at"): _l("The answer was complete"),
    ("lab_usage", "tokens"): _l("Tokens used"), ("lab_usage", "calls"): _l("Prompts sent"),
    ("lab_usage", "exercises_passed"): _l("Exercises passed"), ("lab_usage", "best_score"): _l("Best score"),
}
# ... and a few whose words differ by record: the model's feedback is a run of its own (kind "grading")
ROW_LABELS = {
    ("lab_run", "prompt"): lambda row: _l("The grading request sent to the model") if row.get("kind") == "grading" else None,
    ("lab_run", "answer"): lambda row: _l("The model's feedback on your prompt") if row.get("kind") == "grading" else None,
}

LANGUAGE_WORDS = {"en": "English", "de": "Deutsch"}
METHOD_WORDS = {"banner": _l("The cookie banner"), "settings": _l("Cookie settings"), "preferences": _l("Preferences"),
                "browser_signal": _l("Browser privacy signal")}

CSS = """
:root{color-scheme:light;--ink:#1b1f24;--muted:#57606a;--line:#d0d7de;--accent:#0b5cad}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:#fff}
main{max-width:46rem;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:1.9rem;line-height:1.2;margin:0 0 .5rem}
h2{font-size:1.4rem;margin:2.5rem 0 .5rem;padding-top:.5rem;border-top:3px solid var(--accent)}
h3{font-size:1.1rem;margin:1.75rem 0 .25rem}
p,li{max-width:40rem}
a{color:var(--accent)}
.meta{color:var(--muted);font-size:.9rem}
.title{min-height:60vh}
.title dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
.title dt{font-weight:600}
.title dd{margin:0}
.contents li{margin:.2rem 0}
.record{border:1px solid var(--line);border-radius:6px;padding:.5rem .75rem;margin:.5rem 0;break-inside:avoid}
.record dl{margin:0;display:grid;grid-template-columns:minmax(7rem,14rem) 1fr;gap:.15rem 1rem}
.record dt{color:var(--muted)}
.record dd{margin:0;overflow-wrap:anywhere;white-space:pre-line}
.note{border-left:4px solid var(--line);padding:.25rem .75rem;margin:1rem 0}
@media (max-width:30rem){.record dl,.title dl{grid-template-columns:1fr}.record dd{margin-bottom:.35rem}}
@media print{
 @page{margin:18mm 15mm}
 body{font-size:11pt}
 main{max-width:none;padding:0}
 .title{page-break-after:always}
 h2{page-break-before:always;border-top:none}
 h2,h3{page-break-after:avoid}
 a{color:inherit;text-decoration:none}
}
"""


def _date(value) -> str:
    """"6 December 2026, 09:40" in the person's language (Babel's patterns, UTC)."""
    locale = str(get_locale() or "en")
    if isinstance(value, datetime):
        return f"{format_date(value.date(), 'long', locale=locale)}, {format_time(value, 'HH:mm', tzinfo=timezone.utc, locale=locale)}"
    return format_date(value, "long", locale=locale)


def _json_words(value) -> str:
    if isinstance(value, dict):
        return "\n".join(f"{str(k).replace('_', ' ')}: {_json_words(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_json_words(v) for v in value)
    return _plain(value)


def _plain(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, (datetime, date)):
        return _date(value)
    if isinstance(value, bytes):
        return _("Your photo: the file photo.jpg next to this report")
    if isinstance(value, (dict, list)):
        return _json_words(value)
    return str(value)


def _lab_error(code) -> str:
    return str(ERRORS[code]) if code in ERRORS else _plain(code)


def _lab_checks(checks) -> str:
    """[{"check": "audience", "met": true}, ...] as one line per criterion: "Audience stated: met"."""
    if not isinstance(checks, list):
        return _plain(checks)
    lines, met, not_met = [], _("met"), _("not met")
    for item in checks:
        if isinstance(item, dict) and "check" in item:
            lines.append(f"{check_words(item['check'])}: {met if item.get('met') else not_met}")
        else:
            lines.append(_plain(item))
    return "\n".join(lines) or "—"


def _words(table: str, column: str, value, row) -> str:
    """A stored value as the person reads it: codes in words, dates localised, secrets never."""
    special = {
        ("audit_event", "action"): lambda v: audit.event_label(v),
        ("audit_event", "details"): lambda v: audit.details_in_words(v) or "—",
        ("privacy_request", "kind"): lambda v: str(REQUEST_KINDS.get(v, v)),
        ("privacy_request", "status"): labels.request_status,
        ("privacy_request", "jurisdiction"): lambda v: str(JURISDICTIONS.get(v, v)),
        ("privacy_request", "details"): lambda v: labels.request_summary(v) if row.get("self_service") else _plain(v),
        ("user_account", "status"): lambda v: str(USER_STATUS_WORDS.get(v, v)),
        ("activity_day", "seconds"): lambda v: ngettext("%(num)s minute", "%(num)s minutes", round((v or 0) / 60)),
        ("quiz_attempt", "score"): lambda v: f"{v} %",
        ("consent_record", "method"): lambda v: str(METHOD_WORDS.get(v, v)),
        ("outbox_mail", "kind"): lambda v: label(v, "mail_kind"),
        ("outbox_mail", "status"): lambda v: label(v, "mail"),
        ("feedback", "kind"): lambda v: label(v, "feedback"),
        ("lab_run", "kind"): lambda v: label(v, "lab_run_kind"),
        ("lab_run", "status"): lambda v: label(v, "lab_run"),
        ("lab_run", "error_code"): _lab_error,
        ("lab_run", "checks"): _lab_checks,
        ("lab_run", "score"): lambda v: f"{v} %",
        ("lab_usage", "best_score"): lambda v: f"{v} %",
    }
    if value is not None and (table, column) in special:
        return special[(table, column)](value)
    if column == "role" and value in ROLE_WORDS:
        return str(ROLE_WORDS[value])
    if column == "locale":
        return LANGUAGE_WORDS.get(value, _plain(value))
    return _plain(value)


def _columns(source):
    """The visible columns of a source, and the titles that stand for its internal links."""
    table = db.metadata.tables[source.table]
    shown = [table.c[name] for name, col in source.columns.items() if col.export and not col.internal]
    joins, titles = [], []
    for name, (ref_table, ref_col, heading) in REFERENCES.items():
        if name in source.columns and name in table.c:
            ref = db.metadata.tables[ref_table].alias(f"ref_{name}")
            joins.append((ref, ref.c.id == table.c[name]))
            titles.append((f"ref_{name}", heading, ref.c[ref_col].label(f"ref_{name}")))
    return table, shown, joins, titles


def _column_label(table: str, column: str):
    return TABLE_COLUMN_LABELS.get((table, column)) or COLUMN_LABELS.get(column, column.replace("_", " ").capitalize())


def _row_label(table: str, column: str, heading, row):
    special = ROW_LABELS.get((table, column))
    return (special(row) if special else None) or heading


def _records(source, user_id: int):
    table, shown, joins, titles = _columns(source)
    selected = [*shown, *(t[2] for t in titles)]
    if "self_service" in table.c and table.c.self_service not in shown:
        selected.append(table.c.self_service)
    if not selected:
        return [], []
    stmt = sa.select(*selected).select_from(table)
    for ref, on in joins:
        stmt = stmt.outerjoin(ref, on)
    stmt = stmt.where(subject_clause(source, user_id)).order_by(*table.primary_key.columns).limit(HTML_ROWS)
    heads = [(t[0], TABLE_COLUMN_LABELS.get((source.table, t[0]), t[1])) for t in titles] + [
        (c.name, _column_label(source.table, c.name)) for c in shown]
    return heads, db.session.execute(stmt).mappings()


def _e(value) -> str:
    return str(escape(value))


def _write_source(out, source, user_id: int, n: int) -> None:
    records = ngettext("%(num)s record", "%(num)s records", n)
    out.write(f"<h3 id='{_e(source.table)}'>{_e(source.label)}</h3>")
    out.write(f"<p class='meta'>{_e(records)}. {_e(source.purpose)}</p>")
    if not n:
        return
    heads, rows = _records(source, user_id)
    for row in rows:  # an empty value is left out: the record says what there is
        items = "".join(f"<dt>{_e(_row_label(source.table, key, heading, row))}</dt>"
                        f"<dd>{_e(_words(source.table, key, row[key], row))}</dd>"
                        for key, heading in heads if row[key] is not None and row[key] != "")
        out.write(f"<div class='record'><dl>{items}</dl></div>")
    if n > HTML_ROWS:
        more = _("The first %(shown)s are shown here; all %(num)s are in the CSV files.", shown=HTML_ROWS, num=n)
        out.write(f"<p class='note'>{_e(more)}</p>")


def _write_title(out, user, sources, counts, generated: datetime) -> None:
    title, for_, prepared, inside = _("Your data at LeadThe.AI"), _("For"), _("Prepared"), _("What is inside")
    left_out = _("This report shows your data in words, for reading and printing. It leaves out record numbers, links "
                 "between records and technical bookkeeping, and it never contains secrets such as your password (we "
                 "keep only a one-way fingerprint of it) or the key of your two-step verification. The same data, "
                 "complete and machine-readable, is in export.json and in the csv folder of this download.")
    out.write(f"<section class='title'><h1>{_e(title)}</h1><dl>")
    out.write(f"<dt>{_e(for_)}</dt><dd>{_e(user.name)}<br>{_e(user.email)}</dd>")
    out.write(f"<dt>{_e(prepared)}</dt><dd>{_e(_date(generated))} (UTC)</dd></dl>")
    out.write(f"<h2 class='contents-h'>{_e(inside)}</h2><ul class='contents'>")
    for category, name in CATEGORIES.items():
        total = sum(counts[s.table] for s in sources if s.category == category)
        records = ngettext("%(num)s record", "%(num)s records", total)
        out.write(f"<li><a href='#cat-{_e(category)}'>{_e(name)}</a>: {_e(records)}</li>")
    out.write(f"</ul><p class='note'>{_e(left_out)}</p></section>")


def _kept_words(source, user) -> str:
    """The source's retention rule; for the practice lab also the days the person's company chose."""
    words = str(RETENTION_RULES[source.retention])
    if source.retention == "lab_days" and user.org_id is not None:
        days = for_org(user.org_id).retention_days
        words += " " + ngettext("Your company keeps them %(num)s day.", "Your company keeps them %(num)s days.", days)
    return words


def write_report(out, user, sources, counts, generated: datetime) -> None:
    """Write report.html for ``user`` into the text stream ``out``, in their interface language."""
    with force_locale(user.locale or "en"):
        lang, title, basis, kept = str(get_locale() or "en"), _("Your data at LeadThe.AI"), _("Legal basis:"), _("Kept:")
        out.write(f"<!doctype html><html lang='{_e(lang)}'><head><meta charset='utf-8'>"
                  "<meta name='viewport' content='width=device-width, initial-scale=1'>"
                  f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>")
        _write_title(out, user, sources, counts, generated)
        for category, name in CATEGORIES.items():
            out.write(f"<h2 id='cat-{_e(category)}'>{_e(name)}</h2>")
            empty = []
            for source in (s for s in sources if s.category == category):
                if not counts[source.table]:
                    empty.append(str(source.label))
                    continue
                _write_source(out, source, user.id, counts[source.table])
                out.write(f"<p class='meta'>{_e(basis)} {_e(LEGAL_BASES[source.basis])} "
                          f"{_e(kept)} {_e(_kept_words(source, user))}</p>")
            if empty:
                nothing = _("Nothing stored about you of these kinds: %(kinds)s.", kinds=", ".join(empty))
                out.write(f"<p class='meta'>{_e(nothing)}</p>")
        out.write("</main></body></html>")
