"""Courses: content loading, catalogue, player, completion, activity, search, authoring, tenancy."""
from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from leadthe.extensions import db
from leadthe.models import ActivityDay, Course, Enrollment, Lesson, LessonCompletion, PracticeAnswer, SearchQuery, utcnow
from tests.conftest import csrf_from, login_with_code, make_staff, make_user, post_form
from tests.helpers import admin_creates_private_course, complete, enrol, load, login, write_course, write_quiz_course

CONTENT = Path(__file__).resolve().parent.parent / "leadthe" / "content"


# --- content ---------------------------------------------------------------------------------------

def test_load_content_creates_the_starter_curriculum_and_is_idempotent(app):
    first = load(app)
    assert first.created == {"course": 5, "module": 18, "lesson": 70}
    with app.app_context():
        ids = dict(db.session.execute(sa.select(Lesson.slug, Lesson.id)).all())
    second = load(app)
    assert second.created == {"course": 0, "module": 0, "lesson": 0} and second.updated == {"course": 0, "module": 0, "lesson": 0}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Lesson)) == 70
        assert dict(db.session.execute(sa.select(Lesson.slug, Lesson.id)).all()) == ids
        lesson = db.session.scalar(sa.select(Lesson).where(Lesson.slug == "what-generative-ai-is"))
        assert "<h2>A different kind of software</h2>" in lesson.body_html  # rendered and stored at load time


def test_markdown_is_rendered_safely():
    from leadthe.courses.content import render_markdown

    html = render_markdown("# T\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)> **b**")
    assert "<script" not in html and 'href="javascript' not in html and "<img" not in html  # shown as text, inert
    assert "<strong>b</strong>" in html and "<h2>T</h2>" in html


def test_cli_load_content(app):
    result = app.test_cli_runner().invoke(args=["leadthe", "load-content"])
    assert result.exit_code == 0, result.output
    assert "created 5 courses" in result.output
    again = app.test_cli_runner().invoke(args=["leadthe", "load-content"])
    assert "created 0 courses" in again.output


def test_changing_content_keeps_progress(app, client, companies, tmp_path):
    a, _ = companies
    root = tmp_path / "content"
    course_dir = write_course(root, "mini", 3)
    load(app, root)
    login(client, a.learner.email)
    enrol(client, "mini")
    assert complete(client, "mini", "l1").status_code == 303
    assert complete(client, "mini", "l2").status_code == 303
    # the author edits lesson 1, removes lesson 2, and adds a lesson 4
    lesson1 = next(course_dir.glob("01-mod1/001-l1.md"))
    lesson1.write_text(lesson1.read_text().replace("Body of lesson 1.", "A new body."))
    next(course_dir.glob("01-mod1/002-l2.md")).unlink()
    (course_dir / "01-mod1" / "004-l4.md").write_text("---\nslug: l4\ntitle: Lesson 4\nkind: reading\nminutes: 2\n---\nNew.\n")
    report = load(app, root)
    assert report.updated["lesson"] >= 1 and report.archived["lesson"] == 1 and report.created["lesson"] == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LessonCompletion)) == 2  # nothing lost
    html = client.get("/courses/mini").get_data(as_text=True)
    assert "1 of 3 lessons done" in html  # l1 done; l2 archived; l3 and l4 open
    assert "A new body." in client.get("/courses/mini/lessons/l1").get_data(as_text=True)
    assert client.get("/courses/mini/lessons/l2").status_code == 404
    # putting the lesson back brings its completion back
    (course_dir / "01-mod1" / "002-l2.md").write_text("---\nslug: l2\ntitle: Lesson 2\nkind: reading\nminutes: 3\n---\nBack.\n")
    load(app, root)
    assert "2 of 4 lessons done" in client.get("/courses/mini").get_data(as_text=True)


# --- catalogue, course page, player ---------------------------------------------------------------

def test_pages_need_login(app, client):
    load(app)
    for url in ("/courses", "/courses/ai-foundations", "/search?q=ai", "/courses/ai-foundations/lessons/what-generative-ai-is"):
        assert client.get(url).status_code == 302


def test_catalogue_filters(app, client, companies):
    load(app)
    login(client, companies[0].learner.email)
    html = client.get("/courses").get_data(as_text=True)
    assert "5 courses" in html and "AI foundations for everyone" in html
    with app.app_context():
        levels = dict(db.session.execute(sa.select(Course.slug, Course.level)).all())
    level = levels["ai-foundations"]
    filtered = client.get(f"/courses?level={level}").get_data(as_text=True)
    assert all((title in filtered) == (levels[slug] == level) for slug, title in [("ai-foundations", "AI foundations for everyone")])
    assert "No course matches" in client.get("/courses?topic=no-such-topic").get_data(as_text=True)
    frag = client.get("/courses?length=long", headers={"HX-Request": "true"})
    assert frag.status_code == 200 and "<html" not in frag.get_data(as_text=True)
    assert "Vary" in frag.headers and "HX-Request" in frag.headers["Vary"]


