"""Logging in during the deletion's grace period offers to keep the account, after the correct password
(and code, with two-step verification); a wrong password gets the ordinary error."""
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import PrivacyRequest, User
from tests.conftest import PASSWORD, enable_2fa, fresh_code, post_form
from tests.helpers import login


def schedule_deletion(client, user):
    login(client, user)
    response = post_form(client, "/privacy/delete", {"password": PASSWORD, "confirm_email": user.email}, page="/privacy")
    assert response.status_code == 303


def status_of(app, user):
    with app.app_context():
        return db.session.get(User, user.id).status


def test_the_right_password_during_the_grace_period_offers_to_keep_the_account(client, app, companies):
    a, _ = companies
    schedule_deletion(client, a.learner)
    response = post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/login/keep-account"
    page = client.get("/login/keep-account").get_data(as_text=True)
    assert "Keep my account" in page and "not active" not in page
    assert client.get("/dashboard").status_code == 302  # not signed in yet
    response = post_form(client, "/login/keep-account", {})
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
    assert status_of(app, a.learner) == "active"
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200 and "Your account is kept" in dashboard.get_data(as_text=True)
    with app.app_context():
        req = db.session.scalars(sa.select(PrivacyRequest).where(PrivacyRequest.user_id == a.learner.id)).one()
        assert req.status == "cancelled"


def test_a_wrong_password_gets_the_ordinary_error(client, app, companies):
    a, _ = companies
    schedule_deletion(client, a.learner)
    response = post_form(client, "/login", {"email": a.learner.email, "password": "not the password!"})
    unknown = post_form(app.test_client(), "/login", {"email": "nobody@a.example", "password": "not the password!"})
    assert response.status_code == unknown.status_code == 422
    text = response.get_data(as_text=True)
    assert "match an account" in text and "deleted" not in text and "not active" not in text
    # and no way round the password: the keep page alone does nothing
    assert client.get("/login/keep-account").status_code == 302
    assert status_of(app, a.learner) == "erasure_pending"


def test_with_two_step_verification_keeping_needs_the_code(client, app, companies):
    a, _ = companies
    secret_user = a.learner
    secret_user.otp_secret, _codes = enable_2fa(app, a.learner)
    # schedule the deletion while signed in with the code
    first = post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    assert first.headers["Location"].endswith("/login/2fa")
    post_form(client, "/login/2fa", {"code": fresh_code(app, secret_user)})
    assert post_form(client, "/privacy/delete", {"password": PASSWORD, "confirm_email": a.learner.email,
                                                 "code": fresh_code(app, secret_user)}, page="/privacy").status_code == 303
    assert post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD}).status_code == 303
    wrong = post_form(client, "/login/keep-account", {"code": "000000"})
    assert wrong.status_code == 422 and status_of(app, a.learner) == "erasure_pending"
    right = post_form(client, "/login/keep-account", {"code": fresh_code(app, secret_user)})
    assert right.status_code == 303 and status_of(app, a.learner) == "active"
    assert client.get("/dashboard").status_code == 200
