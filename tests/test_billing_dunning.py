"""Billing mail (issue 20): trial ending in 7 days and tomorrow, payment failed, card expiring, read-only after the
grace period; each once per occasion (also when the daily job runs twice), to the billing contacts (else the
admins), in each recipient's language, with no company-typed text in the subject."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from leadthe.extensions import db
from tests.conftest import outbox


def _run(app, now=None) -> dict:
    from leadthe.billing import dunning

    with app.app_context():
        counts = dunning.daily_checks(now)
        db.session.commit()
        return counts


def _created(app, org, days_ago: float) -> None:
    """Date the company's creation back, so its trial (30 days from it) ends when the test needs."""
    from leadthe.models import Organization, utcnow

    with app.app_context():
        db.session.execute(sa.update(Organization).where(Organization.id == org.id)
                           .values(created_at=utcnow() - timedelta(days=days_ago)))
        db.session.commit()


def _account(app, org, **fields) -> int:
    from leadthe.models.billing import BillingAccount

    with app.app_context():
        account = BillingAccount(org_id=org.id, **fields)
        db.session.add(account)
        db.session.commit()
        return account.id


def _billing_mails(app):
    return [mail for mail in outbox(app) if mail.kind.startswith("billing_") and mail.kind != "billing_invoice"]


def test_the_trial_mails_go_once_each_to_the_admins_when_there_are_no_billing_contacts(app, companies):
    a, b = companies
    _created(app, a.org, 25)  # no billing account yet: the trial ends in 5 days
    _created(app, b.org, 10)  # 20 days left: nothing yet
    assert _run(app)["trial"] == 1
    assert _run(app)["trial"] == 0  # the job ran twice: still one mail
    [mail] = _billing_mails(app)
    assert mail.to_addr == "admin@a.example" and mail.subject == "Your LeadThe.AI trial ends within a week"
    body = mail.body_text
    assert body.startswith("Hello Admin,") and "Company A" in body
    assert "admins' changes pause" in body and "learners keep learning" in body and "nothing is lost" in body
    assert app.config["SERVER_BASE_URL"].rstrip("/") + "/admin/billing" in body

    # a day later in the test: the trial (its account made by the first run) ends within a day, one mail more
    from leadthe.models import utcnow
    from leadthe.models.billing import BillingAccount

    with app.app_context():
        db.session.execute(sa.update(BillingAccount).where(BillingAccount.org_id == a.org.id)
                           .values(trial_ends_at=utcnow() + timedelta(hours=12)))
        db.session.commit()
    _run(app)
    _run(app)
    subjects = [m.subject for m in _billing_mails(app)]
    assert subjects == ["Your LeadThe.AI trial ends within a week", "Your LeadThe.AI trial ends tomorrow"]


def test_an_extended_trial_is_a_new_occasion(app, companies):
    from leadthe.models import utcnow
    from leadthe.models.billing import BillingAccount

    a = companies[0]
    _account(app, a.org, status="trialing", trial_ends_at=utcnow() + timedelta(days=3))
    _run(app)
    with app.app_context():
        db.session.execute(sa.update(BillingAccount).values(trial_ends_at=utcnow() + timedelta(days=6)))
        db.session.commit()
    _run(app)
    assert len(_billing_mails(app)) == 2


def test_billing_contacts_get_the_mail_in_their_language(app, companies):
    from leadthe.models import User, utcnow
    from leadthe.models.billing import BillingMember

    a = companies[0]
    with app.app_context():
        db.session.add(BillingMember(org_id=a.org.id, user_id=a.learner.id, receives_mail=True))
        db.session.add(BillingMember(org_id=a.org.id, user_id=a.manager.id, receives_mail=True))
        db.session.execute(sa.update(User).where(User.id == a.manager.id).values(locale="de"))
        db.session.commit()
    _account(app, a.org, status="trialing", trial_ends_at=utcnow() + timedelta(days=4))
    _run(app)
    mails = {m.to_addr: m for m in _billing_mails(app)}
    assert set(mails) == {"learner@a.example", "manager@a.example"}  # the contacts, not the admin
    assert mails["learner@a.example"].body_text.startswith("Hello Learner,")
    german = mails["manager@a.example"].body_text
    assert german.startswith("Hallo Manager,")
    assert any(month in german for month in ("Dezember", "Januar"))  # the trial's end, written in German


def _overdue_invoice(app, org, *, days_overdue: int):
    from leadthe.billing import accounts, invoices
    from leadthe.models import utcnow

    with app.app_context():
        account = accounts.account_for(org.id)
        issued = utcnow() - timedelta(days=app.config["BILLING_PAYMENT_DAYS"] + days_overdue)
        invoice = invoices.issue_invoice(account, lines=[{"description": "Team, 5 seats", "quantity": 5, "unit_cents": 800}],
                                         issued_at=issued)
        db.session.commit()
        return invoice.number


