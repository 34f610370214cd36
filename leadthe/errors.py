"""Error pages in the site's layout; never a stack trace."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError
from flask_babel import lazy_gettext as _l

from leadthe.extensions import db, login_manager

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Something in that request was not right"), _l("Please go back, reload the page and try again.")),
    403: (_l("You don't have access to this page"), _l("Your role does not include this. Your company's admin can help.")),
    404: (_l("We can't find that page"), _l("The link may be out of date, or the page was removed.")),
    405: (_l("That action isn't available here"), _l("Please go back and use the page's buttons and links.")),
    413: (_l("That upload is too large"), _l("Please choose a smaller file (at most 5 MB) and try again.")),
    429: (_l("Too many attempts"), _l("For your security we paused this for a little while. Please wait a few minutes, then try again.")),
    500: (_l("Something went wrong on our side"), _l("We have noted the problem. Please try again in a moment; nothing you saved is lost.")),
    503: (_l("LeadThe.AI is briefly unavailable"), _l("We can't reach our database right now. Please try again in a minute.")),
}


def render_error(code: int, detail: str | None = None):
    title, text = (str(t) for t in MESSAGES.get(code, MESSAGES[500]))
    if request.path.startswith("/healthz") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=title), code
    try:
        return render_template("errors/error.html", code=code, title=title, text=detail or text), code
    except Exception:  # noqa: BLE001 - the error page itself must not fail (e.g. database down)
        log.exception("error page failed")
        return f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{text}</p>", code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(SecurityError)
    def _untrusted_host(_err):
        # a Host that is not LEADTHE_BASE_URL's (TRUSTED_HOSTS): no URL can be built for it, so no layout
        return "<!doctype html><title>Bad request</title><h1>Bad request</h1>", 400

    @app.errorhandler(CSRFError)
    def _csrf(err):
        return render_error(400, str(_l("This form expired or was sent from elsewhere. Please reload the page and try again.")))

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
        _without_database_user()
        return render_error(503)

    @app.errorhandler(Exception)
    def _unexpected(err):
        log.exception("unhandled error on %s %s", request.method, request.path)
        _rollback()
        return render_error(500)


def _without_database_user():
    """The layout asks who is signed in; with the database gone that question fails again, so the error
    page is drawn for a visitor (the session cookie is untouched: the person is still signed in after)."""
    g._login_user = login_manager.anonymous_user()
    g.pop("layout_state", None)


def _rollback():
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001
        pass
