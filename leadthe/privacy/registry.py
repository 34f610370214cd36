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

from flask_babel import lazy_gettext as _l

CATEGORIES = {
    "account": _l("Account information"),
    "usage": _l("Usage data"),
    "device": _l("Device and technical information"),
    "communications": _l("Communications"),
    "consents": _l("Consents and choices"),
    "privacy_requests": _l("Privacy requests"),
}

LEGAL_BASES = {
    "contract": _l("Needed to provide the service your employer signed up for (GDPR Art. 6(1)(b))."),
    "legitimate_interests": _l("Our and your employer's legitimate interests, which you may object to (Art. 6(1)(f))."),
    "consent": _l("Your consent, which you can withdraw at any time (Art. 6(1)(a))."),
    "legal_obligation": _l("A legal obligation, e.g. answering privacy requests and keeping security records (Art. 6(1)(c))."),
}

# Retention rules. `leadthe retention` implements each id (leadthe/privacy/retention.py); a test checks
# that every rule used below exists there.
RETENTION_RULES = {
    "account_lifetime": _l("While the account is active; erased at the latest 90 days after it is closed."),
    "session_30d": _l("30 days after the session ended (raw access records)."),
    "export_7d": _l("The file is deleted 7 days after it was made; the record with the account."),
    "outbox_90d": _l("90 days after sending; with the account at the latest."),
    "audit_2y": _l("Two years, as security records; pseudonymised when the account is erased."),
    "request_3y": _l("Three years after completion, as evidence that the request was honoured; pseudonymised on erasure."),
    "unverified_30d": _l("Sign-ups whose address was never confirmed are removed after 30 days."),
    "job_30d": _l("Finished jobs are removed after 30 days."),
    "company_lifetime": _l("While the company is a customer; erased with the company after it leaves (90 days)."),
    "search_90d": _l("90 days after the search; with the account at the latest."),
    "sso_1d": _l("A day after the single sign-on log-in it belongs to was started."),
    "invoice_10y": _l("Ten years after the end of the year the invoice was issued, as tax law requires; your name and "
                      "address on it are replaced by your role when your account is erased."),
    "billing_30d": _l("30 days after the request was made."),
    "security_1y": _l("Failed log-ins counted per network: one day. Security alerts: one year after their last event. "
                      "The networks a company's SCIM token was used from: one year after the last use."),
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
    # an id, a link between records or bookkeeping that means nothing to the person by itself: it is in
    # export.json and the CSV files, but the readable report.html leaves it out (and says so once)
    internal: bool = False
    # what an "anonymise" erasure writes instead of the value (default: empty, or NULL where allowed): an
    # invoice keeps the person's role where their name was
    replace_with: str = ""


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
    # rows that hold the person's data under another key than their id (an invitation and its mail exist
    # before the account): column -> how it is matched at erasure (see MATCHES); "col.key" for a JSON key
    matched_by: dict[str, str] = field(default_factory=dict)


# How a `matched_by` column is compared with the person at erasure. Their addresses are every value of
# an "address" column in the rows keyed by their id (their account, invitations, mail sent to them); the
# account itself is erased by its id only.
MATCHES = {
    "address": "equals one of the person's e-mail addresses",
    "address_hash": "equals the fingerprint of one of the person's e-mail addresses",
    "address_in": "holds one of the person's e-mail addresses among other values",
}


def tech(purpose: str) -> Col:
    """A column that identifies or orders rows but says nothing about the person by itself."""
    return Col(purpose, export=True, erase="keep", internal=True)


ID = tech("row identifier")
CREATED = Col("when the record was created")

SOURCES: list[Source] = [
    Source(
        "user_account", _l("Your account"), "account",
        purpose=_l("Your log-in and profile, shown to you and your company's admins and managers."),
        basis="contract", retention="account_lifetime", subject=("id",), erasure="delete",
        matched_by={"email": "address", "pending_email": "address"},
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
            "external_id": Col("your company's identity provider's id for you, when it provisions your account (SCIM)"),
            "scim_deleted_at": Col("when your company's identity provider removed you (SCIM); the account is closed then"),
            "pending_email": Col("a new address waiting for your confirmation"),
            "photo": Col("your optional profile photo (exported as a file)"),
            "photo_updated_at": Col("when the photo was changed"),
            "totp_secret": Col("two-step verification: the key your authenticator app shares with us", export=False,
                               sensitive=True,
                               reason="a secret that would let anyone who holds it make your sign-in codes; "
                                      "encrypted at rest and never shown again after set-up"),
            "totp_enabled_at": Col("two-step verification: when you turned it on"),
            "totp_last_step": Col("two-step verification: the time step of the last code used, so a code works only once",
                                  internal=True),
            "created_at": CREATED,
        },
    ),
    Source(
        "recovery_code", _l("Two-step verification recovery codes"), "account",
        purpose=_l("Single-use codes that let you sign in when your authenticator app is not at hand."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={
            "id": ID, "user_id": tech("you"),
            "code_hash": Col("checks a recovery code", export=False,
                             reason="a keyed one-way hash: it cannot reveal the code and is useless outside our system"),
            "used_at": Col("when the code was used (each works once)"),
            "created_at": Col("when the codes were made"),
        },
    ),
    Source(
        "team_membership", _l("Your teams"), "account",
        purpose=_l("Which teams you belong to or manage, for team views and reports."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "team_id": tech("the team"), "user_id": tech("you"),
                 "is_manager": Col("whether you manage the team"), "created_at": CREATED},
    ),
    Source(
        "user_session", _l("Sign-in sessions"), "device",
        purpose=_l("Keeping you signed in, showing you your devices, and protecting your account."),
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
            "reauth_at": Col("when you last confirmed it was you in this browser (password, and code with 2FA)"),
        },
    ),
    Source(
        "audit_event", _l("Security events"), "device",
        purpose=_l("A record of sign-ins, failures and security changes, to protect accounts and investigate abuse."),
        basis="legal_obligation", retention="audit_2y", subject=("actor_id", "subject_id"), erasure="pseudonymise",
        # a failed log-in with an address that had no account yet records only the address's fingerprint
        matched_by={"details.email_hash": "address_hash"},
        columns={
            "id": ID, "created_at": Col("when it happened", erase="keep", reason="security record"),
            "org_id": tech("the company"),
            "actor_id": Col("who did it", erase="anonymise", internal=True),
            "subject_id": Col("whom it concerned", erase="anonymise", internal=True),
            "actor_ref": Col("keyed hash replacing the person after erasure", erase="keep", reason="pseudonym only", internal=True),
            "subject_ref": Col("keyed hash replacing the person after erasure", erase="keep", reason="pseudonym only", internal=True),
            "action": Col("what happened", erase="keep", reason="security record without the person"),
            "ip": Col("IP address", erase="anonymise"),
            "user_agent": Col("browser and operating system", erase="anonymise"),
            "details": Col("further facts of the event", erase="anonymise"),
            # the tamper-evident chain (leadthe/audit_chain.py); the digest is keyed, so it reveals nothing
            "personal_digest": Col("keyed digest of the personal fields, to prove them unchanged", erase="keep",
                                   reason="keyed hash only; proves the log was not edited", internal=True),
            "chain_seq": tech("place in the tamper-evident chain"), "chain_prev": tech("previous event's hash"),
            "chain_hash": tech("this event's hash in the chain"),
        },
    ),
    Source(
        "outbox_mail", _l("E-mails we sent you"), "communications",
        purpose=_l("Account and learning e-mails, kept to deliver them reliably."),
        basis="contract", retention="outbox_90d", subject=("user_id",), erasure="delete",
        matched_by={"to_addr": "address"},  # the invitation, sent before the account existed
        columns={
            "id": ID, "user_id": tech("you"), "kind": Col("the kind of e-mail"), "to_addr": Col("your address"),
            "subject": Col("subject line"), "body_text": Col("the message"), "headers": Col("mail headers", internal=True),
            "status": Col("delivery status"), "attempts": Col("delivery attempts", internal=True),
            "next_attempt_at": Col("next delivery attempt", internal=True), "last_error": Col("last delivery problem", internal=True),
            "sent_at": Col("when it was sent"), "created_at": CREATED,
        },
    ),
    Source(
        "privacy_settings", _l("Your processing choices"), "consents",
        purpose=_l("Your choices to restrict or object to processing and to opt out of sale or sharing."),
        basis="legal_obligation", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={
            "user_id": tech("you"),
            "restrict_processing": Col("restriction of processing"),
            "object_analytics": Col("objection to analytics"),
            "object_leaderboard": Col("objection to leaderboards"),
            "leaderboard_opt_in": Col("whether you chose to appear on leaderboards (works-council mode)"),
            "object_recommendations": Col("objection to personalised recommendations"),
            "do_not_sell_share": Col("opt-out of sale or sharing"),
            "updated_at": Col("when you last changed them"),
        },
    ),
    Source(
        "privacy_request", _l("Your privacy requests"), "privacy_requests",
        purpose=_l("Recording and answering the rights you exercise, within the legal deadlines."),
        basis="legal_obligation", retention="request_3y", subject=("user_id",), erasure="pseudonymise",
        columns={
            "id": ID, "org_id": tech("your company"),
            "user_id": Col("you", erase="anonymise"),
            "subject_ref": Col("keyed hash replacing you after erasure", erase="keep", reason="pseudonym only", internal=True),
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
            "last_error": Col("what stopped a deletion", erase="anonymise", internal=True),
        },
    ),
    Source(
        "data_export", _l("Your data exports"), "privacy_requests",
        purpose=_l("The copies of your data you asked for, and when they expire."),
        basis="legal_obligation", retention="export_7d", subject=("user_id",), erasure="delete",
        columns={
            "id": ID, "user_id": tech("you"), "request_id": tech("the request"),
            "status": Col("progress"), "progress": Col("percent done"), "file_name": Col("the file", internal=True),
            "size_bytes": Col("its size"), "sha256": Col("its checksum", internal=True), "ready_at": Col("when it was ready"),
            "expires_at": Col("when the download stops working"), "downloaded_at": Col("when you downloaded it"),
            "created_at": CREATED,
        },
    ),
    Source(
        "enrollment", _l("Your courses"), "usage",
        purpose=_l("Which courses you started, where to resume, and when you completed them; shown to you and in your company's progress reports."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "user_id": tech("you"), "course_id": tech("the course"),
                 "last_lesson_id": Col("the lesson you were last on (to resume)", internal=True),
                 "last_seen_at": Col("when you last opened the course"),
                 "completed_at": Col("when you completed the course"), "created_at": Col("when you started the course")},
    ),
    Source(
        "lesson_completion", _l("Lessons you completed"), "usage",
        purpose=_l("Your progress through each course; shown to you and in your company's progress reports."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "user_id": tech("you"), "lesson_id": tech("the lesson"), "course_id": tech("the course"),
                 "completed_at": Col("when you completed the lesson")},
    ),
    Source(
        "practice_answer", _l("Your practice answers"), "usage",
        purpose=_l("The prompts you write in practice lessons, kept so you can revisit and improve them. Only you see them."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "user_id": tech("you"), "lesson_id": tech("the practice lesson"),
                 "answer": Col("what you wrote"), "created_at": Col("when you first saved it"),
                 "updated_at": Col("when you last changed it")},
    ),
    Source(
        "activity_day", _l("Your daily learning activity"), "usage",
        purpose=_l("Time spent learning and lessons completed per day, for your streak and your own activity chart."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "user_id": tech("you"), "day": Col("the day (UTC)"),
                 "seconds": Col("time spent learning that day (estimated from page views and visible-page heartbeats)"),
                 "lessons_completed": Col("lessons completed that day"),
                 "last_ping_at": Col("the last sign of activity that day (ends a visit after 5 minutes)")},
    ),
    Source(
        "search_query", _l("Your searches"), "usage",
        purpose=_l("What people search for, to improve the curriculum. Stored only with analytics consent, and never "
                "when you object to analytics or restrict processing."),
        basis="consent", retention="search_90d", subject=("user_id",), erasure="delete",
        columns={"id": ID, "user_id": tech("you"), "query": Col("the words you searched for"),
                 "results": Col("how many results were found"), "created_at": Col("when you searched")},
    ),
    # --- tables without personal data -------------------------------------------------------------
    Source(
        "organization", "Companies", None, purpose="The customer companies.", basis=None,
        retention="company_lifetime", erasure="none",
        why_not_personal="Company facts (name, settings); people are linked from their own rows.",
        columns={c: tech("company record") for c in (
            "id", "name", "status", "closed_at", "require_2fa", "leaderboard_enabled", "created_at",
            "twofa_decided_at", "onboarding_dismissed_at", "literacy_team_figures_only", "works_council_mode",
            "works_council_changed_at")},
    ),
    Source(
        "team", "Teams", None, purpose="A company's teams.", basis=None, retention="company_lifetime",
        erasure="none", why_not_personal="Team names chosen by the company; members are in team_membership.",
        columns={c: tech("team record") for c in ("id", "org_id", "name", "external_id", "created_at")},
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
        "course", "Courses", None, purpose="The curriculum: platform courses and companies' private courses.", basis=None,
        retention="company_lifetime", erasure="none",
        why_not_personal="Course content written by LeadThe.AI or a company's authors; no learner data.",
        columns={c: tech("course content") for c in (
            "id", "org_id", "slug", "title", "summary", "description_md", "description_html", "topic", "level", "audience",
            "position", "minutes", "lesson_count", "published", "search_text", "updated_at", "created_at",
            "certificate_months", "objectives")},
    ),
    Source(
        "course_module", "Course modules", None, purpose="The curriculum's modules.", basis=None,
        retention="company_lifetime", erasure="none", why_not_personal="Course content; no learner data.",
        columns={c: tech("course content") for c in (
            "id", "course_id", "slug", "title", "body_md", "body_html", "position", "archived")},
    ),
    Source(
        "lesson", "Lessons", None, purpose="The curriculum's lessons.", basis=None,
        retention="company_lifetime", erasure="none", why_not_personal="Course content; no learner data.",
        columns={c: tech("course content") for c in (
            "id", "course_id", "module_id", "slug", "title", "kind", "minutes", "body_md", "body_html", "prompt",
            "video_url", "transcript_md", "transcript_html", "position", "seq", "archived", "search_text", "updated_at",
            "exercise")},
    ),
    Source(
        "content_translation", "Course translations", None, purpose="The curriculum in other languages.", basis=None,
        retention="company_lifetime", erasure="none", why_not_personal="Course content; no learner data.",
        columns={c: tech("course content") for c in (
            "id", "course_id", "entity", "entity_id", "lang", "fields", "updated_at")},
    ),
    Source(
        "alembic_version", "Schema version", None, purpose="Database migrations.", basis=None,
        retention="company_lifetime", erasure="none", why_not_personal="A revision number.",
        columns={"version_num": tech("schema revision")},
    ),
]

