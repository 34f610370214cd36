"""LeadThe.AI: the application factory."""
from __future__ import annotations

import os
import threading

from flask import Flask, flash, g, has_request_context, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix

import leadthe.auth.sessions  # noqa: F401  (registers the user loader)
import leadthe.tenancy  # noqa: F401  (registers the tenant filter)
from leadthe.account import bp as account_bp
from leadthe.alerts import detect as alerts_detect, staff_bp as alerts_staff_bp
from leadthe.account.preferences import DEFAULTS, LANGUAGES, ui_preferences
from leadthe.account.security import require_2fa_setup
from leadthe.admin import admin_required, bp as admin_bp
from leadthe.admin.invite_views import invite_bp
from leadthe.analytics import init_analytics
from leadthe.assessments import bp as assessments_bp
from leadthe.assessments import services as assessments_services
from leadthe.auth import bp as auth_bp, drafts
from leadthe.auth.reauth import recently_reauthenticated
from leadthe.cli import leadthe_cli
from leadthe.compression import init_compression
from leadthe.config import load_config, trusted_hosts
from leadthe.consent import bp as consent_bp
from leadthe.consent.services import banner_needed, browser_signal
from leadthe.core import bp as core_bp
from leadthe.courses import bp as courses_bp
from leadthe.courses.authoring_views import authoring_bp
from leadthe.database import configure_engine, guard_read_requests, one_transaction_per_request, read_request_mode
from leadthe.dev import bp as dev_bp
from leadthe.errors import register_error_handlers
from leadthe.extensions import babel, csrf, db, limiter, login_manager, migrate
from leadthe.htmx import is_htmx, see_other
from leadthe.i18n import (compile_translations, format_count, format_day, format_percent, format_weekday, format_when,
                          legacy_ldate)
from leadthe.labels import label
from leadthe.courses import translation as content_translation
from leadthe.lab import admin_bp as lab_admin_bp, bp as lab_bp
from leadthe.leaderboard import bp as leaderboard_bp
from leadthe.literacy import admin_bp as literacy_admin_bp, bp as literacy_bp
from leadthe.literacy import rules as literacy_rules
from leadthe.literacy import policy as literacy_policy
from leadthe.legal import bp as legal_bp
from leadthe.legal.services import pending_notice
from leadthe.net import reject_nul_bytes
from leadthe.ops import bp as ops_bp
from leadthe.ops.logs import configure_logging, init_request_ids
from leadthe.ops.telemetry import init_request_metrics
from leadthe.privacy import bp as privacy_bp
from leadthe.scim import bp as scim_bp
from leadthe.trust import admin_bp as trust_admin_bp, bp as trust_bp, staff_bp as trust_staff_bp
from leadthe.billing import admin_bp as billing_admin_bp, hooks_bp as billing_hooks_bp, staff_bp as billing_staff_bp
from leadthe.billing import guard as billing_guard
from leadthe.sso import admin_bp as sso_admin_bp, bp as sso_bp
from leadthe.progress import bp as progress_bp
from leadthe.progress import services as progress_services
from leadthe.security_headers import init_security_headers
from leadthe.staff import bp as staff_bp, staff_required
from leadthe.staff.services import recent_notices
from leadthe.support.notices import pending_ownership_notice  # issue 21, ownership
from leadthe.static_files import init_static
from leadthe.support import bp as support_bp
from leadthe.template_speed import init_template_speed
from leadthe.tenancy import activate_tenant, deactivate_tenant
from leadthe.worker import start_inline_worker

