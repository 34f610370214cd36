"""``leadthe worker`` for the cluster run, optionally with shorter leases.

    python -m bench.cluster.worker            # exactly `flask --app app leadthe worker`
    BENCH_LEASE_SECONDS=60 python -m bench.cluster.worker

A worker killed with SIGKILL leaves the mails and the job it had claimed leased: they are sent again only when
the lease runs out (the app's leases: 10 minutes for mail, 15 for jobs). The full run keeps the app's leases
(its drain time shows what an operator would see); ``run.py --lease-seconds`` shortens them for a quick run.
"""
import os
import sys
from datetime import timedelta

seconds = os.environ.get("BENCH_LEASE_SECONDS", "").strip()
if seconds:
    import leadthe.mail
    import leadthe.worker

    leadthe.mail.LEASE = timedelta(seconds=int(seconds))
    leadthe.worker.JOB_LEASE = timedelta(seconds=int(seconds))

from flask.cli import main  # noqa: E402

sys.argv = ["flask", "--app", "app", "leadthe", "worker"]
main()
