"""Records of processing (GDPR Article 30), generated from the personal-data registry.

One record (an *activity*) per registry category and role: for a company the controller is the company and we are its
processor (Article 30(2): ``company_records``); our own list (``platform_records``) holds those activities too, plus
the processing we decide on ourselves (Article 30(1): invoices, support, cookie consent, staff access, product
improvement, and our staff's own accounts), plus an appendix of the tables that hold no personal data.

Every personal source of the registry lands in the activity of its category and role. A source whose category has no
activity here is *not represented*: ``missing`` names it, and tests/test_records_of_processing.py fails, so a new kind
of personal data cannot be collected without being described here. Words come from the registry (purposes, legal bases,
retention rules, column purposes) and from the small explicit maps below (who sees the data, whom it is about).
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass

from flask_babel import lazy_gettext as _l

from leadthe.admin.reports import _safe
from leadthe.models import utcnow
from leadthe.privacy.registry import LEGAL_BASES, RETENTION_RULES, SOURCES, Source, sensitive_columns
from leadthe.trust.subprocessors import current as current_subprocessors

PROCESSOR, CONTROLLER = "processor", "controller"
US = "LeadThe.AI"
ARTICLE = {PROCESSOR: "Art. 30(2)", CONTROLLER: "Art. 30(1)"}

# Tables whose processing we decide on ourselves (we are the controller); every other personal table is processed on
# behalf of the person's company.
CONTROLLER_TABLES = frozenset({
    "invoice", "invoice_recipient", "billing_request", "billing_member",  # our invoices and billing
    "support_ticket", "support_message",  # our support
    "consent_record", "policy_acknowledgement",  # our cookies and our policies
    "staff_access_grant",  # when our staff opened someone's data
    "search_query", "feedback",  # improving our courses, with consent
    "subprocessor_objection",  # companies' objections to our sub-processor changes
})

# Per role and registry category: the activity's name and what it is for. A category missing here is not represented.
ACTIVITIES = {
    PROCESSOR: {
        "account": (_l("User accounts and teams"),
                    _l("Giving the company's people access to the training platform, with the roles and teams the company chooses.")),
        "usage": (_l("Learning, progress and reports"),
                  _l("Delivering the courses, quizzes and practice lab, and showing people and the company their progress and AI-literacy figures.")),
        "device": (_l("Sign-in and account security"),
                   _l("Keeping people signed in, protecting their accounts and recording security events.")),
        "communications": (_l("E-mails to users"),
                           _l("Sending the e-mails the service needs (invitations, account and security mail, reminders).")),
        "consents": (_l("Privacy choices and policy acknowledgements"),
                     _l("Recording people's processing choices and their acknowledgement of the company's AI-use policy.")),
        "privacy_requests": (_l("Privacy requests"),
                             _l("Answering the data-protection rights people exercise (access, export, erasure), on the company's behalf.")),
    },
    CONTROLLER: {
        "communications": (_l("Invoices and customer support"),
                           _l("Invoicing our customers as tax law requires, answering support questions, and reading course feedback.")),
        "usage": (_l("Billing requests and product improvement"),
                  _l("Carrying out what admins ask for on the billing page, and improving courses from searches and feedback given with consent.")),
        "consents": (_l("Cookie consent and our policies"),
                     _l("Proof of cookie choices and of the acknowledgement of our privacy policy and terms.")),
        "device": (_l("Our staff's access to customer data"),
                   _l("Recording every time our staff open a person's data, why, and for how long, so that the person can see it.")),
        "account": (_l("Billing contacts"),
                    _l("Knowing who at a customer company may see its invoices.")),
    },
}

# Our staff's own accounts (Art. 30(1)): the same tables as everyone's accounts, about our staff.
STAFF_TABLES = ("user_account", "recovery_code", "user_session", "audit_event")

# Who at the company (or on our side) sees the data of an activity, beyond the person themself and the sub-processors.
RECIPIENTS = {
    (PROCESSOR, "account"): (_l("The company's admins (everyone's account, role and teams)"),
                             _l("The company's managers (the people in the teams they manage)")),
    (PROCESSOR, "usage"): (_l("The company's admins (progress and reports for everyone)"),
                           _l("The company's managers (progress of the people in the teams they manage)")),
    (PROCESSOR, "device"): (_l("The company's admins (the company's audit log of security events)"),),
    (PROCESSOR, "communications"): (),
    (PROCESSOR, "consents"): (_l("The company's admins (who acknowledged the AI-use policy)"),),
    (PROCESSOR, "privacy_requests"): (_l("Our privacy officer (DPO)"),),
    (CONTROLLER, "communications"): (_l("The company's admins and billing contacts (invoices)"),
                                     _l("Our support staff (support conversations)")),
    (CONTROLLER, "usage"): (_l("Our staff (billing requests; search terms and feedback only as totals)"),),
    (CONTROLLER, "consents"): (_l("Our privacy officer (DPO)"),),
    (CONTROLLER, "device"): (_l("Our staff and privacy officer; the person whose data was opened"),),
    (CONTROLLER, "account"): (_l("The company's admins"),),
    (CONTROLLER, "staff"): (_l("Our privacy officer (DPO) and the staff member's colleagues who manage staff accounts"),),
}
# Added to every activity we process for a company: our staff reach a person's data only through a recorded grant.
STAFF_BREAK_GLASS = _l("Our staff, only with a recorded access grant that the person can see")
# Per table: recipients that only that table's data reaches.
TABLE_RECIPIENTS = {
    "lab_run": _l("The AI service the company configured for the practice lab (the company's own provider)"),
}

SUBJECTS = {
    PROCESSOR: _l("Employees and other people the company gives access to the platform (learners, managers, admins), "
                  "and people it invites"),
    CONTROLLER: _l("Users of the platform, our customers' billing contacts, and people who contact our support"),
    "staff": _l("Our staff and privacy officers (LeadThe.AI employees)"),
}


def security_measures() -> list[str]:
    """Technical and organisational measures that are true of this product (Art. 32)."""
    encrypted = ", ".join(f"{table}.{column}" for table, column in sensitive_columns())
    return [str(m) for m in (
        _l("Encryption in transit: HTTPS (TLS) in production, with HSTS and Secure cookies."),
        _l("Encryption at rest of secret columns, with keys that can be rotated: %(columns)s.", columns=encrypted),
        _l("Passwords are stored only as bcrypt hashes; recovery codes and session keys only as one-way hashes."),
        _l("Two-step verification (TOTP) for everyone; a company can require it, and our staff must use it."),
        _l("Tenant separation: every query on company data is limited to the signed-in person's company."),
        _l("Role-based access: managers see only their teams, admins only their company; our staff open a person's "
           "data only with a recorded grant that names the reason."),
        _l("Session idle and absolute time-outs, rate limits on log-in, and a strict Content Security Policy."),
        _l("An audit log of sign-ins and security changes, kept for two years."),
        _l("Retention rules that delete or pseudonymise data on time, and erasure on request; deleted SQLite "
           "pages are overwritten (secure_delete)."),
    )]


@dataclass
class SourceEntry:
    table: str
    label: str
    purpose: str
    legal_basis: str
    retention: str
    data: list[str]


@dataclass
class Activity:
    key: str
    name: str
    role: str  # processor | controller
    article: str
    purpose: str
    legal_bases: list[str]
    data_categories: list[str]
    data_subjects: str
    recipients: list[str]
    subprocessors: list[str]
    transfers: list[str]
    retention: list[str]
    sources: list[SourceEntry]

    @property
    def tables(self) -> list[str]:
        return [s.table for s in self.sources]


def _unique(values) -> list[str]:
    return list(dict.fromkeys(str(v) for v in values if str(v)))


def data_of(source: Source) -> list[str]:
    """The column purposes of a source that mean something to the person (ids and bookkeeping left out)."""
    return _unique(col.purpose for col in source.columns.values() if not col.internal)


def _entry(source: Source) -> SourceEntry:
    return SourceEntry(source.table, str(source.label), str(source.purpose), str(LEGAL_BASES[source.basis]),
                       str(RETENTION_RULES[source.retention]), data_of(source))


def _activity(key: str, role: str, name, purpose, sources: list[Source], recipients, subjects) -> Activity:
    subs = [sp for sp in current_subprocessors() if any(sp.processes(s.table) for s in sources)]
    extra = [TABLE_RECIPIENTS[s.table] for s in sources if s.table in TABLE_RECIPIENTS]
    if role == PROCESSOR:
        extra.append(STAFF_BREAK_GLASS)
    entries = [_entry(s) for s in sources]
    return Activity(
        key=key, name=str(name), role=role, article=ARTICLE[role], purpose=str(purpose),
        legal_bases=_unique(e.legal_basis for e in entries),
        data_categories=_unique(d for e in entries for d in e.data),
        data_subjects=str(subjects), recipients=_unique([*recipients, *extra]),
        subprocessors=[f"{sp.name}: {sp.purpose}" for sp in subs],
        transfers=[f"{sp.name}: {sp.location}. {sp.safeguard}" for sp in subs if not sp.in_eea],
        retention=_unique(f"{e.label}: {e.retention}" for e in entries),
        sources=entries)


def role_of(source: Source) -> str:
    return CONTROLLER if source.table in CONTROLLER_TABLES else PROCESSOR


def _grouped(role: str) -> list[Activity]:
    activities = []
    for category, (name, purpose) in ACTIVITIES[role].items():
        sources = [s for s in SOURCES if s.subject and s.category == category and role_of(s) == role]
        if sources:
            activities.append(_activity(f"{role}-{category}", role, name, purpose, sources,
                                        RECIPIENTS[(role, category)], SUBJECTS[role]))
    return activities


def _staff_activity() -> Activity:
    by_table = {s.table: s for s in SOURCES}
    return _activity("controller-staff", CONTROLLER, _l("Our staff's accounts"),
                     _l("Giving our support staff and privacy officers secure access to run the platform and answer "
                        "requests."), [by_table[t] for t in STAFF_TABLES], RECIPIENTS[(CONTROLLER, "staff")],
                     SUBJECTS["staff"])


def not_personal() -> list[dict]:
    """The appendix: tables that hold no personal data, and why."""
    return [{"table": s.table, "label": str(s.label), "why": s.why_not_personal} for s in SOURCES if not s.subject]


def company_records() -> list[Activity]:
    """What we process on a company's behalf (Art. 30(2)); the company is the controller."""
    return _grouped(PROCESSOR)


