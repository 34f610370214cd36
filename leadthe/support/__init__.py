from flask import Blueprint

bp = Blueprint("support", __name__)

from leadthe.support import views  # noqa: E402,F401
