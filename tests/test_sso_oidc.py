"""OpenID Connect log-in against a real (fake) OpenID provider on loopback (tests/fake_oidc.py): discovery,
the authorisation code flow with PKCE, state and nonce, and every check of the ID token, each refusal with
its page and its audit event ``sso.refused``."""
from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import AuditEvent, UserSession
from leadthe.models.sso import SsoIdentity, SsoSettings
from leadthe.sso import oidc
from leadthe.sso.http import IdpUnreachable
from leadthe.sso.settings import for_org
from tests.conftest import csrf_from
from tests.fake_oidc import CLIENT_ID, FakeProvider


@pytest.fixture
def provider():
    with FakeProvider() as running:
        yield running


def configure(app, org, provider) -> str:
    """Company ``org`` signs in through ``provider``; returns the public key of its start URL."""
    with app.app_context():
        settings = for_org(org.id)
        settings.protocol = "oidc"
        settings.oidc_issuer = provider.issuer
        settings.oidc_client_id = provider.client_id
        settings.oidc_client_secret = provider.client_secret
        settings.oidc_metadata, settings.oidc_jwks = oidc.discover(provider.issuer)
        db.session.commit()
        return settings.public_key


def link(app, user, provider, email=None) -> None:
    with app.app_context():
        db.session.add(SsoIdentity(org_id=user.org_id, user_id=user.id, protocol="oidc", issuer=provider.issuer,
                                   subject=provider.subject_of(email or user.email), email=user.email))
        db.session.commit()


@pytest.fixture
def company(app, companies, provider):
    """Company A with OIDC through ``provider`` and its learner linked."""
    a = companies[0]
    a.key = configure(app, a.org, provider)
    link(app, a.learner, provider)
    return a


def start(client, key, **query):
    response = client.get(f"/sso/oidc/{key}/start", query_string=query)
    assert response.status_code == 303
    return response.headers["Location"]


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    assert parts.path == "/sso/oidc/callback"
    return f"{parts.path}?{parts.query}"


def sign_in(client, provider, key, email, **query):
    """Start, let the provider say yes for ``email``, come back: the callback's answer."""
    return client.get(callback_path(provider.code_for(start(client, key, **query), email)))


def continue_(client, page):
    return client.post("/sso/oidc/callback", data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def refusals(app) -> list[tuple[int | None, str]]:
    with app.app_context():
        return [(e.org_id, e.details.get("reason"))
                for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "sso.refused").order_by(AuditEvent.id))]


def assert_refused(app, response, reason, org_id):
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "We could not sign you in" in page and f"<code>{reason}</code>" in page
    assert refusals(app)[-1] == (org_id, reason)


def sessions_of(app, user) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(UserSession).where(UserSession.user_id == user.id))


# --- discovery ------------------------------------------------------------------------------------

def test_discovery_reads_the_document_and_the_keys(app, provider):
    with app.app_context():
        metadata, jwks = oidc.discover(provider.issuer)
        with pytest.raises(IdpUnreachable, match="exactly"):
            oidc.discover(provider.issuer + "/")  # the issuer is compared exactly, as OpenID Connect says
    assert metadata["token_endpoint"] == f"{provider.issuer}/token"
    assert jwks["keys"][0]["kid"] == provider.key.kid


def test_discovery_refuses_another_issuer(app, provider):
    provider.discovery_extra = {"issuer": "https://evil.example"}
    with app.app_context(), pytest.raises(IdpUnreachable, match="evil.example"):
        oidc.discover(provider.issuer)


@pytest.mark.parametrize("missing", ["authorization_endpoint", "token_endpoint", "jwks_uri"])
def test_discovery_needs_every_endpoint(app, provider, missing):
    provider.discovery_extra = {missing: None}
    with app.app_context(), pytest.raises(IdpUnreachable, match=missing):
        oidc.discover(provider.issuer)


@pytest.mark.parametrize("extra, words", [
    ({"response_types_supported": ["id_token"]}, "authorisation code"),
    ({"code_challenge_methods_supported": ["plain"]}, "S256"),
])
def test_discovery_needs_the_code_flow_with_pkce(app, provider, extra, words):
    provider.discovery_extra = extra
    with app.app_context(), pytest.raises(IdpUnreachable, match=words):
        oidc.discover(provider.issuer)


def test_discovery_needs_a_signing_key(app, provider):
    provider.discovery_extra = {"jwks_uri": f"{provider.issuer}/jwks-without-signing-keys"}
    with app.app_context(), pytest.raises(IdpUnreachable, match="no key for signatures"):
        oidc.discover(provider.issuer)


