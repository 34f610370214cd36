"""The privacy centre's reads and writes: what we hold, who sees it, choices, and requests."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import force_locale, ngettext
from flask_babel import lazy_gettext as _l

from leadthe import audit
from leadthe.extensions import db
from leadthe.mail import queue_mail
from leadthe.net import absolute_url
from leadthe.models import PrivacyRequest, PrivacySettings, Team, TeamMembership, User, utcnow
from leadthe.models.enums import Role, UserStatus
from leadthe.models.privacy import DUE_DAYS, REQUEST_KINDS
from leadthe.privacy import labels
from leadthe.privacy.registry import CATEGORIES, LEGAL_BASES, RETENTION_RULES, personal_sources
from leadthe.trust import works_council

CHOICES = ("restrict_processing", "object_analytics", "object_leaderboard", "object_recommendations", "do_not_sell_share")
# Choices that are off until the person turns them on; offered only where they apply (works-council mode's leaderboard)
OPT_INS = ("leaderboard_opt_in",)


def pseudonym(user_id: int) -> str:
    """A keyed hash that stands for a person in records kept after their erasure."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"leadthe-person:{user_id}".encode(), hashlib.sha256).hexdigest()


def _table(name: str) -> sa.Table:
    return db.metadata.tables[name]


def subject_clause(source, user_id: int):
    table = _table(source.table)
    return sa.or_(*[table.c[col] == user_id for col in source.subject])


@dataclass
class HeldSource:
    table: str
    label: str
    rows: int
    purpose: str
    basis: str
    retention: str


def row_counts(user: User) -> dict[str, int]:
    """The person's rows per declared source, in one query (a UNION ALL of one COUNT per source)."""
    counts = {source.table: 0 for source in personal_sources()}
    parts = [
        sa.select(sa.literal(source.table).label("t"), sa.func.count().label("n"))
        .select_from(_table(source.table))
        .where(subject_clause(source, user.id))
        for source in personal_sources()
    ]
    for table, n in db.session.execute(sa.union_all(*parts)):
        counts[table] = n
    return counts


def what_we_hold(user: User) -> dict[str, list[HeldSource]]:
    """Live row counts per category and source, from one aggregate query."""
    counts = row_counts(user)
    held: dict[str, list[HeldSource]] = {key: [] for key in CATEGORIES}
    for source in personal_sources():
        held[source.category].append(HeldSource(
            source.table, source.label, counts.get(source.table, 0), source.purpose,
            LEGAL_BASES[source.basis], RETENTION_RULES[source.retention],
        ))
    return held


