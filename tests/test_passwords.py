"""Password hashing: long passphrases in any script are checked exactly as typed."""
import bcrypt
import pytest

from leadthe.auth.passwords import _prehash, check_password, hash_password, password_problems
from tests.conftest import PASSWORD, make_org, make_user, post_form

# 64 characters of Devanagari and CJK: 192 bytes of UTF-8, far past bcrypt's 72-byte window.
HINDI = "मेरा पासवर्ड बहुत लंबा है और इसमें कई शब्द हैं जो याद रखना आसान है"[:64]
CHINESE = "这是一个非常长的中文密码短语用于测试我们的系统是否能够正确处理超过七十二字节限制的输入内容并且每个字都要算数才行好的吧我们再加几个字"[:64]


@pytest.mark.parametrize("passphrase", [HINDI, CHINESE])
def test_long_non_latin_passphrase_is_checked_exactly(app, passphrase):
    assert len(passphrase) == 64 and len(passphrase.encode()) > 72
    with app.app_context():
        stored = hash_password(passphrase)
        assert check_password(passphrase, stored)
        # a change in the last character (beyond bcrypt's 72 bytes) must be noticed
        assert not check_password(passphrase[:-1] + "x", stored)
        # ...and so must a different first character
        assert not check_password("x" + passphrase[1:], stored)
        # no normalisation or trimming: a trailing space is a different passphrase
        assert not check_password(passphrase + " ", stored)


def test_plain_bcrypt_would_have_missed_the_difference():
    """Why the pre-hash exists: bcrypt alone stops reading after 72 bytes (bcrypt 5 even raises)."""
    a = HINDI.encode()
    b = (HINDI[:-1] + "x").encode()
    assert a[:72] == b[:72] and a != b
    with pytest.raises(ValueError):
        bcrypt.hashpw(a, bcrypt.gensalt(4))
    assert len(_prehash(HINDI)) == 44 and _prehash(HINDI) != _prehash(HINDI[:-1] + "x")


def test_hash_is_salted_bcrypt(app):
    with app.app_context():
        one, two = hash_password(PASSWORD), hash_password(PASSWORD)
    assert one != two and one.startswith("$2b$")


def test_check_password_rejects_garbage_hashes(app):
    with app.app_context():
        assert not check_password(PASSWORD, "")
        assert not check_password(PASSWORD, None)
        assert not check_password(PASSWORD, "not-a-bcrypt-hash")


def test_password_rules():
    assert password_problems("a" * 11)
    assert password_problems("aaaaaaaaaaaaaaaa")  # too few different characters
    assert password_problems("jane.doe-rocks-2026", "jane.doe@example.com")
    assert password_problems("x" * 2000)
    assert password_problems(PASSWORD, "someone@example.com") == []
    assert password_problems(HINDI) == []


def test_login_with_long_non_latin_passphrase_over_http(client, app):
    org = make_org(app)
    user = make_user(app, org, password=HINDI)
    assert post_form(client, "/login", {"email": user.email, "password": HINDI[:-1] + "x"}).status_code == 422
    assert post_form(client, "/login", {"email": user.email, "password": HINDI}).status_code == 303


# --- strength: common passwords long enough for the length rule, and easy-to-guess ones (issue 14) ----------

WEAK_BUT_LONG = [
    "password1234",                    # a common password with digits added
    "Correct Horse Battery Staple",    # the famous example passphrase: in every cracking dictionary
    "qwertyuiop123",                   # a keyboard row
    "theworldinyourhand",              # on recent most-common lists, though the estimator rates it strong
    "Welcome2024!",                    # a word, a year and a symbol
    "Northwind2026!",                  # the company's own name (the sign-up below is for Northwind Traders)
    "Penelope Quarterman!",            # the person's own name
]
SIGNUP_FOR_STRENGTH = {"name": "Penelope Quarterman", "email": "pq@northwind.example", "organization": "Northwind Traders",
                       "job_title": "", "department": "", "age_confirm": "y", "accept_policy": "y"}


def _password_error(html: str) -> str:
    import re

    match = re.search(r'<p class="error" id="password-error">([^<]*)</p>', html)
    return match.group(1) if match else ""


@pytest.mark.parametrize("weak", WEAK_BUT_LONG)
def test_sign_up_refuses_long_but_guessable_passwords_beside_the_field(client, app, weak):
    assert len(weak) >= 12
    response = post_form(client, "/signup", {**SIGNUP_FOR_STRENGTH, "password": weak})
    assert response.status_code == 422
    error = _password_error(response.get_data(as_text=True))
    assert "commonly used" in error or "easy to guess" in error
    assert client.get("/dashboard").status_code == 302  # no account, not signed in


@pytest.mark.parametrize("passphrase", ["velvet tuesday orbit lantern", "mango quartz pillow harbour", HINDI])
def test_passphrases_of_unrelated_words_still_pass(client, passphrase):
    response = post_form(client, "/signup", {**SIGNUP_FOR_STRENGTH, "password": passphrase})
    assert response.status_code == 303


def test_every_place_a_password_is_set_checks_its_strength(app, client):
    """Invitation acceptance, reset and change refuse what sign-up refuses, with the person's name, address
    and company as what the password must not be made of; so does `leadthe create-staff`."""
    import re

    from leadthe.admin import people
    from leadthe.extensions import db
    from leadthe.models import User
    from tests.conftest import outbox

    org = make_org(app, "Northwind Traders")
    admin = make_user(app, org, email="boss@northwind.example", role="admin", name="Ada Boss")
    member = make_user(app, org, email="pq@northwind.example", name="Penelope Quarterman")
    with app.test_request_context():
        people.create_invitation(db.session.get(User, admin.id), email="new@northwind.example", role="learner", team_id=None)
        db.session.commit()
    invite = re.search(r"http://localhost(/invite/\S+)", outbox(app, kind="invitation")[-1].body_text).group(1)
    refused = post_form(client, invite, {"name": "Nils Neu", "password": "NorthwindTraders", "age_confirm": "y",
                                         "accept_policy": "y"})
    assert refused.status_code == 422 and "easy to guess" in _password_error(refused.get_data(as_text=True))

    post_form(client, "/password/forgot", {"email": member.email})
    reset = re.search(r"http://localhost(/password/reset/\S+)", outbox(app, kind="reset_password")[-1].body_text).group(1)
    refused = post_form(client, reset, {"password": "Penelope Quarterman 1"})
    assert refused.status_code == 422 and "easy to guess" in _password_error(refused.get_data(as_text=True))

    assert post_form(client, "/login", {"email": member.email, "password": PASSWORD}).status_code == 303
    refused = post_form(client, "/account/password", {"current_password": PASSWORD, "password": "password1234"})
    assert refused.status_code == 422 and "commonly used" in _password_error(refused.get_data(as_text=True))
    assert post_form(client, "/account/password", {"current_password": PASSWORD, "password": "mango quartz pillow harbour"}
                     ).status_code == 303

    runner = app.test_cli_runner()
    result = runner.invoke(args=["leadthe", "create-staff", "sam@leadthe.example"], env={"LEADTHE_NEW_PASSWORD": "theworldinyourhand"})
    assert result.exit_code != 0 and "commonly used" in result.output


def test_the_strength_estimate_stays_fast_on_the_longest_passwords():
    import random
    import string
    import time

    rng = random.Random(14)
    long_ones = ["".join(rng.choice(string.printable) for _ in range(1024)), "a1" * 512, "x" * 1024]
    started = time.perf_counter()
    for password in long_ones:
        password_problems(password, "someone@example.com", ["Some One", "Some Company"])
    assert time.perf_counter() - started < 1.0
