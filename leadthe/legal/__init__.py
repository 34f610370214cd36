"""Public legal pages. Versioned policies with history and change notices come with the consent work."""
from flask import Blueprint, render_template

bp = Blueprint("legal", __name__)

POLICY_VERSION = 1
POLICY_EFFECTIVE = "27 November 2026"


@bp.route("/privacy/policy")
def privacy_policy():
    return render_template("legal/privacy_policy.html", version=POLICY_VERSION, effective=POLICY_EFFECTIVE)