def test_walk_a_course_and_resume(app, client, companies, tmp_path):
    a, _ = companies
    write_course(tmp_path, "mini", 3)
    load(app, tmp_path)
    login(client, a.learner.email)
    # not enrolled yet: the lesson sends you to the course page
    assert client.get("/courses/mini/lessons/l1").status_code == 303
    r = enrol(client, "mini")
    assert r.status_code == 303 and r.headers["Location"].endswith("/courses/mini/resume")
    assert client.get("/courses/mini/resume").headers["Location"].endswith("/courses/mini/lessons/l1")
    page = client.get("/courses/mini/lessons/l1").get_data(as_text=True)
    assert "Lesson 1 of 3" in page and 'rel="next"' in page and "0 of 3 lessons done" in page
    r = complete(client, "mini", "l1")
    assert r.status_code == 303 and r.headers["Location"].endswith("/courses/mini/lessons/l2")
    client.get("/courses/mini/lessons/l2")  # opened, not completed: resume comes back here
    assert client.get("/courses/mini/resume").headers["Location"].endswith("/lessons/l2")
    dash = client.get("/dashboard").get_data(as_text=True)
    assert "Continue learning" in dash and "/courses/mini/resume" in dash and "1 of 3 lessons" in dash
    complete(client, "mini", "l2")
    r = complete(client, "mini", "l3")
    assert r.headers["Location"].endswith("/courses/mini")
    course_page = client.get("/courses/mini").get_data(as_text=True)
    assert "You completed this course on" in course_page and "3 of 3 lessons done" in course_page
    dash = client.get("/dashboard").get_data(as_text=True)
    assert "Completed" in dash and "completed on" in dash
    with app.app_context():
        day = db.session.scalar(sa.select(ActivityDay))
        assert day.lessons_completed == 3


def test_lesson_fragment_with_and_without_htmx(app, client, companies, tmp_path):
    write_course(tmp_path, "mini", 3)
    load(app, tmp_path)
    login(client, companies[0].learner.email)
    enrol(client, "mini")
    full = client.get("/courses/mini/lessons/l2")
    assert "<html" in full.get_data(as_text=True) and 'id="lesson-body"' in full.get_data(as_text=True)
    frag = client.get("/courses/mini/lessons/l2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in frag and "Lesson 2 of 3" in frag
    assert 'id="course-progress"' in frag and 'data-hx-swap-oob="true"' in frag  # the progress bar comes along
    assert "Course outline" not in frag  # the outline stays where it is
    boosted = client.get("/courses/mini/lessons/l2", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in boosted.get_data(as_text=True)
    done = complete(client, "mini", "l2", headers={"HX-Request": "true"})
    body = done.get_data(as_text=True)
    # the next lesson takes the lesson area's place, the outline ticks the one just done
    assert done.status_code == 200 and "<html" not in body and "1 of 3 lessons done" in body
    assert "Lesson 3 of 3" in body and "“Lesson 2” is done." in body
    assert done.headers["HX-Trigger"] == "progress-changed" and done.headers["HX-Push-Url"].endswith("/lessons/l3")


def test_completion_is_idempotent_and_csrf_protected(app, client, companies, tmp_path):
    write_course(tmp_path, "mini", 2)
    load(app, tmp_path)
    login(client, companies[0].learner.email)
    enrol(client, "mini")
    assert client.post("/courses/mini/lessons/l1/complete", data={}).status_code == 400  # no CSRF token
    assert client.post("/courses/mini/enroll", data={}).status_code == 400
    for _ in range(3):
        complete(client, "mini", "l1")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LessonCompletion)) == 1
        assert db.session.scalar(sa.select(ActivityDay.lessons_completed)) == 1
    assert "1 of 2 lessons done" in client.get("/courses/mini").get_data(as_text=True)


