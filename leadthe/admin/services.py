"""Company admin writes."""
from __future__ import annotations

from leadthe import audit
from leadthe.models import Organization, User

SETTINGS = ("require_2fa", "leaderboard_enabled")


def update_company_settings(org: Organization, admin: User, values: dict) -> list[str]:
    changed = [name for name in SETTINGS if bool(values[name]) != bool(getattr(org, name))]
    for name in changed:
        setattr(org, name, bool(values[name]))
    if changed:
        audit.record("org.settings_changed", actor=admin, org_id=org.id, **{name: bool(values[name]) for name in changed})
    return changed
