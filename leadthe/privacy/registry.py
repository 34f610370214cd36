"""The personal-data registry: one declaration of every table and column the platform stores.

Export, erasure, retention and the privacy centre's "what we hold" page are all driven by this file,
not by hand-written lists. ``tests/test_registry.py`` walks the SQLAlchemy metadata and fails for any
column that is not declared here, so a feature cannot collect data that the privacy centre forgets.

Per table (a *source*) we declare: the category the privacy policy uses, the purpose, the legal basis,
the retention rule, which column(s) name the person, and what erasure does to the rows. Per column: its
purpose, whether it is exported (secrets are not, with the reason), and what erasure does to the value.
Tables that hold no personal data are declared too, with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field

CATEGORIES = {
    "account": "Account information",
    "usage": "Usage data",
    "device": "Device and technical information",
    "communications": "Communications",
    "consents": "Consents and choices",
    "privacy_requests": "Privacy requests",
}

LEGAL_BASES = {
    "contract": "Needed to provide the service your employer signed up for (GDPR Art. 6(1)(b)).",
    "legitimate_interests": "Our and your employer's legitimate interests, which you may object to (Art. 6(1)(f)).",
    "consent": "Your consent, which you can withdraw at any time (Art. 6(1)(a)).",
    "legal_obligation": "A legal obligation, e.g. answering privacy requests and keeping security records (Art. 6(1)(c)).",
}

# Retention rules. `leadthe retention` implements each id (leadthe/privacy/retention.py); a test checks
# that every rule used below exists there.
RETENTION_RULES = {
    "account_lifetime": "While the account is active; erased at the latest 90 days after it is closed.",
    "session_30d": "30 days after the session ended (raw access records).",
    "export_7d": "The file is deleted 7 days after it was made; the record with the account.",
    "outbox_90d": "90 days after sending; with the account at the latest.",
    "audit_2y": "Two years, as security records; pseudonymised when the account is erased.",
    "request_3y": "Three years after completion, as evidence that the request was honoured; pseudonymised on erasure.",
    "unverified_30d": "Sign-ups whose address was never confirmed are removed after 30 days.",
    "job_30d": "Finished jobs are removed after 30 days.",
    "company_lifetime": "While the company is a customer; erased with the company after it leaves (90 days).",
}


@dataclass(frozen=True)
class Col:
    """One column's declaration."""

    purpose: str
    export: bool = True
    # what erasure does to the value: "delete" (it goes with the row), "anonymise" (replaced, row kept),
    # "keep" (not personal, or kept for the stated reason)
    erase: str = "delete"
    reason: str = ""  # why it is not exported, or why it is kept
    sensitive: bool = False  # encrypted at rest


@dataclass(frozen=True)
class Source:
    table: str
    label: str
    category: str | None  # None: holds no personal data
    purpose: str
    basis: str | None
    retention: str
    # columns that hold the id of the person the row is about; empty for non-personal tables
    subject: tuple[str, ...] = ()
    # what erasure does to the person's rows: "delete" | "pseudonymise" (keep rows, replace the person by
    # a keyed hash in `<col>_ref`-style columns, anonymise personal values) | "none" (not personal)
    erasure: str = "delete"
    columns: dict[str, Col] = field(default_factory=dict)
    why_not_personal: str = ""


def tech(purpose: str) -> Col:
    """A column that identifies or orders rows but says nothing about the person by itself."""
    return Col(purpose, export=True, erase="keep")


ID = tech("row identifier")
CREATED = Col("when the record was created")

