"""The cluster run: several machines' worth of LeadThe.AI on loopback, with a worker and an app server killed.

    .venv/bin/python bench/cluster/run.py                                  # full size (10,000 people, 180 s)
    .venv/bin/python bench/cluster/run.py --users 2000 --seconds 60 --learners 20 --lease-seconds 60   # small

What it starts, in a temporary folder, each in a process group of its own (all stopped at the end, Ctrl-C too):
- PostgreSQL: its own cluster (initdb / pg_ctl from /usr/lib/postgresql/*/bin, a free port, run as the
  ``postgres`` user when this runs as root); ``--pg-url`` uses an existing server instead (a database
  ``bench_cluster_<pid>`` is created there and dropped at the end);
- Redis (``redis-server``, a free port, nothing saved) for the rate limits (LEADTHE_RATELIMIT_STORAGE_URL);
- an S3 server (moto, ``python -m moto.server``) with a bucket: LEADTHE_STORAGE_URL=s3://leadthe-cluster/run;
- an SMTP sink (aiosmtpd, ``bench/cluster/smtp_sink.py``) that records every Message-ID it receives;
- two app servers, ``gunicorn -c deploy/gunicorn.conf.py app:app`` (``--app-workers`` sync workers each, own
  port, own instance folder and PROMETHEUS_MULTIPROC_DIR: two machines), behind one entry point, a small
  retrying round-robin proxy (``bench/cluster/proxy.py``) with health checks that, like HAProxy with ``maxconn``
  and priority classes, sends each server at most as many requests as it has sync workers and lets a learner's
  page wait less than the export requests (``--maxconn``, ``--bulk-path``);
- two ``leadthe worker`` processes (``bench/cluster/worker.py``), each with its own instance folder.

Then it loads the seed-scale company (``leadthe.scale.seed_scale``, ``--users`` people) plus a course nobody has
started, signs everyone in that takes part, and for ``--seconds`` runs at once:
- ``--learners`` learners (1 s pauses): dashboard, catalogue, their lesson of that course, completing it, search;
- ``--exports`` people asking for their data export at the same moment, polling, downloading;
- the company admin publishing an AI-use policy (a material change): job ``ai_policy.mail`` mails everyone;
and kills (SIGKILL) worker 1 at 25% of the run (restarted 10 s later), then app server A's gunicorn master at
55% (restarted 10 s later). After the mix it waits (``--drain-timeout``) until every mail is sent and every
export is downloaded or given up, then checks the database against what the clients saw.

Exits non-zero on any loss: a completion a client saw succeed without its row, a mail missing or received twice,
an export not READY or not downloadable with its recorded size and checksum. Figures on stdout and in
``--json`` (default: bench/cluster/last_run.json).
"""
from __future__ import annotations

import argparse
import collections
import glob
import json
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.cluster.clients import Client, exports, learner_mix, person_ip, publish_policy  # noqa: E402
from bench.cluster.cpu import CpuSampler  # noqa: E402

BIN = Path(sys.executable).parent
BUCKET = "leadthe-cluster"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, seconds: float = 60, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args[:3]} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def healthy(port: int) -> bool:
    try:
        return Client(port).request("GET", "/healthz", timeout=5)[0] == 200
    except OSError:
        return False


def pct(values, q):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1) if values else None


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def lower_priority(nice: int, idle: bool = False) -> None:
    """In the child, after its ``setsid``: a lower CPU priority for the process and its session.

    With ``sched_autogroup`` (on in this machine's kernel: /proc/sys/kernel/sched_autogroup_enabled), every
    session is a scheduling group, and the scheduler shares the cores between the groups first: a process's own
    nice only counts against the other processes of its session. Every service here runs in a session of its own,
    so ``os.nice`` alone changed nothing (the niced workers took 0.4-0.75 of a core beside the app servers' 0.9):
    the session's autogroup gets the nice value too. (Under systemd the same holds for each service's cgroup: its
    ``CPUWeight=``, not ``Nice=``, is what counts against other services; see deploy/README.md.)"""
    if idle:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    else:
        os.nice(nice)
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
    except OSError:  # no autogroups (a kernel without them, or switched off): the nice value above is all
        pass