def test_discovery_of_a_provider_that_is_not_there(app, provider):
    provider.discovery_status = 500
    with app.app_context(), pytest.raises(IdpUnreachable, match="status 500"):
        oidc.discover(provider.issuer)
    with app.app_context(), pytest.raises(IdpUnreachable, match="connect"):
        oidc.discover("http://127.0.0.1:9")  # the discard port: nothing listens


def test_private_addresses_are_refused_before_connecting(app, monkeypatch):
    monkeypatch.setitem(app.config, "SSO_ALLOW_PRIVATE_URLS", False)

    def no_connection(*_args, **_kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr("socket.create_connection", no_connection)
    with app.app_context():
        with pytest.raises(IdpUnreachable, match="not an address we may call"):
            oidc.discover("https://10.1.2.3/realms/acme")
        with pytest.raises(IdpUnreachable, match="https"):
            oidc.discover("http://idp.example/realms/acme")


# --- the log-in -----------------------------------------------------------------------------------

def test_a_linked_person_signs_in(app, client, provider, company):
    location = start(client, company.key, next="/courses", login_hint="learner@a.example")
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(f"{provider.issuer}/authorize?")
    assert query["response_type"] == ["code"] and query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == ["http://localhost/sso/oidc/callback"] and query["login_hint"] == ["learner@a.example"]
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]

    page = client.get(callback_path(provider.code_for(location, company.learner.email)))
    assert page.status_code == 200 and "learner@a.example" in page.get_data(as_text=True)
    assert sessions_of(app, company.learner) == 0  # the GET only verified
    done = continue_(client, page)
    assert done.status_code == 303 and done.headers["Location"].endswith("/courses")
    assert client.get("/dashboard").status_code == 200
    assert sessions_of(app, company.learner) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(SsoIdentity.last_login_at)) is not None
    assert refusals(app) == []


def test_pkce_the_token_endpoint_gets_the_verifier(app, client, provider, company):
    location = start(client, company.key)
    challenge = parse_qs(urlsplit(location).query)["code_challenge"][0]
    assert client.get(callback_path(provider.code_for(location, company.learner.email))).status_code == 200
    sent = provider.token_requests[-1]
    digest = base64.urlsafe_b64encode(hashlib.sha256(sent["code_verifier"].encode()).digest()).rstrip(b"=").decode()
    assert digest == challenge and len(sent["code_verifier"]) >= 43
    assert sent["grant_type"] == "authorization_code" and sent["redirect_uri"] == "http://localhost/sso/oidc/callback"


def test_a_client_secret_the_provider_does_not_know_is_refused(app, client, provider, company):
    provider.client_secret = "another"
    assert_refused(app, sign_in(client, provider, company.key, company.learner.email), "idp_error", company.org.id)


def test_several_log_ins_may_be_under_way(app, client, provider, company):
    first = start(client, company.key)
    second = start(client, company.key)
    assert client.get(callback_path(provider.code_for(first, company.learner.email))).status_code == 200
    assert client.get(callback_path(provider.code_for(second, company.learner.email))).status_code == 200


def test_start_needs_a_company_with_oidc(app, client, companies, provider):
    with app.app_context():
        key = for_org(companies[1].org.id).public_key  # protocol "none"
        db.session.commit()
    assert client.get(f"/sso/oidc/{key}/start").status_code == 404
    assert client.get("/sso/oidc/no-such-key/start").status_code == 404


@pytest.mark.parametrize("knobs, reason", [
    ({"iss": "https://evil.example"}, "wrong_issuer"),
    ({"aud": "another-client"}, "wrong_audience"),
    ({"aud": [CLIENT_ID, "x"], "azp": "x"}, "wrong_audience"),
    ({"exp_in": -3600}, "expired"),
    ({"nbf_in": 3600}, "not_yet_valid"),
    ({"iat_in": 3600, "exp_in": 7200}, "not_yet_valid"),
    ({"other_key": True}, "bad_signature"),
    ({"unsigned": True}, "unsigned"),
    ({"hs256": True}, "bad_signature"),
    ({"nonce": "another-nonce"}, "nonce_mismatch"),
])
def test_a_bad_id_token_is_refused(app, client, provider, company, knobs, reason):
    provider.knobs = knobs
    response = sign_in(client, provider, company.key, company.learner.email)
    assert_refused(app, response, reason, company.org.id)
    assert client.get("/dashboard").status_code == 302  # not signed in


def test_clock_skew_within_the_leeway_is_accepted(app, client, provider, company):
    provider.knobs = {"exp_in": -60, "nbf_in": 60, "iat_in": 60}
    assert sign_in(client, provider, company.key, company.learner.email).status_code == 200


