"""The curriculum as data: safe Markdown rendering, the content-folder loader, and authoring writes.

HTML is rendered once, here, when content is loaded or edited, and stored beside the Markdown, so the
lesson player never renders per request. Markdown goes through markdown-it-py with raw HTML off and
then through nh3 (an allow-list sanitiser), so even a hostile author cannot put script on a page.

Rows are matched by slug: reloading updates in place and keeps ids, so learners' completions, answers
and resume points stay attached. A lesson or module that disappears from the content is archived
(hidden from the player and from the progress totals), never deleted.
"""
from __future__ import annotations

import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import nh3
import sqlalchemy as sa
import yaml
from markdown_it import MarkdownIt

from leadthe.extensions import db
from leadthe.lab.checks import CHECKS
from leadthe.lab.exercise import DEFAULT_PASS_MARK
from leadthe.models import ContentTranslation, Course, CourseModule, Lesson, Quiz, QuizChoice, QuizQuestion
from leadthe.models.assessment import QUESTION_KINDS, SCORING
from leadthe.models.course import LESSON_KINDS, LEVELS

DEFAULT_CONTENT = Path(__file__).resolve().parent.parent / "content"

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table").enable("strikethrough")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}


def render_markdown(text: str) -> str:
    """Markdown to sanitised HTML (h1 is the page's own title, so a body's "# x" becomes an h2)."""
    raw = _md.render(text or "")
    raw = raw.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return nh3.clean(raw, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer")


def plain_text(rendered_html: str) -> str:
    """The words of rendered HTML, for the search index."""
    text = nh3.clean(rendered_html, tags=set())
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def slugify(text: str, max_length: int = 80) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (slug or "untitled")[:max_length].strip("-")


# --- applying content to rows ------------------------------------------------------------------------

def _one_of(value, allowed, default: str) -> str:
    """``value`` as text when it is one of ``allowed``, else ``default`` (also for a missing value)."""
    text = str(value or default)
    return text if text in allowed else default


def _bounded_int(value, default: int, low: int, high: int) -> int:
    """``value`` as a whole number within ``low``..``high``; ``default`` when missing or not a number."""
    try:
        return max(low, min(int(value or default), high))
    except (TypeError, ValueError):
        return default


MAX_OBJECTIVES = 10


def objectives_of(value) -> list[str]:
    """A course's learning objectives, from the content's ``objectives:`` list or the authoring form's lines:
    short sentences, one line each, at most MAX_OBJECTIVES (anything else than a list or text gives none)."""
    items = value.splitlines() if isinstance(value, str) else value if isinstance(value, list) else []
    found = (" ".join(str(item).split()).lstrip("-*• ").strip() for item in items if item is not None and not isinstance(item, (dict, list)))
    return [text[:300] for text in found if text][:MAX_OBJECTIVES]


def apply_course(course: Course, data: dict) -> None:
    course.title = str(data.get("title") or course.title or "Untitled course")[:200]
    course.summary = str(data.get("summary") or "")[:500]
    course.topic = str(data.get("topic") or "general")[:40]
    course.level = _one_of(data.get("level"), LEVELS, "beginner")
    course.audience = str(data.get("audience") or "everyone")[:80]
    if "order" in data:
        course.position = int(data.get("order") or 0)
    course.description_md = data.get("body", "") or ""
    course.description_html = render_markdown(course.description_md)
    course.objectives = objectives_of(data.get("objectives"))
    course.search_text = " ".join(p for p in (course.summary, *course.objectives, plain_text(course.description_html)) if p)
    course.certificate_months = _bounded_int(data.get("certificate_months"), 0, 0, 120)


def apply_module(module: CourseModule, data: dict) -> None:
    module.title = str(data.get("title") or "Untitled module")[:200]
    module.body_md = data.get("body", "") or ""
    module.body_html = render_markdown(module.body_md)


def apply_lesson(lesson: Lesson, data: dict) -> None:
    lesson.title = str(data.get("title") or "Untitled lesson")[:200]
    lesson.kind = _one_of(data.get("kind"), LESSON_KINDS, "reading")
    lesson.minutes = _bounded_int(data.get("minutes"), 5, 1, 600)
    _apply_lesson_kind_fields(lesson, data)
    lesson.body_md = data.get("body", "") or ""
    lesson.body_html = render_markdown(lesson.body_md)
    if "exercise" in data:  # the content loader (validated by exercise_of); authoring never changes an exercise
        lesson.exercise = data["exercise"] if lesson.kind == "exercise" else None
    lesson.search_text = _lesson_search_text(lesson)


def _apply_lesson_kind_fields(lesson: Lesson, data: dict) -> None:
    """The fields only one kind of lesson has (a practice's prompt, a video's address and transcript), from
    ``data`` for that kind and emptied for the others. ``lesson.kind`` is already set."""
    is_video = lesson.kind == "video"
    lesson.prompt = str(data.get("prompt") or "") if lesson.kind == "practice" else ""
    lesson.video_url = str(data.get("video_url") or data.get("video") or "")[:500] if is_video else ""
    lesson.transcript_md = str(data.get("transcript") or "") if is_video else ""
    lesson.transcript_html = render_markdown(lesson.transcript_md)


def _lesson_search_text(lesson: Lesson) -> str:
    """The words of a lesson for the search index: body, prompt, transcript and an exercise's task and material."""
    exercise = lesson.exercise if lesson.kind == "exercise" and isinstance(lesson.exercise, dict) else {}
    return " ".join(p for p in (
        plain_text(lesson.body_html), lesson.prompt, plain_text(lesson.transcript_html),
        str(exercise.get("task") or ""), str(exercise.get("material") or "")) if p)


def _exercise_text(value, where: str, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)):
        raise ContentError(f"{where}: the exercise's {name} must be text")
    return str(value).strip()


