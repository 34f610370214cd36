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
from tests.helpers import close_step_up_window

from .helpers import log_in


def no_sideways_scroll(page):
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


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
    # a phone's width: the long record values and URLs wrap or scroll in their own box, the page does not
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, "ada@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    close_step_up_window(live_app, "ada@example.com")  # signed in more than five minutes ago: asked again
    page.goto("/admin/sso")
    expect(page.get_by_text("No domains yet.")).to_be_visible()
    page.get_by_label("Domain", exact=True).fill("Acme.example")
    page.locator("#domain-password").fill(PASSWORD)
    page.get_by_role("button", name="Add domain").click()
    expect(page.get_by_text("acme.example is in your list.")).to_be_visible()
    with live_app.app_context():
        token = db.session.scalar(sa.select(SsoDomain.token))
    expect(page.get_by_text(f"leadthe-verification={token}")).to_be_visible()
    assert no_sideways_scroll(page)
    # not there yet: the reason is shown
    page.get_by_role("button", name="Check now acme.example").click()
    expect(page.get_by_text("does not exist in DNS").first).to_be_visible()
    resolver.records["_leadthe-verification.acme.example"] = [f'"leadthe-verification={token}"']
    page.get_by_role("button", name="Check now acme.example").click()
    expect(page.get_by_text("acme.example is verified.")).to_be_visible()
    # the identity provider: with JavaScript only the chosen protocol's fields show; without, all of them
    oidc_issuer, saml_url = page.get_by_label("Issuer URL"), page.get_by_label("Metadata URL of the identity provider")
    if js:
        expect(oidc_issuer).to_be_hidden()
        page.get_by_label("SAML 2.0").check()
        expect(saml_url).to_be_visible()
        expect(oidc_issuer).to_be_hidden()
        page.get_by_label("OpenID Connect").check()
        expect(oidc_issuer).to_be_visible()
        expect(saml_url).to_be_hidden()
    else:
        expect(oidc_issuer).to_be_visible()
        expect(saml_url).to_be_visible()
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
    assert no_sideways_scroll(page)
    if not js:
        checker = new_page(js=True)  # axe needs timers: the same page, seen by a JS-enabled browser
        log_in(checker, "ada@example.com")
        expect(checker).to_have_url(re.compile(r"/dashboard$"))
        checker.goto("/admin/sso")
        axe_check(checker, label="/admin/sso with a verified domain")


def test_the_pages_are_valid_html_in_each_state(live_app, page_js, tmp_path, monkeypatch):
    """The Nu HTML checker on /admin/sso as served (empty; a domain and refused rules; a new token), the mail
    and removal pages of a domain, and the mailed link's confirmation page."""
    from leadthe.models import OutboxMail
    from leadthe.models.sso import SsoDomain

    from . import nu
    from .test_sweep import require_nu

    require_nu()
    org = make_org(live_app, "Example Ltd")
    make_user(live_app, org, email="ada@example.com", name="Ada Admin", role="admin")
    page = page_js
    log_in(page, "ada@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto("/admin/sso")
    token = page.locator('input[name="domain-csrf_token"]').get_attribute("value")
    files = []

    def save(name, response, status=200):
        assert response.status == status, (name, response.status)
        path = tmp_path / f"{name}.html"
        path.write_text(response.text(), encoding="utf-8")
        files.append(path)

    save("empty", page.request.get("/admin/sso"))
    save("refused-domain", page.request.post("/admin/sso/domains", form={
        "domain-csrf_token": token, "domain-domain": "gmail.com"}), 422)
    assert page.request.post("/admin/sso/domains", form={"domain-csrf_token": token, "domain-domain": "acme.example",
                                                         "domain-password": PASSWORD}, max_redirects=0).status == 303
    save("refused-rules", page.request.post("/admin/sso/rules", form={
        "rules-csrf_token": token, "rules-sso_required": "y"}), 422)
    save("new-token", page.request.post("/admin/sso/scim-token", form={"scim-csrf_token": token}))
    with live_app.app_context():
        domain_id = db.session.scalar(sa.select(SsoDomain.id))
    save("mail", page.request.get(f"/admin/sso/domains/{domain_id}/mail"))
    save("remove", page.request.get(f"/admin/sso/domains/{domain_id}/remove"))
    assert page.request.post(f"/admin/sso/domains/{domain_id}/mail", form={"csrf_token": token, "box": "webmaster"},
                             max_redirects=0).status == 303
    with live_app.app_context():
        body = db.session.scalar(sa.select(OutboxMail.body_text).order_by(OutboxMail.id.desc()))
    link = re.search(r"https?://\S+(/sso/verify-domain/\S+)", body).group(1)
    save("verify", page.request.get(link))
    save("verify-invalid", page.request.get("/sso/verify-domain/forged"), 400)
    messages = nu.check_files(files)
    assert not messages, "\n".join(f"{m.file}:{m.line}: {m.text} {m.extract}" for m in messages)