# --- consent, analytics, preferences and policies (cookie consent issue) -----------------------------
RETENTION_RULES.update({
    "analytics_13m": _l("13 months, then deleted; analytics are only recorded with your consent."),
    "consent_13m": _l("An anonymous visitor's decisions: 13 months. An account's decisions: while the account exists."),
})

SOURCES += [
    Source(
        "consent_record", _l("Your cookie decisions"), "consents",
        purpose=_l("Proof of what you agreed to about cookies, when, under which policy, and how."),
        basis="legal_obligation", retention="consent_13m", subject=("user_id",), erasure="delete",
        columns={
            "id": ID, "user_id": tech("you (linked after you sign in)"),
            "consent_id": Col("the anonymous id from the consent cookie", internal=True),
            "analytics": Col("whether you allowed analytics"), "preferences": Col("whether you allowed preference cookies"),
            "policy_version": Col("the privacy policy version in force"), "cookie_revision": Col("the cookie list you saw", internal=True),
            "method": Col("how you decided (banner, settings page)"), "signal": Col("a browser privacy signal sent with it"),
            "created_at": Col("when you decided"),
        },
    ),
    Source(
        "page_view", _l("Pages you visited (analytics)"), "usage",
        purpose=_l("Usage analytics to improve the platform and, for your company, adoption figures; only with your consent."),
        basis="consent", retention="analytics_13m", subject=("user_id",), erasure="delete",
        columns={
            "id": ID, "org_id": tech("your company"), "user_id": tech("you"),
            "created_at": Col("when"), "visitor_id": Col("the analytics cookie's random id", internal=True),
            "feature": Col("which part of the platform"), "route": Col("which page (without ids)"),
            "referrer": Col("where you came from (a page of ours, or another site's name)"),
            "browser": Col("browser family"), "os": Col("operating system family"), "device": Col("device type"),
            "country": Col("country, from the IP address"), "ip_prefix": Col("IP address with the last part removed"),
        },
    ),
    Source(
        "user_preference", _l("Your preferences"), "account",
        purpose=_l("Your theme, density, low-data mode and e-mail choices."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={
            "user_id": tech("you"), "theme": Col("theme"), "density": Col("density"), "low_data": Col("low-data mode"),
            "email_progress": Col("progress e-mails on or off"), "email_product": Col("product e-mails on or off"),
            "email_digest": Col("managers: the weekly team digest on or off"),
            "email_required": Col("reminders of training your company requires on or off"),
            "updated_at": Col("when you changed them"),
        },
    ),
    Source(
        "policy_acknowledgement", _l("Policy changes you acknowledged"), "consents",
        purpose=_l("Showing each important policy change until you have read it, and proof that you did."),
        basis="legal_obligation", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "user_id": tech("you"), "document_id": tech("the policy version"),
                 "acknowledged_at": Col("when you acknowledged it")},
    ),
    Source(
        "policy_document", "Policy versions", None, purpose="The privacy policy, cookie policy and terms, with history.",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="Published documents; the publishing staff member is referenced by id only.",
        columns={c: tech("policy document") for c in (
            "id", "kind", "version", "title", "summary", "body_md", "body_html", "effective_at", "material",
            "categories_changed", "published_by_id", "created_at")},
    ),
    Source(
        "policy_translation", "Policy translations", None, purpose="A policy version in another language (English stays authoritative).",
        basis=None, retention="company_lifetime", erasure="none", why_not_personal="Published documents.",
        columns={c: tech("policy document") for c in (
            "id", "document_id", "locale", "title", "body_md", "body_html", "created_at")},
    ),
    Source(
        "policy_notice", "Policy change mailings", None, purpose="Progress of mailing a policy change.", basis=None,
        retention="company_lifetime", erasure="none", why_not_personal="A cursor (a record id) and counts.",
        columns={c: tech("mailing progress") for c in ("document_id", "last_user_id", "mailed", "finished_at")},
    ),
]


