"""``/admin/sso`` in a real browser, with JavaScript on and off: a company admin adds a domain (step-up), proves it
by DNS (a resolver the test controls), sees a refused log-in rule beside its field, and makes a SCIM token that is
shown once. axe on the page in each state (from a JS-enabled page, as axe needs timers)."""
from __future__ import annotations

import re

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from leadthe.extensions import db
from tests.conftest import PASSWORD, make_org, make_user

from .helpers import log_in


class Resolver:
    def __init__(self):
        self.records = {}

    def resolve(self, qname, rdtype, lifetime=None):
        if qname not in self.records:
            raise dns.resolver.NXDOMAIN()
        return [dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, text) for text in self.records[qname]]


@pytest.fixture
def resolver(live_app, monkeypatch):
    fake = Resolver()
    monkeypatch.setitem(live_app.config, "SSO_DNS_RESOLVER", fake)
    return fake


def test_an_admin_sets_up_domains_rules_and_scim(live_app, page, js, new_page, resolver, axe_check):
    from leadthe.models.sso import SsoDomain

    org = make_org(live_app, "Example Ltd")
    make_user(live_app, org, email="ada@example.com", name="Ada Admin", role="admin")
    log_in(page, "ada@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto("/admin/sso")
    expect(page.get_by_text("No domains yet.")).to_be_visible()
    page.get_by_label("Domain", exact=True).fill("Acme.example")
    page.locator("#domain-password").fill(PASSWORD)
    page.get_by_role("button", name="Add domain").click()
    expect(page.get_by_text("acme.example is in your list.")).to_be_visible()
    with live_app.app_context():
        token = db.session.scalar(sa.select(SsoDomain.token))
    expect(page.get_by_text(f"leadthe-verification={token}")).to_be_visible()
    # not there yet: the reason is shown
    page.get_by_role("button", name="Check now acme.example").click()
    expect(page.get_by_text("does not exist in DNS").first).to_be_visible()
    resolver.records["_leadthe-verification.acme.example"] = [f'"leadthe-verification={token}"']
    page.get_by_role("button", name="Check now acme.example").click()
    expect(page.get_by_text("acme.example is verified.")).to_be_visible()
    # SSO cannot be required before an identity provider is saved: said beside the box
    page.get_by_label("Require single sign-on for the verified domains").check()
    page.get_by_role("button", name="Save log-in rules").click()
    expect(page.locator("#rules-sso_required-error")).to_contain_text("Set up the identity provider first")
    # the step-up a moment ago is still fresh: no password asked for the token
    page.get_by_role("button", name="Make a token").click()
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    new_token = page.locator("#new-token code").inner_text()
    assert new_token.startswith("ltscim_")
    if js:
        axe_check(page, label="/admin/sso with a new SCIM token")
    page.goto("/admin/sso")
    expect(page.get_by_text(new_token)).to_have_count(0)
    expect(page.get_by_text("Verified", exact=True)).to_be_visible()
    if not js:
        checker = new_page(js=True)  # axe needs timers: the same page, seen by a JS-enabled browser
        log_in(checker, "ada@example.com")
        expect(checker).to_have_url(re.compile(r"/dashboard$"))
        checker.goto("/admin/sso")
        axe_check(checker, label="/admin/sso with a verified domain")
