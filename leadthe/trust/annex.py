"""The annex for a works-council agreement (issue 21), generated from the personal-data registry (through the records
of processing, leadthe/trust/records.py) and from the company's settings: what is processed and for what, who sees
what, how long it is kept, and which evaluations the software makes impossible in works-council mode. The same
``Annex`` feeds the HTML page (templates/trust/annex.html) and the PDF (leadthe/trust/annex_pdf.py); build it inside
the language it is shown in (``flask_babel.force_locale``): every text is a plain string afterwards."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from leadthe.extensions import db
from leadthe.i18n import format_when
from leadthe.models import Organization, utcnow
from leadthe.models.lab import LabSettings
from leadthe.models.sso import ScimToken, SsoSettings
from leadthe.privacy.registry import CATEGORIES
from leadthe.tenancy import scoped
from leadthe.trust.records import Activity, platform_records
from leadthe.trust.works_council import MIN_GROUP

VERSION = "1.0"  # the annex's wording; the date is the day it is generated
LANGUAGES = ("en", "de")


@dataclass
class Section:
    """One kind of processing: its name, what it is for, the registry category of its data, and per kind of record
    (``items``: label, purpose, legal basis, retention)."""

    key: str
    name: str
    purpose: str
    category: str
    controller_is_us: bool
    items: list[tuple[str, str, str, str]]


@dataclass
class Annex:
    company: str
    mode_on: bool
    changed_at: datetime | None
    generated_at: datetime
    version: str
    settings: list[tuple[str, str]]
    viewers: list[tuple[str, str]]
    impossible: list[tuple[str, str]]
    sections: list[Section] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        """Every text of the annex (the PDF picks its fonts from them)."""
        out = [self.company, *(t for pair in (*self.settings, *self.viewers, *self.impossible) for t in pair)]
        for s in self.sections:
            out += [s.name, s.purpose, s.category, *(t for item in s.items for t in item)]
        return out


def _on_off(value: bool) -> str:
    return _("on") if value else _("off")


def _settings(org: Organization) -> list[tuple[str, str]]:
    sso = db.session.scalar(scoped(SsoSettings, org.id))
    scim = db.session.scalar(sa.select(sa.func.count()).select_from(
        scoped(ScimToken, org.id).where(ScimToken.revoked_at.is_(None)).subquery()))
    lab = db.session.scalar(scoped(LabSettings, org.id))
    rows = [
        (_("Works-council mode"), _on_off(org.works_council_mode)),
        (_("Two-step verification required for everyone"), _on_off(org.require_2fa)),
        (_("Leaderboards"), (_("on, only for people who opted in") if org.works_council_mode and org.leaderboard_enabled
                             else _on_off(org.leaderboard_enabled))),
        (_("AI-literacy programme: team figures only"),
         _on_off(org.literacy_team_figures_only or org.works_council_mode)),
        (_("Single sign-on"), _("set up: people log in through the company's identity provider")
         if sso is not None and sso.enabled else _("not set up")),
        (_("Automatic provisioning (SCIM)"), _("set up: the company's identity provider creates and removes accounts")
         if scim else _("not set up")),
        (_("Practice lab"), _("connected to the AI service the company chose; prompts go to that service")
         if lab is not None and lab.connected else _("not connected")),
    ]
    return rows


def _viewers(org: Organization) -> list[tuple[str, str]]:
    on = org.works_council_mode
    manager = (_("Figures of the teams they manage, only for groups of at least %(n)s people: no names, no individual "
                 "rows, no per-person downloads.", n=MIN_GROUP) if on else
               _("The progress, quiz results and required training of each person in the teams they manage, and "
                 "per-person downloads for those teams."))
    admin = (_("The company's people (name, e-mail address, role, teams) to run their accounts, the audit log of "
               "security events, and figures for groups of at least %(n)s people; no individual learning results and "
               "no per-person reports.", n=MIN_GROUP) if on else
             _("The company's people and their accounts, each person's progress, quiz results and AI-literacy status, "
               "per-person reports and downloads, and the audit log of security events."))
    if not org.leaderboard_enabled:
        colleagues = _("Nothing: leaderboards are off.")
    elif on:
        colleagues = _("The name and points of people who opted in to leaderboards; nobody else.")
    else:
        colleagues = _("Names and points on the leaderboard, except of people who object to it in their privacy "
                       "choices.")
    return [
        (_("Learner (each person)"),
         _("Their own account, progress, quiz results, certificates and AI-literacy status; a copy of all their data "
           "(export); a log of who looked at their data.")),
        (_("Manager"), manager),
        (_("Company admin"), admin),
        (_("Colleagues"), colleagues),
        (_("LeadThe.AI staff"), _("Nothing by default. Support staff open a person's data only with a recorded, "
                                  "time-limited access grant that names the reason (break-glass), and the person sees "
                                  "it in their log of who looked at their data.")),
    ]


def impossible() -> list[tuple[str, str]]:
    """The evaluations works-council mode rules out: (what, how the software does it)."""
    return [
        (_("Ranking individual people by performance"),
         _("Managers and admins get no ranking of individuals; a leaderboard lists only people who opted in.")),
        (_("Per-person reports and CSV files"),
         _("The manager and admin pages and their downloads hold no row per person.")),
        (_("Figures for groups of fewer than %(n)s people", n=MIN_GROUP),
         _("Such groups are left out of every figure shown to managers and admins.")),
        (_("Individual analytics"),
         _("Managers and admins see no one's learning time, activity or quiz results.")),
        (_("Leaderboards without the person's choice"),
         _("A person appears on a leaderboard only after opting in; it is off by default.")),
        (_("A per-person evidence pack"),
         _("The AI-literacy evidence pack holds team figures only; each person's own evidence stays in their data "
           "export.")),
    ]


def _section(activity: Activity) -> Section:
    category = activity.key.split("-", 1)[1]
    return Section(key=activity.key, name=activity.name, purpose=activity.purpose,
                   category=str(CATEGORIES.get(category, "")), controller_is_us=activity.role == "controller",
                   items=[(s.label, s.purpose, s.legal_basis, s.retention) for s in activity.sources])


def build(org: Organization) -> Annex:
    """The annex for ``org`` in the current language."""
    # every activity of the records except our own staff's accounts (those are not the company's people)
    activities = [a for a in platform_records() if a.key != "controller-staff"]
    return Annex(company=org.name, mode_on=bool(org.works_council_mode), changed_at=org.works_council_changed_at,
                 generated_at=utcnow(), version=VERSION, settings=_settings(org), viewers=_viewers(org),
                 impossible=impossible(), sections=[_section(a) for a in activities])


def mode_words(annex: Annex) -> str:
    if annex.mode_on:
        if annex.changed_at:
            return _("on (since %(when)s, UTC)", when=format_when(annex.changed_at))
        return _("on")
    return _("off")


def intro(annex: Annex) -> str:
    return _("This annex describes the personal data LeadThe.AI processes for %(company)s, generated from the "
             "platform's register of personal data and from the company's settings on the date above.",
             company=annex.company)


def impossible_intro(annex: Annex) -> str:
    if annex.mode_on:
        return _("Works-council mode is on. The software makes the following evaluations impossible:")
    return _("Works-council mode is off, so these evaluations are possible today. If an admin turns it on, the "
             "software makes them impossible:")
