"""A support ticket opened and answered in a real browser, with mail delivered to a real SMTP server."""
from __future__ import annotations

import re

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from leadthe.worker import run_once
from tests.conftest import free_port, make_org, make_staff, make_user
from tests.helpers import Inbox

from .helpers import log_in, log_in_with_code


@pytest.fixture
def smtp(live_app):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    live_app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    yield inbox
    live_app.config["SMTP_URL"] = None
    controller.stop()


def deliver(live_app):
    with live_app.app_context():
        run_once()


def test_ticket_created_answered_and_mailed(new_page, js, live_app, smtp, axe_check):
    org = make_org(live_app, "Example Ltd")
    make_user(live_app, org, email="lea@example.com", name="Lea Learner")
    sam = make_staff(live_app, email="sam@leadthe.example", name="Sam Staff")

    learner = new_page(js=js)
    log_in(learner, "lea@example.com")
    expect(learner).to_have_url(re.compile(r"/dashboard$"))
    learner.goto("/support")
    learner.get_by_label("Subject").fill("Certificate link shows an error")
    learner.get_by_label("Message").fill("When I open my certificate I get a page that says it cannot be found.")
    learner.get_by_role("button", name="Send", exact=True).click()
    expect(learner.get_by_role("heading", level=1)).to_have_text("Certificate link shows an error")
    if js:
        axe_check(learner, label="support ticket page")

    staff = new_page(js=js)
    log_in_with_code(staff, live_app, sam)
    expect(staff).to_have_url(re.compile(r"/staff/console$"))  # staff land on their console
    staff.goto("/staff/support")
    staff.get_by_role("link", name="Certificate link shows an error").click()
    staff.get_by_label("Your reply").fill("Thanks! We fixed the link; please try again.")
    staff.get_by_role("button", name="Send reply").click()
    expect(staff.get_by_text("Reply sent")).to_be_visible()
    if js:
        axe_check(staff, label="staff ticket page")

    deliver(live_app)
    delivered = [m for m in smtp.messages if m["To"] == "lea@example.com"]
    assert delivered and "We fixed the link" in delivered[-1].get_payload()
    assert any(m["To"] == "support@leadthe.ai" for m in smtp.messages)

    learner.reload()
    expect(learner.get_by_text("We fixed the link")).to_be_visible()
    learner.get_by_label("Your reply").fill("It works now, thank you.")
    learner.get_by_role("button", name="Send reply").click()
    expect(learner.get_by_text("It works now, thank you.")).to_be_visible()
