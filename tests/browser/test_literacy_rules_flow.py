"""Requirements by role in a real browser, with JavaScript on and off: an admin adds a rule by department,
sees how many people it covers before saving (htmx as they choose; the Preview button without JavaScript),
saves it and sees it applied (the people covered on the list, and a requirement for each person in the
department); axe on the list, the empty state and the form."""
from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from leadthe.extensions import db
from tests.conftest import make_org, make_user
from tests.helpers import make_course

from .helpers import log_in


def test_admin_adds_a_rule_and_sees_it_applied(page, js, live_app, axe_check):
    from leadthe.models import Requirement

    org = make_org(live_app, "Example Ltd")
    admin = make_user(live_app, org, email="ada@example.com", name="Ada Admin", role="admin")
    sam = make_user(live_app, org, email="sam@example.com", name="Sam Sales", department="Sales")
    sue = make_user(live_app, org, email="sue@example.com", name="Sue Sales", department="sales")
    make_user(live_app, org, email="otto@example.com", name="Otto Support", department="Support")
    with live_app.app_context():
        course, *_ = make_course(org.id, "prompting", "Prompting at work")
        db.session.commit()

    log_in(page, admin.email)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto("/admin/requirements")
    expect(page.get_by_role("heading", level=1)).to_have_text("Requirements by role")
    expect(page.locator(".empty")).to_contain_text("No rules yet")
    if js:
        axe_check(page, label="/admin/requirements (empty)")
    page.get_by_role("link", name="Add the first rule").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a requirement rule")
    page.get_by_label("Required course").select_option(label="Prompting at work")
    page.get_by_label("Who it covers").select_option(label="Department")
    page.get_by_label("Department or job title").fill("Sales")
    preview = page.locator("#rule-preview")
    if js:  # htmx asks as the admin types
        expect(preview).to_have_text("This rule covers 2 people now.")
    else:
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#rule-preview")).to_have_text("This rule covers 2 people now.")
        expect(page.get_by_label("Department or job title")).to_have_value("Sales")  # the form comes back filled
    if js:
        axe_check(page, label="/admin/requirements/new")
    with live_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)) == 0  # a preview saves nothing
    page.get_by_label("Days to complete it").fill("21")
    page.get_by_role("button", name="Save the rule").click()
    expect(page).to_have_url(re.compile(r"/admin/requirements$"))
    expect(page.locator(".flashes")).to_contain_text("It covers 2 people now")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("Department is “Sales”")
    expect(row).to_contain_text("within 21 days")
    expect(row.locator("td[data-label='People covered']")).to_have_text("2")
    if js:
        axe_check(page, label="/admin/requirements")
    with live_app.app_context():
        required = set(db.session.scalars(sa.select(Requirement.user_id).where(Requirement.ended_at.is_(None))))
    assert required == {sam.id, sue.id}
