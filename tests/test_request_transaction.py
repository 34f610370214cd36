"""One transaction per request: views and services flush; an unsafe request commits once at its end when it
succeeded (no exception, an answer below 400, not a form answered with errors) and rolls back otherwise; audit
events of refusals are written apart and survive the rollback (leadthe.database.one_transaction_per_request)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import abort, redirect

from leadthe.extensions import db
from tests.conftest import PASSWORD, audit_actions, csrf_from, make_org, make_user, post_form
from tests.helpers import close_step_up_window

LEADTHE = Path(__file__).resolve().parent.parent / "leadthe"


# --- no view commits ------------------------------------------------------------------------------

def _view_modules() -> list[Path]:
    """Every module that defines routes: views.py, *_views.py, console.py and any other with ``.route(``."""
    found = []
    for path in sorted(LEADTHE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name == "views.py" or path.name.endswith("_views.py") or path.name == "console.py" or ".route(" in text:
            found.append(path)
    return found


def _commit_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"]


def test_no_view_module_commits():
    modules = _view_modules()
    assert any(p.name == "console.py" for p in modules) and any(p.name.endswith("_views.py") for p in modules)
    offenders = [f"{p.relative_to(LEADTHE.parent)}:{line}" for p in modules for line in _commit_calls(p)]
    assert not offenders, f"views flush; the request commits once at its end: {offenders}"


# --- the request hook, on test-only routes ----------------------------------------------------------

def _org_names(app) -> set[str]:
    from leadthe.models import Organization

    with app.app_context():
        return set(db.session.scalars(sa.select(Organization.name)))


@pytest.fixture
def hooked(app, make_app):
    """An app with test-only routes that write a company and then succeed or fail in different ways."""
    from leadthe import audit
    from leadthe.auth.reauth import confirm_identity
    from leadthe.auth.services import authenticate
    from leadthe.auth.forms import ForgotPasswordForm
    from leadthe.htmx import render_form
    from leadthe.models import Organization, User

    extra = make_app()

    def flushed(name):
        db.session.add(Organization(name=name))
        db.session.flush()

    def saved():
        flushed("saved")
        return redirect("/dashboard", code=303)

    def fragment():
        flushed("fragment")
        return "", 204

    def raises():
        flushed("raised")
        raise RuntimeError("after the flush")

    def aborts():
        flushed("aborted")
        abort(404)

    def refused():
        flushed("refused")
        return "no", 422

    def form_errors():
        flushed("form-errors")
        form = ForgotPasswordForm()
        form.validate_on_submit()  # no address given: an error beside the field
        return render_form("auth/forgot_password.html", form, block="forgot_form", sent=False)

    def failed_login():
        flushed("failed-login")
        assert authenticate(extra.config["_EMAIL"], "not the password").user is None
        return "refused", 422

    def refused_step_up():
        flushed("refused-step-up")
        person = db.session.scalar(sa.select(User).where(User.email == extra.config["_EMAIL"])
                                   .execution_options(all_tenants=True))
        assert confirm_identity(person, "not the password") is not None
        audit.record("not.kept", subject=person)  # an ordinary event goes with the request's transaction
        return "refused", 422

    for name, view in [("saved", saved), ("fragment", fragment), ("raises", raises), ("aborts", aborts),
                       ("refused", refused), ("form_errors", form_errors), ("failed_login", failed_login),
                       ("refused_step_up", refused_step_up)]:
        extra.add_url_rule(f"/_test/{name}", name, view, methods=["POST"])
    return extra


def _post(app, name, headers=None):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(f"/_test/{name}", data={"csrf_token": token}, headers=headers or {})


def test_a_successful_post_is_stored(hooked):
    assert _post(hooked, "saved").status_code == 303
    assert _post(hooked, "fragment").status_code == 204
    assert {"saved", "fragment"} <= _org_names(hooked)


@pytest.mark.parametrize("name, status", [("raises", 500), ("aborts", 404), ("refused", 422)])
def test_a_post_that_fails_after_flushing_leaves_nothing_stored(hooked, name, status):
    assert _post(hooked, name).status_code == status
    assert not _org_names(hooked)


def test_a_form_refused_under_htmx_is_rolled_back_although_it_answers_200(hooked):
    assert _post(hooked, "form_errors", headers={"HX-Request": "true"}).status_code == 200
    assert _post(hooked, "form_errors").status_code == 422
    assert not _org_names(hooked)


@pytest.mark.parametrize("name, action", [("failed_login", "login.failed"), ("refused_step_up", "reauth.failed")])
def test_a_refused_login_or_step_up_keeps_its_audit_event_and_nothing_else(hooked, name, action):
    make_user(hooked, make_org(hooked, "Acme"), email="ada@example.com")
    hooked.config["_EMAIL"] = "ada@example.com"
    assert _post(hooked, name).status_code == 422
    assert _org_names(hooked) == {"Acme"}
    assert audit_actions(hooked) == [action]


def test_a_commit_that_fails_is_a_500_not_a_redirect(app, make_app):
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from leadthe.models import Organization

    extra = make_app(PROPAGATE_EXCEPTIONS=False)

    def saved():
        db.session.add(Organization(name="never"))
        db.session.flush()
        return redirect("/dashboard", code=303)

    extra.add_url_rule("/_test/saved", "saved", saved, methods=["POST"])

    def refuse_commit(session):
        if session.info.get("_refuse_commit"):
            raise RuntimeError("the database refused the commit")

    def arm(session, _context):
        session.info["_refuse_commit"] = True

    event.listen(Session, "after_flush", arm)
    event.listen(Session, "before_commit", refuse_commit)
    try:
        assert _post(extra, "saved").status_code == 500
    finally:
        event.remove(Session, "before_commit", refuse_commit)
        event.remove(Session, "after_flush", arm)
    assert "never" not in _org_names(extra)


def test_record_apart_outside_a_request_writes_at_once(app):
    from leadthe import audit

    with app.app_context():
        audit.record_apart("cli.something")
        db.session.rollback()  # the CLI's own transaction: does not take the event with it
    assert audit_actions(app) == ["cli.something"]


# --- the real pages -------------------------------------------------------------------------------

def test_a_failed_login_keeps_its_audit_event(app, client):
    user = make_user(app, make_org(app), email="ada@example.com")
    response = post_form(client, "/login", {"email": "ada@example.com", "password": "wrong " + PASSWORD})
    assert response.status_code == 422
    from leadthe.models import UserSession

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0
    assert audit_actions(app) == ["login.failed"]
    assert user.id


def test_a_refused_step_up_on_a_real_page_keeps_its_audit_event(app, client, auth):
    make_user(app, make_org(app), email="ada@example.com")
    auth.login("ada@example.com")
    close_step_up_window(app, "ada@example.com")
    response = post_form(client, "/privacy/export", {"password": "not the password"}, page="/privacy")
    assert response.status_code == 422
    actions = audit_actions(app)
    assert actions[-1] == "reauth.failed"
    from leadthe.models import DataExport

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DataExport)) == 0


def test_a_step_up_that_succeeded_in_a_refused_request_keeps_its_window(app, client, auth):
    make_user(app, make_org(app), email="ada@example.com")
    auth.login("ada@example.com")
    close_step_up_window(app, "ada@example.com")
    wrong = post_form(client, "/privacy/delete", {"password": PASSWORD, "confirm_email": "eve@example.com"}, page="/privacy")
    assert wrong.status_code == 422  # the password was right, the typed address was not
    assert audit_actions(app)[-1] == "reauth.success"
    # within the window the password is not asked again, as the page (drawn in the refused request) promised
    again = post_form(client, "/privacy/delete", {"confirm_email": "ada@example.com"}, page="/privacy")
    assert again.status_code == 303 and again.headers["Location"].endswith("/privacy/deleted")


def test_a_code_used_in_a_refused_request_stays_used(app, client):
    import pyotp

    from tests.conftest import enable_2fa, fresh_code, login_with_code

    org = make_org(app)
    make_user(app, org, email="taken@example.com")
    user = make_user(app, org, email="ada@example.com")
    user.otp_secret, _codes = enable_2fa(app, user)
    assert login_with_code(client, app, user).status_code == 303
    code = fresh_code(app, user)
    taken = post_form(client, "/account/email", {"email": "taken@example.com", "password": PASSWORD, "code": code},
                      page="/account/profile")
    assert taken.status_code == 422 and "Another account uses that address." in taken.get_data(as_text=True)
    replayed = post_form(client, "/account/email", {"email": "new@example.com", "password": PASSWORD, "code": code},
                         page="/account/profile")
    assert replayed.status_code == 422 and "already used" in replayed.get_data(as_text=True)
    assert pyotp.TOTP(user.otp_secret).verify(code, valid_window=1)  # refused as used, not as wrong
