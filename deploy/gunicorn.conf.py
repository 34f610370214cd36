"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py app:app`.

Sync workers behind a buffering reverse proxy (nginx, see deploy/nginx.conf): the proxy reads slow clients'
requests and responses, so a learner on a slow connection never holds a worker.
"""
import multiprocessing
import os
import re

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
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# keep client IPs out of the access log format beyond what the proxy already logs; the path only (%(U)s), never
# the query string (export download tokens, search words), with the tokens of mailed links cut out (below)
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'

# the routes whose last part is a secret token (a password reset, an invitation, ...): logged as ".../[token]"
TOKEN_PATH = re.compile(r"^(/(?:password/reset|invite|verify-email|account/email/confirm|privacy/delete/cancel"
                        r"|email/unsubscribe)/)[^/]+")


class TokenFreeAccessLog(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = TOKEN_PATH.sub(r"\1[token]", atoms["U"] or "")
        atoms["r"] = f"{atoms['m']} {atoms['U']} {atoms['H']}"
        atoms["q"] = ""
        return atoms


logger_class = TokenFreeAccessLog
