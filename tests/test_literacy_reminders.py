"""Reminders of required training: 7 days before the due date and once overdue (each once per due date),
the managers' weekly digest of overdue people in their teams, the person's switch, and a job whose number
of SQL statements does not grow with the company."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from leadthe.extensions import db
from tests.conftest import make_user, outbox

NOW = datetime(2026, 12, 7, 6, 15, tzinfo=timezone.utc)  # a Monday
TODAY = NOW.date()


def literacy_mails(app, kind=None):
    mails = [m for m in outbox(app) if m.kind.startswith("literacy_")]
    return [m for m in mails if kind is None or m.kind == f"literacy_{kind}"]


def course(app, slug="ai-basics", title="AI basics"):
    from tests.helpers import make_course

    with app.app_context():
        row = make_course(None, slug, title)[0]
        db.session.commit()
        return row.id


def rule(app, org, course_id, field="department", value="Sales", operator="equals", team_id=None):
    from leadthe.models import RequirementRule

    with app.app_context():
        row = RequirementRule(org_id=org.id, course_id=course_id, field=field, operator=operator, value=value, team_id=team_id)
        db.session.add(row)
        db.session.commit()
        return row.id


def require(app, user, course_id, due_in_days, rule_id=None, **fields):
    from leadthe.models import Requirement

    with app.app_context():
        row = Requirement(org_id=user.org_id, user_id=user.id, course_id=course_id, rule_id=rule_id,
                          due_on=TODAY + timedelta(days=due_in_days), **fields)
        db.session.add(row)
        db.session.commit()
        return row.id


def run(app, now=NOW):
    from leadthe.literacy.reminders import send_overdue_digests, send_requirement_reminders

    with app.app_context():
        return send_requirement_reminders(now), send_overdue_digests(now)


def test_due_in_seven_days_is_reminded_once_and_says_why(app, companies):
    a, _ = companies
    cid = course(app)
    require(app, a.learner, cid, 7, rule_id=rule(app, a.org, cid))
    assert run(app)[0] == {"due": 1, "overdue": 0}
    assert run(app)[0] == {"due": 0, "overdue": 0}
    assert run(app, NOW + timedelta(days=1))[0] == {"due": 0, "overdue": 0}  # and not the next day either
    [mail] = literacy_mails(app)
    assert mail.to_addr == a.learner.email and mail.kind == "literacy_due"
    assert mail.subject == "AI basics is due on 14 December 2026"
    body = mail.body_text
    assert "required for everyone in the department “Sales”" in body
    assert "training your employer requires" in body and "not marketing" in body
    assert "http://localhost/courses/ai-basics" in body and "http://localhost/dashboard" in body
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.headers["List-Unsubscribe"].startswith("<http://localhost/email/unsubscribe/")
    assert all(url.startswith("http://localhost/") for url in re.findall(r"https?://\S+", body))


def test_a_missed_run_still_reminds_within_the_week(app, companies):
    a, _ = companies
    cid = course(app)
    require(app, a.learner, cid, 3)
    require(app, a.manager, cid, 8)  # not yet: more than 7 days ahead
    assert run(app)[0] == {"due": 1, "overdue": 0}
    assert [m.to_addr for m in literacy_mails(app)] == [a.learner.email]


def test_overdue_is_reminded_once(app, companies):
    a, _ = companies
    cid = course(app)
    require(app, a.learner, cid, -2, reminded_due_at=NOW - timedelta(days=9))
    assert run(app)[0] == {"due": 0, "overdue": 1}
    assert run(app, NOW + timedelta(days=3))[0] == {"due": 0, "overdue": 0}
    [mail] = literacy_mails(app, "overdue")
    assert mail.kind == "literacy_overdue" and mail.subject == "Overdue: AI basics (due on 05 December 2026)"
    assert "part of your company's AI-literacy programme" in mail.body_text  # the rule was deleted since


def test_current_ended_deactivated_and_closed_companies_get_nothing(app, companies):
    from leadthe.models import Organization, User

    a, b = companies
    cid = course(app)
    other = make_user(app, a.org, email="gone@a.example")
    require(app, a.learner, cid, 5, completed_at=NOW - timedelta(days=30), valid_until=NOW + timedelta(days=5))
    require(app, a.manager, cid, -5, ended_at=NOW - timedelta(days=1))
    require(app, other, cid, 5)
    require(app, b.learner, cid, -5)
    with app.app_context():
        db.session.get(User, other.id).status = "deactivated"
        db.session.get(Organization, b.org.id).status = "closed"
        db.session.commit()
    assert run(app) == ({"due": 0, "overdue": 0}, 0)
    assert literacy_mails(app) == []


def test_an_expired_completion_is_due_again(app, companies):
    a, _ = companies
    cid = course(app)
    require(app, a.learner, cid, -1, completed_at=NOW - timedelta(days=400), valid_until=NOW - timedelta(days=1))
    assert run(app)[0] == {"due": 0, "overdue": 1}


def test_german_recipient_gets_german_mail(app, companies):
    from leadthe.models import User

    a, _ = companies
    cid = course(app)
    require(app, a.learner, cid, 7, rule_id=rule(app, a.org, cid, field="everyone", value=""))
    with app.app_context():
        db.session.get(User, a.learner.id).locale = "de"
        db.session.commit()
    run(app)
    [mail] = literacy_mails(app)
    assert mail.subject == "AI basics ist fällig am 14. Dezember 2026"
    assert mail.body_text.startswith("Hallo Learner,")
    assert "für alle in Ihrem Unternehmen" in mail.body_text and "keine Werbung" in mail.body_text


def test_the_person_may_switch_reminders_off_with_one_click(app, companies):
    from leadthe.models import UserPreference

    a, _ = companies
    cid = course(app)
    require(app, a.learner, cid, 7)
    run(app)
    link = literacy_mails(app)[0].headers["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("http://localhost")
    page = app.test_client().get(path).get_data(as_text=True)
    assert "reminders of training your company requires" in page
    assert app.test_client().post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with app.app_context():
        pref = db.session.get(UserPreference, a.learner.id)
        assert pref.email_required is False and pref.email_progress is True
    require(app, a.manager, cid, -1)
    course2 = course(app, "second", "Second")
    require(app, a.learner, course2, -1)
    assert run(app)[0] == {"due": 0, "overdue": 1}  # the manager's; none for the learner any more


def test_preferences_page_switches_reminders_and_a_contract_client_leaves_them_alone(app, companies):
    from leadthe.models import UserPreference
    from tests.conftest import post_form
    from tests.helpers import signed_in

    a, _ = companies
    client = signed_in(app, a.learner.email)
    page = client.get("/account/preferences").get_data(as_text=True)
    assert 'name="email_required"' in page and "stays on your dashboard" in page
    post_form(client, "/account/preferences", {"language": "en", "theme": "system", "density": "comfortable",
                                               "email_progress": "y", "email_required_switch": "1"})
    with app.app_context():
        assert db.session.get(UserPreference, a.learner.id).email_required is False
    post_form(client, "/account/preferences", {"language": "en", "theme": "system", "density": "comfortable",
                                               "email_progress": "y"})  # the contract's fields only
    with app.app_context():
        assert db.session.get(UserPreference, a.learner.id).email_required is False


def test_no_customer_free_text_unfiltered_in_subjects(app, companies):
    a, _ = companies
    cid = course(app, "evil", "Evil\r\nBcc: victim@example.com " + "x" * 200)
    require(app, a.learner, cid, 7)
    run(app)
    [mail] = literacy_mails(app)
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert mail.subject.startswith("Evil Bcc: victim@example.com xxx") and "…" in mail.subject
    assert len(mail.subject) < 100


def _only_managers_manage(app, a, b, **changes):
    """The fixture's learners are flagged as managers (make_team compares users with ==, which Flask-Login makes
    true for any two): clear that, then apply ``changes`` (a callable per name, given the session)."""
    from leadthe.models import TeamMembership

    with app.app_context():
        db.session.execute(sa.update(TeamMembership).where(TeamMembership.user_id.in_([a.learner.id, b.learner.id]))
                           .values(is_manager=False))
        for change in changes.values():
            change(db.session)
        db.session.commit()


def test_manager_digest_lists_only_their_teams_overdue_people_once_a_week(app, companies):
    from leadthe.models import TeamMembership

    a, b = companies
    cid = course(app)
    done = make_user(app, a.org, email="done@a.example", name="Dora Done")
    _only_managers_manage(app, a, b, member=lambda s: s.add(
        TeamMembership(org_id=a.org.id, team_id=a.team.id, user_id=done.id, is_manager=False)))
    require(app, a.learner, cid, -3)  # Team A, managed by a.manager
    require(app, done, cid, -3, completed_at=NOW - timedelta(days=1))  # Team A, but current
    require(app, b.learner, cid, 30)  # Team B: nothing overdue, so no digest for b.manager
    outsider = make_user(app, a.org, email="outsider@a.example", name="Olga Outsider")
    require(app, outsider, cid, -3)  # in no team a.manager manages
    assert run(app)[1] == 1
    assert run(app, NOW + timedelta(days=2))[1] == 0  # once per week
    [mail] = literacy_mails(app, "digest")
    assert mail.to_addr == a.manager.email
    assert "Team A: 1 person with overdue training" in mail.body_text
    assert "Learner A: AI basics" in mail.body_text and "Olga" not in mail.body_text and "Dora" not in mail.body_text
    assert "http://localhost/admin/teams/" in mail.body_text
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert run(app, NOW + timedelta(days=7))[1] == 1  # the next week again


def test_digest_respects_preference_and_team_figures_only(app, companies):
    from leadthe.models import Organization, UserPreference

    a, b = companies
    cid = course(app)
    _only_managers_manage(app, a, b, opt_out=lambda s: s.add(UserPreference(user_id=a.manager.id, email_digest=False)),
                          figures=lambda s: setattr(s.get(Organization, b.org.id), "literacy_team_figures_only", True))
    require(app, a.learner, cid, -3)
    require(app, b.learner, cid, -3)
    assert run(app)[1] == 1
    [mail] = literacy_mails(app, "digest")
    assert mail.to_addr == b.manager.email
    assert "Team B: 1 person with overdue training" in mail.body_text
    assert "Learner B" not in mail.body_text and "names nobody" in mail.body_text


def test_daily_job_sends_the_reminders(app, companies):
    from leadthe.models import Job, utcnow
    from leadthe.worker import run_due_jobs, schedule_due_jobs

    a, _ = companies
    cid = course(app)
    require(app, a.learner, cid, -3)  # (the job runs at the real time, a day before NOW)
    with app.app_context():
        schedule_due_jobs(kinds=["literacy.daily"])
        assert run_due_jobs()["done"] == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)
                                 .where(Job.kind == "literacy.daily", Job.status == "pending")) == 1
        monday = utcnow().weekday() == 0  # the job runs at the real time: on a Monday it also sends the digest
    assert [m.kind for m in literacy_mails(app)] == ["literacy_overdue"] + (["literacy_digest"] if monday else [])


def _company_of(app, n: int):
    """A company of ``n`` people in teams of 10 with a manager each: half due in 5 days, half overdue."""
    from leadthe.models import Organization, Requirement, Team, TeamMembership, User

    cid = course(app, f"c{n}", "Course")
    with app.app_context():
        org = Organization(name=f"Co {n}")
        db.session.add(org)
        db.session.flush()
        db.session.execute(sa.insert(User), [{"org_id": org.id, "email": f"p{i}@co{n}.example", "name": f"P {i}",
                                              "role": "manager" if i % 10 == 0 else "learner", "password_hash": "x"}
                                             for i in range(n)])
        ids = db.session.scalars(sa.select(User.id).where(User.org_id == org.id).order_by(User.id)).all()
        db.session.execute(sa.insert(Team), [{"org_id": org.id, "name": f"T{t}"} for t in range(0, n, 10)])
        teams = db.session.scalars(sa.select(Team.id).where(Team.org_id == org.id).order_by(Team.id)).all()
        db.session.execute(sa.insert(TeamMembership), [{"org_id": org.id, "team_id": teams[i // 10], "user_id": uid,
                                                        "is_manager": i % 10 == 0} for i, uid in enumerate(ids)])
        db.session.execute(sa.insert(Requirement), [{"org_id": org.id, "user_id": uid, "course_id": cid,
                                                     "due_on": TODAY + timedelta(days=5 if i % 2 else -5)}
                                                    for i, uid in enumerate(ids)])
        db.session.commit()


def _statements(app) -> int:
    seen = []

    def count(*_args):
        seen.append(1)

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            run(app)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return len(seen)


@pytest.mark.parametrize("big", [1000])
def test_statement_count_does_not_grow_with_the_company(app, big):
    _company_of(app, 10)
    small = _statements(app)
    assert len(literacy_mails(app)) == 10 + 1  # 10 reminders, 1 digest
    from tests.conftest import wipe_database

    wipe_database(app)
    _company_of(app, big)
    assert _statements(app) == small
    assert len(literacy_mails(app)) == big + big // 10
