"""The sub-processors LeadThe.AI uses: who else processes personal data on our behalf, where, and under which safeguard.

Data for now (issue 21, records part): the privacy policy names cloud hosting, e-mail delivery, analytics and payment
processors. The platform's analytics are its own (page views in our database, after consent), so no analytics provider is
listed; Stripe is used only when a company pays through it (``LEADTHE_STRIPE_SECRET_KEY``). A later part makes this list
versioned data with change notices; callers use ``current()`` only, so the source can be swapped.

``tables`` links an entry to the registry (``leadthe.privacy.registry``): the tables whose data it processes, or ``("*",)``
for all of them (hosting). The records of processing name a sub-processor as a recipient of an activity when it
processes one of the activity's tables, and as a transfer when it is outside the EU/EEA.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

SCC = _l("EU Standard Contractual Clauses (Commission Decision 2021/914)")


@dataclass(frozen=True)
class SubProcessor:
    key: str  # stable id (JSON, CSV, anchors)
    name: str
    purpose: str
    data: str  # the categories of data, in words
    location: str
    in_eea: bool  # False: using it is a transfer to a third country
    safeguard: str
    since: date
    tables: tuple[str, ...]

    def processes(self, table: str) -> bool:
        return "*" in self.tables or table in self.tables


_ENTRIES: tuple[SubProcessor, ...] = (
    SubProcessor(
        "hosting", _l("Cloud hosting provider"),
        _l("Runs the servers, the database and the file storage the platform lives on."),
        _l("All data the platform stores (it stores them; it does not use them)."),
        _l("European Union"), True, _l("None needed: the data stays in the EU/EEA."),
        date(2024, 1, 1), ("*",)),
    SubProcessor(
        "email", _l("E-mail delivery service"),
        _l("Delivers the e-mails the platform sends: invitations, account and security mail, reminders, invoices."),
        _l("Recipients' names and e-mail addresses, and the content of the e-mails."),
        _l("United States"), False, SCC,
        date(2024, 1, 1), ("outbox_mail", "invitation", "progress_mail", "invoice", "invoice_recipient")),
    SubProcessor(
        "stripe", "Stripe",
        _l("Takes card and direct-debit payments and keeps the subscription when a company pays through Stripe."),
        _l("The billing contact's name and e-mail address, the company's billing address, invoices and payments."),
        _l("United States (Stripe Payments Europe, Ltd., Ireland, contracts for the EU)"), False,
        _l("EU Standard Contractual Clauses and the EU-U.S. Data Privacy Framework"),
        date(2025, 1, 1), ("invoice", "invoice_recipient", "billing_request", "billing_member")),
)


def current() -> tuple[SubProcessor, ...]:
    """The sub-processors in use today."""
    return _ENTRIES
