"""The works-council annex as a PDF (fpdf2, the bundled Unicode font): the same ``Annex`` as the HTML page."""
from __future__ import annotations

from fpdf import FPDF
from flask_babel import gettext as _

from leadthe.assessments.certificates import add_unicode_fonts
from leadthe.i18n import format_day
from leadthe.trust.annex import Annex, impossible_intro, intro, mode_words

WIDTH = 180  # mm inside the margins of an A4 page


def _heading(pdf: FPDF, text: str, size: int = 13) -> None:
    pdf.ln(3)
    pdf.set_font("OpenSans", "B", size)
    pdf.multi_cell(WIDTH, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font("OpenSans", "", 9)


def _text(pdf: FPDF, text: str, bold: bool = False) -> None:
    pdf.set_font("OpenSans", "B" if bold else "", 9)
    pdf.multi_cell(WIDTH, 4.6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("OpenSans", "", 9)


def _pair(pdf: FPDF, key: str, value: str) -> None:
    _text(pdf, key, bold=True)
    pdf.set_x(pdf.l_margin + 5)
    pdf.multi_cell(WIDTH - 5, 4.6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def annex_pdf(annex: Annex) -> bytes:
    title = _("Annex to the works-council agreement: LeadThe.AI")
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_creator("LeadThe.AI")
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(15, 15, 15)
    add_unicode_fonts(pdf, *annex.texts)
    pdf.add_page()
    _heading(pdf, title, 16)
    for key, value in ((_("Company"), annex.company), (_("Version"), annex.version),
                       (_("Date"), format_day(annex.generated_at)),
                       (_("Works-council mode"), mode_words(annex))):
        _pair(pdf, key, value)
    _text(pdf, intro(annex))

    _heading(pdf, _("The company's settings"))
    for key, value in annex.settings:
        _pair(pdf, key, value)

    _heading(pdf, _("Who sees what"))
    for key, value in annex.viewers:
        _pair(pdf, key, value)

    _heading(pdf, _("Evaluations that are impossible in this mode"))
    _text(pdf, impossible_intro(annex))
    pdf.ln(1)
    for key, value in annex.impossible:
        _pair(pdf, f"• {key}", value)

    _heading(pdf, _("What is processed, for what, and how long it is kept"))
    for s in annex.sections:
        _heading(pdf, s.name, 11)
        _text(pdf, s.purpose)
        _text(pdf, f"{_('Category of data')}: {s.category}")
        if s.controller_is_us:
            _text(pdf, _("LeadThe.AI decides on this processing itself, as the controller."))
        pdf.ln(1)
        for label, purpose, basis, retention in s.items:
            _text(pdf, label, bold=True)
            pdf.set_x(pdf.l_margin + 5)
            pdf.multi_cell(WIDTH - 5, 4.6, f"{purpose}\n{_('Legal basis')}: {basis}\n{_('Kept')}: {retention}",
                           new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
    return bytes(pdf.output())