# --- support, feedback, notices, staff access (support issue) ------------------------------------------
RETENTION_RULES.update({
    "support_2y": _l("Two years after the ticket was last updated; with the account at the latest."),
    "grant_2y": _l("Two years, as a record of who looked at your data and why."),
})

SOURCES += [
    Source(
        "support_ticket", _l("Your support requests"), "communications",
        purpose=_l("Answering your questions."), basis="contract", retention="support_2y", subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "user_id": tech("you"), "subject": Col("the subject you wrote"),
                 "category": Col("the topic"), "status": Col("progress"), "assigned_to_id": tech("the staff member handling it"),
                 "created_at": CREATED, "updated_at": Col("last update")},
    ),
    Source(
        "support_message", _l("Your support messages"), "communications",
        purpose=_l("The conversation with our support team."), basis="contract", retention="support_2y",
        subject=("author_id",), erasure="delete",
        columns={"id": ID, "ticket_id": tech("the request"), "author_id": tech("who wrote it"),
                 "from_staff": Col("written by our support team"), "body": Col("the message"), "created_at": CREATED},
    ),
    Source(
        "feedback", _l("Your feedback and survey answers"), "communications",
        purpose=_l("Improving courses; your company sees totals only."), basis="consent", retention="account_lifetime",
        subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "user_id": tech("you"), "kind": Col("survey or general feedback"),
                 "course_id": tech("the course"), "rating": Col("your rating"), "comment": Col("your comment"), "created_at": CREATED},
    ),
    Source(
        "staff_access_grant", _l("Staff access to your data"), "device",
        purpose=_l("A record of every time LeadThe.AI staff opened your data, why, and for how long."),
        basis="legal_obligation", retention="grant_2y", subject=("user_id",), erasure="delete",
        columns={"id": ID, "staff_id": tech("the staff member"), "user_id": tech("you"), "reason": Col("the recorded reason"),
                 "reference": Col("the ticket or request reference"), "created_at": Col("when access started"),
                 "expires_at": Col("when it ended")},
    ),
    Source(
        "notice", "Notices", None, purpose="Messages from LeadThe.AI to every user.", basis=None, retention="company_lifetime",
        erasure="none", why_not_personal="Broadcast text; the author is referenced by id only.",
        columns={c: tech("notice") for c in ("id", "title", "body", "created_by_id", "last_user_id", "mailed", "finished_at", "created_at",
                                              "kind", "new_owner", "transfer_on", "contact")},  # the last four: issue 21, ownership
    ),
]


