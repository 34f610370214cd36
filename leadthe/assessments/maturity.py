"""AI maturity: people's self-assessments, team distributions and the company level.

Team and company figures are aggregate SQL over each active person's latest result (``is_latest``):
one grouped query for the company histogram and one for all teams, whatever the company's size.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _, ngettext

from leadthe.assessments import rubric as R
from leadthe.extensions import db
from leadthe.models import Enrollment, MaturityResult, OrgMaturity, QuizAttempt, Team, TeamMembership, User, utcnow
from leadthe.models.enums import UserStatus
from leadthe.query_args import id_or_404


class BadMaturityAnswers(ValueError):
    pass


def field_name(slug: str) -> str:
    return f"m-{slug}"


def parse_answers(formdata, version: str = R.CURRENT) -> tuple[dict[str, int], list[str]]:
    """Form fields ``m-<slug>`` = option index; returns (answers, unanswered slugs). An option that does
    not exist, or a value sent twice, is refused (BadMaturityAnswers, a 400)."""
    rubric = R.RUBRICS[version]
    answers, missing = {}, []
    for question in rubric["questions"]:
        values = formdata.getlist(field_name(question["slug"]))
        if not values:
            missing.append(question["slug"])
            continue
        if len(values) > 1:
            raise BadMaturityAnswers(f"{question['slug']} takes one answer")
        value = values[0].strip()
        if not (value.isascii() and value.isdigit()) or int(value) >= len(question["options"]):
            raise BadMaturityAnswers(f"{value!r} is not an option of {question['slug']}")
        answers[question["slug"]] = int(value)
    return answers, missing


def evidence_for(user_id: int) -> dict[str, int]:
    courses = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
        Enrollment.user_id == user_id, Enrollment.completed_at.is_not(None)))
    quizzes = db.session.scalar(sa.select(sa.func.count(sa.distinct(QuizAttempt.quiz_id))).where(
        QuizAttempt.user_id == user_id, QuizAttempt.passed.is_(True)))
    return {"courses_completed": courses or 0, "quizzes_passed": quizzes or 0}


def save_result(user: User, answers: dict[str, int], version: str = R.CURRENT) -> MaturityResult:
    evidence = evidence_for(user.id)
    outcome = R.compute(version, answers, evidence)
    db.session.execute(sa.update(MaturityResult).where(MaturityResult.user_id == user.id, MaturityResult.is_latest.is_(True))
                       .values(is_latest=False).execution_options(synchronize_session=False))
    result = MaturityResult(org_id=user.org_id, user_id=user.id, rubric_version=version, answers=answers,
                            scores=outcome.scores, evidence=evidence, self_level=outcome.self_level,
                            level=outcome.level, is_latest=True, created_at=utcnow())
    db.session.add(result)
    db.session.flush()
    return result


def recompute(result: MaturityResult) -> R.Outcome:
    """The level of a stored result under its own rubric version and evidence."""
    return R.compute(result.rubric_version, result.answers, result.evidence)


def latest_result(user_id: int) -> MaturityResult | None:
    return db.session.scalar(sa.select(MaturityResult).where(MaturityResult.user_id == user_id, MaturityResult.is_latest.is_(True)))


def result_or_404(result_id, user: User) -> MaturityResult:
    result = db.session.scalar(sa.select(MaturityResult).where(MaturityResult.id == id_or_404(result_id), MaturityResult.user_id == user.id))
    if result is None:
        abort(404)
    return result


def previous_result(result: MaturityResult) -> MaturityResult | None:
    return db.session.scalar(sa.select(MaturityResult).where(MaturityResult.user_id == result.user_id, MaturityResult.id < result.id)
                             .order_by(MaturityResult.id.desc()).limit(1))


def history(user_id: int, limit: int = 10) -> list[MaturityResult]:
    return list(db.session.scalars(sa.select(MaturityResult).where(MaturityResult.user_id == user_id)
                                   .order_by(MaturityResult.id.desc()).limit(limit)))


@dataclass
class ChartRow:
    key: str
    label: str
    before: int | None
    now: int

    @property
    def change(self) -> int | None:
        return None if self.before is None else self.now - self.before


def chart_rows(result: MaturityResult, before: MaturityResult | None) -> list[ChartRow]:
    return [ChartRow(key, str(label), (before.scores.get(key) if before else None), int(result.scores.get(key, 1)))
            for key, label in R.DIMENSIONS.items()]


# --- distributions -----------------------------------------------------------------------------------

@dataclass
class Distribution:
    histogram: dict[int, int] = field(default_factory=dict)  # level -> people (assessed only)
    people: int = 0  # active people, assessed or not

    @property
    def assessed(self) -> int:
        return sum(self.histogram.values())

    @property
    def not_assessed(self) -> int:
        return max(self.people - self.assessed, 0)

    @property
    def median(self) -> float | None:
        n = self.assessed
        if not n:
            return None
        levels = []
        for lv in sorted(self.histogram):
            levels.extend([lv] * min(self.histogram[lv], n))  # at most 5 distinct values: cheap
        mid = n // 2
        return float(levels[mid]) if n % 2 else (levels[mid - 1] + levels[mid]) / 2

    def share_at_least(self, level: int) -> float:
        n = self.assessed
        return sum(c for lv, c in self.histogram.items() if lv >= level) / n if n else 0.0

    def share_at(self, level: int) -> float:
        n = self.assessed
        return self.histogram.get(level, 0) / n if n else 0.0

    def count(self, level: int) -> int:
        return self.histogram.get(level, 0)


def _median_from_histogram(hist: dict[int, int]) -> float | None:
    return Distribution(dict(hist), sum(hist.values())).median


def company_distribution(org_id: int) -> Distribution:
    """Levels of the company's active people (latest results): one grouped query."""
    rows = db.session.execute(
        sa.select(MaturityResult.level, sa.func.count())
        .select_from(User)
        .outerjoin(MaturityResult, sa.and_(MaturityResult.user_id == User.id, MaturityResult.is_latest.is_(True)))
        .where(User.org_id == org_id, User.status == UserStatus.ACTIVE)
        .group_by(MaturityResult.level)).all()
    dist = Distribution()
    for level, n in rows:
        dist.people += n
        if level is not None:
            dist.histogram[int(level)] = n
    return dist


