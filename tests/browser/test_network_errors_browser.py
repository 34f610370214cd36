"""Requests that do not get through (issue 22): an htmx request that fails (no connection, or a server error)
leaves the page as it was, with what was typed, and says so in place with a "Try again" button that repeats
the request; the next successful answer takes the message away (static/js/app.js, part 6; on the lesson page,
static/js/player.js).

The network is cut for one kind of request with Playwright's routing (``route.abort("internetdisconnected")``),
and a server error is a routed ``500`` answer; everything else reaches the live server."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from leadthe.extensions import db
from tests.browser.helpers import log_in
from tests.conftest import make_org, make_user

OFFLINE = "we could not reach the server"
SERVER = "the server could not answer just now"
KEPT = "What you entered is still here."


def _courses(live_app, tmp_path):
    from leadthe.courses.content import load_content

    root = tmp_path / "content"
    for slug, title, topic in (("cut-wire", "Working without a wire", "testing"), ("plain-words", "Plain words", "writing")):
        module = root / slug / "01-start"
        module.mkdir(parents=True)
        (root / slug / "course.md").write_text(f"---\nslug: {slug}\ntitle: {title}\nsummary: A short course.\ntopic: {topic}\nlevel: beginner\n---\nAbout it.\n")
        (module / "module.md").write_text("---\nslug: start\ntitle: Getting started\n---\n")
        for n in (1, 2):
            (module / f"0{n}-step{n}.md").write_text(f"---\nslug: step-{n}\ntitle: Step {n}\nkind: reading\nminutes: 2\n---\n## Part {n}\n\nText of step {n}.\n")
    with live_app.app_context():
        load_content(root)
        db.session.commit()


def _learner(live_app):
    org = make_org(live_app, "Wireless Ltd")
    return make_user(live_app, org, email="nora@example.com", name="Nora Network")


def _log_in(page, user):
    log_in(page, user.email)
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def _cut(page, matches, how="abort"):
    """Make every request whose URL satisfies ``matches`` fail: no connection, or a server error."""
    if how == "abort":
        page.route(matches, lambda route: route.abort("internetdisconnected"))
    else:
        page.route(matches, lambda route: route.fulfill(status=500, content_type="text/html", body="<p>Internal Server Error</p>"))


def test_a_catalogue_filter_without_a_connection_keeps_the_list_and_tries_again(live_app, page_js, tmp_path, axe_check):
    page = page_js
    _courses(live_app, tmp_path)
    _log_in(page, _learner(live_app))
    page.goto("/courses")
    cards = page.locator("#course-list .card")
    expect(cards).to_have_count(2)

    filtered = lambda url: "/courses?" in url  # noqa: E731 -- the filter's own requests, not the page
    _cut(page, filtered)
    topic = page.get_by_label("Topic")
    topic.focus()  # as a person choosing from it
    topic.select_option("writing")
    message = page.locator(".net-error")
    expect(message).to_have_count(1)
    expect(message).to_have_attribute("role", "alert")
    expect(message).to_contain_text(OFFLINE)
    # in place: at the top of the list it would have replaced; the list and the chosen topic stay
    assert page.evaluate("document.querySelector('#course-list').firstElementChild.classList.contains('net-error')")
    expect(cards).to_have_count(2)
    expect(topic).to_have_value("writing")
    expect(topic).to_be_focused()  # focus is not taken away

    # another failure: still one message, not two
    page.get_by_label("Level").select_option(index=1)
    page.wait_for_timeout(200)
    expect(message).to_have_count(1)
    page.get_by_label("Level").select_option(index=0)
    expect(message).to_have_count(1)
    axe_check(page, label="catalogue with a request that did not get through")

    page.unroute(filtered)
    retry = message.get_by_role("button", name="Try again")
    retry.focus()
    page.keyboard.press("Enter")  # from the keyboard
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Plain words")
    expect(message).to_have_count(0)
    expect(page).to_have_url(re.compile(r"topic=writing"))


def test_a_form_answered_with_a_server_error_keeps_what_was_typed_and_sends_it_again(live_app, page_js):
    page = page_js
    _log_in(page, _learner(live_app))
    page.goto("/support")
    _cut(page, "**/support", how="500")
    page.get_by_label("Subject").fill("The certificate page is blank")
    page.get_by_role("button", name="Send", exact=True).click()
    message = page.locator(".net-error")
    expect(message).to_contain_text(SERVER)
    expect(message).to_contain_text(KEPT)
    # after the form (the form itself is the target), and the form is as it was
    assert page.evaluate("document.querySelector('#ticket-form').nextElementSibling.classList.contains('net-error')")
    expect(page.get_by_label("Subject")).to_have_value("The certificate page is blank")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_timeout(200)
    expect(message).to_have_count(1)

    # Try again sends the same form: the server answers (here: the message is missing), the form is swapped
    # and the message goes
    page.unroute("**/support")
    message.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("link", name=re.compile("Message"))).to_be_visible()  # the error summary's link
    expect(message).to_have_count(0)
    expect(page.get_by_label("Subject")).to_have_value("The certificate page is blank")

    # and once more without a connection: the long text typed stays, and Try again sends it
    _cut(page, "**/support")
    page.get_by_label("Message").fill("When I open my certificate the page is blank.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(message).to_contain_text(OFFLINE)
    expect(page.get_by_label("Message")).to_have_value("When I open my certificate the page is blank.")
    page.unroute("**/support")
    message.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The certificate page is blank")
    expect(message).to_have_count(0)


def test_the_next_lesson_without_a_connection_keeps_the_lesson_and_says_so(live_app, page_js, tmp_path):
    """The lesson page (static/js/player.js: app.js is not loaded there): a lesson link that does not get through
    leaves the lesson and says so beside the links, which stay; a server error opens the page as a whole (the
    server's own error page says what happened); the link works again once the connection is back."""
    page = page_js
    _courses(live_app, tmp_path)
    _log_in(page, _learner(live_app))
    page.goto("/courses/cut-wire")
    page.get_by_role("button", name="Start this course").click()
    page.wait_for_url("**/courses/cut-wire/lessons/step-1")

    _cut(page, "**/lessons/step-2")
    nxt = page.get_by_role("link", name=re.compile("Next: Step 2"))
    nxt.click()
    note = page.locator(".pager [role=alert]")
    expect(note).to_contain_text("there is no connection")
    expect(page.get_by_role("heading", level=1)).to_have_text("Step 1")
    expect(page).to_have_url(re.compile(r"/lessons/step-1$"))
    nxt.click()  # a second failure: still one note
    expect(note).to_have_count(1)

    page.unroute("**/lessons/step-2")
    nxt.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Step 2")
    expect(page).to_have_url(re.compile(r"/lessons/step-2$"))
    expect(page.locator("#lesson-title")).to_be_focused()  # where a lesson swap puts focus

    _cut(page, "**/lessons/step-1", how="500")
    page.get_by_role("link", name=re.compile("Previous: Step 1")).click()
    expect(page.locator("body")).to_contain_text("Internal Server Error")  # the whole page: never a blank pane
    expect(page).to_have_url(re.compile(r"/lessons/step-1$"))


def test_signed_out_pages_say_so_too(live_app, page_js):
    page = page_js
    _learner(live_app)
    page.goto("/login")
    page.get_by_label("E-mail address", exact=True).fill("nora@example.com")
    page.wait_for_load_state("networkidle")
    page.get_by_label("Password", exact=True).fill("not the password")
    _cut(page, lambda url: url.split("?")[0].endswith("/login"))
    page.get_by_role("button", name="Log in", exact=True).click()
    message = page.locator(".net-error")
    expect(message).to_contain_text(OFFLINE)
    expect(page.get_by_label("E-mail address", exact=True)).to_have_value("nora@example.com")