# --- assessments, maturity, certificates, assignments (assessments issue) --------------------------------
SOURCES += [
    Source(
        "quiz_attempt", _l("Your quiz attempts"), "usage",
        purpose=_l("Your quiz scores and whether you passed, for your course completion and certificates; "
                "shown to you and in your company's progress reports."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "user_id": tech("you"), "quiz_id": tech("the quiz"),
                 "number": Col("which of your attempts it was"),
                 "seed": Col("the order the questions were shown in", internal=True),
                 "score": Col("your score in percent"), "correct_count": Col("questions answered correctly"),
                 "question_count": Col("questions in the attempt"), "passed": Col("whether you passed"),
                 "created_at": Col("when you submitted it")},
    ),
    Source(
        "quiz_response", _l("Your quiz answers"), "usage",
        purpose=_l("Each answer you gave in a quiz, so you can see the feedback and explanations again."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "attempt_id": tech("your attempt"), "user_id": tech("you"), "question_id": tech("the question"),
                 "choice_ids": Col("the choices you picked", internal=True), "correct": Col("whether the answer was right")},
    ),
    Source(
        "certificate", _l("Your certificates"), "usage",
        purpose=_l("Proof that you completed a course; anyone with its code can check it on a public page "
                "showing your name, the course, the date and whether it is valid."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "user_id": tech("you"), "course_id": tech("the course"),
                 "code": Col("the verification code (printed on the certificate)"),
                 "issued_at": Col("when it was issued"), "expires_at": Col("when it needs renewing, if ever"),
                 "revoked_at": Col("when it was revoked"),
                 "reminder_sent_at": Col("when we reminded you to recertify")},
    ),
    Source(
        "assignment", _l("Courses assigned to you"), "usage",
        purpose=_l("Courses your manager or admin asked you to take, and by when; shown to you and to them."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "user_id": tech("you"), "course_id": tech("the course"),
                 "team_id": tech("the team it was assigned to, if any"),
                 "assigned_by_id": tech("who assigned it"), "due_on": Col("the due date"),
                 "created_at": Col("when it was assigned")},
    ),
    Source(
        "maturity_result", _l("Your AI maturity self-assessments"), "usage",
        purpose=_l("Your answers, dimension scores and level, shown to you with your progress over time; "
                "your company's admins and managers see levels in aggregate and per person."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "user_id": tech("you"),
                 "rubric_version": Col("which version of the questions and scoring was used"),
                 "answers": Col("your answers"), "scores": Col("your score per dimension"),
                 "evidence": Col("courses and quizzes completed at the time (may raise the level by one)"),
                 "self_level": Col("the level from your answers alone"), "level": Col("your level"),
                 "is_latest": Col("whether this is your current result"),
                 "created_at": Col("when you took it")},
    ),
    Source(
        "quiz", "Quizzes", None, purpose="The curriculum's final quizzes.", basis=None,
        retention="company_lifetime", erasure="none", why_not_personal="Course content; no learner data.",
        columns={c: tech("course content") for c in (
            "id", "course_id", "slug", "title", "pass_mark", "max_attempts", "shuffle", "scoring", "archived", "updated_at")},
    ),
    Source(
        "quiz_question", "Quiz questions", None, purpose="The quizzes' questions.", basis=None,
        retention="company_lifetime", erasure="none", why_not_personal="Course content; no learner data.",
        columns={c: tech("course content") for c in (
            "id", "quiz_id", "slug", "kind", "text", "explanation", "position", "archived")},
    ),
    Source(
        "quiz_choice", "Quiz choices", None, purpose="The questions' answer choices.", basis=None,
        retention="company_lifetime", erasure="none", why_not_personal="Course content; no learner data.",
        columns={c: tech("course content") for c in ("id", "question_id", "position", "text", "correct", "archived")},
    ),
    Source(
        "org_maturity", "Company AI maturity", None, purpose="The company admin's organisational questionnaire.",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="Answers about the company (strategy, data, governance...); the admin is referenced by id only.",
        columns={c: tech("company self-assessment") for c in ("id", "org_id", "answers", "level", "answered_by_id", "created_at")},
    ),
]


BY_TABLE = {source.table: source for source in SOURCES}


def personal_sources() -> list[Source]:
    return [s for s in SOURCES if s.subject]


def sensitive_columns() -> list[tuple[str, str]]:
    return [(s.table, name) for s in SOURCES for name, col in s.columns.items() if col.sensitive]


# --- teams, invitations, import, progress e-mails (teams and admin issue) ------------------------------
RETENTION_RULES.update({
    "invitation_30d": _l("Until accepted, revoked or expired, then 30 days; with the company at the latest."),
    "import_1d": _l("A checked import file waits at most one day for the admin's go-ahead, then it is deleted."),
})

SOURCES += [
    Source(
        "invitation", _l("Invitations you received"), "account",
        purpose=_l("Inviting you to your company's LeadThe.AI account, with the role and team your admin chose."),
        basis="contract", retention="invitation_30d", subject=("user_id",), erasure="delete",
        matched_by={"email": "address"},  # also earlier, revoked or other companies' invitations
        columns={
            "id": ID, "org_id": tech("your company"), "user_id": tech("the account the invitation created"),
            "email": Col("where the invitation was sent"), "name": Col("the name your admin entered"),
            "job_title": Col("the job title your admin entered"), "department": Col("the department your admin entered"),
            "role": Col("the role you were invited with"), "team_id": tech("the team you were invited to"),
            "invited_by_id": tech("the admin who invited you"), "nonce": Col("makes older links stop working", export=False,
                                                                             reason="a random value without meaning outside the link"),
            "status": Col("pending, accepted or revoked"), "sent_at": Col("when it was last sent"),
            "expires_at": Col("when the link stops working"), "accepted_at": Col("when you accepted"),
            "created_at": CREATED,
        },
    ),
    Source(
        "import_batch", _l("Import files you checked"), "account",
        purpose=_l("The rows of a checked CSV import waiting for the admin's go-ahead (people to invite)."),
        basis="contract", retention="import_1d", subject=("created_by_id",), erasure="delete",
        matched_by={"rows": "address_in"},  # an admin's unapplied import naming the person goes too
        columns={
            "id": ID, "org_id": tech("your company"), "created_by_id": tech("the admin who uploaded it"),
            "rows": Col("the addresses, names, job titles, departments, teams and roles in the file"),
            "expires_at": Col("when it is deleted"), "applied_at": Col("when the invitations were sent"),
            "created_at": CREATED,
        },
    ),
    Source(
        "progress_mail", _l("Progress e-mails sent to you"), "communications",
        purpose=_l("Remembering which progress e-mails you were sent, so you never get one twice."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "user_id": tech("you"), "kind": Col("which e-mail (enrolled, halfway, completed, reminder, digest)"),
                 "ref": Col("the course, day or week it was about"), "created_at": Col("when it was queued")},
    ),
    Source(
        "requirement", _l("Training required for your role"), "usage",
        purpose=_l("Which courses your company requires of you under its AI-literacy programme, because of which rule, "
                   "by when, and whether your completion is current; shown to you, your managers and your company's admins, "
                   "and counted in the evidence of AI-literacy measures your company keeps."),
        basis="legal_obligation", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "user_id": tech("you"), "course_id": tech("the course"),
                 "rule_id": tech("the rule that requires it"),
                 "assigned_at": Col("when the requirement started to apply to you"),
                 "due_on": Col("the date it is due (or due again)"),
                 "completed_at": Col("when you completed the course"),
                 "valid_until": Col("until when your completion counts (then it is due again)"),
                 "ended_at": Col("when the requirement stopped applying to you (you left its scope)"),
                 "reminded_due_at": Col("when we reminded you of the due date"),
                 "reminded_overdue_at": Col("when we told you it was overdue")},
    ),
    Source(
        "ai_policy_ack", _l("Your company's AI-use policy: acknowledgements"), "consents",
        purpose=_l("Asking you to read each important version of your company's AI-use policy, and proof that you did; "
                   "your company's admins see who acknowledged which version."),
        basis="legal_obligation", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "user_id": tech("you"), "version_id": tech("the policy version"),
                 "asked_at": Col("when you were asked to read it"), "mailed_at": Col("when we e-mailed you about it"),
                 "reminded_at": Col("when we reminded you"), "acknowledged_at": Col("when you acknowledged it")},
    ),
    Source(
        "ai_policy_version", "AI-use policy versions", None, purpose="A company's AI-use policy, with history.",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="Documents a company writes; the admins who wrote and published them are referenced by id only.",
        columns={c: tech("company policy") for c in (
            "id", "org_id", "version", "title", "summary", "body_md", "body_html", "change", "created_by_id",
            "published_by_id", "published_at", "updated_at", "created_at")},
    ),
    Source(
        "ai_tool", "AI tools in use", None, purpose="A company's inventory of the AI tools it uses, considers or forbids.",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="Facts about software; the person responsible is referenced by id only (cleared when they are erased).",
        columns={c: tech("AI tool inventory") for c in (
            "id", "org_id", "name", "vendor", "purpose", "team_ids", "departments", "risk_note", "personal_data_allowed",
            "confidential_data_allowed", "owner_id", "owner_note", "status", "added_on", "updated_at", "created_at")},
    ),
    Source(
        "requirement_rule", "Requirement rules", None, purpose="A company's rules mapping people to required courses.",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="Rules over departments, job titles, teams and roles; the admin who wrote one is referenced by id only.",
        columns={c: tech("requirement rule") for c in (
            "id", "org_id", "name", "course_id", "field", "operator", "value", "team_id", "due_days", "refresh_months",
            "active", "created_by_id", "updated_at", "created_at")},
    ),
    Source(
        "evidence_pack", "Evidence packs", None, purpose="AI-literacy evidence packs generated for a company's admins.",
        basis=None, retention="export_7d", erasure="none",
        why_not_personal="Bookkeeping of a generated file (deleted after 7 days); the requesting admin is referenced by id only "
                         "and the generation is in the audit log.",
        columns={c: tech("evidence pack") for c in (
            "id", "org_id", "requested_by_id", "status", "progress", "team_figures_only", "file_name", "size_bytes",
            "sha256", "error", "ready_at", "expires_at", "created_at")},
    ),
]
BY_TABLE.update({source.table: source for source in SOURCES[-9:]})


