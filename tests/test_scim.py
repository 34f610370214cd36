"""SCIM 2.0 provisioning (issue 19): the requests an identity provider sends (Entra ID's style: create, find by
userName, patch attributes and ``active``, group membership by PATCH, delete), checked in the database after
each step; tokens scoped to their company; every answer validated with scim2-models."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from scim2_models import (Context, EnterpriseUser, Error, Group, ListResponse, ResourceType, Schema,
                          ServiceProviderConfig, User)

from leadthe.extensions import db
from tests.conftest import PASSWORD, audit_actions, make_user
from tests.helpers import make_course, signed_in

USER = User[EnterpriseUser]
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


# --- helpers --------------------------------------------------------------------------------------------

def parsed(response, model=None):
    """The answer's JSON read with scim2-models: ``model`` for a success, Error for a 4xx; fails otherwise."""
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/scim+json", response.mimetype
    data = json.loads(response.get_data(as_text=True))
    if response.status_code >= 400:
        assert model is None, f"expected a {model.__name__}, got {response.status_code}: {data}"
        error = Error.model_validate(data)
        assert data["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert data["status"] == str(response.status_code) and error.detail
        return error
    assert model is not None, f"unexpected success {response.status_code}: {data}"
    return model.model_validate(data, scim_ctx=Context.RESOURCE_QUERY_RESPONSE)


class Scim:
    """An identity provider's client: the bearer token on every request, JSON bodies as application/scim+json."""

    def __init__(self, app, token):
        self.client, self.token = app.test_client(), token

    def call(self, method, path, body=None, *, raw=None, content_type="application/scim+json", token=None):
        """The answer; a refusal is checked here (SCIM's error format), a success by the caller's ``parsed``."""
        headers = {"Authorization": f"Bearer {token or self.token}"}
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = self.client.open(f"/scim/v2{path}", method=method, data=data, headers=headers,
                                    content_type=content_type if data is not None else None)
        if response.status_code >= 400:
            parsed(response)
        elif response.status_code == 204:
            assert response.get_data() == b""
        return response


def new_user_body(email, **extra):
    body = {"schemas": [CORE, ENTERPRISE], "userName": email, "externalId": f"ext-{email}", "active": True,
            "name": {"givenName": "Nora", "familyName": "North"},
            "emails": [{"value": email, "type": "work", "primary": True}], "title": "Analyst",
            ENTERPRISE: {"department": "Support"}}
    body.update(extra)
    return body


def patch(*operations):
    return {"schemas": [PATCH], "Operations": list(operations)}


def verify_domain(app, org, domain):
    from leadthe.models.sso import SsoDomain
    from leadthe.models import utcnow

    with app.app_context():
        db.session.add(SsoDomain(org_id=org.id, domain=domain, token="t" * 20, verified_domain=domain,
                                 verified_at=utcnow(), method="dns"))
        db.session.commit()


def issue_token(app, company):
    from leadthe.scim import tokens

    with app.test_request_context():
        token = tokens.issue(company.org.id, company.admin)
        db.session.commit()
        return token


def fetch(app, model, **where):
    with app.app_context():
        stmt = sa.select(model).filter_by(**where)
        rows = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return rows


@pytest.fixture
def idp(app, companies):
    a, b = companies
    verify_domain(app, a.org, "a.example")
    verify_domain(app, b.org, "b.example")
    return Scim(app, issue_token(app, a)), Scim(app, issue_token(app, b))


# --- the sequence an identity provider sends ------------------------------------------------------------

def _rule_for_sales(app, org_id):
    from leadthe.models import RequirementRule
    from leadthe.models.enums import RuleField

    with app.app_context():
        course, *_ = make_course(org_id, "prompting", "Prompting", quiz=False)
        db.session.add(RequirementRule(org_id=org_id, course_id=course.id, field=RuleField.DEPARTMENT, value="Sales",
                                       due_days=30))
        db.session.commit()
        return course.id


def _required(app, user_id, course_id) -> bool:
    from leadthe.models import Requirement

    with app.app_context():
        return db.session.scalar(sa.select(Requirement.id).where(
            Requirement.user_id == user_id, Requirement.course_id == course_id, Requirement.ended_at.is_(None))) is not None


def _sessions_open(app, user_id) -> int:
    from leadthe.models import UserSession

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(UserSession).where(
            UserSession.user_id == user_id, UserSession.revoked_at.is_(None)))


