"""/admin/ai-lab: connecting the company's model (step-up, the key encrypted and write-only, no internal
addresses in production), the guard mode, quotas, retention, the audit log, the AI tools inventory, "test
connection" through the worker, and use per month by team (counts only, a fixed number of statements)."""
from __future__ import annotations

import re
import socket
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from leadthe.extensions import db
from leadthe.lab import provider
from leadthe.models import AiTool, Job, utcnow
from leadthe.models.lab import LabSettings, LabUsage
from leadthe.worker import run_once
from tests.conftest import PASSWORD, audit_actions, csrf_from, make_team, make_user
from tests.helpers import count_statements, signed_in, sqlite_file_bytes

PAGE = "/admin/ai-lab"
TEST = "/admin/ai-lab/test"
KEY = "sk-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def dns(monkeypatch):
    """``dns["name"] = [addresses]``: what a host name resolves to (others resolve for real)."""
    table: dict[str, list[str]] = {"api.model.example": ["20.50.2.1"]}

    def fake(host, port, *args, **kwargs):
        if host in table:
            return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                     (ip, port, 0, 0) if ":" in ip else (ip, port)) for ip in table[host]]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return table


@pytest.fixture
def production(app, monkeypatch):
    monkeypatch.setitem(app.config, "LAB_ALLOW_PRIVATE_URLS", False)


def form(**changes) -> dict:
    data = {"provider": "openai", "base_url": "https://api.model.example/v1", "model": "gpt-4o-mini",
            "provider_name": "Azure OpenAI (EU)", "api_key": KEY, "model_feedback": "y", "guard_mode": "warn",
            "person_daily_tokens": "20000", "company_monthly_tokens": "2000000", "retention_days": "30",
            "password": PASSWORD}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def save(client, **changes):
    html = client.get(PAGE).get_data(as_text=True)
    return client.post(PAGE, data={"csrf_token": csrf_from(html), **form(**changes)})


def settings_of(app, org) -> LabSettings | None:
    with app.app_context():
        found = db.session.scalar(sa.select(LabSettings).where(LabSettings.org_id == org.id))
        if found is not None:
            db.session.expunge(found)
        return found


