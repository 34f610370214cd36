"""AI-literacy programme jobs: the reminders of required training and the managers' weekly digest; the
AI-use policy's mail to everyone asked to acknowledge a material change, and its one reminder; the evidence pack."""
from datetime import time, timedelta

from leadthe.literacy import evidence, policy, reminders
from leadthe.models import utcnow
from leadthe.worker import job_handler


@job_handler("literacy.daily", every=timedelta(days=1), at=time(6, 15))
def run_reminders(job) -> None:
    """Daily at 06:15 UTC: the due and overdue reminders; on Mondays (or when asked) the managers' digest of
    overdue people. Both are safe to repeat."""
    now = utcnow()
    reminders.send_requirement_reminders(now)
    if now.weekday() == 0 or (job.payload or {}).get("digest"):
        reminders.send_overdue_digests(now)


@job_handler("ai_policy.mail")
def mail_material_change(job) -> None:
    """Mail everyone asked to acknowledge the version: resumable, and nobody twice (``mailed_at``)."""
    policy.send_publication_mails(job.payload["version_id"])


@job_handler("ai_policy.reminders", every=timedelta(days=1), at=time(7, 0))
def remind_unacknowledged(job) -> None:
    """Daily: one reminder to each person asked 7 days ago or more who has not acknowledged yet."""
    policy.send_reminders()


@job_handler("literacy.evidence")
def run_evidence_job(job) -> None:
    """Build an evidence pack (leadthe.literacy.evidence)."""
    evidence.run_pack(job.payload["pack_id"])
