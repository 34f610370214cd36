"""The cookie banner in a real browser, with JavaScript on and off."""
from __future__ import annotations

import gzip

import sqlalchemy as sa
from playwright.sync_api import expect

from leadthe.extensions import db
from leadthe.models.consent import PageView


def views(live_app) -> int:
    with live_app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(PageView))


def cookie_names(page) -> set[str]:
    return {c["name"] for c in page.context.cookies()}


def banner(page):
    return page.get_by_role("region", name="Cookies")


def test_first_visit_shows_the_banner_and_reject_all_sets_nothing_optional(page, live_app):
    page.goto("/")
    expect(banner(page)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_be_visible()  # the page itself is not hidden
    page.get_by_role("button", name="Reject all").click()
    expect(banner(page)).to_have_count(0)
    assert "leadthe_consent" in cookie_names(page)
    assert not {"leadthe_aid", "leadthe_prefs"} & cookie_names(page)
    page.goto("/login")
    page.reload()
    expect(banner(page)).to_have_count(0)  # the choice survives a reload
    assert views(live_app) == 0


def test_accept_all_sets_the_analytics_cookie_and_records_visits(page, live_app):
    page.goto("/login")
    page.get_by_role("button", name="Accept all").click()
    expect(banner(page)).to_have_count(0)
    assert "leadthe_aid" in cookie_names(page)
    page.goto("/signup")
    page.reload()
    expect(banner(page)).to_have_count(0)
    assert views(live_app) >= 2


def test_per_category_choice(page, live_app):
    page.goto("/")
    banner(page).get_by_text("Let me choose").click()
    banner(page).get_by_label("Preferences").check()
    banner(page).get_by_role("button", name="Save my choice").click()
    expect(banner(page)).to_have_count(0)
    page.goto("/consent")
    expect(page.get_by_label("Preferences: remember language")).to_be_checked()
    expect(page.get_by_label("Analytics: count visits")).not_to_be_checked()
    assert "leadthe_aid" not in cookie_names(page)


def test_global_privacy_control_is_a_refusal(new_page, js, live_app):
    page = new_page(js=js)
    page.set_extra_http_headers({"Sec-GPC": "1"})
    page.goto("/")
    expect(banner(page).get_by_text("signal is honoured")).to_be_visible()
    page.goto("/login")
    assert views(live_app) == 0
    page.goto("/consent")
    expect(page.get_by_text("treat it as a refusal")).to_be_visible()


def test_banner_and_settings_pass_axe(page_js, axe_check):
    page_js.goto("/")
    expect(banner(page_js)).to_be_visible()
    axe_check(page_js, label="home with cookie banner")
    page_js.goto("/consent")
    axe_check(page_js, label="/consent")
    page_js.goto("/account/preferences")
    axe_check(page_js, label="/account/preferences (visitor)")
    page_js.goto("/privacy/policy/history")
    axe_check(page_js, label="policy history")


def test_banner_weighs_under_2kb_compressed(live_app):
    """What the banner adds to a page, compressed the way pages are sent."""
    with live_app.test_client() as client:
        with_banner = client.get("/login").get_data()
    html = with_banner.decode()
    start = html.index('<section id="cookie-banner"')
    end = html.index("</section>", start) + len("</section>")
    fragment = html[start:end].encode()
    whole_gz = len(gzip.compress(with_banner, 9))
    without_gz = len(gzip.compress(with_banner.replace(fragment, b""), 9))
    assert whole_gz - without_gz < 2048, f"banner adds {whole_gz - without_gz} bytes"
