"""Company admin area (grows with the teams and reporting work)."""
from functools import wraps

from flask import Blueprint, abort
from flask_login import current_user, login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if current_user.role != "admin" or current_user.org_id is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


from leadthe.admin import views  # noqa: E402,F401
from leadthe.admin import people_views, report_views, team_views  # noqa: E402,F401

from leadthe.courses.authoring_views import register_authoring  # noqa: E402

# A company's private courses, with the same forms and services as the staff console.
register_authoring(bp, admin_required, lambda user: user.org_id, "admin")
