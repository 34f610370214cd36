"""The seat limit: invitations, CSV imports, reactivations, SCIM and single sign-on add people only while the
company has a free seat.

A seat is taken by an active person and held by an open invitation (until it expires), so the invitations an
admin sends never promise more seats than the company pays for. ``check_room`` begins with
``accounts.lock_account``: the company's billing account is locked (FOR UPDATE on PostgreSQL; on SQLite a
writing request holds the database's write lock from its first statement), so two requests of one company
that both see the last free seat are served one after the other and the second is refused.

A read-only company (past due beyond the grace period, cancelled and ended, a trial that ran out) adds nobody.
The refusal speaks to the admin in numbers (``NoSeats.admin_message``); the person who would have joined is
never told why (``INVITEE_MESSAGE``).
"""
from __future__ import annotations

from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from leadthe.billing import accounts, admin_bp
from leadthe.models.billing import BillingAccount

# what an invitee (or a person signing in through single sign-on) is told: never the company's seats
INVITEE_MESSAGE = _l("This invitation can't be used right now. Please ask your company's admin.")


class NoSeats(Exception):
    """Adding ``needed`` people would go past the paid seats (or the company is read-only)."""

    def __init__(self, *, used: int, promised: int, paid: int, needed: int, read_only: bool = False):
        self.used, self.promised, self.paid, self.needed, self.read_only = used, promised, paid, needed, read_only
        super().__init__(f"no seats: {promised} of {paid} promised, {needed} needed, read-only={read_only}")

    @property
    def free(self) -> int:
        return max(self.paid - self.promised, 0)

    def admin_message(self) -> str:
        """What the admin reads, in words, beside the form that was refused."""
        if self.read_only:
            return _("Your company's subscription is not paid, so its account is read-only and nobody new can be added. "
                     "Learners keep learning. Pay or subscribe on the billing page to add people again.")
        if self.needed == 1:
            return _("Your company uses %(promised)s of its %(paid)s seats, counting open invitations. "
                     "Add seats on the billing page to invite more people.", promised=self.promised, paid=self.paid)
        return _("This would add %(needed)s people, but your company has %(free)s free seats: it uses %(promised)s of "
                 "its %(paid)s seats, counting open invitations. Add seats on the billing page, or invite fewer people.",
                 needed=self.needed, free=self.free, promised=self.promised, paid=self.paid)

    def scim_detail(self) -> str:
        """The same for an identity provider's log (SCIM's detail is protocol text, in English)."""
        if self.read_only:
            return ("The company's LeadThe.AI subscription is not paid, so no people can be added. "
                    "An admin of the company can pay or subscribe on its billing page in LeadThe.AI.")
        return (f"The company has no free seat: it uses {self.promised} of its {self.paid} seats in LeadThe.AI "
                f"(counting open invitations). An admin of the company can add seats on its billing page.")


def check_room(org_id: int, adding: int = 1, *, lock: bool = True) -> BillingAccount:
    """Lock the company's billing account and raise ``NoSeats`` unless ``adding`` more people fit in its paid
    seats (active people and open invitations count) and the company is not read-only. The lock holds until
    the transaction ends, so what the caller adds next is counted by the next request. ``lock=False``: a look
    ahead that writes nothing (a GET), for a refusal before the step that adds the person checks again."""
    account = accounts.lock_account(org_id) if lock else accounts.account_view(org_id)
    promised = accounts.seats_promised(org_id)
    read_only = accounts.is_read_only(account)
    if read_only or promised + adding > account.seats:
        raise NoSeats(used=accounts.seats_used(org_id), promised=promised, paid=account.seats, needed=adding,
                      read_only=read_only)
    return account


def check_seat_for_invitee(org_id: int) -> None:
    """Accepting an open invitation: its seat was held since it was sent, unless the company reduced its seats
    below what it had promised meanwhile. Raise ``NoSeats`` when no seat is left for one more active person."""
    account = accounts.lock_account(org_id)
    used = accounts.seats_used(org_id)
    if used + 1 > account.seats:
        raise NoSeats(used=used, promised=accounts.seats_promised(org_id), paid=account.seats, needed=1)


def billing_page_url() -> str:
    """Where an admin adds seats: the billing page (``billing_admin.billing``; its blueprint's prefix is the page)."""
    if "billing_admin.billing" in current_app.view_functions:
        return url_for("billing_admin.billing")
    return request.script_root + admin_bp.url_prefix
