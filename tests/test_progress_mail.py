"""Progress e-mails: enrolled, halfway, completed (each once), inactivity reminder, managers' digest,
preferences and one-click unsubscribe."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from leadthe.extensions import db
from tests.conftest import PASSWORD, outbox, post_form
from tests.helpers import complete, enrol, load, signed_in, write_course


def progress_mails(app, kind=None):
    mails = [m for m in outbox(app) if m.kind.startswith("progress_")]
    return [m for m in mails if kind is None or m.kind == f"progress_{kind}"]


def test_enrolled_halfway_completed_each_once(app, companies, tmp_path):
    a, _ = companies
    write_course(tmp_path, "mail-course", 4, title="Mail Course")
    load(app, tmp_path)
    client = signed_in(app, a.learner.email)
    enrol(client, "mail-course")
    enrol(client, "mail-course")
    assert len(progress_mails(app, "enrolled")) == 1
    complete(client, "mail-course", "l1")
    assert progress_mails(app, "halfway") == []
    complete(client, "mail-course", "l2")
    complete(client, "mail-course", "l2")  # a double submit
    complete(client, "mail-course", "l3")
    assert len(progress_mails(app, "halfway")) == 1
    complete(client, "mail-course", "l4")
    mails = progress_mails(app, "completed")
    assert len(mails) == 1 and "Mail Course" in mails[0].subject
    headers = mails[0].headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<http://localhost/email/unsubscribe/")
    assert "/email/unsubscribe/" in mails[0].body_text


def test_progress_mails_respect_the_preference(app, companies, tmp_path):
    from leadthe.models import UserPreference

    a, _ = companies
    with app.app_context():
        db.session.add(UserPreference(user_id=a.learner.id, email_progress=False))
        db.session.commit()
    write_course(tmp_path, "quiet-course", 2)
    load(app, tmp_path)
    client = signed_in(app, a.learner.email)
    enrol(client, "quiet-course")
    complete(client, "quiet-course", "l1")
    complete(client, "quiet-course", "l2")
    assert progress_mails(app) == []


def test_one_click_unsubscribe(app, companies, tmp_path):
    from leadthe.models import UserPreference

    a, _ = companies
    write_course(tmp_path, "u-course", 2)
    load(app, tmp_path)
    enrol(signed_in(app, a.learner.email), "u-course")
    link = progress_mails(app, "enrolled")[0].headers["List-Unsubscribe"].strip("<>")
    path = re.sub(r"^http://localhost", "", link)
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True)
    with app.app_context():  # GET changes nothing
        assert db.session.get(UserPreference, a.learner.id) is None
    assert visitor.post(path, data={}).status_code == 400  # a form post needs its CSRF token
    assert visitor.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # RFC 8058, from a mail program
    with app.app_context():
        assert db.session.get(UserPreference, a.learner.id).email_progress is False
    assert visitor.get(path[:-3] + "xyz").status_code == 404
    # the confirm button works too
    r = post_form(visitor, path, {})
    assert r.status_code == 200 and "You are unsubscribed" in r.get_data(as_text=True)


def test_inactivity_reminder_once_per_quiet_spell(app, companies, tmp_path):
    from leadthe.models import ActivityDay, Course, Enrollment, utcnow
    from leadthe.progress.services import send_inactivity_reminders

    a, _ = companies
    write_course(tmp_path, "idle-course", 3)
    load(app, tmp_path)
    today = utcnow().date()
    with app.app_context():
        course_id = db.session.scalar(sa.select(Course.id).where(Course.slug == "idle-course"))
        db.session.add(Enrollment(user_id=a.learner.id, course_id=course_id))
        db.session.add(ActivityDay(user_id=a.learner.id, day=today - timedelta(days=15), seconds=600))
        db.session.add(Enrollment(user_id=a.manager.id, course_id=course_id))
        db.session.add(ActivityDay(user_id=a.manager.id, day=today - timedelta(days=3), seconds=600))
        db.session.commit()
        assert send_inactivity_reminders(today) == 1
        assert send_inactivity_reminders(today) == 0
        assert send_inactivity_reminders(today + timedelta(days=1)) == 0
    mails = progress_mails(app, "inactive")
    assert [m.to_addr for m in mails] == [a.learner.email] and "15 days" in mails[0].body_text


def test_weekly_digest_for_managers_once_per_week(app, companies):
    from leadthe.models import ActivityDay, TeamMembership, UserPreference, utcnow
    from leadthe.progress.services import send_manager_digests

    a, b = companies
    today = utcnow().date()
    with app.app_context():
        # (the fixture's make_team compares users with ==, which Flask-Login makes true for any two: fix the flags)
        db.session.execute(sa.update(TeamMembership).where(TeamMembership.user_id.in_([a.learner.id, b.learner.id]))
                           .values(is_manager=False))
        db.session.add(ActivityDay(user_id=a.learner.id, day=today, seconds=1800, lessons_completed=3))
        db.session.add(UserPreference(user_id=b.manager.id, email_digest=False))
        db.session.commit()
        assert send_manager_digests(today) == 1
        assert send_manager_digests(today) == 0
    mails = [m for m in outbox(app) if m.kind == "progress_digest"]
    assert [m.to_addr for m in mails] == [a.manager.email]
    assert "Team A: 1 of 2 people learned, 3 lessons, 30 minutes" in mails[0].body_text
    assert mails[0].headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_daily_job_plans_itself(app, companies):
    from leadthe.models import Job
    from leadthe.worker import run_due_jobs, schedule_due_jobs

    with app.app_context():
        schedule_due_jobs(kinds=["progress.daily"])
        schedule_due_jobs(kinds=["progress.daily"])
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(Job.kind == "progress.daily")) == 1
        assert run_due_jobs()["done"] == 1
        pending = db.session.scalars(sa.select(Job).where(Job.kind == "progress.daily", Job.status == "pending")).all()
        assert len(pending) == 1 and pending[0].run_at > utcnow_plus()


def utcnow_plus():
    from leadthe.models import utcnow

    return utcnow() + timedelta(hours=1)


def test_no_digest_for_a_former_manager(app, companies):
    from leadthe.models import TeamMembership, User, utcnow
    from leadthe.progress.services import send_manager_digests

    a, b = companies
    admin = signed_in(app, a.admin.email)
    assert post_form(admin, f"/admin/users/{a.manager.id}/role", {"role": "learner", "password": PASSWORD},
                     page=f"/admin/users/{a.manager.id}").status_code == 303
    with app.app_context():
        db.session.execute(sa.update(TeamMembership).where(TeamMembership.user_id.in_([a.learner.id, b.learner.id]))
                           .values(is_manager=False))
        db.session.get(User, b.manager.id).role = "learner"  # a flag left over from before role changes cleared it
        db.session.commit()
        assert send_manager_digests(utcnow().date()) == 0
    assert progress_mails(app, "digest") == []


def test_the_daily_mails_record_many_people_in_a_fixed_number_of_statements(app, companies, tmp_path):
    """Reminders and missed completed-mails for 40 people: one claim statement per kind, not one per person;
    a second run finds every claim taken and queues nothing."""
    from leadthe.models import ActivityDay, Course, Enrollment, User, utcnow
    from leadthe.progress.services import send_inactivity_reminders, send_missed_completions
    from tests.helpers import statements_run

    a, _ = companies
    write_course(tmp_path, "busy-course", 2)
    load(app, tmp_path)
    today = utcnow().date()
    with app.app_context():
        course_id = db.session.scalar(sa.select(Course.id).where(Course.slug == "busy-course"))
        people = [User(org_id=a.org.id, email=f"p{n}@a.example", name=f"Person {n}", role="learner", password_hash="!")
                  for n in range(40)]
        db.session.add_all(people)
        db.session.flush()
        for n, person in enumerate(people):
            done = utcnow() if n % 2 else None  # half completed the course (their mail was missed), half are idle
            db.session.add(Enrollment(user_id=person.id, course_id=course_id, completed_at=done))
            db.session.add(ActivityDay(user_id=person.id, day=today - timedelta(days=15), seconds=600))
        db.session.commit()
    for run in range(2):
        with statements_run(app) as seen, app.app_context():
            reminded, completed = send_inactivity_reminders(today), send_missed_completions()
        claims = [sql for sql in seen if sql.startswith("INSERT INTO progress_mail")]
        assert (reminded, completed) == ((20, 20) if run == 0 else (0, 0))
        assert len(claims) <= 3, len(claims)  # inactive; completed and halfway
    mails = progress_mails(app)
    assert sorted(m.kind for m in mails) == ["progress_completed"] * 20 + ["progress_inactive"] * 20
    assert len({m.to_addr for m in mails}) == 40