def test_twenty_concurrent_completions_count_once(app, companies, tmp_path):
    from leadthe.courses import services

    write_course(tmp_path, "mini", 2)
    load(app, tmp_path)
    user_id = companies[0].learner.id
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.slug == "mini"))
        lesson = db.session.scalar(sa.select(Lesson).where(Lesson.slug == "l1"))
        from leadthe.models import User

        services.enroll(db.session.get(User, user_id), course)
        db.session.commit()
        course_id, lesson_id = course.id, lesson.id
    barrier = threading.Barrier(20)
    results, errors = [], []

    def worker():
        try:
            with app.app_context():
                from leadthe.models import User

                user = db.session.get(User, user_id)
                c, l = db.session.get(Course, course_id), db.session.get(Lesson, lesson_id)
                db.session.commit()  # end the read transaction: the write starts fresh
                barrier.wait(timeout=10)
                results.append(services.complete_lesson(user, c, l))
                db.session.commit()
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert results.count(True) == 1 and results.count(False) == 19
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LessonCompletion)) == 1
        assert db.session.scalar(sa.select(ActivityDay.lessons_completed).where(ActivityDay.user_id == user_id)) == 1
        assert db.session.scalar(sa.select(Enrollment.completed_at)) is None  # 1 of 2: not complete


