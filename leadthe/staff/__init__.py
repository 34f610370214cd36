"""LeadThe.AI staff console. Everyone without a platform role gets 404 here, as if it did not exist."""
from functools import wraps

from flask import Blueprint, abort
from flask_login import current_user

bp = Blueprint("staff", __name__, url_prefix="/staff")


def staff_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_platform_staff:
            abort(404)
        return view(*args, **kwargs)

    return wrapper

