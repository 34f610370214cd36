"""The admin sub-navigation: every admin page carries it, and every admin page is reachable from it.

A company admin walks the sub-navigation from /admin with the test client; every admin GET page of the URL map
(downloads and pages that need an id excluded: those are reached from the lists) must be among the links it
offers, and every admin page rendered, detail pages included, shows it. A manager sees only the pages they may
open. The primary navigation has one "Admin" entry, and no "Company settings" beside it."""
from __future__ import annotations

import re

from leadthe.extensions import db
from tests.helpers import make_course, signed_in

SUBNAV = re.compile(r'<nav class="subnav"[^>]*>(.*?)</nav>', re.S)
MAIN_NAV = re.compile(r'<nav class="nav" aria-label="Main">(.*?)</nav>', re.S)
HREF = re.compile(r'href="([^"#?]+)"')
# pages reached from a state, not a list: the cancellation's confirmation (linked while a subscription runs) and
# where the payment processor sends the admin back
LANDING_PAGES = {"billing_admin.cancel", "billing_admin.checkout_return"}


def subnav_links(html: str) -> set[str]:
    match = SUBNAV.search(html)
    assert match, "no admin sub-navigation on the page"
    return set(HREF.findall(match.group(1)))


def admin_list_pages(app) -> set[str]:
    """Every GET page under /admin without an id in its address, downloads left out."""
    pages = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or "GET" not in rule.methods or rule.arguments:
            continue
        if rule.rule.endswith((".csv", ".zip", ".pdf", ".json")) or "download" in rule.rule:
            continue
        if rule.endpoint in LANDING_PAGES:
            continue
        pages.add(rule.rule)
    return pages


def walk(client, start: str = "/admin", links_of=subnav_links) -> tuple[set[str], dict[str, str]]:
    """Follow the navigation (``links_of`` a page) from ``start``, staying under its first path segment; answers
    the links seen and each visited page's HTML."""
    area = "/" + start.strip("/").split("/")[0]
    seen, todo, pages = set(), [start], {}
    while todo:
        url = todo.pop()
        if url in pages:
            continue
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = response.get_data(as_text=True)
        links = set(links_of(pages[url]))
        seen |= links
        todo.extend(link for link in links if link.startswith(area) and link not in pages)
    return seen, pages


def test_every_admin_page_is_reachable_from_the_sub_navigation(app, companies):
    a, _ = companies
    admin = signed_in(app, a.admin)
    reachable, pages = walk(admin)
    expected = admin_list_pages(app)
    assert {"/admin/assignments", "/admin/maturity", "/admin/feedback", "/admin/courses", "/admin/audit",
            "/admin/settings", "/admin/invitations"} <= expected  # the ones that were once linked from nowhere
    # a sub-navigation page links the rest (e.g. "New course" on the course list)
    one_click_further = {href for html in pages.values() for href in HREF.findall(html) if href.startswith("/admin")}
    assert expected - reachable - one_click_further == set()
    # nearly all of them directly; "new …" forms open from their list's button
    assert len({url for url in expected - reachable if not url.endswith("/new")}) <= 2, expected - reachable
    for url, html in pages.items():
        assert html.count('class="subnav"') == 1, url
        assert re.search(r'<nav class="subnav"[^>]*>.*aria-current="page"', html, re.S), f"{url}: no current item"


def test_admin_detail_pages_carry_the_sub_navigation(app, companies):
    a, _ = companies
    with app.app_context():
        course, *_ = make_course(a.org.id, "own-course", "Our own course")
        db.session.commit()
        course_id = course.id
    admin = signed_in(app, a.admin)
    for url in (f"/admin/teams/{a.team.id}", f"/admin/teams/{a.team.id}/delete", f"/admin/users/{a.learner.id}",
                f"/admin/users/{a.learner.id}/report-minor", f"/admin/courses/{course_id}", "/admin/courses/new",
                "/admin/users/import"):
        response = admin.get(url)
        assert response.status_code == 200, url
        assert subnav_links(response.get_data(as_text=True)), url


def test_one_admin_entry_in_the_primary_navigation(app, companies):
    a, _ = companies
    html = signed_in(app, a.admin).get("/admin/settings").get_data(as_text=True)
    main = MAIN_NAV.search(html).group(1)
    assert ">Admin<" in main and "Company settings" not in main and "Settings" not in main
    assert 'href="/admin/settings" aria-current="page"' in SUBNAV.search(html).group(1)


def test_a_manager_sees_the_pages_they_may_use(app, companies):
    a, _ = companies
    manager = signed_in(app, a.manager)
    reachable, pages = walk(manager)
    assert {"/admin", "/admin/users", "/admin/teams", "/admin/usage", "/admin/assignments"} <= reachable
    assert not reachable & {"/admin/settings", "/admin/audit", "/admin/invitations", "/admin/courses"}
    main = MAIN_NAV.search(pages["/admin"]).group(1)
    assert ">My teams<" in main and ">Admin<" not in main


def test_learners_have_no_admin_navigation(app, companies):
    a, _ = companies
    learner_home = signed_in(app, a.learner).get("/dashboard").get_data(as_text=True)
    main = MAIN_NAV.search(learner_home).group(1)
    for label in ("Home", "Courses", "Assessments", "Maturity"):
        assert f">{label}<" in main
    assert "/admin" not in main and 'class="subnav"' not in learner_home


def _labels(fragment: str) -> list[str]:
    return re.findall(r'<a href="[^"]+"[^>]*>([^<]+)</a>', fragment)


def test_an_admin_sees_five_groups_and_the_pages_of_the_group_they_are_in(app, companies):
    """Twenty pages in one row were a wall of links: the first row names the groups, the second the pages of the
    group of the page open, and no admin page offers more than a dozen links in its sub-navigation."""
    a, _ = companies
    admin = signed_in(app, a.admin)
    nav = SUBNAV.search(admin.get("/admin/teams").get_data(as_text=True)).group(1)
    groups = re.search(r'<ul class="subnav-groups">(.*?)</ul>', nav, re.S).group(1)
    assert _labels(groups) == ["Overview", "People and teams", "Learning", "Company", "Privacy and compliance"]
    assert '<a href="/admin/users" aria-current="true">People and teams</a>' in groups
    pages = re.search(r'<ul class="subnav-pages" aria-label="People and teams">(.*?)</ul>', nav, re.S).group(1)
    assert _labels(pages) == ["People", "Invitations", "Import", "Teams"]
    assert '<a href="/admin/teams" aria-current="page">Teams</a>' in pages
    # a page of another group: its own row, the teams' pages gone
    nav = SUBNAV.search(admin.get("/admin/dpa").get_data(as_text=True)).group(1)
    assert '<a href="/admin/audit" aria-current="true">Privacy and compliance</a>' in nav
    assert 'href="/admin/invitations"' not in nav and 'aria-current="page">Data processing agreement</a>' in nav
    _, walked = walk(admin)
    for url, html in walked.items():  # the rows of groups and pages (AI literacy adds a row of its own pages)
        rows = SUBNAV.search(html).group(1).split('<ul class="subnav-sub">')[0]
        assert len(HREF.findall(rows)) <= 12, url


def test_a_manager_has_one_row(app, companies):
    a, _ = companies
    html = signed_in(app, a.manager).get("/admin/teams").get_data(as_text=True)
    nav = SUBNAV.search(html).group(1)
    assert "subnav-groups" not in nav and "subnav-pages" not in nav
    assert _labels(nav)[:3] == ["Overview", "Usage", "People"]
