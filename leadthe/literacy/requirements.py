"""The requirement rules page: the company's rules with who they cover and how many of them are current
(one aggregate statement for all rules), and the writes (add, change, activate, delete), each followed by
``apply_rules`` so requirements follow at once."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from leadthe import audit
from leadthe.courses.translation import title_of
from leadthe.extensions import db
from leadthe.labels import RULE_FIELD, label
from leadthe.literacy.rules import REQ, apply_rules, count_covered, rule_matches
from leadthe.literacy.status import in_force, status_expr
from leadthe.models import Course, RequirementRule, Team, User
from leadthe.models.enums import RequirementStatus, RuleField, RuleOperator
from leadthe.tenancy import get_or_404


@dataclass
class RuleRow:
    rule: RequirementRule
    course: str
    who: str
    refresh: str
    covered: int
    current: int


def rule_or_404(rule_id) -> RequirementRule:
    """The company's rule (another company's: 404)."""
    return get_or_404(RequirementRule, rule_id)


def describe_who(rule, team_name: str | None = None) -> str:
    """Who a rule covers, in words: "Department is “Sales”", "Everyone in the company"."""
    if rule.field == RuleField.EVERYONE:
        return str(RULE_FIELD[RuleField.EVERYONE])
    if rule.field == RuleField.TEAM:
        return _("Team “%(team)s”", team=team_name or "?")
    if rule.field == RuleField.ROLE:
        return _("Role is %(role)s", role=label(rule.value, "role"))
    return _("%(field)s %(operator)s “%(value)s”", field=label(rule.field, "rule_field"),
             operator=label(rule.operator, "rule_operator"), value=rule.value)


def describe_refresh(rule) -> str:
    if rule.refresh_months is None:
        return _("When the certificate expires")
    if rule.refresh_months == 0:
        return _("Never")
    return ngettext("Every month", "Every %(num)s months", rule.refresh_months)


def rules_page(org_id: int) -> list[RuleRow]:
    """Every rule of the company with its course, its scope in words, and for active rules how many active
    people it covers and how many of them are current: three statements whatever the company's size."""
    found = db.session.execute(
        sa.select(RequirementRule, Course.title, Team.name).join(Course, Course.id == RequirementRule.course_id)
        .outerjoin(Team, Team.id == RequirementRule.team_id)
        .where(RequirementRule.org_id == org_id).order_by(RequirementRule.active.desc(), RequirementRule.id)).all()
    figures = _figures(org_id, [r for r, *_ in found if r.active])
    return [RuleRow(rule, title_of("course", rule.course_id, course), describe_who(rule, team), describe_refresh(rule),
                    *figures.get(rule.id, (0, 0)))
            for rule, course, team in found]


def _figures(org_id: int, rules: list) -> dict[int, tuple[int, int]]:
    """{rule id: (people covered, of them current)} in one statement (a UNION ALL of the rules' scopes)."""
    if not rules:
        return {}
    m = rule_matches(org_id, rules, None)
    current = sa.case((status_expr() == RequirementStatus.CURRENT.value, 1), else_=0)
    rows = db.session.execute(
        sa.select(m.c.rule_id, sa.func.count(), sa.func.coalesce(sa.func.sum(current), 0))
        .select_from(m.outerjoin(REQ, sa.and_(REQ.c.user_id == m.c.user_id, REQ.c.course_id == m.c.course_id, in_force())))
        .group_by(m.c.rule_id))
    return {rule_id: (int(covered), int(now_current)) for rule_id, covered, now_current in rows}


def company_totals(rows: list[RuleRow]) -> dict:
    return {"rules": len(rows), "active": sum(1 for r in rows if r.rule.active)}


def team_choices(org_id: int) -> dict[str, str]:
    return {str(i): n for i, n in db.session.execute(sa.select(Team.id, Team.name).where(Team.org_id == org_id).order_by(Team.name))}


