"""Development-only pages. The blueprint is registered only when LEADTHE_ENV=development, and answers only
requests from this machine: the outbox holds every reset and invitation link."""
import ipaddress

import sqlalchemy as sa
from flask import Blueprint, abort

from leadthe.extensions import db
from leadthe.htmx import render
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
