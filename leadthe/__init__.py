"""LeadThe.AI: the application factory."""
from __future__ import annotations

import logging
import os

from flask import Flask, g, request

from leadthe.config import load_config


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("LEADTHE_INSTANCE_PATH") or None)
    app.config.update(load_config(app.instance_path))
    if test_config:
        app.config.update(test_config)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    _init_logging(app)
    _init_proxy(app)
    _init_extensions(app)
    _init_blueprints(app)
    _init_request_hooks(app)
    _init_responses(app)
    _init_errors(app)
    _init_cli(app)
    _maybe_start_worker(app)
    return app


def _init_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _init_proxy(app: Flask) -> None:
    hops = int(os.environ.get("LEADTHE_PROXY_HOPS", "0") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _init_extensions(app: Flask) -> None:
    from leadthe.database import configure_engine
    from leadthe.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    login_manager.init_app(app)
    login_manager.session_protection = None  # server-side session records do this job
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"
    login_manager.unauthorized_handler(_unauthorized)
    with app.app_context():
        configure_engine(db.engine)

    import leadthe.auth.sessions  # noqa: F401  (registers the user loader)
    import leadthe.tenancy  # noqa: F401  (registers the tenant filter)


def _select_locale():
    from flask_login import current_user

    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    return request.accept_languages.best_match(["en"]) or "en"


def _unauthorized():
    from flask import flash, redirect, url_for

    from leadthe.htmx import is_htmx, see_other
    from leadthe.net import safe_next

    ended = g.get("session_ended")
    args = {"next": safe_next(request.full_path.rstrip("?"), "/dashboard")} if request.method == "GET" else {}
    if ended in ("idle", "expired", "revoked"):
        args["ended"] = ended
    else:
        flash("Please log in to see that page.", "info")
    url = url_for("auth.login", **args)
    return see_other(url) if is_htmx() or request.method != "GET" else redirect(url)


def _init_blueprints(app: Flask) -> None:
    from leadthe.account import bp as account_bp
    from leadthe.admin import bp as admin_bp
    from leadthe.privacy import bp as privacy_bp
    from leadthe.staff import bp as staff_bp
    from leadthe.auth import bp as auth_bp
    from leadthe.core import bp as core_bp
    from leadthe.legal import bp as legal_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(legal_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(admin_bp)
    if app.config["LEADTHE_ENV"] == "development":
        from leadthe.dev import bp as dev_bp

        app.register_blueprint(dev_bp)


def _init_request_hooks(app: Flask) -> None:
    from flask_login import current_user

    from leadthe.tenancy import activate_tenant, deactivate_tenant

    @app.before_request
    def _load_user_and_tenant():
        if request.endpoint == "static":
            return
        user = current_user._get_current_object()
        org_id = user.org_id if user.is_authenticated and not user.is_platform_staff else None
        g._tenant_token = activate_tenant(org_id)

    @app.teardown_request
    def _clear_tenant(_exc):
        token = g.pop("_tenant_token", None)
        if token is not None:
            deactivate_tenant(token)


def _init_responses(app: Flask) -> None:
    from leadthe.compression import init_compression
    from leadthe.security_headers import init_security_headers
    from leadthe.static_files import init_static

    # after_request hooks run last-registered first: compression must run last, so it is registered first.
    init_compression(app)
    init_security_headers(app)
    init_static(app)

    from flask_wtf.csrf import generate_csrf

    @app.context_processor
    def _layout_context():
        return {"csrf_token": generate_csrf}


def _init_errors(app: Flask) -> None:
    from leadthe.errors import register_error_handlers

    register_error_handlers(app)


def _init_cli(app: Flask) -> None:
    from leadthe.cli import leadthe_cli

    app.cli.add_command(leadthe_cli)


def _maybe_start_worker(app: Flask) -> None:
    """Run the outbox/job worker in a thread of the web process (``make run``), started with the first
    request so that CLI commands like ``flask db upgrade`` never start one."""
    if not app.config.get("INLINE_WORKER") or app.testing:
        return
    import threading

    lock = threading.Lock()
    started = []

    @app.before_request
    def _start_worker_once():
        if started:
            return
        with lock:
            if not started:
                from leadthe.worker import start_inline_worker

                started.append(start_inline_worker(app))
