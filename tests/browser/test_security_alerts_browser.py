"""The staff console's security alerts (issue 23) in a real browser, with JavaScript on and off, at a phone's width:
a burst of failed log-ins from one network raises an alert; staff find it by the badge in their navigation, open
it, see the audit events behind it, acknowledge and close it; no page scrolls sideways; axe on each page."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import make_staff

from .helpers import log_in, log_in_with_code


def no_sideways_scroll(page):
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_staff_handle_a_burst_of_failed_log_ins(live_app, page, js, new_page, axe_check):
    attacker = new_page(js=False)
    for i in range(20):
        log_in(attacker, f"someone{i}@victim.example", "not-the-password-1")
    staff = make_staff(live_app, email="sam@leadthe.example")
    page.set_viewport_size({"width": 375, "height": 800})
    log_in_with_code(page, live_app, staff)
    nav = page.get_by_role("navigation", name="Main")
    link = nav.get_by_role("link", name=re.compile(r"Security alerts\s*1\s*open"))
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(r"/staff/security-alerts$"))
    expect(page.get_by_text("1 alert", exact=True)).to_be_visible()
    assert no_sideways_scroll(page)
    if js:
        axe_check(page, label="/staff/security-alerts")
    page.get_by_role("link", name=re.compile(r"^#\d+$")).click()
    expect(page.get_by_role("heading", name="Failed log-ins for many accounts from one network")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Sign-in failed")).to_have_count(20)
    assert no_sideways_scroll(page)
    if js:
        axe_check(page, label="/staff/security-alerts/<id>")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Alert acknowledged")).to_be_visible()
    page.get_by_role("button", name="Close the alert").click()
    expect(page.get_by_text("Alert closed.")).to_be_visible()
    expect(page.get_by_role("button", name="Close the alert")).to_have_count(0)
    assert no_sideways_scroll(page)


def test_the_state_filter_applies_on_change_and_the_header_keeps_account_on_the_first_row(live_app, page, js):
    """Staff have six groups in their navigation. At 1280 px they sit beside the brand and the Account menu stays
    top right (it once had a row of its own); on a phone every row of links starts at the brand's left edge. The
    state filter works with the button, and with JavaScript as soon as the select changes."""
    staff = make_staff(live_app, email="sam@leadthe.example")
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in_with_code(page, live_app, staff)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Security alerts").click()
    expect(page).to_have_url(re.compile(r"/staff/security-alerts$"))
    brand = page.locator("header.site .brand").bounding_box()
    account = page.locator("header.site .account summary").bounding_box()
    header = page.locator("header.site").bounding_box()
    assert abs((account["y"] + account["height"] / 2) - (brand["y"] + brand["height"] / 2)) < 4
    assert header["height"] < 130, header

    page.get_by_label("State").select_option("closed")
    if not js:
        page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No security alerts in this state.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"status=closed"))

    page.set_viewport_size({"width": 375, "height": 800})
    rows = page.evaluate("""() => {  // row top -> where the text of its first link starts
        const starts = {};
        for (const a of document.querySelectorAll('header.site .nav a')) {
            const box = a.getBoundingClientRect(), top = Math.round(box.top);
            const text = box.left + parseFloat(getComputedStyle(a).paddingLeft);
            starts[top] = Math.min(starts[top] ?? Infinity, text);
        }
        return starts;
    }""")
    brand_left = page.locator("header.site .brand").bounding_box()["x"]
    assert len(rows) >= 2, rows  # six groups on a phone: two rows
    assert all(abs(left - brand_left) < 1 for left in rows.values()), (rows, brand_left)
    assert no_sideways_scroll(page)