def rule_from_form(form, rule: RequirementRule | None = None, *, org_id: int) -> RequirementRule:
    """The form's values on ``rule`` (or a new, unsaved rule): only the matching value its field needs."""
    rule = rule or RequirementRule(org_id=org_id)
    rule.name = form.name.data or ""
    rule.course_id = int(form.course_id.data) if form.course_id.data else None
    rule.field = form.field.data
    rule.operator = form.operator.data if form.field.data in (RuleField.DEPARTMENT, RuleField.JOB_TITLE) else RuleOperator.EQUALS
    rule.value = {RuleField.DEPARTMENT: form.value.data or "", RuleField.JOB_TITLE: form.value.data or "",
                  RuleField.ROLE: form.role.data or ""}.get(form.field.data, "")
    rule.team_id = int(form.team_id.data) if form.field.data == RuleField.TEAM and form.team_id.data else None
    rule.due_days = form.due_days.data or 30
    rule.refresh_months = {"certificate": None, "never": 0}.get(form.refresh.data, form.refresh_months.data)
    rule.active = bool(form.active.data)
    return rule


def fill_form(form, rule: RequirementRule) -> None:
    """A rule's values into the form (the edit page, first shown)."""
    form.name.data, form.course_id.data, form.field.data, form.operator.data = rule.name, str(rule.course_id), rule.field, rule.operator
    form.value.data = rule.value if rule.field in (RuleField.DEPARTMENT, RuleField.JOB_TITLE) else ""
    form.role.data = rule.value if rule.field == RuleField.ROLE else ""
    form.team_id.data = str(rule.team_id or "")
    form.due_days.data, form.active.data = rule.due_days, rule.active
    form.refresh.data = "certificate" if rule.refresh_months is None else "never" if rule.refresh_months == 0 else "months"
    form.refresh_months.data = rule.refresh_months or None


def preview_count(org_id: int, form) -> int | None:
    """How many active people the rule in the form would cover now, or None while its scope is incomplete."""
    rule = RequirementRule(field=form.field.data, operator=form.operator.data or RuleOperator.EQUALS)
    if rule.field not in set(RuleField):
        return None
    rule.value = form.role.data if rule.field == RuleField.ROLE else (form.value.data or "").strip()
    rule.team_id = int(form.team_id.data) if rule.field == RuleField.TEAM and (form.team_id.data or "").isascii() and (form.team_id.data or "").isdigit() else None
    if rule.field != RuleField.EVERYONE and not (rule.value or rule.team_id):
        return None
    if rule.team_id is not None and db.session.scalar(sa.select(Team.id).where(Team.id == rule.team_id, Team.org_id == org_id)) is None:
        return None
    return count_covered(org_id, rule)


def _details(rule: RequirementRule) -> dict:
    return {"rule_id": rule.id, "course_id": rule.course_id, "field": rule.field, "active": rule.active}


def create_rule(admin: User, form) -> RequirementRule:
    rule = rule_from_form(form, org_id=admin.org_id)
    rule.created_by_id = admin.id
    db.session.add(rule)
    db.session.flush()
    audit.record("requirement_rule.created", actor=admin, org_id=admin.org_id, **_details(rule))
    apply_rules(admin.org_id)
    return rule


def update_rule(admin: User, rule: RequirementRule, form) -> None:
    rule_from_form(form, rule, org_id=admin.org_id)
    db.session.flush()
    audit.record("requirement_rule.updated", actor=admin, org_id=admin.org_id, **_details(rule))
    apply_rules(admin.org_id)


def set_active(admin: User, rule: RequirementRule, active: bool) -> None:
    rule.active = active
    db.session.flush()
    audit.record("requirement_rule.updated", actor=admin, org_id=admin.org_id, **_details(rule))
    apply_rules(admin.org_id)


def delete_rule(admin: User, rule: RequirementRule) -> None:
    """The rule goes; requirements only it gave end (what people completed stays theirs)."""
    audit.record("requirement_rule.deleted", actor=admin, org_id=admin.org_id, **_details(rule))
    db.session.delete(rule)
    db.session.flush()
    apply_rules(admin.org_id)
