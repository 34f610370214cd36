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
