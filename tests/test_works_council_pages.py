"""Works-council mode (issue 21) on every manager and admin page and CSV: groups of at least 5 people only, no
individual rows, no per-person CSV; leaderboards of people who opted in; the evidence pack at team level.

The walk takes every GET route under ``/admin`` (and ``/leaderboard``) from ``app.url_map``, so a new page is
walked without touching this file; its ids are filled with the company's own objects. It runs for a seed-scale
company (60 people in teams of about 20, plus teams of 3 and 4 people) and for the demo company (``leadthe
seed-demo``, whose teams have 2 and 3 people), as an admin and as a manager.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile

import sqlalchemy as sa

from leadthe.extensions import db
from tests.conftest import make_user, post_form
from tests.helpers import every_page_data_set, login, signed_in

HIDDEN = "hidden in works-council mode"
NOTE = "Works-council mode: figures for groups of at least 5 people only."

# Pages that name people because administering their accounts needs it; they must still hold no learning data.
PEOPLE_ADMINISTRATION = {
    "admin.users": "the people list: name, e-mail, role and teams, to administer the accounts",
    "admin.user_detail": "one account: name, e-mail, role, status and teams, to administer it",
    "admin.team_detail": "a team's members by name, to administer the membership (the figures are the team's)",
    "admin.report_minor_view": "the confirmation to report one account as under 18 (an account action)",
    "admin.audit_log": "security events (sign-ins, role changes, exports) of the accounts, not learning",
    "literacy_admin.ai_tools": "the AI tools inventory names each tool's owner: a responsibility, not learning data",
    "literacy_admin.ai_tools_edit": "one AI tool with its owner (chosen from the company's people)",
}
# Words of individual learning data that no people-administration page may show in the mode.
LEARNING_COLUMNS = ("Latest score", "Lessons completed", "Last active", "Time this month", "Maturity level",
                    "Recent quiz attempts", "Courses completed", "Required training</th>")
SKIPPED = {
    # routes under /admin whose GET shows nothing about people: walked all the same when their ids exist
}
# binary: status checked, read apart; the annex and a DPA acceptance are company documents (the acceptance names the
# admin who signed, which is administration, not learning data)
NOT_TEXT = {"billing_admin.invoice_pdf", "literacy_admin.evidence_download", "trust_admin.annex_pdf_download",
            "trust_admin.dpa_pdf", "courses.offline_manifest"}


def set_mode(app, org_id: int, on: bool = True) -> None:
    from leadthe.models import Organization

    with app.app_context():
        db.session.get(Organization, org_id).works_council_mode = on
        db.session.commit()


def walked_rules(app):
    """(endpoint, rule) of every GET page of the manager and admin areas, and the leaderboard."""
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and (rule.rule.startswith("/admin") or rule.rule == "/leaderboard"):
            yield rule.endpoint, rule


def fill(rule, values: dict[str, str]) -> str | None:
    if "@" + rule.endpoint in values:
        return values["@" + rule.endpoint]
    area = rule.endpoint.split(".")[0]
    try:
        return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values.get(f"{area}:{m.group(1)}", values[m.group(1)]), rule.rule)
    except KeyError:
        return None


def without_choices(html: str) -> str:
    """The page without its <select> lists: choosing a person in a form (assigning a course) is administration."""
    return re.sub(r"<select\b.*?</select>", "", html, flags=re.S)


def learners(app, org_id: int) -> list[tuple[str, str]]:
    from leadthe.models import User

    with app.app_context():
        return [(n, e) for n, e in db.session.execute(sa.select(User.name, User.email).where(
            User.org_id == org_id, User.role == "learner"))]


def walk(app, client, values: dict[str, str], people: list[tuple[str, str]], small_teams: list[str], role: str) -> dict:
    """Open every walked page as ``client``; check each; returns {endpoint: decision} for the report."""
    seen, problems = {}, []
    for endpoint, rule in sorted(walked_rules(app), key=lambda r: r[1].rule):
        if endpoint in SKIPPED:
            seen[endpoint] = "skipped: " + SKIPPED[endpoint]
            continue
        url = fill(rule, values)
        if url is None:
            seen[endpoint] = "no such object in this company"
            continue
        response = client.get(url)
        status = response.status_code
        response.close()  # a file download's handle
        assert status in (200, 302, 303, 403, 404), f"{role} {url}: {status}"
        seen[endpoint] = status
        if endpoint in NOT_TEXT or status != 200:
            if status != 200:
                page = response.get_data(as_text=True)
                problems += [f"{url}: {n}" for n, e in people if n in page or e in page]
            continue
        body = response.get_data(as_text=True)
        if response.mimetype == "text/csv":
            problems += check_csv(url, body, people)
            continue
        html = without_choices(body)
        if endpoint in PEOPLE_ADMINISTRATION:
            problems += [f"{url}: shows {word!r}" for word in LEARNING_COLUMNS if word in html]
        else:
            problems += [f"{url}: names {n}" for n, e in people if n in html or e in html]
        if endpoint == "admin.teams_page":
            for team in small_teams:
                row = re.search(re.escape(team) + r"</a>.*?</tr>", html, flags=re.S)
                if row and HIDDEN not in row.group(0):
                    problems.append(f"{url}: the team {team} (fewer than 5 people) shows figures")
    assert not problems, f"{role}: " + "\n".join(problems[:40])
    return seen


def check_csv(url: str, body: str, people) -> list[str]:
    rows = list(csv.reader(io.StringIO(body)))
    header = rows[0] if rows else []
    found = [f"{url}: a per-person column {c!r}" for c in ("name", "email", "person") if c in header]
    found += [f"{url}: names {n}" for n, e in people if n in body or e in body]
    if "members" in header:  # the teams report: a small team's figures are left empty
        i = header.index("members")
        found += [f"{url}: a team of {r[i]} people" for r in rows[1:] if r[i].isdigit() and int(r[i]) < 5]
    return found


# --- (a) a seed-scale company -------------------------------------------------------------------------------

def _scale_world(app):
    """60 people in three teams of about 20, plus a team of 3 and one of 4 (managed by the manager of the first big
    team); a ready evidence pack, asked for in the mode. Returns (admin client, manager e-mail, values, small names)."""
    from leadthe.models import Organization, Team, TeamMembership, User
    from leadthe.scale import seed_scale

    with app.app_context():
        org = seed_scale(users=60, teams=3, echo=lambda *_: None)
        org_id = org.id
        teams = list(db.session.scalars(sa.select(Team).where(Team.org_id == org_id).order_by(Team.id)))
        manager = db.session.scalar(sa.select(User).join(TeamMembership, TeamMembership.user_id == User.id).where(
            TeamMembership.team_id == teams[0].id, TeamMembership.is_manager.is_(True)))
        manager.role = "manager"
        spare = list(db.session.scalars(sa.select(TeamMembership.user_id).where(
            TeamMembership.team_id == teams[1].id, TeamMembership.is_manager.is_(False)).order_by(TeamMembership.user_id)))
        small = []
        for name, members in (("Tiny team", spare[:3]), ("Four people", spare[3:7])):
            team = Team(org_id=org_id, name=name)
            db.session.add(team)
            db.session.flush()
            db.session.add(TeamMembership(org_id=org_id, team_id=team.id, user_id=manager.id, is_manager=True))
            db.session.add_all(TeamMembership(org_id=org_id, team_id=team.id, user_id=u) for u in members)
            small.append(team)
        db.session.commit()
        # the manager counts in the small teams too: 4 and 5 people; the second is no longer small, make it 4
        db.session.execute(sa.delete(TeamMembership).where(TeamMembership.team_id == small[1].id,
                                                            TeamMembership.user_id == spare[6]))
        learner = db.session.scalar(sa.select(User.id).where(User.org_id == org_id, User.role == "learner").order_by(User.id))
        admin = db.session.scalar(sa.select(User).where(User.org_id == org_id, User.role == "admin"))
        db.session.commit()
        values = {"team_id": str(small[0].id), "user_id": str(learner), "org_id": str(org_id)}
        course = db.session.execute(sa.text("select c.id, m.id, l.id from course c join course_module m on m.course_id = c.id "
                                            "join lesson l on l.module_id = m.id where c.org_id = :o order by l.id limit 1"),
                                    {"o": org_id}).one()
        values.update({"course_id": str(course[0]), "module_id": str(course[1]), "lesson_id": str(course[2])})
        info = dict(org_id=org_id, admin=admin.email, manager=manager.email, big_team=teams[0].id,
                    small=[t.name for t in small], small_ids=[t.id for t in small])
        assert db.session.get(Organization, org_id).works_council_mode is False
    return values, info


def test_scale_company_in_works_council_mode_shows_no_one_and_no_small_group(app):
    from leadthe.scale import SCALE_PASSWORD

    values, info = _scale_world(app)
    set_mode(app, info["org_id"])
    people = learners(app, info["org_id"])
    assert len(people) > 50

    admin = app.test_client()
    login(admin, info["admin"], SCALE_PASSWORD)
    # an evidence pack asked for and built in the mode: team level only, and nobody's access log gets an entry
    from leadthe.literacy.evidence import file_path, run_pack, start_pack
    from leadthe.models import AccessLogEntry, EvidencePack, User

    with app.test_request_context():
        pack = start_pack(db.session.get(User, db.session.scalar(sa.select(User.id).where(User.email == info["admin"]))))
        db.session.commit()
        run_pack(pack.id)
        pack = db.session.get(EvidencePack, pack.id)
        assert pack.team_figures_only is True
        with zipfile.ZipFile(file_path(pack)) as zf:
            names = zf.namelist()
            text = "\n".join(zf.read(n).decode("utf-8", "replace") for n in names if not n.endswith(".pdf"))
        assert not {"people.csv", "requirements.csv", "quiz_results.csv"} & {n.rsplit("/", 1)[-1] for n in names}
        assert not [n for n, e in people if n in text or e in text]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessLogEntry)) == 0
        values["pack_id"] = str(pack.id)

    seen = walk(app, admin, values, people, info["small"], "admin")
    assert seen["admin.team_detail"] == 200 and seen["admin.report_csv"] == 404  # (no report named: 404)

    # every report: the per-person one is refused with a page that says why; the others hold groups only
    refused = admin.get("/admin/reports.csv?report=people")
    assert refused.status_code == 403 and "works-council mode" in refused.get_data(as_text=True)
    assert not [n for n, _e in people if n in refused.get_data(as_text=True)]
    for report in ("teams", "activity", "courses"):
        response = admin.get(f"/admin/reports.csv?report={report}")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert not check_csv(report, response.get_data(as_text=True), people)
    teams_csv = admin.get("/admin/reports.csv?report=teams").get_data(as_text=True)
    for name in info["small"]:
        assert re.search(re.escape(name) + r",,,,,,,,.*" + HIDDEN, teams_csv), teams_csv
    assert re.search(r"Team 000,[12]\d,", teams_csv)  # a big team's figures are there
    dashboard = admin.get("/admin").get_data(as_text=True)
    assert NOTE in dashboard and "People and their progress" not in dashboard
    teams = admin.get("/admin/teams").get_data(as_text=True)
    assert NOTE in teams and teams.count(HIDDEN) == 2
    big = admin.get(f"/admin/teams/{info['big_team']}").get_data(as_text=True)
    assert "Active in the last 7 days" in big and HIDDEN not in big  # 20 people: the team's figures
    small = admin.get(f"/admin/teams/{info['small_ids'][1]}").get_data(as_text=True)
    assert HIDDEN in small and "Active in the last 7 days" not in small
    person = admin.get(f"/admin/users/{values['user_id']}").get_data(as_text=True)
    assert "Lessons completed" not in person and "AI maturity level" not in person and "Role" in person
    assert "Last active" not in admin.get("/admin/users").get_data(as_text=True)
    old_literacy = admin.get("/admin/literacy.csv").get_data(as_text=True)
    assert old_literacy.splitlines()[0].startswith("grouped_by")

    manager = signed_in(app, info["manager"], SCALE_PASSWORD)
    walk(app, manager, values, people, info["small"], "manager")
    walk(app, manager, {**values, "team_id": str(info["big_team"])}, people, info["small"], "manager, a big team")
    mine = manager.get("/admin/teams").get_data(as_text=True)
    assert mine.count(HIDDEN) == 2 and "Team 000" in mine
    assert manager.get("/admin/reports.csv?report=people").status_code == 403


def test_the_walk_fails_when_the_mode_is_off(app):
    """The same checks find names and small groups when the mode is off: they can fail."""
    from leadthe.scale import SCALE_PASSWORD

    values, info = _scale_world(app)
    people = learners(app, info["org_id"])
    admin = app.test_client()
    login(admin, info["admin"], SCALE_PASSWORD)
    try:
        walk(app, admin, values, people, info["small"], "admin")
    except AssertionError as exc:
        assert "names Person" in str(exc) or "shows" in str(exc)
    else:
        raise AssertionError("the walk found nothing with works-council mode off")
    assert check_csv("people", admin.get("/admin/reports.csv?report=people").get_data(as_text=True), people)


# --- (b) the demo company -----------------------------------------------------------------------------------

EMAILS = {"admin": "admin@acme.example", "manager": "manager@acme.example", "learner": "learner@acme.example",
          "staff": "sam.staff@leadthe.example", "dpo": "dana.dpo@leadthe.example"}


def test_demo_company_in_works_council_mode(app):
    from leadthe.demo import DEMO_PASSWORD

    values, _accounts = every_page_data_set(app, EMAILS)
    org_id = int(values["org_id"])
    set_mode(app, org_id)
    people = learners(app, org_id)
    assert {"Lea Learner", "Erin Engineer"} <= {n for n, _e in people}
    for role in ("admin", "manager"):
        client = app.test_client()
        login(client, EMAILS[role], DEMO_PASSWORD)
        seen = walk(app, client, values, people, ["Sales", "Engineering"], role)
        assert seen["admin.team_detail"] == 200 and seen["admin.user_detail"] == 200
        team = client.get(f"/admin/teams/{values['team_id']}").get_data(as_text=True)
        assert HIDDEN in team and "Members and their progress" not in team  # a team of 3: no figures
        assert client.get("/admin/reports.csv?report=people").status_code == 403
        if role == "admin":
            assert seen["literacy_admin.evidence_download"] == 403  # made before the mode: per-person rows
            refused = client.get(f"/admin/literacy/evidence/{values['pack_id']}/download").get_data(as_text=True)
            assert "not available in works-council mode" in refused
            teams = client.get("/admin/teams").get_data(as_text=True)
            assert teams.count(HIDDEN) >= 2
    set_mode(app, org_id, False)  # and with the mode off, the same walk finds names: the check can fail
    client = signed_in(app, EMAILS["admin"], DEMO_PASSWORD)
    try:
        walk(app, client, values, people, ["Sales", "Engineering"], "admin")
    except AssertionError:
        pass
    else:
        raise AssertionError("the demo walk found nothing with works-council mode off")


# --- leaderboards: opted-in people only -----------------------------------------------------------------------

def _points(app, user, lessons):
    from datetime import timedelta

    from leadthe.models import ActivityDay, utcnow

    with app.app_context():
        db.session.add(ActivityDay(user_id=user.id, day=utcnow().date() - timedelta(days=1), seconds=600,
                                   lessons_completed=lessons))
        db.session.commit()


def _settings(app, user, **values):
    from leadthe.models import PrivacySettings

    with app.app_context():
        row = db.session.get(PrivacySettings, user.id) or PrivacySettings(user_id=user.id)
        for k, v in values.items():
            setattr(row, k, v)
        db.session.add(row)
        db.session.commit()


def test_leaderboard_shows_only_people_who_opted_in(app, companies):
    a, _ = companies
    with app.app_context():
        from leadthe.models import Organization
        db.session.get(Organization, a.org.id).leaderboard_enabled = True
        db.session.commit()
    keen = make_user(app, a.org, name="Keen Kim")
    quiet = make_user(app, a.org, name="Quiet Quinn")
    both = make_user(app, a.org, name="Torn Toni")
    for p, n in ((keen, 3), (quiet, 9), (both, 5)):
        _points(app, p, n)
    _settings(app, keen, leaderboard_opt_in=True)
    _settings(app, both, leaderboard_opt_in=True, object_leaderboard=True)  # opted in and objects: not shown
    client = signed_in(app, a.learner.email)
    before = client.get("/leaderboard?scope=org&period=all").get_data(as_text=True)
    assert "Quiet Quinn" in before  # without the mode everyone not objecting is ranked
    set_mode(app, a.org.id)
    html = client.get("/leaderboard?scope=org&period=all").get_data(as_text=True)
    assert "Keen Kim" in html and "Quiet Quinn" not in html and "Torn Toni" not in html
    assert "you have not chosen to appear" in html and "Your rank" not in html

    # the learner opts in from the privacy centre (a form POST), and is ranked
    page = client.get("/privacy/processing").get_data(as_text=True)
    assert 'name="leaderboard_opt_in"' in page
    response = post_form(client, "/privacy/processing", {"leaderboard_opt_in": "y"})
    assert response.status_code == 303
    html = client.get("/leaderboard?scope=org&period=all").get_data(as_text=True)
    assert "Your rank" in html and a.learner.name in html
    centre = client.get("/privacy").get_data(as_text=True)
    assert "Leaderboard: you chose to appear" in centre
    assert "your learning only within figures of groups of at least 5 people" in centre  # who sees what, in the mode
    # unticking it takes the learner off again, and is kept as a withdrawal of consent
    assert post_form(client, "/privacy/processing", {}).status_code == 303
    assert "Your rank" not in client.get("/leaderboard?scope=org&period=all").get_data(as_text=True)
    with app.app_context():
        from leadthe.models import PrivacyRequest
        kinds = list(db.session.scalars(sa.select(PrivacyRequest.kind).where(PrivacyRequest.user_id == a.learner.id)))
    assert kinds == ["consent_withdrawal"]
    # without the mode the toggle is not offered, and posting the other choices leaves the opt-in alone
    set_mode(app, a.org.id, False)
    _settings(app, a.learner, leaderboard_opt_in=True)
    assert 'name="leaderboard_opt_in"' not in client.get("/privacy/processing").get_data(as_text=True)
    post_form(client, "/privacy/processing", {"object_recommendations": "y"})
    with app.app_context():
        from leadthe.models import PrivacySettings
        assert db.session.get(PrivacySettings, a.learner.id).leaderboard_opt_in is True


def test_managers_weekly_digest_hides_small_teams(app, companies):
    from leadthe.models import ActivityDay, TeamMembership, utcnow
    from leadthe.progress.services import send_manager_digests
    from tests.conftest import outbox

    a, _ = companies
    today = utcnow().date()
    with app.app_context():
        db.session.execute(sa.update(TeamMembership).where(TeamMembership.user_id == a.learner.id).values(is_manager=False))
        db.session.add(ActivityDay(user_id=a.learner.id, day=today, seconds=1800, lessons_completed=3))
        db.session.commit()
    set_mode(app, a.org.id)
    with app.app_context():
        assert send_manager_digests(today) >= 1
    body = next(m.body_text for m in outbox(app) if m.kind == "progress_digest" and m.to_addr == a.manager.email)
    assert "Team A: not shown: fewer than 5 people" in body and "3 lessons" not in body
