"""The admin area in a real browser: dashboard, people, teams, a team page and the leaderboard, with axe."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import make_org, make_team, make_user

from .helpers import log_in


def test_admin_pages_are_accessible_and_work(new_page, live_app, axe_check):
    org = make_org(live_app, "Example Ltd")
    admin = make_user(live_app, org, email="ada@example.com", name="Ada Admin", role="admin")
    lea = make_user(live_app, org, email="lea@example.com", name="Lea Learner")
    team = make_team(live_app, org, "Sales", members=[lea])

    page = new_page(js=True)
    log_in(page, admin.email)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    for path, heading in (("/admin", "Adoption"), ("/admin/users", "People"), ("/admin/teams", "Teams"),
                          (f"/admin/teams/{team.id}", "Sales"), ("/leaderboard", "Leaderboard")):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        axe_check(page, label=path)

    # the people search narrows the results block in place (htmx), and the URL follows
    page.goto("/admin/users")
    page.get_by_label("Name or e-mail").fill("lea")
    expect(page.locator("#people-results")).to_contain_text("Lea Learner")
    expect(page.locator("#people-results")).not_to_contain_text("Ada Admin")

    # create a team with JavaScript off: plain forms
    nojs = new_page(js=False)
    log_in(nojs, admin.email)
    nojs.goto("/admin/teams")
    nojs.get_by_label("Team name", exact=True).fill("Engineering")
    nojs.get_by_role("button", name="Create team").click()
    expect(nojs.get_by_role("heading", level=1)).to_have_text("Engineering")
    nojs.get_by_label("E-mail address of the person").fill("lea@example.com")
    nojs.get_by_role("button", name="Add to team").click()
    expect(nojs.locator("table")).to_contain_text("Lea Learner")


BOXED_TABLES = """() => [...document.querySelectorAll('.scroll, .table-wrap')]
  .filter(box => box.scrollWidth > box.clientWidth + 1).map(box => box.querySelector('caption, th').textContent)"""


def test_admin_tables_fit_a_phone_in_german(new_page, live_app):
    """At 375 px, in German (the longest headings), no table of the admin pages is wider than its box: a phone
    never swipes through one. Lists stack into a card per row; the maturity grid has short headings; the
    leaderboard keeps rank, name and points."""
    from leadthe.extensions import db
    from leadthe.models import User
    from tests.helpers import complete, enrol, make_course, signed_in

    org = make_org(live_app, "Beispiel GmbH")
    admin = make_user(live_app, org, email="ada@example.com", name="Ada Admin", role="admin")
    lea = make_user(live_app, org, email="lea@example.com", name="Lea Lernende")
    make_team(live_app, org, "Vertrieb und Außendienst", members=[lea])
    with live_app.app_context():
        make_course(org.id, "eigener-kurs", "Verantwortungsvoller Umgang mit KI im Vertrieb")
        for person in (admin, lea):
            db.session.get(User, person.id).locale = "de"
        db.session.commit()
    learner = signed_in(live_app, lea)
    enrol(learner, "eigener-kurs")
    complete(learner, "eigener-kurs", "practice")

    page = new_page(js=True)
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, admin.email)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    for path in ("/admin", "/admin/teams", "/admin/maturity", "/admin/audit", "/leaderboard"):
        page.goto(path)
        assert page.locator("table").count(), path
        assert page.evaluate(BOXED_TABLES) == [], path