def test_practice_answer_is_saved_and_revisited(app, client, companies):
    load(app)
    login(client, companies[0].learner.email)
    enrol(client, "prompting-that-works")
    with app.app_context():
        slug = db.session.scalar(sa.select(Lesson.slug).join(Course).where(Course.slug == "prompting-that-works", Lesson.kind == "practice").limit(1))
    url = f"/courses/prompting-that-works/lessons/{slug}"
    page = client.get(url).get_data(as_text=True)
    assert "Your turn" in page and 'name="answer"' in page
    empty = client.post(url + "/answer", data={"csrf_token": csrf_from(page), "answer": ""})
    assert empty.status_code == 422 and "Write your prompt" in empty.get_data(as_text=True)
    r = client.post(url + "/answer", data={"csrf_token": csrf_from(page), "answer": "You are an editor <b>x</b>"})
    assert r.status_code == 303
    again = client.get(url).get_data(as_text=True)
    assert "You are an editor &lt;b&gt;x&lt;/b&gt;" in again
    r = client.post(url + "/answer", data={"csrf_token": csrf_from(page), "answer": "Second try"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "Your answer is saved." in r.get_data(as_text=True) and "<html" not in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(sa.select(PracticeAnswer.answer)).all() == ["Second try"]


# --- statement count ---------------------------------------------------------------------------------

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def count_statements(app, client, url, came_from) -> list[str]:
    """SQL statements of one GET of ``url``, arriving from another lesson (so the resume point moves).
    Transaction control (SQLite's explicit BEGIN; PostgreSQL sends none) is not counted."""
    statements = []

    def before(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    client.get(url)  # warm: the session's last-seen touch, template caches
    client.get(came_from)
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return statements


def test_lesson_page_runs_a_fixed_number_of_statements(app, client, companies, tmp_path):
    write_course(tmp_path, "small", 3)
    write_course(tmp_path, "large", 200, modules=10)
    load(app, tmp_path)
    login(client, companies[0].learner.email)
    enrol(client, "small")
    enrol(client, "large")
    for n in (1, 2, 150):
        complete(client, "large", f"l{n}")
    small = count_statements(app, client, "/courses/small/lessons/l2", "/courses/small/lessons/l1")
    large = count_statements(app, client, "/courses/large/lessons/l100", "/courses/large/lessons/l99")
    assert len(small) == len(large) and len(small) <= 8, "\n".join(s[:100] for s in large)


def test_reloading_a_lesson_writes_nothing_but_moving_on_does(app, client, companies, tmp_path):
    write_course(tmp_path, "small", 3)
    load(app, tmp_path)
    login(client, companies[0].learner.email)
    enrol(client, "small")
    client.get("/courses/small/lessons/l1")
    writes = []

    def before(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")):
            writes.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get("/courses/small/lessons/l1").status_code == 200  # a reload, a second later
        assert writes == []
        assert client.get("/courses/small/lessons/l2").status_code == 200  # the next lesson: the resume point moves
        assert any("enrollment" in w for w in writes)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    # only opened, not completed: resuming still starts at the first lesson not yet completed
    assert client.get("/courses/small/resume").headers["Location"].endswith("/lessons/l1")


def test_page_views_close_together_still_count_the_time_between(app, companies, tmp_path):
    """A view right after another writes nothing, but the next one counts from the last recorded sign of
    life, so the time in between is not lost."""
    from leadthe.courses import services
    from leadthe.models import User

    write_course(tmp_path, "small", 3)
    load(app, tmp_path)
    start = utcnow().replace(hour=10, minute=0, second=0, microsecond=0)
    with app.test_request_context():
        user = db.session.get(User, companies[0].learner.id)
        course = db.session.scalar(sa.select(Course).where(Course.slug == "small"))
        services.enroll(user, course)
        db.session.commit()
        for offset, lesson in ((0, "l1"), (5, "l1"), (10, "l2"), (40, "l2")):
            page = services.player_page("small", lesson, user, start + timedelta(seconds=offset))
            services.record_lesson_view(page, user, start + timedelta(seconds=offset))
            db.session.rollback()  # the next view reads what the last one wrote
        assert db.session.scalar(sa.select(ActivityDay.seconds)) == 40
        enrollment = db.session.scalar(sa.select(Enrollment))
        assert enrollment.last_lesson_id == db.session.scalar(sa.select(Lesson.id).where(Lesson.slug == "l2"))


def test_drafts_in_the_player_only_for_their_authors(app, companies, tmp_path):
    """The player's statement states the draft rule with parameters: a platform draft opens for staff
    only, a company's draft for that company's admin only, a published company course for its own people only."""
    a, b = companies
    write_course(tmp_path, "plat", 2)
    write_course(tmp_path, "own", 2)
    load(app, tmp_path)
    staff = make_staff(app, email="author@leadthe.example")
    with app.app_context():
        for slug, org_id in (("plat", None), ("own", a.org.id)):
            course = db.session.scalar(sa.select(Course).where(Course.slug == slug))
            course.published, course.org_id = False, org_id
        db.session.commit()
    clients = {}
    for name, person in (("staff", staff), ("admin a", a.admin), ("learner a", a.learner), ("admin b", b.admin)):
        clients[name] = app.test_client()
        if person is staff:
            login_with_code(clients[name], app, staff)
        else:
            login(clients[name], person.email)

    def status(who, slug):
        return clients[who].get(f"/courses/{slug}/lessons/l1").status_code

    # a draft nobody is enrolled in: its author is sent to the course page to enrol, others get 404
    assert [status(w, "plat") for w in clients] == [303, 404, 404, 404]
    assert [status(w, "own") for w in clients] == [404, 303, 404, 404]
    with app.app_context():
        db.session.scalar(sa.select(Course).where(Course.slug == "own")).published = True
        db.session.commit()
    assert [status(w, "own") for w in clients] == [404, 303, 303, 404]


def test_outline_follows_content_changes(app, client, companies, tmp_path, monkeypatch):
    """The player's outline comes from a per-process table: a change made here shows at once, a change
    made by another process (here: a plain UPDATE the ORM does not see) once the table is refreshed."""
    from leadthe import process_tables
    from leadthe.courses import services

    write_course(tmp_path, "small", 3)
    load(app, tmp_path)
    login(client, companies[0].learner.email)
    enrol(client, "small")
    complete(client, "small", "l2")
    html = client.get("/courses/small/lessons/l1").get_data(as_text=True)
    assert "Lesson 3" in html and 'id="outline-' in html and "1 of 3 lessons done" in html
    with app.app_context():  # an edit in this process (the ORM): the next page shows it
        db.session.scalar(sa.select(Lesson).where(Lesson.slug == "l3")).title = "Lesson three, renamed"
        db.session.commit()
    assert "Lesson three, renamed" in client.get("/courses/small/lessons/l1").get_data(as_text=True)
    clock = [10_000.0]
    monkeypatch.setattr(process_tables.time, "monotonic", lambda: clock[0])
    client.get("/courses/small/lessons/l1")
    with app.app_context():  # another process archives a lesson
        with db.engine.begin() as conn:
            conn.execute(sa.update(Lesson).where(Lesson.slug == "l3").values(archived=True))
    assert "Lesson three, renamed" in client.get("/courses/small/lessons/l1").get_data(as_text=True)
    clock[0] += services.OUTLINE_SECONDS + 1
    html = client.get("/courses/small/lessons/l1").get_data(as_text=True)
    assert "Lesson three, renamed" not in html and "1 of 2 lessons done" in html
    assert client.get("/courses/small/lessons/l3").status_code == 404  # the lesson itself is checked on every view


# --- time spent ------------------------------------------------------------------------------------

def test_heartbeats_add_believable_time(app, companies):
    from leadthe.courses import services
    from leadthe.models import User

    start = utcnow().replace(hour=10, minute=0, second=0, microsecond=0)
    with app.app_context():
        user = db.session.get(User, companies[0].learner.id)
        for offset in (0, 30, 60, 90):  # a visible page: 90 s
            services.heartbeat(user, start + timedelta(seconds=offset))
            db.session.commit()
        services.heartbeat(user, start + timedelta(seconds=90 + 200))  # a pause within the visit: capped at 60 s
        db.session.commit()
        services.heartbeat(user, start + timedelta(seconds=290 + 600))  # after 10 minutes away: a new visit, nothing added
        db.session.commit()
        assert db.session.scalar(sa.select(ActivityDay.seconds)) == 150


def test_heartbeat_endpoint_needs_csrf(app, client, companies):
    login(client, companies[0].learner.email)
    assert client.post("/activity/heartbeat").status_code == 400
    token = csrf_from(client.get("/dashboard").get_data(as_text=True))
    assert client.post("/activity/heartbeat", headers={"X-CSRFToken": token}).status_code == 204


def test_streak_and_week(app, companies):
    from leadthe.courses.services import activity
    from leadthe.models import User

    today = utcnow().date()
    with app.app_context():
        uid = companies[0].learner.id
        for back, seconds in ((0, 300), (1, 900), (2, 0), (3, 1200)):
            db.session.add(ActivityDay(user_id=uid, day=today - timedelta(days=back), seconds=seconds, lessons_completed=0))
        db.session.commit()
        week, streak = activity(db.session.get(User, uid), today)
    assert streak == 2 and len(week) == 7 and week[-1].minutes == 5 and week[-4].minutes == 20


# --- search ----------------------------------------------------------------------------------------

def test_search_ranks_and_highlights(app, client, companies):
    load(app)
    login(client, companies[0].learner.email)
    html = client.get("/search?q=hallucinations").get_data(as_text=True)
    assert "<mark>" in html and "results for" in html
    first = html.split('class="results"')[1]
    assert "allucination" in first.split("</li>")[0]  # the best hit is about hallucinations
    frag = client.get("/search?q=tokens", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in frag and "<mark>" in frag


def test_search_is_tolerant_and_escapes(app, client, companies, tmp_path, backend):
    root = tmp_path / "c"
    course = write_course(root, "xss", 1)
    lesson = course / "01-mod1" / "001-l1.md"
    lesson.write_text("---\nslug: l1\ntitle: Zebra lesson\n---\nThe zebra said `<script>alert(1)</script>` loudly.\n")
    load(app, root)
    login(client, companies[0].learner.email)
    for q in ('"', "'); DROP TABLE lesson; --", "zebra AND OR NOT *", "NEAR(", "zeb*", "  ", "((("):
        r = client.get("/search", query_string={"q": q})
        assert r.status_code == 200, q
    html = client.get("/search", query_string={"q": 'zebra"'}).get_data(as_text=True)
    assert "<mark>zebra</mark>" in html.lower() and "<script>alert" not in html
    if backend == "sqlite":  # PostgreSQL's ts_headline drops tag-like text; SQLite's snippet keeps it, escaped
        assert "&lt;script&gt;alert" in html
    assert "Type a few words" in client.get("/search?q=").get_data(as_text=True)
    assert "Nothing found" in client.get("/search?q=qwxyzzy").get_data(as_text=True)


def test_search_queries_are_not_stored_without_consent(app, client, companies, monkeypatch):
    load(app)
    login(client, companies[0].learner.email)
    client.get("/search?q=prompt")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchQuery)) == 0
    # with analytics consent it is stored...
    post_form(client, "/consent", {"action": "accept_all"}, page="/search?q=")
    client.get("/search?q=prompt")
    with app.app_context():
        assert db.session.scalars(sa.select(SearchQuery.query)).all() == ["prompt"]
    # ...until the person objects to analytics (or restricts processing): then nothing new is kept
    post_form(client, "/privacy/processing", {"object_analytics": "y"})
    client.get("/search?q=again")
    post_form(client, "/privacy/processing", {"restrict_processing": "y"})
    client.get("/search?q=once+more")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchQuery)) == 1


# --- tenancy and authoring -----------------------------------------------------------------------------

def test_a_blank_address_name_keeps_the_course_address(app, companies):
    """Whitespace in the optional slug field (here 20,000 line breaks) counts as empty: the course keeps its
    address, and nothing unchecked reaches the database (it used to be saved as the slug, or fail on PostgreSQL)."""
    a, _ = companies
    client = app.test_client()
    login(client, a.admin.email)
    course_url = admin_creates_private_course(client)
    fields = {"title": "Acme onboarding", "topic": "onboarding", "level": "beginner", "audience": "staff", "summary": "s",
              "body": "b"}
    r = post_form(client, course_url, {**fields, "slug": "\r\n" * 10_000}, page=course_url)
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    with app.app_context():
        assert db.session.scalar(sa.select(Course.slug).where(Course.title == "Acme onboarding")) == "acme-onboarding"


def test_private_course_is_visible_only_in_its_company(app, companies):
    load(app)
    a, b = companies
    ca, cb = app.test_client(), app.test_client()
    login(ca, a.admin.email)
    admin_creates_private_course(ca)
    # people of company A see it in the catalogue, the course page and search
    la = app.test_client()
    login(la, a.learner.email)
    assert "Acme onboarding" in la.get("/courses").get_data(as_text=True)
    assert la.get("/courses/acme-onboarding").status_code == 200
    assert "Our tools" in la.get("/search?q=zebrafish").get_data(as_text=True)
    # company B: not in the catalogue, 404 everywhere, not in search
    login(cb, b.learner.email)
    assert "Acme onboarding" not in cb.get("/courses").get_data(as_text=True)
    assert "AI foundations for everyone" in cb.get("/courses").get_data(as_text=True)  # platform courses for everyone
    assert cb.get("/courses/acme-onboarding").status_code == 404
    assert cb.get("/courses/acme-onboarding/lessons/our-tools").status_code == 404
    token = csrf_from(cb.get("/courses").get_data(as_text=True))
    assert cb.post("/courses/acme-onboarding/enroll", data={"csrf_token": token}).status_code == 404
    assert "Nothing found" in cb.get("/search?q=zebrafish").get_data(as_text=True)
    # B's admin cannot edit it either
    admin_b = app.test_client()
    login(admin_b, b.admin.email)
    with app.app_context():
        course_id = db.session.scalar(sa.select(Course.id).where(Course.slug == "acme-onboarding"))
        platform_id = db.session.scalar(sa.select(Course.id).where(Course.slug == "ai-foundations"))
    assert admin_b.get(f"/admin/courses/{course_id}").status_code == 404
    assert ca.get(f"/admin/courses/{platform_id}").status_code == 404  # admins do not edit platform courses


def test_staff_authoring_is_404_for_others_and_works_for_staff(app, client, companies):
    load(app)
    login(client, companies[0].admin.email)
    assert client.get("/staff/courses").status_code == 404
    staff = make_staff(app, email="staff@leadthe.example")
    sc = app.test_client()
    login_with_code(sc, app, staff)
    html = sc.get("/staff/courses").get_data(as_text=True)
    assert "AI foundations for everyone" in html
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.slug == "ai-foundations"))
        modules = course.modules
        first, second = modules[0].id, modules[1].id
        course_id = course.id
    # markdown preview: an htmx fragment, sanitised
    page = sc.get(f"/staff/courses/{course_id}").get_data(as_text=True)
    r = sc.post("/staff/courses/preview", data={"csrf_token": csrf_from(page), "body": "**hi** <script>x</script>"}, headers={"HX-Request": "true"})
    assert "<strong>hi</strong>" in r.get_data(as_text=True) and "<script>" not in r.get_data(as_text=True)
    # reorder: move the first module down
    r = sc.post(f"/staff/courses/{course_id}/modules/{first}/move", data={"csrf_token": csrf_from(page), "direction": "down"})
    assert r.status_code == 303
    with app.app_context():
        order = [m.id for m in db.session.get(Course, course_id).modules]
        assert order[:2] == [second, first]
        first_lesson = db.session.scalar(sa.select(Lesson).where(Lesson.course_id == course_id).order_by(Lesson.seq))
        assert first_lesson.module_id == second  # the player's order follows
    # unpublish hides it from learners, publish shows it again
    r = sc.post(f"/staff/courses/{course_id}/publish", data={"csrf_token": csrf_from(page), "publish": "0"})
    assert r.status_code == 303
    learner = app.test_client()
    login(learner, companies[0].learner.email)
    assert learner.get("/courses/ai-foundations").status_code == 404
    assert sc.get("/courses/ai-foundations").status_code == 200  # authors still preview the draft
    sc.post(f"/staff/courses/{course_id}/publish", data={"csrf_token": csrf_from(page), "publish": "1"})
    assert learner.get("/courses/ai-foundations").status_code == 200