# How a count of a source's rows reads in the summary ("12 lessons completed"); other sources read
# "Your teams: 2".
COUNT_WORDS = {
    "user_account": lambda n: _("your profile and log-in"),
    "user_preference": lambda n: _("your display and e-mail preferences"),
    "team_membership": lambda n: ngettext("%(num)s team", "%(num)s teams", n),
    "recovery_code": lambda n: ngettext("%(num)s recovery code", "%(num)s recovery codes", n),
    "invitation": lambda n: ngettext("%(num)s invitation", "%(num)s invitations", n),
    "import_batch": lambda n: ngettext("%(num)s import file you checked", "%(num)s import files you checked", n),
    "privacy_settings": lambda n: _("your processing choices"),
    "policy_acknowledgement": lambda n: ngettext("%(num)s policy change acknowledged", "%(num)s policy changes acknowledged", n),
    "search_query": lambda n: ngettext("%(num)s search", "%(num)s searches", n),
    "quiz_response": lambda n: ngettext("%(num)s quiz answer", "%(num)s quiz answers", n),
    "assignment": lambda n: ngettext("%(num)s course assigned to you", "%(num)s courses assigned to you", n),
    "support_message": lambda n: ngettext("%(num)s support message", "%(num)s support messages", n),
    "progress_mail": lambda n: ngettext("%(num)s progress e-mail", "%(num)s progress e-mails", n),
    "sync_receipt": lambda n: ngettext("%(num)s change made offline", "%(num)s changes made offline", n),
    "security_alert": lambda n: ngettext("%(num)s security alert about your account",
                                         "%(num)s security alerts about your account", n),
    "staff_access_grant": lambda n: ngettext("%(num)s time LeadThe.AI staff opened your data",
                                             "%(num)s times LeadThe.AI staff opened your data", n),
    "enrollment": lambda n: ngettext("%(num)s course started", "%(num)s courses started", n),
    "lesson_completion": lambda n: ngettext("%(num)s lesson completed", "%(num)s lessons completed", n),
    "certificate": lambda n: ngettext("%(num)s certificate", "%(num)s certificates", n),
    "requirement": lambda n: ngettext("%(num)s course required for your role", "%(num)s courses required for your role", n),
    "quiz_attempt": lambda n: ngettext("%(num)s quiz attempt", "%(num)s quiz attempts", n),
    "practice_answer": lambda n: ngettext("%(num)s practice answer", "%(num)s practice answers", n),
    "maturity_result": lambda n: ngettext("%(num)s maturity self-assessment", "%(num)s maturity self-assessments", n),
    "activity_day": lambda n: ngettext("%(num)s day of learning activity", "%(num)s days of learning activity", n),
    "page_view": lambda n: ngettext("%(num)s page visit (analytics)", "%(num)s page visits (analytics)", n),
    "user_session": lambda n: ngettext("%(num)s sign-in session", "%(num)s sign-in sessions", n),
    "audit_event": lambda n: ngettext("%(num)s security event", "%(num)s security events", n),
    "outbox_mail": lambda n: ngettext("%(num)s e-mail we sent you", "%(num)s e-mails we sent you", n),
    "support_ticket": lambda n: ngettext("%(num)s support request", "%(num)s support requests", n),
    "feedback": lambda n: ngettext("%(num)s feedback answer", "%(num)s feedback answers", n),
    "privacy_request": lambda n: ngettext("%(num)s privacy request", "%(num)s privacy requests", n),
    "data_export": lambda n: ngettext("%(num)s data export", "%(num)s data exports", n),
    "consent_record": lambda n: ngettext("%(num)s cookie decision", "%(num)s cookie decisions", n),
    "ai_policy_ack": lambda n: ngettext("%(num)s request to acknowledge the AI-use policy",
                                        "%(num)s requests to acknowledge the AI-use policy", n),
    "lab_run": lambda n: ngettext("%(num)s prompt, answer or feedback in the practice lab",
                                  "%(num)s prompts, answers and feedback in the practice lab", n),
    "lab_usage": lambda n: ngettext("%(num)s day of practice-lab use", "%(num)s days of practice-lab use", n),
    "sso_identity": lambda n: ngettext("%(num)s link to your company's identity provider",
                                       "%(num)s links to your company's identity provider", n),
    "sso_login_attempt": lambda n: ngettext("%(num)s log-in through single sign-on under way",
                                            "%(num)s log-ins through single sign-on under way", n),
    "billing_member": lambda n: ngettext("access to your company's invoices", "access to your company's invoices", n),
    "invoice": lambda n: ngettext("%(num)s invoice addressed to you", "%(num)s invoices addressed to you", n),
    "invoice_recipient": lambda n: ngettext("%(num)s invoice mailed to you", "%(num)s invoices mailed to you", n),
    "billing_request": lambda n: ngettext("%(num)s billing request", "%(num)s billing requests", n),
    # who looked at my data (issue 21, access log)
    "access_log_entry": lambda n: ngettext("%(num)s view of your data by someone else",
                                           "%(num)s views of your data by someone else", n),
    # the data processing agreement (issue 21, dpa)
    "dpa_acceptance": lambda n: ngettext("%(num)s data processing agreement you accepted for your company",
                                         "%(num)s data processing agreements you accepted for your company", n),
    # issue 21: sub-processor objections (subproc helper)
    "subprocessor_objection": lambda n: ngettext("%(num)s objection to a sub-processor change",
                                                 "%(num)s objections to sub-processor changes", n),
    "notice_dismissal": lambda n: ngettext("%(num)s notice closed", "%(num)s notices closed", n),  # issue 21, ownership
}


