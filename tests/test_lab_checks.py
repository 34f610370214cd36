"""The deterministic rubric checks of a prompt (issue 18): each check meets on a prompt that does what it asks and
not on one that does not, in English and in German; every starter exercise can be passed with a strong prompt and
is not passed by "Summarise this."; the same prompt always gets the same score."""
from __future__ import annotations

from pathlib import Path

import pytest

from leadthe.courses.content import exercise_of, read_front_matter
from leadthe.lab.checks import CHECKS, evaluate, includes_material, personal_data
from leadthe.lab.exercise import Criterion, Exercise, from_json

CONTENT = Path(__file__).resolve().parent.parent / "leadthe" / "content"

MATERIAL = ("Weekly call with Quillfeather Ltd about the scanner rollout in the Harbourside warehouse. "
            "New go-live date agreed: 24 March. Training sessions for the night shift on 18 March.")
EX = Exercise(task="Summarise this meeting note for a customer in 5 bullet points.", material=MATERIAL,
              criteria=tuple(Criterion(check) for check in CHECKS))

# check id -> (prompts that meet it, prompts that do not), English and German
CASES = {
    "task": (["Summarise the note below.", "Draft a reply to the customer.", "Fasse die Notiz zusammen.",
              "Erstellen Sie eine Tabelle."],
             ["Hello.", "The customer again?", "Der Kunde schon wieder?"]),
    "role": (["You are an experienced account manager.", "Act as a proofreader.", "As a senior finance analyst, look at this.",
              "Du bist Kundenbetreuerin.", "Sie sind Personalreferentin.", "Agiere als Lektor.", "Als erfahrene Buchhalterin prüfst du das."],
             ["Summarise the note.", "Fasse die Notiz zusammen.", "The account was closed.", "Send it as a list for the manager.",
              "Gib es als Tabelle für den Leiter aus."]),
    "audience": (["Write it for our customers.", "The audience is the sales team.", "The reader has no technical background.",
                  "Address it to the recipient by role.", "Schreibe für unsere Kunden.", "Zielgruppe: neue Kolleginnen.",
                  "Die Leser kennen das Projekt nicht."],
                 ["Summarise the note.", "Fasse die Notiz zusammen.", "Use bullet points."]),
    "context": ([f"Summarise this: {MATERIAL}", "Summarise the meeting note below.", "Background: we sell scanners to warehouses.",
                 "Fasse die folgende Notiz zusammen.", "Hintergrund: Wir verkaufen Scanner an Lagerhäuser.",
                 " ".join(["word"] * 26)],
                ["Summarise this.", "Fasse das zusammen.", "Write five bullet points for a customer."]),
    "material": ([f"Summarise: {MATERIAL}",
                  "Quillfeather Harbourside warehouse scanner rollout, go-live 24 March, training night shift."],
                 ["Summarise the meeting note below.", "Quillfeather called."]),
    "constraints": (["Use at most 120 words.", "No more than 5 bullet points.", "Do not mention prices.", "Only use the facts given.",
                     "It must fit on one slide.", "Höchstens 100 Wörter.", "Nenne keine Preise.", "Nur die genannten Fakten.",
                     "Maximal 5 Stichpunkte."],
                    ["Summarise the note.", "Fasse die Notiz zusammen.", "Write a nice summary."]),
    "format": (["Answer in bullet points.", "Return a table with the columns Date and Item.", "Reply with JSON.",
                "Give a numbered list.", "Write it as an e-mail with a subject line.", "Antworte in Stichpunkten.",
                "Erstelle eine Tabelle.", "Gib eine nummerierte Liste aus.", "Schreibe es als E-Mail."],
               ["Summarise the note.", "Fasse die Notiz zusammen.", "Make it good.", "Summarise the key points."]),
    "examples": (["For example: 'Invoice overdue' belongs to Billing.", "Use categories such as Billing or Access.",
                  "e.g. the spring fair order", 'Like this: "New date: 24 March for all sites"',
                  "Ticket: double charge -> Billing", "Zum Beispiel: Rechnung doppelt.", "z. B. Rechnung", "Beispiel: Kündigung"],
                 ["Summarise the note.", "Fasse die Notiz zusammen.", "Sort the tickets into categories."]),
    "uncertainty": (["If you are not sure, say so.", "Flag anything you cannot verify.", "Do not invent facts.",
                     "Say when you don't know.", "Wenn du dir nicht sicher bist, sag es.", "Kennzeichne unsichere Angaben.",
                     "Erfinde nichts."],
                    ["Summarise the note.", "Fasse die Notiz zusammen.", "Be accurate and complete."]),
    "verify": (["Double-check every figure.", "Check your answer against the note.", "Cite your sources.",
                "Verify each total.", "Überprüfe jede Zahl.", "Prüfe deine Antwort.", "Nenne Quellen."],
               ["Summarise the note.", "Fasse die Notiz zusammen.", "Write the total."]),
    "tone": (["Keep a friendly, calm tone.", "Formal, no jargon.", "Freundlich und sachlich.", "Im Ton höflich."],
             ["Summarise the note.", "Fasse die Notiz zusammen.", "Write a clear summary."]),
    "no_personal_data": (["Reply to [CUSTOMER] about booking 77-4410 of 390 EUR, cancelled on 2 May 2026.",
                          "Invoice 2026-0418, net total 2,168.00 EUR, VAT 19 %.", "Antworte [KUNDIN] zur Buchung 77-4410."],
                         ["Reply to l.quarrington@example.org.", "Her IBAN is DE75 5121 0800 1245 1261 99.",
                          "Call her on +49 30 1234 5678.", "Ruf an unter 030 12345678.", "Card 4111 1111 1111 1111."]),
}


