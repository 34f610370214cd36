"""Learning offline (issue 22), the pages: a course's offline manifest, the offline copy of a lesson (nothing personal,
kept by the browser and revalidated with its ETag), the device key on signed-in pages, and logging out clearing what
the site stored in the browser."""
from __future__ import annotations

import re

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import Course, Lesson, utcnow
from tests.conftest import csrf_from, make_user, post_form
from tests.helpers import enrol, load, login, write_course

PRIVATE_ANSWER = "My secret draft about the quarterly numbers"


def offline_course(app, tmp_path, slug="mini", org=None):
    """A course with two reading lessons, a practice lesson and an exercise."""
    course_dir = write_course(tmp_path / slug, slug, 2, title="Mini course")
    (course_dir / "01-mod1" / "003-l3.md").write_text(
        "---\nslug: l3\ntitle: Try it yourself\nkind: practice\nminutes: 4\nprompt: Write a prompt for a summary.\n---\nPractise.\n")
    load(app, tmp_path / slug)
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.slug == slug))
        if org is not None:
            course.org_id = org.id
        module_id = db.session.scalar(sa.select(Lesson.module_id).where(Lesson.course_id == course.id).limit(1))
        db.session.add(Lesson(course_id=course.id, module_id=module_id, slug="lab", title="In the lab", kind="exercise",
                              exercise={"task": "Write a prompt."}, position=9, seq=9))
        db.session.commit()


def signed_in_enrolled(app, client, person, slug="mini"):
    login(client, person.email)
    assert enrol(client, slug).status_code == 303


