"""Progress e-mails (enrolled, halfway, completed, inactivity reminder, managers' weekly digest) and the
one-click unsubscribe."""
from flask import Blueprint

bp = Blueprint("progress", __name__)

from leadthe.progress import views  # noqa: E402,F401
