"""Retention: the rules of the registry, applied by `leadthe retention` and daily by the worker.

Every rule is idempotent: running it twice removes nothing more the second time.

Legal holds (``leadthe.trust.holds``): every rule that deletes or erases a person's or a company's rows leaves out,
in its own query, the rows a hold keeps, and counts them; ``apply_retention(held=...)`` reports the counts per rule
(``leadthe retention`` prints them). Export and evidence-pack files are copies made for someone: they expire as usual.
"""
from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from leadthe.extensions import db
from leadthe.lab.retention import expired_runs
from leadthe.literacy.evidence import expire_packs
from leadthe.models import (AuditEvent, DataExport, ImportBatch, Invitation, Job, Organization, OutboxMail, PrivacyRequest,
                            SearchQuery, User, UserSession, utcnow)
from leadthe.models.billing import BillingEvent, BillingRequest, Invoice
from leadthe.models.consent import ConsentRecord, PageView
from leadthe.models.lab import LabRun, LabUsage
from leadthe.models.sso import SsoLoginAttempt, SsoReplay
from leadthe.models.enums import (ExportStatus, InvitationStatus, JobStatus, MailStatus, OrgStatus, RequestKind, RequestStatus,
                                  UserStatus)
from leadthe.models.support import StaffAccessGrant, SupportTicket
from leadthe.models.progress import SyncReceipt
from leadthe.models.alerts import CredentialNetwork, SecurityAlert, SecuritySignal
from leadthe.models.trust import AccessLogEntry
from leadthe.privacy.erasure import checkpoint, run_erasure
from leadthe.privacy.export import delete_export_file
from leadthe.privacy.services import record_request
from leadthe.progress.sync import expired_receipts
from leadthe.trust.holds import held_clause, held_users, orgs_with_holds

log = logging.getLogger(__name__)

# the rows each rule of the current run left alone because a legal hold keeps them: rule id -> count
_held: ContextVar[dict[str, int]] = ContextVar("retention_held")
_rule: ContextVar[str] = ContextVar("retention_rule", default="")


def _note_held(count: int) -> None:
    counts = _held.get(None)
    if counts is not None and count:
        counts[_rule.get()] = counts.get(_rule.get(), 0) + count


def _without_held(stmt, entity, subject, now):
    """``stmt`` minus the rows whose ``subject`` (a person's or a company's id) a hold keeps; the held ones counted."""
    held = subject.in_(held_users(now) if entity == "user" else orgs_with_holds(now))
    _note_held(db.session.scalar(sa.select(sa.func.count()).select_from(stmt.where(held).subquery())) or 0)
    return stmt.where(~held)


def _erase_now(user: User, reason: str, now: datetime) -> None:
    req = record_request(user, "erasure", details=reason, status="scheduled")
    req.scheduled_for = now
    db.session.commit()
    run_erasure(req, now)


def rule_closed_accounts(now, dry_run):
    days = current_app.config["RETENTION_CLOSED_DAYS"]
    stmt = sa.select(User).where(User.status == UserStatus.CLOSED, User.closed_at <= now - timedelta(days=days))
    users = db.session.scalars(_without_held(stmt, "user", User.id, now)).all()
    if not dry_run:
        for user in users:
            _erase_now(user, f"Retention: account closed more than {days} days ago", now)
    return len(users)


def rule_scheduled_erasures(now, dry_run):
    stmt = sa.select(PrivacyRequest).where(
        PrivacyRequest.kind == RequestKind.ERASURE, PrivacyRequest.status.in_((RequestStatus.SCHEDULED, RequestStatus.ERROR, RequestStatus.IN_PROGRESS)),
        PrivacyRequest.scheduled_for <= now)
    # a held person's request waits (still scheduled) and is carried out by the first run after the hold ends
    due = db.session.scalars(_without_held(stmt, "user", sa.func.coalesce(PrivacyRequest.user_id, 0), now)).all()
    if not dry_run:
        for req in due:
            try:
                run_erasure(req, now)
            except Exception:  # noqa: BLE001 - the request is marked as error; the next run resumes it
                log.exception("erasure %s failed", req.id)
    return len(due)


def rule_unverified(now, dry_run):
    stmt = sa.select(User).where(
        User.email_verified_at.is_(None), User.status == UserStatus.ACTIVE, User.created_at <= now - timedelta(days=30))
    users = db.session.scalars(_without_held(stmt, "user", User.id, now)).all()
    if not dry_run:
        for user in users:
            _erase_now(user, "Retention: address never confirmed within 30 days", now)
    return len(users)