def _exercise_hints(value, where: str) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or any(not isinstance(h, (str, int, float)) for h in items):
        raise ContentError(f"{where}: the exercise's hints must be a list of texts")
    return [str(h).strip() for h in items if str(h).strip()]


def exercise_of(data: dict, where: str) -> dict:
    """The exercise of a lesson's front matter (``kind: exercise``), validated, as stored in ``Lesson.exercise``
    (``leadthe.lab.exercise.Exercise.as_json``). A missing task or rubric, an unknown check id or a bad pass mark
    is a ContentError naming ``where`` (the file), raised before any row changes."""
    task = _exercise_text(data.get("task"), where, "task")
    if not task:
        raise ContentError(f"{where}: an exercise needs a task")
    rubric = data.get("rubric")
    if not isinstance(rubric, list) or not rubric:
        raise ContentError(f"{where}: an exercise needs a rubric (a list of checks)")
    criteria = []
    for position, item in enumerate(rubric, start=1):
        check, label = (item, "") if isinstance(item, str) else (
            (item.get("check"), item.get("label")) if isinstance(item, dict) else (None, None))
        if not isinstance(check, str) or not check:
            raise ContentError(f"{where}: rubric item {position} needs a check")
        if check not in CHECKS:
            raise ContentError(f"{where}: rubric item {position}: unknown check {check!r} "
                               f"(known: {', '.join(sorted(CHECKS))})")
        criteria.append({"check": check, "label": _exercise_text(label, where, f"rubric item {position}'s label")})
    try:
        pass_mark = int(data.get("pass_mark", DEFAULT_PASS_MARK))
    except (TypeError, ValueError) as exc:
        raise ContentError(f"{where}: the exercise's pass_mark must be a number from 1 to 100") from exc
    if not 1 <= pass_mark <= 100:
        raise ContentError(f"{where}: the exercise's pass_mark must be a number from 1 to 100")
    return {"task": task, "material": _exercise_text(data.get("material"), where, "material"), "pass_mark": pass_mark,
            "criteria": criteria, "hints": _exercise_hints(data.get("hints"), where)}


def refresh_course_totals(course: Course) -> None:
    """Renumber lessons through the course (module order, then lesson order) and recount minutes.

    Called after every structural change; one UPDATE per moved lesson only (unchanged rows stay clean)."""
    db.session.flush()
    rows = db.session.execute(
        sa.select(Lesson, CourseModule.position)
        .join(CourseModule, CourseModule.id == Lesson.module_id)
        .where(Lesson.course_id == course.id)
        .order_by(Lesson.archived, CourseModule.archived, CourseModule.position, Lesson.position, Lesson.id)
    ).all()
    seq, minutes, count = 0, 0, 0
    module_archived = dict(db.session.execute(
        sa.select(CourseModule.id, CourseModule.archived).where(CourseModule.course_id == course.id)).all())
    for lesson, _pos in rows:
        seq += 1
        if lesson.seq != seq:
            lesson.seq = seq
        if not lesson.archived and not module_archived.get(lesson.module_id):
            minutes += lesson.minutes
            count += 1
    course.minutes, course.lesson_count = minutes, count


