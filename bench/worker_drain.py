"""Workers scale out on PostgreSQL: 1 worker, then 4, drain 10,000 due mails; each mail is sent exactly once.

    .venv/bin/python bench/worker_drain.py                     # PostgreSQL on 127.0.0.1:5432 as postgres
    .venv/bin/python bench/worker_drain.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres --mails 10000 --workers 1,4 --rounds 2

What runs (all on this machine):
- a database of its own, ``leadthe_worker_drain`` on the given PostgreSQL server (created, migrated, dropped at
  the end);
- an SMTP server (aiosmtpd) on loopback, ``--sink-processes`` child processes sharing one port (SO_REUSEPORT),
  counting what it receives by Message-ID (a relay is another machine in production; one Python process here
  would be the bottleneck, and its CPU is reported);
- ``leadthe worker`` processes (``flask --app app leadthe worker``, SMTP pointed at the sink). They start with an
  empty outbox and say they are ready through their heartbeat rows; then ``--mails`` due mails are queued in one
  transaction and the clock runs until no mail is left unsent.

For each run it prints mails sent, duplicates (a Message-ID received more than once: must be 0), missing (queued
but never received: must be 0), seconds, mails a second and the CPU seconds of the workers and of the SMTP
server; then the speed-up of the most workers over one (goal: >= 2.5x with 4 workers on this 2-core machine).
With ``--rounds`` above 1 the counts alternate (1, 4, 1, 4, ...) and the median of each is used: the shared
machine's speed drifts.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

DB_NAME = "leadthe_worker_drain"
FLASK = str(Path(sys.executable).parent / "flask")
MESSAGE_ID = re.compile(rb"^Message-ID:\s*<outbox-(\d+)\.", re.I | re.M)


# --- the SMTP sink, in a child process -----------------------------------------------------------------------------

def smtp_sink(port: int, control, relay_ms: float = 0.0) -> None:
    """One process of the SMTP server: counts received mails by outbox id; on "report" sends (counter, CPU
    seconds since the last report). Several processes share the port (SO_REUSEPORT: the kernel spreads the
    connections), as a relay is its own machine(s) in production and must not be the bottleneck here."""
    import asyncio
    import threading

    from aiosmtpd.smtp import SMTP

    class Counting:
        def __init__(self):
            self.ids = Counter()

        async def handle_DATA(self, server, session, envelope):
            found = MESSAGE_ID.search(envelope.content)
            self.ids[int(found.group(1)) if found else -1] += 1
            if relay_ms:
                await asyncio.sleep(relay_ms / 1000)  # a relay's own time before its "250" (no CPU here)
            return "250 OK"

    handler = Counting()
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(lambda: SMTP(handler, hostname="sink", loop=loop), "127.0.0.1",
                                                        port, reuse_port=True))
    threading.Thread(target=loop.run_forever, daemon=True).start()
    control.send("ready")
    cpu = time.process_time()
    while True:
        command = control.recv()
        if command == "report":
            now = time.process_time()
            ids = asyncio.run_coroutine_threadsafe(_take(handler), loop).result()
            control.send((ids, now - cpu))
            cpu = now
        elif command == "stop":
            loop.call_soon_threadsafe(server.close)
            return


async def _take(handler) -> Counter:
    ids, handler.ids = handler.ids, Counter()
    return ids


class Sink:
    """``processes`` SMTP server processes on one loopback port."""

    def __init__(self, port: int, processes: int, relay_ms: float = 0.0):
        self.pipes, self.procs = [], []
        for _ in range(processes):
            parent, child = multiprocessing.Pipe()
            proc = multiprocessing.Process(target=smtp_sink, args=(port, child, relay_ms), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)
        for pipe in self.pipes:
            pipe.recv()

    def report(self) -> tuple[Counter, float]:
        total, cpu = Counter(), 0.0
        for pipe in self.pipes:
            pipe.send("report")
        for pipe in self.pipes:
            ids, seconds = pipe.recv()
            total.update(ids)
            cpu += seconds
        return total, cpu

    def stop(self) -> None:
        for pipe, proc in zip(self.pipes, self.procs):
            if proc.is_alive():
                pipe.send("stop")
                proc.join(10)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """user + system CPU of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- one run ---------------------------------------------------------------------------------------------------------

def queue_mails(engine, count: int) -> set[int]:
    from leadthe.models import OutboxMail, utcnow

    with engine.begin() as conn:
        conn.execute(sa.delete(OutboxMail))
        now = utcnow()
        conn.execute(OutboxMail.__table__.insert(), [
            {"to_addr": f"person{n}@example.com", "subject": f"Your weekly progress {n}",
             "body_text": "Hello,\n\nthis is your weekly progress report.\n\n" + "A line of the report.\n" * 20,
             "kind": "bench", "headers": {}, "status": "pending", "attempts": 0, "next_attempt_at": now,
             "last_error": "", "created_at": now} for n in range(count)])
        ids = set(conn.scalars(sa.select(OutboxMail.id)))
    return ids


