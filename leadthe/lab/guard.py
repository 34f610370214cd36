"""The personal-data guard: before a prompt leaves for the model, it is checked on the server for e-mail
addresses, phone numbers, IBANs, card numbers and the names of people in the company's directory.
(Issue 18, lab page part.)
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    kind: str  # "email" | "phone" | "iban" | "card" | "name"
    text: str  # what was found, as written
    start: int
    end: int
    placeholder: str  # e.g. "[EMAIL 1]", "[NAME 1]"


def scan(org_id: int, text: str) -> list[Finding]:
    raise NotImplementedError


def with_placeholders(text: str, findings: list[Finding]) -> str:
    raise NotImplementedError
