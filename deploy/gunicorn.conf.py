"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py app:app`.

Sync workers behind a buffering reverse proxy (nginx, see deploy/nginx.conf): the proxy reads slow clients'
requests and responses, so a learner on a slow connection never holds a worker.
"""
import multiprocessing
import os

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
# keep client IPs out of the access log format beyond what the proxy already logs
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(L)ss'
