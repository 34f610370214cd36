"""Progress jobs: the daily reminders and the managers' weekly digest."""
from datetime import time, timedelta

from leadthe.models import utcnow
from leadthe.progress import services
from leadthe.worker import job_handler


@job_handler("progress.daily", every=timedelta(days=1), at=time(6, 0))
def run_daily(job) -> None:
    """Daily at 06:00 UTC: inactivity reminders; on Mondays (or the first run of a week) the managers' digest.
    Both are safe to repeat."""
    now = utcnow()
    services.send_missed_completions(now)
    services.send_inactivity_reminders(now.date())
    if now.weekday() == 0 or (job.payload or {}).get("digest"):
        services.send_manager_digests(now.date())
