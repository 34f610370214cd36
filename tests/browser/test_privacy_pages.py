"""The privacy centre in a real browser: export with JavaScript on and off, deletion, and axe on every page."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from leadthe.worker import run_once
from tests.conftest import PASSWORD, make_org, make_staff, make_team, make_user
from tests.helpers import close_step_up_window

from .helpers import log_in, log_in_with_code


@pytest.fixture
def people(live_app):
    org = make_org(live_app, "Example Ltd")
    admin = make_user(live_app, org, email="boss@example.com", name="Bea Boss", role="admin")
    learner = make_user(live_app, org, email="lea@example.com", name="Lea Learner")
    manager = make_user(live_app, org, email="max@example.com", name="Max Manager", role="manager")
    make_team(live_app, org, "Sales", members=[manager, learner], managers=[manager])
    staff = make_staff(live_app, "dpo", email="dpo@leadthe.example", name="Dana DPO")
    return {"admin": admin, "learner": learner, "staff": staff}


def sign_in(page, email, app=None):
    """Sign in; with ``app``, as if that was more than five minutes ago, so the privacy centre's export and
    deletion forms ask for the password again (a sign-in counts as the step-up for five minutes)."""
    log_in(page, email)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    if app is not None:
        close_step_up_window(app, email)


def run_worker(live_app):
    with live_app.app_context():
        run_once()


def test_export_from_request_to_download(page, live_app, people, js):
    sign_in(page, "lea@example.com", live_app)
    page.goto("/privacy")
    expect(page.get_by_role("heading", name="What we hold about you")).to_be_visible()
    expect(page.get_by_text("Max Manager")).to_be_visible()
    page.locator("#export-password").fill("not-my-password")
    page.get_by_role("button", name="Prepare my download").click()
    expect(page.get_by_text("That is not your current password.").first).to_be_visible()
    page.locator("#export-password").fill(PASSWORD)
    page.get_by_role("button", name="Prepare my download").click()
    if js:  # htmx: the progress takes the form's place in the privacy centre, in one request
        expect(page.get_by_text("Preparing your file")).to_be_visible()
        expect(page.locator("#export-progress [role=status]")).to_be_focused()  # where the button was
        expect(page).to_have_url(re.compile(r"/privacy$"))
        expect(page.locator("#export-form")).to_have_count(0)
    else:  # a plain form: redirected to the export's own status page
        expect(page).to_have_url(re.compile(r"/privacy/exports/\d+$"))
        expect(page.get_by_text("Preparing your file")).to_be_visible()
    run_worker(live_app)
    # with JavaScript htmx polls the status; without it the page refreshes itself (meta refresh)
    link = page.get_by_role("link", name="Download my data", exact=True)
    expect(link).to_be_visible(timeout=10_000)
    page.set_viewport_size({"width": 375, "height": 800})  # the checksum wraps inside the page on a phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.startswith("leadthe-data-")
    # the readable report, opened from the disk on a phone: no sideways scroll, the person's data in words
    folder = Path(download.value.path()).parent / "report"
    with zipfile.ZipFile(download.value.path()) as zf:
        zf.extract("report.html", folder)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto((folder / "report.html").as_uri())
    expect(page.get_by_role("heading", name="Your data at LeadThe.AI")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(page.get_by_text("Lea Learner").first).to_be_visible()


def test_a_rate_limited_htmx_form_says_so_beside_it_and_keeps_what_was_typed(new_page, live_app, people):
    """htmx swaps no 4xx answer: a form that hits a rate limit (here the export's 5 an hour) would do nothing
    visible. The page says to wait, beside the form, which keeps what was typed."""
    page = new_page(js=True)
    sign_in(page, "lea@example.com", live_app)
    page.goto("/privacy")
    for _ in range(5):
        page.locator("#export-password").fill("not-my-password")
        # wait for each answer: the message of the one before is still on the page while the next is under way
        with page.expect_response(lambda r: r.url.endswith("/privacy/export")) as answer:
            page.get_by_role("button", name="Prepare my download").click()
        assert answer.value.status != 429
        expect(page.locator("#export-password")).to_have_value("")  # the answer's form is in place
        expect(page.get_by_text("That is not your current password.").first).to_be_visible()
    page.locator("#export-password").fill("still-typed")
    with page.expect_response(lambda r: r.url.endswith("/privacy/export")) as answer:
        page.get_by_role("button", name="Prepare my download").click()
    assert answer.value.status == 429
    expect(page.get_by_role("alert").filter(has_text="Please wait a few minutes")).to_be_visible()
    expect(page.locator("#export-password")).to_have_value("still-typed")


def test_delete_account_signs_out_and_cancel_link_keeps_it(page, live_app, people):
    sign_in(page, "lea@example.com", live_app)
    page.goto("/privacy#delete")
    page.locator("#delete-password").fill(PASSWORD)
    page.locator("#delete-confirm_email").fill("lea@example.com")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("heading", name="Your account is closed")).to_be_visible()
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login"))


@pytest.fixture(params=["light", "dark"])
def scheme_page(new_page, request):
    return new_page(js=True, color_scheme=request.param)


@pytest.mark.parametrize("path", ["/privacy", "/privacy/processing", "/privacy/requests", "/privacy/contact",
                                  "/account/profile", "/account/password"])
def test_privacy_and_account_pages_pass_axe(scheme_page, axe_check, live_app, people, path):
    sign_in(scheme_page, "lea@example.com", live_app)
    assert scheme_page.goto(path).status == 200
    axe_check(scheme_page)


def test_export_status_and_staff_queue_pass_axe(scheme_page, axe_check, live_app, people):
    sign_in(scheme_page, "lea@example.com", live_app)
    scheme_page.goto("/privacy/requests")
    scheme_page.get_by_label("What would you like?").select_option("question")
    scheme_page.get_by_label("Details").fill("Which data do you hold about my course progress?")
    scheme_page.get_by_role("button", name="Send request").click()
    expect(scheme_page.get_by_text("Your request is filed")).to_be_visible()
    scheme_page.goto("/privacy")
    scheme_page.locator("#export-password").fill(PASSWORD)
    scheme_page.get_by_role("button", name="Prepare my download").click()
    expect(scheme_page.get_by_text("Preparing your file")).to_be_visible()  # in the centre, in the form's place
    axe_check(scheme_page, label="export progress in the privacy centre")
    scheme_page.goto(scheme_page.locator("#export-progress").get_attribute("data-hx-get"))
    expect(scheme_page.get_by_role("heading", name="Your data export")).to_be_visible()
    axe_check(scheme_page, label="export status")
    scheme_page.locator("details.menu > summary").click()  # the account menu
    scheme_page.get_by_role("button", name="Log out").click()
    expect(scheme_page).to_have_url(re.compile(r"/login"))
    # the status page polls while the export is prepared: a poll sent just as the learner logged out is
    # answered with the log-in page for that status page (?next=...); a new person starts from a plain log-in
    scheme_page.goto("/login")
    log_in_with_code(scheme_page, live_app, people["staff"])
    expect(scheme_page).to_have_url(re.compile(r"/staff/console$"))  # staff land on their console
    scheme_page.goto("/staff/privacy-requests")
    axe_check(scheme_page, label="staff queue")
    scheme_page.get_by_role("link", name=re.compile(r"#\d+")).first.click()
    expect(scheme_page.get_by_role("heading", level=1)).to_contain_text("Privacy request #")
    axe_check(scheme_page, label="staff request")
    # the irreversible actions each have a confirmation page that asks for the password and a code
    scheme_page.get_by_role("link", name="Lock and erase this account…").click()
    expect(scheme_page.get_by_text("This cannot be undone.")).to_be_visible()
    expect(scheme_page.get_by_label("Code from your authenticator app, or a recovery code")).to_be_visible()
    axe_check(scheme_page, label="staff report as under 18")
    scheme_page.goto("/staff/console")
    scheme_page.get_by_role("link", name="Close… Example Ltd").click()
    expect(scheme_page.get_by_role("heading", level=1)).to_have_text("Close Example Ltd?")
    axe_check(scheme_page, label="staff close a company")
