"""Claiming and proving e-mail domains for single sign-on (issue 19): what cannot be claimed, the DNS TXT proof
(answered by a resolver the tests control), one company per domain (a race included), and the mailed link."""
from __future__ import annotations

import re
import time

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import itsdangerous.timed
import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import AuditEvent, OutboxMail
from leadthe.models.sso import SsoDomain
from leadthe.sso import domains
from tests.conftest import audit_actions, csrf_from, outbox
from tests.helpers import signed_in


class FakeResolver:
    """dnspython's ``resolve`` for a few names: TXT values by name, or an exception; NXDOMAIN for the rest."""

    def __init__(self, records=None, errors=None):
        self.records, self.errors, self.asked = records or {}, errors or {}, []

    def resolve(self, qname, rdtype, lifetime=None):
        self.asked.append((str(qname), rdtype, lifetime))
        if qname in self.errors:
            raise self.errors[qname]
        if qname not in self.records:
            raise dns.resolver.NXDOMAIN()
        # real TXT rdata, parsed from zone-file text (a value may be split into several strings)
        return [dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, text) for text in self.records[qname]]


@pytest.fixture
def resolver(app, monkeypatch):
    fake = FakeResolver()
    monkeypatch.setitem(app.config, "SSO_DNS_RESOLVER", fake)
    return fake


def _admin(company):
    from leadthe.models import User

    return db.session.get(User, company.admin.id)


def _claim(app, company, name):
    with app.test_request_context():
        row = domains.claim(company.org.id, _admin(company), name)
        db.session.commit()
        return row.id, row.token


def _check(app, company, domain_id):
    """Check the DNS as the company's admin would; (verified, message, row's verified_domain)."""
    with app.test_request_context():
        row = db.session.get(SsoDomain, domain_id)
        ok = domains.check_dns(row, _admin(company))
        db.session.commit()
        return ok, domains.check_words(row), row.verified_domain


# --- claiming ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, stored", [
    ("  Example.COM. ", "example.com"), ("Bücher.de", "xn--bcher-kva.de"), ("mail.acme-corp.co.uk", "mail.acme-corp.co.uk"),
])
def test_a_domain_is_stored_in_lower_case_punycode(app, typed, stored):
    with app.test_request_context():
        assert domains.normalise(typed) == stored


@pytest.mark.parametrize("typed, words", [
    ("", "Enter a domain"), ("localhost", "whole domain"), ("intranet.", "whole domain"),
    ("192.168.1.10", "not an IP address"), ("[::1]", "not an IP address"), ("2001:db8::1", "not an IP address"),
    ("ann@example.com", "only the domain"), ("https://example.com/", "without https://"),
    ("exa mple.com", "not a valid domain"), ("-example.com", "not a valid domain"), ("example.123", "not a valid domain"),
    ("a" * 64 + ".com", "not a valid domain"), ("exa_mple.com", "not a valid domain"),
])
def test_what_is_not_a_domain_is_refused_with_a_reason(app, typed, words):
    with app.test_request_context(), pytest.raises(domains.DomainProblem) as refused:
        domains.normalise(typed)
    assert words in str(refused.value)


@pytest.mark.parametrize("name", ["gmail.com", "GoogleMail.com", "hotmail.de", "hotmail.co.uk", "outlook.com", "live.com",
                                  "yahoo.com", "yahoo.co.jp", "icloud.com", "gmx.ch", "web.de", "t-online.de", "proton.me",
                                  "yandex.ru", "mailbox.org", "fastmail.com", "hey.com", "eu.mail.gmail.com"])
def test_free_mail_domains_cannot_be_claimed(app, companies, name):
    a, _b = companies
    with app.test_request_context(), pytest.raises(domains.DomainProblem) as refused:
        domains.claim(a.org.id, _admin(a), name)
    assert "free-mail" in str(refused.value)


@pytest.mark.parametrize("name", ["yahoo.acme-corp.com", "live.ai", "gmail-consulting.com", "webde.com"])
def test_a_company_domain_that_merely_resembles_a_free_mail_one_can_be_claimed(app, companies, name):
    a, _b = companies
    domain_id, _token = _claim(app, a, name)
    with app.app_context():
        assert db.session.get(SsoDomain, domain_id).domain == name


def test_a_claim_gets_a_random_token_and_is_audited(app, companies):
    a, b = companies
    first = _claim(app, a, "acme.example")
    second = _claim(app, b, "acme.example")  # another company may claim it too, until one proves it
    assert first[1] != second[1] and len(first[1]) >= 24
    with app.app_context():
        row = db.session.get(SsoDomain, first[0])
        assert row.verified_at is None and row.verified_domain is None
    assert audit_actions(app).count("sso.domain_added") == 2


