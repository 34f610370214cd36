"""The deterministic rubric checks of a prompt: which of an exercise's criteria the prompt covers.
They are the basis of a pass; the model's own feedback (when the company allows it) is shown beside them
and never decides alone. (Issue 18, content part: the checks and their words in English and German.)

Each check looks for plain signals in the prompt (case-insensitive, English and German words whatever the
interface language): no model, no randomness, a few regular expressions per check, so the same prompt always
gets the same result and a check takes well under a millisecond. The checks are generous on wording and strict on
substance: "Summarise this." states a task and nothing else.

Check ids (``CHECKS``): role, audience, context, constraints, format, examples, uncertainty, verify,
no_personal_data, material, task, tone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from flask_babel import lazy_gettext as _l

from leadthe.lab.exercise import Exercise


def _any(*patterns: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


# --- the signals, English and German -------------------------------------------------------------------

_ROLES = (r"expert|specialist|consultant|manager|writer|editor|analyst|assistant|advis[eo]r|recruiter|accountant|"
          r"lawyer|coach|teacher|reviewer|marketer|copywriter|engineer|auditor|officer|representative|professional|"
          r"agent|controller|fact-?checker|researcher|journalist|translator|trainer|clerk|bookkeeper")
_DE_ROLES = (r"expert|berater|spezialist|fachkraft|fachfrau|fachmann|redakteur|assistent|analyst|manager|texter|"
             r"lektor|prüfer|controller|buchhalter|jurist|trainer|coach|referent|sachbearbeiter|leiter|recruiter|"
             r"personaler|kundenberater|vertriebler|übersetzer|journalist|faktenprüfer")
# words between "as a" and the role: not a preposition ("as a table for the manager" gives no role)
_FILLER = r"(?:(?!(?:for|to|of|with|in|on|by|from|about|and|or)\b)[\w-]+ )"
_DE_FILLER = r"(?:(?!(?:für|an|von|mit|in|über|und|oder|zu|zur|zum)\b)[\w-]+ )"
ROLE = _any(r"\byou are\b", r"\byou're\b", r"\bact(ing)? as\b", r"\bin the role of\b", r"\btake (on )?the role\b",
            r"\bplay the role\b", r"\bpretend to be\b", r"\bimagine you are\b", r"\byour role\b",
            rf"\bas an? {_FILLER}{{0,3}}(?:{_ROLES})s?\b",
            r"\bdu bist\b", r"\bsie sind\b", r"\bagiere als\b", r"\bagieren sie als\b", r"\bhandle als\b",
            r"\bhandeln sie als\b", r"\bals erfahrene[nrms]?\b", r"\bin der rolle\b", r"\bdeine rolle\b",
            r"\bihre rolle\b", r"\bschlüpfe in\b", rf"\bals (?:ein|eine|einer|erfahrene[nrms]?)? ?{_DE_FILLER}{{0,2}}\w*(?:{_DE_ROLES})\w*")

_READERS = (r"customers?|clients?|team|teams|managers?|board|readers?|colleagues?|executives?|ceo|cfo|staff|"
            r"employees?|audience|partners?|suppliers?|candidates?|applicants?|stakeholders?|users?|beginners?|"
            r"newcomers?|new starters?|leadership|management|investors?|members?|people|buyers?|prospects?|"
            r"non-?technical|non-?experts?|account manager|sales team|recipients?|students?|public")
AUDIENCE = _any(rf"\b(?:for|to|at) (?:our|my|the|a|an|your|their|its|his|her|these|those|all)?\s?(?:[\w-]+ ){{0,3}}(?:{_READERS})\b",
                rf"\b(?:tell|telling|tells|inform|informing|informs|explain to|explaining to|show|remind|reminding) "
                rf"(?:our|my|the|all|your)?\s?(?:[\w-]+ ){{0,2}}(?:{_READERS})\b",
                r"\baudience\b", r"\breaders?(ship)?\b", r"\brecipients?\b", r"\baddressed to\b", r"\bwritten for\b",
                r"\bwho (will )?reads?\b", r"\btarget group\b", r"\bintended for\b", r"\baimed at\b",
                r"\bfür (?:unsere[nmrs]?|die|den|das|einen?|einer|meine[nmrs]?|ihre[nmrs]?|deine[nmrs]?|alle|neue)\b",
                r"\bzielgruppe\b", r"\bleser(?:in|innen|n|schaft)?\b", r"\bempfänger(?:in|innen|n)?\b",
                r"\badressat", r"\brichtet sich an\b", r"\bgeht an\b")

_MATERIAL_NOUNS = (r"note|notes|text|e-?mail|emails|mail|material|document|invoice|answer|request|data|message|"
                   r"draft|description|list|tickets?|minutes|transcript|report|summary|article|excerpt|reply|job ad|"
                   r"advert|posting|question|table|figures|numbers|feedback|reviews?|comments?|content")
_DE_MATERIAL_NOUNS = (r"text|notiz|notizen|e-?mail|mail|material|dokument|rechnung|antwort|anfrage|nachricht|entwurf|"
                      r"beschreibung|liste|protokoll|bericht|artikel|auszug|stellenanzeige|frage|tabelle|zahlen|daten|"
                      r"besprechungsnotiz|gesprächsnotiz|inhalt")
CONTEXT_REFERENCE = _any(
    rf"\b(?:below|following|attached|above|pasted|enclosed|included)\s(?:[\w-]+ ){{0,2}}(?:{_MATERIAL_NOUNS})\b",
    rf"\b(?:{_MATERIAL_NOUNS})\s(?:below|above|that follows|i pasted|i have pasted|attached)\b",
    r"\bhere (?:is|are)\b", r"\bbackground\b", r"\bcontext\s*:", r"\bfor context\b", r"\bsituation\s*:",
    rf"\b(?:folgende[nmrs]?|unten|angehängte[nmrs]?|beigefügte[nmrs]?|eingefügte[nmrs]?)\s(?:[\w-]+ ){{0,2}}\w*(?:{_DE_MATERIAL_NOUNS})\b",
    rf"\b(?:{_DE_MATERIAL_NOUNS})\s(?:unten|oben|darunter|im anhang)\b",
    r"\bhier (?:ist|sind|die|der|das)\b", r"\bhintergrund\b", r"\bkontext\s*:", r"\bzum kontext\b", r"\bausgangslage\b")
CONTEXT_WORDS = 25

_UNITS = (r"words?|bullets?|bullet points?|points?|sentences?|lines?|paragraphs?|items?|characters?|pages?|"
          r"examples?|options?|questions?|rows?|columns?|minutes?|"
          r"wörter[n]?|worte[n]?|stichpunkte[n]?|punkte[n]?|sätze[n]?|satz|zeilen?|absätze[n]?|absatz|zeichen|"
          r"seiten?|beispiele[n]?|optionen|fragen|spalten|minuten")
_NUMBER = r"\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|" \
          r"eine[nm]?|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|zwölf|fünfzehn|zwanzig"
CONSTRAINTS = _any(
    r"\bat most\b", r"\bat least\b", r"\bno more than\b", r"\bnot more than\b", r"\bno longer than\b", r"\bmaximum\b",
    r"\bmax\.", r"\bup to\b", r"\bunder \d+\b", r"\bonly\b", r"\bdo not\b", r"\bdon't\b", r"\bnever\b", r"\bmust\b",
    r"\bavoid\b", r"\bwithout\b", r"\blimit(ed)? to\b", r"\bkeep it (?:short|brief|under)\b", r"\bexactly\b",
    rf"\b(?:{_NUMBER})\s(?:[\w-]+ ){{0,2}}(?:{_UNITS})\b",
    r"\bhöchstens\b", r"\bmaximal\b", r"\bnicht mehr als\b", r"\bmindestens\b", r"\bnur\b", r"\bkeine[nmrs]?\b",
    r"\bniemals\b", r"\bmuss\b", r"\bmüssen\b", r"\bdarf nicht\b", r"\bdürfen nicht\b", r"\bvermeide\b",
    r"\bvermeiden sie\b", r"\bohne\b", r"\bgenau\b", r"\bnicht länger als\b", r"\bunter \d+\b", r"\bbis zu\b")

FORMAT = _any(
    r"\bbullet", r"\btable\b", r"\bjson\b", r"\bcsv\b", r"\byaml\b", r"\bmarkdown\b", r"\bnumbered\b", r"\blist\b",
    r"\bheadings?\b", r"\bheadlines?\b", r"\bsubject line\b", r"\b(?:as|in the form of|write) an? (?:short |brief )?e-?mail\b",
    r"\bcolumns?\b", r"\bfields?\b", r"\bparagraphs?\b", r"\bone sentence\b", r"\bformat", r"\bstructure[d]?\b",
    r"\btemplate\b", r"\bsections?\b", r"\bcategory\b", r"\blabel\b", r"\b\d+ words\b",
    r"\bstichpunkt", r"\baufzählung", r"\btabelle\b", r"\bnummerierte", r"\bliste\b", r"\büberschrift",
    r"\bals e-?mail\b", r"\bbetreff", r"\bspalten?\b", r"\babsatz\b", r"\babsätze", r"\bfelder[n]?\b",
    r"\bgliederung\b", r"\bvorlage\b", r"\bkategorie\b", r"\b\d+ wörter", r"\bschlüssel\b")

EXAMPLES = _any(
    r"\bfor example\b", r"\bfor instance\b", r"\be\.\s?g\.", r"\bexamples?\s*:", r"\bexamples?\b", r"\bsuch as\b",
    r"\blike this\s*:", r"\bsample\b",
    r"\bzum beispiel\b", r"\bz\.\s?b\.", r"\bbeispiele?\b", r"\bbeispiel\s*:", r"\bwie etwa\b", r"\betwa\s*:",
    # a quoted sample of three words or more
    r"[\"“„«»][^\"“”„«»\n]{0,200}\b\w+\s+\w+\s+\w+[^\"“”„«»\n]{0,200}[\"”“»«]",
    # a worked input → output pair
    r"(?:^|\n)[^\n]{3,}\s(?:->|→|=>)\s*\S")

UNCERTAINTY = _any(
    r"\bif you(?:'re| are) (?:not sure|unsure|uncertain|not certain)\b", r"\bif unsure\b", r"\bnot (?:sure|certain)\b",
    r"\buncertain(?:ty|ties)?\b", r"\bdon't know\b", r"\bdo not know\b", r"\bsay so\b", r"\bflag\b", r"\bflagged\b",
    r"\bmark (?:anything|any|what|each|every|which|uncertain|unclear)\b", r"\bdo not invent\b", r"\bdon't invent\b",
    r"\bdo not make (?:anything )?up\b", r"\bdon't make (?:anything )?up\b", r"\bmake nothing up\b", r"\bdo not guess\b",
    r"\bdon't guess\b", r"\b(?:rather than|instead of|without|not) guess(?:ing)?\b", r"\bcan(?:not|'t) tell\b", r"\bconfidence\b", r"\bconfident\b", r"\bassumptions?\b", r"\bdo not fabricate\b",
    r"\bunknown\b", r"\bunclear\b", r"\bcannot be verified\b", r"\bcan't be verified\b", r"\binvented\b",
    r"\bwenn du dir nicht sicher bist\b", r"\bwenn sie sich nicht sicher sind\b", r"\bnicht sicher\b", r"\bunsicher",
    r"\bkennzeichne", r"\bmarkiere", r"\berfinde nichts\b", r"\berfinden sie nichts\b", r"\bnichts erfinden\b",
    r"\bweißt\b", r"\bweiß nicht\b", r"\bnicht wissen\b", r"\brate nicht\b", r"\bnicht raten\b", r"\bannahmen?\b",
    r"\bunklar\b", r"\berfunden")

VERIFY = _any(
    r"\bcheck", r"\bdouble-?check", r"\bverif(?:y|ies|ied|ication)\b", r"\bcite\b", r"\bsources?\b",
    r"\brecalculat", r"\bre-?comput", r"\bfact-?check", r"\bconfirm\b", r"\breview (?:your|the|its) (?:answer|result|output|work)\b",
    r"\bcross-?check", r"\bproofread", r"\bvalidate\b", r"\bevidence\b",
    r"\büberprüf", r"\bprüf", r"\bquellen?\b", r"\bquellenangabe", r"\bnachrechn", r"\brechne\b.{0,30}\bnach\b",
    r"\bkontrollier", r"\bbeleg", r"\bverifizier", r"\bgegenprüf")

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])(?:\+|00)[1-9]\d{0,3}[\s./-]?(?:\(?\d+\)?[\s./-]?){2,}\d{2,}"
                   r"|(?<![\w.,])0\d{2,5}[\s/-]\d{3,}(?:[\s-]\d{2,})*(?![\w.,]\d)")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")

TASK_VERBS = _any(
    r"\b(?:summari[sz]e|write|draft|extract|list|create|rewrite|re-write|classify|categori[sz]e|translate|explain|"
    r"compare|check|review|analy[sz]e|identify|turn|convert|produce|give|prepare|compose|generate|suggest|find|"
    r"calculate|answer|outline|edit|sort|assign|label|describe|point out|tell me|help me|research|correct|improve|"
    r"shorten|fill|put|make|recommend|propose|verify|pull|reply|respond|structure|organi[sz]e|highlight|flag|"
    r"turn|collect|recalculate|assess|evaluate|critique|name|state|provide|return|output)\b",
    r"\b(?:fass|schreib|erstell|formulier|entwirf|entwerf|extrahier|übersetz|erklär|vergleich|prüf|überprüf|"
    r"analysier|ordne|ordnen|sortier|klassifizier|nenn|gib|geben|berechn|beantwort|überarbeit|kürz|verbesser|"
    r"schlag|füll|liste|listen|zusammenfass|verfass|mach|bewert|empfiehl|antworte|kennzeichne|markier|"
    r"stell|recherchier|korrigier|identifizier|find)\w*")

TONE = _any(r"\btone\b", r"\bfriendly\b", r"\bformal\b", r"\binformal\b", r"\bpolite\b", r"\bwarm\b", r"\bneutral\b",
            r"\bprofessional\b", r"\bplain (?:english|language)\b", r"\bjargon\b", r"\bconcise\b", r"\bempathetic\b",
            r"\bcalm\b", r"\bsimple (?:language|words|english)\b", r"\bsie-form\b", r"\bdu-form\b",
            r"\bton\b", r"\btonfall\b", r"\bfreundlich", r"\bförmlich", r"\bsachlich", r"\bhöflich", r"\bverständlich",
            r"\beinfache[nmrs]? sprache\b", r"\bfachjargon\b", r"\bknapp\b", r"\bin klaren worten\b")

# words that say nothing about the material (for "includes ≥ 40 % of its distinctive words")
STOPWORDS = frozenset("""
a about above after again all also am an and any are as at be because been before being below between both but by
can could did do does doing down during each few for from further had has have having he her here hers him his how
i if in into is it its itself just me more most my no nor not now of off on once only or other our ours out over own
same she should so some such than that the their theirs them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your yours yourself
der die das den dem des ein eine einer eines einem einen und oder aber auch als am an auf aus bei bis da dass dem
denn doch durch für hat haben hatte ich ihr ihre im in ist ja kann mit nach nicht noch nur ob sie sich sind so
über um uns unser unsere vom von vor war was wir wird wie zu zum zur
""".split())
MATERIAL_SHARE = 0.4


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_][\w'’-]*", text.lower())


def distinctive_words(text: str) -> set[str]:
    """The words of ``text`` that identify it: four letters or more, not a common English or German word."""
    return {w for w in _words(text) if len(w) >= 4 and w not in STOPWORDS}


def _squash(text: str) -> str:
    return " ".join(text.lower().split())


def includes_material(prompt: str, material: str) -> bool:
    """Whether the prompt holds the material: all of it, or at least 40 % of its distinctive words."""
    if not material.strip():
        return False
    if _squash(material) in _squash(prompt):
        return True
    wanted = distinctive_words(material)
    return bool(wanted) and len(wanted & distinctive_words(prompt)) >= MATERIAL_SHARE * len(wanted)


def _luhn(digits: str) -> bool:
    total, odd = 0, False
    for ch in reversed(digits):
        n = int(ch)
        if odd:
            n = n * 2 - 9 if n > 4 else n * 2
        total, odd = total + n, not odd
    return total % 10 == 0


def personal_data(text: str) -> list[str]:
    """The kinds of personal data found in ``text`` (e-mail, phone, IBAN, card): a simple local check; the
    lab's full guard (with the company's directory of names) is leadthe.lab.guard."""
    found = []
    if EMAIL.search(text):
        found.append("email")
    ibans = [m.group(0) for m in IBAN.finditer(text) if sum(c.isdigit() for c in m.group(0)) >= 10]
    if ibans:
        found.append("iban")
    rest = IBAN.sub(" ", text) if ibans else text
    if any(_luhn(re.sub(r"\D", "", m.group(0))) for m in CARD.finditer(rest)):
        found.append("card")
    if any(8 <= sum(c.isdigit() for c in m.group(0)) <= 15 for m in PHONE.finditer(rest)):
        found.append("phone")
    return found


# --- the checks ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    id: str
    label: object  # lazy: what the criterion asks, in the reader's language
    tip: object  # lazy: what to add when it is not met
    test: Callable[[str, Exercise], bool]


def _context(prompt: str, exercise: Exercise) -> bool:
    return (includes_material(prompt, exercise.material) or bool(CONTEXT_REFERENCE.search(prompt))
            or len(_words(prompt)) >= CONTEXT_WORDS)


def _material(prompt: str, exercise: Exercise) -> bool:
    if not exercise.material.strip():  # nothing to include: met by any prompt that gives some context
        return _context(prompt, exercise)
    return includes_material(prompt, exercise.material)


def _task(prompt: str, exercise: Exercise) -> bool:
    if TASK_VERBS.search(prompt):
        return True
    wanted = distinctive_words(exercise.task)
    return bool(wanted) and len(wanted & distinctive_words(prompt)) >= 0.5 * len(wanted)


def _searching(pattern: re.Pattern) -> Callable[[str, Exercise], bool]:
    return lambda prompt, _exercise: bool(pattern.search(prompt))


CHECKS: dict[str, Check] = {c.id: c for c in (
    Check("task", _l("States the task clearly"),
          _l("Say what the model should do, starting with a verb: “Summarise …”, “Draft …”, “Extract …”."), _task),
    Check("role", _l("Gives the model a role"),
          _l("Tell the model who it is: “You are an experienced account manager …”."), _searching(ROLE)),
    Check("audience", _l("Says who the result is for"),
          _l("Name the reader: “for our customer, who was not at the meeting”."), _searching(AUDIENCE)),
    Check("context", _l("Gives the background"),
          _l("Add the background the model cannot know: the material, the situation, what the result is for."), _context),
    Check("material", _l("Includes the material"),
          _l("Paste the material into the prompt (or the parts that matter): the model cannot see your screen."),
          _material),
    Check("constraints", _l("Sets limits"),
          _l("Add limits: length (“at most 120 words”), what to leave out (“do not mention prices”), what must be kept."),
          _searching(CONSTRAINTS)),
    Check("format", _l("Asks for an output format"),
          _l("Say what the result should look like: bullet points, a table with named columns, JSON with given fields, an e-mail."),
          _searching(FORMAT)),
    Check("examples", _l("Gives examples"),
          _l("Show one or two examples of what you want: “for example: ‘Invoice overdue’ → Billing”."),
          _searching(EXAMPLES)),
    Check("tone", _l("Sets the tone"),
          _l("Say how it should sound: “friendly and plain, no jargon”."), _searching(TONE)),
    Check("uncertainty", _l("Asks the model to flag uncertainty"),
          _l("Ask the model to say when it is not sure and to invent nothing: “If you do not know, say so.”"),
          _searching(UNCERTAINTY)),
    Check("verify", _l("Asks the model to check its answer"),
          _l("Ask for a check: “Double-check every figure against the material” or “name your sources”."),
          _searching(VERIFY)),
    Check("no_personal_data", _l("Holds no personal data"),
          _l("Take out e-mail addresses, phone numbers, IBANs and card numbers; use placeholders such as [CUSTOMER]."),
          lambda prompt, _exercise: not personal_data(prompt)),
)}


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


def criterion_label(criterion) -> str:
    """What a criterion asks, in the reader's language: its own label (translated with the exercise), else its
    check's; for listing the rubric before any prompt is checked."""
    return criterion.label or check_words(criterion.check)


def check_words(check_id: str) -> str:
    """A check's label in the reader's language; an id no check has (a model's invention, an old record) in
    words, never as an identifier."""
    check = CHECKS.get(check_id)
    return str(check.label) if check is not None else str(check_id).replace("_", " ").capitalize()


def evaluate(exercise: Exercise, prompt: str) -> Evaluation:
    """Check ``prompt`` against each criterion of ``exercise``: deterministic, no model. The score is the share
    of criteria met (0-100, rounded); the prompt passes at the exercise's pass mark. An unknown check id (the
    loader refuses them, so only hand-made data) counts as not met."""
    text = prompt or ""
    results = []
    for criterion in exercise.criteria:
        check = CHECKS.get(criterion.check)
        met = bool(check.test(text, exercise)) if check is not None and text.strip() else False
        tip = "" if met or check is None else str(check.tip)
        results.append(CheckResult(criterion.check, criterion_label(criterion), met, tip))
    score = round(100 * sum(r.met for r in results) / len(results)) if results else 0
    return Evaluation(tuple(results), score, bool(results) and score >= exercise.pass_mark)
