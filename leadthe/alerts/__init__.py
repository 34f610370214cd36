"""Signs of attack reach platform staff (issue 23).

- ``detect``: the three detectors, run at the moment of the event, in the audit event's own short transaction
  (``leadthe.audit.watch``): a burst of failed log-ins across many accounts from one network, a burst of 404s
  on other companies' ids from one account (``leadthe.tenancy`` reports each such 404 through
  ``leadthe.signals.cross_company_miss``), a SCIM token used from a network not seen for it before. Each raises
  a ``SecurityAlert`` linked to the audit events behind it and mails the staff alert mailbox.
- ``views`` (``staff_bp``, under ``/staff``): ``/staff/security-alerts`` (list, open first),
  ``/staff/security-alerts/<id>`` (details, the audit events, acknowledge or close).
"""
from flask import Blueprint

staff_bp = Blueprint("alerts_staff", __name__, url_prefix="/staff")
