"""Progress e-mails (enrolled, halfway, completed, inactivity reminder, managers' weekly digest) and the
one-click unsubscribe."""
from flask import Blueprint

bp = Blueprint("progress", __name__)
