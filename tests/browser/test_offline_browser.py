"""Learning offline (issue 22): a learner saves a course in the browser, reads every lesson of it without a
connection, completes lessons offline and sees them counted exactly once when the connection is back; logging out
removes all of it; without JavaScript nothing changes.

Going offline: ``context.set_offline(True)`` alone does not reliably stop the requests a service worker makes
(microsoft/playwright issue 2311). With ``PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS=1`` (tests/browser/
conftest.py) the worker's requests pass through ``context.route`` too, so :func:`go_offline` also aborts every one
of them as a lost connection would.
"""
from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import Lesson, LessonCompletion, PracticeAnswer, SyncReceipt, User, utcnow
from tests.browser.helpers import log_in
from tests.conftest import make_org, make_user

LESSONS = (("reading", "Read first"), ("practice", "Try it"), ("reading", "Read more"), ("reading", "Wrap up"))
SLUGS = [f"step-{n}" for n in range(1, len(LESSONS) + 1)]


def _course(live_app, tmp_path):
    from leadthe.courses.content import load_content

    course = tmp_path / "content" / "trip"
    (course / "01-go").mkdir(parents=True)
    (course / "course.md").write_text("---\nslug: trip\ntitle: A train trip\nsummary: Lessons for the train.\n"
                                      "topic: testing\nlevel: beginner\n---\nAbout the trip.\n")
    (course / "01-go" / "module.md").write_text("---\nslug: go\ntitle: On the way\n---\n")
    for n, (kind, title) in enumerate(LESSONS, start=1):
        extra = "prompt: Write a prompt for a summary.\n" if kind == "practice" else ""
        (course / "01-go" / f"0{n}-step{n}.md").write_text(
            f"---\nslug: step-{n}\ntitle: {title}\nkind: {kind}\nminutes: 2\n{extra}---\n## Part {n}\n\nText of step {n}.\n")
    with live_app.app_context():
        load_content(tmp_path / "content")
        db.session.commit()
    return make_org(live_app, "Travellers")


# --- the network ----------------------------------------------------------------------------------

def _drop_worker_requests(route):
    if route.request.service_worker:
        route.abort("internetdisconnected")
    else:
        route.continue_()


def go_offline(page):
    page.context.set_offline(True)
    page.context.route("**/*", _drop_worker_requests)


def go_online(page):
    page.context.unroute("**/*", _drop_worker_requests)
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")  # Chromium may not tell the page by itself


# --- steps ----------------------------------------------------------------------------------------

def _start(page, email):
    log_in(page, email)
    page.wait_for_url("**/dashboard")
    page.goto("/courses/trip")
    page.get_by_role("button", name="Start this course").click()
    page.wait_for_url("**/courses/trip/lessons/step-1")


def _save(page):
    """Save the course from its page; returns what the panel said while saving."""
    page.goto("/courses/trip")
    panel = page.locator(".offline-panel")
    panel.get_by_text("About ").wait_for()
    assert "KB in this browser" in panel.locator(".offline-state").inner_text()
    page.evaluate("""() => {
        window.seen = [];
        const state = document.querySelector('.offline-panel .offline-state');
        const bar = document.querySelector('.offline-panel progress');
        new MutationObserver(() => window.seen.push(state.textContent + ' | ' + (bar.hidden ? '' : bar.value + '/' + bar.max)))
          .observe(state, {childList: true, characterData: true, subtree: true});
    }""")
    panel.get_by_role("button", name="Save this course for offline").click()
    panel.locator(".offline-state", has_text=re.compile("^Saved on")).wait_for()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    return page.evaluate("window.seen")


def _complete_offline(page, slug):
    """Mark a lesson complete on its offline copy; returns the times just before and after the click."""
    page.goto(f"/courses/trip/lessons/{slug}")
    page.locator(".offline-note").wait_for()
    before = utcnow()
    page.get_by_role("button", name="Mark as complete").click()
    after = utcnow()
    page.get_by_text("Marked as complete on this device").wait_for()
    return before - timedelta(seconds=1), after + timedelta(seconds=1)


