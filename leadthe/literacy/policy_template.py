"""The starter AI-use policy an admin adapts (English and German): a skeleton with the sections most
companies need, and placeholders in square brackets to replace."""

_EN = """## Why we have this policy

AI tools help us work faster and better. This policy says which tools you may use, what must never go into
them, and how we check what they produce, so that you can use AI with confidence and protect our customers,
colleagues and company. It applies to everyone who works for [Company].

## Approved tools

Use only the tools on our list of approved AI tools (see "AI tools" in LeadThe.AI), with your work account.
Each tool's entry says what it is for and which data may go in. Want a new tool? Ask [owner or team] before
you sign up: do not use personal accounts or free tools for work.

## Data that must never go in

Unless a tool's entry explicitly allows it, never enter:

- personal data about customers, colleagues or applicants (names, contact details, health, performance);
- confidential information: contracts, prices, financial figures, source code, unpublished plans;
- passwords, keys or access tokens;
- anything a customer or partner gave us in confidence.

When in doubt, leave it out, or remove names and details first.

## Check what AI produces

AI can be wrong, invent sources and repeat bias. You remain responsible for your work: check facts, figures,
quotes and code before you use or share them, and never let AI decide about a person on its own.

## Say when you used AI

Tell the recipient when a text, image or analysis was mainly produced by AI, and always when it is published,
sent to customers or used for a decision about a person.

## Who to ask

Questions about this policy or a tool: [name, role, e-mail]. Data protection questions: [data protection
contact].

## Report incidents

If personal or confidential data went into a tool by mistake, or AI output caused harm, tell [contact]
at once, on the same day. Reporting early limits the damage; nobody is blamed for reporting.

## Training

Everyone completes the AI training assigned to them in LeadThe.AI, and repeats it when it is due again.
"""

_DE = """## Warum es diese Richtlinie gibt

KI-Werkzeuge helfen uns, schneller und besser zu arbeiten. Diese Richtlinie sagt, welche Werkzeuge Sie nutzen
dürfen, was niemals hineingehört und wie wir prüfen, was sie erzeugen, damit Sie KI sicher nutzen und unsere
Kundschaft, Kolleginnen und Kollegen und das Unternehmen schützen. Sie gilt für alle, die für [Unternehmen]
arbeiten.

## Freigegebene Werkzeuge

Nutzen Sie nur die Werkzeuge auf unserer Liste freigegebener KI-Werkzeuge (siehe „KI-Werkzeuge“ in
LeadThe.AI), mit Ihrem dienstlichen Konto. Der Eintrag jedes Werkzeugs sagt, wofür es gedacht ist und welche
Daten hinein dürfen. Sie möchten ein neues Werkzeug? Fragen Sie [Verantwortliche oder Team], bevor Sie sich
anmelden: keine privaten Konten und keine kostenlosen Werkzeuge für die Arbeit.

## Daten, die niemals hineingehören

Sofern der Eintrag eines Werkzeugs es nicht ausdrücklich erlaubt, geben Sie niemals ein:

- personenbezogene Daten über Kundschaft, Beschäftigte oder Bewerbende (Namen, Kontaktdaten, Gesundheit, Leistung);
- vertrauliche Informationen: Verträge, Preise, Finanzzahlen, Quellcode, unveröffentlichte Pläne;
- Passwörter, Schlüssel oder Zugangstoken;
- alles, was uns Kundschaft oder Partner vertraulich anvertraut haben.

Im Zweifel weglassen oder vorher Namen und Details entfernen.

## Prüfen, was KI erzeugt

KI kann sich irren, Quellen erfinden und Vorurteile wiederholen. Sie bleiben für Ihre Arbeit verantwortlich:
Prüfen Sie Fakten, Zahlen, Zitate und Code, bevor Sie sie verwenden oder weitergeben, und lassen Sie KI
niemals allein über einen Menschen entscheiden.

## Sagen, wenn Sie KI genutzt haben

Sagen Sie den Empfängern, wenn ein Text, Bild oder eine Analyse überwiegend von KI stammt, und immer dann, wenn
es veröffentlicht, an Kundschaft geschickt oder für eine Entscheidung über einen Menschen genutzt wird.

## Wen Sie fragen können

Fragen zu dieser Richtlinie oder einem Werkzeug: [Name, Rolle, E-Mail]. Fragen zum Datenschutz:
[Datenschutzkontakt].

## Vorfälle melden

Sind personenbezogene oder vertrauliche Daten versehentlich in ein Werkzeug gelangt oder hat ein KI-Ergebnis
Schaden verursacht, melden Sie es sofort, noch am selben Tag, an [Kontakt]. Frühes Melden begrenzt den
Schaden; niemand wird für eine Meldung getadelt.

## Schulung

Alle absolvieren die ihnen in LeadThe.AI zugewiesene KI-Schulung und wiederholen sie, wenn sie wieder fällig ist.
"""



def _unwrap(text: str) -> str:
    """One line per paragraph and list item (the source above is wrapped for reading; an editor is not)."""
    lines: list[str] = []
    for line in text.splitlines():
        if lines and line and lines[-1] and not line.startswith(("- ", "#")):
            lines[-1] += " " + line
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


STARTER = {
    "en": ("AI-use policy", _unwrap(_EN)),
    "de": ("Richtlinie zur Nutzung von KI", _unwrap(_DE)),
}