# --- the content folder ------------------------------------------------------------------------------

class ContentError(ValueError):
    pass


def read_front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    meta, body = {}, text
    if text.startswith("---"):
        parts = re.split(r"^---\s*$", text, maxsplit=2, flags=re.M)
        if len(parts) == 3:
            try:
                meta = yaml.safe_load(parts[1]) or {}
            except yaml.YAMLError as exc:
                raise ContentError(f"{path}: the front matter is not valid YAML ({exc})") from exc
            body = parts[2]
    if not isinstance(meta, dict):
        raise ContentError(f"{path}: the front matter must be a mapping")
    meta["body"] = body.strip() + "\n" if body.strip() else ""
    return meta


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=lambda: {"course": 0, "module": 0, "lesson": 0})
    updated: dict[str, int] = field(default_factory=lambda: {"course": 0, "module": 0, "lesson": 0})
    archived: dict[str, int] = field(default_factory=lambda: {"module": 0, "lesson": 0})
    unchanged: int = 0
    # what was skipped and why (an address used twice): the rest of the folder is still loaded
    warnings: list[str] = field(default_factory=list)
    # quizzes (quiz.yaml): created / updated / archived quizzes and questions
    quizzes: dict[str, int] = field(default_factory=lambda: {
        "created": 0, "updated": 0, "archived": 0, "questions_created": 0, "questions_updated": 0, "questions_archived": 0})
    # translations (``*.<lang>.md``, ``quiz.<lang>.yaml``): rows written or changed, and removed
    translations: dict[str, int] = field(default_factory=lambda: {"written": 0, "removed": 0})

    def count(self, kind: str, before: dict | None, row) -> None:
        """Count a course, module or lesson as created (no snapshot ``before``), updated or unchanged."""
        if before is None:
            self.created[kind] += 1
        elif _changed(row, before):
            self.updated[kind] += 1
        else:
            self.unchanged += 1

    def count_quiz(self, prefix: str, before: dict | None, changed: bool) -> None:
        """Count a quiz (``prefix`` "") or a quiz question (``prefix`` "questions_") as created or updated."""
        if before is None:
            self.quizzes[prefix + "created"] += 1
        else:
            self.quizzes[prefix + "updated"] += bool(changed)

    def summary(self) -> str:
        c, u, a, q = self.created, self.updated, self.archived, self.quizzes
        return (f"created {c['course']} courses, {c['module']} modules, {c['lesson']} lessons; "
                f"updated {u['course']} courses, {u['module']} modules, {u['lesson']} lessons; "
                f"archived {a['module']} modules, {a['lesson']} lessons; {self.unchanged} unchanged; "
                f"quizzes: {q['created']} created, {q['updated']} updated, {q['archived']} archived; "
                f"quiz questions: {q['questions_created']} created, {q['questions_updated']} updated, "
                f"{q['questions_archived']} archived; "
                f"translations: {self.translations['written']} written, {self.translations['removed']} removed")


def _changed(row, before: dict) -> bool:
    return any(getattr(row, k) != v for k, v in before.items())


def _snapshot(row, names) -> dict:
    return {n: getattr(row, n) for n in names}


COURSE_FIELDS = ("title", "summary", "topic", "level", "audience", "position", "description_md", "objectives")
MODULE_FIELDS = ("title", "body_md", "position", "archived")
LESSON_FIELDS = ("title", "kind", "minutes", "prompt", "video_url", "transcript_md", "body_md", "exercise", "position",
                 "module_id", "archived")
QUIZ_FIELDS = ("slug", "title", "pass_mark", "max_attempts", "shuffle", "scoring", "archived")
QUESTION_FIELDS = ("kind", "text", "explanation", "position", "archived")


# --- validated specs: what the folder says, read and checked before any row is touched --------------

@dataclass
class LessonSpec:
    slug: str
    data: dict  # front matter and body, applied by apply_lesson


@dataclass
class ModuleSpec:
    slug: str
    data: dict  # front matter and body, applied by apply_module
    position: int
    lessons: list[LessonSpec]


@dataclass
class CourseSpec:
    slug: str
    data: dict  # front matter and body, applied by apply_course
    modules: list[ModuleSpec]


@dataclass
class QuestionSpec:
    slug: str
    kind: str
    text: str
    explanation: str
    choices: list[tuple[str, bool]]  # (text, correct) by position


@dataclass
class QuizSpec:
    slug: str
    title: str
    pass_mark: int
    max_attempts: int
    shuffle: bool
    scoring: str
    questions: list[QuestionSpec]