def platform_records() -> list[Activity]:
    """Our full list: as a processor for every company (Art. 30(2)), and as the controller (Art. 30(1))."""
    return [*_grouped(PROCESSOR), *_grouped(CONTROLLER), _staff_activity()]


def missing(activities: list[Activity], appendix: list[dict] | None = None) -> list[str]:
    """Registry tables the records do not represent: a personal table in no activity, or (given the appendix) a
    non-personal table not listed there. Empty when the records are complete."""
    covered = {t for a in activities for t in a.tables}
    listed = {row["table"] for row in appendix or ()}
    gaps = [s.table for s in SOURCES if s.subject and s.table not in covered]
    if appendix is not None:
        gaps += [s.table for s in SOURCES if not s.subject and s.table not in listed]
    return gaps


# --- downloads -----------------------------------------------------------------------------------------

CSV_HEADER = ("key", "activity", "role", "article", "controller", "purpose", "legal_bases", "data_categories",
              "data_subjects", "recipients", "subprocessors", "transfers", "retention", "security_measures", "tables")


def controller_of(activity: Activity, customer: str) -> str:
    """Who decides on the activity: the customer company (``customer``: its name, or words for every company) when we
    are the processor, LeadThe.AI otherwise."""
    return customer if activity.role == PROCESSOR else US


