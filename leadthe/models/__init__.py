"""All models, imported here so that Alembic and the registry tests see every table."""
from leadthe.models.base import Base, OrgOwned, TenantScoped, utcnow
from leadthe.models.org import Organization, Team, TeamMembership
from leadthe.models.outbox import Job, OutboxMail
from leadthe.models.privacy import DataExport, PrivacyRequest, PrivacySettings
from leadthe.models.security import AuditEvent, UserSession
from leadthe.models.user import ORG_ROLES, PLATFORM_ROLES, User

__all__ = [
    "Base", "OrgOwned", "TenantScoped", "utcnow", "Organization", "Team", "TeamMembership", "Job", "OutboxMail", "DataExport", "PrivacyRequest", "PrivacySettings",
    "AuditEvent", "UserSession", "User", "ORG_ROLES", "PLATFORM_ROLES",
]
