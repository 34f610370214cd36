"""The personal-data guard: before a prompt leaves for the model, it is checked on the server for e-mail
addresses, phone numbers, IBANs, card numbers and the names of people in the company's directory.
(Issue 18, lab page part.)

What counts:
- e-mail addresses;
- phone numbers: international (``+49 30 1234567``, ``0049 …``) or national (``030 1234567``, ``0171-1234567``,
  ``(030) 123 45 67``, ``089/1234567``) with at least 7 digits; dates (``01-02-2024``), years and plain
  numbers are not phone numbers;
- IBANs: country code, check digits and the account, spaces allowed, valid by the ISO 7064 mod-97 check;
- card numbers: 13 to 19 digits, spaces or dashes allowed, valid by the Luhn check;
- names: the full name of an active person of the company (case-insensitive, whole words, spaces between
  the parts as written), also written "Lastname, Firstname". One-word names are left alone (a first name
  alone is too common a word to refuse a prompt over).

Overlapping findings: the earlier one wins, then the longer one (an IBAN's digits are not also a phone).
Placeholders are numbered per kind in order of appearance; the same text gets the same placeholder.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import g, has_app_context

from leadthe.extensions import db
from leadthe.models import User
from leadthe.models.enums import UserStatus
from leadthe.tenancy import scoped


@dataclass(frozen=True)
class Finding:
    kind: str  # "email" | "phone" | "iban" | "card" | "name"
    text: str  # what was found, as written
    start: int
    end: int
    placeholder: str  # e.g. "[EMAIL 1]", "[NAME 1]"


KINDS = ("email", "iban", "card", "phone", "name")  # also the order of preference at the same position
PLACEHOLDER_WORDS = {"email": "EMAIL", "phone": "PHONE", "iban": "IBAN", "card": "CARD", "name": "NAME"}

_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_CARD = re.compile(r"(?<![\d+-])\d(?:[ -]?\d){12,18}(?![\d-])")
# (a phone number does not continue a group of digits written before it)
# between the digits of a phone number: one space, or a dash or slash with optional spaces around it
_SEP = r"(?:\s?[-/]\s?|[ .])?"
_PHONE_INTL = re.compile(r"(?<![\w+])(?<!\d[ ./-])(?:\+|00)[1-9]\d{0,2}" + r"(?:\s?\(0\)\s?)?" + r"(?:" + _SEP + r"\d){5,14}(?![\w])")
_PHONE_NATIONAL = re.compile(r"(?<![\w+.,/-])(?<!\d[ ./-])(?:\(0\d{1,5}\)\s?|0[1-9]\d{0,4})(?:" + _SEP.replace("[ .]", "[ ]")
                             + r"\d){4,12}(?![\w.,/-]?\d)")
_DATE = re.compile(r"^\d{1,4}([-/.])\d{1,2}\1\d{1,4}$")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_NAME_GAP = re.compile(r"\s+")
_REVERSED_GAP = re.compile(r"\s*,\s*")
MAX_NAME_WORDS = 5


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdecimal())  # not isdigit(): "¹" is a digit to it, not a number to int()


def iban_valid(compact: str) -> bool:
    """ISO 13616 / ISO 7064 mod-97: move the first four characters to the end, letters to numbers."""
    if not compact.isascii() or not 15 <= len(compact) <= 34 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _emails(text):
    for m in _EMAIL.finditer(text):
        yield "email", m.start(), m.end()


def _ibans(text):
    for m in _IBAN.finditer(text):
        raw = m.group()
        # the longest prefix that is a valid IBAN (a number written right after one is not part of it)
        positions = [i for i, ch in enumerate(raw) if ch != " "]
        compact = raw.replace(" ", "")
        for n in range(len(compact), 14, -1):
            if iban_valid(compact[:n]):
                yield "iban", m.start(), m.start() + positions[n - 1] + 1
                break


def _cards(text):
    for m in _CARD.finditer(text):
        digits = _digits(m.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits) and len(set(digits)) > 1:
            yield "card", m.start(), m.end()


def _phones(text):
    for pattern in (_PHONE_INTL, _PHONE_NATIONAL):
        for m in pattern.finditer(text):
            raw = m.group().rstrip(" -/.")
            digits = _digits(raw)
            if not 7 <= len(digits) <= 15 or _DATE.match(raw):
                continue
            yield "phone", m.start(), m.start() + len(raw)


def _key(words: list[str]) -> str:
    return " ".join(w.casefold() for w in words)


class Directory:
    """The company's active people's full names, as word sequences (casefolded), for matching prompts."""

    def __init__(self, names):
        self.forward: set[str] = set()
        self.reversed: set[str] = set()  # "lastname firstname" of two-word names, written "Lastname, Firstname"
        self.longest = 2
        for name in names:
            words = _WORD.findall(name or "")
            if len(words) < 2 or len(words) > MAX_NAME_WORDS or len("".join(words)) < 4:
                continue
            self.forward.add(_key(words))
            self.longest = max(self.longest, len(words))
            if len(words) == 2:
                self.reversed.add(_key([words[1], words[0]]))

    def find(self, text: str):
        if not self.forward:
            return
        words = list(_WORD.finditer(text))
        i = 0
        while i < len(words):
            hit = None
            for n in range(min(self.longest, len(words) - i), 1, -1):
                part = words[i:i + n]
                gaps = [text[a.end():b.start()] for a, b in zip(part, part[1:])]
                if all(_NAME_GAP.fullmatch(gap) for gap in gaps) and _key([w.group() for w in part]) in self.forward:
                    hit = n
                    break
                if n == 2 and _REVERSED_GAP.fullmatch(gaps[0]) and _key([w.group() for w in part]) in self.reversed:
                    hit = n
                    break
            if hit:
                yield "name", words[i].start(), words[i + hit - 1].end()
                i += hit
            else:
                i += 1


def directory(org_id: int | None) -> Directory:
    """The company's directory: one query, kept for the rest of the request."""
    cache = g.setdefault("lab_guard_directory", {}) if has_app_context() else {}
    if org_id not in cache:
        cache[org_id] = Directory(_active_names(org_id) if org_id else ())
    return cache[org_id]


