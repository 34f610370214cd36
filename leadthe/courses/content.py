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
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import nh3
import sqlalchemy as sa
import yaml
from markdown_it import MarkdownIt

from leadthe.extensions import db
from leadthe.models import Course, CourseModule, Lesson
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

def apply_course(course: Course, data: dict) -> None:
    course.title = str(data.get("title") or course.title or "Untitled course")[:200]
    course.summary = str(data.get("summary") or "")[:500]
    course.topic = str(data.get("topic") or "general")[:40]
    level = str(data.get("level") or "beginner")
    course.level = level if level in LEVELS else "beginner"
    course.audience = str(data.get("audience") or "everyone")[:80]
    if "order" in data:
        course.position = int(data.get("order") or 0)
    course.description_md = data.get("body", "") or ""
    course.description_html = render_markdown(course.description_md)
    course.search_text = " ".join(p for p in (course.summary, plain_text(course.description_html)) if p)
    try:
        course.certificate_months = max(0, min(int(data.get("certificate_months") or 0), 120))
    except (TypeError, ValueError):
        course.certificate_months = 0


def apply_module(module: CourseModule, data: dict) -> None:
    module.title = str(data.get("title") or "Untitled module")[:200]
    module.body_md = data.get("body", "") or ""
    module.body_html = render_markdown(module.body_md)


def apply_lesson(lesson: Lesson, data: dict) -> None:
    lesson.title = str(data.get("title") or "Untitled lesson")[:200]
    kind = str(data.get("kind") or "reading")
    lesson.kind = kind if kind in LESSON_KINDS else "reading"
    try:
        lesson.minutes = max(1, min(int(data.get("minutes") or 5), 600))
    except (TypeError, ValueError):
        lesson.minutes = 5
    lesson.prompt = str(data.get("prompt") or "") if lesson.kind == "practice" else ""
    lesson.video_url = str(data.get("video_url") or data.get("video") or "")[:500] if lesson.kind == "video" else ""
    lesson.transcript_md = str(data.get("transcript") or "") if lesson.kind == "video" else ""
    lesson.transcript_html = render_markdown(lesson.transcript_md)
    lesson.body_md = data.get("body", "") or ""
    lesson.body_html = render_markdown(lesson.body_md)
    lesson.search_text = " ".join(p for p in (plain_text(lesson.body_html), lesson.prompt, plain_text(lesson.transcript_html)) if p)


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

    def summary(self) -> str:
        c, u, a, q = self.created, self.updated, self.archived, self.quizzes
        return (f"created {c['course']} courses, {c['module']} modules, {c['lesson']} lessons; "
                f"updated {u['course']} courses, {u['module']} modules, {u['lesson']} lessons; "
                f"archived {a['module']} modules, {a['lesson']} lessons; {self.unchanged} unchanged; "
                f"quizzes: {q['created']} created, {q['updated']} updated, {q['archived']} archived; "
                f"quiz questions: {q['questions_created']} created, {q['questions_updated']} updated, "
                f"{q['questions_archived']} archived")


def _changed(row, before: dict) -> bool:
    return any(getattr(row, k) != v for k, v in before.items())


def _snapshot(row, names) -> dict:
    return {n: getattr(row, n) for n in names}


