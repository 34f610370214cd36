"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py app:app`.

Sync workers behind a buffering reverse proxy (nginx, see deploy/nginx.conf): the proxy reads slow clients'
requests and responses, so a learner on a slow connection never holds a worker.
"""
import json
import logging
import multiprocessing
import os
import re
import shutil
import tempfile
import time

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
threads = 1
timeout = 30
graceful_timeout = 30
keepalive = 2
max_requests = 2000          # recycle workers now and then (bounded memory growth)
max_requests_jitter = 200
# the app is imported once, in the master, and each worker is a fork of it: a (re)started server or a recycled
# worker costs a fork, not the 2-3 s of CPU an import takes, which on a busy machine the other server's requests
# would wait for. New code therefore needs a restart (or USR2), not a HUP; see post_fork for what a fork must not share
preload_app = True
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# keep client IPs out of the access log format beyond what the proxy already logs; the path only (%(U)s), never
# the query string (export download tokens, search words), with the tokens of mailed links cut out (below)
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'

JSON_LOGS = os.environ.get("LEADTHE_LOG_FORMAT", "").strip().lower() == "json"

# the routes whose last part is a secret token (a password reset, an invitation, ...): logged as ".../[token]"
TOKEN_PATH = re.compile(r"^(/(?:password/reset|invite|verify-email|account/email/confirm|privacy/delete/cancel"
                        r"|email/unsubscribe)/)[^/]+")


class JsonLineFormatter(logging.Formatter):
    """gunicorn's own lines (start, worker boot and exit, timeouts) as JSON objects, like the app's."""

    def format(self, record):
        line = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}+00:00",
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class TokenFreeAccessLog(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        if JSON_LOGS:  # LEADTHE_LOG_FORMAT=json (below)
            for handler in self.error_log.handlers + self.access_log.handlers:
                handler.setFormatter(JsonLineFormatter())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = TOKEN_PATH.sub(r"\1[token]", atoms["U"] or "")
        atoms["r"] = f"{atoms['m']} {atoms['U']} {atoms['H']}"
        atoms["q"] = ""
        return atoms


logger_class = TokenFreeAccessLog

# --- metrics and logs (README "Operations: metrics and logs", deploy/README.md "Metrics and logs") ------------
#
# Prometheus multi-process mode: every worker writes its counters and histograms to files in
# PROMETHEUS_MULTIPROC_DIR, and /metrics on any worker answers the sum of all of them. The directory is this
# master's own (a fresh one under the temp folder unless the environment names one); files of processes that are
# gone are removed at start, and a worker that exits is marked dead (its live gauges drop out; its counts stay).
# A `leadthe worker` on the same machine may share the directory: its job metrics then appear in this /metrics.
#
# LEADTHE_LOG_FORMAT=json: gunicorn's own lines are JSON objects too, and its access log is off, as the app writes
# one JSON line per request itself (with its request id, endpoint, status and duration; never the path).

if JSON_LOGS:
    accesslog = None


_OWN_DIR = []  # the directory this master made itself, removed when it exits


def _multiproc_dir() -> str:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if not path:
        path = os.path.join(tempfile.gettempdir(), f"leadthe-prometheus-{os.getpid()}")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path  # set before the app (and prometheus_client) is imported
        _OWN_DIR.append(path)
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_multiproc_dir()  # before the master imports the app (preload_app): prometheus_client reads it on import


def post_fork(server, worker):
    """A worker never uses the master's database connections (the master opens none; this makes sure): a
    connection shared by two processes mixes their conversations."""
    from leadthe.extensions import db

    with server.app.wsgi().app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def on_starting(server):
    """Before the first worker: what every worker would otherwise do on its first requests (templates compiled,
    object storage's client descriptions read; leadthe.ops.warmup), and the metrics directory without the files
    of processes that no longer run."""
    if server.cfg.preload_app:
        from leadthe.ops.warmup import warm_up

        warm_up(server.app.wsgi())
    path = _multiproc_dir()
    for name in os.listdir(path):
        pid = name.rsplit("_", 1)[-1].removesuffix(".db")
        if name.endswith(".db") and (not pid.isdigit() or not _alive(int(pid))):
            os.unlink(os.path.join(path, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess  # in the master only; the workers import it with the app

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    for path in _OWN_DIR:
        shutil.rmtree(path, ignore_errors=True)
