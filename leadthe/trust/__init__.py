"""Trust for buyers and works councils (issue 21): what companies' procurement, privacy officers and works councils
ask for, built from the personal-data registry.

- ``bp`` (no prefix): ``/privacy/access-log`` (who looked at my data), ``/legal/subprocessors`` (public list).
- ``admin_bp`` (under ``/admin``): ``/admin/records-of-processing`` (Article 30, the company's view).
- ``staff_bp`` (under ``/staff``): ``/staff/records-of-processing``, legal holds.

Modules: ``access_log`` (recording views of a person's data by someone else), ``holds`` (legal holds: what
erasure and retention must skip), ``records`` (records of processing generated from the registry),
``subprocessors`` (the versioned sub-processor list the records name as recipients, with change notices and
objections); ``*_views`` hold the routes.
The tamper-evident audit chain is core (``leadthe/audit_chain.py``), next to ``leadthe/audit.py``.
"""
from flask import Blueprint

bp = Blueprint("trust", __name__)
admin_bp = Blueprint("trust_admin", __name__, url_prefix="/admin")
staff_bp = Blueprint("trust_staff", __name__, url_prefix="/staff")