def test_every_check_has_cases_a_label_and_a_tip():
    assert set(CASES) == set(CHECKS)
    assert {"role", "audience", "context", "constraints", "format", "examples", "uncertainty", "verify",
            "no_personal_data", "material", "task"} <= set(CHECKS)
    for check in CHECKS.values():
        assert str(check.label) and str(check.tip) and str(check.label) != str(check.tip)


@pytest.mark.parametrize("check", sorted(CASES))
def test_each_check_meets_on_a_good_prompt_and_not_on_a_bad_one(check):
    exercise = Exercise(task=EX.task, material=EX.material, criteria=(Criterion(check),))
    good, bad = CASES[check]
    for prompt in good:
        assert evaluate(exercise, prompt).results[0].met, f"{check} should meet on {prompt!r}"
        assert evaluate(exercise, prompt.upper()).results[0].met, f"{check}: case matters for {prompt!r}"
    for prompt in bad:
        result = evaluate(exercise, prompt).results[0]
        assert not result.met, f"{check} should not meet on {prompt!r}"
        assert result.tip == str(CHECKS[check].tip)


def test_a_met_criterion_has_no_tip_and_a_criterion_label_overrides_the_checks():
    exercise = Exercise(task="x", criteria=(Criterion("role", "Says who the model should be"), Criterion("format")))
    result = evaluate(exercise, "You are an editor. Answer in bullet points.")
    assert [(r.check, r.label, r.met, r.tip) for r in result.results] == [
        ("role", "Says who the model should be", True, ""), ("format", "Asks for an output format", True, "")]
    assert result.score == 100 and result.passed and result.as_json() == [{"check": "role", "met": True}, {"check": "format", "met": True}]


def test_score_is_the_rounded_share_met_and_passes_at_the_mark():
    exercise = Exercise(task="x", criteria=(Criterion("role"), Criterion("format"), Criterion("verify")), pass_mark=67)
    two = evaluate(exercise, "You are an editor. Answer in bullet points.")
    assert two.score == 67 and two.passed
    assert not evaluate(Exercise(task="x", criteria=exercise.criteria, pass_mark=70), "You are an editor. Use a table.").passed
    one = evaluate(exercise, "You are an editor.")
    assert one.score == 33 and not one.passed
    assert evaluate(exercise, "").score == 0 and evaluate(exercise, "   ").results[0].met is False
    unknown = evaluate(Exercise(task="x", criteria=(Criterion("role"), Criterion("vibes"))), "You are an editor.")
    assert unknown.score == 50 and unknown.results[1].met is False  # a check that does not exist is never met
    assert evaluate(Exercise(task="x"), "anything").score == 0  # no criteria: nothing to pass


def test_personal_data_and_material_helpers():
    assert personal_data("mail a.b@example.com, IBAN DE75 5121 0800 1245 1261 99") == ["email", "iban"]
    assert personal_data("+49 (30) 1234-5678 and 4111-1111-1111-1111") == ["card", "phone"]
    assert personal_data("Order 12345678, dated 2026-03-14, total 1,240.00 EUR, 4111 1111 1111 1112") == []
    assert includes_material(f"Please summarise:\n\n{MATERIAL}", MATERIAL)
    assert not includes_material("Please summarise the note.", MATERIAL) and not includes_material("x", "")


def test_scores_are_deterministic():
    prompt = f"You are an account manager. Summarise the note below for our customer in 5 bullet points.\n\n{MATERIAL}"
    first = evaluate(EX, prompt)
    assert all(evaluate(EX, prompt) == first for _ in range(20))
    assert evaluate(EX, prompt * 20).results == first.results  # a long prompt: the same verdicts


