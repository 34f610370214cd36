"""The route matrix's entries for SCIM (issue 19): every route answers 401 to every session and to anonymous
visitors (a company's bearer token is the only way in; tests/test_scim.py checks the tokens, and that
another company's token gets 404 for company A's users and groups). ``RESOLVERS`` give the routes with ids
real ids of company A ("own") and B ("other")."""
from __future__ import annotations

BEARER = {"auth": "bearer"}

MATRIX: dict[str, dict] = {
    "scim.users": BEARER,
    "scim.user": {**BEARER, "obj": "scim_user"},
    "scim.groups": BEARER,
    "scim.group": {**BEARER, "obj": "scim_group"},
    "scim.service_provider_config": BEARER,
    "scim.resource_types": BEARER,
    "scim.resource_type": {**BEARER, "obj": "scim_resource_type"},
    "scim.schemas": BEARER,
    "scim.schema": {**BEARER, "obj": "scim_schema"},
    "scim.unknown": {**BEARER, "obj": "scim_unknown"},
}


def _user(w, role, which):
    if which == "sibling":
        return None
    return {"user_id": str(w.people["learner" if which == "own" else "b_learner"])}


def _group(w, role, which):
    if which == "sibling":
        return None
    return {"group_id": str(w.ids["team_a" if which == "own" else "team_b"])}


def _only_own(values):
    return lambda w, role, which: values if which == "own" else None


RESOLVERS: dict = {
    "scim_user": _user,
    "scim_group": _group,
    "scim_resource_type": _only_own({"type_id": "User"}),
    "scim_schema": _only_own({"schema_id": "urn:ietf:params:scim:schemas:core:2.0:User"}),
    "scim_unknown": _only_own({"rest": "Nope"}),
}


def build(w, app, companies) -> None:
    """SCIM needs no objects beyond the world's people and teams."""