def test_seed_demo_gives_learners_progress(app):
    load(app)
    from leadthe.demo import seed_demo

    with app.app_context():
        seed_demo()
        seed_demo()  # idempotent
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) >= 5
        done = db.session.scalar(sa.select(sa.func.count()).select_from(LessonCompletion))
        assert done > 10
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(Enrollment.completed_at.is_not(None))) >= 1


# --- addresses (slugs) per owner -------------------------------------------------------------------------

COURSE_FIELDS = {"topic": "onboarding", "level": "beginner", "audience": "staff", "summary": "s", "body": "b"}


def create_course(client, area, title, slug=""):
    return post_form(client, f"/{area}/courses/new", {"title": title, "slug": slug, **COURSE_FIELDS})


def slug_error(response) -> str:
    import re

    match = re.search(r'<p class="error" id="slug-error">([^<]*)</p>', response.get_data(as_text=True))
    return match.group(1) if match else ""


def test_a_course_address_is_unique_per_owner_and_gives_nothing_away(app, companies):
    """Another company's course address is theirs: taking it works and shows no sign of it (the address
    used to be global: "Another course already uses this address name." told B that A had acme-draft). An
    owner's own addresses, and for companies the platform's, are refused beside the field."""
    load(app)
    a, b = companies
    admin_a, admin_b = app.test_client(), app.test_client()
    login(admin_a, a.admin.email)
    login(admin_b, b.admin.email)
    assert create_course(admin_a, "admin", "Acme draft", "acme-draft").status_code == 303
    assert create_course(admin_a, "admin", "Acme onboarding").status_code == 303
    # B takes the same address, explicitly and from the same title: no refusal, no "-2"
    assert create_course(admin_b, "admin", "Our draft", "acme-draft").status_code == 303
    assert create_course(admin_b, "admin", "Acme onboarding").status_code == 303
    with app.app_context():
        slugs = sorted(db.session.execute(sa.select(Course.org_id, Course.slug).where(Course.org_id.is_not(None))).all())
    assert slugs == sorted([(a.org.id, "acme-draft"), (a.org.id, "acme-onboarding"),
                            (b.org.id, "acme-draft"), (b.org.id, "acme-onboarding")])
    # the owner's own address, and a platform course's, are refused beside the field; the form is kept
    again = create_course(admin_a, "admin", "Again", "acme-draft")
    assert again.status_code == 422 and "already uses this address" in slug_error(again)
    platform = create_course(admin_b, "admin", "Foundations, our way", "ai-foundations")
    assert platform.status_code == 422 and "already uses this address" in slug_error(platform)
    with app.app_context():
        own_id = db.session.scalar(sa.select(Course.id).where(Course.org_id == b.org.id, Course.slug == "acme-onboarding"))
    renamed = post_form(admin_b, f"/admin/courses/{own_id}", {"title": "Acme onboarding", "slug": "acme-draft", **COURSE_FIELDS},
                        page=f"/admin/courses/{own_id}")
    assert renamed.status_code == 422 and "already uses this address" in slug_error(renamed)
    # staff: the platform's addresses only; the companies' are not theirs to see
    staff = make_staff(app, email="staff@leadthe.example")
    sc = app.test_client()
    login_with_code(sc, app, staff)
    assert create_course(sc, "staff", "Platform draft", "acme-draft").status_code == 303
    clash = create_course(sc, "staff", "Foundations again", "ai-foundations")
    assert clash.status_code == 422 and "already uses this address" in slug_error(clash)