def _team_members(app, team_id) -> set[int]:
    from leadthe.models import TeamMembership

    return {m.user_id for m in fetch(app, TeamMembership, team_id=team_id)}


def test_an_identity_provider_provisions_changes_deactivates_and_deletes_a_person(app, companies, idp):
    from leadthe.auth.passwords import hash_password
    from leadthe.models import User

    a, _b = companies
    scim, _ = idp
    course_id = _rule_for_sales(app, a.org.id)

    # create: a learner of company A without a usable password, the address in a domain A verified
    created = scim.call("POST", "/Users", new_user_body("Nora.North@A.example"))
    assert created.status_code == 201
    resource = parsed(created, USER)
    assert resource.user_name == "nora.north@a.example" and resource.active is True
    assert created.headers["Location"] == resource.meta.location and resource.meta.resource_type == "User"
    assert resource.meta.created is not None and resource.meta.last_modified is not None
    [person] = fetch(app, User, email="nora.north@a.example")
    assert (person.org_id, person.role, person.name, person.job_title, person.department, person.external_id) == (
        a.org.id, "learner", "Nora North", "Analyst", "Support", "ext-Nora.North@A.example")
    assert person.email_verified_at is not None and person.locale == "en" and person.status == "active"
    assert person.password_hash == "!scim"
    assert str(person.id) == resource.id
    assert not _required(app, person.id, course_id)

    # find by userName (Entra ID asks before it creates, and after)
    found = parsed(scim.call("GET", '/Users?filter=userName eq "nora.north@a.example"'), ListResponse[USER])
    assert found.total_results == 1 and found.resources[0].id == resource.id
    none = parsed(scim.call("GET", '/Users?filter=userName eq "nobody@a.example"'), ListResponse[USER])
    assert none.total_results == 0 and not none.resources

    # patch title and department (Entra ID's capitalised ops): the required-training rules apply again
    answer = scim.call("PATCH", f"/Users/{person.id}", patch(
        {"op": "Replace", "path": "title", "value": "Sales Lead"},
        {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Sales"},
        {"op": "Add", "path": "name.givenName", "value": "Norah"}))
    patched = parsed(answer, USER)
    assert patched.title == "Sales Lead" and patched[EnterpriseUser].department == "Sales"
    [person] = fetch(app, User, id=person.id)
    assert (person.job_title, person.department, person.name) == ("Sales Lead", "Sales", "Norah North")
    assert _required(app, person.id, course_id)
    assert "scim.user_updated" in audit_actions(app)

    # a group with the person added and removed by PATCH, as Entra ID sends it
    group = parsed(scim.call("POST", "/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                                  "displayName": "Sales EMEA", "externalId": "grp-1"}), Group)
    team_id = int(group.id)
    assert _team_members(app, team_id) == set()
    parsed(scim.call("PATCH", f"/Groups/{team_id}", patch(
        {"op": "Add", "path": "members", "value": [{"value": str(person.id)}]})), Group)
    assert _team_members(app, team_id) == {person.id}
    listed = parsed(scim.call("GET", f"/Groups/{team_id}"), Group)
    assert [m.value for m in listed.members] == [str(person.id)]
    parsed(scim.call("PATCH", f"/Groups/{team_id}", patch(
        {"op": "Remove", "path": f'members[value eq "{person.id}"]'})), Group)
    assert _team_members(app, team_id) == set()
    parsed(scim.call("PATCH", f"/Groups/{team_id}", patch(
        {"op": "Add", "path": "members", "value": [{"value": str(person.id)}]})), Group)

    # the person signs in in a browser (they set a password meanwhile)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == person.id).values(password_hash=hash_password(PASSWORD)))
        db.session.commit()
    browser = signed_in(app, person)
    assert browser.get("/dashboard").status_code == 200
    assert _sessions_open(app, person.id) == 1

    # deactivate: closed, signed out everywhere at once; the team membership stays for a reactivation
    # Entra ID sends the boolean as a string
    gone = parsed(scim.call("PATCH", f"/Users/{person.id}", patch({"op": "Replace", "path": "active", "value": "False"})), USER)
    assert gone.active is False
    [person] = fetch(app, User, id=person.id)
    assert person.status == "closed" and person.closed_at is not None
    assert _sessions_open(app, person.id) == 0
    assert browser.get("/dashboard").status_code in (302, 303)  # the browser is signed out on its next request
    assert _team_members(app, team_id) == {person.id}
    assert "scim.user_deactivated" in audit_actions(app)
    # still visible to the identity provider, as inactive
    inactive = parsed(scim.call("GET", "/Users?filter=active eq false"), ListResponse[USER])
    assert str(person.id) in {r.id for r in inactive.resources}

    # reactivate within the 90 days: restored
    back = parsed(scim.call("PATCH", f"/Users/{person.id}", patch({"op": "replace", "value": {"active": True}})), USER)
    assert back.active is True
    [person] = fetch(app, User, id=person.id)
    assert person.status == "active" and person.closed_at is None
    assert "scim.user_reactivated" in audit_actions(app)

    # delete: closed, out of its teams, and a 404 from then on
    deleted = scim.call("DELETE", f"/Users/{person.id}")
    assert deleted.status_code == 204
    [person] = fetch(app, User, id=person.id)
    assert person.status == "closed" and person.closed_at is not None and person.scim_deleted_at is not None
    assert _team_members(app, team_id) == set()
    parsed(scim.call("GET", f"/Users/{person.id}"))
    assert scim.call("GET", f"/Users/{person.id}").status_code == 404
    assert parsed(scim.call("GET", '/Users?filter=userName eq "nora.north@a.example"'), ListResponse[USER]).total_results == 0
    # every request is in the audit log, the token's use is stamped
    from leadthe.models import AuditEvent
    from leadthe.models.sso import ScimToken

    requests = fetch(app, AuditEvent, action="scim.request")
    assert requests and all(e.org_id == a.org.id for e in requests)
    assert all(set(e.details) == {"method", "path", "status"} for e in requests)
    assert fetch(app, ScimToken, org_id=a.org.id)[0].last_used_at is not None

    # assigned again while the closed account is kept: the same account comes back, active
    again = scim.call("POST", "/Users", new_user_body("nora.north@a.example"))
    assert again.status_code == 201 and parsed(again, USER).id == str(person.id)
    [person] = fetch(app, User, id=person.id)
    assert person.status == "active" and person.closed_at is None and person.scim_deleted_at is None
    assert person.department == "Support"
    assert parsed(scim.call("GET", f"/Users/{person.id}"), USER).active is True

    # the group goes with DELETE
    assert scim.call("DELETE", f"/Groups/{team_id}").status_code == 204
    assert scim.call("GET", f"/Groups/{team_id}").status_code == 404
    assert "scim.group_deleted" in audit_actions(app)


def test_put_replaces_the_person_and_a_group(app, companies, idp):
    from leadthe.models import Team, User

    a, _b = companies
    scim, _ = idp
    made = parsed(scim.call("POST", "/Users", new_user_body("pat@a.example")), USER)
    replaced = parsed(scim.call("PUT", f"/Users/{made.id}", {
        "schemas": [CORE], "userName": "pat@a.example", "name": {"formatted": "Pat Putnam"}, "title": "Lead",
        "active": True}), USER)
    assert replaced.name.formatted == "Pat Putnam"
    [person] = fetch(app, User, id=int(made.id))
    assert (person.name, person.job_title, person.department) == ("Pat Putnam", "Lead", "")
    group = parsed(scim.call("POST", "/Groups", {"displayName": "Ops", "members": [{"value": made.id}]}), Group)
    renamed = parsed(scim.call("PUT", f"/Groups/{group.id}", {"displayName": "Operations", "members": []}), Group)
    assert renamed.display_name == "Operations" and not renamed.members
    [team] = fetch(app, Team, id=int(group.id))
    assert team.name == "Operations" and _team_members(app, team.id) == set()
    # Entra ID renames with a path, and removes members by value as well as by a filter
    parsed(scim.call("PATCH", f"/Groups/{group.id}", patch({"op": "Replace", "path": "displayName", "value": "Ops 2"})), Group)
    assert fetch(app, Team, id=int(group.id))[0].name == "Ops 2"
    # Okta replaces the members as a whole
    parsed(scim.call("PATCH", f"/Groups/{group.id}", patch(
        {"op": "replace", "path": "members", "value": [{"value": made.id}, {"value": str(a.learner.id)}]})), Group)
    assert _team_members(app, team.id) == {int(made.id), a.learner.id}
    parsed(scim.call("PATCH", f"/Groups/{group.id}", patch(
        {"op": "Remove", "path": "members", "value": [{"value": str(a.learner.id)}]})), Group)
    assert _team_members(app, team.id) == {int(made.id)}


def test_patch_paths_entra_id_sends(app, companies, idp):
    from leadthe.models import User

    scim, _ = idp
    made = parsed(scim.call("POST", "/Users", new_user_body("eve@a.example")), USER)
    answer = parsed(scim.call("PATCH", f"/Users/{made.id}", patch(
        {"op": "Replace", "value": {"name.givenName": "Evelyn", "title": "Chief", "externalId": "X-9"}},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "eve@a.example"},
        {"op": "Remove", "path": f"{ENTERPRISE}:department"})), USER)
    assert answer.name.given_name == "Evelyn" and answer.external_id == "X-9"
    [person] = fetch(app, User, id=int(made.id))
    assert (person.name, person.job_title, person.external_id, person.department) == ("Evelyn North", "Chief", "X-9", "")
    # the address is the userName: a new one in a verified domain is taken (and must be nobody's)
    parsed(scim.call("PATCH", f"/Users/{made.id}", patch({"op": "replace", "path": "userName", "value": "Eve.N@a.example"})), USER)
    assert fetch(app, User, id=int(made.id))[0].email == "eve.n@a.example"
    for taken, status in (("learner@a.example", 409), ("eve@elsewhere.example", 400)):
        refused = parsed(scim.call("PATCH", f"/Users/{made.id}", patch({"op": "replace", "path": "userName", "value": taken})))
        assert refused.status == status
    assert fetch(app, User, id=int(made.id))[0].email == "eve.n@a.example"


def test_reactivation_only_within_the_closed_account_retention(app, companies, idp):
    from datetime import timedelta

    from leadthe.models import User, utcnow

    scim, _ = idp
    made = parsed(scim.call("POST", "/Users", new_user_body("old@a.example", active=False)), USER)
    assert made.active is False
    [person] = fetch(app, User, id=int(made.id))
    assert person.status == "closed" and person.closed_at is not None
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == person.id).values(closed_at=utcnow() - timedelta(days=91)))
        db.session.commit()
    refused = parsed(scim.call("PATCH", f"/Users/{made.id}", patch({"op": "replace", "path": "active", "value": True})))
    assert refused.status == 400
    assert fetch(app, User, id=person.id)[0].status == "closed"


