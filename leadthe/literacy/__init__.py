"""The AI-literacy programme (EU AI Act, Article 4): evidence of AI-literacy measures a company runs and can show.

- ``bp`` (people of the company): ``/ai-tools`` (the approved AI tools and their rules), ``/ai-policy``
  (the company's AI-use policy, acknowledged on a material change).
- ``admin_bp`` (under ``/admin``; org admins, managers for their teams on the overview): the tools
  inventory, the policy editor, requirement rules, the programme overview and the evidence pack.

Modules: ``tools`` (inventory), ``policy`` (versions, acknowledgements), ``rules`` (requirement rules and
how they follow people), ``status`` (current / due soon / overdue / not started, as SQL), ``overview``
(aggregate figures), ``evidence`` (the pack, built by the worker), ``reminders`` (mails and the digest).
"""
from flask import Blueprint, current_app
from flask_babel import gettext as _
from flask_login import current_user

bp = Blueprint("literacy", __name__)
admin_bp = Blueprint("literacy_admin", __name__, url_prefix="/admin")


# The programme's pages, in the order of the second row of the admin sub-navigation (admin/_nav.html):
# (endpoint, label, who: "admin" or "manager" for managers too). A page shows up once its view exists.
TABS = (
    ("literacy_admin.overview", "Overview", "manager"),
    ("literacy_admin.requirements", "Requirements", "admin"),
    ("literacy_admin.ai_policy", "AI-use policy", "admin"),
    ("literacy_admin.ai_tools", "AI tools", "admin"),
    ("literacy_admin.evidence", "Evidence pack", "admin"),
)


@admin_bp.app_context_processor
def _literacy_tabs():
    """``literacy_tabs``: the programme's pages the signed-in admin (or manager) may open, as (endpoint, label)."""
    if not getattr(current_user, "is_authenticated", False) or current_user.role not in ("admin", "manager"):
        return {"literacy_tabs": []}
    labels = {"Overview": _("Overview"), "Requirements": _("Requirements"), "AI-use policy": _("AI-use policy"),
              "AI tools": _("AI tools"), "Evidence pack": _("Evidence pack")}
    tabs = [(endpoint, labels[label]) for endpoint, label, who in TABS
            if endpoint in current_app.view_functions and (current_user.role == "admin" or who == "manager")]
    return {"literacy_tabs": tabs}
