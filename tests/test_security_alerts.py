"""Signs of attack reach staff (issue 23, leadthe/alerts): a burst of failed log-ins across many accounts from one
network, a burst of 404s on other companies' ids from one account, a SCIM token used from a new network. Each is
one alert with the audit events behind it and one mail to the staff alert mailbox; staff see, acknowledge and
close it in their console; nobody else can reach it."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from tests.conftest import audit_actions, csrf_from, login_with_code, make_staff, make_user, outbox
from tests.helpers import signed_in

ALERT_MAILBOX = "security@leadthe.example"


@pytest.fixture(autouse=True)
def _alert_mailbox(app):
    app.config["SECURITY_ALERT_EMAIL"] = ALERT_MAILBOX


def alerts(app, **where):
    from leadthe.models.alerts import SecurityAlert

    with app.app_context():
        rows = list(db.session.scalars(sa.select(SecurityAlert).filter_by(**where).order_by(SecurityAlert.id)))
        db.session.expunge_all()
        return rows


def staff_mails(app):
    return outbox(app, to_addr=ALERT_MAILBOX)


def fail_logins(app, emails, ip):
    """One browser at ``ip`` trying a wrong password for each address (the way a password spray looks)."""
    client = app.test_client()
    token = csrf_from(client.get("/login", environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True))
    for email in emails:
        response = client.post("/login", data={"csrf_token": token, "email": email, "password": "wrong-password-1"},
                               environ_base={"REMOTE_ADDR": ip})
        assert response.status_code == 422


def sprayed(n, tag="spray"):
    return [f"{tag}{i}@victim.example" for i in range(n)]


# --- 1. failed log-ins across many accounts from one network ------------------------------------------------------

def test_twenty_accounts_failing_from_one_address_raise_exactly_one_alert_and_one_mail(app, companies):
    a, b = companies
    # real accounts and addresses without one count alike: the attacker does not know which exist
    real = [a.admin.email, a.manager.email, a.learner.email, b.learner.email]
    fail_logins(app, real + sprayed(16), "203.0.113.7")
    [alert] = alerts(app)
    assert (alert.kind, alert.network, alert.status, alert.count) == ("login.burst", "203.0.113.0/24", "open", 20)
    assert alert.details["accounts"] == 20 and len(alert.details["event_ids"]) == 20
    [mail] = staff_mails(app)
    assert mail.subject == f"Security alert #{alert.id}: Failed log-ins for many accounts from one network"
    assert "victim.example" not in mail.subject + mail.body_text  # no customer text, no addresses
    assert f"/staff/security-alerts/{alert.id}" in mail.body_text

    # the burst goes on, from another address of the same /24: the same alert counts it, no second mail
    fail_logins(app, sprayed(5, "more"), "203.0.113.200")
    [alert] = alerts(app)
    assert alert.count == 25 and len(alert.details["event_ids"]) == 25
    assert len(staff_mails(app)) == 1


def test_nineteen_accounts_raise_nothing(app, companies):
    fail_logins(app, sprayed(19), "203.0.113.7")
    fail_logins(app, sprayed(19), "203.0.113.8")  # the same accounts again: still 19 distinct ones
    assert alerts(app) == [] and staff_mails(app) == []
    assert audit_actions(app).count("login.failed") == 38


def test_another_network_is_counted_apart_and_gets_its_own_alert(app, companies):
    fail_logins(app, sprayed(12, "x"), "203.0.113.7")
    fail_logins(app, sprayed(12, "y"), "198.51.100.7")
    assert alerts(app) == []  # 24 accounts in all, but no network reached 20
    fail_logins(app, sprayed(8, "x2"), "203.0.113.9")
    fail_logins(app, sprayed(8, "y2"), "2001:db8:1:2::5")  # IPv6: its own /64
    fail_logins(app, sprayed(20, "z"), "2001:db8:1:2:aaaa::9")
    assert [(x.kind, x.network) for x in alerts(app)] == [("login.burst", "203.0.113.0/24"),
                                                         ("login.burst", "2001:db8:1:2::/64")]
    assert len(staff_mails(app)) == 2


def test_a_closed_alert_lets_a_new_burst_raise_a_new_one(app, companies):
    from leadthe.models.alerts import SecurityAlert

    fail_logins(app, sprayed(20), "203.0.113.7")
    with app.app_context():
        db.session.execute(sa.update(SecurityAlert).values(status="closed"))
        db.session.commit()
    fail_logins(app, sprayed(1, "again"), "203.0.113.7")  # 21 accounts within the window: a new burst
    assert [x.status for x in alerts(app)] == ["closed", "open"]
    assert len(staff_mails(app)) == 2


# --- 2. 404s on other companies' ids from one account -----------------------------------------------------------

def test_a_burst_of_404s_on_another_companys_ids_raises_an_alert(app, companies):
    a, b = companies
    others = [make_user(app, b.org, email=f"p{i}@b.example") for i in range(9)]
    client = signed_in(app, a.admin)
    for person in others:
        assert client.get(f"/admin/users/{person.id}").status_code == 404
    assert client.get("/admin/users/999999").status_code == 404  # no such row anywhere: not a sign of probing
    assert client.get(f"/admin/users/{a.learner.id}").status_code == 200  # a row found: nothing recorded
    assert audit_actions(app).count("tenancy.cross_company_miss") == 9
    assert alerts(app) == []

    assert client.get(f"/admin/users/{b.admin.id}").status_code == 404  # the tenth
    [alert] = alerts(app)
    assert (alert.kind, alert.actor_id, alert.org_id, alert.count) == ("tenancy.miss_burst", a.admin.id, a.org.id, 10)
    assert alert.network == "127.0.0.0/24" and len(alert.details["event_ids"]) == 10
    [mail] = staff_mails(app)
    assert "Many requests for other companies' records from one account" in mail.subject

    client.get(f"/admin/users/{b.manager.id}")
    assert [x.count for x in alerts(app)] == [11] and len(staff_mails(app)) == 1


# --- 3. a SCIM token used from a new network ---------------------------------------------------------------------

def issue_token(app, company):
    from leadthe.scim import tokens

    with app.test_request_context():
        token = tokens.issue(company.org.id, company.admin)
        db.session.commit()
        return token


def scim_get(app, token, ip):
    response = app.test_client().get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"},
                                     environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 200
    return response


def test_a_scim_token_from_a_new_network_raises_an_alert_and_a_known_one_does_not(app, companies):
    a, _b = companies
    token = issue_token(app, a)
    scim_get(app, token, "192.0.2.10")  # the first use only records the network
    scim_get(app, token, "192.0.2.99")  # the same /24
    assert alerts(app) == [] and staff_mails(app) == []

    scim_get(app, token, "198.51.100.5")
    [alert] = alerts(app)
    assert (alert.kind, alert.org_id, alert.network) == ("credential.new_network", a.org.id, "198.51.100.0/24")
    assert alert.details["credential"] == "scim_token" and len(alert.details["event_ids"]) == 2
    assert len(staff_mails(app)) == 1
    assert "credential.new_network" in audit_actions(app)  # in the company's own audit log too

    scim_get(app, token, "198.51.100.6")  # now a known network
    scim_get(app, token, "192.0.2.10")
    assert len(alerts(app)) == 1 and len(staff_mails(app)) == 1
    assert audit_actions(app).count("scim.request") == 5  # every request is still audited


def test_a_new_token_starts_with_no_known_networks(app, companies):
    a, _b = companies
    scim_get(app, issue_token(app, a), "192.0.2.10")
    scim_get(app, issue_token(app, a), "198.51.100.5")  # rotated: the new token's first use
    assert alerts(app) == []


# --- the staff console --------------------------------------------------------------------------------------------

@pytest.fixture
def staff_client(app):
    staff = make_staff(app)
    client = app.test_client()
    login_with_code(client, app, staff)
    return client, staff


def test_staff_see_the_alert_with_its_events_and_acknowledge_then_close_it(app, companies, staff_client):
    client, staff = staff_client
    fail_logins(app, sprayed(20), "203.0.113.7")
    [alert] = alerts(app)

    page = client.get("/staff/console").get_data(as_text=True)
    assert re.search(r'Security alerts <span class="badge err">1<span class="visually-hidden"> open', page)
    listing = client.get("/staff/security-alerts").get_data(as_text=True)
    assert f"/staff/security-alerts/{alert.id}" in listing and "203.0.113.0/24" in listing
    detail = client.get(f"/staff/security-alerts/{alert.id}")
    html = detail.get_data(as_text=True)
    assert detail.status_code == 200
    assert html.count("Sign-in failed: wrong password") == 20 and "203.0.113.7" in html

    token = csrf_from(html)
    response = client.post(f"/staff/security-alerts/{alert.id}", data={"csrf_token": token, "action": "acknowledge"})
    assert response.status_code == 303
    [alert] = alerts(app)
    assert (alert.status, alert.acknowledged_by_id) == ("acknowledged", staff.id)
    assert 'class="badge err"' not in client.get("/staff/console").get_data(as_text=True)  # nothing open now

    client.post(f"/staff/security-alerts/{alert.id}", data={"csrf_token": token, "action": "close"})
    [alert] = alerts(app)
    assert (alert.status, alert.closed_by_id) == ("closed", staff.id)
    actions = audit_actions(app)
    assert "security_alert.acknowledged" in actions and "security_alert.closed" in actions
    assert "Close the alert" not in client.get(f"/staff/security-alerts/{alert.id}").get_data(as_text=True)
    # without a CSRF token: refused
    assert client.post(f"/staff/security-alerts/{alert.id}", data={"action": "close"}).status_code == 400


def test_the_list_puts_open_alerts_first_pages_and_has_an_empty_state(app, staff_client):
    from leadthe.models import utcnow
    from leadthe.models.alerts import SecurityAlert

    client, _staff = staff_client
    assert "Nothing suspicious has been seen" in client.get("/staff/security-alerts").get_data(as_text=True)
    with app.app_context():
        now = utcnow()
        db.session.add_all([SecurityAlert(kind="login.burst", network=f"10.0.{i}.0/24", status="closed", count=20,
                                          first_seen=now, last_seen=now, details={}) for i in range(30)]
                           + [SecurityAlert(kind="login.burst", network="10.9.9.0/24", status="open", count=20,
                                            first_seen=now, last_seen=now, details={})])
        db.session.commit()
    first = client.get("/staff/security-alerts").get_data(as_text=True)
    assert "31 alerts" in first and first.index("10.9.9.0/24") < first.index("10.0.") and "Next page" in first
    second = client.get("/staff/security-alerts?page=2").get_data(as_text=True)
    assert "Previous page" in second and "10.9.9.0/24" not in second
    only_open = client.get("/staff/security-alerts?status=open").get_data(as_text=True)
    assert "1 alert" in only_open and "10.0." not in only_open


@pytest.mark.parametrize("role", ["anonymous", "learner", "admin"])
def test_nobody_but_staff_reaches_the_alerts(app, companies, role):
    a, _b = companies
    fail_logins(app, sprayed(20), "203.0.113.7")
    [alert] = alerts(app)
    client = app.test_client() if role == "anonymous" else signed_in(app, getattr(a, role))
    for url in ("/staff/security-alerts", f"/staff/security-alerts/{alert.id}"):
        assert client.get(url).status_code == 404
    token = csrf_from(client.get("/login" if role == "anonymous" else "/dashboard").get_data(as_text=True))
    response = client.post(f"/staff/security-alerts/{alert.id}", data={"csrf_token": token, "action": "close"})
    assert response.status_code == 404
    assert alerts(app)[0].status == "open"


def test_the_network_is_erased_with_the_account_behind_a_404_burst(app, companies):
    """The registry declares the alert's account and network: erasure pseudonymises them, the alert stays."""
    from leadthe.privacy.erasure import _pseudonymise

    a, b = companies
    client = signed_in(app, a.learner)
    for _ in range(10):
        client.get(f"/admin/users/{b.learner.id}")  # a learner gets 403 for the admin area, before any lookup
    assert alerts(app) == []
    client = signed_in(app, a.admin)
    for _ in range(10):
        client.get(f"/admin/users/{b.learner.id}")
    with app.app_context():
        _pseudonymise(a.admin.id)
        db.session.commit()
    [alert] = alerts(app)
    assert (alert.actor_id, alert.network, alert.count) == (None, "", 10) and alert.actor_ref


# --- the pieces ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ip, network", [
    ("203.0.113.7", "203.0.113.0/24"), ("::ffff:203.0.113.7", "203.0.113.0/24"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"), ("", ""), ("not-an-address", "")])
def test_the_network_of_an_address(ip, network):
    from leadthe.alerts.detect import network_of

    assert network_of(ip) == network


def test_a_failing_watcher_never_costs_the_audit_event(app):
    from leadthe import audit

    def broken(conn, event_id, values):
        raise RuntimeError("a bug in a detector")

    audit.watch("login.failed", broken)
    try:
        with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.7"}):
            audit.record_apart("login.failed", reason="unknown_email", email_hash="x")
    finally:
        audit._WATCHERS["login.failed"].remove(broken)
    assert audit_actions(app) == ["login.failed"]