# --- the AI practice lab (issue 18) -----------------------------------------------------------------------
RETENTION_RULES.update({
    "lab_days": _l("As many days as your company chose for the practice lab (30 unless it changed it, at most 365); "
                   "with the account at the latest."),
    "usage_13m": _l("13 months, then deleted; with the account at the latest."),
})

SOURCES += [
    Source(
        "lab_run", _l("Your practice-lab prompts and answers"), "usage",
        purpose=_l("Your practice in the AI lab: the prompts you wrote, what your company's AI model answered, and the "
                   "feedback on your prompts. Sent to the model your company connected (named on the lab page and in "
                   "your privacy centre); your company's admins and managers never read them, they see counts and "
                   "scores only."),
        basis="contract", retention="lab_days", subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "user_id": tech("you"), "lesson_id": tech("the exercise"),
                 "kind": Col("an answer to your prompt, or the model's feedback on it"),
                 "parent_id": tech("the prompt the feedback is about"),
                 "prompt": Col("the prompt you sent"), "answer": Col("what the model answered"),
                 "status": Col("whether the answer is complete, failed or was cancelled"),
                 "error_code": Col("why an answer failed"), "model": Col("the model that answered"),
                 "tokens_in": Col("how long your prompt was, in tokens (for quotas)"),
                 "tokens_out": Col("how long the answer was, in tokens (for quotas)"),
                 "tokens_estimated": Col("whether the token counts are our estimate"),
                 "checks": Col("which rubric criteria your prompt met"), "score": Col("your prompt's score"),
                 "passed": Col("whether it passed the exercise"), "cancel_requested": Col("whether you cancelled it"),
                 "created_at": CREATED, "started_at": Col("when the model started"),
                 "heartbeat_at": tech("when the last part of the answer arrived"),
                 "finished_at": Col("when the answer was complete"), "claimed_until": tech("the worker's lease")},
    ),
    Source(
        "lab_usage", _l("Your practice-lab use per day"), "usage",
        purpose=_l("Counting your use of the practice lab per day (tokens, calls, exercises passed) for your daily "
                   "quota and your company's monthly figures by team; no text."),
        basis="contract", retention="usage_13m", subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "user_id": tech("you"), "day": Col("the day"),
                 "tokens": Col("tokens used that day"), "calls": Col("prompts sent that day"),
                 "exercises_passed": Col("exercises passed that day"), "best_score": Col("your best score that day")},
    ),
    Source(
        "lab_settings", "Practice-lab settings", None, purpose="A company's connection to its own AI model, guard mode, quotas.",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="Company configuration; the admin who changed it is referenced by id only (and in the audit log).",
        columns={**{c: tech("practice-lab settings") for c in (
            "id", "org_id", "provider", "base_url", "model", "provider_name", "key_set_at", "model_feedback", "guard_mode",
            "person_daily_tokens", "company_monthly_tokens", "retention_days", "failures", "paused_until",
            "test_requested_at", "tested_at", "test_ok", "test_message", "tool_id", "updated_by_id", "updated_at",
            "created_at")},
            "api_key": Col("the company's API key for its model", export=False, erase="keep", sensitive=True,
                           reason="a company secret, never shown again once saved")},
    ),
]
BY_TABLE.update({source.table: source for source in SOURCES[-3:]})