# --- refusals -------------------------------------------------------------------------------------------

def test_addresses_outside_the_verified_domains_and_taken_addresses_are_refused(app, companies, idp):
    from leadthe.models import User

    scim, _ = idp
    for address in ("someone@elsewhere.example", "someone@b.example", "not-an-address"):
        refused = parsed(scim.call("POST", "/Users", new_user_body(address)))
        assert refused.status == 400 and refused.scim_type == "invalidValue"
    # an address with an account anywhere, in this company or another: 409, which company is never said
    for address in ("learner@a.example", "LEARNER@b.example"):
        verify = parsed(scim.call("POST", "/Users", new_user_body(address)))
        assert verify.status in (400, 409)
    taken = parsed(scim.call("POST", "/Users", new_user_body("learner@a.example")))
    assert taken.status == 409 and taken.scim_type == "uniqueness" and "b.example" not in taken.detail
    assert not fetch(app, User, email="someone@elsewhere.example")


def test_an_address_of_another_company_is_a_409_when_the_domain_is_ours(app, companies, idp):
    """A person of company B whose address is in a domain A verified later (they signed up before)."""
    a, b = companies
    scim, _ = idp
    make_user(app, b.org, email="moved@a.example")
    taken = parsed(scim.call("POST", "/Users", new_user_body("moved@a.example")))
    assert taken.status == 409 and taken.scim_type == "uniqueness"
    assert "Company" not in taken.detail


