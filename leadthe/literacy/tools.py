"""The company's inventory of AI tools: what it uses, considers or forbids, who may use each tool and what
data may go in. Admins keep the list (``/admin/ai-tools``); everyone in the company sees the approved tools
and the forbidden ones with their rules (``/ai-tools``), never the ones still under review.

Who may use a tool: the teams in ``team_ids`` and the departments in ``departments``; both empty means
everyone in the company. The owner is a person of the company (found by their e-mail address) or a free
text such as "IT service desk".
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from leadthe import audit
from leadthe.extensions import db
from leadthe.labels import AI_TOOL_STATUS
from leadthe.models import AiTool, Team, User
from leadthe.models.enums import AiToolStatus, UserStatus
from leadthe.tenancy import current_org_id, get_or_404, scoped

STATUS_LABELS = AI_TOOL_STATUS
STATUS_BADGES = {AiToolStatus.APPROVED: "ok", AiToolStatus.UNDER_REVIEW: "warn", AiToolStatus.NOT_ALLOWED: "err"}
_STATUS_ORDER = sa.case({AiToolStatus.APPROVED.value: 0, AiToolStatus.UNDER_REVIEW.value: 1}, value=AiTool.status, else_=2)
MAX_DEPARTMENTS = 30


class ToolProblem(ValueError):
    """A tool that cannot be saved as asked; ``field`` is the form field the message belongs beside."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field


@dataclass
class ToolRow:
    """A tool with what its page shows in words: who may use it and who owns it."""
    tool: AiTool
    teams: list[str]
    owner: str

    @property
    def who(self) -> list[str]:
        """The teams and departments that may use it (a team and a department of the same name once)."""
        return list(dict.fromkeys([*self.teams, *(self.tool.departments or [])]))


def team_choices(org_id: int | None = None) -> list[tuple[int, str]]:
    return [(t.id, t.name) for t in db.session.scalars(scoped(Team, org_id).order_by(Team.name))]


def department_values(org_id: int | None = None) -> list[str]:
    """The departments people of the company have, for the form's suggestions (one DISTINCT query)."""
    org_id = org_id or current_org_id()
    return [d for d in db.session.scalars(
        sa.select(User.department).where(User.org_id == org_id, User.department != "").distinct().order_by(User.department))]


def _rows(tools: list[AiTool], org_id: int | None = None) -> list[ToolRow]:
    """Team and owner names for a list of tools: two queries for the whole list."""
    names = dict(team_choices(org_id))
    owner_ids = {t.owner_id for t in tools if t.owner_id}
    owners = dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(owner_ids))).all()) if owner_ids else {}
    return [ToolRow(t, [names[i] for i in (t.team_ids or []) if i in names], owners.get(t.owner_id) or t.owner_note)
            for t in tools]


def inventory(org_id: int | None = None) -> list[ToolRow]:
    """Every tool of the company, approved first, then under review, then not allowed."""
    tools = list(db.session.scalars(scoped(AiTool, org_id).order_by(_STATUS_ORDER, AiTool.name)))
    return _rows(tools, org_id)


def tools_for_people(org_id: int | None = None) -> tuple[list[ToolRow], list[ToolRow]]:
    """(approved, not allowed): what everyone in the company may see; tools under review stay internal."""
    tools = list(db.session.scalars(scoped(AiTool, org_id).where(
        AiTool.status.in_((AiToolStatus.APPROVED, AiToolStatus.NOT_ALLOWED))).order_by(AiTool.name)))
    rows = _rows(tools, org_id)
    return ([r for r in rows if r.tool.status == AiToolStatus.APPROVED],
            [r for r in rows if r.tool.status == AiToolStatus.NOT_ALLOWED])


def tool_or_404(tool_id) -> AiTool:
    return get_or_404(AiTool, tool_id)


def split_departments(text: str) -> list[str]:
    """"Sales, Marketing ,sales" -> ["Sales", "Marketing"] (case-insensitive duplicates dropped)."""
    seen, result = set(), []
    for part in (text or "").split(","):
        name = " ".join(part.split())[:120]
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            result.append(name)
    if len(result) > MAX_DEPARTMENTS:
        raise ToolProblem("departments", _l("Name at most %(n)s departments.", n=MAX_DEPARTMENTS))
    return result


def _owner(org_id: int, text: str) -> tuple[int | None, str]:
    """An e-mail address of an active person of the company links them; any other text is kept as written."""
    text = " ".join((text or "").split())
    if "@" in text:
        found = db.session.scalar(sa.select(User.id).where(
            User.org_id == org_id, User.email == text.lower(), User.status == UserStatus.ACTIVE))
        if found is None:
            raise ToolProblem("owner", _l("Nobody in your company has this e-mail address."))
        return found, ""
    return None, text


def owner_text(tool: AiTool) -> str:
    """What the form's owner field shows: the owner's e-mail address, or the free text."""
    if tool.owner_id:
        email = db.session.scalar(sa.select(User.email).where(User.id == tool.owner_id))
        return email or ""
    return tool.owner_note


def form_data(tool: AiTool) -> dict:
    """The form's fields for an existing tool."""
    return {"name": tool.name, "vendor": tool.vendor, "purpose": tool.purpose, "status": tool.status,
            "team_ids": list(tool.team_ids or []), "departments": ", ".join(tool.departments or []),
            "personal_data_allowed": tool.personal_data_allowed, "confidential_data_allowed": tool.confidential_data_allowed,
            "risk_note": tool.risk_note, "owner": owner_text(tool)}


def save_tool(actor: User, tool: AiTool | None, data: dict) -> AiTool:
    """Create (``tool`` None) or update a tool from the form's ``data``; audited."""
    name = " ".join(data["name"].split())
    clash = scoped(AiTool, actor.org_id).where(sa.func.lower(AiTool.name) == name.lower())
    if tool is not None:
        clash = clash.where(AiTool.id != tool.id)
    if db.session.scalar(clash) is not None:
        raise ToolProblem("name", _l("Your company already lists a tool with this name."))
    valid_teams = {team_id for team_id, _n in team_choices(actor.org_id)}
    owner_id, owner_note = _owner(actor.org_id, data.get("owner", ""))
    created = tool is None
    if created:
        tool = AiTool(org_id=actor.org_id)
        db.session.add(tool)
    tool.name, tool.vendor, tool.purpose = name, data.get("vendor", ""), data.get("purpose", "")
    tool.team_ids = sorted(int(t) for t in data.get("team_ids", []) if int(t) in valid_teams)
    tool.departments = split_departments(data.get("departments", ""))
    tool.risk_note, tool.status = data.get("risk_note", ""), data["status"]
    tool.personal_data_allowed = bool(data.get("personal_data_allowed"))
    tool.confidential_data_allowed = bool(data.get("confidential_data_allowed"))
    tool.owner_id, tool.owner_note = owner_id, owner_note
    db.session.flush()
    audit.record("ai_tool.created" if created else "ai_tool.updated", actor=actor, org_id=actor.org_id,
                 reference=tool.name)
    return tool


def delete_tool(actor: User, tool: AiTool) -> None:
    audit.record("ai_tool.deleted", actor=actor, org_id=actor.org_id, reference=tool.name)
    db.session.delete(tool)
    db.session.flush()
