"""Sub-processor changes (issue 21) in a real browser: a company admin sees the notice of an announced change, follows
it to the objection form, forgets the reason, then objects and gets the receipt, with JavaScript on and off; after
the effective date the form is gone. axe and the Nu HTML checker on the public page and the objection pages, and no
sideways scrolling on a phone."""
from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from leadthe.extensions import db
from leadthe.models import utcnow
from leadthe.models.subprocessors import SubprocessorEntry, SubprocessorObjection, SubprocessorVersion
from leadthe.trust import subprocessors as sp

from . import test_privacy_pages as privacy_pages

people = privacy_pages.people  # Bea Boss (admin), Lea Learner, Max Manager of "Example Ltd"
sign_in = privacy_pages.sign_in


def announce(live_app, days=40) -> None:
    """Version 2 of the list: a search service added, ``days`` from now."""
    with live_app.app_context():
        sp.ensure_initial_version()
        first = db.session.scalar(sa.select(SubprocessorVersion).where(SubprocessorVersion.version == 1))
        entries = [SubprocessorEntry(position=e.position, key=e.key, name=e.name, purpose=e.purpose, data=e.data,
                                     location=e.location, in_eea=e.in_eea, safeguard=e.safeguard, since=e.since,
                                     tables=e.tables) for e in first.entries]
        entries.append(SubprocessorEntry(position=9, key="search", name="Findwell Search", purpose="Finds courses by their words.",
                                         data="Search terms.", location="Germany", in_eea=True,
                                         safeguard="None needed: the data stays in the EU/EEA.", since=date(2027, 1, 1),
                                         tables="search_query"))
        db.session.add(SubprocessorVersion(version=2, effective_at=utcnow() + timedelta(days=days),
                                           summary="Findwell Search is added for the course search.", entries=entries))
        db.session.commit()


def objections(live_app) -> int:
    with live_app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(SubprocessorObjection))


def test_an_admin_objects_from_the_notice_and_gets_a_receipt(page, js, live_app, people, axe_check):
    announce(live_app)
    sign_in(page, "boss@example.com")
    notice = page.get_by_role("complementary", name="Sub-processor change")
    expect(notice).to_contain_text("Findwell Search is added")
    notice.get_by_role("link", name=re.compile(r"^Object to it")).click()
    expect(page).to_have_url(re.compile(r"/admin/subprocessors/2/object$"))
    expect(page.get_by_text("Findwell Search", exact=True)).to_be_visible()
    # no reason: the error beside the field, nothing stored
    page.get_by_role("button", name="Send the objection").click()
    expect(page.locator("#reason-error")).to_have_text("Give the reason for your objection.")
    assert objections(live_app) == 0
    if js:
        axe_check(page, label="objection form with an error")
    page.get_by_label("Why does your company object?").fill("Our works council must agree to new processors first.")
    page.get_by_role("button", name="Send the objection").click()
    expect(page).to_have_url(re.compile(r"/admin/subprocessors/objections/\d+$"))
    expect(page.get_by_text("We received your company's objection on")).to_be_visible()
    expect(page.get_by_text("Our works council must agree")).to_be_visible()
    assert objections(live_app) == 1
    # the notice now leads to the objection instead of the form
    expect(page.get_by_role("complementary", name="Sub-processor change").get_by_role(
        "link", name="Your company's objection")).to_be_visible()
    if js:
        axe_check(page, label="objection receipt")
    page.set_viewport_size({"width": 375, "height": 800})
    for path in ("/admin/subprocessors", "/legal/subprocessors"):
        page.goto(path)
        wide = page.evaluate("""() => [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + e.textContent.slice(0, 60))""")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (path, wide)


def test_after_the_effective_date_the_form_is_gone(page, live_app, people):
    announce(live_app)
    with live_app.app_context():
        db.session.execute(sa.update(SubprocessorVersion).where(SubprocessorVersion.version == 2)
                           .values(effective_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    sign_in(page, "boss@example.com")
    expect(page.get_by_role("complementary", name="Sub-processor change")).to_have_count(0)
    page.goto("/admin/subprocessors/2/object")
    expect(page.get_by_text("the time to object has ended")).to_be_visible()
    expect(page.get_by_role("button", name="Send the objection")).to_have_count(0)
    page.goto("/legal/subprocessors")
    expect(page.locator("#sp-search")).to_contain_text("Findwell Search")  # in effect now


def test_the_pages_pass_axe_and_nu(new_page, axe_check, live_app, people, tmp_path):
    from . import nu
    from .test_sweep import require_nu

    announce(live_app)
    page = new_page(js=True)
    page.goto("/legal/subprocessors")
    expect(page.get_by_role("heading", name=re.compile(r"^Announced change: version 2"))).to_be_visible()
    axe_check(page, label="public list with an announced change")
    (tmp_path / "public.html").write_text(page.request.get("/legal/subprocessors").text(), encoding="utf-8")
    (tmp_path / "version.html").write_text(page.request.get("/legal/subprocessors/2").text(), encoding="utf-8")
    sign_in(page, "boss@example.com")
    page.goto("/admin/subprocessors")
    expect(page.get_by_role("link", name="Object to this change")).to_be_visible()
    axe_check(page, label="admin sub-processors page")
    for name, path in (("admin.html", "/admin/subprocessors"), ("object.html", "/admin/subprocessors/2/object")):
        (tmp_path / name).write_text(page.request.get(path).text(), encoding="utf-8")
    require_nu()
    messages = nu.check_files(sorted(tmp_path.glob("*.html")))
    assert not messages, "\n".join(f"{m.file}:{m.line}: {m.text} {m.extract}" for m in messages)
