"""Seat limits (issue 20): invitations, CSV imports, reactivation, SCIM and single sign-on add people only while the
company has a free seat. Active people take seats and open invitations hold them; a trial has 25. The admin is
told in numbers with a link to the billing page; the person who would have joined is never told why. Twenty
invitations sent at once with one seat left create exactly one (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import threading
from io import BytesIO
from datetime import timedelta

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import AuditEvent, Invitation, User, utcnow
from tests.conftest import PASSWORD, csrf_from, make_user, post_form
from tests.helpers import give_seats, signed_in

HEADER = "email,name,job_title,department,team,role\n"


def open_invitations(app, org, count, *, expired=0):
    """``count`` pending invitations (and ``expired`` ones whose link ran out), made directly."""
    now = utcnow()
    with app.app_context():
        for i in range(count + expired):
            ends = now + timedelta(days=7) if i < count else now - timedelta(days=1)
            db.session.add(Invitation(org_id=org.id, email=f"held{i}@a.example", role="learner", invited_by_id=None,
                                      nonce=f"n{i}", status="pending", sent_at=now, expires_at=ends, created_at=now))
        db.session.commit()


def invitation_count(app, org) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Invitation).where(Invitation.org_id == org.id))


def invite(client, email, headers=None):
    return post_form(client, "/admin/invitations", {"email": email, "role": "learner", "team_id": ""}, headers=headers)


def upload(client, text):
    page = client.get("/admin/users/import").get_data(as_text=True)
    return client.post("/admin/users/import", data={"csrf_token": csrf_from(page), "file": (BytesIO(text.encode()), "people.csv")},
                       content_type="multipart/form-data")


# --- invitations -----------------------------------------------------------------------------------------------

def test_a_trial_has_25_seats_and_open_invitations_hold_them(app, companies):
    a, _ = companies  # three people
    open_invitations(app, a.org, 21, expired=5)  # 24 promised; the expired ones hold nothing
    admin = signed_in(app, a.admin)
    assert invite(admin, "one@a.example").status_code == 303  # the 25th seat
    refused = invite(admin, "two@a.example")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Your company uses 25 of its 25 seats, counting open invitations." in page
    assert "Add seats on the billing page to invite more people." in page
    assert 'href="/admin/billing"' in page  # where seats are added
    assert 'value="two@a.example"' in page  # nothing typed is lost
    assert invitation_count(app, a.org) == 21 + 5 + 1
    # withdrawing an invitation frees its seat
    with app.app_context():
        inv = db.session.scalar(sa.select(Invitation).where(Invitation.email == "held0@a.example"))
        inv.status = "revoked"
        db.session.commit()
    assert invite(admin, "two@a.example").status_code == 303


def test_htmx_shows_the_refusal_in_the_form(app, companies):
    a, _ = companies
    give_seats(app, a.org, 3)
    admin = signed_in(app, a.admin)
    response = invite(admin, "new@a.example", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith("<form")  # the form, swapped in place
    assert "Your company uses 3 of its 3 seats" in html and 'href="/admin/billing"' in html
    assert invitation_count(app, a.org) == 0


def test_paid_seats_decide_and_another_company_does_not_count(app, companies):
    a, b = companies
    give_seats(app, a.org, 4)
    open_invitations(app, b.org, 0)
    admin = signed_in(app, a.admin)
    assert invite(admin, "four@a.example").status_code == 303
    assert invite(admin, "five@a.example").status_code == 422
    assert invite(signed_in(app, b.admin), "x@b.example").status_code == 303  # B's trial has its own 25


# --- CSV import --------------------------------------------------------------------------------------------------

def test_an_import_past_the_seats_is_refused_as_a_whole_at_the_check_and_at_the_go_ahead(app, companies):
    from leadthe.models import ImportBatch

    a, _ = companies
    give_seats(app, a.org, 8)  # 3 people: 5 free
    admin = signed_in(app, a.admin)
    rows = "".join(f"p{i}@a.example,Person {i},,,,learner\n" for i in range(6))
    checked = upload(admin, HEADER + rows)
    page = checked.get_data(as_text=True)
    assert checked.status_code == 422
    assert "This would add 6 people, but your company has 5 free seats: it uses 3 of its 8 seats" in page
    assert 'href="/admin/billing"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 0
    five = HEADER + rows[: rows.index("p5@")]
    assert "5 people will be invited" in upload(admin, five).get_data(as_text=True)
    with app.app_context():
        batch_id = db.session.scalar(sa.select(ImportBatch.id))
    assert invite(admin, "single@a.example").status_code == 303  # meanwhile a seat is taken
    done = post_form(admin, f"/admin/users/import/{batch_id}", {}, page="/admin/users/import", follow=True)
    text = done.get_data(as_text=True)
    assert "This would add 5 people, but your company has 4 free seats" in text
    assert invitation_count(app, a.org) == 1  # none of the five


# --- reactivation ------------------------------------------------------------------------------------------------

def test_reactivating_a_person_takes_a_seat(app, companies):
    a, _ = companies
    give_seats(app, a.org, 3)
    admin = signed_in(app, a.admin)
    url = f"/admin/users/{a.learner.id}"
    assert post_form(admin, f"{url}/deactivate", {"confirmed": "yes"}, page=url).status_code == 303
    assert invite(admin, "instead@a.example").status_code == 303  # the freed seat, taken
    page = post_form(admin, f"{url}/reactivate", {}, page=url, follow=True).get_data(as_text=True)
    assert "Your company uses 3 of its 3 seats" in page
    with app.app_context():
        assert db.session.get(User, a.learner.id).status == "deactivated"
    give_seats(app, a.org, 4)
    post_form(admin, f"{url}/reactivate", {}, page=url)
    with app.app_context():
        assert db.session.get(User, a.learner.id).status == "active"


# --- the invitee ---------------------------------------------------------------------------------------------------

def _invitation_link(app, org, email):
    from leadthe.admin.people import invitation_link

    with app.test_request_context():
        return invitation_link(db.session.scalar(sa.select(Invitation).where(Invitation.email == email)))


def test_an_invitation_holds_its_seat_until_the_seats_are_reduced_and_the_invitee_is_never_told_why(app, client, companies):
    a, _ = companies
    give_seats(app, a.org, 5)
    admin = signed_in(app, a.admin)
    assert invite(admin, "first@a.example").status_code == 303
    assert invite(admin, "second@a.example").status_code == 303  # all five seats promised
    form = {"name": "First Person", "password": PASSWORD + "x", "age_confirm": "y", "accept_policy": "y"}
    first = app.test_client()
    response = post_form(first, "/invite", form, page=_invitation_link(app, a.org, "first@a.example"))
    assert response.status_code == 303  # its seat was held: accepting at full capacity works
    give_seats(app, a.org, 4)  # the company reduced its seats below what it promised
    second = app.test_client()
    response = post_form(second, "/invite", form, page=_invitation_link(app, a.org, "second@a.example"))
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "This invitation can&#39;t be used right now. Please ask your company&#39;s admin." in page, page[page.find("<h1"):][:600]
    assert "seat" not in page.lower() and "billing" not in page.lower()
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.email == "second@a.example")) is None


# --- SCIM ------------------------------------------------------------------------------------------------------------

def _scim(app, company):
    from leadthe.models.sso import SsoDomain
    from leadthe.scim import tokens

    with app.test_request_context():
        db.session.add(SsoDomain(org_id=company.org.id, domain="a.example", token="t" * 20, verified_domain="a.example",
                                 verified_at=utcnow(), method="dns"))
        token = tokens.issue(company.org.id, company.admin)
        db.session.commit()
    client = app.test_client()

    def call(method, path, body):
        return client.open(f"/scim/v2{path}", method=method, data=json.dumps(body), content_type="application/scim+json",
                           headers={"Authorization": f"Bearer {token}"})
    return call


def _scim_user(email, active=True):
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": email, "active": active,
            "name": {"givenName": "Nora", "familyName": "North"}, "emails": [{"value": email, "primary": True}]}


def test_scim_creation_and_reactivation_past_the_seats_are_refused_for_the_identity_providers_admin(app, companies):
    a, _ = companies
    give_seats(app, a.org, 4)
    scim = _scim(app, a)
    created = scim("POST", "/Users", _scim_user("nora@a.example"))
    assert created.status_code == 201
    nora = json.loads(created.get_data(as_text=True))["id"]
    refused = scim("POST", "/Users", _scim_user("olaf@a.example"))
    error = json.loads(refused.get_data(as_text=True))
    assert refused.status_code == 403 and refused.mimetype == "application/scim+json"
    assert "no free seat" in error["detail"] and "4 of its 4 seats" in error["detail"] and "billing page" in error["detail"]
    # an inactive person takes no seat; making them active does
    assert scim("POST", "/Users", _scim_user("pia@a.example", active=False)).status_code == 201
    off = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": False}]}
    on = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": True}]}
    assert scim("PATCH", f"/Users/{nora}", off).status_code == 200
    assert scim("POST", "/Users", _scim_user("olaf@a.example")).status_code == 201  # Nora's seat
    assert scim("PATCH", f"/Users/{nora}", on).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(User.status).where(User.email == "nora@a.example")) == "closed"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            User.org_id == a.org.id, User.status == "active")) == 4


def test_scim_adds_nobody_to_a_read_only_company(app, companies):
    a, _ = companies
    give_seats(app, a.org, 50, status="past_due", past_due_since=utcnow() - timedelta(days=15))
    refused = _scim(app, a)("POST", "/Users", _scim_user("nora@a.example"))
    assert refused.status_code == 403 and "not paid" in json.loads(refused.get_data(as_text=True))["detail"]


# --- single sign-on ----------------------------------------------------------------------------------------------------

def test_a_person_made_on_first_sso_log_in_past_the_seats_is_refused_generically_and_audited(app, client, companies):
    from leadthe.sso import login
    from leadthe.sso.claims import Claims, Refused
    from leadthe.sso.settings import for_org

    a, _ = companies
    give_seats(app, a.org, 3)
    issuer = "https://idp.example"
    with app.app_context():
        from leadthe.models.sso import SsoDomain

        settings = for_org(a.org.id)
        settings.protocol, settings.oidc_issuer, settings.oidc_client_id = "oidc", issuer, "leadthe"
        settings.oidc_metadata, settings.jit_enabled = {"issuer": issuer}, True
        db.session.add(SsoDomain(org_id=a.org.id, domain="a.example", token="t0ken", verified_domain="a.example",
                                 verified_at=utcnow(), method="dns"))
        db.session.commit()
    answer = Claims(protocol="oidc", issuer=issuer, subject="sub-new", email="nora@a.example", email_verified=True, name="Nora")
    with app.test_request_context("/login", method="POST"):
        try:
            response = login.finish(for_org(a.org.id), answer)
        except Refused as refused:
            response = login.refuse(a.org.id, refused.reason, **refused.details)
        page = response[0] if isinstance(response, tuple) else response.get_data(as_text=True)
        status = response[1] if isinstance(response, tuple) else response.status_code
    assert status == 403
    assert "Your company cannot add new accounts right now. Please ask your company&#39;s LeadThe.AI admin." in page
    assert "seat" not in page.lower()
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sso.refused"))
        assert event.org_id == a.org.id and event.details["reason"] == "no_new_accounts" and event.details["paid"] == 3
        assert db.session.scalar(sa.select(User).where(User.email == "nora@a.example")) is None
    # a seat free at the identity provider's answer but taken before the person confirms: checked again
    give_seats(app, a.org, 4)
    with app.test_request_context("/login", method="GET"):
        assert login.finish(for_org(a.org.id), answer).headers["Location"] == "/sso/welcome"
        assert not db.session.new and not db.session.dirty  # the look ahead wrote nothing
    make_user(app, a.org, email="meanwhile@a.example")
    with app.test_request_context("/sso/welcome", method="POST"):
        try:
            login.complete_welcome(login.Welcome(for_org(a.org.id), answer, ""), "Nora")
            reason = None
        except Refused as refused:
            reason = refused.reason
        db.session.rollback()
    assert reason == "no_new_accounts"
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.email == "nora@a.example")) is None


# --- at the same moment ---------------------------------------------------------------------------------------------

def test_twenty_invitations_sent_at_once_with_one_seat_left_create_exactly_one(app, companies):
    """Twenty admins' requests race for the last seat (a barrier releases them together, each with its own
    connection and transaction, as separate requests are); the account's lock lets exactly one through."""
    from leadthe.admin import people
    from leadthe.billing.seats import NoSeats
    from leadthe.tenancy import deactivate_tenant, activate_tenant

    a, _ = companies
    give_seats(app, a.org, 4)  # three people: one seat left
    barrier = threading.Barrier(20)
    sent, refused, errors = [], [], []

    def attempt(n):
        try:
            with app.test_request_context("/admin/invitations", method="POST"):
                token = activate_tenant(a.org.id)
                barrier.wait(timeout=30)
                try:
                    admin = db.session.get(User, a.admin.id)
                    people.create_invitation(admin, email=f"racer{n}@a.example", role="learner", team_id=None)
                    db.session.commit()
                    sent.append(n)
                except NoSeats:
                    db.session.rollback()
                    refused.append(n)
                finally:
                    db.session.remove()
                    deactivate_tenant(token)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(sent) == 1 and len(refused) == 19
    assert invitation_count(app, a.org) == 1


def test_a_learner_is_not_counted_twice_and_a_new_person_made_directly_counts(app, companies):
    from leadthe.billing import accounts

    a, _ = companies
    make_user(app, a.org, email="extra@a.example")
    open_invitations(app, a.org, 2)
    with app.app_context():
        assert accounts.seats_used(a.org.id) == 4 and accounts.seats_promised(a.org.id) == 6


def test_the_demo_company_pays_for_seats_and_is_no_trial_that_ends(app):
    from leadthe.billing import accounts
    from leadthe.models import Organization

    runner = app.test_cli_runner()
    for _ in range(2):  # idempotent
        assert runner.invoke(args=["leadthe", "seed-demo"]).exit_code == 0
    with app.app_context():
        org_id = db.session.scalar(sa.select(Organization.id).where(Organization.name == "Acme Corp"))
        account = accounts.account_view(org_id)
        assert (account.status, account.provider, account.interval, account.seats) == ("active", "manual", "month", 50)
        assert account.plan_version_id is not None and account.current_period_end > utcnow()
        assert accounts.seats_promised(org_id) < account.seats and not accounts.is_read_only(account)
