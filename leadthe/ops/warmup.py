"""Work a gunicorn master does once, before it forks its workers (``preload_app``, deploy/gunicorn.conf.py).

A worker forked from the master shares what the master read. Left to themselves, each worker would pay the same
costs on its first requests, all at once after a (re)start, while the other server carries the traffic:
- every template compiled (about 220; a page's first render otherwise compiles its templates);
- with object storage, boto3 imported and its service descriptions read (about a second of CPU per process,
  most of it parsing botocore's JSON files), so a worker's first download or upload only makes its client.

Nothing here opens a connection: a socket shared by forked processes would mix their conversations.
"""
from __future__ import annotations

import logging
import time

from flask import Flask

from leadthe.storage import storage

log = logging.getLogger(__name__)


def warm_up(app: Flask) -> dict:
    """Compile every template and prepare the object-storage client's descriptions; returns what it did."""
    started = time.perf_counter()
    compiled = 0
    for name in app.jinja_env.list_templates(filter_func=lambda n: n.endswith((".html", ".txt", ".xml", ".svg"))):
        app.jinja_env.get_template(name)
        compiled += 1
    with app.app_context():
        prepared = storage(app).warm_up()
    done = {"templates": compiled, "object_storage": prepared, "seconds": round(time.perf_counter() - started, 2)}
    log.info("warmed up before forking the workers: %s", done)
    return done
