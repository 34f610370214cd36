"""Error pages in the site's layout; never a stack trace."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Something in that request was not right", "Please go back, reload the page and try again."),
    403: ("You don't have access to this page", "Your role does not include this. Your company's admin can help."),
    404: ("We can't find that page", "The link may be out of date, or the page was removed."),
    405: ("That action isn't available here", "Please go back and use the page's buttons and links."),
    413: ("That upload is too large", "Please choose a smaller file (at most 5 MB) and try again."),
    429: ("Too many attempts", "For your security we paused this for a little while. Please wait a few minutes, then try again."),
    500: ("Something went wrong on our side", "We have noted the problem. Please try again in a moment; nothing you saved is lost."),
    503: ("LeadThe.AI is briefly unavailable", "We can't reach our database right now. Please try again in a minute."),
}


def render_error(code: int, detail: str | None = None):
    title, text = MESSAGES.get(code, MESSAGES[500])
    if request.path.startswith("/healthz") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=title), code
    try:
        return render_template("errors/error.html", code=code, title=title, text=detail or text), code
    except Exception:  # noqa: BLE001 - the error page itself must not fail (e.g. database down)
        log.exception("error page failed")
        return f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{text}</p>", code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(err):
        return render_error(400, "This form expired or was sent from elsewhere. Please reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        if err.code is None or err.code < 400:
            return err
        response = render_error(err.code if err.code in MESSAGES else 400 if err.code < 500 else 500)
        if err.code == 405:
            body, code = response
            return body, code, {"Allow": ", ".join(err.valid_methods or [])}
        return response

    @app.errorhandler(sa.exc.OperationalError)
    def _db_down(err):
        log.error("database error: %s", err)
        _rollback()
        return render_error(503)

    @app.errorhandler(Exception)
    def _unexpected(err):
        log.exception("unhandled error on %s %s", request.method, request.path)
        _rollback()
        return render_error(500)


def _rollback():
    from leadthe.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001
        pass