def test_a_company_course_comes_first_at_a_shared_address(app, companies, tmp_path):
    """When a company's course and a platform course share an address, the company's people get their own
    course there (and in the catalogue), everyone else the platform's."""
    a, b = companies
    root = tmp_path / "content"
    write_course(root, "shared", 2, title="Platform shared")
    load(app, root)
    with app.app_context():
        db.session.add(Course(org_id=a.org.id, slug="shared", title="Company A shared", published=True))
        db.session.commit()
    learner_a, learner_b = app.test_client(), app.test_client()
    login(learner_a, a.learner.email)
    login(learner_b, b.learner.email)
    page_a, page_b = learner_a.get("/courses/shared"), learner_b.get("/courses/shared")
    assert page_a.status_code == page_b.status_code == 200
    assert "Company A shared" in page_a.get_data(as_text=True) and "Platform shared" not in page_a.get_data(as_text=True)
    assert "Platform shared" in page_b.get_data(as_text=True)
    catalogue_a = learner_a.get("/courses").get_data(as_text=True)
    assert "Company A shared" in catalogue_a and "Platform shared" not in catalogue_a
    assert "Platform shared" in learner_b.get("/courses").get_data(as_text=True)
    # the platform course's lessons are not reached through the company's address
    assert enrol(learner_b, "shared").status_code == 303
    assert learner_b.get("/courses/shared/lessons/l1").status_code == 200
    assert learner_a.get("/courses/shared/lessons/l1").status_code == 404
    # a company draft at that address leaves its learners the platform course; its admin previews the draft
    with app.app_context():
        db.session.scalar(sa.select(Course).where(Course.org_id == a.org.id)).published = False
        db.session.commit()
    assert "Platform shared" in learner_a.get("/courses/shared").get_data(as_text=True)
    assert "Platform shared" in learner_a.get("/courses").get_data(as_text=True)
    admin_a = app.test_client()
    login(admin_a, a.admin.email)
    assert "Company A shared" in admin_a.get("/courses/shared").get_data(as_text=True)


