"""Plans and their price versions. Plans are data, edited by staff (``/staff/billing/plans``): a changed price
is a new ``PlanVersion``; a running period keeps the version it began with, the next period takes the newest.
The default plans are made the first time plans are needed (``ensure_default_plans``)."""
from __future__ import annotations

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models.billing import Plan, PlanVersion

# (code, name, description, net cents per seat and month, per seat and year)
DEFAULT_PLANS = (
    ("team", "Team", "Courses, quizzes, the maturity assessment and the AI-literacy programme.", 800, 8000),
    ("business", "Business", "Everything in Team, plus the practice lab on your own model and single sign-on.", 1400, 14000),
)


def ensure_default_plans() -> None:
    """Add the default plans in the current transaction when there are no plans at all."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(Plan)):
        return
    for position, (code, name, description, month, year) in enumerate(DEFAULT_PLANS):
        plan = Plan(code=code, name=name, description=description, active=True, position=position)
        db.session.add(plan)
        db.session.flush()
        db.session.add(PlanVersion(plan_id=plan.id, version=1, currency="EUR", month_cents=month, year_cents=year,
                                   stripe_price_month="", stripe_price_year="", note=""))
    db.session.flush()


def latest_version(plan_id: int) -> PlanVersion | None:
    return db.session.scalar(sa.select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                             .order_by(PlanVersion.version.desc()).limit(1))


def offered() -> list[tuple[Plan, PlanVersion]]:
    """The active plans with their newest prices, in order (one query)."""
    newest = (sa.select(PlanVersion.plan_id, sa.func.max(PlanVersion.version).label("version"))
              .group_by(PlanVersion.plan_id).subquery())
    rows = db.session.execute(
        sa.select(Plan, PlanVersion)
        .join(newest, newest.c.plan_id == Plan.id)
        .join(PlanVersion, sa.and_(PlanVersion.plan_id == Plan.id, PlanVersion.version == newest.c.version))
        .where(Plan.active.is_(True)).order_by(Plan.position, Plan.id)).all()
    return [(plan, version) for plan, version in rows]


def price_cents(version: PlanVersion, interval: str) -> int:
    """Net price per seat for one period of ``interval``."""
    return version.year_cents if interval == "year" else version.month_cents