def _active_names(org_id: int) -> list[str]:
    return list(db.session.scalars(scoped(User, org_id).with_only_columns(User.name)
                                   .where(User.status == UserStatus.ACTIVE)))


def _normal(kind: str, text: str) -> str:
    if kind in ("phone", "card"):
        return _digits(text)
    if kind == "iban":
        return text.replace(" ", "").upper()
    if kind == "name":  # "Schmidt, Maria" is the same person as "Maria Schmidt"
        return " ".join(sorted(text.casefold().replace(",", " ").split()))
    return text.casefold()


def find(text: str, names: Directory | None = None) -> list[Finding]:
    """The findings in ``text`` (without the directory when ``names`` is None), overlaps resolved, numbered."""
    spans = [*_emails(text), *_ibans(text), *_cards(text), *_phones(text)]
    if names is not None:
        spans += list(names.find(text))
    spans.sort(key=lambda s: (s[1], -(s[2] - s[1]), KINDS.index(s[0])))
    kept, last_end = [], -1
    for kind, start, end in spans:
        if start >= last_end:
            kept.append((kind, start, end))
            last_end = end
    numbers: dict[str, dict[str, int]] = {}
    findings = []
    for kind, start, end in kept:
        found = text[start:end]
        seen = numbers.setdefault(kind, {})
        number = seen.setdefault(_normal(kind, found), len(seen) + 1)
        findings.append(Finding(kind, found, start, end, f"[{PLACEHOLDER_WORDS[kind]} {number}]"))
    return findings


def scan(org_id: int, text: str) -> list[Finding]:
    """Personal data in ``text``: e-mail addresses, phone numbers, IBANs, card numbers and the names of the
    company's active people, in order of appearance."""
    if not text:
        return []
    return find(text, directory(org_id))


def with_placeholders(text: str, findings: list[Finding]) -> str:
    """``text`` with each finding replaced by its placeholder."""
    out, at = [], 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start < at or text[f.start:f.end] != f.text:
            continue  # not a finding of this text
        out.append(text[at:f.start])
        out.append(f.placeholder)
        at = f.end
    out.append(text[at:])
    return "".join(out)
