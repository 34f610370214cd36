"""People: learners, managers, company admins, and LeadThe.AI staff."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadthe.crypto import EncryptedString
from leadthe.models.base import Base, TenantScoped, Timestamped
from leadthe.models.enums import PLATFORM_ROLES, Role, UserStatus, check_in


class User(UserMixin, TenantScoped, Timestamped, Base):
    # "user" is a reserved word in PostgreSQL
    __tablename__ = "user_account"
    __table_args__ = (check_in("role", Role), check_in("status", UserStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    # Platform staff belong to no company; everyone else belongs to exactly one.
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(sa.String(120))
    job_title: Mapped[str] = mapped_column(sa.String(120), default="")
    department: Mapped[str] = mapped_column(sa.String(120), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[str] = mapped_column(sa.String(20), default=Role.LEARNER)
    status: Mapped[str] = mapped_column(sa.String(20), default=UserStatus.ACTIVE)
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    email_verified_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # an e-mail change waits here until the new address is confirmed
    pending_email: Mapped[str | None] = mapped_column(sa.String(254))
    # optional profile photo, re-encoded small and stripped of metadata (see leadthe.privacy.photos)
    photo: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    photo_updated_at: Mapped[datetime | None]
    # two-step verification (TOTP): the secret is encrypted at rest; it is set when set-up starts and
    # counts only once ``totp_enabled_at`` is set (a valid code proved the authenticator app has it)
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString(255))
    totp_enabled_at: Mapped[datetime | None]
    # the highest time-step counter ever accepted: a code for it or an earlier one is a replay
    totp_last_step: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")

    # SCIM: the identity provider's own id for the person (its ``externalId``), when it provisions them
    external_id: Mapped[str | None] = mapped_column(sa.String(255))
    # SCIM: when the identity provider deleted the person (the account is closed, and gone from SCIM's view)
    scim_deleted_at: Mapped[datetime | None]

    organization: Mapped["Organization | None"] = relationship()  # noqa: F821
    # read-only: loaded with the session on every request so the layout needs no query of its own
    preference: Mapped["UserPreference | None"] = relationship(viewonly=True, lazy="select")  # noqa: F821

    # Flask-Login asks for this; we hand it the server-side session token instead of the user id
    # (see leadthe.auth.sessions), so revoking the session record signs the browser out.
    session_token = None

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.ACTIVE

    @property
    def is_org_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def has_2fa(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    @property
    def is_platform_staff(self) -> bool:
        return self.role in PLATFORM_ROLES

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.email.split("@")[0]