# Each area's package only defines its blueprint; these modules add their routes (and jobs) to it, so they
# are imported before the blueprints are registered.
import leadthe.account.preferences  # noqa: F401
import leadthe.account.security_views  # noqa: F401
import leadthe.account.views  # noqa: F401
import leadthe.admin.assignment_views  # noqa: F401
import leadthe.admin.maturity_views  # noqa: F401
import leadthe.admin.people_views  # noqa: F401
import leadthe.admin.report_views  # noqa: F401
import leadthe.admin.team_views  # noqa: F401
import leadthe.literacy.requirements_views  # noqa: F401
import leadthe.admin.views  # noqa: F401
import leadthe.assessments.certificate_views  # noqa: F401
import leadthe.assessments.certificates  # noqa: F401
import leadthe.assessments.jobs  # noqa: F401
import leadthe.assessments.maturity_views  # noqa: F401
import leadthe.assessments.views  # noqa: F401
import leadthe.auth.views  # noqa: F401
import leadthe.consent.views  # noqa: F401
import leadthe.core.views  # noqa: F401
import leadthe.courses.views  # noqa: F401
import leadthe.courses.offline  # noqa: F401  (issue 22: offline copies of lessons)
import leadthe.dev.views  # noqa: F401
import leadthe.lab.admin_views  # noqa: F401
import leadthe.lab.jobs  # noqa: F401
import leadthe.lab.views  # noqa: F401
import leadthe.leaderboard.views  # noqa: F401
import leadthe.literacy.lesson_rules  # noqa: F401
import leadthe.literacy.jobs  # noqa: F401
import leadthe.literacy.policy_views  # noqa: F401
import leadthe.literacy.tools_views  # noqa: F401
import leadthe.legal.jobs  # noqa: F401
import leadthe.legal.views  # noqa: F401
import leadthe.literacy.overview_views  # noqa: F401
import leadthe.literacy.evidence_views  # noqa: F401
import leadthe.ops.views  # noqa: F401  (issue 23: /metrics)
import leadthe.billing.jobs  # noqa: F401
import leadthe.billing.admin_views  # noqa: F401
import leadthe.billing.invoice_views  # noqa: F401
import leadthe.billing.staff_views  # noqa: F401
import leadthe.billing.webhook_views  # noqa: F401
import leadthe.privacy.jobs  # noqa: F401
import leadthe.privacy.retention  # noqa: F401
import leadthe.privacy.views  # noqa: F401
import leadthe.progress.jobs  # noqa: F401
import leadthe.progress.views  # noqa: F401
import leadthe.scim.views  # noqa: F401
import leadthe.sso.admin_views  # noqa: F401
import leadthe.sso.oidc_views  # noqa: F401
import leadthe.sso.saml_views  # noqa: F401
import leadthe.sso.views  # noqa: F401
import leadthe.staff.console  # noqa: F401
import leadthe.staff.jobs  # noqa: F401
import leadthe.staff.policy_views  # noqa: F401
import leadthe.staff.views  # noqa: F401
import leadthe.support.views  # noqa: F401
import leadthe.alerts.views  # noqa: F401  (issue 23: security alerts for staff)
import leadthe.trust.access_views  # noqa: F401
import leadthe.trust.hold_views  # noqa: F401
import leadthe.trust.jobs  # noqa: F401
import leadthe.trust.records_views  # noqa: F401
import leadthe.trust.dpa_views  # noqa: F401  (issue 21: the data processing agreement)
from leadthe.trust.dpa import require_acceptance as dpa_gate  # noqa: E402
import leadthe.admin.jobs  # noqa: F401  (issue 21, wcsettings: works-council mode notices)
import leadthe.trust.annex_views  # noqa: F401  (issue 21, wcsettings: the works-council annex)
import leadthe.trust.subprocessor_views  # noqa: F401


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("LEADTHE_INSTANCE_PATH") or None)
    app.config.update(load_config(app.instance_path))
    if test_config:
        app.config.update(test_config)
    if app.config["TRUSTED_HOSTS"] is None:
        app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config["SERVER_BASE_URL"])
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    _init_logging(app)
    _init_ops(app)
    _init_proxy(app)
    _init_extensions(app)
    _init_blueprints(app)
    _init_signals()
    _init_request_hooks(app)
    _init_responses(app)
    _init_errors(app)
    _init_cli(app)
    init_template_speed(app)  # last: it checks the URL rules and url_defaults of every blueprint
    _maybe_start_worker(app)
    return app


