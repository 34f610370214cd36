"""The evidence pack's files, written one after the other into a ZIP as they are produced.

- ``report.html`` (readable, printable, self-contained) and ``report.pdf`` (a summary of the figures);
- ``company.json`` and CSV files: the AI tools, the AI-use policy versions with acknowledgement counts, the
  requirement rules, the curriculum, figures per team, department, rule, course and quiz, maturity levels;
  and per person (not in works-council mode): ``people.csv``, ``requirements.csv``, ``quiz_results.csv``;
- ``manifest.json``: the size and SHA-256 of every other file.

Per-person rows are streamed from batched queries into the ZIP members (leadthe.literacy.evidence_data),
so memory stays flat however large the company. Texts are in the generating admin's language; the
machine-readable files keep stored codes (statuses, roles) and ISO dates.
"""
from __future__ import annotations

import csv
import functools
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from leadthe.extensions import db
from leadthe.i18n import format_day
from leadthe.labels import label
from leadthe.literacy import evidence_data as data
from leadthe.literacy.evidence_pdf import TOOL_STATUS_WORDS, note_for_people, summary_pdf
from leadthe.models import EvidencePack, Organization, User, utcnow
from leadthe.net import absolute_url
from leadthe.privacy.export import ZipMember
from leadthe.trust.access_log import record_pack

FORMAT = "leadthe-evidence/1"
GENERATOR = "LeadThe.AI evidence pack"
VERSION = "1.0"
WORDING = "Evidence of AI-literacy measures (EU AI Act, Article 4)"

STATUS_WORDS = {"current": _l("Current"), "due_soon": _l("Due soon"), "overdue": _l("Overdue"),
                "not_started": _l("Not started")}
FIELD_WORDS = {"team": _l("team"), "department": _l("department"), "job_title": _l("job title"), "role": _l("role")}


def who_of(rule: dict) -> str:
    """Whom a rule covers, in words: "everyone", "department is “Sales”", "job title contains “Engineer”"."""
    if rule["field"] == "everyone":
        return _("everyone")
    value = label(rule["value"], "role") if rule["field"] == "role" else rule["value"]
    if rule["operator"] == "contains":
        return _("%(field)s contains “%(value)s”", field=FIELD_WORDS.get(rule["field"], rule["field"]), value=value)
    return _("%(field)s is “%(value)s”", field=FIELD_WORDS.get(rule["field"], rule["field"]), value=value)


@dataclass
class Pack:
    """What every file of one pack is written from."""
    pack: EvidencePack
    org: Organization
    admin: User | None
    now: datetime
    verify_prefix: str
    figures: dict = field(default_factory=dict)

    @property
    def council(self) -> bool:
        # asked for in team-figures-only or works-council mode, or the company turned the mode on since
        return bool(self.pack.team_figures_only or self.org.works_council_mode)

    @property
    def min_group(self) -> int:
        return data.min_group(self.council)


def _iso(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return "" if value is None else value


def _csv(out, header, rows) -> None:
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_iso(v) for v in row])


def _dict_csv(out, rows: list[dict], header: tuple) -> None:
    _csv(out, header, ([row[k] for k in header] for row in rows))


# --- the files -----------------------------------------------------------------------------------------

def _company_json(out, p: Pack) -> None:
    total = p.figures["company"]
    out.write(json.dumps({
        "format": FORMAT, "title": WORDING, "wording": "evidence of AI-literacy measures",
        "company": {"id": p.org.id, "name": p.org.name},
        "generated_at": p.now.isoformat(),
        "generated_by": {"name": p.admin.name, "email": p.admin.email} if p.admin else None,
        "language": str(get_locale() or "en"),
        "team_figures_only": p.council, "min_group": p.min_group if p.council else None,
        "figures": {"people_with_requirements": total.people, "requirements": total.required, "current": total.current,
                    "due_soon": total.due_soon, "overdue": total.overdue, "not_started": total.not_started},
    }, indent=2, ensure_ascii=False))


TOOL_COLUMNS = ("name", "vendor", "purpose", "status", "departments", "teams", "risk_note", "personal_data_allowed",
                "confidential_data_allowed", "owner", "added_on")
POLICY_COLUMNS = ("version", "title", "change", "summary", "published_at", "asked", "acknowledged")
RULE_COLUMNS = ("name", "course", "field", "operator", "value", "due_days", "refresh_months", "active")


def _curriculum_csv(out, p: Pack) -> None:
    rows = ([c["title"], " | ".join(c["objectives"]), c["minutes"], c["certificate_months"] or "", c["required_by_rules"]]
            for c in p.figures["curriculum"])
    _csv(out, ("title", "learning_objectives", "minutes", "certificate_valid_months", "required_by_rules"), rows)


def _figures_csv(kind: str):
    def write(out, p: Pack) -> None:
        _csv(out, data.FIGURE_COLUMNS, (f.values() for f in p.figures[kind].rows))
    return write


def _quiz_figures_csv(out, p: Pack) -> None:
    _csv(out, ("quiz", "people", "passed", "average_best_score"), p.figures["quizzes"][0])


def _maturity_csv(out, p: Pack) -> None:
    _csv(out, ("level", "people"), p.figures["maturity"])


def _people_csv(out, p: Pack) -> None:
    teams = data.team_names_by_person(p.org.id)
    rows = ((name, email, department, job, teams.get(uid, ""), role, status, level or "")
            for uid, name, email, department, job, role, status, level in data.people(p.org.id))
    _csv(out, ("name", "email", "department", "job_title", "teams", "role", "status", "maturity_level"), rows)


