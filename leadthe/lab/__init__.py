"""The AI practice lab: learners practise on their company's own model with graded exercises.

- ``bp`` (learners): the lab lives on exercise lessons, under ``/courses/<slug>/lessons/<lesson>/lab/…``
  (send a prompt, the answer as it arrives, cancel, feedback). The lesson page itself is the courses area's.
- ``admin_bp`` (under ``/admin``, org admins): ``/admin/ai-lab``: the model connection (step-up to change),
  the personal-data guard's mode, quotas, how long prompts are kept, and use per month by team.

Modules:
- ``exercise``: an exercise lesson's task, material, rubric, pass mark and hints (``Lesson.exercise``).
- ``checks``: the deterministic rubric checks of a prompt (the basis of a pass).
- ``guard``: the personal-data guard (e-mail addresses, phone numbers, IBANs, card numbers, names of people
  in the company's directory), run on the server before a prompt leaves.
- ``outbound``: the only way to the company's model: configured base URL only, https (loopback in
  development), never a private, link-local or metadata address in production, with timeouts.
- ``provider``: an OpenAI-compatible chat-completions client (httpx), streaming and not, usage, errors.
- ``quotas``: tokens per person per day and per company per month; usage rows.
- ``runner``: runs queued generations in the worker (threads), stores tokens as they arrive, cancel,
  stalled runs, the circuit breaker that pauses a company's calls after repeated provider failures.
- ``settings``: the company's ``LabSettings`` row and what learners are told about the provider.
- ``retention``: each company's days.
"""
from flask import Blueprint

bp = Blueprint("lab", __name__)
admin_bp = Blueprint("lab_admin", __name__, url_prefix="/admin")
