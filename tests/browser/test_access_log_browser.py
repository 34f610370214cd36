"""Who looked at my data (issue 21) in a real browser: a manager opens a person's page, the person finds it in their
access log from the privacy centre and pages through older entries, with JavaScript on and off; axe and the Nu
HTML checker on the page, empty and filled."""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from leadthe.extensions import db
from leadthe.models import AccessLogEntry, utcnow

from . import test_privacy_pages as privacy_pages

people = privacy_pages.people  # the privacy pages' company: Bea Boss (admin), Max Manager (manager), Lea Learner
sign_in = privacy_pages.sign_in


def older_views(live_app, people, count):
    """``count`` earlier views of Lea's page by the admin, a minute apart, older than any made in the test."""
    now = utcnow()
    with live_app.app_context():
        db.session.add_all([AccessLogEntry(org_id=people["learner"].org_id, subject_id=people["learner"].id,
                                           viewer_id=people["admin"].id, viewer_role="admin", what="person_page",
                                           ref="/admin/users/1", created_at=now - timedelta(days=1, minutes=i))
                            for i in range(count)])
        db.session.commit()


def test_a_managers_look_shows_in_the_persons_log_and_older_entries_page(page, new_page, live_app, people):
    manager = new_page(js=True)
    sign_in(manager, "max@example.com")
    assert manager.goto(f"/admin/users/{people['learner'].id}").status == 200
    older_views(live_app, people, 30)
    sign_in(page, "lea@example.com")
    page.goto("/privacy")
    page.get_by_role("link", name="Who looked at your data").click()
    expect(page).to_have_url(re.compile(r"/privacy/access-log$"))
    first = page.locator("tbody tr").first
    expect(first).to_contain_text("Max Manager (manager)")  # newest first
    expect(first).to_contain_text("your profile page")
    expect(page.locator("tbody tr")).to_have_count(25)
    # htmx swaps the list and pushes the URL; without JavaScript the link loads the next page
    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"/privacy/access-log\?page=2$"))
    expect(page.locator("tbody tr")).to_have_count(6)
    expect(page.locator("tbody tr").first).to_contain_text("Bea Boss (admin)")
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    page.get_by_role("link", name="Previous").click()
    expect(page.locator("tbody tr")).to_have_count(25)


def test_the_page_passes_axe_and_nu_empty_and_filled(new_page, axe_check, live_app, people, tmp_path):
    from . import nu
    from .test_sweep import require_nu

    page = new_page(js=True)
    sign_in(page, "lea@example.com")
    assert page.goto("/privacy/access-log").status == 200
    expect(page.get_by_text("Nobody else has looked at your data")).to_be_visible()
    axe_check(page, label="access log, empty")
    (tmp_path / "empty.html").write_text(page.request.get("/privacy/access-log").text(), encoding="utf-8")
    older_views(live_app, people, 30)
    page.goto("/privacy/access-log")
    expect(page.locator("tbody tr")).to_have_count(25)
    axe_check(page, label="access log, filled")
    (tmp_path / "filled.html").write_text(page.request.get("/privacy/access-log").text(), encoding="utf-8")
    (tmp_path / "second.html").write_text(page.request.get("/privacy/access-log?page=2").text(), encoding="utf-8")
    require_nu()
    messages = nu.check_files(sorted(tmp_path.glob("*.html")))
    assert not messages, "\n".join(f"{m.file}:{m.line}: {m.text} {m.extract}" for m in messages)
