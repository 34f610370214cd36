"""``/login/sso`` (an address in a verified SSO domain goes to its company's identity provider) and
``/sso/welcome`` (the first log-in of a person created just in time: 18+ and the privacy policy, once)."""
from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from leadthe.auth.drafts import page_of_request
from leadthe.auth.views import log_in_again
from leadthe.auth.forms import SsoLoginForm, SsoWelcomeForm
from leadthe.auth.services import normalize_email
from leadthe.extensions import db, limiter
from leadthe.htmx import is_htmx, render, render_form, see_other
from leadthe.models import Organization
from leadthe.sso import bp, login
from leadthe.sso.claims import Refused
from leadthe.sso.settings import domain_of, settings_for_email


@bp.app_template_global("sso_reauth_url")
def sso_reauth_url() -> str | None:
    """For the step-up fields (``_forms.html`` ``reauth_fields``): a person without a password of their own
    confirms it is them at their company's identity provider, and comes back to this page."""
    if not current_user.is_authenticated or current_user.is_platform_staff:
        return None
    return login.reauth_url(current_user, page_of_request() or url_for("privacy.centre"))


@bp.route("/login/sso", methods=["GET", "POST"])
@limiter.limit("30 per minute;300 per day", methods=["POST"])
def login_start():
    """The address alone: its domain's company, if single sign-on is on, sends the person to its identity
    provider. Whether a DOMAIN uses single sign-on is no secret; nothing is said about the address itself."""
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    if request.method == "GET" and is_htmx() and "email" in request.args:
        # the log-in page's hint under the address (htmx only; without it the POST says the same)
        settings = settings_for_email(normalize_email(request.args.get("email", ""))[:254])
        return render("sso/login_hint.html", uses_sso=settings is not None)
    form = SsoLoginForm()
    if form.validate_on_submit():
        email = normalize_email(form.email.data)
        settings = settings_for_email(email)
        if settings is not None:
            return see_other(login.start_url(settings, email, request.args.get("next")))
        form.email.errors.append(_("Addresses at %(domain)s do not use single sign-on. Log in with your password "
                                   "instead.", domain=domain_of(email)))
    return render_form("sso/login.html", form, block="sso_login_form")


@bp.route("/sso/welcome", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def welcome():
    """A person's first log-in through the identity provider: their name, 18+ and the privacy policy, then
    the account is made (role learner) and signed in."""
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    pending = login.pending_welcome()
    if pending is None:
        login.end_welcome()
        return log_in_again()
    org = db.session.get(Organization, pending.settings.org_id)
    form = SsoWelcomeForm(name=pending.claims.name or None)
    if form.validate_on_submit():
        try:
            return login.complete_welcome(pending, form.name.data)
        except Refused as refused:
            login.end_welcome()
            return login.refuse(pending.settings.org_id, refused.reason, **refused.details)
    return render_form("sso/welcome.html", form, block="welcome_form", org=org, email=pending.claims.email)