def _parse_course(course_dir: Path, report: LoadReport, loaded: dict[str, Path]) -> CourseSpec | None:
    """The course folder as a spec, or None (with a warning) when its slug is already loaded."""
    data = read_front_matter(course_dir / "course.md")
    slug = slugify(str(data.get("slug") or course_dir.name))
    if slug in loaded:
        report.warnings.append(f"{course_dir}: skipped, the slug {slug!r} is already used by {loaded[slug]}")
        return None
    loaded[slug] = course_dir
    seen_lessons: set[str] = set()
    modules = []
    module_dirs = sorted(p for p in course_dir.iterdir() if (p / "module.md").is_file())
    for m_index, module_dir in enumerate(module_dirs, start=1):
        mdata = read_front_matter(module_dir / "module.md")
        mslug = slugify(str(mdata.get("slug") or module_dir.name))
        position = int(mdata.get("order") or m_index)
        lesson_files = sorted(p for p in module_dir.glob("*.md") if p.name != "module.md" and not _translation_of(p))
        lessons = [_parse_lesson(lesson_file, seen_lessons, slug) for lesson_file in lesson_files]
        modules.append(ModuleSpec(mslug, mdata, position, lessons))
    return CourseSpec(slug, data, modules)


def _parse_lesson(lesson_file: Path, seen: set[str], course_slug: str) -> LessonSpec:
    ldata = read_front_matter(lesson_file)
    lslug = slugify(str(ldata.get("slug") or lesson_file.stem))
    if lslug in seen:
        raise ContentError(f"{lesson_file}: the lesson slug {lslug!r} is used twice in {course_slug}")
    seen.add(lslug)
    ldata["exercise"] = exercise_of(ldata, str(lesson_file)) if ldata.get("kind") == "exercise" else None
    return LessonSpec(lslug, ldata)


def _quiz_text(value, where: str, limit: int | None = None) -> str:
    text = str(value or "").strip()
    if not text:
        raise ContentError(f"{where}: missing text")
    return text[:limit] if limit else text


def _read_quiz_file(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list) or not data["questions"]:
        raise ContentError(f"{path}: a quiz needs a list of questions")
    return data


def _parse_quiz(path: Path, data: dict, slug: str, course_title: str) -> QuizSpec:
    title = _quiz_text(data.get("title") or f"{course_title}: final quiz", str(path), 200)
    try:
        pass_mark = max(0, min(int(data.get("pass_mark", 70)), 100))
        max_attempts = max(0, int(data.get("max_attempts", 0) or 0))
    except (TypeError, ValueError) as exc:
        raise ContentError(f"{path}: pass_mark and max_attempts must be numbers") from exc
    seen: set[str] = set()
    questions = [_parse_question(qdata, position, f"{path}, question {position}", seen)
                 for position, qdata in enumerate(data["questions"], start=1)]
    return QuizSpec(slug, title, pass_mark, max_attempts, bool(data.get("shuffle", False)),
                    _one_of(data.get("scoring"), SCORING, "best"), questions)


def _parse_question(qdata, position: int, where: str, seen: set[str]) -> QuestionSpec:
    if not isinstance(qdata, dict):
        raise ContentError(f"{where}: must be a mapping")
    qslug = slugify(str(qdata.get("slug") or f"q{position}"))
    if qslug in seen:
        raise ContentError(f"{where}: the slug {qslug!r} is used twice")
    seen.add(qslug)
    kind = str(qdata.get("kind") or "single")
    if kind not in QUESTION_KINDS:
        raise ContentError(f"{where}: kind must be one of {', '.join(QUESTION_KINDS)}")
    raw_choices = _raw_choices(qdata, kind, where)
    text = _quiz_text(qdata.get("text"), where)
    choices = [_parse_choice(cdata, f"{where}, choice {cpos}") for cpos, cdata in enumerate(raw_choices, start=1)]
    return QuestionSpec(qslug, kind, text, str(qdata.get("explanation") or "").strip(), choices)


def _raw_choices(qdata: dict, kind: str, where: str) -> list:
    """The question's choices as written (a true/false question may give just ``answer``), checked for
    their number and the number of correct ones."""
    raw_choices = qdata.get("choices") or []
    if kind == "true_false" and not raw_choices and "answer" in qdata:
        raw_choices = [{"text": "True", "correct": bool(qdata["answer"])}, {"text": "False", "correct": not qdata["answer"]}]
    if not isinstance(raw_choices, list) or len(raw_choices) < 2:
        raise ContentError(f"{where}: needs at least two choices")
    n_correct = sum(1 for c in raw_choices if isinstance(c, dict) and c.get("correct"))
    if n_correct == 0 or (kind != "multiple" and n_correct != 1):
        raise ContentError(f"{where}: a {kind} question needs {'at least one' if kind == 'multiple' else 'exactly one'} correct choice")
    return raw_choices


