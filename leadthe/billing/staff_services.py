"""The staff billing console's reads and writes: every company's billing at a glance (state, plan, seats, MRR)
in a fixed number of queries, one company's billing, trial extensions and credits (with a reason, audited),
plans and their price versions.

Staff see every company: the reads go around the tenant hook with ``unscoped`` and filter the company
explicitly. A company without a ``BillingAccount`` row is in its trial (dated from the company's creation,
``accounts._trial``): the list joins the accounts outer and shows those as trials.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import abort, current_app

from leadthe import audit
from leadthe.billing import accounts
from leadthe.extensions import db
from leadthe.i18n import format_money
from leadthe.models import Organization, User, utcnow
from leadthe.models.billing import BillingAccount, BillingAdjustment, BillingNotice, Invoice, Plan, PlanVersion
from leadthe.models.enums import BillingAdjustmentKind, BillingStatus, OrgStatus, UserStatus
from leadthe.query_args import id_or_404, name_contains
from leadthe.tenancy import unscoped

PER_PAGE = 50
STATES = tuple(BillingStatus)
WHY = "platform staff see every company's billing"


money = format_money  # an amount in cents, in the interface's language


@dataclass
class Filters:
    state: str = ""  # "" for every state
    q: str = ""
    page: int = 1


def _state_column():
    return sa.func.coalesce(BillingAccount.status, BillingStatus.TRIALING.value)


def _mrr_column():
    """Monthly recurring revenue in cents: paid seats × the month price (the year price / 12) of the account's
    plan version, for paying accounts (active and past due); 0 for trials and cancelled accounts."""
    per_month = sa.case((BillingAccount.interval == "year", BillingAccount.seats * PlanVersion.year_cents // 12),
                        else_=BillingAccount.seats * PlanVersion.month_cents)
    return sa.case((BillingAccount.status.in_([s.value for s in accounts.PAYING]), sa.func.coalesce(per_month, 0)),
                   else_=0)


def _companies():
    """Companies (not closed) with their account, outer-joined: no row means the trial."""
    return (sa.select(Organization).outerjoin(BillingAccount, BillingAccount.org_id == Organization.id)
            .outerjoin(PlanVersion, PlanVersion.id == BillingAccount.plan_version_id)
            .where(Organization.status != OrgStatus.CLOSED))


def totals() -> dict:
    """Per state: how many companies and their MRR; and the MRR of all (one aggregate query)."""
    each = _companies().with_only_columns(_state_column().label("state"), _mrr_column().label("mrr")).subquery()
    stmt = sa.select(each.c.state, sa.func.count(), sa.func.coalesce(sa.func.sum(each.c.mrr), 0)).group_by(each.c.state)
    rows = db.session.execute(unscoped(stmt, reason=WHY)).all()
    counts = {state: 0 for state in STATES}
    mrr = 0
    for state, count, cents in rows:
        counts[state] = count
        mrr += int(cents or 0)
    return {"counts": counts, "mrr_cents": mrr, "companies": sum(counts.values())}


@dataclass
class CompanyRow:
    org_id: int
    name: str
    state: str
    plan: str
    seats_used: int
    seats_paid: int
    mrr_cents: int
    ends_at: datetime | None  # the trial's end, else the current period's end
    provider: str


def companies_page(f: Filters) -> tuple[list[CompanyRow], int]:
    """One page of companies with their billing, and how many match (three queries whatever the page holds)."""
    used = (sa.select(User.org_id, sa.func.count().label("n")).where(User.status == UserStatus.ACTIVE)
            .group_by(User.org_id).subquery())
    stmt = _companies().outerjoin(Plan, Plan.id == PlanVersion.plan_id)
    if f.state:
        stmt = stmt.where(_state_column() == f.state)
    if f.q:
        stmt = stmt.where(name_contains(Organization.name, f.q))
    total = db.session.scalar(unscoped(stmt.with_only_columns(sa.func.count(Organization.id)), reason=WHY)) or 0
    stmt = (stmt.outerjoin(used, used.c.org_id == Organization.id)
            .with_only_columns(Organization.id, Organization.name, Organization.created_at, _state_column(), Plan.name,
                               sa.func.coalesce(used.c.n, 0), BillingAccount.seats, _mrr_column(),
                               BillingAccount.trial_ends_at, BillingAccount.current_period_end, BillingAccount.provider,
                               BillingAccount.id)
            .order_by(sa.func.lower(Organization.name), Organization.id).limit(PER_PAGE).offset((f.page - 1) * PER_PAGE))
    cfg = current_app.config
    rows = []
    for (org_id, name, created, state, plan, n_used, seats, mrr, trial_end, period_end, provider,
         account_id) in db.session.execute(unscoped(stmt, reason=WHY)).all():
        if account_id is None:  # the trial, as accounts._trial dates it
            seats, provider = cfg["BILLING_TRIAL_SEATS"], accounts.configured_provider()
            trial_end = created + timedelta(days=cfg["BILLING_TRIAL_DAYS"])
        ends = trial_end if state == BillingStatus.TRIALING else period_end
        rows.append(CompanyRow(org_id, name, state, plan or "", n_used, seats, int(mrr or 0), ends, provider))
    return rows, total


def organization_or_404(org_id) -> Organization:
    org = db.session.scalar(unscoped(sa.select(Organization).where(Organization.id == id_or_404(org_id)), reason=WHY))
    if org is None:
        abort(404)
    return org


def plan_of(account: BillingAccount) -> tuple[Plan | None, PlanVersion | None]:
    if account.plan_version_id is None:
        return None, None
    row = db.session.execute(sa.select(Plan, PlanVersion).join(PlanVersion, PlanVersion.plan_id == Plan.id)
                             .where(PlanVersion.id == account.plan_version_id)).first()
    return (row[0], row[1]) if row else (None, None)


def monthly_cents(account: BillingAccount, version: PlanVersion | None) -> int:
    if version is None or account.status not in accounts.PAYING:
        return 0
    if account.interval == "year":
        return account.seats * version.year_cents // 12
    return account.seats * version.month_cents


def invoices_of(org_id: int) -> list[Invoice]:
    return list(db.session.scalars(unscoped(sa.select(Invoice).where(Invoice.org_id == org_id)
                                            .order_by(Invoice.issued_at.desc(), Invoice.id.desc()).limit(100), reason=WHY)))


def adjustments_of(org_id: int) -> list[tuple[BillingAdjustment, str | None]]:
    """The company's trial extensions and credits, newest first, with the staff member's name."""
    stmt = (sa.select(BillingAdjustment, User.name).outerjoin(User, User.id == BillingAdjustment.staff_id)
            .where(BillingAdjustment.org_id == org_id).order_by(BillingAdjustment.created_at.desc(), BillingAdjustment.id.desc()))
    return [(adjustment, name) for adjustment, name in db.session.execute(unscoped(stmt, reason=WHY)).all()]


def notices_of(org_id: int) -> list[BillingNotice]:
    return list(db.session.scalars(unscoped(sa.select(BillingNotice).where(BillingNotice.org_id == org_id)
                                            .order_by(BillingNotice.sent_at.desc()).limit(50), reason=WHY)))


def invoice_or_404(invoice_id) -> Invoice:
    invoice = db.session.scalar(unscoped(sa.select(Invoice).where(Invoice.id == id_or_404(invoice_id)), reason=WHY))
    if invoice is None:
        abort(404)
    return invoice


# --- writes ------------------------------------------------------------------------------------------------

def has_trial(account: BillingAccount) -> bool:
    """A trial runs, or ran out without the company ever subscribing: a trial extension makes sense."""
    return account.status == BillingStatus.TRIALING or (account.status == BillingStatus.CANCELLED
                                                        and account.plan_version_id is None)


def extend_trial(org_id: int, days: int, reason: str, *, actor, now: datetime | None = None) -> BillingAccount:
    """Add ``days`` to the trial: from its end, or from now when it has already ended; a trial that ran out
    (cancelled without ever paying) is a trial again."""
    now = now or utcnow()
    account = accounts.lock_account(org_id)
    start = account.trial_ends_at if account.trial_ends_at and account.trial_ends_at > now else now
    account.trial_ends_at = start + timedelta(days=days)
    if account.status == BillingStatus.CANCELLED and account.plan_version_id is None:
        accounts.set_status(account, BillingStatus.TRIALING, actor=actor, reason="trial extended", now=now)
        account.cancelled_at = None
    db.session.add(BillingAdjustment(org_id=org_id, kind=BillingAdjustmentKind.TRIAL_EXTENSION, days=days,
                                     amount_cents=0, reason=reason, staff_id=actor.id))
    db.session.flush()
    audit.record("billing.trial_extended", actor=actor, org_id=org_id, reason=reason, days=days,
                 until=account.trial_ends_at.isoformat())
    return account


def grant_credit(org_id: int, cents: int, reason: str, *, actor) -> BillingAccount:
    account = accounts.lock_account(org_id)
    account.credit_cents = (account.credit_cents or 0) + cents
    db.session.add(BillingAdjustment(org_id=org_id, kind=BillingAdjustmentKind.CREDIT, days=0, amount_cents=cents,
                                     reason=reason, staff_id=actor.id))
    db.session.flush()
    audit.record("billing.credit_granted", actor=actor, org_id=org_id, reason=reason, amount_cents=cents)
    return account


# --- plans ---------------------------------------------------------------------------------------------------

def plans_with_versions() -> list[tuple[Plan, list[PlanVersion]]]:
    """Every plan with its versions, newest first (two queries)."""
    plans = list(db.session.scalars(sa.select(Plan).order_by(Plan.position, Plan.id)))
    versions: dict[int, list[PlanVersion]] = {plan.id: [] for plan in plans}
    for version in db.session.scalars(sa.select(PlanVersion).order_by(PlanVersion.plan_id, PlanVersion.version.desc())):
        versions.setdefault(version.plan_id, []).append(version)
    return [(plan, versions[plan.id]) for plan in plans]


def plan_or_404(plan_id) -> Plan:
    plan = db.session.scalar(sa.select(Plan).where(Plan.id == id_or_404(plan_id)))
    if plan is None:
        abort(404)
    return plan


def versions_of(plan_id: int) -> list[PlanVersion]:
    return list(db.session.scalars(sa.select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                                   .order_by(PlanVersion.version.desc())))


def versions_in_use(plan_id: int) -> dict[int, int]:
    """How many companies pay with each version of the plan now (one aggregate query)."""
    stmt = (sa.select(BillingAccount.plan_version_id, sa.func.count()).join(PlanVersion, PlanVersion.id == BillingAccount.plan_version_id)
            .where(PlanVersion.plan_id == plan_id).group_by(BillingAccount.plan_version_id))
    return dict(db.session.execute(unscoped(stmt, reason="how many companies use each price of a plan")).all())


def code_taken(code: str) -> bool:
    return bool(db.session.scalar(sa.select(sa.func.count()).select_from(Plan).where(Plan.code == code)))


def create_plan(data: dict, *, actor) -> Plan:
    plan = Plan(code=data["code"], name=data["name"], description=data["description"] or "", active=bool(data["active"]),
                position=data["position"] or 0)
    db.session.add(plan)
    db.session.flush()
    db.session.add(PlanVersion(plan_id=plan.id, version=1, currency="EUR", month_cents=data["month"], year_cents=data["year"],
                               stripe_price_month="", stripe_price_year="", note="", created_by_id=actor.id))
    db.session.flush()
    audit.record("billing.plan_created", actor=actor, code=plan.code, month_cents=data["month"], year_cents=data["year"])
    return plan


def update_plan(plan: Plan, data: dict, *, actor) -> list[str]:
    changed = [name for name in ("name", "description", "active", "position") if getattr(plan, name) != data[name]]
    for name in changed:
        setattr(plan, name, data[name])
    db.session.flush()
    if changed:
        audit.record("billing.plan_changed", actor=actor, code=plan.code, changed=changed)
    return changed


def new_version(plan: Plan, month_cents: int, year_cents: int, note: str, *, actor) -> PlanVersion:
    """New prices: a new version (the plan's versions are never edited). Running periods keep theirs; the next
    period of every company takes the newest (``plans.latest_version``)."""
    number = (db.session.scalar(sa.select(sa.func.max(PlanVersion.version)).where(PlanVersion.plan_id == plan.id)) or 0) + 1
    version = PlanVersion(plan_id=plan.id, version=number, currency="EUR", month_cents=month_cents, year_cents=year_cents,
                          stripe_price_month="", stripe_price_year="", note=note, created_by_id=actor.id)
    db.session.add(version)
    db.session.flush()
    audit.record("billing.prices_changed", actor=actor, code=plan.code, version=number, month_cents=month_cents,
                 year_cents=year_cents, reason=note)
    return version
