"""The AI-literacy evidence pack in a real browser, with JavaScript on and off: generate it (with step-up), follow
its progress, download it, open its report; axe on the pages."""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from leadthe.extensions import db
from leadthe.worker import run_once
from tests.conftest import PASSWORD, make_org, make_team, make_user
from tests.helpers import close_step_up_window, plant_literacy_programme

from .helpers import log_in


@pytest.fixture
def people(live_app):
    org = make_org(live_app, "Example Ltd")
    admin = make_user(live_app, org, email="boss@example.com", name="Bea Boss", role="admin")
    learner = make_user(live_app, org, email="lea@example.com", name="Lea Learner", department="Sales")
    other = make_user(live_app, org, email="olaf@example.com", name="Olaf Other", department="Sales")
    make_team(live_app, org, "Sales", members=[learner, other])
    with live_app.app_context():
        with live_app.test_request_context():
            plant_literacy_programme(org.id, [learner.id, other.id], admin.id)
            db.session.commit()
    return {"admin": admin}


def generate_pack(page, live_app):
    log_in(page, "boss@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    close_step_up_window(live_app, "boss@example.com")  # signed in more than five minutes ago: asked again
    page.goto("/admin/literacy/evidence")
    expect(page.get_by_role("heading", name="Evidence pack", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Evidence pack", exact=True)).to_have_attribute("aria-current", "page")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Generate evidence pack").click()
    expect(page).to_have_url(re.compile(r"/admin/literacy/evidence/\d+$"))
    expect(page.get_by_text("Preparing the evidence pack")).to_be_visible()
    with live_app.app_context():
        run_once()


def test_generate_and_download_the_evidence_pack(page, live_app, people):
    generate_pack(page, live_app)
    # with JavaScript htmx polls the status; without it the page refreshes itself (meta refresh in <noscript>)
    link = page.get_by_role("link", name="Download the evidence pack")
    expect(link).to_be_visible(timeout=10_000)
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.startswith("evidence-ai-literacy-")
    path = download.value.path()
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert {f["file"] for f in manifest["files"]} >= {"report.html", "report.pdf", "requirements.csv"}
        folder = Path(path).parent / "evidence-report"
        zf.extract("report.html", folder)
    # the readable report, opened from the disk on a phone: no sideways scroll, the people in it
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto((folder / "report.html").as_uri())
    expect(page.get_by_role("heading", name="Evidence of AI-literacy measures")).to_be_visible()
    expect(page.get_by_text("Lea Learner")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_wrong_password_generates_nothing(page, live_app, people):
    log_in(page, "boss@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    close_step_up_window(live_app, "boss@example.com")  # signed in more than five minutes ago: asked again
    page.goto("/admin/literacy/evidence")
    page.get_by_label("Your password").fill("not-my-password")
    page.get_by_role("button", name="Generate evidence pack").click()
    expect(page.get_by_text("That is not your current password.").first).to_be_visible()
    expect(page.get_by_text("No pack yet.")).to_be_visible()


@pytest.fixture(params=["light", "dark"])
def scheme_page(new_page, request):
    return new_page(js=True, color_scheme=request.param)


def test_evidence_pages_pass_axe(scheme_page, axe_check, live_app, people):
    generate_pack(scheme_page, live_app)
    expect(scheme_page.get_by_role("link", name="Download the evidence pack")).to_be_visible(timeout=10_000)
    axe_check(scheme_page, label="evidence pack status")
    scheme_page.goto("/admin/literacy/evidence")
    expect(scheme_page.get_by_role("cell", name="Ready to download")).to_be_visible()
    axe_check(scheme_page, label="evidence packs")
    scheme_page.set_viewport_size({"width": 375, "height": 800})
    assert scheme_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