# Single sign-on and provisioning (issue 19, leadthe/models/sso.py)
SOURCES += [
    Source(
        "sso_identity", _l("Your single sign-on links"), "account",
        purpose=_l("Finding your account when you log in through your company's identity provider: its stable id for "
                   "you, never your e-mail address alone."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "user_id": tech("you"),
                 "protocol": Col("OpenID Connect or SAML"), "issuer": Col("your company's identity provider"),
                 "subject": Col("the identity provider's stable id for you"),
                 "email": Col("the e-mail address the identity provider last gave for you"),
                 "created_at": Col("when your account was linked"), "last_login_at": Col("your last log-in through it")},
    ),
    Source(
        "sso_login_attempt", _l("Single sign-on log-ins under way"), "device",
        purpose=_l("Checking that the identity provider's answer belongs to a log-in started here, and handing it to "
                   "your browser; kept minutes, deleted after a day at the latest."),
        basis="contract", retention="sso_1d", subject=("user_id",), erasure="delete",
        matched_by={"email": "address"},
        columns={"id": ID, "org_id": tech("your company"), "user_id": tech("you, once the log-in found your account"),
                 "protocol": Col("OpenID Connect or SAML"),
                 "request_id": tech("the request's id, which the identity provider's answer must name"),
                 "next_url": Col("the page to open after the log-in"), "created_at": CREATED,
                 "expires_at": tech("when the log-in attempt expires"),
                 "result": Col("what the identity provider said about you (id, e-mail address, name)"),
                 "email": Col("the e-mail address the identity provider gave for you"),
                 "result_token_hash": Col("a hash of the one-time token that hands the result to your browser",
                                          export=False, reason="a one-way hash of a secret that expired within minutes"),
                 "consumed_at": Col("when the log-in was completed")},
    ),
    Source(
        "sso_settings", "Single sign-on settings", None, purpose="A company's identity provider and log-in rules.",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="Company configuration; admins are referenced by id only (and in the audit log).",
        columns={**{c: tech("single sign-on settings") for c in (
            "id", "org_id", "public_key", "protocol", "oidc_issuer", "oidc_client_id", "oidc_secret_set_at", "oidc_metadata",
            "oidc_jwks", "oidc_fetched_at", "saml_metadata_url", "saml_idp_metadata", "saml_idp_entity_id", "saml_fetched_at",
            "saml_allow_idp_initiated", "jit_enabled", "sso_required", "break_glass_user_id", "updated_by_id", "updated_at",
            "created_at")},
            "oidc_client_secret": Col("the company's OpenID Connect client secret", export=False, erase="keep", sensitive=True,
                                      reason="a company secret, never shown again once saved")},
    ),
    Source(
        "sso_domain", "Claimed e-mail domains", None, purpose="A company's e-mail domains and their proof.",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="Domain names and their verification state; no address is stored.",
        columns={c: tech("domain verification") for c in (
            "id", "org_id", "domain", "token", "verified_domain", "verified_at", "method", "checked_at", "check_message",
            "mail_sent_at", "created_by_id", "created_at")},
    ),
    Source(
        "sso_replay", "SAML assertions already used", None, purpose="Refusing an identity provider's answer used twice.",
        basis=None, retention="sso_1d", erasure="none",
        why_not_personal="Random assertion ids and when they expire; nothing about the person.",
        columns={c: tech("replay protection") for c in ("id", "org_id", "assertion_id", "expires_at")},
    ),
    Source(
        "scim_token", "SCIM tokens", None, purpose="A company's identity provider provisioning people.",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="A hash of a company secret; the admin who made it is referenced by id only.",
        columns={c: tech("SCIM token") for c in (
            "id", "org_id", "token_hash", "hint", "created_by_id", "last_used_at", "revoked_at", "created_at")},
    ),
]
BY_TABLE.update({source.table: source for source in SOURCES[-6:]})

# Subscriptions and billing (issue 20, leadthe/models/billing.py)
BILLING_CONTACT = "Billing contact"  # what an erased person's name becomes on the invoices addressed to them
_INVOICE_KEPT = "part of an invoice, which tax law requires us to keep unchanged for ten years"


def _invoice_col(purpose: str) -> Col:
    return Col(purpose, erase="keep", reason=_INVOICE_KEPT)


SOURCES += [
    Source(
        "billing_member", _l("Your access to your company's billing"), "account",
        purpose=_l("Letting you see your company's invoices without seeing people's data and, as a billing contact, "
                   "mailing you invoices and payment reminders."),
        basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "user_id": tech("you"),
                 "receives_mail": Col("whether you receive invoices and payment reminders"),
                 "added_by_id": tech("the admin who gave you access"), "created_at": Col("since when you have access")},
    ),
    Source(
        "invoice", _l("Invoices addressed to you"), "communications",
        purpose=_l("Your company's invoices, which name you as the person they are addressed to."),
        basis="legal_obligation", retention="invoice_10y", subject=("contact_user_id",), erasure="pseudonymise",
        matched_by={"contact_email": "address"},
        columns={**{c: _invoice_col("the invoice") for c in (
            "number", "year", "seq", "status", "provider", "provider_invoice_id", "issued_at", "due_at", "paid_at",
            "period_start", "period_end", "currency", "net_cents", "tax_cents", "total_cents", "tax_rate_bp",
            "reverse_charge", "tax_note", "seller", "buyer", "lines", "created_at")},
            "id": ID, "org_id": tech("your company"),
            "contact_user_id": Col("you, as the person it is addressed to", erase="anonymise", internal=True),
            "contact_name": Col("your name, as the person it is addressed to", erase="anonymise",
                                replace_with=BILLING_CONTACT),
            "contact_email": Col("your e-mail address, as the person it is addressed to", erase="anonymise"),
            "subject_ref": Col("keyed hash replacing the person after erasure", erase="keep", reason="pseudonym only",
                               internal=True)},
    ),
    Source(
        "invoice_recipient", _l("Invoices mailed to you"), "communications",
        purpose=_l("Which of your company's invoices were mailed to you as a billing contact, and when."),
        basis="legal_obligation", retention="invoice_10y", subject=("user_id",), erasure="pseudonymise",
        matched_by={"email": "address"},
        columns={"id": ID, "org_id": tech("your company"), "invoice_id": tech("the invoice"),
                 "user_id": Col("you", erase="anonymise", internal=True),
                 "name": Col("your name when it was mailed", erase="anonymise", replace_with=BILLING_CONTACT),
                 "email": Col("the address it was mailed to", erase="anonymise"),
                 "sent_at": Col("when it was mailed", erase="keep", reason=_INVOICE_KEPT),
                 "subject_ref": Col("keyed hash replacing the person after erasure", erase="keep", reason="pseudonym only",
                                    internal=True)},
    ),
    Source(
        "billing_request", _l("Your billing requests"), "usage",
        purpose=_l("Carrying out what you asked for on the billing page (subscribe, seats, payment details, "
                   "cancel) with the payment processor."),
        basis="contract", retention="billing_30d", subject=("user_id",), erasure="delete",
        columns={"id": ID, "org_id": tech("your company"), "user_id": tech("you"), "kind": Col("what you asked for"),
                 "params": Col("the plan, billing interval and seats you chose"), "status": Col("whether it is done"),
                 "url": Col("the payment processor's page it opened", export=False,
                            reason="a short-lived link to the processor's page, useless once used"),
                 "error": Col("why it failed"), "created_at": CREATED, "finished_at": Col("when it was done")},
    ),
    Source(
        "billing_account", "Billing accounts", None, purpose="A company's subscription, seats and billing details.",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="The company's subscription and its billing address and VAT ID; admins are referenced by id only.",
        columns={c: tech("billing account") for c in (
            "id", "org_id", "provider", "status", "plan_version_id", "interval", "seats", "trial_ends_at",
            "current_period_start", "current_period_end", "cancel_at_period_end", "past_due_since", "cancelled_at",
            "credit_cents", "stripe_customer_id", "stripe_subscription_id", "synced_at", "legal_name", "address_line1",
            "address_line2", "postcode", "city", "country", "vat_id", "vat_id_valid", "purchase_order", "updated_by_id",
            "updated_at", "created_at")},
    ),
    Source(
        "plan", "Plans", None, purpose="What companies can subscribe to.", basis=None, retention="company_lifetime",
        erasure="none", why_not_personal="Product data.",
        columns={c: tech("plan") for c in ("id", "code", "name", "description", "active", "position", "created_at")},
    ),
    Source(
        "plan_version", "Plan prices", None, purpose="A plan's prices from a date on.", basis=None,
        retention="company_lifetime", erasure="none",
        why_not_personal="Prices; the staff member who set them is referenced by id only (and in the audit log).",
        columns={c: tech("plan prices") for c in (
            "id", "plan_id", "version", "currency", "month_cents", "year_cents", "stripe_price_month", "stripe_price_year",
            "note", "created_by_id", "created_at")},
    ),
    Source(
        "invoice_counter", "Invoice numbers", None, purpose="The last invoice number used per year.", basis=None,
        retention="invoice_10y", erasure="none", why_not_personal="Counters.",
        columns={c: tech("invoice numbering") for c in ("year", "last")},
    ),
    Source(
        "billing_event", "Payment processor events", None, purpose="Handling each processor event once.", basis=None,
        retention="billing_30d", erasure="none",
        why_not_personal="Event ids, types and the processor's object ids; no payload is stored.",
        columns={c: tech("event ledger") for c in (
            "id", "provider", "event_id", "type", "object_id", "created", "received_at", "status", "attempts", "error",
            "processed_at")},
    ),
    Source(
        "billing_adjustment", "Billing adjustments", None, purpose="Trial extensions and credits granted by staff.",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="Company billing records; the staff member is referenced by id only (and in the audit log).",
        columns={c: tech("billing adjustment") for c in (
            "id", "org_id", "kind", "days", "amount_cents", "reason", "staff_id", "applied_invoice_id", "created_at")},
    ),
    Source(
        "billing_notice", "Billing notices (dunning, trial mails)", None, purpose="Sending each dunning or trial mail once.", basis=None,
        retention="company_lifetime", erasure="none",
        why_not_personal="Which kind of mail a company was sent and when; the mails themselves are in the outbox.",
        columns={c: tech("billing notices") for c in ("id", "org_id", "kind", "key", "sent_at")},
    ),
]
BY_TABLE.update({source.table: source for source in SOURCES[-11:]})

