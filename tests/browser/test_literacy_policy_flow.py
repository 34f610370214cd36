"""The AI-use policy in a real browser, with JavaScript on and off: an admin adds an AI tool, writes the policy from
the starter template and publishes it as a material change; a learner sees the notice, reads the policy and
acknowledges it; axe is clean on every page of the flow."""
from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from leadthe.extensions import db
from tests.conftest import make_org, make_team, make_user

from .helpers import log_in

NOTICE = "Your company asks you to read its AI-use policy."


def _confirm(page, js: bool, button: str) -> None:
    """A confirmed action: the dialog with JavaScript, the confirmation page without."""
    if js:
        dialog = page.locator("#confirm-dialog")
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name=button).click()
    else:
        expect(page.get_by_role("heading", level=1)).to_contain_text("?")
        page.get_by_role("button", name=button).click()


def test_admin_publishes_the_policy_and_a_learner_acknowledges_it(new_page, live_app, axe_check, js):
    from leadthe.models import AiPolicyAck

    org = make_org(live_app, "Example Ltd")
    admin = make_user(live_app, org, email="ada@example.com", name="Ada Admin", role="admin")
    lea = make_user(live_app, org, email="lea@example.com", name="Lea Learner")
    make_team(live_app, org, "Sales", members=[lea])

    if not js:  # axe needs scripting: it runs on the JavaScript pass
        axe_check = lambda page, label=None: None  # noqa: E731
    page = new_page(js=js)
    log_in(page, admin.email)
    expect(page).to_have_url(re.compile(r"/dashboard$"))

    # the tools inventory: empty state, then a tool for the Sales team
    page.goto("/admin/ai-tools")
    expect(page.get_by_text("No AI tools listed yet.")).to_be_visible()
    axe_check(page, label="/admin/ai-tools (empty)")
    page.get_by_role("link", name="Add the first tool").click()
    page.get_by_role("button", name="Save").click()  # no name: the error beside the field
    expect(page.locator("#name-error")).to_contain_text("Give the tool's name.")
    page.get_by_label("Name", exact=True).fill("Copilot")
    page.get_by_label("Approved").check()
    page.get_by_label("Sales").check()
    page.get_by_label("Personal data may go in").check()
    axe_check(page, label="/admin/ai-tools/new")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/admin/ai-tools$"))
    expect(page.locator("table")).to_contain_text("Copilot")
    axe_check(page, label="/admin/ai-tools")

    # the policy: starter template, preview, publish as a material change
    page.goto("/admin/ai-policy")
    expect(page.get_by_label("Text (Markdown)")).to_have_value(re.compile("Data that must never go in"))
    axe_check(page, label="/admin/ai-policy")
    page.get_by_label("Title").fill("Example AI rules")
    page.get_by_label("Material change").check()
    page.get_by_role("button", name="Save and preview").click()
    expect(page).to_have_url(re.compile(r"/admin/ai-policy/drafts/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Example AI rules")
    expect(page.get_by_role("heading", name="Report incidents")).to_be_visible()
    axe_check(page, label="/admin/ai-policy/drafts/<id>")
    page.get_by_role("button", name="Publish version 1").click()
    _confirm(page, js, "Publish version 1" if js else "Publish")
    expect(page).to_have_url(re.compile(r"/admin/ai-policy$"))
    expect(page.locator("table")).to_contain_text("by 0 of 2 people")
    page.get_by_role("link", name="Version 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Example AI rules")
    axe_check(page, label="/admin/ai-policy/versions/<id>")

    # the learner: the notice on every page until they acknowledge
    learner = new_page(js=js)
    log_in(learner, lea.email)
    expect(learner).to_have_url(re.compile(r"/dashboard$"))
    expect(learner.get_by_text(NOTICE)).to_be_visible()
    axe_check(learner, label="/dashboard with the AI-use policy notice")
    learner.get_by_role("link", name="Read and acknowledge it").click()
    expect(learner).to_have_url(re.compile(r"/ai-policy$"))
    expect(learner.get_by_role("heading", level=1)).to_have_text("Example AI rules")
    axe_check(learner, label="/ai-policy")
    learner.get_by_role("button", name="I have read and understood this policy").click()
    expect(learner.get_by_text("Acknowledged", exact=True)).to_be_visible()
    expect(learner.get_by_role("button", name="I have read and understood this policy")).to_have_count(0)
    learner.goto("/dashboard")
    expect(learner.get_by_text(NOTICE)).to_have_count(0)
    learner.goto("/ai-tools")
    expect(learner.get_by_role("heading", name="Copilot")).to_be_visible()
    axe_check(learner, label="/ai-tools")

    with live_app.app_context():
        row = db.session.scalar(sa.select(AiPolicyAck).where(AiPolicyAck.user_id == lea.id))
        assert row is not None and row.acknowledged_at is not None
