"""Assessment jobs: recertification reminders."""
from datetime import timedelta

from leadthe.assessments import certificates
from leadthe.worker import job_handler


@job_handler("certificates.daily", every=timedelta(days=1))
def run_daily_reminders(job) -> None:
    certificates.send_recertification_reminders()
