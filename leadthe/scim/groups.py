"""SCIM ``Groups``: a company's teams. Members are people of the same company (our user ids as strings);
another company's id is refused, never added. People added or removed get their required training
re-applied (``person_changed`` with ``{"team"}``, as the admin area's team pages send it)."""
from __future__ import annotations

import sqlalchemy as sa
from scim2_models import Context, Group, GroupMember, PatchOp
from sqlalchemy.orm import selectinload

from leadthe import audit
from leadthe.extensions import db
from leadthe.models import Team, TeamMembership, User
from leadthe.query_args import as_id
from leadthe.scim import auth, wire
from leadthe.scim.errors import ScimError
from leadthe.scim.resources import list_response, location, meta, resource_response
from leadthe.scim.users import person
from leadthe.signals import person_changed
from leadthe.tenancy import scoped, scoped_get


def team(group_id) -> Team:
    number = as_id(group_id) if isinstance(group_id, str) and group_id.isascii() and group_id.isdigit() else None
    found = db.session.scalar(scoped(Team, auth.org_id()).where(Team.id == number)) if number else None
    if found is None:
        raise ScimError(404, "No such group.")
    return found


def _members(team_: Team) -> list[User]:
    return list(db.session.scalars(sa.select(User).join(TeamMembership, TeamMembership.user_id == User.id)
                                   .where(TeamMembership.team_id == team_.id).order_by(User.id)))


def _loaded_members(team_: Team) -> list[User]:
    """The members of a team whose memberships and people were loaded with it (a page of groups: no query per group)."""
    return sorted((membership.user for membership in team_.memberships), key=lambda user: user.id)


def to_resource(team_: Team, members: list[User] | None = None) -> Group:
    members = [GroupMember(value=str(user.id), display=user.name, type="User")
               for user in (_members(team_) if members is None else members)]
    return Group(id=str(team_.id), display_name=team_.name, external_id=team_.external_id or None,
                 members=members or None,
                 meta=meta("Group", team_.created_at, location("scim.group", group_id=team_.id)))


def _name(resource: Group, except_id: int | None = None) -> str:
    name = wire.text(resource.display_name, "displayName", 120)
    if not name:
        raise ScimError(400, "displayName is required.", "invalidValue")
    # the exact name too: SQLite's lower() folds ASCII letters only, and the unique constraint is on the name as given
    taken = sa.select(Team.id).where(Team.org_id == auth.org_id(),
                                     sa.or_(Team.name == name, sa.func.lower(Team.name) == name.lower()))
    if except_id is not None:
        taken = taken.where(Team.id != except_id)
    if db.session.scalar(taken.limit(1)) is not None:
        raise ScimError(409, "A group with this displayName exists already.", "uniqueness")
    return name


def _member_ids(resource: Group) -> set[int]:
    """The people the group should have; each must be one of the company's people as SCIM shows them."""
    ids = set()
    for member in resource.members or []:
        value = member.value
        if not isinstance(value, str) or not value.isascii() or not value.isdigit():
            raise ScimError(400, "A member's value must be a user id.", "invalidValue")
        try:
            ids.add(person(value).id)
        except ScimError:
            raise ScimError(400, "A member is not a user of this company.", "invalidValue") from None
    return ids


def _set_members(team_: Team, wanted: set[int]) -> set[str]:
    current = set(db.session.scalars(sa.select(TeamMembership.user_id).where(TeamMembership.team_id == team_.id)))
    added, removed = wanted - current, current - wanted
    for user_id in sorted(added):
        db.session.add(TeamMembership(org_id=team_.org_id, team_id=team_.id, user_id=user_id, is_manager=False))
    if removed:
        db.session.execute(sa.delete(TeamMembership).where(TeamMembership.team_id == team_.id,
                                                          TeamMembership.user_id.in_(removed)))
    db.session.flush()
    for user_id in sorted(added | removed):
        person_changed.send(scoped_get(User, user_id), changed={"team"})
    return {"members"} if added or removed else set()


def _update(team_: Team, resource: Group):
    name = _name(resource, except_id=team_.id)
    external_id = wire.text(resource.external_id, "externalId", 255) or None
    members = _member_ids(resource)
    changed = {field for field, old, new in (("displayName", team_.name, name), ("externalId", team_.external_id, external_id))
               if old != new}
    team_.name, team_.external_id = name, external_id
    changed |= _set_members(team_, members)
    if changed:
        audit.record("scim.group_updated", org_id=team_.org_id, team_id=team_.id, fields=sorted(changed))
    return resource_response(to_resource(team_))


# --- the endpoints ---------------------------------------------------------------------------------------

def list_groups():
    filters = {
        "displayname": lambda v: sa.func.lower(Team.name) == wire.as_text(v).strip().lower(),
        "externalid": lambda v: Team.external_id == wire.as_text(v),
    }
    # each page's memberships and people in two more queries, whatever the number of groups on it
    teams = scoped(Team, auth.org_id()).options(selectinload(Team.memberships).selectinload(TeamMembership.user))
    return list_response(Group, teams, lambda team_: to_resource(team_, _loaded_members(team_)), filters, Team.id)


def get_group(group_id):
    return resource_response(to_resource(team(group_id)))


def create_group():
    resource = wire.validate(Group, wire.body(), Context.RESOURCE_CREATION_REQUEST)
    name = _name(resource)
    external_id = wire.text(resource.external_id, "externalId", 255) or None
    members = _member_ids(resource)
    team_ = Team(org_id=auth.org_id(), name=name, external_id=external_id)
    db.session.add(team_)
    db.session.flush()
    _set_members(team_, members)
    audit.record("scim.group_created", org_id=team_.org_id, team_id=team_.id, members=len(members))
    return resource_response(to_resource(team_), 201)


def replace_group(group_id):
    team_ = team(group_id)
    return _update(team_, wire.validate(Group, wire.body(), Context.RESOURCE_REPLACEMENT_REQUEST))


def patch_group(group_id):
    team_ = team(group_id)
    patch = wire.validate(PatchOp[Group], wire.body(), Context.RESOURCE_PATCH_REQUEST)
    resource = to_resource(team_)
    wire.apply_patch(patch, resource)
    return _update(team_, resource)


def delete_group(group_id):
    team_ = team(group_id)
    members = list(db.session.scalars(sa.select(TeamMembership.user_id).where(TeamMembership.team_id == team_.id)))
    audit.record("scim.group_deleted", org_id=team_.org_id, team_id=team_.id)
    db.session.execute(sa.delete(TeamMembership).where(TeamMembership.team_id == team_.id))
    db.session.delete(team_)  # its requirement rules go with it (ON DELETE CASCADE)
    db.session.flush()
    for user_id in members:
        person_changed.send(scoped_get(User, user_id), changed={"team"})
    return None