@dataclass
class HeldGroup:
    """Sources of one category that share their legal basis (said once), by retention (said once each)."""
    basis: str
    by_retention: dict[str, list[HeldSource]]


def summary(held: dict[str, list[HeldSource]]) -> dict[str, list[str]]:
    """Per category, the non-empty sources in words ("12 lessons completed"), largest first."""
    out = {}
    for key, sources in held.items():
        present = [s for s in sources if s.rows]  # in the registry's order: the account first, then the rest
        out[key] = [COUNT_WORDS[s.table](s.rows) if s.table in COUNT_WORDS else f"{s.label}: {s.rows}" for s in present]
    return out


def grouped(held: dict[str, list[HeldSource]]) -> dict[str, list[HeldGroup]]:
    """The registry for the full table, with the repeated legal basis and retention grouped."""
    out = {}
    for key, sources in held.items():
        groups: dict[str, HeldGroup] = {}
        for s in sources:
            group = groups.setdefault(str(s.basis), HeldGroup(s.basis, {}))
            group.by_retention.setdefault(str(s.retention), []).append(s)
        out[key] = list(groups.values())
    return out


@dataclass
class Viewer:
    name: str
    role: str
    sees: str


def who_can_see(user: User) -> list[Viewer]:
    """By name: the company's admins, and the managers of the teams the person belongs to."""
    if user.org_id is None:
        return []
    admins = db.session.scalars(
        sa.select(User).where(User.org_id == user.org_id, User.role == Role.ADMIN, User.status == UserStatus.ACTIVE, User.id != user.id)
        .order_by(User.name)
    ).all()
    my_teams = sa.select(TeamMembership.team_id).where(TeamMembership.user_id == user.id)
    managers = db.session.execute(
        sa.select(User, Team.name)
        .join(TeamMembership, TeamMembership.user_id == User.id)
        .join(Team, Team.id == TeamMembership.team_id)
        .where(TeamMembership.team_id.in_(my_teams), TeamMembership.is_manager.is_(True),
               User.id != user.id, User.status == UserStatus.ACTIVE)
        .order_by(User.name)
    ).all()
    if works_council.active(user.org_id):  # works-council mode: nobody in the company sees one person's learning
        admin_sees = _("your account (name, e-mail, role, teams); your learning only within figures of groups of at least %(num)s people",
                       num=works_council.MIN_GROUP)
        manager_sees = _("your name in that team; your learning only within the team's figures, for teams of at least %(num)s people",
                         num=works_council.MIN_GROUP)
        return ([Viewer(a.name, _("Company admin"), admin_sees) for a in admins]
                + [Viewer(m.name, _("Manager of %(team)s", team=team), manager_sees) for m, team in managers])
    viewers = [Viewer(a.name, _("Company admin"), _("your profile, progress, scores and activity, individually and in reports")) for a in admins]
    viewers += [Viewer(m.name, _("Manager of %(team)s", team=team), _("your progress, scores and activity in that team")) for m, team in managers]
    return viewers


# --- processing choices ---------------------------------------------------------------------------

def settings_for(user_id: int) -> PrivacySettings:
    settings = db.session.get(PrivacySettings, user_id)
    return settings or PrivacySettings(user_id=user_id, leaderboard_opt_in=False, **{c: False for c in CHOICES})