def _parse_choice(cdata, where: str) -> tuple[str, bool]:
    if not isinstance(cdata, dict):
        raise ContentError(f"{where}: must be a mapping with text and correct")
    return _quiz_text(cdata.get("text"), where), bool(cdata.get("correct"))


# --- one upsert by slug -----------------------------------------------------------------------------

def _upsert(row, fields: tuple[str, ...], model, **new):
    """``row``, or a new ``model(**new)`` added to the session when it is None; with a snapshot of its
    ``fields`` before the change (None for a new row)."""
    if row is None:
        row = model(**new)
        db.session.add(row)
        return row, None
    return row, _snapshot(row, fields)


def _upsert_by_slug(rows: dict, slug: str, fields: tuple[str, ...], model, **new):
    """The row for ``slug`` in ``rows`` (made with ``slug`` and ``new`` and kept in ``rows`` when missing)."""
    row, before = _upsert(rows.get(slug), fields, model, slug=slug, **new)
    rows[slug] = row
    return row, before


def _archive_missing(rows: dict, seen: set[str]) -> int:
    """Archive the rows whose slug the content no longer has; how many were newly archived."""
    count = 0
    for slug, row in rows.items():
        if slug not in seen and not row.archived:
            row.archived = True
            count += 1
    return count


# --- loading ----------------------------------------------------------------------------------------

def load_content(root: Path | str | None = None) -> LoadReport:
    """Upsert every course under ``root`` (default: the shipped curriculum) by slug. Caller commits."""
    root = Path(root) if root else DEFAULT_CONTENT
    if not root.is_dir():
        raise ContentError(f"{root} is not a folder")
    report = LoadReport()
    course_dirs = sorted(p for p in root.iterdir() if (p / "course.md").is_file())
    if not course_dirs:
        raise ContentError(f"no course folders (with a course.md) under {root}")
    loaded: dict[str, Path] = {}
    for course_dir in course_dirs:
        _load_course(course_dir, report, loaded)
    db.session.flush()
    return report


def _load_course(course_dir: Path, report: LoadReport, loaded: dict[str, Path]) -> None:
    spec = _parse_course(course_dir, report, loaded)
    if spec is None:
        return
    # platform courses only: a company's course may use the same address (addresses are unique per owner)
    found = db.session.scalar(sa.select(Course).where(Course.slug == spec.slug, Course.org_id.is_(None)))
    course, before = _upsert(found, COURSE_FIELDS, Course, slug=spec.slug, org_id=None,
                             published=bool(spec.data.get("published", True)))
    apply_course(course, spec.data)
    report.count("course", before, course)
    db.session.flush()
    _load_modules(course, spec.modules, report)
    refresh_course_totals(course)
    _load_quiz(course_dir, course, report)
    _load_translations(course_dir, course, report)


def _load_modules(course: Course, specs: list[ModuleSpec], report: LoadReport) -> None:
    modules = {m.slug: m for m in db.session.scalars(sa.select(CourseModule).where(CourseModule.course_id == course.id))}
    lessons = {l.slug: l for l in db.session.scalars(sa.select(Lesson).where(Lesson.course_id == course.id))}
    seen_lessons = set()
    for mspec in specs:
        module, before = _upsert_by_slug(modules, mspec.slug, MODULE_FIELDS, CourseModule, course_id=course.id)
        apply_module(module, mspec.data)
        module.position = mspec.position
        module.archived = False
        report.count("module", before, module)
        db.session.flush()
        for l_index, lspec in enumerate(mspec.lessons, start=1):
            lesson, before = _upsert_by_slug(lessons, lspec.slug, LESSON_FIELDS, Lesson, course_id=course.id, module_id=module.id)
            apply_lesson(lesson, lspec.data)
            lesson.module_id = module.id
            lesson.position = l_index
            lesson.archived = False
            report.count("lesson", before, lesson)
            seen_lessons.add(lspec.slug)
    report.archived["module"] += _archive_missing(modules, {m.slug for m in specs})
    report.archived["lesson"] += _archive_missing(lessons, seen_lessons)