def _init_logging(app: Flask) -> None:
    configure_logging(app)  # plain lines, or JSON with LEADTHE_LOG_FORMAT=json; scrubbed of personal data either way


def _init_ops(app: Flask) -> None:
    """Request metrics and request ids: their hooks come before every other one, so the time measured covers the
    others (the commit among them) and the id exists for every line the others log."""
    init_request_metrics(app)
    init_request_ids(app)


def _init_proxy(app: Flask) -> None:
    hops = int(os.environ.get("LEADTHE_PROXY_HOPS", "0") or 0)
    if hops:
        # no x_host: the host comes from the Host header, which TRUSTED_HOSTS checks against LEADTHE_BASE_URL
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    compile_translations()  # builds the .mo files from the .po catalogues when they are missing or stale
    login_manager.init_app(app)
    login_manager.session_protection = None  # server-side session records do this job
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."  # shown via _unauthorized, translated there
    login_manager.login_message_category = "info"
    login_manager.unauthorized_handler(_unauthorized)
    with app.app_context():
        configure_engine(db.engine)


def _select_locale():
    """The person's choice (account, else a consented preference cookie), then the browser's languages."""
    if not has_request_context():
        return "en"  # worker and command line; a mail picks its recipient's language itself (leadthe.mail.queue_mail)
    try:
        chosen = ui_preferences().get("language")
    except Exception:  # noqa: BLE001 - e.g. the database is down: fall back to the browser
        chosen = None
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def _layout_state() -> dict:
    """What the layout needs on every page: cookie banner, preferences, a pending policy notice.
    Called from the template, so error pages without a database still render (it degrades to defaults)."""
    if "layout_state" in g:
        return g.layout_state
    try:
        state = {"prefs": ui_preferences(), "banner": banner_needed(), "signal": browser_signal(),
                 "notice": pending_notice(current_user), "notices": [],
                 # a change of ownership: on every page until the person closes it
                 "ownership": pending_ownership_notice(current_user),
                 # the company's AI-use policy to acknowledge (not on its own page, which has the button)
                 "ai_policy": request.endpoint != "literacy.ai_policy" and literacy_policy.pending_for(current_user)}
        if request.endpoint == "core.dashboard":
            state["notices"] = recent_notices()
    except Exception:  # noqa: BLE001
        state = {"prefs": dict(DEFAULTS), "banner": False, "signal": "", "notice": None, "notices": [], "ai_policy": False,
                 "ownership": None}
    g.layout_state = state
    return state


def _unauthorized():
    """To the log-in, with the page to come back to: the page itself (for htmx, the page the fragment was
    asked for, from HX-Current-URL), or after a form posted into an ended session, the form's page,
    which comes back filled (leadthe.auth.drafts)."""
    ended = g.get("session_ended")
    page = drafts.page_of_request()
    args = {"next": page} if page else {}
    if ended in ("idle", "expired", "revoked"):
        args["ended"] = ended
        drafts.keep_posted_form(page)
    else:
        flash(_("Please log in to see that page."), "info")
    url = url_for("auth.login", **args)
    return see_other(url) if is_htmx() or request.method != "GET" else redirect(url)


