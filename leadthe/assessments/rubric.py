"""The AI maturity rubric, versioned.

A result stores the rubric version it was taken under, with its answers, dimension scores and the
platform evidence used, so ``compute(version, answers, evidence)`` always gives the level it had, even
after the current rubric changes. Never edit a published version's scoring: add a new version.

Scenario questions: four per dimension, four options each, every option worth 1 to 5. A dimension's
score is the mean of its answers rounded half up (1-5). The level comes from the mean of the five
dimension scores, limited by gates (a person cannot be "Adoptive" while judging output poorly), and may
be raised by one by platform evidence (courses completed, quizzes passed), never past the gates.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

LEVEL_NAMES = {1: _l("Unaware"), 2: _l("Exploring"), 3: _l("Capable"), 4: _l("Adoptive"), 5: _l("Transformative")}
LEVEL_TEXT = {
    1: _l("You rarely use AI at work yet, or use it without a clear idea of where it helps and where it misleads."),
    2: _l("You try AI for some tasks and are learning what works; results are still hit and miss."),
    3: _l("You use AI for suitable tasks, describe them well and check what comes back."),
    4: _l("AI is part of how you work every week, used carefully and responsibly; colleagues learn from you."),
    5: _l("You redesign work around AI, safely, and help your team and company do the same."),
}

DIMENSIONS = {
    "choosing": _l("Choosing what to hand to AI"),
    "prompting": _l("Describing the task (prompting)"),
    "judging": _l("Judging the output"),
    "responsible": _l("Using it responsibly"),
    "practice": _l("Everyday practice"),
}
# what helps most for a low score in each dimension (recommendations use it to pick a course)
DIMENSION_COURSES = {
    "choosing": "ai-foundations",
    "prompting": "prompting-that-works",
    "judging": "ai-foundations",
    "responsible": "using-ai-safely",
    "practice": "ai-in-your-role",
}


def q(slug, dimension, text, *options):
    return {"slug": slug, "dimension": dimension, "text": text,
            "options": [{"text": t, "score": s} for t, s in options]}


RUBRIC_2025_1 = {
    "version": "2025-1",
    "questions": [
        # choosing what to hand to AI
        q("choose-contract", "choosing",
          _l("Your manager asks you to check a 40-page supplier contract for unusual liability clauses by tomorrow. What do you do with AI?"),
          (_l("Ask the approved assistant to list clauses about liability with page references, then read those clauses myself"), 5),
          (_l("Paste the contract into any chatbot and forward its verdict"), 1),
          (_l("Avoid AI entirely: contracts are too important"), 2),
          (_l("Ask AI for a general summary and skim it"), 3)),
        q("choose-facts", "choosing",
          _l("You need last quarter's exact sales figure for a board slide. Where do you get it?"),
          (_l("From the assistant, since it is usually right"), 1),
          (_l("From the finance report; AI may help me phrase the slide"), 5),
          (_l("From the assistant, then I ask it whether it is sure"), 2),
          (_l("From a colleague's old e-mail"), 3)),
        q("choose-routine", "choosing",
          _l("Every Monday you spend an hour turning meeting notes into a status update. What would you try?"),
          (_l("Nothing: it works as it is"), 1),
          (_l("A reusable prompt with my notes and last week's update as an example, then a quick edit"), 5),
          (_l("Ask AI to attend the meeting for me"), 2),
          (_l("Ask AI once, and give up if the first answer is off"), 3)),
        q("choose-judgement", "choosing",
          _l("A decision about which of two employees gets promoted: what role should AI play?"),
          (_l("Let AI decide, to remove human bias"), 1),
          (_l("None at all, not even for structuring my own notes"), 3),
          (_l("Help me structure criteria and evidence; people make and own the decision"), 5),
          (_l("Rank the two from their CVs"), 2)),
        # describing the task
        q("prompt-email", "prompting",
          _l("You want AI to draft a tricky e-mail to a customer whose delivery is late. What do you write?"),
          (_l("\"Write an e-mail about a late delivery\""), 2),
          (_l("The facts, the customer's situation, the tone I want, what we can offer, and the length"), 5),
          (_l("\"Apologise to the customer\" and send what comes back"), 1),
          (_l("The facts and \"make it polite\""), 3)),
        q("prompt-format", "prompting",
          _l("You need a comparison of three tools for a decision meeting. How do you ask for it?"),
          (_l("I ask for a table with the criteria we care about, one row per tool, and gaps marked \"unknown\""), 5),
          (_l("\"Compare these tools\""), 2),
          (_l("I ask for a long essay and cut it down myself"), 1),
          (_l("I list the criteria but not the format"), 3)),
        q("prompt-iterate", "prompting",
          _l("The first answer is too generic. What next?"),
          (_l("Start over with the same prompt"), 2),
          (_l("Conclude AI cannot do this task"), 1),
          (_l("Say what is wrong, add an example of what good looks like, and ask again"), 5),
          (_l("Ask it to \"make it better\""), 3)),
        q("prompt-examples", "prompting",
          _l("You want AI to sort 200 customer comments into categories your team uses. How do you set it up?"),
          (_l("Give the category names only"), 3),
          (_l("Give the categories with a definition and two labelled examples each, and check a sample of the results"), 5),
          (_l("Ask it to invent categories"), 2),
          (_l("Do it by hand; AI cannot classify"), 1)),
        # judging the output
        q("judge-citation", "judging",
          _l("AI gives you a neat answer citing a study with authors and a year. What do you do before using it?"),
          (_l("Use it: citations mean it is sourced"), 1),
          (_l("Look the study up and check it says what the answer claims"), 5),
          (_l("Ask the AI whether the study is real"), 2),
          (_l("Remove the citation and keep the claim"), 2)),
        q("judge-numbers", "judging",
          _l("AI summarised a spreadsheet and reports a 12% increase. How much do you trust the number?"),
          (_l("Fully: computers are good at maths"), 1),
          (_l("I recompute it from the data or with a formula before it goes anywhere"), 5),
          (_l("I check that it sounds plausible"), 3),
          (_l("I ask AI to double-check itself"), 2)),
        q("judge-code", "judging",
          _l("A colleague shares AI-written code or a formula that \"works\". What do you check?"),
          (_l("Nothing: if it runs, it is fine"), 1),
          (_l("That I understand it, that it handles edge cases, and that tests or sample data confirm it"), 5),
          (_l("Only that it runs on one example"), 2),
          (_l("I ask another AI to review it"), 3)),
        q("judge-bias", "judging",
          _l("AI drafts a job advert. What do you look for before publishing?"),
          (_l("Spelling"), 2),
          (_l("Wording that could put off some groups, invented requirements, and facts about the role"), 5),
          (_l("Length"), 1),
          (_l("Whether it sounds enthusiastic"), 3)),
        # using it responsibly
        q("resp-personal", "responsible",
          _l("You want help analysing a spreadsheet of customer names, e-mails and complaints. What do you do?"),
          (_l("Paste it into a free public chatbot: it is faster"), 1),
          (_l("Use the company-approved tool, and remove names and e-mails the analysis does not need"), 5),
          (_l("Paste it, then delete the chat afterwards"), 2),
          (_l("Use the approved tool with the full data"), 3)),
        q("resp-injection", "responsible",
          _l("An AI assistant that reads your inbox proposes to forward a document after reading an external e-mail. What do you do?"),
          (_l("Approve: the assistant knows best"), 1),
          (_l("Stop and check: instructions hidden in external content can hijack assistants"), 5),
          (_l("Approve if the e-mail looked professional"), 2),
          (_l("Ignore it and carry on"), 3)),
        q("resp-disclosure", "responsible",
          _l("A report for a client was largely drafted with AI. What do you tell them?"),
          (_l("Nothing, and I do not review it closely either"), 1),
          (_l("I review it fully, and follow our policy and the client's terms on disclosing AI use"), 5),
          (_l("Nothing: it is my report"), 2),
          (_l("I mention it only if asked"), 3)),
        q("resp-policy", "responsible",
          _l("Does your company have rules for using AI tools, and do you follow them?"),
          (_l("I do not know if there are any"), 1),
          (_l("I know them, follow them, and raise it when a situation is not covered"), 5),
          (_l("I know there are some but have not read them"), 2),
          (_l("I follow the parts I know"), 3)),
        # everyday practice
        q("practice-frequency", "practice",
          _l("How often do you use AI for real work tasks?"),
          (_l("Never or almost never"), 1),
          (_l("A few times a month"), 2),
          (_l("Several times a week"), 4),
          (_l("Daily, and I keep improving how I use it"), 5)),
        q("practice-templates", "practice",
          _l("Do you keep prompts or workflows that worked?"),
          (_l("No, I start from scratch each time"), 2),
          (_l("Yes, a personal collection I reuse and refine"), 4),
          (_l("Yes, and I share them with my team"), 5),
          (_l("I do not use prompts"), 1)),
        q("practice-measure", "practice",
          _l("Do you know whether AI actually saves you time or improves your work?"),
          (_l("I have not thought about it"), 1),
          (_l("I have a feeling it helps"), 3),
          (_l("I compare time and quality on some tasks with and without it"), 5),
          (_l("I think it probably does not"), 2)),
        q("practice-share", "practice",
          _l("A teammate struggles to get useful answers from AI. What do you do?"),
          (_l("Nothing: everyone learns on their own"), 1),
          (_l("Show them one of my prompts and how I check the output"), 5),
          (_l("Tell them it does not work well anyway"), 2),
          (_l("Point them to a course"), 4)),
    ],
    # minimum mean of the five dimension scores for each level
    "thresholds": {2: 1.8, 3: 2.6, 4: 3.4, 5: 4.2},
    # minimum score per dimension for a level ("*" = every dimension); lower levels' gates apply too
    "gates": {3: {"*": 2}, 4: {"*": 2, "judging": 3, "responsible": 3}, 5: {"*": 4}},
    # platform evidence that raises the level by one (never past the gates)
    "evidence": {"courses_completed": 2, "quizzes_passed": 2},
}

RUBRICS = {RUBRIC_2025_1["version"]: RUBRIC_2025_1}
CURRENT = RUBRIC_2025_1["version"]


@dataclass
class Outcome:
    scores: dict[str, int]
    self_level: int  # from the answers alone
    gate_level: int  # the highest level the gates allow
    level: int  # after evidence
    raised: bool  # evidence added a level


def dimension_scores(rubric: dict, answers: dict[str, int]) -> dict[str, int]:
    """answers: question slug -> option index. Mean per dimension, rounded half up."""
    sums: dict[str, list[int]] = {d: [] for d in DIMENSIONS}
    for question in rubric["questions"]:
        index = answers[question["slug"]]
        sums[question["dimension"]].append(question["options"][index]["score"])
    return {d: int(sum(v) / len(v) + 0.5) if v else 1 for d, v in sums.items()}


def gate_level(rubric: dict, scores: dict[str, int]) -> int:
    allowed = 1
    for level in range(2, 6):
        gate = rubric["gates"].get(level, {})
        floor = gate.get("*", 1)
        if all(scores[d] >= max(floor, gate.get(d, 1)) for d in scores):
            allowed = level
        else:
            break
    return allowed


def compute(version: str, answers: dict[str, int], evidence: dict[str, int] | None = None) -> Outcome:
    rubric = RUBRICS[version]
    scores = dimension_scores(rubric, answers)
    mean = sum(scores.values()) / len(scores)
    by_mean = max([1] + [lv for lv, t in rubric["thresholds"].items() if mean >= t])
    gates = gate_level(rubric, scores)
    self_level = min(by_mean, gates)
    evidence = evidence or {}
    earned = any(evidence.get(k, 0) >= need for k, need in rubric["evidence"].items())
    level = min(self_level + 1, gates) if earned else self_level
    return Outcome(scores, self_level, gates, level, level > self_level)


# --- the company's organisational questionnaire ----------------------------------------------------------

ORG_AREAS = {
    "strategy": (_l("Strategy"), _l("AI has a clear place in the company's goals, with owners and a budget.")),
    "data": (_l("Data"), _l("The data AI needs is findable, of known quality, and may legally be used.")),
    "governance": (_l("Governance"), _l("Approved tools, a usage policy, risk checks and someone accountable.")),
    "skills": (_l("Skills"), _l("People are trained for their role and know where to get help.")),
    "tools": (_l("Tools"), _l("Staff have safe, approved AI tools that fit their work.")),
    "culture": (_l("Culture"), _l("Trying AI is encouraged, results are shared, and concerns are heard.")),
}
ORG_SCALE = {1: _l("1 - not started"), 2: _l("2 - first steps"), 3: _l("3 - in place in parts"),
             4: _l("4 - in place company-wide"), 5: _l("5 - continuously improved")}


def org_answer_level(answers: dict[str, int]) -> int:
    """The organisational level: the mean of the six areas rounded down, but at most one above the
    weakest area (a company with no governance is not "Adoptive" however good its tools are)."""
    values = [int(answers[a]) for a in ORG_AREAS]
    return max(1, min(int(sum(values) / len(values)), min(values) + 1))


WORKFORCE_SHARE = 0.5


def workforce_level(histogram: dict[int, int], people: int) -> int:
    """The highest level L such that at least half of the active people are at level L or above.
    People without a result count as level 1. With nobody active the level is 1."""
    if people <= 0:
        return 1
    level = 1
    for candidate in range(2, 6):
        at_or_above = sum(n for lv, n in histogram.items() if lv >= candidate)
        if at_or_above / people >= WORKFORCE_SHARE:
            level = candidate
    return level
