from flask import Blueprint

bp = Blueprint("consent", __name__)

from leadthe.consent import views  # noqa: E402,F401