def test_the_same_domain_twice_in_one_company_is_refused(app, companies):
    a, _b = companies
    _claim(app, a, "acme.example")
    with app.test_request_context(), pytest.raises(domains.DomainProblem) as refused:
        domains.claim(a.org.id, _admin(a), "ACME.example")
    assert "already in your list" in str(refused.value)


def test_a_domain_verified_by_another_company_cannot_be_claimed_and_the_company_is_not_named(app, companies, resolver):
    a, b = companies
    domain_id, token = _claim(app, a, "acme.example")
    resolver.records["_leadthe-verification.acme.example"] = [f'"leadthe-verification={token}"']
    assert _check(app, a, domain_id)[0]
    with app.test_request_context(), pytest.raises(domains.DomainProblem) as refused:
        domains.claim(b.org.id, _admin(b), "acme.example")
    assert "verified by another company" in str(refused.value)
    assert "Company A" not in str(refused.value)


# --- the DNS proof ----------------------------------------------------------------------------------------

def test_the_record_at_the_verification_name_proves_the_domain(app, companies, resolver):
    a, _b = companies
    domain_id, token = _claim(app, a, "acme.example")
    resolver.records["_leadthe-verification.acme.example"] = [f'"leadthe-verification={token}"']
    ok, message, verified = _check(app, a, domain_id)
    assert ok and verified == "acme.example" and message == ""
    with app.app_context():
        row = db.session.get(SsoDomain, domain_id)
        assert row.method == "dns" and row.verified_at is not None
    assert resolver.asked[0] == ("_leadthe-verification.acme.example", "TXT", domains.DNS_LIFETIME)
    assert "sso.domain_verified" in audit_actions(app)


def test_the_record_at_the_domain_itself_proves_it_too_among_other_records(app, companies, resolver):
    a, _b = companies
    domain_id, token = _claim(app, a, "acme.example")
    # SPF and another service's proof beside ours; ours split into two strings, as long TXT values are
    half = len(token) // 2
    resolver.records["acme.example"] = ['"v=spf1 include:_spf.example.net ~all"', '"google-site-verification=abc"',
                                        f'"leadthe-verification={token[:half]}" "{token[half:]}"']
    ok, _message, verified = _check(app, a, domain_id)
    assert ok and verified == "acme.example"


def test_a_wrong_value_is_not_a_proof_and_says_what_to_fix(app, companies, resolver):
    a, _b = companies
    domain_id, token = _claim(app, a, "acme.example")
    resolver.records["_leadthe-verification.acme.example"] = ['"leadthe-verification=someone-elses-token"']
    resolver.records["acme.example"] = ['"v=spf1 -all"']
    ok, message, verified = _check(app, a, domain_id)
    assert not ok and verified is None
    assert f"leadthe-verification={token}" in message and "none with the value" in message
    with app.app_context():
        failed = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sso.domain_check_failed"))
        assert failed is not None and failed.org_id == a.org.id


def test_no_record_yet_says_where_to_add_it(app, companies, resolver):
    a, _b = companies
    domain_id, _token = _claim(app, a, "acme.example")
    resolver.errors["acme.example"] = dns.resolver.NoAnswer()
    ok, message, _verified = _check(app, a, domain_id)
    assert not ok and "no TXT record at _leadthe-verification.acme.example" in message


def test_a_domain_missing_from_dns_is_named(app, companies, resolver):
    a, _b = companies
    domain_id, _token = _claim(app, a, "acme.example")  # nothing in the fake DNS: NXDOMAIN for both names
    ok, message, _verified = _check(app, a, domain_id)
    assert not ok and "does not exist in DNS" in message


def test_a_timeout_says_to_try_again(app, companies, resolver):
    a, _b = companies
    domain_id, _token = _claim(app, a, "acme.example")
    resolver.errors["_leadthe-verification.acme.example"] = dns.resolver.LifetimeTimeout(timeout=3.0, errors={})
    resolver.errors["acme.example"] = dns.exception.Timeout()
    ok, message, _verified = _check(app, a, domain_id)
    assert not ok and "timed out" in message


def test_a_domain_is_verified_by_one_company_only(app, companies, resolver):
    a, b = companies
    a_id, a_token = _claim(app, a, "acme.example")
    b_id, b_token = _claim(app, b, "acme.example")
    resolver.records["acme.example"] = [f'"leadthe-verification={a_token}"', f'"leadthe-verification={b_token}"']
    assert _check(app, a, a_id)[0]
    ok, message, verified = _check(app, b, b_id)
    assert not ok and verified is None and "verified by another company" in message


