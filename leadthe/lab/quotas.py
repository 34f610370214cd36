"""Quotas and usage: tokens per person per day and per company per month (provider usage, or an estimate
when the provider reports none), recorded per person and day in ``LabUsage``. (Issue 18, runner part.)
"""
from __future__ import annotations


def refusal(settings, user) -> str | None:
    """None when ``user`` may send another prompt now, else the message saying which quota is reached
    (and when it resets)."""
    raise NotImplementedError
