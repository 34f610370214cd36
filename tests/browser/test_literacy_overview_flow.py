"""The AI-literacy overview in a real browser, with JavaScript on (htmx swaps the results) and off (a plain
GET form): filter by department, download the filtered CSV, axe clean, no sideways scroll on a phone."""
from __future__ import annotations

import csv
import re

from playwright.sync_api import expect

from leadthe.extensions import db
from tests.conftest import make_org, make_team, make_user
from tests.helpers import add_requirement, make_course

from .helpers import log_in


def test_filter_the_overview_and_download_the_csv(page, js, live_app, axe_check):
    org = make_org(live_app, "Example Ltd")
    admin = make_user(live_app, org, email="ada@example.com", name="Ada Admin", role="admin")
    lea = make_user(live_app, org, email="lea@example.com", name="Lea Learner", department="Sales")
    finn = make_user(live_app, org, email="finn@example.com", name="Finn Finance", department="Finance")
    make_team(live_app, org, "Sales team", members=[lea])
    make_team(live_app, org, "Finance team", members=[finn])
    with live_app.app_context():
        course, *_ = make_course(org.id, "ai-basics", "AI basics")
        db.session.commit()
        course_id = course.id
    add_requirement(live_app, org, lea, course_id, status="overdue")
    add_requirement(live_app, org, finn, course_id, status="overdue")
    add_requirement(live_app, org, admin, course_id, status="current")

    log_in(page, admin.email)
    page.wait_for_url("**/dashboard")
    page.goto("/admin/literacy")
    expect(page.get_by_role("heading", level=1)).to_have_text("AI literacy: overview")
    results = page.locator("#literacy-results")
    expect(results.locator("#lit-overdue")).to_contain_text("Lea Learner")
    expect(results.locator("#lit-overdue")).to_contain_text("Finn Finance")
    if js:
        axe_check(page, label="/admin/literacy")

    page.get_by_label("Department").select_option("Finance")
    if not js:
        page.get_by_role("button", name="Filter").click()
    # with htmx the choice alone swaps the results and the address follows; without, the form is sent
    expect(page).to_have_url(re.compile(r"/admin/literacy\?.*department=Finance"))
    expect(results.locator("#lit-overdue")).to_contain_text("Finn Finance")
    expect(results).not_to_contain_text("Lea Learner")
    if js:
        axe_check(page, label="/admin/literacy?department=Finance")

    link = page.get_by_role("link", name="Download one row per person and course (CSV)")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.startswith("leadthe-ai-literacy-")
    with open(download.value.path(), encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["person"], r["status"], r["teams"]) for r in rows] == [("Finn Finance", "overdue", "Finance team")]

    # on a phone the tables stack: no sideways scroll
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/admin/literacy")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