def _load_quiz(course_dir: Path, course: Course, report: LoadReport) -> None:
    """Upsert the course's quiz.yaml: the quiz by slug, questions by slug, choices by position. Rows
    that disappear are archived, so attempts and the responses that point at them are never lost."""
    path = course_dir / "quiz.yaml"
    quiz = db.session.scalar(sa.select(Quiz).where(Quiz.course_id == course.id))
    if not path.is_file():
        if quiz is not None and not quiz.archived:
            quiz.archived = True
            report.quizzes["archived"] += 1
        return
    data = _read_quiz_file(path)
    slug = slugify(str(data.get("slug") or course.slug))
    other = db.session.scalar(sa.select(Quiz.id).where(Quiz.slug == slug, Quiz.course_id != course.id))
    if other is not None:
        report.warnings.append(f"{path}: skipped, the quiz slug {slug!r} is already used by another course")
        return
    spec = _parse_quiz(path, data, slug, course.title)
    quiz, before = _upsert(quiz, QUIZ_FIELDS, Quiz, course_id=course.id, slug=slug, title="")
    quiz.slug, quiz.title, quiz.pass_mark, quiz.max_attempts = spec.slug, spec.title, spec.pass_mark, spec.max_attempts
    quiz.shuffle, quiz.scoring, quiz.archived = spec.shuffle, spec.scoring, False
    report.count_quiz("", before, before is not None and _changed(quiz, before))
    db.session.flush()
    _load_questions(quiz, spec.questions, report)


def _load_questions(quiz, specs: list[QuestionSpec], report: LoadReport) -> None:
    questions = {q.slug: q for q in db.session.scalars(sa.select(QuizQuestion).where(QuizQuestion.quiz_id == quiz.id))}
    choices: dict[int, dict[int, QuizChoice]] = {}
    if questions:
        for choice in db.session.scalars(sa.select(QuizChoice).join(QuizQuestion).where(QuizQuestion.quiz_id == quiz.id)):
            choices.setdefault(choice.question_id, {})[choice.position] = choice
    for position, spec in enumerate(specs, start=1):
        question, before = _upsert_by_slug(questions, spec.slug, QUESTION_FIELDS, QuizQuestion, quiz_id=quiz.id, text="")
        question.kind, question.text, question.explanation = spec.kind, spec.text, spec.explanation
        question.position, question.archived = position, False
        db.session.flush()
        changed = _load_choices(question, choices.get(question.id, {}), spec.choices)
        report.count_quiz("questions_", before, before is not None and (_changed(question, before) or changed))
    report.quizzes["questions_archived"] += _archive_missing(questions, {q.slug for q in specs})


def _load_choices(question, existing: dict[int, QuizChoice], specs: list[tuple[str, bool]]) -> bool:
    """Upsert the question's choices by position, archiving those past the end; whether any changed."""
    changed = False
    for cpos, (ctext, correct) in enumerate(specs, start=1):
        choice = existing.get(cpos)
        if choice is None:
            db.session.add(QuizChoice(question_id=question.id, position=cpos, text=ctext, correct=correct))
            changed = True
        elif (choice.text, choice.correct, choice.archived) != (ctext, correct, False):
            choice.text, choice.correct, choice.archived = ctext, correct, False
            changed = True
    for cpos, choice in existing.items():
        if cpos > len(specs) and not choice.archived:
            choice.archived = True
            changed = True
    return changed


# --- translations -----------------------------------------------------------------------------------
#
# Beside every file of a course there may be the same file in another language: ``course.de.md``,
# ``module.de.md``, ``02-tokens.de.md``, ``quiz.de.yaml``. Their front matter and body give the translated
# words only (titles, summary, bodies, prompt, transcript; for a quiz the title and each question's text,
# explanation and choices by slug and position); everything else (order, kind, minutes, the right answers)
# stays the original's. What has no translation is read in the original (English).

_TRANSLATION_NAME = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2})(?P<ext>\.md|\.yaml)$")


def _translation_of(path: Path) -> tuple[str, str] | None:
    """(original file name, language) when ``path`` is a translation file, else None."""
    match = _TRANSLATION_NAME.match(path.name)
    return (match["stem"] + match["ext"], match["lang"]) if match else None


def _translation_files(folder: Path) -> list[tuple[Path, Path, str]]:
    """(translation file, original file, language) in ``folder`` whose original exists."""
    found = []
    for path in sorted(folder.iterdir()):
        of = _translation_of(path) if path.is_file() else None
        if of and (folder / of[0]).is_file():
            found.append((path, folder / of[0], of[1]))
    return found


