"""The security page: two-step verification, recovery codes, signed-in devices, recent security events."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user, login_required
from flask_babel import gettext as _, ngettext

from leadthe import audit
from leadthe.account import bp
from leadthe.account import security
from leadthe.account.security_forms import DisableTwoFactorForm, EnableTwoFactorForm, RegenerateCodesForm
from leadthe.auth import twofactor
from leadthe.auth.reauth import confirm_identity, show_problem
from leadthe.auth.sessions import end_session
from leadthe.extensions import db, limiter
from leadthe.forms import EmptyForm, distinct_ids
from leadthe.htmx import render, render_form, see_other
from leadthe.net import client_ip

# 2FA attempts: per IP (the limiter's default key) and per account
TWOFA_IP_LIMIT = "30 per 15 minutes"
TWOFA_ACCOUNT_LIMIT = "10 per 15 minutes"


def _account_key() -> str:
    if current_user.is_authenticated:
        return f"2fa-user:{current_user.id}"
    return "2fa-anon:" + client_ip()


def _security_context(**extra):
    current_id = g.user_session.id
    return dict(
        sessions=security.active_sessions(current_user, current_id),
        events=security.recent_events(current_user),
        codes_left=twofactor.recovery_codes_left(current_user) if current_user.has_2fa else 0,
        regenerate_form=distinct_ids(extra.pop("regenerate_form", None) or RegenerateCodesForm(), "regenerate"),
        button_form=EmptyForm(),
        required=security.must_keep_2fa(current_user),
        **extra,
    )


@bp.route("/security")
@login_required
def security_page():
    return render("account/security.html", **_security_context())


# --- set-up -----------------------------------------------------------------------------------------

def _setup_context(form=None):
    secret = current_user.totp_secret if not current_user.has_2fa else None
    context = {"form": form or EnableTwoFactorForm(), "start_form": EmptyForm(), "pending": bool(secret)}
    if secret:
        context.update(qr=twofactor.qr_svg(twofactor.provisioning_uri(current_user)),
                       key=twofactor.grouped_secret(secret))
    return context


@bp.route("/2fa/setup", methods=["GET"], endpoint="twofa_setup")
@login_required
def twofa_setup():
    if current_user.has_2fa:
        return redirect(url_for("account.security_page"))
    return render("account/twofa_setup.html", **_setup_context())


@bp.route("/2fa/setup", methods=["POST"], endpoint="twofa_start")
@login_required
@limiter.limit("20 per hour")
def twofa_start():
    if EmptyForm().validate_on_submit() and not current_user.has_2fa:
        twofactor.start_setup(current_user)
        db.session.flush()
    return see_other(url_for("account.twofa_setup"))


@bp.route("/2fa/enable", methods=["POST"], endpoint="twofa_enable")
@login_required
@limiter.limit(TWOFA_IP_LIMIT)
@limiter.limit(TWOFA_ACCOUNT_LIMIT, key_func=_account_key)
def twofa_enable():
    if current_user.has_2fa:
        return see_other(url_for("account.security_page"))
    form = EnableTwoFactorForm()
    if form.validate_on_submit():
        if not current_user.totp_secret:
            form.code.errors.append(_("Start the set-up first."))
        else:
            codes = twofactor.enable(current_user, form.code.data)
            if codes is not None:
                db.session.flush()
                # The codes exist in clear only in this response (only their hashes are stored), so this
                # page is the answer to the POST itself rather than a redirect to a page that could not show them.
                return render("account/recovery_codes.html", codes=codes, first_time=True)
            audit.record_apart("2fa.enable_failed", actor=current_user, subject=current_user)
            form.code.errors.append(_("That code is not right. Check the time on your phone, wait for a new code and try again."))
    return render_form("account/twofa_setup.html", form, invalid=True, **{k: v for k, v in _setup_context(form).items() if k != "form"})


@bp.route("/2fa/disable", methods=["GET", "POST"], endpoint="twofa_disable")
@login_required
@limiter.limit(TWOFA_IP_LIMIT, methods=["POST"])
@limiter.limit(TWOFA_ACCOUNT_LIMIT, key_func=_account_key, methods=["POST"])
def twofa_disable():
    """The confirmation page of turning two-step verification off (the security page links here): what it
    means, the password and a code, a red button."""
    form = DisableTwoFactorForm()
    if not current_user.has_2fa:
        return see_other(url_for("account.security_page"))
    if request.method == "GET":
        return render("account/twofa_disable.html", form=form, required=security.must_keep_2fa(current_user))
    if form.validate_on_submit():
        if security.must_keep_2fa(current_user):
            form.code.errors.append(_("Staff and DPO accounts must use two-step verification, so it cannot be turned off. "
                                      "You can make new recovery codes instead.") if current_user.is_platform_staff else
                                    _("Your company requires two-step verification, so it cannot be turned off. "
                                      "You can make new recovery codes instead."))
        else:
            # both factors every time, even right after another confirmation
            problem = confirm_identity(current_user, form.password.data, form.code.data, allow_recent=False)
            if problem:
                show_problem(form, problem)
            else:
                twofactor.disable(current_user)
                db.session.flush()
                flash(_("Two-step verification is off. We sent you an e-mail about it."), "success")
                return see_other(url_for("account.security_page"))
    return render_form("account/twofa_disable.html", form, invalid=True, required=security.must_keep_2fa(current_user))


@bp.route("/2fa/recovery-codes", methods=["POST"], endpoint="twofa_regenerate")
@login_required
@limiter.limit(TWOFA_IP_LIMIT)
@limiter.limit(TWOFA_ACCOUNT_LIMIT, key_func=_account_key)
def twofa_regenerate():
    form = RegenerateCodesForm()
    if not current_user.has_2fa:
        return see_other(url_for("account.security_page"))
    if form.validate_on_submit():
        problem = confirm_identity(current_user, form.password.data, form.code.data)
        if problem:
            show_problem(form, problem)
        else:
            codes = twofactor.new_recovery_codes(current_user)
            audit.record("2fa.recovery_codes_regenerated", actor=current_user, subject=current_user)
            db.session.flush()
            return render("account/recovery_codes.html", codes=codes, first_time=False)
    return render_form("account/security.html", form, invalid=True, **_security_context(regenerate_form=form))


# --- sessions ---------------------------------------------------------------------------------------
# Signing a device out is protective and undone by logging in again: with JavaScript the form asks in a dialog
# (data-confirm); without it, one click does it (a stolen device should be quick to cut off).

@bp.route("/sessions/<int:session_id>/revoke", methods=["POST"], endpoint="revoke_session")
@login_required
@limiter.limit("60 per hour")
def revoke_session(session_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    record = security.revoke_session(current_user, session_id)
    if record.id == g.user_session.id:
        end_session()
        db.session.flush()
        flash(_("You signed this device out."), "info")
        return see_other(url_for("auth.login"))
    db.session.flush()
    flash(_("That device is signed out. It has to log in again to get back in."), "success")
    return see_other(url_for("account.security_page") + "#sessions")


@bp.route("/sessions/revoke-others", methods=["POST"], endpoint="revoke_other_sessions")
@login_required
@limiter.limit("60 per hour")
def revoke_other_sessions():
    if not EmptyForm().validate_on_submit():
        abort(400)
    count = security.revoke_other_sessions(current_user, g.user_session.id)
    db.session.flush()
    flash(ngettext("Signed out %(num)s other device.", "Signed out %(num)s other devices.", count) if count
          else _("No other device was signed in."), "success")
    return see_other(url_for("account.security_page") + "#sessions")