def error_beside(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


# --- saving the connection ---------------------------------------------------------------------------

def test_an_admin_connects_a_model_with_step_up(app, companies, dns, production):
    a, _b = companies
    admin = signed_in(app, a.admin, step_up_window=False)
    page = admin.get(PAGE).get_data(as_text=True)
    assert "OpenAI-compatible" in page and "Ollama" in page and "LM Studio" in page and 'type="password"' in page

    refused = save(admin, password="")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Enter your password to confirm it is you." in error_beside(html, "password")
    assert 'value="https://api.model.example/v1"' in html and 'value="Azure OpenAI (EU)"' in html  # nothing typed lost
    assert KEY not in html  # ...except the key, which is never sent back
    assert settings_of(app, a.org) is None
    assert save(admin, password="wrong password here").status_code == 422
    assert settings_of(app, a.org) is None

    response = save(admin)
    assert response.status_code == 303 and response.headers["Location"].endswith(PAGE)
    saved = settings_of(app, a.org)
    assert (saved.provider, saved.base_url, saved.model, saved.provider_name, saved.model_feedback) == (
        "openai", "https://api.model.example/v1", "gpt-4o-mini", "Azure OpenAI (EU)", True)
    assert saved.key_set_at is not None
    actions = audit_actions(app)
    assert {"lab.connection_changed", "lab.key_set", "ai_tool.created"} <= set(actions)

    page = admin.get(PAGE).get_data(as_text=True)
    assert KEY not in page and KEY[-8:] not in page
    assert "A key is saved (set" in page
    # the model is in the company's AI tools inventory, approved, for people and admins alike
    with app.app_context():
        tool = db.session.get(AiTool, saved.tool_id)
        assert (tool.name, tool.status, tool.personal_data_allowed) == ("Practice lab: Azure OpenAI (EU)", "approved", False)
    assert "Practice lab: Azure OpenAI (EU)" in signed_in(app, a.learner).get("/ai-tools").get_data(as_text=True)
    assert "Practice lab: Azure OpenAI (EU)" in admin.get("/admin/ai-tools").get_data(as_text=True)

    # renaming the provider renames its inventory entry (no second entry)
    assert save(admin, provider_name="Azure OpenAI (Sweden)", api_key="").status_code == 303
    with app.app_context():
        names = db.session.scalars(sa.select(AiTool.name).where(AiTool.org_id == a.org.id)).all()
    assert names == ["Practice lab: Azure OpenAI (Sweden)"]


def test_the_key_is_encrypted_at_rest_and_survives_rotation(app, companies, dns, make_app, database_url, backend):
    a, _b = companies
    admin = signed_in(app, a.admin)
    assert save(admin).status_code == 303
    with app.app_context():
        raw = db.session.execute(sa.text("SELECT api_key FROM lab_settings WHERE org_id = :o"), {"o": a.org.id}).scalar()
    assert raw and KEY not in raw and raw.startswith("gAAAA")
    old_key = app.config["LEADTHE_DATA_KEYS"][0]
    if backend == "sqlite":
        blob = sqlite_file_bytes(database_url)
        assert KEY.encode() not in blob

    new_key = Fernet.generate_key().decode()
    rotated = make_app(LEADTHE_DATA_KEYS=[new_key, old_key])
    result = rotated.test_cli_runner().invoke(args=["leadthe", "rotate-data-key"])
    assert result.exit_code == 0, result.output
    assert "lab_settings.api_key: 1 re-encrypted" in result.output
    with app.app_context():
        after = db.session.execute(sa.text("SELECT api_key FROM lab_settings WHERE org_id = :o"), {"o": a.org.id}).scalar()
    assert after != raw and Fernet(new_key.encode()).decrypt(after.encode()).decode() == KEY
    new_only = make_app(LEADTHE_DATA_KEYS=[new_key])
    with new_only.app_context():
        assert db.session.scalar(sa.select(LabSettings).where(LabSettings.org_id == a.org.id)).api_key == KEY


def test_an_empty_key_field_keeps_the_key_and_remove_deletes_it(app, companies, dns):
    a, _b = companies
    admin = signed_in(app, a.admin)
    assert save(admin).status_code == 303
    assert save(admin, api_key="", model="gpt-4.1-mini").status_code == 303
    with app.app_context():
        kept = db.session.scalar(sa.select(LabSettings).where(LabSettings.org_id == a.org.id))
        assert kept.api_key == KEY and kept.model == "gpt-4.1-mini"
    both = save(admin, remove_key="y")
    assert both.status_code == 422 and "not both" in error_beside(both.get_data(as_text=True), "remove_key")
    assert save(admin, api_key="", remove_key="y").status_code == 303
    saved = settings_of(app, a.org)
    with app.app_context():
        assert db.session.get(LabSettings, saved.id).api_key is None
    assert "lab.key_removed" in audit_actions(app)
    assert "No key is saved" in admin.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize("url, host_ip", [
    ("https://127.0.0.1/v1", None), ("https://10.0.0.5/v1", None), ("https://192.168.1.20/v1", None),
    ("https://169.254.169.254/latest/meta-data", None), ("https://[::1]/v1", None),
    ("https://llm.intranet.example/v1", "10.20.30.40"), ("https://rebind.example/v1", "169.254.169.254"),
    ("http://api.model.example/v1", None), ("http://127.0.0.1:11434/v1", None),
])
def test_production_refuses_internal_addresses_and_plain_http(app, companies, dns, production, url, host_ip):
    a, _b = companies
    if host_ip:
        dns[url.split("/")[2]] = [host_ip]
    admin = signed_in(app, a.admin)
    response = save(admin, base_url=url)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_beside(html, "base_url"), url
    assert f'value="{url}"' in html  # kept for correcting
    assert settings_of(app, a.org) is None


def test_production_accepts_a_public_https_host(app, companies, dns, production):
    a, _b = companies
    dns["my-resource.openai.azure.example"] = ["20.43.1.9"]
    assert save(signed_in(app, a.admin), base_url="https://my-resource.openai.azure.example/openai/v1").status_code == 303
    assert settings_of(app, a.org).base_url == "https://my-resource.openai.azure.example/openai/v1"


def test_errors_stay_beside_their_fields_and_keep_what_was_typed(app, companies, dns):
    a, _b = companies
    admin = signed_in(app, a.admin)
    response = save(admin, retention_days="400", model="", person_daily_tokens="lots", base_url="ftp://api.model.example/v1")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "0 to 365" in error_beside(html, "retention_days")
    assert error_beside(html, "person_daily_tokens") == "Enter a whole number, e.g. 20000."  # one message, not two
    assert "Enter the model" in error_beside(html, "model")  # all at once: the connection's checks ran too
    assert "must start with https://" in error_beside(html, "base_url")
    assert 'value="Azure OpenAI (EU)"' in html and 'value="400"' in html and KEY not in html
    assert settings_of(app, a.org) is None


def test_guard_quota_and_retention_changes_are_audited(app, companies, dns):
    a, _b = companies
    admin = signed_in(app, a.admin)
    assert save(admin).status_code == 303
    before = len(audit_actions(app))
    assert save(admin, api_key="", guard_mode="block", person_daily_tokens="5000", retention_days="7").status_code == 303
    new = audit_actions(app)[before:]
    assert {"lab.guard_changed", "lab.quotas_changed", "lab.retention_changed"} <= set(new)
    assert "lab.connection_changed" not in new and "lab.key_set" not in new
    saved = settings_of(app, a.org)
    assert (saved.guard_mode, saved.person_daily_tokens, saved.retention_days) == ("block", 5000, 7)
    log = admin.get("/admin/audit").get_data(as_text=True)
    assert "Practice lab: quotas changed" in log and "Practice lab: API key saved" in log
    assert "tokens per person per day" in log and "person_daily_tokens" not in log
    # the same values again: nothing to confirm, nothing recorded
    assert save(admin, api_key="", guard_mode="block", person_daily_tokens="5000", retention_days="7",
                password="").status_code == 303
    assert len(audit_actions(app)) == len(new) + before


def test_no_model_saves_the_guard_and_quotas_without_a_url(app, companies):
    a, _b = companies
    admin = signed_in(app, a.admin)
    assert save(admin, provider="none", base_url="", model="", api_key="", guard_mode="block").status_code == 303
    saved = settings_of(app, a.org)
    assert saved.provider == "none" and saved.guard_mode == "block" and saved.tool_id is None


# --- who may see it --------------------------------------------------------------------------------

def test_only_the_companys_admins_see_or_change_it(app, companies, dns):
    a, b = companies
    assert save(signed_in(app, a.admin)).status_code == 303
    for person in (a.manager, a.learner):
        client = signed_in(app, person)
        assert client.get(PAGE).status_code == 403
        assert client.get(TEST).status_code == 403
    other = signed_in(app, b.admin)
    page = other.get(PAGE).get_data(as_text=True)
    assert 'value="https://api.model.example/v1"' not in page and 'value="Azure OpenAI (EU)"' not in page
    assert "A key is saved" not in page
    assert save(other, base_url="https://api.model.example/b", provider_name="B's model").status_code == 303
    assert settings_of(app, a.org).provider_name == "Azure OpenAI (EU)"
    assert settings_of(app, b.org).provider_name == "B's model"
    with app.app_context():
        tools = dict(db.session.execute(sa.select(AiTool.org_id, AiTool.name)).all())
    assert tools == {a.org.id: "Practice lab: Azure OpenAI (EU)", b.org.id: "Practice lab: B's model"}
    assert "Practice lab" not in signed_in(app, a.manager).get("/admin").get_data(as_text=True)


# --- test connection ----------------------------------------------------------------------------------

def test_test_connection_runs_in_the_worker_and_the_page_shows_the_result(app, companies, dns, monkeypatch):
    a, _b = companies
    admin = signed_in(app, a.admin)
    calls = []

    def fake_test(conn):
        calls.append(conn)
        return True, "The model answered in 0.4 s."

    monkeypatch.setattr(provider, "test_connection", fake_test)
    html = admin.get(PAGE).get_data(as_text=True)
    assert "Test connection" not in html  # nothing saved yet to test
    assert save(admin).status_code == 303
    html = admin.get(PAGE).get_data(as_text=True)
    response = admin.post(TEST, data={"csrf_token": csrf_from(html)})
    assert response.status_code == 303 and response.headers["Location"].endswith(TEST)
    waiting = admin.get(TEST).get_data(as_text=True)
    assert "Testing the connection…" in waiting
    assert '<noscript><meta http-equiv="refresh"' in waiting and 'data-hx-trigger="every 2s"' in waiting
    assert "Testing the connection…" in admin.get(PAGE).get_data(as_text=True)
    assert calls == []  # not in the web request

    with app.app_context():
        run_once()
    assert len(calls) == 1
    assert (calls[0].base_url, calls[0].model, calls[0].api_key) == ("https://api.model.example/v1", "gpt-4o-mini", KEY)
    assert calls[0].connect_timeout == app.config["LAB_CONNECT_TIMEOUT"]
    fragment = admin.get(TEST, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Connection works" in fragment and "The model answered in 0.4 s." in fragment
    assert "<html" not in fragment and "data-hx-trigger" not in fragment  # polling stops
    page = admin.get(PAGE).get_data(as_text=True)
    assert "Connection works" in page and "Testing the connection…" not in page and KEY not in page


def test_a_failed_test_is_shown_and_a_new_connection_forgets_the_old_result(app, companies, dns, monkeypatch):
    a, _b = companies
    admin = signed_in(app, a.admin)

    def refuses(conn):
        raise provider.ProviderError("auth", "401 from the model")

    monkeypatch.setattr(provider, "test_connection", refuses)
    assert save(admin).status_code == 303
    admin.post(TEST, data={"csrf_token": csrf_from(admin.get(PAGE).get_data(as_text=True))})
    with app.app_context():
        run_once()
        assert db.session.scalar(sa.select(Job.status).where(Job.kind == "lab.test_connection")) == "done"
    page = admin.get(TEST).get_data(as_text=True)
    assert "Connection failed" in page and "refused the API key (401)" in page
    assert save(admin, api_key="", model="other-model").status_code == 303
    assert "Not tested yet." in admin.get(PAGE).get_data(as_text=True)


# --- use by team ----------------------------------------------------------------------------------------

def plant_usage(app, org, people_by_team: dict, today: date):
    with app.app_context():
        for i, person in enumerate(p for people in people_by_team.values() for p in people):
            db.session.add(LabUsage(org_id=org.id, user_id=person.id, day=today, tokens=1000 + i, calls=2, exercises_passed=1))
            db.session.add(LabUsage(org_id=org.id, user_id=person.id, day=today.replace(day=1) - timedelta(days=3),
                                    tokens=500, calls=1, exercises_passed=0))
        db.session.commit()


def test_use_by_team_is_counts_only_in_a_fixed_number_of_statements(app, companies):
    a, b = companies
    admin = signed_in(app, a.admin)
    empty = admin.get(PAGE).get_data(as_text=True)
    assert "Nobody has used the practice lab yet" in empty and "never see learners' prompts" in empty
    today = utcnow().date()
    loner = make_user(app, a.org, email="loner@a.example", name="Lone Learner")
    plant_usage(app, a.org, {"A": [a.learner, a.manager], None: [loner]}, today)
    plant_usage(app, b.org, {"B": [b.learner]}, today)
    few = count_statements(app, admin, PAGE)
    page = admin.get(PAGE).get_data(as_text=True)
    this_month = re.search(r"<table class=\"data stack\">(.*?)</table>", page, re.S).group(1)
    assert "Team A" in this_month and "No team" in this_month
    row = re.search(r'<th scope="row">Team A</th>(.*?)</tr>', this_month, re.S).group(1)
    assert re.findall(r">([\d,]+)</td>", row) == ["2,001", "4", "2", "2"]
    assert "Team B" not in page and "Lone Learner" not in page and "Learner A" not in page
    assert "This month your company used 3,003 of its 2,000,000 tokens." in page

    # five more teams with people and use: the same number of statements
    for n in range(5):
        person = make_user(app, a.org, email=f"p{n}@a.example")
        make_team(app, a.org, f"Team {n}", members=[person])
        plant_usage(app, a.org, {n: [person]}, today)
    assert count_statements(app, admin, PAGE) == few


def test_a_pause_after_repeated_failures_is_shown(app, companies, dns):
    a, _b = companies
    admin = signed_in(app, a.admin)
    assert save(admin).status_code == 303
    with app.app_context():
        db.session.execute(sa.update(LabSettings).where(LabSettings.org_id == a.org.id).values(
            failures=3, paused_until=utcnow() + timedelta(minutes=1)))
        db.session.commit()
    assert "Calls to your model are paused until" in admin.get(PAGE).get_data(as_text=True)


def test_an_inventory_entry_of_the_same_name_is_reused_not_doubled(app, companies, dns):
    a, _b = companies
    with app.app_context():
        db.session.add(AiTool(org_id=a.org.id, name="practice lab: azure openai (eu)", status="under_review"))
        db.session.commit()
    assert save(signed_in(app, a.admin)).status_code == 303
    with app.app_context():
        tools = db.session.execute(sa.select(AiTool.id, AiTool.status).where(AiTool.org_id == a.org.id)).all()
    assert len(tools) == 1 and tools[0].status == "approved"
    assert settings_of(app, a.org).tool_id == tools[0].id


def test_the_provider_is_named_by_its_name_or_its_host(app, companies, dns):
    from leadthe.lab.settings import for_org, provider_label

    a, _b = companies
    admin = signed_in(app, a.admin)
    assert save(admin, provider_name="").status_code == 303
    with app.app_context():
        assert provider_label(for_org(a.org.id)) == "api.model.example"
        assert db.session.scalar(sa.select(AiTool.name).where(AiTool.org_id == a.org.id)) == "Practice lab: api.model.example"
    assert save(admin, provider="none", api_key="").status_code == 303
    with app.app_context():
        assert provider_label(for_org(a.org.id)) == ""
