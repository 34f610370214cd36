"""Requirement rules: required courses follow people as they join (invitation, CSV import), move between
departments and teams and change roles; completions count and expire with the refresh period; the admin
page of rules (/admin/requirements) with its preview, and another company's rule is a 404."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from leadthe.extensions import db
from tests.conftest import audit_actions, make_user, post_form
from tests.helpers import make_course, signed_in


def _rule(org_id, course_id, **fields):
    from leadthe.models import RequirementRule

    rule = RequirementRule(org_id=org_id, course_id=course_id, **fields)
    db.session.add(rule)
    db.session.flush()
    return rule


def _required(org_id, course_id) -> dict:
    """{user_id: requirement} in force for the course."""
    from leadthe.models import Requirement

    return {r.user_id: r for r in db.session.scalars(sa.select(Requirement).where(
        Requirement.org_id == org_id, Requirement.course_id == course_id, Requirement.ended_at.is_(None)))}


def _requirement(user_id, course_id):
    from leadthe.models import Requirement

    return db.session.scalar(sa.select(Requirement).where(Requirement.user_id == user_id, Requirement.course_id == course_id))


def _status(user_id, course_id, now):
    from leadthe.literacy.status import status_expr
    from leadthe.models import Requirement

    return db.session.scalar(sa.select(status_expr(now)).where(Requirement.user_id == user_id, Requirement.course_id == course_id))


@pytest.fixture
def sales(app, companies):
    """Company A with two people in Sales (one spelled differently), one in Support, and a course."""
    a = companies[0]
    s1 = make_user(app, a.org, email="sam@a.example", name="Sam Sales", department="Sales", job_title="Account Manager")
    s2 = make_user(app, a.org, email="sue@a.example", name="Sue Sales", department="  sales ", job_title="Sales rep")
    other = make_user(app, a.org, email="otto@a.example", name="Otto Support", department="Support", job_title="Support MANAGER")
    with app.app_context():
        course, *_ = make_course(a.org.id, "prompting", "Prompting", quiz=False)
        db.session.commit()
        return a, course.id, (s1, s2, other)


def test_a_department_rule_assigns_everyone_matching_and_follows_moves(app, sales):
    from leadthe.account.profile import update_profile
    from leadthe.literacy.rules import apply_rules
    from leadthe.models import Certificate, User, utcnow
    from leadthe.models.enums import RuleField

    a, course_id, (s1, s2, other) = sales
    now = utcnow()
    with app.test_request_context():
        _rule(a.org.id, course_id, field=RuleField.DEPARTMENT, value="Sales", due_days=30)
        apply_rules(a.org.id, now=now)
        required = _required(a.org.id, course_id)
        assert set(required) == {s1.id, s2.id}  # "  sales " is Sales; Support is not
        assert required[s1.id].due_on == (now + timedelta(days=30)).date()
        assert required[s1.id].rule_id is not None and required[s1.id].assigned_at is not None
        # Sam completes the course, then moves to Support in his profile; Otto moves to Sales
        db.session.add(Certificate(org_id=a.org.id, user_id=s1.id, course_id=course_id, code="C" * 20, issued_at=now))
        apply_rules(a.org.id, now=now)
        assert _requirement(s1.id, course_id).completed_at is not None
        sam, otto = db.session.get(User, s1.id), db.session.get(User, other.id)
        update_profile(sam, name=sam.name, job_title=sam.job_title, department="Support", photo=None, remove_photo=False)
        update_profile(otto, name=otto.name, job_title=otto.job_title, department="Sales", photo=None, remove_photo=False)
        assert set(_required(a.org.id, course_id)) == {s2.id, other.id}
        ended = _requirement(s1.id, course_id)
        assert ended.ended_at is not None and ended.completed_at is not None  # what he did stays his
        assert db.session.scalar(sa.select(Certificate.id).where(Certificate.user_id == s1.id)) is not None
        assert _requirement(other.id, course_id).due_on == (utcnow() + timedelta(days=30)).date()
        # back in Sales: the same row is in force again, with his completion
        update_profile(sam, name=sam.name, job_title=sam.job_title, department="sales", photo=None, remove_photo=False)
        again = _requirement(s1.id, course_id)
        assert again.ended_at is None and again.completed_at is not None
        db.session.commit()


def test_newcomers_by_invitation_and_by_csv_import_get_the_requirement(app, sales):
    from leadthe.admin import people
    from leadthe.literacy.rules import apply_rules
    from leadthe.models import ImportBatch, Invitation, User, utcnow
    from leadthe.models.enums import RuleField

    a, course_id, _people = sales
    with app.test_request_context():
        _rule(a.org.id, course_id, field=RuleField.DEPARTMENT, value="sales", due_days=10)
        apply_rules(a.org.id)
        admin = db.session.get(User, a.admin.id)
        inv = people.create_invitation(admin, email="nia@a.example", role="learner", team_id=None, name="Nia", department="Sales")
        nia = people.accept_invitation(inv, name="Nia New", password="a long enough passphrase")
        assert nia.id in _required(a.org.id, course_id)
        assert _requirement(nia.id, course_id).due_on == (utcnow() + timedelta(days=10)).date()
        # a CSV import invites; the account, and with it the requirement, comes when the invitation is accepted
        rows = people.parse_import(a.org.id, b"email,name,job_title,department,team,role\n"
                                             b"ivo@a.example,Ivo Import,Rep,Sales,,learner\n"
                                             b"ina@a.example,Ina Import,Dev,Engineering,,learner\n")
        batch = people.store_import(admin, rows)
        assert people.apply_import(admin, db.session.get(ImportBatch, batch.id)) == 2
        for email in ("ivo@a.example", "ina@a.example"):
            invitation = db.session.scalar(sa.select(Invitation).where(Invitation.email == email))
            people.accept_invitation(invitation, name=email.split("@")[0], password="a long enough passphrase")
        ids = {u.email: u.id for u in db.session.scalars(sa.select(User).where(User.email.in_(["ivo@a.example", "ina@a.example"])))}
        required = _required(a.org.id, course_id)
        assert ids["ivo@a.example"] in required and ids["ina@a.example"] not in required
        db.session.commit()


def test_job_title_contains_and_equals(app, sales):
    from leadthe.literacy.rules import apply_rules, count_covered
    from leadthe.models.enums import RuleField, RuleOperator

    a, course_id, (s1, s2, other) = sales
    with app.app_context():
        contains = _rule(a.org.id, course_id, field=RuleField.JOB_TITLE, operator=RuleOperator.CONTAINS, value="manager")
        assert count_covered(a.org.id, contains) == 2
        apply_rules(a.org.id)
        assert set(_required(a.org.id, course_id)) == {s1.id, other.id}  # "Account Manager", "Support MANAGER"
        contains.operator, contains.value = RuleOperator.EQUALS, " sales REP "
        apply_rules(a.org.id)
        assert set(_required(a.org.id, course_id)) == {s2.id}
        # a wildcard in the text is a plain character, not a pattern
        contains.operator, contains.value = RuleOperator.CONTAINS, "%"
        apply_rules(a.org.id)
        assert _required(a.org.id, course_id) == {}
        db.session.rollback()


def test_a_team_rule_follows_team_membership(app, sales):
    from leadthe.admin import teams
    from leadthe.literacy.rules import apply_rules
    from leadthe.models import Team, User
    from leadthe.models.enums import RuleField

    a, course_id, (s1, s2, other) = sales
    with app.test_request_context():
        _rule(a.org.id, course_id, field=RuleField.TEAM, team_id=a.team.id)
        apply_rules(a.org.id)
        assert set(_required(a.org.id, course_id)) == {a.manager.id, a.learner.id}
        admin, team = db.session.get(User, a.admin.id), db.session.get(Team, a.team.id)
        teams.add_member(admin, team, "otto@a.example")
        assert other.id in _required(a.org.id, course_id)
        teams.remove_member(admin, team, teams.membership_or_none(team, a.learner.id))
        assert set(_required(a.org.id, course_id)) == {a.manager.id, other.id}
        # deleting the team takes its rule with it: nobody is required the course any more
        teams.delete_team(admin, team)
        assert _required(a.org.id, course_id) == {}
        db.session.commit()


def test_a_role_rule_follows_role_changes_and_deactivation(app, sales):
    from leadthe.admin import people
    from leadthe.literacy.rules import apply_rules
    from leadthe.models import User
    from leadthe.models.enums import RuleField

    a, course_id, (s1, s2, other) = sales
    with app.test_request_context():
        _rule(a.org.id, course_id, field=RuleField.ROLE, value="manager")
        apply_rules(a.org.id)
        assert set(_required(a.org.id, course_id)) == {a.manager.id}
        admin = db.session.get(User, a.admin.id)
        people.change_role(admin, db.session.get(User, s1.id), "manager")
        assert set(_required(a.org.id, course_id)) == {a.manager.id, s1.id}
        people.deactivate(admin, db.session.get(User, s1.id))  # requirements count active people only
        assert set(_required(a.org.id, course_id)) == {a.manager.id}
        people.reactivate(admin, db.session.get(User, s1.id))
        assert set(_required(a.org.id, course_id)) == {a.manager.id, s1.id}
        db.session.commit()


def test_refresh_makes_a_person_due_again_and_recertification_makes_them_current(app, sales):
    from leadthe.assessments.certificates import add_months, issue_certificate
    from leadthe.literacy.rules import apply_rules
    from leadthe.literacy.status import status_of
    from leadthe.models import Course, User, utcnow
    from leadthe.models.enums import RequirementStatus, RuleField

    a, course_id, (s1, _s2, _other) = sales
    t0 = utcnow() - timedelta(days=800)
    with app.app_context():
        course = db.session.get(Course, course_id)
        course.certificate_months = 24
        _rule(a.org.id, course_id, field=RuleField.DEPARTMENT, value="Sales", due_days=30, refresh_months=12)
        apply_rules(a.org.id, now=t0)
        assert _status(s1.id, course_id, t0) == RequirementStatus.NOT_STARTED
        assert _status(s1.id, course_id, t0 + timedelta(days=20)) == RequirementStatus.DUE_SOON
        assert _status(s1.id, course_id, t0 + timedelta(days=31)) == RequirementStatus.OVERDUE
        done = t0 + timedelta(days=25)
        issue_certificate(db.session.get(User, s1.id), course, now=done)  # the signal records the completion
        row = _requirement(s1.id, course_id)
        refresh = add_months(done, 12)  # the rule's 12 months, not the certificate's 24
        assert row.completed_at == done and row.valid_until.date() == refresh.date() and row.due_on == refresh.date()
        assert _status(s1.id, course_id, done + timedelta(days=300)) == RequirementStatus.CURRENT
        after = refresh + timedelta(days=1)
        assert _status(s1.id, course_id, after) == RequirementStatus.OVERDUE  # due again on the refresh date
        assert status_of(row.completed_at, row.valid_until, row.due_on, after) == RequirementStatus.OVERDUE
        row.reminded_overdue_at = after
        # the certificate (24 months) expires; passing again renews it and the requirement is current again
        renewed = add_months(done, 24) + timedelta(days=2)
        issue_certificate(db.session.get(User, s1.id), course, now=renewed)
        row = _requirement(s1.id, course_id)
        assert row.completed_at == renewed and row.due_on == add_months(renewed, 12).date() and row.reminded_overdue_at is None
        assert _status(s1.id, course_id, renewed + timedelta(days=1)) == RequirementStatus.CURRENT
        db.session.commit()


def test_refresh_never_and_the_certificates_own_validity(app, sales):
    from leadthe.literacy.rules import apply_rules
    from leadthe.models import Certificate, RequirementRule, utcnow
    from leadthe.models.enums import RuleField

    a, course_id, (s1, _s2, _other) = sales
    now = utcnow()
    with app.app_context():
        rule = _rule(a.org.id, course_id, field=RuleField.DEPARTMENT, value="Sales", refresh_months=0)
        db.session.add(Certificate(org_id=a.org.id, user_id=s1.id, course_id=course_id, code="D" * 20,
                                   issued_at=now - timedelta(days=400), expires_at=now - timedelta(days=35)))
        apply_rules(a.org.id, now=now)
        assert _requirement(s1.id, course_id).valid_until is None  # never expires: done once is enough
        db.session.get(RequirementRule, rule.id).refresh_months = None  # the certificate's own validity
        apply_rules(a.org.id, now=now)
        row = _requirement(s1.id, course_id)
        assert row.valid_until.date() == (now - timedelta(days=35)).date() and row.due_on == row.valid_until.date()
        db.session.rollback()


def test_the_earliest_due_date_counts_and_a_rule_change_moves_open_requirements(app, sales):
    from leadthe.literacy.rules import apply_rules
    from leadthe.models import RequirementRule, utcnow
    from leadthe.models.enums import RuleField

    a, course_id, (s1, s2, _other) = sales
    now = utcnow()
    with app.app_context():
        everyone = _rule(a.org.id, course_id, field=RuleField.EVERYONE, due_days=60)
        sales_rule = _rule(a.org.id, course_id, field=RuleField.DEPARTMENT, value="Sales", due_days=14)
        apply_rules(a.org.id, now=now)
        row = _requirement(s1.id, course_id)
        assert row.due_on == (now + timedelta(days=14)).date() and row.rule_id == everyone.id
        db.session.get(RequirementRule, sales_rule.id).due_days = 7
        apply_rules(a.org.id, now=now + timedelta(days=3))  # days count from the assignment, not from the change
        assert _requirement(s1.id, course_id).due_on == (now + timedelta(days=7)).date()
        db.session.get(RequirementRule, everyone.id).active = False
        apply_rules(a.org.id, now=now)
        assert set(_required(a.org.id, course_id)) == {s1.id, s2.id}
        assert _requirement(s1.id, course_id).rule_id == sales_rule.id
        db.session.rollback()


def _count_statements(app, fn) -> int:
    seen = []
    with app.app_context():
        engine = db.engine

    def listener(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def test_apply_rules_takes_the_same_statements_for_10_and_1000_people(app):
    from leadthe.literacy.rules import apply_rules
    from leadthe.models import Certificate, Course, Requirement, Team, User
    from leadthe.models.enums import RuleField, RuleOperator
    from leadthe.scale import seed_scale

    counts, rows = {}, {}
    for users in (10, 1000):
        with app.app_context():
            org = seed_scale(users=users, teams=max(users // 20, 1), echo=lambda *_: None)
            course_ids = list(db.session.scalars(sa.select(Course.id).where(Course.org_id == org.id).order_by(Course.id).limit(3)))
            team = db.session.scalar(sa.select(Team.id).where(Team.org_id == org.id).order_by(Team.id))
            _rule(org.id, course_ids[0], field=RuleField.EVERYONE, refresh_months=12)
            _rule(org.id, course_ids[1], field=RuleField.DEPARTMENT, value="dept 3")
            _rule(org.id, course_ids[1], field=RuleField.JOB_TITLE, operator=RuleOperator.CONTAINS, value="x")
            _rule(org.id, course_ids[2], field=RuleField.TEAM, team_id=team)
            first = db.session.scalars(sa.select(User.id).where(User.org_id == org.id).order_by(User.id).limit(3)).all()
            for n, uid in enumerate(first):
                db.session.add(Certificate(org_id=org.id, user_id=uid, course_id=course_ids[0], code=f"S{users}X{n}".ljust(20, "0")))
            db.session.commit()
            org_id = org.id

        def run():
            with app.app_context():
                apply_rules(org_id)
                db.session.commit()

        counts[users] = [_count_statements(app, run), _count_statements(app, run)]  # first run, then nothing to do
        with app.app_context():
            rows[users] = db.session.scalar(sa.select(sa.func.count()).select_from(Requirement).where(Requirement.org_id == org_id))
    print("STATEMENTS", counts)
    assert counts[10] == counts[1000], counts
    assert rows[1000] >= 1000 and rows[10] >= 10  # everyone has at least the everyone rule's course


# --- the admin page ------------------------------------------------------------------------------------

def test_admin_creates_previews_changes_and_deletes_a_rule(app, sales):
    from leadthe.models import Certificate, Requirement, RequirementRule, utcnow

    a, course_id, (s1, s2, other) = sales
    admin = signed_in(app, a.admin.email)
    html = admin.get("/admin/requirements").get_data(as_text=True)
    assert "No rules yet" in html and "/admin/requirements/new" in html
    form = {"course_id": str(course_id), "field": "department", "operator": "equals", "value": "Sales", "team_id": "",
            "role": "", "due_days": "21", "refresh": "certificate", "refresh_months": "", "active": "y"}
    # the preview: without JavaScript the page with the sentence; with htmx the sentence alone; nothing saved
    r = post_form(admin, "/admin/requirements/new", {**form, "preview": "1"})
    assert r.status_code == 200 and "This rule covers 2 people now." in r.get_data(as_text=True)
    r = post_form(admin, "/admin/requirements/new", {**form, "preview": "1", "value": "Support"}, headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert "<html" not in body and 'id="rule-preview"' in body and "This rule covers 1 person now." in body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RequirementRule)) == 0
    # errors beside the fields
    r = post_form(admin, "/admin/requirements/new", {**form, "value": "", "due_days": "0"})
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "Enter the department." in body and "Enter a number of days from 1 to 730." in body
    r = post_form(admin, "/admin/requirements/new", form)
    assert r.status_code == 303 and r.headers["Location"].endswith("/admin/requirements")
    with app.app_context():
        rule = db.session.scalar(sa.select(RequirementRule))
        assert set(_required(a.org.id, course_id)) == {s1.id, s2.id}
        db.session.add(Certificate(org_id=a.org.id, user_id=s1.id, course_id=course_id, code="E" * 20, issued_at=utcnow()))
        db.session.commit()
    html = admin.get("/admin/requirements").get_data(as_text=True)
    assert "Department is “Sales”" in html and f'data-covered="{rule.id}">2<' in html and "within 21 days" in html
    # the edit page shows the rule; a change of due days moves the open requirements
    edit = f"/admin/requirements/{rule.id}"
    html = admin.get(edit).get_data(as_text=True)
    assert 'value="Sales"' in html and "This rule covers 2 people now." in html
    assert post_form(admin, edit, {**form, "due_days": "5"}, page=edit).status_code == 303
    with app.app_context():
        assert _requirement(s2.id, course_id).due_on == (utcnow() + timedelta(days=5)).date()
    # deactivating asks first (without JavaScript, a page that says completions are kept)
    r = post_form(admin, f"{edit}/active", {"active": "0"}, page="/admin/requirements")
    assert r.status_code == 200 and "What they completed stays theirs" in r.get_data(as_text=True)
    assert post_form(admin, f"{edit}/active", {"active": "0", "confirmed": "yes"}, page="/admin/requirements").status_code == 303
    with app.app_context():
        assert _required(a.org.id, course_id) == {}
    assert post_form(admin, f"{edit}/active", {"active": "1"}, page="/admin/requirements").status_code == 303
    assert post_form(admin, f"{edit}/delete", {"confirmed": "yes"}, page=edit).status_code == 303
    with app.app_context():
        assert db.session.get(RequirementRule, rule.id) is None
        kept = db.session.scalar(sa.select(Requirement).where(Requirement.user_id == s1.id))
        assert kept.ended_at is not None and kept.completed_at is not None
        assert db.session.scalar(sa.select(Certificate.id).where(Certificate.user_id == s1.id)) is not None
    actions = audit_actions(app)
    assert {"requirement_rule.created", "requirement_rule.updated", "requirement_rule.deleted"} <= set(actions)
    assert "Requirement rule added" in admin.get("/admin/audit").get_data(as_text=True)


def test_managers_and_learners_get_403_and_another_companys_rule_is_404(app, companies):
    from leadthe.models import Course, RequirementRule

    a, b = companies
    with app.app_context():
        course_b, *_ = make_course(b.org.id, "b-course", "B course")
        rule_b = _rule(b.org.id, course_b.id)
        db.session.commit()
        rule_id = rule_b.id
    for who in (a.manager, a.learner):
        assert signed_in(app, who.email).get("/admin/requirements").status_code == 403
    admin = signed_in(app, a.admin.email)
    assert admin.get(f"/admin/requirements/{rule_id}").status_code == 404
    assert post_form(admin, f"/admin/requirements/{rule_id}/delete", {"confirmed": "yes"}, page="/admin/requirements").status_code == 404
    assert post_form(admin, f"/admin/requirements/{rule_id}/active", {"active": "0", "confirmed": "yes"},
                     page="/admin/requirements").status_code == 404
    # another company's course is not a choice
    r = post_form(admin, "/admin/requirements/new", {"course_id": str(course_b.id), "field": "everyone", "operator": "equals",
                                                     "due_days": "30", "refresh": "never", "active": "y"})
    assert r.status_code == 422
    with app.app_context():
        assert db.session.get(RequirementRule, rule_id) is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RequirementRule)) == 1
        assert db.session.get(Course, course_b.id) is not None


def test_seed_demo_gives_acme_rules_and_a_mix_of_statuses(app):
    from leadthe.literacy.status import in_force, status_expr
    from leadthe.models import Organization, Requirement, RequirementRule
    from leadthe.models.enums import RequirementStatus

    runner = app.test_cli_runner()
    for args in (["leadthe", "load-content"], ["leadthe", "seed-demo"], ["leadthe", "seed-demo"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    with app.app_context():
        org = db.session.scalar(sa.select(Organization).where(Organization.name == "Acme Corp"))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RequirementRule).where(RequirementRule.org_id == org.id)) == 4
        rows = sa.select(status_expr().label("status")).where(Requirement.org_id == org.id, in_force()).subquery()
        statuses = dict(db.session.execute(sa.select(rows.c.status, sa.func.count()).group_by(rows.c.status)).all())
    assert statuses.get(RequirementStatus.CURRENT, 0) >= 1 and statuses.get(RequirementStatus.OVERDUE, 0) >= 1, statuses
    assert statuses.get(RequirementStatus.DUE_SOON, 0) >= 1, statuses