# --- the starter exercises -----------------------------------------------------------------------------

def starter_exercises() -> dict[str, Exercise]:
    found = {}
    for path in sorted(CONTENT.rglob("*.md")):
        if ".de." in path.name:
            continue
        data = read_front_matter(path)
        if data.get("kind") == "exercise":
            found[data["slug"]] = from_json(exercise_of(data, str(path)))
    return found


def strong(exercise: Exercise, text: str) -> str:
    return text.replace("{material}", exercise.material)


# a strong prompt for each starter exercise, as a learner would write it ({material}: the exercise's material pasted in)
STRONG = {
    "exercise-summarise-for-a-customer": (
        "You are an account manager writing to our customer Brightwater Logistics after our weekly call. Summarise the "
        "internal meeting note below for the customer's warehouse team in exactly 5 bullet points, each at most 25 words. "
        "Keep all dates exact. Do not include anything marked internal (no service credit amount, no doubts about the "
        "export date).\n\nMeeting note:\n{material}"),
    "exercise-vague-request-to-good-prompt": (
        "You are a copywriter for Fernhill Home Supplies. Write a news item for the 'News' box on our website telling "
        "customers about the new opening hours of the customer service desk from 1 June: Monday to Friday 08:00-18:00, "
        "Saturday 09:00-13:00, Sunday closed. Say why: more customers call before and after work. Phone number and "
        "e-mail stay the same. Format: a heading and one short paragraph, at most 120 words. Use only these facts."),
    "exercise-email-with-constraints": (
        "Draft an e-mail to our customer Kestrel Dental Practice telling them their order is delayed. The reader is the "
        "practice manager who planned to open a new treatment room on 20 May. Facts:\n{material}\n"
        "Write it as an e-mail with a subject line, at most 120 words, in a calm and friendly tone. Do not promise a "
        "new delivery date and do not blame the supplier. Offer the two demo chairs from next Monday."),
    "exercise-extract-json-from-an-email": (
        "Extract the order from the e-mail below as JSON only, with these fields: items (a list of objects with name, "
        "quantity, details), delivery_location, delivery_time, pickup_time, purchase_order, notes. For example: "
        '{"items": [{"name": "standing table", "quantity": 3, "details": "round, 110 cm"}], "purchase_order": "PO-7734"}. '
        "Use null for anything the e-mail does not say; do not guess.\n\nE-mail:\n{material}"),
    "exercise-extract-to-a-table": (
        "Put the three quotes below into one comparison table with the columns Supplier, Price per chair, Extra costs, "
        "Total for 200 chairs, Delivery time, Warranty, Payment terms. Use only the figures in the quotes. Then check "
        "each total against the quote and show the calculation under the table.\n\n{material}"),
    "exercise-few-shot-classification": (
        "Classify each support ticket below into exactly one category: Billing, Technical problem, Account access or "
        "Other. Examples:\n\"I can't reset my password\" -> Account access\n\"Please send a copy of last month's invoice\" "
        "-> Billing\n\"The dashboard shows an error 500\" -> Technical problem\nUse only these four categories; if a "
        "ticket fits none, use Other. Answer with one line per ticket in the format: number: category.\n\n{material}"),
    "exercise-check-an-answer-for-invented-facts": (
        "You are a careful fact-checker for EU regulation. Below are a colleague's question and an AI assistant's "
        "answer. Check the answer claim by claim: list each claim in a table with the columns Claim, Verdict (supported, "
        "unsupported, wrong), Why, Source to check. Flag every claim you cannot verify and do not invent anything new."
        "\n\n{material}"),
    "exercise-check-a-calculation": (
        "Recalculate the invoice below line by line (quantity × unit price), then the net total, VAT and total due. "
        "Show your working and report the result as a table with the columns Line, Stated amount, Recalculated amount, "
        "Difference. Only use the figures on the invoice. If a figure cannot be read, say so.\n\n{material}"),
    "exercise-rewrite-for-another-audience": (
        "Rewrite the incident note below for our sales team, who are not technical and need to know what happened to "
        "customers' orders and what to tell a customer who asks. Use plain language, a calm and reassuring tone, no "
        "jargon (no HTTP codes, connection pools or replicas). At most 150 words: one short paragraph and three bullet "
        "points 'What to tell customers'.\n\n{material}"),
    "exercise-leave-out-personal-data": (
        "Draft a reply to a customer's refund request. Context: the customer, [CUSTOMER], booked the two-day workshop "
        "'Spreadsheets for team leads' (booking 77-4410, 390 EUR) and cancelled three weeks before the start; our terms "
        "refund cancellations up to 14 days before the start in full. The refund was approved on 6 May and will be paid "
        "within 10 working days. Write it as a short e-mail with a subject line, at most 120 words, addressed to "
        "[CUSTOMER]. Do not include bank details; refer to 'the account you gave us'."),
    "exercise-ask-for-uncertainty-flags": (
        "You are a workplace-safety researcher. Background: our head of facilities needs a short overview, before signing "
        "a lease, of the German rules for workplaces without daylight (for example a basement office). Give at most 6 "
        "bullet points. Mark each point as 'sure' or 'not sure'; if you do not know, say so rather than guess. Name the "
        "regulation or source for each point so I can check it."),
    "exercise-check-an-expense-report": (
        "You are an accounts-payable specialist. Recalculate the total of the expense report below and compare it with "
        "the total claimed. Then check each line against the policy rules and list every discrepancy in a table with the "
        "columns Line, Rule, Finding. Where a receipt or note would be needed, write 'cannot tell from the report' "
        "instead of guessing.\n\n{material}"),
    "exercise-inclusive-job-ad": (
        "You are an HR specialist who writes inclusive job ads. Write a job advertisement for a Customer Success Manager "
        "(full-time or 30+ hours, team of 6, hybrid with 2 office days in Leipzig) addressed to experienced people from "
        "any background. Must have: 2+ years in a customer-facing role, good German and English, comfortable with "
        "spreadsheets. Nice to have: CRM experience, software customers. Salary 52,000-60,000 EUR, 30 days' holiday, "
        "1,500 EUR training budget. Do not use age-coded or gendered words (no 'young', 'dynamic', 'rockstar') and do "
        "not ask for a native speaker. Structure: About the role, What you will do, What you bring, What we offer. "
        "Tone: warm and plain."),
    "exercise-sales-follow-up": (
        "You are an account executive. Draft a follow-up e-mail after the discovery call below, addressed to the office "
        "manager with the two partners in copy. Include a subject line and keep it under 150 words. Do not promise an "
        "Outlook add-in, do not mention pricing, and do not pitch resource planning. Tone: friendly and concise. End with "
        "one call to action: a 30-minute demo in the week of 16 June.\n\nCall notes:\n{material}"),
}