SOURCES: list[Source] = [
    Source(
        "user_account", "Your account", "account",
        purpose="Your log-in and profile, shown to you and your company's admins and managers.",
        basis="contract", retention="account_lifetime", subject=("id",), erasure="delete",
        columns={
            "id": ID,
            "org_id": tech("your company"),
            "email": Col("log-in and messages about your account"),
            "name": Col("shown on your profile, to your managers and on leaderboards"),
            "job_title": Col("tailors recommendations; shown to your admins"),
            "department": Col("team reports; shown to your admins"),
            "password_hash": Col("checks your password", export=False,
                                 reason="a one-way bcrypt hash: it cannot reveal your password and is useless outside our system"),
            "role": Col("what you may see and do"),
            "status": Col("whether the account is active"),
            "locale": Col("the language of the interface"),
            "email_verified_at": Col("when you confirmed your address"),
            "password_changed_at": Col("security: when your password last changed"),
            "last_seen_at": Col("daily activity: when you were last active"),
            "closed_at": Col("when the account was closed (starts the retention period)"),
            "pending_email": Col("a new address waiting for your confirmation"),
            "photo": Col("your optional profile photo (exported as a file)"),
            "photo_updated_at": Col("when the photo was changed"),
            "created_at": CREATED,
        },
    ),
    Source(
        "team_membership", "Your teams", "account",
        purpose="Which teams you belong to or manage, for team views and reports.",
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "team_id": tech("the team"), "user_id": tech("you"),
                 "is_manager": Col("whether you manage the team"), "created_at": CREATED},
    ),
    Source(
        "user_session", "Sign-in sessions", "device",
        purpose="Keeping you signed in, showing you your devices, and protecting your account.",
        basis="contract", retention="session_30d", subject=("user_id",), erasure="delete",
        columns={
            "id": ID, "user_id": tech("you"),
            "token_hash": Col("recognises your browser", export=False,
                              reason="a hash of a random session key; useless outside our system"),
            "created_at": Col("when you signed in"),
            "last_seen_at": Col("when this browser was last active"),
            "expires_at": Col("when the session ends at the latest"),
            "revoked_at": Col("when it was signed out"),
            "ip": Col("IP address: security and approximate place"),
            "user_agent": Col("browser and operating system"),
        },
    ),
    Source(
        "audit_event", "Security events", "device",
        purpose="A record of sign-ins, failures and security changes, to protect accounts and investigate abuse.",
        basis="legal_obligation", retention="audit_2y", subject=("actor_id", "subject_id"), erasure="pseudonymise",
        columns={
            "id": ID, "created_at": Col("when it happened", erase="keep", reason="security record"),
            "org_id": tech("the company"),
            "actor_id": Col("who did it", erase="anonymise"),
            "subject_id": Col("whom it concerned", erase="anonymise"),
            "actor_ref": Col("keyed hash replacing the person after erasure", erase="keep", reason="pseudonym only"),
            "subject_ref": Col("keyed hash replacing the person after erasure", erase="keep", reason="pseudonym only"),
            "action": Col("what happened", erase="keep", reason="security record without the person"),
            "ip": Col("IP address", erase="anonymise"),
            "user_agent": Col("browser and operating system", erase="anonymise"),
            "details": Col("further facts of the event", erase="anonymise"),
        },
    ),
    Source(
        "outbox_mail", "E-mails we sent you", "communications",
        purpose="Account and learning e-mails, kept to deliver them reliably.",
        basis="contract", retention="outbox_90d", subject=("user_id",), erasure="delete",
        columns={
            "id": ID, "user_id": tech("you"), "kind": Col("the kind of e-mail"), "to_addr": Col("your address"),
            "subject": Col("subject line"), "body_text": Col("the message"), "headers": Col("mail headers"),
            "status": Col("delivery status"), "attempts": Col("delivery attempts"),
            "next_attempt_at": Col("next delivery attempt"), "last_error": Col("last delivery problem"),
            "sent_at": Col("when it was sent"), "created_at": CREATED,
        },
    ),
    Source(
        "privacy_settings", "Your processing choices", "consents",
        purpose="Your choices to restrict or object to processing and to opt out of sale or sharing.",
        basis="legal_obligation", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={
            "user_id": tech("you"),
            "restrict_processing": Col("restriction of processing"),
            "object_analytics": Col("objection to analytics"),
            "object_leaderboard": Col("objection to leaderboards"),
            "object_recommendations": Col("objection to personalised recommendations"),
            "do_not_sell_share": Col("opt-out of sale or sharing"),
            "updated_at": Col("when you last changed them"),
        },
    ),
    Source(
        "privacy_request", "Your privacy requests", "privacy_requests",
        purpose="Recording and answering the rights you exercise, within the legal deadlines.",
        basis="legal_obligation", retention="request_3y", subject=("user_id",), erasure="pseudonymise",
        columns={
            "id": ID, "org_id": tech("your company"),
            "user_id": Col("you", erase="anonymise"),
            "subject_ref": Col("keyed hash replacing you after erasure", erase="keep", reason="pseudonym only"),
            "kind": Col("which right", erase="keep", reason="evidence that the request was honoured"),
            "jurisdiction": Col("GDPR or CCPA", erase="keep", reason="evidence of the deadline"),
            "self_service": Col("done by yourself in the privacy centre", erase="keep", reason="evidence"),
            "status": Col("progress", erase="keep", reason="evidence"),
            "details": Col("what you wrote", erase="anonymise"),
            "response": Col("our answer", erase="anonymise"),
            "received_at": Col("when we received it", erase="keep", reason="evidence of the deadline"),
            "due_at": Col("the legal deadline", erase="keep", reason="evidence of the deadline"),
            "completed_at": Col("when it was completed", erase="keep", reason="evidence of the deadline"),
            "handled_by_id": tech("the privacy officer who answered"),
            "scheduled_for": Col("when a deletion runs", erase="keep", reason="evidence"),
            "step": tech("progress of a deletion"),
            "last_error": Col("what stopped a deletion", erase="anonymise"),
        },
    ),
    Source(
        "data_export", "Your data exports", "privacy_requests",
        purpose="The copies of your data you asked for, and when they expire.",
        basis="legal_obligation", retention="export_7d", subject=("user_id",), erasure="delete",
        columns={
            "id": ID, "user_id": tech("you"), "request_id": tech("the request"),
            "status": Col("progress"), "progress": Col("percent done"), "file_name": Col("the file"),
            "size_bytes": Col("its size"), "sha256": Col("its checksum"), "ready_at": Col("when it was ready"),
            "expires_at": Col("when the download stops working"), "downloaded_at": Col("when you downloaded it"),
            "created_at": CREATED,
        },
    ),
    # --- tables without personal data -------------------------------------------------------------
    Source(
        "organization", "Companies", None, purpose="The customer companies.", basis=None,
        retention="company_lifetime", erasure="none",
        why_not_personal="Company facts (name, settings); people are linked from their own rows.",
        columns={c: tech("company record") for c in (
            "id", "name", "status", "closed_at", "require_2fa", "leaderboard_enabled", "created_at")},
    ),
    Source(
        "team", "Teams", None, purpose="A company's teams.", basis=None, retention="company_lifetime",
        erasure="none", why_not_personal="Team names chosen by the company; members are in team_membership.",
        columns={c: tech("team record") for c in ("id", "org_id", "name", "created_at")},
    ),
    Source(
        "job", "Background jobs", None, purpose="Work for the background worker.", basis=None,
        retention="job_30d", erasure="none",
        why_not_personal="Payloads hold record ids only, never personal values.",
        columns={c: tech("job bookkeeping") for c in (
            "id", "kind", "payload", "status", "attempts", "run_at", "locked_until", "last_error",
            "finished_at", "created_at")},
    ),
    Source(
        "alembic_version", "Schema version", None, purpose="Database migrations.", basis=None,
        retention="company_lifetime", erasure="none", why_not_personal="A revision number.",
        columns={"version_num": tech("schema revision")},
    ),
]

BY_TABLE = {source.table: source for source in SOURCES}


def personal_sources() -> list[Source]:
    return [s for s in SOURCES if s.subject]


def sensitive_columns() -> list[tuple[str, str]]:
    return [(s.table, name) for s in SOURCES for name, col in s.columns.items() if col.sensitive]