def test_the_last_active_admin_cannot_be_deactivated(app, companies, idp):
    from leadthe.models import User

    a, _b = companies
    scim, _ = idp
    refused = parsed(scim.call("PATCH", f"/Users/{a.admin.id}", patch({"op": "replace", "path": "active", "value": False})))
    assert refused.status == 400 and "admin" in refused.detail
    assert fetch(app, User, id=a.admin.id)[0].status == "active"
    assert parsed(scim.call("DELETE", f"/Users/{a.admin.id}")).status == 400


def test_another_companys_token_sees_nothing_of_company_a(app, companies, idp):
    from leadthe.models import Team, User

    a, b = companies
    scim_a, scim_b = idp
    made = parsed(scim_a.call("POST", "/Users", new_user_body("kim@a.example")), USER)
    group = parsed(scim_a.call("POST", "/Groups", {"displayName": "Kim's team"}), Group)
    for path in (f"/Users/{made.id}", f"/Users/{a.learner.id}", f"/Users/{a.admin.id}", f"/Groups/{group.id}",
                 f"/Groups/{a.team.id}"):
        for method, body in (("GET", None), ("PUT", {"userName": "x@b.example", "displayName": "x"}),
                             ("PATCH", patch({"op": "replace", "path": "displayName", "value": "x"})), ("DELETE", None)):
            refused = parsed(scim_b.call(method, path, body))
            assert refused.status == 404, f"{method} {path}"
    listed = parsed(scim_b.call("GET", "/Users?count=100"), ListResponse[USER])
    assert {r.user_name for r in listed.resources} == {"admin@b.example", "manager@b.example", "learner@b.example"}
    # B cannot put A's people into its groups
    refused = parsed(scim_b.call("POST", "/Groups", {"displayName": "Raid", "members": [{"value": made.id}]}))
    assert refused.status == 400 and refused.scim_type == "invalidValue"
    assert not fetch(app, Team, name="Raid")
    assert fetch(app, User, id=int(made.id))[0].status == "active"
    assert {m for m in _team_members(app, b.team.id)} == {b.manager.id, b.learner.id}


