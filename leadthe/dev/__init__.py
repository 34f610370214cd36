"""Development-only pages. The blueprint is registered only when LEADTHE_ENV=development."""
import sqlalchemy as sa
from flask import Blueprint, render_template

from leadthe.extensions import db
from leadthe.models import OutboxMail

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.route("/mail")
def mail_outbox():
    mails = db.session.scalars(sa.select(OutboxMail).order_by(OutboxMail.id.desc()).limit(50)).all()
    return render_template("dev/mail.html", mails=mails)
