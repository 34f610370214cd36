"""Works-council mode's setting in a real browser (issue 21), with JavaScript on (htmx swaps the form) and off (plain
form posts): an admin turns the mode on, then tries to turn it off without a reason (refused beside the reason field,
nothing changed), then with a reason; a learner then sees the notice with the reason. The annex opens from the
settings page, fits a phone's width, and passes axe and the Nu HTML checker."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from leadthe.extensions import db
from leadthe.models import Organization

from . import test_privacy_pages as privacy_pages

people = privacy_pages.people  # Example Ltd: Bea Boss (admin), Max Manager (manager), Lea Learner
sign_in = privacy_pages.sign_in
REASON = "The works agreement ended; the council agreed to individual reports."


def mode(live_app, people) -> bool:
    with live_app.app_context():
        return db.session.get(Organization, people["admin"].org_id).works_council_mode


def test_an_admin_turns_the_mode_on_and_off_with_a_reason(page, new_page, live_app, people):
    sign_in(page, "boss@example.com")
    page.goto("/admin/settings")
    box = page.get_by_label("Works-council mode", exact=True)
    expect(box).not_to_be_checked()
    expect(page.locator("#works_council_reason")).to_have_count(0)
    box.check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Works-council mode is on (since")).to_be_visible()
    assert mode(live_app, people)

    # the reason field shows once the box is unticked (CSS only); saving without a reason is refused beside it
    box = page.get_by_label("Works-council mode", exact=True)
    expect(box).to_be_checked()
    expect(page.locator("#works_council_reason")).to_be_hidden()
    box.uncheck()
    expect(page.locator("#works_council_reason")).to_be_visible()
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#works_council_reason-error")).to_contain_text("Say why works-council mode is turned off")
    expect(page.locator("#works_council_reason")).to_have_attribute("aria-invalid", "true")
    assert mode(live_app, people)

    page.locator("#works_council_reason").fill(REASON)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Works-council mode is off.", exact=True)).to_be_visible()
    assert not mode(live_app, people)

    learner = new_page(js=False)
    sign_in(learner, "lea@example.com")
    notice = learner.get_by_role("complementary", name="Notice from your company").last
    expect(notice).to_contain_text("Works-council mode was turned off")
    expect(notice).to_contain_text(REASON)
    expect(notice).to_contain_text("Company admin")


def test_the_annex_opens_from_the_settings_fits_a_phone_and_is_clean(new_page, axe_check, live_app, people, tmp_path):
    from . import nu
    from .test_sweep import require_nu

    page = new_page(js=True)
    sign_in(page, "boss@example.com")
    page.goto("/admin/settings")
    axe_check(page, label="settings with works-council mode")
    page.get_by_role("link", name="The works-council annex").click()
    expect(page).to_have_url(re.compile(r"/admin/works-council-annex$"))
    expect(page.get_by_role("heading", name="Evaluations that are impossible in this mode")).to_be_visible()
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    axe_check(page, label="works-council annex")
    page.get_by_role("link", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    # each kind of processing is folded: opening one shows the registry's words, in German
    expect(page.get_by_text("Rechtsgrundlage").first).to_be_hidden()
    page.locator("details.ropa > summary").first.click()
    expect(page.get_by_text("Rechtsgrundlage").first).to_be_visible()
    for lang in ("en", "de"):
        (tmp_path / f"annex-{lang}.html").write_text(
            page.request.get(f"/admin/works-council-annex?lang={lang}").text(), encoding="utf-8")
    (tmp_path / "settings.html").write_text(page.request.get("/admin/settings").text(), encoding="utf-8")
    require_nu()
    messages = nu.check_files(sorted(tmp_path.glob("*.html")))
    assert not messages, "\n".join(f"{m.file}:{m.line}: {m.text} {m.extract}" for m in messages)
