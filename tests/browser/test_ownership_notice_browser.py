"""The change-of-ownership notice (issue 21) in a real browser: staff preview and send it; the banner is on every
page until the person closes it, with JavaScript on (htmx removes it in place) and off (a plain form, back to the
same page); axe and the Nu HTML checker on a page with the banner and on the staff preview; the records of
processing fold their activities and keep 375 px without sideways scrolling."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from leadthe.extensions import db
from leadthe.models.support import Notice

from . import test_privacy_pages as privacy_pages
from .helpers import log_in_with_code

people = privacy_pages.people  # Bea Boss (admin), Max Manager, Lea Learner, and Dana DPO (staff)
sign_in = privacy_pages.sign_in


def send_notice(live_app) -> int:
    from datetime import date

    with live_app.app_context():
        notice = Notice(kind="ownership", title="Change of ownership", new_owner="Northwind Learning GmbH",
                        transfer_on=date(2027, 2, 1), body="Northwind runs the platform from the same data centres.",
                        contact="privacy@leadthe.ai")
        db.session.add(notice)
        db.session.commit()
        return notice.id


def test_the_banner_stays_on_every_page_until_closed(page, js, live_app, people):
    send_notice(live_app)
    sign_in(page, "lea@example.com")
    banner = page.locator("#ownership-notice")
    for url in ("/dashboard", "/courses", "/privacy"):
        page.goto(url)
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("LeadThe.AI is changing owner")
    page.goto("/courses")
    banner.get_by_text("LeadThe.AI is changing owner").click()  # the details open
    expect(banner).to_contain_text("delete your account")
    banner.get_by_role("button", name="Close this notice").click()
    expect(banner).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/courses$"))  # htmx: in place; without JS: 303 back to the same page
    page.goto("/dashboard")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(banner).to_have_count(0)


def test_staff_preview_and_send(page, js, live_app, people):
    log_in_with_code(page, live_app, people["staff"])
    page.wait_for_url("**/staff/console")
    page.goto("/staff/notices")
    page.get_by_role("link", name="Announce a change of ownership").click()
    page.get_by_label("New owner").fill("Northwind Learning GmbH")
    page.get_by_label("Date of the transfer").fill("2027-02-01")
    page.get_by_label("What happens to people's data").fill("Northwind runs the platform from the same data centres.")
    page.get_by_label("Contact for questions").fill("privacy@leadthe.ai")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    page.get_by_role("button", name="Send to everyone").click()
    expect(page.get_by_text("Check the preview, then confirm").first).to_be_visible()  # not confirmed yet
    page.get_by_label(re.compile("I have checked the preview")).check()
    page.get_by_role("button", name="Send to everyone").click()
    expect(page).to_have_url(re.compile(r"/staff/notices$"))
    expect(page.locator("#ownership-notice")).to_be_visible()  # staff see it too
    expect(page.get_by_text("Change of ownership: Northwind Learning GmbH")).to_be_visible()


def test_axe_and_nu_on_the_banner_the_preview_and_the_records(new_page, axe_check, live_app, people, tmp_path):
    from . import nu
    from .test_sweep import require_nu

    send_notice(live_app)
    for scheme in ("light", "dark"):
        page = new_page(js=True, color_scheme=scheme)
        sign_in(page, "boss@example.com")
        page.set_viewport_size({"width": 375, "height": 800})
        page.goto("/admin/records-of-processing")
        page.locator("#ownership-notice summary").click()
        expect(page.locator("details.ropa").first).to_be_visible()
        page.locator("details.ropa summary").first.click()
        axe_check(page, label=f"records with the ownership banner, {scheme}")
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "sideways at 375 px"
    (tmp_path / "records.html").write_text(page.request.get("/admin/records-of-processing").text(), encoding="utf-8")
    staff = new_page(js=True)
    log_in_with_code(staff, live_app, people["staff"])
    staff.wait_for_url("**/staff/console")
    staff.goto("/staff/notices/ownership")
    staff.get_by_label("New owner").fill("Northwind Learning GmbH")
    staff.get_by_label("Date of the transfer").fill("2027-02-01")
    staff.get_by_label("What happens to people's data").fill("The same data centres.")
    staff.get_by_label("Contact for questions").fill("privacy@leadthe.ai")
    staff.get_by_role("button", name="Preview").click()
    expect(staff.get_by_role("heading", name="Preview")).to_be_visible()
    axe_check(staff, label="ownership preview")
    (tmp_path / "preview.html").write_text(staff.content(), encoding="utf-8")
    require_nu()
    messages = nu.check_files(sorted(tmp_path.glob("*.html")))
    assert not messages, "\n".join(f"{m.file}:{m.line}: {m.text} {m.extract}" for m in messages)