def test_the_race_is_decided_by_the_database_and_the_request_goes_on(app, companies, resolver, monkeypatch):
    """Both companies' checks pass the "verified elsewhere?" question at the same moment: the unique constraint
    refuses the second inside a savepoint, and the rest of its request (the check's message) is still saved."""
    a, b = companies
    a_id, a_token = _claim(app, a, "acme.example")
    b_id, b_token = _claim(app, b, "acme.example")
    resolver.records["acme.example"] = [f'"leadthe-verification={a_token}"', f'"leadthe-verification={b_token}"']
    assert _check(app, a, a_id)[0]
    monkeypatch.setattr(domains, "_verified_elsewhere", lambda org_id, domain: False)
    ok, message, verified = _check(app, b, b_id)
    assert not ok and verified is None and "verified by another company" in message
    with app.app_context():
        rows = {row.org_id: row for row in db.session.scalars(sa.select(SsoDomain))}
        assert rows[a.org.id].verified_domain == "acme.example"
        assert rows[b.org.id].verified_at is None and rows[b.org.id].check_message == "taken"


# --- the mailed link --------------------------------------------------------------------------------------

def _mail_link(app, company, domain_id, box="postmaster"):
    client = signed_in(app, company.admin)
    page = client.get(f"/admin/sso/domains/{domain_id}/mail")
    assert page.status_code == 200
    response = client.post(f"/admin/sso/domains/{domain_id}/mail",
                           data={"csrf_token": csrf_from(page.get_data(as_text=True)), "box": box})
    assert response.status_code == 303
    mail = outbox(app, kind="sso_verify_domain")[-1]
    return mail, re.search(r"http://localhost(/sso/verify-domain/\S+)", mail.body_text).group(1)


def test_the_link_goes_to_a_fixed_address_and_the_subject_names_no_domain(app, companies):
    a, _b = companies
    domain_id, _token = _claim(app, a, "acme.example")
    mail, _link = _mail_link(app, a, domain_id, box="hostmaster")
    assert mail.to_addr == "hostmaster@acme.example"
    assert "acme" not in mail.subject.lower() and "single sign-on" in mail.subject
    assert "acme.example" in mail.body_text and "Admin A" in mail.body_text
    assert "sso.domain_mail_sent" in audit_actions(app)


def test_an_address_that_is_not_one_of_the_fixed_ones_is_refused(app, companies):
    a, _b = companies
    domain_id, _token = _claim(app, a, "acme.example")
    client = signed_in(app, a.admin)
    page = client.get(f"/admin/sso/domains/{domain_id}/mail").get_data(as_text=True)
    response = client.post(f"/admin/sso/domains/{domain_id}/mail", data={"csrf_token": csrf_from(page), "box": "ceo"})
    assert response.status_code == 422
    assert outbox(app, kind="sso_verify_domain") == []


def test_the_mailed_link_verifies_for_an_admin_of_the_company(app, companies):
    a, b = companies
    domain_id, _token = _claim(app, a, "acme.example")
    _mail, link = _mail_link(app, a, domain_id)
    # signed out: the token is parked, the page asks to log in first
    visitor = app.test_client()
    parked = visitor.get(link)
    assert parked.status_code == 303 and parked.headers["Location"].endswith("/sso/verify-domain")
    assert "log in as an admin" in visitor.get("/sso/verify-domain").get_data(as_text=True)
    # another company's admin, and a learner of the company: nothing to see
    for person in (b.admin, a.learner):
        other = signed_in(app, person)
        other.get(link)
        assert other.get("/sso/verify-domain").status_code == 404
        assert other.post("/sso/verify-domain", data={"csrf_token": csrf_from(other.get("/dashboard").get_data(as_text=True))}).status_code == 404
    admin = signed_in(app, a.admin)
    assert admin.get(link).status_code == 303
    page = admin.get("/sso/verify-domain").get_data(as_text=True)
    assert "Verify acme.example" in page
    done = admin.post("/sso/verify-domain", data={"csrf_token": csrf_from(page)})
    assert done.status_code == 303
    with app.app_context():
        row = db.session.get(SsoDomain, domain_id)
        assert row.verified_domain == "acme.example" and row.method == "mail"
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sso.domain_verified"))
        assert event.actor_id == a.admin.id


def test_a_forged_or_expired_link_or_one_of_a_removed_domain_is_refused(app, companies, monkeypatch):
    a, _b = companies
    domain_id, _token = _claim(app, a, "acme.example")
    admin = signed_in(app, a.admin)
    assert admin.get("/sso/verify-domain/forged.token-that-is-not-signed").status_code == 400
    # a link made four days ago (the links work for three)
    real_time = time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() - 4 * 24 * 3600)
    _mail, old_link = _mail_link(app, a, domain_id)
    monkeypatch.setattr(itsdangerous.timed.time, "time", real_time)
    response = admin.get(old_link)
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    # a fresh link, then the domain is removed and claimed again: a new token, the old link is dead
    _mail, link = _mail_link(app, a, domain_id)
    with app.test_request_context():
        domains.remove(db.session.get(SsoDomain, domain_id), _admin(a))
        db.session.commit()
    _claim(app, a, "acme.example")
    assert admin.get(link).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(SsoDomain.verified_at)) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)) >= 2