def csv_text(activities: list[Activity], customer: str) -> str:
    """One row per activity; lists joined with " | "; cells defused against spreadsheet formulas."""
    security = " | ".join(security_measures())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for a in activities:
        writer.writerow([_safe(v) for v in (
            a.key, a.name, a.role, a.article, controller_of(a, customer), a.purpose, " | ".join(a.legal_bases),
            " | ".join(a.data_categories), a.data_subjects, " | ".join(a.recipients), " | ".join(a.subprocessors),
            " | ".join(a.transfers), " | ".join(a.retention), security, " ".join(a.tables))])
    return out.getvalue()


def json_text(activities: list[Activity], view: str, customer: str, appendix: list[dict] | None) -> str:
    doc = {
        "format": "leadthe-records-of-processing/1",
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "view": view,  # company | platform
        "company": customer if view == "company" else None,
        "processor": US,
        "security_measures": security_measures(),
        "subprocessors": [{"key": sp.key, "name": str(sp.name), "purpose": str(sp.purpose), "data": str(sp.data),
                           "location": str(sp.location), "in_eea": sp.in_eea, "safeguard": str(sp.safeguard),
                           "since": sp.since.isoformat()} for sp in current_subprocessors()],
        "activities": [{**asdict(a), "controller": controller_of(a, customer), "tables": a.tables} for a in activities],
    }
    if appendix is not None:
        doc["not_personal"] = appendix
    return json.dumps(doc, ensure_ascii=False, indent=2)