def test_there_are_at_least_twelve_starter_exercises_each_with_a_strong_prompt_here():
    exercises = starter_exercises()
    assert len(exercises) >= 12
    assert set(STRONG) == set(exercises), "write a strong prompt for every starter exercise"


@pytest.mark.parametrize("slug", sorted(STRONG))
def test_every_starter_exercise_is_passable_and_not_trivially_passed(slug):
    exercise = starter_exercises()[slug]
    prompt = strong(exercise, STRONG[slug])
    good = evaluate(exercise, prompt)
    missing = [r.check for r in good.results if not r.met]
    assert good.passed and good.score == 100, f"{slug}: the strong prompt misses {missing}"
    weak = evaluate(exercise, "Summarise this.")
    assert not weak.passed and weak.score < exercise.pass_mark, f"{slug}: 'Summarise this.' passes with {weak.score}"
    assert evaluate(exercise, prompt) == good  # deterministic


def test_the_personal_data_exercise_fails_a_prompt_that_pastes_the_material():
    exercise = starter_exercises()["exercise-leave-out-personal-data"]
    pasted = "Draft a short e-mail reply to this refund request, at most 120 words:\n\n" + exercise.material
    result = evaluate(exercise, pasted)
    assert not {r.check: r.met for r in result.results}["no_personal_data"]


def test_the_first_exercise_in_german_passes_a_strong_german_prompt_and_not_a_weak_one():
    from leadthe.courses.content import _translated_exercise

    path = next(CONTENT.rglob("*-exercise-summarise-for-a-customer.md"))
    original = exercise_of(read_front_matter(path), str(path))
    german_path = path.with_name(path.name.replace(".md", ".de.md"))
    exercise = from_json(_translated_exercise(read_front_matter(german_path), original, str(german_path)))
    assert exercise.task.startswith("Schreiben Sie") and exercise.criteria[0].label == "Gibt dem Modell eine Rolle"
    prompt = ("Du bist Kundenbetreuerin bei einem Softwareanbieter. Fasse die folgende interne Besprechungsnotiz für "
              "unseren Kunden Brightwater Logistics in genau 5 Stichpunkten zusammen, je höchstens 25 Wörter. Alle Termine "
              "bleiben genau. Lass alles weg, was als intern markiert ist (keine Gutschrift, keine Zweifel am Termin).\n\n"
              + exercise.material)
    good = evaluate(exercise, prompt)
    assert good.passed and good.score == 100, [r.check for r in good.results if not r.met]
    assert not evaluate(exercise, "Fasse das zusammen.").passed
