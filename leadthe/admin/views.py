from flask import flash, url_for
from flask_login import current_user

from leadthe.admin import admin_required, bp
from leadthe.extensions import db
from leadthe.forms import EmptyForm
from leadthe.htmx import see_other
from leadthe.models import User
from leadthe.privacy.erasure import report_minor
from leadthe.tenancy import get_or_404


@bp.route("/users/<int:user_id>/report-minor", methods=["POST"])
@admin_required
def report_minor_view(user_id):
    user = get_or_404(User, user_id)  # another company's person is a 404
    if EmptyForm().validate_on_submit() and user.id != current_user.id:
        report_minor(user, current_user)
        db.session.commit()
        flash(f"{user.name}'s account is locked and is being deleted.", "success")
    return see_other(url_for("core.dashboard"))