def unsent(engine) -> int:
    from leadthe.models import OutboxMail

    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(OutboxMail).where(OutboxMail.status != "sent"))


def ready_workers(engine) -> int:
    from leadthe.models import WorkerHeartbeat

    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(WorkerHeartbeat))


def run(engine, env: dict, workers: int, mails: int, sink: Sink) -> dict:
    from leadthe.models import OutboxMail

    with engine.begin() as conn:
        conn.execute(sa.delete(OutboxMail))
    procs = [subprocess.Popen([FLASK, "--app", "app", "leadthe", "worker", "--interval", "0.2"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(workers)]
    try:
        deadline = time.monotonic() + 120
        while ready_workers(engine) < workers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit("workers did not start: " + " | ".join((p.stderr.read() if p.poll() is not None else "")
                                                                     for p in procs))
            time.sleep(0.1)
        sink.report()  # forget the start-up
        cpu_before = sum(cpu_seconds(p.pid) for p in procs)
        ids = queue_mails(engine, mails)
        started = time.monotonic()
        deadline = started + 1800
        while unsent(engine):
            if time.monotonic() > deadline:
                raise SystemExit("the outbox did not drain in 30 minutes")
            time.sleep(0.05)
        seconds = time.monotonic() - started
        worker_cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu_before
        time.sleep(0.5)  # the sink has answered "250" before the mail was marked: nothing can still be on its way
        received, sink_cpu = sink.report()
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    got = set(received)
    return {"workers": workers, "sent": sum(received.values()), "distinct": len(got & ids),
            "duplicates": sum(n - 1 for n in received.values() if n > 1), "missing": len(ids - got),
            "unexpected": len(got - ids), "seconds": seconds, "rate": mails / seconds, "worker_cpu": worker_cpu,
            "sink_cpu": sink_cpu, "exit_codes": [p.returncode for p in procs]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL URL of the server to use (any database on it; the bench creates its own)")
    parser.add_argument("--mails", type=int, default=10_000)
    parser.add_argument("--workers", default="1,4", help="worker counts to run, comma-separated (default 1,4)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--relay-ms", type=float, default=0.0,
                        help="milliseconds the SMTP server waits before answering a mail's 250, without using CPU: a "
                             "real relay's disk write and network round-trips (default 0: answer at once)")
    parser.add_argument("--sink-processes", type=int, default=4,
                        help="processes of the SMTP server sharing its port (default 4; 1: a single aiosmtpd process)")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]

    base = sa.engine.make_url(args.pg)
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {DB_NAME}")
    url = base.set(database=DB_NAME).render_as_string(hide_password=False)
    port = free_port()
    sink = None
    results: list[dict] = []
    with tempfile.TemporaryDirectory() as instance:
        env = {**os.environ, "LEADTHE_ENV": "test", "LEADTHE_DATABASE_URL": url, "LEADTHE_INLINE_WORKER": "0",
               "LEADTHE_SECRET_KEY": "drain-bench-" + "k" * 30, "LEADTHE_INSTANCE_PATH": instance,
               "LEADTHE_SMTP_URL": f"smtp://127.0.0.1:{port}"}
        try:
            subprocess.run([FLASK, "--app", "app", "db", "upgrade", "heads"], cwd=ROOT, env=env, check=True,
                           capture_output=True, timeout=600)
            sink = Sink(port, args.sink_processes, args.relay_ms)
            engine = sa.create_engine(url)
            print(f"{args.mails} due mails; SMTP server: {args.sink_processes} aiosmtpd process(es), "
                  f"{args.relay_ms:g} ms before each 250; PostgreSQL {base.host}:{base.port}; load average before: "
                  f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            print(f"{'workers':>7} {'sent':>6} {'dupl.':>5} {'missing':>7} {'seconds':>8} {'mails/s':>8} "
                  f"{'worker CPU s':>12} {'SMTP CPU s':>10}")
            for _ in range(args.rounds):
                for workers in counts:
                    r = run(engine, env, workers, args.mails, sink)
                    results.append(r)
                    print(f"{r['workers']:>7} {r['sent']:>6} {r['duplicates']:>5} {r['missing']:>7} {r['seconds']:>8.1f} "
                          f"{r['rate']:>8.0f} {r['worker_cpu']:>12.1f} {r['sink_cpu']:>10.1f}", flush=True)
            engine.dispose()
        finally:
            if sink is not None:
                sink.stop()
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
            admin.dispose()
    median = {n: statistics.median(r["seconds"] for r in results if r["workers"] == n) for n in counts}
    ok = all(r["duplicates"] == 0 and r["missing"] == 0 and r["unexpected"] == 0 and r["sent"] == args.mails
             and r["exit_codes"] == [0] * r["workers"] for r in results)
    most = max(counts)
    if 1 in median and most > 1:
        speedup = median[1] / median[most]
        print(f"speed-up of {most} workers over 1: {speedup:.2f}x (median seconds {median[1]:.1f} / {median[most]:.1f}; "
              f"goal >= 2.5x)")
        ok = ok and speedup >= 2.5
    print("every mail exactly once" if ok else "FAILED: see the table", f"load average after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