class Cluster:
    """The processes of the run; each one's process group is remembered so that all of them, and whatever
    they started, are stopped at the end."""

    def __init__(self, tmp: Path, background: str = "nice", background_nice: int = 10):
        self.tmp = tmp
        self.background, self.background_nice = background, background_nice
        self.procs: dict[str, subprocess.Popen] = {}
        self.groups: list[int] = []
        self.pg_ctl: list[str] | None = None
        self.pg_drop: tuple[str, str] | None = None

    def start(self, name: str, cmd: list[str], env: dict | None = None, background: bool = False) -> subprocess.Popen:
        """Start ``cmd`` in a process group of its own; ``background``: a tier that would be on other machines and
        that no request waits on (the workers, the SMTP sink), started at the lower CPU priority ``--background``
        says."""
        out = open(self.tmp / f"{name}.log", "ab")
        lower = None
        if background and self.background == "idle":  # runs only on a core nothing else wants, gives it up at once
            lower = lambda: lower_priority(19, idle=True)  # noqa: E731
        elif background and self.background == "nice" and self.background_nice:
            lower = lambda: lower_priority(self.background_nice)  # noqa: E731
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=lower)
        self.procs[name] = proc
        self.groups.append(proc.pid)
        return proc

    def group_alive(self, pgid: int) -> bool:
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False

    def stop_all(self) -> None:
        for pgid in reversed(self.groups):
            try:
                os.killpg(pgid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(self.group_alive(g) for g in self.groups):
            time.sleep(0.2)
        for pgid in self.groups:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for proc in self.procs.values():
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        if self.pg_drop:
            import sqlalchemy as sa

            server, name = self.pg_drop
            engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            engine.dispose()
        if self.pg_ctl:
            subprocess.run(self.pg_ctl + ["-m", "immediate", "stop"], capture_output=True)


# --- the services --------------------------------------------------------------------------------------------

def start_postgres(cluster: Cluster, args) -> str:
    """A database URL: a fresh cluster of our own, or a fresh database on ``--pg-url``'s server."""
    import sqlalchemy as sa

    if args.pg_url:
        name = f"bench_cluster_{os.getpid()}"
        engine = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        cluster.pg_drop = (args.pg_url, name)
        return args.pg_url.rsplit("/", 1)[0] + f"/{name}"
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        raise SystemExit("no initdb under /usr/lib/postgresql/*/bin: give --pg-url postgresql+psycopg://…/postgres")
    pgbin = Path(bins[-1]).parent
    data = cluster.tmp / "pg"
    data.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(data, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(as_user + [str(pgbin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                              "--no-sync"], check=True, capture_output=True)
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c max_connections=200 -c shared_buffers=256MB "
               f"-c fsync={'on' if args.pg_fsync else 'off'}")
    cluster.pg_ctl = as_user + [str(pgbin / "pg_ctl"), "-D", str(data)]
    subprocess.run(cluster.pg_ctl + ["-l", str(data / "server.log"), "-o", options, "-w", "start"], check=True,
                   capture_output=True)
    subprocess.run(as_user + [str(pgbin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "leadthe"],
                   check=True, capture_output=True)
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/leadthe"


def app_server_cmd(folder: Path) -> list[str]:
    # gunicorn's control socket defaults to one path in $HOME: each server (machine) gets its own
    return [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "--control-socket",
            str(folder / "gunicorn.ctl"), "app:app"]


def start_app_server(cluster: Cluster, name: str, port: int, env: dict, workers: int) -> subprocess.Popen:
    folder = cluster.tmp / name
    metrics = folder / "prometheus"
    shutil.rmtree(metrics, ignore_errors=True)  # a restarted server starts with a clean multi-process folder
    metrics.mkdir(parents=True)
    return cluster.start(name, app_server_cmd(folder), {
        **env, "LEADTHE_INSTANCE_PATH": str(folder), "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers)})


def start_worker(cluster: Cluster, name: str, env: dict) -> subprocess.Popen:
    folder = cluster.tmp / name
    folder.mkdir(exist_ok=True)
    return cluster.start(name, [sys.executable, "-m", "bench.cluster.worker"], {**env, "LEADTHE_INSTANCE_PATH": str(folder)},
                         background=True)


# --- checks against the database --------------------------------------------------------------------------------

def db_counts(url: str) -> dict:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        mails = dict(conn.execute(sa.text("SELECT status, count(*) FROM outbox_mail GROUP BY status")).all())
        jobs = dict(conn.execute(sa.text(
            "SELECT kind, count(*) FROM job WHERE status IN ('pending', 'running') AND run_at <= now() GROUP BY kind")).all())
        policy_mails = conn.execute(sa.text("SELECT count(*) FROM outbox_mail WHERE kind = 'ai_policy'")).scalar()
    engine.dispose()
    return {"mails": mails, "due_jobs": jobs, "policy_mails": policy_mails}


def received_ids(path: Path) -> collections.Counter:
    counter: collections.Counter = collections.Counter()
    if path.exists():
        for line in path.read_text().split():
            counter[line] += 1
    return counter


OUTBOX_ID = re.compile(r"<outbox-(\d+)\.")


def verify(url: str, org_id: int, completed: list, export_rows: list, received: collections.Counter) -> dict:
    """What the clients saw against the database and the SMTP sink."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        # completions: every (person, lesson) a client saw succeed has its row
        rows = set(conn.execute(sa.text(
            "SELECT u.email, l.slug FROM lesson_completion c JOIN user_account u ON u.id = c.user_id "
            "JOIN lesson l ON l.id = c.lesson_id JOIN course k ON k.id = l.course_id "
            "WHERE k.slug = 'cluster-run' AND u.org_id = :org"), {"org": org_id}).all())
        outbox = dict(conn.execute(sa.text("SELECT id, status FROM outbox_mail")).all())
        kinds = dict(conn.execute(sa.text("SELECT kind, count(*) FROM outbox_mail GROUP BY kind")).all())
        ids = [r["export_id"] for r in export_rows if r["export_id"]]
        stored = {row[0]: row[1:] for row in conn.execute(sa.text(
            "SELECT id, status, size_bytes, sha256 FROM data_export WHERE id = ANY(:ids)"), {"ids": ids}).all()} if ids else {}
    engine.dispose()
    pairs = {(email, lesson) for email, lesson in completed}
    return {"completions": {"seen_by_clients": len(pairs), "rows": len(rows & pairs), "lost": len(pairs - rows)},
            "mail": {**mail_check(outbox, received), "by_kind": kinds},
            "exports": export_check(export_rows, ids, stored)}


def mail_check(outbox: dict, received: collections.Counter) -> dict:
    """Every outbox row reached the sink exactly once (its Message-ID is <outbox-<id>.…>)."""
    by_id: collections.Counter = collections.Counter()
    foreign = 0
    for message_id, n in received.items():
        found = OUTBOX_ID.match(message_id)
        if found:
            by_id[int(found.group(1))] += n
        else:
            foreign += n
    return {"outbox_rows": len(outbox), "by_status": dict(collections.Counter(outbox.values())),
            "received": sum(by_id.values()), "distinct_received": len(by_id),
            "duplicates": sum(n - 1 for n in by_id.values() if n > 1),
            "missing": sum(1 for i in outbox if by_id[i] == 0), "unknown_received": foreign,
            "not_in_outbox": sum(1 for i in by_id if i not in outbox)}


def export_check(export_rows: list, ids: list, stored: dict) -> dict:
    """Exports READY, downloaded with the size (and SHA-256, when recorded) the database has for them."""
    def matches(r) -> bool:
        row = stored.get(r["export_id"])
        return (row is not None and r["download_status"] == 200 and r["size"] == row[1]
                and (not row[2] or r["sha256"] == row[2]))

    return {"requested": len(export_rows), "created": len(ids),
            "ready": sum(1 for s in stored.values() if s[0] == "ready"),
            "downloaded": sum(1 for r in export_rows if r["download_status"] == 200),
            "downloaded_matching": sum(1 for r in export_rows if matches(r)),
            "download_statuses": dict(collections.Counter(str(r["download_status"]) for r in export_rows)),
            "request_statuses": dict(collections.Counter(str(r["request_status"]) for r in export_rows))}


def latency(requests: list, windows: list[tuple[str, float, float]], seconds: float) -> dict:
    def figures(rows):
        ms = [r[1] for r in rows]
        return {"requests": len(rows), "p50_ms": pct(ms, 0.5), "p95_ms": pct(ms, 0.95), "p99_ms": pct(ms, 0.99),
                "errors": dict(collections.Counter(str(r[2]) for r in rows if r[2] == 0 or r[2] >= 400))}

    out = {"overall": {**figures(requests), "req_per_s": round(len(requests) / seconds, 1)},
           "per_page": {page: figures([r for r in requests if r[3] == page])
                        for page in sorted({r[3] for r in requests})}}
    for name, start, end in windows:
        out[name] = {**figures([r for r in requests if start <= r[0] < end]), "window_s": round(end - start, 1)}
    if requests:  # when in the run the slow requests were: 15-second slices from the mix's first request
        first = min(r[0] for r in requests)
        slices = collections.defaultdict(list)
        for r in requests:
            slices[int((r[0] - first) // TIMELINE_SLICE)].append(r)
        out["timeline"] = [{"from_s": n * TIMELINE_SLICE, **figures(rows)} for n, rows in sorted(slices.items())]
    return out


TIMELINE_SLICE = 15


# --- the run --------------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000, help="people of the seed-scale company (all are mailed)")
    parser.add_argument("--seconds", type=int, default=180, help="length of the mix")
    parser.add_argument("--learners", type=int, default=50, help="learner clients (about 1 request a second each)")
    parser.add_argument("--exports", type=int, default=200, help="data exports requested at the same moment")
    parser.add_argument("--export-poll", type=float, default=0,
                        help="seconds between an exporter's status polls (0: as the status page asks, like htmx: "
                             "every 2 s at first, then half the time waited, at most every 10 s)")
    parser.add_argument("--maxconn", type=int, default=-1,
                        help="the entry point's requests at a time per app server, the rest waiting in its queue "
                             "(HAProxy's maxconn; -1: as many as the server has sync workers, 0: no limit)")
    parser.add_argument("--bulk-path", action="append", default=None,
                        help="path prefix whose requests wait behind every other request for a slot (HAProxy's "
                             "set-priority-class; repeatable; default /privacy/export: the export requests, "
                             "polls and downloads)")
    parser.add_argument("--exports-no-js", action="store_true",
                        help="the exporters' browsers run no scripts: the form's POST is answered with a redirect to "
                             "the whole status page (two requests), not with the progress fragment (one)")
    parser.add_argument("--exporters-step-up", action="store_true",
                        help="the exporters signed in more than five minutes before they ask, so each export request "
                             "checks their password again (bcrypt: about a quarter of a second of a core each); by "
                             "default they ask within five minutes of signing in, which counts as the step-up")
    parser.add_argument("--app-workers", type=int, default=3, help="gunicorn sync workers per app server")
    parser.add_argument("--lease-seconds", type=int, default=0,
                        help="shorter mail and job leases in the workers (0: the app's own, 10 and 15 minutes)")
    parser.add_argument("--drain-timeout", type=int, default=1200,
                        help="seconds to wait after the mix for the mail and exports to finish")
    parser.add_argument("--restart-after", type=float, default=10.0)
    parser.add_argument("--background", choices=("idle", "nice", "equal"), default="nice",
                        help="CPU priority of the tiers that would be other machines and that no request waits on "
                             "(the workers, the SMTP sink): nice (--background-nice), idle (SCHED_IDLE: only cores "
                             "nothing else wants, given up at once), equal (as everything else)")
    parser.add_argument("--background-nice", type=int, default=10, help="the nice value of --background nice")
    parser.add_argument("--pg-url", help="use this PostgreSQL server (a database is created and dropped there) "
                                         "instead of a cluster of our own")
    parser.add_argument("--pg-fsync", action="store_true", help="our own PostgreSQL with fsync on (default off)")
    parser.add_argument("--json", default=str(Path(__file__).with_name("last_run.json")))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) at the end")
    args = parser.parse_args()
    args.bulk_path = ["/privacy/export"] if args.bulk_path is None else [p for p in args.bulk_path if p]
    if args.users < args.exports + args.learners + 1:
        raise SystemExit("--users must be more than --exports + --learners")

    tmp = Path(tempfile.mkdtemp(prefix="leadthe-cluster-"))
    os.chmod(tmp, 0o755)  # the postgres user reaches its data folder inside
    cluster = Cluster(tmp, args.background, args.background_nice)
    interrupted = threading.Event()

    def on_signal(signum, _frame):
        interrupted.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    report: dict = {"settings": vars(args), "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()}}
    try:
        return run(args, cluster, report)
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    finally:
        cluster.stop_all()
        if args.keep:
            log(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args, cluster: Cluster, report: dict) -> int:
    t_setup = time.monotonic()
    log(f"temporary folder {cluster.tmp}")
    url, ports, env = start_services(cluster, args, report)
    data = load_data(cluster, args, env, report)
    start_apps(cluster, args, ports, env)
    clients, exporters, learners = sign_in_everyone(cluster, args, ports, data)
    if args.exporters_step_up:
        close_step_up_windows(url, [data["emails"][i] for i in exporters])
    report["setup_seconds"] = round(time.monotonic() - t_setup, 1)
    mix_run = Mix(cluster, args, ports, env, data, clients, exporters, learners)
    sampler = CpuSampler()
    sampler.start()
    try:
        mix, export_rows, drained_at, policy = mix_run.play(url)
    finally:
        sampler.stop()
    mix_end = mix_run.start_at + args.seconds
    report["cpu"] = {"mix_cores_busy": sampler.totals(mix_run.start_at, mix_end),
                     "drain_cores_busy": sampler.totals(mix_end, time.time()),
                     "timeline": sampler.by_slice(mix_run.start_at, TIMELINE_SLICE, mix_end)}
    observe(cluster, ports, env, report)
    checks = verify(url, data["org_id"], mix["completed"], export_rows, received_ids(cluster.tmp / "received.txt"))
    ready_times = [r["ready_at"] - r["requested_at"] for r in export_rows if r["ready_at"] and r["requested_at"]]
    checks["exports"]["seconds_to_all_ready"] = round(max(ready_times), 1) if ready_times else None
    checks["exports"]["seconds_to_ready_p50"] = pct(ready_times, 0.5)
    checks["mail"]["seconds_to_drain"] = round(drained_at - policy["published_at"], 1) if drained_at else None
    first = min((r[0] for r in mix["requests"]), default=mix_run.start_at)
    report["requests"] = {  # every learner request as [s from the mix's start, ms, status, page], for digging in
        "learner": [[round(r[0] - first, 2), round(r[1], 1), r[2], r[3]] for r in sorted(mix["requests"])],
        "export_request_ms": sorted(round(r["request_ms"], 1) for r in export_rows if r.get("request_ms"))}
    report.update({"events": mix_run.events, "learner_mix": latency(mix["requests"], mix_run.windows, args.seconds),
                   "checks": checks, "machine": {**report["machine"], "load_after": os.getloadavg()}})
    report["problems"] = problems_of(checks, args)
    Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    print_report(report, args)
    return 1 if report["problems"] else 0


def start_services(cluster: Cluster, args, report: dict) -> tuple[str, dict, dict]:
    """PostgreSQL, Redis, the S3 server with its bucket, the SMTP sink; the app's environment."""
    tmp = cluster.tmp
    url = start_postgres(cluster, args)
    report["postgres"] = "own cluster (initdb)" if not args.pg_url else "a fresh database on --pg-url"
    ports = {name: free_port() for name in ("redis", "s3", "smtp", "proxy", "app_a", "app_b")}
    cluster.start("redis", ["redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--dir", str(tmp)])
    aws = {"AWS_ACCESS_KEY_ID": "cluster", "AWS_SECRET_ACCESS_KEY": "cluster-secret", "AWS_DEFAULT_REGION": "us-east-1"}
    # S3 at the app servers' priority: the app waits on it inside requests (the HEAD before a download), and a
    # starved S3 would hold web workers as the real one, on machines of its own, never does
    cluster.start("s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(ports["s3"])],
                  {**os.environ, **aws})
    cluster.start("smtp", [sys.executable, "-m", "bench.cluster.smtp_sink", "--port", str(ports["smtp"]),
                           "--out", str(tmp / "received.txt")], background=True)
    for name in ("redis", "s3", "smtp"):
        wait_port(ports[name], proc=cluster.procs[name])
    import boto3
    from cryptography.fernet import Fernet

    s3_url = f"http://127.0.0.1:{ports['s3']}"
    boto3.client("s3", endpoint_url=s3_url, aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
                 aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
                 region_name=aws["AWS_DEFAULT_REGION"]).create_bucket(Bucket=BUCKET)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADTHE_", "GUNICORN_", "PROMETHEUS_"))}
    env.update(aws)
    env.update({
        "LEADTHE_ENV": "production", "LEADTHE_SECRET_KEY": secrets.token_urlsafe(48),
        "LEADTHE_DATA_KEY": Fernet.generate_key().decode(), "LEADTHE_DATABASE_URL": url,
        "LEADTHE_RATELIMIT_STORAGE_URL": f"redis://127.0.0.1:{ports['redis']}/0",
        "LEADTHE_STORAGE_URL": f"s3://{BUCKET}/run", "LEADTHE_S3_ENDPOINT_URL": s3_url,
        "LEADTHE_SMTP_URL": f"smtp://127.0.0.1:{ports['smtp']}", "LEADTHE_BASE_URL": f"http://127.0.0.1:{ports['proxy']}",
        "LEADTHE_INLINE_WORKER": "0", "LEADTHE_PROXY_HOPS": "1", "LEADTHE_BCRYPT_ROUNDS": "4",
        "LEADTHE_METRICS_TOKEN": secrets.token_urlsafe(24),
    })
    if args.lease_seconds:
        env["BENCH_LEASE_SECONDS"] = str(args.lease_seconds)
    log(f"PostgreSQL ({report['postgres']}), Redis, S3 (moto) and the SMTP sink are up")
    return url, ports, env


def load_data(cluster: Cluster, args, env: dict, report: dict) -> dict:
    """Migrations, the curriculum, the seed-scale company and the run's course (bench/cluster/setup_data.py)."""
    setup_env = {**env, "LEADTHE_INSTANCE_PATH": str(cluster.tmp / "setup")}
    flask = [str(BIN / "flask"), "--app", "app"]
    for cmd in (["db", "upgrade", "heads"], ["leadthe", "load-content"]):
        subprocess.run(flask + cmd, cwd=ROOT, env=setup_env, check=True, capture_output=True)
    log(f"migrated; seeding the seed-scale company: {args.users:,} people")
    t_seed = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "bench.cluster.setup_data", "--users", str(args.users)], cwd=ROOT,
                         env=setup_env, check=True, capture_output=True, text=True).stdout
    report["seed_seconds"] = round(time.monotonic() - t_seed, 1)
    log(f"seeded in {report['seed_seconds']} s")
    return json.loads(next(line for line in out.splitlines() if line.startswith("SETUP "))[6:])


def wait_healthy(cluster: Cluster, name: str, port: int, seconds: float = 300) -> None:
    wait_port(port, 120, cluster.procs[name])
    deadline = time.monotonic() + seconds
    while not healthy(port):  # the port is the master's; healthy once its workers have booted
        if cluster.procs[name].poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not come up: see {cluster.tmp / (name + '.log')}")
        time.sleep(0.5)


def start_apps(cluster: Cluster, args, ports: dict, env: dict) -> None:
    """The two app servers, the proxy in front of them, the two workers."""
    for name in ("app_a", "app_b"):
        start_app_server(cluster, name, ports[name], env, args.app_workers)
    cluster.start("proxy", [sys.executable, "-m", "bench.cluster.proxy", "--listen", str(ports["proxy"]),
                            "--backend", f"127.0.0.1:{ports['app_a']}", "--backend", f"127.0.0.1:{ports['app_b']}",
                            "--stats", str(cluster.tmp / "proxy_stats.json"),
                            "--maxconn", str(args.app_workers if args.maxconn < 0 else args.maxconn),
                            *(arg for path in args.bulk_path for arg in ("--bulk-path", path))])
    for name in ("worker_1", "worker_2"):
        start_worker(cluster, name, env)
    for name in ("app_a", "app_b"):
        wait_healthy(cluster, name, ports[name])
    wait_port(ports["proxy"], proc=cluster.procs["proxy"])
    log(f"two app servers ({args.app_workers} workers each) behind {env['LEADTHE_BASE_URL']}, two workers")


def sign_in_everyone(cluster: Cluster, args, ports: dict, data: dict):
    """The admin (person 0), the exporters and the learners sign in, each from an address of their own; the
    learners enrol in the run's course."""
    emails, password = data["emails"], data["password"]
    exporters = list(range(1, 1 + args.exports))
    learners = list(range(1 + args.exports, 1 + args.exports + args.learners))
    clients = {i: Client(ports["proxy"], person_ip(i)) for i in [0, *exporters, *learners]}
    with ThreadPoolExecutor(8) as pool:
        signed = dict(zip(clients, pool.map(lambda i: clients[i].sign_in(emails[i], password), clients)))
        failed = [emails[i] for i, ok in signed.items() if not ok]
        if failed:
            raise RuntimeError(f"{len(failed)} people could not sign in, e.g. {failed[:3]} (--keep, then see the logs)")

        def enrol(i):
            c = clients[i]
            return c.request("POST", f"/courses/{data['course']}/enroll", {"csrf_token": c.token})[0]

        enrolled = collections.Counter(pool.map(enrol, learners))
    log(f"{len(clients)} people signed in; learners enrolled (statuses {dict(enrolled)})")
    return clients, exporters, learners


def close_step_up_windows(url: str, emails: list[str]) -> None:
    """As if these people signed in more than five minutes ago: their next export asks for the password."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE user_session SET reauth_at = NULL WHERE user_id IN "
                             "(SELECT id FROM user_account WHERE email = ANY(:emails))"), {"emails": emails})
    engine.dispose()
    log(f"the {len(emails)} exporters' sign-ins no longer count as their step-up")


class Mix:
    """The mix itself: the learners and the exporters in processes of their own, the admin's publication, the
    two kills and restarts (here), then the drain."""

    def __init__(self, cluster, args, ports, env, data, clients, exporters, learners):
        self.cluster, self.args, self.ports, self.env, self.data = cluster, args, ports, env, data
        self.clients, self.exporters, self.learners = clients, exporters, learners
        self.events: list[dict] = []
        self.windows: list[tuple[str, float, float]] = []
        self.start_at = time.time() + 2

    def event(self, what, **extra):
        self.events.append({"t": round(time.time() - self.start_at, 1), "what": what, **extra})
        log(f"t={self.events[-1]['t']:>6} s  {what} {extra if extra else ''}")

    def wait_until(self, moment: float) -> None:
        while time.time() < moment:
            time.sleep(0.1)

    def play(self, url: str):
        args, emails, c = self.args, self.data["emails"], self.clients
        ctx = multiprocessing.get_context("fork")
        mix_results, export_results, stop_exports = ctx.Queue(), ctx.Queue(), ctx.Event()
        learner_args = [(emails[i], c[i].ip, c[i].cookies, c[i].token) for i in self.learners]
        export_args = [(emails[i], c[i].ip, c[i].cookies, c[i].token, self.data["password"]) for i in self.exporters]
        mix_proc = ctx.Process(target=learner_mix, daemon=True, args=(
            self.ports["proxy"], learner_args, self.data["course"], self.data["lessons"], self.start_at, args.seconds,
            1.0, mix_results))
        export_proc = ctx.Process(target=exports, daemon=True, args=(
            self.ports["proxy"], export_args, self.start_at + 1, self.start_at + args.seconds + args.drain_timeout,
            args.export_poll, export_results, stop_exports, args.exports_no_js))
        mix_proc.start()
        export_proc.start()
        self.wait_until(self.start_at + 3)
        policy: dict = {}

        def publish():  # beside the kills, which keep their schedule however long the publication takes
            policy.update(publish_policy(c[0]))
            self.event("AI-use policy published (everyone is mailed)", **policy["steps"])

        publisher = threading.Thread(target=publish, daemon=True)
        publisher.start()
        self.kill_worker()
        self.kill_app_server()
        publisher.join()
        mix = mix_results.get(timeout=args.seconds + 600)
        mix_proc.join(30)
        self.event("learner mix finished", requests=len(mix["requests"]))
        drained_at, export_rows = self.drain(url, export_results)
        if export_rows is None:
            stop_exports.set()
            export_rows = export_results.get(timeout=120)
        export_proc.join(30)
        return mix, export_rows, drained_at, policy

    def kill_worker(self) -> None:
        """SIGKILL worker 1 at 25% of the run, start it again ``--restart-after`` s later."""
        self.wait_until(self.start_at + self.args.seconds * 0.25)
        victim = self.cluster.procs["worker_1"]
        kill_at = time.time()
        victim.kill()
        victim.wait()
        self.event("SIGKILL worker_1", pid=victim.pid)
        time.sleep(self.args.restart_after)
        start_worker(self.cluster, "worker_1", self.env)
        self.event("worker_1 restarted", pid=self.cluster.procs["worker_1"].pid)
        self.windows.append(("worker_kill_window", kill_at, time.time() + 10))

    def kill_app_server(self) -> None:
        """SIGKILL app server A's gunicorn master at 55% of the run (after the worker's window); its workers
        that outlive it are killed at the restart, ``--restart-after`` s later (the machine is gone)."""
        self.wait_until(max(self.start_at + self.args.seconds * 0.55, self.windows[-1][2] + 1))
        cluster, victim = self.cluster, self.cluster.procs["app_a"]
        kill_at = time.time()
        victim.kill()
        victim.wait()
        self.event("SIGKILL app_a gunicorn master", pid=victim.pid)
        orphans_gone = None
        while time.time() < kill_at + self.args.restart_after:
            if orphans_gone is None and not cluster.group_alive(victim.pid):
                orphans_gone = round(time.time() - kill_at, 1)
            time.sleep(0.2)
        if cluster.group_alive(victim.pid):
            os.killpg(victim.pid, signal.SIGKILL)
            self.event("app_a's orphaned gunicorn workers still alive at restart: killed")
        else:
            self.event("app_a's gunicorn workers had exited by themselves",
                       within_s=orphans_gone or round(time.time() - kill_at, 1))
        start_app_server(cluster, "app_a", self.ports["app_a"], self.env, self.args.app_workers)
        wait_healthy(cluster, "app_a", self.ports["app_a"])
        self.event("app_a restarted and healthy", pid=cluster.procs["app_a"].pid)
        self.windows.append(("app_kill_window", kill_at, time.time() + 10))

    def drain(self, url: str, export_results):
        """Until no mail is pending or leased, no job is due, every policy mail is queued and the exporters are
        done (or ``--drain-timeout``): when the mail was drained, and the exporters' rows."""
        drained_at, export_rows, last_note = None, None, 0.0
        deadline = time.time() + self.args.drain_timeout
        while time.time() < deadline:
            if export_rows is None and not export_results.empty():
                export_rows = export_results.get(timeout=30)
                self.event("exports finished", downloaded=sum(1 for r in export_rows if r["download_status"] == 200))
            counts = db_counts(url)
            pending = counts["mails"].get("pending", 0) + counts["mails"].get("sending", 0)
            received = sum(received_ids(self.cluster.tmp / "received.txt").values())
            if drained_at is None and not pending and not counts["due_jobs"] and counts["policy_mails"] >= self.args.users:
                drained_at = time.time()
                self.event("mail drained", received=received, policy_mails=counts["policy_mails"])
            if drained_at is not None and export_rows is not None:
                break
            if time.time() - last_note > 30:
                last_note = time.time()
                self.event("draining", pending_mail=pending, received=received, due_jobs=counts["due_jobs"],
                           exports_done=export_rows is not None)
            time.sleep(2)
        return drained_at, export_rows


def observe(cluster: Cluster, ports: dict, env: dict, report: dict) -> None:
    """What an operator sees at the end (/healthz, /metrics from the server the proxy picks), the proxy's counters."""
    observer = Client(ports["proxy"])
    status, _, body = observer.request("GET", "/healthz")
    report["healthz"] = {"status": status, "body": body.decode("utf-8", "replace").strip()[:500]}
    status, _, body = observer.request("GET", "/metrics",
                                       headers={"Authorization": f"Bearer {env['LEADTHE_METRICS_TOKEN']}"})
    lines = body.decode("utf-8", "replace").splitlines() if status == 200 else []
    report["metrics"] = {"status": status, "series": sum(1 for line in lines if line and line[0] != "#")}
    proxy = cluster.procs["proxy"]
    proxy.send_signal(signal.SIGTERM)
    proxy.wait(10)
    stats = cluster.tmp / "proxy_stats.json"
    report["proxy"] = json.loads(stats.read_text()) if stats.exists() else {}


def problems_of(checks: dict, args) -> list[str]:
    problems = []
    if checks["completions"]["lost"]:
        problems.append(f"{checks['completions']['lost']} completions lost")
    if checks["mail"]["missing"] or checks["mail"]["duplicates"]:
        problems.append(f"mail: {checks['mail']['missing']} missing, {checks['mail']['duplicates']} duplicates")
    if checks["mail"]["by_kind"].get("ai_policy", 0) < args.users:
        problems.append(f"only {checks['mail']['by_kind'].get('ai_policy', 0)} of {args.users} policy mails queued")
    e = checks["exports"]
    if not (e["created"] == e["ready"] == e["downloaded_matching"] == args.exports):
        problems.append(f"exports: {e['created']} created, {e['ready']} ready, {e['downloaded_matching']} downloaded "
                        f"with matching size of {args.exports}")
    return problems


def print_report(report: dict, args) -> None:
    mix, checks = report["learner_mix"], report["checks"]
    print(f"\nCluster run: {args.users:,} people, {args.learners} learners for {args.seconds} s, {args.exports} exports, "
          f"2 app servers x {args.app_workers} sync workers, 2 workers; PostgreSQL: {report['postgres']}; "
          f"load {report['machine']['load_before'][0]:.1f} -> {report['machine']['load_after'][0]:.1f}")
    print(f"  {'learner mix':<22} {'requests':>8} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  errors")
    for name in ("overall", "worker_kill_window", "app_kill_window"):
        f = mix.get(name)
        if f:
            print(f"  {name:<22} {f['requests']:>8} {f.get('req_per_s', ''):>6} {f['p50_ms'] or 0:>7} "
                  f"{f['p95_ms'] or 0:>7} {f['p99_ms'] or 0:>7}  {f['errors'] or '-'}")
    for page, f in mix["per_page"].items():
        print(f"    {page:<20} {f['requests']:>8} {'':>6} {f['p50_ms'] or 0:>7} {f['p95_ms'] or 0:>7} "
              f"{f['p99_ms'] or 0:>7}  {f['errors'] or '-'}")
    print(f"  p95 ms by {TIMELINE_SLICE} s of the mix: " + " ".join(f"{f['from_s']}s:{f['p95_ms']}" for f in mix.get("timeline", [])))
    cpu = report.get("cpu")
    if cpu:
        print(f"  cores busy over the mix (of {os.cpu_count()}): "
              + ", ".join(f"{tier} {cores}" for tier, cores in cpu["mix_cores_busy"].items()))
        print(f"  cores busy by {TIMELINE_SLICE} s of the mix: " + " ".join(
            f"{row['from_s']}s:{row['cores_busy']}(app {row['by_tier'].get('app servers', 0)}, "
            f"pg {row['by_tier'].get('PostgreSQL', 0)})" for row in cpu["timeline"]))
    c, m, e = checks["completions"], checks["mail"], checks["exports"]
    print(f"  completions: {c['seen_by_clients']} seen by clients, {c['rows']} in the database, lost {c['lost']}")
    print(f"  mail: {m['outbox_rows']} queued {m['by_kind']}, {m['distinct_received']} received, duplicates "
          f"{m['duplicates']}, missing {m['missing']}; drained {m['seconds_to_drain']} s after the publication")
    print(f"  exports: {e['requested']} requested at once, {e['created']} created, {e['ready']} READY, {e['downloaded']} "
          f"downloaded ({e['downloaded_matching']} with matching size); all ready after {e['seconds_to_all_ready']} s; "
          f"download statuses {e['download_statuses']}")
    print(f"  proxy: {report['proxy']}")
    print(f"  /healthz at the end: {report['healthz']['status']} {report['healthz']['body'][:200]}; /metrics (token): "
          f"{report['metrics']['status']}, {report['metrics']['series']} series")
    print("  result: " + ("; ".join(report["problems"]) if report["problems"] else "nothing lost"))
    print(f"  (JSON: {args.json})")


if __name__ == "__main__":
    sys.exit(main())
