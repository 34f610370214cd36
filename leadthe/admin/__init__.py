"""Company admin area (grows with the teams and reporting work)."""
from functools import wraps

from flask import Blueprint, abort
from flask_login import current_user, login_required

from leadthe.models.enums import Role
from leadthe.trust.works_council import MIN_GROUP, template_mode

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if current_user.role != Role.ADMIN or current_user.org_id is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.app_template_global("works_council_mode")
def _works_council_mode() -> bool:
    # for every template, imported macros too (trust/_works_council.html): the signed-in person's company, once per request
    return template_mode()


@bp.app_template_global("works_council_min")
def _works_council_min() -> int:
    return MIN_GROUP