def test_the_manifest_lists_every_lesson_with_its_offline_copy_and_size(app, client, companies, tmp_path):
    offline_course(app, tmp_path)
    signed_in_enrolled(app, client, companies[0].learner)
    response = client.get("/courses/mini/offline.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    manifest = response.get_json()
    assert manifest["slug"] == "mini" and manifest["title"] == "Mini course" and manifest["url"] == "/courses/mini"
    assert [entry["slug"] for entry in manifest["lessons"]] == ["l1", "l2", "l3", "lab"]
    first = manifest["lessons"][0]
    assert first == {"slug": "l1", "title": "Lesson 1", "url": "/courses/mini/lessons/l1",
                     "offline_url": "/courses/mini/lessons/l1/offline", "bytes": first["bytes"]}
    # the size is what the browser will store: the offline pages as they are sent, and the files they need
    sizes = [len(client.get(entry["offline_url"]).data) for entry in manifest["lessons"]]
    assets = []
    for url in manifest["assets"]:
        with client.get(url) as response:
            assets.append(len(response.data))
    assert [entry["bytes"] for entry in manifest["lessons"]] == sizes and manifest["bytes"] == sum(sizes) + sum(assets)
    assert {re.sub(r"\?v=\w+$", "", url) for url in manifest["assets"]} == {
        "/static/css/app.css", "/static/js/session.js", "/static/js/player.js"}
    assert all("?v=" in url for url in manifest["assets"])
    # the version changes when a lesson changes, and only then
    assert client.get("/courses/mini/offline.json").get_json()["version"] == manifest["version"]
    with app.app_context():
        lesson = db.session.scalar(sa.select(Lesson).where(Lesson.slug == "l2"))
        lesson.body_html = "<p>Rewritten.</p>"
        db.session.commit()
    assert client.get("/courses/mini/offline.json").get_json()["version"] != manifest["version"]


def test_only_enrolled_learners_get_the_manifest_and_the_offline_copies(app, client, companies, tmp_path):
    a, b = companies
    offline_course(app, tmp_path)
    offline_course(app, tmp_path, slug="b-only", org=b.org)
    login(client, a.learner.email)
    # not enrolled: as if there were nothing to save
    assert client.get("/courses/mini/offline.json").status_code == 404
    assert client.get("/courses/mini/lessons/l1/offline").status_code == 404
    assert enrol(client, "mini").status_code == 303
    assert client.get("/courses/mini/offline.json").status_code == 200
    # another company's course and unknown ones: 404
    for url in ("/courses/b-only/offline.json", "/courses/b-only/lessons/l1/offline", "/courses/nothing/offline.json",
                "/courses/mini/lessons/nothing/offline"):
        assert client.get(url).status_code == 404, url
    # signed out: to the log-in page
    anonymous = app.test_client()
    assert "/login" in anonymous.get("/courses/mini/offline.json").headers["Location"]


def test_the_offline_copy_holds_nothing_personal_and_is_revalidated_with_its_etag(app, client, companies, tmp_path):
    a, _ = companies
    offline_course(app, tmp_path)
    signed_in_enrolled(app, client, a.learner)
    lesson_page = client.get("/courses/mini/lessons/l3").get_data(as_text=True)
    assert client.post("/courses/mini/lessons/l3/answer",
                       data={"csrf_token": csrf_from(lesson_page), "answer": PRIVATE_ANSWER}).status_code == 303
    page = client.get("/courses/mini/lessons/l1").get_data(as_text=True)
    assert post_form(client, "/courses/mini/lessons/l1/complete", {}, page="/courses/mini/lessons/l1").status_code == 303
    key = re.search(r'data-device-key="([0-9a-f]{16})"', page).group(1)

    for slug in ("l1", "l3"):
        response = client.get(f"/courses/mini/lessons/{slug}/offline")
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-cache"
        assert "csrf" not in html.lower() and "X-CSRFToken" not in html
        assert a.learner.name not in html and a.learner.email not in html
        assert PRIVATE_ANSWER not in html
        assert "Completed on" not in html and "status-done" not in html and "Log out" not in html
        assert "htmx" not in html
        assert re.search(rf'<body data-offline-copy data-device-key="{key}" data-sync="/progress/sync">', html)
        assert '<p class="offline-note">Offline copy from ' in html
        assert 'href="/courses/mini"' in html and '<p class="queue-status" role="status" aria-live="polite" hidden>' in html
        etag = response.headers["ETag"]
        again = client.get(f"/courses/mini/lessons/{slug}/offline", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "private, no-cache"
        stale = client.get(f"/courses/mini/lessons/{slug}/offline", headers={"If-None-Match": '"something-else"'})
        assert stale.status_code == 200

    l1 = client.get("/courses/mini/lessons/l1/offline").get_data(as_text=True)
    assert ('<form class="complete-form offline" method="post" action="/courses/mini/lessons/l1/complete" '
            'data-course="mini" data-lesson="l1">') in l1
    assert '<p class="retry-status" role="status" aria-live="polite">' in l1
    assert 'rel="next" href="/courses/mini/lessons/l2"' in l1  # the real lesson, not its offline copy
    l3 = client.get("/courses/mini/lessons/l3/offline").get_data(as_text=True)
    assert ('<form class="answer-form offline" method="post" action="/courses/mini/lessons/l3/answer" '
            'data-course="mini" data-lesson="l3">') in l3
    assert re.search(r'<textarea id="answer" name="answer"[^>]*></textarea>', l3)
    assert "Write a prompt for a summary." in l3
    lab = client.get("/courses/mini/lessons/lab/offline").get_data(as_text=True)
    assert "needs a connection" in lab and "complete-form" not in lab and "answer-form" not in lab


def test_an_updated_lesson_gets_a_new_etag(app, client, companies, tmp_path):
    offline_course(app, tmp_path)
    signed_in_enrolled(app, client, companies[0].learner)
    etag = client.get("/courses/mini/lessons/l2/offline").headers["ETag"]
    with app.app_context():
        db.session.scalar(sa.select(Lesson).where(Lesson.slug == "l2")).title = "Lesson two, revised"
        db.session.commit()
    response = client.get("/courses/mini/lessons/l2/offline", headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag
    assert "Lesson two, revised" in response.get_data(as_text=True)
    # the same copy in another language is another copy
    german = client.get("/courses/mini/lessons/l2/offline", headers={"If-None-Match": response.headers["ETag"],
                                                                     "Accept-Language": "de-DE,de;q=0.9"})
    assert german.status_code in (200, 304)


def test_every_other_page_is_still_never_stored(app, client, companies, tmp_path):
    offline_course(app, tmp_path)
    signed_in_enrolled(app, client, companies[0].learner)
    for url in ("/courses/mini/lessons/l1", "/courses/mini", "/dashboard", "/courses/mini/offline.json", "/login"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url
    # a view of another endpoint cannot opt out by setting the header itself
    assert client.get("/courses/mini/lessons/l1", headers={"Cache-Control": "private, no-cache"}).headers[
        "Cache-Control"] == "no-store"


def test_signed_in_pages_carry_a_pseudonymous_device_key(app, client, companies, tmp_path):
    a, b = companies
    signed_out = client.get("/login").get_data(as_text=True)
    assert "data-device-key" not in signed_out and "data-sync" not in signed_out
    keys = {}
    for person in (a.learner, b.learner):
        other = app.test_client()
        login(other, person.email)
        body = re.search(r"<body[^>]*>", other.get("/dashboard").get_data(as_text=True)).group(0)
        keys[person.id] = re.search(r'data-device-key="([0-9a-f]+)"', body).group(1)
        assert 'data-sync="/progress/sync"' in body
        assert len(keys[person.id]) == 16 and str(person.id) != keys[person.id] and person.email not in body
        # the same person, the same key on every page
        assert f'data-device-key="{keys[person.id]}"' in other.get("/courses").get_data(as_text=True)
    assert keys[a.learner.id] != keys[b.learner.id]


def test_logging_out_clears_the_sites_storage_in_the_browser(app, client, companies):
    login(client, companies[0].learner.email)
    response = post_form(client, "/logout", {}, page="/dashboard")
    assert response.status_code == 303 and response.headers["Clear-Site-Data"] == '"storage"'
    assert "Clear-Site-Data" not in client.get("/login").headers


def test_the_service_worker_script_may_control_the_whole_site(app, client, tmp_path, monkeypatch):
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "sw.js").write_text("self.addEventListener('fetch', function () {});\n")
    (tmp_path / "js" / "player.js").write_text("\n")
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    with client.get("/static/js/sw.js") as response:
        assert response.status_code == 200 and response.headers["Service-Worker-Allowed"] == "/"
    with client.get("/static/js/player.js") as response:
        assert response.status_code == 200 and "Service-Worker-Allowed" not in response.headers


def test_a_user_made_with_no_course_sees_no_offline_copy(app, client, companies):
    person = make_user(app, companies[0].org, email="new@a.example")
    login(client, person.email)
    assert client.get("/courses/anything/offline.json").status_code == 404
    with app.app_context():
        assert utcnow()  # the app context still works after the 404