def _init_blueprints(app: Flask) -> None:
    app.register_blueprint(core_bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(legal_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(consent_bp)
    app.register_blueprint(support_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(authoring_bp, name="staff_authoring", url_prefix="/staff", guard=staff_required,
                           owner_of=lambda user: None)  # platform courses
    app.register_blueprint(admin_bp)
    app.register_blueprint(authoring_bp, name="admin_authoring", url_prefix="/admin", guard=admin_required,
                           owner_of=lambda user: user.org_id)  # the company's private courses
    app.register_blueprint(assessments_bp)
    app.register_blueprint(invite_bp)
    app.register_blueprint(leaderboard_bp)
    app.register_blueprint(progress_bp)
    app.register_blueprint(literacy_bp)
    app.register_blueprint(literacy_admin_bp)
    app.register_blueprint(lab_bp)
    app.register_blueprint(lab_admin_bp)
    app.register_blueprint(sso_bp)
    app.register_blueprint(sso_admin_bp)
    csrf.exempt(scim_bp)  # a bearer token, no cookie: nothing for a cross-site request to ride on
    app.register_blueprint(scim_bp)
    app.register_blueprint(billing_admin_bp)
    app.register_blueprint(billing_staff_bp)
    csrf.exempt(billing_hooks_bp)  # the processor signs its webhooks (checked on every call); no cookie is involved
    app.register_blueprint(billing_hooks_bp)
    app.register_blueprint(trust_bp)
    app.register_blueprint(trust_admin_bp)
    app.register_blueprint(trust_staff_bp)
    app.register_blueprint(alerts_staff_bp)
    app.register_blueprint(ops_bp)  # /metrics (token-guarded; 404 without LEADTHE_METRICS_TOKEN)
    if app.config["LEADTHE_ENV"] == "development":
        app.register_blueprint(dev_bp)


def _init_signals() -> None:
    """Cross-area reactions (leadthe/signals.py) connect here, not when the sending module is imported.
    Connecting the same receiver again (another app in the same process) changes nothing."""
    assessments_services.connect_signals()
    progress_services.connect_signals()
    literacy_rules.connect_signals()
    literacy_policy.connect_signals()
    alerts_detect.connect_signals()  # signs of attack: audit watchers and the tenancy's cross-company 404s (issue 23)
    content_translation.install()  # course content in the reader's language as it loads


def _init_request_hooks(app: Flask) -> None:
    app.before_request(reject_nul_bytes)  # first: before the user loader or any view queries with it
    guard_read_requests(app)
    one_transaction_per_request(app)

    @app.before_request
    def _load_user_and_tenant():
        # health checks never touch the user: a load balancer must get the JSON answer even with a cookie
        if request.endpoint in ("static", "core.healthz", "ops.metrics"):
            return
        read_request_mode(db.session)
        user = current_user._get_current_object()
        org_id = user.org_id if user.is_authenticated and not user.is_platform_staff else None
        g._tenant_token = activate_tenant(org_id)

    # after the user and tenant are known: a company that requires two-step verification sends its
    # members without it to the set-up page before anything else
    app.before_request(require_2fa_setup)
    billing_guard.init_app(app)  # read-only for admins' changes after the grace period; the admin billing banner
    app.before_request(dpa_gate)  # company admins accept the current data processing agreement first (issue 21)

    @app.teardown_request
    def _clear_tenant(_exc):
        token = g.pop("_tenant_token", None)
        if token is not None:
            deactivate_tenant(token)


def _init_responses(app: Flask) -> None:
    # after_request hooks run last-registered first: compression must run last, so it is registered first.
    init_compression(app)
    init_security_headers(app)
    init_static(app)
    init_analytics(app)

    @app.context_processor
    def _layout_context():
        return {"csrf_token": generate_csrf, "recently_reauthenticated": recently_reauthenticated,
                "layout": _layout_state, "get_locale": get_locale}

    # one format per kind, in the interface language: `when|date`, `when|datetime`, `day|weekday`, `n|count`;
    # stored values in words: `user.role|label("role")` (leadthe/labels.py)
    app.jinja_env.filters.update(date=format_day, datetime=format_when, weekday=format_weekday, count=format_count, percent=format_percent,
                                 ldate=legacy_ldate, label=label,
                                 content_lang=content_translation.language_of,
                                 other_language=content_translation.other_language,
                                 language_name=content_translation.language_name)


def _init_errors(app: Flask) -> None:
    register_error_handlers(app)


def _init_cli(app: Flask) -> None:
    app.cli.add_command(leadthe_cli)


def _maybe_start_worker(app: Flask) -> None:
    """Run the outbox/job worker in a thread of the web process (``make run``), started with the first
    request so that CLI commands like ``flask db upgrade`` never start one."""
    if not app.config.get("INLINE_WORKER") or app.testing:
        return
    lock = threading.Lock()
    started = []

    @app.before_request
    def _start_worker_once():
        if started:
            return
        with lock:
            if not started:
                started.append(start_inline_worker(app))
