"""Operations: /metrics for Prometheus, request ids and JSON logs (issue 23)."""
from flask import Blueprint

bp = Blueprint("ops", __name__)
