"""The AI-literacy programme's jobs."""
from leadthe.literacy import evidence
from leadthe.worker import job_handler


@job_handler("literacy.evidence")
def run_evidence_job(job) -> None:
    evidence.run_pack(job.payload["pack_id"])