COURSE_FIELDS = ("title", "summary", "topic", "level", "audience", "position", "description_md")
MODULE_FIELDS = ("title", "body_md", "position", "archived")
LESSON_FIELDS = ("title", "kind", "minutes", "prompt", "video_url", "transcript_md", "body_md", "position", "module_id", "archived")


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
    data = read_front_matter(course_dir / "course.md")
    slug = slugify(str(data.get("slug") or course_dir.name))
    if slug in loaded:
        report.warnings.append(f"{course_dir}: skipped, the slug {slug!r} is already used by {loaded[slug]}")
        return
    loaded[slug] = course_dir
    # platform courses only: a company's course may use the same address (addresses are unique per owner)
    course = db.session.scalar(sa.select(Course).where(Course.slug == slug, Course.org_id.is_(None)))
    if course is None:
        course = Course(slug=slug, org_id=None, published=bool(data.get("published", True)))
        db.session.add(course)
        report.created["course"] += 1
        before = None
    else:
        before = _snapshot(course, COURSE_FIELDS)
    apply_course(course, data)
    if before is not None:
        if _changed(course, before):
            report.updated["course"] += 1
        else:
            report.unchanged += 1
    db.session.flush()

    modules = {m.slug: m for m in db.session.scalars(sa.select(CourseModule).where(CourseModule.course_id == course.id))}
    lessons = {l.slug: l for l in db.session.scalars(sa.select(Lesson).where(Lesson.course_id == course.id))}
    seen_modules, seen_lessons = set(), set()
    module_dirs = sorted(p for p in course_dir.iterdir() if (p / "module.md").is_file())
    for m_index, module_dir in enumerate(module_dirs, start=1):
        mdata = read_front_matter(module_dir / "module.md")
        mslug = slugify(str(mdata.get("slug") or module_dir.name))
        module = modules.get(mslug)
        if module is None:
            module = modules[mslug] = CourseModule(course_id=course.id, slug=mslug)
            db.session.add(module)
            report.created["module"] += 1
            before = None
        else:
            before = _snapshot(module, MODULE_FIELDS)
        apply_module(module, mdata)
        module.position = int(mdata.get("order") or m_index)
        module.archived = False
        if before is not None:
            report.updated["module"] += _changed(module, before)
            report.unchanged += not _changed(module, before)
        db.session.flush()
        seen_modules.add(mslug)
        lesson_files = sorted(p for p in module_dir.glob("*.md") if p.name != "module.md")
        for l_index, lesson_file in enumerate(lesson_files, start=1):
            ldata = read_front_matter(lesson_file)
            lslug = slugify(str(ldata.get("slug") or lesson_file.stem))
            if lslug in seen_lessons:
                raise ContentError(f"{lesson_file}: the lesson slug {lslug!r} is used twice in {slug}")
            lesson = lessons.get(lslug)
            if lesson is None:
                lesson = lessons[lslug] = Lesson(course_id=course.id, slug=lslug, module_id=module.id)
                db.session.add(lesson)
                report.created["lesson"] += 1
                before = None
            else:
                before = _snapshot(lesson, LESSON_FIELDS)
            apply_lesson(lesson, ldata)
            lesson.module_id = module.id
            lesson.position = l_index
            lesson.archived = False
            if before is not None:
                report.updated["lesson"] += _changed(lesson, before)
                report.unchanged += not _changed(lesson, before)
            seen_lessons.add(lslug)
    for mslug, module in modules.items():
        if mslug not in seen_modules and not module.archived:
            module.archived = True
            report.archived["module"] += 1
    for lslug, lesson in lessons.items():
        if lslug not in seen_lessons and not lesson.archived:
            lesson.archived = True
            report.archived["lesson"] += 1
    refresh_course_totals(course)
    _load_quiz(course_dir, course, report)


def _quiz_text(value, where: str, limit: int | None = None) -> str:
    text = str(value or "").strip()
    if not text:
        raise ContentError(f"{where}: missing text")
    return text[:limit] if limit else text