def _completions(live_app, email):
    with live_app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        rows = db.session.execute(sa.select(Lesson.slug, LessonCompletion.completed_at)
                                  .join(Lesson, Lesson.id == LessonCompletion.lesson_id)
                                  .where(LessonCompletion.user_id == user.id)).all()
        return {slug: at for slug, at in rows}


def _sync(page, body: str) -> dict:
    """POST a queue to /progress/sync from the page, as session.js does (CSRF from the page)."""
    return page.evaluate("""async (body) => {
        const token = JSON.parse(document.body.dataset.hxHeaders)['X-CSRFToken'];
        const post = () => fetch(document.body.dataset.sync, {method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json', 'X-CSRFToken': token}, body}).then(r => r.json());
        const [one, two] = await Promise.all([post(), post()]);  // twice at the same time
        return {one, two, three: await post()};                    // and once more
    }""", body)


# --- the tests ------------------------------------------------------------------------------------

def test_save_read_offline_complete_two_and_they_count_once(live_app, new_page, tmp_path):
    org = _course(live_app, tmp_path)
    user = make_user(live_app, org, email="rita@example.com", name="Rita Rail")
    page = new_page()
    _start(page, user.email)

    seen = _save(page)
    assert any("Saving lesson 1 of 4" in s and "1/4" in s for s in seen), seen
    assert any("Saving lesson 4 of 4" in s for s in seen), seen
    panel = page.locator(".offline-panel")
    assert "KB" in panel.locator(".offline-state").inner_text()
    panel.get_by_role("button", name="Remove").wait_for()

    go_offline(page)
    for slug, (_kind, title) in zip(SLUGS, LESSONS):
        page.goto(f"/courses/trip/lessons/{slug}")
        page.get_by_role("heading", level=1, name=title).wait_for()
        assert page.locator(".offline-note").inner_text().startswith("Offline copy from")
        assert f"Text of step {slug[-1]}" in page.locator("main").inner_text()
        assert "Rita" not in page.content()  # nothing personal in an offline copy
    page.goto("/dashboard")  # not saved: a small page that says so and lists what is
    page.get_by_role("heading", level=1, name="You are offline").wait_for()
    page.get_by_role("link", name="A train trip").click()
    page.get_by_role("heading", level=1, name="Read first").wait_for()
    first = _complete_offline(page, "step-1")
    third = _complete_offline(page, "step-3")
    page.get_by_text("2 changes waiting to be sent").wait_for()
    queue = page.evaluate("localStorage.getItem('leadthe.queue')")
    assert len(json.loads(queue)["items"]) == 2
    page.wait_for_timeout(1500)  # so the time of sending is later than the time of the clicks

    go_online(page)
    page.get_by_text("All changes sent.").wait_for()
    assert page.evaluate("localStorage.getItem('leadthe.queue')") is None
    done = _completions(live_app, user.email)
    assert set(done) == {"step-1", "step-3"}
    assert first[0] <= done["step-1"] <= first[1], (first, done)
    assert third[0] <= done["step-3"] <= third[1], (third, done)

    # the same queue sent again (twice at once, then once more): every item is done, nothing counts twice
    page.goto("/dashboard")
    answers = _sync(page, queue)
    ids = {item["id"] for item in json.loads(queue)["items"]}
    assert all(set(a["done"]) == ids for a in answers.values()), answers
    assert _completions(live_app, user.email) == done
    with live_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncReceipt)) == 2


