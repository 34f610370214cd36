"""The trust area's worker jobs: sealing and verifying the tamper-evident audit log (leadthe/audit_chain.py)."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from leadthe import audit_chain
from leadthe.extensions import db
from leadthe.mail import long_date, mail_everyone, queue_mail
from leadthe.models.subprocessors import SubprocessorNotice, SubprocessorVersion
from leadthe.net import absolute_url
from leadthe.trust import subprocessors
from leadthe.worker import job_handler


@job_handler("audit.seal", every=timedelta(minutes=1))
def run_seal(job) -> None:
    """Every minute: chain the events written since the last seal."""
    audit_chain.run_seal(job)


@job_handler("audit.verify", every=timedelta(days=1))
def run_verify(job) -> None:
    """Daily: seal, verify every chain, and alert staff once per break."""
    audit_chain.run_verify(job)


# --- issue 21: sub-processor changes (subproc helper's block) ---------------------------------------------------
@job_handler("subprocessors.notify")
def notify_admins(job) -> None:
    """Mail every active admin of every active company about an announced sub-processor change: resumable and
    exactly once (see leadthe.mail.mail_everyone)."""
    v = db.session.get(SubprocessorVersion, job.payload["version_id"])
    progress = db.session.get(SubprocessorNotice, v.id) if v is not None else None
    if progress is None:
        return
    link = absolute_url("trust.subprocessors")
    object_link = absolute_url("trust_admin.subprocessors")
    added = removed = changed = 0
    for change in subprocessors.changes_of(v):
        added += change.kind == "added"
        removed += change.kind == "removed"
        changed += change.kind == "changed"

    def send_one(person_id, email, name, locale):
        queue_mail(email, _l("Our list of sub-processors changes"), "subprocessors_changed", kind="subprocessors",
                   user_id=person_id, locale=locale, name=(name or "").split(" ")[0] or _l("there"),
                   summary=v.summary, effective=long_date(v.effective_at), link=link, object_link=object_link,
                   added=added, removed=removed, changed=changed)

    mail_everyone(progress, send_one, subprocessors.NOTICE_BATCH, only=subprocessors.admins_to_notify())
