from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from flask_login import current_user, login_required
from flask_babel import gettext as _

from leadthe import audit
from leadthe.account.security import must_set_up_2fa
from leadthe.auth import bp
from leadthe.auth import drafts, services
from leadthe.auth import twofactor
from leadthe.auth.forms import ForgotPasswordForm, KeepAccountForm, LoginForm, RecoveryCodeLoginForm, ResetPasswordForm, SecondFactorForm, SignupForm
from leadthe.auth.passwords import burn_equal_time, personal_inputs
from leadthe.auth.sessions import end_session, seconds_left, start_session
from leadthe.extensions import db, limiter
from leadthe.forms import EmptyForm
from leadthe.htmx import is_htmx, render, render_form, see_other
from leadthe.link_tokens import forget_token, park_token, parked_token
from leadthe.net import client_ip, safe_next
from leadthe.privacy.erasure import cancel_erasure, erasure_waits, scheduled_erasure
from leadthe.sso import login as sso_login
from leadthe.sso.settings import domain_of, settings_for_email
from leadthe.trust import dpa


def _posted_email() -> str:
    return "acct:" + services.normalize_email(request.form.get("email", ""))[:254]


def _posted_email_from_client() -> str:
    """The log-in lock-out's bucket: one account from one client address. Keyed on the account alone, a
    stranger who knows someone's address could lock them out by typing wrong passwords; this way they
    only lock themselves out. Guessing from many addresses is held back by the per-address limit,
    bcrypt, the strength rule for passwords and two-step verification."""
    return _posted_email() + "|" + client_ip()


def _audit_lockout(request_limit) -> None:
    user = services.find_user_by_email(request.form.get("email", ""))
    audit.record_apart("login.locked", subject=user, limit=str(request_limit.limit))  # the 429 is rolled back


def _after_login_url(user) -> str:
    if must_set_up_2fa(user):
        return url_for("account.twofa_setup")
    # staff and the DPO work in their console; everyone else starts on their dashboard
    home = url_for("staff.console") if user.is_platform_staff else url_for("core.dashboard")
    return safe_next(request.args.get("next") or drafts.kept_page(), home)



def _single_sign_on(form) -> tuple:
    """An address of a domain whose company uses single sign-on: (the redirect to its identity provider, or
    None; the start URL to offer when the company requires single sign-on and refused the password)."""
    settings = settings_for_email(form.email.data)
    if settings is None:
        return None, None
    url = sso_login.start_url(settings, services.normalize_email(form.email.data),
                              request.args.get("next") or drafts.kept_page())
    if not form.password.data:
        return see_other(url), None
    user = services.find_user_by_email(form.email.data)
    if not services.password_login_refused(settings, user):
        return None, None
    burn_equal_time(form.password.data)  # as long as a password check: who the break-glass admin is stays unsaid
    audit.record_apart("sso.password_refused", org_id=settings.org_id, subject=user,
                       domain=domain_of(services.normalize_email(form.email.data)))
    form.password.errors.append(_("Your company signs you in through its identity provider, not with a password here."))
    return None, url


def _password_login(form):
    """The password (and 2FA) log-in as it always was: (the answer, or None; the error to show)."""
    result = services.authenticate(form.email.data, form.password.data)
    if result.user is not None and result.user.has_2fa:
        services.begin_second_step(result.user, _after_login_url(result.user))
        audit.record("login.password_ok", subject=result.user)
        db.session.flush()
        return see_other(url_for("auth.login_2fa")), None
    if result.user is not None:
        next_url = _after_login_url(result.user)
        services.finish_login(result.user, proved_now=True)
        db.session.flush()
        return see_other(next_url), None
    if result.refused is not None and scheduled_erasure(result.refused) is not None:
        # the right password during the deletion's grace period: offer to keep the account
        services.begin_keep_account(result.refused, safe_next(request.args.get("next"), url_for("core.dashboard")))
        return see_other(url_for("auth.keep_account")), None
    if result.refused is not None and erasure_waits(result.refused):
        return None, _("Your deletion request has been received; it will be carried out as soon as the law allows.")
    return None, result.error  # a refusal: rolled back; its audit event was written apart


def _pending_account() -> str:
    return "login-2fa:" + (services.pending_user_id() or client_ip())


def _failed(response) -> bool:
    return response.status_code != 303 and "HX-Redirect" not in response.headers


def _audit_2fa_lockout(request_limit) -> None:
    user = services.pending_second_step()
    audit.record_apart("login.2fa_locked", subject=user, limit=str(request_limit.limit))  # the 429 is rolled back


