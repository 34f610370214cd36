"""Public legal pages: versioned policies with history, changes and acknowledgements."""
from flask import Blueprint

bp = Blueprint("legal", __name__)

from leadthe.legal import views  # noqa: E402,F401
from leadthe.legal import staff_views  # noqa: E402,F401