def _load_quiz(course_dir: Path, course: Course, report: LoadReport) -> None:
    """Upsert the course's quiz.yaml: the quiz by slug, questions by slug, choices by position. Rows
    that disappear are archived, so attempts and the responses that point at them are never lost."""
    from leadthe.models import Quiz, QuizChoice, QuizQuestion
    from leadthe.models.assessment import QUESTION_KINDS, SCORING

    path = course_dir / "quiz.yaml"
    quiz = db.session.scalar(sa.select(Quiz).where(Quiz.course_id == course.id))
    if not path.is_file():
        if quiz is not None and not quiz.archived:
            quiz.archived = True
            report.quizzes["archived"] += 1
        return
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list) or not data["questions"]:
        raise ContentError(f"{path}: a quiz needs a list of questions")
    slug = slugify(str(data.get("slug") or course.slug))
    other = db.session.scalar(sa.select(Quiz.id).where(Quiz.slug == slug, Quiz.course_id != course.id))
    if other is not None:
        report.warnings.append(f"{path}: skipped, the quiz slug {slug!r} is already used by another course")
        return
    if quiz is None:
        quiz = Quiz(course_id=course.id, slug=slug, title="")
        db.session.add(quiz)
        report.quizzes["created"] += 1
        before = None
    else:
        before = _snapshot(quiz, ("slug", "title", "pass_mark", "max_attempts", "shuffle", "scoring", "archived"))
    quiz.slug = slug
    quiz.title = _quiz_text(data.get("title") or f"{course.title}: final quiz", str(path), 200)
    try:
        quiz.pass_mark = max(0, min(int(data.get("pass_mark", 70)), 100))
        quiz.max_attempts = max(0, int(data.get("max_attempts", 0) or 0))
    except (TypeError, ValueError) as exc:
        raise ContentError(f"{path}: pass_mark and max_attempts must be numbers") from exc
    quiz.shuffle = bool(data.get("shuffle", False))
    scoring = str(data.get("scoring") or "best")
    quiz.scoring = scoring if scoring in SCORING else "best"
    quiz.archived = False
    if before is not None:
        report.quizzes["updated"] += _changed(quiz, before)
    db.session.flush()

    questions = {q.slug: q for q in db.session.scalars(sa.select(QuizQuestion).where(QuizQuestion.quiz_id == quiz.id))}
    choices: dict[int, dict[int, QuizChoice]] = {}
    if questions:
        for choice in db.session.scalars(sa.select(QuizChoice).join(QuizQuestion).where(QuizQuestion.quiz_id == quiz.id)):
            choices.setdefault(choice.question_id, {})[choice.position] = choice
    seen = set()
    for position, qdata in enumerate(data["questions"], start=1):
        where = f"{path}, question {position}"
        if not isinstance(qdata, dict):
            raise ContentError(f"{where}: must be a mapping")
        qslug = slugify(str(qdata.get("slug") or f"q{position}"))
        if qslug in seen:
            raise ContentError(f"{where}: the slug {qslug!r} is used twice")
        seen.add(qslug)
        kind = str(qdata.get("kind") or "single")
        if kind not in QUESTION_KINDS:
            raise ContentError(f"{where}: kind must be one of {', '.join(QUESTION_KINDS)}")
        raw_choices = qdata.get("choices") or []
        if kind == "true_false" and not raw_choices and "answer" in qdata:
            raw_choices = [{"text": "True", "correct": bool(qdata["answer"])}, {"text": "False", "correct": not qdata["answer"]}]
        if not isinstance(raw_choices, list) or len(raw_choices) < 2:
            raise ContentError(f"{where}: needs at least two choices")
        n_correct = sum(1 for c in raw_choices if isinstance(c, dict) and c.get("correct"))
        if n_correct == 0 or (kind != "multiple" and n_correct != 1):
            raise ContentError(f"{where}: a {kind} question needs {'at least one' if kind == 'multiple' else 'exactly one'} correct choice")
        question = questions.get(qslug)
        if question is None:
            question = questions[qslug] = QuizQuestion(quiz_id=quiz.id, slug=qslug, text="")
            db.session.add(question)
            report.quizzes["questions_created"] += 1
            qbefore = None
        else:
            qbefore = _snapshot(question, ("kind", "text", "explanation", "position", "archived"))
        question.kind = kind
        question.text = _quiz_text(qdata.get("text"), where)
        question.explanation = str(qdata.get("explanation") or "").strip()
        question.position = position
        question.archived = False
        db.session.flush()
        existing = choices.get(question.id, {})
        changed = False
        for cpos, cdata in enumerate(raw_choices, start=1):
            if not isinstance(cdata, dict):
                raise ContentError(f"{where}, choice {cpos}: must be a mapping with text and correct")
            ctext = _quiz_text(cdata.get("text"), f"{where}, choice {cpos}")
            choice = existing.get(cpos)
            if choice is None:
                db.session.add(QuizChoice(question_id=question.id, position=cpos, text=ctext, correct=bool(cdata.get("correct"))))
                changed = True
            elif (choice.text, choice.correct, choice.archived) != (ctext, bool(cdata.get("correct")), False):
                choice.text, choice.correct, choice.archived = ctext, bool(cdata.get("correct")), False
                changed = True
        for cpos, choice in existing.items():
            if cpos > len(raw_choices) and not choice.archived:
                choice.archived = True
                changed = True
        if qbefore is not None:
            report.quizzes["questions_updated"] += bool(_changed(question, qbefore) or changed)
    for qslug, question in questions.items():
        if qslug not in seen and not question.archived:
            question.archived = True
            report.quizzes["questions_archived"] += 1