def log_in_again():
    """A log-in step whose earlier step is gone (it took too long, or was interrupted): back to the log-in."""
    flash(_("Your log-in took too long or was interrupted. Please log in again."), "info")
    url = url_for("auth.login")
    return see_other(url) if is_htmx() or request.method != "GET" else redirect(url)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = services.create_company(
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                organization=form.organization.data,
                job_title=form.job_title.data,
                department=form.department.data,
            )
        except services.EmailTaken:
            form.email.errors.append(_("An account with this e-mail address already exists. Log in, or reset your password if you forgot it."))
        else:
            if form.accept_dpa.data:
                dpa.accept(user, dpa.shown_version(form.dpa_version.data),
                           legal_name=form.legal_name.data or form.organization.data, via="signup")
            start_session(user)
            audit.record("login.success", actor=user, subject=user, via="signup")
            db.session.flush()
            flash(_("Welcome, %(name)s! We sent a link to %(email)s to confirm your address.", name=user.first_name, email=user.email), "success")
            return see_other(url_for("core.dashboard"))
    if not form.dpa_version.data:
        form.dpa_version.data = str(dpa.current_fact().version)  # the version the page shows and links to
    return render_form("auth/signup.html", form, block="signup_form")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per minute;300 per day", methods=["POST"])
@limiter.limit(
    "10 per 15 minutes",
    key_func=_posted_email_from_client,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 303 and "HX-Redirect" not in response.headers,
    on_breach=_audit_lockout,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = LoginForm()
    form.email.render_kw = {**(form.email.render_kw or {}), "data-hx-get": url_for("sso.login_start"),
                            "data-hx-trigger": "change", "data-hx-target": "#sso-hint", "data-hx-swap": "innerHTML"}
    error = sso_url = None
    if form.validate_on_submit():
        answer, sso_url = _single_sign_on(form)
        if answer is not None:
            return answer
        if not sso_url and not form.password.data:
            form.password.errors.append(_("Enter your password."))
        elif not sso_url:
            answer, error = _password_login(form)
            if answer is not None:
                return answer
    ended = {"idle": _("You were signed out after a while without activity. Please log in again."),
             "expired": _("Your session reached its maximum length. Please log in again."),
             "revoked": _("This session was signed out. Please log in again.")}.get(request.args.get("ended", ""))
    return render_form("auth/login.html", form, block="login_form", invalid=bool(error or sso_url), error=error,
                       ended=ended, kept=drafts.pending(), sso_url=sso_url)


@bp.route("/login/keep-account", methods=["GET", "POST"])
@limiter.limit("30 per minute;300 per day", methods=["POST"])
@limiter.limit("10 per 15 minutes", key_func=_pending_account, methods=["POST"], deduct_when=_failed)
def keep_account():
    """The deletion's grace period: after the correct password (and the code, with two-step verification),
    "Keep my account" cancels the deletion and signs the person in."""
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    user = services.pending_keep_account()
    req = scheduled_erasure(user) if user is not None else None
    if req is None:
        services.end_keep_account()
        return log_in_again()
    form = KeepAccountForm()
    error = None
    if form.validate_on_submit():
        used = twofactor.check_second_factor(user, form.code.data or "") if user.has_2fa else "password"
        if used:
            next_url = services.keep_account_next(url_for("core.dashboard"))
            cancel_erasure(req)
            services.end_keep_account()
            services.finish_login(user, proved_now=True, second_factor=used, kept_account=True)
            db.session.flush()
            flash(_("Welcome back. Your account is kept: the deletion is cancelled."), "success")
            return see_other(url_for("account.twofa_setup") if must_set_up_2fa(user) else next_url)
        audit.record_apart("login.2fa_failed", subject=user)
        error = _("That code is not valid, or it was already used. Wait for the next code and try again.")
    return render_form("auth/keep_account.html", form, block="keep_form", invalid=bool(error), error=error,
                       req=req, needs_code=user.has_2fa)


@bp.route("/login/2fa", methods=["GET", "POST"])
@limiter.limit("30 per minute;300 per day", methods=["POST"])
@limiter.limit("10 per 15 minutes", key_func=_pending_account, methods=["POST"], deduct_when=_failed,
               on_breach=_audit_2fa_lockout)
def login_2fa():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    user = services.pending_second_step()
    if user is None:
        services.end_second_step()
        return log_in_again()
    recovery = request.args.get("recovery") == "1"
    form = RecoveryCodeLoginForm() if recovery else SecondFactorForm()
    error = None
    if form.validate_on_submit():
        used = twofactor.check_second_factor(user, form.code.data)
        if used:
            next_url = services.second_step_next(url_for("core.dashboard"))
            services.finish_login(user, proved_now=True, second_factor=used)
            db.session.flush()
            if used == "recovery":
                left = twofactor.recovery_codes_left(user)
                flash(_("You used a recovery code; %(num)s left. Make new ones on your security page if you run low.", num=left), "info")
            return see_other(next_url)
        audit.record_apart("login.2fa_failed", subject=user)  # kept although the refusal is rolled back
        error = (_("That recovery code is not valid, or it was already used.") if recovery else
                 _("That code is not valid, or it was already used. Wait for the next code and try again."))
    return render_form("auth/login_2fa.html", form, block="twofa_form", invalid=bool(error), error=error, recovery=recovery)


@bp.app_context_processor
def _session_context():
    # base.html's <body data-session-left>: the idle warning (static/js/session.js) starts from it
    return {"session_seconds_left": seconds_left}


def _time_left():
    response = jsonify(left=seconds_left(), idle=seconds_left(idle_only=True))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/session/status")
@login_required
def session_status():
    """For the idle warning: the seconds the session has left. Not activity: it does not keep the session alive."""
    return _time_left()


@bp.route("/session/refresh", methods=["POST"])
@login_required
def session_refresh():
    """"Stay signed in": a request like any other keeps the session alive (the CSRF check ran already)."""
    return _time_left()


@bp.route("/logout", methods=["POST"])
def logout():
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        audit.record("logout", actor=current_user, subject=current_user)
        end_session()
        db.session.flush()
    flash(_("You are logged out."), "info")
    response = see_other(url_for("auth.login"))
    # the browser removes what this site stored (offline copies, queued changes, the service worker: issue 22);
    # cookies are left to the session logic (the flash message above travels in one)
    response.headers["Clear-Site-Data"] = '"storage"'
    return response


@bp.route("/verify-email", methods=["GET", "POST"], defaults={"token": None})
@bp.route("/verify-email/<token>", methods=["GET", "POST"])
def verify_email(token):
    user = services.user_for_verification(parked_token("verify", token))
    form = EmptyForm()
    if user is None:
        return render("auth/verify_email.html", status=400, invalid=True, form=form)
    if token and request.method == "GET":
        return park_token("verify", token)
    if request.method == "POST" and form.validate_on_submit():
        services.confirm_email(user)
        forget_token("verify")
        db.session.flush()
        flash(_("Thank you, your e-mail address is confirmed."), "success")
        return see_other(url_for("core.dashboard") if current_user.is_authenticated else url_for("auth.login"))
    return render("auth/verify_email.html", invalid=False, form=form, user=user)


@bp.route("/account/verify-email/resend", methods=["POST"])
@login_required
@limiter.limit("3 per hour")
def resend_verification():
    form = EmptyForm()
    if form.validate_on_submit() and current_user.email_verified_at is None:
        services.send_verification(current_user)
        db.session.flush()
        flash(_("We sent a new confirmation link to %(email)s.", email=current_user.email), "success")
    return see_other(url_for("core.dashboard"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
@limiter.limit("3 per hour", key_func=_posted_email, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.flush()
        settings = settings_for_email(form.email.data)
        if settings is not None and settings.sso_required:
            # said of the whole domain (as the log-in page does), never of the one address
            flash(_("Addresses at %(domain)s log in through their company's identity provider: use “Log in with "
                    "single sign-on”, no password is needed.", domain=domain_of(services.normalize_email(form.email.data))),
                  "info")
        return render_form("auth/forgot_password.html", form, block="forgot_form", sent=True)
    return render_form("auth/forgot_password.html", form, block="forgot_form", sent=False)


@bp.route("/password/reset", methods=["GET", "POST"], defaults={"token": None})
@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def reset_password(token):
    user = services.user_for_reset(parked_token("reset", token))
    if user is None:
        return render("auth/reset_password.html", status=400, invalid=True, form=None)
    if token and request.method == "GET":
        return park_token("reset", token)
    form = ResetPasswordForm()
    form._email_hint = user.email
    form._user_inputs = personal_inputs(user)
    if form.validate_on_submit():
        services.reset_password(user, form.password.data)
        forget_token("reset")
        if current_user.is_authenticated:
            end_session()
        db.session.flush()
        flash(_("Your password is changed and you were signed out everywhere. Log in with the new password."), "success")
        return see_other(url_for("auth.login"))
    return render_form("auth/reset_password.html", form, block="reset_form", invalid=False)