def _translated_course(data: dict) -> dict:
    out = {k: str(data[k]) for k in ("title", "summary") if data.get(k)}
    if data.get("body"):
        out.update(description_md=data["body"], description_html=render_markdown(data["body"]))
    if objectives_of(data.get("objectives")):
        out["objectives"] = objectives_of(data.get("objectives"))
    return out


def _translated_module(data: dict) -> dict:
    out = {"title": str(data["title"])} if data.get("title") else {}
    if data.get("body"):
        out.update(body_md=data["body"], body_html=render_markdown(data["body"]))
    return out


def _translated_lesson(data: dict, original: dict | None = None, where: str = "") -> dict:
    out = {k: str(data[k]) for k in ("title", "prompt") if data.get(k)}
    if data.get("transcript"):
        out.update(transcript_md=str(data["transcript"]), transcript_html=render_markdown(str(data["transcript"])))
    if data.get("body"):
        out.update(body_md=data["body"], body_html=render_markdown(data["body"]))
    exercise = _translated_exercise(data, original, where) if isinstance(original, dict) else None
    if exercise:
        out["exercise"] = exercise
    return out


def _translated_exercise(data: dict, original: dict, where: str) -> dict | None:
    """The whole exercise in the translation's language: the original's (checks, pass mark) with the translated
    task, material, hints (the whole list) and criterion labels (``rubric:`` by position, each a label or a
    mapping with ``label``); None when the translation gives none of them."""
    labels = _translated_rubric_labels(data, where)
    criteria = _translated_criteria(original, labels, where)
    given = {k: _exercise_text(data[k], where, k) for k in ("task", "material") if data.get(k)}
    hints = _exercise_hints(data.get("hints"), where) if data.get("hints") else None
    if not given and hints is None and not labels:
        return None
    return {**original, **given, "criteria": criteria, "hints": hints if hints is not None else list(original.get("hints") or ())}


def _translated_rubric_labels(data: dict, where: str) -> list:
    """The translation's ``rubric:`` (criterion labels in the original's order; an empty list when not given)."""
    labels = data.get("rubric")
    if labels is not None and not isinstance(labels, list):
        raise ContentError(f"{where}: rubric in a translation is a list of labels, in the original's order")
    return labels or []


def _translated_criteria(original: dict, labels: list, where: str) -> list[dict]:
    """Copies of the original exercise's criteria, each with the translated label at its position (an item is
    a label or a mapping with ``label``; an empty one keeps the original's). More labels than criteria is an error."""
    criteria = [dict(c) for c in original.get("criteria") or ()]
    if len(labels) > len(criteria):
        raise ContentError(f"{where}: the translation's rubric has {len(labels)} labels, the original {len(criteria)} criteria")
    for criterion, item in zip(criteria, labels):
        label = item.get("label") if isinstance(item, dict) else item
        if label:
            criterion["label"] = _exercise_text(label, where, "rubric label")
    return criteria


def _course_translations(course_dir: Path, course: Course) -> dict[tuple[str, int, str], dict]:
    """{(entity, id, lang): fields} of every translation file of the course (quiz ones included)."""
    found = _course_folder_translations(course_dir, course)
    modules = {m.slug: m for m in db.session.scalars(sa.select(CourseModule).where(CourseModule.course_id == course.id))}
    lessons = {l.slug: l for l in db.session.scalars(sa.select(Lesson).where(Lesson.course_id == course.id))}
    for module_dir in sorted(p for p in course_dir.iterdir() if (p / "module.md").is_file()):
        found.update(_module_folder_translations(module_dir, modules, lessons))
    return found


def _course_folder_translations(course_dir: Path, course: Course) -> dict[tuple[str, int, str], dict]:
    """{(entity, id, lang): fields} of the translation files beside course.md: the course's own and the quiz's."""
    found: dict[tuple[str, int, str], dict] = {}
    for path, _original, lang in _translation_files(course_dir):
        if path.name.startswith("course."):
            found[("course", course.id, lang)] = _translated_course(read_front_matter(path))
        elif path.name.startswith("quiz."):
            found.update(_quiz_translations(path, course, lang))
    return found


