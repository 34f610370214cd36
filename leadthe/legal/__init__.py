"""Public legal pages: versioned policies with history, changes and acknowledgements."""
from flask import Blueprint

bp = Blueprint("legal", __name__)
