"""The staff navigation: six groups in the header, the pages of the group you are in at the top of the page.

Staff walk it from the console with the test client; every staff GET page of the URL map without an id (downloads
left out) is among its links or one click from them, and no page offers a wall of links."""
from __future__ import annotations

import re

from tests.conftest import login_with_code, make_staff
from tests.test_admin_nav import walk

MAIN_NAV = re.compile(r'<nav class="nav" aria-label="Main">(.*?)</nav>', re.S)
SUBNAV = re.compile(r'<nav class="subnav"[^>]*>(.*?)</nav>', re.S)
HREF = re.compile(r'href="([^"#?]+)"')


def nav_links(html: str) -> list[str]:
    found = HREF.findall(MAIN_NAV.search(html).group(1))
    sub = SUBNAV.search(html)
    return found + (HREF.findall(sub.group(1)) if sub else [])


def staff_list_pages(app) -> set[str]:
    pages = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or "GET" not in rule.methods or rule.arguments:
            continue
        if rule.rule.endswith((".csv", ".zip", ".pdf", ".json")) or "download" in rule.rule:
            continue
        pages.add(rule.rule)
    return pages - {"/staff"}  # a redirect to the console


def test_staff_reach_every_staff_page_from_six_groups(app):
    staff = make_staff(app)
    client = app.test_client()
    login_with_code(client, app, staff)
    seen, pages = walk(client, "/staff/console", nav_links)
    for url, html in pages.items():
        assert len(nav_links(html)) <= 12, f"{url}: {len(nav_links(html))} links in the navigation"
    one_click_further = {href for html in pages.values() for href in HREF.findall(html) if href.startswith("/staff")}
    missing = staff_list_pages(app) - seen - one_click_further
    assert not {url for url in missing if not url.endswith("/new")}, missing
    assert "/staff/records-of-processing" in seen  # once linked from nowhere
    console = pages["/staff/console"]
    groups = re.findall(r'<a href="[^"]+"[^>]*>([^<]+)', MAIN_NAV.search(console).group(1))
    assert groups == ["Console", "Security alerts", "Privacy", "Support", "Content", "Billing"]
    assert 'class="subnav"' not in console  # the console is a group of one page
    dpa = pages["/staff/dpa"]
    assert '<a href="/staff/privacy-requests" aria-current="true">Privacy</a>' in MAIN_NAV.search(dpa).group(1)
    row = SUBNAV.search(dpa).group(1)
    assert re.findall(r">([^<]+)</a>", row) == ["Privacy requests", "Legal holds", "Records of processing", "DPA",
                                                  "Sub-processors"]
    assert '<a href="/staff/dpa" aria-current="page">DPA</a>' in row
