"""The AI-literacy programme (EU AI Act, Article 4): evidence of AI-literacy measures a company runs and can show.

- ``bp`` (people of the company): ``/ai-tools`` (the approved AI tools and their rules), ``/ai-policy``
  (the company's AI-use policy, acknowledged on a material change).
- ``admin_bp`` (under ``/admin``; org admins, managers for their teams on the overview): the tools
  inventory, the policy editor, requirement rules, the programme overview and the evidence pack.

Modules: ``tools`` (inventory), ``policy`` (versions, acknowledgements), ``rules`` (requirement rules and
how they follow people), ``status`` (current / due soon / overdue / not started, as SQL), ``overview``
(aggregate figures), ``evidence`` (the pack, built by the worker), ``reminders`` (mails and the digest).
"""
from flask import Blueprint

bp = Blueprint("literacy", __name__)
admin_bp = Blueprint("literacy_admin", __name__, url_prefix="/admin")
