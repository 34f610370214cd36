"""An exercise lesson (``kind: exercise``): what the learner is asked to do, the material to work on, the
rubric their prompt is checked against, the pass mark and hints. Stored as JSON on ``Lesson.exercise``
by the content loader; a translation gives task, material, hints and criterion labels (by position).

Content format (front matter of the lesson file)::

    kind: exercise
    task: "Summarise this meeting note for a customer in 5 bullet points."
    material: |
      …the text the learner works on…
    rubric:
      - check: role            # a check id of leadthe.lab.checks.CHECKS
        label: "Says who the model should be"   # optional: the check's own label otherwise
      - check: audience
    pass_mark: 70              # percent of the rubric's criteria met (default 70)
    hints:
      - "Who will read the summary?"
"""
from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_PASS_MARK = 70


@dataclass(frozen=True)
class Criterion:
    check: str  # an id of leadthe.lab.checks.CHECKS
    label: str = ""  # shown to the learner; the check's own label when empty


@dataclass(frozen=True)
class Exercise:
    task: str
    material: str = ""
    criteria: tuple[Criterion, ...] = ()
    pass_mark: int = DEFAULT_PASS_MARK
    hints: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict:
        return {"task": self.task, "material": self.material, "pass_mark": self.pass_mark,
                "criteria": [{"check": c.check, "label": c.label} for c in self.criteria], "hints": list(self.hints)}


def from_json(data: dict | None) -> Exercise | None:
    if not data or not data.get("task"):
        return None
    criteria = tuple(Criterion(str(c.get("check", "")), str(c.get("label") or "")) for c in data.get("criteria") or ()
                     if isinstance(c, dict) and c.get("check"))
    try:
        pass_mark = max(1, min(100, int(data.get("pass_mark") or DEFAULT_PASS_MARK)))
    except (TypeError, ValueError):
        pass_mark = DEFAULT_PASS_MARK
    return Exercise(task=str(data["task"]), material=str(data.get("material") or ""), criteria=criteria,
                    pass_mark=pass_mark, hints=tuple(str(h) for h in data.get("hints") or ()))


def of(lesson) -> Exercise | None:
    """The lesson's exercise (translated when the reader's language has a translation), or None."""
    return from_json(getattr(lesson, "exercise", None)) if getattr(lesson, "kind", "") == "exercise" else None
