"""No lost work at the idle timeout: a form posted into an ended session comes back filled after the log-in
(never its password), and htmx requests that meet an ended session send the whole page to the log-in with
the page's address kept."""
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from flask.sessions import SecureCookieSessionInterface

from leadthe.extensions import db
from leadthe.models import UserSession
from tests.conftest import PASSWORD, csrf_from
from tests.helpers import login

MESSAGE = "Half-written: the quiz on lesson 4 does not load on my phone, and"


def shift(app, user, minutes):
    """Move the person's newest session ``minutes`` into the past (as if they had been away)."""
    with app.app_context():
        row = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)
                                 .order_by(UserSession.id.desc())).first()
        row.last_seen_at -= timedelta(minutes=minutes)
        db.session.commit()


def idle_out(app, user):
    shift(app, user, 31)


def next_of(location):
    return parse_qs(urlsplit(location).query).get("next", [None])[0]


def test_a_support_message_posted_after_the_idle_timeout_comes_back_after_log_in(client, app, companies):
    a, _ = companies
    login(client, a.learner)
    token = csrf_from(client.get("/support").get_data(as_text=True))
    idle_out(app, a.learner)
    response = client.post("/support", data={"csrf_token": token, "subject": "Quiz broken", "category": "other",
                                             "body": MESSAGE}, headers={"Referer": "http://localhost/support"})
    assert response.status_code == 303
    assert next_of(response.headers["Location"]) == "/support" and "ended=idle" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "What you had entered is kept" in page

    response = client.post(
        response.headers["Location"], data={"csrf_token": csrf_from(page), "email": a.learner.email, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"].endswith("/support")
    form = client.get("/support").get_data(as_text=True)
    assert MESSAGE in form and 'value="Quiz broken"' in form
    assert "We kept what you had entered" in form
    # used once: the next visit shows an empty form
    assert MESSAGE not in client.get("/support").get_data(as_text=True)


def test_passwords_and_codes_are_never_kept(client, app, companies):
    a, _ = companies
    login(client, a.learner)
    token = csrf_from(client.get("/account/profile").get_data(as_text=True))
    idle_out(app, a.learner)
    client.post("/account/email", data={"csrf_token": token, "email": "new.address@example.com",
                                        "password": "my-secret-passphrase-1", "code": "123456"},
                headers={"Referer": "http://localhost/account/profile"})
    cookie = client.get_cookie("leadthe_session").value
    with app.test_request_context():
        data = SecureCookieSessionInterface().get_signing_serializer(app).loads(cookie)
    kept = dict(data["kept_form"]["f"])
    assert kept == {"email": "new.address@example.com"}
    assert "my-secret-passphrase-1" not in str(data) and "123456" not in str(data)
    login(client, a.learner)
    page = client.get("/account/profile").get_data(as_text=True)
    assert "new.address@example.com" in page and "my-secret-passphrase-1" not in page


def test_someone_else_logging_in_on_that_browser_does_not_get_the_text(client, app, companies):
    a, _ = companies
    login(client, a.learner)
    token = csrf_from(client.get("/support").get_data(as_text=True))
    idle_out(app, a.learner)
    client.post("/support", data={"csrf_token": token, "subject": "Private", "category": "other", "body": MESSAGE},
                headers={"Referer": "http://localhost/support"})
    login(client, a.manager)
    assert MESSAGE not in client.get("/support").get_data(as_text=True)


def test_a_post_without_a_valid_csrf_token_keeps_nothing(client, app, companies):
    a, _ = companies
    login(client, a.learner)
    client.get("/support")
    idle_out(app, a.learner)
    response = client.post("/support", data={"csrf_token": "forged", "subject": "x", "body": MESSAGE})
    assert response.status_code == 400
    login(client, a.learner)
    assert MESSAGE not in client.get("/support").get_data(as_text=True)


def test_htmx_meeting_an_ended_session_redirects_the_whole_page_with_its_address(client, app, companies):
    a, _ = companies
    login(client, a.learner)
    client.get("/courses")
    idle_out(app, a.learner)
    response = client.get("/courses/search?q=prompt", headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost/courses?topic=safety"})
    assert response.status_code == 200
    target = response.headers["HX-Redirect"]
    assert target.startswith("/login") and next_of(target) == "/courses?topic=safety" and "ended=idle" in target


def test_htmx_return_address_from_another_site_is_not_followed(client, app, companies):
    a, _ = companies
    login(client, a.learner)
    idle_out(app, a.learner)
    response = client.get("/courses", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/phish"})
    target = response.headers["HX-Redirect"]
    assert "evil" not in target and next_of(target) in (None, "/courses")


def test_pages_carry_the_time_left_for_the_idle_warning(client, app, companies):
    a, _ = companies
    signed_out = client.get("/login").get_data(as_text=True)
    # session.js is on every page (issue 22: device data, failed requests), but a signed-out page gives the idle
    # warning nothing to count down from: nobody to warn
    assert "data-session-left" not in signed_out and '<template id="idle-warning">' not in signed_out
    login(client, a.learner)
    page = client.get("/dashboard").get_data(as_text=True)
    left = int(re_search(r'data-session-left="(\d+)"', page))
    assert 1790 <= left <= 1800
    assert 'src="/static/js/session.js' in page
    assert '<template id="idle-warning">' in page and 'role="alertdialog"' in page and "Stay signed in" in page


def test_asking_the_time_left_is_no_activity_but_stay_signed_in_is(client, app, companies):
    a, _ = companies
    login(client, a.learner)
    token = session_csrf(client)
    shift(app, a.learner, 29)
    status = client.get("/session/status").get_json()
    assert 0 < status["left"] <= 60 and status["idle"] == status["left"]
    assert client.get("/session/status").get_json()["left"] <= 60  # still: asking kept nothing alive
    refreshed = client.post("/session/refresh", headers={"X-CSRFToken": token})
    assert refreshed.status_code == 200 and refreshed.get_json()["left"] >= 1790
    assert client.get("/session/status").get_json()["left"] >= 1790


def test_stay_signed_in_needs_the_csrf_token_and_a_live_session(client, app, companies):
    a, _ = companies
    login(client, a.learner)
    assert client.post("/session/refresh").status_code == 400
    shift(app, a.learner, 31)
    assert client.get("/session/status").status_code == 302


def re_search(pattern, text):
    return re.search(pattern, text).group(1)


def session_csrf(client):
    return re_search(r'"X-CSRFToken": "([^"]+)"', client.get("/dashboard").get_data(as_text=True))


def test_logging_in_from_a_plain_log_in_page_also_goes_back_to_the_kept_form(client, app, companies):
    a, _ = companies
    login(client, a.learner)
    token = csrf_from(client.get("/support").get_data(as_text=True))
    idle_out(app, a.learner)
    client.post("/support", data={"csrf_token": token, "subject": "Quiz broken", "category": "other", "body": MESSAGE},
                headers={"Referer": "http://localhost/support"})
    response = login(client, a.learner)  # /login without ?next=
    assert response.headers["Location"].endswith("/support")
    assert MESSAGE in client.get("/support").get_data(as_text=True)
