from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from leadthe.account import views  # noqa: E402,F401
from leadthe.account import security_views  # noqa: E402,F401
from leadthe.account import preferences  # noqa: E402,F401
