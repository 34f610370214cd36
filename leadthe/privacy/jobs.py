"""Privacy jobs: erasure, data exports, and the daily retention run."""
from datetime import timedelta

from leadthe.privacy import erasure, export, retention
from leadthe.worker import job_handler


@job_handler("privacy.erase")
def run_erasure_job(job) -> None:
    erasure.run_erasure_request(job.payload["request_id"])


@job_handler("privacy.export")
def run_export_job(job) -> None:
    export.run_export(job.payload["export_id"])


@job_handler("retention.daily", every=timedelta(days=1))
def run_daily_retention(job) -> None:
    retention.apply_retention()
