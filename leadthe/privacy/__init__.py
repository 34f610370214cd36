from flask import Blueprint

bp = Blueprint("privacy", __name__, url_prefix="/privacy")

from leadthe.privacy import views  # noqa: E402,F401
from leadthe.privacy import retention  # noqa: E402,F401  (registers the daily job)