def test_the_identity_providers_error(app, client, provider, company):
    location = start(client, company.key)
    state = parse_qs(urlsplit(location).query)["state"][0]
    response = client.get("/sso/oidc/callback", query_string={"state": state, "error": "access_denied"})
    assert_refused(app, response, "idp_error", company.org.id)


def test_a_state_this_browser_did_not_start_is_refused(app, client, provider, company):
    location = start(client, company.key)
    other = app.test_client()  # another browser brings the answer
    assert_refused(app, other.get(callback_path(provider.code_for(location, company.learner.email))), "state_mismatch", None)


def test_a_callback_works_once(app, client, provider, company):
    back = callback_path(provider.code_for(start(client, company.key), company.learner.email))
    assert client.get(back).status_code == 200
    assert_refused(app, client.get(back), "state_mismatch", None)


def test_the_continue_step_works_once(app, client, provider, company):
    page = sign_in(client, provider, company.key, company.learner.email)
    assert continue_(client, page).status_code == 303
    assert_refused(app, continue_(client, client.get("/dashboard")), "expired_attempt", None)
    assert sessions_of(app, company.learner) == 1


def test_a_log_in_left_too_long_is_refused(app, client, provider, company):
    back = callback_path(provider.code_for(start(client, company.key), company.learner.email))
    with client.session_transaction() as cookie:
        for entry in cookie["sso_oidc"].values():
            entry["at"] -= 3600
        cookie.modified = True
    assert_refused(app, client.get(back), "expired_attempt", company.org.id)


def test_email_verified_false_is_never_a_confirmation(app, client, provider, company):
    """The claim reaches ``login.finish`` as False; which refusal it gives for a person not linked yet is
    the log-in part's rule (the foundation's ``finish`` refuses unlinked people as domain_unverified)."""
    provider.users["new@a.example"] = {"email_verified": False}
    with app.app_context():
        token = {"iss": "i", "sub": "s"}
        assert oidc.claims_from({**token, "email_verified": "false"}).email_verified is False
        assert oidc.claims_from({**token, "email_verified": 1}).email_verified is False
        assert oidc.claims_from({**token, "email_verified": "true"}).email_verified is True
    page = sign_in(client, provider, company.key, "new@a.example")
    assert page.status_code == 200
    response = continue_(client, page)
    assert response.status_code == 403
    assert refusals(app)[-1][1] in ("email_unverified", "domain_unverified")


def test_the_providers_mfa_reaches_the_log_in(app, client, provider, company):
    provider.users[company.learner.email] = {"amr": ["pwd", "otp"]}
    assert sign_in(client, provider, company.key, company.learner.email).status_code == 200
    with client.session_transaction() as cookie:
        waiting = cookie["sso_oidc_verified"]["claims"]
    assert waiting["mfa"] is True and waiting["email_verified"] is True and waiting["protocol"] == "oidc"


def test_a_changed_address_keeps_the_subject(app, client, provider, company):
    provider.users[company.learner.email] = {"email": "renamed@a.example"}
    page = sign_in(client, provider, company.key, company.learner.email)
    assert continue_(client, page).status_code == 303
    assert sessions_of(app, company.learner) == 1


@pytest.mark.parametrize("amr, mfa", [
    (["pwd"], False), (["otp"], False), (["mfa"], True), (["pwd", "otp"], True), (["hwk", "fpt"], True),
    ("mfa", False), (None, False),
])
def test_mfa_from_amr(amr, mfa):
    assert oidc.mfa_from_amr(amr) is mfa


def test_key_rotation_fetches_the_keys_once_more(app, client, provider, company):
    fetched = provider.jwks_fetches
    provider.rotate_key()
    page = sign_in(client, provider, company.key, company.learner.email)
    assert page.status_code == 200
    assert provider.jwks_fetches == fetched + 1
    with app.app_context():
        assert db.session.scalar(sa.select(SsoSettings.oidc_jwks))["keys"][0]["kid"] == provider.key.kid
    assert sign_in(client, provider, company.key, company.learner.email).status_code == 200
    assert provider.jwks_fetches == fetched + 1  # kept: no fetch for the next log-in


def test_an_unknown_key_after_the_refetch_is_a_bad_signature(app, client, provider, company):
    fetched = provider.jwks_fetches
    provider.knobs = {"other_key": True, "kid": "never-published"}
    assert_refused(app, sign_in(client, provider, company.key, company.learner.email), "bad_signature", company.org.id)
    assert provider.jwks_fetches == fetched + 1  # once, not in a loop