def test_log_out_with_changes_waiting_clears_them_for_the_next_person(live_app, new_page, tmp_path):
    org = _course(live_app, tmp_path)
    first = make_user(live_app, org, email="una@example.com", name="Una First")
    second = make_user(live_app, org, email="otto@example.com", name="Otto Next")
    page = new_page()
    _start(page, first.email)
    _save(page)

    go_offline(page)
    _complete_offline(page, "step-1")
    page.goto("/courses/trip/lessons/step-2")  # a practice answer written offline waits too
    page.get_by_label("Your prompt").fill("Summarise the timetable changes for commuters.")
    page.get_by_role("button", name="Save my answer").click()
    page.locator(".answer-form .retry-status").get_by_text("Your answer is kept on this device").wait_for()
    # the connection comes back, but the changes do not get through before the person logs out
    page.context.route("**/progress/sync", lambda route: route.abort("internetdisconnected"))
    go_online(page)
    page.goto("/dashboard")
    page.get_by_text("2 changes waiting to be sent").wait_for()
    page.locator("details.menu summary").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.context.unroute("**/progress/sync")

    log_in(page, second.email)
    page.wait_for_url("**/dashboard")
    page.wait_for_timeout(500)  # the page's own start-up: it would send a queue it found
    stored = page.evaluate("""async () => ({
        queue: localStorage.getItem('leadthe.queue'),
        cache: await caches.has('leadthe-offline-v1'),
        workers: (await navigator.serviceWorker.getRegistrations()).length,
    })""")
    assert stored == {"queue": None, "cache": False, "workers": 0}, stored
    assert page.get_by_text("waiting to be sent").count() == 0
    page.goto("/courses/saved")
    page.get_by_text("No courses are saved on this device.").wait_for()
    with live_app.app_context():
        for model in (LessonCompletion, PracticeAnswer, SyncReceipt):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0, model


def test_without_javascript_there_is_no_save_panel_and_lessons_work_as_before(live_app, page_nojs, tmp_path):
    org = _course(live_app, tmp_path)
    user = make_user(live_app, org, email="nora@example.com", name="Nora Noscript")
    page = page_nojs
    log_in(page, user.email)
    page.wait_for_url("**/dashboard")
    page.goto("/courses/trip")
    page.get_by_role("button", name="Start this course").click()
    page.wait_for_url("**/lessons/step-1")
    page.goto("/courses/trip")
    assert page.locator(".offline-panel").is_hidden()
    assert not page.get_by_role("button", name="Save this course for offline").is_visible()
    page.get_by_role("link", name="Read first").click()
    page.get_by_role("button", name="Mark as complete").click()
    page.wait_for_url("**/lessons/step-2")
    assert set(_completions(live_app, user.email)) == {"step-1"}
    page.goto("/courses/saved")
    assert "needs a browser with JavaScript" in page.locator("main").inner_text()


def test_an_updated_lesson_replaces_its_saved_copy_at_the_next_visit_online(live_app, new_page, tmp_path):
    org = _course(live_app, tmp_path)
    user = make_user(live_app, org, email="uwe@example.com", name="Uwe Update")
    page = new_page()
    _start(page, user.email)
    _save(page)
    copy = "() => caches.match('/courses/trip/lessons/step-3/offline', {cacheName: 'leadthe-offline-v1'}).then(r => r.text())"
    assert "Text of step 3." in page.evaluate(copy)

    with live_app.app_context():
        lesson = db.session.scalar(sa.select(Lesson).where(Lesson.slug == "step-3"))
        lesson.body_html = lesson.body_html.replace("Text of step 3.", "Text of step 3, revised.")
        db.session.commit()
    page.goto("/courses/trip/lessons/step-3")  # online: the real lesson, and the saved copy checked behind it
    page.get_by_text("Text of step 3, revised.").wait_for()
    page.wait_for_function(f"() => ({copy})().then(t => t.includes('revised'))", polling=100)

    go_offline(page)
    page.goto("/courses/trip/lessons/step-3")
    page.locator(".offline-note").wait_for()
    assert "Text of step 3, revised." in page.locator("main").inner_text()
    go_online(page)

    # the course page says the course changed since it was saved, and "Update" saves it again
    page.goto("/courses/trip")
    panel = page.locator(".offline-panel")
    panel.get_by_text("The course has changed since then.").wait_for()
    panel.get_by_role("button", name="Update").click()
    panel.get_by_role("button", name="Update").wait_for(state="hidden")
    assert "changed" not in panel.locator(".offline-state").inner_text()

    # the saved page lists it with its size and date; removing it (confirmed) removes the worker too
    page.get_by_role("link", name="Courses saved on this device").click()
    item = page.locator(".saved-list li")
    item.get_by_role("link", name="A train trip").wait_for()
    assert "Saved on" in item.inner_text() and "KB" in item.inner_text()
    item.get_by_role("button", name="Remove").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Remove").click()
    page.get_by_text("No courses are saved on this device.").wait_for()
    page.wait_for_function("""async () => !(await caches.has('leadthe-offline-v1'))
        && (await navigator.serviceWorker.getRegistrations()).length === 0""")


