"""AI-literacy programme jobs: the reminders of required training and the managers' weekly digest."""
from datetime import time, timedelta

from leadthe.literacy import reminders
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
