"""Development-only pages. The blueprint is registered only when LEADTHE_ENV=development, and answers only
requests from this machine: the outbox holds every reset and invitation link."""
import ipaddress
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, abort, current_app

from leadthe.extensions import db
from leadthe.htmx import render
from leadthe.models import OutboxMail, utcnow
from leadthe.models.enums import MailStatus
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
    smtp = bool(current_app.config.get("SMTP_URL"))
    now = utcnow()
    return render("dev/mail.html", mails=[(m, mail_status(m, smtp, now)) for m in mails], smtp=smtp)


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "at an unknown time"
    seconds = int((now - moment).total_seconds())
    stamp = moment.strftime("%d %b %Y %H:%M UTC")
    if seconds < 0:
        return f"in {_span(-seconds)} ({stamp})"
    return f"{_span(seconds)} ago ({stamp})" if seconds >= 60 else f"just now ({stamp})"


def _span(seconds: int) -> str:
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def mail_status(mail: OutboxMail, smtp: bool, now: datetime) -> tuple[str, str]:
    """(status word, what happened in words) for one outbox mail."""
    tries = f"{mail.attempts} attempt{'s' if mail.attempts != 1 else ''}"
    if mail.status == MailStatus.SENT:
        return "sent", f"sent {_when(mail.sent_at, now)}."
    if mail.status == MailStatus.FAILED:
        return "failed", (f"failed for good after {tries} (queued {_when(mail.created_at, now)}): "
                          f"{mail.last_error or 'no error recorded'}.")
    if mail.status == MailStatus.SENDING:
        return "sending", f"being sent by the worker now (queued {_when(mail.created_at, now)})."
    if not smtp:
        return "kept", f"not sent, as no LEADTHE_SMTP_URL is set; queued {_when(mail.created_at, now)}."
    if mail.attempts:
        return "pending", f"waiting to be sent again after {tries} (last error: {mail.last_error}); next try {_when(mail.next_attempt_at, now)}."
    return "pending", f"waiting for the worker; queued {_when(mail.created_at, now)}."