def rule_closed_companies(now, dry_run):
    days = current_app.config["RETENTION_CLOSED_DAYS"]
    stmt = sa.select(Organization).where(Organization.status == OrgStatus.CLOSED, Organization.closed_at <= now - timedelta(days=days))
    # a company with a hold on it or on one of its people is kept whole until the hold ends
    orgs = db.session.scalars(_without_held(stmt, "org", Organization.id, now)).all()
    if not dry_run:
        for org in orgs:
            for user in db.session.scalars(sa.select(User).where(User.org_id == org.id)).all():
                _erase_now(user, f"Retention: company closed more than {days} days ago", now)
            org = db.session.get(Organization, org.id)
            if org is not None:
                db.session.delete(org)
                db.session.commit()
    return len(orgs)


def rule_expired_exports(now, dry_run):
    exports = db.session.scalars(sa.select(DataExport).where(DataExport.status == ExportStatus.READY, DataExport.expires_at <= now)).all()
    if not dry_run:
        for export in exports:
            delete_export_file(export)
            export.status, export.file_name = "expired", ""
        db.session.commit()
    return len(exports) + expire_packs(now, dry_run)  # and the companies' evidence packs


def _delete_where(model, condition, dry_run, now=None):
    """Delete the rows of ``model`` due under ``condition``; with ``now``, except those a legal hold keeps then."""
    if now is not None:
        held = held_clause(model, now)
        _note_held(db.session.scalar(sa.select(sa.func.count()).select_from(model).where(condition, held)) or 0)
        condition = sa.and_(condition, ~held)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(condition))
    if not dry_run and count:
        db.session.execute(sa.delete(model).where(condition))
        db.session.commit()
    return count


def rule_sessions(now, dry_run):
    cutoff = now - timedelta(days=30)
    ended = sa.or_(UserSession.revoked_at <= cutoff, UserSession.expires_at <= cutoff)
    return _delete_where(UserSession, ended, dry_run, now)


def rule_outbox(now, dry_run):
    cutoff = now - timedelta(days=90)
    old = sa.or_(sa.and_(OutboxMail.status == MailStatus.SENT, OutboxMail.sent_at <= cutoff),
                 sa.and_(OutboxMail.status == MailStatus.FAILED, OutboxMail.created_at <= cutoff))
    return _delete_where(OutboxMail, old, dry_run, now)


def rule_audit(now, dry_run):
    return _delete_where(AuditEvent, AuditEvent.created_at <= now - timedelta(days=730), dry_run, now)


def rule_requests(now, dry_run):
    return _delete_where(PrivacyRequest, PrivacyRequest.completed_at <= now - timedelta(days=3 * 365), dry_run, now)


def rule_jobs(now, dry_run):
    return _delete_where(Job, sa.and_(Job.status.in_((JobStatus.DONE, JobStatus.FAILED)), Job.finished_at <= now - timedelta(days=30)), dry_run)


def rule_analytics(now, dry_run):
    return _delete_where(PageView, PageView.created_at <= now - timedelta(days=395), dry_run, now)


def rule_consents(now, dry_run):
    return _delete_where(ConsentRecord, sa.and_(ConsentRecord.user_id.is_(None),
                                                ConsentRecord.created_at <= now - timedelta(days=395)), dry_run)


def rule_searches(now, dry_run):
    return _delete_where(SearchQuery, SearchQuery.created_at <= now - timedelta(days=90), dry_run, now)


def rule_support(now, dry_run):
    return _delete_where(SupportTicket, SupportTicket.updated_at <= now - timedelta(days=730), dry_run, now)


def rule_grants(now, dry_run):
    return _delete_where(StaffAccessGrant, StaffAccessGrant.created_at <= now - timedelta(days=730), dry_run, now)


# rule id (as used in the registry) -> (description, implementation)
def rule_invitations(now, dry_run):
    cutoff = now - timedelta(days=30)
    stmt = sa.select(Invitation.id).where(sa.or_(
        Invitation.expires_at <= cutoff,
        sa.and_(Invitation.status != InvitationStatus.PENDING, sa.func.coalesce(Invitation.accepted_at, Invitation.sent_at) <= cutoff)))
    ids = db.session.scalars(_without_held(stmt, "org", Invitation.org_id, now)).all()
    if not dry_run and ids:
        db.session.execute(sa.delete(Invitation).where(Invitation.id.in_(ids)))
        db.session.commit()
    return len(ids)


def rule_import_batches(now, dry_run):
    stmt = sa.select(ImportBatch.id).where(ImportBatch.expires_at <= now)
    ids = db.session.scalars(_without_held(stmt, "org", ImportBatch.org_id, now)).all()
    if not dry_run and ids:
        db.session.execute(sa.delete(ImportBatch).where(ImportBatch.id.in_(ids)))
        db.session.commit()
    return len(ids)


def rule_lab_runs(now, dry_run):
    # the lab owns its rule (each company chooses its days); a hold keeps the held people's and companies' runs
    return expired_runs(now, dry_run, keep=held_clause(LabRun, now), on_kept=_note_held)


def rule_lab_usage(now, dry_run):
    return _delete_where(LabUsage, LabUsage.day < (now - timedelta(days=396)).date(), dry_run, now)


