"""The personal-data guard (issue 18): what it finds in a prompt before the prompt leaves for the model, what
it leaves alone, and the placeholders that replace what it found."""
from __future__ import annotations

import pytest

from leadthe.lab import guard
from tests.conftest import make_user


def kinds(text, names=()):
    return [(f.kind, f.text) for f in guard.find(text, guard.Directory(names))]


@pytest.mark.parametrize("text, found", [
    ("Write to anna.berg+work@mail.example.co.uk today", ("email", "anna.berg+work@mail.example.co.uk")),
    ("Call +49 30 1234567 please", ("phone", "+49 30 1234567")),
    ("Call +49 (0)30 123 45 67", ("phone", "+49 (0)30 123 45 67")),
    ("Call 0049 89 1234567", ("phone", "0049 89 1234567")),
    ("Her number is 030 1234567.", ("phone", "030 1234567")),
    ("Mobile 0171-1234567", ("phone", "0171-1234567")),
    ("Office 089/123 456 78", ("phone", "089/123 456 78")),
    ("Office (030) 123 45 67", ("phone", "(030) 123 45 67")),
    ("Pay to DE89 3704 0044 0532 0130 00 by Friday", ("iban", "DE89 3704 0044 0532 0130 00")),
    ("IBAN GB82WEST12345698765432", ("iban", "GB82WEST12345698765432")),
    ("Card 4111 1111 1111 1111 expires", ("card", "4111 1111 1111 1111")),
    ("Card 5555-5555-5555-4444", ("card", "5555-5555-5555-4444")),
    ("Amex 378282246310005", ("card", "378282246310005")),
])
def test_it_finds_personal_data(text, found):
    assert kinds(text) == [found]


@pytest.mark.parametrize("text", [
    "The meeting is on 01-02-2024 at 10:30, or 2024-03-15, or 15.03.2024.",
    "Revenue grew 12% to 1234567 EUR in 2023; 3 of 5 teams; 0.5 percent; version 1.2.3.",
    "Order 12345678901 and invoice 2024/0012345 are open.",  # numbers, not phones (no leading 0 / +)
    "Card-like but not Luhn-valid: 4111 1111 1111 1112.",
    "IBAN-like but the check digits are wrong: DE00 3704 0044 0532 0130 00.",
    "Plain text about customers, bullet points and a summary for Maria.",  # a first name alone is not a person
    "Sixteen digits all the same: 0000 0000 0000 0000.",
    "Room 0.12, page 07, code 007, about 0800.",
])
def test_no_false_positives_on_plain_text_dates_and_numbers(text):
    assert kinds(text, ["Maria Schmidt"]) == []


def test_names_of_the_directory_whole_words_any_case_and_lastname_first():
    names = ["Maria Schmidt", "Jean-Luc Picard", "Bo", "Anna Maria Berg"]
    assert kinds("ask MARIA  SCHMIDT and Schmidt, Maria and jean-luc picard", names) == [
        ("name", "MARIA  SCHMIDT"), ("name", "Schmidt, Maria"), ("name", "jean-luc picard")]
    assert kinds("Maria Schmidtke and Marias Schmidt are someone else; Bo is one word", names) == []
    assert kinds("Invite Anna Maria Berg", names) == [("name", "Anna Maria Berg")]


def test_placeholders_numbered_per_kind_same_text_same_placeholder():
    text = ("Tell Maria Schmidt (maria@x.example, 030 1234567) and Schmidt, Maria again; "
            "cc bob@x.example; maria@x.example knows; IBAN DE89370400440532013000")
    findings = guard.find(text, guard.Directory(["Maria Schmidt"]))
    assert [f.placeholder for f in findings] == [
        "[NAME 1]", "[EMAIL 1]", "[PHONE 1]", "[NAME 1]", "[EMAIL 2]", "[EMAIL 1]", "[IBAN 1]"]
    assert guard.with_placeholders(text, findings) == (
        "Tell [NAME 1] ([EMAIL 1], [PHONE 1]) and [NAME 1] again; cc [EMAIL 2]; [EMAIL 1] knows; IBAN [IBAN 1]")


def test_overlaps_resolved_an_iban_or_card_is_not_also_a_phone():
    assert kinds("Konto DE89 3704 0044 0532 0130 00") == [("iban", "DE89 3704 0044 0532 0130 00")]
    assert kinds("Karte 4111 1111 1111 1111") == [("card", "4111 1111 1111 1111")]
    assert kinds("mail 0171@x.example") == [("email", "0171@x.example")]


def test_scan_reads_the_companys_active_people_only(app, companies):
    a, b = companies
    make_user(app, a.org, name="Maria Schmidt", email="maria@a.example")
    make_user(app, a.org, name="Gone Person", email="gone@a.example", status="deactivated")
    make_user(app, b.org, name="Otto Fremd", email="otto@b.example")
    with app.test_request_context():
        found = guard.scan(a.org.id, "maria schmidt, Gone Person and Otto Fremd")
        assert [(f.kind, f.text, f.placeholder) for f in found] == [("name", "maria schmidt", "[NAME 1]")]
        assert guard.scan(a.org.id, "") == []
