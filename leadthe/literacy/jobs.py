"""The AI-literacy programme's jobs. The AI-use policy: the mail to everyone asked to acknowledge a material change, and the one reminder."""
from datetime import time, timedelta

from leadthe.literacy import policy
from leadthe.worker import job_handler


@job_handler("ai_policy.mail")
def mail_material_change(job) -> None:
    """Mail everyone asked to acknowledge the version: resumable, and nobody twice (``mailed_at``)."""
    policy.send_publication_mails(job.payload["version_id"])


@job_handler("ai_policy.reminders", every=timedelta(days=1), at=time(7, 0))
def remind_unacknowledged(job) -> None:
    """Daily: one reminder to each person asked 7 days ago or more who has not acknowledged yet."""
    policy.send_reminders()