def rule_sso(now, dry_run):
    """Single sign-on log-ins a day after they started (finished or not) and replay records of expired assertions."""
    return (_delete_where(SsoLoginAttempt, SsoLoginAttempt.created_at <= now - timedelta(days=1), dry_run)
            + _delete_where(SsoReplay, SsoReplay.expires_at <= now, dry_run))


def rule_invoices(now, dry_run):
    """Invoices (and who they were mailed to) ten years after the end of the year they were issued in."""
    return _delete_where(Invoice, Invoice.year < now.year - 10, dry_run, now)


def rule_billing(now, dry_run):
    """Billing requests and handled processor events after 30 days."""
    cutoff = now - timedelta(days=30)
    return (_delete_where(BillingRequest, BillingRequest.created_at <= cutoff, dry_run, now)
            + _delete_where(BillingEvent, sa.and_(BillingEvent.received_at <= cutoff, BillingEvent.status == "done"), dry_run))


def rule_access_log(now, dry_run):
    """Who looked at a person's data: one year after the view."""
    return _delete_where(AccessLogEntry, AccessLogEntry.created_at <= now - timedelta(days=365), dry_run)


def rule_sync_receipts(now, dry_run):
    """Receipts of changes made offline (issue 22) 30 days after they reached us: no queue is older."""
    return _delete_where(SyncReceipt, expired_receipts(now), dry_run, now)


def rule_security(now, dry_run):
    """Signs of attack (issue 23): failed log-ins counted per network after a day (the detector looks back ten
    minutes; the audit log keeps the events), alerts a year after their last event, a credential's networks a
    year after their last use."""
    return (_delete_where(SecuritySignal, SecuritySignal.created_at <= now - timedelta(days=1), dry_run)
            + _delete_where(SecurityAlert, SecurityAlert.last_seen <= now - timedelta(days=365), dry_run, now)
            + _delete_where(CredentialNetwork, CredentialNetwork.last_seen <= now - timedelta(days=365), dry_run, now))


RULES = {
    # companies first: their people are erased as part of the company, not one by one as closed accounts
    "company_lifetime": ("closed companies erased", rule_closed_companies),
    "account_lifetime": ("closed accounts erased", rule_closed_accounts),
    "erasure_due": ("scheduled erasures carried out", rule_scheduled_erasures),
    "unverified_30d": ("never-verified sign-ups removed", rule_unverified),
    "export_7d": ("expired export and evidence pack files deleted", rule_expired_exports),
    "session_30d": ("ended sessions (access records) deleted", rule_sessions),
    "outbox_90d": ("old e-mails deleted", rule_outbox),
    "audit_2y": ("security events older than two years deleted", rule_audit),
    "request_3y": ("privacy requests completed over three years ago deleted", rule_requests),
    "job_30d": ("finished jobs deleted", rule_jobs),
    "search_90d": ("stored searches older than 90 days deleted", rule_searches),
    "analytics_13m": ("page views older than 13 months deleted", rule_analytics),
    "consent_13m": ("anonymous cookie decisions older than 13 months deleted", rule_consents),
    "support_2y": ("support tickets untouched for two years deleted", rule_support),
    "grant_2y": ("staff access records older than two years deleted", rule_grants),
    "invitation_30d": ("old invitations deleted", rule_invitations),
    "import_1d": ("unused import files deleted", rule_import_batches),
    "lab_days": ("practice-lab prompts and answers past their company's days deleted", rule_lab_runs),
    "usage_13m": ("practice-lab use per day older than 13 months deleted", rule_lab_usage),
    "sso_1d": ("single sign-on log-in attempts and used SAML assertion ids deleted", rule_sso),
    "invoice_10y": ("invoices kept ten years after their year deleted", rule_invoices),
    "billing_30d": ("billing requests and handled processor events older than 30 days deleted", rule_billing),
    "access_1y": ("access-log entries (who looked at a person's data) older than a year deleted", rule_access_log),
    "sync_30d": ("receipts of changes made offline older than 30 days deleted", rule_sync_receipts),
    "security_1y": ("security alerts and the networks behind them deleted after their time", rule_security),
}


def apply_retention(now: datetime | None = None, dry_run: bool = False, held: dict[str, int] | None = None) -> dict[str, int]:
    """Apply every rule; ``held`` (if given) receives, per rule, how many rows a legal hold kept."""
    now = now or utcnow()
    results = {}
    held_token = _held.set(held if held is not None else {})
    try:
        for rule_id, (_label, rule) in RULES.items():
            _rule.set(rule_id)
            results[rule_id] = rule(now, dry_run)
            # end each rule's transaction: nothing holds the write lock between rules
            db.session.rollback() if dry_run else db.session.commit()
    finally:
        _held.reset(held_token)
    if not dry_run:
        checkpoint()
    return results
