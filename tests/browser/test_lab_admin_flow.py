"""/admin/ai-lab in a real browser, with JavaScript on and off: connect a model (step-up on the same form), test
the connection (the worker answers; htmx polls, without JavaScript the test's page refreshes itself); axe on
the pages. The model's side of the test is replaced: the provider is issue 18's other part."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from leadthe.lab import provider
from leadthe.worker import run_once
from tests.conftest import PASSWORD, make_org, make_user
from tests.fake_openai import start_fake_model
from tests.helpers import close_step_up_window

from .helpers import log_in


@pytest.fixture
def fake_model():
    server = start_fake_model()
    yield server
    server.stop()


@pytest.fixture
def admin(live_app):
    org = make_org(live_app, "Example Ltd")
    return make_user(live_app, org, email="boss@example.com", name="Bea Boss", role="admin")


def test_connect_and_test_a_model(page, js, live_app, admin, fake_model, monkeypatch, axe_check):
    monkeypatch.setattr(provider, "test_connection", lambda conn: (conn.api_key == "sk-test-key", "The model answered."))
    log_in(page, "boss@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    close_step_up_window(live_app, "boss@example.com")  # signed in more than five minutes ago: asked again
    page.goto("/admin/ai-lab")
    expect(page.get_by_role("link", name="Practice lab", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Nobody has used the practice lab yet")).to_be_visible()
    if js:
        axe_check(page)

    page.get_by_label("OpenAI-compatible API").check()
    page.get_by_label("Base URL").fill(fake_model.base_url)  # loopback: allowed in development only
    page.get_by_label("Model name").fill("ok")
    page.get_by_label("Name learners see").fill("Our own model")
    page.get_by_label("API key").fill("sk-test-key")
    page.get_by_role("button", name="Save settings").click()
    # no password yet: the error beside the field, everything else as typed, the key not sent back
    expect(page.locator("#password-error")).to_contain_text("Enter your password")
    expect(page.get_by_label("Base URL")).to_have_value(fake_model.base_url)
    expect(page.get_by_label("API key")).to_have_value("")
    if js:
        axe_check(page, label="the form with an error")

    page.get_by_label("API key").fill("sk-test-key")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Practice lab settings saved.")).to_be_visible()
    expect(page.get_by_text("A key is saved (set")).to_be_visible()
    assert "sk-test-key" not in page.content()

    page.get_by_role("button", name="Test connection").click()
    expect(page).to_have_url(re.compile(r"/admin/ai-lab/test$"))
    expect(page.get_by_text("Testing the connection…")).to_be_visible()
    if js:
        axe_check(page, label="the test's page")
    with live_app.app_context():
        run_once()
    # with JavaScript htmx polls every 2 s; without it the page refreshes itself every 3 s
    expect(page.get_by_text("Connection works")).to_be_visible(timeout=10_000)
    expect(page.get_by_text("The model answered.")).to_be_visible()
    page.get_by_role("link", name="Back to the practice lab settings").click()
    expect(page.get_by_text("Connection works")).to_be_visible()