def test_one_course_rule_for_catalogue_player_and_search_for_each_kind_of_viewer(app, companies, tmp_path):
    """The catalogue, the player and the full-text search apply one rule: published platform courses for
    everyone, a company's own for its people, drafts only in the player and only for their authors, and where a
    company's course has a platform course's address, that company's people find only their own (the address
    opens theirs; search used to list the platform's as well, a hit that opened another course)."""
    a, b = companies
    root = tmp_path / "content"
    for slug, word in (("plat", "Platypus"), ("platdraft", "Pelican"), ("own", "Ocelot"), ("owndraft", "Oriole"),
                       ("shared", "Shark")):
        write_course(root, slug, 1, title=f"{word} course", org_text=word)
    load(app, root)
    with app.app_context():
        for slug, org_id, published in (("platdraft", None, False), ("own", a.org.id, True), ("owndraft", a.org.id, False)):
            course = db.session.scalar(sa.select(Course).where(Course.slug == slug))
            course.org_id, course.published = org_id, published
        db.session.add(Course(org_id=a.org.id, slug="shared", title="Walrus course", published=True))
        db.session.commit()
    staff = make_staff(app, email="viewer@leadthe.example")
    viewers = {"staff": staff, "admin a": a.admin, "manager a": a.manager, "learner a": a.learner,
               "admin b": b.admin, "learner b": b.learner}
    clients = {}
    for name, person in viewers.items():
        clients[name] = app.test_client()
        if person is staff:
            login_with_code(clients[name], app, staff)
        else:
            login(clients[name], person.email)

    def seen(who):
        client = clients[who]
        catalogue = client.get("/courses").get_data(as_text=True)
        return {
            "catalogue": {w for w in ("Platypus", "Pelican", "Ocelot", "Oriole", "Shark", "Walrus") if f"{w} course" in catalogue},
            "course pages": {slug for slug in ("plat", "platdraft", "own", "owndraft") if client.get(f"/courses/{slug}").status_code == 200},
            "player": {slug for slug in ("plat", "platdraft", "own", "owndraft", "shared")
                       if client.get(f"/courses/{slug}/lessons/l1").status_code != 404},
            "shared address": "Walrus" if "Walrus course" in client.get("/courses/shared").get_data(as_text=True) else "Shark",
            "search": {w for w in ("platypus", "pelican", "ocelot", "oriole", "shark")
                       if "Nothing found" not in client.get(f"/search?q={w}").get_data(as_text=True)},
        }

    platform_view = {"catalogue": {"Platypus", "Shark"}, "course pages": {"plat"}, "player": {"plat", "shared"},
                     "shared address": "Shark", "search": {"platypus", "shark"}}
    company_a_view = {"catalogue": {"Platypus", "Ocelot", "Walrus"}, "course pages": {"plat", "own"}, "player": {"plat", "own"},
                      "shared address": "Walrus", "search": {"platypus", "ocelot"}}
    assert seen("staff") == platform_view | {"course pages": {"plat", "platdraft"}, "player": {"plat", "platdraft", "shared"}}
    assert seen("admin a") == company_a_view | {"course pages": {"plat", "own", "owndraft"}, "player": {"plat", "own", "owndraft"}}
    assert seen("manager a") == seen("learner a") == company_a_view
    assert seen("admin b") == seen("learner b") == platform_view