@dataclass
class TeamMaturity:
    team_id: int
    name: str
    dist: Distribution


def team_distributions(org_id: int, team_ids: list[int] | None = None) -> list[TeamMaturity]:
    """Per team: the levels of its active members' latest results. One grouped query for all teams
    (plus one for the team names), so the cost does not grow with a loop over teams or people."""
    stmt = (
        sa.select(TeamMembership.team_id, MaturityResult.level, sa.func.count())
        .join(User, User.id == TeamMembership.user_id)
        .outerjoin(MaturityResult, sa.and_(MaturityResult.user_id == User.id, MaturityResult.is_latest.is_(True)))
        .where(TeamMembership.org_id == org_id, User.status == UserStatus.ACTIVE)
        .group_by(TeamMembership.team_id, MaturityResult.level)
    )
    teams_stmt = sa.select(Team.id, Team.name).where(Team.org_id == org_id).order_by(Team.name)
    if team_ids is not None:
        stmt = stmt.where(TeamMembership.team_id.in_(team_ids))
        teams_stmt = teams_stmt.where(Team.id.in_(team_ids))
    by_team: dict[int, Distribution] = {}
    for team_id, level, n in db.session.execute(stmt):
        dist = by_team.setdefault(team_id, Distribution())
        dist.people += n
        if level is not None:
            dist.histogram[int(level)] = n
    return [TeamMaturity(tid, name, by_team.get(tid, Distribution())) for tid, name in db.session.execute(teams_stmt)]


# --- the company level ------------------------------------------------------------------------------

def latest_org_answers(org_id: int) -> OrgMaturity | None:
    return db.session.scalar(sa.select(OrgMaturity).where(OrgMaturity.org_id == org_id).order_by(OrgMaturity.id.desc()).limit(1))


def save_org_answers(user: User, answers: dict[str, int]) -> OrgMaturity:
    row = OrgMaturity(org_id=user.org_id, answers=answers, level=R.org_answer_level(answers), answered_by_id=user.id,
                      created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


@dataclass
class CompanyLevel:
    org: OrgMaturity | None
    dist: Distribution
    workforce: int

    @property
    def organisational(self) -> int | None:
        return self.org.level if self.org else None

    @property
    def level(self) -> int | None:
        """min(organisational answers, workforce); unknown until the admin has answered."""
        return None if self.org is None else min(self.org.level, self.workforce)

    @property
    def limited_by(self) -> str | None:
        if self.org is None:
            return None
        if self.org.level < self.workforce:
            return "organisation"
        if self.workforce < self.org.level:
            return "workforce"
        return "both"


def company_level(org_id: int, dist: Distribution | None = None) -> CompanyLevel:
    dist = dist or company_distribution(org_id)
    return CompanyLevel(latest_org_answers(org_id), dist, R.workforce_level(dist.histogram, dist.people))


def next_steps(company: CompanyLevel) -> list[str]:
    """What would raise the company level, in words."""
    steps = []
    if company.org is None:
        return [_("Answer the organisational questionnaire below to get the company level.")]
    weakest = sorted(R.ORG_AREAS, key=lambda a: int(company.org.answers.get(a, 1)))[:2]
    if company.limited_by in ("organisation", "both"):
        names = ", ".join(str(R.ORG_AREAS[a][0]) for a in weakest)
        steps.append(_("Strengthen the weakest organisational areas first: %(areas)s.", areas=names))
    if company.limited_by in ("workforce", "both") and company.workforce < 5:
        target = company.workforce + 1
        have = company.dist.histogram and sum(n for lv, n in company.dist.histogram.items() if lv >= target) or 0
        need = max(0, -(-company.dist.people // 2) - have)
        steps.append(_("Level %(level)s needs at least half of your active people at level %(level)s or above: "
                       "%(need)s more people.", level=target, need=need))
    if company.dist.not_assessed:
        steps.append(ngettext("%(num)s active person has not taken the self-assessment yet; they count as level 1.",
                              "%(num)s active people have not taken the self-assessment yet; they count as level 1.",
                              company.dist.not_assessed))
    return steps


def seed_demo_maturity(user: User) -> None:
    """Demo data: one self-assessment per demo person, varied by person (idempotent)."""
    if latest_result(user.id) is not None:
        return
    rubric = R.RUBRICS[R.CURRENT]
    answers = {}
    for n, question in enumerate(rubric["questions"]):
        ranked = sorted(range(len(question["options"])), key=lambda i: question["options"][i]["score"])
        answers[question["slug"]] = ranked[(user.id + n) % len(ranked)]
    save_result(user, answers)