def test_a_lesson_completed_while_the_connection_is_down_is_sent_when_it_returns(live_app, new_page, tmp_path):
    """Nothing saved for offline: the lesson page was open when the connection dropped."""
    org = _course(live_app, tmp_path)
    user = make_user(live_app, org, email="tia@example.com", name="Tia Tunnel")
    page = new_page()
    _start(page, user.email)
    go_offline(page)
    before = utcnow() - timedelta(seconds=1)
    page.get_by_role("button", name="Mark as complete").click()
    after = utcnow() + timedelta(seconds=1)
    page.get_by_text("Marked as complete on this device").wait_for()
    page.get_by_text("1 change waiting to be sent").wait_for()
    assert page.get_by_role("heading", level=1).inner_text() == "Read first"  # the page stays as it was
    page.wait_for_timeout(1500)
    go_online(page)
    page.get_by_text("All changes sent.").wait_for()
    done = _completions(live_app, user.email)
    assert set(done) == {"step-1"} and before <= done["step-1"] <= after

    # online, but the request is lost on the way: kept on the device and sent at once by the queue instead
    page.goto("/courses/trip/lessons/step-2")
    page.context.route("**/lessons/step-2/complete", lambda route: route.abort("connectionreset"))
    page.get_by_role("button", name="Mark as complete").click()
    page.get_by_text("Marked as complete on this device").wait_for()
    page.get_by_text("All changes sent.").wait_for()
    assert set(_completions(live_app, user.email)) == {"step-1", "step-2"}


# a 1x1 PNG: a lesson's picture, served from /static for this test only (lessons may show pictures of this site)
PICTURE = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def test_a_lessons_pictures_are_saved_with_it_and_show_offline(live_app, new_page, tmp_path):
    picture = Path(live_app.static_folder) / "offline-test-picture.png"
    picture.write_bytes(PICTURE)
    try:
        org = _course(live_app, tmp_path)
        lesson = tmp_path / "content" / "trip" / "01-go" / "02-step2.md"
        lesson.write_text(lesson.read_text() + "\n![A diagram of the route](/static/offline-test-picture.png)\n")
        with live_app.app_context():
            from leadthe.courses.content import load_content

            load_content(tmp_path / "content")
            db.session.commit()
        user = make_user(live_app, org, email="paula@example.com", name="Paula Picture")
        page = new_page()
        _start(page, user.email)
        _save(page)
        cached = "u => caches.open('leadthe-offline-v1').then(c => c.match(u)).then(r => !!r)"
        assert page.evaluate(cached, "/static/offline-test-picture.png")

        go_offline(page)
        page.goto("/courses/trip/lessons/step-2")
        page.locator(".offline-note").wait_for()
        image = page.get_by_role("img", name="A diagram of the route")
        image.wait_for()
        assert page.evaluate("img => img.complete && img.naturalWidth === 1", image.element_handle())
        go_online(page)
        meta = page.evaluate("() => caches.open('leadthe-offline-v1').then(c => c.match('/__offline__/courses/trip')).then(r => r.json())")
        assert meta["images"] == [page.url.split("/courses/")[0] + "/static/offline-test-picture.png"]  # removed with the course
    finally:
        picture.unlink(missing_ok=True)
