"""The deterministic rubric checks of a prompt: which of an exercise's criteria the prompt covers.
They are the basis of a pass; the model's own feedback (when the company allows it) is shown beside them
and never decides alone. (Issue 18, content part: the checks and their words in English and German.)
"""
from __future__ import annotations

from dataclasses import dataclass

from leadthe.lab.exercise import Exercise

CHECKS: dict[str, object] = {}  # check id -> its definition (label, tip, how it is checked)


@dataclass(frozen=True)
class CheckResult:
    check: str
    label: str  # what the criterion asks, in the reader's language
    met: bool
    tip: str  # what to add when it is not met


@dataclass(frozen=True)
class Evaluation:
    results: tuple[CheckResult, ...]
    score: int  # 0-100: the share of criteria met
    passed: bool  # score >= the exercise's pass mark

    def as_json(self) -> list[dict]:
        return [{"check": r.check, "met": r.met} for r in self.results]


def evaluate(exercise: Exercise, prompt: str) -> Evaluation:
    """Check ``prompt`` against each criterion of ``exercise``."""
    raise NotImplementedError
