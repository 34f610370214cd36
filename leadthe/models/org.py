"""Companies (tenants), teams and team memberships."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadthe.models.base import Base, OrgOwned, Timestamped
from leadthe.models.enums import OrgStatus, check_in


class Organization(Timestamped, Base):
    __tablename__ = "organization"
    __table_args__ = (check_in("status", OrgStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(20), default=OrgStatus.ACTIVE)
    closed_at: Mapped[datetime | None]
    require_2fa: Mapped[bool] = mapped_column(default=False)
    leaderboard_enabled: Mapped[bool] = mapped_column(default=True)
    # the new company's onboarding checklist (leadthe/admin/onboarding.py): when an admin first saved the
    # company settings (the 2FA decision) and when the checklist was hidden
    twofa_decided_at: Mapped[datetime | None]
    onboarding_dismissed_at: Mapped[datetime | None]
    # works-council setting for the AI-literacy programme: the overview and the evidence pack show groups of
    # at least 5 people and no individual rows (each person's own evidence stays in their data export)
    literacy_team_figures_only: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # works-council mode (leadthe/trust/works_council.py): groups of at least 5, no individual rows for managers and
    # admins, leaderboards opt-in; when it last changed (turning it off needs a recorded reason, in the audit log)
    works_council_mode: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    works_council_changed_at: Mapped[datetime | None]


class Team(OrgOwned, Timestamped, Base):
    __tablename__ = "team"
    __table_args__ = (sa.UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    external_id: Mapped[str | None] = mapped_column(sa.String(255))  # SCIM: the identity provider's id of the group

    memberships: Mapped[list[TeamMembership]] = relationship(back_populates="team", cascade="all, delete-orphan")


class TeamMembership(OrgOwned, Timestamped, Base):
    __tablename__ = "team_membership"
    __table_args__ = (sa.UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    is_manager: Mapped[bool] = mapped_column(default=False)

    team: Mapped[Team] = relationship(back_populates="memberships")
    user: Mapped["User"] = relationship()  # noqa: F821
