"""What the privacy centre tells a person about the practice lab: who receives their prompts (the model
their company connected), who reads them (nobody in the company), how long they are kept (the company's
days) and how many are stored right now."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.lab.settings import for_org
from leadthe.models.enums import LabRunKind
from leadthe.models.lab import DEFAULT_RETENTION_DAYS, LabRun, LabSettings


@dataclass(frozen=True)
class LabFacts:
    connected: bool
    recipient: str  # the provider as the company named it, or the base URL's host ("" when not connected)
    model: str
    retention_days: int
    prompts: int  # the person's prompts stored right now (answer runs)
    feedback: int  # the model's feedback on them (grading runs)


def recipient_of(settings: LabSettings) -> str:
    """The recipient of lab prompts in words: the name the admin gave the provider, else the host of its URL."""
    if not settings.connected:
        return ""
    return (settings.provider_name or "").strip() or (urlsplit(settings.base_url).hostname or settings.base_url)


def lab_facts(user, *, counts: bool = True) -> LabFacts:
    """The facts for ``user``; ``counts=False`` (the centre, whose counts come from one aggregate query of
    the registry) leaves out the number of stored prompts."""
    if user.org_id is None:  # platform staff: no company, no lab
        return LabFacts(False, "", "", DEFAULT_RETENTION_DAYS, 0, 0)
    settings = for_org(user.org_id)
    by_kind = dict(db.session.execute(
        sa.select(LabRun.kind, sa.func.count()).where(LabRun.user_id == user.id, LabRun.org_id == user.org_id)
        .group_by(LabRun.kind)).all()) if counts else {}
    return LabFacts(settings.connected, recipient_of(settings), settings.model if settings.connected else "",
                    settings.retention_days, by_kind.get(LabRunKind.ANSWER, 0), by_kind.get(LabRunKind.GRADING, 0))