# The tamper-evident audit log (issue 21, leadthe/audit_chain.py)
SOURCES += [
    Source(
        "audit_chain_head", "Audit chain heads", None, purpose="The last sealed event of each audit-log chain.",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="A sequence number and hashes per company; nothing about a person.",
        columns={c: tech("audit chain head") for c in (
            "chain", "org_id", "seq", "hash", "event_id", "event_created_at", "sealed_at")},
    ),
]
BY_TABLE.update({source.table: source for source in SOURCES[-1:]})

# --- who looked at my data (issue 21, access log) ---------------------------------------------------------
RETENTION_RULES.update({
    "access_1y": _l("One year after the view; with your account at the latest."),
})

SOURCES += [
    Source(
        "access_log_entry", _l("Who looked at your data"), "device",
        purpose=_l("A record of every time someone else (your manager, an admin, LeadThe.AI support with your "
                   "permission, a generated evidence pack) looked at your individual data, shown to you."),
        basis="legal_obligation", retention="access_1y", subject=("subject_id",), erasure="delete",
        columns={
            "id": ID, "org_id": tech("your company"), "subject_id": tech("you"),
            # the viewer's entries in other people's logs stay when the viewer is erased: the foreign key is set
            # NULL with their account, and the entry keeps only the role
            "viewer_id": Col("who looked (their name is shown while their account exists)", erase="keep",
                             internal=True, reason="the viewer's id; set empty when the viewer's account is erased"),
            "viewer_role": Col("the viewer's role (kept when the viewer's account is erased)"),
            "what": Col("what they looked at"), "ref": Col("the page or document", internal=True),
            "created_at": Col("when they looked"),
        },
    ),
]
BY_TABLE.update({source.table: source for source in SOURCES[-1:]})

# --- issue 21: legal holds (hold helper's block) -------------------------------------------------------------------
SOURCES.append(Source(
    "legal_hold", "Legal holds", None,
    purpose="Keeping a person's or a company's data while a legal claim, an investigation or an authority's "
            "order requires it: erasure and retention skip the held data until the hold is released or ends.",
    basis=None, retention="account_lifetime", erasure="none",
    why_not_personal=("A record about the person (by id only), kept by us under Art. 17(3)(e) and 23 GDPR: while a "
                      "hold is active the person is told only what the law allows, so it is not in their export nor in "
                      "their privacy centre; their deletion request is recorded and carried out when the hold ends. "
                      "The person's and the company's ids become empty when they are erased after the hold; the "
                      "placing, changing and releasing of the hold stay in the audit log."),
    columns={c: tech("legal hold") for c in (
        "id", "org_id", "user_id", "reason", "reference", "starts_at", "ends_at", "created_by_id", "released_at",
        "released_by_id", "release_reason", "created_at")},
))
BY_TABLE["legal_hold"] = SOURCES[-1]

# --- issue 21: the data processing agreement (dpa helper's block) ------------------------------------------------
DPA_SIGNATORY = "Company admin"  # what an erased admin's name becomes on the DPA acceptances they made
_DPA_KEPT = "part of the company's contract record (the accepted data processing agreement), kept while the company is a customer"

