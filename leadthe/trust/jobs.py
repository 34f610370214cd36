"""The trust area's worker jobs: sealing and verifying the tamper-evident audit log (leadthe/audit_chain.py)."""
from __future__ import annotations

from datetime import timedelta

from leadthe import audit_chain
from leadthe.worker import job_handler


@job_handler("audit.seal", every=timedelta(minutes=1))
def run_seal(job) -> None:
    """Every minute: chain the events written since the last seal."""
    audit_chain.run_seal(job)


@job_handler("audit.verify", every=timedelta(days=1))
def run_verify(job) -> None:
    """Daily: seal, verify every chain, and alert staff once per break."""
    audit_chain.run_verify(job)
