"""Request ids and log lines without personal data.

Every request gets an id: the caller's ``X-Request-Id`` when it looks like an id (letters, digits and ``._:-``,
at most 128 characters; a proxy's or load balancer's id), else a new random one. It is in ``g.request_id``,
answered in the ``X-Request-Id`` header and, with ``LEADTHE_LOG_FORMAT=json``, in every log line of the request.
A job run by the worker puts its id and kind in its lines instead.

Whatever the format, log messages pass through ``scrub``: e-mail addresses, IP addresses, bearer tokens, long
token-like strings and query strings are replaced before a line is written.
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request

log = logging.getLogger("leadthe.request")

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
# (what, replacement) in order: a bearer token before the generic long-token rule, a URL's query before the rest
SCRUBS = (
    (re.compile(r"(?i)\b(bearer|token|password|secret|key)([=: ]+)[^\s&\"',;]+"), r"\1\2[hidden]"),
    (re.compile(r"([^\s?\"'<>]*)\?[^\s\"'<>]+"), r"\1?[query]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?<![\w.:])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"), "[ip]"),
    (re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){3,7}[0-9a-fA-F]{1,4}(?![\w:])|(?<![\w:])[0-9a-fA-F:]*::[0-9a-fA-F:]+"), "[ip]"),
    # a long run of token characters with both letters and digits (a code's identifiers have no digits, as a rule)
    (re.compile(r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{24,}(?:\.[\w-]+)*"), "[token]"),
)
JOB_CONTEXT: contextvars.ContextVar[dict | None] = contextvars.ContextVar("leadthe_job_context", default=None)
HANDLER_NAME = "leadthe-json"


def scrub(text: str) -> str:
    for pattern, replacement in SCRUBS:
        text = pattern.sub(replacement, text)
    return text


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def _context() -> dict:
    """The fields of the current request, or of the job the worker is running."""
    if has_request_context():
        return {"request_id": g.get("request_id"), "endpoint": request.endpoint}
    return dict(JOB_CONTEXT.get() or {})


class ScrubbingFormatter(logging.Formatter):
    """The plain text format, scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the request's (or job's) fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        line.update({k: v for k, v in _context().items() if v is not None})
        if record.exc_info and isinstance(getattr(record.exc_info[1], "leadthe_job", None), dict):
            line.update(record.exc_info[1].leadthe_job)  # a job's failure, logged after the job's own context ended
        for field in ("status", "method", "duration_ms", "job_id", "job_kind"):
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def install_json_handler(stream=None) -> logging.Handler:
    """Every log line as JSON on ``stream`` (default: stderr), replacing the root logger's handlers."""
    root = logging.getLogger()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.name = HANDLER_NAME
    handler.setFormatter(JsonFormatter())
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler


def configure_logging(app: Flask) -> None:
    """Called by create_app: JSON lines when LEADTHE_LOG_FORMAT=json, else the plain format (scrubbed)."""
    if app.config.get("LOG_FORMAT") == "json":
        if not any(h.name == HANDLER_NAME for h in logging.getLogger().handlers):
            install_json_handler()
    elif not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
        for handler in logging.getLogger().handlers:
            handler.setFormatter(ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def init_request_ids(app: Flask) -> None:
    """Registered before every other hook: the id exists for the first line any hook logs, and the answer
    (and, with JSON logs, one line per request) is written after every other hook ran."""

    @app.before_request
    def _assign_request_id():
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if SAFE_ID.match(incoming) else new_request_id()
        g.request_started = time.perf_counter()

    @app.after_request
    def _answer_request_id(response):
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-Id"] = rid
        if app.config.get("LOG_FORMAT") == "json" and app.config.get("LOG_REQUESTS", True):
            started = g.get("request_started")
            took = round((time.perf_counter() - started) * 1000, 1) if started else None
            # the endpoint's name only: no path (ids, link tokens), no query string, no address, no user
            log.info("%s %s %s", request.method, request.endpoint or "-", response.status_code,
                     extra={"status": response.status_code, "method": request.method, "duration_ms": took})
        return response