def _module_folder_translations(module_dir: Path, modules: dict[str, CourseModule],
                                lessons: dict[str, Lesson]) -> dict[tuple[str, int, str], dict]:
    """{(entity, id, lang): fields} of the translation files in one module's folder: the module's own and its
    lessons' (``modules`` and ``lessons`` are the course's rows by slug; a file whose row is missing gives none)."""
    found: dict[tuple[str, int, str], dict] = {}
    for path, original, lang in _translation_files(module_dir):
        odata = read_front_matter(original)
        if original.name == "module.md":
            module = modules.get(slugify(str(odata.get("slug") or module_dir.name)))
            if module is not None:
                found[("module", module.id, lang)] = _translated_module(read_front_matter(path))
            continue
        lesson = lessons.get(slugify(str(odata.get("slug") or original.stem)))
        if lesson is not None:  # an exercise's translation is laid over the exercise as just loaded
            exercise = lesson.exercise if lesson.kind == "exercise" else None
            found[("lesson", lesson.id, lang)] = _translated_lesson(read_front_matter(path), exercise, str(path))
    return found


def _quiz_translations(path: Path, course: Course, lang: str) -> dict[tuple[str, int, str], dict]:
    quiz = db.session.scalar(sa.select(Quiz).where(Quiz.course_id == course.id))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML ({exc})") from exc
    if quiz is None or not isinstance(data, dict):
        return {}
    found = {("quiz", quiz.id, lang): {"title": str(data["title"])}} if data.get("title") else {}
    questions = {q.slug: q for q in db.session.scalars(sa.select(QuizQuestion).where(QuizQuestion.quiz_id == quiz.id))}
    for qdata in data.get("questions") or []:
        question = questions.get(slugify(str(qdata.get("slug") or ""))) if isinstance(qdata, dict) else None
        if question is not None:
            found.update(_question_translation(question, qdata, lang))
    return found


def _question_translation(question, qdata: dict, lang: str) -> dict[tuple[str, int, str], dict]:
    """A question's translated text and explanation, and its choices' (by position; a choice may be given as
    its text alone)."""
    found = {("question", question.id, lang): {k: str(qdata[k]).strip() for k in ("text", "explanation") if qdata.get(k)}}
    choices = {c.position: c for c in db.session.scalars(sa.select(QuizChoice).where(QuizChoice.question_id == question.id))}
    for cpos, cdata in enumerate(qdata.get("choices") or [], start=1):
        text = cdata.get("text") if isinstance(cdata, dict) else cdata
        if cpos in choices and text:
            found[("choice", choices[cpos].id, lang)] = {"text": str(text).strip()}
    return found


def _searchable(fields: dict) -> str:
    """The words of a translation, for the search index of its original row."""
    exercise = fields.get("exercise") or {}
    parts = (fields.get("title"), fields.get("summary"), fields.get("prompt"), *(fields.get("objectives") or ()),
             exercise.get("task"), exercise.get("material"),
             *(plain_text(fields.get(k) or "") for k in ("description_html", "body_html", "transcript_html")))
    return " ".join(p for p in parts if p)


def _index_translations(course: Course, found: dict[tuple[str, int, str], dict]) -> None:
    """Add the translated words to the search text of the course and its lessons (just set from the originals
    by apply_course / apply_lesson), so that a search in another language finds them too."""
    lessons = {l.id: l for l in db.session.scalars(sa.select(Lesson).where(Lesson.course_id == course.id))}
    rows = {("course", course.id): course, **{("lesson", i): l for i, l in lessons.items()}}
    for (entity, entity_id, _lang), fields in sorted(found.items()):
        row = rows.get((entity, entity_id))
        words = _searchable(fields) if row is not None else ""
        if words:
            row.search_text = f"{row.search_text} {words}"


def _load_translations(course_dir: Path, course: Course, report: LoadReport) -> None:
    """Upsert the course's translation rows; remove those whose file (or original) is gone."""
    found = _course_translations(course_dir, course)
    _index_translations(course, found)
    wanted = {key: json.dumps(fields, ensure_ascii=False, sort_keys=True) for key, fields in found.items() if fields}
    existing = {(t.entity, t.entity_id, t.lang): t for t in db.session.scalars(
        sa.select(ContentTranslation).where(ContentTranslation.course_id == course.id))}
    for (entity, entity_id, lang), text in wanted.items():
        row = existing.pop((entity, entity_id, lang), None)
        if row is None:
            db.session.add(ContentTranslation(course_id=course.id, entity=entity, entity_id=entity_id, lang=lang, fields=text))
        elif row.fields == text:
            continue
        else:
            row.fields = text
        report.translations["written"] += 1
    for row in existing.values():
        db.session.delete(row)
        report.translations["removed"] += 1
