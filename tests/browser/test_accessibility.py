"""axe-core on every page we have: no "serious" or "critical" violations, in light and dark mode.

axe runs in a JS-enabled page (it needs timers). The no-JS rendering of an invalid form is checked by
blocking htmx, which makes the browser post the form itself and show the server's full-page answer.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import make_org, make_user

from .helpers import fill_signup, log_in, submit_signup

PUBLIC_PAGES = ["/", "/login", "/signup", "/password/forgot", "/privacy/policy"]
HTMX_SCRIPT = re.compile(r"/static/vendor/htmx-[^/?]*\.js")


@pytest.fixture(params=["light", "dark"])
def color_scheme(request) -> str:
    """The stylesheet has a dark palette (prefers-color-scheme): its contrast is checked too."""
    return request.param


@pytest.fixture
def page(new_page, color_scheme):
    return new_page(js=True, color_scheme=color_scheme)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page(page, axe_check, path):
    response = page.goto(path)
    assert response.status == 200
    axe_check(page)


def test_not_found_page(page, axe_check):
    response = page.goto("/no-such-page")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We can't find that page")
    axe_check(page)


@pytest.mark.parametrize("via", ["htmx", "plain-post"])
def test_signup_with_errors(page, axe_check, via):
    if via == "plain-post":
        page.route(HTMX_SCRIPT, lambda route: route.abort())
    fill_signup(page, name="", age_confirm=False, accept_policy=False)
    with page.expect_response(lambda r: r.url.endswith("/signup") and r.request.method == "POST") as answer:
        submit_signup(page)
    assert answer.value.status == (200 if via == "htmx" else 422)
    expect(page.locator("p.error").first).to_be_visible()
    expect(page.locator("#name-error")).to_be_visible()
    axe_check(page, label=f"/signup with errors ({via})")


def test_dashboard_when_signed_in(page, axe_check, live_app):
    org = make_org(live_app, "Example Ltd")
    make_user(live_app, org, email="ann@example.com", name="Ann Example", role="admin", verified=False)

    log_in(page, "ann@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    # Unverified on purpose: the page then also shows the "confirm your e-mail" notice and its button.
    expect(page.get_by_role("button", name="Send the link again")).to_be_visible()
    axe_check(page)