def update_choices(user: User, new: dict[str, bool], *, gpc: bool = False) -> list[str]:
    """Save the choices; each change is recorded as a completed self-service privacy request."""
    settings = db.session.get(PrivacySettings, user.id)
    if settings is None:
        settings = PrivacySettings(user_id=user.id, **{c: False for c in CHOICES})
        db.session.add(settings)
    changed = []
    # the leaderboard opt-in is offered (and so saved) only in works-council mode: changed only when given
    for choice in CHOICES + tuple(c for c in OPT_INS if c in new):
        value = bool(new.get(choice))
        if getattr(settings, choice) != value:
            setattr(settings, choice, value)
            changed.append(choice)
    kinds = {"restrict_processing": "restriction", "object_analytics": "objection", "object_leaderboard": "objection",
             "object_recommendations": "objection", "do_not_sell_share": "opt_out", "leaderboard_opt_in": "consent_withdrawal"}
    for choice in changed:
        state = "on" if getattr(settings, choice) else "off"
        if choice in OPT_INS and state == "on":
            continue  # opting in is no privacy request; opting out again is recorded as a withdrawal of consent
        record_request(user, kinds[choice], "ccpa" if choice == "do_not_sell_share" else "gdpr",
                       details=f"{choice.replace('_', ' ')}: {state}" + (" (browser privacy signal)" if gpc else ""),
                       self_service=True, completed=True)
    if changed:
        audit.record("privacy.choices_changed", actor=user, subject=user, changed=changed)
    return changed


# The gates: every feature asks one of these where it collects or shows data.

def may_record_analytics(user: User | None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return True  # visitors: decided by cookie consent alone
    s = settings_for(user.id)
    return not (s.restrict_processing or s.object_analytics)


def may_rank(user: User, opt_in_needed: bool = False) -> bool:
    """Whether the person takes part in leaderboards; ``opt_in_needed`` (works-council mode): only after opting in."""
    s = settings_for(user.id)
    if opt_in_needed and not s.leaderboard_opt_in:
        return False
    return not (s.restrict_processing or s.object_leaderboard)


def may_personalise(user: User) -> bool:
    s = settings_for(user.id)
    return not (s.restrict_processing or s.object_recommendations)


# --- requests ---------------------------------------------------------------------------------------

def record_request(user: User, kind: str, jurisdiction: str = "gdpr", *, details: str = "", self_service: bool = False,
                   completed: bool = False, status: str | None = None) -> PrivacyRequest:
    now = utcnow()
    request = PrivacyRequest(
        org_id=user.org_id, user_id=user.id, kind=kind, jurisdiction=jurisdiction, self_service=self_service,
        details=details, received_at=now, due_at=now + timedelta(days=DUE_DAYS.get(jurisdiction, 30)),
        status=status or ("completed" if completed else "open"), completed_at=now if completed else None,
    )
    db.session.add(request)
    return request


def requests_of(user: User) -> list[PrivacyRequest]:
    return list(db.session.scalars(
        sa.select(PrivacyRequest).where(PrivacyRequest.user_id == user.id).order_by(PrivacyRequest.received_at.desc()).limit(100)
    ))


def notify_dpo(req: PrivacyRequest) -> None:
    """Tell the privacy team a request waits in the queue (no personal details in the mail)."""
    db.session.flush()  # the request needs its id for the link
    with force_locale("en"):  # the privacy team's mailbox reads English
        subject = f"New privacy request #{req.id} ({REQUEST_KINDS.get(req.kind, req.kind)})"
    queue_mail(current_app.config.get("DPO_EMAIL", "dpo@leadthe.ai"), subject,
               "dpo_new_request", kind="privacy_staff", request=req, request_kind=REQUEST_KINDS.get(req.kind, req.kind),
               link=absolute_url("staff.privacy_request", request_id=req.id))


def answer_request(req: PrivacyRequest, staff_user: User, response: str, outcome: str) -> None:
    req.response, req.status, req.completed_at, req.handled_by_id = response, outcome, utcnow(), staff_user.id
    audit.record("privacy.request_answered", actor=staff_user, subject=req.user, request_id=req.id, outcome=outcome)
    if req.user is not None:
        queue_mail(req.user.email, _l("Your privacy request #%(number)s has been answered", number=req.id), "request_answered",
                   kind="privacy", user=req.user, name=req.user.first_name, request=req,
                   request_kind=REQUEST_KINDS.get(req.kind, req.kind), outcome=labels.REQUEST_STATUSES.get(outcome, outcome))
