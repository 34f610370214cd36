"""Development-only pages. The blueprint is registered only when LEADTHE_ENV=development, and answers only
requests from this machine: the outbox holds every reset and invitation link."""
import ipaddress

import sqlalchemy as sa
from flask import Blueprint, abort, flash, url_for
from werkzeug.datastructures import MultiDict

from leadthe.extensions import db
from leadthe.confirmation import confirmation_page, confirmed
from leadthe.dev.forms import SampleForm
from leadthe.forms import EmptyForm
from leadthe.htmx import render, see_other
from leadthe.models import OutboxMail
from leadthe.net import client_ip

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.before_request
def _loopback_only():
    try:
        loopback = ipaddress.ip_address(client_ip()).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        abort(404)


@bp.route("/mail")
def mail_outbox():
    mails = db.session.scalars(sa.select(OutboxMail).order_by(OutboxMail.id.desc()).limit(50)).all()
    return render("dev/mail.html", mails=mails)


@bp.route("/styleguide", methods=["GET", "POST"])
def styleguide():
    """Every component of the design system on one page, for review and for the axe and Nu sweeps."""
    if EmptyForm().validate_on_submit():
        if not confirmed():
            return confirmation_page(title="Delete the sample?", message="This is the page people see without JavaScript.",
                                     button="Delete sample", cancel_url=url_for("dev.styleguide"))
        flash("Confirmed. (The style guide changes nothing.)", "success")
        return see_other(url_for("dev.styleguide"))
    form = SampleForm(formdata=MultiDict({"email": "not an address", "role": "learner"}), meta={"csrf": False})
    form.validate()
    return render("dev/styleguide.html", form=form, action_form=EmptyForm())