def test_tokens_that_are_missing_garbage_revoked_or_rotated_get_401(app, companies, idp):
    from leadthe.models import AuditEvent
    from leadthe.scim import tokens

    a, _b = companies
    scim, _ = idp
    old = scim.token
    for header in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer ltscim_garbage"},
                   {"Authorization": f"Basic {old}"}, {"Authorization": "Bearer " + "x" * 5000}):
        answer = scim.client.get("/scim/v2/Users", headers=header)
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")
        parsed(answer)
    assert any(e.org_id is None for e in fetch(app, AuditEvent, action="scim.refused"))
    new = issue_token(app, a)  # rotation: the old token stops working
    assert scim.call("GET", "/Users", token=old).status_code == 401
    parsed(scim.call("GET", "/Users", token=new), ListResponse[USER])
    with app.test_request_context():
        tokens.revoke(a.org.id, a.admin)
        db.session.commit()
    assert scim.call("GET", "/ServiceProviderConfig", token=new).status_code == 401
    # a signed-in person's session is no token
    browser = signed_in(app, a.admin)
    assert browser.get("/scim/v2/Users").status_code == 401


def test_bad_bodies_are_scim_errors_and_write_nothing(app, companies, idp):
    from leadthe.models import User

    a, _b = companies
    scim, _ = idp
    before = len(fetch(app, User))
    for raw, content_type, status in (("{not json", "application/scim+json", 400), ("[]", "application/json", 400),
                                      ('"x"', "application/scim+json", 400), ("userName=x", "application/x-www-form-urlencoded", 415),
                                      ('{"userName": 5}', "application/scim+json", 400),
                                      ('{"schemas": ["urn:nope"], "userName": "q@a.example"}', "application/scim+json", 400),
                                      ("[" * 100000, "application/scim+json", 400)):
        refused = parsed(scim.call("POST", "/Users", raw=raw, content_type=content_type))
        assert refused.status == status, raw[:40]
    for raw in ('{"Operations": [{"op": "jump", "path": "title"}]}', '{"Operations": []}',
                '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove"}]}',
                '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "nope..x", "value": 1}]}'):
        parsed(scim.call("PATCH", f"/Users/{a.learner.id}", raw=raw))
    long_name = new_user_body("long@a.example", title="t" * 500)
    assert parsed(scim.call("POST", "/Users", long_name)).status == 400
    nul = new_user_body("nul@a.example", title="a\x00b")
    assert parsed(scim.call("POST", "/Users", nul)).status == 400
    assert len(fetch(app, User)) == before
    for method, path in (("GET", "/Nope"), ("PUT", "/Users"), ("POST", "/ServiceProviderConfig"), ("GET", "/Users/abc"),
                         ("GET", "/Users/99999999999999999999"), ("DELETE", "/Groups")):
        assert parsed(scim.call(method, path)).status in (404, 405)


