"""Read-only for admins' changes after the grace period, and the billing banner on admin pages.

While a company is read-only (``accounts.is_read_only``: past due beyond the grace period, cancelled and
ended, a trial that ran out), its people's changes under ``/admin/`` are refused with a page that says why
and links to the billing page (``templates/billing/read_only.html``, 403). Never refused:

- the billing pages themselves (``/admin/billing…``): paying lifts it;
- changes that remove or protect people's data (``PROTECTIVE``): deactivating or closing a person, revoking
  an invitation, removing someone from a team, reporting a person as under age, revoking the SCIM token;
  and a few that change nothing (the Markdown preview, hiding the onboarding hint);
- everything outside ``/admin/``: learners keep learning, managers their own learning, everyone their
  account settings and privacy rights.

SCIM and single sign-on add nobody to a read-only company: the seat check refuses it (``seats.check_room``).
The account is read once per request at most (``current_account``, kept on ``g``) and never written here.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user

from leadthe.billing import accounts, admin_bp
from leadthe.billing.seats import billing_page_url
from leadthe.database import refuse_request
from leadthe.htmx import is_htmx, render
from leadthe.models import utcnow
from leadthe.models.billing import BillingAccount
from leadthe.models.enums import BillingStatus

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PROTECTIVE = frozenset({
    "admin.user_deactivate", "admin.user_close", "admin.invitation_revoke", "admin.team_remove_member",
    "admin.report_minor_view", "sso_admin.revoke_scim_token",
    "admin_authoring.preview_markdown", "admin.dismiss_onboarding",  # change nothing that is paid for
    "trust_admin.dpa",  # accepting the data processing agreement: a legal record, and the admin pages wait for it
})
TRIAL_WARNING_DAYS = 7


def init_app(app: Flask) -> None:
    app.before_request(refuse_when_read_only)
    app.context_processor(_billing_context)


def _company_org_id() -> int | None:
    user = current_user
    if not user.is_authenticated or user.is_platform_staff:
        return None
    return user.org_id


def current_account(org_id: int) -> BillingAccount:
    """The company's account for this request (one query, then kept on ``g``)."""
    cached = g.get("_billing_account")
    if cached is None or cached.org_id != org_id:
        cached = g._billing_account = accounts.account_view(org_id)
    return cached


def _under_admin(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")


def _on_billing(path: str) -> bool:
    prefix = admin_bp.url_prefix
    return path == prefix or path.startswith(prefix + "/")


def guarded(method: str, path: str, endpoint: str | None) -> bool:
    """Whether a request is an admin's change that a read-only company may not make."""
    return method in WRITES and _under_admin(path) and not _on_billing(path) and endpoint not in PROTECTIVE


def refuse_when_read_only():
    if not guarded(request.method, request.path, request.endpoint):
        return None
    org_id = _company_org_id()
    if org_id is None:
        return None
    account = current_account(org_id)
    if not accounts.is_read_only(account):
        return None
    refuse_request()
    return render("billing/read_only.html", block="read_only", status=200 if is_htmx() else 403,
                  reason=why_read_only(account), billing_url=billing_page_url())


def why_read_only(account: BillingAccount) -> str:
    since = accounts.read_only_since(account)
    if account.status == BillingStatus.PAST_DUE:
        return _("Your company's payment has been past due since %(date)s, and the %(days)s days of grace ended on %(end)s.",
                 date=_day(account.past_due_since), days=current_app.config["BILLING_GRACE_DAYS"], end=_day(since))
    if account.status == BillingStatus.CANCELLED:
        return _("Your company's subscription was cancelled and ended on %(date)s.", date=_day(since))
    return _("Your company's free trial ended on %(date)s.", date=_day(since))


def _day(when) -> str:
    # the layout's own date format (the ``date`` filter), in the reader's language
    return current_app.jinja_env.filters["date"](when) if when is not None else "—"


# --- the banner on admin pages -------------------------------------------------------------------------

def banner_state(account: BillingAccount, now=None) -> dict | None:
    """What the admin banner says, or None: read-only; past due (and the day it becomes read-only); a trial
    that ends within 7 days."""
    now = now or utcnow()
    since = accounts.read_only_since(account)
    if since is None:
        return None
    if since <= now:
        return {"kind": "read_only", "reason": why_read_only(account)}
    if account.status == BillingStatus.PAST_DUE:
        return {"kind": "past_due", "until": since}
    if account.status == BillingStatus.TRIALING and since - now <= timedelta(days=TRIAL_WARNING_DAYS):
        return {"kind": "trial_ending", "until": since}
    return None


def _billing_banner():
    """Only for a company's admins on admin pages; nobody else costs a query."""
    org_id = _company_org_id()
    if org_id is None or current_user.role != "admin" or not _under_admin(request.path):
        return None
    return banner_state(current_account(org_id))


def _billing_context() -> dict:
    return {"billing_banner": _billing_banner, "billing_page_url": billing_page_url}
