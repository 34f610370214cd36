"""The AI tools inventory and the company's AI-use policy: tools CRUD and tenancy, what people see, drafts and
publication (minor asks nobody, material asks each person once), the notice, mails and the one reminder,
newcomers, the data export and erasure, sanitised Markdown, and the "Your company's AI rules" lesson."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import AiPolicyAck, AiPolicyVersion, AiTool, AuditEvent, OutboxMail, User, utcnow
from tests.conftest import audit_actions, csrf_from, make_user, outbox, post_form
from tests.helpers import login

NOTICE = "Your company asks you to read its AI-use policy."
ACK_BUTTON = "I have read and understood this policy"


def add_tool(app, org, name, status="approved", **fields):
    with app.app_context():
        tool = AiTool(org_id=getattr(org, "id", org), name=name, status=status, **fields)
        db.session.add(tool)
        db.session.commit()
        return tool.id


def save_policy(client, title="Acme AI rules", body="## Rules\n\nUse approved tools only.", change="material", summary="New rules."):
    response = post_form(client, "/admin/ai-policy", {"title": title, "body_md": body, "summary": summary, "change": change})
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    assert re.search(r"/admin/ai-policy/drafts/\d+$", response.headers["Location"])
    return response


def publish(client):
    return post_form(client, "/admin/ai-policy/publish", {"confirmed": "yes"}, page="/admin/ai-policy")


def publish_as(client, admin, *drafts):
    """Sign in as ``admin`` and publish each draft (save_policy's fields; default: one material version)."""
    login(client, admin.email)
    for fields in drafts or ({},):
        save_policy(client, **fields)
        publish(client)


def acknowledge(client, headers=None):
    """Press "I have read and understood this policy" as the signed-in person."""
    page = client.get("/ai-policy").get_data(as_text=True)
    return client.post("/ai-policy", data={"csrf_token": csrf_from(page)}, headers=headers or {})


def acks(app, **filters):
    with app.app_context():
        query = sa.select(AiPolicyAck).order_by(AiPolicyAck.id)
        for name, value in filters.items():
            query = query.where(getattr(AiPolicyAck, name) == value)
        return list(db.session.scalars(query))


def policy_mails(app):
    return [m for m in outbox(app) if m.kind == "ai_policy"]


def relogin(client, who):
    post_form(client, "/logout", {}, page="/dashboard")
    login(client, who)


def run_worker(app, now=None):
    from leadthe.worker import run_once

    with app.app_context():
        run_once(now)


# --- the tools inventory -------------------------------------------------------------------------------

def test_admin_adds_edits_and_deletes_a_tool_with_audit(client, app, companies):
    a, _ = companies
    login(client, a.admin.email)
    empty = client.get("/admin/ai-tools").get_data(as_text=True)
    assert "No AI tools listed yet." in empty and "Add the first tool" in empty
    form = client.get("/admin/ai-tools/new").get_data(as_text=True)
    assert "Team A" in form  # the company's teams as checkboxes
    r = post_form(client, "/admin/ai-tools/new", {
        "name": "ChatGPT Enterprise", "vendor": "OpenAI", "purpose": "Drafting", "status": "approved",
        "team_ids": str(a.team.id), "departments": "Sales, Marketing, sales", "personal_data_allowed": "y",
        "risk_note": "Check the figures.", "owner": a.manager.email})
    assert r.status_code == 303
    with app.app_context():
        tool = db.session.scalar(sa.select(AiTool).where(AiTool.org_id == a.org.id))
        assert (tool.team_ids, tool.departments, tool.personal_data_allowed, tool.confidential_data_allowed) == (
            [a.team.id], ["Sales", "Marketing"], True, False)
        assert tool.owner_id == a.manager.id and tool.added_on == utcnow().date()
        tool_id = tool.id
    listing = client.get("/admin/ai-tools").get_data(as_text=True)
    assert "ChatGPT Enterprise" in listing and "Approved" in listing and "Manager A" in listing
    assert "Team A, Sales, Marketing" in listing

    # the same name again is an error beside the field; the form keeps what was typed
    r = post_form(client, "/admin/ai-tools/new", {"name": "chatgpt enterprise", "status": "approved"})
    assert r.status_code == 422 and "already lists a tool with this name" in r.get_data(as_text=True)
    # an owner address from nobody in the company is refused
    r = post_form(client, f"/admin/ai-tools/{tool_id}", {"name": "ChatGPT Enterprise", "status": "approved", "owner": "admin@b.example"})
    assert r.status_code == 422 and "Nobody in your company has this e-mail address." in r.get_data(as_text=True)

    r = post_form(client, f"/admin/ai-tools/{tool_id}", {"name": "ChatGPT Enterprise", "status": "not_allowed", "owner": "IT desk"})
    assert r.status_code == 303
    with app.app_context():
        tool = db.session.get(AiTool, tool_id)
        assert (tool.status, tool.owner_id, tool.owner_note, tool.team_ids) == ("not_allowed", None, "IT desk", [])

    # delete: without the confirmation nothing happens; with it the tool is gone
    page = client.get("/admin/ai-tools").get_data(as_text=True)
    r = client.post(f"/admin/ai-tools/{tool_id}/delete", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 200 and "Delete the tool" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(AiTool, tool_id) is not None
    r = client.post(f"/admin/ai-tools/{tool_id}/delete", data={"csrf_token": csrf_from(page), "confirmed": "yes"})
    assert r.status_code == 303
    with app.app_context():
        assert db.session.get(AiTool, tool_id) is None
    actions = audit_actions(app)
    assert {"ai_tool.created", "ai_tool.updated", "ai_tool.deleted"} <= set(actions)


def test_tool_form_errors_come_back_as_a_fragment_under_htmx(client, app, companies):
    a, _ = companies
    login(client, a.admin.email)
    r = post_form(client, "/admin/ai-tools/new", {"name": "", "status": "approved"}, headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and 'id="tool-form"' in html
    assert "Give the tool" in html and "There is a problem" in html


def test_another_companys_tool_is_404_and_managers_are_refused(client, app, companies):
    a, b = companies
    theirs = add_tool(app, b.org, "B tool")
    login(client, a.admin.email)
    assert client.get(f"/admin/ai-tools/{theirs}").status_code == 404
    page = client.get("/admin/ai-tools").get_data(as_text=True)
    r = client.post(f"/admin/ai-tools/{theirs}/delete", data={"csrf_token": csrf_from(page), "confirmed": "yes"})
    assert r.status_code == 404
    with app.app_context():
        assert db.session.get(AiTool, theirs) is not None
    relogin(client, a.manager.email)
    assert client.get("/admin/ai-tools").status_code == 403


def test_people_see_approved_and_forbidden_tools_but_nothing_under_review(client, app, companies):
    a, b = companies
    add_tool(app, a.org, "Copilot", purpose="Drafting e-mails", personal_data_allowed=True, risk_note="Check names.")
    add_tool(app, a.org, "Shadow extension", status="not_allowed", risk_note="Reads every page.")
    add_tool(app, a.org, "Secret pilot", status="under_review", purpose="Internal evaluation")
    add_tool(app, b.org, "B only tool")
    login(client, a.learner.email)
    html = client.get("/ai-tools").get_data(as_text=True)
    assert "Copilot" in html and "Drafting e-mails" in html and "Check names." in html and "Everyone in the company" in html
    assert "Shadow extension" in html and "Not allowed" in html
    assert "Secret pilot" not in html and "Internal evaluation" not in html and "B only tool" not in html
    assert "Owner" not in html  # no admin-only fields


def test_people_see_an_empty_state_without_tools(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    html = client.get("/ai-tools").get_data(as_text=True)
    assert "Your company has not approved any AI tools yet." in html


# --- the policy: drafts and publication ------------------------------------------------------------------

def test_first_visit_offers_the_starter_template_in_the_admins_language(client, app, companies):
    a, _ = companies
    login(client, a.admin.email)
    html = client.get("/admin/ai-policy").get_data(as_text=True)
    assert "Your company has not published an AI-use policy yet." in html
    assert "Data that must never go in" in html and "Report incidents" in html
    with app.app_context():
        db.session.get(User, a.admin.id).locale = "de"
        db.session.commit()
    html = client.get("/admin/ai-policy", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Daten, die niemals hineingehören" in html or "Daten, die niemals hineingeh&ouml;ren" in html


def test_minor_change_asks_nobody(client, app, companies):
    a, _ = companies
    login(client, a.admin.email)
    save_policy(client, change="minor")
    assert publish(client).status_code == 303
    with app.app_context():
        version = db.session.scalar(sa.select(AiPolicyVersion).where(AiPolicyVersion.org_id == a.org.id))
        assert version.version == 1 and version.published_at is not None
    assert acks(app) == []
    run_worker(app)
    assert policy_mails(app) == []


def test_material_change_asks_each_person_once_and_records_the_acknowledgement(client, app, companies):
    a, b = companies
    with app.app_context():  # someone deactivated is not asked
        gone = make_user(app, a.org, email="gone@a.example", status="deactivated")
    login(client, a.admin.email)
    save_policy(client)
    preview = client.get(save_policy(client).headers["Location"]).get_data(as_text=True)
    assert "Use approved tools only." in preview and "Publish version 1" in preview
    # without the confirmation, the confirmation page; nothing published
    r = post_form(client, "/admin/ai-policy/publish", {}, page="/admin/ai-policy")
    assert r.status_code == 200 and "Publish this version of the AI-use policy?" in r.get_data(as_text=True)
    assert acks(app) == []
    r = publish(client)
    assert r.status_code == 303
    asked = acks(app)
    assert sorted(x.user_id for x in asked) == sorted([a.admin.id, a.manager.id, a.learner.id])
    assert gone.id not in {x.user_id for x in asked} and b.learner.id not in {x.user_id for x in asked}
    assert "ai_policy.published" in audit_actions(app)

    # the history shows the figure; a second material version asks again (one row per version)
    html = client.get("/admin/ai-policy").get_data(as_text=True)
    assert "by 0 of 3 people" in html

    # the learner sees the notice on every page until they acknowledge
    relogin(client, a.learner.email)
    assert NOTICE in client.get("/dashboard").get_data(as_text=True)
    page = client.get("/ai-policy").get_data(as_text=True)
    assert ACK_BUTTON in page and NOTICE not in page  # the page itself has the button instead
    r = client.post("/ai-policy", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 303
    again = client.post("/ai-policy", data={"csrf_token": csrf_from(page)})  # idempotent
    assert again.status_code == 303
    mine = acks(app, user_id=a.learner.id)
    assert len(mine) == 1 and mine[0].acknowledged_at is not None
    assert abs(mine[0].acknowledged_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)) < timedelta(minutes=1)
    assert NOTICE not in client.get("/dashboard").get_data(as_text=True)
    assert ACK_BUTTON not in client.get("/ai-policy").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "ai_policy.acknowledged")) == 1
    relogin(client, a.admin.email)
    assert "by 1 of 3 people" in client.get("/admin/ai-policy").get_data(as_text=True)


def test_acknowledging_under_htmx_answers_the_fragment(client, app, companies):
    a, _ = companies
    publish_as(client, a.admin)
    relogin(client, a.learner.email)
    r = acknowledge(client, {"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and "Acknowledged" in html and ACK_BUTTON not in html
    assert acks(app, user_id=a.learner.id)[0].acknowledged_at is not None


def test_mail_goes_once_per_person_and_one_reminder_after_seven_days(client, app, companies):
    from leadthe.literacy.policy import send_publication_mails, send_reminders

    a, _ = companies
    with app.app_context():
        db.session.get(User, a.manager.id).locale = "de"
        db.session.commit()
    login(client, a.admin.email)
    save_policy(client, title="Acme rules see evil.example/login")
    publish(client)
    run_worker(app)
    mails = policy_mails(app)
    assert sorted(m.user_id for m in mails) == sorted([a.admin.id, a.manager.id, a.learner.id])
    assert all("evil" not in m.subject for m in mails)  # the customer's title stays out of the subject
    assert all("evil[.]example" in m.body_text and "http://localhost/ai-policy" in m.body_text for m in mails)
    german = next(m for m in mails if m.user_id == a.manager.id)
    assert "Richtlinie" in german.subject
    with app.app_context():  # a rerun of the job (a restarted worker) mails nobody again
        version_id = db.session.scalar(sa.select(AiPolicyVersion.id))
        assert send_publication_mails(version_id) == 0
    assert len(policy_mails(app)) == 3

    # the learner acknowledges; after 7 days the other two get one reminder, and never a second
    relogin(client, a.learner.email)
    acknowledge(client)
    with app.app_context():
        assert send_reminders(utcnow() + timedelta(days=6)) == 0
        assert send_reminders(utcnow() + timedelta(days=7, minutes=1)) == 2
        assert send_reminders(utcnow() + timedelta(days=30)) == 0
    reminders = [m for m in policy_mails(app) if "Reminder" in m.subject or "Erinnerung" in m.subject]
    assert sorted(m.user_id for m in reminders) == sorted([a.admin.id, a.manager.id])


def test_publishing_again_asks_again_once_and_one_acknowledgement_closes_both(client, app, companies):
    a, _ = companies
    publish_as(client, a.admin, {}, {"body": "## Rules\n\nNew tool list.", "summary": "Added a tool."})
    with app.app_context():
        numbers = list(db.session.scalars(sa.select(AiPolicyVersion.version).order_by(AiPolicyVersion.version)))
    assert numbers == [1, 2]
    mine = acks(app, user_id=a.learner.id)
    assert len(mine) == 2 and len({x.version_id for x in mine}) == 2
    # the older request is superseded: no reminder of its own
    assert mine[0].reminded_at is not None and mine[1].reminded_at is None
    relogin(client, a.learner.email)
    page = client.get("/ai-policy").get_data(as_text=True)
    assert "New tool list." in page
    acknowledge(client)
    assert all(x.acknowledged_at is not None for x in acks(app, user_id=a.learner.id))


def test_a_newcomer_is_asked_for_the_current_version_and_mailed(client, app, companies):
    from leadthe.signals import person_changed

    a, _ = companies
    publish_as(client, a.admin, {}, {"change": "minor", "body": "## Rules\n\nTypo fixed."})
    newcomer = make_user(app, a.org, email="new@a.example", name="Nina New")
    with app.test_request_context():
        user = db.session.get(User, newcomer.id)
        person_changed.send(user, changed={"joined"})
        person_changed.send(user, changed={"joined"})  # told twice: asked once
        db.session.commit()
        current = db.session.scalar(sa.select(AiPolicyVersion).where(AiPolicyVersion.version == 2))
    rows = acks(app, user_id=newcomer.id)
    assert [r.version_id for r in rows] == [current.id] and rows[0].mailed_at is not None
    assert [m.user_id for m in policy_mails(app)].count(newcomer.id) == 1
    # a department change is no reason to ask again
    with app.test_request_context():
        person_changed.send(db.session.get(User, newcomer.id), changed={"department"})
        db.session.commit()
    assert len(acks(app, user_id=newcomer.id)) == 1


def test_a_newcomer_is_not_asked_without_a_material_version(client, app, companies):
    from leadthe.signals import person_changed

    a, _ = companies
    login(client, a.admin.email)
    save_policy(client, change="minor")
    publish(client)
    newcomer = make_user(app, a.org, email="new@a.example")
    with app.test_request_context():
        person_changed.send(db.session.get(User, newcomer.id), changed={"joined"})
        db.session.commit()
    assert acks(app) == []


def test_policy_markdown_is_sanitised(client, app, companies):
    a, _ = companies
    login(client, a.admin.email)
    saved = save_policy(client, body="## Rules\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2)) <img src=x onerror=alert(3)>\n\n**Bold**")
    html = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "<script>alert" not in html and 'href="javascript' not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "<strong>Bold</strong>" in html  # shown as text, never run
    publish(client)
    relogin(client, a.learner.email)
    page = client.get("/ai-policy").get_data(as_text=True)
    assert "<script>alert" not in page and "<strong>Bold</strong>" in page


def test_version_pages_are_company_scoped(client, app, companies):
    a, b = companies
    login(client, b.admin.email)
    save_policy(client, title="B secret policy")
    publish(client)
    relogin(client, a.admin.email)
    with app.app_context():
        theirs = db.session.scalar(sa.select(AiPolicyVersion.id).where(AiPolicyVersion.org_id == b.org.id))
    assert client.get(f"/admin/ai-policy/versions/{theirs}").status_code == 404
    assert "B secret policy" not in client.get("/admin/ai-policy").get_data(as_text=True)
    assert client.get(save_policy(client, title="A policy").headers["Location"]).status_code == 200
    with app.app_context():
        draft = db.session.scalar(sa.select(AiPolicyVersion.id).where(AiPolicyVersion.org_id == a.org.id))
        theirs_draft = AiPolicyVersion(org_id=b.org.id, title="B draft", change="minor")
        db.session.add(theirs_draft)
        db.session.commit()
        theirs_draft = theirs_draft.id
    assert client.get(f"/admin/ai-policy/versions/{draft}").status_code == 404  # a draft has no version page yet
    assert client.get(f"/admin/ai-policy/drafts/{theirs_draft}").status_code == 404
    publish(client)
    html = client.get(f"/admin/ai-policy/versions/{draft}").get_data(as_text=True)
    assert "A policy" in html and "by 0 of 3 people" in html
    relogin(client, a.learner.email)
    assert "B secret policy" not in client.get("/ai-policy").get_data(as_text=True)


def test_people_see_an_empty_state_before_the_first_policy(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    html = client.get("/ai-policy").get_data(as_text=True)
    assert "Your company has not published an AI-use policy yet." in html and ACK_BUTTON not in html


# --- personal data: export and erasure ---------------------------------------------------------------

def test_export_contains_the_acknowledgements_and_erasure_removes_them(client, app, companies):
    from leadthe.privacy.erasure import request_erasure, run_erasure
    from leadthe.privacy.export import _rows
    from leadthe.privacy.registry import personal_sources

    a, _ = companies
    publish_as(client, a.admin)
    relogin(client, a.learner.email)
    acknowledge(client)
    with app.test_request_context():
        source = next(s for s in personal_sources() if s.table == "ai_policy_ack")
        rows = list(_rows(source, a.learner.id))
        assert len(rows) == 1 and json.dumps(rows, default=str).count("acknowledged_at") == 1
        user = db.session.get(User, a.learner.id)
        req = request_erasure(user, grace_period=False)
        db.session.commit()
        run_erasure(req)
    assert acks(app, user_id=a.learner.id) == []
    assert len(acks(app)) == 2  # the others' requests stay


# --- the lesson ----------------------------------------------------------------------------------------

@pytest.fixture
def rules_lesson(app, companies):
    from leadthe.courses.services import enroll
    from leadthe.models import Course

    runner = app.test_cli_runner()
    assert runner.invoke(args=["leadthe", "load-content"]).exit_code == 0
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.slug == "using-ai-safely"))
        for company in companies:
            enroll(db.session.get(User, company.learner.id), course)
        db.session.commit()
    return "/courses/using-ai-safely/lessons/your-company-ai-rules"


def test_the_lesson_shows_the_learners_own_company_rules(client, app, companies, rules_lesson):
    a, b = companies
    add_tool(app, a.org, "A approved tool", purpose="Drafting")
    add_tool(app, a.org, "A pilot", status="under_review")
    add_tool(app, b.org, "B approved tool")
    login(client, a.learner.email)
    html = client.get(rules_lesson).get_data(as_text=True)
    assert "[[company-ai-rules]]" not in html
    assert "Your company has not published an AI-use policy in LeadThe.AI yet." in html
    assert "A approved tool" in html and "A pilot" not in html and "B approved tool" not in html
    relogin(client, a.admin.email)
    save_policy(client, body="## Our rules\n\nNever paste customer data.\n\n<script>alert(1)</script>")
    publish(client)
    relogin(client, a.learner.email)
    html = client.get(rules_lesson).get_data(as_text=True)
    assert "Never paste customer data." in html and "<script>alert" not in html
    assert "<h3>Our rules</h3>" in html  # the policy's headings sit under the lesson's section heading
    relogin(client, b.learner.email)
    html = client.get(rules_lesson).get_data(as_text=True)
    assert "Never paste customer data." not in html and "B approved tool" in html


def test_the_lesson_is_in_german_too(client, app, companies, rules_lesson):
    a, _ = companies
    with app.app_context():
        db.session.get(User, a.learner.id).locale = "de"
        db.session.commit()
    login(client, a.learner.email)
    html = client.get(rules_lesson, headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Die KI-Regeln Ihres Unternehmens" in html


# --- the demo company ----------------------------------------------------------------------------------

def test_seed_demo_gives_acme_tools_and_a_partly_acknowledged_policy(app):
    runner = app.test_cli_runner()
    for _ in range(2):  # idempotent
        assert runner.invoke(args=["leadthe", "seed-demo"]).exit_code == 0
    with app.app_context():
        statuses = list(db.session.scalars(sa.select(AiTool.status)))
        assert 4 <= len(statuses) <= 6 and {"approved", "under_review", "not_allowed"} <= set(statuses)
        versions = list(db.session.scalars(sa.select(AiPolicyVersion)))
        assert len(versions) == 1 and versions[0].change == "material" and versions[0].published_at is not None
        rows = list(db.session.scalars(sa.select(AiPolicyAck)))
        done = [r for r in rows if r.acknowledged_at is not None]
        assert 0 < len(done) < len(rows)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail).where(OutboxMail.kind == "ai_policy")) == 0


def test_notice_costs_no_query_of_its_own(client, app, companies):
    """Whether the person has a version to acknowledge is asked once per page, by the query that loads their
    session (the billing permission the account menu shows too), not by a round trip of its own."""
    from sqlalchemy import event

    a, _ = companies
    login(client, a.learner.email)
    seen = []

    def count(conn, cursor, statement, *args):
        if "ai_policy_ack" in statement:
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/dashboard")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(seen) == 1 and re.search(r"FROM user_session", seen[0]) and "billing_member" in seen[0]


def test_the_reminders_run_daily_and_the_mail_job_is_registered():
    from leadthe.literacy import jobs
    from leadthe.worker import JOB_HANDLERS, RECURRING

    assert JOB_HANDLERS["ai_policy.reminders"] is jobs.remind_unacknowledged
    assert RECURRING["ai_policy.reminders"].every == timedelta(days=1)
    assert JOB_HANDLERS["ai_policy.mail"] is jobs.mail_material_change and "ai_policy.mail" not in RECURRING