def test_filters_and_pages(app, companies, idp):
    scim, _ = idp
    for n in range(5):
        parsed(scim.call("POST", "/Users", new_user_body(f"p{n}@a.example", externalId=f"E{n}")), USER)
    everyone = parsed(scim.call("GET", "/Users"), ListResponse[USER])
    assert everyone.total_results == 8 and everyone.start_index == 1 and len(everyone.resources) == 8
    page = parsed(scim.call("GET", "/Users?startIndex=3&count=2"), ListResponse[USER])
    assert page.total_results == 8 and page.start_index == 3 and page.items_per_page == 2
    assert [r.id for r in page.resources] == [r.id for r in everyone.resources[2:4]]
    assert parsed(scim.call("GET", "/Users?count=1000"), ListResponse[USER]).items_per_page == 8
    assert parsed(scim.call("GET", "/Users?count=0"), ListResponse[USER]).items_per_page == 0
    assert parsed(scim.call("GET", "/Users?startIndex=50"), ListResponse[USER]).items_per_page == 0
    by_external = parsed(scim.call("GET", '/Users?filter=externalId eq "E3"'), ListResponse[USER])
    assert [r.user_name for r in by_external.resources] == ["p3@a.example"]
    by_mail = parsed(scim.call("GET", '/Users?filter=emails.value eq "P1@a.example"'), ListResponse[USER])
    assert [r.user_name for r in by_mail.resources] == ["p1@a.example"]
    assert parsed(scim.call("GET", "/Users?filter=active eq true"), ListResponse[USER]).total_results == 8
    assert parsed(scim.call("GET", '/Users?filter=USERNAME EQ "p2@a.example"'), ListResponse[USER]).total_results == 1
    for bad in ('title eq "x"', 'userName co "p"', "userName eq", 'userName eq "a" and active eq true', "active eq \"x\""):
        refused = parsed(scim.call("GET", f"/Users?filter={bad}"))
        assert refused.status == 400 and refused.scim_type == "invalidFilter", bad
    assert parsed(scim.call("GET", "/Users?count=abc")).status == 400
    parsed(scim.call("POST", "/Groups", {"displayName": "Blue"}), Group)
    blue = parsed(scim.call("GET", '/Groups?filter=displayName eq "blue"'), ListResponse[Group])
    assert [g.display_name for g in blue.resources] == ["Blue"]
    taken = parsed(scim.call("POST", "/Groups", {"displayName": "BLUE"}))
    assert taken.status == 409 and taken.scim_type == "uniqueness"