def test_an_address_clash_in_the_content_folder_skips_that_course_with_a_warning(app, companies, tmp_path):
    """A company's course with the address of a content course no longer aborts ``load-content`` (and so
    ``make run``); two folders with one address skip the second, a quiz address used twice skips that quiz,
    each with a warning, and the rest is loaded."""

    a, _ = companies
    with app.app_context():
        db.session.add(Course(org_id=a.org.id, slug="acme-draft", title="Acme's private draft"))
        db.session.commit()
    root = tmp_path / "content"
    write_course(root, "acme-draft", 1, title="Platform course")
    twin = write_course(root, "zz-twin", 1, title="Twin course")
    (twin / "course.md").write_text((twin / "course.md").read_text().replace("slug: zz-twin", "slug: acme-draft"))
    write_quiz_course(root, "quiz-one")
    (write_quiz_course(root, "quiz-two") / "quiz.yaml").write_text("slug: quiz-one\n" + (root / "quiz-one" / "quiz.yaml").read_text())
    result = app.test_cli_runner().invoke(args=["leadthe", "load-content", str(root)])
    assert result.exit_code == 0, result.output
    assert "created 3 courses" in result.output
    assert f"warning: {twin}: skipped, the slug 'acme-draft' is already used by {root / 'acme-draft'}" in result.output
    assert "quiz-two/quiz.yaml: skipped, the quiz slug 'quiz-one' is already used by another course" in result.output
    from leadthe.models import Quiz

    with app.app_context():
        titles = dict(db.session.execute(sa.select(Course.title, Course.org_id).where(Course.slug == "acme-draft")).all())
        assert titles == {"Platform course": None, "Acme's private draft": a.org.id}
        assert db.session.scalars(sa.select(Quiz.slug)).all() == ["quiz-one"]