SOURCES += [
    Source(
        "dpa_acceptance", _l("Data processing agreements you accepted for your company"), "account",
        purpose=_l("Proof that your company accepted a version of the data processing agreement, and who accepted it "
                   "on its behalf, as the law requires the agreement to be in writing (Art. 28(9) GDPR)."),
        basis="legal_obligation", retention="company_lifetime", subject=("accepted_by_id",), erasure="pseudonymise",
        matched_by={"accepted_by_email": "address"},
        columns={
            "id": ID, "org_id": tech("your company"), "version_id": tech("the version accepted"),
            "accepted_at": Col("when it was accepted", erase="keep", reason=_DPA_KEPT),
            "via": Col("where it was accepted (sign-up or the admin pages)", erase="keep", reason=_DPA_KEPT),
            "legal_name": Col("your company's legal name as entered", erase="keep", reason=_DPA_KEPT),
            "address": Col("your company's address as entered", erase="keep", reason=_DPA_KEPT),
            "accepted_by_id": Col("you, as the admin who accepted it", erase="anonymise", internal=True),
            "accepted_by_name": Col("your name when you accepted it", erase="anonymise", replace_with=DPA_SIGNATORY),
            "accepted_by_email": Col("your e-mail address when you accepted it", erase="anonymise"),
            "accepted_by_role": Col("your role when you accepted it (kept in place of your name after erasure)",
                                    erase="keep", reason=_DPA_KEPT),
            "subject_ref": Col("keyed hash replacing the person after erasure", erase="keep", reason="pseudonym only",
                               internal=True),
        },
    ),
    Source(
        "dpa_version", "Data processing agreement versions", None,
        purpose="The data processing agreement's published versions (English authoritative, German translation).",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="Published documents; the publishing staff member is referenced by id only.",
        columns={c: tech("data processing agreement version") for c in (
            "id", "version", "summary", "body_en", "body_de", "published_at", "published_by_id", "created_at")},
    ),
]
BY_TABLE.update({source.table: source for source in SOURCES[-2:]})
# --- issue 21: works-council mode changes (wcsettings helper's block) -------------------------------------------
SOURCES.append(Source(
    "works_council_notice", "Works-council mode changes", None,
    purpose="Telling everyone in a company that an admin turned works-council mode on or off (a banner for some "
            "days and one mail each), with the reason recorded for turning it off.",
    basis=None, retention="company_lifetime", erasure="none",
    why_not_personal=("A company's decision about its own settings; the admin who made it is named by role only and "
                      "referenced by id (set empty when their account is erased); the same change is in the audit log."),
    columns={c: tech("works-council mode change") for c in (
        "id", "org_id", "turned_on", "reason", "actor_id", "actor_role", "created_at", "expires_at", "last_user_id",
        "mailed", "finished_at")},
))
BY_TABLE["works_council_notice"] = SOURCES[-1]
# --- issue 21: versioned sub-processors and objections (subproc helper's block) -------------------------------------
SOURCES += [
    Source(
        "subprocessor_version", "Sub-processor list versions", None,
        purpose="The published versions of our list of sub-processors, with the date each takes effect.",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="A published list; the publishing staff member is referenced by id only (and in the audit log).",
        columns={c: tech("sub-processor list") for c in (
            "id", "version", "effective_at", "summary", "published_by_id", "created_at")},
    ),
    Source(
        "subprocessor_entry", "Sub-processors", None, purpose="The sub-processors of each version of the list.",
        basis=None, retention="company_lifetime", erasure="none",
        why_not_personal="Companies that process data on our behalf: their names, purposes and locations.",
        columns={c: tech("sub-processor") for c in (
            "id", "version_id", "position", "key", "name", "purpose", "data", "location", "in_eea", "safeguard", "since",
            "tables")},
    ),
    Source(
        "subprocessor_notice", "Sub-processor change mailings", None,
        purpose="Progress of mailing a sub-processor change to the companies' admins.", basis=None,
        retention="company_lifetime", erasure="none", why_not_personal="A cursor (a record id) and counts.",
        columns={c: tech("mailing progress") for c in ("version_id", "last_user_id", "mailed", "finished_at")},
    ),
    Source(
        "subprocessor_objection", _l("Objections to sub-processor changes you made"), "communications",
        purpose=_l("Recording your company's objection to a change of our sub-processors, which you made as its admin, "
                   "and our answer to it."),
        basis="contract", retention="company_lifetime", subject=("objected_by_id",), erasure="pseudonymise",
        columns={
            "id": ID, "org_id": tech("your company"), "version_id": tech("the version of the list objected to"),
            "objected_by_id": Col("you, as the admin who objected", erase="anonymise", internal=True),
            "reason": Col("the reason you gave", erase="keep",
                          reason="your company's objection under its agreement with us; it stays with the company, "
                                 "no longer linked to you"),
            "subject_ref": Col("keyed hash replacing the person after erasure", erase="keep", reason="pseudonym only",
                               internal=True),
            # the company's record of the objection: kept with the company when the admin is erased
            "answered_at": Col("when we answered", erase="keep", reason="part of the company's objection"),
            "answered_by_id": tech("the staff member who answered"),
            "answer": Col("our answer", erase="keep", reason="our answer to the company, not about you"),
            "created_at": Col("when you objected", erase="keep", reason="part of the company's objection"),
        },
    ),
]
BY_TABLE.update({source.table: source for source in SOURCES[-4:]})
# --- issue 21: change-of-ownership notice (ownership helper's block) -------------------------------------------------
SOURCES.append(Source(
    "notice_dismissal", _l("Notices you closed"), "communications",
    purpose=_l("Showing a notice about a change of ownership of LeadThe.AI on every page until you close it."),
    basis="contract", retention="account_lifetime", subject=("user_id",), erasure="delete",
    columns={"id": ID, "notice_id": tech("the notice"), "user_id": tech("you"),
             "dismissed_at": Col("when you closed the notice")},
))
BY_TABLE["notice_dismissal"] = SOURCES[-1]
# --- issue 22: changes made offline and sent later (server helper's block) -------------------------------------------
RETENTION_RULES["sync_30d"] = _l("30 days after the change reached us.")
SOURCES.append(Source(
    "sync_receipt", _l("Changes you made offline"), "usage",
    purpose=_l("Counting each change you made in a lesson saved for offline use (a finished lesson, an answer, time "
               "spent learning) exactly once when your browser sends it later, even if it sends it twice."),
    basis="contract", retention="sync_30d", subject=("user_id",), erasure="delete",
    columns={"id": ID, "user_id": tech("you"),
             "client_id": Col("the id your browser gave the change", internal=True),
             "kind": Col("what kind of change (a finished lesson, an answer, time spent learning)"),
             "happened_at": Col("when it happened on your device"),
             "received_at": Col("when it reached us (starts the 30 days)")},
))
BY_TABLE["sync_receipt"] = SOURCES[-1]

# --- issue 23: signs of attack (alerts helper's block; leadthe/alerts) ----------------------------------------------
_SECURITY_KEPT = "a security record: what an attack looked like, kept for the investigation"
SOURCES += [
    Source(
        "security_alert", _l("Security alerts about your account"), "device",
        purpose=_l("Platform staff are alerted to signs of attack (many failed log-ins from one network, many "
                   "requests for other companies' records from one account, a SCIM token used from a new network) "
                   "so they can protect the accounts concerned."),
        basis="legitimate_interests", retention="security_1y", subject=("actor_id",), erasure="pseudonymise",
        columns={
            "id": ID, "kind": Col("what kind of sign of attack", erase="keep", reason=_SECURITY_KEPT),
            "org_id": tech("the company concerned"),
            "network": Col("the network (IPv4 /24 or IPv6 /64) the requests came from", erase="anonymise"),
            "actor_id": Col("the account whose requests raised it", erase="anonymise", internal=True),
            "actor_ref": Col("keyed hash replacing the person after erasure", erase="keep", reason="pseudonym only",
                             internal=True),
            "first_seen": Col("when the first event was seen", erase="keep", reason=_SECURITY_KEPT),
            "last_seen": Col("when the latest event was seen", erase="keep", reason=_SECURITY_KEPT),
            "count": Col("how many events", erase="keep", reason=_SECURITY_KEPT),
            "status": Col("whether staff have dealt with it", erase="keep", reason=_SECURITY_KEPT),
            "acknowledged_by_id": tech("the staff member who acknowledged it"),
            "acknowledged_at": Col("when staff acknowledged it", erase="keep", reason=_SECURITY_KEPT),
            "closed_by_id": tech("the staff member who closed it"),
            "closed_at": Col("when staff closed it", erase="keep", reason=_SECURITY_KEPT),
            "details": Col("the audit events behind it (their ids) and counts", erase="keep", reason=_SECURITY_KEPT,
                           internal=True),
        },
    ),
    Source(
        "security_signal", _l("Failed log-ins counted per network"), None,
        purpose="Counting failed log-ins per network for a few minutes, to see many accounts being tried from one network.",
        basis=None, retention="security_1y", erasure="none",
        why_not_personal=("Not exported or erased per person: kept one day only, for the detector that looks back ten "
                          "minutes, it holds a network (personal data, like the IP address it comes from) and the account "
                          "tried as an id or the keyed fingerprint of an address. The failed log-in itself is in the "
                          "audit log, where export and erasure cover it."),
        columns={c: tech("failed log-in counter") for c in (
            "id", "kind", "network", "account_key", "audit_event_id", "created_at")},
    ),
    Source(
        "credential_network", _l("Networks a SCIM token was used from"), None,
        purpose="Alerting staff when a company's SCIM token is used from a network not seen for it before.",
        basis=None, retention="security_1y", erasure="none",
        why_not_personal=("The networks a company's identity provider (a service, not a person) calls from, tied to the "
                          "company's token and deleted with the company or a year after the last use."),
        columns={c: tech("SCIM token network") for c in (
            "id", "org_id", "kind", "credential_id", "network", "first_seen", "last_seen")},
    ),
]
BY_TABLE.update({source.table: source for source in SOURCES[-3:]})