def test_discovery_endpoints(app, companies, idp):
    scim, _ = idp
    config = parsed(scim.call("GET", "/ServiceProviderConfig"), ServiceProviderConfig)
    assert config.patch.supported and config.filter.supported and config.filter.max_results == 100
    assert not config.bulk.supported and not config.change_password.supported and not config.sort.supported
    assert not config.etag.supported and config.authentication_schemes[0].type == "oauthbearertoken"
    types = parsed(scim.call("GET", "/ResourceTypes"), ListResponse[ResourceType])
    assert {t.id for t in types.resources} == {"User", "Group"}
    user_type = parsed(scim.call("GET", "/ResourceTypes/User"), ResourceType)
    assert user_type.endpoint == "/Users" and user_type.schema_extensions[0].schema_ == ENTERPRISE
    schemas = parsed(scim.call("GET", "/Schemas"), ListResponse[Schema])
    assert {s.id for s in schemas.resources} == {CORE, ENTERPRISE, "urn:ietf:params:scim:schemas:core:2.0:Group"}
    assert parsed(scim.call("GET", f"/Schemas/{CORE}"), Schema).id == CORE
    assert parsed(scim.call("GET", "/Schemas/urn:nope")).status == 404
    assert parsed(scim.call("GET", "/ResourceTypes/Nope")).status == 404


def _statements(app, scim, path) -> int:
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    seen = []

    def listener(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        parsed(scim.call("GET", path), ListResponse[Group] if path.startswith("/Groups") else ListResponse[USER])
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def test_a_page_of_groups_costs_the_same_queries_however_many_groups_it_holds(app, companies, idp):
    """Each group lists its members: loaded for the whole page at once, not one query per group."""
    scim, _ = idp
    people = [parsed(scim.call("POST", "/Users", new_user_body(f"m{n}@a.example")), USER).id for n in range(4)]
    for n in range(2):
        parsed(scim.call("POST", "/Groups", {"displayName": f"Squad {n}", "members": [{"value": p} for p in people]}), Group)
    few = _statements(app, scim, "/Groups")
    for n in range(2, 8):
        parsed(scim.call("POST", "/Groups", {"displayName": f"Squad {n}", "members": [{"value": p} for p in people]}), Group)
    listed = parsed(scim.call("GET", "/Groups"), ListResponse[Group])
    ours = [group for group in listed.resources if group.display_name.startswith("Squad ")]
    assert len(ours) == 8 and all(len(group.members) == 4 for group in ours)
    assert _statements(app, scim, "/Groups") == few


def test_a_group_name_outside_ascii_given_twice_is_a_409(app, companies, idp):
    scim, _ = idp
    parsed(scim.call("POST", "/Groups", {"displayName": "Équipe Ä"}), Group)
    taken = parsed(scim.call("POST", "/Groups", {"displayName": "Équipe Ä"}))
    assert taken.status == 409 and taken.scim_type == "uniqueness"
