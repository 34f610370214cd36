"""The invitee's side: GET, POST /invite/<token> creates the account and signs the person in (the GET parks
the token in the session and goes on to /invite, see leadthe/link_tokens.py)."""
from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from leadthe import audit
from leadthe.admin import people
from leadthe.admin.forms import AcceptInvitationForm
from leadthe.auth.sessions import end_session, start_session
from leadthe.billing.seats import INVITEE_MESSAGE, NoSeats
from leadthe.extensions import db, limiter
from leadthe.htmx import render, render_form, see_other
from leadthe.link_tokens import forget_token, park_token, parked_token
from leadthe.models import Organization

invite_bp = Blueprint("invite", __name__)


@invite_bp.route("/invite", methods=["GET", "POST"], defaults={"token": None})
@invite_bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def accept(token):
    inv = people.invitation_for_token(parked_token("invite", token))
    if inv is None:
        return render("admin/invite_invalid.html", status=404)
    if token and request.method == "GET":
        return park_token("invite", token)
    org = db.session.get(Organization, inv.org_id)
    form = AcceptInvitationForm(name=inv.name or None)
    form._email_hint = inv.email
    form._user_inputs = [org.name if org is not None else ""]
    if form.validate_on_submit():
        if people.has_account(inv.email):  # e.g. in another company: no second account
            form.name.errors.append(_("An account with this e-mail address already exists. Log in instead."))
        else:
            try:
                user = people.accept_invitation(inv, name=form.name.data, password=form.password.data)
            except NoSeats:  # the company reduced its seats below its invitations: the invitee is not told why
                return render("admin/invite_invalid.html", status=403, message=str(INVITEE_MESSAGE))
            if current_user.is_authenticated:
                end_session()
            forget_token("invite")
            start_session(user)
            audit.record("login.success", actor=user, subject=user, via="invitation")
            db.session.flush()
            flash(_("Welcome to %(org)s, %(name)s!", org=user.organization.name, name=user.first_name), "success")
            return see_other(url_for("core.dashboard"))
    return render_form("admin/invite_accept.html", form, block="invite_accept_form", inv=inv, org=org)