def _requirements_csv(out, p: Pack) -> None:
    rows = ((name, email, course, status, due, done, valid, rule, p.verify_prefix + code if code else "")
            for name, email, course, status, due, done, valid, rule, code in data.requirements(p.org.id, p.now))
    _csv(out, ("name", "email", "course", "status", "due_on", "completed_at", "valid_until", "rule", "certificate_link"), rows)


def _quiz_results_csv(out, p: Pack) -> None:
    rows = ((name, email, quiz, best, bool(passed), attempts, last)
            for name, email, quiz, best, passed, attempts, last in data.quiz_results(p.org.id))
    _csv(out, ("name", "email", "quiz", "best_score", "passed", "attempts", "last_attempt_at"), rows)


def _person_rows(p: Pack):
    """The per-person rows of report.html, in words: dates formatted once per distinct date (there are few), the
    status words looked up once, so a large company's rows cost no translation lookups."""
    words = {key: str(value) for key, value in STATUS_WORDS.items()}
    day = functools.lru_cache(maxsize=4096)(format_day)
    for name, email, course, status, due, done, valid, _rule, code in data.requirements(p.org.id, p.now):
        yield (name, email, course, words.get(status, status), day(due), day(done.date()) if done else "",
               day(valid.date()) if valid else "", p.verify_prefix + code if code else "")


def _report_html(out, p: Pack) -> None:
    template = current_app.jinja_env.get_template("literacy/evidence_report.html")
    rows = None if p.council else _person_rows(p)
    labels = {"Course": _("Course"), "Status": _("Status"), "Due": _("Due"), "Completed": _("Completed"),
              "Valid until": _("Valid until"), "Certificate": _("Certificate"), "Verify": _("Verify")}
    words = {"tool": {key: str(value) for key, value in TOOL_STATUS_WORDS.items()},
             "who": [who_of(rule) for rule in p.figures["rules"]]}
    for chunk in template.generate(p=p, f=p.figures, rows=rows, labels=labels, words=words, note=note_for_people(p),
                                   lang=str(get_locale() or "en")):
        out.write(chunk)


def _report_pdf(out, p: Pack) -> None:
    out.flush()
    out.buffer.write(summary_pdf(p))


def _files(p: Pack) -> list[tuple[str, object]]:
    files = [
        ("report.html", _report_html),
        ("report.pdf", _report_pdf),
        ("company.json", _company_json),
        ("ai_tools.csv", lambda out, p: _dict_csv(out, p.figures["tools"], TOOL_COLUMNS)),
        ("ai_policy_versions.csv", lambda out, p: _dict_csv(out, p.figures["policy"], POLICY_COLUMNS)),
        ("requirement_rules.csv", lambda out, p: _dict_csv(out, p.figures["rules"], RULE_COLUMNS)),
        ("curriculum.csv", _curriculum_csv),
        ("team_figures.csv", _figures_csv("teams")),
        ("department_figures.csv", _figures_csv("departments")),
        ("rule_figures.csv", _figures_csv("rule_groups")),
        ("course_figures.csv", _figures_csv("courses")),
        ("quiz_figures.csv", _quiz_figures_csv),
        ("maturity_levels.csv", _maturity_csv),
    ]
    if not p.council:
        files += [("people.csv", _people_csv), ("requirements.csv", _requirements_csv),
                  ("quiz_results.csv", _quiz_results_csv)]
    return files


def collect_figures(p: Pack) -> None:
    """The company-level figures: a few aggregate queries, small results, used by several files."""
    org_id, now, smallest = p.org.id, p.now, p.min_group
    p.figures.update(
        company=data.company_figures(org_id, now),
        teams=data.team_figures(org_id, now, smallest), departments=data.department_figures(org_id, now, smallest),
        rule_groups=data.rule_figures(org_id, now, smallest), courses=data.course_figures(org_id, now, smallest),
        quizzes=data.quiz_figures(org_id, smallest), maturity=data.maturity_levels(org_id, smallest),
        tools=data.ai_tools(org_id, with_owner=not p.council), policy=data.policy_versions(org_id),
        rules=data.requirement_rules(org_id), curriculum=data.curriculum(org_id),
    )


def write_pack(pack: EvidencePack, out, progress=None) -> None:
    """Write the whole pack into ``out`` (a binary stream from the file store), in the generating admin's language."""
    org = db.session.get(Organization, pack.org_id)
    admin = db.session.get(User, pack.requested_by_id) if pack.requested_by_id else None
    prefix = absolute_url("assessments.certificate", code="X")[:-1]
    p = Pack(pack=pack, org=org, admin=admin, now=utcnow(), verify_prefix=prefix)
    if p.council and not pack.team_figures_only:
        pack.team_figures_only = True  # works-council mode turned on after the request: built at team level, and says so
    with force_locale((admin.locale if admin else None) or "en"):
        collect_figures(p)
        if progress:
            progress(10)
        _write_zip(out, p, progress)
    if not p.council:  # per-person files: each person in them sees the pack in their access log
        record_pack(pack, sa.select(User.id).where(User.org_id == org.id, User.status.in_(data.PEOPLE_STATUSES)))


def _write_zip(fh, p: Pack, progress) -> None:
    written: list[dict] = []
    files = _files(p)
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for index, (name, write) in enumerate(files):
            with ZipMember(zf, name, written) as out:
                write(out, p)
            if progress:
                progress(10 + int(85 * (index + 1) / len(files)))
        manifest = {"format": FORMAT, "generator": GENERATOR, "version": VERSION, "title": WORDING,
                    "company": p.org.name, "generated_at": p.now.isoformat(), "team_figures_only": p.council,
                    "files": written}
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))

