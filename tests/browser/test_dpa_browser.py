"""The data processing agreement in a real browser (issue 21), with JavaScript on and off: after a new version, an
admin who opens an admin page is sent to /admin/dpa, accepts it (a missing confirmation shows its error beside the
box first) and lands on the page they were going to; sign-up with the box; axe and the Nu HTML checker on the pages,
and no sideways scrolling at 375 px. The gate (DPA_REQUIRED) is on for these tests only."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from leadthe.extensions import db
from leadthe.models import User
from leadthe.models.dpa import DpaAcceptance, DpaVersion
from tests.conftest import PASSWORD, make_org, make_staff, make_team, make_user

from .helpers import fill_signup, log_in, log_in_with_code


@pytest.fixture
def gate(live_app):
    live_app.config["DPA_REQUIRED"] = True
    yield live_app
    live_app.config["DPA_REQUIRED"] = False


@pytest.fixture
def company(live_app):
    """Example Ltd: an admin and a manager; version 1 accepted, then version 2 published."""
    from leadthe.trust import dpa

    org = make_org(live_app, "Example Ltd")
    admin = make_user(live_app, org, email="boss@example.com", name="Bea Boss", role="admin")
    manager = make_user(live_app, org, email="max@example.com", name="Max Manager", role="manager")
    make_team(live_app, org, "Sales", members=[manager], managers=[manager])
    with live_app.test_request_context():
        dpa.accept(db.session.get(User, admin.id), dpa.current_version(), legal_name="Example Ltd")
        db.session.add(DpaVersion(version=2, summary="Clearer audits.", body_en="## 12. Audits\n\nAudits need two weeks' notice.",
                                  body_de="## 12. Kontrollen\n\nKontrollen brauchen zwei Wochen Vorlauf."))
        db.session.commit()
    return org


def sign_in(page, email):
    log_in(page, email)
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def versions_accepted(live_app, org_id) -> list[int]:
    with live_app.app_context():
        return sorted(db.session.scalars(sa.select(DpaVersion.version).join(
            DpaAcceptance, DpaAcceptance.version_id == DpaVersion.id).where(DpaAcceptance.org_id == org_id)))


def test_an_admin_accepts_the_new_version_and_goes_on(page, gate, company):
    sign_in(page, "boss@example.com")
    page.goto("/admin/sso")
    expect(page).to_have_url(re.compile(r"/admin/dpa\?next="))
    expect(page.get_by_role("heading", name="Accept for your company")).to_be_visible()
    expect(page.get_by_text("Audits need two weeks' notice.")).to_be_visible()
    # the billing page stays open
    page.get_by_role("link", name="Company", exact=True).click()  # the group opens billing
    expect(page).to_have_url(re.compile(r"/admin/billing$"))
    page.goto("/admin/sso")
    page.get_by_label("Your company's legal name").fill("Example Holding Ltd")
    page.get_by_role("button", name="Accept the agreement").click()
    expect(page.locator("#confirm-error")).to_contain_text("Tick the box")
    assert versions_accepted(gate, company.id) == [1]
    expect(page.get_by_label("Your company's legal name")).to_have_value("Example Holding Ltd")  # nothing lost
    page.get_by_label("I accept the data processing agreement on behalf of my company").check()
    page.get_by_role("button", name="Accept the agreement").click()
    expect(page).to_have_url(re.compile(r"/admin/sso$"))
    expect(page.get_by_text("Your company has accepted version 2")).to_be_visible()
    assert versions_accepted(gate, company.id) == [1, 2]
    page.goto("/admin/dpa")
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator("tbody tr").first).to_contain_text("Example Holding Ltd")
    with page.expect_download() as download:
        page.locator("tbody tr").first.get_by_role("link", name=re.compile("PDF")).click()
    assert download.value.suggested_filename.startswith("leadthe-dpa-v2-acceptance-")


def test_a_manager_goes_on_as_before(page, gate, company):
    sign_in(page, "max@example.com")
    assert page.goto("/admin/users").status == 200
    expect(page).to_have_url(re.compile(r"/admin/users$"))


def test_sign_up_asks_for_the_box(page, gate):
    fill_signup(page, organization="Nora Works", email="nora@example.org")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#accept_dpa-error")).to_contain_text("data processing agreement")
    with gate.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    page.get_by_label("Password", exact=True).fill(PASSWORD)  # the password is not sent back to the browser
    page.get_by_label("I accept the data processing agreement on behalf of my company").check()
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    with gate.app_context():
        assert db.session.scalar(sa.select(DpaAcceptance.legal_name)) == "Nora Works"


def test_the_pages_pass_axe_and_nu_and_fit_a_phone(new_page, axe_check, gate, company, tmp_path):
    from . import nu
    from .test_sweep import require_nu

    page = new_page(js=True)
    sign_in(page, "boss@example.com")
    for label, url in (("admin accept", "/admin/dpa"), ("public", "/legal/dpa"), ("public v1", "/legal/dpa/v1"),
                       ("signup", "/signup")):
        if url == "/signup":
            page = new_page(js=True)
        assert page.goto(url).status == 200
        axe_check(page, label=label)
        page.set_viewport_size({"width": 375, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), label
        page.set_viewport_size({"width": 1280, "height": 800})
        (tmp_path / f"{label.replace(' ', '-')}.html").write_text(page.request.get(url).text(), encoding="utf-8")
    staff = new_page(js=True)
    log_in_with_code(staff, gate, make_staff(gate, email="stella@leadthe.example"))
    expect(staff).not_to_have_url(re.compile(r"/login"))
    assert staff.goto("/staff/dpa").status == 200
    expect(staff.locator("tbody tr").filter(has_text="Example Ltd")).to_contain_text("not the current one")
    axe_check(staff, label="staff")
    (tmp_path / "staff.html").write_text(staff.request.get("/staff/dpa").text(), encoding="utf-8")
    require_nu()
    messages = nu.check_files(sorted(tmp_path.glob("*.html")))
    assert not messages, "\n".join(f"{m.file}:{m.line}: {m.text} {m.extract}" for m in messages)