def test_an_overdue_manual_invoice_makes_the_company_past_due_and_mails_once(app, companies):
    from leadthe.models import AuditEvent, utcnow
    from leadthe.models.billing import BillingAccount

    a, b = companies
    _account(app, a.org, status="active", seats=5)
    _account(app, b.org, status="active", seats=5)
    number = _overdue_invoice(app, a.org, days_overdue=2)
    _overdue_invoice(app, b.org, days_overdue=-3)  # not due yet
    assert _run(app)["overdue"] == 1
    assert _run(app)["overdue"] == 0
    with app.app_context():
        status = dict(db.session.execute(sa.select(BillingAccount.org_id, BillingAccount.status)).all())
        assert status == {a.org.id: "past_due", b.org.id: "active"}
        since = db.session.scalar(sa.select(BillingAccount.past_due_since).where(BillingAccount.org_id == a.org.id))
        assert abs(since - utcnow()) < timedelta(minutes=5)
        assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "billing.status_changed"))
    [mail] = _billing_mails(app)
    assert mail.to_addr == "admin@a.example" and mail.subject == "LeadThe.AI: your payment did not come through"
    assert number in mail.body_text and "bank transfer" in mail.body_text
    read_only_on = (since + timedelta(days=14)).strftime("%d %B %Y")
    assert f"admins' changes pause on {read_only_on}" in mail.body_text


def test_a_second_overdue_invoice_keeps_the_day_the_company_became_past_due(app, companies):
    from leadthe.models import utcnow
    from leadthe.models.billing import BillingAccount

    a = companies[0]
    began = utcnow() - timedelta(days=5)
    _account(app, a.org, status="past_due", seats=5, past_due_since=began)
    _overdue_invoice(app, a.org, days_overdue=1)
    _run(app)
    with app.app_context():
        assert db.session.scalar(sa.select(BillingAccount.past_due_since)) == began
    assert len(_billing_mails(app)) == 1


def test_the_read_only_mail_after_the_grace_period(app, companies):
    from leadthe.models import utcnow

    a, b = companies
    _account(app, a.org, status="past_due", seats=5, past_due_since=utcnow() - timedelta(days=15))
    _account(app, b.org, status="past_due", seats=5, past_due_since=utcnow() - timedelta(days=10))  # still in grace
    assert _run(app)["read_only"] == 1
    assert _run(app)["read_only"] == 0
    [mail] = _billing_mails(app)
    assert mail.to_addr == "admin@a.example"
    assert mail.subject == "LeadThe.AI: your company's account is now read-only for admins"
    assert "Learners keep learning, and nothing is lost" in mail.body_text


def test_payment_failed_for_a_card_and_card_expiring(app, companies):
    from leadthe.billing import accounts, dunning

    a = companies[0]
    _account(app, a.org, status="active", seats=5, provider="stripe")
    with app.app_context():
        account = accounts.account_for(a.org.id)
        assert dunning.notify(account, "payment_failed", "in_123")
        assert not dunning.notify(account, "payment_failed", "in_123")
        assert dunning.notify(account, "card_expiring", "2027-01", expires="January 2027")
        db.session.commit()
    failed, expiring = _billing_mails(app)
    assert "update the card" in failed.body_text
    assert "expires at the end of January 2027" in expiring.body_text
    assert expiring.subject == "LeadThe.AI: the card for your subscription expires soon"


def test_the_subject_holds_no_company_typed_text(app, companies):
    from leadthe.models import Organization, utcnow

    a = companies[0]
    with app.app_context():
        db.session.execute(sa.update(Organization).where(Organization.id == a.org.id)
                           .values(name="Pay now at evil.example Corp"))
        db.session.commit()
    _account(app, a.org, status="trialing", trial_ends_at=utcnow() + timedelta(days=2))
    _account(app, companies[1].org, status="past_due", seats=1, past_due_since=utcnow() - timedelta(days=20))
    _run(app)
    mails = _billing_mails(app)
    assert len(mails) == 2
    for mail in mails:
        assert "evil" not in mail.subject.lower() and "Company" not in mail.subject
    assert "evil[.]example" in mails[0].body_text and "evil.example" not in mails[0].body_text


def test_the_daily_checks_are_a_recurring_job(app):
    from leadthe.worker import JOB_HANDLERS, RECURRING

    assert "billing.daily" in JOB_HANDLERS and RECURRING["billing.daily"].every == timedelta(days=1)
